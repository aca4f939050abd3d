"""The history by month on PostgreSQL (migration 0017): `stay_events` partitioned by stay id and `access_log` by id,
one block of ids per month, the partitions in the schema `history`. SQLite is not partitioned: nothing here runs.

- `ensure` (the hourly job `history_partitions`, and the purge before it starts): the next HISTORY_PARTITION_AHEAD
  months' blocks exist, and when a month begins its stays (its access-log lines) start its block.
- `drop_stay_months`: a block every stay of which belongs to a group ended before the cutoff goes whole: the rows
  hanging on those stays are deleted, the block's history partition is dropped (its events: each stay's whole
  chain), then the stays and the people left without a stay are deleted in batches (`stays` is not partitioned:
  its unique keys, one open stay per person and establishment and the receipt, and the eight foreign keys that
  point at it, need one table). A block with one stay still open or ended after the cutoff, or a group across two
  blocks, is left to the row-by-row purge.
- `drop_access_months`: the oldest blocks whose every line is older than the cutoff, in order (a prefix of the
  chain); the hash of the last line dropped is the ledger's anchor.

Both drops go through `history_partition_drop`, which the purge role alone may run (asm/pgroles.py), only inside
the purge's transaction, and only for a block no new row can reach. Dropping a partition takes a brief exclusive
lock on its parent: the purge waits at most HISTORY_DROP_LOCK_TIMEOUT for it and tries again later.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from asm.accounts.models import AccessLog
from asm.stays.models import Stay

log = logging.getLogger(__name__)

LOWEST = -(2**31)  # the first block starts at MINVALUE


@dataclass(frozen=True)
class Part:
    name: str
    lo: int
    hi: int


def enabled(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def ensure(s: Session, now: datetime) -> list[str]:
    """Create the blocks of this month and the next months (and move the sequences to this month's block);
    the names of the partitions made. The caller commits."""
    made = s.execute(
        text("SELECT history_partitions_ensure(CAST(:month AS date), :ahead, :block)"),
        {
            "month": now.date().replace(day=1),
            "ahead": int(current_app.config["HISTORY_PARTITION_AHEAD"]),
            "block": int(current_app.config["HISTORY_PARTITION_BLOCK"]),
        },
    )
    return [str(name) for name in made.scalars()]


def partitions(s: Session, table: str) -> list[Part]:
    rows = s.execute(text("SELECT name, lo, hi FROM history_partitions(:t)"), {"t": table})
    return [Part(name, LOWEST if lo is None else int(lo), int(hi)) for name, lo, hi in rows]


def next_id(s: Session, table: str) -> int:
    return int(s.scalar(text("SELECT history_next_id(:t)"), {"t": table}) or 0)


def _drop(s: Session, name: str) -> int | None:
    """Drop one block inside the purge's transaction (the caller opened the door); None if its parent stayed
    locked by others past the timeout (nothing changed: try again on the next run)."""
    timeout = int(float(current_app.config["HISTORY_DROP_LOCK_TIMEOUT_S"]) * 1000)
    s.execute(text(f"SET LOCAL lock_timeout = {timeout}"))
    try:
        return int(s.scalar(text("SELECT history_partition_drop(:name)"), {"name": name}) or 0)
    except OperationalError as exc:  # lock_timeout
        log.warning("history partition %s not dropped: %s", name, exc.orig)
        s.rollback()
        return None


# A block is kept whole while one of its stays is open or ended at or after the cutoff, or one of its groups reaches
# into another block. Read along the primary key (ORDER BY id): a scan of the whole table would also walk every
# dead row of the months purged before.
BLOCKING = text(
    "SELECT 1 FROM stays s WHERE s.id >= :lo AND s.id < :hi"
    " AND (s.status IN ('draft', 'in_house') OR coalesce(s.departed_at, s.arrived_at) >= :cutoff"
    "      OR s.head_id < :lo OR s.head_id >= :hi)"
    " ORDER BY s.id LIMIT 1"
)
CROSSING = text(
    "SELECT 1 FROM stays m WHERE m.head_id >= :lo AND m.head_id < :hi AND (m.id < :lo OR m.id >= :hi) LIMIT 1"
)
FIRST_ARRIVAL = text("SELECT arrived_at FROM stays WHERE id >= :lo AND id < :hi ORDER BY id LIMIT 1")


ORPHANS = text(
    "DELETE FROM people p WHERE p.id = ANY(:ids) AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.person_id = p.id)"
)


def drop_stay_months(s: Session, cutoff: datetime, batch: int, pause: float) -> int:
    """Remove every block of stays wholly past the cutoff (see the module); the stays removed."""
    from asm.jobs import renew
    from asm.jobs.purge import delete_hanging_rows, history_mode, rest

    removed = 0
    written_from = next_id(s, "stay_events")
    for part in partitions(s, "stay_events"):
        if part.hi > written_from:
            break
        bounds = {"lo": part.lo, "hi": part.hi}
        first = s.scalar(FIRST_ARRIVAL, bounds)
        if first is not None and first >= cutoff:
            break  # this block's first stay came after the cutoff: so did every later block's
        if s.execute(BLOCKING, bounds | {"cutoff": cutoff}).first() or s.execute(CROSSING, bounds).first():
            continue

        def of_block(column: Any, lo: int = part.lo, hi: int = part.hi - 1) -> Any:
            return column.between(lo, hi)

        history_mode(s, True)
        delete_hanging_rows(s, of_block)
        if _drop(s, part.name) is None:
            continue
        s.commit()
        # Then the block's stays and the people left without one, a range of ids per transaction, server-side.
        start = s.scalar(select(func.min(Stay.id)).where(of_block(Stay.id)))
        while start is not None:
            started = time.perf_counter()
            end = min(start + batch, part.hi)
            # The purge is redone if a crash loses this commit: no need to wait for the disk (the ledger's
            # own commit, later, is synchronous and makes all of these durable).
            s.execute(text("SET LOCAL synchronous_commit = off"))
            # A group's members may come in the next range: they let go of their head first.
            s.execute(update(Stay).where(Stay.head_id >= start, Stay.head_id < end).values(head_id=None))
            people = list(s.scalars(delete(Stay).where(Stay.id >= start, Stay.id < end).returning(Stay.person_id)))
            s.execute(ORPHANS, {"ids": sorted(set(people))})
            s.commit()
            removed += len(people)
            renew()
            start = s.scalar(select(func.min(Stay.id)).where(Stay.id >= end, Stay.id < part.hi))
            rest(started, pause)
    return removed


def drop_access_months(s: Session, cutoff: datetime) -> tuple[int, str | None]:
    """Remove the oldest blocks of the access log wholly older than the cutoff; (lines removed, the last one's
    hash)."""
    from asm.jobs.purge import history_mode

    removed, anchor = 0, None
    written_from = next_id(s, "access_log")
    for part in partitions(s, "access_log"):
        if part.hi > written_from:
            break
        in_block = AccessLog.id.between(part.lo, part.hi - 1)
        newest = s.scalar(select(func.max(AccessLog.at)).where(in_block))
        if newest is not None and newest >= cutoff:
            break  # the chain loses only its oldest lines
        last = s.scalar(select(AccessLog.row_hash).where(in_block).order_by(AccessLog.id.desc()).limit(1))
        history_mode(s, True)
        rows = _drop(s, part.name)
        if rows is None:
            break
        s.commit()
        removed, anchor = removed + rows, last or anchor
    return removed, anchor
