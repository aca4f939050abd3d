"""Fixtures: an app on a migrated database per test (SQLite by default, PostgreSQL with ASM_TEST_DATABASE_URL),
a client, `login_as`, factories, and no outbound network.

The schema always comes from the Alembic migrations. SQLite: each test gets a copy of a migrated template file.
PostgreSQL: the public schema is rebuilt once per run, and each test ends with a TRUNCATE of every table but the
administrative units.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from sqlalchemy import text

import asm.clock
from asm import create_app
from asm.accounts.models import Role, User
from asm.accounts.services import create_token, create_user
from asm.config import Test, normalize_database_url
from asm.establishments.models import Establishment
from asm.establishments.services import create_establishment
from asm.extensions import db

pytest_plugins = ["tests.support.mail"]

PG_URL = os.environ.get("ASM_TEST_DATABASE_URL")
KEEP_TABLES = {"provinces", "communes", "alembic_version"}
# Between tests only: the superuser's session fires no ordinary trigger, so the append-only tables may be emptied
# (migration 0006 refuses TRUNCATE to everyone else).
BYPASS_APPEND_ONLY = "SET LOCAL session_replication_role = replica"
PASSWORD = "secret-pass-1"
# The example of DOMAIN.md: Thái Bình (034), female born 2003.
CARD = "034303011829||Nguyễn Thị Hoa|21032003|Nữ|Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình|14082021"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (per-test file)'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set ASM_TEST_DATABASE_URL (make test does in CI)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback only (the app, PostgreSQL, the browser)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        loopback = isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback:
            raise OSError(f"outbound network blocked in tests: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from asm.geo.services import load_units

    app = create_app(Test, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_units()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        url = normalize_database_url(PG_URL)
        _migrate(url)
        return url
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(_template_db: str, tmp_path: Path) -> str:
    if PG_URL:
        return _template_db
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(_template_db, path)
    return f"sqlite:///{path}"


def _fresh_g(sender: Flask, **extra: Any) -> None:
    """Each request starts with an empty `g`, as in production."""
    g.__dict__.clear()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(Test, SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME="asm.test")
    # The app context below stays open for the whole test and Flask reuses it for every request, so `g` would
    # carry Flask-Login's user, the CSRF token and the locale from one request (and one client) to the next.
    request_started.connect(_fresh_g, app)
    with app.app_context():
        yield app
        db.session.remove()
        if PG_URL:
            tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]
            with db.engine.begin() as conn:
                conn.execute(text(BYPASS_APPEND_ONLY))
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@contextmanager
def second_app(database_url: str, **overrides: Any) -> Iterator[Flask]:
    """Another instance of the app on the test's database (a second worker, other settings); its connections are
    closed at the end rather than by the garbage collector."""
    other = create_app(Test, SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get("/dang-nhap").get_data(as_text=True)
    match = CSRF_META.search(page)
    assert match, "no csrf-token meta on the page"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A form POST with the session's CSRF token, like the browser sends it."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def login(user: User, password: str = PASSWORD) -> FlaskClient:
        response = post_form(client, "/dang-nhap", {"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login


@dataclass
class Factory:
    """Objects made through the same services as the CLI, committed."""

    app: Flask
    counter: int = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def establishment(
        self, *, commune: str = "00004", type: str = "hotel", rooms: tuple[str, ...] = ("101", "102", "201"), **kw: Any
    ) -> Establishment:
        n = self._next()
        est = create_establishment(
            code=kw.pop("code", f"EST-{n}"),
            name=kw.pop("name", f"Khách sạn Thử {n}"),
            type=type,
            address=kw.pop("address", f"{n} Phố Huế, Hà Nội"),
            commune_code=commune,
            rooms=list(rooms),
            **kw,
        )
        db.session.commit()
        return est

    def user(
        self,
        role: Role | str,
        *,
        establishment: Establishment | None = None,
        commune: str | None = None,
        province: str | None = None,
        username: str | None = None,
    ) -> User:
        user = create_user(
            username=username or f"{Role(role).value}{self._next()}",
            password=PASSWORD,
            role=role,
            full_name=f"Người dùng {self.counter}",
            establishments=[establishment] if establishment else None,
            commune_code=commune,
            province_code=province,
        )
        db.session.commit()
        return user

    def token(self, establishment: Establishment, name: str = "pms") -> str:
        _token, secret = create_token(establishment, name=name)
        db.session.commit()
        return secret


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def clerk_setup(factory: Factory) -> tuple[Establishment, User]:
    est = factory.establishment()
    return est, factory.user(Role.CLERK, establishment=est)


@pytest.fixture
def pin_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """`pin_clock(start)`: the app's clock (every `asm` module's `utcnow`, which the live server reads too) starts
    at `start` and runs on in real time, so a test's deadlines do not depend on the hour it runs at."""

    def pin(start: datetime) -> None:
        real = asm.clock.utcnow
        began = time.monotonic()

        def pinned() -> datetime:
            return (start + timedelta(seconds=time.monotonic() - began)).astimezone(UTC)

        for name, module in list(sys.modules.items()):
            if (name == "asm" or name.startswith("asm.")) and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", pinned)

    return pin
