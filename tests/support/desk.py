"""Helpers for driving the desk pages like a browser: log in on a fresh client, read the fields a page or a
partial renders, and send them back with the session's CSRF token."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from asm.accounts import services as account_services
from asm.extensions import db
from tests.conftest import PASSWORD, csrf_token

# Each logged-in client gets its own loopback address, so the per-address login rate limit counts each "browser"
# apart (a test that logs in many users is not one person guessing passwords).
_ADDRESSES = itertools.count(2)

# A second valid chip-card text: Hà Nội (001), male born 1985.
CARD_2 = "001085012345||Trần Văn Nam|15061985|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022"
NAME_1 = "Nguyễn Thị Hoa"
NAME_2 = "Trần Văn Nam"


def use_fast_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users made in these tests get a cheap hash: scrypt costs a quarter second per user and per login, and
    what is under test here is who may see what, not the hash. Logging in still checks the password."""
    monkeypatch.setattr(
        account_services,
        "generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def new_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    n = next(_ADDRESSES)
    client.environ_base["REMOTE_ADDR"] = f"127.0.{n // 250}.{n % 250 + 1}"
    return client


def client_as(app: Flask, user: Any, password: str = PASSWORD) -> FlaskClient:
    """A new browser, logged in through the login form."""
    client = new_client(app)
    token = csrf_token(client)
    response = client.post("/dang-nhap", data={"username": user.username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def htmx_headers(client: FlaskClient) -> dict[str, str]:
    """What htmx sends: HX-Request and the CSRF token from `hx-headers` on <body>."""
    return {"HX-Request": "true", "X-CSRFToken": csrf_token(client)}


class _FieldParser(HTMLParser):
    """The successful controls of an HTML fragment, in document order, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and "name" in a:
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and "name" in a:
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            if chosen:
                self.fields.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str) -> list[tuple[str, str]]:
    parser = _FieldParser()
    parser.feed(html)
    parser.close()
    return parser.fields


def scanned_guest(client: FlaskClient, code: str, text: str) -> list[tuple[str, str]]:
    """Scan a card into the check-in page (as the USB scanner does) and return the guest block's fields."""
    response = client.post(f"/co-so/{code}/quet", data={"text": text}, headers=htmx_headers(client))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return form_fields(response.get_data(as_text=True))


def check_in_form(
    guests: Iterable[list[tuple[str, str]]],
    *,
    arrived_at: str,
    reason: str = "Du lịch",
    room_id: int | str = "",
    expected_departure: str = "",
    action: str = "file",
) -> dict[str, str]:
    data: dict[str, str] = {}
    for fields in guests:
        data.update(fields)
    data.update(
        reason=reason,
        room_id=str(room_id),
        arrived_at=arrived_at,
        expected_departure=expected_departure,
        action=action,
    )
    return data


def post_check_in(client: FlaskClient, code: str, data: dict[str, str], **kwargs: Any) -> Any:
    return client.post(f"/co-so/{code}/nhan-phong", data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0
