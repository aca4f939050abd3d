"""Police: the watch list, its alerts, and report jobs (generated in the background, polled for progress)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.stays.models import Stay
from asm.types import UTCDateTime


class WatchEntry(ModelBase):
    """An ID number the police want to know about. It applies to filings in one commune (an officer's entry) or
    in a whole province (a supervisor's entry: commune_code is NULL)."""

    __tablename__ = "watch_entries"
    __table_args__ = (Index("ix_watch_entries_doc_number_active", "doc_number", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_number: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(255))
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by = relationship("User", foreign_keys=[created_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])
    commune = relationship("Commune")
    province = relationship("Province")


class AlertState(enum.StrEnum):
    NEW = "new"
    SEEN = "seen"
    CLOSED = "closed"


class Alert(ModelBase):
    """A watch-listed person's stay was filed: an alert for the ward (commune) of the establishment."""

    __tablename__ = "police_alerts"
    __table_args__ = (
        UniqueConstraint("watch_entry_id", "stay_id"),
        Index("ix_police_alerts_commune_state", "commune_code", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_entry_id: Mapped[int] = mapped_column(ForeignKey("watch_entries.id"), index=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"))
    state: Mapped[str] = mapped_column(String(10), default=AlertState.NEW)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    close_note: Mapped[str | None] = mapped_column(String(255))

    watch_entry: Mapped[WatchEntry] = relationship()
    stay = relationship("Stay")
    commune = relationship("Commune")
    seen_by = relationship("User", foreign_keys=[seen_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportJob(ModelBase):
    """A report (PDF, CSV or XLSX) asked for by one police user, written to a file by a background thread."""

    __tablename__ = "police_report_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # establishment | commune | register
    fmt: Mapped[str] = mapped_column(String(4))  # pdf | csv | xlsx
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return min(99, int(100 * self.done / self.total)) if self.total else 0


# Indexes on `stays` that the police dashboard needs (created by migration 0004; measured in bench/police_scale.py):
# departures per day and "filed nothing for N days" read these per establishment; arrivals, late notifications and
# the most-late ranking read the covering one without touching the table (PostgreSQL INCLUDE; on SQLite it is a
# plain index). It also serves what ix_stays_establishment_arrived did, dropped by migration 0005.
Index("ix_stays_establishment_departed", Stay.establishment_id, Stay.departed_at)
Index("ix_stays_establishment_filed", Stay.establishment_id, Stay.filed_at)
Index(
    "ix_stays_police_arrivals",
    Stay.establishment_id,
    Stay.arrived_at,
    postgresql_include=["status", "filed_at", "deadline_at"],
)
