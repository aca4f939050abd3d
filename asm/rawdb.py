"""Plain SQL on the pool's own DBAPI connection, for the two paths every API request takes.

The ORM costs about 0.3 ms of Python per statement and a transaction (BEGIN, COMMIT) per request; the API's
token check and its filing of one guest on PostgreSQL (`asm.api.filing`) run on every API call and are written
as plain SQL on a pooled DBAPI connection instead, in autocommit: a single statement is its own transaction.
Everything else goes through `db.session`.

The connection comes from the same pool as the ORM's (same `DATABASE_URL`) and goes back after each use, in the
state the pool expects (autocommit off).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from asm.extensions import db


class RawConnection:
    def __init__(self) -> None:
        self.proxy = db.engine.raw_connection()  # checked out (and pinged) like the ORM's connections
        self.dialect = db.engine.dialect.name
        self.driver = self.proxy.driver_connection
        if self.dialect == "postgresql":
            self.driver.autocommit = True  # no BEGIN/COMMIT round trips; each statement is atomic

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def execute(self, sql: str, params: dict[str, Any]) -> Any:
        """Run `sql` (psycopg's `%(name)s` placeholders, translated for SQLite) and return the cursor."""
        if self.is_postgresql:
            return self.driver.execute(sql, params)
        return self.driver.execute(_named(sql), params)

    def fetch_one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return self.execute(sql, params).fetchone()

    def release(self) -> None:
        if self.is_postgresql:
            if self.driver.closed or self.driver.broken:
                self.proxy.invalidate()  # dead: the pool opens a fresh one when needed
                return
            try:
                self.driver.autocommit = False  # as the pool and the ORM expect it
            except Exception:  # a connection in an unknown state is thrown away, never reused
                self.proxy.invalidate()
                return
        self.proxy.close()  # back to the pool


@contextmanager
def connection() -> Iterator[RawConnection]:
    """A pooled connection for one use, back in the pool at the end of the block.

    Never held while the ORM works: a request that held one connection and waited for a second could, with
    enough threads, wait for ever on a full pool.
    """
    raw = RawConnection()
    try:
        yield raw
    finally:
        raw.release()


@lru_cache(maxsize=64)
def _named(sql: str) -> str:
    return re.sub(r"%\((\w+)\)s", r":\1", sql)


def ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Test a pooled connection before use only when it has lain idle `idle_s` seconds or more.

    SQLAlchemy's `pool_pre_ping` costs a round trip on every checkout, 0.1 ms of a filing's 1.2 ms; a connection
    back in the pool a moment ago is alive. After a database restart the first use of each idle connection is
    still caught: the ping fails, the pool throws the connection away and opens a new one.
    """

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool retries with a fresh connection
            raise DisconnectionError(str(exc)) from exc


def init_app(app: Flask) -> None:
    with app.app_context():  # the engines exist once Flask-SQLAlchemy is bound; nothing connects here
        for engine in db.engines.values():
            ping_when_idle(engine, app.config["DB_PING_IDLE_S"])
