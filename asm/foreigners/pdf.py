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
    normalize_locale,
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


LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "form": "Mẫu NA17 (Thông tư 04/2015/TT-BCA)",
        "title": "PHIẾU KHAI BÁO TẠM TRÚ CHO NGƯỜI NƯỚC NGOÀI",
        "to": "Kính gửi: Công an {commune}",
        "establishment": "Cơ sở lưu trú",
        "address": "Địa chỉ",
        "phone": "Điện thoại",
        "guest": "Thông tin người nước ngoài",
        "full_name": "1. Họ tên (chữ in hoa)",
        "sex": "2. Giới tính",
        "birth_date": "3. Sinh ngày",
        "nationality": "4. Quốc tịch",
        "passport": "5. Hộ chiếu số",
        "passport_expiry": "Thời hạn hộ chiếu",
        "visa": "6. Thị thực / thẻ tạm trú, thường trú",
        "entry": "7. Nhập cảnh ngày",
        "entry_port": "qua cửa khẩu",
        "purpose": "8. Mục đích nhập cảnh",
        "stay": "9. Tạm trú từ ngày",
        "until": "đến ngày",
        "room": "phòng",
        "stay_address": "10. Địa chỉ tạm trú",
        "sex_M": "Nam",
        "sex_F": "Nữ",
        "deadline": "Hạn khai báo (Luật 47/2014, Điều 33): {deadline} ({hours} giờ sau khi đến)",
        "declared": "Đã khai báo lúc {at}, số tham chiếu {ref}",
        "place_date": "Lập ngày {day} tháng {month} năm {year}",
        "signer": "NGƯỜI ĐẠI DIỆN CƠ SỞ LƯU TRÚ",
        "sign_hint": "(Ký, ghi rõ họ tên, đóng dấu nếu có)",
        "footer_privacy": (
            "Phiếu có dữ liệu cá nhân, được bảo vệ theo pháp luật về bảo vệ dữ liệu cá nhân: chỉ dùng cho việc khai "
            "báo tạm trú của người nước ngoài."
        ),
        "footer_time": "In lúc {at} (giờ Việt Nam, UTC+7).",
        "page": "Trang {page}/{pages}",
    },
    "en": {
        "form": "Form NA17 (Circular 04/2015/TT-BCA)",
        "title": "TEMPORARY RESIDENCE DECLARATION FOR A FOREIGNER",
        "to": "To: the Police of {commune}",
        "establishment": "Accommodation",
        "address": "Address",
        "phone": "Phone",
        "guest": "The foreigner",
        "full_name": "1. Full name (capitals)",
        "sex": "2. Sex",
        "birth_date": "3. Date of birth",
        "nationality": "4. Nationality",
        "passport": "5. Passport no.",
        "passport_expiry": "Passport valid until",
        "visa": "6. Visa / residence card",
        "entry": "7. Entered on",
        "entry_port": "through",
        "purpose": "8. Purpose of entry",
        "stay": "9. Staying from",
        "until": "until",
        "room": "room",
        "stay_address": "10. Address of stay",
        "sex_M": "Male",
        "sex_F": "Female",
        "deadline": "Declaration due (Law 47/2014, Art. 33): {deadline} ({hours} hours after arrival)",
        "declared": "Declared at {at}, reference {ref}",
        "place_date": "Made on {day}/{month}/{year}",
        "signer": "FOR THE ACCOMMODATION",
        "sign_hint": "(Signature, full name, stamp if any)",
        "footer_privacy": (
            "This form holds personal data protected by law: use it only for the foreigner's temporary-residence "
            "declaration."
        ),
        "footer_time": "Printed at {at} (Viet Nam time, UTC+7).",
        "page": "Page {page}/{pages}",
    },
}


def build_na17_pdf(data: Na17Data, *, locale: str = "vi") -> bytes:
    """Render form NA17 for one foreign guest: one A4 page."""
    lang = normalize_locale(locale)
    labels = LABELS[lang]
    styles = make_styles(table_size=10)
    buffer = io.BytesIO()
    footer = [labels["footer_privacy"], labels["footer_time"].format(at=format_datetime(data.printed_at))]
    doc = make_document(
        buffer,
        title=f"{labels['title'].capitalize()} · {data.full_name}",
        subject=labels["form"],
        on_page=footer_painter(styles, footer, labels["page"], pages=1),
    )
    width = CONTENT_WIDTH
    left = [
        Paragraph(markup(labels["form"]), styles.small),
        Rule(40 * mm),
    ]
    story: list[Flowable] = [
        national_header(styles, locale=lang, left=left),
        Spacer(1, 7 * mm),
        Paragraph(markup(labels["title"]), styles.title),
        Spacer(1, 2 * mm),
        Paragraph(markup(labels["to"].format(commune=data.commune_name)), styles.subtitle),
        Spacer(1, 5 * mm),
        _facts(_establishment_rows(data, labels), styles, width),
        Paragraph(markup(labels["guest"]), styles.heading),
        _facts(_guest_rows(data, labels), styles, width),
        Spacer(1, 3 * mm),
        Paragraph(
            markup(labels["deadline"].format(deadline=format_datetime(data.deadline_at), hours=data.deadline_hours)),
            styles.normal,
        ),
    ]
    if data.declared_at is not None:
        story.append(
            Paragraph(
                markup(labels["declared"].format(at=format_datetime(data.declared_at), ref=data.declaration_ref)),
                styles.normal,
            )
        )
    story += [Spacer(1, 6 * mm), _signature(data, labels, styles, width)]
    doc.build(story)
    return buffer.getvalue()


def _value(value: str | None) -> str:
    return value if value else BLANK


def _date(value: date | None) -> str:
    return format_date(value) if value else BLANK


def _establishment_rows(data: Na17Data, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (labels["establishment"], data.establishment_name),
        (labels["address"], data.establishment_address),
        (labels["phone"], _value(data.establishment_phone)),
    ]


def _guest_rows(data: Na17Data, labels: dict[str, str]) -> list[tuple[str, str]]:
    sex = labels.get(f"sex_{data.sex}", BLANK) if data.sex else BLANK
    visa = " ".join(part for part in (data.visa_type, data.visa_number) if part) or BLANK
    period = f"{format_datetime(data.arrived_at)} {labels['until']} {_date(data.expected_departure)}"
    address = data.establishment_address + (f" ({labels['room']} {data.room})" if data.room else "")
    passport = data.passport_number
    if data.passport_expiry:
        passport += f" · {labels['passport_expiry']}: {format_date(data.passport_expiry)}"
    return [
        (labels["full_name"], data.full_name.upper()),
        (labels["sex"], sex),
        (labels["birth_date"], _date(data.birth_date)),
        (labels["nationality"], f"{data.nationality_name} ({data.nationality})"),
        (labels["passport"], passport),
        (labels["visa"], visa),
        (labels["entry"], f"{_date(data.entry_date)} {labels['entry_port']} {_value(data.entry_port)}"),
        (labels["purpose"], _value(data.entry_purpose)),
        (labels["stay"], period),
        (labels["stay_address"], address),
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


def _signature(data: Na17Data, labels: dict[str, str], styles: Styles, width: float) -> Table:
    center = ParagraphStyle("na17-center", styles.normal, alignment=TA_CENTER)
    bold = ParagraphStyle("na17-center-bold", center, fontName=BOLD)
    local = format_date(data.printed_at).split("/")
    block = [
        Paragraph(markup(labels["place_date"].format(day=local[0], month=local[1], year=local[2])), center),
        Paragraph(markup(labels["signer"]), bold),
        Paragraph(markup(labels["sign_hint"]), ParagraphStyle("na17-hint", styles.small, alignment=TA_CENTER)),
    ]
    table = Table([["", block]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
