"""Hospital writes: wards and beds, admission, carers, transfer, discharge. Flush, never commit.

Every person staying is a `Stay` filed through asm.stays.services (check_in, check_out, file_draft,
record_event), so the deadline, the receipt and the history are the ones every other establishment gets.
What this module adds: the bed (a `BedAssignment` per bed held), the role of the stay, the carer's tie to the
patient. The batch of events from hospital software lives in asm/hospital/events.py.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from asm import text as rules
from asm.clock import local_today, to_local
from asm.common import Actor, ValidationError, free_text
from asm.establishments.models import Establishment, EstablishmentType, Room
from asm.establishments.services import add_rooms
from asm.extensions import db
from asm.hospital.models import Bed, BedAssignment, BedKind, BedStatus, Carer, Ward
from asm.people.models import DocType, Person
from asm.people.services import PersonInput, find_person, record_person, validate_person
from asm.stays import services as stays
from asm.stays.models import OPEN_STATUSES, EventKind, Source, Stay, StayEvent, StayStatus

PATIENT = "patient"
CARER = "carer"
PATIENT_REASON = "Điều trị nội trú"
CARER_REASON = "Chăm sóc người bệnh"
UNKNOWN_NAME = "Chưa rõ danh tính"
RECORD_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,15}$")
MAX_RELATION = 40
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


def check_bed_free(bed: Bed, errors: ValidationError, *, for_stay: Stay | None = None) -> None:
    holder = occupant(bed)
    if holder is not None and holder is not for_stay:
        errors.add(
            "bed_id",
            _l("Giường %(bed)s đang có người bệnh %(name)s.", bed=bed.label, name=holder.person.full_name),
            "bed_occupied",
        )


def require_patient(stay: Stay) -> None:
    if stay.role != PATIENT:
        raise ValidationError(
            {"stay": [str(_l("Đây không phải lượt nằm viện của người bệnh."))]}, {"stay": "not_a_patient"}
        )
    if not stay.is_open:
        raise ValidationError({"stay": [str(_l("Người bệnh đã ra viện."))]}, {"stay": "not_open"})


def place(stay: Stay, bed: Bed, *, at: datetime) -> BedAssignment:
    assignment = BedAssignment(stay=stay, bed=bed, ward_id=bed.ward_id, start_at=at)
    db.session.add(assignment)
    bed.status = BedStatus.OCCUPIED
    return assignment


def location(bed: Bed | None) -> str | None:
    """How a bed reads in the history: "K1 · P101 · K1-P101-1"."""
    if bed is None:
        return None
    return f"{bed.ward.code} · {bed.room.name} · {bed.label}"


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


def admit(
    establishment: Establishment, data: AdmissionInput, *, actor: Actor, now: datetime, source: Source = Source.DESK
) -> Stay:
    """Admit a patient to a bed. With a document, the stay is filed at once (services.check_in); without one, a
    provisional identity is recorded as a draft, pending (then overdue) until `complete_identity` files it."""
    require_hospital(establishment)
    errors = ValidationError()
    bed = bed_of(establishment, data.bed_id, errors)
    if bed is not None:
        check_bed_free(bed, errors)
    if data.patient is None and data.provisional is None:
        errors.add("patient", _l("Cần thông tin người bệnh."), "patient_missing")
    if errors or bed is None:
        raise errors
    if data.provisional is not None:
        stay = _admit_provisional(establishment, bed, data, actor=actor, now=now, source=source)
    else:
        assert data.patient is not None
        result = stays.check_in(
            establishment,
            stays.CheckInInput(
                guests=[data.patient],
                arrived_at=data.arrived_at,
                reason=PATIENT_REASON,
                room_id=bed.room_id,
                expected_departure=data.expected_discharge,
            ),
            actor=actor,
            now=now,
            source=source,
        )
        stay = result.stays[0]
    stay.role = PATIENT
    place(stay, bed, at=data.arrived_at)
    db.session.flush()
    return stay


def _admit_provisional(
    establishment: Establishment, bed: Bed, data: AdmissionInput, *, actor: Actor, now: datetime, source: Source
) -> Stay:
    info = data.provisional
    assert info is not None
    errors = ValidationError()
    record_no = (info.record_no or "").strip()
    if not RECORD_NO.fullmatch(record_no):
        errors.add("record_no", _l("Cần mã bệnh án (tối đa 16 chữ, số, dấu . / -)."), "record_no_invalid")
    if info.birth_date is None:
        errors.add("birth_date", _l("Cần ngày sinh (ước tính cũng được)."), "birth_date_missing")
    elif info.birth_date > local_today(now):
        errors.add("birth_date", _l("Ngày sinh không thể ở tương lai."), "birth_date_future")
    if info.sex not in (None, "", "M", "F"):
        errors.add("sex", _l("Giới tính phải là Nam hoặc Nữ."), "sex_invalid")
    full_name = UNKNOWN_NAME
    if (info.full_name or "").strip():
        try:
            full_name = rules.person_name(info.full_name)
        except rules.TextError as exc:
            errors.refuse("full_name", exc)
    nationality = (info.nationality or "VNM").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", nationality):
        errors.add("nationality", _l("Quốc tịch là mã 3 chữ cái, ví dụ VNM."), "nationality_invalid")
    stays.check_arrival(data.arrived_at, now, errors)
    if data.expected_discharge and data.expected_discharge < to_local(data.arrived_at).date():
        errors.add(
            "expected_departure", _l("Ngày dự kiến ra viện phải từ ngày vào viện trở đi."), "departure_before_arrival"
        )
    if errors:
        raise errors
    number = provisional_number(establishment, record_no)
    person = find_person(DocType.NONE, number, nationality)
    if person is None:
        person = Person(doc_type=DocType.NONE, doc_number=number, nationality=nationality)
        db.session.add(person)
    elif _has_open_stay(establishment, person):
        raise ValidationError(
            {"record_no": [str(_l("Mã bệnh án %(no)s đang nằm viện.", no=record_no))]},
            {"record_no": "already_in_house"},
        )
    person.full_name = full_name
    person.birth_date = info.birth_date  # type: ignore[assignment]
    person.sex = info.sex or None
    stay = Stay(
        establishment=establishment,
        person=person,
        room_id=bed.room_id,
        status=StayStatus.DRAFT,
        source=source,
        reason=PATIENT_REASON,
        arrived_at=data.arrived_at,
        expected_departure=data.expected_discharge,
        deadline_at=stays.deadline_for(data.arrived_at),
        role=PATIENT,
    )
    db.session.add(stay)
    period = {
        "arrived_at": data.arrived_at.isoformat(),
        "expected_departure": data.expected_discharge.isoformat() if data.expected_discharge else None,
        "room": bed.room.name,
        "bed": bed.label,
        "provisional_record_no": record_no,
    }
    stays.record_event(stay, EventKind.DRAFT, actor=actor, now=now, data=period, receipt=False)
    return stay


def provisional_number(establishment: Establishment, record_no: str) -> str:
    """The document number of a provisional identity: the hospital's id and its record number (unique together)."""
    return f"{establishment.id}-{record_no.strip().upper()}"[:20]


def _has_open_stay(establishment: Establishment, person: Person) -> bool:
    if person.id is None:
        return False
    return (
        db.session.scalar(
            select(func.count(Stay.id)).where(
                Stay.establishment_id == establishment.id, Stay.person_id == person.id, Stay.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    ) > 0


def complete_identity(stay: Stay, patient: PersonInput, *, actor: Actor, now: datetime) -> StayEvent:
    """The document of a provisionally admitted patient is known: the stay takes the real person and is filed
    (late if past the deadline). The provisional record stays in the history (the draft event names it)."""
    if stay.person.doc_type != DocType.NONE or stay.status != StayStatus.DRAFT:
        raise ValidationError({"stay": [str(_l("Người bệnh này đã có giấy tờ."))]}, {"stay": "identity_complete"})
    errors = ValidationError()
    validate_person(patient, errors, "patient.", local_today(now))
    if errors:
        raise errors
    with db.session.no_autoflush:
        person = record_person(patient)
    if _has_open_stay(stay.establishment, person):
        raise ValidationError(
            {"patient.doc_number": [str(_l("%(name)s đang lưu trú tại cơ sở này.", name=person.full_name))]},
            {"patient.doc_number": "already_in_house"},
        )
    stay.person = person
    return stays.file_draft(stay, actor=actor, now=now)


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
    errors = ValidationError()
    relation = free_text(errors, "relation", data.relation, max_length=MAX_RELATION)
    if not relation and "relation" not in errors.errors:
        errors.add("relation", _l("Cần ghi quan hệ với người bệnh."), "relation_missing")
    carers = open_carers(patient_stay)
    if data.replaces_stay_id is not None:
        leaving = next((c for c in carers if c.id == data.replaces_stay_id), None)
        if leaving is None:
            errors.add(
                "replaces", _l("Người được thay không phải người chăm sóc của người bệnh này."), "replaces_invalid"
            )
    else:
        leaving = None
        if len(carers) >= est.max_carers:
            errors.add(
                "carers",
                _l(
                    "Người bệnh %(name)s đã có đủ %(n)s người chăm sóc. Muốn đổi người, hãy trả thẻ một người trước "
                    "(hoặc chọn “thay cho”).",
                    name=patient_stay.person.full_name,
                    n=est.max_carers,
                ),
                "carers_full",
            )
    if errors:
        raise errors
    if leaving is not None:
        release_carer(leaving, at=data.arrived_at, actor=actor, now=now)
    today = local_today(now)
    departure = patient_stay.expected_departure
    result = stays.check_in(
        est,
        stays.CheckInInput(
            guests=[data.person],
            arrived_at=data.arrived_at,
            reason=CARER_REASON,
            room_id=patient_stay.room_id,
            expected_departure=departure if departure and departure >= today else None,
            file_now=est.notify_carers,
        ),
        actor=actor,
        now=now,
        source=source,
    )
    stay = result.stays[0]
    stay.role = CARER
    db.session.add(Carer(stay=stay, patient_stay=patient_stay, relation=relation, card_token=secrets.token_urlsafe(24)))
    db.session.flush()
    return stay


def release_carer(carer_stay: Stay, *, at: datetime, actor: Actor, now: datetime) -> StayEvent:
    """The carer leaves and hands the card back: a check-out (a draft of an unnotified carer is withdrawn)."""
    if carer_stay.role != CARER or not carer_stay.is_open:
        raise ValidationError({"stay": [str(_l("Người chăm sóc không còn ở viện."))]}, {"stay": "not_open"})
    if carer_stay.status == StayStatus.DRAFT:
        return stays.cancel(carer_stay, reason=str(_l("Người chăm sóc đã về (chưa khai báo).")), actor=actor, now=now)
    return stays.check_out(carer_stay, at=at, actor=actor, now=now)


# --- transfer and discharge ---------------------------------------------------------------------------------


def transfer(patient_stay: Stay, *, bed_id: int, at: datetime, actor: Actor, now: datetime) -> StayEvent:
    """Another bed, in this ward or another: the old bed goes to cleaning, the move is notified (its own receipt)
    for the patient and each carer with them, and the bed history keeps both assignments."""
    require_patient(patient_stay)
    errors = ValidationError()
    bed = bed_of(patient_stay.establishment, bed_id, errors)
    current = current_assignment(patient_stay)
    if bed is not None:
        if current is not None and current.bed_id == bed.id:
            errors.add("bed_id", _l("Người bệnh đang nằm giường này."), "same_bed")
        else:
            check_bed_free(bed, errors, for_stay=patient_stay)
    if current is not None and at < current.start_at:
        errors.add("at", _l("Giờ chuyển không thể trước lần xếp giường trước."), "transfer_before_placement")
    if at > now + stays.FUTURE_TOLERANCE:
        errors.add("at", _l("Giờ chuyển không thể ở tương lai."), "transfer_future")
    if errors or bed is None:
        raise errors
    event, _assignment = move_to(patient_stay, current, bed, at=at, actor=actor, now=now)
    db.session.flush()
    return event


def move_to(
    patient_stay: Stay,
    current: BedAssignment | None,
    bed: Bed,
    *,
    at: datetime,
    actor: Actor,
    now: datetime,
    carers: list[Stay] | None = None,
) -> tuple[StayEvent, BedAssignment]:
    """The transfer itself, checks done: the same shape of MOVE event as asm.stays.services.move. No flush."""
    before = current.bed if current is not None else None
    if current is not None:
        current.end_at = at
        current.bed.status = BedStatus.CLEANING
    assignment = place(patient_stay, bed, at=at)
    patient_stay.room_id = bed.room_id
    data = {"from": location(before), "to": location(bed), "at": at.isoformat()}
    event = stays.record_event(
        patient_stay, EventKind.MOVE, actor=actor, now=now, data=data, receipt=patient_stay.filed_at is not None
    )
    for carer in open_carers(patient_stay) if carers is None else carers:
        carer.room_id = bed.room_id
        stays.record_event(carer, EventKind.MOVE, actor=actor, now=now, data=data, receipt=carer.filed_at is not None)
    return event, assignment


def discharge(patient_stay: Stay, *, at: datetime, actor: Actor, now: datetime, with_carers: bool = True) -> list[Stay]:
    """Check the patient out (services.check_out) and, unless told otherwise, their carers; the bed goes to
    cleaning. Returns the stays that ended."""
    require_patient(patient_stay)
    stays.check_out(patient_stay, at=at, actor=actor, now=now)
    ended = [patient_stay]
    current = current_assignment(patient_stay)
    if current is not None:
        current.end_at = at
        current.bed.status = BedStatus.CLEANING
    if with_carers:
        for carer in open_carers(patient_stay):
            release_carer(carer, at=at, actor=actor, now=now)
            ended.append(carer)
    db.session.flush()
    return ended
