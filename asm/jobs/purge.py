"""The retention purge (issue 14): each policy removes, in batches of RETENTION_BATCH, the rows of one kind older
than its setting, and writes one line of the purge ledger (what, how many, up to when, by which policy), itself
append-only. `run(dry_run=True)` counts and removes nothing. The nightly job and `flask retention purge` call it.

Policies done here: idempotency records, login records (ended sessions), the job ledger, reminders and their
deliveries, police report jobs with their files. Stays with their hash-chained history and the police access log
are append-only for the app role: their purge (a role of its own, monthly partitions on PostgreSQL) is not done
yet (README "Retention").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, func, select

from asm.accounts.models import UserSession
from asm.clock import utcnow
from asm.extensions import db
from asm.jobs.models import Job, PurgeLine, Reminder, ReminderDelivery, ReportChunk, State
from asm.police.models import ReportJob
from asm.stays.models import IdempotencyRecord


@dataclass(frozen=True)
class Policy:
    name: str  # the setting RETENTION_<NAME>_DAYS
    target: str
    ids: Callable[[datetime], Any]  # select of the ids of rows older than the cutoff
    remove: Callable[[list[int]], None]  # delete those rows (and what hangs on them)


def _delete(table: Any) -> Callable[[list[int]], None]:
    def remove(ids: list[int]) -> None:
        db.session.execute(delete(table).where(table.id.in_(ids)))

    return remove


def _reminders(ids: list[int]) -> None:
    db.session.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(ids)))
    db.session.execute(delete(Reminder).where(Reminder.id.in_(ids)))


def _reports(ids: list[int]) -> None:
    db.session.execute(delete(ReportChunk).where(ReportChunk.job_id.in_(ids)))
    db.session.execute(delete(ReportJob).where(ReportJob.id.in_(ids)))


POLICIES = (
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


def cutoff_of(policy: Policy, now: datetime) -> datetime:
    return now - timedelta(days=float(current_app.config[f"RETENTION_{policy.name}_DAYS"]))


def run(*, dry_run: bool = False, now: datetime | None = None) -> list[PurgeLine]:
    """Apply every policy; one committed transaction per batch, so filings never wait long on the purge."""
    from asm import jobs

    now = now or utcnow()
    batch = int(current_app.config["RETENTION_BATCH"])
    lines = []
    for policy in POLICIES:
        cutoff = cutoff_of(policy, now)
        if dry_run:
            count = db.session.scalar(select(func.count()).select_from(policy.ids(cutoff).subquery())) or 0
            lines.append(PurgeLine(policy=policy.name.lower(), target=policy.target, rows=count, cutoff=cutoff))
            continue
        removed = 0
        while True:
            ids = list(db.session.scalars(policy.ids(cutoff).limit(batch)))
            if not ids:
                break
            policy.remove(ids)
            removed += len(ids)
            jobs.renew()
            db.session.commit()
        line = PurgeLine(policy=policy.name.lower(), target=policy.target, rows=removed, cutoff=cutoff, ran_at=now)
        db.session.add(line)
        db.session.commit()
        lines.append(line)
    db.session.rollback()
    return lines
