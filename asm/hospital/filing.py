"""The hospital's rules on the filing core: admission to a bed, transfer, discharge, carers. Flush-free.

Both hospital channels use these, so a rule is written once: the desk pages (asm/hospital/services.py, one patient
at a time, from ORM objects) and the events of hospital software (asm/hospital/events.py, a thousand at a time,
from rows read in a few queries). Patients and carers are ordinary stays of the core (`Filing.arrive`, `file`,
`check_out`, `cancel`), so deadlines, receipts, the history and the police watch list are every establishment's;
what this adds are the bed rows (`bed_assignments`, the bed's status), the carer's tie to the patient and the
hospital's words for the history.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from asm.common import ValidationError, free_text
from asm.filing.core import FUTURE_TOLERANCE, UNKNOWN_NAME, CheckInInput, Filing
from asm.filing.plan import EventRow, LinkedRow, StayRow
from asm.hospital.models import BedStatus
from asm.people.models import DocType
from asm.people.services import PersonInput
from asm.stays.models import EventKind, StayStatus
from asm.trades import place

PATIENT = "patient"
CARER = "carer"
PATIENT_REASON = "Điều trị nội trú"
CARER_REASON = "Chăm sóc người bệnh"


@dataclass(frozen=True, eq=False)
class BedRef:
    """A bed as the rules see it."""

    id: int
    label: str
    room_id: int
    room_name: str
    ward_id: int
    ward_code: str
    active: bool = True

    @property
    def location(self) -> str:
        """How a bed reads in the history: "K1 · P101 · K1-P101-1", each name once ("K2 · K2-G06" for a bed named
        as its room)."""
        return place(self.ward_code, self.room_name, self.label)


@dataclass(eq=False)
class Placement:
    """A patient in a bed from `start_at` (stored: `id`; planned: `row`)."""

    bed: BedRef
    start_at: datetime
    id: int | None = None
    row: LinkedRow | None = None


@dataclass(eq=False)
class Admission:
    """One patient's stay with their bed and carers, as the rules need it."""

    stay: StayRow
    placement: Placement | None = None
    carers: list[StayRow] = field(default_factory=list)
    last_at: datetime | None = None  # the time of the last event applied (hospital software's events)


def location(bed: BedRef | None) -> str | None:
    return bed.location if bed is not None else None


def provisional_person(
    establishment_id: int,
    record_no: str,
    *,
    full_name: str = "",
    birth_date: date | None = None,
    sex: str | None = None,
    nationality: str = "VNM",
) -> PersonInput:
    """A patient with no document at hand (a child, an unconscious patient, a foreigner whose passport is away):
    identified by the hospital's record number until `complete_identity` files the real one."""
    return PersonInput(
        doc_type=DocType.NONE,
        doc_number=provisional_number(establishment_id, record_no),
        full_name=(full_name or "").strip() or UNKNOWN_NAME,  # checked by the core's name rule
        birth_date=birth_date,
        sex=sex,
        nationality=(nationality or "VNM").strip().upper(),
    )


def provisional_number(establishment_id: int, record_no: str) -> str:
    """The document number of a provisional identity: the hospital's id and its record number (unique together)."""
    return f"{establishment_id}-{record_no.strip().upper()}"[:20]


class Hospital:
    """The hospital's rules on one `Filing`; `holders`: who lies in which bed, kept as the plan grows."""

    def __init__(self, filing: Filing, holders: dict[int, StayRow] | None = None) -> None:
        self.filing = filing
        self.holders: dict[int, StayRow] = holders if holders is not None else {}

    # -- admission

    def admit(
        self,
        patient: PersonInput,
        bed: BedRef,
        *,
        arrived_at: datetime,
        expected_discharge: date | None = None,
        record_no: str | None = None,
        extra: dict[str, Any] | None = None,
        bed_field: str = "bed_id",
    ) -> Admission:
        """A patient into a free bed: filed at once with a document, a draft (pending, then overdue) without."""
        self.check_free(bed, bed_field)
        provisional = patient.doc_type == DocType.NONE
        data = CheckInInput(
            guests=[patient],
            arrived_at=arrived_at,
            reason=PATIENT_REASON,
            room_id=bed.room_id,
            expected_departure=expected_discharge,
            file_now=not provisional,
        )
        event_data: dict[str, Any] = {"room": bed.room_name, "bed": bed.label} | (extra or {})
        if provisional and record_no:
            event_data["provisional_record_no"] = record_no
        [stay] = self.filing.arrive(data, role=PATIENT, event_data=event_data, room=(bed.room_id, bed.room_name))
        admission = Admission(stay=stay, last_at=arrived_at)
        admission.placement = self.place(stay, bed, at=arrived_at)
        return admission

    def check_free(self, bed: BedRef, bed_field: str, *, for_stay: StayRow | None = None) -> None:
        if not bed.active:
            raise ValidationError(
                {bed_field: [str(_l("Giường không thuộc bệnh viện này."))]}, {bed_field: "bed_invalid"}
            )
        holder = self.holders.get(bed.id)
        if holder is not None and holder is not for_stay:
            raise ValidationError(
                {
                    bed_field: [
                        str(_l("Giường %(bed)s đang có người bệnh %(name)s.", bed=bed.label, name=holder.person_name))
                    ]
                },
                {bed_field: "bed_occupied"},
            )

    # -- transfer

    def transfer(self, admission: Admission, bed: BedRef, *, at: datetime, bed_field: str = "bed_id") -> EventRow:
        """Another bed, in this ward or another: the old bed goes to cleaning, the move is notified (its own receipt)
        for the patient and each carer with them, and the bed history keeps both placements."""
        require_open_patient(admission.stay)
        errors = ValidationError()
        current = admission.placement
        if current is not None and current.bed.id == bed.id:
            errors.add(bed_field, _l("Người bệnh đang nằm giường này."), "same_bed")
        else:
            try:
                self.check_free(bed, bed_field, for_stay=admission.stay)
            except ValidationError as exc:
                errors.errors.update(exc.errors)
                errors.codes.update(exc.codes)
        if current is not None and at < current.start_at:
            errors.add("at", _l("Giờ chuyển không thể trước lần xếp giường trước."), "transfer_before_placement")
        if at > self.filing.now + FUTURE_TOLERANCE:
            errors.add("at", _l("Giờ chuyển không thể ở tương lai."), "transfer_future")
        if errors:
            raise errors
        before = current.bed if current is not None else None
        if current is not None:
            self.end(current, at=at)
        admission.placement = self.place(admission.stay, bed, at=at)
        data = {"from": location(before), "to": bed.location, "at": at.isoformat()}
        stay = admission.stay
        self.filing.touch(stay)
        stay.set(room_id=bed.room_id, room_name=bed.room_name)
        event = self.filing.record(stay, EventKind.MOVE, data, receipt=stay.filed_at is not None)
        for carer in admission.carers:
            if carer.is_open:
                self.filing.touch(carer)
                carer.set(room_id=bed.room_id, room_name=bed.room_name)
                self.filing.record(carer, EventKind.MOVE, data, receipt=carer.filed_at is not None)
        admission.last_at = at
        return event

    # -- discharge

    def discharge(self, admission: Admission, *, at: datetime, with_carers: bool = True) -> EventRow:
        """The patient leaves (a check-out with its receipt) and, unless told otherwise, their carers; the bed goes
        to cleaning."""
        require_open_patient(admission.stay)
        event = self.filing.check_out(admission.stay, at=at)
        if admission.placement is not None:
            self.end(admission.placement, at=at)
            admission.placement = None
        if with_carers:
            for carer in admission.carers:
                if carer.is_open:
                    self.release_carer(carer, at=max(at, carer.arrived_at))
            admission.carers = []
        admission.last_at = at
        return event

    # -- cancellations (hospital software withdraws an admission or a discharge it sent by mistake)

    def cancel_admission(self, admission: Admission, *, at: datetime, reason: str) -> EventRow:
        """The admission was a mistake: the patient's stay and their carers' are cancelled (the notification stays
        in the history with a cancelling receipt) and the bed goes to cleaning."""
        require_open_patient(admission.stay)
        for carer in admission.carers:
            if carer.is_open:
                self.filing.cancel(carer, reason=reason)
        admission.carers = []
        if admission.placement is not None:
            self.end(admission.placement, at=max(at, admission.placement.start_at))
            admission.placement = None
        admission.last_at = at
        return self.filing.cancel(admission.stay, reason=reason)

    def cancel_discharge(self, admission: Admission, bed: BedRef, *, at: datetime, reason: str) -> EventRow:
        """The discharge was a mistake: the patient is in house again (notified with its own receipt), back in
        `bed` from `at`. Carers who left with the patient stay gone (they are registered again if they stay)."""
        stay = admission.stay
        if stay.role != PATIENT:
            raise ValidationError(
                {"stay": [str(_l("Đây không phải lượt nằm viện của người bệnh."))]}, {"stay": "not_a_patient"}
            )
        self.check_free(bed, "bed")
        event = self.filing.reopen(stay, reason=reason)
        stay.set(room_id=bed.room_id, room_name=bed.room_name)
        admission.placement = self.place(stay, bed, at=at)
        admission.last_at = at
        return event

    # -- carers

    def register_carer(
        self,
        admission: Admission,
        person: PersonInput,
        *,
        relation: str,
        arrived_at: datetime,
        notify: bool,
        max_carers: int,
        replaces: StayRow | None = None,
        today_departure: date | None = None,
    ) -> StayRow:
        """A carer staying with a patient, up to the hospital's limit; filed like any stay unless the hospital's
        setting says carers are not notified (then a draft the clerk may still file). `replaces`: a carer swap."""
        require_open_patient(admission.stay)
        errors = ValidationError()
        relation = free_text(errors, "relation", relation, max_length=MAX_RELATION)
        if not relation and "relation" not in errors.errors:
            errors.add("relation", _l("Cần ghi quan hệ với người bệnh."), "relation_missing")
        carers = [c for c in admission.carers if c.is_open]
        if replaces is not None and replaces not in carers:
            errors.add(
                "replaces", _l("Người được thay không phải người chăm sóc của người bệnh này."), "replaces_invalid"
            )
        if replaces is None and len(carers) >= max_carers:
            errors.add(
                "carers",
                _l(
                    "Người bệnh %(name)s đã có đủ %(n)s người chăm sóc. Muốn đổi người, hãy trả thẻ một người trước "
                    "(hoặc chọn “thay cho”).",
                    name=admission.stay.person_name,
                    n=max_carers,
                ),
                "carers_full",
            )
        if errors:
            raise errors
        if replaces is not None:
            self.release_carer(replaces, at=max(arrived_at, replaces.arrived_at))
        patient = admission.stay
        data = CheckInInput(
            guests=[person],
            arrived_at=arrived_at,
            reason=CARER_REASON,
            room_id=patient.room_id,
            expected_departure=today_departure,
            file_now=notify,
        )
        room = (patient.room_id, patient.room_name or "") if patient.room_id is not None else None
        [stay] = self.filing.arrive(data, role=CARER, room=room)
        self.filing.link(
            "carers",
            {"relation": relation, "card_token": secrets.token_urlsafe(24)},
            stay_id=stay,
            patient_stay_id=patient,
        )
        admission.carers.append(stay)
        return stay

    def release_carer(self, carer: StayRow, *, at: datetime) -> EventRow:
        """The carer leaves and hands the card back: a check-out (a draft of an unnotified carer is withdrawn)."""
        if carer.role != CARER or not carer.is_open:
            raise ValidationError({"stay": [str(_l("Người chăm sóc không còn ở viện."))]}, {"stay": "not_open"})
        if carer.status == StayStatus.DRAFT:
            return self.filing.cancel(carer, reason=str(_l("Người chăm sóc đã về (chưa khai báo).")))
        return self.filing.check_out(carer, at=at)

    # -- beds

    def place(self, stay: StayRow, bed: BedRef, *, at: datetime) -> Placement:
        row = self.filing.link(
            "bed_assignments", {"bed_id": bed.id, "ward_id": bed.ward_id, "start_at": at, "end_at": None}, stay_id=stay
        )
        self.holders[bed.id] = stay
        self.filing.update("beds", bed.id, {"status": BedStatus.OCCUPIED})
        return Placement(bed=bed, start_at=at, row=row)

    def end(self, placement: Placement, *, at: datetime) -> None:
        if placement.row is not None:
            placement.row.values["end_at"] = at
        else:
            assert placement.id is not None
            self.filing.update("bed_assignments", placement.id, {"end_at": at})
        if self.holders.get(placement.bed.id) is not None:
            del self.holders[placement.bed.id]
        self.filing.update("beds", placement.bed.id, {"status": BedStatus.CLEANING})


MAX_RELATION = 40


def require_open_patient(stay: StayRow) -> None:
    if stay.role != PATIENT:
        raise ValidationError(
            {"stay": [str(_l("Đây không phải lượt nằm viện của người bệnh."))]}, {"stay": "not_a_patient"}
        )
    if not stay.is_open:
        raise ValidationError({"stay": [str(_l("Người bệnh đã ra viện."))]}, {"stay": "not_open"})
