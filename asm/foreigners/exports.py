"""The foreigners' list as CSV or XLSX (rows in, bytes out), written by asm/exports.py: no cell is ever a formula.

The immigration portals' batch-upload templates are not public (docs/FOREIGNERS.md): the columns are NA17's
fields, in the form's order.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from asm.exports import write_csv, write_xlsx


def to_csv(head: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8)."""
    out = io.StringIO()
    write_csv(out, head, rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, head: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, [(title, head, rows)])
    return out.getvalue()
