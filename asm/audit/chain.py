"""Hash chains, pure: the canonical form of a row and the hash that links it to its predecessor. No Flask, no
database: the same functions seal a row when it is written and check it in `flask audit verify`.

A row's hash is SHA-256 over the predecessor's hash, a newline and the row's canonical form, in hex. The first
row of a chain links to `GENESIS` (64 zeros). The canonical form is JSON with sorted keys, no spaces, UTF-8
(not escaped), datetimes as UTC ISO 8601 with microseconds and a `Z`, dates as ISO 8601; anything else must be
a JSON value (None, bool, int, str, lists, dicts). A float is refused: its text differs between databases.

This form is a contract with every row already stored: change it and every chain breaks. Add a field to a
chain only with a new chain version (a field such as `v` in the row), never by changing how a value is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64


_SCALARS = frozenset({str, int, bool})


def _plain(value: Any) -> Any:
    if value is None or type(value) in _SCALARS:  # most fields: first, without the isinstance chain below
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a chained datetime must be timezone-aware (UTC)")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("floats are not chained: their text is not the same on every database")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cannot chain a {type(value).__name__}")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed for a row: its fields as canonical JSON."""
    return json.dumps(_plain(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str | None, canonical_fields: bytes | Mapping[str, Any]) -> str:
    """The hash of a row whose predecessor's hash is `prev_hash` (None or GENESIS for the first row).
    `canonical_fields` is the row's `canonical(...)` bytes, or its fields (canonicalised here)."""
    body = canonical_fields if isinstance(canonical_fields, bytes) else canonical(canonical_fields)
    digest = hashlib.sha256((prev_hash or GENESIS).encode("ascii"))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()
