"""People and the document that identifies them. A returning person is found by document."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.i18n import N_
from asm.text import SEARCH_KEY_MAX, search_key
from asm.types import UTCDateTime


class DocType(enum.StrEnum):
    CCCD = "cccd"  # 12-digit personal ID number (CCCD / căn cước / số định danh cá nhân)
    CMND = "cmnd"  # old 9-digit identity card
    PASSPORT = "passport"
    NONE = "none"  # hospitals: a provisional identity (no document yet), kept as a draft until completed


# msgids of the catalogue (asm/i18n.py): translated where shown
DOC_LABELS = {
    DocType.CCCD: N_("CCCD/Căn cước"),
    DocType.CMND: N_("CMND"),
    DocType.PASSPORT: N_("Hộ chiếu"),
    DocType.NONE: N_("Chưa có giấy tờ"),
}
SEX_LABELS = {"M": N_("Nam"), "F": N_("Nữ")}


class Person(ModelBase):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("doc_type", "doc_number", "nationality"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(10))
    doc_number: Mapped[str] = mapped_column(String(20), index=True)
    nationality: Mapped[str] = mapped_column(String(3), default="VNM")
    full_name: Mapped[str] = mapped_column(String(120))
    # The folded name every name search compares with (asm.text.search_key): set with the name, below, by the
    # ORM; the filing core's writers, which bypass it, store search_key(full_name) too (asm/filing/).
    search_key: Mapped[str] = mapped_column(String(SEARCH_KEY_MAX), index=True)
    birth_date: Mapped[date] = mapped_column()
    sex: Mapped[str | None] = mapped_column(String(1))
    address: Mapped[str | None] = mapped_column(String(300))
    old_id_number: Mapped[str | None] = mapped_column(String(9))
    id_issue_date: Mapped[date | None] = mapped_column()
    card_extra: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @validates("full_name")
    def _name_and_key(self, _attribute: str, value: str) -> str:
        self.search_key = search_key(value)
        return value

    @property
    def is_foreigner(self) -> bool:
        return self.nationality != "VNM"

    @property
    def masked_doc_number(self) -> str:
        return mask(self.doc_number)

    def __repr__(self) -> str:
        return f"<Person {self.doc_type}:{mask(self.doc_number)}>"


def mask(number: str, keep: int = 4) -> str:
    return "*" * max(len(number) - keep, 0) + number[-keep:]
