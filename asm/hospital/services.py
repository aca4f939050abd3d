"""The hospital desk's writes: wards and beds, admission, carers, transfer, discharge. Flush, never commit.

The rules of admission, transfer, discharge and carers are asm/hospital/filing.py's, on the filing core (the
same as for hospital software's events, asm/hospital/events.py): each function here reads the ORM objects a page
holds into the rules' terms, applies one rule, writes the plan and returns ORM objects read back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm.clock import aware, local_today
from asm.common import Actor, ValidationError, free_text
from asm.establishments.models import Establishment, EstablishmentType, Room
from asm.establishments.services import add_rooms
from asm.extensions import db
from asm.filing.core import Filing
from asm.filing.plan import EventRow, StayRow
from asm.hospital.filing import (
    CARER,
    CARER_REASON,
    PATIENT,
    PATIENT_REASON,
    UNKNOWN_NAME,
    Admission,
    BedRef,
    Hospital,
    Placement,
    provisional_number,
    provisional_person,
)
from asm.hospital.models import Bed, BedAssignment, BedKind, BedStatus, Carer, Ward
from asm.people.services import PersonInput
from asm.stays.models import OPEN_STATUSES, Source, Stay

__all__ = ["CARER", "CARER_REASON", "PATIENT", "PATIENT_REASON", "UNKNOWN_NAME", "provisional_number"]

RECORD_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,15}$")
MAX_WARD_NAME = 120
MAX_LABEL = 40  # a bed's label and a room's name


# --- structure ----------------------------------------------------------------------------------------------


def require_hospital(establishment: Establishment) -> None:
    if establishment.type != EstablishmentType.HOSPITAL:
        raise ValidationError(
            {"establishment": [str(_l("Cơ sở này không phải cơ sở khám chữa bệnh."))]},
            {"establishment": "not_a_hospital"},
        )


def create_ward(
    establishment: Establishment,
    *,
    code: str,
    name: str,
    beds: Sequence[tuple[str, str]],
    kind: str = BedKind.STANDARD,
    capacity: int | None = None,
) -> Ward:
    """A ward with its beds, each given as (room name, bed label); missing rooms are added to the establishment."""
    require_hospital(establishment)
    errors = ValidationError()
    code = (code or "").strip().upper()
    if not code or not re.fullmatch(r"[A-Z0-9-]{1,20}", code):
        errors.add("code", _l("Mã khoa chỉ gồm chữ, số và dấu gạch."), "code_invalid")
    elif db.session.scalar(select(Ward.id).where(Ward.establishment_id == establishment.id, Ward.code == code)):
        errors.add("code", _l("Mã khoa đã có."), "code_taken")
    name = free_text(errors, "name", name, max_length=MAX_WARD_NAME)
    if not name and "name" not in errors.errors:
        errors.add("name", _l("Cần tên khoa."), "name_missing")
    if kind not in tuple(BedKind):
        errors.add("kind", _l("Loại giường không hợp lệ."), "kind_invalid")
    beds = [
        (free_text(errors, "beds", room, max_length=MAX_LABEL), free_text(errors, "beds", label, max_length=MAX_LABEL))
        for room, label in beds
    ]
    if "beds" in errors.errors:
        raise errors  # before the labels reach a query
    labels = [label for _room, label in beds]
    taken = set(
        db.session.scalars(select(Bed.label).where(Bed.establishment_id == establishment.id, Bed.label.in_(labels)))
    )
    if taken or len(set(labels)) != len(labels) or not all(labels):
        errors.add("beds", _l("Tên giường phải có và không trùng trong bệnh viện."), "bed_label_taken")
    if errors:
        raise errors
    ward = Ward(
        establishment_id=establishment.id,
        code=code,
        name=name,
        capacity=capacity if capacity is not None else len(beds),
    )
    db.session.add(ward)
    add_rooms(establishment, sorted({room for room, _label in beds}))
    rooms = {r.name: r for r in establishment.rooms} | {
        r.name: r for r in db.session.scalars(select(Room).where(Room.establishment_id == establishment.id))
    }
    for room_name, label in beds:
        db.session.add(
            Bed(
                establishment_id=establishment.id,
                ward=ward,
                room_id=rooms[room_name].id,
                label=label,
                kind=kind,
                status=BedStatus.FREE,
            )
        )
    db.session.flush()
    return ward


def set_bed_status(bed: Bed, status: str) -> None:
    """Free, reserve or mark for cleaning a bed nobody lies in. "Occupied" follows the patients only."""
    if status not in (BedStatus.FREE, BedStatus.RESERVED, BedStatus.CLEANING):
        raise ValidationError({"status": [str(_l("Trạng thái giường không hợp lệ."))]}, {"status": "status_invalid"})
    if occupant(bed) is not None:
        raise ValidationError(
            {"status": [str(_l("Giường đang có người bệnh: chuyển hoặc cho ra viện trước."))]},
            {"status": "bed_occupied"},
        )
    bed.status = status
    db.session.flush()


# --- reads the writes need ----------------------------------------------------------------------------------


def occupant(bed: Bed) -> Stay | None:
    """The open patient stay holding the bed, if any."""
    return db.session.scalar(
        select(Stay)
        .join(BedAssignment, BedAssignment.stay_id == Stay.id)
        .where(BedAssignment.bed_id == bed.id, BedAssignment.end_at.is_(None), Stay.status.in_(OPEN_STATUSES))
        .limit(1)
    )


def current_assignment(stay: Stay) -> BedAssignment | None:
    return db.session.scalar(
        select(BedAssignment)
        .where(BedAssignment.stay_id == stay.id, BedAssignment.end_at.is_(None))
        .order_by(BedAssignment.id.desc())
        .limit(1)
    )


def open_carers(patient_stay: Stay) -> list[Stay]:
    return list(
        db.session.scalars(
            select(Stay)
            .join(Carer, Carer.stay_id == Stay.id)
            .where(Carer.patient_stay_id == patient_stay.id, Stay.status.in_(OPEN_STATUSES))
            .order_by(Stay.id)
        )
    )


def bed_of(
    establishment: Establishment, bed_id: int | None, errors: ValidationError, *, lock: bool = True
) -> Bed | None:
    """The bed, locked for the rest of the transaction (PostgreSQL) so two clerks cannot fill it at once."""
    bed = None
    if bed_id:
        query = select(Bed).where(Bed.id == bed_id)
        bed = db.session.scalar(query.with_for_update() if lock else query)
    if bed is None or bed.establishment_id != establishment.id or not bed.active:
        errors.add("bed_id", _l("Giường không thuộc bệnh viện này."), "bed_invalid")
        return None
    return bed


def bed_ref(bed: Bed) -> BedRef:
    return BedRef(
        id=bed.id,
        label=bed.label,
        room_id=bed.room_id,
        room_name=bed.room.name,
        ward_id=bed.ward_id,
        ward_code=bed.ward.code,
        active=bed.active,
    )


def location(bed: Bed | None) -> str | None:
    """How a bed reads in the history: "K1 · P101 · K1-P101-1"."""
    return bed_ref(bed).location if bed is not None else None


def require_patient(stay: Stay) -> None:
    if stay.role != PATIENT:
        raise ValidationError(
            {"stay": [str(_l("Đây không phải lượt nằm viện của người bệnh."))]}, {"stay": "not_a_patient"}
        )
    if not stay.is_open:
        raise ValidationError({"stay": [str(_l("Người bệnh đã ra viện."))]}, {"stay": "not_open"})


def unit(establishment: Establishment, *, actor: Actor, now: datetime, source: str = Source.DESK) -> Hospital:
    return Hospital(Filing(establishment, actor=actor, now=now, source=source))


def holding(hospital: Hospital, bed: Bed) -> None:
    """Who holds `bed` now, for the rules' check (the bed is locked by `bed_of`)."""
    stay = occupant(bed)
    if stay is not None:
        hospital.holders[bed.id] = hospital.filing.existing(stay)


def admission_of(hospital: Hospital, stay: Stay) -> Admission:
    """A stored patient's stay, bed and open carers in the rules' terms."""
    row = hospital.filing.existing(stay)
    current = current_assignment(stay)
    placement = None
    if current is not None:
        placement = Placement(bed=bed_ref(current.bed), start_at=aware(current.start_at), id=current.id)
        hospital.holders[current.bed_id] = row
    carers = [hospital.filing.existing(c) for c in open_carers(stay)]
    return Admission(stay=row, placement=placement, carers=carers)


def written(hospital: Hospital, row: StayRow) -> Stay:
    """Write the plan; the stay of `row` as the ORM reads it back."""
    hospital.filing.write()
    stay = db.session.get(Stay, row.id)
    assert stay is not None
    return stay


# --- admission ----------------------------------------------------------------------------------------------


@dataclass
class ProvisionalInput:
    """A patient with no document at hand (a child, an unconscious patient, a foreigner whose passport is away)."""

    record_no: str  # the hospital's record number (mã bệnh án / mã lượt điều trị)
    full_name: str = ""
    birth_date: date | None = None  # an estimate is fine
    sex: str | None = None
    nationality: str = "VNM"


@dataclass
class AdmissionInput:
    bed_id: int
    arrived_at: datetime
    patient: PersonInput | None = None
    provisional: ProvisionalInput | None = None
    expected_discharge: date | None = None


# The core names a guest's fields `guests.0.*`; the desk's admission form names them by itself.
PROVISIONAL_FIELDS = {"guests.0.doc_number": "record_no", "guests.0.birth_date": "birth_date", "guests.0.sex": "sex"}
PROVISIONAL_FIELDS |= {"guests.0.nationality": "nationality", "guests.0.full_name": "full_name"}


def admit(
    establishment: Establishment, data: AdmissionInput, *, actor: Actor, now: datetime, source: Source = Source.DESK
) -> Stay:
    """Admit a patient to a bed. With a document, the stay is filed at once; without one, a provisional identity
    is recorded as a draft, pending (then overdue) until `complete_identity` files it."""
    require_hospital(establishment)
    errors = ValidationError()
    bed = bed_of(establishment, data.bed_id, errors)
    if data.patient is None and data.provisional is None:
        errors.add("patient", _l("Cần thông tin người bệnh."), "patient_missing")
    record_no = None
    if data.provisional is not None:
        record_no = (data.provisional.record_no or "").strip()
        if not RECORD_NO.fullmatch(record_no):
            errors.add("record_no", _l("Cần mã bệnh án (tối đa 16 chữ, số, dấu . / -)."), "record_no_invalid")
    hospital = unit(establishment, actor=actor, now=now, source=source)
    if bed is not None:
        holding(hospital, bed)
        try:
            hospital.check_free(bed_ref(bed), "bed_id")
        except ValidationError as exc:
            errors.errors.update(exc.errors)
            errors.codes.update(exc.codes)
    if errors or bed is None:
        raise errors
    if data.provisional is not None:
        info = data.provisional
        patient = provisional_person(
            establishment.id,
            record_no or "",
            full_name=info.full_name,
            birth_date=info.birth_date,
            sex=info.sex,
            nationality=info.nationality,
        )
        try:
            admission = hospital.admit(
                patient,
                bed_ref(bed),
                arrived_at=data.arrived_at,
                expected_discharge=data.expected_discharge,
                record_no=record_no,
            )
        except ValidationError as exc:
            raise renamed(exc, PROVISIONAL_FIELDS, record_no=record_no or "") from None
    else:
        assert data.patient is not None
        admission = hospital.admit(
            data.patient, bed_ref(bed), arrived_at=data.arrived_at, expected_discharge=data.expected_discharge
        )
    return written(hospital, admission.stay)


def renamed(exc: ValidationError, fields: dict[str, str], *, record_no: str) -> ValidationError:
    out = ValidationError()
    for name, messages in exc.errors.items():
        code = exc.codes.get(name, "invalid")
        if code == "already_in_house":
            messages = [str(_l("Mã bệnh án %(no)s đang nằm viện.", no=record_no))]
        for message in messages:
            out.add(fields.get(name, name), message, code)
    return out


def complete_identity(stay: Stay, patient: PersonInput, *, actor: Actor, now: datetime) -> EventRow:
    """The document of a provisionally admitted patient is known: the stay takes the real person and is filed
    (late if past the deadline). The provisional record stays in the history (the draft event names it)."""
    filing = Filing(stay.establishment, actor=actor, now=now, source=stay.source)
    row = filing.existing(stay)
    filing.identify(row, patient)
    event = filing.file(row)
    filing.write()
    return event


# --- carers -------------------------------------------------------------------------------------------------


@dataclass
class CarerInput:
    person: PersonInput
    relation: str
    arrived_at: datetime
    replaces_stay_id: int | None = None  # a carer swap: this carer leaves as the new one arrives


def register_carer(
    patient_stay: Stay, data: CarerInput, *, actor: Actor, now: datetime, source: Source = Source.DESK
) -> Stay:
    """A carer staying with a patient, up to the hospital's limit; filed like any stay unless the hospital's
    setting says carers are not notified (then recorded as a draft the clerk may still file)."""
    require_patient(patient_stay)
    est = patient_stay.establishment
    hospital = unit(est, actor=actor, now=now, source=source)
    admission = admission_of(hospital, patient_stay)
    replaces = None
    if data.replaces_stay_id is not None:
        replaces = next((c for c in admission.carers if c.id == data.replaces_stay_id), None)
        if replaces is None:
            raise ValidationError(
                {"replaces": [str(_l("Người được thay không phải người chăm sóc của người bệnh này."))]},
                {"replaces": "replaces_invalid"},
            )
    departure = patient_stay.expected_departure
    stay = hospital.register_carer(
        admission,
        data.person,
        relation=data.relation,
        arrived_at=data.arrived_at,
        notify=est.notify_carers,
        max_carers=est.max_carers,
        replaces=replaces,
        today_departure=departure if departure and departure >= local_today(now) else None,
    )
    return written(hospital, stay)


def release_carer(carer_stay: Stay, *, at: datetime, actor: Actor, now: datetime) -> EventRow:
    """The carer leaves and hands the card back: a check-out (a draft of an unnotified carer is withdrawn)."""
    hospital = unit(carer_stay.establishment, actor=actor, now=now)
    event = hospital.release_carer(hospital.filing.existing(carer_stay), at=at)
    hospital.filing.write()
    return event


# --- transfer and discharge ---------------------------------------------------------------------------------


def transfer(patient_stay: Stay, *, bed_id: int, at: datetime, actor: Actor, now: datetime) -> EventRow:
    """Another bed, in this ward or another: the old bed goes to cleaning, the move is notified (its own receipt)
    for the patient and each carer with them, and the bed history keeps both assignments."""
    require_patient(patient_stay)
    errors = ValidationError()
    bed = bed_of(patient_stay.establishment, bed_id, errors)
    if errors or bed is None:
        raise errors
    hospital = unit(patient_stay.establishment, actor=actor, now=now)
    admission = admission_of(hospital, patient_stay)
    holding(hospital, bed)
    event = hospital.transfer(admission, bed_ref(bed), at=at)
    hospital.filing.write()
    return event


def discharge(patient_stay: Stay, *, at: datetime, actor: Actor, now: datetime, with_carers: bool = True) -> list[Stay]:
    """The patient leaves and, unless told otherwise, their carers; the bed goes to cleaning. Returns the stays
    that ended."""
    require_patient(patient_stay)
    hospital = unit(patient_stay.establishment, actor=actor, now=now)
    admission = admission_of(hospital, patient_stay)
    carers = list(admission.carers) if with_carers else []
    hospital.discharge(admission, at=at, with_carers=with_carers)
    hospital.filing.write()
    return [patient_stay] + [hospital.filing.orm_stays[c.id] for c in carers if c.id is not None]
