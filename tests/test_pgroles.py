"""Least privilege on PostgreSQL (issue 11.4): `flask db-roles setup` makes an owner role (migrations) and an app
role; the app works as the app role, through its pages and API, and the app role is refused every way around
the append-only history: DELETE, TRUNCATE, UPDATE, DISABLE TRIGGER, DROP TRIGGER, session_replication_role,
becoming the owner. Migrations run as the owner (MIGRATION_DATABASE_URI). Roles are cluster-wide: their names
carry this database's name, and the test removes them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from asm.accounts.models import AccessLog, Role
from asm.clock import to_local, utcnow
from asm.extensions import db
from asm.stays.models import Stay, StayEvent
from tests.conftest import CARD, Factory, second_app
from tests.support.desk import (
    check_in_form,
    client_as,
    post_check_in,
    scanned_guest,
    use_fast_password_hashes,
)

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def _drop(role: str) -> None:
    with db.engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            conn.execute(text(f"REASSIGN OWNED BY {role} TO current_user"))
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


@pytest.fixture
def roles(app: Flask) -> Iterator[tuple[str, str]]:
    database = db.session.scalar(text("SELECT current_database()"))
    suffix = re.sub(r"[^a-z0-9_]", "_", database.lower())
    owner, app_role = f"asm_owner_{suffix}", f"asm_app_{suffix}"
    db.session.remove()
    for role in (app_role, owner):  # what an interrupted run left
        _drop(role)
    try:
        yield owner, app_role
    finally:
        db.session.remove()
        for role in (app_role, owner):
            _drop(role)


def url_as(database_url: str, role: str) -> str:
    return make_url(database_url).set(username=role, password=None).render_as_string(hide_password=False)


def setup(app: Flask, owner: str, app_role: str, database_url: str) -> str:
    db.session.remove()
    result = app.test_cli_runner().invoke(
        args=["db-roles", "setup", "--owner", owner, "--app", app_role, "--url", database_url, "--verbose"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def file_a_guest_and_read_it(app_url: str, factory: Factory) -> None:
    """The app as the app role: a clerk logs in and files a guest through the desk pages, an officer reads the
    list (an access-log line), the clerk's API token files another, both log out."""
    est = factory.establishment()
    clerk = factory.user(Role.CLERK, establishment=est)
    officer = factory.user(Role.OFFICER, commune="00004")
    token = factory.token(est)
    with second_app(app_url) as limited:  # each request in its own app context, as under gunicorn
        desk = client_as(limited, clerk)
        arrived = to_local(utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
        data = check_in_form([scanned_guest(desk, est.code, CARD)], arrived_at=arrived, room_id=est.rooms[0].id)
        assert post_check_in(desk, est.code, data).status_code == 303
        police = client_as(limited, officer)
        assert "Nguyễn Thị Hoa" in police.get(f"/co-so/{est.code}/").get_data(as_text=True)
        api = limited.test_client().post(
            "/api/v1/stays",
            json={"guests": [{"qr": "001085012345||Trần Văn Nam|15061985|Nam|Hà Nội|01012022"}], "reason": "Du lịch"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 201, api.get_json()
        for client in (desk, police):
            assert client.post("/dang-xuat", data={"csrf_token": _csrf(client)}).status_code == 302


def _csrf(client: object) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client)  # type: ignore[arg-type]


REFUSED = [
    ("DELETE FROM stay_events", "permission denied"),
    ("DELETE FROM access_log", "permission denied"),
    ("UPDATE access_log SET target = 'x'", "permission denied"),
    ("UPDATE stay_events SET actor = 'x'", "permission denied"),
    ("TRUNCATE stay_events", "permission denied"),
    ("TRUNCATE access_log", "permission denied"),
    ("TRUNCATE stays CASCADE", "permission denied"),
    ("ALTER TABLE stay_events DISABLE TRIGGER ALL", "must be owner"),
    ("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only", "must be owner"),
    ("DROP TRIGGER stay_events_append_only ON stay_events", "must be owner"),
    ("SET session_replication_role = replica", "permission denied"),
    ("SET ROLE {owner}", "permission denied"),
    ("CREATE TABLE sneaky (id int)", "permission denied"),
    ("DELETE FROM stays", "permission denied"),
]


def test_the_app_role_works_and_is_refused_every_bypass(
    app: Flask, factory: Factory, database_url: str, roles: tuple[str, str]
) -> None:
    owner, app_role = roles
    output = setup(app, owner, app_role, database_url)
    assert f"CREATE ROLE {owner}" in output and f"CREATE ROLE {app_role}" in output
    again = setup(app, owner, app_role, database_url)  # idempotent: a second run only confirms
    assert "CREATE ROLE" not in again and f"ALTER ROLE {app_role}" in again

    app_url = url_as(database_url, app_role)
    file_a_guest_and_read_it(app_url, factory)
    assert db.session.scalar(select(Stay.id).limit(1)) is not None
    assert db.session.scalar(select(StayEvent.id).limit(1)) is not None
    assert "in_house" in db.session.scalars(select(AccessLog.action)).all()

    engine = create_engine(app_url, poolclass=NullPool)
    try:
        for statement, message in REFUSED:
            with engine.connect() as conn, pytest.raises(DBAPIError, match=message):
                conn.execute(text(statement.format(owner=owner)))
        # The retention purge's door (asm/jobs/purge.py) is no door for the app role: it lacks DELETE itself.
        for table in ("stay_events", "access_log"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
                conn.execute(text("SET LOCAL asm.purge = 'on'"))
                conn.execute(text(f"DELETE FROM {table}"))
        with engine.connect() as conn:  # and it is what it says
            row = conn.execute(
                text("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                {"r": app_role},
            ).one()
            assert tuple(row) == (False, False, False, False)
    finally:
        engine.dispose()
    db.session.remove()
    code = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert code.exit_code == 0, code.output


def test_migrations_run_as_the_owner_and_the_app_role_keeps_working(
    app: Flask, factory: Factory, database_url: str, roles: tuple[str, str]
) -> None:
    owner, app_role = roles
    setup(app, owner, app_role, database_url)
    owner_url = url_as(database_url, owner)
    app_url = url_as(database_url, app_role)
    with second_app(app_url, MIGRATION_DATABASE_URI=owner_url) as limited, limited.app_context():
        downgrade(revision="0006")  # as the owner: drops and alters tables, triggers, columns
        upgrade()
        db.session.remove()
    tables = db.session.execute(
        text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'user_sessions'")
    ).one()
    assert tables.tableowner == owner  # made by the owner's migration
    db.session.remove()
    setup(app, owner, app_role, database_url)  # after an upgrade: the grants of new tables
    file_a_guest_and_read_it(url_as(database_url, app_role), factory)


def test_the_purge_role_purges_the_old_history_the_app_role_may_not_touch(
    app: Flask, factory: Factory, database_url: str, roles: tuple[str, str]
) -> None:
    """`--purge`: the retention purge connects as its own role (PURGE_DATABASE_URL) and removes the old history,
    rows and monthly partitions; the app role may neither delete it nor drop or make a partition."""
    from asm.accounts.services import record_access
    from asm.jobs.models import PurgeLine
    from asm.stays import services
    from tests.support.police import ACTOR, file_stay, guest

    owner, app_role = roles
    purge = owner.replace("asm_owner_", "asm_purge_")
    _drop(purge)
    try:
        output = app.test_cli_runner().invoke(
            args=["db-roles", "setup", "--owner", owner, "--app", app_role, "--purge", purge, "--url", database_url]
        )
        assert output.exit_code == 0 and "PURGE_DATABASE_URL" in output.output, output.output
        now = utcnow()
        est = factory.establishment()
        [old] = file_stay(est, [guest("Khách Cũ")], arrived=now - timedelta(days=100), filed=now - timedelta(days=100))
        services.check_out(old, at=now - timedelta(days=98), actor=ACTOR, now=now - timedelta(days=98))
        [kept] = file_stay(est, [guest("Khách Mới")], arrived=now - timedelta(days=1), filed=now - timedelta(days=1))
        for days in (100, 1):
            record_access(user_id=None, action="search", target="x", now=now - timedelta(days=days))
        db.session.commit()
        kept_id = kept.id
        db.session.remove()

        app_url, purge_url = url_as(database_url, app_role), url_as(database_url, purge)
        engine = create_engine(app_url, poolclass=NullPool)
        try:
            for statement in (
                "DELETE FROM stay_events",
                "SELECT history_partition_drop('stay_events_p000000')",
                "SELECT history_partitions_ensure(CAST(now() AS date), 1, 1000)",
            ):
                with engine.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
                    conn.execute(text("SET LOCAL asm.purge = 'on'"))
                    conn.execute(text(statement))
        finally:
            engine.dispose()

        app.config.update(PURGE_DATABASE_URI=purge_url, RETENTION_STAYS_DAYS=60, RETENTION_ACCESS_LOG_DAYS=60)
        result = app.test_cli_runner().invoke(args=["retention", "purge"])  # the purge's own connection
        assert result.exit_code == 0, result.output
        assert list(db.session.scalars(select(Stay.id))) == [kept_id], result.output
        assert list(db.session.scalars(select(StayEvent.stay_id).distinct())) == [kept_id]
        assert len(db.session.scalars(select(AccessLog.id)).all()) == 1
        lines = {line.target: line.rows for line in db.session.scalars(select(PurgeLine))}
        assert lines["stays"] == 1 and lines["access_log"] == 1
        db.session.remove()

        engine = create_engine(purge_url, poolclass=NullPool)
        try:  # the purge role deletes inside the purge only, and has no other way around the history
            for statement, message in (
                ("DELETE FROM stay_events", "append-only"),
                ("UPDATE stay_events SET actor = 'x'", "permission denied"),
                ("TRUNCATE access_log", "permission denied"),
                ("ALTER TABLE stay_events DISABLE TRIGGER ALL", "must be owner"),
                ("DELETE FROM establishments", "permission denied"),
            ):
                with engine.connect() as conn, pytest.raises(DBAPIError, match=message):
                    conn.execute(text(statement))
        finally:
            engine.dispose()
        code = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert code.exit_code == 0, code.output
    finally:
        db.session.remove()
        _drop(purge)
