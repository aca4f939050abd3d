"""The kiosk's JSON endpoints as kiosk.js calls them: reading a code, decoding a frame or a photo, the staff PIN,
and filing (idempotent per device, arrival at the scan time)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from asm.clock import VN_TZ, to_local
from asm.devices.services import PIN_MAX_FAILURES
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import IdempotencyRecord, Source, Stay, StayEvent, StayStatus
from asm.stays.services import deadline_for
from tests.conftest import CARD, Factory
from tests.support.desk import CARD_2, NAME_1, NAME_2, use_fast_password_hashes
from tests.support.kiosk import Kiosk, make_kiosk
from tests.support.qrimages import photo_like, qr_image, to_bytes

CHECK_IN = {"flow": "hotel_check_in", "reason": "Du lịch", "nights": 2}


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def kiosk(app: Flask, factory: Factory) -> Kiosk:
    return make_kiosk(app, factory)


def stays() -> list[Stay]:
    db.session.expire_all()
    return list(db.session.scalars(select(Stay).order_by(Stay.id)))


def people_count() -> int:
    return db.session.scalar(select(func.count(Person.id))) or 0


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


# --- reading a code ------------------------------------------------------------------------------------------


def test_a_wedge_scan_shows_the_name_birth_date_and_masked_id_only(kiosk: Kiosk) -> None:
    response = kiosk.read(CARD + "\r")
    assert response.status_code == 200
    body = response.get_json()
    assert body["card"] == {
        "full_name": NAME_1,
        "birth_date": "21/03/2003",
        "sex": "F",
        "doc_masked": "********1829",
    }
    assert "Thôn Lai Ổn" not in response.get_data(as_text=True).replace(body["qr"], "")
    assert people_count() == 0  # reading stores nothing


@pytest.mark.parametrize(
    ("text", "code", "advice"),
    [
        (CARD.replace("Nữ", "Nu74"), "input_method", "tắt bộ gõ tiếng Việt"),
        (CARD.replace("Nguyễn Thị", "Nguy7877n Th7883"), "alt_codes", "mã Alt"),
        ("001090012345||Tran Van Nam|15061990|Nam|So 5 Hang Bac, Ha Noi|01022022", "diacritics_lost", "cổng COM"),
    ],
)
def test_garbled_wedge_input_is_refused_with_advice_and_nothing_stored(
    kiosk: Kiosk, text: str, code: str, advice: str
) -> None:
    response = kiosk.read(text, source="wedge")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and error["staff"] is True
    assert advice in error["message"]
    assert people_count() == 0 and stays() == []


def test_a_serial_read_gets_the_parsers_own_message(kiosk: Kiosk) -> None:
    """Serial mode sends UTF-8 bytes: no keyboard to blame; the strict parser's message stands."""
    response = kiosk.read(CARD.replace("Nữ", "Nu"), source="serial")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "diacritics_lost"
    assert "staff" not in response.get_json()["error"]


def test_an_uploaded_photo_and_a_camera_frame_are_decoded(kiosk: Kiosk) -> None:
    photo = to_bytes(photo_like(CARD, size=(1280, 720), seed=3), "JPEG")
    response = kiosk.client.post(
        "/kiosk/api/giai-ma",
        data={"image": (__import__("io").BytesIO(photo), "card.jpg")},
        headers={"X-CSRFToken": kiosk.csrf()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["card"]["full_name"] == NAME_1
    frame = to_bytes(qr_image(CARD_2, scale=6), "JPEG")
    response = kiosk.client.post(
        "/kiosk/api/giai-ma?khung=1", data=frame, headers={"X-CSRFToken": kiosk.csrf(), "Content-Type": "image/jpeg"}
    )
    assert response.status_code == 200 and response.get_json()["card"]["full_name"] == NAME_2
    blank = to_bytes(qr_image(CARD).point(lambda _: 255), "JPEG")
    response = kiosk.client.post(
        "/kiosk/api/giai-ma?khung=1", data=blank, headers={"X-CSRFToken": kiosk.csrf(), "Content-Type": "image/jpeg"}
    )
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "no_code_found"


# --- filing --------------------------------------------------------------------------------------------------


def test_a_check_in_is_filed_at_the_scan_time_and_replayed_not_refiled(kiosk: Kiosk, app: Flask) -> None:
    now = datetime.now(UTC)
    kiosk_clock_at_scan = now - timedelta(minutes=7, seconds=30)
    offset_ms = 90_000  # the kiosk's clock runs 90 s slow
    body = {
        **CHECK_IN,
        "guests": [{"qr": CARD}, {"qr": CARD_2}],
        "scanned_at_ms": ms(kiosk_clock_at_scan),
        "clock_offset_ms": offset_ms,
    }
    key = str(uuid.uuid4())
    first = kiosk.submit(body, key=key)
    assert first.status_code == 201, first.get_json()
    result = first.get_json()["result"]
    assert [p["full_name"] for p in result["people"]] == [NAME_1, NAME_2]
    assert [p["doc_masked"] for p in result["people"]] == ["********1829", "********2345"]
    head, companion = stays()
    scanned = kiosk_clock_at_scan + timedelta(milliseconds=offset_ms)
    assert abs(head.arrived_at - scanned) < timedelta(milliseconds=2)
    assert head.deadline_at == deadline_for(head.arrived_at)
    assert head.source == Source.KIOSK and head.status == StayStatus.IN_HOUSE
    assert head.reason == "Du lịch" and head.room is None and companion.head_id == head.id
    assert head.expected_departure == to_local(scanned).date() + timedelta(days=2)
    assert result["receipt_no"] == head.receipt_no and head.receipt_no.startswith("LT-")
    event = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == head.id)).one()
    assert event.actor == "Kiosk: Sảnh"

    again = kiosk.submit(body, key=key)  # the kiosk never heard the answer and retries
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(stays()) == 2
    record = db.session.scalars(select(IdempotencyRecord)).one()
    assert record.scope.startswith("kiosk:")


def test_the_deadline_counts_from_the_scan_even_when_filed_after_the_cut_off(kiosk: Kiosk) -> None:
    scanned = datetime(2026, 11, 20, 22, 55, tzinfo=VN_TZ)
    with freeze_time(datetime(2026, 11, 20, 23, 20, tzinfo=VN_TZ)):  # the network came back 25 minutes later
        response = kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}], "scanned_at_ms": ms(scanned)})
    assert response.status_code == 201, response.get_json()
    (stay,) = stays()
    assert to_local(stay.deadline_at) == datetime(2026, 11, 20, 23, 0, tzinfo=VN_TZ)
    assert to_local(stay.filed_at) > to_local(stay.deadline_at)  # filed late, and the record says so


def test_a_key_reused_for_another_filing_is_refused(kiosk: Kiosk) -> None:
    key = str(uuid.uuid4())
    assert kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}]}, key=key).status_code == 201
    other = kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD_2}]}, key=key)
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert len(stays()) == 1


def test_a_refused_filing_stores_nothing_and_may_be_fixed_under_the_same_key(kiosk: Kiosk) -> None:
    key = str(uuid.uuid4())
    refused = kiosk.submit({**CHECK_IN, "reason": "Buôn lậu", "guests": [{"qr": CARD}]}, key=key)
    assert refused.status_code == 422 and refused.get_json()["error"]["codes"] == {"reason": "reason_missing"}
    assert stays() == [] and people_count() == 0
    assert kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}]}, key=key).status_code == 201


def room_id(kiosk: Kiosk, name: str) -> int:
    return next(r.id for r in kiosk.establishment.rooms if r.name == name)


def test_staff_choose_the_room_with_the_pin(kiosk: Kiosk) -> None:
    key = str(uuid.uuid4())
    body: dict[str, Any] = {**CHECK_IN, "guests": [{"qr": CARD}], "room_id": room_id(kiosk, "102")}
    refused = kiosk.submit(body, key=key)
    assert refused.status_code == 422 and refused.get_json()["error"]["codes"] == {"approval": "approval_required"}

    approval = kiosk.approve(key).get_json()["approval"]
    # An approval is for one filing: under another key it does not count.
    assert kiosk.submit({**body, "approval": approval}).status_code == 422
    assert stays() == []
    response = kiosk.submit({**body, "approval": approval}, key=key)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["result"]["room"] == "102"


def test_guests_may_pick_their_room_where_the_owner_allows_it(app: Flask, factory: Factory) -> None:
    kiosk = make_kiosk(app, factory, guest_picks_room=True)
    response = kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}], "room_id": room_id(kiosk, "201")})
    assert response.status_code == 201 and stays()[0].room.name == "201"


def test_a_manual_entry_needs_the_staff_pin(kiosk: Kiosk) -> None:
    manual = {
        "doc_type": "cccd",
        "doc_number": "001085012345",
        "full_name": "trần văn nam",
        "birth_date": "1985-06-15",
        "sex": "M",
    }
    key = str(uuid.uuid4())
    body = {**CHECK_IN, "guests": [{"manual": manual}]}
    assert kiosk.submit(body, key=key).get_json()["error"]["codes"] == {"approval": "approval_required"}
    wrong = kiosk.approve(key, pin="0000")
    assert wrong.status_code == 403 and wrong.get_json()["error"]["attempts_left"] == PIN_MAX_FAILURES - 1
    approval = kiosk.approve(key).get_json()["approval"]
    response = kiosk.submit({**body, "approval": approval}, key=key)
    assert response.status_code == 201, response.get_json()
    assert stays()[0].person.full_name == "Trần Văn Nam"


def test_wrong_pins_lock_the_pin_for_five_minutes(kiosk: Kiosk) -> None:
    key = "k-lock"
    for _ in range(PIN_MAX_FAILURES - 1):
        assert kiosk.approve(key, pin="9999").status_code == 403
    locked = kiosk.approve(key, pin="9999")
    assert locked.status_code == 429 and locked.get_json()["error"]["code"] == "pin_locked"
    assert kiosk.approve(key).status_code == 429  # even the right PIN, while locked
    with freeze_time(datetime.now(UTC) + timedelta(minutes=6)):
        assert kiosk.approve(key).status_code == 200


def test_check_out_at_the_kiosk_needs_the_pin(kiosk: Kiosk) -> None:
    assert kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}]}).status_code == 201
    key = str(uuid.uuid4())
    body = {"flow": "check_out", "guests": [{"qr": CARD}]}
    assert kiosk.submit(body, key=key).get_json()["error"]["codes"] == {"approval": "approval_required"}
    approval = kiosk.approve(key).get_json()["approval"]
    response = kiosk.submit({**body, "approval": approval}, key=key)
    assert response.status_code == 201, response.get_json()
    result = response.get_json()["result"]
    assert result["kind"] == "check_out" and result["people"] == [{"full_name": NAME_1, "doc_masked": "********1829"}]
    (stay,) = stays()
    assert stay.status == StayStatus.CHECKED_OUT and stay.departed_at is not None
    # Nobody left to check out.
    key = str(uuid.uuid4())
    approval = kiosk.approve(key).get_json()["approval"]
    again = kiosk.submit({**body, "approval": approval}, key=key)
    assert again.get_json()["error"]["codes"] == {"guests.0.doc_number": "not_in_house"}


def test_a_flow_the_device_does_not_offer_is_refused(kiosk: Kiosk) -> None:
    response = kiosk.submit({"flow": "hospital_admission", "guests": [{"qr": CARD}]})
    assert response.status_code == 422 and response.get_json()["error"]["codes"] == {"flow": "flow_not_offered"}
    assert stays() == []


def test_hospital_flows_file_stays_with_their_reason(app: Flask, factory: Factory) -> None:
    hospital = factory.establishment(type="hospital", name="Bệnh viện Đa khoa", rooms=())
    kiosk = make_kiosk(app, factory, est=hospital, flows=("hospital_admission", "carer"))
    assert kiosk.submit({"flow": "hospital_admission", "guests": [{"qr": CARD}]}).status_code == 201
    assert kiosk.submit({"flow": "carer", "guests": [{"qr": CARD_2}]}).status_code == 201
    assert [(s.person.full_name, s.reason) for s in stays()] == [
        (NAME_1, "Khám chữa bệnh"),
        (NAME_2, "Chăm sóc người bệnh"),
    ]


def test_a_scan_time_in_the_future_is_refused(kiosk: Kiosk) -> None:
    future = datetime.now(UTC) + timedelta(hours=2)
    response = kiosk.submit({**CHECK_IN, "guests": [{"qr": CARD}], "scanned_at_ms": ms(future)})
    assert response.status_code == 422 and response.get_json()["error"]["codes"] == {"arrived_at": "arrival_future"}


def test_the_clock_endpoint_gives_the_servers_time_and_a_current_token(kiosk: Kiosk) -> None:
    with freeze_time("2026-11-20 15:00:00+00:00"):
        response = kiosk.client.get("/kiosk/api/gio")
    assert response.get_json()["now_ms"] == ms(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    # The token a screen from the service worker's copy refreshes itself with: the kiosk's POSTs accept it.
    # (Asked again at the real time: a session signed at the frozen time would read as 4 days old, expired.)
    headers = {"X-CSRFToken": kiosk.client.get("/kiosk/api/gio").get_json()["csrf"], "Accept": "application/json"}
    read = kiosk.client.post("/kiosk/api/doc-ma", json={"text": CARD, "source": "serial"}, headers=headers)
    assert read.status_code == 200
    stale = kiosk.client.post(
        "/kiosk/api/doc-ma", json={"text": CARD, "source": "serial"}, headers={**headers, "X-CSRFToken": "cu"}
    )
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "csrf"


def test_the_service_worker_is_served_to_paired_kiosks_only(kiosk: Kiosk, app: Flask) -> None:
    worker = kiosk.client.get("/kiosk/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-store"
    assert b"caches.open" in worker.data
    assert app.test_client().get("/kiosk/sw.js").status_code == 401


# --- the device parses, the server decides (docs/OFFLINE.md) ---------------------------------------------------------


def test_the_filing_is_what_the_servers_parse_of_the_qr_says_not_the_devices_fields(kiosk: Kiosk) -> None:
    """kiosk.js parses the card on the device for the confirmation, but files only the raw QR text: anything else
    a (tampered) page adds about the guest is ignored, and a QR text altered after the scan is refused."""
    forged = {"qr": CARD, "card": {"full_name": "Kẻ Giả Mạo", "id_number": "001090012345"}, "full_name": "Kẻ Giả Mạo"}
    response = kiosk.submit({**CHECK_IN, "guests": [forged]})
    assert response.status_code == 201, response.get_json()
    (stay,) = stays()
    assert (stay.person.full_name, stay.person.doc_number) == (NAME_1, "034303011829")

    altered = CARD.replace("034303011829", "034304011829")  # digits 5-6 no longer match the birth year
    refused = kiosk.submit({**CHECK_IN, "guests": [{"qr": altered}]})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["codes"] == {"guests.0.qr": "id_birth_year_mismatch"}
    assert len(stays()) == 1


def test_the_screen_carries_the_device_readers_urls_and_the_wedge_advice(kiosk: Kiosk) -> None:
    page = kiosk.client.get("/kiosk/").get_data(as_text=True)
    for url in ("/static/idcard/cccd.js", "/kiosk/static/wedge.js", "/static/idcard/scanner.js"):
        assert url in page
    assert "/vendor/zxing-wasm/reader/zxing_reader.wasm" in page
    assert "wedge_input_method" in page and "wedge_keyboard_layout" in page
