"""The retention purge: with the retention set to N days it removes exactly the rows older than that, writes its
ledger lines (append-only), and a dry run removes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from asm.clock import utcnow
from asm.extensions import db
from asm.jobs.models import Job, PurgeLine, State
from asm.stays.models import IdempotencyRecord


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_purge_removes_exactly_what_is_older_than_its_days_and_writes_the_ledger(app: Flask) -> None:
    now = utcnow()
    app.config.update(RETENTION_JOBS_DAYS=30, RETENTION_IDEMPOTENCY_DAYS=7, RETENTION_BATCH=2)
    for days in (31, 40, 29, 1):  # two past 30 days, two within
        db.session.add(
            Job(name="mail", args={}, state=State.DONE, run_after=now, finished_at=now - timedelta(days=days))
        )
    db.session.add(Job(name="mail", args={}, state=State.QUEUED, run_after=now - timedelta(days=90)))  # not done
    for days in (8, 8, 8, 6):
        db.session.add(
            IdempotencyRecord(scope="api", key=f"k{days}-{count(IdempotencyRecord)}", request_hash="x" * 64,
                              created_at=now - timedelta(days=days))
        )  # fmt: skip
        db.session.flush()
    db.session.commit()

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and count(Job) == 5 and count(PurgeLine) == 0

    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert count(Job) == 3 and count(IdempotencyRecord) == 1
    lines = {(line.target, line.rows) for line in db.session.scalars(select(PurgeLine))}
    assert ("jobs", 2) in lines and ("idempotency_records", 3) in lines
    line = db.session.scalars(select(PurgeLine).where(PurgeLine.target == "jobs")).one()
    assert abs((line.cutoff - (now - timedelta(days=30))).total_seconds()) < 120

    # The ledger is append-only, for everyone.
    for statement in ("UPDATE purge_ledger SET rows = 0", "DELETE FROM purge_ledger"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
