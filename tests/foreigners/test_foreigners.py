"""The foreigners' channel through its users' entry points: the desk (scan a passport, the family's two deadlines,
the day's list and its exports, form NA17, the "declared" mark, the entry details), the kiosk, the API, the CLI
that marks remote communes, and the police (dashboard, compliance report)."""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from asm.accounts.models import Role
from asm.clock import local_today, to_local, utcnow
from asm.common import Actor
from asm.extensions import db
from asm.foreigners.models import ForeignStay
from asm.geo.models import Commune
from asm.people.services import ForeignInput, PersonInput
from asm.stays import services
from asm.stays.models import EventKind, Stay, StayEvent
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import (
    check_in_form,
    client_as,
    htmx_headers,
    post_check_in,
    scanned_guest,
    use_fast_password_hashes,
)
from tests.support.foreign import MRZ, NAME, NUMBER
from tests.support.kiosk import make_kiosk
from tests.support.mrzdata import random_document
from tests.support.mrzimages import mrz_photo_bytes

COMMUNE = "00004"  # Phường Ba Đình, Hà Nội


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def remote_commune(app: Flask) -> Iterator[str]:
    """Ba Đình marked remote for one test (the units table outlives tests on PostgreSQL: set back after)."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["units", "remote", COMMUNE])
    assert result.exit_code == 0, result.output
    yield COMMUNE
    runner.invoke(args=["units", "remote", "--off", COMMUNE])


@pytest.fixture
def desk(app: Flask, factory: Factory) -> tuple[Any, FlaskClient]:
    est = factory.establishment(code="HERE", commune=COMMUNE, name="Khách sạn Đây")
    return est, client_as(app, factory.user(Role.CLERK, establishment=est))


def local_input(at: Any) -> str:
    return to_local(at).strftime("%Y-%m-%dT%H:%M")


def family_check_in(est: Any, clerk: FlaskClient, *, arrived: Any, foreign: dict[str, str] | None = None) -> Any:
    """A citizen's QR and a foreigner's passport scanned at the desk, filed in one check-in."""
    citizen = scanned_guest(clerk, est.code, CARD)
    visitor = scanned_guest(clerk, est.code, MRZ)
    if foreign:
        visitor = [(n, foreign.get(n.split("-", 2)[-1], v)) for n, v in visitor]
    data = check_in_form([citizen, visitor], arrived_at=local_input(arrived), room_id=est.rooms[0].id)
    return post_check_in(clerk, est.code, data)


def stays_of(est: Any) -> tuple[Stay, Stay]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(Stay).where(Stay.establishment_id == est.id).order_by(Stay.id)))
    head = next(s for s in rows if s.head_id is None)
    member = next(s for s in rows if s.head_id == head.id)
    return head, member


# --- the desk ---------------------------------------------------------------------------------------------


def test_scanning_a_passport_fills_a_foreign_guest_block(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    fields = dict(scanned_guest(clerk, est.code, MRZ))
    block = {name.split("-", 2)[-1]: value for name, value in fields.items()}
    assert (block["doc_type"], block["doc_number"], block["nationality"]) == ("passport", NUMBER, "FRA")
    assert block["full_name"] == NAME and block["birth_date"] == "1985-06-12"
    assert block["passport_expiry"] == "2031-01-01" and block["entry_port"] == ""


def test_a_visa_scanned_at_the_desk_is_explained(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    visa = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<"
    response = clerk.post(f"/co-so/{est.code}/quet", data={"text": visa}, headers=htmx_headers(clerk))
    assert response.status_code == 422 and "thị thực" in response.get_data(as_text=True)


def test_a_family_of_a_citizen_and_a_foreigner_shows_both_deadlines(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    arrived = utcnow() - timedelta(minutes=10)
    response = family_check_in(est, clerk, arrived=arrived)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    head, member = stays_of(est)
    assert head.person.nationality == "VNM" and head.foreign is None  # type: ignore[attr-defined]
    foreign = member.foreign  # type: ignore[attr-defined]
    assert member.person.doc_number == NUMBER and foreign is not None
    assert foreign.deadline_hours == 12
    assert abs(foreign.deadline_at - (member.arrived_at + timedelta(hours=12))) < timedelta(seconds=1)
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    # The head's page lists the family: the citizen's notification deadline and the foreigner's 12-hour one.
    assert to_local(member.deadline_at).strftime("%d/%m/%Y %H:%M") in page
    assert to_local(foreign.deadline_at).strftime("%d/%m/%Y %H:%M") in page
    # The check-in warned that NA17's entry details are missing.
    assert "NA17" in page
    member_page = clerk.get(f"/co-so/{est.code}/luu-tru/{member.id}").get_data(as_text=True)
    assert "declaration-deadline" in member_page and "Chưa khai báo tạm trú" in member_page


def test_a_remote_commune_gives_twenty_four_hours(
    desk: tuple[Any, FlaskClient], remote_commune: str, app: Flask
) -> None:
    est, clerk = desk
    page = clerk.get(f"/co-so/{est.code}/nhan-phong").get_data(as_text=True)
    assert "24 giờ sau khi đến" in page
    family_check_in(est, clerk, arrived=utcnow() - timedelta(minutes=5))
    _head, member = stays_of(est)
    assert member.foreign.deadline_hours == 24  # type: ignore[attr-defined]
    assert abs(member.foreign.deadline_at - (member.arrived_at + timedelta(hours=24))) < timedelta(seconds=1)  # type: ignore[attr-defined]


def test_the_hours_are_settings(desk: tuple[Any, FlaskClient], app: Flask) -> None:
    app.config["FOREIGN_DECLARATION_HOURS"] = 6
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(minutes=5))
    assert stays_of(est)[1].foreign.deadline_hours == 6  # type: ignore[attr-defined]


def test_entry_details_typed_at_check_in_are_kept(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    details = {"visa_type": "evisa", "visa_number": "ev 123 456", "entry_date": local_today().isoformat()}
    details |= {"entry_port": "Sân bay  Nội Bài", "entry_purpose": "Du lịch"}
    assert family_check_in(est, clerk, arrived=utcnow(), foreign=details).status_code == 303
    foreign = stays_of(est)[1].foreign  # type: ignore[attr-defined]
    assert (foreign.visa_type, foreign.visa_number, foreign.entry_port) == ("evisa", "EV123456", "Sân bay Nội Bài")


def test_an_entry_after_the_arrival_is_refused_and_nothing_stored(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    later = (local_today() + timedelta(days=1)).isoformat()
    response = family_check_in(est, clerk, arrived=utcnow(), foreign={"entry_date": later})
    assert response.status_code == 422
    assert "Ngày nhập cảnh không thể sau ngày đến." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Stay)) == 0
    assert db.session.scalar(select(func.count()).select_from(ForeignStay)) == 0


def _declare(clerk: FlaskClient, est: Any, stay: Stay, **data: str) -> Any:
    form = {"csrf_token": csrf_token(clerk), **data}
    return clerk.post(f"/co-so/{est.code}/nguoi-nuoc-ngoai/{stay.id}/khai-bao", data=form)


def test_marking_the_declaration_done_on_time(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(hours=2))
    head, member = stays_of(est)
    response = _declare(clerk, est, member, reference="  XNC-2026 000123 ")
    assert response.status_code == 303
    db.session.expire_all()
    foreign = db.session.get(Stay, member.id).foreign  # type: ignore[union-attr]
    assert foreign.declaration_ref == "XNC-2026 000123" and foreign.declared_at is not None
    assert str(foreign.state(utcnow())) == "on_time"
    event = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == member.id).order_by(StayEvent.id)).all()[-1]
    assert event.kind == EventKind.DECLARE and event.data["reference"] == "XNC-2026 000123"
    assert event.data["state"] == "on_time" and event.receipt_no is None
    page = clerk.get(f"/co-so/{est.code}/luu-tru/{member.id}").get_data(as_text=True)
    assert "XNC-2026 000123" in page and "Khai báo tạm trú đúng hạn" in page
    # Once is enough: a second mark is refused, nothing changes.
    again = clerk.post(
        f"/co-so/{est.code}/nguoi-nuoc-ngoai/{member.id}/khai-bao",
        data={"reference": "OTHER", "csrf_token": csrf_token(clerk)},
        headers=htmx_headers(clerk),
    )
    assert again.status_code == 422 and "Đã khai báo tạm trú" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Stay, member.id).foreign.declaration_ref == "XNC-2026 000123"  # type: ignore[union-attr]
    # A citizen's stay has no foreigners' declaration.
    citizen = clerk.post(
        f"/co-so/{est.code}/nguoi-nuoc-ngoai/{head.id}/khai-bao",
        data={"reference": "X", "csrf_token": csrf_token(clerk)},
        headers=htmx_headers(clerk),
    )
    assert citizen.status_code == 422


def test_a_declaration_after_the_deadline_is_late(app: Flask, factory: Factory) -> None:
    est = factory.establishment(commune=COMMUNE)
    arrived = utcnow() - timedelta(hours=20)
    person = PersonInput.from_document(__import__("asm.idcard.reader", fromlist=["x"]).read_text(MRZ))
    data = services.CheckInInput(guests=[person], arrived_at=arrived, reason="Du lịch")
    [stay] = services.check_in(est, data, actor=Actor.system("test"), now=arrived).stays
    db.session.commit()
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    assert str(stay.foreign.state(utcnow())) == "overdue"  # type: ignore[attr-defined]
    assert _declare(clerk, est, stay, reference="NA17-7").status_code == 303
    db.session.expire_all()
    assert str(db.session.get(Stay, stay.id).foreign.state(utcnow())) == "late"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reference": "   "}, "Cần số tham chiếu"),
        ({"reference": "X" * 61}, "tối đa 60 ký tự"),
        ({"reference": "A1", "declared_at": "2020-01-01T10:00"}, "trước giờ đến"),
        ({"reference": "A1", "declared_at": "2099-01-01T10:00"}, "tương lai"),
        ({"reference": "A1", "declared_at": "not a time"}, "không hợp lệ"),
    ],
    ids=["no-reference", "too-long", "before-arrival", "future", "garbled-time"],
)
def test_a_bad_mark_is_refused_with_its_reason(
    desk: tuple[Any, FlaskClient], data: dict[str, str], message: str
) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(hours=1))
    _head, member = stays_of(est)
    events = db.session.scalar(select(func.count()).select_from(StayEvent))
    response = clerk.post(
        f"/co-so/{est.code}/nguoi-nuoc-ngoai/{member.id}/khai-bao",
        data={**data, "csrf_token": csrf_token(clerk)},
        headers=htmx_headers(clerk),
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Stay, member.id).foreign.declared_at is None  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(StayEvent)) == events


def test_entry_details_completed_later_with_their_history(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(hours=1))
    _head, member = stays_of(est)
    url = f"/co-so/{est.code}/nguoi-nuoc-ngoai/{member.id}/thong-tin"
    form = {"visa_type": "trc", "visa_number": "TT123", "entry_date": "2026-01-05", "entry_port": "Cửa khẩu Lào Cai"}
    response = clerk.post(url, data={**form, "entry_purpose": "Làm việc", "csrf_token": csrf_token(clerk)})
    assert response.status_code == 303
    db.session.expire_all()
    foreign = db.session.get(Stay, member.id).foreign  # type: ignore[union-attr]
    assert (foreign.visa_type, foreign.entry_date, foreign.entry_port) == ("trc", date(2026, 1, 5), "Cửa khẩu Lào Cai")
    assert foreign.passport_expiry is None  # the form sent none: the clerk cleared it
    event = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == member.id).order_by(StayEvent.id)).all()[-1]
    assert event.kind == EventKind.FOREIGN and event.data["entry_port"] == "Cửa khẩu Lào Cai"
    bad = clerk.post(url, data={"visa_type": "golden", "csrf_token": csrf_token(clerk)}, headers=htmx_headers(clerk))
    assert bad.status_code == 422 and "Loại thị thực" in bad.get_data(as_text=True)


def test_the_days_list_exports_and_na17(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(minutes=30), foreign={"entry_port": "=HYPERLINK(1)"})
    _head, member = stays_of(est)
    day = to_local(member.arrived_at).date().isoformat()
    page = clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/?ngay={day}").get_data(as_text=True)
    assert NAME in page and "Pháp" in page and "Nguyễn Thị Hoa" not in page  # foreigners only
    assert "Không có người nước ngoài" in clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/?ngay=2020-01-01").get_data(
        as_text=True
    )

    exported = clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/danh-sach.csv?ngay={day}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["STT", "Họ tên", "Giới tính", "Ngày sinh", "Quốc tịch", "Số hộ chiếu"]
    assert rows[1][1] == NAME and rows[1][5] == NUMBER and rows[1][6] == "01/01/2031"
    assert rows[1][10] == "'=HYPERLINK(1)"  # a typed formula stays text
    assert rows[1][17] == "Chưa khai báo"

    xlsx = clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/danh-sach.xlsx?ngay={day}")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1] == NAME and values[1][5] == NUMBER
    assert clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/danh-sach.pdf").status_code == 404

    pdf = clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/{member.id}/na17.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "PHIẾU KHAI BÁO TẠM TRÚ CHO NGƯỜI NƯỚC NGOÀI" in text and "NA17" in text
    assert NAME in text and NUMBER in text and "Pháp (FRA)" in text and "12/06/1985" in text
    assert to_local(member.foreign.deadline_at).strftime("%d/%m/%Y %H:%M") in text  # type: ignore[attr-defined]
    assert "Công an Phường Ba Đình" in text and est.name in text


def test_na17_in_english_and_with_the_declaration(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow() - timedelta(minutes=30))
    _head, member = stays_of(est)
    _declare(clerk, est, member, reference="REF-9")
    clerk.post("/ngon-ngu/en", data={"csrf_token": csrf_token(clerk)})
    pdf = clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/{member.id}/na17.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "TEMPORARY RESIDENCE DECLARATION FOR A FOREIGNER" in text and "France (FRA)" in text
    assert "reference REF-9" in text


def test_a_citizens_stay_has_no_na17(desk: tuple[Any, FlaskClient]) -> None:
    est, clerk = desk
    family_check_in(est, clerk, arrived=utcnow())
    head, _member = stays_of(est)
    assert clerk.get(f"/co-so/{est.code}/nguoi-nuoc-ngoai/{head.id}/na17.pdf").status_code == 404


# --- the API ------------------------------------------------------------------------------------------------


def test_the_api_parses_an_mrz_with_the_qr_shape_plus_its_own(client: FlaskClient, factory: Factory) -> None:
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}
    card = client.post("/api/v1/id-cards/parse", json={"text": MRZ}, headers=headers).get_json()["card"]
    assert {"id_number", "full_name", "birth_date", "sex", "address", "issue_date", "card_format"} <= set(card)
    assert (card["doc_type"], card["nationality"], card["issuing_state"], card["expiry"]) == (
        "passport",
        "FRA",
        "FRA",
        "2031-01-01",
    )
    broken = MRZ.replace("FRA8506128", "FRA8506129")  # the birth date's check digit
    refused = client.post("/api/v1/id-cards/parse", json={"text": broken}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"].startswith("mrz_check")


def test_the_api_decodes_an_mrz_photo(client: FlaskClient, factory: Factory) -> None:
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}
    doc = random_document(random.Random(11), "TD3")
    response = client.post(
        "/api/v1/id-cards/decode",
        data={"image": (io.BytesIO(mrz_photo_bytes(doc, seed=11)), "passport.jpg")},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["card"]["mrz"] == list(doc.lines())


def test_the_api_files_a_family_and_marks_the_declaration(client: FlaskClient, factory: Factory) -> None:
    est = factory.establishment()
    headers = {"Authorization": f"Bearer {factory.token(est)}"}
    foreign = {"entry_date": local_today().isoformat(), "entry_port": "Sân bay Nội Bài", "entry_purpose": "Du lịch"}
    body = {"guests": [{"qr": CARD}, {"qr": MRZ, "foreign": foreign}], "reason": "Du lịch"}
    created = client.post("/api/v1/stays", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    citizen, visitor = created.get_json()["stays"]
    assert citizen["declaration"] is None and created.get_json()["warnings"] == []
    declaration = visitor["declaration"]
    assert declaration["state"] == "pending" and declaration["deadline_hours"] == 12
    assert declaration["passport_expiry"] == "2031-01-01" and declaration["entry_port"] == "Sân bay Nội Bài"
    marked = client.post(
        f"/api/v1/stays/{visitor['id']}/declaration",
        json={"reference": "XNC-1"},
        headers=headers | {"Idempotency-Key": "d-1"},
    )
    assert marked.status_code == 200 and marked.get_json()["stay"]["declaration"]["reference"] == "XNC-1"
    assert marked.get_json()["stay"]["declaration"]["state"] == "on_time"
    replay = client.post(
        f"/api/v1/stays/{visitor['id']}/declaration",
        json={"reference": "XNC-1"},
        headers=headers | {"Idempotency-Key": "d-1"},
    )
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    again = client.post(f"/api/v1/stays/{visitor['id']}/declaration", json={"reference": "XNC-2"}, headers=headers)
    assert again.status_code == 422 and again.get_json()["error"]["codes"] == {"stay": "already_declared"}
    citizen_mark = client.post(f"/api/v1/stays/{citizen['id']}/declaration", json={"reference": "X"}, headers=headers)
    assert citizen_mark.status_code == 422
    missing = client.post(f"/api/v1/stays/{visitor['id']}/declaration", json={}, headers=headers)
    assert missing.status_code == 422


def test_the_api_refuses_bad_foreign_details_and_stores_nothing(client: FlaskClient, factory: Factory) -> None:
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}
    body = {"guests": [{"qr": MRZ, "foreign": {"visa_type": "gold", "entry_date": "soon"}}], "reason": "Du lịch"}
    response = client.post("/api/v1/stays", json=body, headers=headers)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "guests.0.foreign.entry_date" in fields
    assert db.session.scalar(select(func.count()).select_from(Stay)) == 0


# --- the kiosk ------------------------------------------------------------------------------------------------


def test_a_kiosk_guest_checks_in_a_family_with_a_passport(app: Flask, factory: Factory) -> None:
    kiosk = make_kiosk(app, factory)
    read = kiosk.read("\r\n".join(MRZ.split()) + "\r\n", source="wedge")
    assert read.status_code == 200, read.get_json()
    assert read.get_json()["card"]["nationality"] == "FRA" and read.get_json()["card"]["doc_masked"].endswith("2345")
    body = {"flow": "hotel_check_in", "guests": [{"qr": CARD}, {"qr": read.get_json()["qr"]}], "reason": "Du lịch"}
    result = kiosk.submit(body | {"nights": 2})
    assert result.status_code == 201, result.get_json()
    people = result.get_json()["result"]["people"]
    assert "declaration_deadline_at" not in people[0]
    assert people[1]["nationality"] == "FRA" and people[1]["declaration_deadline_at"]


def test_a_kiosk_camera_frame_of_a_passport(app: Flask, factory: Factory) -> None:
    kiosk = make_kiosk(app, factory)
    doc = random_document(random.Random(21), "TD3")
    frame = mrz_photo_bytes(doc, seed=21)
    response = kiosk.client.post(
        "/kiosk/api/giai-ma?khung=1",
        data=frame,
        headers={"Content-Type": "image/jpeg", "X-CSRFToken": kiosk.csrf(), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["qr"] == "\n".join(doc.lines())
    assert response.get_json()["card"]["doc_masked"].endswith(doc.number[-4:])


# --- the CLI --------------------------------------------------------------------------------------------------


def test_the_cli_marks_lists_and_unmarks_remote_communes(app: Flask) -> None:
    runner = app.test_cli_runner()
    try:
        marked = runner.invoke(args=["units", "remote", "00004", "00070"])
        assert marked.exit_code == 0 and "00070" in marked.output and "24 h" in marked.output
        listed = runner.invoke(args=["units", "remote"])
        assert "00004" in listed.output and "00070" in listed.output
        unknown = runner.invoke(args=["units", "remote", "99999"])
        assert unknown.exit_code != 0 and "99999" in unknown.output
        assert not db.session.get(Commune, "99999")
    finally:
        runner.invoke(args=["units", "remote", "--off", "00004", "00070"])
    db.session.expire_all()
    assert db.session.get(Commune, "00004").remote is False  # type: ignore[union-attr]


# --- the police -------------------------------------------------------------------------------------------


def test_the_ward_sees_foreigners_by_nationality_and_the_late_declarations(app: Flask, factory: Factory) -> None:
    est = factory.establishment(commune=COMMUNE)
    officer = client_as(app, factory.user(Role.OFFICER, commune=COMMUNE))
    arrived = utcnow() - timedelta(hours=30)
    person = PersonInput.from_document(__import__("asm.idcard.reader", fromlist=["x"]).read_text(MRZ))
    person.foreign = ForeignInput(entry_port="Sân bay Nội Bài")
    data = services.CheckInInput(guests=[person], arrived_at=arrived, reason="Du lịch")
    [stay] = services.check_in(est, data, actor=Actor.system("test"), now=arrived).stays
    db.session.commit()
    body = officer.get("/cong-an/").get_data(as_text=True)
    assert re.search(r"Pháp \(FRA\): <strong>1</strong>", body)
    assert re.search(
        r'figure=declarations_overdue[^"]*"><span class="n">1</span>', body.replace("/danh-sach/", "figure=")
    )
    listing = officer.get("/cong-an/danh-sach/declarations_overdue").get_data(as_text=True)
    assert NAME in listing
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    _declare(clerk, est, stay, reference="LATE-1")
    body = officer.get("/cong-an/").get_data(as_text=True).replace("/danh-sach/", "figure=")
    assert re.search(r'figure=declarations_late[^"]*"><span class="n">1</span>', body)
    assert NAME in officer.get("/cong-an/danh-sach/foreigners?quoc_tich=FRA").get_data(as_text=True)
    assert NAME not in officer.get("/cong-an/danh-sach/foreigners?quoc_tich=KOR").get_data(as_text=True)
    assert officer.get("/cong-an/danh-sach/foreigners?quoc_tich=F1").status_code == 404


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")
def test_the_compliance_report_has_the_foreigners_fine_line(app: Flask, factory: Factory, tmp_path: Path) -> None:
    from tests.police.test_police_reports import pdftotext
    from tests.support.police import wait_for_job

    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")
    est = factory.establishment(commune=COMMUNE, code="EST-F1")
    arrived = utcnow() - timedelta(hours=30)
    person = PersonInput.from_document(__import__("asm.idcard.reader", fromlist=["x"]).read_text(MRZ))
    services.check_in(
        est,
        services.CheckInInput(guests=[person], arrived_at=arrived, reason="Du lịch"),
        actor=Actor.system("test"),
        now=arrived,
    )
    db.session.commit()
    officer = client_as(app, factory.user(Role.OFFICER, commune=COMMUNE))
    today = local_today()
    for fmt, kind in (
        ("pdf", {"kind": "establishment", "establishment": est.code}),
        ("csv", {"kind": "commune", "commune": COMMUNE}),
    ):
        data = {"from": (today - timedelta(days=5)).isoformat(), "to": today.isoformat(), "fmt": fmt, **kind}
        response = officer.post("/cong-an/bao-cao", data={**data, "csrf_token": csrf_token(officer)})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        download = officer.get(wait_for_job(officer, response.headers["Location"]))
        if fmt == "pdf":
            text = " ".join(pdftotext(download.data, tmp_path).split())
            assert "Khai báo tạm trú cho người nước ngoài" in text
            assert "không khai báo (quá hạn): 1" in text
            assert "Luật 47/2014/QH13" in text and "chưa được xác minh" in text
            assert "5.000.000 – 10.000.000 đồng" in text
        else:
            rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
            head = rows[0]
            line = next(r for r in rows[1:] if r[1] == est.code)
            assert line[head.index("NNN không khai báo")] == "1" and line[head.index("NNN số vi phạm")] == "1"
        download.close()


def test_the_openapi_document_describes_the_mrz_and_the_declaration(client: FlaskClient, factory: Factory) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}
    card = client.post("/api/v1/id-cards/parse", json={"text": MRZ}, headers=headers).get_json()["card"]
    assert set(card) == set(schemas["MrzCardOut"]["properties"])
    created = client.post("/api/v1/stays", json={"guests": [{"qr": MRZ}], "reason": "Du lịch"}, headers=headers)
    declaration = created.get_json()["stays"][0]["declaration"]
    assert set(declaration) == set(schemas["DeclarationOut"]["properties"])
    assert "/stays/{stay_id}/declaration" in doc["paths"]
