"""Every page of the site in a real headless Chromium at the four sizes of issue 17, checked by axe-core (WCAG 2.0 and
2.1 A/AA and axe's best practices) and by geometry (tests/support/a11y.py).

The pages come from the URL map (tests/support/site.py): a new page is checked without an edit here. One browser
and one login per user serve every page; each page is loaded once and checked at each size in turn (and by
geometry at 200 % zoom). The test prints the count of axe's findings per page and size, and fails on any serious
or critical finding and on any geometry problem, listing them all.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
from flask import Flask

from asm.accounts.models import Role
from asm.demo.services import PASSWORD
from tests.browser.test_checkin_browser import log_in
from tests.conftest import CARD, Factory
from tests.conftest import PASSWORD as PASSWORD_TEST
from tests.support import a11y
from tests.support.desk import client_as, htmx_headers, use_fast_password_hashes
from tests.support.kiosk import register_kiosk
from tests.support.police import PoliceWorld
from tests.support.site import DEMO_NOW, KIOSK_PIN, SitePage, SiteWorld, site_pages

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser

pytestmark = pytest.mark.browser


def open_as(browser: Browser, base_url: str, identity: str, world: SiteWorld) -> Page:
    """A browser of its own for one user, logged in through the login page (the kiosk: paired on its page)."""
    context = browser.new_context(base_url=base_url, viewport=a11y.SIZES["kiosk"], locale="vi-VN")
    context.set_default_timeout(15_000)
    a11y.install_axe(context)
    page = context.new_page()
    if identity == "kiosk":
        page.goto("/kiosk/ghep-noi")
        page.get_by_label("Mã ghép nối").fill(world.pairing_code())
        page.get_by_role("button", name="Ghép nối").click()
        page.wait_for_url("**/kiosk/")
    elif identity != "anonymous":
        page.goto("/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(identity)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    return page


SHOTS = os.environ.get("ASM_A11Y_SHOTS")  # a folder: a screenshot of every page at every size, to look at


def check_page(page: Page, label: str, report: list[str], problems: list[str], *, kiosk: bool = False) -> None:
    """axe at the four sizes and geometry at each (and at 200 % zoom), gathered into `report` and `problems`."""
    sizes = {**a11y.SIZES, "zoom-200%": a11y.ZOOM_200}
    for size, viewport in sizes.items():
        page.set_viewport_size(viewport)
        if SHOTS:
            name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")[:80]
            page.screenshot(path=str(Path(SHOTS) / f"{name}-{size}.png"), full_page=True)
        if size in a11y.SIZES:
            found = a11y.axe(page)
            report.append(f"{label} @ {size}: {a11y.summary(found)}")
            problems.extend(f"{label} @ {size}: {v}" for v in a11y.blocking(found))
        target = a11y.KIOSK_MIN_TARGET if kiosk else a11y.MIN_TARGET
        problems.extend(f"{label} @ {size}: {p}" for p in a11y.layout(page, min_target=target))
    page.set_viewport_size(a11y.SIZES["kiosk"])


@pytest.mark.timeout(900)
def test_every_page_at_every_size(
    app: Flask,
    browser: Browser,
    live_server: str,
    pin_clock: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_fast_password_hashes(monkeypatch)
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")
    pin_clock(DEMO_NOW)
    world = SiteWorld(app)
    world.police_extras()
    pages = [p for p in site_pages(app, world) if p.kind == "page"]
    by_identity: dict[str, list[SitePage]] = defaultdict(list)
    for p in pages:
        by_identity[p.identity].append(p)

    report: list[str] = []
    problems: list[str] = []
    for identity, own in by_identity.items():
        page = open_as(browser, live_server, identity, world)
        for site_page in own:
            response = page.goto(site_page.url)
            assert response is not None and response.status == 200, (site_page.url, response and response.status)
            check_page(page, f"{site_page.url} ({identity})", report, problems, kiosk=identity == "kiosk")
        page.context.close()

    print(f"\naxe-core on {len(pages)} pages:\n  " + "\n  ".join(report))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# --- the kiosk: every step inside the screen, at every size ----------------------------------------------------------


def kiosk_steps(page: Page) -> Iterator[str]:
    """Walk the kiosk from its first screen to a receipt; yields each step's name while it is on screen."""
    expect(page.get_by_role("heading", name="Xin chào! Bạn cần làm gì?")).to_be_visible()
    yield "start"
    page.get_by_role("button", name="Nhận phòng").click()
    expect(page.locator("#step-scan")).to_be_visible()
    expect(page.locator("#camera-status")).not_to_be_empty()
    yield "scan"
    page.get_by_role("button", name="Nhập tay").click()
    expect(page.locator("#step-manual")).to_be_visible()
    yield "manual"
    page.get_by_role("button", name="Tiếp tục").click()  # nothing typed: the message says what is missing
    expect(page.locator("#manual-error")).to_be_visible()
    yield "manual-refused"
    page.get_by_role("button", name="Quay lại").click()
    page.keyboard.type(CARD)  # a USB scanner in keyboard mode
    page.keyboard.press("Enter")
    expect(page.locator("#step-confirm")).to_be_visible()
    yield "confirm"
    page.get_by_role("button", name="Đúng, tiếp tục").click()
    expect(page.locator("#step-details")).to_be_visible()
    yield "details"
    page.get_by_role("button", name="Nhân viên chọn phòng").click()
    expect(page.locator("#step-pin")).to_be_visible()
    yield "pin"
    page.locator("#pin").fill(KIOSK_PIN)
    page.get_by_role("button", name="Xác nhận").click()
    page.get_by_label("Phòng").select_option(index=1)
    page.get_by_role("button", name="Gửi khai báo").click()
    expect(page.get_by_role("heading", name="Đã khai báo lưu trú")).to_be_visible()
    yield "receipt"


@pytest.mark.timeout(300)
def test_every_kiosk_screen_fits_and_passes_axe(
    app: Flask, factory: Factory, browser: Browser, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step of the kiosk at the four sizes: axe finds nothing serious, and every control is on the screen with
    no scrolling (issue 17: "Nhập tay" and "Huỷ" were below the fold at 1024x768, "In phiếu" and "Xong" cut at
    1280x800), at least 54 px, its text whole; the receipt's time reads dd/mm/yyyy HH:MM."""
    use_fast_password_hashes(monkeypatch)
    est = factory.establishment(name="Khách sạn Sen Vàng")
    owner = factory.user(Role.OWNER, establishment=est)
    code = register_kiosk(client_as(app, owner), est.code, pin=KIOSK_PIN)
    context = browser.new_context(base_url=live_server, viewport=a11y.SIZES["kiosk"], locale="vi-VN")
    context.set_default_timeout(15_000)
    a11y.install_axe(context)
    page = context.new_page()
    page.goto("/kiosk/ghep-noi")
    page.get_by_label("Mã ghép nối").fill(code)
    page.get_by_role("button", name="Ghép nối").click()
    expect(page.locator("body[data-ready]")).to_be_attached()

    report: list[str] = []
    problems: list[str] = []
    for step in kiosk_steps(page):
        for size, viewport in a11y.SIZES.items():
            page.set_viewport_size(viewport)
            if SHOTS:
                page.screenshot(path=str(Path(SHOTS) / f"kiosk-{step}-{size}.png"), full_page=True)
            found = a11y.axe(page)
            report.append(f"kiosk {step} @ {size}: {a11y.summary(found)}")
            problems.extend(f"kiosk {step} @ {size}: {v}" for v in a11y.blocking(found))
            # A kiosk's screen is landscape and never scrolls; a phone (portrait) may.
            layout = a11y.layout(page, min_target=a11y.KIOSK_MIN_TARGET, whole_screen=size != "phone")
            problems.extend(f"kiosk {step} @ {size}: {p}" for p in layout)
        page.set_viewport_size(a11y.SIZES["kiosk"])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.locator("#receipt-time").inner_text())
    assert page.locator("#receipt-people .facts").inner_text().strip() == "********1829"  # no stray " · "
    context.close()
    print("\naxe-core on the kiosk:\n  " + "\n  ".join(report))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# --- errors where the eye is, and the duplicate card at the scan -------------------------------------------------


def test_a_refused_check_in_shows_a_summary_linked_to_each_field(
    app: Flask, factory: Factory, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk files a group whose second guest has no birth date and no reason: the page comes back with a summary
    at the top, focused and announced (role=alert), whose links lead to the fields; the same card scanned twice is
    refused at the scan, beside the scan field, before it reaches the list."""
    use_fast_password_hashes(monkeypatch)
    est = factory.establishment()
    clerk = factory.user(Role.CLERK, establishment=est)
    a11y.install_axe(page.context)
    log_in(page, clerk.username)
    page.goto(f"/co-so/{est.code}/nhan-phong")
    scan = page.locator("#scan-text")
    scan.fill(CARD)
    scan.press("Enter")
    expect(page.locator("#guests fieldset.guest")).to_have_count(1)
    scan.fill(CARD)  # the same card again
    scan.press("Enter")
    expect(page.locator("#scan-result [role=alert]")).to_contain_text("Thẻ này đã được quét: người thứ 1")
    expect(page.locator("#guests fieldset.guest")).to_have_count(1)

    page.get_by_role("button", name="Nhập tay").click()
    expect(page.locator("#guests fieldset.guest")).to_have_count(2)
    second = page.locator("#guests fieldset.guest").nth(1)
    second.get_by_label("Số giấy tờ").fill("001085012345")
    second.get_by_label("Họ và tên").fill("Trần Văn Nam")
    page.get_by_label("Lý do lưu trú").fill("")
    page.evaluate("document.getElementById('checkin-form').noValidate = true")  # as a browser without checks
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    links = summary.locator("a")
    assert links.count() >= 2
    for n in range(links.count()):
        target = links.nth(n).get_attribute("href")
        assert target and page.locator(target).count() == 1, target  # every link leads to a field on the page
    summary.get_by_role("link", name="Cần nhập lý do lưu trú.").click()
    expect(page.locator("#reason")).to_be_focused()
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    # Above the fold: the summary starts within the first screen of a phone.
    page.set_viewport_size(a11y.SIZES["phone"])
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#error-summary").bounding_box()["y"] < a11y.SIZES["phone"]["height"] / 2
    problems = [str(v) for v in a11y.blocking(a11y.axe(page))]
    assert not problems, problems


def test_the_server_refuses_the_same_card_twice_at_the_scan(app: Flask, factory: Factory) -> None:
    """The scan endpoint (the fallback when the device cannot parse) gets the list with the card and refuses it."""
    est = factory.establishment()
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    headers = htmx_headers(clerk)
    first = clerk.post(f"/co-so/{est.code}/quet", data={"text": CARD}, headers=headers)
    assert first.status_code == 200 and "fieldset" in first.get_data(as_text=True)
    listed = {"text": CARD, "guests-abcd-doc_number": "034303011829"}
    again = clerk.post(f"/co-so/{est.code}/quet", data=listed, headers=headers)
    assert again.status_code == 422 and again.headers["HX-Retarget"] == "#scan-result"
    body = again.get_data(as_text=True)
    assert "Thẻ này đã được quét: người thứ 1 trong danh sách." in body and "<fieldset" not in body


# --- the police's charts and the phone's header -----------------------------------------------------------------


# The smallest axis text of each chart, in CSS px as drawn: its font size times the drawing's scale.
AXIS_TEXT = """() => [...document.querySelectorAll("figure.chart svg")].map((svg) => {
  const scale = svg.getScreenCTM().a;
  const sizes = [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
  return Math.min(...sizes);
})"""


def test_the_charts_axis_text_is_readable_and_has_a_table(app: Flask, factory: Factory, page: Page) -> None:
    """Issue 17: the dashboard's axis labels were about 7 px. At every size they are at least 12 px, and the figures
    are also a table (a screen reader reads it; the drawing is hidden from it)."""
    world = PoliceWorld(app, factory)
    log_in(page, world.user("officer_a").username)
    page.goto("/cong-an/")
    assert len(page.evaluate(AXIS_TEXT)) == 2
    for size, viewport in {**a11y.SIZES, "narrow": {"width": 800, "height": 600}}.items():
        page.set_viewport_size(viewport)
        smallest = min(page.evaluate(AXIS_TEXT))
        assert smallest >= 12, (size, smallest)
    assert page.locator("figure.chart svg[aria-hidden=true]").count() == 2
    table = page.locator("figure.chart").first.locator("details table")
    assert table.locator("tbody tr").count() == 30  # a row per day


def test_a_phone_shows_content_soon_after_the_top(app: Flask, factory: Factory, page: Page) -> None:
    """Issue 17: on a 390x844 phone the header and tabs took 150 px (more for a hospital) before any content. The
    header is one line whose menu folds behind a button, the establishment's heading one line, the tabs five to
    a row."""
    world = PoliceWorld(app, factory)
    clerk = world.user("clerk_a")
    page.set_viewport_size(a11y.SIZES["phone"])
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(clerk.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD_TEST)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/co-so/EST-A/")
    header = page.locator("header.topbar").bounding_box()
    tabs = page.locator("nav.tabs").bounding_box()
    assert header["height"] <= 50, header
    assert tabs["y"] + tabs["height"] <= 150, tabs
    # The folded menu opens with its button and holds the account's links.
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    problems = a11y.layout(page)
    assert not problems, problems


# --- the pages in the middle of a login --------------------------------------------------------------------------


def test_login_journey_pages(app: Flask, factory: Factory, page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second-factor pages are reached only in a login (tests/support/site.py JOURNEYS): enrolment when the role
    requires it, then the code of a user who has it; both pass axe at the four sizes."""
    use_fast_password_hashes(monkeypatch)
    a11y.install_axe(page.context)
    officer = factory.user(Role.OFFICER, commune="00004")
    app.config["REQUIRE_2FA_ROLES"] = "officer"
    problems: list[str] = []
    report: list[str] = []
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(officer.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD_TEST)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dang-nhap/dang-ky-xac-thuc")
    check_page(page, "enrol at login", report, problems)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Mã xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bật").click()
    page.get_by_role("link", name="Tôi đã lưu các mã, tiếp tục").click()
    page.get_by_role("button", name="Đăng xuất").click()
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(officer.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD_TEST)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dang-nhap/ma-xac-thuc")
    page.get_by_label("Mã xác thực").fill("000000")
    page.get_by_role("button", name="Xác nhận").click()  # a wrong code: the page comes back with its message
    expect(page.locator("#error-summary")).to_be_visible()
    check_page(page, "second factor, refused", report, problems)
    print("\n  " + "\n  ".join(report))
    assert not problems, problems
