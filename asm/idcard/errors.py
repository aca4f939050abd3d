"""One error type for everything the ID-card checks reject, with a stable code and messages in vi and en.

Every code and its two message templates live in ``MESSAGES`` and nowhere else. Templates use named
placeholders (``{value}``); a parameter may be a ``(vi, en)`` pair when its wording depends on the language.
``{label}`` is always available: the name of the wrong field in the message's language.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

# The form fields an error can point at; ``None`` means the QR text as a whole.
FIELD_LABELS: dict[str | None, tuple[str, str]] = {
    None: ("nội dung mã QR", "the QR text"),
    "id_number": ("số định danh cá nhân", "personal ID number"),
    "old_id_number": ("số CMND cũ", "old ID card number"),
    "full_name": ("họ và tên", "full name"),
    "birth_date": ("ngày sinh", "date of birth"),
    "sex": ("giới tính", "sex"),
    "address": ("nơi thường trú", "permanent address"),
    "issue_date": ("ngày cấp", "issue date"),
    "document_type": ("loại giấy tờ", "document type"),
    "document_number": ("số giấy tờ", "document number"),
    "nationality": ("quốc tịch", "nationality"),
}

# code -> (Vietnamese template, English template)
MESSAGES: dict[str, tuple[str, str]] = {
    "empty": (
        "Không đọc được nội dung mã QR (chuỗi rỗng).",
        "The QR code is empty.",
    ),
    "too_few_fields": (
        "Mã QR có {count} trường, cần ít nhất 7 trường ngăn cách bằng dấu |.",
        "The QR code has {count} fields; at least 7 fields separated by | are needed.",
    ),
    "mojibake": (
        "Mã QR bị giải mã sai bảng mã ({label}: ký tự lạ {sample}). "
        "Hãy quét lại bằng đầu đọc trả về UTF-8 hoặc nhập tay.",
        "The QR code was decoded with the wrong character set ({label}: stray characters {sample}). "
        "Scan it again with a reader that returns UTF-8, or type the data in.",
    ),
    "diacritics_lost": (
        "{label} bị mất dấu tiếng Việt (đọc được: “{value}”): đầu đọc đang gõ phím theo bàn phím không có "
        "tiếng Việt. Hãy chuyển đầu đọc sang chế độ cổng COM (UTF-8) hoặc nhập tay.",
        "The {label} field lost its Vietnamese diacritics (read: “{value}”): the scanner is typing through a "
        "keyboard layout without Vietnamese. Switch it to serial (USB-COM, UTF-8) mode or type the data in.",
    ),
    "id_number_format": (
        "Số định danh cá nhân phải gồm đúng 12 chữ số (đọc được: “{value}”).",
        "The personal ID number must be exactly 12 digits (read: “{value}”).",
    ),
    "id_province_code": (
        "Ba chữ số đầu của số định danh ({code}) không phải mã tỉnh hay mã quốc gia nơi đăng ký khai sinh.",
        "The first three digits of the ID number ({code}) are not a province or country code of birth registration.",
    ),
    "id_century_sex_mismatch": (
        "Chữ số thứ 4 của số định danh ({digit}) không khớp với thế kỷ sinh và giới tính (phải là {expected}).",
        "Digit 4 of the ID number ({digit}) does not match the century of birth and the sex (expected {expected}).",
    ),
    "id_birth_year_mismatch": (
        "Chữ số thứ 5–6 của số định danh ({digits}) không khớp với năm sinh {year} (phải là {expected}).",
        "Digits 5–6 of the ID number ({digits}) do not match the birth year {year} (expected {expected}).",
    ),
    "old_id_format": (
        "Số CMND cũ phải gồm đúng 9 chữ số (đọc được: “{value}”).",
        "The old ID card number must be exactly 9 digits (read: “{value}”).",
    ),
    "name_missing": (
        "Thiếu họ và tên.",
        "The full name is missing.",
    ),
    "name_invalid": (
        "Họ và tên chỉ được chứa chữ cái, dấu cách, dấu nháy đơn và dấu gạch nối, mỗi từ bắt đầu và kết thúc bằng "
        "chữ cái (ký tự không hợp lệ: “{char}”).",
        "The full name may hold only letters, spaces, apostrophes and hyphens, each word starting and ending with "
        "a letter (invalid character: “{char}”).",
    ),
    "name_too_long": (
        "Họ và tên tối đa {max} ký tự.",
        "The full name may be at most {max} characters long.",
    ),
    "address_invalid": (
        "Nơi thường trú chỉ được chứa chữ cái, chữ số, dấu cách và dấu câu, bắt đầu bằng chữ cái hoặc chữ số "
        "(ký tự không hợp lệ: “{char}”).",
        "The permanent address may hold only letters, digits, spaces and punctuation, and must start with a letter "
        "or a digit (invalid character: “{char}”).",
    ),
    "address_too_long": (
        "Nơi thường trú tối đa {max} ký tự.",
        "The permanent address may be at most {max} characters long.",
    ),
    "text_invalid": (
        "{label} chứa ký tự điều khiển hoặc ký tự vô hình (“{char}”).",
        "The {label} holds a control or invisible character (“{char}”).",
    ),
    "birth_date_invalid": (
        "Ngày sinh “{value}” không phải một ngày có thật theo dạng ngày-tháng-năm ddmmyyyy.",
        "The date of birth “{value}” is not a real date in the form ddmmyyyy.",
    ),
    "birth_date_out_of_range": (
        "Năm sinh {year} nằm ngoài khoảng mà số định danh mã hoá được (1900–2399).",
        "The birth year {year} is outside the range the ID number can encode (1900–2399).",
    ),
    "birth_date_future": (
        "Ngày sinh {value} ở tương lai.",
        "The date of birth {value} is in the future.",
    ),
    "sex_invalid": (
        "Giới tính phải là “Nam” hoặc “Nữ” (đọc được: “{value}”).",
        "The sex must be “Nam” (male) or “Nữ” (female) (read: “{value}”).",
    ),
    "address_missing": (
        "Thiếu nơi thường trú.",
        "The permanent address is missing.",
    ),
    "issue_date_invalid": (
        "Ngày cấp “{value}” không phải một ngày có thật theo dạng ngày-tháng-năm ddmmyyyy.",
        "The issue date “{value}” is not a real date in the form ddmmyyyy.",
    ),
    "issue_date_before_birth": (
        "Ngày cấp {value} trước ngày sinh {birth}.",
        "The issue date {value} is before the date of birth {birth}.",
    ),
    "issue_date_future": (
        "Ngày cấp {value} ở tương lai.",
        "The issue date {value} is in the future.",
    ),
    "document_type_invalid": (
        "Loại giấy tờ “{value}” không được hỗ trợ (CCCD, CMND hoặc hộ chiếu).",
        "The document type “{value}” is not supported (CCCD, CMND or passport).",
    ),
    "document_number_format": (
        "Số giấy tờ “{value}” không hợp lệ: {rule}.",
        "The document number “{value}” is not valid: {rule}.",
    ),
    "nationality_required": (
        "Hộ chiếu cần có quốc tịch (mã 3 chữ cái ISO 3166-1 alpha-3, ví dụ VNM, KOR).",
        "A passport needs a nationality (3-letter ISO 3166-1 alpha-3 code, e.g. VNM, KOR).",
    ),
    "nationality_format": (
        "Quốc tịch “{value}” phải là mã 3 chữ cái (ISO 3166-1 alpha-3, ví dụ VNM, KOR).",
        "The nationality “{value}” must be a 3-letter code (ISO 3166-1 alpha-3, e.g. VNM, KOR).",
    ),
    "document_nationality_mismatch": (
        "CCCD và CMND chỉ cấp cho công dân Việt Nam (VNM), không cho quốc tịch {value}.",
        "CCCD and CMND cards are issued to Vietnamese citizens (VNM) only, not to nationality {value}.",
    ),
}

Param = str | int | tuple[str, str]


def placeholders(template: str) -> set[str]:
    """The named placeholders of a template (used by the tests to keep vi and en in step)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _pick(value: Param, index: int) -> str | int:
    return value[index] if isinstance(value, tuple) else value


class CardError(ValueError):
    """A rejected ID-card value.

    ``code`` is stable (for logs, tests and the UI); ``field`` names the form field, None for the whole text.
    """

    code: str
    field: str | None
    params: Mapping[str, Param]
    message_vi: str
    message_en: str

    def __init__(self, code: str, field: str | None = None, /, **params: Param) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown CardError code {code!r}")
        if field not in FIELD_LABELS:
            raise KeyError(f"unknown CardError field {field!r}")
        self.code = code
        self.field = field
        self.params = dict(params)
        self.message_vi = self._render(0)
        self.message_en = self._render(1)
        super().__init__(f"{code}: {self.message_en}")

    def _render(self, index: int) -> str:
        values: dict[str, Any] = {name: _pick(value, index) for name, value in self.params.items()}
        label = FIELD_LABELS[self.field][index]
        values.setdefault("label", label)
        text = MESSAGES[self.code][index].format_map(values)
        return text[:1].upper() + text[1:]

    def message(self, locale: str) -> str:
        """The message for a locale such as ``vi``, ``vi_VN`` or ``en``; any other locale gets English."""
        return self.message_vi if locale.lower().startswith("vi") else self.message_en

    def with_field(self, field: str | None) -> CardError:
        """The same error pointed at another form field (``document_number`` instead of ``id_number``)."""
        return CardError(self.code, field, **self.params)

    def to_dict(self, locale: str) -> dict[str, str | None]:
        """JSON-ready form for an API answer."""
        return {"code": self.code, "field": self.field, "message": self.message(locale)}
