"""Pure ID-card rules: QR parsing of the chip CCCD / căn cước / VNeID code and identity-number checks.

No Flask here: plain functions that take strings and dates, return values and raise ``CardError``.
"""

from __future__ import annotations

from asm.idcard.codes import ABROAD_COUNTRY_CODES, PROVINCE_CODES, is_place_code, province_name
from asm.idcard.errors import FIELD_LABELS, MESSAGES, CardError
from asm.idcard.idnumber import (
    DOC_TYPES,
    SEXES,
    century_sex_digit,
    check_coded_year,
    check_id_number,
    check_old_id,
    normalize_document,
    normalize_nationality,
)
from asm.idcard.parse import (
    CARD_FORMAT_CAN_CUOC,
    CARD_FORMAT_CCCD,
    CardData,
    decode_qr_bytes,
    find_mojibake,
    normalize_name,
    normalize_text,
    parse_qr_bytes,
    parse_qr_text,
    parse_sex,
)

__all__ = [
    "ABROAD_COUNTRY_CODES",
    "CARD_FORMAT_CAN_CUOC",
    "CARD_FORMAT_CCCD",
    "DOC_TYPES",
    "FIELD_LABELS",
    "MESSAGES",
    "PROVINCE_CODES",
    "SEXES",
    "CardData",
    "CardError",
    "century_sex_digit",
    "check_coded_year",
    "check_id_number",
    "check_old_id",
    "decode_qr_bytes",
    "find_mojibake",
    "is_place_code",
    "normalize_document",
    "normalize_name",
    "normalize_nationality",
    "normalize_text",
    "parse_qr_bytes",
    "parse_qr_text",
    "parse_sex",
    "province_name",
]
