"""Issue 15 in a real headless Chromium with the server stopped: a kiosk and a desk tablet keep working, their
filings sealed in IndexedDB, and when the server is back every filing reaches it exactly once, in order, with the
time it was made; the devices' storage holds no readable personal data before or after (docs/OFFLINE.md).

The server is the kiosk tests' restartable one (stopped: nothing answers), and the browser contexts are also set
offline (`context.set_offline(True)`) while it is away.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from asm.accounts.models import Role
from asm.common import Actor
from asm.extensions import db
from asm.people.services import PersonInput
from asm.stays import services as stay_services
from asm.stays.models import EventKind, Source, Stay, StayEvent, StayStatus
from tests.browser.test_checkin_browser import COMPANION, log_in
from tests.browser.test_kiosk_browser import (
    NAME,
    QUEUED,
    STORED,
    RestartableServer,
    camera_browser,  # noqa: F401  (a fixture)
    expect_confirmation,
    open_page,
    pair_in_browser,
    server,  # noqa: F401  (a fixture)
    wait_until_none_queued,
    wedge_scan,
)
from tests.conftest import Factory
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.kiosk import PIN, register_kiosk

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser

pytestmark = pytest.mark.browser

COMPANION_NAME = "Trần Văn Nam"
THIRD = PersonInput(
    doc_type="cccd", doc_number="001185012345", full_name="Lê Thị Cúc", birth_date=datetime(1985, 6, 15).date(), sex="F"
)
SECRETS = (
    NAME,
    "Hoa",
    "034303011829",
    COMPANION_NAME,
    "TRẦN",
    "001090012345",
    THIRD.full_name,
    "Cúc",
    THIRD.doc_number,
    "Số 5 Hàng Bạc",  # addresses (the province names alone are in the parser's tables)
    "Thôn Lai Ổn",
)
DESK_QUEUED = f"({STORED}).then((items) => items.filter((i) => i.db.startsWith('asm-desk-queue')).length)"
# Cache Storage (the service workers' copies) as text, with IndexedDB and localStorage: all a thief would read.
CACHED = """(async () => {
  const out = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) out.push(request.url + "\\n" + await (await cache.match(request)).text());
  }
  return out;
})()"""


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@dataclass
class Hotel:
    code: str
    clerk: str
    pairing_code: str
    third: int  # the stay of a guest already in house, known to the desk


@pytest.fixture
def hotel(app: Flask, factory: Factory) -> Hotel:
    est = factory.establishment(name="Khách sạn Sen Vàng")
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    code = register_kiosk(owner, est.code, name="Sảnh", flows=("hotel_check_in", "check_out"))
    clerk = factory.user(Role.CLERK, establishment=est)
    now = datetime.now(UTC)
    room = next(r for r in est.rooms if r.name == "101")
    data = stay_services.CheckInInput(
        guests=[THIRD], arrived_at=now - timedelta(hours=3), reason="Du lịch", room_id=room.id
    )
    actor = Actor(label="Lễ tân", user_id=clerk.id)
    (stay,) = stay_services.check_in(est, data, actor=actor, now=now - timedelta(hours=3)).stays
    db.session.commit()
    return Hotel(est.code, clerk.username, code, stay.id)


def stored_text(page: Page) -> str:
    """Everything the origin keeps on the device, as text."""
    return (
        json.dumps(page.evaluate(STORED), ensure_ascii=False)
        + json.dumps(page.evaluate("() => Object.entries(localStorage)"), ensure_ascii=False)
        + "\n".join(page.evaluate(CACHED))
    )


def assert_nothing_readable(*pages: Page) -> None:
    for page in pages:
        text = stored_text(page)
        for secret in SECRETS:
            assert secret not in text, secret


def wait_until(page: Page, expression: str, value: int, timeout: float = 30_000) -> None:
    deadline = time.monotonic() + timeout / 1000
    while page.evaluate(expression) != value:
        assert time.monotonic() < deadline, expression
        page.wait_for_timeout(100)


def events(stay_id: int) -> list[StayEvent]:
    return list(db.session.scalars(select(StayEvent).where(StayEvent.stay_id == stay_id).order_by(StayEvent.id)))


def controlled(page: Page) -> None:
    """The page is served through its service worker: once the worker is active (it has kept its copies), a page
    opened before it took over is reloaded, as the clerk's next visit would be."""
    state = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.active.state === 'activated' ? 'activated' : "
        "new Promise((ok) => r.active.addEventListener('statechange', () => ok(r.active.state))))"
    )
    assert state == "activated", state
    if page.evaluate("navigator.serviceWorker.controller === null"):
        page.reload()
        expect(page.locator("body[data-ready]")).to_be_attached()
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


@pytest.fixture
def desk_page(browser: Browser, server: RestartableServer, hotel: Hotel) -> Iterator[tuple[Page, list[str]]]:  # noqa: F811
    page, errors = open_page(browser, server.url)
    log_in(page, hotel.clerk)
    page.goto(f"/co-so/{hotel.code}/ngoai-tuyen")
    expect(page.locator("body[data-ready][data-server=up]")).to_be_attached()
    controlled(page)
    yield page, errors
    page.context.close()


def test_with_the_server_stopped_kiosk_and_desk_file_and_everything_arrives_once_in_order(
    camera_browser: Browser,  # noqa: F811
    server: RestartableServer,  # noqa: F811
    hotel: Hotel,
    desk_page: tuple[Page, list[str]],
) -> None:
    desk, desk_errors = desk_page
    expect(desk.locator(f"tr[data-stay='{hotel.third}']")).to_contain_text(THIRD.full_name)  # online: names shown
    kiosk, kiosk_errors = open_page(camera_browser, server.url)
    pair_in_browser(kiosk, hotel.pairing_code)
    kiosk.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    expect(kiosk.locator("body[data-reader=device]")).to_be_attached()

    server.stop()
    kiosk.context.set_offline(True)
    desk.context.set_offline(True)

    # 1. The kiosk reads a new card from the fake camera, shows the confirmation and queues the filing.
    kiosk_from = datetime.now(UTC)
    kiosk.get_by_role("button", name="Nhận phòng").click()
    expect_confirmation(kiosk)
    kiosk_until = datetime.now(UTC)
    kiosk.get_by_role("button", name="Đúng, tiếp tục").click()
    kiosk.get_by_role("button", name="Gửi khai báo").click()
    expect(kiosk.locator("#receipt-queued")).to_be_visible()
    expect(kiosk.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt khai báo, hạn sớm nhất")

    # 2. The desk, reloaded with the server still down, opens from its copy: a second guest from a pasted QR...
    desk.reload()
    expect(desk.locator("body[data-ready][data-server=down]")).to_be_attached()
    expect(desk.locator("#connection")).to_contain_text("Mất kết nối máy chủ")
    third_row = desk.locator(f"tr[data-stay='{hotel.third}']")
    expect(third_row).to_contain_text("********2345")  # known to the device: the masked number, not the name
    expect(third_row).not_to_contain_text(THIRD.full_name)
    desk_in_from = datetime.now(UTC)
    desk.get_by_label("Nội dung mã QR (quét hoặc dán)").fill(COMPANION)
    desk.get_by_role("button", name="Đọc mã").click()
    expect(desk.locator("#offline-guest-name")).to_have_text(COMPANION_NAME)
    desk_in_until = datetime.now(UTC)
    desk.locator("#offline-room").select_option(label="102")
    desk.locator("#offline-file").click()
    expect(desk.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt")
    # ... and checks out a third guest.
    desk_out_from = datetime.now(UTC)
    third_row.get_by_role("button", name="Trả phòng").click()
    expect(third_row).to_contain_text("Đang chờ gửi trả phòng")
    desk_out_until = datetime.now(UTC)
    expect(desk.locator("#queue-status")).to_contain_text("Đang chờ gửi: 2 lượt")
    assert kiosk.evaluate(QUEUED) == 1 and desk.evaluate(DESK_QUEUED) == 2
    assert_nothing_readable(kiosk, desk)
    before = stays()
    assert len(before) == 1  # only the third guest's stay: nothing reached the server

    # 3. The server comes back: every filing arrives, once, in order, with the time it was made.
    server.start()
    kiosk.context.set_offline(False)
    desk.context.set_offline(False)
    wait_until_none_queued(kiosk, timeout=30_000)
    wait_until(desk, DESK_QUEUED, 0)
    expect(desk.locator("#queue-status")).to_have_text("")

    by_name = {s.person.full_name: s for s in stays()}
    assert sorted(by_name) == sorted([NAME, COMPANION_NAME, THIRD.full_name])  # each once
    hoa, nam, cuc = by_name[NAME], by_name[COMPANION_NAME], by_name[THIRD.full_name]
    slack = timedelta(seconds=2)
    assert hoa.source == Source.KIOSK
    assert kiosk_from - slack <= hoa.arrived_at <= kiosk_until + slack  # the scan, not the arrival at the server
    assert nam.source == Source.DESK and nam.room is not None and nam.room.name == "102"
    assert desk_in_from - slack <= nam.arrived_at <= desk_in_until + slack
    assert cuc.status == StayStatus.CHECKED_OUT
    assert cuc.departed_at is not None and desk_out_from - slack <= cuc.departed_at <= desk_out_until + slack
    # In the order made on the desk: the check-in, then the check-out; both say they waited on the device.
    (nam_in,) = [e for e in events(nam.id) if e.kind == EventKind.CHECK_IN]
    (cuc_out,) = [e for e in events(cuc.id) if e.kind == EventKind.CHECK_OUT]
    assert nam_in.id < cuc_out.id
    assert nam_in.data["waited_offline"] is True and cuc_out.data["waited_offline"] is True
    assert hoa.events[0].data["waited_offline"] is True

    # Reloads send nothing again.
    kiosk.reload()
    desk.reload()
    expect(desk.locator("body[data-ready][data-server=up]")).to_be_attached()
    assert len(stays()) == 3
    assert_nothing_readable(kiosk, desk)
    kiosk.context.close()
    assert not kiosk_errors, kiosk_errors
    assert not desk_errors, desk_errors


def test_a_conflict_is_won_by_the_server_and_shown_to_the_clerk(
    server: RestartableServer,  # noqa: F811
    hotel: Hotel,
    desk_page: tuple[Page, list[str]],
) -> None:
    """The desk checks a guest out offline; meanwhile the guest was checked out elsewhere (the kiosk, another
    desk): the server's check-out stands, the device's is not recorded, and the clerk sees it."""
    desk, errors = desk_page
    server.stop()
    desk.context.set_offline(True)
    desk.locator(f"tr[data-stay='{hotel.third}']").get_by_role("button", name="Trả phòng").click()
    expect(desk.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt")

    stay = db.session.get(Stay, hotel.third)
    assert stay is not None
    elsewhere = datetime.now(UTC) - timedelta(minutes=1)
    stay_services.check_out(stay, at=elsewhere, actor=Actor(label="Kiosk: Sảnh", kind="kiosk"), now=elsewhere)
    db.session.commit()

    server.start()
    desk.context.set_offline(False)
    conflict = desk.locator("#conflicts li")
    expect(conflict).to_contain_text("Xung đột: khách 101 · ********2345 đã trả phòng trên máy chủ")
    assert desk.evaluate(DESK_QUEUED) == 1  # kept as a conflict until the clerk has seen it
    expect(desk.locator("#queue-status")).to_have_text("")
    db.session.expire_all()
    assert [e.kind for e in events(hotel.third)].count(EventKind.CHECK_OUT) == 1  # the server's, not the device's
    conflict.get_by_role("button").click()
    wait_until(desk, DESK_QUEUED, 0)
    assert not errors, errors


def test_the_kiosk_checks_the_staff_pin_on_the_device_while_the_server_is_away(
    browser: Browser,
    server: RestartableServer,  # noqa: F811
    hotel: Hotel,
) -> None:
    """Point 4: a check-out needs staff; with the server away the PIN is checked against the device's PBKDF2
    verifier, wrong PINs count towards the lockout, and the approval made on the device is accepted by the server."""
    page, errors = open_page(browser, server.url)
    pair_in_browser(page, hotel.pairing_code)
    expect(page.locator("body[data-parser=device]")).to_be_attached()  # the card parser has loaded
    server.stop()
    page.context.set_offline(True)
    page.get_by_role("button", name="Trả phòng").click()
    expect(page.locator("#step-scan")).to_be_visible()
    wedge_scan(page, "001185012345||Lê Thị Cúc|15061985|Nữ|Số 1 Hàng Đào, Hoàn Kiếm, Hà Nội|01022022")
    expect(page.locator("#step-confirm")).to_be_visible()
    page.get_by_role("button", name="Đúng, tiếp tục").click()
    page.get_by_label("Mã PIN").fill("0000")
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.locator("#pin-error")).to_contain_text("Mã PIN không đúng. Còn 4 lần thử.")
    page.get_by_label("Mã PIN").fill(PIN)
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.locator("#receipt-queued")).to_be_visible()
    assert page.evaluate("document.body.dataset.pinChecked") == "device"
    assert PIN not in stored_text(page)

    server.start()
    page.context.set_offline(False)
    wait_until_none_queued(page, timeout=30_000)
    stay = db.session.get(Stay, hotel.third)
    db.session.expire_all()
    assert stay is not None and stay.status == StayStatus.CHECKED_OUT
    page.context.close()
    assert not errors, errors


def test_the_offline_desk_passes_axe_offline_with_a_conflict_and_the_loud_warning(
    server: RestartableServer,  # noqa: F811
    hotel: Hotel,
    desk_page: tuple[Page, list[str]],
) -> None:
    """The site-wide test sees the page as served; here it is as the clerk sees it in an outage: from the copy,
    rows from the device, a waiting filing, a conflict, and the warning of a device offline too long."""
    from tests.browser.test_accessibility import check_page
    from tests.support.a11y import install_axe

    desk, errors = desk_page
    install_axe(desk.context)
    desk.evaluate(
        f"localStorage.setItem('asm-desk-contact-v1:' + {json.dumps(hotel.code)} + ':' + "
        "JSON.parse(document.getElementById('desk-config').textContent).user, String(Date.now() - 3600000))"
    )
    server.stop()
    desk.context.set_offline(True)
    desk.reload()
    expect(desk.locator("#offline-alert")).to_contain_text("CẢNH BÁO: máy đã mất kết nối máy chủ 60 phút")
    desk.get_by_label("Nội dung mã QR (quét hoặc dán)").fill(COMPANION)
    desk.get_by_role("button", name="Đọc mã").click()
    desk.locator("#offline-file").click()
    expect(desk.locator("#queue-status")).to_contain_text("Đang chờ gửi: 1 lượt")
    report: list[str] = []
    problems: list[str] = []
    check_page(desk, "offline desk (offline)", report, problems)
    assert not problems, "\n".join(problems)
    assert not errors, errors
