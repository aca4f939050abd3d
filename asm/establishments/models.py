"""Establishments that must notify stays, and their rooms."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.accounts.models import memberships
from asm.clock import utcnow
from asm.extensions import db
from asm.i18n import N_
from asm.types import UTCDateTime


class EstablishmentType(enum.StrEnum):
    HOTEL = "hotel"
    GUESTHOUSE = "guesthouse"
    HOMESTAY = "homestay"
    DORMITORY = "dormitory"
    RENTED_ROOMS = "rented_rooms"
    HOSPITAL = "hospital"
    OTHER = "other"


# msgids of the catalogue (asm/i18n.py): translated where shown
TYPE_LABELS = {
    EstablishmentType.HOTEL: N_("Khách sạn"),
    EstablishmentType.GUESTHOUSE: N_("Nhà nghỉ"),
    EstablishmentType.HOMESTAY: N_("Homestay"),
    EstablishmentType.DORMITORY: N_("Ký túc xá"),
    EstablishmentType.RENTED_ROOMS: N_("Nhà cho thuê trọ"),
    EstablishmentType.HOSPITAL: N_("Cơ sở khám chữa bệnh"),
    EstablishmentType.OTHER: N_("Khác"),
}


class Establishment(db.Model):
    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    commune_code: Mapped[str] = mapped_column(ForeignKey("communes.code"), index=True)
    licence_no: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Hospitals (asm/hospital): carers allowed per patient, and whether carers' stays are filed with the police.
    max_carers: Mapped[int] = mapped_column(default=2, server_default="2")
    notify_carers: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Deadline reminders (asm/jobs/reminders.py): local times "21:30,22:30,07:00" (NULL: REMINDER_TIMES), and the
    # address they are e-mailed to (NULL: no e-mail; devices subscribed on the desk get them by Web Push).
    reminder_times: Mapped[str | None] = mapped_column(String(60))
    reminder_email: Mapped[str | None] = mapped_column(String(254))

    commune = relationship("Commune")
    rooms: Mapped[list[Room]] = relationship(back_populates="establishment", order_by="Room.name")
    staff = relationship("User", secondary=memberships, back_populates="establishments")

    @property
    def type_enum(self) -> EstablishmentType:
        return EstablishmentType(self.type)

    def __repr__(self) -> str:
        return f"<Establishment {self.code}>"


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("establishment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(default=2)
    active: Mapped[bool] = mapped_column(default=True)

    establishment: Mapped[Establishment] = relationship(back_populates="rooms")
