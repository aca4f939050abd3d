"""The retention purge (issue 14): each policy removes, in batches of RETENTION_BATCH, the rows of one kind older
than its setting, and writes one line of the purge ledger (what, how many, up to when, by which policy), itself
append-only. `run(dry_run=True)` counts and removes nothing. The nightly job and `flask retention purge` call it.

Stays (a group whole, once every stay of it ended before the cutoff) go with their hash-chained history, what
hangs on them (foreign declarations, alerts, hospital rows) and their people when no stay is left; the police
access log goes from its oldest row up to the cutoff, and the ledger keeps the hash of the last row removed, to
which the first one left links (`audit verify` accepts it). On PostgreSQL both go first by whole months, a
partition dropped for each (asm/jobs/partitions.py); what is left older than the cutoff (the edge month) goes
row by row as on SQLite, so the purge removes exactly what is older than N days.

These two tables are append-only: their triggers let a DELETE through only inside the purge's transaction
(`SET LOCAL asm.purge`, or a `purge_mode` row on SQLite), and on PostgreSQL the app role has no DELETE privilege
at all, so the purge connects with PURGE_DATABASE_URI: the purge role of `flask db-roles setup --purge`, which
may delete old rows and drop old partitions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, create_engine, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from asm.accounts.models import AccessLog, UserSession
from asm.clock import utcnow
from asm.extensions import db
from asm.foreigners.models import ForeignStay
from asm.hospital.models import BedAssignment, Carer, HospitalEvent
from asm.jobs import partitions
from asm.jobs.models import Job, PurgeLine, PurgeMode, Reminder, ReminderDelivery, ReportChunk, State
from asm.people.models import Person
from asm.police.models import Alert, ReportJob
from asm.stays.models import OPEN_STATUSES, IdempotencyRecord, Stay, StayEvent


@dataclass(frozen=True)
class Policy:
    name: str  # the setting RETENTION_<NAME>_DAYS
    target: str
    ids: Callable[[datetime], Any]  # select of the keys of rows (or groups) older than the cutoff
    remove: Callable[[Session, list[int]], tuple[int, str | None]]  # delete them: (rows removed, chain anchor)
    # PostgreSQL: first drop the whole months past the cutoff (asm/jobs/partitions.py): (rows removed, anchor)
    drop: Callable[[Session, datetime, int, float], tuple[int, str | None]] | None = None


def _drop_stays(s: Session, cutoff: datetime, batch: int, pause: float) -> tuple[int, str | None]:
    return partitions.drop_stay_months(s, cutoff, batch, pause), None


def _drop_access_log(s: Session, cutoff: datetime, batch: int, pause: float) -> tuple[int, str | None]:
    return partitions.drop_access_months(s, cutoff)


def _delete(table: Any) -> Callable[[Session, list[int]], tuple[int, str | None]]:
    def remove(s: Session, ids: list[int]) -> tuple[int, str | None]:
        s.execute(delete(table).where(table.id.in_(ids)))
        return len(ids), None

    return remove


def _reminders(s: Session, ids: list[int]) -> tuple[int, str | None]:
    s.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(ids)))
    s.execute(delete(Reminder).where(Reminder.id.in_(ids)))
    return len(ids), None


def _reports(s: Session, ids: list[int]) -> tuple[int, str | None]:
    s.execute(delete(ReportChunk).where(ReportChunk.job_id.in_(ids)))
    s.execute(delete(ReportJob).where(ReportJob.id.in_(ids)))
    return len(ids), None


def history_mode(s: Session, on: bool) -> None:
    """Open (or close) the append-only tables' door for this transaction only."""
    if s.get_bind().dialect.name == "postgresql":
        if on:
            s.execute(text("SET LOCAL asm.purge = 'on'"))
        else:
            s.execute(text("SET LOCAL asm.purge = 'off'"))
    elif on:
        s.execute(insert(PurgeMode).values(id=1))
    else:
        s.execute(delete(PurgeMode))


GROUP = func.coalesce(Stay.head_id, Stay.id)


def _old_groups(cutoff: datetime) -> Any:
    """Groups (a head and its members) whose every stay has ended (checked out or cancelled) before the cutoff.

    Read through the deadline's index: a stay that ended before the cutoff arrived before it, and its deadline
    is at most a day after its arrival (the filing core's rule), so only the old month is scanned, never the
    whole table; a group with any member still open or ended later is left whole."""
    open_statuses = [str(x) for x in OPEN_STATUSES]
    member = aliased(Stay)
    blocking = (
        exists()
        .where(or_(member.id == GROUP, member.head_id == GROUP))
        .where(
            or_(
                member.status.in_(open_statuses),
                func.coalesce(member.departed_at, member.arrived_at) >= cutoff,
            )
        )
    )
    return (
        select(GROUP)
        .where(
            Stay.deadline_at < cutoff + timedelta(days=1),
            Stay.status.not_in(open_statuses),
            func.coalesce(Stay.departed_at, Stay.arrived_at) < cutoff,
            ~blocking,
        )
        .group_by(GROUP)
        .order_by(GROUP)
    )


def delete_hanging_rows(s: Session, of_stays: Callable[[Any], Any]) -> None:
    """Delete the rows that hang on the stays `of_stays(column)` selects (police alerts, foreign declarations,
    beds, hospital events, carers), before the stays themselves go: the one list both purges use."""
    for model in (Alert, ForeignStay, BedAssignment, HospitalEvent):
        s.execute(delete(model).where(of_stays(model.stay_id)))
    s.execute(delete(Carer).where(or_(of_stays(Carer.stay_id), of_stays(Carer.patient_stay_id))))


def _stays(s: Session, groups: list[int]) -> tuple[int, str | None]:
    stay_ids = list(s.scalars(select(Stay.id).where(GROUP.in_(groups))))
    people = set(s.scalars(select(Stay.person_id).where(Stay.id.in_(stay_ids))))
    history_mode(s, True)
    delete_hanging_rows(s, lambda column: column.in_(stay_ids))
    s.execute(delete(StayEvent).where(StayEvent.stay_id.in_(stay_ids)))
    s.execute(update(Stay).where(Stay.id.in_(stay_ids)).values(head_id=None))
    s.execute(delete(Stay).where(Stay.id.in_(stay_ids)))
    s.execute(delete(Person).where(Person.id.in_(people), ~exists(select(Stay.id).where(Stay.person_id == Person.id))))
    history_mode(s, False)
    return len(stay_ids), None


def _old_access_log(cutoff: datetime) -> Any:
    """The oldest lines up to the first one at or after the cutoff: always a prefix of the chain."""
    first_kept = select(func.min(AccessLog.id)).where(AccessLog.at >= cutoff).scalar_subquery()
    return (
        select(AccessLog.id)
        .where(AccessLog.at < cutoff, or_(first_kept.is_(None), AccessLog.id < first_kept))
        .order_by(AccessLog.id)
    )


def _access_log(s: Session, ids: list[int]) -> tuple[int, str | None]:
    anchor = s.scalar(select(AccessLog.row_hash).where(AccessLog.id == max(ids)))
    history_mode(s, True)
    s.execute(delete(AccessLog).where(AccessLog.id.in_(ids)))
    history_mode(s, False)
    return len(ids), anchor


POLICIES = (
    Policy("STAYS", "stays", _old_groups, _stays, _drop_stays),
    Policy("ACCESS_LOG", "access_log", _old_access_log, _access_log, _drop_access_log),
    Policy(
        "IDEMPOTENCY",
        "idempotency_records",
        lambda cutoff: select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff),
        _delete(IdempotencyRecord),
    ),
    Policy(
        "LOGINS",
        "user_sessions",
        lambda cutoff: select(UserSession.id).where(UserSession.ended_at.is_not(None), UserSession.ended_at < cutoff),
        _delete(UserSession),
    ),
    Policy(
        "JOBS",
        "jobs",
        lambda cutoff: select(Job.id).where(Job.state.in_((State.DONE, State.FAILED)), Job.finished_at < cutoff),
        _delete(Job),
    ),
    Policy(
        "REMINDERS", "reminders", lambda cutoff: select(Reminder.id).where(Reminder.created_at < cutoff), _reminders
    ),
    Policy(
        "JOBS",
        "police_report_jobs",
        lambda cutoff: select(ReportJob.id).where(
            and_(ReportJob.finished_at.is_not(None), ReportJob.finished_at < cutoff)
        ),
        _reports,
    ),
)


# The tables the purge deletes from: the purge role's DELETE privilege (asm/pgroles.py).
PURGED = frozenset(
    model.__tablename__
    for model in (
        Stay, StayEvent, AccessLog, Person, Alert, ForeignStay, BedAssignment, HospitalEvent, Carer,
        IdempotencyRecord, UserSession, Job, Reminder, ReminderDelivery, ReportChunk, ReportJob,
    )
)  # fmt: skip


def rest(worked_since: float, pause: float) -> None:
    """Between two batches: at least `pause` seconds, and long enough that the purge works only RETENTION_DUTY of
    its time (a batch that took 0.3 s at a duty of 0.25 rests 0.9 s): on a busy machine its batches take longer
    and it yields more (bench/purge.py)."""
    worked = time.perf_counter() - worked_since
    duty = min(max(float(current_app.config["RETENTION_DUTY"]), 0.01), 1.0)
    time.sleep(max(pause, worked * (1 - duty) / duty))


def cutoff_of(policy: Policy, now: datetime) -> datetime:
    return now - timedelta(days=float(current_app.config[f"RETENTION_{policy.name}_DAYS"]))


def purge_session() -> Session:
    """The purge's own connection (PURGE_DATABASE_URI: a role allowed to delete the history), else the app's."""
    uri = current_app.config.get("PURGE_DATABASE_URI")
    if not uri:
        return db.session()  # the scoped session hands out its Session
    # Not expired at commit: the ledger lines are read (printed) after this session is closed.
    return Session(bind=create_engine(uri, pool_size=1, max_overflow=0), expire_on_commit=False)


def run(*, dry_run: bool = False, now: datetime | None = None) -> list[PurgeLine]:
    """Apply every policy; one committed transaction per batch, so filings never wait long on the purge."""
    from asm import jobs

    now = now or utcnow()
    batch = int(current_app.config["RETENTION_BATCH"])
    pause = float(current_app.config["RETENTION_PAUSE_S"])
    s = purge_session()
    lines = []
    try:
        if partitions.enabled(s) and not dry_run:
            partitions.ensure(s, now)  # this month's block open before old ones are weighed
            s.commit()
        for policy in POLICIES:
            cutoff = cutoff_of(policy, now)
            if dry_run:
                count = s.scalar(select(func.count()).select_from(policy.ids(cutoff).subquery())) or 0
                lines.append(PurgeLine(policy=policy.name.lower(), target=policy.target, rows=count, cutoff=cutoff))
                continue
            removed, anchor = 0, None
            if policy.drop is not None and partitions.enabled(s):
                removed, anchor = policy.drop(s, cutoff, batch, pause)
            while True:
                started = time.perf_counter()
                keys = list(s.scalars(policy.ids(cutoff).limit(batch)))
                if not keys:
                    break
                rows, last = policy.remove(s, keys)
                removed, anchor = removed + rows, last or anchor
                s.commit()
                jobs.renew()
                rest(started, pause)
            line = PurgeLine(
                policy=policy.name.lower(), target=policy.target, rows=removed, cutoff=cutoff, ran_at=now, anchor=anchor
            )
            s.add(line)
            s.commit()
            lines.append(line)
        s.rollback()
    finally:
        if s is not db.session():
            bind = s.get_bind()
            s.close()
            bind.dispose()  # type: ignore[union-attr]  # an Engine made above
    return lines
