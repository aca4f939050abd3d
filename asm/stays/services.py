"""The stay lifecycle for callers that hold ORM objects (desk pages, kiosk, API, CLI, demo, hospital desk).

Each function is one unit of work of the filing core (asm/filing/core.py): it plans with the core's rules, writes
with the core's writer, and returns ORM objects read back. Flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.filing.core import (
    FUTURE_TOLERANCE,
    MAX_BACKDATE,
    MAX_GROUP,
    CheckInInput,
    Filing,
    check_arrival,
    deadline_for,
    new_receipt_no,
    validate_check_in,
)
from asm.filing.plan import EventRow, Warning
from asm.stays.models import Source, Stay

__all__ = [
    "FUTURE_TOLERANCE",
    "MAX_BACKDATE",
    "MAX_GROUP",
    "CheckInInput",
    "CheckInResult",
    "cancel",
    "check_arrival",
    "check_in",
    "check_out",
    "deadline_for",
    "extend",
    "file_draft",
    "move",
    "new_receipt_no",
    "validate_check_in",
]


@dataclass
class CheckInResult:
    stays: list[Stay]
    warnings: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # the warnings' stable codes, in the same order

    @classmethod
    def of(cls, stays: list[Stay], warnings: list[Warning]) -> CheckInResult:
        return cls(stays=stays, warnings=[w.message for w in warnings], codes=[w.code for w in warnings])


def check_in(
    establishment: Establishment,
    data: CheckInInput,
    *,
    actor: Actor,
    now: datetime,
    source: Source = Source.DESK,
) -> CheckInResult:
    """Record the arrival of one person or a group under its first member, and file it unless told not to."""
    filing = Filing(establishment, actor=actor, now=now, source=source)
    rows = filing.arrive(data)
    plan = filing.write()
    return CheckInResult.of(load_stays([s.id for s in rows if s.id is not None]), plan.warnings)


def load_stays(ids: list[int]) -> list[Stay]:
    """Stays just written, in the order given, with their person and room."""
    found = {
        s.id: s
        for s in db.session.scalars(
            select(Stay)
            .where(Stay.id.in_(ids))
            .options(joinedload(Stay.person), joinedload(Stay.room), joinedload(Stay.foreign))
        )
    }
    return [found[i] for i in ids]


def file_draft(stay: Stay, *, actor: Actor, now: datetime) -> EventRow:
    """File the notification of a stay recorded as a draft. Late if past its deadline."""
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.file(filing.existing(stay))
    filing.write()
    return event


def check_out(stay: Stay, *, at: datetime, actor: Actor, now: datetime, waited_offline: bool = False) -> EventRow:
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.check_out(filing.existing(stay), at=at, waited_offline=waited_offline)
    filing.write()
    return event


def extend(stay: Stay, *, until: date, actor: Actor, now: datetime) -> EventRow:
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.extend(filing.existing(stay), until=until)
    filing.write()
    return event


def move(
    stay: Stay, *, actor: Actor, now: datetime, room_id: int | None = None, room_name: str | None = None
) -> EventRow:
    """Another room, by id (pages) or by name (API)."""
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.move(filing.existing(stay), room_id=room_id, room_name=room_name)
    filing.write()
    return event


def cancel(stay: Stay, *, reason: str, actor: Actor, now: datetime) -> EventRow:
    """Withdraw a stay filed or recorded by mistake. The notification stays in the history."""
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.cancel(filing.existing(stay), reason=reason)
    filing.write()
    return event
