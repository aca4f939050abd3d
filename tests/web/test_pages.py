"""What a clerk does at the desk, through the pages: scan, check, file, print, and the day's changes.

The clock is frozen (freezegun) at moments of 10–11 March 2026, Vietnam time, so that deadlines and the dates
on the pages are known.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext, pgettext
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from pypdf import PdfReader
from sqlalchemy import select

from asm.accounts.models import Role, User
from asm.clock import VN_TZ
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.stays.forms import FOREIGN_FIELDS
from asm.stays.models import Stay, StayEvent
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import (
    CARD_2,
    NAME_1,
    NAME_2,
    check_in_form,
    client_as,
    count,
    form_fields,
    htmx_headers,
    post_check_in,
    scanned_guest,
    use_fast_password_hashes,
)

GARBLED = "034303011829||Nguy盻・|21032003|N盻ｯ|Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình|14082021"
MO_EN = Path(__file__).resolve().parents[2] / "asm" / "translations" / "en" / "LC_MESSAGES" / "messages.mo"


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Vietnam time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VN_TZ)


def local_input(at: datetime) -> str:
    return at.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    """Tuesday 10 March 2026, 21:40 in Hà Nội. Tests move it as they need."""
    with freeze_time(vn(10, 21, 40)) as frozen:
        yield frozen


@dataclass
class Desk:
    app: Flask
    factory: Factory
    est: Establishment
    clerk: User
    client: FlaskClient

    @property
    def code(self) -> str:
        return self.est.code

    def room(self, name: str) -> int:
        return next(r.id for r in self.est.rooms if r.name == name)

    def scan(self, text: str) -> list[tuple[str, str]]:
        return scanned_guest(self.client, self.code, text)

    def file(self, cards: list[str], arrived: datetime, *, room: str = "101", **kw: Any) -> Any:
        data = check_in_form(
            [self.scan(card) for card in cards], arrived_at=local_input(arrived), room_id=self.room(room), **kw
        )
        return post_check_in(self.client, self.code, data)

    def page(self, url: str, **kw: Any) -> str:
        response = self.client.get(url, **kw)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)

    def act(self, stay: Stay, action: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        url = f"/co-so/{self.code}/luu-tru/{stay.id}/{action}"
        return self.client.post(url, data={**(data or {}), "csrf_token": csrf_token(self.client)}, **kw)


def open_desk(app: Flask, factory: Factory, *, code: str = "HN-KS-THU", name: str = "Khách sạn Thử") -> Desk:
    est = factory.establishment(code=code, name=name, commune="00004")
    clerk = factory.user(Role.CLERK, establishment=est)
    return Desk(app, factory, est, clerk, client_as(app, clerk))


@pytest.fixture
def desk(app: Flask, factory: Factory, clock: FrozenDateTimeFactory) -> Desk:
    return open_desk(app, factory)


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def rows_stored() -> tuple[int, int, int]:
    return count(Person), count(Stay), count(StayEvent)


def field(fields: list[tuple[str, str]], suffix: str) -> str:
    values = [v for k, v in fields if k.endswith("-" + suffix)]
    assert len(values) == 1, (suffix, fields)
    return values[0]


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize("NFC", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def text_of(html: str, css_class: str) -> str:
    match = re.search(rf'class="{css_class}">([^<]*)<', html)
    assert match, f"no .{css_class} on the page"
    return match.group(1).strip()


# --- scanning -------------------------------------------------------------------------------------------


def test_the_check_in_page_shows_the_deadline_for_an_arrival_now(desk: Desk) -> None:
    html = desk.page(f"/co-so/{desk.code}/nhan-phong")
    assert 'id="scan-text"' in html
    assert "10/03/2026 23:00" in html


def test_a_scan_fills_a_guest_block(desk: Desk) -> None:
    response = desk.client.post(
        f"/co-so/{desk.code}/quet", data={"text": CARD + "\r\n"}, headers=htmx_headers(desk.client)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html  # a guest block to append, not a page
    fields = form_fields(html)
    assert field(fields, "full_name") == NAME_1
    assert field(fields, "birth_date") == "2003-03-21"
    assert field(fields, "doc_number") == "034303011829"
    assert field(fields, "sex") == "F"
    assert field(fields, "doc_type") == "cccd"
    assert field(fields, "address") == "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình"
    assert "Đã quét mã" in html
    keys = {re.match(r"guests-([a-z0-9]+)-", name).group(1) for name, _ in fields}  # type: ignore[union-attr]
    assert len(keys) == 1  # one block, one key for all its fields


def test_a_garbled_scan_is_refused_into_the_scan_area(desk: Desk) -> None:
    response = desk.client.post(f"/co-so/{desk.code}/quet", data={"text": GARBLED}, headers=htmx_headers(desk.client))
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#scan-result"
    html = response.get_data(as_text=True)
    assert "Mã QR bị giải mã sai bảng mã" in html
    assert form_fields(html) == []  # no guest block: nothing that could be filed
    assert rows_stored() == (0, 0, 0)


# --- filing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrived", "now", "deadline", "state"),
    [
        pytest.param(vn(10, 21, 30), vn(10, 21, 40), "10/03/2026 23:00", "Khai báo đúng hạn", id="evening"),
        pytest.param(vn(10, 23, 30), vn(10, 23, 40), "11/03/2026 08:00", "Khai báo đúng hạn", id="after-23h"),
        pytest.param(vn(10, 22, 59), vn(10, 23, 5), "10/03/2026 23:00", "Khai báo trễ hạn", id="22:59-filed-23:05"),
    ],
)
def test_filing_a_check_in_gives_a_receipt_and_the_deadline(
    app: Flask, factory: Factory, arrived: datetime, now: datetime, deadline: str, state: str
) -> None:
    with freeze_time(now):
        desk = open_desk(app, factory)
        response = desk.file([CARD], arrived, expected_departure="2026-03-12", reason="Công tác")
        assert response.status_code == 303
        [stay] = stays()
        assert urlsplit(response.headers["Location"]).path == f"/co-so/{desk.code}/luu-tru/{stay.id}"
        html = desk.page(response.headers["Location"])
    assert stay.receipt_no and re.fullmatch(r"LT-260310-[0-9A-Z]{8}", stay.receipt_no)
    assert text_of(html, "receipt-no") == stay.receipt_no
    assert f"Đã khai báo lưu trú. Số biên nhận: {stay.receipt_no}" in html
    assert text_of(html, "deadline-at") == deadline
    assert state in html
    assert NAME_1 in html and "Công tác" in html
    # Dates in Vietnam time, dd/mm/yyyy.
    assert arrived.strftime("%d/%m/%Y %H:%M") in html
    assert "12/03/2026" in html and "21/03/2003" in html
    # What was stored: the person, the stay, one filed event carrying the same receipt.
    [event] = db.session.scalars(select(StayEvent)).all()
    assert (event.kind, event.receipt_no) == ("check_in", stay.receipt_no)
    assert stay.person.full_name == NAME_1 and stay.room.name == "101"
    assert stay.arrived_at == arrived


def test_the_receipt_pdf_names_the_guest_and_the_receipt(desk: Desk) -> None:
    response = desk.file([CARD], vn(10, 21, 30))
    html = desk.page(response.headers["Location"])
    [stay] = stays()
    link = re.search(r'href="([^"]+/bien-nhan/[^"]+\.pdf)"', html)
    assert link, "no receipt link on the stay page"
    pdf = desk.client.get(link.group(1))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert NAME_1 in text
    assert stay.receipt_no in text
    # In the page's language: the words come from the catalogue, the document's label too.
    english = pdf_text(desk.client.get(link.group(1) + "?lang=en").data)
    assert "STAY NOTIFICATION RECEIPT" in english and "ID card" in english and NAME_1 in english
    assert "GIẤY BIÊN NHẬN" not in english and "CCCD/Căn" in text and "CCCD/Căn" not in english


def test_dates_are_shown_in_vietnam_time(app: Flask, factory: Factory) -> None:
    """06:30 on 11 March in Hà Nội is 23:30 on 10 March in UTC: the pages show the local day and time."""
    with freeze_time(vn(11, 6, 50)):
        desk = open_desk(app, factory)
        response = desk.file([CARD], vn(11, 6, 30))
        html = desk.page(response.headers["Location"])
        in_house = desk.page(f"/co-so/{desk.code}/")
    assert "11/03/2026 06:30" in html
    assert "10/03/2026 23:30" not in html and "2026-03-10" not in html
    assert text_of(html, "deadline-at") == "11/03/2026 23:00"
    assert "06:30 · " + NAME_1 in in_house  # among today's arrivals, by the local day


def manual_guest(**values: str) -> dict[str, str]:
    """A guest typed by hand (no scan), as the blank guest block names its fields."""
    fields = {
        "doc_type": "cccd",
        "doc_number": "034303011829",
        "nationality": "VNM",
        "full_name": NAME_1,
        "birth_date": "2003-03-21",
        "sex": "F",
        "address": "",
    }
    fields.update(values)
    return {f"guests-m1-{k}": v for k, v in fields.items()}


@pytest.mark.parametrize(
    ("guest", "arrival", "message"),
    [
        pytest.param(
            {"doc_number": "034103011829"},
            vn(10, 21, 0),
            "Chữ số thứ 4 của số định danh (1) không khớp với thế kỷ sinh và giới tính",
            id="century-digit",
        ),
        pytest.param({"full_name": "  "}, vn(10, 21, 0), "Cần nhập họ và tên.", id="no-name"),
        pytest.param({}, vn(10, 23, 0), "Giờ đến không thể ở tương lai.", id="future-arrival"),
    ],
)
def test_invalid_input_is_422_with_the_message_and_stores_nothing(
    desk: Desk, guest: dict[str, str], arrival: datetime, message: str
) -> None:
    assert blank_guest_fields(desk) <= set(manual_guest())  # the names this test types are the form's
    before = rows_stored()
    data = {
        **manual_guest(**guest),
        "reason": "Du lịch",
        "room_id": str(desk.room("101")),
        "arrived_at": local_input(arrival),
        "expected_departure": "2026-03-12",
        "action": "file",
    }
    response = post_check_in(desk.client, desk.code, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert rows_stored() == before == (0, 0, 0)
    # The form comes back as typed, for the clerk to correct.
    assert field(form_fields(html), "doc_number") == manual_guest(**guest)["guests-m1-doc_number"]


def blank_guest_fields(desk: Desk) -> set[str]:
    html = desk.page(f"/co-so/{desk.code}/khach-moi", headers={"HX-Request": "true"})
    return (
        {re.sub(r"^guests-[a-z0-9]+-", "guests-m1-", name) for name, _ in form_fields(html)}
        - {
            "guests-m1-card_extra",
            "guests-m1-old_id_number",
            "guests-m1-id_issue_date",
        }
        - {f"guests-m1-{name}" for name in FOREIGN_FIELDS}
    )  # a foreign guest's details: empty for a citizen


def test_a_group_files_one_stay_each_under_the_first_guest(desk: Desk) -> None:
    response = desk.file([CARD, CARD_2], vn(10, 21, 30), room="201")
    assert response.status_code == 303
    head, member = stays()
    assert (head.person.full_name, member.person.full_name) == (NAME_1, NAME_2)
    assert head.head_id is None and member.head_id == head.id
    assert head.receipt_no and member.receipt_no and head.receipt_no != member.receipt_no
    assert urlsplit(response.headers["Location"]).path.endswith(f"/luu-tru/{head.id}")
    html = desk.page(response.headers["Location"])
    assert NAME_2 in html  # among the people travelling with the head
    receipt = pdf_text(desk.client.get(f"/co-so/{desk.code}/bien-nhan/{head.receipt_no}.pdf").data)
    assert NAME_1 in receipt and NAME_2 in receipt  # the head's receipt lists the whole group


@pytest.fixture
def evening_desk(app: Flask, factory: Factory) -> Iterator[tuple[Desk, FrozenDateTimeFactory]]:
    """The desk at 20:00, logged in then (a session cannot start in the future of the clock)."""
    with freeze_time(vn(10, 20, 0)) as clock:
        yield open_desk(app, factory), clock


def test_a_draft_filed_after_the_deadline_is_late(evening_desk: tuple[Desk, FrozenDateTimeFactory]) -> None:
    desk, clock = evening_desk
    response = desk.file([CARD], vn(10, 19, 30), action="draft")
    assert response.status_code == 303
    [stay] = stays()
    assert (stay.status, stay.filed_at, stay.receipt_no) == ("draft", None, None)
    assert "Đã lưu nháp. Nhớ khai báo trước 10/03/2026 23:00." in desk.page(response.headers["Location"])
    in_house = desk.page(f"/co-so/{desk.code}/")
    assert "1 người chưa khai báo." in in_house and "quá hạn mà chưa khai báo" not in in_house

    clock.move_to(vn(10, 23, 15))
    in_house = desk.page(f"/co-so/{desk.code}/")
    assert "1 người đã quá hạn mà chưa khai báo lưu trú." in in_house
    assert "Quá hạn, chưa khai báo" in in_house

    response = desk.act(stay, "khai-bao")
    assert response.status_code == 303
    [stay] = stays()
    assert stay.status == "in_house" and stay.filed_at == vn(10, 23, 15)
    [draft, filed] = stay.events
    assert (draft.kind, draft.receipt_no) == ("draft", None)
    assert filed.kind == "file" and filed.receipt_no == stay.receipt_no
    html = desk.page(response.headers["Location"])
    assert "Khai báo trễ hạn" in html and "Khai báo đúng hạn" not in html
    in_house = desk.page(f"/co-so/{desk.code}/")
    assert "quá hạn mà chưa khai báo" not in in_house
    assert "1 khai báo trễ hạn trong 7 ngày qua." in in_house


def test_a_draft_filed_in_time_is_on_time(evening_desk: tuple[Desk, FrozenDateTimeFactory]) -> None:
    desk, clock = evening_desk
    desk.file([CARD], vn(10, 19, 30), action="draft")
    clock.move_to(vn(10, 22, 50))
    [stay] = stays()
    response = desk.act(stay, "khai-bao")
    assert "Khai báo đúng hạn" in desk.page(response.headers["Location"])


# --- changes during the stay ----------------------------------------------------------------------------


@pytest.fixture
def filed(desk: Desk) -> Stay:
    desk.file([CARD], vn(10, 21, 0), expected_departure="2026-03-12")
    [stay] = stays()
    return stay


def last_event(stay: Stay) -> StayEvent:
    db.session.expire_all()
    return db.session.scalars(select(StayEvent).where(StayEvent.stay_id == stay.id).order_by(StayEvent.id)).all()[-1]


@pytest.mark.parametrize(
    ("action", "data", "kind", "check", "flash"),
    [
        pytest.param(
            "tra-phong",
            {},
            "check_out",
            lambda s: s.status == "checked_out" and s.departed_at == vn(10, 21, 40),
            f"Đã trả phòng: {NAME_1}.",
            id="check-out",
        ),
        pytest.param(
            "gia-han",
            {"until": "2026-03-15"},
            "extend",
            lambda s: s.expected_departure.isoformat() == "2026-03-15" and s.status == "in_house",
            "Đã gia hạn đến 15/03/2026.",
            id="extend",
        ),
        pytest.param(
            "chuyen-phong",
            {"room": "201"},
            "move",
            lambda s: s.room.name == "201" and s.status == "in_house",
            "Đã chuyển sang phòng 201.",
            id="move",
        ),
        pytest.param(
            "huy",
            {"reason": "Khai báo nhầm người"},
            "cancel",
            lambda s: s.status == "cancelled" and s.cancel_reason == "Khai báo nhầm người",
            "Đã hủy lưu trú.",
            id="cancel",
        ),
    ],
)
def test_a_change_updates_the_stay_and_adds_a_receipted_event(
    desk: Desk, filed: Stay, action: str, data: dict[str, str], kind: str, check: Any, flash: str
) -> None:
    if "room" in data:
        data = {"room_id": str(desk.room(data["room"]))}
    events_before = count(StayEvent)
    response = desk.act(filed, action, data)
    assert response.status_code == 303
    [stay] = stays()
    assert check(stay)
    assert count(StayEvent) == events_before + 1
    event = last_event(stay)
    assert event.kind == kind and event.receipt_no and event.actor == desk.clerk.full_name
    html = desk.page(response.headers["Location"])
    assert flash in html
    assert event.receipt_no in html  # in the stay's history, with its receipt link
    receipt = desk.client.get(f"/co-so/{desk.code}/bien-nhan/{event.receipt_no}.pdf")
    assert receipt.mimetype == "application/pdf"


def test_cancelling_needs_a_reason(desk: Desk, filed: Stay) -> None:
    response = desk.act(filed, "huy", {"reason": "   "})
    assert response.status_code == 303
    assert "Cần nêu lý do hủy." in desk.page(response.headers["Location"])
    response = desk.act(filed, "huy", {"reason": ""}, headers=htmx_headers(desk.client))
    assert response.status_code == 422
    assert "Cần nêu lý do hủy." in response.get_data(as_text=True)
    [stay] = stays()
    assert stay.status == "in_house" and len(stay.events) == 1


def test_a_group_checks_out_together(desk: Desk) -> None:
    desk.file([CARD, CARD_2], vn(10, 21, 0))
    head, _member = stays()
    response = desk.act(head, "tra-phong", {"group": "1"})
    assert f"Đã trả phòng: {NAME_1}, {NAME_2}." in desk.page(response.headers["Location"])
    assert [s.status for s in stays()] == ["checked_out", "checked_out"]


def test_an_action_from_the_list_goes_back_to_the_list(desk: Desk, filed: Stay) -> None:
    response = desk.act(filed, "gia-han", {"until": "2026-03-13", "back": "list"})
    assert urlsplit(response.headers["Location"]).path == f"/co-so/{desk.code}/"
    response = desk.act(filed, "tra-phong", headers=htmx_headers(desk.client))
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith(f"/luu-tru/{filed.id}")


# --- the in-house list and returning guests -------------------------------------------------------------


def test_the_in_house_search_returns_only_matching_rows(desk: Desk) -> None:
    desk.file([CARD], vn(10, 21, 0), room="101")
    desk.file([CARD_2], vn(10, 21, 10), room="201")
    url = f"/co-so/{desk.code}/"
    for query, expected in (("hoa", NAME_1), ("Trần", NAME_2), ("201", NAME_2), ("1829", NAME_1)):
        response = desk.client.get(url, query_string={"q": query}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html  # only the rows
        assert html.count('<tr id="stay-') == 1, query
        assert expected in html and ({NAME_1, NAME_2} - {expected}).pop() not in html
        assert "HX-Request" in response.headers["Vary"]
    html = desk.client.get(url, query_string={"q": "không ai"}, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<tr id="stay-' not in html and "Không có ai khớp" in html
    full = desk.client.get(url)
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]


def lookup(desk: Desk, doc_number: str) -> Any:
    data = {"key": "ab12", "guests-ab12-doc_type": "cccd", "guests-ab12-doc_number": doc_number}
    return desk.client.post(f"/co-so/{desk.code}/khach-cu", data=data, headers=htmx_headers(desk.client))


def test_a_returning_guest_is_prefilled_only_from_this_establishments_guests(
    app: Flask, factory: Factory, desk: Desk
) -> None:
    other = open_desk(app, factory, code="HN-NN-KHAC", name="Nhà nghỉ Khác")
    other.file([CARD_2], vn(10, 20, 0))  # Trần Văn Nam stayed at the other place only
    desk.file([CARD], vn(10, 20, 30))
    [mine] = [s for s in stays() if s.establishment_id == desk.est.id]
    desk.act(mine, "tra-phong")

    response = lookup(desk, "034303011829")
    assert response.status_code == 200
    fields = form_fields(response.get_data(as_text=True))
    assert field(fields, "full_name") == NAME_1 and field(fields, "birth_date") == "2003-03-21"
    assert all(name.startswith("guests-ab12-") for name, _ in fields)  # it replaces the block it came from
    assert "Khách quen" in response.get_data(as_text=True)

    response = lookup(desk, "001085012345")
    assert response.status_code == 204
    assert NAME_2 not in response.get_data(as_text=True)


def test_one_open_stay_per_person_per_establishment(desk: Desk) -> None:
    desk.file([CARD], vn(10, 21, 0))
    before = rows_stored()
    response = desk.file([CARD], vn(10, 21, 30), room="102")
    assert response.status_code == 422
    assert f"{NAME_1} đang lưu trú tại cơ sở này." in response.get_data(as_text=True)
    assert rows_stored() == before


def test_a_guest_in_house_elsewhere_is_a_warning_not_a_refusal(app: Flask, factory: Factory, desk: Desk) -> None:
    other = open_desk(app, factory, code="HN-NN-KHAC", name="Nhà nghỉ Khác")
    other.file([CARD], vn(10, 20, 0))
    response = desk.file([CARD], vn(10, 21, 0))
    assert response.status_code == 303
    html = desk.page(response.headers["Location"])
    assert f"{NAME_1} cũng đang lưu trú tại Nhà nghỉ Khác." in html
    assert 'class="flash warning"' in html
    assert len(stays()) == 2


# --- language -------------------------------------------------------------------------------------------


def switch_language(desk: Desk, lang: str) -> None:
    response = desk.client.post(
        f"/ngon-ngu/{lang}", data={"next": f"/co-so/{desk.code}/", "csrf_token": csrf_token(desk.client)}
    )
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/co-so/{desk.code}/"


def test_the_language_switch_changes_the_page_language(desk: Desk) -> None:
    html = desk.page(f"/co-so/{desk.code}/")
    assert '<html lang="vi">' in html and "HN-KS-THU · Khách sạn<" in html and "Lễ tân / nhân viên" in html
    switch_language(desk, "en")
    with desk.client.session_transaction() as session:
        assert session["lang"] == "en"
    html = desk.page(f"/co-so/{desk.code}/")
    assert '<html lang="en">' in html
    assert "HN-KS-THU · Hotel<" in html and "Clerk" in html  # labels kept as (vi, en) pairs in the code
    assert "Tiếng Việt" in html  # the switch now offers the way back
    switch_language(desk, "vi")
    assert '<html lang="vi">' in desk.page(f"/co-so/{desk.code}/")


@pytest.mark.skipif(not MO_EN.exists(), reason="no compiled English catalogue (make setup builds it)")
def test_the_english_catalogue_is_used_on_the_desk_pages(desk: Desk) -> None:
    with force_locale("en"):
        english = {vi: gettext(vi) for vi in ("Đang lưu trú", "Lịch sử")}
        english["Nhận khách"] = pgettext("lodging", "Nhận khách")  # a hotel's word (asm/trades.py)
    assert all(en != vi for vi, en in english.items()), english
    switch_language(desk, "en")
    html = desk.page(f"/co-so/{desk.code}/")
    for vi, en in english.items():
        assert en in html and vi not in html
