"""Establishments that must notify stays, and their rooms."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.accounts.models import memberships
from asm.clock import utcnow
from asm.extensions import ModelBase
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


class Status(enum.StrEnum):
    """Where an establishment stands with the commune police (issue 16). Only an approved one files."""

    PENDING = "pending"  # registered by its owner, waiting for the commune police
    CHANGES_REQUESTED = "changes_requested"  # the police asked for changes, with a reason
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"  # closed for renovation, licence withdrawn...: reopened by the police


STATUS_LABELS = {
    Status.PENDING: N_("Chờ Công an duyệt"),
    Status.CHANGES_REQUESTED: N_("Cần bổ sung"),
    Status.APPROVED: N_("Đã duyệt"),
    Status.REJECTED: N_("Bị từ chối"),
    Status.SUSPENDED: N_("Tạm dừng"),
}


class Decision(enum.StrEnum):
    """What happened to a registration, one row of `establishment_decisions` each."""

    REGISTERED = "registered"
    RESUBMITTED = "resubmitted"
    APPROVE = "approve"
    ASK_CHANGES = "ask_changes"
    REJECT = "reject"
    SUSPEND = "suspend"
    REOPEN = "reopen"
    CREATED = "created"  # by the platform admin (CLI or admin pages): approved at once


DECISION_LABELS = {
    Decision.REGISTERED: N_("Chủ cơ sở đăng ký"),
    Decision.RESUBMITTED: N_("Chủ cơ sở gửi lại hồ sơ"),
    Decision.APPROVE: N_("Duyệt"),
    Decision.ASK_CHANGES: N_("Yêu cầu bổ sung"),
    Decision.REJECT: N_("Từ chối"),
    Decision.SUSPEND: N_("Tạm dừng hoạt động"),
    Decision.REOPEN: N_("Mở lại"),
    Decision.CREATED: N_("Quản trị tạo"),
}


class Establishment(ModelBase):
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
    # The police's decision (issue 16): only `approved` files; the reason of the last refusal, request or suspension.
    status: Mapped[str] = mapped_column(String(20), default=Status.APPROVED, server_default=Status.APPROVED.value)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    capacity: Mapped[int | None] = mapped_column()  # rooms, or beds for a hospital, as registered
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

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def can_file(self) -> bool:
        return self.status == Status.APPROVED

    def __repr__(self) -> str:
        return f"<Establishment {self.code}>"


class EstablishmentDecision(ModelBase):
    """Append-only history of an establishment's registration: who decided what, when and why (the ORM refuses
    updates and deletes below; migration 0016 adds database triggers)."""

    __tablename__ = "establishment_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # the status after the decision
    reason: Mapped[str | None] = mapped_column(String(500))

    user = relationship("User")

    @property
    def label(self) -> str:
        return DECISION_LABELS[Decision(self.action)]


@event.listens_for(EstablishmentDecision, "before_update")
@event.listens_for(EstablishmentDecision, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: EstablishmentDecision) -> None:
    raise RuntimeError("establishment_decisions is append-only")


class Room(ModelBase):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("establishment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(default=2)
    active: Mapped[bool] = mapped_column(default=True)

    establishment: Mapped[Establishment] = relationship(back_populates="rooms")
