"""Printable papers of a hospital: the carer card (thẻ người chăm sóc) and the census of a ward for a day.

Pure builders: plain data in, PDF bytes out; no Flask, no database. Times arrive UTC-aware and are printed in
Asia/Ho_Chi_Minh.
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
    EMPTY,
    QrCode,
    footer_painter,
    format_date,
    format_datetime,
    grid_table_style,
    make_document,
    make_styles,
    markup,
    national_header,
)
from asm.pdf.fonts import BOLD
from asm.trades import place

CARD_WIDTH = 86 * mm  # an ID-1 card is 85.6 × 54 mm; this one is taller, to hold the QR
CARD_BORDER = colors.HexColor("#0b3d6e")


@dataclass(frozen=True)
class CarerCardData:
    hospital_name: str
    carer_name: str
    document_masked: str
    relation: str
    patient_name: str
    ward: str
    bed: str
    valid_from: datetime  # UTC-aware
    lookup_url: str  # drawn as the QR code
    card_no: str  # short number printed under the QR


@dataclass(frozen=True)
class CensusCarerLine:
    full_name: str
    relation: str
    document: str


@dataclass(frozen=True)
class CensusLine:
    bed: str
    room: str
    full_name: str
    birth_date: date
    document: str
    admitted_at: datetime
    in_bed_from: datetime
    in_bed_until: datetime | None
    carers: list[CensusCarerLine]


@dataclass(frozen=True)
class CensusData:
    hospital_name: str
    hospital_address: str
    ward_code: str
    ward_name: str
    day: date
    beds: int
    lines: list[CensusLine]
    printed_at: datetime  # UTC-aware


def labels(translations: Translator) -> dict[str, str]:
    """The words of the carer card and the census, from the catalogue, by key."""
    _, pgettext = translations.gettext, translations.pgettext
    return {
        "card_title": _("THẺ NGƯỜI CHĂM SÓC NGƯỜI BỆNH"),
        "carer": _("Người chăm sóc"),
        "document": _("Giấy tờ"),
        "relation": _("Quan hệ"),
        "patient": _("Chăm sóc người bệnh"),
        "place": _("Khoa / giường"),
        "valid_from": _("Từ"),
        "card_note": _("Xuất trình thẻ khi nhân viên yêu cầu. Trả thẻ khi thôi chăm sóc."),
        "card_no": _("Số thẻ: %(no)s"),
        "census_title": _("DANH SÁCH NGƯỜI BỆNH VÀ NGƯỜI CHĂM SÓC"),
        "census_sub": _("Khoa %(ward)s · Ngày %(day)s · %(n)s/%(beds)s giường có người bệnh trong ngày"),
        "col_bed": _("Giường"),
        "col_patient": _("Người bệnh"),
        "col_birth": _("Ngày sinh"),
        "col_doc": _("Số giấy tờ"),
        "col_period": _("Nằm giường"),
        "col_carers": pgettext("census", "Người chăm sóc"),
        "until_now": _("nay"),
        "empty": _("Không có người bệnh nào trong ngày."),
        "footer_privacy": _(
            "Tài liệu có dữ liệu cá nhân được pháp luật bảo vệ: chỉ dùng cho quản lý người bệnh và thông báo "
            "lưu trú, không sao chép hay cung cấp cho người không có thẩm quyền. Số giấy tờ được che một phần."
        ),
        "footer_time": _("Giờ Việt Nam (UTC+7); ngày dạng dd/mm/yyyy. In lúc %(at)s."),
        "page": _("Trang %(page)s"),
    }


def build_carer_card_pdf(data: CarerCardData, *, translations: Translator) -> bytes:
    """One card at the top of an A4 page, with cut lines: name, patient, bed and a QR staff scan to look it up."""
    words = labels(translations)
    styles = make_styles()
    buffer = io.BytesIO()
    doc = make_document(
        buffer,
        title=f"{words['card_title']} {data.card_no}",
        on_page=lambda canvas, doc: None,
        subject=data.carer_name,
    )
    head = ParagraphStyle("card-head", styles.normal, fontName=BOLD, fontSize=8, leading=10, alignment=TA_CENTER)
    title = ParagraphStyle("card-title", styles.normal, fontName=BOLD, fontSize=10, leading=12.5, alignment=TA_CENTER)
    name = ParagraphStyle("card-name", styles.normal, fontName=BOLD, fontSize=12, leading=15, alignment=TA_CENTER)
    small = ParagraphStyle("card-small", styles.small, fontSize=7, leading=8.5, alignment=TA_CENTER)
    cell = ParagraphStyle("card-cell", styles.normal, fontSize=8, leading=10)
    label = ParagraphStyle("card-label", cell, textColor=colors.HexColor("#555555"))

    facts = Table(
        [
            [Paragraph(markup(words[key]), label), Paragraph(markup(value or EMPTY), cell)]
            for key, value in (
                ("document", data.document_masked),
                ("relation", data.relation),
                ("patient", data.patient_name),
                ("place", f"{data.ward} · {data.bed}"),
                ("valid_from", format_datetime(data.valid_from)),
            )
        ],
        colWidths=[24 * mm, CARD_WIDTH - 8 * mm - 24 * mm],
    )
    facts.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    qr = QrCode(data.lookup_url, 30 * mm)
    qr.hAlign = "CENTER"
    inner: list[Flowable] = [
        Paragraph(markup(data.hospital_name.upper()), head),
        Paragraph(markup(words["card_title"]), title),
        Spacer(1, 2 * mm),
        Paragraph(markup(data.carer_name), name),
        Spacer(1, 2 * mm),
        facts,
        Spacer(1, 1 * mm),
        qr,
        Paragraph(markup(words["card_no"] % {"no": data.card_no}), small),
        Paragraph(markup(words["card_note"]), small),
    ]
    card = Table([[inner]], colWidths=[CARD_WIDTH])
    card.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, CARD_BORDER),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    card.hAlign = "LEFT"
    doc.build([card])
    return buffer.getvalue()


def build_census_pdf(data: CensusData, *, translations: Translator) -> bytes:
    """The ward census of a day: one row per bed held (a transfer shows as two rows), carers under the patient."""
    words = labels(translations)
    styles = make_styles(table_size=8)
    buffer = io.BytesIO()
    footer = [words["footer_privacy"], words["footer_time"] % {"at": format_datetime(data.printed_at)}]
    doc = make_document(
        buffer,
        title=f"{words['census_title']} {data.ward_code} {format_date(data.day)}",
        on_page=footer_painter(styles, footer, words["page"]),
    )
    unit = ParagraphStyle("census-unit", styles.normal, fontName=BOLD, fontSize=9.5, leading=12, alignment=TA_CENTER)
    left: list[Flowable] = [
        Paragraph(markup(data.hospital_name.upper()), unit),
        Paragraph(
            markup(f"{data.ward_code} · {data.ward_name}"),
            ParagraphStyle("census-ward", unit, fontName=styles.normal.fontName),
        ),
    ]
    held = len({line.bed for line in data.lines})
    story: list[Flowable] = [
        national_header(styles, translations, left=left),
        Spacer(1, 6 * mm),
        Paragraph(markup(words["census_title"]), styles.title),
        Paragraph(
            markup(
                words["census_sub"]
                % {
                    "ward": f"{data.ward_code} · {data.ward_name}",
                    "day": format_date(data.day),
                    "n": held,
                    "beds": data.beds,
                }
            ),
            styles.subtitle,
        ),
        Spacer(1, 4 * mm),
    ]
    if not data.lines:
        story.append(Paragraph(markup(words["empty"]), styles.normal))
    else:
        story.append(_census_table(data, words, styles))
    doc.build(story)
    return buffer.getvalue()


def _census_table(data: CensusData, labels: dict[str, str], styles) -> Table:  # type: ignore[no-untyped-def]
    head, body = styles.table_header, styles.table
    rows: list[list[Paragraph]] = [
        [
            Paragraph(markup(labels[k]), head)
            for k in ("col_bed", "col_patient", "col_birth", "col_doc", "col_period", "col_carers")
        ]
    ]
    for line in data.lines:
        until = format_datetime(line.in_bed_until) if line.in_bed_until else labels["until_now"]
        carers = "<br/>".join(markup(f"{c.full_name} ({c.relation}) · {c.document}") for c in line.carers) or EMPTY
        rows.append(
            [
                Paragraph("<br/>".join(markup(name) for name in place(line.bed, line.room).split(" · ")), body),
                Paragraph(markup(line.full_name), body),
                Paragraph(markup(format_date(line.birth_date)), body),
                Paragraph(markup(line.document), body),
                Paragraph(markup(f"{format_datetime(line.in_bed_from)} → {until}"), body),
                Paragraph(carers, body),
            ]
        )
    fixed = [22 * mm, 38 * mm, 19 * mm, 24 * mm, 34 * mm]
    table = Table(rows, colWidths=[*fixed, CONTENT_WIDTH - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=2))
    return table
