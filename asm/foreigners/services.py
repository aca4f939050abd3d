"""The foreigners' channel for callers holding ORM objects (desk pages, API, CLI): each function is one unit of
work of the filing core (asm/filing/core.py). Flushes, never commits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from asm.common import Actor, ValidationError
from asm.filing.core import Filing
from asm.filing.plan import EventRow
from asm.foreigners.models import ForeignStay
from asm.people.services import ForeignInput
from asm.stays.models import Stay


def foreign_of(stay: Stay) -> ForeignStay:
    """The stay's foreigners' record; a citizen's stay has none (a clear 422, not a 500)."""
    foreign = stay.foreign
    if foreign is None:
        raise ValidationError({"stay": [str(_l("Khách này không phải người nước ngoài."))]}, {"stay": "not_foreign"})
    return foreign


def declare(stay: Stay, *, reference: str, at: datetime | None, actor: Actor, now: datetime) -> EventRow:
    """Mark the temporary-residence declaration of a foreign guest made, with its reference number and time."""
    foreign = foreign_of(stay)
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.declare(filing.existing(stay), foreign, reference=reference, at=at)
    filing.write()
    return event


def update_details(stay: Stay, details: ForeignInput, *, actor: Actor, now: datetime) -> EventRow | None:
    """Complete or correct a foreign guest's entry and visa details; None when nothing changed."""
    foreign = foreign_of(stay)
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    event = filing.update_foreign(filing.existing(stay), foreign, details)
    filing.write()
    return event
