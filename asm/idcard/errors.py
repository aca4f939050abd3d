"""One error type for everything the ID-card checks reject, with a stable code and a message in vi and en.

Every code's message is in ``MESSAGES``, as a msgid of the gettext catalogue (Vietnamese; the English is in
``asm/translations``, see asm/i18n.py). Messages use named placeholders (``%(value)s``); a parameter that is itself
a phrase to translate is a ``Phrase``. ``%(label)s`` is always available: the wrong field's name, translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from asm.i18n import N_, Translator, translations

# The form fields an error can point at (msgids); ``None`` means the QR text as a whole.
FIELD_LABELS: dict[str | None, str] = {
    None: N_("nội dung mã QR"),
    "id_number": N_("số định danh cá nhân"),
    "old_id_number": N_("số CMND cũ"),
    "full_name": N_("họ và tên"),
    "birth_date": N_("ngày sinh"),
    "sex": N_("giới tính"),
    "address": N_("nơi thường trú"),
    "issue_date": N_("ngày cấp"),
    "document_type": N_("loại giấy tờ"),
    "document_number": N_("số giấy tờ"),
    "nationality": N_("quốc tịch"),
}

# code -> message (a msgid of the catalogue: Vietnamese here, English in asm/translations)
MESSAGES: dict[str, str] = {
    "empty": N_("Không đọc được nội dung mã QR (chuỗi rỗng)."),
    "too_few_fields": N_("Mã QR có %(count)s trường, cần ít nhất 7 trường ngăn cách bằng dấu |."),
    "mojibake": N_(
        "Mã QR bị giải mã sai bảng mã (%(label)s: ký tự lạ %(sample)s). Hãy quét lại bằng đầu đọc trả về "
        "UTF-8 hoặc nhập tay."
    ),
    "diacritics_lost": N_(
        "%(label)s bị mất dấu tiếng Việt (đọc được: “%(value)s”): đầu đọc đang gõ phím theo bàn phím không có "
        "tiếng Việt. Hãy chuyển đầu đọc sang chế độ cổng COM (UTF-8) hoặc nhập tay."
    ),
    "id_number_format": N_("Số định danh cá nhân phải gồm đúng 12 chữ số (đọc được: “%(value)s”)."),
    "id_province_code": N_(
        "Ba chữ số đầu của số định danh (%(code)s) không phải mã tỉnh hay mã quốc gia nơi đăng ký khai sinh."
    ),
    "id_century_sex_mismatch": N_(
        "Chữ số thứ 4 của số định danh (%(digit)s) không khớp với thế kỷ sinh và giới tính (phải là %(expected)s)."
    ),
    "id_birth_year_mismatch": N_(
        "Chữ số thứ 5–6 của số định danh (%(digits)s) không khớp với năm sinh %(year)s (phải là %(expected)s)."
    ),
    "old_id_format": N_("Số CMND cũ phải gồm đúng 9 chữ số (đọc được: “%(value)s”)."),
    "name_missing": N_("Thiếu họ và tên."),
    "name_too_long": N_("Họ và tên tối đa %(max)s ký tự."),
    "address_invalid": N_(
        "Nơi thường trú chỉ được chứa chữ cái, chữ số, dấu cách và dấu câu, bắt đầu bằng chữ cái hoặc chữ số "
        "(ký tự không hợp lệ: “%(char)s”)."
    ),
    "address_too_long": N_("Nơi thường trú tối đa %(max)s ký tự."),
    "text_invalid": N_("%(label)s chứa ký tự điều khiển hoặc ký tự vô hình (“%(char)s”)."),
    "name_invalid": N_(
        "Họ và tên chỉ được chứa chữ cái, dấu cách, dấu nháy đơn và dấu gạch nối, mỗi từ bắt đầu và kết thúc bằng "
        "chữ cái (ký tự không hợp lệ: “%(char)s”)."
    ),
    "birth_date_invalid": N_("Ngày sinh “%(value)s” không phải một ngày có thật theo dạng ngày-tháng-năm ddmmyyyy."),
    "birth_date_out_of_range": N_("Năm sinh %(year)s nằm ngoài khoảng mà số định danh mã hoá được (1900–2399)."),
    "birth_date_future": N_("Ngày sinh %(value)s ở tương lai."),
    "sex_invalid": N_("Giới tính phải là “Nam” hoặc “Nữ” (đọc được: “%(value)s”)."),
    "address_missing": N_("Thiếu nơi thường trú."),
    "issue_date_invalid": N_("Ngày cấp “%(value)s” không phải một ngày có thật theo dạng ngày-tháng-năm ddmmyyyy."),
    "issue_date_before_birth": N_("Ngày cấp %(value)s trước ngày sinh %(birth)s."),
    "issue_date_future": N_("Ngày cấp %(value)s ở tương lai."),
    "document_type_invalid": N_("Loại giấy tờ “%(value)s” không được hỗ trợ (CCCD, CMND hoặc hộ chiếu)."),
    "document_number_format": N_("Số giấy tờ “%(value)s” không hợp lệ: %(rule)s."),
    "nationality_required": N_("Hộ chiếu cần có quốc tịch (mã 3 chữ cái ISO 3166-1 alpha-3, ví dụ VNM, KOR)."),
    "nationality_format": N_("Quốc tịch “%(value)s” phải là mã 3 chữ cái (ISO 3166-1 alpha-3, ví dụ VNM, KOR)."),
    "document_nationality_mismatch": N_(
        "CCCD và CMND chỉ cấp cho công dân Việt Nam (VNM), không cho quốc tịch %(value)s."
    ),
}


class Phrase(str):
    """A parameter that is itself a msgid (``Phrase(N_("CMND gồm 9 chữ số"))``): translated with the message."""

    __slots__ = ()


Param = str | int


def _lang(locale: str) -> str:
    return "vi" if locale.lower().startswith("vi") else "en"


class CardError(ValueError):
    """A rejected ID-card value.

    ``code`` is stable (for logs, tests and the UI); ``field`` names the form field, None for the whole text.
    A subclass may bring its own ``messages`` and ``field_labels`` tables (``asm.idcard.mrz.MrzError``).
    """

    messages: ClassVar[Mapping[str, str]] = MESSAGES
    field_labels: ClassVar[Mapping[str | None, str]] = FIELD_LABELS
    code: str
    field: str | None
    params: Mapping[str, Param]

    def __init__(self, code: str, field: str | None = None, /, **params: Param) -> None:
        if code not in self.messages:
            raise KeyError(f"unknown {type(self).__name__} code {code!r}")
        if field not in self.field_labels:
            raise KeyError(f"unknown {type(self).__name__} field {field!r}")
        self.code = code
        self.field = field
        self.params = dict(params)
        # The Vietnamese message needs no catalogue file: rendering it at once checks the parameters.
        super().__init__(f"{code}: {self.message_vi}")

    def render(self, translations: Translator) -> str:
        """The message in the language of ``translations``."""
        _ = translations.gettext
        values: dict[str, Any] = {k: _(v) if isinstance(v, Phrase) else v for k, v in self.params.items()}
        values.setdefault("label", _(self.field_labels[self.field]))
        text = _(self.messages[self.code]) % values
        return text[:1].upper() + text[1:]

    def message(self, locale: str) -> str:
        """The message for a locale such as ``vi``, ``vi_VN`` or ``en``; any other locale gets English."""
        return self.render(translations(_lang(locale)))

    @property
    def message_vi(self) -> str:
        return self.message("vi")

    @property
    def message_en(self) -> str:
        return self.message("en")

    def with_field(self, field: str | None) -> CardError:
        """The same error pointed at another form field (``document_number`` instead of ``id_number``)."""
        return type(self)(self.code, field, **self.params)

    def to_dict(self, locale: str) -> dict[str, str | None]:
        """JSON-ready form for an API answer."""
        return {"code": self.code, "field": self.field, "message": self.message(locale)}
