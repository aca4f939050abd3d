"""The foreigners' list as CSV or XLSX (pure: rows in, bytes out).

The immigration portals' batch-upload templates are not public (docs/FOREIGNERS.md): the columns are NA17's
fields, in the form's order. A cell a spreadsheet would read as a formula (starting with = + - @, tab or CR) is
written with a leading apostrophe, so a guest's typed name can never run as one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(head: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8), CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, head: list[str], rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(head)
    for row in rows:
        sheet.append([safe(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
