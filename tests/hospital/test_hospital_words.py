"""A hospital journey reads in the hospital's words (issue 17): admitted, moved to another bed, discharged; on the
hospital's pages, on the /co-so/ pages its staff and the ward police read, and on the receipts, in Vietnamese and
English. A hotel's words (nhận phòng, trả phòng, chuyển phòng, khách) never appear there.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from asm.accounts.models import Role
from asm.extensions import db
from asm.i18n import translations
from asm.stays.models import StayEvent
from asm.trades import HOSPITAL, LODGING, VOCABULARY, place, trade_of, trade_words
from tests.conftest import Factory, post_form
from tests.hospital.test_hospital_pages import admit_by_scan, post
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.hospital import Hospital, make_hospital
from tests.test_words_and_dates import HOTEL_WORDS_EN, HOTEL_WORDS_VI, text_of


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def test_every_trade_has_every_word_in_both_languages() -> None:
    english = translations("en")
    for key, trades in VOCABULARY.items():
        assert set(trades) == {LODGING, HOSPITAL, "dormitory", "rented_rooms", "any"}, key
        for trade in trades:
            assert trade_words(None if trade == "any" else {"lodging": "hotel"}.get(trade, trade), english)[key]
    assert trade_of("hospital") == HOSPITAL and trade_of("homestay") == LODGING and trade_of(None) == "any"
    vi = translations("vi")
    assert (trade_words("hotel", vi).check_out, trade_words("hospital", vi).check_out) == ("Trả phòng", "Ra viện")
    assert trade_words("hospital", english).move_event == "Bed transfer"
    assert trade_words("rented_rooms", english).check_out == "Move out"  # the same Vietnamese word, its own English


def test_a_place_names_each_bed_once() -> None:
    assert place("K2", "K2-G06", "K2-G06") == "K2 · K2-G06"
    assert place("K2 · K2-G06 · K2-G06") == "K2 · K2-G06"  # a history line stored before
    assert place("K1", "P101", "K1-P101-1") == "K1 · P101 · K1-P101-1"


def receipt_texts(client: FlaskClient, code: str, stay_id: int) -> list[str]:
    receipts = select(StayEvent.receipt_no).where(StayEvent.stay_id == stay_id, StayEvent.receipt_no.is_not(None))
    texts = []
    for receipt_no in db.session.scalars(receipts.order_by(StayEvent.id)):
        response = client.get(f"/co-so/{code}/bien-nhan/{receipt_no}.pdf")
        assert response.status_code == 200
        texts.append("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages))
    return texts


def test_admit_transfer_discharge_read_in_the_hospitals_words(app: Flask, factory: Factory) -> None:
    hospital: Hospital = make_hospital(factory, code="BV-WORDS")
    code = hospital.est.code
    clerk = client_as(app, factory.user(Role.CLERK, establishment=hospital.est))
    officer = client_as(app, factory.user(Role.OFFICER, commune=hospital.est.commune_code))

    # The clerk lands on the hospital's pages, and the hotel's check-in form sends them to the admission.
    assert urlsplit(clerk.get("/").headers["Location"]).path == f"/benh-vien/{code}/"
    assert urlsplit(clerk.get(f"/co-so/{code}/nhan-phong").headers["Location"]).path == f"/benh-vien/{code}/nhap-vien"

    patient = admit_by_scan(clerk, hospital, "K1-101-1")
    moved = post(clerk, f"/benh-vien/{code}/benh-nhan/{patient.id}/chuyen", {"bed_id": hospital.bed("K2-201-2").id})
    assert moved.status_code == 303
    assert post(clerk, f"/benh-vien/{code}/benh-nhan/{patient.id}/ra-vien", {}).status_code == 303

    pages = {
        "patient (clerk)": clerk.get(f"/benh-vien/{code}/benh-nhan/{patient.id}"),
        "stay (clerk)": clerk.get(f"/co-so/{code}/luu-tru/{patient.id}"),
        "in house (clerk)": clerk.get(f"/co-so/{code}/"),
        "stay (police)": officer.get(f"/co-so/{code}/luu-tru/{patient.id}"),
        "history (police)": officer.get(f"/co-so/{code}/lich-su"),
        "in house (police)": officer.get(f"/co-so/{code}/"),
    }
    texts = {name: text_of(r.get_data(), "page") for name, r in pages.items()}
    for name in ("patient (clerk)", "stay (clerk)", "stay (police)", "history (police)"):
        text = texts[name]
        assert "Khai báo nhập viện" in text, name
        assert "Chuyển giường: K1 · P101 · K1-101-1 → K2 · P201 · K2-201-2" in text, name
        assert "Ra viện" in text, name
    assert "Đã ra viện" in texts["stay (police)"] and "Đã ra viện" in texts["stay (clerk)"]
    for name, text in texts.items():
        assert not HOTEL_WORDS_VI.search(text), (name, HOTEL_WORDS_VI.search(text))

    papers = receipt_texts(officer, code, patient.id)  # the police's copy of the receipts
    assert len(papers) == 3
    admitted, transferred, discharged = ("".join(p.split()) for p in papers)
    assert "Khaibáonhậpviện" in admitted and "Thờigianvàoviện" in admitted and "Giường" in admitted
    assert "Chuyểngiường" in transferred and "K2·P201·K2-201-2" in transferred
    assert "Raviện" in discharged and "Thờigianraviện" in discharged
    for paper in papers:
        assert not HOTEL_WORDS_VI.search(paper), HOTEL_WORDS_VI.search(paper)

    # The same in English.
    for client in (clerk, officer):
        assert post_form(client, "/ngon-ngu/en").status_code == 303
    english = text_of(officer.get(f"/co-so/{code}/luu-tru/{patient.id}").get_data(), "page")
    assert "Admission" in english and "Bed transfer" in english and "Discharged" in english
    assert not HOTEL_WORDS_EN.search(english), HOTEL_WORDS_EN.search(english)
    for paper in receipt_texts(officer, code, patient.id):
        assert not HOTEL_WORDS_EN.search(paper), HOTEL_WORDS_EN.search(paper)
