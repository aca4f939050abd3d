"""The receipt of a stay notification (giấy biên nhận thông báo lưu trú) as a one-page A4 PDF.

Pure builder: plain data in, bytes out; no Flask, no database. Times arrive UTC-aware and are printed in
Asia/Ho_Chi_Minh. A group of about 30 guests fits one page (the guest table shrinks); larger groups flow
onto further pages with the table header repeated.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from asm.i18n import Translator
from asm.pdf.common import (
    CONTENT_WIDTH,
    EMPTY,
    QrCode,
    Rule,
    Styles,
    footer_painter,
    format_date,
    format_datetime,
    grid_table_style,
    make_document,
    make_styles,
    markup,
    national_header,
    nfc,
)
from asm.pdf.fonts import BOLD
from asm.trades import trade_words

# "file" is a notification filed from a saved draft: for the police it is an arrival, like "check_in".
KINDS = ("check_in", "file", "extend", "move", "check_out", "cancel")
MASK_CHARS = ("*", "•")

# (font size, cell padding) of the guest table, largest first; the first that fits one page wins.
_TABLE_SIZES: tuple[tuple[float, float], ...] = ((8.5, 2.5), (7.5, 1.6), (7.0, 1.1), (6.5, 0.8), (6.0, 0.5))
_OVERFLOW_SIZE = (7.5, 1.6)  # when nothing fits one page: readable rows over several pages
_ONE_PAGE_LIMIT = 60  # above this many guests even the smallest rows cannot fit one page: skip trying

ON_TIME_COLOR = colors.HexColor("#1b6e2e")
LATE_COLOR = colors.HexColor("#b3261e")
LABEL_FILL = colors.HexColor("#f3f5f8")


@dataclass(frozen=True)
class ReceiptGuest:
    full_name: str
    document_label: str  # e.g. "CCCD", "Hộ chiếu"
    document_number_masked: str  # e.g. "********1829"
    birth_date: date | None
    nationality: str


@dataclass(frozen=True)
class ReceiptData:
    receipt_no: str
    kind: str  # "check_in" | "file" | "extend" | "move" | "check_out" | "cancel" (str or StrEnum)
    filed_at: datetime  # UTC-aware
    deadline_at: datetime | None  # UTC-aware; None for kinds without a deadline
    on_time: bool | None
    establishment_name: str
    establishment_code: str
    establishment_address: str
    commune_name: str  # "Phường Ba Đình, Thành phố Hà Nội"; the receiving unit is "Công an " + this
    guests: list[ReceiptGuest]
    room: str | None
    arrived_at: datetime  # UTC-aware
    expected_departure: date | None
    departed_at: datetime | None
    reason: str
    filed_by: str  # user name, "API: <token name>" or "Kiosk: <name>"
    verify_url: str | None  # drawn as a QR code
    establishment_type: str = "hotel"  # its trade's words (asm/trades.py): a hospital's receipt says "Ra viện"


def labels(translations: Translator, establishment_type: str | None = "hotel") -> dict[str, str]:
    """The receipt's words, from the catalogue, by key, in the establishment's trade (asm/trades.py)."""
    _, pgettext = translations.gettext, translations.pgettext
    words = trade_words(establishment_type, translations)
    return {
        "title": _("GIẤY BIÊN NHẬN THÔNG BÁO LƯU TRÚ"),
        "doc_no": _("Số: %(no)s"),
        "receipt_no": _("Số biên nhận"),
        "filed_at": _("Thời điểm gửi"),
        "police": _("Cơ quan tiếp nhận"),
        "establishment": pgettext("receipt", "Cơ sở lưu trú"),
        "code": _("Mã cơ sở"),
        "address": _("Địa chỉ"),
        "room": words.place,
        "filed_by": _("Người khai báo"),
        "reason": _("Lý do lưu trú"),
        "guests": _("Danh sách người lưu trú (%(count)s người)"),
        "col_no": _("STT"),
        "col_name": _("Họ và tên"),
        "col_birth": _("Ngày sinh"),
        "col_doc": _("Giấy tờ"),
        "col_doc_no": _("Số giấy tờ"),
        "col_nationality": _("Quốc tịch"),
        "period": _("Thời gian lưu trú và thời hạn thông báo"),
        "arrived": words.arrived_at,
        "expected": words.expected_departure,
        "departed": words.departed_at,
        "deadline": _("Hạn thông báo"),
        "status": _("Tình trạng"),
        "on_time": _("Đúng hạn"),
        "late": _("Trễ hạn"),
        "no_deadline": _("Không áp dụng"),
        "undetermined": _("Chưa xác định"),
        "verify": _("Quét mã QR để xác minh biên nhận"),
        "footer_privacy": _(
            "Biên nhận có dữ liệu cá nhân, được bảo vệ theo pháp luật về bảo vệ dữ liệu cá nhân: "
            "chỉ dùng cho việc thông báo lưu trú, không sao chép hay cung cấp cho người không có thẩm quyền. "
            "Số giấy tờ đã được che một phần."
        ),
        "footer_time": _("Thời gian theo giờ Việt Nam (UTC+7), ngày dạng dd/mm/yyyy."),
        "page": _("Trang %(page)s/%(pages)s"),
        "check_in": words.check_in_event,
        "file": words.check_in_event,
        "extend": pgettext("event", "Gia hạn"),
        "move": words.move_event,
        "check_out": words.check_out_event,
        "cancel": pgettext("event", "Hủy thông báo"),
        "police_unit": _("Công an %(unit)s"),  # the police of the commune: a proper name, kept in English too
    }


def mask_document_number(number: str) -> str:
    """Keep an already masked number; otherwise show only its last 4 characters (defence in depth)."""
    number = nfc(number).strip()
    if not number or any(ch in number for ch in MASK_CHARS):
        return number
    keep = 4 if len(number) > 6 else 0
    return "*" * (len(number) - keep) + number[len(number) - keep :]


def build_receipt_pdf(data: ReceiptData, *, translations: Translator) -> bytes:
    """Render the receipt in the words of ``translations``; one A4 page for up to about 30 guests, more beyond."""
    if data.kind not in KINDS:
        raise ValueError(f"unknown receipt kind {data.kind!r}; expected one of {', '.join(KINDS)}")
    if len(data.guests) <= _ONE_PAGE_LIMIT:
        for table_size in _TABLE_SIZES:
            result, pages = _render(data, translations, table_size, pages=1)
            if pages == 1:
                return result
    # Too many guests for one page: readable rows over several pages; a first pass counts them.
    _, pages = _render(data, translations, _OVERFLOW_SIZE, pages=0)
    return _render(data, translations, _OVERFLOW_SIZE, pages=pages)[0]


def _render(
    data: ReceiptData, translations: Translator, table_size: tuple[float, float], *, pages: int
) -> tuple[bytes, int]:
    """One build; returns the PDF and its page count (``pages`` is only printed in the footer)."""
    words = labels(translations, data.establishment_type)
    font_size, padding = table_size
    styles = make_styles(table_size=font_size)
    buffer = io.BytesIO()
    doc = make_document(
        buffer,
        title=f"{words['title'].capitalize()} {data.receipt_no}",
        subject=words[data.kind],
        on_page=footer_painter(styles, [words["footer_privacy"], words["footer_time"]], words["page"], pages=pages),
    )
    width = CONTENT_WIDTH
    story: list[Flowable] = [
        _header(data, words, styles, width, translations),
        Spacer(1, 6 * mm),
        Paragraph(markup(words["title"]), styles.title),
        Paragraph(f"<b>{markup(words[data.kind])}</b>", styles.subtitle),
        Spacer(1, 4 * mm),
        _details(data, words, styles, width),
        Spacer(1, 2 * mm),
        _period_and_qr(data, words, styles, width),
        Paragraph(markup(words["guests"] % {"count": len(data.guests)}), styles.heading),
        # Last, so that a very large group only continues the table on the next pages.
        _guest_table(data.guests, words, styles, width, padding),
    ]
    doc.build(story)
    return buffer.getvalue(), doc.page


def _header(
    data: ReceiptData, labels: dict[str, str], styles: Styles, width: float, translations: Translator
) -> Flowable:
    unit = ParagraphStyle("receipt-unit", styles.normal, fontName=BOLD, fontSize=9.5, leading=12, alignment=TA_CENTER)
    number = ParagraphStyle("receipt-no", styles.normal, fontSize=9.5, leading=12, alignment=TA_CENTER)
    left: list[Flowable] = [
        Paragraph(markup(nfc(data.establishment_name).upper()), unit),
        Rule(24 * mm),
        Spacer(1, 2),
        Paragraph(markup(labels["doc_no"] % {"no": data.receipt_no}), number),
    ]
    return national_header(styles, translations, width=width, left=left)


def _cell(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text), style)


def _details(data: ReceiptData, labels: dict[str, str], styles: Styles, width: float) -> Table:
    label_style = ParagraphStyle(
        "receipt-label", styles.normal, fontSize=9, leading=11.5, textColor=colors.HexColor("#333333")
    )
    value_style = ParagraphStyle("receipt-value", styles.normal, fontSize=9, leading=11.5)
    bold_value = ParagraphStyle("receipt-value-bold", value_style, fontName=BOLD)

    def lab(key: str) -> Paragraph:
        return _cell(labels[key], label_style)

    def val(text: str | None, style: ParagraphStyle = value_style) -> Paragraph:
        return _cell(text if text else EMPTY, style)

    rows: list[list[Any]] = [
        [
            lab("receipt_no"),
            val(data.receipt_no, bold_value),
            lab("filed_at"),
            val(format_datetime(data.filed_at)),
        ],
        [lab("police"), val(labels["police_unit"] % {"unit": nfc(data.commune_name).strip()}, bold_value), "", ""],
        [lab("establishment"), val(data.establishment_name), lab("code"), val(data.establishment_code)],
        [lab("address"), val(data.establishment_address), "", ""],
        [lab("room"), val(data.room), lab("filed_by"), val(data.filed_by)],
        [lab("reason"), val(data.reason), "", ""],
    ]
    label_w = 35 * mm
    value_w = (width - 2 * label_w) / 2
    table = Table(rows, colWidths=[label_w, value_w + 6 * mm, label_w, value_w - 6 * mm])
    style = grid_table_style(padding=2.5, header_rows=0)
    style.add("BACKGROUND", (0, 0), (0, -1), LABEL_FILL)
    for row in (0, 2, 4):
        style.add("BACKGROUND", (2, row), (2, row), LABEL_FILL)
    for row in (1, 3, 5):  # values that take the whole line
        style.add("SPAN", (1, row), (3, row))
    table.setStyle(style)
    return table


def _guest_table(
    guests: Sequence[ReceiptGuest], labels: dict[str, str], styles: Styles, width: float, padding: float
) -> Table:
    head = styles.table_header
    body = styles.table
    centered = ParagraphStyle("receipt-center", body, alignment=TA_CENTER)
    right = ParagraphStyle("receipt-right", body, alignment=TA_RIGHT)
    rows: list[list[Paragraph]] = [
        [
            _cell(labels[key], head)
            for key in ("col_no", "col_name", "col_birth", "col_doc", "col_doc_no", "col_nationality")
        ]
    ]
    for index, guest in enumerate(guests, start=1):
        rows.append(
            [
                _cell(str(index), right),
                _cell(guest.full_name, body),
                _cell(format_date(guest.birth_date) if guest.birth_date else EMPTY, centered),
                _cell(guest.document_label or EMPTY, centered),
                _cell(mask_document_number(guest.document_number_masked) or EMPTY, centered),
                _cell(guest.nationality or EMPTY, body),
            ]
        )
    fixed = [9 * mm, 62 * mm, 22 * mm, 22 * mm, 31 * mm]
    table = Table(rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=padding))
    return table


def _period_and_qr(data: ReceiptData, labels: dict[str, str], styles: Styles, width: float) -> Flowable:
    label_style = ParagraphStyle(
        "receipt-plabel", styles.normal, fontSize=9, leading=11.5, textColor=colors.HexColor("#333333")
    )
    value_style = ParagraphStyle("receipt-pvalue", styles.normal, fontSize=9, leading=11.5)

    rows: list[list[Paragraph]] = [
        [_cell(labels["arrived"], label_style), _cell(format_datetime(data.arrived_at), value_style)],
        [
            _cell(labels["expected"], label_style),
            _cell(format_date(data.expected_departure) if data.expected_departure else EMPTY, value_style),
        ],
    ]
    if data.departed_at is not None:
        rows.append([_cell(labels["departed"], label_style), _cell(format_datetime(data.departed_at), value_style)])
    deadline = format_datetime(data.deadline_at) if data.deadline_at is not None else labels["no_deadline"]
    rows.append([_cell(labels["deadline"], label_style), _cell(deadline, value_style)])
    if data.on_time is None:
        status_text = labels["no_deadline"] if data.deadline_at is None else labels["undetermined"]
        status_style = value_style
    else:
        status_text = labels["on_time"] if data.on_time else labels["late"]
        status_style = ParagraphStyle(
            "receipt-status",
            value_style,
            fontName=BOLD,
            textColor=ON_TIME_COLOR if data.on_time else LATE_COLOR,
        )
    rows.append([_cell(labels["status"], label_style), _cell(status_text, status_style)])

    qr_size = 30 * mm
    right_w = 52 * mm
    left_w = width - right_w - 6 * mm
    period = Table(rows, colWidths=[42 * mm, left_w - 42 * mm])
    period_style = grid_table_style(padding=2.5, header_rows=0)
    period_style.add("BACKGROUND", (0, 0), (0, -1), LABEL_FILL)
    period.setStyle(period_style)
    left: list[Flowable] = [Paragraph(markup(labels["period"]), styles.heading), period]

    right: list[Flowable] = []
    if data.verify_url:
        caption = ParagraphStyle("receipt-qr", styles.small, alignment=TA_CENTER)
        qr = QrCode(data.verify_url, qr_size)
        qr.hAlign = "CENTER"
        right = [Spacer(1, 4 * mm), qr, Paragraph(markup(labels["verify"]), caption)]

    block = Table([[left, right]], colWidths=[left_w + 6 * mm, right_w])
    block.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 6 * mm),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return block


__all__ = [
    "KINDS",
    "ReceiptData",
    "ReceiptGuest",
    "build_receipt_pdf",
    "labels",
    "mask_document_number",
]
