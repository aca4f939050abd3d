"""What every HIS channel shares: the units of a message filed all or nothing, and the messages kept with their
answers (idempotency, the operations page, replay, counters). Flush, never commit: the caller commits once.

A message (an HL7 ADT message, a FHIR Encounter with its Patient and carers, an insurance XML record) becomes a
**unit**: the `EventInput`s of the hospital's batch (asm/hospital/events.py) that stand or fall together. Units
are applied with one batch (`apply_events`: the same rules, the same plan, the same writer as the events API); a
unit whose events are partly refused (an admission applied, its carer refused) is taken out and the others are
applied again without it, so nothing of a refused message is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, insert, select

from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.events import EventInput, EventResult, apply_events
from asm.hospital.models import HisMessage, MessageStatus

CHANNELS = ("hl7", "fhir", "xml")
OK = ("applied", "recorded_late", "duplicate")


@dataclass
class UnitResult:
    status: str  # applied | duplicate (every event already received) | refused
    results: list[EventResult] = field(default_factory=list)

    @property
    def error(self) -> dict[str, Any] | None:
        return next((r.error for r in self.results if r.status == "refused" and r.error), None)

    @property
    def stay_ids(self) -> list[int]:
        ids = [(r.stay.id if r.stay is not None else r.stay_id) for r in self.results]
        return [i for i in ids if i is not None]

    @property
    def receipts(self) -> list[str]:
        return [r.receipt_no for r in self.results if r.receipt_no]


def file_units(
    establishment: Establishment, units: list[list[EventInput]], *, actor: Actor, now: datetime
) -> list[UnitResult]:
    """Apply each unit all or nothing, with one batch for all of them; flushed, not committed. Must start a
    transaction of its own: a unit partly refused rolls the transaction back and the rest is applied again."""
    out: dict[int, UnitResult] = {}
    pending = [i for i, unit in enumerate(units) if unit]
    for i, unit in enumerate(units):
        if not unit:
            out[i] = UnitResult(status="applied")
    while pending:
        events: list[EventInput] = []
        owner: dict[int, int] = {}
        for u in pending:
            for event in units[u]:
                copy = EventInput(**{**event.__dict__, "index": len(events)})
                owner[copy.index] = u
                events.append(copy)
        results = apply_events(establishment, events, actor=actor, now=now)
        grouped: dict[int, list[EventResult]] = {u: [] for u in pending}
        for result in results:
            grouped[owner[result.index]].append(result)
        partial = [u for u in pending if mixed(grouped[u])]
        if not partial:
            for u in pending:
                found = grouped[u]
                if all(r.status == "refused" for r in found):
                    out[u] = UnitResult(status="refused", results=found)
                elif all(r.status == "duplicate" for r in found):
                    out[u] = UnitResult(status="duplicate", results=found)
                else:
                    out[u] = UnitResult(status="applied", results=found)
            break
        db.session.rollback()
        for u in partial:
            out[u] = UnitResult(status="refused", results=[r for r in grouped[u] if r.status == "refused"])
        pending = [u for u in pending if u not in partial]
    return [out[i] for i in range(len(units))]


def mixed(results: list[EventResult]) -> bool:
    statuses = {r.status == "refused" for r in results}
    return len(statuses) > 1


# --- the messages kept --------------------------------------------------------------------------------------


@dataclass
class Stored:
    """A kept message as the channels need it (plain values: they survive a rollback)."""

    id: int
    status: str
    answer: str


def stored(establishment_id: int, channel: str, keys: list[str]) -> dict[str, Stored]:
    if not keys:
        return {}
    params = {"establishment_id": establishment_id, "channel": channel, "keys": keys}
    rows = db.session.connection().execute(stored_query(), params)
    return {row.key: Stored(row.id, row.status, row.answer) for row in rows}


@dataclass
class Received:
    """A message received (again), to be kept with its status, answer and error (`keep_all`)."""

    key: str
    kind: str
    status: str
    raw: str
    answer: str
    error_code: str | None = None
    error_message: str | None = None
    existing: Stored | None = None


def stored_at(establishment_id: int, channel: str, keys: list[str]) -> tuple[Establishment | None, dict[str, Stored]]:
    """The establishment (read by this query, as `session.get` would) and `stored`, in one query (a listener files
    a few messages at a time: each round trip to the database counts)."""
    params = {"establishment_id": establishment_id, "channel": channel, "keys": keys}
    est: Establishment | None = None
    out: dict[str, Stored] = {}
    for row in db.session.execute(stored_at_query(), params):
        est = row.Establishment
        if row.key is not None:
            out[row.key] = Stored(row.id, row.status, row.answer)
    return est, out


@cache
def stored_at_query() -> Select[Establishment, str | None, int | None, str | None, str | None]:
    return (
        select(Establishment, HisMessage.key, HisMessage.id, HisMessage.status, HisMessage.answer)
        .outerjoin(
            HisMessage,
            and_(
                HisMessage.establishment_id == Establishment.id,
                HisMessage.channel == bindparam("channel"),
                HisMessage.key.in_(bindparam("keys", expanding=True)),
            ),
        )
        .where(Establishment.id == bindparam("establishment_id"))
    )


@cache
def stored_query() -> Select[str, int, str, str]:
    """Kept messages by their keys (built once: building it costs more than running it for one message)."""
    return select(HisMessage.key, HisMessage.id, HisMessage.status, HisMessage.answer).where(
        HisMessage.establishment_id == bindparam("establishment_id"),
        HisMessage.channel == bindparam("channel"),
        HisMessage.key.in_(bindparam("keys", expanding=True)),
    )


def keep(
    establishment_id: int,
    channel: str,
    key: str,
    *,
    kind: str,
    status: str,
    raw: str,
    answer: str,
    now: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
    existing: Stored | None = None,
) -> None:
    """Record a message received (again): its status, answer and error replace the last ones; the count grows."""
    received = Received(key, kind, status, raw, answer, error_code, error_message, existing)
    keep_all(establishment_id, channel, [received], now=now)


def keep_all(establishment_id: int, channel: str, messages: list[Received], *, now: datetime) -> None:
    """`keep` for many messages: the new ones in one INSERT, each one received before updated."""
    rows = [
        {
            "establishment_id": establishment_id,
            "channel": channel,
            "key": m.key[:120],
            "kind": m.kind[:40],
            "status": m.status,
            "raw": m.raw,
            "answer": m.answer,
            "error_code": (m.error_code or None) and m.error_code[:60],
            "error_message": (m.error_message or None) and m.error_message[:500],
            "received_count": 1,
            "first_received_at": now,
            "last_received_at": now,
        }
        for m in messages
        if m.existing is None
    ]
    if rows:
        db.session.connection().execute(insert(HisMessage.__table__), rows)
    for m in messages:
        if m.existing is None:
            continue
        values: dict[str, Any] = {"received_count": HisMessage.received_count + 1, "last_received_at": now}
        if m.existing.status not in (MessageStatus.APPLIED, MessageStatus.IGNORED):  # an applied one stays applied
            values |= {
                "status": m.status,
                "answer": m.answer,
                "raw": m.raw,
                "kind": m.kind[:40],
                "error_code": (m.error_code or None) and m.error_code[:60],
                "error_message": (m.error_message or None) and m.error_message[:500],
            }
        db.session.execute(db.update(HisMessage).where(HisMessage.id == m.existing.id).values(**values))


@dataclass
class Counters:
    received: int = 0
    applied: int = 0
    ignored: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def counters(establishment_id: int) -> dict[str, Counters]:
    """Per channel: messages received (every copy), applied, accepted and ignored, refused or rejected (now)."""
    out = {channel: Counters() for channel in CHANNELS}
    query = (
        select(
            HisMessage.channel,
            func.sum(HisMessage.received_count),
            func.sum(case((HisMessage.status == MessageStatus.APPLIED, 1), else_=0)),
            func.sum(case((HisMessage.status == MessageStatus.IGNORED, 1), else_=0)),
            func.sum(case((HisMessage.status.in_((MessageStatus.REFUSED, MessageStatus.REJECTED)), 1), else_=0)),
        )
        .where(HisMessage.establishment_id == establishment_id)
        .group_by(HisMessage.channel)
    )
    for channel, received, applied, ignored, refused in db.session.execute(query):
        out[channel] = Counters(int(received or 0), int(applied or 0), int(ignored or 0), int(refused or 0))
    return out


def last_messages(
    establishment_id: int, channel: str, *, limit: int = 20, errors_only: bool = False
) -> list[HisMessage]:
    query = select(HisMessage).where(HisMessage.establishment_id == establishment_id, HisMessage.channel == channel)
    if errors_only:
        query = query.where(HisMessage.status.in_((MessageStatus.REFUSED, MessageStatus.REJECTED)))
    return list(
        db.session.scalars(query.order_by(HisMessage.last_received_at.desc(), HisMessage.id.desc()).limit(limit))
    )
