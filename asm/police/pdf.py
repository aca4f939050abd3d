"""Police compliance reports as PDF (pure: no Flask, no database): per establishment, per commune, and the stay
register (sổ lưu trú) of a period.

All three carry the national header, the police unit, the date and a signature block, in DejaVu Sans so the
Vietnamese text renders and can be extracted again. The establishment and commune reports are platypus stories
(their size is bounded by the number of problems and establishments). The register can hold tens of thousands of
stays: `write_register_pdf` draws its rows straight on the canvas as they arrive from an iterator, so rows are
never gathered in a list, and reports progress as it goes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from asm.i18n import Translator
from asm.pdf.common import (
    CONTENT_WIDTH,
    EMPTY,
    MARGIN,
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
from asm.pdf.fonts import BOLD, REGULAR, register_fonts
from asm.police.fines import LEGAL_BASIS, Bracket, Exposure, format_vnd
from asm.trades import Words, place, trade_words

BAR_COLOR = colors.HexColor("#0b5cad")
LATE_COLOR = colors.HexColor("#b3261e")


# --- data ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportHeader:
    unit_lines: Sequence[str]  # e.g. ("Công an Thành phố Hà Nội", "Công an Phường Ba Đình"), printed in capitals
    place: str  # for "Hà Nội, ngày … tháng … năm …"
    generated_at: datetime  # UTC-aware
    period_from: date
    period_to: date
    author: str  # who generated the report (signs as "người lập")
    doc_no: str = ""


@dataclass(frozen=True)
class LateRow:
    full_name: str
    doc_number: str
    arrived_at: datetime
    deadline_at: datetime
    filed_at: datetime | None  # None: never filed


@dataclass(frozen=True)
class CheckoutRow:
    full_name: str
    doc_number: str
    arrived_at: datetime
    expected_departure: date | None
    room: str | None


@dataclass(frozen=True)
class ForeignCompliance:
    """Foreigners' temporary-residence declarations (asm/foreigners): a separate duty, with its own fine line."""

    due: int
    on_time: int
    late: int
    missing: int  # not declared, deadline passed
    pending: int
    exposure: Exposure
    brackets: Sequence[Bracket] = ()
    legal_basis: str = ""
    confirmed: bool = False  # the fine brackets were set from the decree's text (else: placeholders, unconfirmed)


@dataclass(frozen=True)
class Compliance:
    due: int  # notifications due in the period: filed, or not filed with the deadline passed
    on_time: int
    late: int
    missing: int  # not filed, deadline passed
    pending: int  # not filed, deadline ahead
    missing_checkouts: int
    exposure: Exposure
    foreign: ForeignCompliance | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class EstablishmentReportData:
    header: ReportHeader
    establishment_name: str
    establishment_code: str
    establishment_type: str
    establishment_address: str
    commune_name: str
    compliance: Compliance
    late: Sequence[LateRow]  # filed late, and never filed: the delay column says which
    checkouts: Sequence[CheckoutRow]
    brackets: Sequence[Bracket]
    trade_type: str | None = None  # the establishment's type: its trade's words (asm/trades.py)


@dataclass(frozen=True)
class EstablishmentLine:
    code: str
    name: str
    type_label: str
    compliance: Compliance


@dataclass(frozen=True)
class CommuneReportData:
    header: ReportHeader
    area_name: str  # "Phường Ba Đình, Thành phố Hà Nội"
    establishments: Sequence[EstablishmentLine]  # in table order (by name)
    daily_arrivals: Sequence[tuple[date, int]]
    brackets: Sequence[Bracket]
    silent: Sequence[str] = field(default_factory=tuple)  # names of establishments that filed nothing


@dataclass(frozen=True)
class RegisterRow:
    full_name: str
    birth_date: date | None
    sex: str
    nationality: str
    doc_number: str
    establishment: str
    room: str | None
    arrived_at: datetime
    departed_at: datetime | None
    filed_at: datetime | None
    reason: str


@dataclass(frozen=True)
class RegisterData:
    header: ReportHeader
    area_name: str
    rows: Sequence[RegisterRow]


# --- labels ---------------------------------------------------------------------------------------------------


def labels(translations: Translator, establishment_type: str | None = None) -> dict[str, str]:
    """The reports' words, from the catalogue, by key; the words of one establishment's trade (asm/trades.py), or
    words that suit every trade for a report of several."""
    return _labels(translations) | _trade_labels(trade_words(establishment_type, translations))


def _trade_labels(words: Words) -> dict[str, str]:
    return {
        "checkouts": words.not_checked_out_long,
        "checkout_list": words.not_checked_out_list,
        "col_expected": words.expected_departure,
        "col_room": words.place,
        "col_checkouts": words.not_checked_out,
        "col_in": words.arrived,
        "col_out": words.departed,
    }


def _labels(translations: Translator) -> dict[str, str]:
    _, pgettext = translations.gettext, translations.pgettext
    return {
        "est_title": _("BÁO CÁO TÌNH HÌNH CHẤP HÀNH THÔNG BÁO LƯU TRÚ"),
        "commune_title": _("BÁO CÁO TỔNG HỢP THÔNG BÁO LƯU TRÚ TRÊN ĐỊA BÀN"),
        "register_title": _("SỔ LƯU TRÚ"),
        "period": _("Từ ngày %(start)s đến ngày %(end)s"),
        "area": _("Địa bàn: %(area)s"),
        "establishment": pgettext("report", "Cơ sở"),
        "code": _("Mã cơ sở"),
        "type": _("Loại hình"),
        "address": _("Địa chỉ"),
        "police": _("Công an quản lý"),
        "police_unit": _("Công an %(unit)s"),
        "doc_no": _("Số: %(no)s"),
        "legal_basis": _(LEGAL_BASIS),
        "summary": _("I. Tổng hợp"),
        "due": _("Số thông báo phải thực hiện"),
        "on_time": _("Đúng hạn"),
        "late": _("Trễ hạn"),
        "missing": _("Không thông báo (quá hạn)"),
        "pending": _("Chưa đến hạn"),
        "share": _("Tỷ lệ đúng hạn"),
        "late_list": _("II. Các thông báo trễ hạn hoặc không thông báo (%(n)s)"),
        "foreign_fines": _("Khai báo tạm trú cho người nước ngoài"),
        "foreign_counts": _(
            "Phải khai báo: %(due)s; đúng hạn: %(on_time)s; trễ hạn: %(late)s; không khai báo (quá hạn): "
            "%(missing)s; chưa đến hạn: %(pending)s."
        ),
        "foreign_note": _(
            "Vi phạm riêng, tính riêng với thông báo lưu trú. Căn cứ: %(basis)s. Mỗi lần khai báo (một người hoặc "
            "một nhóm nhận phòng cùng lúc) trễ hạn hoặc không thực hiện là một vi phạm."
        ),
        "unconfirmed": _("Mức phạt chưa được xác minh với văn bản nghị định (cấu hình FOREIGN_FINE_BRACKETS)."),
        "fines": _("IV. Mức phạt có thể áp dụng"),
        "fines_note": _(
            "Theo %(basis)s: cơ sở không thông báo lưu trú bị phạt theo số người không được thông báo; "
            "tổ chức bị phạt gấp %(factor)s lần. Mỗi lần thông báo (một người hoặc một nhóm khai báo cùng lúc) "
            "trễ hạn hoặc không thực hiện được tính là một vi phạm; số người của vi phạm là số người trong lần đó "
            "bị trễ hoặc không thông báo. Đây là mức có thể áp dụng, không phải quyết định xử phạt."
        ),
        "bracket": _("%(lo)s–%(hi)s người"),
        "bracket_open": _("từ %(lo)s người"),
        "violations": _("Số vi phạm"),
        "guests": _("Số người liên quan"),
        "individual": _("Cá nhân (hộ kinh doanh)"),
        "organisation": _("Tổ chức"),
        "range": _("%(lo)s – %(hi)s đồng"),
        "col_no": _("STT"),
        "col_name": _("Họ và tên"),
        "col_doc": _("Số giấy tờ"),
        "col_arrived": _("Thời gian đến"),
        "col_deadline": _("Hạn thông báo"),
        "col_filed": _("Thời gian thông báo"),
        "col_notified": _("Lúc thông báo"),
        "col_delay": pgettext("delay", "Trễ"),
        "not_filed": _("Chưa thông báo"),
        "none": _("Không có."),
        "table": _("I. Tình hình theo cơ sở (%(n)s cơ sở)"),
        "ranking": _("II. Xếp hạng: các cơ sở trễ hạn nhiều nhất"),
        "charts": _("III. Biểu đồ"),
        "chart_late": _("Số thông báo trễ hoặc không thông báo, theo thứ hạng cơ sở"),
        "chart_daily": _("Số lượt đến mỗi ngày"),
        "silent": _("Cơ sở không có thông báo nào trong kỳ (%(n)s)"),
        "total_row": _("Tổng cộng"),
        "col_due": _("Phải TB"),
        "col_on_time": _("Đúng hạn"),
        "col_late": _("Trễ"),
        "col_missing": _("Không TB"),
        "col_share": _("Tỷ lệ đúng hạn"),
        "col_fine": _("Mức phạt (cá nhân, đồng)"),
        "col_rank": _("Hạng"),
        "col_bad": _("Trễ + không TB"),
        "col_birth": _("Ngày sinh"),
        "col_sex": _("Giới tính"),
        "col_nat": _("Quốc tịch"),
        "col_est": pgettext("report", "Cơ sở"),
        "col_reason": _("Lý do"),
        "register_total": _("Tổng số: %(n)s lượt lưu trú."),
        "place_date": _("%(place)s, ngày %(day)s tháng %(month)s năm %(year)s"),
        "author_title": _("NGƯỜI LẬP BÁO CÁO"),
        "chief_title": _("THỦ TRƯỞNG ĐƠN VỊ"),
        "sign": _("(Ký, ghi rõ họ tên)"),
        "sign_seal": _("(Ký tên, đóng dấu)"),
        "generated": _("Lập lúc %(at)s"),
        "footer_privacy": _(
            "Tài liệu có dữ liệu cá nhân, được bảo vệ theo pháp luật về bảo vệ dữ liệu cá nhân: chỉ dùng cho "
            "công tác quản lý lưu trú; không sao chép hay cung cấp cho người không có thẩm quyền."
        ),
        "footer_time": _("Thời gian theo giờ Việt Nam (UTC+7), ngày dạng dd/mm/yyyy."),
        "page": _("Trang %(page)s/%(pages)s"),
        "page_only": _("Trang %(page)s"),
        "minutes": _("%(m)s phút"),
        "hours": _("%(h)s giờ %(m)s phút"),
        "days": _("%(d)s ngày %(h)s giờ"),
        "sex_M": _("Nam"),
        "sex_F": _("Nữ"),
    }


# --- shared pieces ------------------------------------------------------------------------------------------


def format_delay(minutes: int, labels: dict[str, str]) -> str:
    minutes = max(0, minutes)
    if minutes < 60:
        return labels["minutes"] % {"m": minutes}
    if minutes < 24 * 60:
        return labels["hours"] % {"h": minutes // 60, "m": minutes % 60}
    return labels["days"] % {"d": minutes // (24 * 60), "h": (minutes // 60) % 24}


def delay_minutes(deadline_at: datetime, filed_at: datetime) -> int:
    return int((filed_at - deadline_at).total_seconds() // 60)


def format_share(share: float | None) -> str:
    return EMPTY if share is None else f"{share * 100:.1f}%".replace(".", ",")


def _header_block(header: ReportHeader, styles: Styles, translations: Translator, width: float) -> Flowable:
    unit = ParagraphStyle("police-unit", styles.normal, fontName=BOLD, fontSize=9.5, leading=12, alignment=TA_CENTER)
    plain = ParagraphStyle("police-unit-top", unit, fontName=REGULAR)
    number = ParagraphStyle("police-no", styles.normal, fontSize=9.5, leading=12, alignment=TA_CENTER)
    lines = [nfc(line).upper() for line in header.unit_lines]
    left: list[Flowable] = [Paragraph(markup(line), plain) for line in lines[:-1]]
    left += [Paragraph(markup(lines[-1]), unit), Rule(24 * mm), Spacer(1, 2)]
    if header.doc_no:
        left.append(Paragraph(markup(labels(translations)["doc_no"] % {"no": header.doc_no}), number))
    return national_header(styles, translations, width=width, left=left)


def _title_block(title: str, subtitle_lines: Sequence[str], styles: Styles) -> list[Flowable]:
    flow: list[Flowable] = [Spacer(1, 5 * mm), Paragraph(markup(title), styles.title)]
    flow += [Paragraph(markup(line), styles.subtitle) for line in subtitle_lines]
    flow.append(Spacer(1, 4 * mm))
    return flow


def _place_date(header: ReportHeader, labels: dict[str, str]) -> str:
    local = header.generated_at.astimezone(_vn())
    return labels["place_date"] % {
        "place": nfc(header.place),
        "day": f"{local.day:02d}",
        "month": f"{local.month:02d}",
        "year": local.year,
    }


def _vn():  # type: ignore[no-untyped-def]
    from asm.pdf.common import local_tz

    return local_tz()


def signature_block(header: ReportHeader, labels: dict[str, str], styles: Styles, width: float) -> list[Flowable]:
    """Right: place and date, "người lập", the author's name; left: the head of the unit (signature and seal)."""
    center = ParagraphStyle("police-sign", styles.normal, alignment=TA_CENTER)
    bold = ParagraphStyle("police-sign-b", center, fontName=BOLD)
    italic = ParagraphStyle("police-sign-i", center, fontSize=8.5, textColor=colors.HexColor("#444444"))
    left = [Paragraph("&nbsp;", center), Paragraph(markup(labels["chief_title"]), bold)]
    left += [Paragraph(markup(labels["sign_seal"]), italic)]
    right = [
        Paragraph(f"<i>{markup(_place_date(header, labels))}</i>", center),
        Paragraph(markup(labels["author_title"]), bold),
        Paragraph(markup(labels["sign"]), italic),
        Spacer(1, 18 * mm),
        Paragraph(f"<b>{markup(header.author)}</b>", center),
    ]
    table = Table([[left, right]], colWidths=[width / 2, width / 2])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Spacer(1, 6 * mm), table]


def _cell(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text), style)


def _facts_table(rows: Sequence[tuple[str, str]], styles: Styles, width: float) -> Table:
    label = ParagraphStyle("police-fact-l", styles.normal, fontSize=9, leading=11.5)
    value = ParagraphStyle("police-fact-v", label, fontName=BOLD)
    table = Table([[_cell(k, label), _cell(v, value)] for k, v in rows], colWidths=[width * 0.55, width * 0.45])
    style = grid_table_style(padding=2.5, header_rows=0)
    style.add("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f5f8"))
    table.setStyle(style)
    return table


def _compliance_rows(c: Compliance, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (labels["due"], str(c.due)),
        (labels["on_time"], str(c.on_time)),
        (labels["late"], str(c.late)),
        (labels["missing"], str(c.missing)),
        (labels["pending"], str(c.pending)),
        (labels["share"], format_share(c.on_time_share)),
        (labels["checkouts"], str(c.missing_checkouts)),
    ]


def _fines_block(
    exposure: Exposure, brackets: Sequence[Bracket], labels: dict[str, str], styles: Styles, width: float
) -> list[Flowable]:
    note = ParagraphStyle("police-note", styles.normal, fontSize=8.5, leading=11)
    flow: list[Flowable] = [
        Paragraph(markup(labels["fines"]), styles.heading),
        Paragraph(markup(labels["fines_note"] % {"basis": labels["legal_basis"], "factor": exposure.factor}), note),
        Spacer(1, 2 * mm),
    ]
    head, body = styles.table_header, styles.table
    bracket_rows = [
        [_cell(labels["guests"], head), _cell(labels["individual"], head), _cell(labels["organisation"], head)]
    ]
    for b in brackets:
        who = (
            labels["bracket"] % {"lo": b.min_guests, "hi": b.max_guests}
            if b.max_guests is not None
            else labels["bracket_open"] % {"lo": b.min_guests}
        )
        bracket_rows.append(
            [
                _cell(who, body),
                _cell(labels["range"] % {"lo": format_vnd(b.min_vnd), "hi": format_vnd(b.max_vnd)}, body),
                _cell(
                    labels["range"]
                    % {"lo": format_vnd(b.min_vnd * exposure.factor), "hi": format_vnd(b.max_vnd * exposure.factor)},
                    body,
                ),
            ]
        )
    brackets_table = Table(bracket_rows, colWidths=[width * 0.3, width * 0.35, width * 0.35])
    brackets_table.setStyle(grid_table_style(padding=2))
    flow += [brackets_table, Spacer(1, 2 * mm)]
    flow.append(
        _facts_table(
            [
                (labels["violations"], str(exposure.violations)),
                (labels["guests"], str(exposure.guests)),
                (
                    labels["individual"],
                    labels["range"] % {"lo": format_vnd(exposure.min_vnd), "hi": format_vnd(exposure.max_vnd)},
                ),
                (
                    labels["organisation"],
                    labels["range"]
                    % {
                        "lo": format_vnd(exposure.organisation_min_vnd),
                        "hi": format_vnd(exposure.organisation_max_vnd),
                    },
                ),
            ],
            styles,
            width,
        )
    )
    return flow


def _foreign_block(foreign: ForeignCompliance, labels: dict[str, str], styles: Styles, width: float) -> list[Flowable]:
    """The foreigners' declarations: their own counts and fine exposure line, with the basis that sets it."""
    note = ParagraphStyle("police-note", styles.normal, fontSize=8.5, leading=11)
    exposure = foreign.exposure
    counts = labels["foreign_counts"] % {
        "due": foreign.due,
        "on_time": foreign.on_time,
        "late": foreign.late,
        "missing": foreign.missing,
        "pending": foreign.pending,
    }
    flow: list[Flowable] = [
        Spacer(1, 3 * mm),
        Paragraph(markup(labels["foreign_fines"]), styles.heading),
        Paragraph(markup(counts), note),
        Paragraph(markup(labels["foreign_note"] % {"basis": foreign.legal_basis}), note),
    ]
    if not foreign.confirmed:
        flow.append(Paragraph(f"<b>{markup(labels['unconfirmed'])}</b>", note))
    flow.append(
        _facts_table(
            [
                (labels["violations"], str(exposure.violations)),
                (labels["guests"], str(exposure.guests)),
                (
                    labels["individual"],
                    labels["range"] % {"lo": format_vnd(exposure.min_vnd), "hi": format_vnd(exposure.max_vnd)},
                ),
                (
                    labels["organisation"],
                    labels["range"]
                    % {
                        "lo": format_vnd(exposure.organisation_min_vnd),
                        "hi": format_vnd(exposure.organisation_max_vnd),
                    },
                ),
            ],
            styles,
            width,
        )
    )
    return flow


def _story_pdf(make_story: Callable[[], list[Flowable]], title: str, labels: dict[str, str], styles: Styles) -> bytes:
    """Build twice (flowables are used up by a build): the first pass counts the pages for "Trang n/N"."""
    pages = 0
    result = b""
    for _ in range(2):
        buffer = io.BytesIO()
        doc = make_document(
            buffer,
            title=title,
            on_page=footer_painter(
                styles, [labels["footer_privacy"], labels["footer_time"]], labels["page"], pages=pages
            ),
        )
        doc.build(make_story())
        pages, result = doc.page, buffer.getvalue()
    return result


# --- per establishment ----------------------------------------------------------------------------------------


def build_establishment_report_pdf(data: EstablishmentReportData, *, translations: Translator) -> bytes:
    words = labels(translations, data.trade_type)
    styles = make_styles(table_size=8)
    title = f"{words['est_title'].capitalize()} {data.establishment_code}"
    return _story_pdf(lambda: _establishment_story(data, translations, words, styles), title, words, styles)


def _establishment_story(
    data: EstablishmentReportData, translations: Translator, labels: dict[str, str], styles: Styles
) -> list[Flowable]:
    width = CONTENT_WIDTH
    h = data.header
    story: list[Flowable] = [_header_block(h, styles, translations, width)]
    story += _title_block(
        labels["est_title"],
        [
            labels["period"] % {"start": format_date(h.period_from), "end": format_date(h.period_to)},
            f"{data.establishment_name} ({data.establishment_code})",
        ],
        styles,
    )
    story.append(
        _facts_table(
            [
                (labels["establishment"], data.establishment_name),
                (labels["code"], data.establishment_code),
                (labels["type"], data.establishment_type),
                (labels["address"], data.establishment_address),
                (labels["police"], labels["police_unit"] % {"unit": data.commune_name}),
            ],
            styles,
            width,
        )
    )
    story += [
        Paragraph(markup(labels["summary"]), styles.heading),
        _facts_table(_compliance_rows(data.compliance, labels), styles, width),
    ]
    story.append(Paragraph(markup(labels["late_list"] % {"n": len(data.late)}), styles.heading))
    story.append(_late_table(data.late, labels, styles, width))
    story.append(Paragraph(markup(labels["checkout_list"] % {"n": len(data.checkouts)}), styles.heading))
    story.append(_checkout_table(data.checkouts, labels, styles, width))
    story.append(CondPageBreak(60 * mm))
    story += _fines_block(data.compliance.exposure, data.brackets, labels, styles, width)
    if data.compliance.foreign is not None:
        story += _foreign_block(data.compliance.foreign, labels, styles, width)
    story.append(KeepTogether(signature_block(h, labels, styles, width)))
    return story


def _late_table(rows: Sequence[LateRow], labels: dict[str, str], styles: Styles, width: float) -> Flowable:
    if not rows:
        return Paragraph(markup(labels["none"]), styles.normal)
    head, body = styles.table_header, styles.table
    right = ParagraphStyle("police-right", body, alignment=TA_RIGHT)
    table_rows = [
        [
            _cell(labels[k], head)
            for k in ("col_no", "col_name", "col_doc", "col_arrived", "col_deadline", "col_filed", "col_delay")
        ]
    ]
    for i, row in enumerate(rows, start=1):
        filed = format_datetime(row.filed_at) if row.filed_at else labels["not_filed"]
        delay = format_delay(delay_minutes(row.deadline_at, row.filed_at), labels) if row.filed_at else EMPTY
        table_rows.append(
            [
                _cell(str(i), right),
                _cell(row.full_name, body),
                _cell(row.doc_number, body),
                _cell(format_datetime(row.arrived_at), body),
                _cell(format_datetime(row.deadline_at), body),
                _cell(filed, body),
                _cell(delay, body),
            ]
        )
    fixed = [9 * mm, 42 * mm, 26 * mm, 25 * mm, 25 * mm, 25 * mm]
    table = Table(table_rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=2))
    return table


def _checkout_table(rows: Sequence[CheckoutRow], labels: dict[str, str], styles: Styles, width: float) -> Flowable:
    if not rows:
        return Paragraph(markup(labels["none"]), styles.normal)
    head, body = styles.table_header, styles.table
    table_rows = [
        [_cell(labels[k], head) for k in ("col_no", "col_name", "col_doc", "col_arrived", "col_expected", "col_room")]
    ]
    for i, row in enumerate(rows, start=1):
        table_rows.append(
            [
                _cell(str(i), body),
                _cell(row.full_name, body),
                _cell(row.doc_number, body),
                _cell(format_datetime(row.arrived_at), body),
                _cell(format_date(row.expected_departure) if row.expected_departure else EMPTY, body),
                _cell(row.room or EMPTY, body),
            ]
        )
    fixed = [9 * mm, 50 * mm, 30 * mm, 30 * mm, 28 * mm]
    table = Table(table_rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=2))
    return table


# --- per commune ------------------------------------------------------------------------------------------------


def ranking(lines: Sequence[EstablishmentLine], limit: int = 10) -> list[EstablishmentLine]:
    """The establishments with the most late or missing notifications (ties: the lower share on time first)."""
    bad = [line for line in lines if line.compliance.late + line.compliance.missing > 0]
    bad.sort(
        key=lambda line: (
            -(line.compliance.late + line.compliance.missing),
            line.compliance.on_time_share or 0,
            line.code,
        )
    )
    return bad[:limit]


def build_commune_report_pdf(data: CommuneReportData, *, translations: Translator) -> bytes:
    words = labels(translations)
    styles = make_styles(table_size=7.5)
    return _story_pdf(
        lambda: _commune_story(data, translations, words, styles), words["commune_title"].capitalize(), words, styles
    )


def _commune_story(
    data: CommuneReportData, translations: Translator, labels: dict[str, str], styles: Styles
) -> list[Flowable]:
    width = CONTENT_WIDTH
    h = data.header
    story: list[Flowable] = [_header_block(h, styles, translations, width)]
    story += _title_block(
        labels["commune_title"],
        [
            labels["period"] % {"start": format_date(h.period_from), "end": format_date(h.period_to)},
            labels["area"] % {"area": data.area_name},
        ],
        styles,
    )
    story.append(Paragraph(markup(labels["table"] % {"n": len(data.establishments)}), styles.heading))
    story.append(_establishments_table(data.establishments, labels, styles, width))
    ranked = ranking(data.establishments)
    story.append(Paragraph(markup(labels["ranking"]), styles.heading))
    story.append(_ranking_table(ranked, labels, styles, width))
    if data.silent:
        story.append(Paragraph(markup(labels["silent"] % {"n": len(data.silent)}), styles.heading))
        story.append(Paragraph(markup("; ".join(data.silent)), styles.normal))
    story.append(CondPageBreak(120 * mm))
    story.append(Paragraph(markup(labels["charts"]), styles.heading))
    if ranked:
        story.append(
            bar_chart(
                [str(i) for i in range(1, len(ranked) + 1)],
                [line.compliance.late + line.compliance.missing for line in ranked],
                title=labels["chart_late"],
                width=width,
                color=LATE_COLOR,
            )
        )
    story.append(
        bar_chart(
            [f"{d.day:02d}/{d.month:02d}" for d, _ in data.daily_arrivals],
            [n for _, n in data.daily_arrivals],
            title=labels["chart_daily"],
            width=width,
            color=BAR_COLOR,
        )
    )
    total = sum_compliance([line.compliance for line in data.establishments])
    story += _fines_block(total.exposure, data.brackets, labels, styles, width)
    if total.foreign is not None:
        story += _foreign_block(total.foreign, labels, styles, width)
    story.append(KeepTogether(signature_block(h, labels, styles, width)))
    return story


def _sum_exposure(items: Sequence[Exposure], factor: int) -> Exposure:
    return Exposure(
        violations=sum(e.violations for e in items),
        guests=sum(e.guests for e in items),
        min_vnd=sum(e.min_vnd for e in items),
        max_vnd=sum(e.max_vnd for e in items),
        factor=factor,
    )


def sum_foreign(items: Sequence[ForeignCompliance]) -> ForeignCompliance | None:
    if not items:
        return None
    first = items[0]
    return ForeignCompliance(
        due=sum(f.due for f in items),
        on_time=sum(f.on_time for f in items),
        late=sum(f.late for f in items),
        missing=sum(f.missing for f in items),
        pending=sum(f.pending for f in items),
        exposure=_sum_exposure([f.exposure for f in items], first.exposure.factor),
        brackets=first.brackets,
        legal_basis=first.legal_basis,
        confirmed=first.confirmed,
    )


def sum_compliance(items: Iterable[Compliance]) -> Compliance:
    items = list(items)
    factor = items[0].exposure.factor if items else 2
    return Compliance(
        foreign=sum_foreign([c.foreign for c in items if c.foreign is not None]),
        due=sum(c.due for c in items),
        on_time=sum(c.on_time for c in items),
        late=sum(c.late for c in items),
        missing=sum(c.missing for c in items),
        pending=sum(c.pending for c in items),
        missing_checkouts=sum(c.missing_checkouts for c in items),
        exposure=Exposure(
            violations=sum(c.exposure.violations for c in items),
            guests=sum(c.exposure.guests for c in items),
            min_vnd=sum(c.exposure.min_vnd for c in items),
            max_vnd=sum(c.exposure.max_vnd for c in items),
            factor=factor,
        ),
    )


def _establishments_table(
    lines: Sequence[EstablishmentLine], labels: dict[str, str], styles: Styles, width: float
) -> Flowable:
    head, body = styles.table_header, styles.table
    right = ParagraphStyle("police-num", body, alignment=TA_RIGHT)
    keys = (
        "col_no",
        "col_est",
        "col_due",
        "col_on_time",
        "col_late",
        "col_missing",
        "col_share",
        "col_checkouts",
        "col_fine",
    )
    rows = [[_cell(labels[k], head) for k in keys]]

    def numbers(c: Compliance) -> list[Paragraph]:
        return [
            _cell(str(c.due), right),
            _cell(str(c.on_time), right),
            _cell(str(c.late), right),
            _cell(str(c.missing), right),
            _cell(format_share(c.on_time_share), right),
            _cell(str(c.missing_checkouts), right),
            _cell(f"{format_vnd(c.exposure.min_vnd)} – {format_vnd(c.exposure.max_vnd)}", right),
        ]

    for i, line in enumerate(lines, start=1):
        rows.append([_cell(str(i), right), _cell(f"{line.name} ({line.code})", body), *numbers(line.compliance)])
    total = sum_compliance([line.compliance for line in lines])
    bold = ParagraphStyle("police-total", body, fontName=BOLD)
    rows.append([_cell("", body), _cell(labels["total_row"], bold), *numbers(total)])
    fixed = [8 * mm, 52 * mm, 13 * mm, 14 * mm, 11 * mm, 13 * mm, 16 * mm, 15 * mm]
    table = Table(rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=2))
    return table


def _ranking_table(
    ranked: Sequence[EstablishmentLine], labels: dict[str, str], styles: Styles, width: float
) -> Flowable:
    if not ranked:
        return Paragraph(markup(labels["none"]), styles.normal)
    head, body = styles.table_header, styles.table
    right = ParagraphStyle("police-rank", body, alignment=TA_RIGHT)
    rows = [[_cell(labels[k], head) for k in ("col_rank", "col_est", "col_bad", "col_share")]]
    for i, line in enumerate(ranked, start=1):
        c = line.compliance
        rows.append(
            [
                _cell(str(i), right),
                _cell(f"{line.name} ({line.code})", body),
                _cell(str(c.late + c.missing), right),
                _cell(format_share(c.on_time_share), right),
            ]
        )
    fixed = [12 * mm, 100 * mm, 30 * mm]
    table = Table(rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    table.setStyle(grid_table_style(padding=2))
    return table


def bar_chart(
    labels: Sequence[str], values: Sequence[int], *, title: str, width: float, color: colors.Color
) -> Drawing:
    """A vertical bar chart drawn with reportlab graphics (vector, text in DejaVu)."""
    register_fonts()
    height = 62 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, nfc(title), fontName=BOLD, fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y = 28, 22
    chart.width, chart.height = int(width - 40), int(height - 42)
    chart.data = [list(values) or [0]]
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 6 if len(labels) > 15 else 7.5
    chart.categoryAxis.labels.angle = 90 if len(labels) > 15 else 0
    chart.categoryAxis.labels.boxAnchor = "e" if len(labels) > 15 else "n"
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max(values) if values else 0
    chart.valueAxis.valueMax = max(4, top + max(1, top // 8))
    chart.valueAxis.valueStep = max(1, chart.valueAxis.valueMax // 4)
    chart.bars[0].fillColor = color
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


# --- the stay register (sổ lưu trú) -------------------------------------------------------------------------------

REGISTER_PAGE = landscape(A4)
REGISTER_FONT_SIZE = 7
LEADING = 8.6  # one line of a register row
ROW_PADDING = 2.6  # above the first line and below the last
# (label key, width in mm); the last column takes what is left (about 42 mm on landscape A4). Dates and times fit
# their column on one line; names, places and reasons wrap at spaces, never cut (issue 17).
REGISTER_COLUMNS: tuple[tuple[str, float], ...] = (
    ("col_no", 9),
    ("col_name", 38),
    ("col_birth", 16),
    ("col_sex", 11),
    ("col_nat", 11),
    ("col_doc", 22),
    ("col_est", 34),
    ("col_room", 17),
    ("col_in", 25),
    ("col_out", 25),
    ("col_notified", 25),
    ("col_reason", 0),
)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """The text in lines no wider than `width`, broken at spaces; a single word wider than the column (a long
    number) is broken between characters, so nothing is ever cut off or hidden."""
    text = nfc(text)
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if stringWidth(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while stringWidth(word, font, size) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and stringWidth(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def write_register_pdf(
    output: IO[bytes],
    header: ReportHeader,
    area_name: str,
    rows: Iterable[RegisterRow],
    *,
    total: int,
    translations: Translator,
    establishment_type: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    progress_every: int = 500,
) -> int:
    """Draw the register page by page from `rows` (any iterator: a database cursor read in chunks).

    `total` is the expected number of rows (for the progress bar). A row is as tall as its longest cell: names,
    places and reasons wrap within their column. The page count ("Trang n/N") is known only at the end: each page's
    footer holds a form drawn once the last row is written. Returns the number of rows written; the last page ends
    with the total and the signature block. `establishment_type`: a register of one establishment speaks its trade's
    words (asm/trades.py).
    """
    words = labels(translations, establishment_type)
    register_fonts()
    styles = make_styles(table_size=REGISTER_FONT_SIZE)
    page_w, page_h = REGISTER_PAGE
    margin = MARGIN * 0.8
    width = page_w - 2 * margin
    widths = [w * mm for _, w in REGISTER_COLUMNS]
    widths[-1] = width - sum(widths[:-1])
    inner = [w - 4 for w in widths]
    canvas = Canvas(output, pagesize=REGISTER_PAGE, invariant=True, pageCompression=1)
    canvas.setTitle(nfc(f"{words['register_title'].capitalize()} {area_name}"))
    canvas.setAuthor("ASM")
    canvas.setCreator("ASM")

    # The first page carries the national header and the title; measure it once.
    head_flow: list[Flowable] = [_header_block(header, styles, translations, width)]
    head_flow += _title_block(
        words["register_title"],
        [
            words["period"] % {"start": format_date(header.period_from), "end": format_date(header.period_to)},
            words["area"] % {"area": area_name},
        ],
        styles,
    )
    footer_h = 12 * mm
    bottom = margin + footer_h
    lefts = [margin + 2 + sum(widths[:i]) for i in range(len(widths))]
    # Text this short fits its column whatever its letters (no glyph of DejaVu Sans is wider than 1.05 em):
    # only longer text is measured.
    short_limits = [int(w / (REGISTER_FONT_SIZE * 1.05)) for w in inner]
    head_lines = [
        wrap(words[key], BOLD, REGISTER_FONT_SIZE, w) for (key, _), w in zip(REGISTER_COLUMNS, inner, strict=True)
    ]
    head_h = max(len(lines) for lines in head_lines) * LEADING + 2 * ROW_PADDING

    page = 1

    def footer() -> None:
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor("#9a9a9a"))
        canvas.setLineWidth(0.5)
        canvas.line(margin, margin + footer_h - 3 * mm, page_w - margin, margin + footer_h - 3 * mm)
        canvas.setFont(REGULAR, 6.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(margin, margin + footer_h - 7 * mm, nfc(words["footer_privacy"]))
        canvas.drawString(margin, margin + footer_h - 10 * mm, nfc(words["footer_time"]))
        canvas.restoreState()
        canvas.doForm(f"page-{page}")  # "Trang n/N", drawn when N is known

    def column_heads(top: float) -> float:
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#e8edf3"))
        canvas.rect(margin, top - head_h, width, head_h, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        canvas.setFont(BOLD, REGISTER_FONT_SIZE)
        for lines, x in zip(head_lines, lefts, strict=True):
            for n, line in enumerate(lines):
                canvas.drawString(x, top - ROW_PADDING - (n + 1) * LEADING + 2, line)
        canvas.restoreState()
        return top - head_h

    # page 1: header
    y = page_h - margin
    for flowable in head_flow:
        _, fh = flowable.wrapOn(canvas, width, page_h)
        flowable.drawOn(canvas, margin, y - fh)
        y -= fh
    y = column_heads(y - 2 * mm)
    count = 0
    canvas.setFont(REGULAR, REGISTER_FONT_SIZE)
    for row in rows:
        values = (
            str(count + 1),
            row.full_name,
            format_date(row.birth_date) if row.birth_date else EMPTY,
            words.get(f"sex_{row.sex}", EMPTY) if row.sex else EMPTY,
            row.nationality or EMPTY,
            row.doc_number,
            row.establishment,
            place(row.room) or EMPTY,
            format_datetime(row.arrived_at),
            format_datetime(row.departed_at) if row.departed_at else EMPTY,
            format_datetime(row.filed_at) if row.filed_at else words["not_filed"],
            row.reason,
        )
        cells = [
            [nfc(value)] if len(value) <= fits else wrap(value, REGULAR, REGISTER_FONT_SIZE, w)
            for value, fits, w in zip(values, short_limits, inner, strict=True)
        ]
        row_h = max(len(lines) for lines in cells) * LEADING + 2 * ROW_PADDING
        if y - row_h < bottom:
            footer()
            canvas.showPage()
            page += 1
            y = column_heads(page_h - margin)
            canvas.setFont(REGULAR, REGISTER_FONT_SIZE)
        count += 1
        text = canvas.beginText()
        text.setFont(REGULAR, REGISTER_FONT_SIZE)
        for lines, x in zip(cells, lefts, strict=True):
            for n, line in enumerate(lines):
                text.setTextOrigin(x, y - ROW_PADDING - (n + 1) * LEADING + 2)
                text.textOut(line)
        canvas.drawText(text)
        canvas.setStrokeColor(colors.HexColor("#c8c8c8"))
        canvas.setLineWidth(0.3)
        canvas.line(margin, y - row_h, margin + width, y - row_h)
        y -= row_h
        if on_progress is not None and count % progress_every == 0:
            on_progress(count)
    # the total and the signature block, on a new page if they do not fit
    closing: list[Flowable] = [
        Spacer(1, 3 * mm),
        Paragraph(f"<b>{markup(words['register_total'] % {'n': count})}</b>", styles.normal),
        *signature_block(header, words, styles, width),
    ]
    closing_h = sum(f.wrapOn(canvas, width, page_h)[1] for f in closing)
    if y - closing_h < bottom:
        footer()
        canvas.showPage()
        page += 1
        y = page_h - margin
    for flowable in closing:
        _, fh = flowable.wrapOn(canvas, width, page_h)
        flowable.drawOn(canvas, margin, y - fh)
        y -= fh
    footer()
    canvas.showPage()
    for n in range(1, page + 1):  # every page's "Trang n/N", now that N is known
        canvas.beginForm(f"page-{n}")
        canvas.setFont(REGULAR, 6.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawRightString(page_w - margin, margin + footer_h - 7 * mm, words["page"] % {"page": n, "pages": page})
        canvas.endForm()
    canvas.save()
    if on_progress is not None:
        on_progress(count)
    return count


def build_register_pdf(data: RegisterData, *, translations: Translator, establishment_type: str | None = None) -> bytes:
    buffer = io.BytesIO()
    write_register_pdf(
        buffer,
        data.header,
        data.area_name,
        data.rows,
        total=len(data.rows),
        translations=translations,
        establishment_type=establishment_type,
    )
    return buffer.getvalue()
