"""Helpers for the login tests (issue 11): a client for the production configuration (HTTPS, as a browser behind
the reverse proxy), the second factor read from the pages as a person would (the key under the QR code, the
recovery codes on their page), and a saved cookie replayed from another browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pyotp
from flask import Flask, g, request_started
from flask.testing import FlaskClient

from asm import create_app
from asm.clock import utcnow
from asm.config import Prod
from asm.extensions import db
from tests.conftest import PASSWORD, csrf_token
from tests.support.desk import _ADDRESSES

SECRET_RE = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
CODES_RE = re.compile(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code></li>")
HOST = "asm.test"


class HttpsClient(FlaskClient):
    """A browser on https://asm.test: the production cookie is Secure and CSRF checks the Referer over HTTPS."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", f"https://{HOST}")
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Referer", f"https://{HOST}/")
        return super().open(*args, headers=headers, **kwargs)


def _fresh_g(sender: Flask, **extra: Any) -> None:
    g.__dict__.clear()


@contextmanager
def prod_app(database_url: str, **overrides: Any) -> Iterator[Flask]:
    """The production configuration (second factor required for officer, supervisor, admin) on the test database."""
    app = create_app(Prod, SECRET_KEY="p" * 40, SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=HOST, **overrides)
    app.test_client_class = HttpsClient
    request_started.connect(_fresh_g, app)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    n = next(_ADDRESSES)
    client.environ_base["REMOTE_ADDR"] = f"127.1.{n // 250}.{n % 250 + 1}"
    return client


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def password_step(client: FlaskClient, username: str, password: str = PASSWORD, query: str = "") -> Any:
    return post(client, "/dang-nhap" + query, {"username": username, "password": password})


def secret_from(html: str) -> str:
    match = SECRET_RE.search(html)
    assert match, "no TOTP key on the enrolment page"
    return match.group(1).replace(" ", "")


def code(secret: str, at: datetime | None = None) -> str:
    return pyotp.TOTP(secret).at(at or utcnow())


def recovery_codes(html: str) -> list[str]:
    return CODES_RE.findall(html)


def enrol(client: FlaskClient, username: str, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Log in for the first time where the role requires a second factor: password, QR page, first code.
    Returns the TOTP secret and the recovery codes; the client is logged in."""
    response = password_step(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].endswith("/dang-nhap/dang-ky-xac-thuc")
    page = client.get("/dang-nhap/dang-ky-xac-thuc")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    secret = secret_from(page.get_data(as_text=True))
    done = post(client, "/dang-nhap/dang-ky-xac-thuc", {"code": code(secret)})
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    codes = recovery_codes(done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def second_step(client: FlaskClient, text: str) -> Any:
    return post(client, "/dang-nhap/ma-xac-thuc", {"code": text})


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session", domain=HOST) or client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def replay(app: Flask, value: str) -> FlaskClient:
    """Another browser that presents a saved session cookie."""
    other = browser(app)
    other.set_cookie("session", value, domain=HOST)
    return other
