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

from asm.clock import VN_TZ
from asm.demo.services import PASSWORD, load_demo
from asm.extensions import db
from tests.conftest import CARD

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = pytest.mark.browser

OUT = os.environ.get("ASM_SCREENSHOTS")
# A Friday night just past the 23:00 deadline: a draft left unfiled is overdue (the red banner), and a guest
# arriving now is due by 08:00 tomorrow.
DEMO_NOW = datetime(2026, 11, 20, 23, 15, tzinfo=VN_TZ)
LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}
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
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


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
) -> None:
    pin_clock(DEMO_NOW)
    counts = load_demo(now=DEMO_NOW)
    db.session.commit()
    assert counts["stays"] > 0

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
