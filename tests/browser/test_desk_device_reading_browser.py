"""The desk's check-in page reads cards on the device (asm/static/checkin.js, docs/OFFLINE.md), in a real headless
Chromium: a scanned and a pasted card, a garbled scan and the tablet's camera, each shown at once with the server's
decode and parse endpoints (/quet, /quet-anh) unreachable; and the server still re-checks what the page sends."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from asm.accounts.models import Role
from asm.extensions import db
from asm.idcard import CardError, parse_qr_text
from asm.stays.models import Stay
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV, TABLET_LANDSCAPE, TIMEOUT_MS
from tests.browser.test_checkin_browser import (
    COMPANION,
    GARBLED,
    guest_blocks,
    log_in,
    paste_into_scan,
    scan_like_wedge,
)
from tests.conftest import CARD, Factory
from tests.support.camera import card_frame, fake_camera_args, write_y4m

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser
Route = sync_api.Route

pytestmark = pytest.mark.browser

# The server's own readers: the device must not need them.
SERVER_READERS = re.compile(r"/co-so/[^/]+/quet(-anh)?$")


@pytest.fixture
def desk(factory: Factory) -> tuple[str, str]:
    est = factory.establishment(name="Khách sạn Sen Vàng")
    return est.code, factory.user(Role.CLERK, establishment=est).username


def cut_off_server_readers(page: Page) -> list[str]:
    """Every request to /quet and /quet-anh fails as if the server were away; returns the list of those tried."""
    tried: list[str] = []

    def refuse(route: Route) -> None:
        tried.append(route.request.url)
        route.abort()

    page.route(SERVER_READERS, refuse)
    return tried


def open_check_in(page: Page, username: str) -> None:
    log_in(page, username)
    page.get_by_role("link", name="Nhận khách").click()
    expect(page.locator("body[data-parser=device]")).to_be_attached()


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def test_scanned_and_pasted_cards_fill_the_form_without_the_servers_reader(page: Page, desk: tuple[str, str]) -> None:
    _code, username = desk
    tried = cut_off_server_readers(page)
    open_check_in(page, username)

    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)
    head = guest_blocks(page).first
    expect(head.locator('input[name$="-full_name"]')).to_have_value("Nguyễn Thị Hoa")
    expect(head.locator('input[name$="-birth_date"]')).to_have_value("2003-03-21")
    expect(head.locator('input[name$="-doc_number"]')).to_have_value("034303011829")
    expect(head.locator('select[name$="-sex"]')).to_have_value("F")
    expect(head.locator('input[name$="-address"]')).to_have_value("Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình")
    expect(head.locator('input[name$="-id_issue_date"]')).to_have_value("2021-08-14")
    expect(head.get_by_text("Đã quét mã")).to_be_visible()
    expect(page.locator("#scan-text")).to_have_value("")
    expect(page.locator("#scan-text")).to_be_focused()

    paste_into_scan(page, COMPANION)
    expect(guest_blocks(page)).to_have_count(2)
    expect(guest_blocks(page).nth(1).locator('input[name$="-full_name"]')).to_have_value("Trần Văn Nam")
    names = guest_blocks(page).evaluate_all("blocks => blocks.map(b => b.id)")
    assert len(set(names)) == 2 and "guest-keytemplate" not in names  # each block has its own key

    # The garbled scan is refused by the device's parser with the server's code and message.
    with pytest.raises(CardError) as refused:
        parse_qr_text(GARBLED)
    scan_like_wedge(page, GARBLED)
    error = page.locator("#scan-result .flash.error")
    expect(error).to_have_attribute("data-code", "mojibake")
    expect(error).to_contain_text("Không đọc được mã: " + refused.value.message("vi"))
    expect(guest_blocks(page)).to_have_count(2)
    expect(page.locator("#scan-text")).to_have_value(GARBLED)

    metrics = page.evaluate("window.deskMetrics")
    assert [(m["source"], m["path"]) for m in metrics] == [("scan", "device"), ("scan", "device")]
    print(f"\ndesk scan-to-filled-block (device): {[m['ms'] for m in metrics]} ms")
    assert tried  # the page did ask (for the returning-guest badge), and got nothing: the blocks came from the device

    # Filing goes to the server as always.
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page.locator(".receipt-no")).to_be_visible()
    assert sorted(s.person.full_name for s in stays()) == ["Nguyễn Thị Hoa", "Trần Văn Nam"]


def test_the_server_rechecks_what_the_device_filled_in(page: Page, desk: tuple[str, str]) -> None:
    """The page's fields are the browser's word: a block altered after the scan is refused by the server."""
    _code, username = desk
    open_check_in(page, username)
    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)
    guest_blocks(page).first.locator('input[name$="-birth_date"]').fill("2004-03-21")  # digits 5-6 say 2003
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page.locator("fieldset.guest.has-errors")).to_contain_text("Chữ số thứ 5–6 của số định danh (03)")
    assert stays() == []


def test_a_returning_guest_still_gets_the_badge_when_the_server_answers(page: Page, desk: tuple[str, str]) -> None:
    _code, username = desk
    open_check_in(page, username)
    scan_like_wedge(page, CARD)
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page.locator(".receipt-no")).to_be_visible()
    page.get_by_role("link", name="Đang lưu trú").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#rows tr", has_text="Nguyễn Thị Hoa").get_by_role("button", name="Trả phòng").click()
    expect(page.locator("#flashes")).to_contain_text("Đã trả phòng")

    page.get_by_role("link", name="Nhận khách").click()
    scan_like_wedge(page, CARD)
    expect(guest_blocks(page).first.get_by_text("Khách quen")).to_be_visible()


@pytest.fixture(scope="module")
def desk_camera_browser(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose camera shows the card at 1280×720, as a tablet's rear camera does."""
    video: Path = tmp_path_factory.mktemp("desk-camera") / "card.y4m"
    write_y4m(video, card_frame(CARD, (1280, 720), scale=8))
    args = [*CHROMIUM_ARGS, *fake_camera_args(video)]
    camera = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, env={**os.environ, **CHROMIUM_ENV})
    yield camera
    camera.close()


def test_the_desk_camera_reads_a_card_on_the_device(
    desk_camera_browser: Browser, live_server: str, desk: tuple[str, str]
) -> None:
    _code, username = desk
    context = desk_camera_browser.new_context(base_url=live_server, viewport=TABLET_LANDSCAPE, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    cut_off_server_readers(page)
    open_check_in(page, username)
    expect(page.locator("body[data-reader=device]")).to_be_attached()
    page.get_by_role("button", name="Quét bằng camera").click()
    expect(guest_blocks(page)).to_have_count(1)
    expect(guest_blocks(page).first.locator('input[name$="-full_name"]')).to_have_value("Nguyễn Thị Hoa")
    expect(page.locator("#desk-camera")).to_be_hidden()  # the camera stops at the first card read
    ((source, path, ms),) = page.evaluate("window.deskMetrics.map(m => [m.source, m.path, m.ms])")
    assert (source, path) == ("camera", "device")
    print(f"\ndesk camera 1280x720 scan-to-filled-block (device): {ms} ms")
    context.close()
    assert not errors, errors
