"""The history by month on PostgreSQL (migration 0017, asm/jobs/partitions.py): a month whose every stay ended
before the cutoff goes by dropping its partition, the edge month row by row, exactly the rows older than N days go,
the ledger counts both, and the hash chains of what remains verify. SQLite has no partitions (tests/jobs/test_purge.py
runs the same purge there)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from asm.clock import utcnow
from asm.extensions import db
from tests.conftest import Factory

pytestmark = pytest.mark.postgres_only

HISTORY = ("stay_events", "access_log")
SEQUENCES = ("stays_id_seq", "access_log_id_seq")


def names(table: str) -> list[str]:
    return list(db.session.scalars(text("SELECT name FROM history_partitions(:t)"), {"t": table}))


def ensure(month: date, ahead: int = 0, block: int = 1000) -> list[str]:
    made = db.session.scalars(
        text("SELECT history_partitions_ensure(CAST(:m AS date), :a, :b)"), {"m": month, "a": ahead, "b": block}
    )
    return list(made)


def relayout(first_month: date, block: int) -> None:
    """No partition left (their rows with them), the sequences at 1, and the first month's block."""
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in HISTORY:
            for name in conn.execute(text("SELECT name FROM history_partitions(:t)"), {"t": table}).scalars():
                conn.execute(text(f'DROP TABLE history."{name}"'))
        conn.execute(text("TRUNCATE stays, people RESTART IDENTITY CASCADE"))
        for sequence in SEQUENCES:
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
        conn.execute(
            text("SELECT history_partitions_ensure(CAST(:m AS date), 2, :b)"), {"m": first_month, "b": block}
        ).all()


@pytest.fixture
def months_ago(app: Flask) -> Iterator[date]:
    """The layout starts four months ago with blocks of 1,000 ids; the migration's layout comes back after."""
    first = (utcnow() - timedelta(days=120)).date().replace(day=1)
    relayout(first, 1000)
    yield first
    relayout(utcnow().date().replace(day=1), 1_000_000)


def month_after(month: date, n: int) -> date:
    return date(month.year + (month.month - 1 + n) // 12, (month.month - 1 + n) % 12 + 1, 1)


def test_a_month_goes_by_its_partition_the_edge_row_by_row_and_the_chains_verify(
    app: Flask, factory: Factory, months_ago: date
) -> None:
    from asm.accounts.models import AccessLog
    from asm.accounts.services import record_access
    from asm.audit.chains import verify_all
    from asm.jobs.models import PurgeLine
    from asm.people.models import Person
    from asm.stays import services
    from asm.stays.models import Stay, StayEvent
    from tests.support.police import ACTOR, file_stay, guest

    now = utcnow()
    app.config.update(
        RETENTION_STAYS_DAYS=60,
        RETENTION_ACCESS_LOG_DAYS=60,
        RETENTION_BATCH=2,
        RETENTION_PAUSE_S=0,
        HISTORY_PARTITION_BLOCK=1000,
    )
    est = factory.establishment()

    def ended(name: str, days: int, *, companions: int = 0) -> list[Stay]:
        stays = file_stay(
            est,
            [guest(name)] + [guest(f"Người Đi Cùng {'ABCDE'[i]}") for i in range(companions)],
            arrived=now - timedelta(days=days),
            filed=now - timedelta(days=days),
        )
        for stay in stays:
            services.check_out(stay, at=now - timedelta(days=days - 2), actor=ACTOR, now=now - timedelta(days=days - 2))
        return stays

    # The first month: every stay ended long ago, and the access log's lines too.
    first_month = ended("Khách Một", 110, companions=2) + ended("Khách Hai", 100)
    for days in (110, 100):
        record_access(user_id=None, action="search", target="x", now=now - timedelta(days=days))
    db.session.commit()
    [first_stays, first_log] = names("stay_events")[1], names("access_log")[1]

    # A later month (its block started by the job), with an edge: one stay past 60 days, one within, one open.
    ensure(month_after(months_ago, 2))  # made ahead with the first: the sequences jump to its block
    db.session.commit()
    assert db.session.scalar(text("SELECT history_next_id('stay_events')")) % 1000 == 1  # a block's first id
    edge = ended("Khách Ba", 70)
    kept = ended("Khách Bốn", 52)
    still_in = file_stay(est, [guest("Khách Còn Ở")], arrived=now - timedelta(days=80), filed=now - timedelta(days=80))
    for days in (61, 59, 1):
        record_access(user_id=None, action="search", target="x", now=now - timedelta(days=days))
    db.session.commit()
    ensure(now.date().replace(day=1))  # this month: the later block is closed too
    db.session.commit()
    assert {s.id // 1000 for s in first_month} != {s.id // 1000 for s in edge}, "two blocks"
    old_people = {s.person_id for s in first_month + edge}

    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    assert first_stays not in names("stay_events") and first_log not in names("access_log"), "dropped whole"
    assert set(db.session.scalars(select(Stay.id))) == {kept[0].id, still_in[0].id}
    assert set(db.session.scalars(select(StayEvent.stay_id))) == {kept[0].id, still_in[0].id}
    assert not old_people & set(db.session.scalars(select(Person.id)))
    assert db.session.scalar(select(func.count()).select_from(AccessLog)) == 2  # 59 days and 1 day ago
    lines = {line.target: line for line in db.session.scalars(select(PurgeLine))}
    assert lines["stays"].rows == 5  # three and one dropped with their month, one row by row
    assert lines["access_log"].rows == 3 and lines["access_log"].anchor
    with db.engine.connect() as connection:
        assert [r.chain for r in verify_all(connection) if r.broken is not None] == []

    # The history is as append-only as before; a partition goes only inside the purge.
    for statement in ("DELETE FROM stay_events", f"SELECT history_partition_drop('{names('access_log')[0]}')"):
        with pytest.raises(DatabaseError, match=r"append-only|retention purge only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_the_job_makes_the_next_months_and_a_block_still_written_to_is_never_dropped(
    app: Flask, months_ago: date
) -> None:
    from asm import jobs
    from asm.jobs import execute

    app.config.update(HISTORY_PARTITION_AHEAD=2, HISTORY_PARTITION_BLOCK=1000)
    job = jobs.enqueue("history_partitions")
    db.session.commit()
    execute(app, job.id)
    this_month = utcnow().date().replace(day=1)
    wanted = {f"stay_events_p{month_after(this_month, n):%Y%m}" for n in range(3)}
    assert wanted <= set(names("stay_events"))
    first_id = db.session.scalar(
        text("SELECT lo FROM history_partitions('stay_events') WHERE name = :n"),
        {"n": f"stay_events_p{this_month:%Y%m}"},
    )
    assert db.session.scalar(text("SELECT history_next_id('stay_events')")) == first_id
    db.session.execute(text("SET LOCAL asm.purge = 'on'"))
    with pytest.raises(DatabaseError, match="still written to"):
        db.session.execute(text("SELECT history_partition_drop(:n)"), {"n": f"stay_events_p{this_month:%Y%m}"})
    db.session.rollback()
