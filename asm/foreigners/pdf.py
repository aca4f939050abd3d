"""Form NA17 (Thông tư 04/2015/TT-BCA): a foreign guest's temporary-residence declaration, filled for paper filing.

Pure builder: plain data in, bytes out; no Flask, no database. Times arrive UTC-aware and are printed in
Asia/Ho_Chi_Minh. One A4 page per guest. The form's fields follow NA17 (full name, sex, date of birth,
nationality, passport number, entry date and port, purpose, period and address of stay, the establishment and
its representative); the page layout is ours (docs/FOREIGNERS.md). A field not known yet is printed as a dotted
line, to be filled by hand.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from asm.i18n import Translator
from asm.pdf.common import (
    CONTENT_WIDTH,
    Rule,
    Styles,
    footer_painter,
    format_date,
    format_datetime,
    make_document,
    make_styles,
    markup,
    national_header,
)
from asm.pdf.fonts import BOLD

BLANK = "…………………………"
LABEL_FILL = colors.HexColor("#f3f5f8")


@dataclass(frozen=True)
class Na17Data:
    full_name: str
    sex: str | None  # "M" | "F" | None
    birth_date: date | None
    nationality: str  # alpha-3
    nationality_name: str  # in the form's language ("Pháp", "France")
    passport_number: str
    passport_expiry: date | None
    visa_type: str | None  # label in the form's language
    visa_number: str | None
    entry_date: date | None
    entry_port: str | None
    entry_purpose: str | None
    arrived_at: datetime  # UTC-aware
    expected_departure: date | None
    room: str | None
    establishment_name: str
    establishment_address: str
    establishment_phone: str | None
    commune_name: str  # "Phường Ba Đình, Thành phố Hà Nội": the form goes to "Công an " + this
    deadline_at: datetime  # UTC-aware
    deadline_hours: int
    declared_at: datetime | None
    declaration_ref: str | None
    printed_at: datetime  # UTC-aware


def labels(translations: Translator) -> dict[str, str]:
    """The form's words, from the catalogue, by key."""
    _ = translations.gettext
    return {
        "form": _("Mẫu NA17 (Thông tư 04/2015/TT-BCA)"),
        "title": _("PHIẾU KHAI BÁO TẠM TRÚ CHO NGƯỜI NƯỚC NGOÀI"),
        "to": _("Kính gửi: Công an %(commune)s"),
        "establishment": _("Cơ sở lưu trú"),
        "address": _("Địa chỉ"),
        "phone": _("Điện thoại"),
        "guest": _("Thông tin người nước ngoài"),
        "full_name": _("1. Họ tên (chữ in hoa)"),
        "sex": _("2. Giới tính"),
        "birth_date": _("3. Sinh ngày"),
        "nationality": _("4. Quốc tịch"),
        "passport": _("5. Hộ chiếu số"),
        "passport_expiry": _("Thời hạn hộ chiếu"),
        "visa": _("6. Thị thực / thẻ tạm trú, thường trú"),
        "entry": _("7. Nhập cảnh ngày"),
        "entry_port": _("qua cửa khẩu"),
        "purpose": _("8. Mục đích nhập cảnh"),
        "stay": _("9. Tạm trú từ ngày"),
        "until": _("đến ngày"),
        "room": _("phòng"),
        "stay_address": _("10. Địa chỉ tạm trú"),
        "sex_M": _("Nam"),
        "sex_F": _("Nữ"),
        "deadline": _("Hạn khai báo (Luật 47/2014, Điều 33): %(deadline)s (%(hours)s giờ sau khi đến)"),
        "declared": _("Đã khai báo lúc %(at)s, số tham chiếu %(ref)s"),
        "place_date": _("Lập ngày %(day)s tháng %(month)s năm %(year)s"),
        "signer": _("NGƯỜI ĐẠI DIỆN CƠ SỞ LƯU TRÚ"),
        "sign_hint": _("(Ký, ghi rõ họ tên, đóng dấu nếu có)"),
        "footer_privacy": _(
            "Phiếu có dữ liệu cá nhân, được bảo vệ theo pháp luật về bảo vệ dữ liệu cá nhân: chỉ dùng "
            "cho việc khai báo tạm trú của người nước ngoài."
        ),
        "footer_time": _("In lúc %(at)s (giờ Việt Nam, UTC+7)."),
        "page": _("Trang %(page)s/%(pages)s"),
    }


def build_na17_pdf(data: Na17Data, *, translations: Translator) -> bytes:
    """Render form NA17 for one foreign guest: one A4 page."""
    words = labels(translations)
    styles = make_styles(table_size=10)
    buffer = io.BytesIO()
    footer = [words["footer_privacy"], words["footer_time"] % {"at": format_datetime(data.printed_at)}]
    doc = make_document(
        buffer,
        title=f"{words['title'].capitalize()} · {data.full_name}",
        subject=words["form"],
        on_page=footer_painter(styles, footer, words["page"], pages=1),
    )
    width = CONTENT_WIDTH
    left = [
        Paragraph(markup(words["form"]), styles.small),
        Rule(40 * mm),
    ]
    story: list[Flowable] = [
        national_header(styles, translations, left=left),
        Spacer(1, 7 * mm),
        Paragraph(markup(words["title"]), styles.title),
        Spacer(1, 2 * mm),
        Paragraph(markup(words["to"] % {"commune": data.commune_name}), styles.subtitle),
        Spacer(1, 5 * mm),
        _facts(_establishment_rows(data, words), styles, width),
        Paragraph(markup(words["guest"]), styles.heading),
        _facts(_guest_rows(data, words), styles, width),
        Spacer(1, 3 * mm),
        Paragraph(
            markup(words["deadline"] % {"deadline": format_datetime(data.deadline_at), "hours": data.deadline_hours}),
            styles.normal,
        ),
    ]
    if data.declared_at is not None:
        story.append(
            Paragraph(
                markup(words["declared"] % {"at": format_datetime(data.declared_at), "ref": data.declaration_ref}),
                styles.normal,
            )
        )
    story += [Spacer(1, 6 * mm), _signature(data, words, styles, width)]
    doc.build(story)
    return buffer.getvalue()


def _value(value: str | None) -> str:
    return value if value else BLANK


def _date(value: date | None) -> str:
    return format_date(value) if value else BLANK


def _establishment_rows(data: Na17Data, words: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (words["establishment"], data.establishment_name),
        (words["address"], data.establishment_address),
        (words["phone"], _value(data.establishment_phone)),
    ]


def _guest_rows(data: Na17Data, words: dict[str, str]) -> list[tuple[str, str]]:
    sex = words.get(f"sex_{data.sex}", BLANK) if data.sex else BLANK
    visa = " ".join(part for part in (data.visa_type, data.visa_number) if part) or BLANK
    period = f"{format_datetime(data.arrived_at)} {words['until']} {_date(data.expected_departure)}"
    address = data.establishment_address + (f" ({words['room']} {data.room})" if data.room else "")
    passport = data.passport_number
    if data.passport_expiry:
        passport += f" · {words['passport_expiry']}: {format_date(data.passport_expiry)}"
    return [
        (words["full_name"], data.full_name.upper()),
        (words["sex"], sex),
        (words["birth_date"], _date(data.birth_date)),
        (words["nationality"], f"{data.nationality_name} ({data.nationality})"),
        (words["passport"], passport),
        (words["visa"], visa),
        (words["entry"], f"{_date(data.entry_date)} {words['entry_port']} {_value(data.entry_port)}"),
        (words["purpose"], _value(data.entry_purpose)),
        (words["stay"], period),
        (words["stay_address"], address),
    ]


def _facts(rows: list[tuple[str, str]], styles: Styles, width: float) -> Table:
    label_style = ParagraphStyle("na17-label", styles.table, fontName=BOLD)
    cells = [[Paragraph(markup(k), label_style), Paragraph(markup(v), styles.table)] for k, v in rows]
    table = Table(cells, colWidths=[width * 0.34, width * 0.66])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _signature(data: Na17Data, words: dict[str, str], styles: Styles, width: float) -> Table:
    center = ParagraphStyle("na17-center", styles.normal, alignment=TA_CENTER)
    bold = ParagraphStyle("na17-center-bold", center, fontName=BOLD)
    local = format_date(data.printed_at).split("/")
    block = [
        Paragraph(markup(words["place_date"] % {"day": local[0], "month": local[1], "year": local[2]}), center),
        Paragraph(markup(words["signer"]), bold),
        Paragraph(markup(words["sign_hint"]), ParagraphStyle("na17-hint", styles.small, alignment=TA_CENTER)),
    ]
    table = Table([["", block]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
