"""Deadline reminders: at 21:30 an establishment with two guests not yet notified gets one Web Push message
(sent to a local push endpoint, decrypted here with the subscription's keys) and one e-mail (a local SMTP sink),
both naming the guests and the deadline; two workers running the same slot at once still send one of each; an
establishment with nothing pending gets nothing."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from sqlalchemy import func, select

from asm.accounts.models import Role
from asm.clock import VN_TZ, fmt_datetime, local_today, utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.jobs import reminders
from asm.jobs.models import PushSubscription, Reminder, ReminderDelivery, State
from asm.jobs.push import b64url, new_vapid_keys
from asm.stays.models import Stay
from tests.conftest import Factory
from tests.support.desk import use_fast_password_hashes
from tests.support.mail import Sink
from tests.support.police import file_stay, guest

ROOT = Path(__file__).resolve().parents[2]
GUESTS = ("Nguyễn Thị Hoa", "Trần Văn Nam")


@dataclass
class PushEndpoint:
    """A push service on a local port: keeps each message's body and headers, answers 201 Created (RFC 8030)."""

    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"


@pytest.fixture
def push_endpoint() -> Iterator[PushEndpoint]:
    endpoint = PushEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's hook
            body = self.rfile.read(int(self.headers["Content-Length"]))
            endpoint.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(410 if self.path in endpoint.gone else 201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Device:
    """A browser's push subscription: its own key pair and auth secret, as the Push API makes them."""

    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> Device:
        return cls(ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(public)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """What the browser's `PushSubscription.toJSON()` posts for this device."""
        return {"endpoint": endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    use_fast_password_hashes(monkeypatch)
    private, public = new_vapid_keys()
    app.config.update(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public, VAPID_SUBJECT="mailto:ops@asm.test")


@dataclass
class Town:
    busy: Establishment
    quiet: Establishment
    busy_device: Device
    quiet_device: Device


@pytest.fixture
def town(factory: Factory, push_endpoint: PushEndpoint) -> Town:
    now = utcnow()
    busy = factory.establishment(code="EST-BUSY", name="Nhà nghỉ Bận Rộn")
    quiet = factory.establishment(code="EST-QUIET", name="Nhà nghỉ Yên Tĩnh")
    busy.reminder_email, quiet.reminder_email = "chu.bandon@asm.test", "chu.yentinh@asm.test"
    # Two guests recorded, not notified (drafts, as the desk saves them); the quiet one filed its guest.
    file_stay(busy, [guest(GUESTS[0], sex="F"), guest(GUESTS[1])], arrived=now - timedelta(minutes=30), filed=None)
    file_stay(quiet, [guest("Lê Văn Đủ")], arrived=now - timedelta(minutes=30), filed=now - timedelta(minutes=20))
    devices = []
    for est, name in ((busy, "busy"), (quiet, "quiet")):
        owner = factory.user(Role.OWNER, establishment=est)
        device = Device.new()
        db.session.add(
            PushSubscription(
                user_id=owner.id,
                endpoint=push_endpoint.url(name),
                p256dh=device.p256dh,
                auth=b64url(device.auth),
                device="Quầy lễ tân",
            )
        )
        devices.append(device)
    db.session.commit()
    return Town(busy, quiet, *devices)


def deadline_text(est: Establishment) -> str:
    """The deadline the filing core stored on the guests' stays (what the reminder must name)."""
    deadline = db.session.scalar(select(func.min(Stay.deadline_at)).where(Stay.establishment_id == est.id))
    return fmt_datetime(deadline)


def at_local(hour: int, minute: int) -> datetime:
    return datetime.combine(local_today(), time(hour, minute), tzinfo=VN_TZ).astimezone(UTC)


def test_at_21_30_one_push_and_one_email_name_both_guests_and_the_deadline(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint
) -> None:
    sent = reminders.run_due(at_local(21, 30))  # the scheduler's step, at 21:30 Vietnam time

    assert [r.establishment_id for r in sent] == [town.busy.id]
    deadline = deadline_text(town.busy)
    (mail,) = smtp_sink.messages
    assert mail["To"] == "chu.bandon@asm.test"
    text = Sink.text(mail)
    assert all(name in text for name in GUESTS) and deadline in text
    ((path, headers, body),) = push_endpoint.received
    assert path == "/push/busy" and headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=")  # RFC 8292, signed with the configured key
    message = town.busy_device.decrypt(body)
    assert all(name in message["body"] for name in GUESTS) and deadline in message["body"]
    assert town.busy.name in message["title"]

    # The owner's record: one reminder, both deliveries done. The next minute, the same slot: nothing again.
    deliveries = db.session.scalars(select(ReminderDelivery)).all()
    assert sorted((d.channel, d.state) for d in deliveries) == [("email", State.DONE), ("push", State.DONE)]
    assert reminders.run_due(at_local(21, 31)) == []
    assert len(smtp_sink.messages) == 1 and len(push_endpoint.received) == 1


def test_nothing_pending_nothing_sent_and_no_slot_no_reminder(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint
) -> None:
    assert reminders.run_due(at_local(20, 0)) == []  # not a reminder time
    town.busy.reminder_times = "20:00"
    db.session.commit()
    assert [r.establishment_id for r in reminders.run_due(at_local(20, 0))] == [town.busy.id]
    assert [m["To"] for m in smtp_sink.messages] == ["chu.bandon@asm.test"]
    assert [p for p, _h, _b in push_endpoint.received] == ["/push/busy"]


def test_a_subscription_the_push_service_forgot_is_removed(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint
) -> None:
    push_endpoint.gone.add("/push/busy")
    reminders.run_due(at_local(22, 30))
    assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 1  # the quiet one's only
    push = db.session.scalars(select(ReminderDelivery).where(ReminderDelivery.channel == "push")).one()
    assert push.state == State.FAILED and push.error == "subscription gone"


def test_two_workers_running_the_same_slot_at_once_send_one_of_each(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint, database_url: str
) -> None:
    env = {
        **os.environ,
        "ASM_ENV": "test",
        "DATABASE_URL": database_url,
        "ASM_MAIL_SERVER": "127.0.0.1",
        "ASM_MAIL_PORT": str(app.config["MAIL_PORT"]),
        "ASM_VAPID_PRIVATE_KEY": app.config["VAPID_PRIVATE_KEY"],
        "ASM_VAPID_PUBLIC_KEY": app.config["VAPID_PUBLIC_KEY"],
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "run", "--at", "21:30"]
    both = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in "ab"
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in both]
    assert all(p.returncode == 0 for p in both), outputs
    assert sum("EST-BUSY: 2 guest(s)" in out for out in outputs) == 1, outputs
    assert len(smtp_sink.messages) == 1 and len(push_endpoint.received) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_the_owner_sets_times_subscribes_this_device_and_sees_each_reminder_and_its_delivery(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint, factory: Factory
) -> None:
    from tests.conftest import csrf_token
    from tests.support.desk import client_as

    owner = factory.user(Role.OWNER, establishment=town.busy)
    client = client_as(app, owner)
    page = f"/co-so/{town.busy.code}/nhac-nho"
    bad = client.post(page, data={"times": "25:99", "email": "x", "csrf_token": csrf_token(client)})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    ok = client.post(page, data={"times": "20:00, 07:00", "email": "le.tan@asm.test", "csrf_token": csrf_token(client)})
    assert ok.status_code == 303
    device = Device.new()
    subscription = device.subscription("https://push.example.net/abc")
    headers = {"X-CSRFToken": csrf_token(client)}
    assert client.post(f"{page}/thiet-bi", json=subscription, headers=headers).status_code == 201
    assert client.post(f"{page}/thiet-bi", json={"endpoint": "x"}, headers=headers).status_code == 400
    db.session.expire_all()
    assert db.session.get(Establishment, town.busy.id).reminder_times == "07:00,20:00"

    reminders.run_due(at_local(20, 0))
    body = client.get(page).get_data(as_text=True)
    assert "le.tan@asm.test" in body and "Đã gửi" in body
    assert client.get("/manifest.webmanifest").get_json()["start_url"] == "/"


def test_a_clerk_reads_the_settings_turns_on_push_on_their_own_device_and_gets_the_reminder(
    app: Flask, town: Town, smtp_sink: Sink, push_endpoint: PushEndpoint, factory: Factory
) -> None:
    """Reminders go to every member of staff's devices: a clerk turns push on from the same page, and may not
    change the times or the address (the owner's)."""
    from tests.conftest import csrf_token
    from tests.support.desk import client_as

    clerk = factory.user(Role.CLERK, establishment=town.busy)
    client = client_as(app, clerk)
    page = f"/co-so/{town.busy.code}/nhac-nho"
    body = client.get(page).get_data(as_text=True)
    assert 'id="reminder-settings"' in body and "chu.bandon@asm.test" in body
    assert 'name="times"' not in body and 'id="push-subscribe"' in body
    refused = client.post(page, data={"times": "20:00", "email": "", "csrf_token": csrf_token(client)})
    assert refused.status_code == 403
    device = Device.new()
    subscription = device.subscription("https://push.example.net/clerk")
    answer = client.post(f"{page}/thiet-bi", json=subscription, headers={"X-CSRFToken": csrf_token(client)})
    assert answer.status_code == 201
    stored = db.session.scalar(select(PushSubscription).where(PushSubscription.user_id == clerk.id))
    assert stored is not None and stored.endpoint == subscription["endpoint"]
    stored.endpoint = push_endpoint.url("clerk")  # the test's own push service stands in for the browser's
    db.session.commit()

    reminders.run_due(at_local(21, 30))

    by_path = {path: body for path, _, body in push_endpoint.received}
    assert set(by_path) == {"/push/busy", "/push/clerk"}  # the owner's device and the clerk's
    message = device.decrypt(by_path["/push/clerk"])
    assert all(name in message["body"] for name in GUESTS)
    assert db.session.get(Establishment, town.busy.id).reminder_times is None  # unchanged by the clerk


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_a_reminder_speaks_each_trades_words(locale: str) -> None:
    """A hotel's reminder counts guests; a hospital's counts patients and carers, says which each one is, and
    speaks of the expected discharge (asm/trades.py), in both languages."""
    from datetime import date

    at = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
    deadline = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    items = [
        reminders.Pending("Nguyễn Văn An", deadline, False, role="patient"),
        reminders.Pending("Trần Thị Bình", deadline, False, role="carer"),
        reminders.Pending("Lê Văn Cường", None, True, date(2026, 12, 1), role="patient"),
    ]
    hotel = Establishment(name="Khách sạn Sông Hồng", type="hotel")
    hospital = Establishment(name="Bệnh viện Đa khoa", type="hospital")
    expected = {
        "vi": {
            "hotel": ("3 khách", ["- Nguyễn Văn An: hạn", "Quá ngày dự kiến đi, chưa ghi nhận trả phòng (1)"]),
            "hospital": (
                "3 người bệnh và người chăm sóc",
                [
                    "- Nguyễn Văn An (người bệnh): hạn",
                    "- Trần Thị Bình (người chăm sóc): hạn",
                    "Quá ngày dự kiến ra viện, chưa ghi nhận ra viện (1)",
                    "- Lê Văn Cường (người bệnh): dự kiến ra viện 01/12/2026",
                ],
            ),
        },
        "en": {
            "hotel": ("3 guests", ["- Nguyễn Văn An: deadline", "no check out recorded (1)"]),
            "hospital": (
                "3 patients and carers",
                [
                    "- Nguyễn Văn An (patient): deadline",
                    "- Trần Thị Bình (carer): deadline",
                    "Past the expected discharge date, no discharge recorded (1)",
                    "- Lê Văn Cường (patient): expected discharge 01/12/2026",
                ],
            ),
        },
    }[locale]
    for est, kind in ((hotel, "hotel"), (hospital, "hospital")):
        subject, body = reminders.compose(est, items, at, locale)
        count, lines = expected[kind]
        assert subject.endswith(count), subject
        for line in lines:
            assert line in body, (line, body)
    assert "khách" not in reminders.compose(hospital, items, at, "vi")[0].lower()
