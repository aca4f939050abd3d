"""Foreign guests in a real headless Chromium (issue 12, done-when):

- a clerk checks in a family of a Vietnamese citizen (the card's QR, typed by a keyboard-wedge scanner) and a
  foreigner (the passport's MRZ, from a photo upload), sees the two deadlines, prints form NA17 (its text read
  back) and marks the declaration done;
- a passport reader typing the MRZ line by line into the same scan field;
- a kiosk guest does the same with the passport held to the fake camera (a Y4M video of a generated passport page)
  and the citizen's card through the wedge; the desk then prints NA17 and marks the declaration;
- the ward officer sees the foreigner in the foreigners' figures, and a late declaration in the compliance report.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from asm.accounts.models import Role
from asm.clock import VN_TZ, fmt_datetime, to_local, utcnow
from asm.common import Actor
from asm.extensions import db
from asm.foreigners.models import ForeignStay
from asm.idcard.reader import read_text
from asm.people.services import PersonInput
from asm.stays import services
from asm.stays.models import Stay
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV
from tests.browser.test_checkin_browser import fact, guest_blocks, log_in, scan_like_wedge
from tests.browser.test_kiosk_browser import (
    RestartableServer,
    open_page,
    pair_in_browser,
    wedge_scan,
    write_y4m,
)
from tests.conftest import CARD, Factory
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.foreign import MRZ, NAME, NUMBER, PASSPORT
from tests.support.kiosk import register_kiosk
from tests.support.mrzimages import mrz_photo, mrz_photo_bytes

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page
Browser = sync_api.Browser

pytestmark = pytest.mark.browser

CITIZEN = "Nguyễn Thị Hoa"
# The app's clock: early afternoon, far from the 23:00 cut-off whenever the test runs.
DESK_NOW = datetime(2026, 11, 20, 14, 5, tzinfo=VN_TZ)


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def print_na17_and_declare(page: Page, reference: str) -> str:
    """On the foreign guest's stay page: fetch form NA17 with the browser's session, then mark the declaration."""
    href = page.get_by_role("link", name=re.compile("In phiếu NA17")).get_attribute("href")
    assert href and href.endswith("/na17.pdf")
    answer = page.request.get(href)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.body())
    page.get_by_label(re.compile("Số tham chiếu")).fill(reference)
    page.get_by_role("button", name="Đã khai báo tạm trú").click()
    expect(page.locator("#flashes")).to_contain_text(reference)
    expect(page.locator(".declaration-ref")).to_have_text(reference)
    expect(page.locator("#foreign .declaration-state")).to_have_text("Khai báo tạm trú đúng hạn")
    return text


# --- the desk -------------------------------------------------------------------------------------------------


def test_a_clerk_checks_in_a_citizen_and_a_foreigner_prints_na17_and_declares(
    page: Page, app: Flask, factory: Factory, pin_clock: Callable[[datetime], None], tmp_path: Path
) -> None:
    pin_clock(DESK_NOW)
    est = factory.establishment(name="Khách sạn Phố Cổ")
    clerk = factory.user(Role.CLERK, establishment=est)
    log_in(page, clerk.username)
    page.get_by_role("link", name="Nhận khách").click()
    # Before any scan, the page says what a foreigner's deadline would be.
    expect(page.locator(".foreign-deadline")).to_contain_text("12 giờ sau khi đến")

    scan_like_wedge(page, CARD)
    expect(guest_blocks(page)).to_have_count(1)

    photo = tmp_path / "passport.jpg"
    photo.write_bytes(mrz_photo_bytes(PASSPORT, seed=3))
    page.locator('input[type="file"][name="image"]').set_input_files(str(photo))
    expect(guest_blocks(page)).to_have_count(2)
    visitor = guest_blocks(page).nth(1)
    expect(visitor.locator('input[name$="-full_name"]')).to_have_value(NAME)
    expect(visitor.locator('input[name$="-doc_number"]')).to_have_value(NUMBER)
    expect(visitor.locator('input[name$="-nationality"]')).to_have_value("FRA")
    expect(visitor.locator('select[name$="-doc_type"]')).to_have_value("passport")
    expect(visitor.locator('input[name$="-passport_expiry"]')).to_have_value("2031-01-01")
    expect(visitor.locator("details.foreign-fields")).to_have_attribute("open", "")
    visitor.locator('input[name$="-entry_port"]').fill("Sân bay Nội Bài")

    page.get_by_role("button", name="Khai báo lưu trú", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/co-so/{est.code}/luu-tru/\d+$"))
    expect(page.get_by_role("heading", name=re.compile(CITIZEN))).to_be_visible()

    # The two deadlines: the citizen's stay notification (23:00 today) and the foreigner's declaration (12 h).
    db.session.expire_all()
    stay_f = db.session.scalar(select(Stay).join(ForeignStay, ForeignStay.stay_id == Stay.id))
    assert stay_f is not None
    foreign_deadline = fmt_datetime(stay_f.foreign.deadline_at)  # type: ignore[attr-defined]
    assert stay_f.foreign.deadline_at == stay_f.arrived_at + timedelta(hours=12)  # type: ignore[attr-defined]
    expect(fact(page, "Hạn khai báo")).to_have_text("20/11/2026 23:00")
    members = page.locator("table.members tbody tr")
    expect(members).to_have_count(1)
    expect(members.locator("td.deadline-at")).to_have_text("20/11/2026 23:00")
    expect(members.locator("td.declaration-deadline")).to_have_text(foreign_deadline)
    expect(page.locator("#flashes")).to_contain_text("NA17")  # the entry date and purpose are still missing

    members.get_by_role("link", name=NAME).click()
    expect(page.locator("#foreign .declaration-deadline")).to_contain_text(foreign_deadline)
    expect(page.locator("#foreign .declaration-state")).to_contain_text("Chưa khai báo tạm trú")
    text = print_na17_and_declare(page, "XNC-HN-000123")
    assert "PHIẾU KHAI BÁO TẠM TRÚ CHO NGƯỜI NƯỚC NGOÀI" in text and NAME in text and NUMBER in text
    assert "Pháp (FRA)" in text and "Sân bay Nội Bài" in text and foreign_deadline in text

    # The history keeps the declaration with its reference; the day's list shows it declared.
    expect(page.locator("table.list tbody tr", has_text="Khai báo tạm trú (người nước ngoài)")).to_contain_text(
        "XNC-HN-000123"
    )
    page.get_by_role("link", name="Danh sách người nước ngoài trong ngày").click()
    row = page.locator("table.foreigners tbody tr", has_text=NAME)
    expect(row).to_contain_text("Khai báo tạm trú đúng hạn")
    expect(row).to_contain_text("XNC-HN-000123")


def test_a_passport_reader_types_the_mrz_line_by_line_into_the_scan_field(page: Page, factory: Factory) -> None:
    est = factory.establishment()
    clerk = factory.user(Role.CLERK, establishment=est)
    log_in(page, clerk.username)
    page.get_by_role("link", name="Nhận khách").click()
    field = page.locator("#scan-text")
    field.click()
    for line in PASSPORT.lines():  # a keyboard-wedge passport reader: Enter after each line
        page.keyboard.type(line)
        page.keyboard.press("Enter")
    expect(guest_blocks(page)).to_have_count(1)
    expect(guest_blocks(page).first.locator('input[name$="-doc_number"]')).to_have_value(NUMBER)
    expect(page.locator("#scan-result")).to_be_empty()


# --- the kiosk ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def passport_camera(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose fake camera shows a generated passport data page, held at an angle (a Y4M video)."""
    video = tmp_path_factory.mktemp("camera") / "passport.y4m"
    frame: Image.Image = mrz_photo(PASSPORT, size=(1280, 720), seed=7, angle=-5, blur=0.4, glare=0.2)
    write_y4m(video, frame, frames=4)
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    camera = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, env={**os.environ, **CHROMIUM_ENV})
    yield camera
    camera.close()


@pytest.fixture
def server(app: Flask) -> Iterator[RestartableServer]:
    app.config["SERVER_NAME"] = None
    db.session.commit()
    running = RestartableServer(app)
    running.start()
    yield running
    running.stop()


def test_a_kiosk_guest_checks_in_a_family_with_a_passport_held_to_the_camera(
    passport_camera: Browser, browser: Browser, server: RestartableServer, app: Flask, factory: Factory
) -> None:
    est = factory.establishment(name="Khách sạn Sen Vàng")
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    code = register_kiosk(owner, est.code, name="Sảnh", flows=("hotel_check_in",))
    page, errors = open_page(passport_camera, server.url)
    pair_in_browser(page, code)

    # The citizen's card through the kiosk's wedge scanner, on the start screen.
    wedge_scan(page, CARD)
    expect(page.locator("#people .person")).to_have_count(1)
    # Then the passport, held to the camera.
    page.get_by_role("button", name=re.compile("Thêm người đi cùng")).click()
    expect(page.locator("#people .person")).to_have_count(2, timeout=30_000)
    visitor = page.locator("#people .person").nth(1)
    expect(visitor.locator(".name")).to_have_text(NAME)
    expect(visitor.locator(".doc")).to_have_text("*****2345")
    expect(visitor).to_contain_text("FRA")
    assert NUMBER not in page.locator("main").inner_text()

    page.get_by_role("button", name="Đúng, tiếp tục").click()
    page.get_by_role("button", name="Gửi khai báo").click()
    expect(page.get_by_role("heading", name="Đã khai báo lưu trú")).to_be_visible()
    # The two deadlines on the receipt: the stay notification's and the foreigner's declaration.
    db.session.expire_all()
    stay_f = db.session.scalar(select(Stay).join(ForeignStay, ForeignStay.stay_id == Stay.id))
    assert stay_f is not None and stay_f.source == "kiosk"
    expect(page.locator("#receipt-deadline")).not_to_be_empty()
    declaration = page.locator("#receipt-people .person").nth(1).locator(".declaration")
    expect(declaration).to_contain_text("Khai báo tạm trú (người nước ngoài) trước")
    shown = to_local(stay_f.foreign.deadline_at)  # type: ignore[attr-defined]
    expect(declaration).to_contain_text(f"{shown:%H:%M}")
    page.context.close()
    assert not errors, f"JavaScript errors on the kiosk: {errors}"

    # At the desk: form NA17 for the kiosk's foreign guest, and the declaration marked.
    desk, desk_errors = open_page(browser, server.url)
    log_in(desk, factory.user(Role.CLERK, establishment=est).username)
    desk.goto(f"/co-so/{est.code}/luu-tru/{stay_f.id}")
    text = print_na17_and_declare(desk, "NA17-KIOSK-1")
    assert NAME in text and NUMBER in text
    desk.context.close()
    assert not desk_errors


# --- the police -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")
def test_the_ward_officer_sees_the_foreigner_and_a_late_declaration_in_the_report(
    page: Page, app: Flask, factory: Factory, tmp_path: Path
) -> None:
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")
    est = factory.establishment(name="Khách sạn Hồ Gươm", code="EST-HG", commune="00004")
    arrived = utcnow() - timedelta(hours=30)
    person = PersonInput.from_document(read_text(MRZ))
    data = services.CheckInInput(guests=[person], arrived_at=arrived, reason="Du lịch")
    [stay] = services.check_in(est, data, actor=Actor.system("test"), now=arrived).stays
    db.session.commit()
    # The establishment declares 30 hours after the arrival: late (12 hours).
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    from tests.conftest import csrf_token

    clerk.post(
        f"/co-so/{est.code}/nguoi-nuoc-ngoai/{stay.id}/khai-bao",
        data={"reference": "XNC-LATE-1", "csrf_token": csrf_token(clerk)},
    )
    officer = factory.user(Role.OFFICER, commune="00004")
    log_in(page, officer.username)
    page.goto("/cong-an/")
    foreigners = page.locator("section.foreigners")
    expect(foreigners.locator(".by-nationality")).to_contain_text("Pháp (FRA): 1")
    late = foreigners.locator(".figure", has_text="khai báo tạm trú trễ hạn")
    expect(late.locator(".n")).to_have_text("1")
    late.click()
    expect(page.locator("table.list tbody tr", has_text=NAME)).to_contain_text("Khai báo tạm trú trễ hạn")

    page.goto("/cong-an/bao-cao")
    page.get_by_label("Loại báo cáo").select_option("establishment")
    page.locator('select[name="establishment"]').select_option(est.code)
    page.get_by_role("button", name="Tạo báo cáo").click()
    download = page.get_by_role("link", name="Tải về")
    expect(download).to_be_visible(timeout=30_000)
    href = download.get_attribute("href")
    assert href
    answer = page.request.get(href)
    assert answer.status == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(answer.body())
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "Khai báo tạm trú cho người nước ngoài" in text
    assert "trễ hạn: 1" in text and "Luật 47/2014/QH13" in text
