"""Reads for the establishment pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from asm.clock import VN_TZ, local_today
from asm.establishments.models import Establishment, Room
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import OPEN_STATUSES, Stay, StayEvent, StayStatus
from asm.text import fold, is_plain, like_pattern, search_text


def _with_people(query: Select[Stay]) -> Select[Stay]:
    return query.options(joinedload(Stay.person), joinedload(Stay.room))


def guest_search(search: str) -> ColumnElement[bool] | None:
    """Who a search box means, for a query joined to Person and (outer) Room: part of the name, case and
    diacritics aside ("dinh", "ĐINH", "Đinh" alike, through people.search_key), part of the document number, or
    the room's name. None for an empty box. Never refused: control characters and the like are dropped."""
    text = search_text(search)
    if not text:
        return None
    conditions = [
        Person.doc_number.like(like_pattern(text.upper()), escape="\\"),
        func.lower(Room.name) == text.lower(),
    ]
    key = fold(text)
    if key:
        conditions.insert(0, Person.search_key.like(like_pattern(key), escape="\\"))
    return or_(*conditions)


def in_house(
    establishment: Establishment, search: str = "", limit: int = 500, after: tuple[datetime, int] | None = None
) -> list[Stay]:
    """Open stays, latest arrival first (ties by id): a stable order. `after`: the (arrived_at, id) of the
    previous page's last stay, for the page that follows it (the API's cursor pages)."""
    query = select(Stay).where(Stay.establishment_id == establishment.id, Stay.status.in_(OPEN_STATUSES))
    if after is not None:
        at, stay_id = after
        query = query.where(or_(Stay.arrived_at < at, and_(Stay.arrived_at == at, Stay.id > stay_id)))
    condition = guest_search(search)
    if condition is not None:
        query = (
            query.join(Person, Person.id == Stay.person_id).outerjoin(Room, Room.id == Stay.room_id).where(condition)
        )
    query = _with_people(query).order_by(Stay.arrived_at.desc(), Stay.id).limit(limit)
    return list(db.session.scalars(query).unique())


def local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    day = local_today(now)
    start = datetime.combine(day, time(0), VN_TZ)
    return start, start + timedelta(days=1)


def arrivals_today(establishment: Establishment, now: datetime) -> list[Stay]:
    start, end = local_day_bounds(now)
    query = select(Stay).where(
        Stay.establishment_id == establishment.id,
        Stay.arrived_at >= start,
        Stay.arrived_at < end,
        Stay.status != StayStatus.CANCELLED,
    )
    return list(db.session.scalars(_with_people(query).order_by(Stay.arrived_at)).unique())


def departures_today(establishment: Establishment, now: datetime) -> list[Stay]:
    """Guests who left today, and guests still in house who are expected to leave today."""
    start, end = local_day_bounds(now)
    query = select(Stay).where(
        Stay.establishment_id == establishment.id,
        or_(
            (Stay.status == StayStatus.CHECKED_OUT) & (Stay.departed_at >= start) & (Stay.departed_at < end),
            (Stay.status == StayStatus.IN_HOUSE) & (Stay.expected_departure == local_today(now)),
        ),
    )
    return list(db.session.scalars(_with_people(query).order_by(Stay.id)).unique())


@dataclass(frozen=True)
class Problems:
    overdue: list[Stay]  # recorded, not filed, deadline passed
    pending: list[Stay]  # recorded, not filed yet, deadline ahead
    late_recent: int  # filed after the deadline in the last 7 days


def problems(establishment: Establishment, now: datetime) -> Problems:
    drafts = list(
        db.session.scalars(
            _with_people(
                select(Stay).where(Stay.establishment_id == establishment.id, Stay.status == StayStatus.DRAFT)
            ).order_by(Stay.deadline_at)
        ).unique()
    )
    late = db.session.scalar(
        select(func.count(Stay.id)).where(
            Stay.establishment_id == establishment.id,
            Stay.filed_at.is_not(None),
            Stay.filed_at > Stay.deadline_at,
            Stay.filed_at >= now - timedelta(days=7),
        )
    )
    return Problems(
        overdue=[s for s in drafts if s.deadline_at < now],
        pending=[s for s in drafts if s.deadline_at >= now],
        late_recent=late or 0,
    )


def stay_of(establishment: Establishment, stay_id: int) -> Stay | None:
    stay = db.session.get(Stay, stay_id)
    return stay if stay is not None and stay.establishment_id == establishment.id else None


def history(establishment: Establishment, *, page: int = 1, per_page: int = 50) -> list[StayEvent]:
    query = (
        select(StayEvent)
        .join(Stay, Stay.id == StayEvent.stay_id)
        .where(Stay.establishment_id == establishment.id)
        .options(joinedload(StayEvent.stay).joinedload(Stay.person))
        .order_by(StayEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(db.session.scalars(query).unique())


def event_by_receipt(establishment: Establishment, receipt_no: str) -> StayEvent | None:
    return db.session.scalar(
        select(StayEvent)
        .join(Stay, Stay.id == StayEvent.stay_id)
        .where(StayEvent.receipt_no == receipt_no, Stay.establishment_id == establishment.id)
    )


def past_guest(establishment: Establishment, doc_type: str, doc_number: str) -> Person | None:
    """A person who stayed at this establishment before: the only people a desk may prefill."""
    if not is_plain(doc_type + doc_number):
        return None
    return db.session.scalar(
        select(Person)
        .join(Stay, Stay.person_id == Person.id)
        .where(
            Stay.establishment_id == establishment.id,
            Person.doc_type == doc_type,
            Person.doc_number == doc_number,
        )
        .limit(1)
    )
