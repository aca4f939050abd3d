"""A foreign national's stay: the details the foreigners' declaration (form NA17) needs, and the declaration itself.

One row per stay of a guest whose nationality is not VNM, planned by the filing core with the stay
(asm/filing/core.py `Filing.arrive`) and written by the set-based writer; its declaration is marked by
`Filing.declare` (a history event of its own). The deadline and state rules are asm/stays/rules.py's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.extensions import ModelBase
from asm.stays.models import Stay
from asm.stays.rules import NoticeState, declaration_state
from asm.types import UTCDateTime


class ForeignStay(ModelBase):
    __tablename__ = "foreign_stays"
    # Column types are spelled out: this module may first be imported while a test has frozen time (freezegun
    # replaces `date`), and annotations alone would then not resolve.

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), unique=True)
    passport_expiry: Mapped[date | None] = mapped_column(Date)
    visa_type: Mapped[str | None] = mapped_column(String(20))
    visa_number: Mapped[str | None] = mapped_column(String(30))
    entry_date: Mapped[date | None] = mapped_column(Date)
    entry_port: Mapped[str | None] = mapped_column(String(80))
    entry_purpose: Mapped[str | None] = mapped_column(String(100))
    deadline_hours: Mapped[int] = mapped_column(Integer)  # 12, or 24 where the commune is marked remote (settings)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declaration_ref: Mapped[str | None] = mapped_column(String(60))

    stay: Mapped[Stay] = relationship(back_populates="foreign")

    def state(self, now: datetime) -> NoticeState:
        return declaration_state(self.deadline_at, self.declared_at, now)

    @property
    def missing(self) -> list[str]:
        """The NA17 fields not known yet (the form can be printed with blanks, and filled by hand)."""
        return [name for name in ("entry_date", "entry_port", "entry_purpose") if not getattr(self, name)]

    def __repr__(self) -> str:
        return f"<ForeignStay stay={self.stay_id}>"
