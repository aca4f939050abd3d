"""The text rules of asm/text.py on their own: tables of real and hostile input, and properties (hypothesis)."""

from __future__ import annotations

import ast
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from asm import text
from asm.idcard import CardError, find_mojibake, parse_qr_text
from asm.text import (
    BIDI_CONTROLS,
    TextError,
    address,
    describe,
    fold,
    free_text,
    is_plain,
    like_pattern,
    person_name,
    search_key,
    search_text,
)

TODAY = date(2025, 6, 1)
CARD = "034303011829||{name}|21032003|Nữ|{address}|14082021"
ADDRESS = "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình"

# What an attacker or a broken scanner puts in a text field.
INVISIBLE = {
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "unit-separator": "\x1f",
    "delete": "\x7f",
    "c1-csi": "\x9b",
    "rlo": "\u202e",
    "lro": "\u202d",
    "rli": "\u2067",
    "pdi": "\u2069",
    "rlm": "\u200f",
    "arabic-letter-mark": "\u061c",
    "lone-surrogate": "\ud800",
}
ZERO_WIDTH = {"zwsp": "\u200b", "zwj": "\u200d", "zwnj": "\u200c", "word-joiner": "\u2060", "soft-hyphen": "\u00ad"}


# --- names ------------------------------------------------------------------------------------------------------

NAMES_OK = [
    ("plain", "Nguyễn Thị Hoa", "Nguyễn Thị Hoa"),
    ("capitals", "ĐINH XUÂN HOÀNG", "Đinh Xuân Hoàng"),
    ("lower-case", "đinh xuân hoàng", "Đinh Xuân Hoàng"),
    ("nfd", unicodedata.normalize("NFD", "Đặng Thị Ấu"), "Đặng Thị Ấu"),
    ("spaces-tabs-newlines", "  Trần \t Văn\r\nNam  ", "Trần Văn Nam"),
    ("no-break-space", "Lê\u00a0Văn\u3000Tám", "Lê Văn Tám"),
    ("ede", "H’HEN NIÊ", "H'Hen Niê"),
    ("apostrophe", "Y-BLIH KBUÔR", "Y-Blih Kbuôr"),
    ("hyphen", "nguyễn-trần thị hoa", "Nguyễn-Trần Thị Hoa"),
    ("one-letter", "Nguyễn Văn A", "Nguyễn Văn A"),
    ("unknown", "Chưa rõ danh tính", "Chưa Rõ Danh Tính"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in NAMES_OK], ids=[i for i, _, _ in NAMES_OK])
def test_names_accepted(raw: str, expected: str) -> None:
    assert person_name(raw) == expected


def test_a_passport_name_keeps_its_capitals() -> None:
    assert person_name("  Mary  McDonald-O'Neil ", title=False) == "Mary McDonald-O'Neil"
    assert person_name("SMITH JOHN", title=False) == "SMITH JOHN"


NAMES_REFUSED = [
    ("empty", "", "name_missing", None),
    ("blank", " \t\r\n ", "name_missing", None),
    ("formula-equals", '=HYPERLINK("http://x","y")', "name_invalid", "="),
    ("formula-plus", "+Nguyen Van A", "name_invalid", "+"),
    ("formula-minus", "-Nguyen Van A", "name_invalid", "-"),
    ("formula-at", "@SUM(A1)", "name_invalid", "@"),
    ("formula-minus-word", "Nguyễn -Hoa", "name_invalid", "-"),
    ("trailing-hyphen", "Nguyễn- Hoa", "name_invalid", "-"),
    ("double-apostrophe", "H''Hen", "name_invalid", "''"),
    ("only-hyphen", "Nguyễn - Hoa", "name_invalid", "-"),
    ("script-tag", "<script>alert(1)</script>", "name_invalid", "<"),
    ("digit", "Nguyễn Văn 2", "name_invalid", "2"),
    ("emoji", "Nguyễn Hoa 😀", "name_invalid", "😀"),
    ("emoji-flag", "Hoa 🇻🇳", "name_invalid", "🇻"),
    ("cyrillic", "Иван Петров", "name_invalid", "И"),
    ("cyrillic-lookalike", "Nguyễn Thị Hоa", "name_invalid", "о"),  # о is CYRILLIC SMALL LETTER O
    ("greek", "Αλέξης", "name_invalid", "Α"),
    ("cjk", "阮氏花", "name_invalid", "阮"),
    ("fullwidth", "Ｎguyen", "name_invalid", "Ｎ"),
    ("dot", "Nguyen V. A", "name_invalid", "."),
    ("dotted-capital-i", "KİM", "name_invalid", "U+0307"),
    ("capital-is-two-letters", "ßa", "name_invalid", "ß"),  # "SSa" would be cleaned again to "Ssa"
    ("capital-is-not-a-letter", "ŉa", "name_invalid", "ŉ"),  # "ʼNa": U+02BC is no letter of a name
    ("capital-decomposes", "ǰa", "name_invalid", "ǰ"),  # "J" + U+030C
    ("too-long", "Nguyễn " * 20 + "Hoa", "name_too_long", None),
    *[(f"{key}-inside", f"Nguyễn{char} Thị Hoa", "name_invalid", describe(char)) for key, char in INVISIBLE.items()],
    *[(f"{key}-inside", f"Ngu{char}yễn Thị Hoa", "name_invalid", describe(char)) for key, char in ZERO_WIDTH.items()],
]


@pytest.mark.parametrize(
    ("raw", "code", "char"), [(r, c, ch) for _, r, c, ch in NAMES_REFUSED], ids=[i for i, *_ in NAMES_REFUSED]
)
def test_names_refused(raw: str, code: str, char: str | None) -> None:
    with pytest.raises(TextError) as refused:
        person_name(raw)
    assert refused.value.code == code
    if char is not None:
        assert refused.value.params["char"] == char
    assert refused.value.msgid == text.MESSAGES[code]


def test_the_qr_parser_and_every_other_channel_share_one_name_rule() -> None:
    """The QR parser answers with the same codes, for the same names, as person_name (its own vi/en messages)."""
    for _, raw, expected in NAMES_OK:
        if "\n" in raw or "\r" in raw or find_mojibake(raw):
            continue  # CR and LF are scanner noise in a QR; an ideographic space is mis-decoding there
        assert parse_qr_text(CARD.format(name=raw, address=ADDRESS), today=TODAY).full_name == expected
    for case, raw, code, _char in NAMES_REFUSED:
        if "|" in raw or case in ("nul-inside", "lone-surrogate-inside") or not raw.strip():
            continue  # NUL is scanner noise there, a surrogate is mojibake, an empty field is "name_missing" too
        with pytest.raises(CardError) as refused:
            parse_qr_text(CARD.format(name=raw, address=ADDRESS), today=TODAY)
        assert (refused.value.code, refused.value.field) in ((code, "full_name"), ("mojibake", "full_name")), case


# --- addresses --------------------------------------------------------------------------------------------------

ADDRESSES_OK = [
    ("card", ADDRESS, ADDRESS),
    ("numbers-and-slashes", "Số 12/3A, ngõ 45 – phố Huế (cũ), Hà Nội.", "Số 12/3A, ngõ 45 – phố Huế (cũ), Hà Nội."),
    ("spaces", "  Thôn 3,\txã  Yên Bình ", "Thôn 3, xã Yên Bình"),
    ("nfd", unicodedata.normalize("NFD", ADDRESS), ADDRESS),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in ADDRESSES_OK], ids=[i for i, *_ in ADDRESSES_OK])
def test_addresses_accepted(raw: str, expected: str) -> None:
    assert address(raw) == expected


ADDRESSES_REFUSED = [
    ("formula", "=1+2", "address_invalid"),
    ("formula-at", "@cmd|' /C calc'!A0", "address_invalid"),
    ("leading-minus", "-3 Hàng Bài", "address_invalid"),
    ("emoji", "Thôn 3 🏠", "address_invalid"),
    ("cyrillic", "улица Ленина 1", "address_invalid"),
    ("cjk-punctuation", "Thôn 3「A」", "address_invalid"),
    ("arabic-digit", "Số ٣ phố Huế", "address_invalid"),
    ("too-long", "Số 1 " + "phố Huế " * 40, "address_too_long"),
    *[(f"{key}-inside", f"Thôn 3{char} xã Yên Bình", "address_invalid") for key, char in INVISIBLE.items()],
    *[(f"{key}-inside", f"Thôn{char}3", "address_invalid") for key, char in ZERO_WIDTH.items()],
]


@pytest.mark.parametrize(
    ("raw", "code"), [(r, c) for _, r, c in ADDRESSES_REFUSED], ids=[i for i, *_ in ADDRESSES_REFUSED]
)
def test_addresses_refused(raw: str, code: str) -> None:
    with pytest.raises(TextError) as refused:
        address(raw)
    assert refused.value.code == code


def test_the_qr_parser_uses_the_address_rule() -> None:
    for raw in ("=1+2", "Thôn 3 🏠", "Thôn\u202e 3"):
        with pytest.raises(CardError) as refused:
            parse_qr_text(CARD.format(name="Nguyễn Thị Hoa", address=raw), today=TODAY)
        assert (refused.value.code, refused.value.field) == ("address_invalid", "address")
    with pytest.raises(CardError) as refused:
        parse_qr_text(CARD.format(name="Nguyễn Thị Hoa", address=ADDRESS) + "|Lê Văn\u202e Ba", today=TODAY)
    assert refused.value.code == "text_invalid"
    assert "U+202E" in refused.value.message_vi and "U+202E" in refused.value.message_en


# --- free text ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Du lịch", "Du lịch"),
        ("  Công   tác\tHà Nội\r\n", "Công tác Hà Nội"),
        ("=1+2 và 😀 vẫn là chữ", "=1+2 và 😀 vẫn là chữ"),  # free text is not a name: exports neutralise formulas
        ("", ""),
        (unicodedata.normalize("NFD", "Thăm thân"), "Thăm thân"),
    ],
)
def test_free_text_accepted(raw: str, expected: str) -> None:
    assert free_text(raw, max_length=200) == expected


@pytest.mark.parametrize(("key", "char"), sorted(INVISIBLE.items()))
def test_free_text_refuses_controls_and_bidi(key: str, char: str) -> None:
    with pytest.raises(TextError) as refused:
        free_text(f"Du lịch{char}", max_length=200)
    assert refused.value.code == "text_invalid"
    assert refused.value.params["char"] == f"U+{ord(char):04X}"


def test_free_text_length_is_the_callers() -> None:
    assert free_text("x" * 40, max_length=40) == "x" * 40
    with pytest.raises(TextError) as refused:
        free_text("x" * 41, max_length=40)
    assert (refused.value.code, refused.value.params) == ("text_too_long", {"max": 40})


# --- search ---------------------------------------------------------------------------------------------------

SPELLINGS = [
    "dinh xuan hoang",
    "ĐINH XUÂN HOÀNG",
    "Đinh Xuân Hoàng",
    unicodedata.normalize("NFD", "Đinh Xuân Hoàng"),
    "  Đinh\tXuân   HOÀNG ",
    "Ðinh Xuân Hoàng",  # Ð (eth), what a cp1252 reading of Vietnamese Đ gives
    "Đinh\x00 Xuân\u202e Hoàng\u200b",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_fold_makes_the_spellings_one(spelling: str) -> None:
    assert fold(spelling) == "dinh xuan hoang"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Đặng Thị Ấu", "dang thi au"),
        ("Đỗ Ngọc Ưng", "do ngoc ung"),
        ("Đoàn Đào", "doan dao"),
        ("H'Hen Niê", "h'hen nie"),
        ("Nguyễn-Trần", "nguyen-tran"),
        ("ＦＵＬＬ ｗｉｄｔｈ", "full width"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_fold_table(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_search_text_drops_what_cannot_be_typed_and_never_refuses() -> None:
    assert search_text("  Đinh\x00 Xuân\u202e\u200b  Hoàng\x1b ") == "Đinh Xuân Hoàng"
    assert search_text("\x00\x00") == ""
    assert search_text("\ud800abc") == "abc"
    assert len(search_text("a" * 10_000)) == text.SEARCH_MAX


def test_like_pattern_escapes_the_users_wildcards() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_is_plain() -> None:
    assert is_plain("EST-1") and is_plain("Khách sạn") and is_plain("")
    assert not any(is_plain(f"A{c}") for c in [*INVISIBLE.values(), *ZERO_WIDTH.values()])


def test_the_module_is_pure() -> None:
    """No Flask, no database: the rules run anywhere (a worker, a migration, a test without an app)."""
    tree = ast.parse(Path(text.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "re", "unicodedata", "collections.abc", "functools", "itertools"}


# --- properties -------------------------------------------------------------------------------------------------

_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
_VOWELS = "aăâeêioôơuưy"
VIETNAMESE = sorted({unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES} | set("bcdđghklmnpqrstvx"))
words = st.lists(st.sampled_from(VIETNAMESE), min_size=1, max_size=7).map("".join)
names = st.lists(words, min_size=1, max_size=5).map(" ".join)
cases = st.sampled_from([str, str.upper, str.lower, str.title])
forms = st.sampled_from(["NFC", "NFD"])
hostile = st.sampled_from([*INVISIBLE.values(), *ZERO_WIDTH.values(), "=", "+", "@", "<", "😀", "И", "阮", "1"])


@given(names, cases, forms)
def test_a_vietnamese_name_in_any_case_and_form_is_one_name_and_one_key(name: str, case, form: str) -> None:  # type: ignore[no-untyped-def]
    typed = unicodedata.normalize(form, case(name))
    cleaned = person_name(typed)
    assert cleaned == person_name(name) == person_name(cleaned)  # idempotent, case and form aside
    assert unicodedata.is_normalized("NFC", cleaned)
    assert search_key(typed) == search_key(cleaned) == fold(name)
    assert fold(name).isascii() or "'" in name


def test_every_latin_letter_gives_a_name_that_is_clean_again() -> None:
    """Title case must not make what the rule refuses ("ŉ" → "ʼN") or what it would change again ("ß" → "SS")."""
    letters = [chr(p) for p in range(0x30000) if not 0xD800 <= p < 0xE000 and text.is_latin_letter(chr(p))]
    assert len(letters) > 1000
    for letter in letters:
        for raw in (letter + "a", "A" + letter, "H'" + letter + "a", letter.upper() + "A"):
            try:
                cleaned = person_name(raw)
            except TextError as exc:
                assert exc.code == "name_invalid"
                continue
            assert person_name(cleaned) == cleaned, raw


@given(names, hostile, st.integers(min_value=0, max_value=200))
def test_a_hostile_character_anywhere_in_a_name_is_refused(name: str, bad: str, where: int) -> None:
    at = where % (len(name) + 1)
    with pytest.raises(TextError) as refused:
        person_name(name[:at] + bad + name[at:])
    assert refused.value.code == "name_invalid"


@given(st.text())
@example("\x00")
@example("\u202eabc")
@example("=HYPERLINK()")
@settings(max_examples=300)
def test_any_text_is_refused_or_comes_out_clean(raw: str) -> None:
    for rule, kwargs in ((person_name, {}), (address, {}), (free_text, {"max_length": 10_000})):
        try:
            out = rule(raw, **kwargs)  # type: ignore[operator]
        except TextError as exc:
            assert exc.code in text.MESSAGES
            continue
        assert not any(text.is_forbidden(char) for char in out)
        assert out == out.strip() and "  " not in out and unicodedata.is_normalized("NFC", out)
        assert not set(out) & BIDI_CONTROLS
        if rule is not free_text:
            assert is_plain(out)
            assert not out or out[0].isalnum()


@given(st.text())
@settings(max_examples=300)
def test_fold_and_search_text_never_fail_and_are_stable(raw: str) -> None:
    folded = fold(raw)
    assert fold(folded) == folded
    assert fold(unicodedata.normalize("NFD", raw)) == fold(unicodedata.normalize("NFC", raw))
    assert is_plain(folded) and folded == folded.strip() and "  " not in folded
    assert not any(unicodedata.combining(char) for char in folded)
    assert "đ" not in folded and folded == folded.casefold()
    cleaned = search_text(raw)
    assert is_plain(cleaned) and search_text(cleaned) == cleaned


@given(names)
def test_the_three_spellings_of_any_name_fold_alike(name: str) -> None:
    assume(name.strip())
    title = person_name(name)
    assert fold(title) == fold(title.upper()) == fold(title.lower())
    plain = "".join(c for c in unicodedata.normalize("NFD", title.lower()) if not unicodedata.combining(c))
    assert fold(plain.replace("đ", "d")) == fold(title)


def test_the_search_for_a_forbidden_character_finds_exactly_the_rules_characters() -> None:
    """first_forbidden searches a whole text at once; it must find what is_forbidden says, for every code point."""
    for code in range(0x110000):
        char = chr(code)
        assert (text.first_forbidden(f"ab{char}c") == char) == text.is_forbidden(char), f"U+{code:04X}"
