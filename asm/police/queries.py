"""Reads for the police pages: the dashboard, the lists behind its figures, person search, alerts, the access log.

Every query here is restricted by `asm.police.jurisdiction` (scope_stays / scope_establishments /
establishment_ids); nothing reads stays or establishments without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from asm.accounts.models import AccessLog, Role, User
from asm.clock import VN_TZ, local_today
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.foreigners.models import ForeignStay
from asm.geo.models import Commune
from asm.people.models import Person
from asm.police.jurisdiction import Jurisdiction, establishment_ids, scope_establishments, scope_stays
from asm.police.models import Alert, AlertState, WatchEntry
from asm.stays.models import Stay, StayStatus
from asm.text import search_key, search_text

# Hospitals (issue 4) mark stays as "patient" or "carer"; read it defensively, the column may be absent.
STAY_ROLE = getattr(Stay, "role", None)
PATIENT, CARER = "patient", "carer"
PAGE_SIZE = 100
PERIOD_DAYS = 30
TOP_LATE = 10


class local_date(FunctionElement[date]):
    """The calendar date of a UTC timestamp in Vietnam (UTC+7, no daylight saving)."""

    type = Date()
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Asia/Ho_Chi_Minh', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(local_date)
def _local_date_default(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), VN_TZ)


# --- the figures --------------------------------------------------------------------------------------


def late_condition() -> ColumnElement[bool]:
    return and_(Stay.filed_at.is_not(None), Stay.filed_at > Stay.deadline_at)


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    return and_(Stay.status == StayStatus.DRAFT, Stay.deadline_at < now)


def no_checkout_condition(today: date) -> ColumnElement[bool]:
    return and_(Stay.status == StayStatus.IN_HOUSE, Stay.expected_departure < today)


def declaration_overdue_condition(now: datetime) -> ColumnElement[bool]:
    """A foreigner's temporary-residence declaration not made, its deadline passed (ForeignStay joined)."""
    return and_(ForeignStay.declared_at.is_(None), ForeignStay.deadline_at < now)


def declaration_late_condition() -> ColumnElement[bool]:
    return and_(ForeignStay.declared_at.is_not(None), ForeignStay.declared_at > ForeignStay.deadline_at)


def long_stay_condition(now: datetime, days: int) -> ColumnElement[bool]:
    return and_(Stay.status == StayStatus.IN_HOUSE, Stay.arrived_at <= now - timedelta(days=days))


@dataclass
class Dashboard:
    now: datetime
    today: date
    in_house: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    foreigners: int = 0
    patients: int = 0
    carers: int = 0
    overdue: int = 0
    no_checkout: int = 0
    long_stays: int = 0
    late: int = 0
    arrivals: list[tuple[date, int]] = field(default_factory=list)
    departures: list[tuple[date, int]] = field(default_factory=list)
    silent: int = 0
    silent_days: int = 7
    most_late: list[tuple[Establishment, int]] = field(default_factory=list)
    long_stay_days: int = 30
    days: int = PERIOD_DAYS
    # Foreigners (issue 12): in house by nationality; arrivals and their temporary-residence declarations, 30 days.
    foreigners_by_nationality: list[tuple[str, int]] = field(default_factory=list)
    foreign_arrivals: int = 0
    declarations_overdue: int = 0
    declarations_late: int = 0


def dashboard(j: Jurisdiction, now: datetime, *, silent_days: int = 7, long_stay_days: int = 30) -> Dashboard:
    today = local_today(now)
    result = Dashboard(now=now, today=today, silent_days=silent_days, long_stay_days=long_stay_days)
    ests = establishment_ids(j).subquery()
    in_house = Stay.status == StayStatus.IN_HOUSE
    role_counts = []
    if STAY_ROLE is not None:
        role_counts = [
            func.count().filter(in_house, STAY_ROLE == PATIENT),
            func.count().filter(in_house, STAY_ROLE == CARER),
        ]
    # 1. open stays: one pass over the open stays of the jurisdiction, grouped by establishment type.
    open_rows = db.session.execute(
        select(
            Establishment.type,
            func.count().filter(in_house),
            func.count().filter(in_house, Person.nationality != "VNM"),
            func.count().filter(overdue_condition(now)),
            func.count().filter(no_checkout_condition(today)),
            func.count().filter(long_stay_condition(now, long_stay_days)),
            *role_counts,
        )
        .select_from(Stay)
        .join(ests, ests.c.id == Stay.establishment_id)
        .join(Establishment, Establishment.id == Stay.establishment_id)
        .join(Person, Person.id == Stay.person_id)
        .where(Stay.status.in_((StayStatus.IN_HOUSE, StayStatus.DRAFT)))
        .group_by(Establishment.type)
    ).all()
    for row in open_rows:
        if row[1]:
            result.by_type[row[0]] = row[1]
        result.in_house += row[1]
        result.foreigners += row[2]
        result.overdue += row[3]
        result.no_checkout += row[4]
        result.long_stays += row[5]
        if role_counts:
            result.patients += row[6]
            result.carers += row[7]
    # 2. the last 30 local days: arrivals per day and late notifications.
    first_day = today - timedelta(days=PERIOD_DAYS - 1)
    start = local_midnight(first_day)
    day = local_date(Stay.arrived_at)
    arrival_rows = db.session.execute(
        select(day, func.count(), func.count().filter(late_condition()))
        .join(ests, ests.c.id == Stay.establishment_id)
        .where(Stay.arrived_at >= start, Stay.status != StayStatus.CANCELLED)
        .group_by(day)
    ).all()
    arrivals = {as_date(r[0]): r[1] for r in arrival_rows}
    result.late = sum(r[2] for r in arrival_rows)
    # Only a check-out sets departed_at (a cancelled stay keeps it NULL): no status test, so that the count reads
    # the index (establishment_id, departed_at) alone.
    out_day = local_date(Stay.departed_at)
    departure_rows = db.session.execute(
        select(out_day, func.count())
        .join(ests, ests.c.id == Stay.establishment_id)
        .where(Stay.departed_at >= start)
        .group_by(out_day)
    ).all()
    departures = {as_date(r[0]): r[1] for r in departure_rows}
    days = [first_day + timedelta(days=i) for i in range(PERIOD_DAYS)]
    result.arrivals = [(d, arrivals.get(d, 0)) for d in days]
    result.departures = [(d, departures.get(d, 0)) for d in days]
    # 2b. foreigners: in house by nationality; the last 30 days' arrivals and their declarations.
    result.foreigners_by_nationality = [
        (row[0], row[1])
        for row in db.session.execute(
            select(Person.nationality, func.count())
            .select_from(Stay)
            .join(ests, ests.c.id == Stay.establishment_id)
            .join(Person, Person.id == Stay.person_id)
            .where(Stay.status == StayStatus.IN_HOUSE, Person.nationality != "VNM")
            .group_by(Person.nationality)
            .order_by(func.count().desc(), Person.nationality)
        )
    ]
    foreign_row = db.session.execute(
        select(
            func.count(),
            func.count().filter(declaration_overdue_condition(now)),
            func.count().filter(declaration_late_condition()),
        )
        .select_from(Stay)
        .join(ests, ests.c.id == Stay.establishment_id)
        .join(ForeignStay, ForeignStay.stay_id == Stay.id)
        .where(Stay.arrived_at >= start, Stay.status != StayStatus.CANCELLED)
    ).one()
    result.foreign_arrivals, result.declarations_overdue, result.declarations_late = foreign_row
    # 3. establishments that filed nothing for N days, and the most often late.
    result.silent = db.session.scalar(silent_establishments(j, now, silent_days).with_only_columns(func.count())) or 0
    result.most_late = most_late(j, now)
    return result


def silent_establishments(j: Jurisdiction, now: datetime, days: int) -> Select[Establishment]:
    since = now - timedelta(days=days)
    filed = exists().where(Stay.establishment_id == Establishment.id, Stay.filed_at >= since)
    return scope_establishments(select(Establishment).where(Establishment.active, ~filed), j)


def most_late(j: Jurisdiction, now: datetime, *, limit: int = TOP_LATE) -> list[tuple[Establishment, int]]:
    """Late notifications (filed late, or not filed past the deadline) of the last 30 days, by establishment."""
    start = local_midnight(local_today(now) - timedelta(days=PERIOD_DAYS - 1))
    n = func.count().label("n")
    late = (
        scope_stays(select(Stay.establishment_id, n), j)
        .where(Stay.arrived_at >= start, or_(late_condition(), overdue_condition(now)))
        .group_by(Stay.establishment_id)
        .order_by(n.desc(), Stay.establishment_id)
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        select(Establishment, late.c.n)
        .join(late, late.c.establishment_id == Establishment.id)
        .order_by(late.c.n.desc(), Establishment.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


# --- the lists behind the figures -------------------------------------------------------------------------

STAY_FIGURES = (
    "in_house",
    "foreigners",
    "foreign_arrivals",
    "declarations_overdue",
    "declarations_late",
    "patients",
    "carers",
    "overdue",
    "no_checkout",
    "long_stays",
    "late",
    "arrivals",
    "departures",
)
ESTABLISHMENT_FIGURES = ("silent", "most_late")


def figure_stays(
    j: Jurisdiction,
    figure: str,
    now: datetime,
    *,
    type: str | None = None,
    day: date | None = None,
    long_stay_days: int = 30,
    nationality: str | None = None,
) -> Select[Stay]:
    """The stays behind one figure of the dashboard, newest arrival first. `nationality`: the foreigners of one."""
    today = local_today(now)
    query = scope_stays(select(Stay), j)
    first = local_midnight(today - timedelta(days=PERIOD_DAYS - 1))
    if figure == "in_house":
        query = query.where(Stay.status == StayStatus.IN_HOUSE)
    elif figure == "foreigners":
        query = query.join(Person, Person.id == Stay.person_id).where(
            Stay.status == StayStatus.IN_HOUSE, Person.nationality != "VNM"
        )
        if nationality:
            query = query.where(Person.nationality == nationality)
    elif figure in ("foreign_arrivals", "declarations_overdue", "declarations_late"):
        query = query.join(ForeignStay, ForeignStay.stay_id == Stay.id).where(
            Stay.arrived_at >= first, Stay.status != StayStatus.CANCELLED
        )
        if figure == "declarations_overdue":
            query = query.where(declaration_overdue_condition(now))
        elif figure == "declarations_late":
            query = query.where(declaration_late_condition())
    elif figure in ("patients", "carers"):
        if STAY_ROLE is None:
            query = query.where(false())
        else:
            role = PATIENT if figure == "patients" else CARER
            query = query.where(Stay.status == StayStatus.IN_HOUSE, role == STAY_ROLE)
    elif figure == "overdue":
        query = query.where(overdue_condition(now))
    elif figure == "no_checkout":
        query = query.where(no_checkout_condition(today))
    elif figure == "long_stays":
        query = query.where(long_stay_condition(now, long_stay_days))
    elif figure == "late":
        query = query.where(Stay.arrived_at >= first, Stay.status != StayStatus.CANCELLED, late_condition())
    elif figure == "arrivals":
        start = local_midnight(day) if day else first
        end = start + timedelta(days=1) if day else now + timedelta(days=1)
        query = query.where(Stay.arrived_at >= start, Stay.arrived_at < end, Stay.status != StayStatus.CANCELLED)
    elif figure == "departures":
        start = local_midnight(day) if day else first
        end = start + timedelta(days=1) if day else now + timedelta(days=1)
        query = query.where(Stay.departed_at >= start, Stay.departed_at < end, Stay.status == StayStatus.CHECKED_OUT)
    else:
        raise ValueError(f"unknown figure {figure!r}")
    if type:
        query = query.join(Establishment, Establishment.id == Stay.establishment_id).where(Establishment.type == type)
    return query.options(joinedload(Stay.person), joinedload(Stay.establishment)).order_by(
        Stay.arrived_at.desc(), Stay.id.desc()
    )


def page_of(query: Select[Any], page: int, per_page: int = PAGE_SIZE) -> list[Any]:
    return list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).unique())


def figure_establishments(j: Jurisdiction, figure: str, now: datetime, *, silent_days: int = 7) -> list[Any]:
    """(establishment, count or None) rows behind an establishment figure."""
    if figure == "silent":
        query = silent_establishments(j, now, silent_days).options(joinedload(Establishment.commune))
        return [(e, None) for e in db.session.scalars(query.order_by(Establishment.name).limit(1000))]
    if figure == "most_late":
        return list(most_late(j, now, limit=100))
    raise ValueError(f"unknown figure {figure!r}")


# --- people ---------------------------------------------------------------------------------------------


def normalize_doc_number(text: str) -> str:
    """What a document-number box holds: no spaces, upper case, no control or invisible characters."""
    return "".join(search_text(text).split()).upper()


def search_people(
    j: Jurisdiction, *, doc_number: str = "", name: str = "", birth_date: date | None = None, limit: int = 50
) -> list[Person]:
    """People who have stayed in the jurisdiction, by document number, or by name and date of birth.

    The name is compared folded (people.search_key): case, diacritics, Đ/đ and extra spaces aside, the whole name.
    """
    stayed_here = exists().where(Stay.person_id == Person.id, Stay.establishment_id.in_(establishment_ids(j)))
    query = select(Person).where(stayed_here)
    if doc_number:
        number = normalize_doc_number(doc_number)
        query = query.where(or_(Person.doc_number == number, Person.old_id_number == number))
    elif name and birth_date:
        query = query.where(Person.search_key == search_key(name), Person.birth_date == birth_date)
    else:
        return []
    return list(db.session.scalars(query.order_by(Person.full_name, Person.id).limit(limit)))


def person_in(j: Jurisdiction, person_id: int) -> Person | None:
    """A person, only if they have stayed in the jurisdiction."""
    stayed_here = exists().where(Stay.person_id == Person.id, Stay.establishment_id.in_(establishment_ids(j)))
    return db.session.scalar(select(Person).where(Person.id == person_id, stayed_here))


def stays_of_person(j: Jurisdiction, person: Person) -> list[Stay]:
    query = scope_stays(select(Stay), j).where(Stay.person_id == person.id)
    query = query.options(joinedload(Stay.establishment), joinedload(Stay.room)).order_by(Stay.arrived_at.desc())
    return list(db.session.scalars(query.limit(500)).unique())


# --- alerts and watch list --------------------------------------------------------------------------------


def alerts_query(j: Jurisdiction) -> Select[Alert]:
    """The alerts of the wards in the jurisdiction (the ward of the establishment where the stay was filed)."""
    if j.commune_code is not None:
        query = select(Alert).where(Alert.commune_code == j.commune_code)
    else:
        query = select(Alert).where(
            Alert.commune_code.in_(select(Commune.code).where(Commune.province_code == j.province_code))
        )
    return query.options(
        joinedload(Alert.watch_entry),
        joinedload(Alert.stay).joinedload(Stay.person),
        joinedload(Alert.stay).joinedload(Stay.establishment),
    )


def alert_queue(j: Jurisdiction, *, include_closed: bool = False, limit: int = 200) -> list[Alert]:
    query = alerts_query(j)
    if not include_closed:
        query = query.where(Alert.state != AlertState.CLOSED)
    return list(db.session.scalars(query.order_by(Alert.id.desc()).limit(limit)).unique())


def alert_in(j: Jurisdiction, alert_id: int) -> Alert | None:
    return db.session.scalars(alerts_query(j).where(Alert.id == alert_id)).unique().one_or_none()


def watch_entries_query(j: Jurisdiction) -> Select[WatchEntry]:
    """An officer sees their commune's entries; a supervisor every entry of the province."""
    if j.commune_code is not None:
        return select(WatchEntry).where(WatchEntry.commune_code == j.commune_code)
    return select(WatchEntry).where(WatchEntry.province_code == j.province_code)


def watch_entries(j: Jurisdiction, *, active_only: bool = True, limit: int = 1000) -> list[WatchEntry]:
    query = watch_entries_query(j)
    if active_only:
        query = query.where(WatchEntry.active)
    return list(db.session.scalars(query.order_by(WatchEntry.id.desc()).limit(limit)))


def watch_entry_in(j: Jurisdiction, entry_id: int) -> WatchEntry | None:
    return db.session.scalar(watch_entries_query(j).where(WatchEntry.id == entry_id))


# --- the access log (supervisors) -------------------------------------------------------------------------


def access_log(
    province_code: str, *, user_id: int | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> list[AccessLog]:
    """Lines by the police of one province: its supervisors and the officers of its communes."""
    in_province = or_(
        User.province_code == province_code,
        User.commune_code.in_(select(Commune.code).where(Commune.province_code == province_code)),
    )
    query = (
        select(AccessLog)
        .join(User, User.id == AccessLog.user_id)
        .where(in_province, User.role.in_((Role.OFFICER, Role.SUPERVISOR)))
        .options(joinedload(AccessLog.user))
    )
    if user_id is not None:
        query = query.where(AccessLog.user_id == user_id)
    return list(
        db.session.scalars(query.order_by(AccessLog.id.desc()).offset((page - 1) * per_page).limit(per_page + 1))
    )


def police_users_of_province(province_code: str) -> list[User]:
    query = select(User).where(
        User.role.in_((Role.OFFICER, Role.SUPERVISOR)),
        or_(
            User.province_code == province_code,
            User.commune_code.in_(select(Commune.code).where(Commune.province_code == province_code)),
        ),
    )
    return list(db.session.scalars(query.order_by(User.username)))


def establishments_in(j: Jurisdiction) -> list[Establishment]:
    query = scope_establishments(select(Establishment), j).options(joinedload(Establishment.commune))
    return list(db.session.scalars(query.order_by(Establishment.name).limit(5000)))


def communes_in(j: Jurisdiction) -> list[Commune]:
    if j.commune_code is not None:
        return [c for c in [db.session.get(Commune, j.commune_code)] if c is not None]
    return list(
        db.session.scalars(select(Commune).where(Commune.province_code == j.province_code).order_by(Commune.name))
    )
