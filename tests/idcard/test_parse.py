"""QR parsing of the chip CCCD / căn cước / VNeID code: every input variant of DOMAIN.md, then properties."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.clock import local_today
from asm.idcard import (
    PROVINCE_CODES,
    CardData,
    CardError,
    century_sex_digit,
    decode_qr_bytes,
    find_mojibake,
    normalize_name,
    normalize_text,
    parse_qr_bytes,
    parse_qr_text,
    parse_sex,
)

TODAY = date(2025, 6, 1)
ADDRESS = "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình"
EXAMPLE = f"034303011829||Nguyễn Thị Hoa|21032003|Nữ|{ADDRESS}|14082021"
EXPECTED = CardData(
    id_number="034303011829",
    old_id_number=None,
    full_name="Nguyễn Thị Hoa",
    birth_date=date(2003, 3, 21),
    sex="F",
    address=ADDRESS,
    issue_date=date(2021, 8, 14),
    extra_fields=(),
    card_format="cccd_7",
)


def card(**fields: str) -> str:
    """The example card with some of its 7 fields replaced."""
    values = {
        "id_number": "034303011829",
        "old_id_number": "",
        "full_name": "Nguyễn Thị Hoa",
        "birth_date": "21032003",
        "sex": "Nữ",
        "address": ADDRESS,
        "issue_date": "14082021",
    }
    values.update(fields)
    return "|".join(values.values())


# --- accepted variants --------------------------------------------------------------------------------------


VALID: list[tuple[str, str, dict[str, object]]] = [
    ("example", EXAMPLE, {}),
    ("empty-old-cmnd", card(old_id_number=""), {}),
    ("filled-old-cmnd", card(old_id_number="151234567"), {"old_id_number": "151234567"}),
    ("blank-old-cmnd", card(old_id_number="   "), {}),
    ("capitals", card(full_name="NGUYỄN THỊ HOA", sex="NỮ"), {}),
    ("mixed-case", card(full_name="nGuYỄn tHị hOA", sex="nữ"), {}),
    ("lower-case", card(full_name="nguyễn thị hoa", sex="nữ"), {}),
    (
        "stray-spaces",
        " 034303011829 |  | Nguyễn   Thị  Hoa |21032003 | Nữ "
        "|  Thôn Lai Ổn,   An Quý, Quỳnh Phụ, Thái Bình | 14082021 ",
        {},
    ),
    ("tab-in-name", card(full_name="Nguyễn\tThị Hoa"), {}),
    ("spaces-inside-numbers", card(id_number="034 303 011 829", birth_date="21 03 2003"), {}),
    ("trailing-cr", EXAMPLE + "\r", {}),
    ("trailing-lf", EXAMPLE + "\n", {}),
    ("trailing-crlf", EXAMPLE + "\r\n", {}),
    ("trailing-nul", EXAMPLE + "\x00", {}),
    ("leading-bom", "\ufeff" + EXAMPLE, {}),
    ("bom-nul-crlf", "\ufeff" + EXAMPLE + "\x00\r\n", {}),
    ("embedded-nul", card(full_name="Nguy\x00ễn Thị Hoa"), {}),
    ("embedded-crlf", card(address="Thôn Lai Ổn, An Quý, Quỳnh Phụ,\r\n Thái Bình"), {}),
    ("nfd", unicodedata.normalize("NFD", EXAMPLE), {}),
    ("nfd-capitals", unicodedata.normalize("NFD", card(full_name="NGUYỄN THỊ HOA", sex="NỮ")), {}),
    (
        "eight-plus-fields",
        EXAMPLE + "|Nguyễn Văn Ba| 012345678901 |Trần Thị  Cúc",
        {"extra_fields": ("Nguyễn Văn Ba", "012345678901", "Trần Thị  Cúc"), "card_format": "can_cuoc"},
    ),
    ("eight-fields-empty-extra", EXAMPLE + "|", {"extra_fields": ("",), "card_format": "can_cuoc"}),
    (
        "extras-keep-empty-fields",
        EXAMPLE + "||x||",
        {"extra_fields": ("", "x", "", ""), "card_format": "can_cuoc"},
    ),
    (
        "nfd-extras",
        EXAMPLE + "|" + unicodedata.normalize("NFD", "Lê Văn Đức"),
        {"extra_fields": ("Lê Văn Đức",), "card_format": "can_cuoc"},
    ),
    ("empty-issue-date", card(issue_date=""), {"issue_date": None}),
    ("issued-on-birth-day", card(issue_date="21032003"), {"issue_date": date(2003, 3, 21)}),
    ("issued-today", card(issue_date="01062025"), {"issue_date": TODAY}),
    (
        "male-1990",
        "001090123456||TRẦN VĂN AN|15061990|NAM|Số 1 phố Huế, Hà Nội|01022022",
        {
            "id_number": "001090123456",
            "full_name": "Trần Văn An",
            "birth_date": date(1990, 6, 15),
            "sex": "M",
            "address": "Số 1 phố Huế, Hà Nội",
            "issue_date": date(2022, 2, 1),
        },
    ),
    ("born-abroad", card(id_number="101303011829"), {"id_number": "101303011829"}),
    ("ede-name", card(full_name="H’HEN NIÊ"), {"full_name": "H'Hen Niê"}),
    ("hyphen-name", card(full_name="nguyễn-trần thị hoa"), {"full_name": "Nguyễn-Trần Thị Hoa"}),
]


@pytest.mark.parametrize(("text", "changes"), [(t, c) for _, t, c in VALID], ids=[i for i, _, _ in VALID])
def test_accepted_variants(text: str, changes: dict[str, object]) -> None:
    assert parse_qr_text(text, today=TODAY) == dataclasses.replace(EXPECTED, **changes)  # type: ignore[arg-type]


def test_result_is_nfc_even_from_nfd() -> None:
    data = parse_qr_text(unicodedata.normalize("NFD", EXAMPLE), today=TODAY)
    for value in (data.full_name, data.address):
        assert unicodedata.is_normalized("NFC", value)
        assert any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", value))


def test_double_bar_is_never_collapsed() -> None:
    data = parse_qr_text(EXAMPLE, today=TODAY)
    assert data.old_id_number is None
    assert data.full_name == "Nguyễn Thị Hoa"  # field 3 stayed field 3
    # the same card with "||" collapsed to "|" has one field less and is refused, not shifted
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(EXAMPLE.replace("||", "|"), today=TODAY)
    assert excinfo.value.code == "too_few_fields"
    assert excinfo.value.params == {"count": 6}


def test_as_dict_is_json_ready() -> None:
    data = parse_qr_text(EXAMPLE + "|extra", today=TODAY)
    payload = data.as_dict()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["birth_date"] == "2003-03-21"
    assert payload["issue_date"] == "2021-08-14"
    assert payload["extra_fields"] == ["extra"]
    assert payload["card_format"] == "can_cuoc"
    assert parse_qr_text(card(issue_date=""), today=TODAY).as_dict()["issue_date"] is None


def test_card_data_is_frozen() -> None:
    data = parse_qr_text(EXAMPLE, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.full_name = "x"  # type: ignore[misc]


def test_default_today_is_vietnam_today() -> None:
    assert parse_qr_text(EXAMPLE) == EXPECTED
    tomorrow = local_today() + timedelta(days=1)
    number = "034" + century_sex_digit(tomorrow.year, "F") + f"{tomorrow.year % 100:02d}" + "011829"
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(card(id_number=number, birth_date=tomorrow.strftime("%d%m%Y"), issue_date=""))
    assert excinfo.value.code == "birth_date_future"


# --- refused variants ---------------------------------------------------------------------------------------


INVALID: list[tuple[str, str, str, str | None]] = [
    ("empty", "", "empty", None),
    ("only-noise", "\ufeff\x00\r\n", "empty", None),
    ("only-bars", "||||||", "empty", None),
    ("mojibake-sex-shift-jis", card(sex="N盻ｯ"), "mojibake", "sex"),
    ("mojibake-name-big5", card(full_name="阮氏花"), "mojibake", "full_name"),
    ("mojibake-hangul", card(address="Th쎥n Lai"), "mojibake", "address"),
    ("mojibake-kana", card(full_name="Nguyễn カ"), "mojibake", "full_name"),
    ("mojibake-fullwidth-digit", card(id_number="０34303011829"), "mojibake", "id_number"),
    ("mojibake-fullwidth-bar", EXAMPLE.replace("|Nữ|", "|Nữ｜"), "mojibake", "sex"),
    ("replacement-char", card(address="Th\ufffdn Lai Ổn"), "mojibake", "address"),
    ("utf8-read-as-cp1252", card(sex="Ná»¯"), "mojibake", "sex"),
    ("utf8-read-as-latin1", card(full_name="Nguyá»\x85n Thá»\x8b Hoa"), "mojibake", "full_name"),
    ("cyrillic-letter", card(address="Тhôn Lai Ổn"), "mojibake", "address"),
    ("control-char", card(address="Thôn\x1bLai"), "mojibake", "address"),
    ("mojibake-in-extra", EXAMPLE + "|한국", "mojibake", None),
    ("mojibake-before-too-few", "034303011829||N盻ｯ", "mojibake", "full_name"),
    ("too-few-fields", "034303011829||Nguyễn Thị Hoa|21032003|Nữ|" + ADDRESS, "too_few_fields", None),
    ("one-field", "034303011829", "too_few_fields", None),
    ("id-11-digits", card(id_number="03430301182"), "id_number_format", "id_number"),
    ("id-13-digits", card(id_number="0343030118290"), "id_number_format", "id_number"),
    ("id-letters", card(id_number="03430301182O"), "id_number_format", "id_number"),
    ("id-empty", card(id_number=""), "id_number_format", "id_number"),
    ("wrong-province", card(id_number="003303011829"), "id_province_code", "id_number"),
    ("wrong-province-097", card(id_number="097303011829"), "id_province_code", "id_number"),
    ("wrong-century-digit", card(id_number="034103011829"), "id_century_sex_mismatch", "id_number"),
    ("wrong-sex-digit", card(id_number="034203011829"), "id_century_sex_mismatch", "id_number"),
    ("wrong-year-digits", card(id_number="034304011829"), "id_birth_year_mismatch", "id_number"),
    ("old-cmnd-8-digits", card(old_id_number="15123456"), "old_id_format", "old_id_number"),
    ("old-cmnd-letter", card(old_id_number="15123456X"), "old_id_format", "old_id_number"),
    ("name-missing", card(full_name="  "), "name_missing", "full_name"),
    ("name-digit", card(full_name="Nguyễn Thị Hoa 2"), "name_invalid", "full_name"),
    ("name-question-mark", card(full_name="Nguy?n Th? Hoa"), "name_invalid", "full_name"),
    ("name-only-hyphen", card(full_name="Nguyễn - Hoa"), "name_invalid", "full_name"),
    ("invalid-date-31022003", card(birth_date="31022003"), "birth_date_invalid", "birth_date"),
    ("invalid-date-month-13", card(birth_date="21132003"), "birth_date_invalid", "birth_date"),
    ("invalid-date-slashes", card(birth_date="21/03/2003"), "birth_date_invalid", "birth_date"),
    ("invalid-date-7-digits", card(birth_date="2132003"), "birth_date_invalid", "birth_date"),
    ("birth-empty", card(birth_date=""), "birth_date_invalid", "birth_date"),
    ("birth-before-1900", card(birth_date="31121899"), "birth_date_out_of_range", "birth_date"),
    (
        "future-birth",
        card(id_number="034325011829", birth_date="02062025", issue_date=""),
        "birth_date_future",
        "birth_date",
    ),
    ("sex-unaccented-nu", card(sex="Nu"), "diacritics_lost", "sex"),
    ("sex-unknown", card(sex="X"), "sex_invalid", "sex"),
    ("sex-empty", card(sex=""), "sex_invalid", "sex"),
    ("sex-english", card(sex="Female"), "sex_invalid", "sex"),
    ("address-missing", card(address=" "), "address_missing", "address"),
    ("issue-invalid", card(issue_date="30022021"), "issue_date_invalid", "issue_date"),
    ("issue-before-birth", card(issue_date="20032003"), "issue_date_before_birth", "issue_date"),
    ("issue-future", card(issue_date="02062025"), "issue_date_future", "issue_date"),
]


@pytest.mark.parametrize(
    ("text", "code", "field"), [(t, c, f) for _, t, c, f in INVALID], ids=[i for i, _, _, _ in INVALID]
)
def test_refused_variants(text: str, code: str, field: str | None) -> None:
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(text, today=TODAY)
    error = excinfo.value
    assert (error.code, error.field) == (code, field)
    assert error.message("vi") and error.message("en") and error.message("vi") != error.message("en")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (card(id_number="0343", birth_date="31022003"), "id_number_format"),
        (card(full_name="Nguyễn 2", address="N盻ｯ"), "mojibake"),
        (card(old_id_number="1", full_name=""), "old_id_format"),
        (card(birth_date="99999999", sex="X"), "birth_date_invalid"),
        (card(sex="X", issue_date="00000000"), "sex_invalid"),
        (card(id_number="034203011829", issue_date="02062025"), "issue_date_future"),
        (card(id_number="034204011829"), "id_century_sex_mismatch"),
    ],
    ids=[
        "id-before-date",
        "mojibake-before-fields",
        "old-id-before-name",
        "birth-before-sex",
        "sex-before-issue",
        "fields-before-cross-checks",
        "century-before-year",
    ],
)
def test_first_error_wins_in_documented_order(text: str, code: str) -> None:
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(text, today=TODAY)
    assert excinfo.value.code == code


def test_mojibake_sample_is_reported() -> None:
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(card(sex="N盻ｯ"), today=TODAY)
    assert excinfo.value.params["sample"] == "盻ｯ"
    assert "盻ｯ" in excinfo.value.message_vi


def test_country_codes_reach_the_parser() -> None:
    with pytest.raises(CardError) as excinfo:
        parse_qr_text(card(id_number="101303011829"), today=TODAY, country_codes=frozenset())
    assert excinfo.value.code == "id_province_code"


# --- helpers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a||b", "a||b"),
        ("a| |b", "a||b"),
        (" a | b ", "a|b"),
        ("a  b|c", "a  b|c"),
        ("\ufeffa|b\r\n", "a|b"),
        ("a\x00|b", "a|b"),
        ("a|b\rc", "a|bc"),
        (unicodedata.normalize("NFD", "Nữ|Ổn"), "Nữ|Ổn"),
        ("|||", "|||"),
    ],
    ids=[
        "bars-kept",
        "blank-field-kept",
        "trim",
        "inner-spaces-kept",
        "bom-crlf",
        "nul",
        "embedded-cr",
        "nfd",
        "only-bars",
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nam", "M"),
        ("NAM", "M"),
        ("nam", "M"),
        ("Nữ", "F"),
        ("NỮ", "F"),
        ("nữ", "F"),
        (unicodedata.normalize("NFD", "Nữ"), "F"),
        (" Nữ ", "F"),
    ],
    ids=["Nam", "NAM", "nam", "Nữ", "NỮ", "nữ", "nfd", "spaces"],
)
def test_parse_sex(raw: str, expected: str) -> None:
    assert parse_sex(raw) == expected


def test_normalize_name_refuses_letters_that_lose_their_form() -> None:
    with pytest.raises(CardError) as excinfo:
        normalize_name("KİM")  # lower() turns İ into i + U+0307, which has no composed form
    assert excinfo.value.code == "name_invalid"


@pytest.mark.parametrize(
    "field",
    ["Nguyễn Thị Hoa", ADDRESS, "034303011829", "", "Số 5 – 7, ngõ 12/3"],
    ids=["name", "address", "id", "empty", "dash"],
)
def test_find_mojibake_passes_real_text(field: str) -> None:
    assert find_mojibake(field) is None


def test_decode_qr_bytes() -> None:
    data = parse_qr_bytes(("\ufeff" + EXAMPLE + "\r").encode(), today=TODAY)
    assert data == EXPECTED
    assert decode_qr_bytes(EXAMPLE.encode("utf-8")) == EXAMPLE
    with pytest.raises(CardError) as excinfo:
        decode_qr_bytes(b"034303011829||" + "Hòa".encode("latin-1"))
    assert excinfo.value.code == "mojibake"


# --- properties ---------------------------------------------------------------------------------------------

_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
_VOWELS = "aăâeêioôơuưy"
VIETNAMESE_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES} | set("bcdđghklmnpqrstvx")
)
words = st.lists(st.sampled_from(VIETNAMESE_LETTERS), min_size=1, max_size=7).map("".join)
names = st.lists(words, min_size=1, max_size=5).map(lambda ws: " ".join(w[0].upper() + w[1:] for w in ws))
address_chunks = st.one_of(
    words.map(lambda w: w[0].upper() + w[1:]), st.integers(0, 999).map(str), st.sampled_from([",", "-", "/"])
)
address_starts = st.one_of(words.map(lambda w: w[0].upper() + w[1:]), st.integers(0, 999).map(str))
# An address starts with a letter or a digit (asm.text.address: no formula leader).
addresses = st.tuples(address_starts, st.lists(address_chunks, max_size=7)).map(lambda t: " ".join([t[0], *t[1]]))
extras = st.lists(st.text(alphabet=VIETNAMESE_LETTERS + list("0123456789 "), max_size=12), max_size=3)


@st.composite
def cards(draw: st.DrawFn) -> CardData:
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sex = draw(st.sampled_from(["M", "F"]))
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    tail = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    issue = draw(st.none() | st.dates(min_value=birth, max_value=TODAY))
    extra = tuple(value.strip() for value in draw(extras))
    return CardData(
        id_number=province + century_sex_digit(birth.year, sex) + f"{birth.year % 100:02d}" + tail,
        old_id_number=draw(st.none() | st.text(alphabet="0123456789", min_size=9, max_size=9)),
        full_name=draw(names),
        birth_date=birth,
        sex=sex,
        address=draw(addresses),
        issue_date=issue,
        extra_fields=extra,
        card_format="can_cuoc" if extra else "cccd_7",
    )


def serialise(data: CardData) -> list[str]:
    return [
        data.id_number,
        data.old_id_number or "",
        data.full_name,
        data.birth_date.strftime("%d%m%Y"),
        "Nam" if data.sex == "M" else "Nữ",
        data.address,
        data.issue_date.strftime("%d%m%Y") if data.issue_date else "",
        *data.extra_fields,
    ]


@st.composite
def noisy(draw: st.DrawFn, data: CardData) -> str:
    fields = serialise(data)
    case = draw(st.sampled_from([str, str.upper, str.lower]))
    fields[2] = case(fields[2])
    fields[4] = draw(st.sampled_from([str, str.upper, str.lower]))(fields[4])
    if draw(st.booleans()):
        fields[2] = fields[2].replace(" ", "  ")
        fields[5] = fields[5].replace(" ", " \t ")
    pads = st.sampled_from(["", " ", "  "])
    text = "|".join(draw(pads) + field + draw(pads) for field in fields)
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    suffix = draw(st.sampled_from(["", "\r", "\n", "\r\n", "\x00", "\x00\r\n"]))
    return prefix + text + suffix


@settings(deadline=None)
@given(st.data())
def test_round_trip_with_scanner_noise(data: st.DataObject) -> None:
    original = data.draw(cards())
    text = data.draw(noisy(original))
    assert parse_qr_text(text, today=TODAY) == original


@settings(deadline=None)
@given(cards(), st.sampled_from([3, 4, 5]), st.integers(min_value=1, max_value=9))
def test_one_changed_digit_of_4_to_6_is_caught(original: CardData, index: int, shift: int) -> None:
    number = original.id_number
    mutated = number[:index] + str((int(number[index]) + shift) % 10) + number[index + 1 :]
    fields = serialise(dataclasses.replace(original, id_number=mutated))
    with pytest.raises(CardError) as excinfo:
        parse_qr_text("|".join(fields), today=TODAY)
    expected = "id_century_sex_mismatch" if index == 3 else "id_birth_year_mismatch"
    assert (excinfo.value.code, excinfo.value.field) == (expected, "id_number")


@given(st.text())
def test_normalize_text_keeps_every_field(text: str) -> None:
    normalized = normalize_text(text)
    assert normalized.count("|") == text.count("|")
    assert normalize_text(normalized) == normalized
