"""Idempotency-Key on API writes: a retry returns the first answer and files nothing twice, also under concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from asm.extensions import db
from asm.filing import sql as filing
from asm.people.models import Person
from asm.stays import services
from asm.stays.models import EventKind, IdempotencyRecord, Stay, StayEvent
from tests.conftest import CARD, Factory
from tests.support.live import LiveResponse, live_server, request_json

HOA = {
    "doc_type": "cccd",
    "doc_number": "034303011829",
    "full_name": "Nguyễn Thị Hoa",
    "birth_date": "2003-03-21",
    "sex": "F",
}
BODY = {"guests": [HOA], "reason": "Du lịch", "room": "101"}
KEY = "3f0c1a52-6f5e-4a53-9d3b-7c1f7b0e2a11"


def auth(secret: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def post(client: FlaskClient, path: str, secret: str, body: Any, key: str | None = KEY) -> TestResponse:
    return client.post(f"/api/v1{path}", json=body, headers=auth(secret, key))


def count(model: type, *where: Any) -> int:
    db.session.rollback()  # a fresh look at what the requests committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def secret(factory: Factory) -> str:
    return factory.token(factory.establishment())


# --------------------------------------------------------------------------------------------------------
# One client, one request at a time
# --------------------------------------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_answer(client: FlaskClient, secret: str) -> None:
    first = post(client, "/stays", secret, BODY)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    retry = post(client, "/stays", secret, BODY)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert retry.mimetype == "application/json"
    assert count(Stay) == 1
    assert count(StayEvent) == 1


def test_without_a_key_a_retry_is_a_new_request(client: FlaskClient, secret: str) -> None:
    assert post(client, "/stays", secret, BODY, key=None).status_code == 201
    retry = post(client, "/stays", secret, BODY, key=None)
    assert retry.status_code in (409, 422)  # the guest is in house already: refused, not filed twice
    assert "Idempotent-Replayed" not in retry.headers
    assert count(Stay) == 1


def test_same_key_different_body_is_refused(client: FlaskClient, secret: str) -> None:
    first = post(client, "/stays", secret, BODY)
    assert first.status_code == 201
    other = post(client, "/stays", secret, {**BODY, "room": "102"})
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other.headers
    stay_id = first.get_json()["stays"][0]["id"]
    # another endpoint is another request too
    checkout = post(client, f"/stays/{stay_id}/check-out", secret, {})
    assert checkout.status_code == 422
    assert checkout.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(Stay, Stay.status == "in_house") == 1


def test_a_failed_request_stores_nothing_so_the_fixed_retry_files_once(client: FlaskClient, secret: str) -> None:
    wrong = post(client, "/stays", secret, {**BODY, "guests": [{**HOA, "doc_number": "03430301182"}]})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["codes"] == {"guests.0.doc_number": "id_number_format"}
    assert count(IdempotencyRecord) == 0
    assert count(Person) == 0

    fixed = post(client, "/stays", secret, BODY)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    again = post(client, "/stays", secret, BODY)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == fixed.get_json()
    assert count(Stay) == 1
    assert count(IdempotencyRecord) == 1


def test_a_conflict_stores_nothing(client: FlaskClient, secret: str) -> None:
    assert post(client, "/stays", secret, BODY, key=None).status_code == 201
    refused = post(client, "/stays", secret, BODY)
    assert refused.status_code in (409, 422)
    assert count(IdempotencyRecord) == 0


def test_keys_are_scoped_per_establishment(client: FlaskClient, factory: Factory, secret: str) -> None:
    other = factory.token(factory.establishment())
    first = post(client, "/stays", secret, BODY)
    second = post(client, "/stays", other, BODY)
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    one, two = first.get_json()["stays"][0], second.get_json()["stays"][0]
    assert one["id"] != two["id"] and one["receipt_no"] != two["receipt_no"]
    assert second.get_json()["warnings"]  # the same guest open at the first establishment
    assert count(Stay) == 2
    assert count(IdempotencyRecord) == 2


def test_a_change_with_a_key_is_done_once(client: FlaskClient, secret: str) -> None:
    stay_id = post(client, "/stays", secret, BODY, key=None).get_json()["stays"][0]["id"]
    first = post(client, f"/stays/{stay_id}/check-out", secret, {}, key="out-1")
    retry = post(client, f"/stays/{stay_id}/check-out", secret, {}, key="out-1")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["receipt_no"] == first.get_json()["receipt_no"]
    assert count(StayEvent, StayEvent.kind == EventKind.CHECK_OUT) == 1
    # without the key, a second check-out is what it is: refused
    assert post(client, f"/stays/{stay_id}/check-out", secret, {}, key="out-2").status_code == 422


@pytest.mark.parametrize("key", ["", "   ", "k" * 101])
def test_an_invalid_key_is_refused(client: FlaskClient, secret: str, key: str) -> None:
    response = post(client, "/stays", secret, BODY, key=key)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_invalid"
    assert count(Stay) == 0


def test_a_key_of_100_characters_is_fine(client: FlaskClient, secret: str) -> None:
    assert post(client, "/stays", secret, BODY, key="k" * 100).status_code == 201


# --------------------------------------------------------------------------------------------------------
# Concurrent requests on a real threaded server (PostgreSQL: row locks and unique indexes across connections)
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    db.session.commit()  # nothing pending in the test thread while the server threads write
    with live_server(app) as url:
        yield url


def fire_together(n: int, send: Any) -> list[LiveResponse]:
    """Run ``send()`` in ``n`` threads released at the same instant by a barrier."""
    barrier = threading.Barrier(n)

    def one(_: int) -> LiveResponse:
        barrier.wait(timeout=30)
        return send()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


@pytest.fixture
def slow_check_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each check-in's transaction open a little after its writes, so that the racing requests surely arrive
    while the first one is still uncommitted (the barrier alone makes that likely, not certain)."""
    real = services.check_in

    def slow(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        time.sleep(0.2)
        return result

    monkeypatch.setattr(services, "check_in", slow)
    # The API's one-statement filing on PostgreSQL (asm/filing/sql.py): the statement sleeps before it ends.
    for name in ("WRITE_SQL", "WRITE_SQL_NO_KEY"):
        head, end, tail = getattr(filing, name).rpartition("FROM stay,elsewhere")
        assert end, "the filing statement's last FROM has moved: update this fixture"
        monkeypatch.setattr(filing, name, f"{head}FROM stay,elsewhere,(SELECT pg_sleep(0.2)) AS pause{tail}")


@pytest.mark.postgres_only
@pytest.mark.usefixtures("slow_check_in")
def test_20_concurrent_requests_with_one_key_file_exactly_one_stay(live: str, secret: str) -> None:
    body = {"guests": [{"qr": CARD}], "reason": "Du lịch", "room": "101"}
    answers = fire_together(
        20, lambda: request_json("POST", f"{live}/api/v1/stays", body, headers=auth(secret, "concurrent-key-1"))
    )

    assert [a.status for a in answers] == [201] * 20, [a.body[:200] for a in answers if a.status != 201]
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies)
    [stay] = bodies[0]["stays"]
    assert stay["receipt_no"]
    replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
    assert replayed.count("true") == 19 and replayed.count(None) == 1  # one request did the work

    assert count(Stay) == 1
    assert count(StayEvent) == 1
    assert count(StayEvent, StayEvent.kind == EventKind.CHECK_IN, StayEvent.receipt_no == stay["receipt_no"]) == 1
    assert count(Person) == 1
    assert count(IdempotencyRecord) == 1


@pytest.mark.postgres_only
@pytest.mark.usefixtures("slow_check_in")
@pytest.mark.parametrize("returning", [False, True], ids=["new-guest", "returning-guest"])
def test_10_concurrent_check_ins_of_one_guest_without_a_key(
    live: str, client: FlaskClient, secret: str, returning: bool
) -> None:
    if returning:  # the person row exists: the race is on the stays' partial unique index, not on people
        first = post(client, "/stays", secret, BODY, key=None).get_json()["stays"][0]
        assert post(client, f"/stays/{first['id']}/check-out", secret, {}, key=None).status_code == 200
        db.session.commit()

    answers = fire_together(10, lambda: request_json("POST", f"{live}/api/v1/stays", BODY, headers=auth(secret)))

    statuses = sorted(a.status for a in answers)
    assert statuses.count(201) == 1, [(a.status, a.body[:200]) for a in answers]
    refused = [a.json()["error"] for a in answers if a.status != 201]
    assert all(a.status in (409, 422) for a in answers if a.status != 201), statuses
    for error in refused:
        assert error.get("codes", {}).get("guests.0.doc_number", error["code"]) == "already_in_house"
    assert count(Stay, Stay.status == "in_house") == 1
    assert count(Stay) == (2 if returning else 1)
    assert count(Person) == 1
