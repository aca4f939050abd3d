"""Hospital structure and history: wards (khoa), beds, who lay in which bed when, and events from hospital software.

The people staying are ordinary `Stay` rows (role `patient` or `carer`, see asm/stays/models.py): the police see
them like any other stay. These tables only add where they are and what the hospital software sent.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.i18n import N_
from asm.types import UTCDateTime


class BedStatus(enum.StrEnum):
    FREE = "free"
    OCCUPIED = "occupied"  # set by admission and transfer only: a patient's stay holds the bed
    RESERVED = "reserved"
    CLEANING = "cleaning"  # set when a patient leaves the bed; staff free it when it is ready


class BedKind(enum.StrEnum):
    STANDARD = "standard"
    ICU = "icu"
    PEDIATRIC = "pediatric"
    SERVICE = "service"  # giường dịch vụ (paid single room)


# msgids of the catalogue (asm/i18n.py): translated where shown
BED_STATUS_LABELS = {
    BedStatus.FREE: N_("Trống"),
    BedStatus.OCCUPIED: N_("Có người bệnh"),
    BedStatus.RESERVED: N_("Đã đặt trước"),
    BedStatus.CLEANING: N_("Đang vệ sinh"),
}
BED_KIND_LABELS = {
    BedKind.STANDARD: N_("Thường"),
    BedKind.ICU: N_("Hồi sức"),
    BedKind.PEDIATRIC: N_("Nhi"),
    BedKind.SERVICE: N_("Dịch vụ"),
}


class Ward(ModelBase):
    """A department (khoa) with its rooms and beds; `capacity` is the number of beds it is planned for."""

    __tablename__ = "wards"
    __table_args__ = (UniqueConstraint("establishment_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    establishment = relationship("Establishment")
    beds: Mapped[list[Bed]] = relationship(back_populates="ward", order_by="Bed.label")


class Bed(ModelBase):
    """A bed in a room of a ward. Its label is unique in the hospital (what hospital software sends)."""

    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("establishment_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default=BedKind.STANDARD)
    status: Mapped[str] = mapped_column(String(20), default=BedStatus.FREE)
    active: Mapped[bool] = mapped_column(default=True)

    ward: Mapped[Ward] = relationship(back_populates="beds")
    room = relationship("Room")


class BedAssignment(ModelBase):
    """Who lay in which bed from when to when: the census of a past day reads these; a transfer closes one."""

    __tablename__ = "bed_assignments"
    __table_args__ = (Index("ix_bed_assignments_ward_period", "ward_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), index=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stay = relationship("Stay")
    bed: Mapped[Bed] = relationship()


class EventOutcome(enum.StrEnum):
    APPLIED = "applied"
    RECORDED_LATE = "recorded_late"  # older than the admission's current state: history only


class HospitalEvent(ModelBase):
    """One admission/transfer/discharge event accepted from hospital software, kept by its own `event_id`.

    A replay of the same `event_id` finds this row and files nothing. Refused events are not kept, so the
    sender may fix and resend them under the same id.
    """

    __tablename__ = "hospital_events"
    __table_args__ = (
        UniqueConstraint("establishment_id", "event_id"),
        Index("ix_hospital_events_admission", "establishment_id", "admission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    admission_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stays.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    body_hash: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stay = relationship("Stay")


class Carer(ModelBase):
    """A carer's stay (role "carer") tied to the patient's stay, with the relation and the token of the card's QR."""

    __tablename__ = "carers"

    stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), primary_key=True)
    patient_stay_id: Mapped[int] = mapped_column(ForeignKey("stays.id"), index=True)
    relation: Mapped[str] = mapped_column(String(40))
    card_token: Mapped[str] = mapped_column(String(43), unique=True)

    stay = relationship("Stay", foreign_keys=[stay_id])
    patient_stay = relationship("Stay", foreign_keys=[patient_stay_id])


class MessageStatus(enum.StrEnum):
    APPLIED = "applied"  # its effect is committed (HL7 AA; FHIR 200/201; XML applied)
    IGNORED = "ignored"  # understood, nothing to file (A04, A05, A14, an outpatient visit): accepted
    REFUSED = "refused"  # understood and refused by a rule (HL7 AE; FHIR 422): nothing filed
    REJECTED = "rejected"  # not understood (HL7 AR; FHIR 400): nothing filed


class HisMessage(ModelBase):
    """A message received from a hospital information system (HL7 v2, FHIR, insurance XML), by its key: the HL7
    control ID, or a digest of the Bundle or XML record. Kept with the raw text and the answer given, for
    idempotency (a resent HL7 control ID answers the stored ACK and files nothing), the hospital's operations page
    (last messages, errors with the raw message, replay) and the per-channel counters."""

    __tablename__ = "his_messages"
    __table_args__ = (
        UniqueConstraint("establishment_id", "channel", "key"),
        Index("ix_his_messages_channel_last", "establishment_id", "channel", "last_received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))  # hl7 | fhir | xml
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  # "ADT^A01", "Bundle transaction", "XML1 03"
    status: Mapped[str] = mapped_column(String(10))
    raw: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")  # the ACK, the response Bundle, the results
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_message: Mapped[str | None] = mapped_column(String(500))
    received_count: Mapped[int] = mapped_column(default=1)
    first_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
