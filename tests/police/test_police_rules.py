"""Pure parts of asm/police: the fine brackets of Nghị định 282/2025, the chart geometry, the register writer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from asm.i18n import translations
from asm.pdf.fonts import register_fonts
from asm.police import pdf
from asm.police.charts import bar_chart, nice_max
from asm.police.fines import DEFAULT_BRACKETS, Bracket, bracket_for, brackets_from_setting, exposure, format_vnd

NOW = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
HEADER = pdf.ReportHeader(
    unit_lines=("Công an Thành phố Hà Nội", "Công an Phường Ba Đình"),
    place="Hà Nội",
    generated_at=NOW,
    period_from=date(2026, 1, 1),
    period_to=date(2026, 1, 9),
    author="Trần Văn Công",
)

VI, EN = translations("vi"), translations("en")


@pytest.mark.parametrize(
    ("guests", "low", "high"),
    [(1, 2_000_000, 4_000_000), (3, 2_000_000, 4_000_000), (4, 4_000_000, 8_000_000), (8, 4_000_000, 8_000_000),
     (9, 8_000_000, 12_000_000), (50, 8_000_000, 12_000_000)],
)  # fmt: skip
def test_the_brackets_of_decree_282(guests: int, low: int, high: int) -> None:
    bracket = bracket_for(guests)
    assert (bracket.min_vnd, bracket.max_vnd) == (low, high)


def test_exposure_sums_each_violation_and_doubles_for_organisations() -> None:
    result = exposure([1, 2, 4, 9])
    assert (result.violations, result.guests) == (4, 16)
    assert (result.min_vnd, result.max_vnd) == (16_000_000, 28_000_000)  # 2+2+4+8 M, 4+4+8+12 M
    assert (result.organisation_min_vnd, result.organisation_max_vnd) == (32_000_000, 56_000_000)
    assert exposure([]).max_vnd == 0
    with pytest.raises(ValueError):
        bracket_for(0)


def test_brackets_are_a_setting_and_are_checked() -> None:
    assert brackets_from_setting(None) == DEFAULT_BRACKETS
    old = brackets_from_setting(
        [[1, 3, 1_000_000, 2_000_000], [4, 8, 2_000_000, 4_000_000], [9, None, 4_000_000, 6_000_000]]
    )
    assert bracket_for(5, old) == Bracket(4, 8, 2_000_000, 4_000_000)  # Nghị định 144/2021's levels
    for bad in ([[2, None, 1, 2]], [[1, 3, 1, 2], [5, None, 1, 2]], [[1, 3, 1, 2]], [[1, None, 5, 2]], []):
        with pytest.raises(ValueError):
            brackets_from_setting(bad)


def test_amounts_use_the_vietnamese_thousands_separator() -> None:
    assert format_vnd(12_000_000) == "12.000.000"


def test_chart_scale_and_bars() -> None:
    assert [nice_max(v) for v in (0, 3, 5, 7, 11, 230)] == [5, 5, 5, 10, 20, 500]
    chart = bar_chart([(date(2026, 1, d), d) for d in range(1, 11)])
    assert [value for _y, value in chart.ticks] == [0, 2, 4, 6, 8, 10]  # whole numbers where the lines are
    assert chart.total == 55 and len(chart.bars) == 10
    assert chart.bars[-1].height > chart.bars[0].height > 0
    assert all(abs(b.y + b.height - chart.base) < 1e-6 for b in chart.bars)


def rows(n: int) -> list[pdf.RegisterRow]:
    return [
        pdf.RegisterRow(f"Nguyễn Thị Hoa {i}", date(2003, 3, 21), "F", "VNM", f"0343030{i:05d}", "Khách sạn Hoàng Gia",
                        "101", NOW - timedelta(hours=i), None, NOW, "Du lịch")
        for i in range(n)
    ]  # fmt: skip


def test_the_register_writer_reports_progress_and_counts_its_pages() -> None:
    seen: list[int] = []
    out = io.BytesIO()
    written = pdf.write_register_pdf(
        out,
        HEADER,
        "Phường Ba Đình",
        iter(rows(250)),
        total=250,
        on_progress=seen.append,
        progress_every=100,
        translations=VI,
    )
    assert written == 250 and seen == [100, 200, 250]
    reader = PdfReader(io.BytesIO(out.getvalue()))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Nguyễn Thị Hoa 249" in text and "Tổng số: 250 lượt lưu trú." in text
    assert f"Trang {len(reader.pages)}/{len(reader.pages)}" in reader.pages[-1].extract_text()


def test_a_long_value_wraps_in_its_column_and_is_never_cut() -> None:
    """Issue 17: the register cut the reason ("Điều trị nộ…"); a long name, place or reason now wraps, whole."""
    name = "Tôn Nữ Thị " + "Công Tằng " * 8
    reason = "Điều trị nội trú dài ngày tại khoa hồi sức tích cực"
    long = pdf.RegisterRow(name, None, "", "VNM", "1", "Cơ sở", "K1 · K1-G01 · K1-G01", NOW, None, None, reason)
    data = pdf.build_register_pdf(pdf.RegisterData(HEADER, "Phường", [long]), translations=VI)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    squeezed = "".join(text.split())
    assert "…" not in text
    assert "".join(name.split()) in squeezed and "".join(reason.split()) in squeezed
    assert squeezed.count("K1-G01") == 1  # each bed code once


def test_wrap_breaks_at_spaces_within_the_width() -> None:
    register_fonts()
    lines = pdf.wrap("Điều trị nội trú", "DejaVuSans", 7, 30)
    assert " ".join(lines) == "Điều trị nội trú" and len(lines) > 1
    assert pdf.wrap("", "DejaVuSans", 7, 30) == [""]


def test_reports_in_english() -> None:
    data = pdf.RegisterData(HEADER, "Ba Dinh ward", rows(3))
    text = PdfReader(io.BytesIO(pdf.build_register_pdf(data, translations=EN))).pages[0].extract_text()
    assert "STAY REGISTER" in text and "SOCIALIST REPUBLIC OF VIET NAM" in text and "Total: 3 stays." in text
