"""POST /api/v1/hospital/events: batches of admission/transfer/discharge events from hospital software."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from asm.clock import VN_TZ, utcnow
from asm.extensions import db
from asm.hospital import events as events_module
from asm.hospital.models import BedAssignment, BedStatus, HospitalEvent
from asm.stays.models import EventKind, Stay, StayEvent, StayStatus
from asm.stays.rules import notification_deadline
from tests.conftest import CARD, Factory
from tests.support import given_name
from tests.support.hospital import Hospital, make_hospital
from tests.support.live import live_server, request_json
from tests.support.plans import plans, scans_of

URL = "/api/v1/hospital/events"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=VN_TZ)


@pytest.fixture
def hospital(app: Flask, factory: Factory) -> Hospital:
    return make_hospital(factory)


@pytest.fixture
def headers(hospital: Hospital, factory: Factory) -> dict[str, str]:
    return {"Authorization": f"Bearer {factory.token(hospital.est, name='his')}"}


def at(hours: float) -> str:
    """A moment `hours` before NOW, as hospital software sends it (local time with its offset)."""
    return (NOW - timedelta(hours=hours)).isoformat()


def patient(n: int) -> dict[str, Any]:
    return {
        "doc_type": "cccd",
        "doc_number": f"00108{5 + n}{100000 + n:06d}"[:12],
        "full_name": f"Bệnh Nhân {given_name(n)}",
        "birth_date": f"198{5 + n}-01-15",
        "sex": "M",
    }


def admission(n: int, bed: str, hours: float, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"adm-{n}",
        "type": "admission",
        "admission_id": f"A{n}",
        "occurred_at": at(hours),
        "patient": patient(n),
        "bed": bed,
        **extra,
    }


def post(client: FlaskClient, headers: dict[str, str], events: list[Any]) -> Any:
    with freeze_time(NOW):
        response = client.post(URL, json={"events": events}, headers=headers)
    return response


def counts() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Stay, StayEvent, BedAssignment, HospitalEvent)
    )


def test_a_batch_admits_moves_and_discharges(client: FlaskClient, hospital: Hospital, headers: dict[str, str]) -> None:
    events = [
        admission(1, "K1-101-1", 5, expected_discharge="2026-11-25"),
        admission(2, "K1-101-2", 4),
        {"event_id": "tr-1", "type": "transfer", "admission_id": "A1", "occurred_at": at(3), "bed": "K2-201-1"},
        {"event_id": "dis-2", "type": "discharge", "admission_id": "A2", "occurred_at": at(1)},
    ]
    response = post(client, headers, events)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["applied"] * 4
    assert body["summary"] == {"applied": 4}
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    first = db.session.get(Stay, body["results"][0]["stay_id"])
    assert first is not None and first.role == "patient" and first.status == StayStatus.IN_HOUSE
    assert first.deadline_at == notification_deadline(NOW - timedelta(hours=5))
    assert first.filed_at is not None and first.receipt_no == body["results"][0]["receipt_no"]
    assert first.room.name == "P201" and [e.kind for e in first.events] == [EventKind.CHECK_IN, EventKind.MOVE]
    second = db.session.get(Stay, body["results"][1]["stay_id"])
    assert second is not None and second.status == StayStatus.CHECKED_OUT
    assert second.departed_at == NOW - timedelta(hours=1)
    assert hospital.bed("K1-101-1").status == BedStatus.CLEANING
    assert hospital.bed("K2-201-1").status == BedStatus.OCCUPIED


def test_replaying_a_batch_files_nothing_twice(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    events = [
        admission(1, "K1-101-1", 5),
        {"event_id": "tr-1", "type": "transfer", "admission_id": "A1", "occurred_at": at(3), "bed": "K2-201-1"},
    ]
    first = post(client, headers, events).get_json()
    before = counts()
    again = post(client, headers, events)
    assert again.status_code == 200
    results = again.get_json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "duplicate"]
    assert [r["stay_id"] for r in results] == [r["stay_id"] for r in first["results"]]
    assert counts() == before
    # A batch that repeats an event inside itself files it once too.
    twice = [admission(2, "K1-101-2", 2), admission(2, "K1-101-2", 2)]
    results = post(client, headers, twice).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert results[0]["stay_id"] == results[1]["stay_id"]
    # The same event_id with another body is refused, and changes nothing.
    changed = admission(1, "K1-102-1", 5)
    result = post(client, headers, [changed]).get_json()["results"][0]
    assert result["status"] == "refused" and result["error"]["code"] == "event_id_reused"


def test_a_malformed_event_gets_its_own_error_and_the_rest_is_applied(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    events = [
        admission(1, "K1-101-1", 5),
        {"event_id": "bad-1", "type": "admission", "admission_id": "A9", "occurred_at": "yesterday", "bed": "K1-102-1"},
        "not an object",
        {"event_id": "bad-2", "type": "teleport", "admission_id": "A1", "occurred_at": at(1)},
        admission(3, "K1-101-2", 4),
    ]
    before = counts()
    response = post(client, headers, events)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "refused", "refused", "refused", "applied"]
    bad = results[1]["error"]
    assert bad["code"] == "event_invalid" and "occurred_at" in bad["fields"] and "patient" in bad["fields"]
    assert results[2]["error"]["code"] == "event_invalid" and results[2]["event_id"] is None
    assert results[3]["error"]["code"] == "event_invalid" and "type" in results[3]["error"]["fields"]
    assert counts()[0] == before[0] + 2  # two stays, not more
    # A refused event is not kept: fixed and resent under the same id, it is applied.
    fixed = {**events[1], "occurred_at": at(2), "patient": patient(4)}
    assert post(client, headers, [fixed]).get_json()["results"][0]["status"] == "applied"


def test_an_invalid_person_is_refused_with_the_fields(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    wrong = admission(1, "K1-101-1", 5)
    wrong["patient"]["doc_number"] = "12345"
    result = post(client, headers, [wrong]).get_json()["results"][0]
    assert result["status"] == "refused"
    assert "patient.doc_number" in result["error"]["fields"]


def test_out_of_order_events(client: FlaskClient, hospital: Hospital, headers: dict[str, str]) -> None:
    # In one batch, events are applied in occurred_at order: a discharge listed first still follows its admission.
    batch = [
        {"event_id": "dis-1", "type": "discharge", "admission_id": "A1", "occurred_at": at(1)},
        admission(1, "K1-101-1", 6),
    ]
    assert [r["status"] for r in post(client, headers, batch).get_json()["results"]] == ["applied", "applied"]
    # Across batches: a transfer for an admission never received is refused with its own error.
    unknown = {"event_id": "tr-x", "type": "transfer", "admission_id": "NOPE", "occurred_at": at(1), "bed": "K2-201-1"}
    result = post(client, headers, [unknown]).get_json()["results"][0]
    assert result["error"]["code"] == "admission_unknown"
    # A transfer that happened before the last known event arrives late: history only, nothing changes.
    post(client, headers, [admission(2, "K1-101-2", 5)])
    post(
        client,
        headers,
        [{"event_id": "tr-2b", "type": "transfer", "admission_id": "A2", "occurred_at": at(2), "bed": "K2-201-2"}],
    )
    late = {"event_id": "tr-2a", "type": "transfer", "admission_id": "A2", "occurred_at": at(4), "bed": "K1-102-1"}
    result = post(client, headers, [late]).get_json()["results"][0]
    assert result["status"] == "recorded_late"
    stay = db.session.get(Stay, result["stay_id"])
    assert stay is not None and stay.room.name == "P201"
    assert stay.events[-1].data["late_event"] is True and stay.events[-1].receipt_no is None
    assert hospital.bed("K1-102-1").status == BedStatus.FREE
    # After a discharge, a later event is refused; an earlier one is history.
    post(client, headers, [{"event_id": "dis-2", "type": "discharge", "admission_id": "A2", "occurred_at": at(1)}])
    after = {"event_id": "tr-2c", "type": "transfer", "admission_id": "A2", "occurred_at": at(0.5), "bed": "K1-102-1"}
    assert post(client, headers, [after]).get_json()["results"][0]["error"]["code"] == "admission_closed"
    # A second admission under a known admission_id is refused.
    result = post(client, headers, [{**admission(3, "K1-102-1", 1), "admission_id": "A1"}]).get_json()["results"][0]
    assert result["error"]["code"] == "admission_exists"


def test_beds_are_checked(client: FlaskClient, hospital: Hospital, headers: dict[str, str]) -> None:
    results = post(client, headers, [admission(1, "K1-101-1", 3), admission(2, "K1-101-1", 2), admission(3, "ZZ", 2)])
    codes = [r.get("error", {}).get("code") for r in results.get_json()["results"]]
    assert codes == [None, "bed_occupied", "bed_unknown"]


def test_a_provisional_admission_from_software(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    event = admission(1, "K1-101-1", 2)
    event["patient"] = {"doc_type": "none", "full_name": "", "birth_date": "2020-05-01"}
    result = post(client, headers, [event]).get_json()["results"][0]
    assert result["status"] == "applied" and "receipt_no" not in result
    stay = db.session.get(Stay, result["stay_id"])
    assert stay is not None and stay.status == StayStatus.DRAFT and stay.person.doc_type == "none"
    dis = {"event_id": "d1", "type": "discharge", "admission_id": "A1", "occurred_at": at(1)}
    assert post(client, headers, [dis]).get_json()["results"][0]["error"]["code"] == "not_filed"


def test_a_scanned_card_text_is_accepted_as_the_patient(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    event = admission(1, "K1-101-1", 2)
    event["patient"] = {"qr": CARD}
    result = post(client, headers, [event]).get_json()["results"][0]
    stay = db.session.get(Stay, result["stay_id"])
    assert stay is not None and stay.person.full_name == "Nguyễn Thị Hoa"


def test_the_batch_itself_must_be_a_list_of_at_most_1000(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    assert post(client, headers, []).get_json()["error"]["code"] == "events_missing"
    response = post(client, headers, [{}] * 1001)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "batch_too_large"
    assert client.post(URL, json={}, headers=headers).status_code == 422


def test_only_a_hospitals_token_may_send_events(client: FlaskClient, factory: Factory) -> None:
    hotel = factory.establishment()
    response = client.post(
        URL, json={"events": [admission(1, "K1-101-1", 1)]}, headers={"Authorization": f"Bearer {factory.token(hotel)}"}
    )
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_a_hospital"
    assert client.post(URL, json={"events": []}).status_code == 401


def test_events_of_one_hospital_do_not_reach_another(
    client: FlaskClient, factory: Factory, headers: dict[str, str]
) -> None:
    post(client, headers, [admission(1, "K1-101-1", 3)])
    other = make_hospital(factory, code="BV-2")
    other_headers = {"Authorization": f"Bearer {factory.token(other.est)}"}
    move = {"event_id": "t", "type": "transfer", "admission_id": "A1", "occurred_at": at(1), "bed": "K2-201-1"}
    assert post(client, other_headers, [move]).get_json()["results"][0]["error"]["code"] == "admission_unknown"
    # The same event_id is another hospital's own key: applied there.
    assert post(client, other_headers, [admission(1, "K1-101-1", 3)]).get_json()["results"][0]["status"] == "applied"


# --- two senders at once (PostgreSQL: the beds a batch fills are locked until it commits) ------------------------


@pytest.mark.postgres_only
def test_two_batches_filling_one_bed_at_once_admit_one_patient(
    app: Flask, hospital: Hospital, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = events_module.Batch.write

    def slow_write(self: events_module.Batch) -> None:  # the first batch's transaction stays open a moment
        real_write(self)
        time.sleep(0.3)

    monkeypatch.setattr(events_module.Batch, "write", slow_write)
    occurred = (utcnow() - timedelta(hours=1)).astimezone(VN_TZ).isoformat()
    batches = [[{**admission(n, "K1-101-1", 0), "occurred_at": occurred}] for n in (1, 2)]
    db.session.commit()
    with live_server(app) as url:
        barrier = threading.Barrier(2)

        def send(batch: list[dict[str, Any]]) -> Any:
            barrier.wait(timeout=30)
            return request_json("POST", url + URL, {"events": batch}, headers=headers)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(send, batches))

    assert [a.status for a in answers] == [200, 200]
    outcomes = sorted(a.json()["results"][0].get("error", {}).get("code", "applied") for a in answers)
    assert outcomes == ["applied", "bed_occupied"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BedAssignment).where(BedAssignment.end_at.is_(None))) == 1


@pytest.mark.postgres_only
def test_the_beds_holders_are_read_by_the_stays_key_whatever_the_statistics(factory: Factory) -> None:
    """A batch reads who lies in the beds it fills from each bed's current assignment to its stay, by the stay's
    key. Planned with statistics from before the day's admissions (a new database; a table not analysed since),
    the earlier query read every open stay of the hospital and looked for its bed: 28 ms a batch at 3,000
    patients (docs/PERFORMANCE.md, MLLP)."""
    from sqlalchemy import text

    from asm.hospital.services import create_ward

    est = factory.establishment(type="hospital", rooms=(), name="Bệnh viện Lớn")
    ward = create_ward(est, code="KL", name="Khoa Lớn", beds=[("PL", f"KL-{i}") for i in range(600)])
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # no patient yet
        conn.execute(
            text(
                "INSERT INTO people (doc_type, doc_number, nationality, full_name, search_key, birth_date, sex,"
                " created_at, updated_at) SELECT 'cccd', '9' || lpad(g::text, 11, '0'), 'VNM', 'Bệnh Nhân',"
                " 'benh nhan', date '1960-01-01', 'F', now(), now() FROM generate_series(1, 600) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO stays (establishment_id, person_id, status, source, reason, arrived_at, deadline_at,"
                " created_at, role) SELECT :est, id, 'in_house', 'api', 'Điều trị', now(), now(), now(), 'patient'"
                " FROM people WHERE full_name = 'Bệnh Nhân'"
            ),
            {"est": est.id},
        )
        conn.execute(
            text(
                "INSERT INTO bed_assignments (stay_id, bed_id, ward_id, start_at)"
                " SELECT s.id, b.id, b.ward_id, now() FROM"
                " (SELECT id, row_number() OVER (ORDER BY id) AS n FROM stays WHERE establishment_id = :est) s"
                " JOIN (SELECT id, ward_id, row_number() OVER (ORDER BY id) AS n FROM beds WHERE ward_id = :ward) b"
                " ON b.n = s.n"
            ),
            {"est": est.id, "ward": ward.id},
        )
    bed_ids = sorted(b.id for b in ward.beds)[::75]
    with db.engine.connect() as conn:
        compiled = events_module.holders_query("postgresql").compile(dialect=conn.dialect)
        state = compiled.construct_expanded_state({"est_id": est.id, "bed_ids": bed_ids})
        driver = conn.connection.driver_connection
        assert driver is not None
        assert len(driver.execute(state.statement, state.parameters).fetchall()) == len(bed_ids)
        for mode, plan in plans(driver, state.statement, state.parameters).items():
            reads = scans_of(plan, "stays")
            assert reads
            for node in reads:
                assert "stay_id" in node.get("Index Cond", ""), (mode, node)
