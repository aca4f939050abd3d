"""Person search needs a reason and leaves an access-log line; so does opening a person's record; supervisors
review the access log of their province."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from asm.accounts.models import ACCOUNT_EVENTS, AccessLog
from asm.extensions import db
from asm.people.models import Person
from tests.conftest import Factory, csrf_token
from tests.support.desk import use_fast_password_hashes
from tests.support.police import NAME_F, NAME_O, NAMES_A, PoliceWorld

PERSON_LINK = re.compile(r'href="(/cong-an/nguoi/\d+\?ly_do=[^"]+)"')


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def world(app: Flask, factory: Factory) -> PoliceWorld:
    return PoliceWorld(app, factory)


def search(world: PoliceWorld, who: str, **fields: str):  # type: ignore[no-untyped-def]
    client = world.client(who)
    return client.post("/cong-an/tra-cuu", data={**fields, "csrf_token": csrf_token(client)})


def log_lines(world: PoliceWorld, who: str) -> list[AccessLog]:
    db.session.expire_all()
    user = world.user(who)
    people_views = AccessLog.action.not_in(ACCOUNT_EVENTS)  # not the login (issue 11)
    return list(
        db.session.scalars(select(AccessLog).where(AccessLog.user_id == user.id, people_views).order_by(AccessLog.id))
    )


def test_a_search_needs_a_reason_and_logs_nothing_without_one(world: PoliceWorld) -> None:
    hoa = world.hoa.person
    response = search(world, "officer_a", doc_number=hoa.doc_number, reason="")
    assert response.status_code == 422
    assert hoa.full_name not in response.get_data(as_text=True)
    assert log_lines(world, "officer_a") == []


def test_search_by_id_number_is_logged_with_its_reason(world: PoliceWorld) -> None:
    hoa = world.hoa.person
    response = search(world, "officer_a", doc_number=hoa.doc_number, reason="Xác minh theo tin báo số 12")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and NAMES_A[0] in body
    [line] = log_lines(world, "officer_a")
    assert (line.action, line.target, line.reason) == ("search", f"doc:{hoa.doc_number}", "Xác minh theo tin báo số 12")


def test_search_by_name_and_birth_date(world: PoliceWorld) -> None:
    hoa = world.hoa.person
    response = search(
        world, "officer_a", full_name="nguyễn  thị hoa", birth_date=hoa.birth_date.isoformat(), reason="Kiểm tra"
    )
    assert NAMES_A[0] in response.get_data(as_text=True)
    # A name alone is not enough.
    response = search(world, "officer_a", full_name=NAMES_A[0], reason="Kiểm tra")
    assert response.status_code == 422


def test_an_officer_finds_nobody_who_stayed_only_elsewhere(world: PoliceWorld) -> None:
    other = world.stay_o.person
    response = search(world, "officer_a", doc_number=other.doc_number, reason="Thử tìm người phường khác")
    assert NAME_O not in response.get_data(as_text=True)
    # The search itself is still logged.
    assert [line.action for line in log_lines(world, "officer_a")] == ["search"]
    # The supervisor of the province finds them; the supervisor of another province does not.
    assert NAME_O in search(world, "supervisor_a", doc_number=other.doc_number, reason="Rà soát").get_data(as_text=True)
    far = world.stay_f.person
    assert NAME_F not in search(world, "supervisor_a", doc_number=far.doc_number, reason="Rà soát").get_data(
        as_text=True
    )


def test_opening_a_record_needs_a_reason_and_is_logged(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    hoa = world.hoa.person
    body = search(world, "officer_a", doc_number=hoa.doc_number, reason="Xác minh tin báo").get_data(as_text=True)
    link = PERSON_LINK.search(body)
    assert link, body
    url = link.group(1).replace("&amp;", "&")
    # Without a reason: a form asking for one, no data, no log line.
    bare = client.get(f"/cong-an/nguoi/{hoa.id}")
    assert bare.status_code == 200 and hoa.doc_number not in bare.get_data(as_text=True)
    assert [line.action for line in log_lines(world, "officer_a")] == ["search"]
    record = client.get(url).get_data(as_text=True)
    assert NAMES_A[0] in record and hoa.doc_number in record and "Khách sạn Hoàng Gia" in record
    lines = log_lines(world, "officer_a")
    assert [line.action for line in lines] == ["search", "person"]
    assert lines[-1].reason == "Xác minh tin báo" and lines[-1].target.startswith(f"{hoa.id}:")


def test_a_record_outside_the_area_does_not_exist(world: PoliceWorld) -> None:
    other = world.stay_o.person
    response = world.client("officer_a").get(f"/cong-an/nguoi/{other.id}?ly_do=Xem+thử+hồ+sơ")
    assert response.status_code == 404
    assert NAME_O not in response.get_data(as_text=True)
    assert log_lines(world, "officer_a") == []


def test_a_record_shows_only_the_stays_in_the_area(world: PoliceWorld) -> None:
    """The same person stayed in ward A and ward O: officer A sees ward A's stay only."""
    from tests.support.police import file_stay, guest

    hoa = world.hoa.person
    again = guest(hoa.full_name, birth=hoa.birth_date, sex="F")
    again.doc_number = hoa.doc_number
    file_stay(world.est_o, [again], arrived=world.now, filed=world.now)
    assert db.session.scalar(select(func.count(Person.id)).where(Person.doc_number == hoa.doc_number)) == 1
    body = world.client("officer_a").get(f"/cong-an/nguoi/{hoa.id}?ly_do=Kiểm+tra+lịch+sử").get_data(as_text=True)
    assert "Khách sạn Hoàng Gia" in body and "Khách sạn Phố Cổ" not in body


def test_the_supervisor_reviews_the_province_log(world: PoliceWorld) -> None:
    search(world, "officer_a", doc_number="001085000000", reason="Lý do của phường A")
    search(world, "officer_o", doc_number="001085000000", reason="Lý do của phường O")
    search(world, "officer_f", doc_number="079085000000", reason="Lý do của tỉnh khác")
    page = world.client("supervisor_a").get("/cong-an/nhat-ky")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Lý do của phường A" in body and "Lý do của phường O" in body
    assert "Lý do của tỉnh khác" not in body
    # Filtered by one officer; an officer of another province is not a choice.
    officer_o = world.user("officer_o")
    body = world.client("supervisor_a").get(f"/cong-an/nhat-ky?can_bo={officer_o.id}").get_data(as_text=True)
    assert "Lý do của phường O" in body and "Lý do của phường A" not in body
    officer_f = world.user("officer_f")
    assert world.client("supervisor_a").get(f"/cong-an/nhat-ky?can_bo={officer_f.id}").status_code == 404
    # Officers do not review the log.
    assert world.client("officer_a").get("/cong-an/nhat-ky").status_code == 403
    body = world.client("supervisor_f").get("/cong-an/nhat-ky").get_data(as_text=True)
    assert "Lý do của tỉnh khác" in body and "Lý do của phường A" not in body
