"""Cursor pages for the API's lists: a stable order, a page of at most `limit`, and the cursor of the next page.

A list never ends silently: while there is more, the answer carries `next` (and a `Link: <...>; rel="next"`
header); the last page says `next: null`. The cursor is opaque to clients: it holds the sort key of the page's
last row (arrival time and id), so a page does not shift when stays are added or closed meanwhile.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from asm.clock import in_supported_range
from asm.web.inputs import INT_MAX


class CursorError(ValueError):
    """Not a cursor this API gave out."""


def encode_cursor(arrived_at: datetime, stay_id: int) -> str:
    raw = f"{arrived_at.astimezone(UTC).isoformat()}|{stay_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, _, id_text = raw.partition("|")
        at = datetime.fromisoformat(at_text)
        stay_id = int(id_text) if id_text.isascii() and id_text.isdigit() else -1
    except (binascii.Error, ValueError) as exc:
        raise CursorError(cursor) from exc
    if at.tzinfo is None or not in_supported_range(at) or not 0 <= stay_id <= INT_MAX:
        raise CursorError(cursor)
    return at, stay_id
