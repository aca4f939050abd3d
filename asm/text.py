"""Text hygiene in one place: the rules for person fields and free text, and the folded key people are found by.

Pure: no Flask, no database. Every channel reads a person through ``asm.people.services.validate_person``, which
applies ``person_name`` and ``address``; the QR parser (``asm.idcard.parse``) applies the same two functions.
Services read every other typed text (a stay's reason, a cancel reason, room and ward names, a carer's relation,
a police search reason, watch-list notes, ...) through ``free_text``. Search boxes go through ``search_text``
(never refused: what cannot be typed is dropped) and match ``people.search_key``, written with ``search_key``.

The rules:

- **Whitespace** (space, TAB, CR, LF and the Unicode space separators) collapses to one space; ends are trimmed.
- **Never anywhere**: any other control character (NUL and the rest of C0, DEL, C1), a lone surrogate (it cannot
  be stored as UTF-8), a bidirectional control (U+061C, U+200E/F, U+202A–E, U+2066–9: text that reads
  differently from what it stores).
- **Names**: Latin letters with any diacritics, spaces, apostrophes and hyphens; each word starts and ends with a
  letter (so no formula leader ``= + - @``, no stray punctuation); typographic apostrophes become ``'``; NFC;
  title case per word, as on the card (``title=False`` keeps a passport's own capitals); at most 120 characters.
  So no digits, emoji, zero-width characters or other scripts' letters. A letter whose case change is not one
  Latin letter ("İ" → "i" + U+0307, "ß" → "SS", "ŉ" → "ʼN") is refused: a cleaned name is clean again.
- **Addresses**: letters (Latin only), ASCII digits, spaces, punctuation and ASCII-like symbols; no invisible
  (format) characters, no emoji or other pictographs, no marks left over after NFC, no CJK/fullwidth forms; the
  first character is a letter or a digit (no formula leader); NFC; at most 300 characters.
- **Free text**: the "never anywhere" rule, NFC, collapsed; a maximum length given by the caller.

Each refusal is a ``TextError`` with a stable ``code`` and a Vietnamese message id (``msgid``, translated by the
caller through gettext with ``params``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from itertools import pairwise

NAME_MAX = 120
ADDRESS_MAX = 300
SEARCH_KEY_MAX = 255  # people.search_key: a folded name may be a little longer than the name (ß → ss)
SEARCH_MAX = 200


def N_(message: str) -> str:
    """Marks a message id for extraction (``pybabel extract`` knows ``N_``); translated where it is shown."""
    return message


MESSAGES: dict[str, str] = {
    "name_missing": N_("Cần nhập họ và tên."),
    "name_invalid": N_(
        "Họ và tên chỉ được chứa chữ cái, dấu cách, dấu nháy đơn và dấu gạch nối, mỗi từ bắt đầu và kết thúc bằng "
        "chữ cái (ký tự không hợp lệ: “%(char)s”)."
    ),
    "name_too_long": N_("Họ và tên tối đa %(max)s ký tự."),
    "address_invalid": N_(
        "Địa chỉ chỉ được chứa chữ cái, chữ số, dấu cách và dấu câu, bắt đầu bằng chữ cái hoặc chữ số "
        "(ký tự không hợp lệ: “%(char)s”)."
    ),
    "address_too_long": N_("Địa chỉ tối đa %(max)s ký tự."),
    "text_invalid": N_("Nội dung chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản (“%(char)s”): hãy nhập lại."),
    "text_too_long": N_("Nội dung tối đa %(max)s ký tự."),
}

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})
_SPACES = re.compile(r"[\t\n\r\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# After casefold: đ (from Đ), ð (from Ð, the look-alike a cp1252 reading of Vietnamese gives) and ɖ (from Ɖ).
_D_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ɖ": "d"})
_LIKE_SPECIAL = re.compile(r"([\\%_])")

# Blocks a Vietnamese address never holds (shared with the QR parser's mojibake check).
FOREIGN_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x2FF0, 0x31FF),  # ideographic description, CJK symbols and punctuation, kana, bopomofo, Hangul jamo
    (0x3200, 0x4DBF),  # enclosed CJK, CJK compatibility, CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables and Jamo extended B
    (0xE000, 0xF8FF),  # private use area (vendor mappings of Shift-JIS/Big5)
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms (e.g. the ｯ in N盻ｯ)
    (0xFFFD, 0xFFFD),  # replacement character: bytes that were not valid in the guessed charset
    (0x1B000, 0x1B16F),  # kana supplement/extended
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


class TextError(ValueError):
    """A refused text: a stable ``code``, the Vietnamese message id and its parameters."""

    def __init__(self, code: str, **params: str | int) -> None:
        self.code = code
        self.params: Mapping[str, str | int] = params
        self.msgid = MESSAGES[code]
        super().__init__(f"{code}: {self.msgid % params}")


def describe(char: str) -> str:
    """A character as a message can show it: itself when visible, else its code point (``U+202E``)."""
    if char.isprintable() and unicodedata.category(char)[0] not in "CMZ":
        return char
    return f"U+{ord(char):04X}"


def is_forbidden(char: str) -> bool:
    """Never allowed in any stored text: controls other than whitespace, lone surrogates, bidi controls."""
    if char in BIDI_CONTROLS:
        return True
    category = unicodedata.category(char)
    return category == "Cs" or (category == "Cc" and char not in "\t\n\r")


# The same set as one character class, so a whole text is searched in C (every filing checks each of its fields):
# the controls (category Cc) but tab, LF and CR, the surrogates (Cs) and the bidi controls. A test compares it
# with is_forbidden over every code point.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(BIDI_CONTROLS)) + "]")


def first_forbidden(value: str) -> str | None:
    found = _FORBIDDEN.search(value)
    return found.group() if found else None


def is_plain(value: str) -> bool:
    """No control, invisible (format), surrogate, private-use or unassigned character: what a code, a document
    number or an id that is looked up in the database must be (else it matches nothing, and PostgreSQL refuses a
    NUL outright)."""
    return not any(unicodedata.category(char)[0] == "C" for char in value)


def shown(value: str) -> str:
    """A text as a log line can keep it whatever was typed: every invisible or control character written as its
    code point (``U+0000``), so the line stores and reads the same on every database."""
    return "".join(char if unicodedata.category(char)[0] != "C" else f"U+{ord(char):04X}" for char in value)


def collapse(value: str) -> str:
    """Runs of whitespace (space, TAB, CR, LF, Unicode spaces) become one space; ends trimmed."""
    return _SPACES.sub(" ", value).strip()


def in_foreign_block(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in FOREIGN_BLOCKS)


@lru_cache(maxsize=4096)  # per character: a few hundred distinct ones in practice, bounded against the rest
def is_latin_letter(char: str) -> bool:
    return unicodedata.category(char) in ("Lu", "Ll", "Lt") and unicodedata.name(char, "").startswith("LATIN ")


# --- person fields ---------------------------------------------------------------------------------------------


def person_name(value: str, *, title: bool = True) -> str:
    """A person's full name, cleaned; raise ``TextError`` (``name_missing``, ``name_invalid``, ``name_too_long``).

    "  nguyễn  THỊ hoa " → "Nguyễn Thị Hoa"; "H’HEN NIÊ" → "H'Hen Niê". With ``title=False`` the capitals are
    kept as given (passports: "McDonald").
    """
    text = unicodedata.normalize("NFC", value or "").translate(_APOSTROPHES)
    bad = first_forbidden(text)
    if bad is not None:
        raise TextError("name_invalid", char=describe(bad))
    text = collapse(text)
    if not text:
        raise TextError("name_missing")
    for char in text:
        if char not in " '-" and not is_latin_letter(char):
            raise TextError("name_invalid", char=describe(char))
    for word in text.split(" "):
        for part in re.split(r"['-]", word):
            if not part:  # a word starting or ending with ' or -, or two of them in a row
                raise TextError("name_invalid", char=_separator_at_fault(word))
    if title:
        text = unicodedata.normalize("NFC", " ".join(_title_word(word) for word in text.split(" ")))
    for char in text:  # what the case change made obeys the rule too: "İ" lower-cased is "i" + U+0307
        if char not in " '-" and not is_latin_letter(char):
            raise TextError("name_invalid", char=describe(char))
    if len(text) > NAME_MAX:
        raise TextError("name_too_long", max=NAME_MAX)
    return text


def _separator_at_fault(word: str) -> str:
    if word[0] in "'-":
        return word[0]
    if word[-1] in "'-":
        return word[-1]
    return next(a + b for a, b in pairwise(word) if a in "'-" and b in "'-")


def _title_word(word: str) -> str:
    """The word lower-cased, its first letter and any after ' or - upper-cased. A letter whose capital is not one
    Latin letter ("ß" → "SS", "ŉ" → "ʼN", "ǰ" → "J" + U+030C) is refused: the name would not read the same when
    checked again."""
    out: list[str] = []
    upper_next = True
    for char in word.lower():
        if upper_next and char.isalpha():
            capital = char.upper()
            if len(capital) != 1 or not is_latin_letter(capital):
                raise TextError("name_invalid", char=describe(char))
            char = capital
        out.append(char)
        if char.isalpha():
            upper_next = False
        elif char in "'-":
            upper_next = True
    return "".join(out)


@lru_cache(maxsize=4096)
def _address_char_ok(char: str) -> bool:
    if char == " ":
        return True
    category = unicodedata.category(char)
    if in_foreign_block(char):
        return False
    if category[0] == "L":
        return is_latin_letter(char)
    if category[0] == "N":
        return char in "0123456789"
    if category[0] == "P":
        return True
    return category in ("Sm", "Sc", "Sk")  # + < = > | ~ $ ₫ ^ `: not So (emoji, pictographs), C*, M*, Z*


def address(value: str) -> str:
    """An address, cleaned; raise ``TextError`` (``address_invalid``, ``address_too_long``). Empty stays empty:
    whether one is required is the caller's rule."""
    text = unicodedata.normalize("NFC", value or "")
    bad = first_forbidden(text)
    if bad is not None:
        raise TextError("address_invalid", char=describe(bad))
    text = collapse(text)
    if not text:
        return ""
    for char in text:
        if not _address_char_ok(char):
            raise TextError("address_invalid", char=describe(char))
    if not text[0].isalnum():
        raise TextError("address_invalid", char=describe(text[0]))
    if len(text) > ADDRESS_MAX:
        raise TextError("address_too_long", max=ADDRESS_MAX)
    return text


# --- free text -------------------------------------------------------------------------------------------------


def free_text(value: str, *, max_length: int) -> str:
    """Typed text that is not a person field (a reason, a note, a room name): NFC, collapsed; raise ``TextError``
    (``text_invalid`` for a control or bidi character, ``text_too_long``). Empty stays empty."""
    text = unicodedata.normalize("NFC", value or "")
    bad = first_forbidden(text)
    if bad is not None:
        raise TextError("text_invalid", char=describe(bad))
    text = collapse(text)
    if len(text) > max_length:
        raise TextError("text_too_long", max=max_length)
    return text


# --- search ----------------------------------------------------------------------------------------------------


def search_text(value: str, *, max_length: int = SEARCH_MAX) -> str:
    """What a search box holds, made safe to query and to log: invisible and control characters dropped (never
    refused), NFC, collapsed, cut to ``max_length``."""
    kept = []
    for char in unicodedata.normalize("NFC", value or ""):
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category[0] != "C" and char not in BIDI_CONTROLS:
            kept.append(char)
    return collapse("".join(kept))[:max_length]


def fold(value: str) -> str:
    """The form of a text that Vietnamese search compares: lower case, no diacritics, Đ/đ → d, compatibility forms
    unified (NFKD), control and invisible characters dropped, whitespace collapsed. NFC or NFD in, same out.

    "ĐINH XUÂN HOÀNG", "Đinh Xuân Hoàng" and "dinh  xuan hoang" all fold to "dinh xuan hoang".
    """
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value or "").casefold())
    kept = []
    for char in text.translate(_D_LETTERS):
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category[0] not in "CM":
            kept.append(char)
    return " ".join("".join(kept).split())


def search_key(full_name: str) -> str:
    """The value of ``people.search_key`` for a name: ``fold``, cut to the column's length. Every writer of a
    person's name stores it; every name search compares with it."""
    return fold(full_name)[:SEARCH_KEY_MAX]


def like_pattern(text: str) -> str:
    """``%text%`` for a LIKE with ``escape="\\\\"``: the user's own ``%``, ``_`` and ``\\`` match themselves."""
    escaped = _LIKE_SPECIAL.sub(r"\\\1", text)
    return f"%{escaped}%"
