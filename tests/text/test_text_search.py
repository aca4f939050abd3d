"""Vietnamese search through people.search_key: people written by every writer (the API, its SQL fast path on
PostgreSQL, the desk, the kiosk, hospital events) are found by the clerk's in-house search, the API's `q` and the
police's name search, whatever the case, the diacritics and the form (NFC/NFD); the key is backfilled by the
migration. SQLite and PostgreSQL alike."""

from __future__ import annotations

import html
import unicodedata
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from asm.accounts.models import Role
from asm.clock import to_local, utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.text import search_key
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import CARD_2, client_as, post_check_in, use_fast_password_hashes
from tests.support.hospital import Hospital, make_hospital
from tests.support.kiosk import make_kiosk
from tests.test_migrations import migrated_again  # noqa: F401 (a fixture)

HOANG = {
    "doc_type": "cccd",
    "doc_number": "001090123457",
    "full_name": "Đinh Xuân Hoàng",
    "birth_date": "1990-06-15",
    "sex": "M",
}
SPELLINGS = [
    "dinh xuan hoang",
    "ĐINH XUÂN HOÀNG",
    "Đinh Xuân Hoàng",
    unicodedata.normalize("NFD", "Đinh Xuân Hoàng"),
    "  đinh   XUÂN hoàng ",
]
PARTS = ["dinh", "Đinh", "ĐINH", "xuan hoang", "Xuân Hoàng", "HOÀNG"]
DESK_PERSON = {"doc_type": "cccd", "doc_number": "001185000777", "full_name": "đặng thị ấu", "birth_date": "1985-02-03"}
EVENT_PERSON = {"doc_type": "cccd", "doc_number": "001080000888", "full_name": "ĐỖ VĂN ĐỨC", "birth_date": "1980-04-05"}


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


class World:
    """A hotel and a hospital of one ward, guests filed by every writer, and the people who search."""

    def __init__(self, app: Flask, factory: Factory, client: FlaskClient) -> None:
        self.est: Establishment = factory.establishment(code="KS-SEN")
        self.hospital: Hospital = make_hospital(factory, code="BV-SEN")
        self.client = client
        self.token = {"Authorization": f"Bearer {factory.token(self.est)}"}
        self.clerk = client_as(app, factory.user(Role.CLERK, establishment=self.est))
        self.officer = client_as(app, factory.user(Role.OFFICER, commune=self.est.commune_code))
        self.app, self.factory = app, factory

    def api_file(self, *guests: dict[str, Any]) -> Any:
        headers = {**self.token, "Idempotency-Key": str(uuid.uuid4())}
        response = self.client.post(
            "/api/v1/stays", json={"reason": "Du lịch", "guests": list(guests)}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def api_names(self, q: str) -> list[str]:
        response = self.client.get("/api/v1/stays", query_string={"q": q}, headers=self.token)
        if len(q) > 100:  # the API's documented bound on `q`: a 422 that says so, not a failure
            assert response.status_code == 422 and response.get_json()["error"]["codes"] == {"q": "too_long"}
            return []
        assert response.status_code == 200
        return sorted(s["person"]["full_name"] for s in response.get_json()["stays"])

    def desk_page(self, q: str) -> str:
        # As the search box asks for it (htmx): the rows of the in-house list only.
        response = self.clerk.get(f"/co-so/{self.est.code}/", query_string={"q": q}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        return unicodedata.normalize("NFC", html.unescape(response.get_data(as_text=True)))

    def police_page(self, name: str, birth: str) -> str:
        data = {
            "full_name": name,
            "birth_date": birth,
            "reason": "Xác minh tin báo",
            "csrf_token": csrf_token(self.officer),
        }
        response = self.officer.post("/cong-an/tra-cuu", data=data)
        assert response.status_code == 200, response.status_code
        page = unicodedata.normalize("NFC", html.unescape(response.get_data(as_text=True)))
        return page[page.index('<table class="list">') :]  # the results, not the form that echoes the name

    def desk_file(self, person: dict[str, str]) -> None:
        fields = {f"guests-d1-{k}": v for k, v in person.items()}
        arrived = to_local(utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
        data = {**fields, "reason": "Công tác", "arrived_at": arrived, "action": "file"}
        assert post_check_in(self.clerk, self.est.code, data).status_code == 303

    def hospital_event(self, person: dict[str, str], n: int = 1) -> None:
        headers = {"Authorization": f"Bearer {self.factory.token(self.hospital.est, name=f'his{n}')}"}
        event = {
            "event_id": f"adm-{n}",
            "type": "admission",
            "admission_id": f"A{n}",
            "occurred_at": (utcnow() - timedelta(minutes=30)).isoformat(),
            "bed": f"K1-101-{n}",
            "patient": person,
        }
        response = self.client.post("/api/v1/hospital/events", json={"events": [event]}, headers=headers)
        assert response.get_json()["results"][0]["status"] == "applied", response.get_json()


@pytest.fixture
def world(app: Flask, factory: Factory, client: FlaskClient) -> World:
    w = World(app, factory, client)
    w.api_file(HOANG)  # on PostgreSQL, the one-statement SQL filing (asm/filing/sql.py)
    w.api_file({"qr": CARD_2})  # Trần Văn Nam
    w.desk_file(DESK_PERSON)
    kiosk = make_kiosk(app, factory, est=w.est)
    assert kiosk.submit({"flow": "hotel_check_in", "reason": "Du lịch", "guests": [{"qr": CARD}]}).status_code == 201
    w.hospital_event(EVENT_PERSON)
    return w


def test_every_writer_stores_the_key_of_the_name(world: World) -> None:
    db.session.expire_all()
    rows = {p.full_name: p.search_key for p in db.session.scalars(select(Person))}
    assert rows == {
        "Đinh Xuân Hoàng": "dinh xuan hoang",
        "Trần Văn Nam": "tran van nam",
        "Đặng Thị Ấu": "dang thi au",
        "Nguyễn Thị Hoa": "nguyen thi hoa",
        "Đỗ Văn Đức": "do van duc",
    }


@pytest.mark.parametrize("q", SPELLINGS + PARTS)
def test_the_api_q_finds_the_same_person_by_any_spelling(world: World, q: str) -> None:
    assert world.api_names(q) == ["Đinh Xuân Hoàng"]


@pytest.mark.parametrize("q", SPELLINGS + PARTS)
def test_the_desk_search_finds_the_same_person_by_any_spelling(world: World, q: str) -> None:
    page = world.desk_page(q)
    assert "Đinh Xuân Hoàng" in page and "Trần Văn Nam" not in page and "Đặng Thị Ấu" not in page


@pytest.mark.parametrize("name", SPELLINGS)
def test_the_police_name_search_finds_the_same_person_by_any_spelling(world: World, name: str) -> None:
    page = world.police_page(name, HOANG["birth_date"])
    assert "Đinh Xuân Hoàng" in page and "Trần Văn Nam" not in page
    assert "Đinh Xuân Hoàng" not in world.police_page(name, "1991-06-15")  # the birth date still counts


def test_the_police_find_people_of_every_writer(world: World) -> None:
    assert "Đặng Thị Ấu" in world.police_page("DANG THI AU", DESK_PERSON["birth_date"])
    assert "Đỗ Văn Đức" in world.police_page("do van duc", EVENT_PERSON["birth_date"])
    assert "Nguyễn Thị Hoa" in world.police_page("nguyen thi hoa", "2003-03-21")
    assert "Trần Văn Nam" in world.police_page("Tran Van Nam", "1985-06-15")


def test_other_searches_still_work_and_wildcards_are_the_users_own(world: World) -> None:
    assert world.api_names("Nam") == ["Trần Văn Nam"]
    assert world.api_names("123457") == ["Đinh Xuân Hoàng"]  # part of the document number
    assert world.api_names("ấu") == ["Đặng Thị Ấu"]
    assert world.api_names("%") == [] and world.api_names("_") == [] and world.api_names("\\") == []
    assert len(world.api_names("")) == 4  # the hotel's guests (the patient is the hospital's)


EVERYONE = ["Nguyễn Thị Hoa", "Trần Văn Nam", "Đinh Xuân Hoàng", "Đặng Thị Ấu"]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("\x00", EVERYONE),  # nothing left to search for: the whole list, as an empty box
        ("Đinh\x00", ["Đinh Xuân Hoàng"]),
        ("\u202eĐINH\u200b", ["Đinh Xuân Hoàng"]),
        ("\x1b[31m", []),
        ("a" * 5000, []),
    ],
)
def test_a_control_character_in_a_search_box_never_fails(world: World, q: str, found: list[str]) -> None:
    assert world.api_names(q) == found
    page = world.desk_page(q)
    assert all(name in page for name in found)
    data = {"full_name": q, "birth_date": HOANG["birth_date"], "reason": "Xác minh tin báo"}
    response = world.officer.post("/cong-an/tra-cuu", data={**data, "csrf_token": csrf_token(world.officer)})
    assert response.status_code == (422 if q == "\x00" else 200)  # nothing left of the name: "name and birth date"
    assert "Đinh Xuân Hoàng" in world.police_page("ĐINH\x00 XUÂN\u202e HOÀNG\x1b", HOANG["birth_date"])


@pytest.mark.parametrize("raw", ["%00", "%ED%A0%80", "%FF%FE", "%E2%80%AE%C4%90inh"])
def test_undecodable_bytes_in_a_query_string_never_fail(world: World, raw: str) -> None:
    assert world.client.get(f"/api/v1/stays?q={raw}", headers=world.token).status_code == 200
    assert world.clerk.get(f"/co-so/{world.est.code}/?q={raw}").status_code == 200


def test_a_new_name_for_a_known_document_gets_its_new_key(world: World) -> None:
    headers = {**world.token, "Idempotency-Key": str(uuid.uuid4())}
    [stay] = world.client.get("/api/v1/stays", query_string={"q": "dinh"}, headers=world.token).get_json()["stays"]
    out = world.client.post(f"/api/v1/stays/{stay['id']}/check-out", json={}, headers=headers)
    assert out.status_code == 200
    world.api_file({**HOANG, "full_name": "ĐINH XUÂN HOÀNG ANH"})  # the same document, a longer name
    db.session.expire_all()
    person = db.session.scalars(select(Person).where(Person.doc_number == HOANG["doc_number"])).one()
    assert (person.full_name, person.search_key) == ("Đinh Xuân Hoàng Anh", "dinh xuan hoang anh")
    assert world.api_names("hoang anh") == ["Đinh Xuân Hoàng Anh"]
    # Hospital events bring a known person up to date too.
    world.hospital_event({**DESK_PERSON, "full_name": "Đặng Thị Âu", "sex": "F"}, 2)
    db.session.expire_all()
    renamed = db.session.scalars(select(Person).where(Person.doc_number == "001185000777")).one()
    assert (renamed.full_name, renamed.search_key) == ("Đặng Thị Âu", "dang thi au")


def test_the_migration_backfills_the_key_of_people_already_there(
    app: Flask,
    migrated_again: None,  # noqa: F811
) -> None:
    downgrade(revision="0006")
    db.session.remove()
    now = utcnow()
    names = ["ĐINH XUÂN HOÀNG", unicodedata.normalize("NFD", "Đặng Thị Ấu"), "Nguyễn  Văn A"]
    for i, name in enumerate(names):
        db.session.execute(
            text(
                "INSERT INTO people (doc_type, doc_number, nationality, full_name, birth_date, created_at, updated_at)"
                " VALUES ('cccd', :number, 'VNM', :name, :birth, :now, :now)"
            ),
            {"number": f"00109012345{i}", "name": name, "birth": date(1990, 1, 1), "now": now},
        )
    db.session.commit()
    upgrade()
    db.session.remove()
    keys = db.session.execute(text("SELECT full_name, search_key FROM people ORDER BY doc_number")).all()
    assert [tuple(row) for row in keys] == [(name, search_key(name)) for name in names]
    assert [row[1] for row in keys] == ["dinh xuan hoang", "dang thi au", "nguyen van a"]
