"""Parse the text of the QR code on the chip ID card (CCCD), the new căn cước card and the VNeID app.

Format: UTF-8, fields separated by ``|``, no labels::

    ID12|old CMND (9 digits or empty)|full name|birth ddmmyyyy|Nam/Nữ|address|issue ddmmyyyy[|extras…]

``parse_qr_text`` applies the strict checks and raises the *first* ``CardError`` it finds, in this order:

1. ``empty``: nothing left after cleaning;
2. ``mojibake``: a field (in field order) holds characters no Vietnamese card prints (see ``find_mojibake``);
3. ``too_few_fields``: fewer than 7 fields;
4. field by field, in QR order: ID number (``id_number_format``, ``id_province_code``), old CMND
   (``old_id_format``), name (``name_missing``, ``name_invalid``, ``name_too_long``), birth date
   (``birth_date_invalid``, ``birth_date_out_of_range``, ``birth_date_future``), sex (``diacritics_lost``,
   ``sex_invalid``), address (``address_missing``, ``address_invalid``, ``address_too_long``), issue date
   (``issue_date_invalid``, ``issue_date_before_birth``, ``issue_date_future``);
5. cross-checks of the ID number with birth date and sex: ``id_century_sex_mismatch``, then
   ``id_birth_year_mismatch``;
6. fields 8 and later: no control, bidi or other invisible (format) character (``text_invalid``).

Decisions on ambiguous input:

- Sex: "Nam"/"Nữ" in any case, NFC or NFD. Unaccented "Nu" is refused with ``diacritics_lost``: real cards
  always print "Nữ", so "Nu" means the scanner dropped the Vietnamese letters and the name and address
  lost theirs too; storing them would store a wrong name.
- Whitespace: removed entirely inside the numeric fields (ID, old CMND, dates); collapsed to single spaces
  in the name and address; never used to split or join fields. ``||`` is never collapsed.
- Name: the rule of every person's name in ASM (``asm.text.person_name``): Latin letters (with Vietnamese
  diacritics), spaces, apostrophes and hyphens, each word starting and ending with a letter. Typographic
  apostrophes (’ ʼ ‘) become '. Each word is lower-cased and its first letter, and any letter after an apostrophe
  or a hyphen, upper-cased: "NGUYỄN THỊ HOA" → "Nguyễn Thị Hoa", "H'HEN NIÊ" → "H'Hen Niê".
- Address: kept as printed (old 3-level address), NFC, spaces collapsed; not checked against unit lists; the
  characters of every address in ASM (``asm.text.address``: no invisible characters, emoji or formula leader).
- Issue date: may be empty (``None``); an issue on the day of birth is accepted, one before it is not.
- Fields 8 and later are kept raw (NFC, trimmed) in ``extra_fields``; their layout is unconfirmed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from asm import text as rules
from asm.clock import local_today
from asm.idcard.codes import ABROAD_COUNTRY_CODES
from asm.idcard.errors import CardError
from asm.idcard.idnumber import check_coded_year, check_id_number, check_old_id

MIN_FIELDS = 7
FIELD_ORDER: tuple[str, ...] = (
    "id_number",
    "old_id_number",
    "full_name",
    "birth_date",
    "sex",
    "address",
    "issue_date",
)
CARD_FORMAT_CCCD = "cccd_7"
CARD_FORMAT_CAN_CUOC = "can_cuoc"

_REMOVED = dict.fromkeys(map(ord, "\ufeff\x00\r\n"))
_DATE = re.compile(r"[0-9]{8}")


@dataclass(frozen=True)
class CardData:
    id_number: str  # 12 digits
    old_id_number: str | None  # 9-digit CMND, None when empty
    full_name: str  # NFC, single spaces, title case per word
    birth_date: date
    sex: str  # "M" | "F"
    address: str  # NFC, spaces collapsed, as printed
    issue_date: date | None
    extra_fields: tuple[str, ...]  # fields 8+ raw (NFC, trimmed)
    card_format: str  # "cccd_7" | "can_cuoc"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, extras as a list."""
        return {
            "id_number": self.id_number,
            "old_id_number": self.old_id_number,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "address": self.address,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "extra_fields": list(self.extra_fields),
            "card_format": self.card_format,
        }


def normalize_text(text: str) -> str:
    """NFC; remove every BOM, NUL, CR and LF (scanner noise, wherever it is); trim each field.

    Fields are trimmed one by one, so an empty field stays empty: ``a| |b`` becomes ``a||b`` and ``||`` is
    never collapsed. Spaces inside a field are left alone here.
    """
    cleaned = unicodedata.normalize("NFC", text.translate(_REMOVED))
    return "|".join(field.strip() for field in cleaned.split("|"))


def _suspicious(char: str) -> bool:
    if char == "\t":
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Co", "Cn"):
        return True  # control (incl. C1 from Latin-1 mis-decoding), surrogate, private use, unassigned
    if rules.in_foreign_block(char):
        return True
    # Vietnamese is written in Latin letters only: any other script's letter is mis-decoded bytes.
    return category.startswith("L") and not unicodedata.name(char, "").startswith("LATIN ")


def hidden_in_extra(char: str) -> bool:
    """Refused in fields 8 and later (kept raw): a control, bidi or other invisible (format) character."""
    return rules.is_forbidden(char) or unicodedata.category(char) == "Cf"


def _utf8_read_as_latin1(field: str) -> bool:
    """True for UTF-8 bytes that were decoded as Latin-1/cp1252 ("Nữ" → "Ná»¯")."""
    if field.isascii():
        return False
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = field.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        if repaired != field:
            return True
    return False


def find_mojibake(field: str) -> str | None:
    """The offending characters (at most 5) when a field looks mis-decoded, else None.

    Mis-decoded: any CJK, kana, Hangul, bopomofo, halfwidth/fullwidth form, private-use or replacement
    character (U+FFFD); any control character but TAB; any non-Latin letter; or a field that is UTF-8
    decoded as Latin-1/cp1252.
    """
    bad = [char for char in field if _suspicious(char)]
    if bad:
        return "".join(dict.fromkeys(bad))[:5]
    if _utf8_read_as_latin1(field):
        return "".join(dict.fromkeys(c for c in field if not c.isascii()))[:5]
    return None


def decode_qr_bytes(data: bytes) -> str:
    """Decode the raw bytes of a QR code (zxing-cpp, zbar in binary mode) as strict UTF-8.

    Raise ``CardError("mojibake")`` when the bytes are not UTF-8: never guess another charset.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError("mojibake", None, sample=repr(data[exc.start : exc.start + 4])) from None


def _collapse(value: str) -> str:
    return " ".join(value.split())


def _digits_only(value: str) -> str:
    return "".join(value.split())


def normalize_name(value: str) -> str:
    """NFC, single spaces, title case per word; raise ``name_missing``, ``name_invalid`` or ``name_too_long``.

    The rule of every person's name, whatever the channel: ``asm.text.person_name``.
    """
    try:
        return rules.person_name(value)
    except rules.TextError as exc:
        raise CardError(exc.code, "full_name", **exc.params) from None


def normalize_address(value: str) -> str:
    """NFC, single spaces; raise ``address_missing``, ``address_invalid`` or ``address_too_long``.

    The rule of every address, whatever the channel: ``asm.text.address``.
    """
    try:
        result = rules.address(value)
    except rules.TextError as exc:
        raise CardError(exc.code, "address", **exc.params) from None
    if not result:
        raise CardError("address_missing", "address")
    return result


def parse_sex(value: str) -> str:
    """ "Nam" → "M", "Nữ" → "F", any case, NFC or NFD; "Nu" → ``diacritics_lost``; else ``sex_invalid``."""
    text = _collapse(unicodedata.normalize("NFC", value)).casefold()
    if text == "nam":
        return "M"
    if text == "nữ":
        return "F"
    if text == "nu":
        raise CardError("diacritics_lost", "sex", value=value)
    raise CardError("sex_invalid", "sex", value=value)


def _parse_date(value: str, code: str, field: str) -> date:
    text = _digits_only(value)
    if _DATE.fullmatch(text):
        try:
            return date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            pass
    raise CardError(code, field, value=value)


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def parse_qr_text(
    text: str,
    *,
    today: date | None = None,
    country_codes: frozenset[str] = ABROAD_COUNTRY_CODES,
) -> CardData:
    """Parse and strictly check the QR text of an ID card; raise the first CardError (order in module doc).

    ``today`` (default: today in Asia/Ho_Chi_Minh) bounds the birth and issue dates. ``country_codes`` is
    the accepted set of country codes for births registered abroad (see ``asm.idcard.codes``).
    """
    today = today or local_today()
    normalized = normalize_text(text)
    if not normalized.strip("|"):
        raise CardError("empty")
    fields = normalized.split("|")
    for index, field in enumerate(fields):
        sample = find_mojibake(field)
        if sample is not None:
            name = FIELD_ORDER[index] if index < len(FIELD_ORDER) else None
            raise CardError("mojibake", name, sample=sample)
    if len(fields) < MIN_FIELDS:
        raise CardError("too_few_fields", None, count=len(fields))

    raw_id, raw_old, raw_name, raw_birth, raw_sex, raw_address, raw_issue = fields[:MIN_FIELDS]

    id_number = _digits_only(raw_id)
    check_id_number(id_number, country_codes=country_codes)

    old_id = _digits_only(raw_old) or None
    if old_id is not None:
        check_old_id(old_id)

    full_name = normalize_name(raw_name)

    birth_date = _parse_date(raw_birth, "birth_date_invalid", "birth_date")
    check_coded_year(birth_date.year)
    if birth_date > today:
        raise CardError("birth_date_future", "birth_date", value=_dmy(birth_date))

    sex = parse_sex(raw_sex)

    address = normalize_address(raw_address)

    issue_date: date | None = None
    if _digits_only(raw_issue):
        issue_date = _parse_date(raw_issue, "issue_date_invalid", "issue_date")
        if issue_date < birth_date:
            raise CardError("issue_date_before_birth", "issue_date", value=_dmy(issue_date), birth=_dmy(birth_date))
        if issue_date > today:
            raise CardError("issue_date_future", "issue_date", value=_dmy(issue_date))

    check_id_number(id_number, birth_date=birth_date, sex=sex, country_codes=country_codes)

    extras = tuple(fields[MIN_FIELDS:])
    for extra in extras:
        bad = next((char for char in extra if hidden_in_extra(char)), None)
        if bad is not None:
            raise CardError("text_invalid", None, char=rules.describe(bad))
    return CardData(
        id_number=id_number,
        old_id_number=old_id,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        issue_date=issue_date,
        extra_fields=extras,
        card_format=CARD_FORMAT_CAN_CUOC if extras else CARD_FORMAT_CCCD,
    )


def parse_qr_bytes(
    data: bytes,
    *,
    today: date | None = None,
    country_codes: frozenset[str] = ABROAD_COUNTRY_CODES,
) -> CardData:
    """``decode_qr_bytes`` then ``parse_qr_text``."""
    return parse_qr_text(decode_qr_bytes(data), today=today, country_codes=country_codes)
