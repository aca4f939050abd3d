"""The inpatient clerk's path in a real headless Chromium: admit by scanning, bed, two carers, a third refused,
transfer to another ward, discharge; a second tab keeps the bed board open and sees each change without reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select

from asm.accounts.models import Role
from asm.clock import VN_TZ, fmt_datetime
from asm.extensions import db
from asm.stays.models import EventKind, Stay, StayStatus
from asm.stays.rules import notification_deadline, parse_hhmm
from tests.conftest import Factory
from tests.support.hospital import CARER_CARDS, PATIENT_CARD, make_hospital

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page

pytestmark = pytest.mark.browser

WARD_NOW = datetime(2026, 11, 20, 14, 5, tzinfo=VN_TZ)  # early afternoon: the deadline is 23:00 the same day
POLL_MS = 15_000  # the board polls every 5 s


def log_in(page: Page, username: str) -> None:
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("secret-pass-1")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def scan(page: Page, field: str, text: str) -> None:
    """A keyboard-wedge scanner: keystrokes into the field, then Enter."""
    page.locator(field).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def cell(board: Page, bed: str):  # type: ignore[no-untyped-def]
    return board.locator(f'li.bed[data-bed="{bed}"]')


def register_carer(page: Page, card: str, relation: str) -> None:
    scan(page, "#carer-scan", card)
    expect(page.locator("#carer-guests fieldset.guest")).to_have_count(1)
    page.locator("#carer-form input[name=relation]").fill(relation)
    page.get_by_role("button", name="Đăng ký người chăm sóc").click()


@pytest.fixture
def ward_clerk(factory: Factory, app: Flask):  # type: ignore[no-untyped-def]
    hospital = make_hospital(factory, code="BV-SEN", name="Bệnh viện Sen")
    clerk = factory.user(Role.CLERK, establishment=hospital.est)
    return hospital, clerk.username


def test_admit_carers_transfer_discharge_with_a_live_bed_board(
    page: Page,
    ward_clerk,
    app: Flask,
    pin_clock: Callable[[datetime], None],  # type: ignore[no-untyped-def]
) -> None:
    pin_clock(WARD_NOW)
    hospital, username = ward_clerk
    page.on("dialog", lambda dialog: dialog.accept())  # "Cho … ra viện?" confirmations
    log_in(page, username)
    # A hospital's clerk lands on the hospital's pages (issue 17), not on the hotel's in-house list.
    expect(page).to_have_url(re.compile(rf"/benh-vien/{hospital.est.code}/$"))
    expect(page.get_by_role("heading", name="Các khoa")).to_be_visible()

    # The bed board of K1 stays open in a second tab the whole time.
    board = page.context.new_page()
    board.goto(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}")
    expect(cell(board, "K1-101-1")).to_have_attribute("data-state", "free")

    # Admission by scanning the patient's card.
    page.get_by_role("link", name="Nhập viện").click()
    scan(page, "#scan-text", PATIENT_CARD)
    expect(page.locator("#guests fieldset.guest input[name$='-full_name']")).to_have_value("Trần Văn Nam")
    page.locator("#admit-form select[name=bed_id]").select_option(label="K1-101-1 (P101)")
    page.get_by_role("button", name="Nhập viện và khai báo lưu trú").click()
    expect(page).to_have_url(re.compile(rf"/benh-vien/{hospital.est.code}/benh-nhan/\d+$"))
    expect(page.locator("#patient .badge.ok")).to_have_text("Khai báo đúng hạn")
    expect(page.locator("#patient dd.deadline-at")).to_have_text("20/11/2026 23:00")
    expect(page.locator("#patient dd.bed-now")).to_contain_text("K1-101-1")
    expect(cell(board, "K1-101-1")).to_have_attribute("data-state", "occupied", timeout=POLL_MS)
    expect(cell(board, "K1-101-1").locator(".initials")).to_have_text("T.V.N.")
    expect(cell(board, "K1-101-1").locator(".carers")).to_have_text("👥 0")
    expect(cell(board, "K1-101-1").locator(".days")).to_have_text("0 ngày")

    # Two carers, then a third refused with a clear message.
    register_carer(page, CARER_CARDS[0], "Vợ")
    expect(page.locator("#flashes")).to_contain_text("Đã đăng ký người chăm sóc Nguyễn Thị Hoa")
    register_carer(page, CARER_CARDS[1], "Con")
    expect(page.locator("#carers tbody tr.open")).to_have_count(2)
    expect(cell(board, "K1-101-1").locator(".carers")).to_have_text("👥 2", timeout=POLL_MS)
    register_carer(page, CARER_CARDS[2], "Con")
    refusal = page.locator("#error-summary[role=alert]")  # at the top, linked to the form (issue 17)
    expect(refusal).to_contain_text("Người bệnh Trần Văn Nam đã có đủ 2 người chăm sóc")
    expect(page.locator("#carers tbody tr.open")).to_have_count(2)

    # Transfer to another ward.
    page.locator("#move select[name=bed_id]").select_option(label="K2-201-2 (P201)")
    page.get_by_role("button", name="Chuyển", exact=True).click()
    expect(page.locator("#flashes")).to_contain_text("K2 · P201 · K2-201-2")
    expect(cell(board, "K1-101-1")).to_have_attribute("data-state", "cleaning", timeout=POLL_MS)
    expect(cell(board, "K1-101-1").locator(".initials")).to_have_count(0)
    board.goto(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k2.id}")
    expect(cell(board, "K2-201-2")).to_have_attribute("data-state", "occupied")
    expect(cell(board, "K2-201-2").locator(".carers")).to_have_text("👥 2")

    # Discharge: the patient and both carers leave.
    page.get_by_role("button", name="Ra viện").click()
    expect(page.locator("#flashes")).to_contain_text("Đã cho ra viện: Trần Văn Nam, Nguyễn Thị Hoa, Trần Thị Lan")
    expect(cell(board, "K2-201-2")).to_have_attribute("data-state", "cleaning", timeout=POLL_MS)
    board.close()

    # Each stay was notified with the legal deadline of its arrival, and the history holds every step.
    db.session.expire_all()
    stays = db.session.scalars(select(Stay).order_by(Stay.id)).all()
    assert [s.role for s in stays] == ["patient", "carer", "carer"]
    for stay in stays:
        deadline = notification_deadline(
            stay.arrived_at,
            evening_cutoff=parse_hhmm(app.config["NOTIFY_EVENING_CUTOFF"]),
            morning_deadline=parse_hhmm(app.config["NOTIFY_MORNING_DEADLINE"]),
        )
        assert stay.deadline_at == deadline and fmt_datetime(deadline) == "20/11/2026 23:00"
        assert stay.filed_at is not None and stay.filed_at <= stay.deadline_at and stay.receipt_no
        assert stay.status == StayStatus.CHECKED_OUT
        assert [e.kind for e in stay.events] == [EventKind.CHECK_IN, EventKind.MOVE, EventKind.CHECK_OUT]
        assert all(e.receipt_no for e in stay.events)
