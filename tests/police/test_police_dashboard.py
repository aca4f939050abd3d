"""The police dashboard: its figures are the jurisdiction's, every figure opens the list behind it, and the home
page sends police there."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from asm.accounts.models import ACCOUNT_EVENTS, AccessLog
from asm.extensions import db
from tests.conftest import Factory
from tests.support.desk import use_fast_password_hashes
from tests.support.police import NAME_F, NAME_O, NAMES_A, PoliceWorld

FIGURE = re.compile(r'<a class="figure[^"]*" href="([^"]+)"><span class="n">(\d+)</span>')
ROW = re.compile(r"<tr>\s*<td><a href=\"/co-so/")


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def world(app: Flask, factory: Factory) -> PoliceWorld:
    return PoliceWorld(app, factory)


def figures(body: str) -> dict[str, tuple[str, int]]:
    """{figure name: (list URL, number)} from the dashboard's figure tiles."""
    found = {}
    for url, n in FIGURE.findall(body):
        url = html.unescape(url)
        found[urlsplit(url).path.rsplit("/", 1)[-1]] = (url, int(n))
    return found


def test_police_land_on_the_dashboard(world: PoliceWorld) -> None:
    for who in ("officer_a", "supervisor_a"):
        response = world.client(who).get("/")
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/cong-an/"
    assert urlsplit(world.client("clerk_a").get("/").headers["Location"]).path.startswith("/co-so/EST-A")


def test_the_ward_dashboard_counts_the_ward_only(world: PoliceWorld) -> None:
    body = world.client("officer_a").get("/cong-an/").get_data(as_text=True)
    numbers = {name: n for name, (_url, n) in figures(body).items()}
    # In house: Hoa and Kim at EST-A, the guest who never checked out at EST-B (drafts are not notifications).
    assert numbers == {
        "in_house": 3,
        "foreigners": 1,
        # Kim (a foreigner, filed like the others) has had no temporary-residence declaration: overdue after 12 h.
        "foreign_arrivals": 1,
        "declarations_overdue": 1,
        "declarations_late": 0,
        "patients": 0,
        "carers": 0,
        "overdue": 2,
        "late": 1,
        "no_checkout": 1,
        "long_stays": 0,
        "silent": 0,
    }
    assert NAME_O not in body and NAME_F not in body
    assert "Khách sạn Phố Cổ" not in body  # EST-O is in another ward
    # The establishments most often late: EST-B (2 never filed) before EST-A (1 late).
    most_late = body[body.index("most_late") :]
    assert most_late.index("Nhà nghỉ Bình Yên") < most_late.index("Khách sạn Hoàng Gia")
    # The charts: 6 arrivals (one cancelled would not count) and 1 departure in 30 days.
    assert "tổng 6" in body and "tổng 1" in body


def test_every_figure_opens_its_list_with_as_many_rows(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    officer = world.user("officer_a")
    body = client.get("/cong-an/").get_data(as_text=True)
    for name, (url, n) in figures(body).items():
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        rows = len(ROW.findall(text))
        assert rows == n, (name, rows, n)
        assert NAME_O not in text and NAME_F not in text
    # Stay lists show people: each opening is logged; establishment lists are not about people.
    people_views = AccessLog.action.not_in(ACCOUNT_EVENTS)  # not the login (issue 11)
    actions = db.session.scalars(select(AccessLog.target).where(AccessLog.user_id == officer.id, people_views)).all()
    assert sorted(t.split(":")[0] for t in actions) == sorted(
        [
            "in_house",
            "foreigners",
            "foreign_arrivals",
            "declarations_overdue",
            "declarations_late",
            "patients",
            "carers",
            "overdue",
            "late",
            "no_checkout",
            "long_stays",
        ]
    )


def test_a_bar_opens_the_arrivals_of_its_day(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    body = client.get("/cong-an/").get_data(as_text=True)
    day = world.hoa.arrived_at
    from asm.clock import to_local

    iso = to_local(day).date().isoformat()
    assert f"/cong-an/danh-sach/arrivals?ngay={iso}" in body
    page = client.get(f"/cong-an/danh-sach/arrivals?ngay={iso}").get_data(as_text=True)
    assert NAMES_A[0] in page
    assert NAMES_A[4] not in page  # arrived 4 days ago


def test_type_breakdown_opens_the_in_house_list_of_that_type(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    body = client.get("/cong-an/").get_data(as_text=True)
    assert "/cong-an/danh-sach/in_house?loai=guesthouse" in body
    page = client.get("/cong-an/danh-sach/in_house?loai=guesthouse").get_data(as_text=True)
    assert NAMES_A[3] in page and NAMES_A[0] not in page


def test_the_supervisor_sees_the_province_and_may_narrow_to_a_ward(world: PoliceWorld) -> None:
    client = world.client("supervisor_a")
    numbers = {k: n for k, (_u, n) in figures(client.get("/cong-an/").get_data(as_text=True)).items()}
    assert numbers["in_house"] == 4  # ward A's 3 and ward O's guest; not TP Hồ Chí Minh's
    page = client.get(figures(client.get("/cong-an/").get_data(as_text=True))["in_house"][0]).get_data(as_text=True)
    assert NAME_O in page and NAME_F not in page
    narrowed = {k: n for k, (_u, n) in figures(client.get("/cong-an/?xa=00070").get_data(as_text=True)).items()}
    assert narrowed["in_house"] == 1
    # A ward of another province is not a choice.
    assert client.get("/cong-an/?xa=25747").status_code == 404


def test_establishments_silent_for_n_days(world: PoliceWorld, factory: Factory) -> None:
    quiet = factory.establishment(code="EST-Q", name="Nhà trọ Im Lặng", commune="00004", type="rented_rooms")
    client = world.client("officer_a")
    numbers = {k: n for k, (_u, n) in figures(client.get("/cong-an/").get_data(as_text=True)).items()}
    assert numbers["silent"] == 1
    page = client.get("/cong-an/danh-sach/silent").get_data(as_text=True)
    assert quiet.name in page and f"/co-so/{quiet.code}/" in page
    assert "Khách sạn Hoàng Gia" not in page


def test_an_unknown_figure_is_404(world: PoliceWorld) -> None:
    assert world.client("officer_a").get("/cong-an/danh-sach/everything").status_code == 404
