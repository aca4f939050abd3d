"""Admission, transfer and discharge events from hospital software, applied in batches. Flush, never commit.

The rules (docs/HOSPITAL.md, "Events from hospital software"):

- Each event is idempotent by its own `event_id`: an id already kept answers `duplicate` with the first outcome
  and files nothing; the same id with a different body is refused (`event_id_reused`).
- Each event stands alone: a malformed or refused event gets its own error and is not kept (the sender may fix
  it and resend under the same id); the other events of the batch are applied.
- Order: the events of a batch are applied in `occurred_at` order (ties in batch order). A transfer or
  discharge for an admission we do not know is refused (`admission_unknown`): send the admission first. An
  event older than the last event applied to its admission is a late event: it is written to the stay's
  history (no receipt) and changes nothing (`recorded_late`). A second admission for a known `admission_id` is
  refused (`admission_exists`); an event after the discharge is refused (`admission_closed`).

For speed (1,000 events under a second on PostgreSQL), a batch reads what it needs in a few queries, applies the
events to plain records in memory with the same rules and pieces as asm.stays.services.check_in/check_out/
record_event (validate_person, check_arrival, deadline_for, new_receipt_no, the same history rows), and writes
them with one multi-row statement per table. Nothing is refused by the database unless another
request raced this one; then the caller rolls the whole batch back and answers 409, and a retry is safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import joinedload

from asm import text as rules
from asm.clock import aware, local_today, to_local
from asm.common import Actor, ValidationError
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital import services as hospital
from asm.hospital.models import Bed, BedAssignment, BedStatus, Carer, EventOutcome, HospitalEvent
from asm.people.models import DocType, Person
from asm.people.services import PersonInput, validate_person
from asm.stays import services as stays
from asm.stays.models import OPEN_STATUSES, EventKind, Source, Stay, StayEvent, StayStatus

MAX_BATCH = 1000
TYPES = ("admission", "transfer", "discharge")


@dataclass
class EventInput:
    index: int
    event_id: str
    type: str
    admission_id: str
    occurred_at: datetime
    body_hash: str
    patient: PersonInput | None = None
    bed: str = ""
    expected_discharge: date | None = None
    with_carers: bool = True


@dataclass(eq=False)
class _Stay:
    """A stay as the batch sees it: loaded (id known) or new (id known once inserted)."""

    id: int | None
    status: str
    arrived_at: datetime
    departed_at: datetime | None = None
    room_id: int | None = None
    receipt_no: str | None = None
    row: dict[str, Any] | None = None  # the INSERT of a new stay
    changed: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(eq=False)
class _Assignment:
    id: int | None
    stay: _Stay
    bed: Bed
    start_at: datetime
    end_at: datetime | None = None
    changed: bool = False


@dataclass(eq=False)
class _NewPerson:
    row: dict[str, Any]
    id: int | None = None


@dataclass
class EventResult:
    index: int
    event_id: str | None
    status: str  # applied | recorded_late | duplicate | refused
    stay: _Stay | None = None
    stay_id: int | None = None
    receipt_no: str | None = None
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "event_id": self.event_id, "status": self.status}
        stay_id = self.stay.id if self.stay is not None else self.stay_id
        if stay_id is not None:
            out["stay_id"] = stay_id
        if self.receipt_no:
            out["receipt_no"] = self.receipt_no
        if self.error:
            out["error"] = self.error
        return out


def refused(
    index: int, event_id: str | None, code: str, message: str, fields: dict[str, Any] | None = None
) -> EventResult:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return EventResult(index=index, event_id=event_id, status="refused", error=error)


def body_hash(raw: Any) -> str:
    # surrogatepass: a lone surrogate sent as \\ud800 in JSON is hashed too (the rules refuse it later), not a 500
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class _Admission:
    """What the batch knows of one admission: its stay, bed assignment, carers and the time of its last event."""

    stay: _Stay
    assignment: _Assignment | None
    carers: list[_Stay] = field(default_factory=list)
    last_at: datetime | None = None


class Batch:
    """The events of one batch applied in memory, then written with one statement per table (`write`)."""

    def __init__(self, establishment: Establishment, *, actor: Actor, now: datetime) -> None:
        self.est = establishment
        self.actor = actor
        self.now = now
        self.admissions: dict[str, _Admission] = {}
        self.beds: dict[str, Bed] = {}
        self.holders: dict[int, _Stay] = {}  # bed id -> open patient stay
        self.people: dict[tuple[str, str, str], Person | _NewPerson] = {}
        self.in_house: set[tuple[str, str, str]] = set()  # people (by document) with an open stay here
        self.loaded_stays: list[_Stay] = []
        self.new_stays: list[_Stay] = []
        self.assignments: list[_Assignment] = []
        self.history: list[tuple[_Stay, dict[str, Any]]] = []
        self.kept: list[tuple[_Stay, dict[str, Any]]] = []
        self.bed_status: dict[int, str] = {}  # bed id -> its state after the batch (the Bed objects stay untouched)

    # -- loading: a handful of queries for the whole batch

    def load(self, events: list[EventInput]) -> None:
        est_id = self.est.id
        beds = select(Bed).where(Bed.establishment_id == est_id).options(joinedload(Bed.room), joinedload(Bed.ward))
        self.beds = {b.label: b for b in db.session.scalars(beds).unique()}
        by_id = {b.id: b for b in self.beds.values()}
        ids = sorted({e.admission_id for e in events})
        if ids:
            last = dict(
                db.session.execute(
                    select(HospitalEvent.admission_id, func.max(HospitalEvent.occurred_at))
                    .where(
                        HospitalEvent.establishment_id == est_id,
                        HospitalEvent.outcome == EventOutcome.APPLIED,
                        HospitalEvent.admission_id.in_(ids),
                    )
                    .group_by(HospitalEvent.admission_id)
                ).all()
            )
            known = db.session.execute(
                select(
                    HospitalEvent.admission_id, Stay.id, Stay.status, Stay.arrived_at, Stay.departed_at, Stay.room_id
                )
                .join(Stay, Stay.id == HospitalEvent.stay_id)
                .where(
                    HospitalEvent.establishment_id == est_id,
                    HospitalEvent.type == "admission",
                    HospitalEvent.outcome == EventOutcome.APPLIED,
                    HospitalEvent.admission_id.in_(ids),
                )
            ).all()
            stays = {
                row.id: _Stay(
                    id=row.id,
                    status=row.status,
                    arrived_at=aware(row.arrived_at),
                    departed_at=aware(row.departed_at) if row.departed_at else None,
                    room_id=row.room_id,
                )
                for row in known
            }
            self.loaded_stays = list(stays.values())
            assignments: dict[int, _Assignment] = {}
            carers: dict[int, list[_Stay]] = {}
            if stays:
                for a in db.session.execute(
                    select(BedAssignment.id, BedAssignment.stay_id, BedAssignment.bed_id, BedAssignment.start_at).where(
                        BedAssignment.stay_id.in_(stays), BedAssignment.end_at.is_(None)
                    )
                ).all():
                    assignments[a.stay_id] = _Assignment(
                        id=a.id, stay=stays[a.stay_id], bed=by_id[a.bed_id], start_at=aware(a.start_at)
                    )
                for c in db.session.execute(
                    select(Stay.id, Stay.status, Stay.arrived_at, Carer.patient_stay_id)
                    .join(Carer, Carer.stay_id == Stay.id)
                    .where(Carer.patient_stay_id.in_(stays), Stay.status.in_(OPEN_STATUSES))
                ).all():
                    carer = _Stay(id=c.id, status=c.status, arrived_at=aware(c.arrived_at))
                    carers.setdefault(c.patient_stay_id, []).append(carer)
                    self.loaded_stays.append(carer)
            for row in known:
                self.admissions[row.admission_id] = _Admission(
                    stay=stays[row.id],
                    assignment=assignments.get(row.id),
                    carers=carers.get(row.id, []),
                    last_at=aware(last[row.admission_id]) if row.admission_id in last else None,
                )
        # The beds the batch fills, locked (PostgreSQL) in one order until it commits, as a clerk's admission locks
        # its bed: another batch or a clerk filling one of them waits, then sees this batch's patient below.
        wanted = sorted({self.beds[e.bed].id for e in events if e.bed in self.beds})
        if wanted:
            db.session.execute(select(Bed.id).where(Bed.id.in_(wanted)).order_by(Bed.id).with_for_update())
        # Who holds each bed now (a patient of an admission outside this batch counts too).
        open_stays = {a.stay.id: a.stay for a in self.admissions.values()}
        for bed_id, stay_id in db.session.execute(
            select(BedAssignment.bed_id, Stay.id)
            .join(Stay, Stay.id == BedAssignment.stay_id)
            .where(Stay.establishment_id == est_id, BedAssignment.end_at.is_(None), Stay.status.in_(OPEN_STATUSES))
        ).all():
            self.holders[bed_id] = open_stays.get(stay_id) or _Stay(id=stay_id, status="in_house", arrived_at=self.now)
        keys = {self._key(e.patient) for e in events if e.patient is not None}
        if keys:
            numbers = sorted({k[1] for k in keys})
            for person in db.session.scalars(select(Person).where(Person.doc_number.in_(numbers))):
                key = (person.doc_type, person.doc_number, person.nationality)
                if key in keys:
                    self.people[key] = person
            found = {p.id: k for k, p in self.people.items() if isinstance(p, Person)}
            if found:
                self.in_house = {
                    found[pid]
                    for pid in db.session.scalars(
                        select(Stay.person_id).where(
                            Stay.establishment_id == est_id,
                            Stay.person_id.in_(found),
                            Stay.status.in_(OPEN_STATUSES),
                        )
                    )
                }

    @staticmethod
    def _key(person: PersonInput) -> tuple[str, str, str]:
        return (person.doc_type, person.doc_number, person.nationality)

    # -- applying, one event at a time, in memory

    def apply(self, event: EventInput) -> EventResult:
        try:
            if event.type == "admission":
                return self._admission(event)
            known = self.admissions.get(event.admission_id)
            if known is None:
                return refused(
                    event.index,
                    event.event_id,
                    "admission_unknown",
                    "No admission with this admission_id: send the admission event first",
                )
            if known.last_at is not None and event.occurred_at < known.last_at:
                return self._late(event, known)
            if not known.stay.is_open:
                if known.stay.departed_at is not None and event.occurred_at <= known.stay.departed_at:
                    return self._late(event, known)
                return refused(event.index, event.event_id, "admission_closed", "The patient has been discharged")
            if event.type == "transfer":
                return self._transfer(event, known)
            return self._discharge(event, known)
        except ValidationError as exc:
            code = next(iter(exc.codes.values()), "invalid")
            return refused(event.index, event.event_id, code, "The event was refused", exc.errors)

    def _admission(self, event: EventInput) -> EventResult:
        if event.admission_id in self.admissions:
            return refused(event.index, event.event_id, "admission_exists", "This admission_id is already admitted")
        errors = ValidationError()
        bed = self._bed(event, errors)
        if bed is not None and bed.id in self.holders:
            errors.add("bed", f"Bed {bed.label} holds another patient", "bed_occupied")
        stays.check_arrival(event.occurred_at, self.now, errors)
        patient = event.patient
        assert patient is not None
        provisional = patient.doc_type == DocType.NONE
        if provisional:
            try:
                patient.full_name = rules.person_name(patient.full_name) if patient.full_name.strip() else ""
            except rules.TextError as exc:
                errors.refuse("patient.full_name", exc)
            patient.full_name = patient.full_name or hospital.UNKNOWN_NAME
            patient.doc_number = hospital.provisional_number(self.est, event.admission_id)
            patient.nationality = (patient.nationality or "VNM").upper()
            if patient.birth_date is None:
                errors.add("patient.birth_date", "required (an estimate is fine)", "birth_date_missing")
        else:
            validate_person(patient, errors, "patient.", local_today(self.now))
        if event.expected_discharge and event.expected_discharge < to_local(event.occurred_at).date():
            errors.add("expected_discharge", "before the admission", "departure_before_arrival")
        if errors or bed is None:
            raise errors
        key = self._key(patient)
        if key in self.in_house:
            raise ValidationError(
                {"patient.doc_number": ["The patient already has an open stay here"]},
                {"patient.doc_number": "already_in_house"},
            )
        self.in_house.add(key)
        person = self.people.get(key)
        fields = {
            "full_name": patient.full_name,
            "search_key": rules.search_key(patient.full_name),
            "birth_date": patient.birth_date,
            "sex": patient.sex,
        }
        for name in ("address", "old_id_number", "id_issue_date"):
            if getattr(patient, name):
                fields[name] = getattr(patient, name)
        if person is None:
            person = _NewPerson(
                row={"doc_type": patient.doc_type, "doc_number": patient.doc_number, "nationality": patient.nationality}
                | fields
            )
            self.people[key] = person
        elif isinstance(person, Person):
            for name, value in fields.items():  # the ORM writes these few updates at the end
                setattr(person, name, value)
        receipt = None if provisional else stays.new_receipt_no(self.now)
        stay = _Stay(
            id=None,
            status=StayStatus.DRAFT if provisional else StayStatus.IN_HOUSE,
            arrived_at=event.occurred_at,
            room_id=bed.room_id,
            receipt_no=receipt,
        )
        stay.row = {
            "establishment_id": self.est.id,
            "person": person,
            "room_id": bed.room_id,
            "status": stay.status,
            "source": Source.API,
            "reason": hospital.PATIENT_REASON,
            "arrived_at": event.occurred_at,
            "expected_departure": event.expected_discharge,
            "deadline_at": stays.deadline_for(event.occurred_at),
            "filed_at": None if provisional else self.now,
            "receipt_no": receipt,
            "role": hospital.PATIENT,
        }
        self.new_stays.append(stay)
        data = {
            "arrived_at": event.occurred_at.isoformat(),
            "expected_departure": event.expected_discharge.isoformat() if event.expected_discharge else None,
            "room": bed.room.name,
            "bed": bed.label,
            "admission_id": event.admission_id,
        }
        self._record(stay, EventKind.DRAFT if provisional else EventKind.CHECK_IN, data, receipt=receipt)
        assignment = self._place(stay, bed, event.occurred_at)
        self.admissions[event.admission_id] = _Admission(stay=stay, assignment=assignment, last_at=event.occurred_at)
        return self._keep(event, stay, EventOutcome.APPLIED, receipt)

    def _transfer(self, event: EventInput, known: _Admission) -> EventResult:
        errors = ValidationError()
        bed = self._bed(event, errors)
        if event.occurred_at > self.now + stays.FUTURE_TOLERANCE:
            errors.add("occurred_at", "in the future", "occurred_future")
        if errors or bed is None:
            raise errors
        stay = known.stay
        previous = known.assignment
        if previous is not None and previous.bed is bed:
            known.last_at = event.occurred_at
            return self._keep(event, stay, EventOutcome.APPLIED, None)  # already there: nothing to notify
        holder = self.holders.get(bed.id)
        if holder is not None and holder is not stay:
            raise ValidationError({"bed": [f"Bed {bed.label} holds another patient"]}, {"bed": "bed_occupied"})
        if previous is not None:
            self._end(previous, event.occurred_at)
        known.assignment = self._place(stay, bed, event.occurred_at)
        data = {
            "from": hospital.location(previous.bed if previous else None),
            "to": hospital.location(bed),
            "at": event.occurred_at.isoformat(),
        }
        receipt = self._record(stay, EventKind.MOVE, data, receipt=stays.new_receipt_no(self.now))
        self._set(stay, room_id=bed.room_id)
        for carer in known.carers:
            if carer.is_open:
                self._set(carer, room_id=bed.room_id)
                notified = carer.status == StayStatus.IN_HOUSE
                self._record(carer, EventKind.MOVE, data, receipt=stays.new_receipt_no(self.now) if notified else None)
        known.last_at = event.occurred_at
        return self._keep(event, stay, EventOutcome.APPLIED, receipt)

    def _discharge(self, event: EventInput, known: _Admission) -> EventResult:
        stay = known.stay
        errors = ValidationError()
        if stay.status == StayStatus.DRAFT:
            errors.add("admission_id", "The patient's identity is not complete: file it at the desk first", "not_filed")
        if event.occurred_at < stay.arrived_at:
            errors.add("occurred_at", "before the admission", "departure_before_arrival")
        if event.occurred_at > self.now + stays.FUTURE_TOLERANCE:
            errors.add("occurred_at", "in the future", "occurred_future")
        if errors:
            raise errors
        receipt = self._check_out(stay, event.occurred_at)
        if known.assignment is not None:
            self._end(known.assignment, event.occurred_at)
            known.assignment = None
        if event.with_carers:
            for carer in known.carers:
                if carer.status == StayStatus.DRAFT:  # an unnotified carer: withdrawn, as release_carer does
                    self._set(carer, status=StayStatus.CANCELLED)
                    self._record(carer, EventKind.CANCEL, {"reason": "Người bệnh ra viện"}, receipt=None)
                elif carer.is_open:
                    self._check_out(carer, max(event.occurred_at, carer.arrived_at))
            known.carers = []
        known.last_at = event.occurred_at
        return self._keep(event, stay, EventOutcome.APPLIED, receipt)

    def _check_out(self, stay: _Stay, at: datetime) -> str:
        """What asm.stays.services.check_out writes: the status, the time, a CHECK_OUT event with its receipt."""
        self._set(stay, status=StayStatus.CHECKED_OUT, departed_at=at)
        return self._record(
            stay, EventKind.CHECK_OUT, {"departed_at": at.isoformat()}, receipt=stays.new_receipt_no(self.now)
        )  # type: ignore[return-value]

    def _late(self, event: EventInput, known: _Admission) -> EventResult:
        """Older than what we know: into the history, without a receipt, changing nothing."""
        kind = EventKind.MOVE if event.type == "transfer" else EventKind.CHECK_OUT
        data: dict[str, Any] = {
            "late_event": True,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at.isoformat(),
        }
        if event.type == "transfer":
            bed = self.beds.get(event.bed)
            data |= {"from": None, "to": hospital.location(bed) if bed else event.bed}
        self._record(known.stay, kind, data, receipt=None)
        return self._keep(event, known.stay, EventOutcome.RECORDED_LATE, None)

    # -- small steps

    def _bed(self, event: EventInput, errors: ValidationError) -> Bed | None:
        bed = self.beds.get(event.bed)
        if bed is None or not bed.active:
            errors.add("bed", "No such bed at this hospital", "bed_unknown")
            return None
        return bed

    def _set(self, stay: _Stay, **values: Any) -> None:
        for name, value in values.items():
            setattr(stay, name, value)
        if stay.row is not None:  # not inserted yet: the INSERT carries the change
            stay.row.update(values)
        else:
            stay.changed = True

    def _place(self, stay: _Stay, bed: Bed, at: datetime) -> _Assignment:
        assignment = _Assignment(id=None, stay=stay, bed=bed, start_at=at)
        self.assignments.append(assignment)
        self.holders[bed.id] = stay
        self.bed_status[bed.id] = BedStatus.OCCUPIED
        return assignment

    def _end(self, assignment: _Assignment, at: datetime) -> None:
        assignment.end_at = at
        assignment.changed = True
        if assignment.id is not None:
            self.assignments.append(assignment)
        self.holders.pop(assignment.bed.id, None)
        self.bed_status[assignment.bed.id] = BedStatus.CLEANING

    def _record(self, stay: _Stay, kind: str, data: dict[str, Any], *, receipt: str | None) -> str | None:
        """A history row as asm.stays.services.record_event makes it."""
        self.history.append(
            (
                stay,
                {
                    "kind": kind,
                    "at": self.now,
                    "actor": self.actor.label,
                    "user_id": self.actor.user_id,
                    "token_id": self.actor.token_id,
                    "receipt_no": receipt,
                    "data": data,
                },
            )
        )
        return receipt

    def _keep(self, event: EventInput, stay: _Stay, outcome: str, receipt_no: str | None) -> EventResult:
        row = {
            "establishment_id": self.est.id,
            "event_id": event.event_id,
            "type": event.type,
            "admission_id": event.admission_id,
            "occurred_at": event.occurred_at,
            "outcome": outcome,
            "body_hash": event.body_hash,
            "token_id": self.actor.token_id,
            "received_at": self.now,
        }
        self.kept.append((stay, row))
        return EventResult(index=event.index, event_id=event.event_id, status=outcome, stay=stay, receipt_no=receipt_no)

    # -- writing: one statement per table, in the order of the foreign keys

    def write(self) -> None:
        new_people = [p for p in self.people.values() if isinstance(p, _NewPerson)]
        if new_people:
            for person, pid in zip(new_people, insert_with_ids(Person, [p.row for p in new_people]), strict=True):
                person.id = pid
        if self.new_stays:
            rows = []
            for stay in self.new_stays:
                assert stay.row is not None
                row = dict(stay.row)
                row["person_id"] = row.pop("person").id
                rows.append(row)
            for stay, sid in zip(self.new_stays, insert_with_ids(Stay, rows), strict=True):
                stay.id = sid
        changed = [s for s in self.loaded_stays if s.changed]
        if changed:
            db.session.execute(
                update(Stay),
                [{"id": s.id, "status": s.status, "departed_at": s.departed_at, "room_id": s.room_id} for s in changed],
                execution_options={"synchronize_session": False},
            )
        if self.history:
            db.session.execute(insert(StayEvent), [{"stay_id": s.id} | row for s, row in self.history])
        ended = [a for a in self.assignments if a.id is not None and a.changed]
        if ended:
            db.session.execute(
                update(BedAssignment),
                [{"id": a.id, "end_at": a.end_at} for a in ended],
                execution_options={"synchronize_session": False},
            )
        new = [a for a in self.assignments if a.id is None]
        if new:
            db.session.execute(
                insert(BedAssignment),
                [
                    {
                        "stay_id": a.stay.id,
                        "bed_id": a.bed.id,
                        "ward_id": a.bed.ward_id,
                        "start_at": a.start_at,
                        "end_at": a.end_at,
                    }
                    for a in new
                ],
            )
        if self.kept:
            db.session.execute(insert(HospitalEvent), [{"stay_id": s.id} | row for s, row in self.kept])
        if self.bed_status:
            db.session.execute(
                update(Bed),
                [{"id": bed_id, "status": status} for bed_id, status in self.bed_status.items()],
                execution_options={"synchronize_session": False},
            )
        db.session.flush()  # returning people's details, through the ORM


def insert_with_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their new ids, in order. PostgreSQL: the ids are drawn from the table's sequence
    first, so the rows go as one pipelined executemany of a short statement (a multi-row INSERT ... RETURNING of
    a thousand rows costs more in the driver's query parsing than in the server); elsewhere INSERT ... RETURNING."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(
            db.session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": model.__tablename__, "n": len(rows)},
            )
        )
        db.session.execute(insert(model), [row | {"id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))


def apply_events(
    establishment: Establishment, events: Iterable[EventInput], *, actor: Actor, now: datetime
) -> list[EventResult]:
    """Apply the well-formed events of a batch; returns one result per event given (malformed ones are the
    caller's). Duplicates of kept events, and of earlier events in the same batch, file nothing."""
    hospital.require_hospital(establishment)
    events = list(events)
    results: dict[int, EventResult] = {}
    ids = sorted({e.event_id for e in events})
    kept = (
        {
            row.event_id: row
            for row in db.session.execute(
                select(HospitalEvent.event_id, HospitalEvent.body_hash, HospitalEvent.stay_id).where(
                    HospitalEvent.establishment_id == establishment.id, HospitalEvent.event_id.in_(ids)
                )
            )
        }
        if ids
        else {}
    )
    fresh: list[EventInput] = []
    first_in_batch: dict[str, EventInput] = {}
    for event in events:
        row = kept.get(event.event_id)
        earlier = first_in_batch.get(event.event_id)
        if row is not None or earlier is not None:
            same = (row.body_hash if row is not None else earlier.body_hash) == event.body_hash  # type: ignore[union-attr]
            if not same:
                results[event.index] = refused(
                    event.index, event.event_id, "event_id_reused", "This event_id was used for a different event"
                )
            elif row is not None:
                results[event.index] = EventResult(
                    index=event.index, event_id=event.event_id, status="duplicate", stay_id=row.stay_id
                )
            else:
                results[event.index] = EventResult(index=event.index, event_id=event.event_id, status="duplicate")
            continue
        first_in_batch[event.event_id] = event
        fresh.append(event)
    batch = Batch(establishment, actor=actor, now=now)
    batch.load(fresh)
    with db.session.no_autoflush:  # everything in memory; written below with one statement per table
        for event in sorted(fresh, key=lambda e: (e.occurred_at, e.index)):
            results[event.index] = batch.apply(event)
    batch.write()
    for event in events:  # a duplicate inside the batch points at what its first copy became
        result = results[event.index]
        if result.status == "duplicate" and result.stay_id is None and event.event_id in first_in_batch:
            first = results[first_in_batch[event.event_id].index]
            result.stay_id = first.stay.id if first.stay is not None else None
    return [results[e.index] for e in events]


__all__ = ["MAX_BATCH", "TYPES", "EventInput", "EventResult", "apply_events", "body_hash", "refused"]
