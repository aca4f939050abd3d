"""The desk check-in path in a real headless Chromium: log in, scan, file, receipt, search, check out, history.

The scan field is driven the way a USB keyboard-wedge scanner drives it (keystrokes, then Enter), and a second
card is pasted from the clipboard. Everything goes through the real front end: htmx from node_modules, app.js.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from babel.support import Translations
from flask import Flask
from pypdf import PdfReader

from asm.accounts.models import Role
from asm.clock import VN_TZ, fmt_datetime
from asm.idcard import CardError, parse_qr_text
from asm.stays.rules import notification_deadline, parse_hhmm
from tests.conftest import CARD, PASSWORD, Factory

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page

pytestmark = pytest.mark.browser

# A second card: Hà Nội (001), male born 1990.
COMPANION = "001090012345||TRẦN VĂN NAM|15061990|Nam|Số 5 Hàng Bạc, Hoàn Kiếm, Hà Nội|01022022"
# What zbar returns for a share of real cards: "Nữ" read as Shift-JIS.
GARBLED = CARD.replace("Nữ", "N盻ｯ")
TRANSLATIONS = Path(__file__).resolve().parents[2] / "asm" / "translations"
DDMMYYYY_HHMM = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
# The app's clock for the check-in path: early afternoon, far from the 23:00 cut-off whenever the test runs.
DESK_NOW = datetime(2026, 11, 20, 14, 5, tzinfo=VN_TZ)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def scan_like_wedge(page: Page, text: str) -> None:
    """A keyboard-wedge scanner: one keystroke per character into the focused field, then Enter."""
    field = page.locator("#scan-text")
    field.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def paste_into_scan(page: Page, text: str) -> None:
    """Copy the text to the clipboard, then Ctrl+V into the scan field and Enter, as a clerk pasting would."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.locator("#scan-text").click()
    page.keyboard.press("ControlOrMeta+V")
    expect(page.locator("#scan-text")).to_have_value(text)
    page.keyboard.press("Enter")


def guest_blocks(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#guests fieldset.guest")


def fact(page: Page, label: str):  # type: ignore[no-untyped-def]
    """The value (dd) of a line of the stay page's fact list, by its label (dt)."""
    return page.locator(f'dl.facts dt:text-is("{label}") + dd')


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture
def desk(factory: Factory, app: Flask) -> tuple[str, str]:
    """A hotel with rooms 101, 102, 201 and its clerk: (establishment code, clerk username)."""
    est = factory.establishment(name="Khách sạn Sen Vàng")
    clerk = factory.user(Role.CLERK, establishment=est)
    return est.code, clerk.username


def test_check_in_scan_file_receipt_search_check_out(
    page: Page, desk: tuple[str, str], app: Flask, pin_clock: Callable[[datetime], None]
) -> None:
    pin_clock(DESK_NOW)
    code, username = desk
    log_in(page, username)
    # A clerk with one establishment lands on its in-house list.
    expect(page.get_by_role("heading", name=re.compile("Khách sạn Sen Vàng"))).to_be_visible()

    page.get_by_role("link", name="Nhận khách").click()
    expect(page.locator("#scan-text")).to_be_focused()

    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)
    head = guest_blocks(page).first
    expect(head.locator('input[name$="-full_name"]')).to_have_value("Nguyễn Thị Hoa")
    expect(head.locator('input[name$="-birth_date"]')).to_have_value("2003-03-21")
    expect(head.locator('input[name$="-doc_number"]')).to_have_value("034303011829")
    expect(head.locator('select[name$="-sex"]')).to_have_value("F")
    expect(head.get_by_text("Đã quét mã")).to_be_visible()
    # Ready for the next card: the field is emptied and keeps the cursor.
    expect(page.locator("#scan-text")).to_have_value("")
    expect(page.locator("#scan-text")).to_be_focused()

    paste_into_scan(page, COMPANION)
    expect(guest_blocks(page)).to_have_count(2)
    expect(guest_blocks(page).nth(1).locator('input[name$="-full_name"]')).to_have_value("Trần Văn Nam")

    page.get_by_label("Phòng").select_option(label="102")
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()

    # The stay page of the head of the group.
    expect(page).to_have_url(re.compile(rf"/co-so/{code}/luu-tru/\d+$"))
    expect(page.get_by_role("heading", name=re.compile("Nguyễn Thị Hoa"))).to_be_visible()
    expect(page.locator(".card h2 .badge.ok")).to_have_text("Khai báo đúng hạn")
    arrived = datetime.strptime(fact(page, "Đến").inner_text().strip(), "%d/%m/%Y %H:%M").replace(tzinfo=VN_TZ)
    deadline_text = fact(page, "Hạn khai báo").inner_text().strip()
    assert DDMMYYYY_HHMM.match(deadline_text), deadline_text
    expected_deadline = notification_deadline(
        arrived,
        evening_cutoff=parse_hhmm(app.config["NOTIFY_EVENING_CUTOFF"]),
        morning_deadline=parse_hhmm(app.config["NOTIFY_MORNING_DEADLINE"]),
    )
    assert deadline_text == fmt_datetime(expected_deadline) == "20/11/2026 23:00"
    expect(fact(page, "Phòng")).to_have_text("102")
    expect(fact(page, "Người đi cùng")).to_have_text("Trần Văn Nam")
    receipt_no = page.locator(".receipt-no").inner_text().strip()
    assert re.fullmatch(r"LT-[0-9A-Z-]+", receipt_no), receipt_no
    expect(page.locator("#flashes")).to_contain_text(receipt_no)

    # The receipt PDF, fetched with the browser's own session.
    href = page.get_by_role("link", name=re.compile("In biên nhận")).get_attribute("href")
    assert href
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    pdf_text = nfc("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages))
    assert "Nguyễn Thị Hoa" in pdf_text
    assert receipt_no in pdf_text

    # Back on the in-house list: both guests, the head in room 102.
    page.get_by_role("link", name="Đang lưu trú").click()
    rows = page.locator("#rows tr")
    hoa = rows.filter(has_text="Nguyễn Thị Hoa")
    expect(hoa).to_have_count(1)
    expect(hoa.locator("td.room")).to_have_text("102")
    expect(rows.filter(has_text="Trần Văn Nam")).to_have_count(1)

    # The live search (htmx, no page load) narrows the list, and clearing it brings everyone back.
    search = page.get_by_placeholder("Tìm tên, số giấy tờ, phòng…")
    page.evaluate("window.__same_page = true")
    search.press_sequentially("hoa", delay=30)
    expect(rows.filter(has_text="Trần Văn Nam")).to_have_count(0)
    expect(hoa).to_have_count(1)
    assert page.evaluate("window.__same_page") is True, "the search reloaded the page instead of swapping rows"
    search.fill("")
    expect(rows.filter(has_text="Trần Văn Nam")).to_have_count(1)

    # Check-out with one tap; the confirm dialog names the guest.
    dialogs: list[str] = []

    def accept(dialog):  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    hoa.get_by_role("button", name="Trả phòng").click()
    expect(page.locator("#flashes")).to_contain_text("Đã trả phòng: Nguyễn Thị Hoa")
    assert dialogs == ["Trả phòng cho Nguyễn Thị Hoa?"]
    expect(rows.filter(has_text="Nguyễn Thị Hoa")).to_have_count(0)
    expect(rows.filter(has_text="Trần Văn Nam")).to_have_count(1)

    page.get_by_role("link", name="Lịch sử").click()
    history = page.locator("table.list tbody tr")
    expect(history.filter(has_text="Nguyễn Thị Hoa").filter(has_text="Trả phòng")).to_have_count(1)
    expect(history.filter(has_text="Nguyễn Thị Hoa").filter(has_text=receipt_no)).to_have_count(1)


def test_check_out_dismissed_keeps_the_guest(page: Page, desk: tuple[str, str]) -> None:
    _code, username = desk
    log_in(page, username)
    page.get_by_role("link", name="Nhận khách").click()
    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)
    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page.locator(".receipt-no")).to_be_visible()
    page.get_by_role("link", name="Đang lưu trú").click()

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#rows tr", has_text="Nguyễn Thị Hoa").get_by_role("button", name="Trả phòng").click()
    # The dismissed confirm sent nothing: after a reload the guest is still in house.
    page.reload()
    expect(page.locator("#rows tr", has_text="Nguyễn Thị Hoa")).to_have_count(1)
    expect(page.locator("#flashes")).not_to_contain_text("Đã trả phòng")


def test_garbled_scan_shows_the_error_and_adds_no_guest(page: Page, desk: tuple[str, str]) -> None:
    _code, username = desk
    with pytest.raises(CardError) as rejected:
        parse_qr_text(GARBLED)
    log_in(page, username)
    page.get_by_role("link", name="Nhận khách").click()

    scan_like_wedge(page, GARBLED)
    error = page.locator("#scan-result .flash.error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Không đọc được mã")
    expect(error).to_contain_text(rejected.value.message("vi"))
    expect(error).to_have_attribute("data-code", "mojibake")
    expect(guest_blocks(page)).to_have_count(0)
    # The garbled text stays in the field so the clerk sees what was read.
    expect(page.locator("#scan-text")).to_have_value(GARBLED)

    # The next good scan clears the message and adds the guest.
    page.locator("#scan-text").fill("")
    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)
    expect(page.locator("#scan-result")).to_be_empty()


def english_catalogue() -> Translations | None:
    mo = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        return None
    return Translations.load(str(TRANSLATIONS), ["en"])


def test_english_switch(page: Page, desk: tuple[str, str]) -> None:
    catalogue = english_catalogue()
    if catalogue is None:
        pytest.skip("no English catalogue: asm/translations/en/LC_MESSAGES/messages.mo is missing (make translations)")
    labels = ["Đang lưu trú", "Nhận khách", "Lịch sử"]
    english = {vi: catalogue.gettext(vi) for vi in labels}
    untranslated = [vi for vi, en in english.items() if en == vi]
    if untranslated:
        pytest.skip(f"the English catalogue does not translate {untranslated}")
    _code, username = desk
    log_in(page, username)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    tabs = page.locator("nav.tabs")
    for vi, en in english.items():
        expect(tabs.get_by_text(en)).to_be_visible()
        expect(tabs.get_by_text(vi, exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Tiếng Việt")).to_be_visible()
