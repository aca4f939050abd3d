"""Page setup, styles, the national header, a vector QR code and local-time formatting for PDF reports."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import IO, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

from asm.clock import fmt_date, fmt_datetime
from asm.i18n import Translator
from asm.pdf.fonts import FAMILY, register_fonts

PAGE_SIZE = A4
MARGIN = 15 * mm
FOOTER_HEIGHT = 14 * mm  # reserved above the bottom margin for footer_painter()
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
EMPTY = "—"


# --- text and time -----------------------------------------------------------------------------


def nfc(text: str) -> str:
    """NFC form: scanners and some keyboards deliver decomposed Vietnamese."""
    return unicodedata.normalize("NFC", text)


def markup(text: str) -> str:
    """Plain text made safe for Paragraph markup (NFC, &, <, > escaped)."""
    return escape(nfc(text))


@cache
def local_tz() -> ZoneInfo:
    return ZoneInfo(LOCAL_TZ_NAME)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime (UTC in the database)")
    return value.astimezone(local_tz())


def format_datetime(value: datetime) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh (asm.clock.fmt_datetime, the pages' own)."""
    return fmt_datetime(to_local(value))


def format_date(value: date | datetime) -> str:
    """dd/mm/yyyy; an aware datetime is first moved to Asia/Ho_Chi_Minh (asm.clock.fmt_date, the pages' own)."""
    if isinstance(value, datetime):
        value = to_local(value)
    return fmt_date(value)


# --- styles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    normal: ParagraphStyle
    small: ParagraphStyle
    table: ParagraphStyle
    table_header: ParagraphStyle


def make_styles(*, table_size: float = 8.5) -> Styles:
    """Paragraph styles in DejaVu Sans; table_size lets a long table shrink to fit a page."""
    family = register_fonts()
    base = ParagraphStyle("asm-normal", fontName=FAMILY, fontSize=9.5, leading=12.5)
    return Styles(
        title=ParagraphStyle("asm-title", base, fontName=family.bold, fontSize=15, leading=19, alignment=TA_CENTER),
        subtitle=ParagraphStyle("asm-subtitle", base, fontSize=10.5, leading=14, alignment=TA_CENTER),
        heading=ParagraphStyle(
            "asm-heading", base, fontName=family.bold, fontSize=10.5, leading=14, spaceBefore=5, spaceAfter=3
        ),
        normal=base,
        small=ParagraphStyle("asm-small", base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444")),
        table=ParagraphStyle("asm-table", base, fontSize=table_size, leading=table_size * 1.22),
        table_header=ParagraphStyle(
            "asm-table-header",
            base,
            fontName=family.bold,
            fontSize=table_size,
            leading=table_size * 1.22,
            alignment=TA_CENTER,
        ),
    )


GRID_COLOR = colors.HexColor("#9a9a9a")
HEADER_FILL = colors.HexColor("#e8edf3")


def grid_table_style(*, padding: float = 3, header_rows: int = 1) -> TableStyle:
    """Thin grid, shaded header row(s), vertically centred cells."""
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID_COLOR),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL))
    return TableStyle(commands)


# --- page elements -----------------------------------------------------------------------------


class Rule(Flowable):
    """A short horizontal line of a fixed width (place it with the table cell's ALIGN)."""

    def __init__(self, width: float, *, thickness: float = 0.7, space_before: float = 3.5) -> None:
        super().__init__()
        self.width = width
        self.thickness = thickness
        self.space_before = space_before

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.space_before + self.thickness + 2

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setLineWidth(self.thickness)
        y = 2 + self.thickness / 2
        self.canv.line(0, y, self.width, y)
        self.canv.restoreState()


def national_header(
    styles: Styles, translations: Translator, *, width: float = CONTENT_WIDTH, left: Sequence[Flowable] = ()
) -> Table:
    """The two-column heading of Vietnamese official papers, every line centred in its column.

    Right: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập - Tự do - Hạnh phúc" with a rule as wide as
    the motto under it. Left: whatever the caller passes (usually the issuing unit, a Rule and "Số: …").
    """
    _ = translations.gettext
    line1, line2 = _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), _("Độc lập - Tự do - Hạnh phúc")
    bold = register_fonts().bold
    state = ParagraphStyle("asm-nh-state", styles.normal, fontName=bold, fontSize=10, leading=13, alignment=TA_CENTER)
    motto = ParagraphStyle("asm-nh-motto", state, fontSize=11, leading=14)
    right = [
        Paragraph(markup(line1), state),
        Paragraph(markup(line2), motto),
        Rule(stringWidth(line2, bold, motto.fontSize)),
    ]
    left_width = width * 0.44
    table = Table([[list(left), right]], colWidths=[left_width, width - left_width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


class QrCode(Flowable):
    """A QR code drawn as vector squares (sharp at any zoom, no image), with its quiet zone."""

    def __init__(self, data: str, size: float, *, error: str = "m", border: int = 4) -> None:
        super().__init__()
        self.data = data
        self.size = size
        self.border = border
        self._qr = segno.make_qr(data, error=error)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        rows = [list(row) for row in self._qr.matrix_iter(scale=1, border=self.border)]
        module = self.size / len(rows)
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        path = canvas.beginPath()
        for r, row in enumerate(rows):
            y = self.size - (r + 1) * module
            c = 0
            while c < len(row):  # one rectangle per horizontal run of dark modules
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(start * module, y, (c - start) * module, module)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()


OnPage = Callable[[Canvas, BaseDocTemplate], None]


def make_document(
    output: IO[bytes], *, title: str, on_page: OnPage, subject: str = "", author: str = "ASM"
) -> BaseDocTemplate:
    """A4, the house margins, room for the footer, no frame padding (flowables get CONTENT_WIDTH).

    on_page runs on every page (see footer_painter). Output is byte-for-byte reproducible. After
    build(), the document's ``page`` attribute is the number of pages.
    """
    doc = BaseDocTemplate(
        output,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=nfc(title),
        subject=nfc(subject),
        author=author,
        creator="ASM",
        invariant=True,
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="content",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    return doc


def footer_painter(styles: Styles, lines: Sequence[str], page_label: str, *, pages: int = 0) -> OnPage:
    """An onPage callback: a rule, the given lines in small type, and the page label.

    page_label is formatted with ``page`` and ``pages`` ("Trang %(page)s/%(pages)s"); reportlab learns the
    page count only after a build, so a caller that wants it builds twice or knows it (one-page forms).
    """

    def paint(canvas: Canvas, doc: BaseDocTemplate) -> None:
        width = doc.pagesize[0] - doc.leftMargin - doc.rightMargin
        label = page_label % {"page": canvas.getPageNumber(), "pages": pages}
        text = "<br/>".join(markup(line) for line in lines)
        canvas.saveState()
        top = MARGIN + FOOTER_HEIGHT - 3 * mm
        canvas.setStrokeColor(GRID_COLOR)
        canvas.setLineWidth(0.5)
        canvas.line(doc.leftMargin, top, doc.leftMargin + width, top)
        label_width = 22 * mm
        para = Paragraph(text, styles.small)
        _, height = para.wrap(width - label_width, top - MARGIN)
        para.drawOn(canvas, doc.leftMargin, top - 2 - height)
        canvas.setFont(styles.small.fontName, styles.small.fontSize)
        canvas.setFillColor(styles.small.textColor)
        canvas.drawRightString(doc.leftMargin + width, top - 2 - styles.small.leading + 2, label)
        canvas.restoreState()

    return paint
