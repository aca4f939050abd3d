"""The Alembic migrations and the models agree; the migrations go down and up again; the history and the police
access log are append-only in the database itself. Runs on SQLite and, with ASM_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from asm.accounts.models import AccessLog, Role
from asm.clock import utcnow
from asm.common import Actor
from asm.extensions import db
from asm.geo.services import load_units
from asm.people.services import PersonInput
from asm.stays import services
from asm.stays.models import StayEvent
from tests.conftest import Factory

APPEND_ONLY = ("stay_events", "access_log")


def schema_differences(metadata: MetaData) -> list[Any]:
    """What `flask db migrate` would write: the models compared with the migrated database.

    Nothing is filtered out. The one place a filter might be expected, the custom `UTCDateTime` column type
    (a TypeDecorator), needs none: Alembic compares its implementation, `DateTime(timezone=True)`, which is
    what the migration creates. The append-only triggers are not part of the metadata and Alembic does not
    compare triggers, so they are checked by behaviour below.
    """
    db.session.remove()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True}
        )
        return compare_metadata(context, metadata)


def test_the_models_and_the_migrations_agree(app: Flask) -> None:
    assert schema_differences(db.metadata) == []


def test_the_comparison_sees_a_model_change(app: Flask) -> None:
    """A check that cannot fail proves nothing: a column the migrations lack shows up."""
    changed = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["stays"].append_column(sa.Column("note", sa.String(50)))
    changed.tables["people"].c.full_name.type = sa.String(200)
    diffs = schema_differences(changed)
    assert ("add_column", None, "stays", changed.tables["stays"].c.note) in diffs
    modified = [d[0] for d in diffs if isinstance(d, list)]
    assert modified and modified[0][0] == "modify_type" and modified[0][2:4] == ("people", "full_name")


def table_names() -> set[str]:
    db.session.remove()
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


@pytest.fixture
def migrated_again() -> Iterator[None]:
    """On PostgreSQL the schema is shared by the whole run: whatever happens, leave it migrated and loaded."""
    try:
        yield
    finally:
        db.session.remove()
        if table_names() != set(db.metadata.tables):
            upgrade()
            load_units()
            db.session.commit()


def test_downgrade_to_base_and_upgrade_again(app: Flask, migrated_again: None) -> None:
    assert table_names() == set(db.metadata.tables)
    downgrade(revision="base")
    assert table_names() == set()
    upgrade()
    assert table_names() == set(db.metadata.tables)
    assert schema_differences(db.metadata) == []
    load_units()
    db.session.commit()
    # The triggers came back with the tables.
    event = recorded_event_id(app)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM stay_events WHERE id = :id"), {"id": event})
    db.session.rollback()


def recorded_event_id(app: Flask) -> int:
    """One stay with its check-in event, through the service the desk uses."""
    est = Factory(app).establishment()
    now = utcnow()
    guest = PersonInput(
        doc_type="cccd", doc_number="034303011829", full_name="Nguyễn Thị Hoa", birth_date=date(2003, 3, 21), sex="F"
    )
    data = services.CheckInInput(guests=[guest], arrived_at=now - timedelta(minutes=5), reason="Du lịch")
    services.check_in(est, data, actor=Actor.system("test"), now=now)
    db.session.commit()
    return db.session.scalars(select(StayEvent.id)).one()


@pytest.fixture
def rows(app: Flask, factory: Factory) -> dict[str, int]:
    """A row in each append-only table, inserted as the app does (inserting is allowed)."""
    event_id = recorded_event_id(app)
    officer = factory.user(Role.OFFICER, commune="00004")
    log = AccessLog(user_id=officer.id, action="stay", target="EST-1/1", ip="127.0.0.1")
    db.session.add(log)
    db.session.commit()
    return {"stay_events": event_id, "access_log": log.id}


SNAPSHOT = {
    "stay_events": "SELECT actor FROM stay_events WHERE id = :id",
    "access_log": "SELECT target FROM access_log WHERE id = :id",
}
CHANGE = {
    ("stay_events", "UPDATE"): "UPDATE stay_events SET actor = 'sửa lén' WHERE id = :id",
    ("access_log", "UPDATE"): "UPDATE access_log SET target = 'xóa dấu vết' WHERE id = :id",
    ("stay_events", "DELETE"): "DELETE FROM stay_events WHERE id = :id",
    ("access_log", "DELETE"): "DELETE FROM access_log WHERE id = :id",
}


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("stay_events", "TRUNCATE stay_events"),
        ("access_log", "TRUNCATE access_log"),
        ("stay_events", "TRUNCATE stays CASCADE"),  # reaches the history through its foreign key
    ],
)
def test_the_database_refuses_to_empty_history(rows: dict[str, int], table: str, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.execute(text(SNAPSHOT[table]), {"id": rows[table]}).scalar_one_or_none() is not None


@pytest.mark.parametrize(("table", "verb"), sorted(CHANGE))
def test_the_database_refuses_to_change_history(rows: dict[str, int], table: str, verb: str) -> None:
    row_id = rows[table]
    before = db.session.execute(text(SNAPSHOT[table]), {"id": row_id}).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(CHANGE[(table, verb)]), {"id": row_id})
    db.session.rollback()
    assert db.session.execute(text(SNAPSHOT[table]), {"id": row_id}).scalar_one() == before


def test_the_orm_refuses_to_change_an_event(rows: dict[str, int]) -> None:
    event = db.session.get(StayEvent, rows["stay_events"])
    assert event is not None
    event.actor = "sửa lén"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_one_open_stay_per_person_is_a_database_index(rows: dict[str, int]) -> None:
    """The partial unique index (a WHERE clause Alembic's comparison does not look at) exists and works."""
    stay = db.session.execute(text("SELECT * FROM stays")).mappings().one()
    columns = [c for c in stay if c != "id"]
    copy = {c: stay[c] for c in columns} | {"receipt_no": None}
    insert = text(f"INSERT INTO stays ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")
    with pytest.raises(IntegrityError):
        db.session.execute(insert, copy)
    db.session.rollback()
    db.session.execute(insert, copy | {"status": "checked_out"})  # a closed stay of the same person is fine
    db.session.rollback()
