"""Issue 15 points 2-4 on the server: what a device sealed is opened only with its own key (and what the browser's
queue.js seals opens here), the desk's endpoint for filings that waited (idempotent, conflicts won by the server),
the late-by-outage mark carried into the police view, and the kiosk's offline PIN material and approvals."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from asm import offline
from asm.accounts.models import Role, User
from asm.common import Actor
from asm.devices.models import KioskDevice
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.stays import services as stay_services
from asm.stays.models import LATE_OUTAGE, EventKind, Source, Stay, StayEvent, StayStatus
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import CARD_2, NAME_1, NAME_2, client_as, use_fast_password_hashes
from tests.support.kiosk import PIN, Kiosk, make_kiosk
from tests.support.offline import seal

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def now_ms(delta: timedelta = timedelta(0)) -> int:
    return int((datetime.now(UTC) + delta).timestamp() * 1000)


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


# --- sealing --------------------------------------------------------------------------------------------------------


def test_what_the_browser_seals_opens_here_with_the_devices_key_only(app: Flask) -> None:
    """queue.js `seal` (run by node, WebCrypto) → asm/offline.py `open_envelope`: the one format, both sides."""
    jwk = offline.public_jwk("kiosk:1:abc")
    body = {"guests": [{"qr": CARD}], "scanned_at_ms": 1}
    script = (
        f"import {{ seal }} from '{ROOT}/asm/static/offline/queue.js';"
        f"console.log(JSON.stringify(await seal({json.dumps(jwk)}, {json.dumps(json.dumps(body))}, 'key-1')));"
    )
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    envelope = json.loads(out.stdout)
    assert NAME_1 not in out.stdout and "034303011829" not in out.stdout
    assert offline.open_envelope("kiosk:1:abc", envelope, "key-1") == body
    for label, aad in (("kiosk:1:other", "key-1"), ("kiosk:2:abc", "key-1"), ("kiosk:1:abc", "key-2")):
        with pytest.raises(offline.SealError):
            offline.open_envelope(label, envelope, aad)
    tampered = json.loads(json.dumps(envelope))
    tampered["sealed"]["ct"] = (
        tampered["sealed"]["ct"][:-2] + ("A" if tampered["sealed"]["ct"][-2] != "A" else "B") + "A"
    )
    with pytest.raises(offline.SealError):
        offline.open_envelope("kiosk:1:abc", tampered, "key-1")


@pytest.mark.parametrize(
    "body",
    [
        {"sealed": None},
        {"sealed": {"v": 2}},
        {"sealed": {"v": 1, "epk": {"x": "AA", "y": "AA"}, "iv": "AAAAAAAAAAAAAAAA", "ct": "AA"}},
        {"sealed": {"v": 1, "epk": "x", "iv": 1, "ct": []}},
        {"sealed": "text"},
    ],
)
def test_a_broken_envelope_is_a_seal_error_not_a_crash(app: Flask, body: Any) -> None:
    with pytest.raises(offline.SealError):
        offline.open_envelope("kiosk:1:abc", body, "key")


def test_the_device_is_given_the_public_half_only(app: Flask) -> None:
    jwk = offline.public_jwk("desk:1:2")
    assert set(jwk) == {"kty", "crv", "x", "y", "kid"}
    assert jwk != offline.public_jwk("desk:1:3")
    assert jwk == offline.public_jwk("desk:1:2")  # derived, nothing stored


# --- the desk -------------------------------------------------------------------------------------------------------


class Desk:
    def __init__(self, app: Flask, factory: Factory) -> None:
        self.est: Establishment = factory.establishment(name="Khách sạn Sen Vàng")
        self.clerk: User = factory.user(Role.CLERK, establishment=self.est)
        self.client: FlaskClient = client_as(app, self.clerk)

    @property
    def label(self) -> str:
        return f"desk:{self.est.id}:{self.clerk.id}"

    def send(
        self, body: dict[str, Any], *, key: str | None = None, waited: bool = False, label: str | None = None
    ) -> Any:
        key = key or str(uuid.uuid4())
        headers = {"Idempotency-Key": key, "X-CSRFToken": csrf_token(self.client)}
        if waited:
            headers["X-Waited-Offline"] = "1"
        envelope = seal(label or self.label, body, key)
        return self.client.post(f"/co-so/{self.est.code}/ngoai-tuyen/nop", json=envelope, headers=headers)


@pytest.fixture
def desk(app: Flask, factory: Factory) -> Desk:
    return Desk(app, factory)


def check_in(card: str, scanned_ms: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "check_in", "guests": [{"qr": card}], "reason": "Du lịch", "scanned_at_ms": scanned_ms, **extra}


def test_a_check_in_that_waited_is_filed_once_at_its_scan_time(desk: Desk) -> None:
    scanned = now_ms(-timedelta(minutes=20))
    key = str(uuid.uuid4())
    first = desk.send(check_in(CARD, scanned, clock_offset_ms=1500, nights=2), key=key, waited=True)
    assert first.status_code == 201, first.get_json()
    again = desk.send(check_in(CARD, scanned, clock_offset_ms=1500, nights=2), key=key, waited=True)
    # The same key with a new envelope (sealed again) is another request body: refused, nothing filed twice.
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "idempotency_key_reused"
    (stay,) = stays()
    assert stay.person.full_name == NAME_1 and stay.source == Source.DESK
    assert int(stay.arrived_at.timestamp() * 1000) == scanned + 1500
    assert stay.events[0].data["waited_offline"] is True
    assert stay.events[0].actor == desk.clerk.full_name


def test_the_same_envelope_sent_again_is_replayed(desk: Desk) -> None:
    key = str(uuid.uuid4())
    envelope = seal(desk.label, check_in(CARD, now_ms()), key)
    headers = {"Idempotency-Key": key, "X-CSRFToken": csrf_token(desk.client)}
    url = f"/co-so/{desk.est.code}/ngoai-tuyen/nop"
    first = desk.client.post(url, json=envelope, headers=headers)
    second = desk.client.post(url, json=envelope, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(stays()) == 1


def test_a_filing_past_its_deadline_because_of_an_outage_says_so_to_the_police(
    app: Flask, factory: Factory, desk: Desk
) -> None:
    yesterday = now_ms(-timedelta(days=1, hours=1))
    assert desk.send(check_in(CARD, yesterday), waited=True).status_code == 201
    assert desk.send(check_in(CARD_2, yesterday)).status_code == 201  # late, but it did not wait: no reason given
    by_name = {s.person.full_name: s for s in stays()}
    assert by_name[NAME_1].filed_late_reason == LATE_OUTAGE
    assert by_name[NAME_2].filed_late_reason is None
    officer = client_as(app, factory.user(Role.OFFICER, commune=desk.est.commune_code))
    page = officer.get(f"/co-so/{desk.est.code}/luu-tru/{by_name[NAME_1].id}").get_data(as_text=True)
    assert "Khai báo trễ hạn" in page and "do mất kết nối" in page
    assert "đã chờ trên thiết bị khi mất kết nối" in page  # the history line
    listing = officer.get("/cong-an/danh-sach/late").get_data(as_text=True)
    assert listing.count("do mất kết nối") == 1


def test_the_server_wins_a_conflict_and_files_nothing(desk: Desk) -> None:
    assert desk.send(check_in(CARD, now_ms(-timedelta(hours=1)))).status_code == 201
    (stay,) = stays()
    # Checked in meanwhile at another desk: the device's check-in of the same guest is a conflict.
    twice = desk.send(check_in(CARD, now_ms()))
    assert twice.status_code == 409
    assert twice.get_json()["error"] | {"message": ""} == {
        "code": "conflict",
        "conflict": "already_in_house",
        "message": "",
        "note": {},
    }
    # Checked out elsewhere at 10:00; the device's check-out (made offline at 10:05) is a conflict too.
    out_at = datetime.now(UTC) - timedelta(minutes=10)
    stay_services.check_out(stay, at=out_at, actor=Actor(label="Kiosk"), now=out_at)
    db.session.commit()
    late = desk.send({"kind": "check_out", "stay": stay.id, "at_ms": now_ms(-timedelta(minutes=5))}, waited=True)
    assert late.status_code == 409
    error = late.get_json()["error"]
    assert error["conflict"] == "already_checked_out"
    assert error["note"]["at"] == int(out_at.timestamp() * 1000)
    kinds = [e.kind for e in db.session.scalars(select(StayEvent).where(StayEvent.stay_id == stay.id))]
    assert kinds == [EventKind.CHECK_IN, EventKind.CHECK_OUT]


def test_a_check_out_that_waited_is_recorded_at_the_tap(desk: Desk) -> None:
    assert desk.send(check_in(CARD, now_ms(-timedelta(hours=2)))).status_code == 201
    (stay,) = stays()
    tapped = now_ms(-timedelta(minutes=30))
    answer = desk.send({"kind": "check_out", "stay": stay.id, "at_ms": tapped}, waited=True)
    assert answer.status_code == 201, answer.get_json()
    (stay,) = stays()
    assert stay.status == StayStatus.CHECKED_OUT
    assert stay.departed_at is not None and int(stay.departed_at.timestamp() * 1000) == tapped


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "dance"}, 400, "bad_request"),
        ({"kind": "check_out", "stay": "1"}, 400, "bad_request"),
        ({"kind": "check_out", "stay": 2**40}, 400, "bad_request"),
        ({"kind": "check_out", "stay": 999_999, "at_ms": 1}, 409, "conflict"),
        ({"kind": "check_in", "guests": [{"qr": "not a card"}], "reason": "Du lịch", "scanned_at_ms": 1}, 422, None),
        ({"kind": "check_in", "guests": "x", "scanned_at_ms": "soon"}, 422, "validation_error"),
        ({"kind": "check_in", "guests": [{"qr": CARD}], "reason": "Du lịch", "scanned_at_ms": 10**20}, 422, None),
        ({"kind": "check_in", "guests": [{"qr": CARD}], "reason": "Du lịch", "scanned_at_ms": 1}, 422, None),
    ],
)
def test_bad_filings_are_a_clear_4xx(desk: Desk, body: dict[str, Any], status: int, code: str | None) -> None:
    answer = desk.send(body)
    assert answer.status_code == status, answer.get_json()
    if code:
        assert answer.get_json()["error"]["code"] == code
    assert stays() == []


def test_an_envelope_for_another_clerk_or_in_clear_is_refused(app: Flask, factory: Factory, desk: Desk) -> None:
    other = factory.user(Role.CLERK, establishment=desk.est)
    refused = desk.send(check_in(CARD, now_ms()), label=f"desk:{desk.est.id}:{other.id}")
    assert refused.status_code == 400
    plain = desk.client.post(
        f"/co-so/{desk.est.code}/ngoai-tuyen/nop",
        json=check_in(CARD, now_ms()),
        headers={"Idempotency-Key": "k", "X-CSRFToken": csrf_token(desk.client)},
    )
    assert plain.status_code == 400
    assert stays() == []


def test_the_installable_desk_and_its_offline_page_hold_no_guest(desk: Desk) -> None:
    assert desk.send(check_in(CARD, now_ms())).status_code == 201
    base = f"/co-so/{desk.est.code}"
    manifest = desk.client.get(f"{base}/ung-dung.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["scope"] == manifest.get_json()["start_url"] == f"{base}/"
    worker = desk.client.get(f"{base}/sw.js")
    assert worker.mimetype == "text/javascript" and worker.headers["Cache-Control"] == "no-store"
    assert b"push-sw.js" in worker.data  # the jobs helper's push handler, when there
    page = desk.client.get(f"{base}/ngoai-tuyen").get_data(as_text=True)
    assert NAME_1 not in page and "034303011829" not in page and desk.clerk.full_name not in page
    assert f'href="{base}/ung-dung.webmanifest"' in page
    for url in (f"{base}/", f"{base}/nhan-phong"):  # the pages it replaces offline register the worker
        assert "offline/desk-install.js" in desk.client.get(url).get_data(as_text=True)
    data = desk.client.get(f"{base}/ngoai-tuyen/du-lieu").get_json()
    (guest,) = data["inHouse"]
    assert (guest["name"], guest["masked"]) == (NAME_1, "********1829")


# --- the kiosk ------------------------------------------------------------------------------------------------------


@pytest.fixture
def kiosk(app: Flask, factory: Factory) -> Kiosk:
    return make_kiosk(app, factory)


def device() -> KioskDevice:
    db.session.expire_all()
    return db.session.scalars(select(KioskDevice)).one()


def proof_for(key: str, pin: str = PIN) -> str:
    material = device().pin_offline
    assert material is not None
    import hashlib
    import hmac

    derived = hashlib.pbkdf2_hmac(
        "sha256", pin.encode(), offline.unb64url(material["salt"]), material["iterations"], dklen=64
    )
    return "offline." + offline.b64url(hmac.new(derived[32:], key.encode(), hashlib.sha256).digest())


def test_the_kiosk_holds_a_pin_verifier_and_never_the_approval_key(app: Flask, kiosk: Kiosk) -> None:
    clock = kiosk.client.get("/kiosk/api/gio").get_json()
    given = clock["offlinePin"]
    assert set(given) == {"salt", "iterations", "verifier", "validUntilMs", "maxFailures", "lockMs"}
    assert given["iterations"] == app.config["OFFLINE_PIN_ITERATIONS"]
    hours = app.config["OFFLINE_PIN_HOURS"]
    assert abs(given["validUntilMs"] - now_ms(timedelta(hours=hours))) < 60_000
    page = kiosk.client.get("/kiosk/").get_data(as_text=True)
    material = device().pin_offline
    assert material is not None and material["proof"] not in page and material["verifier"] in page


def test_an_approval_made_on_the_kiosk_offline_is_accepted_and_a_forged_one_is_not(kiosk: Kiosk) -> None:
    manual = {
        "doc_type": "cccd",
        "doc_number": "034303011829",
        "full_name": "nguyễn thị hoa",
        "birth_date": "2003-03-21",
    }
    body = {"flow": "hotel_check_in", "reason": "Du lịch", "guests": [{"manual": manual}]}
    key = str(uuid.uuid4())
    forged = kiosk.submit({**body, "approval": "offline." + "A" * 43}, key=key)
    assert forged.status_code == 422 and forged.get_json()["error"]["codes"]["approval"] == "approval_required"
    other_key = kiosk.submit({**body, "approval": proof_for("another-visit")}, key=key)
    assert other_key.status_code == 422
    ok = kiosk.submit({**body, "approval": proof_for(key)}, key=key)
    assert ok.status_code == 201, ok.get_json()
    assert [s.person.full_name for s in stays()] == [NAME_1]


def test_a_kiosk_registered_before_offline_pins_gets_its_verifier_at_the_next_pin(kiosk: Kiosk) -> None:
    dev = device()
    dev.pin_offline = None
    db.session.commit()
    assert kiosk.client.get("/kiosk/api/gio").get_json()["offlinePin"] is None
    assert kiosk.approve("visit").status_code == 200
    assert device().pin_offline is not None
    assert kiosk.client.get("/kiosk/api/gio").get_json()["offlinePin"]["verifier"]


def test_a_sealed_kiosk_filing_that_waited_past_the_deadline_is_late_by_outage(kiosk: Kiosk) -> None:
    dev = device()
    label = f"kiosk:{dev.id}:{dev.credential_hash}"
    key = str(uuid.uuid4())
    body = {
        "flow": "hotel_check_in",
        "reason": "Du lịch",
        "guests": [{"qr": CARD}],
        "scanned_at_ms": now_ms(-timedelta(days=1)),
    }
    headers = {"X-CSRFToken": kiosk.csrf(), "Idempotency-Key": key, "X-Waited-Offline": "1"}
    answer = kiosk.client.post("/kiosk/api/nop", json=seal(label, body, key), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    (stay,) = stays()
    assert stay.filed_late_reason == LATE_OUTAGE
    # Another device's envelope does not open here.
    key2 = str(uuid.uuid4())
    headers["Idempotency-Key"] = key2
    other = kiosk.client.post("/kiosk/api/nop", json=seal("kiosk:999:x", body, key2), headers=headers)
    assert other.status_code == 400
