"""Plain SQL on a DBAPI connection, for the two paths every API request takes.

The ORM costs about 0.3 ms of Python per statement and a transaction (BEGIN, COMMIT) per request; the API's
token check and its filing of one guest on PostgreSQL (`asm.filing.sql`) run on every API call and are written
as plain SQL instead, in autocommit: a single statement is its own transaction. Everything else goes through
`db.session`.

On PostgreSQL each thread keeps one connection of its own for this, in autocommit, taken out of the ORM's pool
once (`detach`) and closed when the engine is disposed: checking a connection out of the pool and back, with its
reset and autocommit switches, cost 0.1–0.15 ms a request, more than the statement's own Python. It is tested
like a pooled one after lying idle (`DB_PING_IDLE_S`) and replaced when broken. On SQLite (and when a thread
already uses its own) a pooled connection is checked out for the one use.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from asm.extensions import db


class RawConnection:
    def __init__(self, engine: Engine, *, own: bool = False) -> None:
        self.proxy = engine.raw_connection()  # checked out (and pinged) like the ORM's connections
        self.dialect = engine.dialect.name
        driver = self.proxy.driver_connection
        if driver is None:  # only for a connection already closed, which a checkout never returns
            raise DisconnectionError("the pool returned a closed connection")
        self.driver: Any = driver  # psycopg's or sqlite3's connection
        self.engine = weakref.ref(engine)
        self.pid = os.getpid()
        self.idle_since = time.monotonic()
        if own:
            self.proxy.detach()  # the pool forgets it: no reset on return, and its slot is free for the ORM
        if self.is_postgresql:
            self.driver.autocommit = True  # no BEGIN/COMMIT round trips; each statement is atomic

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def broken(self) -> bool:
        return bool(self.is_postgresql and (self.driver.closed or self.driver.broken))

    def execute(self, sql: str, params: dict[str, Any]) -> Any:
        """Run `sql` (psycopg's `%(name)s` placeholders, translated for SQLite) and return the cursor."""
        if self.is_postgresql:
            return self.driver.execute(sql, params)
        return self.driver.execute(_named(sql), params)

    def fetch_one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return self.execute(sql, params).fetchone()

    def alive_after_idle(self, idle_s: float) -> bool:
        """False when the connection is broken, or lay idle `idle_s` seconds or more and fails a ping."""
        if self.broken:
            return False
        if time.monotonic() - self.idle_since < idle_s:
            return True
        try:
            self.driver.execute("SELECT 1")
        except Exception:  # any failure: the caller opens a fresh connection
            return False
        return True

    def release(self) -> None:
        """A pooled connection goes back to the pool, in the state it expects (autocommit off)."""
        if self.broken:
            self.proxy.invalidate()  # dead: the pool opens a fresh one when needed
            return
        if self.is_postgresql:
            try:
                self.driver.autocommit = False
            except Exception:  # a connection in an unknown state is thrown away, never reused
                self.proxy.invalidate()
                return
        self.proxy.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection: nothing more to do
            self.proxy.close()  # detached: closes the DBAPI connection itself


class _OwnConnections(threading.local):
    """Each thread's own connection, per engine (tests build many apps; production has one)."""

    def __init__(self) -> None:
        self.by_engine: dict[int, RawConnection] = {}
        self.in_use: set[int] = set()


_own = _OwnConnections()
_opened: weakref.WeakKeyDictionary[Engine, set[RawConnection]] = weakref.WeakKeyDictionary()
_opened_lock = threading.Lock()


@contextmanager
def connection() -> Iterator[RawConnection]:
    """A connection for one use: the thread's own on PostgreSQL, else a pooled one, back in the pool at the end.

    A pooled connection is never held while the ORM works: a request that held one connection and waited for a
    second could, with enough threads, wait for ever on a full pool.
    """
    engine = db.engine
    if engine.dialect.name != "postgresql" or id(engine) in _own.in_use:
        raw = RawConnection(engine)
        try:
            yield raw
        finally:
            raw.release()
        return
    raw = _own_connection(engine, current_app.config["DB_PING_IDLE_S"])
    _own.in_use.add(id(engine))
    try:
        yield raw
    finally:
        _own.in_use.discard(id(engine))
        raw.idle_since = time.monotonic()
        if raw.broken:
            _forget(engine, raw)


def _own_connection(engine: Engine, idle_s: float) -> RawConnection:
    raw = _own.by_engine.get(id(engine))
    if raw is not None and (raw.pid != os.getpid() or raw.engine() is not engine):
        # Inherited across a fork (the parent's, left alone), or left by a dead engine whose id was reused.
        del _own.by_engine[id(engine)]
        raw = None
    if raw is not None and not raw.alive_after_idle(idle_s):
        _forget(engine, raw)
        raw = None
    if raw is None:
        raw = RawConnection(engine, own=True)
        _own.by_engine[id(engine)] = raw
        with _opened_lock:
            if engine not in _opened:
                _opened[engine] = set()
                event.listen(engine, "engine_disposed", _close_all)
            _opened[engine].add(raw)
    return raw


def _forget(engine: Engine, raw: RawConnection) -> None:
    _own.by_engine.pop(id(engine), None)
    with _opened_lock:
        _opened.get(engine, set()).discard(raw)
    raw.close()


def _close_all(engine: Engine) -> None:
    """`engine.dispose()`: every thread's own connection is closed too; a thread still holding one opens anew."""
    with _opened_lock:
        opened = _opened.pop(engine, set())
    for raw in opened:
        raw.close()


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
