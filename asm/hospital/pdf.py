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
    normalize_locale,
)
from asm.pdf.fonts import BOLD

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


LABELS = {
    "vi": {
        "card_title": "THẺ NGƯỜI CHĂM SÓC NGƯỜI BỆNH",
        "carer": "Người chăm sóc",
        "document": "Giấy tờ",
        "relation": "Quan hệ",
        "patient": "Chăm sóc người bệnh",
        "place": "Khoa / giường",
        "valid_from": "Từ",
        "card_note": "Xuất trình thẻ khi nhân viên yêu cầu. Trả thẻ khi thôi chăm sóc.",
        "card_no": "Số thẻ",
        "census_title": "DANH SÁCH NGƯỜI BỆNH VÀ NGƯỜI CHĂM SÓC",
        "census_sub": "Khoa {ward} · Ngày {day} · {n}/{beds} giường có người bệnh trong ngày",
        "col_bed": "Giường",
        "col_patient": "Người bệnh",
        "col_birth": "Ngày sinh",
        "col_doc": "Số giấy tờ",
        "col_period": "Nằm giường",
        "col_carers": "Người chăm sóc",
        "until_now": "nay",
        "empty": "Không có người bệnh nào trong ngày.",
        "footer_privacy": (
            "Tài liệu có dữ liệu cá nhân được pháp luật bảo vệ: chỉ dùng cho quản lý người bệnh và thông báo "
            "lưu trú, không sao chép hay cung cấp cho người không có thẩm quyền. Số giấy tờ được che một phần."
        ),
        "footer_time": "Giờ Việt Nam (UTC+7); ngày dạng dd/mm/yyyy. In lúc {at}.",
        "page": "Trang {page}",
    },
    "en": {
        "card_title": "PATIENT CARER CARD",
        "carer": "Carer",
        "document": "Document",
        "relation": "Relation",
        "patient": "Caring for",
        "place": "Ward / bed",
        "valid_from": "From",
        "card_note": "Show this card when staff ask. Hand it back when you stop caring.",
        "card_no": "Card no.",
        "census_title": "CENSUS OF PATIENTS AND CARERS",
        "census_sub": "Ward {ward} · {day} · {n}/{beds} beds held a patient during the day",
        "col_bed": "Bed",
        "col_patient": "Patient",
        "col_birth": "Date of birth",
        "col_doc": "Document no.",
        "col_period": "In bed",
        "col_carers": "Carers",
        "until_now": "now",
        "empty": "No patient during the day.",
        "footer_privacy": (
            "This document holds personal data protected by law: use it only for patient management and stay "
            "notification; do not copy it or give it to anyone not entitled to it. Document numbers are masked."
        ),
        "footer_time": "Vietnam time (UTC+7); dates as dd/mm/yyyy. Printed {at}.",
        "page": "Page {page}",
    },
}


def build_carer_card_pdf(data: CarerCardData, *, locale: str = "vi") -> bytes:
    """One card at the top of an A4 page, with cut lines: name, patient, bed and a QR staff scan to look it up."""
    labels = LABELS[normalize_locale(locale)]
    styles = make_styles()
    buffer = io.BytesIO()
    doc = make_document(
        buffer,
        title=f"{labels['card_title']} {data.card_no}",
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
            [Paragraph(markup(labels[key]), label), Paragraph(markup(value or EMPTY), cell)]
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
        Paragraph(markup(labels["card_title"]), title),
        Spacer(1, 2 * mm),
        Paragraph(markup(data.carer_name), name),
        Spacer(1, 2 * mm),
        facts,
        Spacer(1, 1 * mm),
        qr,
        Paragraph(markup(f"{labels['card_no']}: {data.card_no}"), small),
        Paragraph(markup(labels["card_note"]), small),
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


def build_census_pdf(data: CensusData, *, locale: str = "vi") -> bytes:
    """The ward census of a day: one row per bed held (a transfer shows as two rows), carers under the patient."""
    lang = normalize_locale(locale)
    labels = LABELS[lang]
    styles = make_styles(table_size=8)
    buffer = io.BytesIO()
    footer = [labels["footer_privacy"], labels["footer_time"].format(at=format_datetime(data.printed_at))]
    doc = make_document(
        buffer,
        title=f"{labels['census_title']} {data.ward_code} {format_date(data.day)}",
        on_page=footer_painter(styles, footer, labels["page"]),
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
        national_header(styles, locale=lang, left=left),
        Spacer(1, 6 * mm),
        Paragraph(markup(labels["census_title"]), styles.title),
        Paragraph(
            markup(
                labels["census_sub"].format(
                    ward=f"{data.ward_code} · {data.ward_name}", day=format_date(data.day), n=held, beds=data.beds
                )
            ),
            styles.subtitle,
        ),
        Spacer(1, 4 * mm),
    ]
    if not data.lines:
        story.append(Paragraph(markup(labels["empty"]), styles.normal))
    else:
        story.append(_census_table(data, labels, styles))
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
                Paragraph(markup(f"{line.bed}\n{line.room}").replace("\n", "<br/>"), body),
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
