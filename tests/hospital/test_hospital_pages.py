"""The hospital pages through the test client, as the inpatient clerk and the ward police use them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from asm.accounts.models import ACCOUNT_EVENTS, AccessLog, Role
from asm.clock import local_today, to_local, utcnow
from asm.extensions import db
from asm.hospital.models import Carer
from asm.stays.models import Stay, StayStatus
from asm.stays.rules import notification_deadline
from tests.conftest import Factory, csrf_token
from tests.support.desk import client_as, form_fields, htmx_headers, scanned_guest, use_fast_password_hashes
from tests.support.hospital import CARER_CARDS, PATIENT_CARD, Hospital, make_hospital

PDFTOPPM = shutil.which("pdftoppm")


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def hospital(app: Flask, factory: Factory) -> Hospital:
    return make_hospital(factory, code="BV-TEST")


@pytest.fixture
def clerk(app: Flask, factory: Factory, hospital: Hospital) -> FlaskClient:
    return client_as(app, factory.user(Role.CLERK, establishment=hospital.est))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def local_input(delta: timedelta = timedelta(minutes=-5)) -> str:
    return to_local(utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


def post(client: FlaskClient, url: str, data: dict[str, Any] | list[tuple[str, str]]) -> Any:
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    return client.post(url, data=MultiDict([*fields, ("csrf_token", csrf_token(client))]))


def admit_by_scan(clerk: FlaskClient, h: Hospital, bed: str) -> Stay:
    guest = scanned_guest(clerk, h.est.code, PATIENT_CARD)
    data = [*guest, ("mode", "document"), ("bed_id", str(h.bed(bed).id)), ("arrived_at", local_input())]
    response = post(clerk, f"/benh-vien/{h.est.code}/nhap-vien", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    stay_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])
    stay = db.session.get(Stay, stay_id)
    assert stay is not None
    return stay


def register_carer(clerk: FlaskClient, h: Hospital, patient: Stay, card: str, relation: str = "Con") -> Any:
    guest = scanned_guest(clerk, h.est.code, card)
    data = [*guest, ("relation", relation), ("replaces", ""), ("arrived_at", local_input())]
    return post(clerk, f"/benh-vien/{h.est.code}/benh-nhan/{patient.id}/nguoi-cham-soc", data)


def board(client: FlaskClient, h: Hospital, ward: Any) -> str:
    response = client.get(f"/benh-vien/{h.est.code}/khoa/{ward.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def bed_cell(html: str, bed: str) -> str:
    match = re.search(rf'<li class="bed [^"]*"[^>]*data-bed="{re.escape(bed)}".*?</li>', html, re.S)
    assert match, bed
    return match.group(0)


def test_admit_carers_transfer_discharge_through_the_pages(clerk: FlaskClient, hospital: Hospital) -> None:
    code = hospital.est.code
    assert clerk.get(f"/benh-vien/{code}/nhap-vien").status_code == 200
    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    assert patient.role == "patient" and patient.status == StayStatus.IN_HOUSE and patient.receipt_no
    assert patient.deadline_at == notification_deadline(patient.arrived_at)
    cell = bed_cell(board(clerk, hospital, hospital.k1), "K1-101-1")
    assert 'data-state="occupied"' in cell and "T.V.N." in cell and "👥 0" in cell

    for card in CARER_CARDS[:2]:
        assert register_carer(clerk, hospital, patient, card).status_code == 303
    carers = db.session.scalars(select(Stay).where(Stay.role == "carer")).all()
    assert len(carers) == 2 and all(
        c.receipt_no and c.deadline_at == notification_deadline(c.arrived_at) for c in carers
    )
    assert "👥 2" in bed_cell(board(clerk, hospital, hospital.k1), "K1-101-1")

    refused = register_carer(clerk, hospital, patient, CARER_CARDS[2])
    assert refused.status_code == 422
    page = nfc(refused.get_data(as_text=True))
    assert "đã có đủ 2 người chăm sóc" in page and 'role="alert"' in page
    assert db.session.scalar(select(func.count()).select_from(Carer)) == 2

    response = post(clerk, f"/benh-vien/{code}/benh-nhan/{patient.id}/chuyen", {"bed_id": hospital.bed("K2-201-2").id})
    assert response.status_code == 303
    assert 'data-state="cleaning"' in bed_cell(board(clerk, hospital, hospital.k1), "K1-101-1")
    cell = bed_cell(board(clerk, hospital, hospital.k2), "K2-201-2")
    assert 'data-state="occupied"' in cell and "👥 2" in cell
    page = clerk.get(f"/benh-vien/{code}/benh-nhan/{patient.id}").get_data(as_text=True)
    assert "K1 · K1-101-1" in page and "K2 · K2-201-2" in page  # both beds in its history

    response = post(clerk, f"/benh-vien/{code}/benh-nhan/{patient.id}/ra-vien", {})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(Stay.status)).all() == [StayStatus.CHECKED_OUT] * 3
    cell = bed_cell(board(clerk, hospital, hospital.k2), "K2-201-2")
    assert 'data-state="cleaning"' in cell and "T.V.N." not in cell
    # The cleaned bed is freed by hand on the board.
    bed = hospital.bed("K2-201-2")
    assert post(clerk, f"/benh-vien/{code}/giuong/{bed.id}/trang-thai", {"status": "free"}).status_code == 303
    assert 'data-state="free"' in bed_cell(board(clerk, hospital, hospital.k2), "K2-201-2")


def test_the_board_polls_itself(clerk: FlaskClient, hospital: Hospital) -> None:
    page = clerk.get(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}").get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in page and f'hx-get="/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}"' in page
    partial = board(clerk, hospital, hospital.k1)
    assert partial.lstrip().startswith('<div id="board"') and "<html" not in partial


def test_a_provisional_patient_is_completed_at_the_desk(clerk: FlaskClient, hospital: Hospital) -> None:
    code = hospital.est.code
    data = {
        "mode": "provisional",
        "record_no": "BA-1",
        "p_full_name": "",
        "p_birth_date": "2018-06-01",
        "p_nationality": "VNM",
        "bed_id": hospital.bed("K1-102-1").id,
        "arrived_at": local_input(),
    }
    response = post(clerk, f"/benh-vien/{code}/nhap-vien", data)
    assert response.status_code == 303
    stay = db.session.scalars(select(Stay)).one()
    assert stay.status == StayStatus.DRAFT
    assert "flag-provisional" in bed_cell(board(clerk, hospital, hospital.k1), "K1-102-1")
    # The desk's "file now" cannot send a provisional identity to the police.
    response = post(clerk, f"/co-so/{code}/luu-tru/{stay.id}/khai-bao", {})
    assert response.status_code == 303
    assert "chưa có giấy tờ" in nfc(clerk.get(response.headers["Location"]).get_data(as_text=True))
    db.session.expire_all()
    assert stay.status == StayStatus.DRAFT and stay.filed_at is None
    guest = scanned_guest(clerk, code, CARER_CARDS[0])
    response = post(clerk, f"/benh-vien/{code}/benh-nhan/{stay.id}/dinh-danh", guest)
    assert response.status_code == 303
    db.session.expire_all()
    assert stay.status == StayStatus.IN_HOUSE and stay.person.full_name == "Nguyễn Thị Hoa" and stay.receipt_no


def test_an_admission_without_a_bed_is_refused_and_the_form_kept(clerk: FlaskClient, hospital: Hospital) -> None:
    guest = scanned_guest(clerk, hospital.est.code, PATIENT_CARD)
    data = [*guest, ("mode", "document"), ("bed_id", ""), ("arrived_at", local_input())]
    response = post(clerk, f"/benh-vien/{hospital.est.code}/nhap-vien", data)
    assert response.status_code == 422
    html = nfc(response.get_data(as_text=True))
    assert "Giường không thuộc bệnh viện này." in html
    assert ("guests-" + guest[0][0].split("-")[1] + "-full_name", "Trần Văn Nam") in form_fields(html)
    assert db.session.scalar(select(func.count()).select_from(Stay)) == 0


def test_the_carer_card_qr_leads_to_the_carer(clerk: FlaskClient, hospital: Hospital, tmp_path: Path) -> None:
    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    assert register_carer(clerk, hospital, patient, CARER_CARDS[0], relation="Vợ").status_code == 303
    carer = db.session.scalars(select(Carer)).one()
    card = clerk.get(f"/benh-vien/{hospital.est.code}/the/{carer.stay_id}.pdf")
    assert card.status_code == 200 and card.mimetype == "application/pdf"
    text = nfc("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(card.data)).pages))
    assert "THẺ NGƯỜI CHĂM SÓC NGƯỜI BỆNH" in text and "Nguyễn Thị Hoa" in text and "Trần Văn Nam" in text
    assert "Vợ" in text and "K1-101-1" in text and "034303011829" not in text  # the number is masked
    english = clerk.get(f"/benh-vien/{hospital.est.code}/the/{carer.stay_id}.pdf?lang=en")
    text_en = nfc("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(english.data)).pages))
    assert "PATIENT CARER CARD" in text_en and "Caring for" in text_en and "THẺ NGƯỜI" not in text_en
    if PDFTOPPM is None:
        pytest.skip("pdftoppm (Debian package poppler-utils) is not installed")
    import zxingcpp
    from PIL import Image

    (tmp_path / "card.pdf").write_bytes(card.data)
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "150", str(tmp_path / "card.pdf"), str(tmp_path / "p")], check=True, timeout=60
    )
    with Image.open(tmp_path / "p-1.png") as image:
        (url,) = [r.text for r in zxingcpp.read_barcodes(image)]
    assert carer.card_token in url
    page = clerk.get(urlsplit(url).path)
    assert page.status_code == 200
    html = nfc(page.get_data(as_text=True))
    assert "Thẻ còn hiệu lực" in html and "Nguyễn Thị Hoa" in html and "Trần Văn Nam" in html
    # Handed back: the same QR now says the card is no longer valid.
    assert post(clerk, f"/benh-vien/{hospital.est.code}/nguoi-cham-soc/{carer.stay_id}/tra-the", {}).status_code == 303
    assert "Thẻ hết hiệu lực" in nfc(clerk.get(urlsplit(url).path).get_data(as_text=True))
    assert clerk.get(f"/benh-vien/{hospital.est.code}/the-cham-soc/not-a-token").status_code == 404


def test_the_census_pdf_of_a_ward(clerk: FlaskClient, hospital: Hospital) -> None:
    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    register_carer(clerk, hospital, patient, CARER_CARDS[1], relation="Con gái")
    today = local_today()
    response = clerk.get(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}/danh-sach.pdf?ngay={today.isoformat()}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = nfc("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages))
    assert "DANH SÁCH NGƯỜI BỆNH VÀ NGƯỜI CHĂM SÓC" in text
    assert "K1-101-1" in text and "Trần Văn Nam" in text and "Trần Thị Lan" in text and "Con gái" in text
    assert today.strftime("%d/%m/%Y") in text
    empty = clerk.get(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k2.id}/danh-sach.pdf")
    assert "Không có người bệnh nào trong ngày." in nfc(PdfReader(io.BytesIO(empty.data)).pages[0].extract_text())
    english = clerk.get(f"/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}/danh-sach.pdf?lang=en")
    text_en = nfc("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(english.data)).pages))
    assert "CENSUS OF PATIENTS AND CARERS" in text_en and "Carers" in text_en and "Trần Văn Nam" in text_en
    assert "DANH SÁCH" not in text_en and "Người chăm sóc" not in text_en


# --- police and outsiders ---------------------------------------------------------------------------------------


def test_the_communes_police_see_inpatients_and_carers_as_stays(
    app: Flask, clerk: FlaskClient, factory: Factory, hospital: Hospital
) -> None:
    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    register_carer(clerk, hospital, patient, CARER_CARDS[0])
    officer = client_as(app, factory.user(Role.OFFICER, commune=hospital.est.commune_code))
    page = nfc(officer.get(f"/co-so/{hospital.est.code}/").get_data(as_text=True))
    assert "Trần Văn Nam" in page and "Nguyễn Thị Hoa" in page
    assert page.count("role-patient") == 1 and page.count("role-carer") == 1
    assert "Người bệnh nội trú" in page and "Người chăm sóc" in page
    detail = nfc(officer.get(f"/co-so/{hospital.est.code}/luu-tru/{patient.id}").get_data(as_text=True))
    assert "Người bệnh nội trú" in detail
    # The hospital pages read too, each look logged; writing is refused.
    for url in (
        f"/benh-vien/{hospital.est.code}/",
        f"/benh-vien/{hospital.est.code}/benh-nhan/{patient.id}",
        f"/benh-vien/{hospital.est.code}/khoa/{hospital.k1.id}",
    ):
        assert officer.get(url).status_code == 200, url
    people_views = AccessLog.action.not_in(ACCOUNT_EVENTS)  # not the logins (issue 11)
    actions = db.session.scalars(select(AccessLog.action).where(people_views).order_by(AccessLog.id)).all()
    assert actions == ["in_house", "stay", "hospital", "patient", "bed_board"]
    before = db.session.scalar(select(func.count()).select_from(Stay))
    assert post(officer, f"/benh-vien/{hospital.est.code}/benh-nhan/{patient.id}/ra-vien", {}).status_code == 403
    assert officer.get(f"/benh-vien/{hospital.est.code}/nhap-vien").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Stay)) == before
    db.session.expire_all()
    assert patient.status == StayStatus.IN_HOUSE


def test_outsiders_and_other_communes_get_nothing(
    app: Flask, clerk: FlaskClient, factory: Factory, hospital: Hospital
) -> None:
    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    register_carer(clerk, hospital, patient, CARER_CARDS[0])
    carer = db.session.scalars(select(Carer)).one()
    other = make_hospital(factory, code="BV-OTHER")
    outsiders = [
        client_as(app, factory.user(Role.CLERK, establishment=other.est)),
        client_as(app, factory.user(Role.OFFICER, commune="00070")),
    ]
    code = hospital.est.code
    urls = [
        f"/benh-vien/{code}/",
        f"/benh-vien/{code}/benh-nhan/{patient.id}",
        f"/benh-vien/{code}/khoa/{hospital.k1.id}",
        f"/benh-vien/{code}/khoa/{hospital.k1.id}/danh-sach.pdf",
        f"/benh-vien/{code}/the/{carer.stay_id}.pdf",
        f"/benh-vien/{code}/the-cham-soc/{carer.card_token}",
    ]
    for client in outsiders:
        for url in urls:
            response = client.get(url)
            assert response.status_code == 403, url
            assert "Trần Văn Nam" not in response.get_data(as_text=True)
        assert post(client, f"/benh-vien/{code}/benh-nhan/{patient.id}/ra-vien", {}).status_code == 403
    # Another hospital's clerk cannot reach this patient through their own code either.
    other_clerk = outsiders[0]
    assert other_clerk.get(f"/benh-vien/BV-OTHER/benh-nhan/{patient.id}").status_code == 404


def test_a_hotel_has_no_hospital_pages(app: Flask, factory: Factory) -> None:
    hotel = factory.establishment()
    clerk = client_as(app, factory.user(Role.CLERK, establishment=hotel))
    assert clerk.get(f"/benh-vien/{hotel.code}/").status_code == 404
    assert "Khoa và giường" not in clerk.get(f"/co-so/{hotel.code}/").get_data(as_text=True)


def test_the_scan_partial_is_the_desks(clerk: FlaskClient, hospital: Hospital) -> None:
    """The admission page scans through the desk's scan endpoint: the same guest block, same checks."""
    response = clerk.post(f"/co-so/{hospital.est.code}/quet", data={"text": "garbage"}, headers=htmx_headers(clerk))
    assert response.status_code == 422 and response.headers["HX-Retarget"] == "#scan-result"
