"""Work that happens when nobody is looking (issue 14): a job ledger in the database, rung by a Huey queue.

The ledger (`jobs` table, asm/jobs/models.py) is the truth: `enqueue` inserts a row in the caller's transaction
(idempotent by `key`), and once that transaction commits the row's id is handed to the queue (Huey on SQLite for
`make run`, on Redis in production; inline in tests). A worker `execute`s a job by claiming its row atomically
(queued and due, or running with its lease run out), renews the lease while it works (`renew`), and commits what
the job wrote together with `done`, guarded by the claim it holds (worker and attempt), so a worker killed midway
leaves nothing half-done and a worker that lost its lease cannot apply the job a second time. A failure puts the
row back to queued with an exponential back-off (Huey schedules the retry); after `max_attempts` it fails. The
sweeper (every minute, and when a worker starts) rings again every job whose lease ran out or whose bell was
lost. Handlers are registered with `@handler("name")` and get the Job row.

`enqueue_mail(to, subject, text, html=None)` sends an e-mail through asm.mail on a worker, retried while the
server refuses it; the message leaves the ledger once sent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import CursorResult, and_, event, or_, select, update
from sqlalchemy.orm import Session

from asm.clock import utcnow
from asm.extensions import db
from asm.jobs.models import Job, State

log = logging.getLogger(__name__)

RING_KEY = "asm_jobs_to_ring"


class JobFailed(Exception):
    """The job cannot succeed however often it is tried (bad input): it fails at once, without retries."""


@dataclass(frozen=True)
class Handler:
    name: str
    run: Callable[[Job], None]
    max_attempts: int
    sensitive: bool  # its arguments hold personal data: emptied once the job is done or failed


HANDLERS: dict[str, Handler] = {}


def handler(name: str, *, max_attempts: int = 5, sensitive: bool = False) -> Callable[[Callable[[Job], None]], Any]:
    def register(fn: Callable[[Job], None]) -> Callable[[Job], None]:
        HANDLERS[name] = Handler(name, fn, max_attempts, sensitive)
        return fn

    return register


# --- enqueueing -----------------------------------------------------------------------------------------------


def enqueue(name: str, args: dict[str, Any] | None = None, *, key: str | None = None, delay_s: float = 0) -> Job:
    """Add a job in the current transaction; it runs once the transaction commits. With a `key`, a job of that
    key already there is returned instead (enqueueing twice is harmless)."""
    if name not in HANDLERS:
        raise KeyError(f"no job handler {name!r}")
    if key is not None:
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    job = Job(
        name=name,
        key=key,
        args=args or {},
        state=State.QUEUED,
        attempts=0,
        max_attempts=HANDLERS[name].max_attempts,
        run_after=utcnow() + timedelta(seconds=delay_s),
    )
    db.session.add(job)
    db.session.flush()  # a key enqueued meanwhile by another transaction: IntegrityError, the caller's to retry
    db.session.info.setdefault(RING_KEY, []).append((job.id, delay_s))
    return job


def enqueue_mail(to: str, subject: str, text: str, html: str | None = None) -> Job:
    """Send an e-mail from a worker (asm.mail.send), retried with back-off while the server refuses it. Commit
    the current transaction for it to leave. A malformed address raises ValueError here, not on the worker."""
    from asm.mail import valid_address

    if not valid_address(to):
        raise ValueError("not an e-mail address")
    return enqueue("mail", {"to": to, "subject": subject, "text": text, "html": html})


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    pending = session.info.pop(RING_KEY, None)
    if pending:
        ring(current_app._get_current_object(), pending)  # type: ignore[attr-defined]  # the real app


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(RING_KEY, None)


def ring(app: Flask, pending: Iterable[tuple[int, float]]) -> None:
    """Tell the queue that these jobs may run (after `delay` seconds). Losing a bell loses no job: the sweeper
    rings again every queued job that is overdue."""
    backend = app.config["JOBS_BACKEND"]
    if backend == "inline":  # tests and one-off commands: run now, in this process
        for job_id, _delay in pending:
            execute(app, job_id)
        return
    task = app.extensions["asm_jobs_huey_task"]
    for job_id, delay in pending:
        try:
            if delay > 0:
                task.schedule((job_id,), delay=delay)
            else:
                task(job_id)
        except Exception:  # the queue is down: the sweeper rings again later
            log.warning("job %s: the queue did not take it; the sweeper will", job_id, exc_info=True)


# --- running --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    job_id: int
    worker: str
    attempt: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"[:80]


def lease(app: Flask) -> timedelta:
    return timedelta(seconds=float(app.config["JOBS_LEASE_S"]))


def backoff(app: Flask, attempts: int) -> float:
    base, most = float(app.config["JOBS_RETRY_BASE_S"]), float(app.config["JOBS_RETRY_MAX_S"])
    return min(most, base * 2 ** max(0, attempts - 1))


def claim(app: Flask, job_id: int, now: datetime) -> Claim | None:
    """Take the job if it is due and nobody holds it (a lease run out counts as nobody). One UPDATE: of two
    workers asking at once, one gets it."""
    me = worker_name()
    taken = _rows(
        update(Job)
        .where(
            Job.id == job_id,
            or_(
                and_(Job.state == State.QUEUED, Job.run_after <= now),
                and_(Job.state == State.RUNNING, Job.lease_until < now),
            ),
        )
        .values(state=State.RUNNING, attempts=Job.attempts + 1, lease_until=now + lease(app), worker=me)
    )
    if not taken:
        db.session.rollback()
        return None
    attempt = db.session.scalar(select(Job.attempts).where(Job.id == job_id))
    db.session.commit()
    return Claim(job_id, me, int(attempt or 0))


def _rows(statement: Any) -> int:
    """Run an UPDATE on the session's connection; how many rows it changed."""
    result = cast("CursorResult[Any]", db.session.execute(statement.execution_options(synchronize_session=False)))
    return int(result.rowcount)


def _mine(c: Claim) -> Any:
    return and_(Job.id == c.job_id, Job.worker == c.worker, Job.attempts == c.attempt, Job.state == State.RUNNING)


def renew() -> None:
    """Extend the running job's lease (call it from long jobs now and then; it commits nothing itself)."""
    c: Claim | None = g.get("asm_job_claim")
    if c is not None:
        db.session.execute(
            update(Job)
            .where(_mine(c))
            .values(lease_until=utcnow() + lease(current_app))
            .execution_options(synchronize_session=False)
        )


def execute(app: Flask, job_id: int) -> float | None:
    """Run one job if this process can claim it. Returns the back-off in seconds when it should be tried again."""
    with app.app_context():
        c = claim(app, job_id, utcnow())
        if c is None:
            return None
        g.asm_job_claim = c
        job = db.session.get(Job, job_id)
        assert job is not None
        h = HANDLERS.get(job.name)
        try:
            if h is None:
                raise JobFailed(f"no handler {job.name!r}")
            h.run(job)
            done = {"state": State.DONE, "finished_at": utcnow(), "lease_until": None, "error": None}
            if h.sensitive:
                done["args"] = {}
            finished = _rows(update(Job).where(_mine(c)).values(**done))
            if not finished:  # the lease ran out and another worker holds the job now: its result counts
                db.session.rollback()
                log.warning("job %s: lease lost, result discarded", job_id)
                return None
            db.session.commit()
            return None
        except Exception as exc:
            db.session.rollback()
            return _failed(app, c, h, exc)


def _failed(app: Flask, c: Claim, h: Handler | None, exc: Exception) -> float | None:
    error = (str(exc) if isinstance(exc, JobFailed) else type(exc).__name__)[:255]
    final = isinstance(exc, JobFailed) or c.attempt >= (h.max_attempts if h else 1)
    if not isinstance(exc, JobFailed):
        log.warning("job %s attempt %s failed: %s", c.job_id, c.attempt, type(exc).__name__)
    delay = backoff(app, c.attempt)
    values: dict[str, Any] = {"lease_until": None, "error": error}
    if final:
        values.update(state=State.FAILED, finished_at=utcnow())
        if h is not None and h.sensitive:
            values["args"] = {}
    else:
        values.update(state=State.QUEUED, run_after=utcnow() + timedelta(seconds=delay))
    db.session.execute(update(Job).where(_mine(c)).values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    if final and h is not None and (on_fail := FAIL_HOOKS.get(h.name)) is not None:
        job = db.session.get(Job, c.job_id)
        if job is not None:
            on_fail(job, error)
            db.session.commit()
    return None if final else delay


FAIL_HOOKS: dict[str, Callable[[Job, str], None]] = {}


def on_failure(name: str) -> Callable[[Callable[[Job, str], None]], Any]:
    """Register what to record when a job of this name fails for good (e.g. a report job's own state)."""

    def register(fn: Callable[[Job, str], None]) -> Callable[[Job, str], None]:
        FAIL_HOOKS[name] = fn
        return fn

    return register


def sweep(app: Flask, now: datetime | None = None) -> int:
    """Ring again every job a worker died holding (lease run out) and every due job whose bell was lost. Returns
    how many were rung. Safe to run anywhere, any number of times: only a claim runs a job."""
    now = now or utcnow()
    grace = timedelta(seconds=float(app.config["JOBS_RING_GRACE_S"]))
    ids = list(
        db.session.scalars(
            select(Job.id)
            .where(
                or_(
                    and_(Job.state == State.RUNNING, Job.lease_until < now),
                    and_(Job.state == State.QUEUED, Job.run_after <= now - grace),
                )
            )
            .order_by(Job.id)
            .limit(int(app.config["JOBS_SWEEP_BATCH"]))
        )
    )
    db.session.rollback()
    if ids:
        log.info("sweeper: ringing %s job(s) again", len(ids))
        ring(app, [(i, 0.0) for i in ids])
    return len(ids)


def init_app(app: Flask) -> None:
    from asm.jobs import handlers, queue  # noqa: F401  # the handlers register themselves

    if app.config["JOBS_BACKEND"] != "inline":
        queue.install(app)
