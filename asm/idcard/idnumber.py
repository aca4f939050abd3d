"""Checks of identity-document numbers: the 12-digit personal ID, the old 9-digit CMND, passports.

Structure of the personal ID number (Thông tư 07/2016/TT-BCA, Art. 7): digits 1–3 province or country code
of birth registration, digit 4 century and sex (0/1 male/female born 1900–1999, 2/3 2000–2099, … up to 8/9
for 2300–2399), digits 5–6 the last two digits of the birth year, digits 7–12 random.

Sex is "M" or "F" everywhere in the code base.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from asm.i18n import N_
from asm.idcard.codes import ABROAD_COUNTRY_CODES, is_place_code
from asm.idcard.errors import CardError, Phrase

# The rules a document number breaks, named in `document_number_format` messages (translated with them).
RULE_CMND = Phrase(N_("CMND gồm 9 chữ số"))
RULE_VN_PASSPORT = Phrase(N_("hộ chiếu Việt Nam gồm 1 chữ cái và 7 chữ số"))
RULE_PASSPORT = Phrase(N_("số hộ chiếu gồm 5–20 chữ cái không dấu hoặc chữ số"))
PHRASES = (RULE_CMND, RULE_VN_PASSPORT, RULE_PASSPORT)

SEXES: tuple[str, str] = ("M", "F")
DOC_TYPES: tuple[str, ...] = ("cccd", "cmnd", "passport")
VIETNAM = "VNM"

FIRST_CODED_YEAR = 1900
LAST_CODED_YEAR = 2399

_ID12 = re.compile(r"[0-9]{12}")
_ID9 = re.compile(r"[0-9]{9}")
_VN_PASSPORT = re.compile(r"[A-Z][0-9]{7}")
_FOREIGN_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_ALPHA3 = re.compile(r"[A-Z]{3}")


def _check_sex(sex: str) -> None:
    if sex not in SEXES:
        raise CardError("sex_invalid", "sex", value=sex)


def check_coded_year(year: int) -> None:
    """Raise ``birth_date_out_of_range`` for a birth year digit 4 cannot encode (before 1900, after 2399)."""
    if not FIRST_CODED_YEAR <= year <= LAST_CODED_YEAR:
        raise CardError("birth_date_out_of_range", "birth_date", year=year)


def century_sex_digit(birth_year: int, sex: str) -> str:
    """Digit 4 of the ID number for a birth year (1900–2399) and a sex ("M"/"F")."""
    check_coded_year(birth_year)
    _check_sex(sex)
    return str((birth_year // 100 - 19) * 2 + (1 if sex == "F" else 0))


def _allowed_digit4(birth_date: date | None, sex: str | None) -> set[int]:
    allowed = set(range(10))
    if birth_date is not None:
        check_coded_year(birth_date.year)
        base = (birth_date.year // 100 - 19) * 2
        allowed &= {base, base + 1}
    if sex is not None:
        _check_sex(sex)
        allowed &= {d for d in allowed if d % 2 == (1 if sex == "F" else 0)}
    return allowed


def check_id_number(
    number: str,
    *,
    birth_date: date | None = None,
    sex: str | None = None,
    country_codes: frozenset[str] = ABROAD_COUNTRY_CODES,
) -> None:
    """Raise CardError unless ``number`` is a well-formed 12-digit personal ID number.

    Checks, in this order: 12 ASCII digits (``id_number_format``); digits 1–3 a province code or a code in
    ``country_codes`` (``id_province_code``); digit 4 against the century of ``birth_date`` and against
    ``sex`` when either is given (``id_century_sex_mismatch``); digits 5–6 against the year of
    ``birth_date`` when given (``id_birth_year_mismatch``).
    """
    if not _ID12.fullmatch(number):
        raise CardError("id_number_format", "id_number", value=number)
    if not is_place_code(number[:3], country_codes):
        raise CardError("id_province_code", "id_number", code=number[:3])
    if birth_date is None and sex is None:
        return
    allowed = _allowed_digit4(birth_date, sex)
    if int(number[3]) not in allowed:
        expected = "/".join(str(d) for d in sorted(allowed))
        raise CardError("id_century_sex_mismatch", "id_number", digit=number[3], expected=expected)
    if birth_date is not None:
        expected_yy = f"{birth_date.year % 100:02d}"
        if number[4:6] != expected_yy:
            raise CardError(
                "id_birth_year_mismatch",
                "id_number",
                digits=number[4:6],
                year=birth_date.year,
                expected=expected_yy,
            )


def check_old_id(number: str) -> None:
    """Raise CardError (``old_id_format``) unless ``number`` is an old CMND number of 9 ASCII digits."""
    if not _ID9.fullmatch(number):
        raise CardError("old_id_format", "old_id_number", value=number)


def normalize_nationality(nationality: str | None) -> str | None:
    """Upper-case, trimmed ISO 3166-1 alpha-3 code, or None when empty.

    Only the form is checked (three letters A–Z): travel documents also carry ICAO codes that are not in
    ISO 3166-1 (e.g. "D" padded, "GBD", "RKS", "XXA"), so a fixed country list would reject real passports.
    """
    if nationality is None or not nationality.strip():
        return None
    value = unicodedata.normalize("NFC", nationality).strip().upper()
    if not _ALPHA3.fullmatch(value):
        raise CardError("nationality_format", "nationality", value=nationality.strip())
    return value


def normalize_document(
    doc_type: str,
    number: str,
    nationality: str | None,
    *,
    country_codes: frozenset[str] = ABROAD_COUNTRY_CODES,
) -> str:
    """Return the canonical document number (trimmed, no inner whitespace, upper case) or raise CardError.

    - ``cccd``: 12-digit personal ID number, with its province/country code (errors point at
      ``document_number``, codes as in ``check_id_number``);
    - ``cmnd``: 9 digits;
    - ``passport``: nationality required; Vietnamese (``VNM``): one letter and 7 digits; foreign: 5–20
      letters A–Z or digits.

    A CCCD or CMND with a nationality other than VNM is refused (``document_nationality_mismatch``).
    """
    kind = doc_type.strip().lower()
    if kind not in DOC_TYPES:
        raise CardError("document_type_invalid", "document_type", value=doc_type)
    nation = normalize_nationality(nationality)
    value = "".join(unicodedata.normalize("NFC", number).split()).upper()
    if kind in ("cccd", "cmnd"):
        if nation not in (None, VIETNAM):
            raise CardError("document_nationality_mismatch", "nationality", value=nation or "")
        if kind == "cccd":
            try:
                check_id_number(value, country_codes=country_codes)
            except CardError as exc:
                raise exc.with_field("document_number") from None
        elif not _ID9.fullmatch(value):
            raise CardError(
                "document_number_format",
                "document_number",
                value=value,
                rule=RULE_CMND,
            )
        return value
    if nation is None:
        raise CardError("nationality_required", "nationality")
    if nation == VIETNAM:
        if not _VN_PASSPORT.fullmatch(value):
            rule = RULE_VN_PASSPORT
            raise CardError("document_number_format", "document_number", value=value, rule=rule)
    elif not _FOREIGN_PASSPORT.fullmatch(value):
        rule = RULE_PASSPORT
        raise CardError("document_number_format", "document_number", value=value, rule=rule)
    return value
