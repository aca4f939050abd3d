"""The job ledger, reminders and their deliveries, Web Push subscriptions, and the purge ledger (issue 14)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.types import UTCDateTime


class State(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(ModelBase):
    """One unit of work, the truth about it: the queue (Huey) only rings the bell with the row's id.

    A worker claims a row atomically (queued, or running with its lease run out) and holds it for a lease it
    renews while it works; what the job writes commits together with `done`, so a job killed midway leaves no
    half-result and is run again from the start. `key` makes enqueueing idempotent (one row per key)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=State.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ReportChunk(ModelBase):
    """A generated police report, in the database so that every app server can serve it: 1 MB pieces in order."""

    __tablename__ = "police_report_chunks"

    job_id: Mapped[int] = mapped_column(ForeignKey("police_report_jobs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Reminder(ModelBase):
    """One reminder of one establishment at one slot (its local time of the day, stored in UTC). The unique pair
    is the claim: whichever worker inserts it sends the reminder, any other gets an IntegrityError."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("establishment_id", "slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guests: Mapped[int] = mapped_column(default=0)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # names guests: removed with the reminder by the retention purge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishment = relationship("Establishment")
    deliveries: Mapped[list[ReminderDelivery]] = relationship(back_populates="reminder", order_by="ReminderDelivery.id")


class ReminderDelivery(ModelBase):
    """A reminder to one address or one subscribed device, and what became of it (shown to the owner)."""

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | push
    target: Mapped[str] = mapped_column(String(254))  # the address; for push, the device's name
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("push_subscriptions.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=State.QUEUED)
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reminder: Mapped[Reminder] = relationship(back_populates="deliveries")


class PushSubscription(ModelBase):
    """A browser's Web Push subscription (RFC 8030), made by a user of an establishment on the desk."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    device: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


class PurgeLine(ModelBase):
    """The purge ledger, append-only like the history it removes: what, how many, up to when, by which policy."""

    __tablename__ = "purge_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(60))
    rows: Mapped[int] = mapped_column()
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The row hash of the last row removed from a single hash chain (the access log): the first row left links
    # to it, and `audit verify` accepts that link (asm/audit/chains.py).
    anchor: Mapped[str | None] = mapped_column(String(64))


class PurgeMode(ModelBase):
    """A row here, inside the purge's own transaction, lets the history's SQLite triggers accept its DELETEs
    (PostgreSQL: `SET LOCAL asm.purge = 'on'`). Never committed with a row."""

    __tablename__ = "purge_mode"

    id: Mapped[int] = mapped_column(primary_key=True)
