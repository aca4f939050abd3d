"""The API's plain-SQL connections on PostgreSQL (asm/rawdb.py): each thread keeps one of its own, outside the
ORM's pool, closed with the engine, and replaced when the database drops it between two filings."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from asm import rawdb
from asm.extensions import db
from asm.stays.models import Stay
from tests.conftest import PG_URL, Factory

pytestmark = pytest.mark.postgres_only

HOA = {"doc_type": "cccd", "doc_number": "034303011829", "full_name": "Nguyễn Thị Hoa", "birth_date": "2003-03-21"}
AN = {"doc_type": "cccd", "doc_number": "001203004567", "full_name": "Trần Văn An", "birth_date": "2003-05-02"}


def backend_pid() -> int:
    with rawdb.connection() as conn:
        row = conn.fetch_one("SELECT pg_backend_pid()", {})
    assert row is not None
    return row[0]


def terminate(pid: int) -> None:
    """What a database restart does to a connection: the server ends it while it lies idle."""
    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def test_a_thread_reuses_its_own_connection_outside_the_pool(app: Flask) -> None:
    first = backend_pid()
    with rawdb.connection() as conn:
        assert db.engine.pool.checkedout() == 0  # the ORM's pool lends nothing for it
        assert conn.fetch_one("SELECT pg_backend_pid()", {}) == (first,)
        assert conn.driver.autocommit
        with rawdb.connection() as nested:  # a second use on the same thread borrows from the pool instead
            assert nested.fetch_one("SELECT pg_backend_pid()", {}) != (first,)
            assert db.engine.pool.checkedout() == 1
    assert db.engine.pool.checkedout() == 0

    seen: list[int] = []

    def other_thread() -> None:
        with app.app_context():
            seen.append(backend_pid())

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen and seen[0] != first


def test_disposing_the_engine_closes_every_threads_connection(app: Flask) -> None:
    with rawdb.connection() as conn:
        driver: Any = conn.driver
    before = backend_pid()
    db.engine.dispose()
    assert driver.closed
    assert backend_pid() != before  # a new one, opened on demand


def test_a_filing_after_the_database_dropped_the_connection_is_stored(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    app.config["DB_PING_IDLE_S"] = 0.0  # every use counts as after a pause, as after a restart at night
    secret = factory.token(factory.establishment())
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"reason": "Du lịch"}

    assert client.post("/api/v1/stays", json={**body, "guests": [HOA]}, headers=headers).status_code == 201
    terminate(backend_pid())
    assert client.post("/api/v1/stays", json={**body, "guests": [AN]}, headers=headers).status_code == 201

    db.session.rollback()
    assert db.session.scalar(select(func.count(Stay.id))) == 2
