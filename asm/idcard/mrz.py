"""Machine-readable zones (MRZ, ICAO Doc 9303) of passports, identity cards and visas. Pure: no Flask.

Public API (everything else is private):

- ``parse_mrz(text, *, today=None, ocr=False) -> MrzData``: the text a passport reader sends (lines ended by
  CR, LF or CRLF, or run together as 88, 72 or 90 characters; surrounding whitespace, BOM, NUL, STX/ETX
  ignored), strictly checked; raises ``MrzError``.
- ``parse_mrz_lines(lines, *, today=None, ocr=False) -> MrzData``: the same for lines already split.
- ``find_mrz(text) -> tuple[str, ...] | None``: the MRZ lines in a reader's text, or None when its shape
  (line count and lengths) is not an MRZ. ``looks_like_mrz(text)`` tells an MRZ from a CCCD QR text.
- ``position_classes(count, width, first)``: what each position may hold (letters, digits…), for an OCR.
- ``check_digit(data) -> str``: Doc 9303's check digit (weights 7, 3, 1; ``<`` = 0, A = 10 … Z = 35).
- ``MrzData`` (``as_dict()``), ``MrzError`` (a ``CardError``: ``code``, ``field``, ``message_vi``,
  ``message_en``), ``MrzWarning``.

Formats: TD3 (passports, 2 × 44), TD2 (2 × 36), TD1 (identity cards, 3 × 30), MRV-A (visas, 2 × 44) and
MRV-B (visas, 2 × 36). Every check digit the format has is verified: document number (also a TD1/TD2 number
longer than 9 characters, continued in the optional data), birth date, expiry, TD3's personal number, and
the composite digit. MRV visas have no composite digit and no check on their optional data.

``parse_mrz_lines`` raises the *first* error in this order: ``mrz_empty`` / ``mrz_format`` (shape),
``mrz_character`` (a character other than A–Z, 0–9, ``<``), ``mrz_ocr_ambiguous`` (OCR only, see below),
``mrz_document_code``, ``mrz_state_unknown``
(issuing state), ``mrz_document_number_missing``, ``mrz_check_document_number``, ``mrz_check_birth_date``,
``mrz_birth_date_invalid``, ``mrz_sex_invalid``, ``mrz_check_expiry``, ``mrz_expiry_invalid``,
``mrz_expiry_before_birth``, ``mrz_state_unknown`` (nationality), ``mrz_check_optional_data``,
``mrz_check_composite``, ``mrz_name_missing``, ``mrz_name_invalid``.

Decisions:

- Two-digit years: a birth date takes the latest century that does not put it after ``today``; an expiry
  takes the century that puts it within 50 years of ``today`` (so a document expired last year reads as
  expired, not as valid in the next century). ``today`` defaults to today in Asia/Ho_Chi_Minh.
- An expired document is accepted with the warning ``mrz_expired``; the caller decides what to do.
  A birth date or expiry made of fillers (unknown, allowed by Doc 9303) gives None and a warning.
- ``ocr=True`` (for text that came from OCR, never needed for a reader's text): the confusions ``0/O``,
  ``1/I``, ``5/S``, ``8/B``, ``2/Z`` are corrected: letters to digits in numeric fields (dates, check
  digits), digits to letters in alphabetic codes (document code, states), and either way in the document
  number and optional data, but only where the check digits then agree, and only when exactly one
  correction makes them all agree; a read that agrees as it is, but would also agree with another reading
  of its uncertain characters, is refused (``mrz_ocr_ambiguous``: ``4O9O76`` and ``409076`` share a check
  digit). Names carry no check digit and are never corrected: a digit
  in a name is refused.
- Names: ``<<`` separates the primary identifier (surname) from the secondary (given names); other
  fillers become spaces. Names are returned in capitals, as the MRZ prints them. A name filling its field
  to the last character may be truncated: warning ``mrz_name_truncated``.
- Sex: ``M``, ``F``; ``X`` and ``<`` (unspecified) give None.
- States: ISO 3166-1 alpha-3 or ICAO's own codes (``asm.idcard.countries``); ``D`` becomes ``DEU``.
  ``UTO`` (Utopia, ICAO's specimens) is accepted with the warning ``mrz_specimen``.
- ``id_number``: for a document issued by Viet Nam (``VNM``) whose optional data is a valid 12-digit
  personal ID number (province code, century and year digits agreeing), that number; else None.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from asm.clock import local_today
from asm.i18n import N_, Translator, translations
from asm.idcard.countries import SPECIMEN_STATES, is_known_state, normalize_state, state_name
from asm.idcard.errors import CardError, Param

FILLER = "<"
ALPHABET = frozenset(string.ascii_uppercase + string.digits + FILLER)
_VALUES = {c: i for i, c in enumerate(string.digits)} | {c: 10 + i for i, c in enumerate(string.ascii_uppercase)}
_VALUES[FILLER] = 0
_WEIGHTS = (7, 3, 1)

# OCR confusions, both ways.
LETTER_TO_DIGIT = {"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2"}
DIGIT_TO_LETTER = {digit: letter for letter, digit in LETTER_TO_DIGIT.items()}
_SWAP = LETTER_TO_DIGIT | DIGIT_TO_LETTER
_MAX_AMBIGUOUS = 10  # positions tried both ways in one field; beyond that only the read itself is tried

DOC_TYPES = ("passport", "id_card", "visa")

MRZ_FIELD_LABELS: dict[str | None, str] = {
    None: N_("vùng đọc máy (MRZ)"),
    "document_code": N_("mã loại giấy tờ"),
    "issuing_state": N_("quốc gia cấp"),
    "document_number": N_("số giấy tờ"),
    "nationality": N_("quốc tịch"),
    "birth_date": N_("ngày sinh"),
    "sex": N_("giới tính"),
    "expiry": N_("ngày hết hạn"),
    "optional_data": N_("số cá nhân (dữ liệu tuỳ chọn)"),
    "composite": N_("toàn bộ dòng dữ liệu"),
    "full_name": N_("họ và tên"),
}

_CHECK = N_(
    "Chữ số kiểm tra của %(label)s không khớp (đọc được “%(found)s”, tính ra “%(expected)s”): "
    "MRZ bị đọc sai hoặc giấy tờ đã bị sửa. Hãy đọc lại."
)

MRZ_MESSAGES: dict[str, str] = {
    "mrz_empty": N_("Không có nội dung MRZ (chuỗi rỗng)."),
    "mrz_format": N_(
        "Không nhận ra vùng đọc máy (MRZ): cần 2 dòng 44 ký tự (hộ chiếu, thị thực), 2 dòng 36 ký "
        "tự hoặc 3 dòng 30 ký tự (thẻ căn cước); đọc được %(lines)s dòng (%(widths)s ký tự)."
    ),
    "mrz_character": N_(
        "Ký tự “%(char)s” không được phép trong MRZ (dòng %(line)s, vị trí %(position)s): chỉ có A–Z, 0–9 và <."
    ),
    "mrz_document_code": N_("Mã loại giấy tờ “%(value)s” không hợp lệ cho MRZ dạng %(layout)s."),
    "mrz_state_unknown": N_(
        "%(label)s “%(value)s” không phải mã quốc gia theo ICAO (ISO 3166-1 alpha-3 hoặc mã riêng của ICAO)."
    ),
    "mrz_document_number_missing": N_("MRZ không có số giấy tờ."),
    "mrz_check_document_number": _CHECK,
    "mrz_check_birth_date": _CHECK,
    "mrz_check_expiry": _CHECK,
    "mrz_check_optional_data": _CHECK,
    "mrz_check_composite": _CHECK,
    "mrz_ocr_ambiguous": N_(
        "Không phân biệt chắc được chữ và số (O/0, I/1, S/5, B/8, Z/2) ở %(label)s: nhiều cách "
        "đọc đều khớp chữ số kiểm tra. Hãy chụp lại rõ hơn."
    ),
    "mrz_birth_date_invalid": N_(
        "Ngày sinh “%(value)s” trong MRZ không phải một ngày có thật (dạng năm-tháng-ngày YYMMDD)."
    ),
    "mrz_expiry_invalid": N_(
        "Ngày hết hạn “%(value)s” trong MRZ không phải một ngày có thật (dạng năm-tháng-ngày YYMMDD)."
    ),
    "mrz_not_identity": N_(
        "Đây là thị thực, không phải giấy tờ tùy thân: hãy quét trang thông tin hộ chiếu; số thị thực ghi vào ô "
        "thị thực."
    ),
    "mrz_not_travel_document": N_(
        "Thẻ căn cước do %(value)s cấp không dùng để khai báo lưu trú: hãy quét hộ chiếu (giấy tờ đã dùng để "
        "nhập cảnh)."
    ),
    "mrz_expiry_before_birth": N_("Ngày hết hạn %(value)s trước ngày sinh %(birth)s."),
    "mrz_sex_invalid": N_("Giới tính trong MRZ phải là M, F, X hoặc < (đọc được “%(value)s”)."),
    "mrz_name_missing": N_("MRZ không có họ tên."),
    "mrz_name_invalid": N_("Họ tên trong MRZ chỉ gồm chữ A–Z và dấu < (ký tự không hợp lệ: “%(char)s”)."),
}

WARNING_MESSAGES: dict[str, str] = {
    "mrz_expired": N_("Giấy tờ đã hết hạn từ ngày %(date)s."),
    "mrz_birth_date_unknown": N_("MRZ không ghi đủ ngày sinh: hãy nhập ngày sinh theo trang thông tin."),
    "mrz_expiry_unknown": N_("MRZ không ghi ngày hết hạn: hãy nhập theo trang thông tin."),
    "mrz_name_truncated": N_(
        "Họ tên trong MRZ có thể đã bị cắt ngắn (vùng tên đầy): hãy đối chiếu với trang thông tin."
    ),
    "mrz_specimen": N_("Đây là giấy tờ mẫu của ICAO (quốc gia Utopia), không phải giấy tờ thật."),
    "mrz_ocr_corrected": N_("Đã sửa lỗi đọc quang học (nhầm chữ và số) ở: %(fields)s; các chữ số kiểm tra đều khớp."),
}


class MrzError(CardError):
    """A refused MRZ: stable ``code``, ``field`` (None for the zone as a whole), messages in vi and en."""

    messages = MRZ_MESSAGES
    field_labels = MRZ_FIELD_LABELS


@dataclass(frozen=True)
class MrzWarning:
    """Something the clerk should see although the MRZ was accepted (an expired passport, a cut name)."""

    code: str
    field: str | None = None
    params: tuple[tuple[str, Param | tuple[str | None, ...]], ...] = ()

    def render(self, translations: Translator) -> str:
        """The message in the language of ``translations``; a tuple parameter is a list of field labels."""
        _ = translations.gettext
        values: dict[str, Any] = {
            k: ", ".join(_(MRZ_FIELD_LABELS[f]) for f in v) if isinstance(v, tuple) else v for k, v in self.params
        }
        values.setdefault("label", _(MRZ_FIELD_LABELS[self.field]))
        return _(WARNING_MESSAGES[self.code]) % values

    @property
    def message_vi(self) -> str:
        return self.render(translations("vi"))

    @property
    def message_en(self) -> str:
        return self.render(translations("en"))

    def message(self, locale: str) -> str:
        return self.message_vi if locale.lower().startswith("vi") else self.message_en

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message_vi": self.message_vi, "message_en": self.message_en}


@dataclass(frozen=True)
class MrzData:
    """A checked MRZ. Field names follow ``CardData`` where they mean the same thing."""

    mrz_format: str  # "TD1" | "TD2" | "TD3" | "MRVA" | "MRVB"
    doc_type: str  # "passport" | "id_card" | "visa"
    document_code: str  # as printed, fillers removed: "P", "PO", "I", "ID", "V"…
    issuing_state: str  # alpha-3 or ICAO code; "D" → "DEU"
    document_number: str
    nationality: str  # alpha-3 or ICAO code; "D" → "DEU"
    surname: str  # primary identifier, capitals, single spaces
    given_names: str  # secondary identifier, capitals, single spaces ("" when none)
    full_name: str  # "SURNAME GIVEN NAMES"
    birth_date: date | None  # None when the MRZ gives fillers
    sex: str | None  # "M" | "F" | None (X or <)
    expiry: date | None
    optional_data: str  # fillers → spaces, trimmed (TD1: line 1's; TD3: the personal number)
    optional_data_2: str  # TD1 line 2's optional data; "" for other formats
    id_number: str | None  # the Vietnamese 12-digit ID in a VNM document's optional data
    lines: tuple[str, ...]  # the zone as accepted (after any OCR correction)
    corrected_fields: tuple[str, ...] = ()
    warnings: tuple[MrzWarning, ...] = field(default=())

    @property
    def card_format(self) -> str:
        return "mrz_" + self.mrz_format.lower()

    @property
    def expired(self) -> bool:
        return any(w.code == "mrz_expired" for w in self.warnings)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; the keys of ``CardData.as_dict()`` first (same meaning), then the MRZ's own."""
        return {
            "id_number": self.id_number,
            "old_id_number": None,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "address": None,
            "issue_date": None,
            "extra_fields": [],
            "card_format": self.card_format,
            "doc_type": self.doc_type,
            "mrz_format": self.mrz_format,
            "document_code": self.document_code,
            "document_number": self.document_number,
            "issuing_state": self.issuing_state,
            "issuing_state_name_vi": state_name(self.issuing_state, "vi"),
            "issuing_state_name_en": state_name(self.issuing_state, "en"),
            "nationality": self.nationality,
            "nationality_name_vi": state_name(self.nationality, "vi"),
            "nationality_name_en": state_name(self.nationality, "en"),
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "surname": self.surname,
            "given_names": self.given_names,
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
            "mrz": list(self.lines),
            "corrected_fields": list(self.corrected_fields),
            "warnings": [w.to_dict() for w in self.warnings],
        }


# --------------------------------------------------------------------------------------------------------
# Check digits and layouts
# --------------------------------------------------------------------------------------------------------


def check_digit(data: str) -> str:
    """Doc 9303 check digit of ``data`` (A–Z, 0–9, ``<``); raises KeyError on any other character."""
    return str(sum(_VALUES[char] * _WEIGHTS[i % 3] for i, char in enumerate(data)) % 10)


Slot = tuple[int, int, int]  # line index, start, end (end exclusive)


@dataclass(frozen=True)
class _Layout:
    name: str
    doc_codes: str  # allowed first characters
    code: Slot
    issuing: Slot
    names: Slot
    number: Slot
    number_cd: Slot
    nationality: Slot
    birth: Slot
    birth_cd: Slot
    sex: Slot
    expiry: Slot
    expiry_cd: Slot
    optional: Slot
    optional_cd: Slot | None = None  # TD3's personal number
    optional_2: Slot | None = None  # TD1's line 2
    composite: Slot | None = None
    composite_parts: tuple[Slot, ...] = ()
    overflow: bool = False  # a document number over 9 characters continues in ``optional`` (TD1, TD2)


_TD3 = _Layout(
    "TD3", "P", (0, 0, 2), (0, 2, 5), (0, 5, 44), (1, 0, 9), (1, 9, 10), (1, 10, 13), (1, 13, 19), (1, 19, 20),
    (1, 20, 21), (1, 21, 27), (1, 27, 28), (1, 28, 42), optional_cd=(1, 42, 43), composite=(1, 43, 44),
    composite_parts=((1, 0, 10), (1, 13, 20), (1, 21, 43)),
)  # fmt: skip
_MRVA = _Layout(
    "MRVA", "V", (0, 0, 2), (0, 2, 5), (0, 5, 44), (1, 0, 9), (1, 9, 10), (1, 10, 13), (1, 13, 19), (1, 19, 20),
    (1, 20, 21), (1, 21, 27), (1, 27, 28), (1, 28, 44),
)  # fmt: skip
_TD2 = _Layout(
    "TD2", "PIAC", (0, 0, 2), (0, 2, 5), (0, 5, 36), (1, 0, 9), (1, 9, 10), (1, 10, 13), (1, 13, 19), (1, 19, 20),
    (1, 20, 21), (1, 21, 27), (1, 27, 28), (1, 28, 35), composite=(1, 35, 36),
    composite_parts=((1, 0, 10), (1, 13, 20), (1, 21, 35)), overflow=True,
)  # fmt: skip
_MRVB = _Layout(
    "MRVB", "V", (0, 0, 2), (0, 2, 5), (0, 5, 36), (1, 0, 9), (1, 9, 10), (1, 10, 13), (1, 13, 19), (1, 19, 20),
    (1, 20, 21), (1, 21, 27), (1, 27, 28), (1, 28, 36),
)  # fmt: skip
_TD1 = _Layout(
    "TD1", "PIAC", (0, 0, 2), (0, 2, 5), (2, 0, 30), (0, 5, 14), (0, 14, 15), (1, 15, 18), (1, 0, 6), (1, 6, 7),
    (1, 7, 8), (1, 8, 14), (1, 14, 15), (0, 15, 30), optional_2=(1, 18, 29), composite=(1, 29, 30),
    composite_parts=((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)), overflow=True,
)  # fmt: skip

SHAPES: dict[tuple[int, int], str] = {(2, 44): "TD3 / MRV-A", (2, 36): "TD2 / MRV-B", (3, 30): "TD1"}
RUN_TOGETHER: dict[int, tuple[int, int]] = {88: (2, 44), 72: (2, 36), 90: (3, 30)}


def _layout_for(lines: Sequence[str]) -> _Layout:
    shape = (len(lines), len(lines[0]))
    first = lines[0][0]
    if shape == (3, 30):
        layout = _TD1
    elif shape == (2, 44):
        layout = _MRVA if first == "V" else _TD3
    else:
        layout = _MRVB if first == "V" else _TD2
    return layout


def position_classes(count: int, width: int, first: str) -> tuple[str, ...] | None:
    """What each position of an MRZ of ``count`` lines × ``width`` may hold, for an OCR to constrain its reading.

    One string per line, one letter per position: ``A`` letters or ``<``, ``N`` digits or ``<`` (dates may be
    unknown), ``D`` digits, ``C`` a digit or ``<`` (a check digit that may be empty), ``S`` sex (M, F, X, <),
    ``X`` anything. ``first`` is the zone's first character (``V`` tells a visa from a TD3 or TD2).
    None when (count, width) is not an MRZ shape.
    """
    if (count, width) not in SHAPES:
        return None
    layout = _layout_for(["V" * width if first == "V" else "P" * width] * count)
    rows = [["X"] * width for _ in range(count)]

    def mark(slot: Slot | None, kind: str) -> None:
        if slot is not None:
            line, start, end = slot
            rows[line][start:end] = [kind] * (end - start)

    slot: Slot | None
    for slot in (layout.code, layout.issuing, layout.names, layout.nationality):
        mark(slot, "A")
    for slot in (layout.birth, layout.expiry):
        mark(slot, "N")
    for slot in (layout.birth_cd, layout.expiry_cd, layout.composite):
        mark(slot, "D")
    mark(layout.number_cd, "C")
    mark(layout.optional_cd, "C")
    mark(layout.sex, "S")
    return tuple("".join(row) for row in rows)


def _doc_type(code: str) -> str:
    return {"P": "passport", "V": "visa"}.get(code[0], "id_card")


# --------------------------------------------------------------------------------------------------------
# Finding the zone in a reader's text
# --------------------------------------------------------------------------------------------------------

_NOISE = dict.fromkeys(map(ord, "\ufeff\x00\x02\x03"))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _split(text: str) -> list[str]:
    cleaned = text.translate(_NOISE)
    lines = [line.strip().upper() for line in _LINE_BREAK.split(cleaned)]
    lines = [line for line in lines if line]
    if len(lines) == 1 and len(lines[0]) in RUN_TOGETHER:
        count, width = RUN_TOGETHER[len(lines[0])]
        lines = [lines[0][i * width : (i + 1) * width] for i in range(count)]
    return lines


def _shape_ok(lines: Sequence[str]) -> bool:
    return bool(lines) and (len(lines), len(lines[0])) in SHAPES and len({len(line) for line in lines}) == 1


def find_mrz(text: str) -> tuple[str, ...] | None:
    """The MRZ lines of a reader's text when its shape is an MRZ's (2 × 44, 2 × 36, 3 × 30), else None.

    Lines may end with CR, LF or CRLF, or be run together (88, 72, 90 characters); blank lines, the spaces
    around lines and a scanner's BOM, NUL, STX and ETX are ignored; letters are upper-cased (a keyboard-wedge
    reader with Caps Lock on sends lower case). The characters are not checked here (``parse_mrz`` does).
    """
    lines = _split(text)
    return tuple(lines) if _shape_ok(lines) else None


def looks_like_mrz(text: str) -> bool:
    """True when a scanned text is an MRZ rather than a CCCD QR text (``ID|CMND|name|…``).

    An MRZ has the shape ``find_mrz`` accepts and holds fillers ``<``; a QR text holds ``|``.
    """
    return "|" not in text and FILLER in text and find_mrz(text) is not None


def parse_mrz(
    text: str,
    *,
    today: date | None = None,
    ocr: bool = False,
    uncertain: frozenset[tuple[int, int]] | None = None,
) -> MrzData:
    """Find and strictly check the MRZ in a reader's (or OCR's) text; raise ``MrzError`` (order in module doc)."""
    lines = _split(text)
    if not lines:
        raise MrzError("mrz_empty")
    return parse_mrz_lines(lines, today=today, ocr=ocr, uncertain=uncertain)


# --------------------------------------------------------------------------------------------------------
# OCR correction
# --------------------------------------------------------------------------------------------------------


class _Grid:
    """The zone as mutable rows of characters."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.rows = [list(line) for line in lines]

    def get(self, slot: Slot) -> str:
        line, start, end = slot
        return "".join(self.rows[line][start:end])

    def positions(self, slot: Slot) -> list[tuple[int, int]]:
        line, start, end = slot
        return [(line, i) for i in range(start, end)]

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.rows]


def _map_slot(grid: _Grid, slot: Slot | None, mapping: dict[str, str]) -> None:
    if slot is None:
        return
    for line, i in grid.positions(slot):
        grid.rows[line][i] = mapping.get(grid.rows[line][i], grid.rows[line][i])


@dataclass
class _Checked:
    """A field with its own check digit: data positions and the check digit's position."""

    name: str
    data: list[tuple[int, int]]
    digit: tuple[int, int]


def _number_field(grid: _Grid, layout: _Layout) -> tuple[_Checked, list[tuple[int, int]]]:
    """The document number's positions (with a TD1/TD2 overflow) and the optional positions it leaves."""
    number = grid.positions(layout.number)
    optional = grid.positions(layout.optional)
    line, start, _ = layout.number_cd
    if layout.overflow and grid.rows[line][start] == FILLER and FILLER not in grid.get(layout.number):
        text = grid.get(layout.optional)
        end = text.find(FILLER)
        if end >= 2:  # at least one more character and its check digit
            return _Checked("document_number", number + optional[: end - 1], optional[end - 1]), optional[end + 1 :]
    return _Checked("document_number", number, (line, start)), optional


def _checked_fields(grid: _Grid, layout: _Layout) -> tuple[list[_Checked], list[tuple[int, int]]]:
    number, optional_rest = _number_field(grid, layout)
    fields = [
        number,
        _Checked("birth_date", grid.positions(layout.birth), grid.positions(layout.birth_cd)[0]),
        _Checked("expiry", grid.positions(layout.expiry), grid.positions(layout.expiry_cd)[0]),
    ]
    if layout.optional_cd is not None:
        fields.append(_Checked("optional_data", optional_rest, grid.positions(layout.optional_cd)[0]))
        optional_rest = []
    if layout.optional_2 is not None:
        optional_rest = optional_rest + grid.positions(layout.optional_2)
    return fields, optional_rest


def _digit_ok(data: str, digit: str, *, empty_may_be_filler: bool = False) -> bool:
    if empty_may_be_filler and digit == FILLER and set(data) <= {FILLER}:
        return True
    return digit == check_digit(data)


def _variants(
    grid: _Grid, positions: list[tuple[int, int]], uncertain: frozenset[tuple[int, int]] | None = None
) -> Iterator[dict[tuple[int, int], str]]:
    """Assignments of the ambiguous positions, fewest changes first (the read itself first).

    A position is ambiguous when it holds one of a confusable pair and, if ``uncertain`` is given, is in it.
    """
    ambiguous = [p for p in positions if grid.rows[p[0]][p[1]] in _SWAP and (uncertain is None or p in uncertain)]
    if len(ambiguous) > _MAX_AMBIGUOUS:
        ambiguous = []
    for changes in range(len(ambiguous) + 1):
        for combo in itertools.combinations(ambiguous, changes):
            yield {p: _SWAP[grid.rows[p[0]][p[1]]] for p in combo}


def _read(grid: _Grid, positions: list[tuple[int, int]], assignment: dict[tuple[int, int], str]) -> str:
    return "".join(assignment.get(p, grid.rows[p[0]][p[1]]) for p in positions)


def _passing(
    grid: _Grid, f: _Checked, uncertain: frozenset[tuple[int, int]] | None
) -> list[dict[tuple[int, int], str]]:
    """Every assignment of a checked field under which its digit agrees; the read itself first.

    Only the document number and optional data may hold letters and digits both, so only their characters
    are tried both ways; a date is only ever its (already mapped) read. A check digit is always a digit.
    """
    line, i = f.digit
    grid.rows[line][i] = LETTER_TO_DIGIT.get(grid.rows[line][i], grid.rows[line][i])
    digit = grid.rows[line][i]
    may_be_filler = f.name == "optional_data"
    if f.name in ("birth_date", "expiry"):
        return [{}] if _digit_ok(_read(grid, f.data, {}), digit, empty_may_be_filler=may_be_filler) else []
    return [
        assignment
        for assignment in _variants(grid, f.data, uncertain)
        if _digit_ok(_read(grid, f.data, assignment), digit, empty_may_be_filler=may_be_filler)
    ]


_MAX_COMBINATIONS = 20_000


def _correct(
    lines: Sequence[str], layout: _Layout, uncertain: frozenset[tuple[int, int]] | None
) -> tuple[list[str], tuple[str, ...], str | None]:
    """The OCR correction of the module doc; returns the lines and the names of the fields it changed.

    Letters in numeric slots and digits in alphabetic codes are mapped outright (the other kind is never
    valid there). The document number and optional data may hold both kinds: among every way of reading
    their ambiguous characters (``0/O``…), exactly one must make all the check digits agree (its own digit,
    and the composite digit where the format has one); otherwise they stay as read, and the strict checks
    refuse them. When the read itself agrees but another reading would too, the zone is ambiguous: the name
    of the first such field is returned as the third value (``O`` and ``0`` can both keep a digit).
    ``uncertain`` limits the ambiguous characters to those positions (an OCR that knows its confidence).
    """
    grid = _Grid(lines)
    original = _Grid(lines)
    slot: Slot | None
    for slot in (layout.birth, layout.birth_cd, layout.expiry, layout.expiry_cd, layout.number_cd):
        _map_slot(grid, slot, LETTER_TO_DIGIT)
    for slot in (layout.optional_cd, layout.composite):
        _map_slot(grid, slot, LETTER_TO_DIGIT)
    for slot in (layout.code, layout.issuing, layout.nationality):
        _map_slot(grid, slot, DIGIT_TO_LETTER)
    fields, unchecked = _checked_fields(grid, layout)
    options = [_passing(grid, f, uncertain) for f in fields]
    ambiguous = next((f.name for f, found in zip(fields, options, strict=True) if len(found) > 1), None)

    chosen: list[dict[tuple[int, int], str]] = []
    if layout.composite is None:
        chosen = [found[0] if len(found) == 1 else {} for found in options]
    elif all(options):
        composite_positions = [p for slot in layout.composite_parts for p in grid.positions(slot)]
        line, i, _ = layout.composite
        digit = grid.rows[line][i]
        extras = list(itertools.islice(_variants(grid, unchecked, uncertain), 64))
        count = len(extras)
        for found in options:
            count *= len(found)
        if count <= _MAX_COMBINATIONS:
            agreeing: list[list[dict[tuple[int, int], str]]] = []
            for combo in itertools.product(*options, extras):
                merged: dict[tuple[int, int], str] = {}
                for part in combo:
                    merged.update(part)
                if check_digit(_read(grid, composite_positions, merged)) == digit:
                    agreeing.append(list(combo))
                    if len(agreeing) > 1:
                        break
            if len(agreeing) == 1:
                chosen = agreeing[0]
                ambiguous = None
            elif len(agreeing) > 1:
                ambiguous = ambiguous or "composite"
    names = [f.name for f in fields] + ["optional_data"]
    changed: set[str] = set()
    for part, name in zip(chosen, names, strict=False):
        for (row, i), char in part.items():
            grid.rows[row][i] = char
        if part:
            changed.add(name)
    for name, slots in (
        ("document_code", (layout.code,)),
        ("issuing_state", (layout.issuing,)),
        ("nationality", (layout.nationality,)),
        ("document_number", (layout.number_cd,)),
        ("birth_date", (layout.birth, layout.birth_cd)),
        ("expiry", (layout.expiry, layout.expiry_cd)),
        ("optional_data", tuple(s for s in (layout.optional_cd,) if s)),
        ("composite", tuple(s for s in (layout.composite,) if s)),
    ):
        if any(original.get(s) != grid.get(s) for s in slots):
            changed.add(name)
    return grid.lines(), tuple(sorted(changed)), ambiguous


# --------------------------------------------------------------------------------------------------------
# Strict parsing
# --------------------------------------------------------------------------------------------------------


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _shift_years(value: date, years: int) -> date:
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def _candidates(text: str, today: date) -> list[date]:
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    out = []
    for century in (today.year // 100 - 1, today.year // 100, today.year // 100 + 1):
        with contextlib.suppress(ValueError):
            out.append(date(century * 100 + yy, mm, dd))
    return out


def _birth(text: str, today: date) -> date | None:
    past = [d for d in _candidates(text, today) if d <= today]
    return max(past) if past else None


def _expiry(text: str, today: date) -> date | None:
    low, high = _shift_years(today, -50), _shift_years(today, 50)
    near = [d for d in _candidates(text, today) if low <= d < high]
    return near[0] if near else None


def _check(code: str, field_name: str, data: str, digit: str, *, empty_may_be_filler: bool = False) -> None:
    if not _digit_ok(data, digit, empty_may_be_filler=empty_may_be_filler):
        raise MrzError(code, field_name, found=digit, expected=check_digit(data))


def _text(value: str) -> str:
    """Fillers to spaces, single spaces, trimmed."""
    return " ".join(value.replace(FILLER, " ").split())


def _names(value: str) -> tuple[str, str]:
    for char in value:
        if not ("A" <= char <= "Z" or char == FILLER):
            raise MrzError("mrz_name_invalid", "full_name", char=char)
    primary, _, secondary = value.strip(FILLER).partition(FILLER * 2)
    surname, given = _text(primary), _text(secondary)
    if not surname and not given:
        raise MrzError("mrz_name_missing", "full_name")
    return surname, given


def _state(value: str, field_name: str) -> str:
    code = value.replace(FILLER, "")
    if not code or not value.startswith(code) or not is_known_state(code):
        raise MrzError("mrz_state_unknown", field_name, value=value)
    return normalize_state(code)


def _vietnamese_id(optional: str, birth: date | None, sex: str | None) -> str | None:
    from asm.idcard.idnumber import check_id_number

    if len(optional) != 12 or not optional.isdigit() or birth is None or sex is None:
        return None
    try:
        check_id_number(optional, birth_date=birth, sex=sex)
    except CardError:
        return None
    return optional


def parse_mrz_lines(
    lines: Sequence[str],
    *,
    today: date | None = None,
    ocr: bool = False,
    uncertain: frozenset[tuple[int, int]] | None = None,
) -> MrzData:
    """Strictly check the lines of an MRZ; raise the first ``MrzError`` (order in the module doc).

    ``ocr=True`` applies the OCR correction described in the module doc before the checks, and refuses
    (``mrz_ocr_ambiguous``) a zone that more than one reading of its confusable characters would make agree.
    ``uncertain``: the (line, position) pairs, counted from 0, whose confusable partner the OCR found
    plausible; by default every ``0/O``, ``1/I``, ``5/S``, ``8/B``, ``2/Z`` in a document number or
    optional data counts as uncertain.
    """
    today = today or local_today()
    lines = [line for line in lines if line]
    if not lines:
        raise MrzError("mrz_empty")
    if not _shape_ok(lines):
        widths = " + ".join(str(len(line)) for line in lines)
        raise MrzError("mrz_format", None, lines=len(lines), widths=widths)
    for line_no, line in enumerate(lines, start=1):
        for position, char in enumerate(line, start=1):
            if char not in ALPHABET:
                raise MrzError("mrz_character", None, char=char, line=line_no, position=position)
    layout = _layout_for(lines)
    corrected_fields: tuple[str, ...] = ()
    if ocr:
        lines, corrected_fields, ambiguous = _correct(lines, layout, uncertain)
        layout = _layout_for(lines)
        if ambiguous is not None:
            raise MrzError("mrz_ocr_ambiguous", ambiguous)
    grid = _Grid(lines)

    code = grid.get(layout.code)
    if code[0] not in layout.doc_codes or not re.fullmatch(r"[A-Z][A-Z<]", code):
        raise MrzError("mrz_document_code", "document_code", value=code, layout=layout.name)
    issuing = _state(grid.get(layout.issuing), "issuing_state")

    number_field, optional_rest = _number_field(grid, layout)
    number_data = _read(grid, number_field.data, {})
    number_read = number_data.rstrip(FILLER)
    if not number_read:
        raise MrzError("mrz_document_number_missing", "document_number")
    number_digit = grid.rows[number_field.digit[0]][number_field.digit[1]]
    _check("mrz_check_document_number", "document_number", number_data, number_digit)
    number = number_read.replace(FILLER, "")

    warnings: list[MrzWarning] = []
    birth_text = grid.get(layout.birth)
    _check("mrz_check_birth_date", "birth_date", birth_text, grid.get(layout.birth_cd))
    birth: date | None = None
    if FILLER in birth_text:
        if not re.fullmatch(r"[0-9]{2}(?:<<<<|[0-9]{2}<<)|<{6}", birth_text):
            raise MrzError("mrz_birth_date_invalid", "birth_date", value=birth_text)
        warnings.append(MrzWarning("mrz_birth_date_unknown", "birth_date"))
    else:
        birth = _birth(birth_text, today) if birth_text.isdigit() else None
        if birth is None:
            raise MrzError("mrz_birth_date_invalid", "birth_date", value=birth_text)

    sex_char = grid.get(layout.sex)
    if sex_char not in "MFX<":
        raise MrzError("mrz_sex_invalid", "sex", value=sex_char)
    sex = sex_char if sex_char in "MF" else None

    expiry_text = grid.get(layout.expiry)
    _check("mrz_check_expiry", "expiry", expiry_text, grid.get(layout.expiry_cd))
    expiry: date | None = None
    if expiry_text == FILLER * 6:
        warnings.append(MrzWarning("mrz_expiry_unknown", "expiry"))
    else:
        expiry = _expiry(expiry_text, today) if expiry_text.isdigit() else None
        if expiry is None:
            raise MrzError("mrz_expiry_invalid", "expiry", value=expiry_text)
        if birth is not None and expiry < birth:
            raise MrzError("mrz_expiry_before_birth", "expiry", value=_dmy(expiry), birth=_dmy(birth))
        if expiry < today:
            warnings.append(MrzWarning("mrz_expired", "expiry", (("date", _dmy(expiry)),)))

    nationality = _state(grid.get(layout.nationality), "nationality")

    optional_text = _read(grid, optional_rest, {})
    if layout.optional_cd is not None:
        _check(
            "mrz_check_optional_data",
            "optional_data",
            optional_text,
            grid.get(layout.optional_cd),
            empty_may_be_filler=True,
        )
    if layout.composite is not None:
        composite_data = "".join(grid.get(slot) for slot in layout.composite_parts)
        _check("mrz_check_composite", "composite", composite_data, grid.get(layout.composite))

    surname, given = _names(grid.get(layout.names))
    if not grid.get(layout.names).endswith(FILLER):
        warnings.append(MrzWarning("mrz_name_truncated", "full_name"))
    if issuing in SPECIMEN_STATES or nationality in SPECIMEN_STATES:
        warnings.append(MrzWarning("mrz_specimen"))
    if corrected_fields:
        warnings.append(MrzWarning("mrz_ocr_corrected", None, (("fields", tuple(corrected_fields)),)))

    optional = _text(optional_text)
    return MrzData(
        mrz_format=layout.name,
        doc_type=_doc_type(code),
        document_code=code.replace(FILLER, ""),
        issuing_state=issuing,
        document_number=number,
        nationality=nationality,
        surname=surname,
        given_names=given,
        full_name=" ".join(part for part in (surname, given) if part),
        birth_date=birth,
        sex=sex,
        expiry=expiry,
        optional_data=optional,
        optional_data_2=_text(grid.get(layout.optional_2)) if layout.optional_2 else "",
        id_number=_vietnamese_id(optional.replace(" ", ""), birth, sex) if issuing == "VNM" else None,
        lines=tuple(lines),
        corrected_fields=corrected_fields,
        warnings=tuple(warnings),
    )
