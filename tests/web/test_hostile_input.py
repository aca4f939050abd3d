"""Hostile input, by hand: NUL bytes, bidi overrides, 2^31 and 2^63, JSON nested 50,000 deep, 10 MB bodies, the
years 0 and 9999, formula leaders. Through the API, the desk forms (check-in, stay actions, search), the police
person search and QR parsing (API and desk scan). Every answer is a 4xx or a clean success, never a 5xx, and a
refused request stores nothing.

Whether a name with a NUL or a bidi override is refused is the text rules' business (one module for person
fields); here it must simply never be a 500, and never half-stored. On PostgreSQL, which cannot store a NUL,
such a value is refused (422 `value_invalid`) by the error handler after a rollback.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select, text
from werkzeug.test import TestResponse

from asm.accounts.models import AccessLog, Role
from asm.api.idempotency import IdempotencyRecord
from asm.clock import VN_TZ
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import Stay, StayEvent
from asm.web.access import public
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import client_as, use_fast_password_hashes

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=VN_TZ)
NUL = "Nguyễn\x00Thị Hoa"
BIDI = "Nguyễn \u202eaoH ịhT"
FORMULAS = ('=HYPERLINK("http://x")', "+84 1", "-1+1", "@SUM(A1)")
INT31 = 2**31
INT63 = 2**63
DEEP = 50_000
TEN_MB = 10 * 1024 * 1024
HOA = {"doc_number": "034303011829", "full_name": "Nguyễn Thị Hoa", "birth_date": "2003-03-21", "sex": "F"}

ROWS = (Stay, Person, StayEvent, IdempotencyRecord)


def counts() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) or 0 for m in ROWS)


def deep_json(depth: int = DEEP) -> bytes:
    return b'{"guests": ' + b"[" * depth + b"]" * depth + b', "reason": "x"}'


@pytest.fixture(autouse=True)
def _fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def clock() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.fixture
def est(factory: Factory) -> Establishment:
    return factory.establishment()


@pytest.fixture
def bearer(factory: Factory, est: Establishment) -> dict[str, str]:
    return {"Authorization": f"Bearer {factory.token(est)}"}


def judge(response: TestResponse, before: tuple[int, ...]) -> str:
    """A 4xx stores nothing; a 2xx/3xx is a clean success. Never a 5xx. Returns 'refused' or 'accepted'."""
    assert response.status_code < 500, response.get_data(as_text=True)[:800]
    if response.status_code >= 400:
        assert counts() == before, f"{response.status_code} but rows changed"
        if response.mimetype == "application/json":
            assert response.get_json()["error"]["code"]
        return "refused"
    assert "/dang-nhap" not in response.headers.get("Location", ""), "the session was lost: nothing was tested"
    return "accepted"


# --------------------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------------------


def guest(**fields: Any) -> dict[str, Any]:
    return {"guests": [{**HOA, **fields}], "reason": "Du lịch"}


API_BODIES: dict[str, dict[str, Any]] = {
    "name-nul": guest(full_name=NUL),
    "name-bidi": guest(full_name=BIDI),
    "address-nul": guest(address="Số 1\x00 Hàng Bài"),
    "doc-nul": guest(doc_number="0343030118\x0029"),
    "nationality-nul": guest(nationality="V\x00N"),
    "reason-nul": {**guest(), "reason": "Du\x00 lịch"},
    "room-nul": {**guest(), "room": "10\x001"},
    "qr-nul-bidi": {"guests": [{"qr": CARD.replace("Hoa", "H\x00oa\u202e")}], "reason": "Du lịch"},
    **{f"name-formula-{i}": guest(full_name=f) for i, f in enumerate(FORMULAS)},
    **{f"reason-formula-{i}": {**guest(), "reason": f} for i, f in enumerate(FORMULAS)},
    "arrived-year-0": {**guest(), "arrived_at": "0000-01-01T00:00:00Z"},
    "arrived-year-1": {**guest(), "arrived_at": "0001-01-01T00:00:00+07:00"},
    "arrived-9999": {**guest(), "arrived_at": "9999-12-31T23:59:59Z"},
    "arrived-9999-local": {**guest(), "arrived_at": "9999-12-31T23:59"},
    "departure-9999": {**guest(), "expected_departure": "9999-12-31"},
    "departure-year-0": {**guest(), "expected_departure": "0000-12-31"},
    "birth-year-0": guest(birth_date="0000-01-01"),
    "birth-9999": guest(birth_date="9999-12-31"),
    "doc-2^63": guest(doc_number=str(INT63)),
    "name-2^31": guest(full_name=INT31),
    "file-2^63": {**guest(), "file": INT63},
    "guests-2^31-items": {"guests": [{}] * 51, "reason": "x"},
    "long-name": guest(full_name="A" * 10_000),
    "long-reason": {**guest(), "reason": "x" * 100_000},
}


# Refused whatever the text rules say: impossible dates and numbers, wrong types, too long.
API_REFUSED = {name for name in API_BODIES if re.search(r"year|9999|2\^|long|items", name)}


@pytest.mark.parametrize("name", API_BODIES)
def test_api_check_in(client: FlaskClient, bearer: dict[str, str], clock: None, name: str) -> None:
    before = counts()
    response = client.post("/api/v1/stays", json=API_BODIES[name], headers=bearer)
    outcome = judge(response, before)
    if name in API_REFUSED:
        assert (outcome, response.status_code) == ("refused", 422), response.get_json()
    elif outcome == "accepted":
        assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        deep_json(),
        b"[" * DEEP + b"]" * DEEP,
        b'{"guests": "' + b"x" * TEN_MB + b'"}',
        b"\xff\xfe{",
        b'{"a": "\\ud800"}',
    ],
    ids=["nested-50000", "array-50000", "ten-mb", "not-utf8", "lone-surrogate"],
)
@pytest.mark.parametrize("path", ["/stays", "/id-cards/parse", "/hospital/events", "/stays/1/check-out"])
def test_api_bodies_that_cannot_be_read(client: FlaskClient, bearer: dict[str, str], body: bytes, path: str) -> None:
    before = counts()
    response = client.post(f"/api/v1{path}", data=body, content_type="application/json", headers=bearer)
    expected = (400, 403, 404, 413)  # 403: a hotel token at the hospital route; 404: no stay 1, before the body
    assert response.status_code in expected, response.get_data()[:300]
    assert response.mimetype == "application/json"
    judge(response, before)


def test_api_a_10_mb_image_is_413(client: FlaskClient, bearer: dict[str, str]) -> None:
    response = client.post("/api/v1/id-cards/decode", data=b"\x89PNG" + b"0" * TEN_MB, headers=bearer)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize(
    "stay_id", [str(INT31), str(INT63), "-1", "9" * 5000, "١"], ids=["2^31", "2^63", "-1", "5000-digits", "arabic-1"]
)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", "/check-out"), ("POST", "/extend"), ("POST", "/move"), ("POST", "/cancel")],
)
def test_api_ids_out_of_range_are_404(
    client: FlaskClient, bearer: dict[str, str], stay_id: str, method: str, suffix: str
) -> None:
    response = client.open(f"/api/v1/stays/{stay_id}{suffix}", method=method, json={}, headers=bearer)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    [
        {"q": "\x00"},
        {"q": "\u202e"},
        {"q": "=1+1"},
        {"limit": str(INT31)},
        {"limit": str(INT63)},
        {"limit": "-1"},
        {"cursor": "\x00"},
        {"cursor": "MDAwMC0wMS0wMVQwMDowMDowMCswMDowMHwx"},  # year 0
        {"cursor": "OTk5OS0xMi0zMVQyMzo1OTo1OSswMDowMHw5MjIzMzcyMDM2ODU0Nzc1ODA4"},  # 9999, id 2^63
    ],
)
def test_api_list_parameters(client: FlaskClient, bearer: dict[str, str], query: dict[str, str]) -> None:
    response = client.get("/api/v1/stays", query_string=query, headers=bearer)
    assert response.status_code in (200, 422), response.get_data()[:300]


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("/check-out", {"departed_at": "9999-12-31T23:59:59Z"}),
        ("/check-out", {"departed_at": "0000-01-01T00:00:00Z"}),
        ("/extend", {"expected_departure": "9999-12-31"}),
        ("/extend", {"expected_departure": "0000-01-01"}),
        ("/move", {"room": "\x00"}),
        ("/move", {"room": INT63}),
        ("/cancel", {"reason": "Nhầm\x00"}),
        ("/cancel", {"reason": '=HYPERLINK("x")'}),
    ],
)
def test_api_stay_changes(
    client: FlaskClient, bearer: dict[str, str], clock: None, suffix: str, body: dict[str, Any]
) -> None:
    created = client.post("/api/v1/stays", json=guest(), headers=bearer)
    stay_id = created.get_json()["stays"][0]["id"]
    before = counts()
    response = client.post(f"/api/v1/stays/{stay_id}{suffix}", json=body, headers=bearer)
    judge(response, before)


@pytest.mark.parametrize(
    "headers", [{"Idempotency-Key": "a\x00b"}, {"Idempotency-Key": "\u202e" * 3}, {"Idempotency-Key": "x" * 101}]
)
def test_api_idempotency_keys(
    client: FlaskClient, bearer: dict[str, str], clock: None, headers: dict[str, str]
) -> None:
    before = counts()
    response = client.post("/api/v1/stays", json=guest(), headers={**bearer, **headers})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "idempotency_key_invalid"
    judge(response, before)


@pytest.mark.parametrize(
    "text",
    [CARD + "\x00", CARD.replace("Hoa", "Hoa\u202e"), CARD.replace("Nguyễn", "=Nguyễn"), "\x00" * 1000, "|" * 100_000],
    ids=["nul", "bidi", "formula", "nuls", "pipes"],
)
def test_api_qr_parse(client: FlaskClient, bearer: dict[str, str], text: str) -> None:
    response = client.post("/api/v1/id-cards/parse", json={"text": text}, headers=bearer)
    assert response.status_code in (200, 422)


def test_hospital_events_with_hostile_fields(client: FlaskClient, factory: Factory, clock: None) -> None:
    from tests.support.hospital import make_hospital

    hospital = make_hospital(factory)
    headers = {"Authorization": f"Bearer {factory.token(hospital.est)}"}
    base = {"type": "admission", "admission_id": "A1", "occurred_at": "2026-03-14T10:00:00+07:00", "bed": "K1-101-1"}
    events = [
        {**base, "event_id": "e0", "occurred_at": "9999-12-31T23:59:59Z", "patient": HOA},
        {**base, "event_id": "e1", "occurred_at": "0000-01-01T00:00:00Z", "patient": HOA},
        {**base, "event_id": "e\x002", "patient": HOA},
        {**base, "event_id": "e3", "admission_id": "A\x003", "patient": HOA},
        {**base, "event_id": "e4", "bed": "\u202eK1", "patient": HOA},
        {**base, "event_id": "e5", "patient": {**HOA, "full_name": NUL}},
        {**base, "event_id": "e6", "patient": {**HOA, "birth_date": "9999-12-31"}},
        {**base, "event_id": "e7", "patient": {**HOA, "full_name": "=1+1"}},
        {**base, "event_id": "e8", "expected_discharge": "9999-12-31", "patient": HOA},
        {**base, "event_id": str(INT63), "with_carers": INT63, "patient": HOA},
    ]
    for event in events:
        before = counts()
        response = client.post("/api/v1/hospital/events", json={"events": [event]}, headers=headers)
        assert response.status_code in (200, 422), (event, response.get_data()[:500])
        [result] = response.get_json()["results"] if response.status_code == 200 else [{"status": "refused"}]
        if result["status"] == "refused":
            assert counts() == before, event


# --------------------------------------------------------------------------------------------------------
# The desk: check-in form, stay actions, search, scan
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def desk(app: Flask, factory: Factory, est: Establishment, clock: None) -> FlaskClient:
    return client_as(app, factory.user(Role.CLERK, establishment=est))


def check_in_form(**fields: str) -> dict[str, str]:
    person = {
        "doc_type": "cccd",
        "doc_number": HOA["doc_number"],
        "full_name": HOA["full_name"],
        "birth_date": "21/03/2003",
        "sex": "F",
    }
    form = {f"guests-g1-{k}": v for k, v in person.items()}
    form.update(reason="Du lịch", arrived_at="2026-03-14T14:30", expected_departure="2026-03-16", action="file")
    for name, value in fields.items():
        form[f"guests-g1-{name[6:]}" if name.startswith("guest_") else name] = value
    return form


DESK_FORMS = {
    "name-nul": check_in_form(guest_full_name=NUL),
    "name-bidi": check_in_form(guest_full_name=BIDI),
    **{f"name-formula-{i}": check_in_form(guest_full_name=f) for i, f in enumerate(FORMULAS)},
    "address-nul": check_in_form(guest_address="Số\x001"),
    "reason-nul": check_in_form(reason="Du\x00 lịch"),
    "room-2^31": check_in_form(room_id=str(INT31)),
    "room-2^63": check_in_form(room_id=str(INT63)),
    "room-minus-2^63": check_in_form(room_id=str(-INT63)),
    "arrived-year-0": check_in_form(arrived_at="0000-01-01T00:00"),
    "arrived-year-1": check_in_form(arrived_at="0001-01-01T00:00"),
    "arrived-9999": check_in_form(arrived_at="9999-12-31T23:59"),
    "departure-9999": check_in_form(expected_departure="9999-12-31"),
    "departure-year-1": check_in_form(expected_departure="0001-01-01"),
    "birth-year-0": check_in_form(guest_birth_date="0000-01-01"),
    "birth-9999": check_in_form(guest_birth_date="31/12/9999"),
    "issue-9999": check_in_form(guest_id_issue_date="9999-12-31"),
}


# An arrival or birth date out of range is refused. A room id or departure the form cannot hold is read as none,
# as for any unreadable value (a select box and a date picker send neither).
DESK_REFUSED = {name for name in DESK_FORMS if re.search(r"(arrived|birth)-(year|9999)", name)}


@pytest.mark.parametrize("name", DESK_FORMS)
def test_desk_check_in(desk: FlaskClient, est: Establishment, name: str) -> None:
    before = counts()
    response = desk.post(f"/co-so/{est.code}/nhan-phong", data={**DESK_FORMS[name], "csrf_token": csrf_token(desk)})
    outcome = judge(response, before)
    if name in DESK_REFUSED:
        assert (outcome, response.status_code) == ("refused", 422)


def test_desk_a_10_mb_form_is_413(desk: FlaskClient, est: Establishment) -> None:
    before = counts()
    response = desk.post(
        f"/co-so/{est.code}/nhan-phong", data={**check_in_form(reason="x" * TEN_MB), "csrf_token": csrf_token(desk)}
    )
    assert response.status_code == 413
    judge(response, before)


@pytest.fixture
def stay_id(desk: FlaskClient, est: Establishment, clock: None) -> int:
    response = desk.post(f"/co-so/{est.code}/nhan-phong", data={**check_in_form(), "csrf_token": csrf_token(desk)})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    db.session.rollback()
    return db.session.scalars(select(Stay.id)).one()


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("gia-han", {"until": "9999-12-31"}),
        ("gia-han", {"until": "0001-01-01"}),
        ("gia-han", {"until": "31/12/9999"}),
        ("chuyen-phong", {"room_id": str(INT31)}),
        ("chuyen-phong", {"room_id": str(INT63)}),
        ("chuyen-phong", {"room_id": "9" * 5000}),
        ("huy", {"reason": "Nhầm\x00"}),
        ("huy", {"reason": "\u202e"}),
        ("huy", {"reason": "=cmd|' /C calc'!A0"}),
        ("tra-phong", {"group": "\x00"}),
    ],
)
def test_desk_stay_actions(
    desk: FlaskClient, est: Establishment, stay_id: int, action: str, form: dict[str, str]
) -> None:
    before = counts()
    response = desk.post(f"/co-so/{est.code}/luu-tru/{stay_id}/{action}", data={**form, "csrf_token": csrf_token(desk)})
    judge(response, before)


@pytest.mark.parametrize("path", [f"/luu-tru/{INT31}", f"/luu-tru/{INT63}", "/luu-tru/-1", f"/luu-tru/{INT63}/huy"])
def test_desk_ids_out_of_range_are_404(desk: FlaskClient, est: Establishment, path: str) -> None:
    method = "POST" if path.endswith("huy") else "GET"
    response = desk.open(f"/co-so/{est.code}{path}", method=method, data={"csrf_token": csrf_token(desk)})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [{"q": "\x00"}, {"q": "\u202e"}, {"q": "=1"}, {"q": "%"}, {"q": "x" * 100_000}, {"page": str(INT63)}],
)
def test_desk_search_and_history(desk: FlaskClient, est: Establishment, query: dict[str, str]) -> None:
    path = "lich-su" if "page" in query else ""
    response = desk.get(f"/co-so/{est.code}/{path}", query_string=query)
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(
    "text",
    [CARD + "\x00", CARD.replace("Hoa", "Hoa\u202e"), CARD.replace("Nguyễn", "@Nguyễn"), "\x00", "|" * 100_000],
)
def test_desk_scan(desk: FlaskClient, est: Establishment, text: str) -> None:
    response = desk.post(f"/co-so/{est.code}/quet", data={"text": text, "csrf_token": csrf_token(desk)})
    assert response.status_code in (200, 422)


# --------------------------------------------------------------------------------------------------------
# Police: person search
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def police(app: Flask, factory: Factory, est: Establishment, clock: None) -> FlaskClient:
    return client_as(app, factory.user(Role.OFFICER, commune=est.commune_code))


POLICE_SEARCHES = {
    "doc-nul": {"doc_number": "0343\x0003011829"},
    "name-nul": {"full_name": NUL, "birth_date": "2003-03-21"},
    "name-bidi": {"full_name": BIDI, "birth_date": "2003-03-21"},
    "name-formula": {"full_name": "=HYPERLINK(1)", "birth_date": "2003-03-21"},
    "birth-year-0": {"full_name": "Hoa", "birth_date": "0000-01-01"},
    "birth-year-1": {"full_name": "Hoa", "birth_date": "0001-01-01"},
    "birth-9999": {"full_name": "Hoa", "birth_date": "9999-12-31"},
    "doc-2^63": {"doc_number": str(INT63)},
    "reason-nul": {"doc_number": "034303011829", "reason": "Xác minh\x00 theo yêu cầu"},
}


@pytest.mark.parametrize("form", POLICE_SEARCHES.values(), ids=POLICE_SEARCHES.keys())
def test_police_person_search(police: FlaskClient, form: dict[str, str]) -> None:
    logged = db.session.scalar(select(func.count()).select_from(AccessLog))
    data = {"reason": "Xác minh theo yêu cầu công tác", **form, "csrf_token": csrf_token(police)}
    response = police.post("/cong-an/tra-cuu", data=data)
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:500]
    db.session.rollback()
    now_logged = db.session.scalar(select(func.count()).select_from(AccessLog))
    assert now_logged == logged + (1 if response.status_code == 200 else 0)  # a refused search logs nothing


@pytest.mark.parametrize(
    "path",
    [
        f"/cong-an/nguoi/{INT63}",
        "/cong-an/danh-sach/arrivals_today?ngay=0001-01-01",
        "/cong-an/danh-sach/arrivals_today?ngay=9999-12-31",
        f"/cong-an/danh-sach/arrivals_today?trang={INT63}",
    ],
)
def test_police_pages_with_hostile_parameters(police: FlaskClient, path: str) -> None:
    response = police.get(path)
    assert response.status_code in (200, 404, 422), response.get_data(as_text=True)[:500]


# --------------------------------------------------------------------------------------------------------
# The kiosk's JSON
# --------------------------------------------------------------------------------------------------------

KIOSK_BODIES = {
    "room-2^63": {"room_id": INT63},
    "room-minus-2^63": {"room_id": -INT63},
    "nights-2^63": {"nights": INT63},
    "nights-2^31": {"nights": INT31},
    "scanned-2^63": {"scanned_at_ms": INT63},
    "offset-2^63": {"scanned_at_ms": 0, "clock_offset_ms": -INT63},
    "reason-nul": {"reason": "Du\x00 lịch"},
    "qr-nul-bidi": {"guests": [{"qr": CARD.replace("Hoa", "H\x00oa\u202e")}]},
}


@pytest.mark.parametrize("name", KIOSK_BODIES)
def test_kiosk_submissions(app: Flask, factory: Factory, name: str) -> None:
    from tests.support.kiosk import make_kiosk

    kiosk = make_kiosk(app, factory)
    before = counts()
    body = {"flow": "hotel_check_in", "reason": "Du lịch", "guests": [{"qr": CARD}], **KIOSK_BODIES[name]}
    judge(kiosk.submit(body), before)
    deep = kiosk.client.post(
        "/kiosk/api/nop", data=deep_json(), content_type="application/json", headers={"X-CSRFToken": kiosk.csrf()}
    )
    assert deep.status_code == 400 and deep.get_json()["error"]["code"]


# --------------------------------------------------------------------------------------------------------
# Every <int:...> route of every blueprint, and every 405
# --------------------------------------------------------------------------------------------------------


def int_routes(app: Flask) -> list[tuple[str, str]]:
    """(rule, a method it takes) of every URL rule with an `<int:...>` id."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        method = next(m for m in sorted(rule.methods or ()) if m not in ("HEAD", "OPTIONS"))
        found.append((rule.rule, method))
    return found


def test_every_int_route_answers_404_for_ids_out_of_range(app: Flask, factory: Factory, est: Establishment) -> None:
    routes = int_routes(app)
    assert len(routes) >= 20 and {r.split("/")[1] for r, _ in routes} >= {"api", "co-so", "benh-vien", "cong-an"}
    admin = client_as(app, factory.user(Role.ADMIN))
    for rule, method in routes:
        for bad in (str(INT31), str(INT63), "-1", "9" * 30):
            url = rule
            for placeholder in re.findall(r"<[^>]+>", rule):
                url = url.replace(placeholder, bad if placeholder.startswith("<int") else "x", 1)
            response = admin.open(url, method=method, data={"csrf_token": csrf_token(admin)})
            assert response.status_code == 404, (rule, bad, response.status_code)


def test_every_405_carries_allow(app: Flask, client: FlaskClient) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        allowed = set(rule.methods or ())
        wrong = next((m for m in ("PUT", "DELETE", "PATCH") if m not in allowed), None)
        if wrong is None or "<" in rule.rule:
            continue
        response = client.open(rule.rule, method=wrong)
        if response.status_code == 405:
            checked += 1
            assert {m.strip() for m in response.headers["Allow"].split(",")} >= allowed - {"OPTIONS"}, rule.rule
    assert checked >= 10
    api = client.open("/api/v1/stays/1", method="DELETE", headers={"Accept": "application/json"})
    assert api.status_code == 405 and api.headers["Allow"] and api.get_json()["error"]["code"] == "method_not_allowed"


# --------------------------------------------------------------------------------------------------------
# The error handler itself never fails
# --------------------------------------------------------------------------------------------------------


def test_the_error_page_survives_a_failed_statement(app: Flask, factory: Factory) -> None:
    """A view whose statement failed (the session can run nothing until rolled back) and then broke: the error
    page, which reads the logged-in user from the database, still renders; JSON clients get JSON."""

    @public
    def broken() -> Any:
        with contextlib.suppress(Exception):  # the point: the view leaves the session failed
            db.session.execute(text("SELECT no_such_column FROM no_such_table"))
        if db.engine.dialect.name == "sqlite":  # SQLite's session is not left failed: make it so
            db.session.connection().exec_driver_sql("SELECT 1")
        raise RuntimeError("boom")

    app.add_url_rule("/test-broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = client_as(app, factory.user(Role.ADMIN))
    page = browser.get("/test-broken")
    assert page.status_code == 500
    assert "Về trang chính" in page.get_data(as_text=True)  # our page, with its navigation, not werkzeug's
    answer = browser.get("/test-broken", headers={"Accept": "application/json"})
    assert answer.status_code == 500 and answer.get_json()["error"]["code"] == "internal_server_error"


@pytest.fixture
def unchecked_view(app: Flask) -> None:
    """A view that sends a NUL to the database unchecked (registered before the app's first request)."""

    @public
    def unchecked() -> Any:
        db.session.execute(text("SELECT CAST(:value AS text)"), {"value": "Hoa\x00"})
        return "stored"

    app.add_url_rule("/test-unchecked", "test_unchecked", unchecked)


def test_a_value_the_database_refuses_is_422_and_rolls_back(
    app: Flask, unchecked_view: None, desk: FlaskClient, est: Establishment
) -> None:
    """PostgreSQL refuses a NUL in text with DataError: should a value ever reach it unchecked (the text rules
    stop them at every known entry: a search box drops a NUL, so the desk's search answers as usual), the answer is
    422, not 500, and the session is usable again."""
    assert desk.get(f"/co-so/{est.code}/", query_string={"q": "Hoa\x00"}).status_code == 200
    response = desk.get("/test-unchecked")
    assert response.status_code == (422 if db.engine.dialect.name == "postgresql" else 200)
    assert desk.get(f"/co-so/{est.code}/").status_code == 200
