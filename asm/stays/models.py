"""Stays, their append-only history, and stored answers for idempotent API retries."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.audit.chains import Chain, register
from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.stays.rules import NoticeState, is_long_stay, notice_state
from asm.types import UTCDateTime

if TYPE_CHECKING:
    from asm.foreigners.models import ForeignStay


class StayStatus(enum.StrEnum):
    DRAFT = "draft"  # recorded, notification not filed yet
    IN_HOUSE = "in_house"  # filed, guest present
    CHECKED_OUT = "checked_out"
    CANCELLED = "cancelled"


OPEN_STATUSES = (StayStatus.DRAFT, StayStatus.IN_HOUSE)
OPEN_WHERE = text("status IN ('draft', 'in_house')")


class EventKind(enum.StrEnum):
    CHECK_IN = "check_in"
    DRAFT = "draft"
    FILE = "file"
    EXTEND = "extend"
    MOVE = "move"
    CHECK_OUT = "check_out"
    CANCEL = "cancel"
    REOPEN = "reopen"  # a check-out withdrawn (hospital software cancels a discharge): in house again
    DECLARE = "declare"  # a foreign guest's temporary-residence declaration made (its reference number)
    FOREIGN = "foreign"  # a foreign guest's entry and visa details completed or corrected


LATE_OUTAGE = "outage"  # filed late because the device could not reach the server (kept offline, sent after)


class Source(enum.StrEnum):
    DESK = "desk"
    API = "api"
    KIOSK = "kiosk"
    DEMO = "demo"


class Stay(ModelBase):
    __tablename__ = "stays"
    __table_args__ = (
        # One open stay per person per establishment; the person first, so that a guest's open stays anywhere
        # (the "in house elsewhere" warning) are read by the person's id (migration 0018).
        Index(
            "uq_stays_open_person",
            "person_id",
            "establishment_id",
            unique=True,
            sqlite_where=OPEN_WHERE,
            postgresql_where=OPEN_WHERE,
        ),
        Index("ix_stays_establishment_status", "establishment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    head_id: Mapped[int | None] = mapped_column(ForeignKey("stays.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_departure: Mapped[date | None] = mapped_column()
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Hospitals (asm/hospital): "patient" (inpatient) or "carer"; every other stay is a "guest".
    role: Mapped[str] = mapped_column(String(10), default="guest", server_default="guest")
    # Why a filing came past its deadline, when the device that made it says: "outage" (docs/OFFLINE.md).
    filed_late_reason: Mapped[str | None] = mapped_column(String(20))

    establishment = relationship("Establishment")
    person = relationship("Person")
    room = relationship("Room")
    head: Mapped[Stay | None] = relationship(remote_side=[id], back_populates="members")
    members: Mapped[list[Stay]] = relationship(back_populates="head")
    events: Mapped[list[StayEvent]] = relationship(back_populates="stay", order_by="StayEvent.id")
    # A foreign guest's declaration details (asm/foreigners/models.py); None for everyone else.
    foreign: Mapped[ForeignStay | None] = relationship(back_populates="stay", uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def state(self, now: datetime) -> NoticeState:
        return notice_state(self.deadline_at, self.filed_at, now)

    def is_long_stay(self, now: datetime, limit_days: int = 30) -> bool:
        """Open and reaching `limit_days`: due for temporary-residence registration."""
        return self.is_open and is_long_stay(
            self.arrived_at, until=now, expected_departure=self.expected_departure, limit_days=limit_days
        )

    def __repr__(self) -> str:
        return f"<Stay {self.id} {self.status}>"


class StayEvent(ModelBase):
    """Append-only history of a stay: every notification and change, with who and when.

    Rows are never updated or deleted: the ORM refuses it below, and the migration adds a database trigger.
    """

    __tablename__ = "stay_events"
    # PostgreSQL partitions this table by stay_id (migration 0017): a unique key holds it, so a receipt number is
    # unique per stay here (the stay's own receipt is unique in `stays`).
    __table_args__ = (UniqueConstraint("receipt_no", "stay_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    receipt_no: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The stay's hash chain (asm/audit): its previous event's hash and its own, sealed by the filing core's writers.
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    stay: Mapped[Stay] = relationship(back_populates="events")


STAY_EVENTS_CHAIN = register(
    Chain(
        "stay_events",
        StayEvent.__table__,
        fields=("stay_id", "kind", "at", "actor", "user_id", "token_id", "receipt_no", "data"),
        partition=("stay_id",),
    )
)


@event.listens_for(StayEvent, "before_update")
@event.listens_for(StayEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: StayEvent) -> None:
    raise RuntimeError("stay_events is append-only")


class IdempotencyRecord(ModelBase):
    """The first answer to a request with an Idempotency-Key, replayed to every retry."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column()
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
