"""The watch list: police upload ID numbers; a listed person's stay filed anywhere in the area (API, desk, a draft
filed later) raises an alert in the ward of the establishment, seen by that ward and the province, no one else."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from asm.accounts.models import AccessLog
from asm.clock import utcnow
from asm.extensions import db
from asm.police.models import Alert, AlertState, WatchEntry
from asm.police.services import parse_watch_csv
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import CARD_2, NAME_1, NAME_2, new_client, use_fast_password_hashes
from tests.support.police import ACTOR, WARD_A, WARD_O, PoliceWorld, cccd, file_stay, guest

HOA_ID = "034303011829"  # CARD's ID number
NAM_ID = "001085012345"  # CARD_2's


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def world(app: Flask, factory: Factory) -> PoliceWorld:
    return PoliceWorld(app, factory)


def upload(client, text: str, note: str = "Truy nã", **extra) -> object:  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(text.encode("utf-8")), "ds.csv"), "note": note, "csrf_token": csrf_token(client)}
    return client.post("/cong-an/theo-doi", data={**data, **extra}, content_type="multipart/form-data")


def file_through_api(world: PoliceWorld, est, card: str) -> int:  # type: ignore[no-untyped-def]
    token = world.factory.token(est)
    response = new_client(world.app).post(
        "/api/v1/stays",
        json={"guests": [{"qr": card}], "reason": "Công tác"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["stays"][0]["id"]


def queue(world: PoliceWorld, who: str) -> str:
    client = world.client(who)
    return client.get("/cong-an/canh-bao/hang-doi", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_watch_listed_id_filed_through_the_api_alerts_its_ward_only(world: PoliceWorld) -> None:
    officer = world.client("officer_a")
    response = upload(officer, f"so_giay_to,ghi_chu\n{HOA_ID},Đối tượng cần lưu ý\n")
    assert response.status_code == 303
    entry = db.session.scalars(select(WatchEntry)).one()
    assert (entry.doc_number, entry.note, entry.commune_code, entry.active) == (
        HOA_ID,
        "Đối tượng cần lưu ý",
        WARD_A,
        True,
    )
    for who in ("officer_a", "officer_o", "supervisor_a", "supervisor_f"):
        assert NAME_1 not in queue(world, who)

    stay_id = file_through_api(world, world.est_a, CARD)

    alert = db.session.scalars(select(Alert)).one()
    assert (alert.stay_id, alert.commune_code, alert.state) == (stay_id, WARD_A, AlertState.NEW)
    assert NAME_1 in queue(world, "officer_a")  # the ward's queue, polled by the page
    assert NAME_1 in queue(world, "supervisor_a")  # the province supervisor
    assert NAME_1 not in queue(world, "officer_o")  # the next ward of the same province
    assert NAME_1 not in queue(world, "supervisor_f")  # another province
    # The queue page polls itself with htmx.
    page = world.client("officer_a").get("/cong-an/canh-bao").get_data(as_text=True)
    assert 'hx-get="/cong-an/canh-bao/hang-doi' in page and 'hx-trigger="every' in page


def test_an_officers_entry_does_not_reach_another_ward(world: PoliceWorld) -> None:
    """Officer A's entry applies to ward A: the same person filed in ward O raises nothing."""
    upload(world.client("officer_a"), HOA_ID + "\n")
    file_through_api(world, world.est_o, CARD)
    assert db.session.scalar(select(func.count(Alert.id))) == 0


def test_a_supervisors_entry_covers_every_ward_of_the_province(world: PoliceWorld) -> None:
    upload(world.client("supervisor_a"), NAM_ID + "\n")
    entry = db.session.scalars(select(WatchEntry)).one()
    assert entry.commune_code is None and entry.province_code == "01"
    file_through_api(world, world.est_o, CARD_2)  # ward O, Hà Nội
    alert = db.session.scalars(select(Alert)).one()
    assert alert.commune_code == WARD_O
    assert NAME_2 in queue(world, "officer_o")
    assert NAME_2 not in queue(world, "officer_a")
    file_through_api(world, world.est_f, CARD_2)  # TP Hồ Chí Minh: outside the province
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_a_draft_raises_the_alert_when_it_is_filed_not_before(world: PoliceWorld) -> None:
    number = cccd(date(1988, 8, 8))
    upload(world.client("officer_a"), number + "\n")
    person = guest("Đỗ Văn Nháp", birth=date(1988, 8, 8))
    person.doc_number = number
    now = utcnow()
    stay = file_stay(world.est_a, [person], arrived=now, filed=None)[0]
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    from asm.stays import services

    services.file_draft(stay, actor=ACTOR, now=utcnow())
    db.session.commit()
    assert db.session.scalars(select(Alert.stay_id)).one() == stay.id


def test_an_ended_entry_raises_nothing(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    upload(client, HOA_ID + "\n")
    entry = db.session.scalars(select(WatchEntry)).one()
    response = client.post(f"/cong-an/theo-doi/{entry.id}/ket-thuc", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    db.session.expire_all()
    assert not db.session.get(WatchEntry, entry.id).active
    file_through_api(world, world.est_a, CARD)
    assert db.session.scalar(select(func.count(Alert.id))) == 0


def test_new_seen_closed_with_who_and_when(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    upload(client, HOA_ID + "\n")
    file_through_api(world, world.est_a, CARD)
    alert = db.session.scalars(select(Alert)).one()
    # Another ward's officer cannot touch it.
    other = world.client("officer_o")
    assert other.post(f"/cong-an/canh-bao/{alert.id}/da-xem", data={"csrf_token": csrf_token(other)}).status_code == 404
    response = client.post(f"/cong-an/canh-bao/{alert.id}/da-xem", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    officer = world.user("officer_a")
    assert (alert.state, alert.seen_by_id) == (AlertState.SEEN, officer.id) and alert.seen_at is not None
    supervisor = world.client("supervisor_a")
    response = supervisor.post(
        f"/cong-an/canh-bao/{alert.id}/dong", data={"note": "Đã xác minh", "csrf_token": csrf_token(supervisor)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert (alert.state, alert.closed_by_id, alert.close_note) == (
        AlertState.CLOSED,
        world.user("supervisor_a").id,
        "Đã xác minh",
    )
    assert alert.seen_by_id == officer.id  # closing does not rewrite who saw it
    # Closed alerts leave the queue, and cannot go back.
    assert NAME_1 not in queue(world, "officer_a")
    client.post(f"/cong-an/canh-bao/{alert.id}/da-xem", data={"csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).state == AlertState.CLOSED


def test_a_poll_that_shows_a_new_alert_is_logged(world: PoliceWorld) -> None:
    officer = world.user("officer_a")
    upload(world.client("officer_a"), HOA_ID + "\n")
    before = db.session.scalar(select(func.count(AccessLog.id)).where(AccessLog.user_id == officer.id))
    queue(world, "officer_a")  # nothing yet: nothing logged
    file_through_api(world, world.est_a, CARD)
    queue(world, "officer_a")
    lines = db.session.scalars(select(AccessLog).where(AccessLog.user_id == officer.id).order_by(AccessLog.id)).all()[
        before:
    ]
    assert [line.action for line in lines] == ["alerts"]


def test_upload_checks_the_numbers_and_needs_a_note(world: PoliceWorld) -> None:
    client = world.client("officer_a")
    response = upload(client, HOA_ID + "\n", note="")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(WatchEntry.id))) == 0
    response = upload(client, f"{HOA_ID};ghi chú riêng\nabc!\n{HOA_ID}\n", note="")
    assert response.status_code == 303  # the row with its own note; the duplicate is skipped; 'abc!' rejected
    assert db.session.scalars(select(WatchEntry.note)).all() == ["ghi chú riêng"]


def test_the_csv_reader() -> None:
    rows, bad = parse_watch_csv("\ufeffSố giấy tờ,Ghi chú\n 0343 0301 1829 ,a\nB1234567;\nxx\n\n001085012345\n")
    assert rows == [("034303011829", "a"), ("001085012345", "")]
    assert bad == [(3, "B1234567;"), (4, "xx")]


def test_the_watch_list_page_is_the_areas_only(world: PoliceWorld) -> None:
    upload(world.client("officer_a"), HOA_ID + "\n", note="Ghi chú phường A")
    assert "Ghi chú phường A" in world.client("officer_a").get("/cong-an/theo-doi").get_data(as_text=True)
    assert "Ghi chú phường A" in world.client("supervisor_a").get("/cong-an/theo-doi").get_data(as_text=True)
    assert "Ghi chú phường A" not in world.client("officer_o").get("/cong-an/theo-doi").get_data(as_text=True)
    entry = db.session.scalars(select(WatchEntry)).one()
    other = world.client("officer_o")
    response = other.post(f"/cong-an/theo-doi/{entry.id}/ket-thuc", data={"csrf_token": csrf_token(other)})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(WatchEntry, entry.id).active
