"""Helpers for kiosk tests: register a kiosk through the owner's page, pair a browser through the pairing page,
and call the kiosk's JSON endpoints the way kiosk.js does (CSRF header from the page, Idempotency-Key)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from asm.accounts.models import Role, User
from asm.establishments.models import Establishment
from tests.conftest import Factory, csrf_token
from tests.support.desk import client_as, new_client

PIN = "4826"
PAIRING_CODE = re.compile(r'<p class="pairing-code" id="pairing-code">([0-9A-Z]{4}-[0-9A-Z]{4})</p>')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
COOKIE = "asm_kiosk"


def register_kiosk(
    owner_client: FlaskClient,
    code: str,
    *,
    name: str = "Sảnh",
    flows: tuple[str, ...] = ("hotel_check_in", "check_out"),
    pin: str = PIN,
    guest_picks_room: bool = False,
    idle_seconds: int = 90,
) -> str:
    """Register through the owner's page; returns the pairing code the page shows once."""
    data: dict[str, Any] = {
        "name": name,
        "flows": list(flows),
        "pin": pin,
        "idle_seconds": str(idle_seconds),
        "csrf_token": csrf_token(owner_client),
    }
    if guest_picks_room:
        data["guest_picks_room"] = "1"
    response = owner_client.post(f"/co-so/{code}/kiosk/", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    match = PAIRING_CODE.search(response.get_data(as_text=True))
    assert match, "no pairing code on the page"
    return match.group(1)


@dataclass
class Kiosk:
    client: FlaskClient
    credential: str
    establishment: Establishment

    def csrf(self) -> str:
        page = self.client.get("/kiosk/")
        assert page.status_code == 200, page.status_code
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match
        return match.group(1)

    def post(self, path: str, body: Any, *, key: str | None = None, **headers: str) -> Any:
        sent = {"X-CSRFToken": self.csrf(), "Accept": "application/json", **headers}
        if key is not None:
            sent["Idempotency-Key"] = key
        return self.client.post(path, json=body, headers=sent)

    def read(self, text: str, source: str = "wedge") -> Any:
        return self.post("/kiosk/api/doc-ma", {"text": text, "source": source})

    def approve(self, key: str, pin: str = PIN) -> Any:
        return self.post("/kiosk/api/nhan-vien", {"pin": pin, "key": key})

    def submit(self, body: dict[str, Any], key: str | None = None) -> Any:
        return self.post("/kiosk/api/nop", body, key=key or str(uuid.uuid4()))


def pair(app: Flask, pairing_code: str) -> FlaskClient:
    client = new_client(app)
    response = client.post("/kiosk/ghep-noi", data={"code": pairing_code, "csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def kiosk_credential(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE, domain="asm.test", path="/kiosk")
    assert cookie is not None, "the pairing set no kiosk cookie"
    return cookie.value


def make_kiosk(app: Flask, factory: Factory, *, est: Establishment | None = None, **options: Any) -> Kiosk:
    est = est or factory.establishment(name="Khách sạn Sen Vàng")
    owner = factory.user(Role.OWNER, establishment=est)
    code = register_kiosk(client_as(app, owner), est.code, **options)
    client = pair(app, code)
    return Kiosk(client=client, credential=kiosk_credential(client), establishment=est)


def owner_of(factory: Factory, est: Establishment) -> User:
    return factory.user(Role.OWNER, establishment=est)
