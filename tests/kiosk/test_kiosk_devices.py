"""Kiosk devices through the owner's pages and the kiosk's pairing page: register, pair once, revoke; and what a
kiosk's credential can and cannot open."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from asm.accounts.models import Role
from asm.clock import utcnow
from asm.devices.models import KioskDevice
from asm.devices.services import normalize_pairing_code, sha256
from asm.extensions import db
from asm.stays.models import Stay, StayEvent
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import NAME_1, client_as, new_client, use_fast_password_hashes
from tests.support.kiosk import COOKIE, PIN, Kiosk, kiosk_credential, make_kiosk, pair, register_kiosk

PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def devices(est_id: int) -> list[KioskDevice]:
    db.session.expire_all()
    return list(db.session.scalars(select(KioskDevice).where(KioskDevice.establishment_id == est_id)))


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Stay.id))) or 0, db.session.scalar(select(func.count(StayEvent.id))) or 0


def test_the_owner_registers_a_kiosk_and_sees_its_pairing_code_once(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    code = register_kiosk(owner, est.code, name="Sảnh tầng 1", flows=("hotel_check_in",))
    (device,) = devices(est.id)
    assert (device.name, device.flows, device.is_paired) == ("Sảnh tầng 1", ["hotel_check_in"], False)
    # Only hashes are kept: of the code and of the PIN.
    assert device.pairing_hash == sha256(normalize_pairing_code(code))
    assert code.replace("-", "") not in (device.pairing_hash or "")
    assert PIN not in device.pin_hash
    # The list shows the device, not the code.
    page = owner.get(f"/co-so/{est.code}/kiosk/").get_data(as_text=True)
    assert "Sảnh tầng 1" in page and code not in page and "Chờ ghép nối" in page


def test_registration_refuses_a_bad_pin_and_no_flow(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    response = owner.post(f"/co-so/{est.code}/kiosk/", data={"name": "A", "pin": "12", "csrf_token": csrf_token(owner)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Mã PIN gồm 4–8 chữ số." in body and "Chọn ít nhất một quy trình hợp lệ." in body
    assert devices(est.id) == []


@pytest.mark.parametrize("who", ["clerk", "other_owner", "officer", "admin"])
def test_only_the_owner_manages_kiosks(app: Flask, factory: Factory, who: str) -> None:
    est = factory.establishment()
    other = factory.establishment()
    user = {
        "clerk": lambda: factory.user(Role.CLERK, establishment=est),
        "other_owner": lambda: factory.user(Role.OWNER, establishment=other),
        "officer": lambda: factory.user(Role.OFFICER, commune="00004"),
        "admin": lambda: factory.user(Role.ADMIN),
    }[who]()
    client = client_as(app, user)
    assert client.get(f"/co-so/{est.code}/kiosk/").status_code == 403
    data = {"name": "X", "flows": ["hotel_check_in"], "pin": PIN, "csrf_token": csrf_token(client)}
    assert client.post(f"/co-so/{est.code}/kiosk/", data=data).status_code == 403
    assert devices(est.id) == []


def test_pairing_sets_a_strict_httponly_cookie_and_the_code_works_once(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    code = register_kiosk(owner, est.code)
    browser = new_client(app)
    # Not paired yet: the kiosk screen sends the browser to the pairing page.
    response = browser.get("/kiosk/")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/kiosk/ghep-noi"

    wrong = browser.post("/kiosk/ghep-noi", data={"code": "AAAA-AAAA", "csrf_token": csrf_token(browser)})
    assert wrong.status_code == 422 and "Mã ghép nối không đúng hoặc đã hết hạn." in wrong.get_data(as_text=True)
    assert "Set-Cookie" not in wrong.headers or COOKIE not in wrong.headers["Set-Cookie"]

    typed = f"  {code.lower().replace('-', ' ')} "  # as a person types it
    response = browser.post("/kiosk/ghep-noi", data={"code": typed, "csrf_token": csrf_token(browser)})
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/kiosk/"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/kiosk" in cookie
    assert browser.get("/kiosk/").status_code == 200
    (device,) = devices(est.id)
    assert device.is_paired and device.pairing_hash is None
    assert device.credential_hash == sha256(kiosk_credential(browser))

    again = new_client(app).post("/kiosk/ghep-noi", data={"code": code, "csrf_token": csrf_token(browser)})
    assert again.status_code in (400, 422)  # spent (or, for this new client, its CSRF token is not its own)
    other = new_client(app)
    again = other.post("/kiosk/ghep-noi", data={"code": code, "csrf_token": csrf_token(other)})
    assert again.status_code == 422


def test_a_pairing_code_expires_after_30_minutes(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    code = register_kiosk(owner, est.code)
    browser = new_client(app)
    token = csrf_token(browser)
    with freeze_time(utcnow() + timedelta(minutes=31)):
        response = browser.post("/kiosk/ghep-noi", data={"code": code, "csrf_token": token})
    assert response.status_code == 422
    assert not devices(est.id)[0].is_paired


def test_a_new_pairing_code_moves_the_kiosk_to_a_new_browser(app: Flask, factory: Factory) -> None:
    kiosk = make_kiosk(app, factory)
    est = kiosk.establishment
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    (device,) = devices(est.id)
    response = owner.post(f"/co-so/{est.code}/kiosk/{device.id}/ma-ghep-noi", data={"csrf_token": csrf_token(owner)})
    code = re.search(r'id="pairing-code">([0-9A-Z-]+)<', response.get_data(as_text=True))
    assert response.status_code == 200 and code
    assert kiosk.client.get("/kiosk/").status_code == 200  # the old browser works until the new one pairs
    new_browser = pair(app, code.group(1))
    assert new_browser.get("/kiosk/").status_code == 200
    assert kiosk.client.get("/kiosk/").status_code == 302  # the old credential was replaced


def kiosk_endpoints(app: Flask) -> list[tuple[str, str, str]]:
    return [
        (rule.rule, rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("kiosk.") and rule.endpoint not in ("kiosk.static", "kiosk.pair")
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
    ]


def test_a_revoked_kiosk_can_do_nothing(app: Flask, factory: Factory) -> None:
    kiosk = make_kiosk(app, factory)
    est = kiosk.establishment
    assert kiosk.submit({"flow": "hotel_check_in", "guests": [{"qr": CARD}], "reason": "Du lịch"}).status_code == 201
    token = kiosk.csrf()
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    (device,) = devices(est.id)
    response = owner.post(f"/co-so/{est.code}/kiosk/{device.id}/thu-hoi", data={"csrf_token": csrf_token(owner)})
    assert response.status_code == 303
    assert "Đã thu hồi" in owner.get(f"/co-so/{est.code}/kiosk/").get_data(as_text=True)
    before = counts()
    bodies: dict[str, Any] = {
        "kiosk.read_text": {"text": CARD, "source": "wedge"},
        "kiosk.staff_pin": {"pin": PIN, "key": "k-1"},
        "kiosk.submit": {"flow": "check_out", "guests": [{"qr": CARD}]},
    }
    endpoints = kiosk_endpoints(app)
    assert {e for _, e, _ in endpoints} >= {"kiosk.screen", "kiosk.submit", "kiosk.read_image", "kiosk.server_clock"}
    for rule, endpoint, method in endpoints:
        headers = {"X-CSRFToken": token, "Idempotency-Key": "k-1"}
        response = kiosk.client.open(rule, method=method, json=bodies.get(endpoint, {}), headers=headers)
        body = response.get_data(as_text=True)
        assert NAME_1 not in body, endpoint
        if endpoint == "kiosk.screen":
            assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/kiosk/ghep-noi"
        else:
            assert response.status_code == 401, (endpoint, response.status_code)
            assert response.get_json()["error"]["code"] == "kiosk_not_paired"
    assert counts() == before
    # Nor can the revoked device get a new pairing code.
    response = owner.post(f"/co-so/{est.code}/kiosk/{device.id}/ma-ghep-noi", data={"csrf_token": csrf_token(owner)})
    assert response.status_code == 422


def test_a_paired_kiosk_cannot_open_any_staff_or_police_page(app: Flask, factory: Factory) -> None:
    """Every route that is not the kiosk's own, with the kiosk's credential sent on every path: a kiosk is not a
    login. (The cookie's Path=/kiosk keeps the browser from sending it elsewhere; this checks the server too.)"""
    kiosk = make_kiosk(app, factory)
    est = kiosk.establishment
    response = kiosk.submit({"flow": "hotel_check_in", "guests": [{"qr": CARD}], "reason": "Du lịch"})
    assert response.status_code == 201
    stay = db.session.scalars(select(Stay)).one()
    values = {
        "code": est.code,
        "stay_id": str(stay.id),
        "receipt_no": stay.receipt_no or "",
        "device_id": str(devices(est.id)[0].id),
        "action": "tra-phong",
        "lang": "en",
        "name": "htmx.min.js",
        "filename": "app.css",
    }
    browser = new_client(app)
    token = csrf_token(browser)
    browser.set_cookie(COOKIE, kiosk.credential, domain="asm.test", path="/")  # sent on every path
    checked = 0
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if (
            endpoint.startswith("kiosk.")
            or getattr(app.view_functions[endpoint], "access_rule", ("public",)) == ("public",)
            or endpoint.endswith("static")
        ):
            continue
        url = PARAM.sub(lambda m: values.get(m[1], "1"), rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            response = browser.open(
                url,
                method=method,
                data={"csrf_token": token} if method == "POST" and not url.startswith("/api/") else None,
            )
            checked += 1
            assert NAME_1 not in response.get_data(as_text=True), (method, url)
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url, response.status_code)
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert urlsplit(response.headers["Location"]).path == "/dang-nhap", (method, url)
    assert checked > 20
    # The same credential does open the kiosk.
    assert browser.get("/kiosk/").status_code == 200


def test_a_logged_in_clerk_is_not_a_kiosk(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    response = clerk.get("/kiosk/")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/kiosk/ghep-noi"
    response = clerk.post("/kiosk/api/nop", json={}, headers={"X-CSRFToken": csrf_token(clerk)})
    assert response.status_code == 401


def test_the_screen_shows_only_the_flows_the_device_offers(app: Flask, factory: Factory) -> None:
    hospital = factory.establishment(type="hospital", name="Bệnh viện Đa khoa")
    kiosk: Kiosk = make_kiosk(app, factory, est=hospital, flows=("hospital_admission", "carer"))
    page = kiosk.client.get("/kiosk/").get_data(as_text=True)
    assert 'data-flow="hospital_admission"' in page and 'data-flow="carer"' in page
    assert 'data-flow="hotel_check_in"' not in page and 'data-flow="check_out"' not in page
