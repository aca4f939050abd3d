"""The kiosk in a real headless Chromium: pairing, a fake camera fed with a generated CCCD QR, a keyboard-wedge
scanner, a photo upload, garbled scanner input, and a filing that waits in the browser while the server is down.

The camera is Chromium's fake capture device reading a Y4M video that the test writes from a QR image with
Pillow (DOMAIN.md, "Kiosk practicalities"). The server for the offline test is this file's own: it binds a fixed
port so it can be stopped and started again at the same origin (localStorage is kept per origin), and it closes
every connection after one answer, so a stopped server really answers nothing.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

import asm.clock
from asm.clock import VN_TZ, to_local
from asm.extensions import db
from asm.stays.models import Source, Stay, StayStatus
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CHROMIUM_ENV,
    TABLET_LANDSCAPE,
    TIMEOUT_MS,
    blocked_by_policy,
)
from tests.conftest import CARD, Factory
from tests.support.camera import card_frame, fake_camera_args, write_y4m
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.kiosk import register_kiosk
from tests.support.qrimages import to_bytes

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser

pytestmark = pytest.mark.browser

NAME = "Nguyễn Thị Hoa"
BIRTH = "21/03/2003"
MASKED = "********1829"
# The app's clock for the offline test: two minutes before the 23:00 cut-off.
BEFORE_CUTOFF = datetime(2026, 11, 20, 22, 58, tzinfo=VN_TZ)
AFTER_CUTOFF = datetime(2026, 11, 20, 23, 10, tzinfo=VN_TZ)
# What the kiosk keeps in IndexedDB (docs/OFFLINE.md): every record of its sealed queue, as a thief copying the
# browser's storage would read it, and how many filings wait there.
STORED = """(async () => {
  const out = [];
  for (const d of await indexedDB.databases()) {
    out.push(...await new Promise((resolve, reject) => {
      const r = indexedDB.open(d.name);
      r.onsuccess = () => {
        const db = r.result;
        const all = [];
        const names = [...db.objectStoreNames];
        if (!names.length) { db.close(); resolve(all); return; }
        const tx = db.transaction(names);
        for (const n of names) {
          tx.objectStore(n).getAll().onsuccess = (e) => all.push(...e.target.result.map((v) => ({db: d.name, ...v})));
        }
        tx.oncomplete = () => { db.close(); resolve(all); };
        tx.onerror = () => reject(tx.error);
      };
      r.onerror = () => reject(r.error);
    }));
  }
  return out;
})()"""
QUEUED = f"({STORED}).then((items) => items.filter((i) => i.db.startsWith('asm-kiosk-queue')).length)"


def wait_until_none_queued(page: Page, timeout: float = 10_000) -> None:
    """Poll IndexedDB (wait_for_function would take the promise itself for a truthy answer)."""
    deadline = time.monotonic() + timeout / 1000
    while page.evaluate(QUEUED) != 0:
        assert time.monotonic() < deadline, "filings still waiting in IndexedDB"
        page.wait_for_timeout(100)


def assert_nothing_readable(page: Page) -> None:
    """Stolen storage: no name, no ID number, no QR text in IndexedDB or localStorage (issue 15)."""
    dump = json.dumps(page.evaluate(STORED), ensure_ascii=False) + json.dumps(
        page.evaluate("() => Object.entries(localStorage)"), ensure_ascii=False
    )
    for secret in (NAME, "Hoa", "034303011829", "1829", "Nguy"):
        assert secret not in dump, secret


# --- a fake camera ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def camera_browser(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose camera shows the card's QR code: a second browser (the camera is a launch argument), started
    by the same Playwright as the shared `browser` (one Playwright per process)."""
    video = tmp_path_factory.mktemp("camera") / "card.y4m"
    write_y4m(video, card_frame(CARD))
    args = [*CHROMIUM_ARGS, *fake_camera_args(video)]
    camera = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, env={**os.environ, **CHROMIUM_ENV})
    yield camera
    camera.close()


# --- a server that can be stopped and started again ---------------------------------------------------------------


class OneAnswerPerConnection(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"  # no keep-alive: after stop() no open connection can still be served


class RestartableServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.port = 0
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.proxy_error = False  # True: answer 503 to everything, as a reverse proxy does while the app is down

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.proxy_error:
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"]
        return self.app(environ, start_response)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server(
            "127.0.0.1", self.port, self.wsgi, threaded=True, request_handler=OneAnswerPerConnection
        )
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=10)
            self.server = None


@pytest.fixture
def server(app: Flask) -> Iterator[RestartableServer]:
    app.config["SERVER_NAME"] = None
    db.session.commit()
    running = RestartableServer(app)
    running.start()
    yield running
    running.stop()


class ServerClock:
    """The app's clock (every `asm`/`kiosk` module's `utcnow`), set to a moment and running on in real time;
    `set()` again moves it, as time passing while the server is away."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.start = datetime.now(UTC)
        self.began = time.monotonic()
        real = asm.clock.utcnow
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in ("asm", "kiosk") and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", self.now)

    def set(self, at: datetime) -> None:
        self.start, self.began = at.astimezone(UTC), time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


# --- the kiosk in a browser ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def pairing_code(app: Flask, factory: Factory) -> str:
    """A hotel, its owner, and a kiosk the owner registered on the owner's page."""
    from asm.accounts.models import Role

    est = factory.establishment(name="Khách sạn Sen Vàng")
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    return register_kiosk(owner, est.code, name="Sảnh", flows=("hotel_check_in", "check_out"))


def open_page(browser: Browser, base_url: str) -> tuple[Page, list[str]]:
    context = browser.new_context(base_url=base_url, viewport=TABLET_LANDSCAPE, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.extend(blocked_by_policy(message)))
    return page, errors


@pytest.fixture
def kiosk_page(browser: Browser, server: RestartableServer, pairing_code: str) -> Iterator[Page]:
    page, errors = open_page(browser, server.url)
    pair_in_browser(page, pairing_code)
    yield page
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def pair_in_browser(page: Page, code: str) -> None:
    page.goto("/kiosk/")
    expect(page).to_have_url(re.compile(r"/kiosk/ghep-noi$"))  # not paired yet
    page.get_by_label("Mã ghép nối").fill(code)
    page.get_by_role("button", name="Ghép nối").click()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator("body[data-ready]")).to_be_attached()
    expect(page.get_by_role("heading", name="Xin chào! Bạn cần làm gì?")).to_be_visible()


def wedge_scan(page: Page, text: str) -> None:
    """A USB scanner in keyboard mode: keystrokes and Enter, with nothing focused by the test."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def person(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#people .person")


def expect_confirmation(page: Page) -> None:
    expect(page.get_by_role("heading", name="Kiểm tra thông tin")).to_be_visible()
    expect(person(page)).to_have_count(1)
    expect(person(page).locator(".name")).to_have_text(NAME)
    expect(person(page).locator(".birth")).to_have_text(BIRTH)
    expect(person(page).locator(".doc")).to_have_text(MASKED)
    assert "034303011829" not in page.locator("main").inner_text()


def report(page: Page, label: str) -> list[dict[str, Any]]:
    """The page's scan-to-filled-form times so far; the latest is printed (run with -s to see it; no assert)."""
    metrics = page.evaluate("window.kioskMetrics")
    print(f"\nkiosk scan-to-filled-form ({label}): {metrics[-1]['ms']} ms")
    return metrics


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


# --- the tests ------------------------------------------------------------------------------------------------------


def test_camera_scan_confirm_file_receipt(
    camera_browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    page, errors = open_page(camera_browser, server.url)
    pair_in_browser(page, pairing_code)
    page.get_by_role("button", name="Nhận phòng").click()
    expect(page.locator("#camera-video")).to_be_visible()

    expect_confirmation(page)
    (metric,) = report(page, "fake camera")
    assert metric["source"] == "camera"
    assert page.evaluate("document.getElementById('camera-video').srcObject") is None  # the camera stopped

    page.get_by_role("button", name="Đúng, tiếp tục").click()
    page.get_by_label("Số đêm").select_option("2")
    page.get_by_label("Lý do lưu trú").select_option("Công tác")
    page.get_by_role("button", name="Gửi khai báo").click()

    expect(page.get_by_role("heading", name="Đã khai báo lưu trú")).to_be_visible()
    receipt_no = page.locator("#receipt-no").inner_text().strip()
    assert re.fullmatch(r"LT-\d{6}-[0-9A-Z]{8}", receipt_no), receipt_no
    expect(page.locator("#receipt-people .name")).to_have_text(NAME)
    expect(page.locator("#receipt-people .doc")).to_have_text(MASKED)
    (stay,) = stays()
    assert (stay.person.full_name, stay.receipt_no, stay.source, stay.status) == (
        NAME,
        receipt_no,
        Source.KIOSK,
        StayStatus.IN_HOUSE,
    )
    assert stay.reason == "Công tác"
    assert stay.expected_departure == to_local(stay.arrived_at).date() + timedelta(days=2)
    expect(page.locator("#queue-status")).to_be_hidden()

    # Done: the screen forgets this guest before the next one walks up.
    page.get_by_role("button", name="Xong").click()
    expect(page.get_by_role("heading", name="Xin chào! Bạn cần làm gì?")).to_be_visible()
    expect(page.locator("#people .person")).to_have_count(0)
    expect(page.locator("#receipt-people .person")).to_have_count(0)
    expect(page.locator("#receipt-no")).to_have_text("—")
    assert NAME not in page.content()
    page.context.close()
    assert not errors, errors


def test_wedge_scan_and_photo_upload_reach_the_confirmation(kiosk_page: Page, tmp_path: Path) -> None:
    page = kiosk_page
    wedge_scan(page, CARD)  # straight from the welcome screen, nothing focused by hand
    expect_confirmation(page)
    report(page, "keyboard wedge")

    page.get_by_role("button", name="Làm lại").click()
    expect(person(page)).to_have_count(0)
    page.get_by_role("button", name="Nhận phòng").click()
    photo = tmp_path / "card.png"
    photo.write_bytes(to_bytes(card_frame(CARD, (1280, 720)), "PNG"))
    page.locator("#photo").set_input_files(photo)
    expect_confirmation(page)
    assert [m["source"] for m in report(page, "photo")] == ["wedge", "photo"]


# A serial scanner as Web Serial hands it to the page: the card's UTF-8 bytes in two chunks that cut the
# Vietnamese letter "ễ" (E1 BB 85) in two, then CR. Installed before the page's own script runs.
FAKE_SERIAL = """
(() => {
  const bytes = new TextEncoder().encode(%s + "\\r");
  const cut = bytes.indexOf(0xe1) + 1;
  const port = {
    open: async () => {},
    readable: new ReadableStream({
      start(controller) {
        setTimeout(() => {
          controller.enqueue(bytes.slice(0, cut));
          controller.enqueue(bytes.slice(cut));
        }, 200);
      },
    }),
  };
  Object.defineProperty(navigator, "serial", { value: { requestPort: async () => port }, configurable: true });
})();
"""


def test_a_serial_scanner_is_read_through_web_serial(kiosk_page: Page) -> None:
    page = kiosk_page
    assert "ễ" in CARD
    page.context.add_init_script(FAKE_SERIAL % json.dumps(CARD))
    page.reload()
    expect(page.locator("body[data-ready]")).to_be_attached()
    page.get_by_role("button", name="Nhận phòng").click()
    page.get_by_role("button", name="Đầu đọc cổng COM").click()
    expect_confirmation(page)  # "Nguyễn": the letter split across two chunks was joined (else: U+FFFD, refused)
    assert page.evaluate("window.kioskMetrics.map(m => [m.source, m.path])") == [["serial", "device"]]


@pytest.mark.parametrize(
    ("garbled", "advice"),
    [
        (CARD.replace("Nữ", "Nu74"), "Hãy tắt bộ gõ tiếng Việt trên máy kiosk"),
        (CARD.replace("Nguyễn Thị", "Nguy7877n Th7883"), "Hãy chuyển đầu đọc sang chế độ cổng COM"),
    ],
    ids=["vni", "alt-codes"],
)
def test_garbled_wedge_input_is_refused_with_advice_for_staff(kiosk_page: Page, garbled: str, advice: str) -> None:
    page = kiosk_page
    wedge_scan(page, garbled)
    error = page.locator("#scan-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(advice)
    expect(person(page)).to_have_count(0)
    assert stays() == []
    # The scanner, set up right, is read at once.
    wedge_scan(page, CARD)
    expect_confirmation(page)
    expect(error).to_be_hidden()


def test_a_filing_made_offline_is_kept_through_a_reload_and_filed_once_at_the_scan_time(
    browser: Browser, server: RestartableServer, pairing_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ServerClock(monkeypatch)
    clock.set(BEFORE_CUTOFF)
    page, errors = open_page(browser, server.url)
    pair_in_browser(page, pairing_code)
    page.wait_for_function("() => localStorage.getItem('asm-kiosk-clock-v1') !== null")  # the clock was checked

    scanned_from = clock.now()
    wedge_scan(page, CARD)
    expect_confirmation(page)
    scanned_until = clock.now()
    page.get_by_role("button", name="Đúng, tiếp tục").click()

    server.stop()
    page.get_by_role("button", name="Gửi khai báo").click()
    expect(page.locator("#receipt-queued")).to_be_visible()
    expect(page.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt khai báo")
    assert page.evaluate(QUEUED) == 1
    assert_nothing_readable(page)
    assert stays() == []

    # The server comes back after the 23:00 cut-off; the kiosk page is reloaded.
    clock.set(AFTER_CUTOFF)
    server.start()
    page.reload()
    expect(page.locator("#queue-status")).to_be_hidden()
    wait_until_none_queued(page)
    (stay,) = stays()
    assert stay.person.full_name == NAME
    # Arrived when scanned (on the server's clock, through the offset the kiosk measured), not when filed.
    assert scanned_from - timedelta(seconds=2) <= stay.arrived_at <= scanned_until + timedelta(seconds=2)
    assert to_local(stay.deadline_at) == datetime(2026, 11, 20, 23, 0, tzinfo=VN_TZ)
    assert to_local(stay.filed_at) >= AFTER_CUTOFF
    assert stay.filed_late_reason == "outage"  # late because the kiosk could not reach the server
    assert stay.events[0].data["waited_offline"] is True
    assert_nothing_readable(page)
    # Retries after the acknowledgement file nothing more.
    page.reload()
    expect(page.locator("body[data-ready]")).to_be_attached()
    page.wait_for_timeout(500)
    assert len(stays()) == 1
    page.context.close()
    assert not errors, errors


def test_a_kiosk_reloaded_while_the_server_is_down_opens_from_its_copy_and_sends_by_itself(
    browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    page, errors = open_page(browser, server.url)
    pair_in_browser(page, pairing_code)
    # The service worker (kiosk-sw.js) has kept a copy of the screen and controls the page.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    wedge_scan(page, CARD)
    expect_confirmation(page)
    page.get_by_role("button", name="Đúng, tiếp tục").click()
    server.stop()
    page.get_by_role("button", name="Gửi khai báo").click()
    expect(page.locator("#receipt-queued")).to_be_visible()

    # Someone reloads the kiosk (or it restarts) while the server is still down: the screen opens from the copy
    # and shows what waits, instead of the browser's error page.
    page.reload()
    expect(page.locator("body[data-ready]")).to_be_attached()
    expect(page.get_by_role("button", name="Nhận phòng")).to_be_visible()
    expect(page.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt khai báo")
    assert stays() == []

    # Meanwhile the browser session ended (its cookie gone, the kiosk's credential kept), so the copy's CSRF token
    # is stale: the screen fetches a fresh one when the server refuses it, and sends again.
    page.context.clear_cookies(name="session")
    # The server comes back; nobody touches the kiosk: the filing is sent by the screen's own retries.
    server.start()
    wait_until_none_queued(page, timeout=30_000)
    expect(page.locator("#queue-status")).to_be_hidden()
    (stay,) = stays()
    assert stay.person.full_name == NAME
    page.context.close()
    assert not errors, errors


def test_a_kiosk_behind_a_proxy_opens_from_its_copy_while_the_app_is_down(
    browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    page, errors = open_page(browser, server.url)
    pair_in_browser(page, pairing_code)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    server.proxy_error = True
    page.reload()
    expect(page.get_by_role("button", name="Nhận phòng")).to_be_visible()
    assert "503" not in page.content()
    server.proxy_error = False
    page.context.close()
    assert not errors, errors


def test_a_revoked_kiosk_is_sent_back_to_pairing(
    kiosk_page: Page, app: Flask, factory: Factory, server: RestartableServer
) -> None:
    from asm.devices.models import KioskDevice
    from asm.devices.services import revoke_device

    page = kiosk_page
    device = db.session.scalars(select(KioskDevice)).one()
    revoke_device(device, now=datetime.now(UTC))
    db.session.commit()
    page.reload()
    expect(page).to_have_url(re.compile(r"/kiosk/ghep-noi$"))
    answer = page.request.get(f"{server.url}/kiosk/api/gio")
    assert answer.status == 401


def test_the_screen_clears_itself_when_a_guest_walks_away(
    browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    """The device's idle time (90 s) passes on the page's clock (Playwright's fake timers): the guest's data goes."""
    page, errors = open_page(browser, server.url)
    page.clock.install()
    pair_in_browser(page, pairing_code)
    wedge_scan(page, CARD)
    expect_confirmation(page)
    page.clock.fast_forward(60_000)
    expect(person(page)).to_have_count(1)  # still there after a minute: the guest is reading
    page.clock.fast_forward(35_000)
    expect(page.get_by_role("heading", name="Xin chào! Bạn cần làm gì?")).to_be_visible()
    expect(person(page)).to_have_count(0)
    assert NAME not in page.content()
    page.context.close()
    assert not errors, errors


# --- reading on the device (docs/OFFLINE.md) ------------------------------------------------------------------------


def test_a_new_card_is_read_from_the_camera_and_filed_with_the_server_stopped(
    camera_browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    """Issue 15: the server goes away, the kiosk is even reloaded; a new guest holds up a card: the kiosk decodes
    and parses it on the device (zxing-wasm, cccd.js, from the service worker's copy), shows the confirmation and
    queues the filing, which reaches the server once it is back."""
    page, errors = open_page(camera_browser, server.url)
    pair_in_browser(page, pairing_code)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    expect(page.locator("body[data-reader=device]")).to_be_attached()  # zxing-wasm compiled under the CSP

    server.stop()
    page.reload()  # opens from the copy, the reader too
    expect(page.locator("body[data-ready]")).to_be_attached()
    expect(page.locator("body[data-parser=device][data-reader=device]")).to_be_attached()
    page.get_by_role("button", name="Nhận phòng").click()
    expect_confirmation(page)
    (metric,) = report(page, "fake camera, server stopped")
    assert (metric["source"], metric["path"]) == ("camera", "device")

    page.get_by_role("button", name="Đúng, tiếp tục").click()
    page.get_by_role("button", name="Gửi khai báo").click()
    expect(page.locator("#receipt-queued")).to_be_visible()
    expect(page.locator("#receipt-people .name")).to_have_text(NAME)
    assert page.evaluate(QUEUED) == 1
    assert stays() == []

    server.start()
    wait_until_none_queued(page, timeout=30_000)
    (stay,) = stays()
    assert (stay.person.full_name, stay.person.doc_number, stay.source) == (NAME, "034303011829", Source.KIOSK)
    page.context.close()
    assert not errors, errors


def test_without_the_device_reader_the_kiosk_reads_through_the_server(
    camera_browser: Browser, server: RestartableServer, pairing_code: str
) -> None:
    """The fallback: where the parser and zxing-wasm cannot load, the camera frames and scanned texts go to the
    server's decode and parse endpoints, as before."""
    page, errors = open_page(camera_browser, server.url)
    page.route(re.compile(r"/(vendor/zxing-wasm|static/idcard)/"), lambda route: route.abort())
    pair_in_browser(page, pairing_code)
    expect(page.locator("body[data-parser=server][data-reader=server]")).to_be_attached()
    with page.expect_request("**/kiosk/api/giai-ma?khung=1"):
        page.get_by_role("button", name="Nhận phòng").click()
    expect_confirmation(page)
    page.get_by_role("button", name="Làm lại").click()
    with page.expect_request("**/kiosk/api/doc-ma"):
        wedge_scan(page, CARD)
    expect_confirmation(page)
    assert [(m["source"], m["path"]) for m in page.evaluate("window.kioskMetrics")] == [
        ("camera", "server"),
        ("wedge", "server"),
    ]
    page.context.close()
    assert not errors, errors
