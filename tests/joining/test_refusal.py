"""An establishment the police have not approved, have rejected or suspended files nothing, on any channel (desk,
kiosk, API one guest and group, API changes to a stay, hospital desk and hospital events), and each says why: the
refusal is written once, in the filing core (asm/filing/core.py `check_open`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from asm.accounts.models import Role
from asm.clock import to_local, utcnow
from asm.establishments.models import Establishment, Status
from asm.extensions import db
from asm.stays.models import Stay, StayEvent, StayStatus
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import CARD_2, check_in_form, client_as, post_check_in, scanned_guest, use_fast_password_hashes
from tests.support.hospital import make_hospital
from tests.support.kiosk import Kiosk, make_kiosk

REASON = "Thu hồi giấy phép kinh doanh"
CLOSED = [
    (Status.PENDING, None, "chờ Công an xã/phường duyệt"),
    (Status.CHANGES_REQUESTED, "Thiếu số giấy phép", "Thiếu số giấy phép"),
    (Status.REJECTED, "Không có giấy phép", "Không có giấy phép"),
    (Status.SUSPENDED, REASON, REASON),
]


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def local_input(delta: timedelta = timedelta(minutes=-5)) -> str:
    return to_local(utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


class Hotel:
    """An approved hotel with a guest in house (filed by the desk), a clerk, an API token and a kiosk."""

    def __init__(self, app: Flask, factory: Factory) -> None:
        self.app = app
        self.kiosk: Kiosk = make_kiosk(app, factory)
        self.est = self.kiosk.establishment
        self.clerk = client_as(app, factory.user(Role.CLERK, establishment=self.est))
        self.token = factory.token(self.est)
        data = check_in_form([scanned_guest(self.clerk, self.est.code, CARD)], arrived_at=local_input())
        assert post_check_in(self.clerk, self.est.code, data).status_code == 303
        stay = db.session.scalar(select(Stay).where(Stay.establishment_id == self.est.id))
        assert stay is not None
        self.stay_id = stay.id

    def close(self, status: Status, reason: str | None) -> None:
        est = db.session.get(Establishment, self.est.id)
        assert est is not None
        est.status, est.status_reason = status, reason
        db.session.commit()

    def api(self, method: str, url: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4())}
        return self.app.test_client().open(url, method=method, json=body, headers=headers)


def rows() -> tuple[int, int]:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Stay.id))) or 0, db.session.scalar(select(func.count(StayEvent.id))) or 0


@pytest.fixture
def hotel(app: Flask, factory: Factory) -> Hotel:
    return Hotel(app, factory)


@pytest.mark.parametrize(("status", "reason", "said"), CLOSED, ids=[s for s, _r, _w in CLOSED])
def test_every_channel_of_a_hotel_is_refused_with_the_reason(
    hotel: Hotel, status: Status, reason: str | None, said: str
) -> None:
    hotel.close(status, reason)
    before = rows()
    code = f"establishment_{status.value}"
    # The desk: a check-in, and a check-out of the guest in house.
    data = check_in_form([scanned_guest(hotel.clerk, hotel.est.code, CARD_2)], arrived_at=local_input())
    desk = post_check_in(hotel.clerk, hotel.est.code, data)
    assert desk.status_code == 422 and said in desk.get_data(as_text=True)
    out = hotel.clerk.post(
        f"/co-so/{hotel.est.code}/luu-tru/{hotel.stay_id}/tra-phong",
        data={"csrf_token": csrf_token(hotel.clerk)},
        follow_redirects=True,
    )
    assert said in out.get_data(as_text=True)  # the refusal, flashed on the stay's page
    # The kiosk.
    kiosk = hotel.kiosk.submit({"flow": "hotel_check_in", "reason": "Du lịch", "nights": 1, "guests": [{"qr": CARD_2}]})
    assert kiosk.status_code == 422 and said in str(kiosk.get_json())
    # The API: one guest (the one-statement path on PostgreSQL), a group, and a change to a stay.
    for guests in ([{"qr": CARD_2}], [{"qr": CARD_2}, {"qr": CARD}]):
        answer = hotel.api("POST", "/api/v1/stays", {"guests": guests, "reason": "Công tác"})
        assert answer.status_code == 422, answer.get_json()
        assert code in str(answer.get_json()) and said in str(answer.get_json())
    change = hotel.api("POST", f"/api/v1/stays/{hotel.stay_id}/check-out", {})
    assert change.status_code == 422 and code in str(change.get_json())
    assert rows() == before
    # The establishment's data stays readable: its staff see why on the page.
    page = hotel.clerk.get(f"/co-so/{hotel.est.code}/")
    assert page.status_code == 200 and 'id="establishment-status"' in page.get_data(as_text=True)
    assert hotel.api("GET", "/api/v1/stays", None).status_code == 200


def test_a_suspension_and_a_reopening_decided_on_the_officers_page(hotel: Hotel, factory: Factory) -> None:
    officer = client_as(hotel.app, factory.user(Role.OFFICER, commune=hotel.est.commune_code))
    url = f"/cong-an/dang-ky/{hotel.est.code}/quyet-dinh"
    data = {"action": "suspend", "reason": REASON, "csrf_token": csrf_token(officer)}
    assert officer.post(url, data=data).status_code == 303
    refused = hotel.api("POST", "/api/v1/stays", {"guests": [{"qr": CARD_2}], "reason": "Công tác"})
    assert refused.status_code == 422 and REASON in str(refused.get_json())
    assert officer.post(url, data={"action": "reopen", "csrf_token": csrf_token(officer)}).status_code == 303
    filed = hotel.api("POST", "/api/v1/stays", {"guests": [{"qr": CARD_2}], "reason": "Công tác"})
    assert filed.status_code == 201, filed.get_json()


def test_a_suspended_hospital_admits_nobody_on_the_desk_or_from_its_software(app: Flask, factory: Factory) -> None:
    h = make_hospital(factory, code="BV-DONG")
    clerk = client_as(app, factory.user(Role.CLERK, establishment=h.est))
    token = factory.token(h.est)
    h.est.status, h.est.status_reason = Status.SUSPENDED, REASON
    db.session.commit()
    guest = scanned_guest(clerk, h.est.code, CARD)
    fields = [*guest, ("mode", "document"), ("bed_id", str(h.bed("K1-101-1").id)), ("arrived_at", local_input())]
    page = clerk.post(
        f"/benh-vien/{h.est.code}/nhap-vien", data=MultiDict([*fields, ("csrf_token", csrf_token(clerk))])
    )
    assert page.status_code == 422 and REASON in page.get_data(as_text=True)
    event = {
        "event_id": "adm-1",
        "type": "admission",
        "admission_id": "A1",
        "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "patient": {"doc_type": "cccd", "doc_number": "001085100001", "full_name": "Bệnh Nhân An",
                    "birth_date": "1985-01-15", "sex": "M"},
        "bed": "K1-101-1",
    }  # fmt: skip
    answer = app.test_client().post(
        "/api/v1/hospital/events", json={"events": [event]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200  # the batch is read; each event says why it is refused
    [result] = answer.get_json()["results"]
    assert result["status"] == "refused" and result["error"]["code"] == "establishment_suspended"
    assert REASON in result["error"]["message"]
    assert rows() == (0, 0)
    assert db.session.scalar(select(func.count(Stay.id)).where(Stay.status == StayStatus.IN_HOUSE)) == 0


def test_a_suspended_hospitals_fhir_bundle_is_refused_with_the_reason(app: Flask, factory: Factory) -> None:
    """Hospital software (FHIR here; HL7 v2 and the insurance XML reach the same `apply_events`)."""
    from tests.hospital.test_his_fhir import admission_bundle
    from tests.hospital.test_his_hl7 import NAM

    h = make_hospital(factory, code="BV-FHIR")
    token = factory.token(h.est)
    h.est.status, h.est.status_reason = Status.SUSPENDED, REASON
    db.session.commit()
    bundle = admission_bundle(NAM, "V1", [("K1-101-1", "P101", "K1", utcnow() - timedelta(hours=2))])
    response = app.test_client().post(
        "/api/v1/hospital/fhir",
        json=bundle,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 422
    assert "establishment_suspended" in str(response.get_json()) and REASON in str(response.get_json())
    assert rows() == (0, 0)
