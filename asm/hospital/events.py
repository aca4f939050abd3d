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

The rules of admission, transfer, discharge and carers are the hospital desk's (asm/hospital/filing.py, on the
filing core: deadlines, receipts, history, the police watch list). For speed (1,000 events under a second on
PostgreSQL), a batch reads what they need in a few queries, applies every event to one plan in memory, and the
core's set-based writer writes it with a few statements per table. Nothing is refused by the database unless
another request raced this one; then the caller rolls the whole batch back and answers 409, and a retry is safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import aliased

from asm.clock import aware
from asm.common import Actor, ValidationError
from asm.establishments.models import Establishment, Room
from asm.extensions import db
from asm.filing.core import Filing, Place, check_open
from asm.filing.plan import StayRow
from asm.hospital.filing import Admission, BedRef, Hospital, Placement, provisional_person
from asm.hospital.his.matching import Location, LocationError, match_location
from asm.hospital.models import Bed, BedAssignment, Carer, EventOutcome, HospitalEvent, Ward
from asm.hospital.services import require_hospital
from asm.people.models import DocType, Person
from asm.people.services import PersonInput
from asm.stays.models import OPEN_STATUSES, EventKind, Source, Stay

MAX_BATCH = 1000
SMALL_BATCH = 64  # up to this many events, a batch reads what is kept and what is known in one query
TYPES = ("admission", "transfer", "discharge", "carer", "cancel_admission", "cancel_discharge", "identify")
# Only these follow the late-event rule (older than the admission's last event: history only); the others act on
# the admission's current state whatever their time.
ORDERED_TYPES = ("transfer", "discharge")
CANCEL_REASONS = {
    "cancel_admission": "Phần mềm bệnh viện hủy nhập viện",
    "cancel_discharge": "Phần mềm bệnh viện hủy ra viện",
}


@dataclass
class EventInput:
    index: int
    event_id: str
    type: str
    admission_id: str
    occurred_at: datetime
    body_hash: str
    patient: PersonInput | None = None  # admission, identify; a carer event's carer
    bed: str = ""
    expected_discharge: date | None = None
    with_carers: bool = True
    ward: str = ""  # a location without a bed label: the first free bed of the ward (and room)
    room: str = ""
    record_no: str = ""  # a provisional patient's record number (default: the admission_id)
    relation: str = ""  # carer: the relation to the patient
    reason: str = ""  # cancellations: why (default: CANCEL_REASONS)

    @property
    def location(self) -> Location:
        return Location(ward=self.ward, room=self.room, bed=self.bed)


@dataclass
class EventResult:
    index: int
    event_id: str | None
    status: str  # applied | recorded_late | duplicate | refused
    stay: StayRow | None = None
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


class Batch:
    """The events of one batch applied in memory by the hospital's rules (asm/hospital/filing.py) to one plan of
    the filing core, then written once by its set-based writer (`write`)."""

    def __init__(self, establishment: Establishment, *, actor: Actor, now: datetime) -> None:
        self.est = establishment
        self.now = now
        self.filing = Filing(establishment, actor=actor, now=now, source=Source.API)
        self.hospital = Hospital(self.filing)
        self.admissions: dict[str, Admission] = {}
        self.beds: dict[str, BedRef] = {}
        self.bed_list: list[BedRef] = []
        self.bed_index: dict[str, BedRef] = {}  # the active beds by their label, trimmed and case-folded
        self.last_beds: dict[int, BedRef] = {}  # the last bed of a discharged patient whose discharge is cancelled

    # -- loading: a handful of queries for the whole batch

    def load(self, events: list[EventInput], *, known: list[Any] | None = None) -> None:
        """What the batch's rules need, in a handful of queries whatever its size: its admissions (stays, open
        bed, carers, last event), the beds its events name (by label, or every bed of a ward named), and who
        holds the beds it may fill. Only those: a batch of one event reads a handful of rows, not the hospital.
        `known`: its admissions already read (`kept_and_known`)."""
        est_id = self.est.id
        ids = sorted({e.admission_id for e in events})
        stays: dict[int, StayRow] = {}
        open_beds: dict[int, Any] = {}
        carers: dict[int, list[StayRow]] = {}
        last: dict[str, datetime] = {}
        if known is None:
            # The admissions with their stays, and the time of each one's last event applied (one query).
            known = list(rows(known_query(), {"est_id": est_id, "ids": ids}).all()) if ids else []
        if ids:
            stays = {row.id: stay_row(row) for row in known}
            last = {row.admission_id: row.last_at for row in known if row.last_at is not None}
            if stays:
                for a in rows(open_beds_query(), {"stay_ids": sorted(stays)}).all():
                    open_beds[a.stay_id] = a
                for c in rows(carers_query(), {"stay_ids": sorted(stays)}).all():
                    carers.setdefault(c.patient_stay_id, []).append(stay_row(c))
        by_stay = {row.admission_id: row.id for row in known}
        reopened = sorted(
            {
                by_stay[e.admission_id]
                for e in events
                if e.type == "cancel_discharge" and not e.location and e.admission_id in by_stay
            }
        )
        last_bed_ids: dict[int, int] = {}
        if reopened:
            for assignment in rows(
                select(BedAssignment.stay_id, BedAssignment.bed_id)
                .where(BedAssignment.stay_id.in_(reopened))
                .order_by(BedAssignment.start_at, BedAssignment.id)
            ).all():
                last_bed_ids[assignment.stay_id] = assignment.bed_id
        # The beds: those named by label, every bed of a ward named without a bed, and the patients' own.
        labels = sorted({e.bed.strip().lower() for e in events if e.bed.strip()})
        wards = sorted({e.ward.strip().upper() for e in events if not e.bed.strip() and e.ward.strip()})
        room_only = any(not e.bed.strip() and not e.ward.strip() and e.room.strip() for e in events)
        bed_ids = sorted({a.bed_id for a in open_beds.values()} | set(last_bed_ids.values()))
        # When the events name only beds by label (an admission, a transfer), the beds read are the beds to lock:
        # read and locked by one statement (below, otherwise).
        locked = bool(labels) and not (wards or bed_ids or room_only)
        self.beds = {}
        if labels or wards or bed_ids or room_only:
            query = all_beds_query() if room_only else named_beds_locked_query() if locked else named_beds_query()
            found = rows(query, {"est_id": est_id, "labels": labels, "wards": wards, "bed_ids": bed_ids})
            self.beds = {
                row.label: BedRef(row.id, row.label, row.room_id, row.room_name, row.ward_id, row.code, row.active)
                for row in found
            }
        by_id = {b.id: b for b in self.beds.values()}
        self.last_beds = {stay_id: by_id[bed_id] for stay_id, bed_id in last_bed_ids.items()}
        for row in known:
            open_bed = open_beds.get(row.id)
            self.admissions[row.admission_id] = Admission(
                stay=stays[row.id],
                placement=(
                    Placement(bed=by_id[open_bed.bed_id], start_at=aware(open_bed.start_at), id=open_bed.id)
                    if open_bed
                    else None
                ),
                carers=carers.get(row.id, []),
                last_at=aware(last[row.admission_id]) if row.admission_id in last else None,
            )
        # The beds the batch may fill, locked (PostgreSQL) in one order until it commits, as a clerk's admission
        # locks its bed: another batch or a clerk filling one of them waits, then sees this batch's patient below.
        folded = {label.strip().casefold(): bed for label, bed in self.beds.items()}
        self.bed_list = list(self.beds.values())
        self.bed_index = {}
        for bed in self.bed_list:  # the first active bed of a label, as match_location's scan finds it
            if bed.active:
                self.bed_index.setdefault(bed.label.strip().casefold(), bed)
        wanted = sorted(
            {folded[e.bed.strip().casefold()].id for e in events if e.bed.strip().casefold() in folded}
            | {b.id for e in events if not e.bed and (e.ward or e.room) for b in self.in_place(e.location)}
            | {b.id for b in self.last_beds.values()}
        )
        if wanted:
            if not locked:
                rows(lock_beds_query(), {"bed_ids": wanted})
            # Who holds them now (a patient of an admission outside this batch counts too).
            open_stays = {a.stay.id: a.stay for a in self.admissions.values()}
            holders = holders_query(db.session.get_bind().dialect.name)
            for row in rows(holders, {"est_id": est_id, "bed_ids": wanted}).all():
                self.hospital.holders[row.bed_id] = open_stays.get(row.id) or stay_row(row)
        self.filing.prefetch(e.patient for e in events if e.patient is not None)

    def in_place(self, where: Location) -> list[BedRef]:
        """The beds of the ward (and room) a location names."""
        return [
            b
            for b in self.beds.values()
            if (not where.ward or b.ward_code.casefold() == where.ward.strip().casefold())
            and (not where.room or b.room_name.casefold() == where.room.strip().casefold())
        ]

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
            if event.type == "cancel_discharge":
                return self._cancel_discharge(event, known)
            if event.type in ORDERED_TYPES and known.last_at is not None and event.occurred_at < known.last_at:
                return self._late(event, known)
            if not known.stay.is_open:
                if (
                    event.type in ORDERED_TYPES
                    and known.stay.departed_at is not None
                    and event.occurred_at <= known.stay.departed_at
                ):
                    return self._late(event, known)
                return refused(event.index, event.event_id, "admission_closed", "The patient has been discharged")
            if event.type == "transfer":
                return self._transfer(event, known)
            if event.type == "carer":
                return self._carer(event, known)
            if event.type == "cancel_admission":
                return self._cancel_admission(event, known)
            if event.type == "identify":
                return self._identify(event, known)
            return self._discharge(event, known)
        except LocationError as exc:
            return refused(event.index, event.event_id, exc.code, exc.message, {"bed": [exc.message]})
        except ValidationError as exc:
            code = next(iter(exc.codes.values()), "invalid")
            return refused(event.index, event.event_id, code, "The event was refused", exc.errors)

    def _admission(self, event: EventInput) -> EventResult:
        if event.admission_id in self.admissions:
            return refused(event.index, event.event_id, "admission_exists", "This admission_id is already admitted")
        bed = self._bed(event)
        patient = event.patient
        assert patient is not None
        if patient.doc_type == DocType.NONE:
            patient = provisional_person(
                self.est.id,
                event.record_no or event.admission_id,
                full_name=patient.full_name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                nationality=patient.nationality,
            )
        try:
            admission = self.hospital.admit(
                patient,
                bed,
                arrived_at=event.occurred_at,
                expected_discharge=event.expected_discharge,
                record_no=event.record_no or event.admission_id,
                extra={"admission_id": event.admission_id},
                bed_field="bed",
            )
        except ValidationError as exc:
            raise renamed(exc, EVENT_FIELDS) from None
        self.admissions[event.admission_id] = admission
        return self._keep(event, admission.stay, EventOutcome.APPLIED, admission.stay.receipt_no)

    def _transfer(self, event: EventInput, known: Admission) -> EventResult:
        bed = self._bed(event)
        if known.placement is not None and known.placement.bed.id == bed.id:
            known.last_at = event.occurred_at  # already there: nothing to notify
            return self._keep(event, known.stay, EventOutcome.APPLIED, None)
        try:
            moved = self.hospital.transfer(known, bed, at=event.occurred_at, bed_field="bed")
        except ValidationError as exc:
            raise renamed(exc, EVENT_FIELDS) from None
        return self._keep(event, known.stay, EventOutcome.APPLIED, moved.receipt_no)

    def _discharge(self, event: EventInput, known: Admission) -> EventResult:
        try:
            left = self.hospital.discharge(known, at=event.occurred_at, with_carers=event.with_carers)
        except ValidationError as exc:
            raise renamed(exc, EVENT_FIELDS) from None
        return self._keep(event, known.stay, EventOutcome.APPLIED, left.receipt_no)

    def _carer(self, event: EventInput, known: Admission) -> EventResult:
        """A carer staying with the patient, up to the hospital's limit (asm/hospital/filing.register_carer). A
        carer already with this patient is applied again without filing anything (hospital software repeats
        them in every update)."""
        person = event.patient
        assert person is not None
        same = (person.doc_type, person.doc_number.strip().upper(), (person.nationality or "VNM").strip().upper())
        for carer in known.carers:
            if carer.is_open and carer.key is not None and (carer.key[0], carer.key[1].upper(), carer.key[2]) == same:
                return self._keep(event, carer, EventOutcome.APPLIED, None)
        departure = known.stay.expected_departure
        try:
            stay = self.hospital.register_carer(
                known,
                person,
                relation=event.relation,
                arrived_at=event.occurred_at,
                notify=self.est.notify_carers,
                max_carers=self.est.max_carers,
                today_departure=departure if departure and departure >= event.occurred_at.date() else None,
            )
        except ValidationError as exc:
            raise renamed(exc, EVENT_FIELDS, prefix="carer") from None
        return self._keep(event, stay, EventOutcome.APPLIED, stay.receipt_no)

    def _cancel_admission(self, event: EventInput, known: Admission) -> EventResult:
        reason = event.reason or CANCEL_REASONS[event.type]
        cancelled = self.hospital.cancel_admission(known, at=event.occurred_at, reason=reason)
        return self._keep(event, known.stay, EventOutcome.APPLIED, cancelled.receipt_no)

    def _cancel_discharge(self, event: EventInput, known: Admission) -> EventResult:
        if known.stay.is_open:
            return refused(event.index, event.event_id, "not_checked_out", "The patient has not been discharged")
        left_at = known.stay.departed_at or event.occurred_at
        where = event.location
        if not where:
            last = self.last_beds.get(known.stay.id or 0)
            where = Location(bed=last.label) if last is not None else where
        bed = self._bed(event, where=where)
        reason = event.reason or CANCEL_REASONS[event.type]
        reopened = self.hospital.cancel_discharge(known, bed, at=left_at, reason=reason)
        return self._keep(event, known.stay, EventOutcome.APPLIED, reopened.receipt_no)

    def _identify(self, event: EventInput, known: Admission) -> EventResult:
        """The document of a provisional patient is known (an HL7 A08, a Bundle with the CCCD): the stay takes the
        real person and is filed (late if past its deadline). For a patient already identified: nothing to do."""
        stay = known.stay
        if not stay.provisional:
            return self._keep(event, stay, EventOutcome.APPLIED, None)
        assert event.patient is not None
        self.filing.identify(stay, event.patient)
        filed = self.filing.file(stay)
        return self._keep(event, stay, EventOutcome.APPLIED, filed.receipt_no)

    def _late(self, event: EventInput, known: Admission) -> EventResult:
        """Older than what we know: into the history, without a receipt, changing nothing."""
        kind = EventKind.MOVE if event.type == "transfer" else EventKind.CHECK_OUT
        data: dict[str, Any] = {
            "late_event": True,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at.isoformat(),
        }
        if event.type == "transfer":
            bed = self.beds.get(event.bed)
            data |= {"from": None, "to": bed.location if bed else event.bed}
        self.filing.touch(known.stay)
        self.filing.record(known.stay, kind, data, receipt=False)
        return self._keep(event, known.stay, EventOutcome.RECORDED_LATE, None)

    # -- small steps

    def _bed(self, event: EventInput, *, where: Location | None = None) -> BedRef:
        """The bed the event names (asm/hospital/his/matching.py: a bed label, or a ward's first free bed)."""
        holders = self.hospital.holders
        return match_location(
            self.bed_list, where or event.location, lambda b: b.id not in holders, index=self.bed_index
        )

    def _keep(self, event: EventInput, stay: StayRow, outcome: str, receipt_no: str | None) -> EventResult:
        row = {
            "establishment_id": self.est.id,
            "event_id": event.event_id,
            "type": event.type,
            "admission_id": event.admission_id,
            "occurred_at": event.occurred_at,
            "outcome": outcome,
            "body_hash": event.body_hash,
            "token_id": self.filing.actor.token_id,
            "received_at": self.now,
        }
        self.filing.link("hospital_events", row, stay_id=stay)
        return EventResult(index=event.index, event_id=event.event_id, status=outcome, stay=stay, receipt_no=receipt_no)

    def write(self) -> None:
        self.filing.write()


# The core names a guest's fields `guests.0.*` and the stay's dates by the stay; an event names them its own way.
EVENT_FIELDS = {"expected_departure": "expected_discharge", "arrived_at": "occurred_at", "departed_at": "occurred_at"}


def renamed(exc: ValidationError, fields: dict[str, str], *, prefix: str = "patient") -> ValidationError:
    out = ValidationError()
    for name, messages in exc.errors.items():
        new = prefix + name[len("guests.0") :] if name.startswith("guests.0") else fields.get(name, name)
        for message in messages:
            out.add(new, message, exc.codes.get(name, "invalid"))
    return out


STAY_COLUMNS = (
    Stay.id,
    Stay.establishment_id,
    Stay.person_id,
    Stay.status,
    Stay.source,
    Stay.reason,
    Stay.arrived_at,
    Stay.deadline_at,
    Stay.role,
    Stay.room_id,
    Room.name.label("room_name"),
    Stay.head_id,
    Stay.expected_departure,
    Stay.departed_at,
    Stay.filed_at,
    Stay.receipt_no,
    Stay.cancel_reason,
    Person.full_name,
    Person.doc_type,
    Person.doc_number,
    Person.nationality,
    Person.old_id_number,
)


def rows(statement: Any, params: dict[str, Any] | None = None) -> Any:
    """A batch's reads, on the session's connection (the ORM session's own machinery costs more than the query on a
    small batch; nothing of the ORM is read here: the caller flushes first)."""
    return db.session.connection().execute(statement, params)


# The batch's statements, built once (building one costs more than running it for a batch of a few events): the
# establishment, admission ids, stays, bed labels, ward codes and bed ids are bound parameters.
Query = Select[*tuple[Any, ...]]


def with_stays(stmt: Query, stay_id: Any) -> Query:
    """`stmt` (which selects STAY_COLUMNS) joined to the stay `stay_id` names, its person and its room."""
    return with_people_and_rooms(stmt.join(Stay, Stay.id == stay_id))


def with_people_and_rooms(stmt: Query) -> Query:
    return stmt.join(Person, Person.id == Stay.person_id).outerjoin(Room, Room.id == Stay.room_id)


EST_ID: BindParameter[int] = bindparam("est_id")
IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
STAY_IDS: BindParameter[list[int]] = bindparam("stay_ids", expanding=True)
BED_IDS: BindParameter[list[int]] = bindparam("bed_ids", expanding=True)


def last_event_at() -> Any:
    """The time of the last event applied to a row's admission (a correlated subquery)."""
    later = aliased(HospitalEvent)
    return (
        select(func.max(later.occurred_at))
        .where(
            later.establishment_id == EST_ID,
            later.outcome == EventOutcome.APPLIED,
            later.admission_id == HospitalEvent.admission_id,
        )
        .correlate(HospitalEvent)
        .scalar_subquery()
    )


@cache
def known_query() -> Query:
    """The batch's admissions already applied, with their stays and the time of their last event applied."""
    return with_stays(
        select(HospitalEvent.admission_id, last_event_at().label("last_at"), *STAY_COLUMNS), HospitalEvent.stay_id
    ).where(
        HospitalEvent.establishment_id == EST_ID,
        HospitalEvent.type == "admission",
        HospitalEvent.outcome == EventOutcome.APPLIED,
        HospitalEvent.admission_id.in_(IDS),
    )


@cache
def open_beds_query() -> Query:
    return select(BedAssignment.id, BedAssignment.stay_id, BedAssignment.bed_id, BedAssignment.start_at).where(
        BedAssignment.stay_id.in_(STAY_IDS), BedAssignment.end_at.is_(None)
    )


@cache
def carers_query() -> Query:
    return (
        with_stays(select(Carer.patient_stay_id, *STAY_COLUMNS), Carer.stay_id)
        .where(Carer.patient_stay_id.in_(STAY_IDS), Stay.status.in_(OPEN_STATUSES))
        .order_by(Stay.id)
    )


@cache
def all_beds_query() -> Query:
    """Every bed of the hospital (a location naming only a room)."""
    return (
        select(Bed.id, Bed.label, Bed.room_id, Room.name.label("room_name"), Bed.ward_id, Ward.code, Bed.active)
        .join(Room, Room.id == Bed.room_id)
        .join(Ward, Ward.id == Bed.ward_id)
        .where(Bed.establishment_id == EST_ID)
    )


@cache
def named_beds_query() -> Query:
    """The beds named by label, every bed of the wards named without a bed, and the beds by id."""
    return all_beds_query().where(
        or_(
            func.lower(Bed.label).in_(bindparam("labels", expanding=True)),
            func.upper(Ward.code).in_(bindparam("wards", expanding=True)),
            Bed.id.in_(BED_IDS),
        )
    )


@cache
def named_beds_locked_query() -> Query:
    return named_beds_query().order_by(Bed.id).with_for_update(of=Bed)


@cache
def lock_beds_query() -> Query:
    return select(Bed.id).where(Bed.id.in_(BED_IDS)).order_by(Bed.id).with_for_update()


@cache
def holders_query(dialect: str) -> Query:
    """Who lies in these beds now. On PostgreSQL each bed's current assignment leads to its stay by the stay's key,
    in a LATERAL subquery the planner may not flatten (OFFSET 0): with statistics taken while the hospital had no
    patient (a new database, a table not analysed since the day's admissions) it chose to read every open stay of
    the hospital and look for each one's bed, a cost that grows with the patients in house (1.6 ms a batch at
    1,000, 28 ms at 3,000; docs/PERFORMANCE.md, "HL7 v2 ADT over MLLP"). The subquery reads the stay by its key
    only (with the hospital in it, those statistics chose the hospital's index there too); the hospital and the
    status are checked on its row. SQLite has no LATERAL: a join."""
    current = (BedAssignment.bed_id.in_(BED_IDS), BedAssignment.end_at.is_(None))
    if dialect != "postgresql":
        return with_stays(select(BedAssignment.bed_id, *STAY_COLUMNS), BedAssignment.stay_id).where(
            *current, Stay.establishment_id == EST_ID, Stay.status.in_(OPEN_STATUSES)
        )
    holder = (
        with_people_and_rooms(select(*STAY_COLUMNS).select_from(Stay))
        .where(Stay.id == BedAssignment.stay_id)
        .offset(0)
        .lateral("holder")
    )
    return (
        select(BedAssignment.bed_id, *holder.c)
        .join(holder, true())
        .where(*current, holder.c.establishment_id == EST_ID, holder.c.status.in_(OPEN_STATUSES))
    )


@cache
def kept_query() -> Query:
    """The events of a batch already kept, by their ids."""
    return select(
        HospitalEvent.event_id,
        HospitalEvent.body_hash,
        HospitalEvent.stay_id.label("event_stay_id"),
        HospitalEvent.type.label("event_type"),
        HospitalEvent.outcome.label("event_outcome"),
    ).where(HospitalEvent.establishment_id == EST_ID, HospitalEvent.event_id.in_(IDS))


@cache
def kept_and_known_query() -> Query:
    """In one query: the events of a batch already kept (by their ids), and its admissions already applied with
    their stays and the time of their last event applied (`known_query`, by admission ids)."""
    return (
        select(
            HospitalEvent.event_id,
            HospitalEvent.body_hash,
            HospitalEvent.stay_id.label("event_stay_id"),
            HospitalEvent.type.label("event_type"),
            HospitalEvent.outcome.label("event_outcome"),
            HospitalEvent.admission_id,
            last_event_at().label("last_at"),
            *STAY_COLUMNS,
        )
        .outerjoin(Stay, Stay.id == HospitalEvent.stay_id)
        .outerjoin(Person, Person.id == Stay.person_id)
        .outerjoin(Room, Room.id == Stay.room_id)
        .where(
            HospitalEvent.establishment_id == EST_ID,
            or_(
                HospitalEvent.event_id.in_(IDS),
                and_(
                    HospitalEvent.type == "admission",
                    HospitalEvent.outcome == EventOutcome.APPLIED,
                    HospitalEvent.admission_id.in_(bindparam("admission_ids", expanding=True)),
                ),
            ),
        )
    )


def stay_row(row: Any) -> StayRow:
    """A stored stay read by a batch query (STAY_COLUMNS), in the rules' terms."""
    return StayRow(
        id=row.id,
        establishment_id=row.establishment_id,
        person_id=row.person_id,
        status=row.status,
        source=row.source,
        reason=row.reason,
        arrived_at=aware(row.arrived_at),
        deadline_at=aware(row.deadline_at),
        role=row.role,
        room_id=row.room_id,
        room_name=row.room_name,
        head_id=row.head_id,
        expected_departure=row.expected_departure,
        departed_at=aware(row.departed_at) if row.departed_at else None,
        filed_at=aware(row.filed_at) if row.filed_at else None,
        receipt_no=row.receipt_no,
        cancel_reason=row.cancel_reason,
        person_name=row.full_name,
        numbers=[n.upper() for n in (row.doc_number, row.old_id_number) if n],
        provisional=row.doc_type == DocType.NONE,
        key=(row.doc_type, row.doc_number, row.nationality),
    )


def apply_events(
    establishment: Establishment, events: Iterable[EventInput], *, actor: Actor, now: datetime
) -> list[EventResult]:
    """Apply the well-formed events of a batch; returns one result per event given (malformed ones are the
    caller's). Duplicates of kept events, and of earlier events in the same batch, file nothing."""
    require_hospital(establishment)
    events = list(events)
    try:  # not approved, rejected or suspended by the police (issue 16): every event refused, with the reason
        check_open(Place.of(establishment))
    except ValidationError as exc:
        code, message = next(iter(exc.codes.values())), " ".join(exc.messages())
        return [refused(e.index, e.event_id, code, message) for e in events]
    db.session.flush()  # the reads below are the connection's (`rows`): they see what the session holds
    results: dict[int, EventResult] = {}
    ids = sorted({e.event_id for e in events})
    # A small batch (a listener's group of messages) reads the events already kept and its admissions already
    # applied in one query; a large one reads them apart (joined, every event kept would bring its stay along).
    small = len(events) <= SMALL_BATCH
    params = {"est_id": establishment.id, "ids": ids, "admission_ids": sorted({e.admission_id for e in events})}
    found = list(rows(kept_and_known_query() if small else kept_query(), params).all()) if ids else []
    wanted = set(ids)
    kept = {row.event_id: row for row in found if row.event_id in wanted}
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
                    index=event.index, event_id=event.event_id, status="duplicate", stay_id=row.event_stay_id
                )
            else:
                results[event.index] = EventResult(index=event.index, event_id=event.event_id, status="duplicate")
            continue
        first_in_batch[event.event_id] = event
        fresh.append(event)
    batch = Batch(establishment, actor=actor, now=now)
    admitted = {e.admission_id for e in fresh}
    known = (
        [
            row
            for row in found
            if row.event_type == "admission"
            and row.event_outcome == EventOutcome.APPLIED
            and row.admission_id in admitted
            and row.id is not None
        ]
        if small
        else None
    )
    batch.load(fresh, known=known)
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
