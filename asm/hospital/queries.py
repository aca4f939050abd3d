"""Reads for the hospital pages: wards, the bed board, a patient with their carers, the census of a day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from asm.clock import VN_TZ
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.models import Bed, BedAssignment, BedStatus, Carer, Ward
from asm.people.models import DocType
from asm.stays.models import OPEN_STATUSES, Stay, StayStatus
from asm.stays.rules import NoticeState, stay_days


def wards(establishment: Establishment) -> list[Ward]:
    return list(
        db.session.scalars(
            select(Ward).where(Ward.establishment_id == establishment.id, Ward.active).order_by(Ward.code)
        )
    )


def ward_of(establishment: Establishment, ward_id: int) -> Ward | None:
    ward = db.session.get(Ward, ward_id)
    return ward if ward is not None and ward.establishment_id == establishment.id else None


def bed_of(establishment: Establishment, bed_id: int) -> Bed | None:
    bed = db.session.get(Bed, bed_id)
    return bed if bed is not None and bed.establishment_id == establishment.id else None


def beds(establishment: Establishment) -> list[Bed]:
    """Every active bed of the hospital, by ward and label (for the bed pickers)."""
    return list(
        db.session.scalars(
            select(Bed)
            .join(Ward, Ward.id == Bed.ward_id)
            .where(Bed.establishment_id == establishment.id, Bed.active)
            .options(joinedload(Bed.ward), joinedload(Bed.room))
            .order_by(Ward.code, Bed.label)
        ).unique()
    )


def initials(full_name: str) -> str:
    """ "Nguyễn Thị Hoa" -> "N.T.H.": enough for staff at the board, not a name for passers-by."""
    return "".join(part[0].upper() + "." for part in full_name.split() if part)


@dataclass
class BedView:
    bed: Bed
    stay: Stay | None = None
    carers: int = 0
    days: int = 0
    flags: list[str] = field(default_factory=list)  # late, overdue, pending, long_stay, provisional

    @property
    def initials(self) -> str:
        return initials(self.stay.person.full_name) if self.stay else ""

    @property
    def state(self) -> str:
        if self.stay is not None:
            return BedStatus.OCCUPIED
        # Marked occupied but nobody open in it (the patient was checked out from the desk's generic pages).
        return BedStatus.CLEANING if self.bed.status == BedStatus.OCCUPIED else self.bed.status


def patient_flags(stay: Stay, now: datetime, long_stay_days: int) -> list[str]:
    flags = []
    state = stay.state(now)
    if state == NoticeState.LATE:
        flags.append("late")
    elif state in (NoticeState.OVERDUE, NoticeState.PENDING):
        flags.append(str(state))
    if stay.is_long_stay(now, long_stay_days):
        flags.append("long_stay")
    if stay.person.doc_type == DocType.NONE:
        flags.append("provisional")
    return flags


def open_patients_by_bed(ward_ids: list[int]) -> dict[int, Stay]:
    rows = db.session.execute(
        select(BedAssignment.bed_id, Stay)
        .join(Stay, Stay.id == BedAssignment.stay_id)
        .where(BedAssignment.ward_id.in_(ward_ids), BedAssignment.end_at.is_(None), Stay.status.in_(OPEN_STATUSES))
        .options(joinedload(Stay.person))
    ).all()
    return {bed_id: stay for bed_id, stay in rows}  # noqa: C416  (rows are Row objects)


def carer_counts(patient_ids: list[int]) -> dict[int, int]:
    if not patient_ids:
        return {}
    return dict(
        db.session.execute(
            select(Carer.patient_stay_id, func.count(Carer.stay_id))
            .join(Stay, Stay.id == Carer.stay_id)
            .where(Carer.patient_stay_id.in_(patient_ids), Stay.status.in_(OPEN_STATUSES))
            .group_by(Carer.patient_stay_id)
        ).all()
    )


def board(ward: Ward, now: datetime, long_stay_days: int = 30) -> list[BedView]:
    """The bed board of a ward: every bed with its state, its patient and their carers. Three queries."""
    patients = open_patients_by_bed([ward.id])
    counts = carer_counts([s.id for s in patients.values()])
    views = []
    for bed in db.session.scalars(
        select(Bed).where(Bed.ward_id == ward.id, Bed.active).options(joinedload(Bed.room)).order_by(Bed.label)
    ):
        stay = patients.get(bed.id)
        view = BedView(bed=bed, stay=stay)
        if stay is not None:
            view.carers = counts.get(stay.id, 0)
            view.days = stay_days(stay.arrived_at, now)
            view.flags = patient_flags(stay, now, long_stay_days)
        views.append(view)
    return views


@dataclass
class WardSummary:
    ward: Ward
    beds: int
    occupied: int
    carers: int
    flagged: int


def summaries(establishment: Establishment, now: datetime, long_stay_days: int = 30) -> list[WardSummary]:
    out = []
    all_wards = wards(establishment)
    patients = open_patients_by_bed([w.id for w in all_wards])
    counts = carer_counts([s.id for s in patients.values()])
    bed_counts = dict(
        db.session.execute(
            select(Bed.ward_id, func.count(Bed.id))
            .where(Bed.establishment_id == establishment.id, Bed.active)
            .group_by(Bed.ward_id)
        ).all()
    )
    ward_of_bed = dict(
        db.session.execute(select(Bed.id, Bed.ward_id).where(Bed.establishment_id == establishment.id)).all()
    )
    for ward in all_wards:
        here = [s for bed_id, s in patients.items() if ward_of_bed.get(bed_id) == ward.id]
        out.append(
            WardSummary(
                ward=ward,
                beds=bed_counts.get(ward.id, 0),
                occupied=len(here),
                carers=sum(counts.get(s.id, 0) for s in here),
                flagged=sum(1 for s in here if patient_flags(s, now, long_stay_days)),
            )
        )
    return out


def patient_of(establishment: Establishment, stay_id: int) -> Stay | None:
    stay = db.session.get(Stay, stay_id)
    if stay is None or stay.establishment_id != establishment.id or stay.role != "patient":
        return None
    return stay


def carer_of(establishment: Establishment, stay_id: int) -> Carer | None:
    carer = db.session.get(Carer, stay_id)
    if carer is None or carer.stay.establishment_id != establishment.id:
        return None
    return carer


def carer_by_token(establishment: Establishment, token: str) -> Carer | None:
    carer = db.session.scalar(select(Carer).where(Carer.card_token == token))
    if carer is None or carer.stay.establishment_id != establishment.id:
        return None
    return carer


def carers_of(patient_stay: Stay) -> list[Carer]:
    """All carers a patient had, open ones first."""
    rows = list(
        db.session.scalars(
            select(Carer)
            .join(Stay, Stay.id == Carer.stay_id)
            .where(Carer.patient_stay_id == patient_stay.id, Stay.status != StayStatus.CANCELLED)
            .options(joinedload(Carer.stay).joinedload(Stay.person))
            .order_by(Stay.id)
        ).unique()
    )
    return sorted(rows, key=lambda c: not c.stay.is_open)


def assignments_of(stay: Stay) -> list[BedAssignment]:
    return list(
        db.session.scalars(
            select(BedAssignment)
            .where(BedAssignment.stay_id == stay.id)
            .options(joinedload(BedAssignment.bed).joinedload(Bed.ward))
            .order_by(BedAssignment.start_at, BedAssignment.id)
        ).unique()
    )


def patients(establishment: Establishment, now: datetime) -> list[Stay]:
    """Open patient stays of the hospital (the admissions list)."""
    return list(
        db.session.scalars(
            select(Stay)
            .where(Stay.establishment_id == establishment.id, Stay.role == "patient", Stay.status.in_(OPEN_STATUSES))
            .options(joinedload(Stay.person))
            .order_by(Stay.arrived_at.desc())
            .limit(500)
        ).unique()
    )


# --- census ------------------------------------------------------------------------------------------------


@dataclass
class CensusCarer:
    full_name: str
    relation: str
    document: str
    arrived_at: datetime
    departed_at: datetime | None


@dataclass
class CensusRow:
    bed: str
    room: str
    full_name: str
    birth_date: date
    document: str
    admitted_at: datetime
    in_bed_from: datetime
    in_bed_until: datetime | None
    carers: list[CensusCarer]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), VN_TZ)
    return start, start + timedelta(days=1)


def census(ward: Ward, day: date) -> list[CensusRow]:
    """Who lay in which bed of the ward at any time on `day` (local), with the carers staying with them that day."""
    start, end = day_bounds(day)
    rows = db.session.execute(
        select(BedAssignment, Stay)
        .join(Stay, Stay.id == BedAssignment.stay_id)
        .where(
            BedAssignment.ward_id == ward.id,
            BedAssignment.start_at < end,
            or_(BedAssignment.end_at.is_(None), BedAssignment.end_at > start),
            Stay.status != StayStatus.CANCELLED,
        )
        .options(joinedload(BedAssignment.bed).joinedload(Bed.room), joinedload(Stay.person))
        .order_by(BedAssignment.start_at)
    ).all()
    patient_ids = [stay.id for _a, stay in rows]
    carers: dict[int, list[CensusCarer]] = {}
    if patient_ids:
        for carer, stay in db.session.execute(
            select(Carer, Stay)
            .join(Stay, Stay.id == Carer.stay_id)
            .where(
                Carer.patient_stay_id.in_(patient_ids),
                Stay.status != StayStatus.CANCELLED,
                Stay.arrived_at < end,
                or_(Stay.departed_at.is_(None), Stay.departed_at > start),
            )
            .options(joinedload(Stay.person))
            .order_by(Stay.arrived_at)
        ).all():
            carers.setdefault(carer.patient_stay_id, []).append(
                CensusCarer(
                    full_name=stay.person.full_name,
                    relation=carer.relation,
                    document=document_text(stay),
                    arrived_at=stay.arrived_at,
                    departed_at=stay.departed_at,
                )
            )
    out = [
        CensusRow(
            bed=a.bed.label,
            room=a.bed.room.name,
            full_name=stay.person.full_name,
            birth_date=stay.person.birth_date,
            document=document_text(stay),
            admitted_at=stay.arrived_at,
            in_bed_from=a.start_at,
            in_bed_until=a.end_at or stay.departed_at,
            carers=carers.get(stay.id, []),
        )
        for a, stay in rows
    ]
    return sorted(out, key=lambda r: (r.bed, r.in_bed_from))


def document_text(stay: Stay) -> str:
    person = stay.person
    if person.doc_type == DocType.NONE:
        return "—"
    return person.masked_doc_number
