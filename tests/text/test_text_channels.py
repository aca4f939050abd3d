"""The text rules through every way in: the API, the desk pages, the kiosk, hospital events and the hospital desk,
the police pages, the CLI and the QR parse. Hostile names and texts are refused with their field and stable code,
and nothing is stored; nothing answers 5xx. SQLite and PostgreSQL (ASM_TEST_DATABASE_URL) alike."""

from __future__ import annotations

import html
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from asm.accounts.models import Role, User
from asm.clock import to_local, utcnow
from asm.establishments.models import Establishment, Room
from asm.extensions import db
from asm.hospital.models import Carer, Ward
from asm.people.models import Person
from asm.police.models import Alert, WatchEntry
from asm.stays.models import Stay, StayEvent, StayStatus
from asm.text import MESSAGES
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import client_as, htmx_headers, post_check_in, use_fast_password_hashes
from tests.support.hospital import Hospital, make_hospital
from tests.support.kiosk import make_kiosk

# The Vietnamese messages as a page shows them (the msgid up to its first placeholder).
NAME_MESSAGE = MESSAGES["name_invalid"].split("%")[0]
TEXT_MESSAGE = MESSAGES["text_invalid"].split("“")[0]
ADDRESS_MESSAGE = MESSAGES["address_invalid"].split("(")[0]

GOOD = {
    "doc_type": "cccd",
    "doc_number": "034303011829",
    "full_name": "Nguyễn Thị Hoa",
    "birth_date": "2003-03-21",
    "sex": "F",
    "address": "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
}

# (field, value, code, forms can carry it)
HOSTILE_PERSON = [
    ("full_name", "Nguyễn\x00 Thị Hoa", "name_invalid", True),
    ("full_name", "Nguyễn Thị \u202eHoa", "name_invalid", True),
    ("full_name", "Ngu\u200byễn Thị Hoa", "name_invalid", True),
    ("full_name", "Nguyễn Thị Hoa 😀", "name_invalid", True),
    ("full_name", "Иван Петров", "name_invalid", True),
    ("full_name", '=HYPERLINK("http://evil.example","Hoa")', "name_invalid", True),
    ("full_name", "+Nguyễn Thị Hoa", "name_invalid", True),
    ("full_name", "-Nguyễn Thị Hoa", "name_invalid", True),
    ("full_name", "@SUM(A1)", "name_invalid", True),
    ("full_name", "<script>alert(1)</script>", "name_invalid", True),
    ("full_name", "Nguyễn \ud800Hoa", "name_invalid", False),  # a lone surrogate: JSON can send it, a form cannot
    ("full_name", "Nguyễn " * 30, "name_too_long", True),
    ("address", "=1+2", "address_invalid", True),
    ("address", "Thôn 3\x00, xã Yên Bình", "address_invalid", True),
    ("address", "Thôn 3 \u202e, xã Yên Bình", "address_invalid", True),
    ("address", "Thôn 3 🏠", "address_invalid", True),
]
FORM_HOSTILE = [case for case in HOSTILE_PERSON if case[3]]
LONE_SURROGATE = "\ud800"
HOSTILE_TEXT = ["Du lịch\x00", "Du lịch\u202e", "Du\x1blịch", "Du lịch\ud800"]
FORM_TEXT = HOSTILE_TEXT[:3]


def ids(cases: list[Any]) -> list[str]:
    return [f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(cases)]


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def est(factory: Factory) -> Establishment:
    return factory.establishment(code="KS-SEN")


@pytest.fixture
def api(client: FlaskClient, factory: Factory, est: Establishment) -> Any:
    headers = {"Authorization": f"Bearer {factory.token(est)}"}

    class Api:
        def post(self, path: str, body: Any, **kw: Any) -> Any:
            return client.post(f"/api/v1{path}", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})

        def get(self, path: str, **kw: Any) -> Any:
            return client.get(f"/api/v1{path}", headers=headers, **kw)

    return Api()


@pytest.fixture
def clerk(app: Flask, factory: Factory, est: Establishment) -> FlaskClient:
    return client_as(app, factory.user(Role.CLERK, establishment=est))


def stay_body(*guests: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"reason": "Du lịch", "guests": list(guests), **extra}


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def nothing_stored() -> bool:
    return count(Person) == 0 and count(Stay) == 0 and count(StayEvent) == 0


def page_text(response: Any) -> str:
    return unicodedata.normalize("NFC", html.unescape(response.get_data(as_text=True)))


# --- the JSON API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "code", "_form"), HOSTILE_PERSON, ids=ids(HOSTILE_PERSON))
def test_api_refuses_a_hostile_person_field(api: Any, field: str, value: str, code: str, _form: bool) -> None:
    response = api.post("/stays", stay_body({**GOOD, field: value}))
    if LONE_SURROGATE in value:  # not valid JSON text (RFC 8259 §8.2): the body is refused before any field
        assert response.status_code == 400 and nothing_stored()
        return
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["codes"] == {f"guests.0.{field}": code}
    assert error["fields"][f"guests.0.{field}"]
    assert nothing_stored()


def test_api_messages_are_vietnamese_and_english(api: Any) -> None:
    body = stay_body({**GOOD, "full_name": "Nguyễn \u202eHoa"})
    vi = api.post("/stays", body).get_json()["error"]["fields"]["guests.0.full_name"][0]
    en = api.post("/stays?lang=en", body).get_json()["error"]["fields"]["guests.0.full_name"][0]
    assert vi.startswith("Họ và tên chỉ được chứa chữ cái") and "U+202E" in vi
    assert en.startswith("The full name may hold only letters") and "U+202E" in en


@pytest.mark.parametrize("reason", HOSTILE_TEXT)
def test_api_refuses_control_characters_in_free_text(api: Any, reason: str) -> None:
    response = api.post("/stays", stay_body(GOOD, reason=reason))
    if LONE_SURROGATE in reason:  # not valid JSON text (RFC 8259 §8.2): the body is refused before any field
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
        assert nothing_stored()
        return
    assert response.status_code == 422
    assert response.get_json()["error"]["codes"] == {"reason": "text_invalid"}
    response = api.post("/stays", stay_body(GOOD, room="10\x001"))
    assert response.status_code == 422 and response.get_json()["error"]["codes"] == {"room": "text_invalid"}
    assert nothing_stored()
    filed = api.post("/stays", stay_body(GOOD))
    assert filed.status_code == 201, filed.get_json()
    stay_id = filed.get_json()["stays"][0]["id"]
    refused = api.post(f"/stays/{stay_id}/cancel", {"reason": reason})
    assert refused.status_code == 422 and refused.get_json()["error"]["codes"] == {"reason": "text_invalid"}
    db.session.expire_all()
    stay = db.session.get(Stay, stay_id)
    assert stay is not None and stay.status == StayStatus.IN_HOUSE and stay.cancel_reason is None
    assert api.post(f"/stays/{stay_id}/move", {"room": "101\u202e"}).status_code == 422
    assert count(StayEvent) == 1


def test_api_qr_parse_refuses_what_the_typed_fields_refuse(api: Any) -> None:
    for qr, code in [
        (CARD.replace("Nguyễn Thị Hoa", '=HYPERLINK("x")'), "name_invalid"),
        (CARD.replace("Thôn Lai Ổn", "Thôn\u202e Lai Ổn"), "address_invalid"),
    ]:
        response = api.post("/id-cards/parse", {"text": qr})
        assert response.status_code == 422 and response.get_json()["error"]["code"] == code
        response = api.post("/stays", stay_body({"qr": qr}))
        assert response.status_code == 422 and response.get_json()["error"]["codes"] == {"guests.0.qr": code}
    assert nothing_stored()


# --- the desk pages ---------------------------------------------------------------------------------------------


def desk_guest(values: dict[str, str], key: str = "g1") -> dict[str, str]:
    return {f"guests-{key}-{name}": value for name, value in values.items()}


def arrival() -> str:
    return to_local(utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(("field", "value", "code", "_form"), FORM_HOSTILE, ids=ids(FORM_HOSTILE))
def test_desk_check_in_shows_the_fields_message_and_stores_nothing(
    clerk: FlaskClient, est: Establishment, field: str, value: str, code: str, _form: bool
) -> None:
    data = {**desk_guest({**GOOD, field: value}), "reason": "Du lịch", "arrived_at": arrival(), "action": "file"}
    response = post_check_in(clerk, est.code, data)
    assert response.status_code == 422
    body = page_text(response)
    expected = {"name_invalid": NAME_MESSAGE, "address_invalid": ADDRESS_MESSAGE}.get(code, "tối đa")
    assert expected in body
    assert nothing_stored()


@pytest.mark.parametrize("reason", FORM_TEXT)
def test_desk_refuses_control_characters_in_reasons(clerk: FlaskClient, est: Establishment, reason: str) -> None:
    data = {**desk_guest(GOOD), "reason": reason, "arrived_at": arrival(), "action": "file"}
    response = post_check_in(clerk, est.code, data)
    assert response.status_code == 422 and TEXT_MESSAGE in page_text(response)
    assert nothing_stored()
    data["reason"] = "Du lịch"
    assert post_check_in(clerk, est.code, data).status_code == 303
    stay = db.session.scalars(select(Stay)).one()
    cancel = clerk.post(
        f"/co-so/{est.code}/luu-tru/{stay.id}/huy", data={"reason": reason}, headers=htmx_headers(clerk)
    )
    assert cancel.status_code == 422 and TEXT_MESSAGE in page_text(cancel)
    db.session.expire_all()
    assert stay.status == StayStatus.IN_HOUSE and count(StayEvent) == 1


def test_owner_room_names_refuse_control_characters(app: Flask, factory: Factory, est: Establishment) -> None:
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    rooms = count(Room)
    response = owner.post(f"/co-so/{est.code}/phong", data={"names": "301 3\u202e02", "csrf_token": csrf_token(owner)})
    assert response.status_code in (302, 303)
    assert TEXT_MESSAGE in page_text(owner.get(response.headers["Location"]))
    assert count(Room) == rooms


# --- the kiosk ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "code", "_form"), HOSTILE_PERSON[:6], ids=ids(HOSTILE_PERSON[:6]))
def test_kiosk_manual_entry_refuses_a_hostile_name(
    app: Flask, factory: Factory, est: Establishment, field: str, value: str, code: str, _form: bool
) -> None:
    kiosk = make_kiosk(app, factory, est=est)
    manual = {k: GOOD[k] for k in ("doc_type", "doc_number", "birth_date", "sex")} | {"full_name": "x", field: value}
    key = str(uuid.uuid4())
    approval = kiosk.approve(key).get_json()["approval"]
    body = {"flow": "hotel_check_in", "reason": "Du lịch", "guests": [{"manual": manual}], "approval": approval}
    response = kiosk.submit(body, key=key)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["codes"] == {f"guests.0.{field}": code}
    assert nothing_stored()


# --- hospitals ---------------------------------------------------------------------------------------------------


@pytest.fixture
def hospital(factory: Factory) -> Hospital:
    return make_hospital(factory, code="BV-SEN")


def event(patient: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"adm-{uuid.uuid4().hex[:8]}",
        "type": "admission",
        "admission_id": "A1",
        "occurred_at": (utcnow() - timedelta(minutes=30)).isoformat(),
        "bed": "K1-101-1",
        "patient": patient,
        **extra,
    }


@pytest.mark.parametrize(("field", "value", "code", "_form"), HOSTILE_PERSON, ids=ids(HOSTILE_PERSON))
def test_hospital_events_refuse_a_hostile_patient(
    client: FlaskClient, factory: Factory, hospital: Hospital, field: str, value: str, code: str, _form: bool
) -> None:
    headers = {"Authorization": f"Bearer {factory.token(hospital.est, name='his')}"}
    patient = {**GOOD, field: value}
    provisional = {"doc_type": "none", "full_name": value, "birth_date": "2020-05-01"}
    batch = [event(patient)] + ([event(provisional, admission_id="A2")] if field == "full_name" else [])
    response = client.post("/api/v1/hospital/events", json={"events": batch}, headers=headers)
    if LONE_SURROGATE in value:  # not valid JSON text: the whole body is refused, nothing filed
        assert response.status_code == 400 and nothing_stored()
        return
    assert response.status_code == 200
    for result in response.get_json()["results"]:
        assert result["status"] == "refused"
        assert result["error"]["code"] == code and f"patient.{field}" in result["error"]["fields"]
    assert nothing_stored()


def test_hospital_events_refuse_control_characters_in_ids(
    client: FlaskClient, factory: Factory, hospital: Hospital
) -> None:
    headers = {"Authorization": f"Bearer {factory.token(hospital.est, name='his')}"}
    batch = [
        event(GOOD, event_id="e\x00"),
        event(GOOD, admission_id="A\x001"),
        event(GOOD, bed="K1-101-1\x00"),
        {"event_id": "d1", "type": "discharge", "admission_id": "A\u202e", "occurred_at": utcnow().isoformat()},
    ]
    response = client.post("/api/v1/hospital/events", json={"events": batch}, headers=headers)
    assert response.status_code == 200
    assert [r["error"]["code"] for r in response.get_json()["results"]] == ["event_invalid"] * 4
    assert nothing_stored()


def test_hospital_desk_refuses_hostile_names_and_relations(app: Flask, factory: Factory, hospital: Hospital) -> None:
    clerk = client_as(app, factory.user(Role.CLERK, establishment=hospital.est))
    code = hospital.est.code

    def post(url: str, data: dict[str, Any]) -> Any:
        return clerk.post(url, data=MultiDict([*data.items(), ("csrf_token", csrf_token(clerk))]))

    provisional = {
        "mode": "provisional",
        "record_no": "BA-1",
        "p_full_name": "Bé \u202eAn",
        "p_birth_date": "2018-06-01",
        "p_nationality": "VNM",
        "bed_id": hospital.bed("K1-102-1").id,
        "arrived_at": arrival(),
    }
    response = post(f"/benh-vien/{code}/nhap-vien", provisional)
    assert response.status_code == 422 and NAME_MESSAGE in page_text(response)
    document = {**desk_guest({**GOOD, "full_name": "=cmd|' /C calc'!A0"}), "mode": "document"}
    response = post(f"/benh-vien/{code}/nhap-vien", {**document, "bed_id": hospital.bed("K1-101-1").id})
    assert response.status_code == 422 and NAME_MESSAGE in page_text(response)
    assert nothing_stored()
    admitted = post(f"/benh-vien/{code}/nhap-vien", {**provisional, "p_full_name": "bé an"})
    assert admitted.status_code == 303
    stay = db.session.scalars(select(Stay)).one()
    assert stay.person.full_name == "Bé An" and stay.person.search_key == "be an"
    carer = {**desk_guest(GOOD), "relation": "Mẹ\x00", "replaces": "", "arrived_at": arrival()}
    response = post(f"/benh-vien/{code}/benh-nhan/{stay.id}/nguoi-cham-soc", carer)
    assert response.status_code == 422 and TEXT_MESSAGE in page_text(response)
    assert count(Carer) == 0 and count(Stay) == 1


# --- the police -------------------------------------------------------------------------------------------------


@pytest.fixture
def officer(app: Flask, factory: Factory, est: Establishment) -> FlaskClient:
    return client_as(app, factory.user(Role.OFFICER, commune=est.commune_code))


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\x1b", "\x7f"])
def test_police_search_never_fails_on_control_characters(
    app: Flask, factory: Factory, officer: FlaskClient, bad: str
) -> None:
    token = csrf_token(officer)
    for fields in (
        {"doc_number": f"0343{bad}03011829", "reason": "Xác minh tin báo"},
        {"full_name": f"Nguyễn{bad} Thị Hoa", "birth_date": "2003-03-21", "reason": "Xác minh tin báo"},
        {"full_name": "Nguyễn Thị Hoa", "birth_date": f"2003-03-21{bad}", "reason": "Xác minh tin báo"},
    ):
        response = officer.post("/cong-an/tra-cuu", data={**fields, "csrf_token": token})
        assert response.status_code in (200, 422)
    response = officer.post(
        "/cong-an/tra-cuu", data={"doc_number": "034303011829", "reason": f"Xác minh{bad}", "csrf_token": token}
    )
    assert response.status_code == 422 and TEXT_MESSAGE in page_text(response)
    assert officer.get(f"/cong-an/nguoi/1?ly_do=Xem{bad}+hồ+sơ").status_code in (404, 422)
    supervisor = client_as(app, factory.user(Role.SUPERVISOR, province="01"))
    assert supervisor.get(f"/cong-an/?xa=00004{bad}").status_code == 404
    report = {"kind": "establishment", "fmt": "csv", "from": "2026-01-01", "to": "2026-01-31"}
    report |= {"establishment": f"KS-SEN{bad}", "csrf_token": csrf_token(supervisor)}
    assert supervisor.post("/cong-an/bao-cao", data=report).status_code == 422


def test_a_reason_with_a_control_character_is_refused_on_the_record_page(
    officer: FlaskClient, api: Any, est: Establishment
) -> None:
    assert api.post("/stays", stay_body(GOOD)).status_code == 201
    person = db.session.scalars(select(Person)).one()
    response = officer.get(f"/cong-an/nguoi/{person.id}?ly_do=Xem+h%E1%BB%93+s%C6%A1%E2%80%AE")
    assert response.status_code == 422 and TEXT_MESSAGE in page_text(response)
    assert GOOD["doc_number"] not in page_text(response)


def test_watch_list_notes_refuse_control_characters(officer: FlaskClient) -> None:
    token = csrf_token(officer)
    response = officer.post(
        "/cong-an/theo-doi", data={"numbers": "034303011829", "note": "Truy nã\u202e", "csrf_token": token}
    )
    assert response.status_code == 422 and TEXT_MESSAGE in page_text(response)
    response = officer.post(
        "/cong-an/theo-doi", data={"numbers": "034303011829;Ghi chú\x00\n001085012345;Bình thường", "csrf_token": token}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert [(e.doc_number, e.note) for e in db.session.scalars(select(WatchEntry))] == [("001085012345", "Bình thường")]


def test_an_alert_close_note_refuses_control_characters(officer: FlaskClient, api: Any) -> None:
    token = csrf_token(officer)
    officer.post("/cong-an/theo-doi", data={"numbers": GOOD["doc_number"], "note": "Theo dõi", "csrf_token": token})
    assert api.post("/stays", stay_body(GOOD)).status_code == 201
    alert = db.session.scalars(select(Alert)).one()
    response = officer.post(f"/cong-an/canh-bao/{alert.id}/dong", data={"note": "Xong\x00", "csrf_token": token})
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert alert.state == "new" and alert.close_note is None


# --- the CLI -----------------------------------------------------------------------------------------------------


ADDRESS_ARGS = ("--address", "1 Phố Huế", "--commune", "00004")


def test_cli_refuses_control_characters(app: Flask, est: Establishment, hospital: Hospital) -> None:
    runner = app.test_cli_runner()
    rooms, wards, users = count(Room), count(Ward), count(User)
    for args in (
        ["establishments", "add-rooms", est.code, "401", "4\x0002"],
        ["establishments", "create", "--code", "KS-X", "--name", "Khách sạn\u202e", "--type", "hotel", *ADDRESS_ARGS],
        ["hospital", "add-ward", hospital.est.code, "--ward", "K9", "--name", "Khoa\x00 Nhi", "--beds", "P9:2"],
        ["users", "create", "--username", "bad\x00user", "--role", "admin", "--password", "mat-khau-dai-1"],
        ["users", "create", "--username", "ok", "--role", "admin", "--password", "x" * 10, "--full-name", "Quản\u202e"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, (args, result.output)
        assert "text_invalid" in result.output or "ký tự điều khiển" in result.output, result.output
    assert (count(Room), count(Ward), count(User)) == (rooms, wards, users)
    assert count(Establishment) == 2


def test_a_login_name_with_a_control_character_is_a_failed_login(client: FlaskClient, factory: Factory) -> None:
    factory.user(Role.ADMIN, username="quantri")
    for username in ("quantri\x00", "quan\u202etri", "\x00"):
        data = {"username": username, "password": "secret-pass-1", "csrf_token": csrf_token(client)}
        assert client.post("/dang-nhap", data=data).status_code == 401
