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
from tests.conftest import Factory


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_purge_removes_exactly_what_is_older_than_its_days_and_writes_the_ledger(app: Flask) -> None:
    now = utcnow()
    app.config.update(RETENTION_JOBS_DAYS=30, RETENTION_IDEMPOTENCY_DAYS=7, RETENTION_BATCH=2, RETENTION_PAUSE_S=0)
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


def test_stays_their_history_and_the_access_log_past_n_days_go_and_the_chains_still_verify(
    app: Flask, factory: Factory
) -> None:
    from asm.accounts.models import AccessLog
    from asm.accounts.services import record_access
    from asm.audit.chains import verify_all
    from asm.people.models import Person
    from asm.stays import services
    from asm.stays.models import Stay, StayEvent
    from tests.support.police import ACTOR, file_stay, guest

    now = utcnow()
    app.config.update(RETENTION_STAYS_DAYS=60, RETENTION_ACCESS_LOG_DAYS=60, RETENTION_BATCH=2, RETENTION_PAUSE_S=0)
    est = factory.establishment()
    kept_open = file_stay(est, [guest("Khách Còn Ở")], arrived=now - timedelta(days=90), filed=now - timedelta(days=90))
    old = []
    for days, name in ((100, "Khách Một"), (90, "Khách Hai"), (70, "Khách Ba")):  # ended > 60 days ago
        names = [guest(name)] + ([guest("Người Đi Cùng")] if days == 90 else [])
        stays = file_stay(est, names, arrived=now - timedelta(days=days), filed=now - timedelta(days=days))
        for stay in stays:
            services.check_out(stay, at=now - timedelta(days=days - 2), actor=ACTOR, now=now - timedelta(days=days - 2))
        old += stays
    recent = file_stay(est, [guest("Khách Mới")], arrived=now - timedelta(days=65), filed=now - timedelta(days=65))
    services.check_out(recent[0], at=now - timedelta(days=50), actor=ACTOR, now=now - timedelta(days=50))
    for days in (100, 80, 61, 59, 1):
        record_access(user_id=None, action="search", target="x", now=now - timedelta(days=days))
    db.session.commit()
    old_ids = {s.id for s in old}
    old_people = {s.person_id for s in old}

    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    left = set(db.session.scalars(select(Stay.id)))
    assert left == {kept_open[0].id, recent[0].id}, "exactly the stays ended more than 60 days ago"
    assert not old_ids & set(db.session.scalars(select(StayEvent.stay_id)))
    assert not old_people & set(db.session.scalars(select(Person.id)))
    assert count(AccessLog) == 2  # the lines of 59 days and 1 day ago
    lines = {line.target: line for line in db.session.scalars(select(PurgeLine))}
    assert lines["stays"].rows == 4 and lines["access_log"].rows == 3 and lines["access_log"].anchor
    with db.engine.connect() as connection:
        assert [r.chain for r in verify_all(connection) if r.broken is not None] == []

    # Outside the purge the history is as append-only as before.
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM stay_events"))
    db.session.rollback()
