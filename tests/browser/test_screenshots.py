"""Screenshots for the README, taken from the demo data in headless Chromium.

Runs only when ASM_SCREENSHOTS names the output folder, e.g.::

    ASM_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/browser/test_screenshots.py

The demo world is loaded with a fixed `now`, and the app's clock is pinned to that moment (ticking on from
it), so the pictures show the same day, banners and deadlines whenever they are made.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from asm.demo.services import PASSWORD
from tests.conftest import CARD
from tests.support.desk import use_fast_password_hashes
from tests.support.site import DEMO_NOW, HOSPITAL, SiteWorld

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

OUT = os.environ.get("ASM_SCREENSHOTS")
# DEMO_NOW: a Friday night just past the 23:00 deadline: a draft left unfiled is overdue (the red banner), and a
# guest arriving now is due by 08:00 tomorrow.
LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}
PHONE = {"width": 390, "height": 844}
MAX_BYTES = 200_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# What a tablet has and a bare Debian does not: colour emoji (📷 🖨 ⏰) and Chromium's Vietnamese locale.
NEEDED = {
    "fonts-noto-color-emoji": Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    "chromium-l10n": Path("/usr/lib/chromium/locales/vi.pak"),
}


@pytest.fixture
def out_dir() -> Path:
    if not OUT:
        pytest.skip("set ASM_SCREENSHOTS=DIR to write the README screenshots")
    missing = [package for package, path in NEEDED.items() if not path.exists()]
    if missing:
        pytest.fail(f"screenshots would show boxes or US dates: apt-get install {' '.join(missing)}")
    path = Path(OUT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(page: sync_api.Page, out: Path, name: str) -> None:
    page.mouse.move(0, 0)  # no hover effects
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring, no caret
    path = out / name
    page.screenshot(path=str(path), type="png", animations="disabled", caret="hide")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) < MAX_BYTES, f"{name} is {len(data)} bytes"


def log_in(page: sync_api.Page, username: str) -> None:
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/dang-nhap" not in url)  # on a phone the logout button is in the folded menu


def scan(page: sync_api.Page, text: str) -> None:
    page.locator("#scan-text").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.locator("#guests fieldset.guest")).to_have_count(1)


def test_readme_screenshots(
    out_dir: Path,
    app: Flask,
    browser: sync_api.Browser,
    live_server: str,
    pin_clock: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_fast_password_hashes(monkeypatch)
    pin_clock(DEMO_NOW)
    world = SiteWorld(app)  # the demo world (asm/demo) at DEMO_NOW

    def new_page(viewport: dict[str, int]) -> sync_api.Page:
        context = browser.new_context(base_url=live_server, viewport=viewport, locale="vi-VN")
        context.set_default_timeout(10_000)
        return context.new_page()

    page = new_page(LANDSCAPE)
    page.goto("/dang-nhap")
    shoot(page, out_dir, "login.png")

    log_in(page, "letan.hoanggia")
    expect(page.get_by_role("heading", name=re.compile("Khách sạn Hoàng Gia"))).to_be_visible()
    expect(page.locator(".banner").first).to_be_visible()
    shoot(page, out_dir, "in-house.png")

    page.get_by_role("link", name="Nhận khách").click()
    scan(page, CARD)
    page.locator("#guests").scroll_into_view_if_needed()
    shoot(page, out_dir, "check-in.png")

    page.get_by_label("Phòng").select_option(index=1)
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page.locator(".receipt-no")).to_have_text(re.compile(r"^LT-"))
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, out_dir, "stay-receipt.png")
    page.context.close()

    police = new_page(LANDSCAPE)
    log_in(police, "ca.hoankiem")
    expect(police.get_by_role("link", name="Khách sạn Hoàng Gia")).to_be_visible()
    shoot(police, out_dir, "police-establishments.png")
    # The same officer opens one establishment: its in-house list, read only.
    police.get_by_role("link", name="Khách sạn Hoàng Gia").click()
    expect(police.locator("#rows tr").first).to_be_visible()
    expect(police.get_by_role("link", name="Nhận khách")).to_have_count(0)
    expect(police.get_by_role("button", name="Trả phòng")).to_have_count(0)
    shoot(police, out_dir, "police-in-house.png")
    police.context.close()

    portrait = new_page(PORTRAIT)
    log_in(portrait, "letan.hoanggia")
    portrait.get_by_role("link", name="Nhận khách").click()
    scan(portrait, CARD)
    shoot(portrait, out_dir, "check-in-portrait.png")
    portrait.context.close()

    phone = new_page(PHONE)
    log_in(phone, "letan.hoanggia")
    shoot(phone, out_dir, "phone-in-house.png")
    phone.context.close()

    # The hospital's clerk lands on the hospital's pages: its wards, a ward's bed board, a patient moved to another
    # bed (the history in the hospital's words).
    hospital = new_page(LANDSCAPE)
    log_in(hospital, "letan.benhvien")
    hospital.wait_for_url(f"**/benh-vien/{HOSPITAL}/")
    hospital.get_by_role("link", name="Khoa K1").first.click()
    expect(hospital.locator("#board .bed").first).to_be_visible()
    shoot(hospital, out_dir, "hospital-board.png")
    hospital.goto(f"/benh-vien/{HOSPITAL}/benh-nhan/{world.moved_patient.id}")
    hospital.locator("#bed-history").scroll_into_view_if_needed()
    shoot(hospital, out_dir, "hospital-patient.png")
    hospital.context.close()

    police = new_page(LANDSCAPE)
    log_in(police, "ca.hoankiem")
    expect(police.locator("figure.chart").first).to_be_visible()
    police.locator("section.charts").scroll_into_view_if_needed()  # the charts, readable, with their tables
    shoot(police, out_dir, "police-dashboard.png")
    police.context.close()

    kiosk = new_page(LANDSCAPE)
    kiosk.goto("/kiosk/ghep-noi")
    kiosk.get_by_label("Mã ghép nối").fill(world.pairing_code())
    kiosk.get_by_role("button", name="Ghép nối").click()
    expect(kiosk.get_by_role("heading", name="Xin chào! Bạn cần làm gì?")).to_be_visible()
    kiosk.get_by_role("button", name="Nhận phòng").click()
    kiosk.keyboard.type(CARD)  # a USB scanner in keyboard mode
    kiosk.keyboard.press("Enter")
    expect(kiosk.get_by_role("heading", name="Kiểm tra thông tin")).to_be_visible()
    shoot(kiosk, out_dir, "kiosk-confirm.png")
    kiosk.context.close()
