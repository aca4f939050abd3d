"""Tamper evidence (issue 11.5): the access log is a hash chain; `flask audit verify` finds a row edited or removed
behind the app's back (as the database superuser, past the append-only triggers); the chain API serves other
chains (partitioned, sealed by a plain-SQL writer); concurrent writers on PostgreSQL never fork the chain; rows
stored before migration 0009 are sealed by it."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from asm.accounts.models import AccessLog, Role
from asm.accounts.services import record_access
from asm.audit.chain import GENESIS, canonical, chain_hash
from asm.audit.chains import CHAINS, Chain, register, seal, verify
from asm.clock import utcnow
from asm.extensions import db
from asm.geo.services import load_units
from tests.conftest import PG_URL, Factory
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.processes import in_threads


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


# --- the pure functions ------------------------------------------------------------------------------------------


def test_the_canonical_form() -> None:
    at = datetime(2026, 12, 4, 1, 2, 3, 45, tzinfo=UTC)
    fields = {"target": "Nguyễn Thị Hoa", "at": at, "user_id": None, "n": 3, "ok": True}
    assert canonical(fields) == (
        '{"at":"2026-12-04T01:02:03.000045Z","n":3,"ok":true,"target":"Nguyễn Thị Hoa","user_id":null}'.encode()
    )
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})
    with pytest.raises(ValueError, match="aware"):
        canonical({"at": datetime(2026, 1, 1)})
    with pytest.raises(TypeError, match="float"):
        canonical({"x": 1.5})


def test_chain_hash_is_sha256_of_the_predecessor_and_the_row() -> None:
    fields = {"action": "login", "target": "ca.hk"}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    first = chain_hash(None, fields)
    assert first == hashlib.sha256(GENESIS.encode() + b"\n" + body).hexdigest()
    assert chain_hash(GENESIS, canonical(fields)) == first
    second = chain_hash(first, {**fields, "action": "logout"})
    assert second != first and chain_hash(first, {**fields, "action": "logout"}) == second
    assert chain_hash(second, fields) != chain_hash(first, fields)  # the predecessor is part of the hash


# --- the access log ----------------------------------------------------------------------------------------------


def run_verify(app: Flask) -> tuple[int, str]:
    db.session.remove()  # the command reads through its own connection
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


@pytest.fixture
def logged(app: Flask, factory: Factory) -> list[int]:
    """Access-log lines written as the app writes them: logins (through the pages) and police reads."""
    officer = factory.user(Role.OFFICER, commune="00004")
    est = factory.establishment()
    client = client_as(app, officer)
    for _ in range(3):
        assert client.get(f"/co-so/{est.code}/").status_code == 200
    client_as(app, factory.user(Role.CLERK, establishment=est))
    ids = list(db.session.scalars(select(AccessLog.id).order_by(AccessLog.id)))
    assert len(ids) >= 5
    return ids


def test_every_line_links_to_the_one_before(app: Flask, logged: list[int]) -> None:
    lines = db.session.scalars(select(AccessLog).order_by(AccessLog.id)).all()
    assert lines[0].prev_hash == GENESIS
    for before, line in itertools.pairwise(lines):
        assert line.prev_hash == before.row_hash
        fields = {k: getattr(line, k) for k in ("at", "user_id", "action", "target", "reason", "ip")}
        assert line.row_hash == chain_hash(line.prev_hash, fields)
    code, output = run_verify(app)
    assert code == 0, output
    assert f"access_log: {len(lines)} rows, intact; head {lines[-1].row_hash}" in output


def behind_the_apps_back(statement: str, **params: object) -> None:
    """As the database's superuser: past the append-only triggers."""
    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(statement), params)
        else:
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER access_log_no_{verb}"))
            conn.execute(text(statement), params)


def test_verify_finds_a_row_edited_behind_the_apps_back(app: Flask, logged: list[int]) -> None:
    victim = logged[2]
    behind_the_apps_back("UPDATE access_log SET target = 'không có gì' WHERE id = :id", id=victim)
    code, output = run_verify(app)
    assert code == 1
    assert f"BROKEN access_log: row {victim}: its content does not match its hash" in output


def test_verify_finds_a_row_edited_with_its_hash_recomputed(app: Flask, logged: list[int]) -> None:
    """A careful forger recomputes the edited row's own hash: the next row's link gives it away."""
    victim = logged[2]
    line = db.session.get(AccessLog, victim)
    fields = {k: getattr(line, k) for k in ("at", "user_id", "action", "target", "reason", "ip")}
    forged = chain_hash(line.prev_hash, {**fields, "target": "không có gì"})
    behind_the_apps_back(
        "UPDATE access_log SET target = 'không có gì', row_hash = :h WHERE id = :id", id=victim, h=forged
    )
    code, output = run_verify(app)
    assert code == 1
    assert f"row {logged[3]}: it does not link to the row before it" in output


def test_verify_finds_a_removed_row(app: Flask, logged: list[int]) -> None:
    behind_the_apps_back("DELETE FROM access_log WHERE id = :id", id=logged[1])
    code, output = run_verify(app)
    assert code == 1
    assert f"row {logged[2]}: it does not link to the row before it" in output


def test_audit_head_prints_the_last_hash(app: Flask, logged: list[int]) -> None:
    last = db.session.scalars(select(AccessLog.row_hash).order_by(AccessLog.id.desc())).first()
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["audit", "head"])
    assert result.exit_code == 0
    assert f"access_log {len(logged)} {last}" in result.output.splitlines()


# --- another chain: partitioned, sealed by a plain-SQL writer ----------------------------------------------------


@pytest.fixture
def notes_chain(app: Flask) -> Iterator[Chain]:
    """A chain per `stay_id` over a scratch table: what the stay history's chain will look like."""
    table = sa.Table(
        "test_chain_notes",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("stay_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    table.create(db.engine)
    chain = register(Chain("test_chain_notes", table, fields=("stay_id", "kind"), partition=("stay_id",)))
    try:
        yield chain
    finally:
        CHAINS.pop(chain.name, None)
        db.session.remove()
        table.drop(db.engine)


def write_note(chain: Chain, stay_id: int, kind: str) -> None:
    with db.engine.begin() as conn:
        values = {"stay_id": stay_id, "kind": kind}
        conn.execute(chain.table.insert().values(**values, **seal(conn, chain, values)))


def test_a_partitioned_chain_is_verified_per_partition(app: Flask, notes_chain: Chain) -> None:
    for stay_id, kind in [(1, "check_in"), (2, "check_in"), (1, "extend"), (2, "check_out"), (1, "check_out")]:
        write_note(notes_chain, stay_id, kind)
    with db.engine.connect() as conn:
        rows = conn.execute(select(notes_chain.table).order_by(notes_chain.table.c.id)).mappings().all()
        assert rows[0]["prev_hash"] == rows[1]["prev_hash"] == GENESIS  # each stay starts its own chain
        assert rows[2]["prev_hash"] == rows[0]["row_hash"]
        assert verify(conn, notes_chain).broken is None and verify(conn, notes_chain).rows == 5
    code, output = run_verify(app)
    assert code == 0 and "test_chain_notes: 5 rows, intact" in output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE test_chain_notes SET kind = 'cancel' WHERE id = 3"))
    code, output = run_verify(app)
    assert code == 1 and "test_chain_notes: row 3 (partition 1): its content does not match its hash" in output


# --- concurrency and the migration -----------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_concurrent_writers_never_fork_the_chain(app: Flask, factory: Factory) -> None:
    user = factory.user(Role.OFFICER, commune="00004")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with app.app_context():
                for i in range(15):
                    record_access(user_id=user.id, action="test", target=f"w{n}-{i}", now=utcnow())
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    in_threads(writer, 4, timeout=60)
    assert errors == []
    assert db.session.scalar(select(func.count(AccessLog.id))) == 60
    code, output = run_verify(app)
    assert code == 0, output


@pytest.fixture
def migrated_again(app: Flask) -> Iterator[None]:
    try:
        yield
    finally:
        db.session.remove()
        upgrade()
        if not db.session.scalar(text("SELECT count(*) FROM provinces")):
            load_units()
        db.session.commit()


def test_the_migration_seals_the_rows_already_stored(app: Flask, factory: Factory, migrated_again: None) -> None:
    officer_id = factory.user(Role.OFFICER, commune="00004").id
    db.session.remove()
    downgrade(revision="0006")
    with db.engine.begin() as conn:
        for i in range(4):
            conn.execute(
                text(
                    "INSERT INTO access_log (at, user_id, action, target, reason, ip) "
                    "VALUES (:at, :u, 'stay', :t, NULL, '10.0.0.1')"
                ),
                {"at": datetime(2026, 11, 1, 8, i, tzinfo=UTC) if PG_URL else f"2026-11-01 08:0{i}:00.000000",
                 "u": officer_id, "t": f"EST-1/{i}"},
            )  # fmt: skip
    upgrade()
    lines = db.session.scalars(select(AccessLog).order_by(AccessLog.id)).all()
    assert [line.target for line in lines] == [f"EST-1/{i}" for i in range(4)]
    assert lines[0].prev_hash == GENESIS and lines[3].prev_hash == lines[2].row_hash
    code, output = run_verify(app)
    assert code == 0, output
    # The triggers are back: the sealed rows are append-only again.
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE access_log SET target = 'x' WHERE id = :id"), {"id": lines[0].id})
    db.session.rollback()
