"""The JSON API v1 as hotel software uses it: a bearer token per establishment, JSON in and out."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from PIL import Image
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from asm.accounts.models import ApiToken
from asm.accounts.services import revoke_token
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import EventKind, Stay, StayEvent
from tests.conftest import CARD, Factory
from tests.support import given_name
from tests.support.qrimages import photo_like, qr_image, to_bytes

# Frozen clock: 15:00 in Vietnam on 14 March 2026 (08:00 UTC); the day's deadline is 23:00 local, 16:00 UTC.
NOW = "2026-03-14T08:00:00+00:00"
DEADLINE = "2026-03-14T16:00:00+00:00"
CARD_2 = "001085012345||TRẦN VĂN NAM|15061985|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022"
HOA = {
    "doc_type": "cccd",
    "doc_number": "034303011829",
    "full_name": "Nguyễn Thị Hoa",
    "birth_date": "2003-03-21",
    "sex": "F",
    "address": "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
}
THU = {"doc_number": "001185000001", "full_name": "Lê Thị Thu", "birth_date": "1985-01-01", "sex": "F"}
EXPECTED_CARD = {
    "id_number": "034303011829",
    "old_id_number": None,
    "full_name": "Nguyễn Thị Hoa",
    "birth_date": "2003-03-21",
    "sex": "F",
    "address": "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
    "issue_date": "2021-08-14",
    "extra_fields": [],
    "card_format": "cccd_7",
}


class Api:
    """A hotel system talking to /api/v1 with its token."""

    def __init__(self, client: FlaskClient, secret: str) -> None:
        self.client = client
        self.secret = secret

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers(), **kw)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        if body is not None:
            kw["json"] = body
        return self.client.post(f"/api/v1{path}", headers=self.headers(headers), **kw)


@pytest.fixture
def clock() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.fixture
def est(factory: Factory) -> Establishment:
    return factory.establishment()


@pytest.fixture
def api(client: FlaskClient, factory: Factory, est: Establishment) -> Api:
    return Api(client, factory.token(est))


def stay_body(*guests: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"guests": list(guests) or [HOA], "reason": "Du lịch", **kw}


def count(model: type) -> int:
    db.session.rollback()  # a fresh look at what the requests committed
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --------------------------------------------------------------------------------------------------------
# POST /id-cards/parse
# --------------------------------------------------------------------------------------------------------


def test_parse_a_card(api: Api) -> None:
    response = api.post("/id-cards/parse", {"text": CARD})
    assert response.status_code == 200
    assert response.get_json() == {"card": EXPECTED_CARD}


NOISY = {
    "capitals": CARD.replace("Nguyễn Thị Hoa", "NGUYỄN THỊ HOA"),
    "stray-spaces": CARD.replace("034303011829|", " 034303011829 |").replace("Nguyễn Thị Hoa", " Nguyễn  Thị   Hoa "),
    "cr": CARD + "\r",
    "crlf": CARD + "\r\n",
    "nul": CARD + "\x00",
    "bom": "\ufeff" + CARD,
    "nfd": unicodedata.normalize("NFD", CARD),
}


@pytest.mark.parametrize("text", NOISY.values(), ids=NOISY.keys())
def test_parse_cleans_scanner_noise(api: Api, text: str) -> None:
    response = api.post("/id-cards/parse", {"text": text})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["card"] == EXPECTED_CARD


def test_parse_keeps_the_extra_fields_of_the_new_card(api: Api) -> None:
    response = api.post("/id-cards/parse", {"text": CARD + "|Nguyễn Văn Ba|Trần Thị Tư"})
    card = response.get_json()["card"]
    assert response.status_code == 200
    assert card["extra_fields"] == ["Nguyễn Văn Ba", "Trần Thị Tư"]
    assert card["card_format"] == "can_cuoc"
    assert card["id_number"] == "034303011829"


def test_parse_keeps_an_old_cmnd_number(api: Api) -> None:
    response = api.post("/id-cards/parse", {"text": CARD.replace("||", "|123456789|", 1)})
    assert response.get_json()["card"]["old_id_number"] == "123456789"


BAD = {
    "too-few-fields": ("034303011829|Nguyễn Thị Hoa|21032003", "too_few_fields", None),
    "collapsed-pipes": (CARD.replace("||", "|"), "too_few_fields", None),
    "empty": ("\r\n", "empty", None),
    "mojibake": (CARD.replace("Nữ", "N盻ｯ"), "mojibake", "sex"),
    "diacritics-lost": (CARD.replace("Nữ", "Nu"), "diacritics_lost", "sex"),
    "id-format": (CARD.replace("034303011829", "03430301182"), "id_number_format", "id_number"),
    "birth-year": (CARD.replace("21032003", "21032004"), "id_birth_year_mismatch", "id_number"),
    "birth-date": (CARD.replace("21032003", "31022003"), "birth_date_invalid", "birth_date"),
}


@pytest.mark.parametrize(("text", "code", "field"), BAD.values(), ids=BAD.keys())
def test_parse_refuses_with_stable_codes(api: Api, text: str, code: str, field: str | None) -> None:
    response = api.post("/id-cards/parse", {"text": text})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message_vi"] and error["message_en"] and error["message_vi"] != error["message_en"]
    assert error["message"] == error["message_vi"]  # Vietnamese first


def test_parse_error_message_in_english_on_request(api: Api) -> None:
    response = api.post("/id-cards/parse?lang=en", {"text": "abc"})
    error = response.get_json()["error"]
    assert error["message"] == error["message_en"]
    assert "7 fields" in error["message_en"]


def test_parse_needs_a_text(api: Api) -> None:
    response = api.post("/id-cards/parse", {"txt": CARD})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "text_missing"
    response = api.post("/id-cards/parse", data="not json", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    response = api.post("/id-cards/parse", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


# --------------------------------------------------------------------------------------------------------
# POST /id-cards/decode
# --------------------------------------------------------------------------------------------------------


def test_decode_a_png_upload(api: Api) -> None:
    png = to_bytes(qr_image(CARD), "PNG")
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(png), "card.png")})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"card": EXPECTED_CARD}


def test_decode_a_jpeg_camera_frame_as_raw_body(api: Api) -> None:
    frame = photo_like(
        CARD, size=(640, 480), angle=12, blur=0.3, noise=2, contrast=0.8, skew=0.03, qr_fraction=0.5, seed=7
    )
    response = api.post("/id-cards/decode", data=to_bytes(frame, "JPEG", quality=85), content_type="image/jpeg")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["card"] == EXPECTED_CARD


def test_decode_too_large(app: Flask, api: Api) -> None:
    png = to_bytes(qr_image(CARD), "PNG")
    app.config["MAX_IMAGE_BYTES"] = len(png) - 1
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(png), "card.png")})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large_bytes"

    app.config.update(MAX_IMAGE_BYTES=8_000_000, MAX_IMAGE_PIXELS=100 * 100)
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(png), "card.png")})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large_pixels"


def test_decode_refuses_a_gif(api: Api) -> None:
    buf = io.BytesIO()
    qr_image(CARD).save(buf, format="GIF")
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(buf.getvalue()), "card.gif")})
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == "image_type_unsupported"
    assert error["message_vi"] and error["message_en"]


def test_decode_without_a_code(api: Api) -> None:
    blank = to_bytes(Image.new("L", (320, 240), 255), "PNG")
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(blank), "blank.png")})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "no_code_found"


def test_decode_a_code_that_is_not_a_card(api: Api) -> None:
    png = to_bytes(qr_image("https://example.com/menu"), "PNG")
    response = api.post("/id-cards/decode", data={"image": (io.BytesIO(png), "menu.png")})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "too_few_fields"


# --------------------------------------------------------------------------------------------------------
# POST /stays
# --------------------------------------------------------------------------------------------------------


def test_check_in_with_fields(api: Api, clock: None, est: Establishment) -> None:
    body = stay_body(room="101", expected_departure="2026-03-16", arrived_at="2026-03-14T14:30")
    response = api.post("/stays", body)
    assert response.status_code == 201, response.get_json()
    payload = response.get_json()
    assert payload["warnings"] == []
    [stay] = payload["stays"]
    assert stay["status"] == "in_house"
    assert stay["notice_state"] == "on_time"
    assert stay["arrived_at"] == "2026-03-14T07:30:00+00:00"  # no offset: Vietnam time
    assert stay["deadline_at"] == DEADLINE
    assert stay["filed_at"] == NOW
    assert stay["room"] == "101"
    assert stay["expected_departure"] == "2026-03-16"
    assert stay["receipt_no"].startswith("LT-260314-")
    assert stay["person"] == {
        "full_name": "Nguyễn Thị Hoa",
        "doc_type": "cccd",
        "doc_number_masked": "********1829",
        "nationality": "VNM",
        "birth_date": "2003-03-21",
    }
    assert api.get(f"/stays/{stay['id']}").get_json() == {"stay": stay}  # read back: the same, in UTC
    stored = db.session.get(Stay, stay["id"])
    assert stored.establishment_id == est.id and stored.source == "api"
    assert [(e.kind, e.receipt_no, e.actor) for e in stored.events] == [
        (EventKind.CHECK_IN, stay["receipt_no"], "API: pms")
    ]


def test_check_in_after_the_evening_cutoff(api: Api) -> None:
    with freeze_time("2026-03-14T16:30:00+00:00"):  # 23:30 in Vietnam
        response = api.post("/stays", stay_body())
    [stay] = response.get_json()["stays"]
    assert stay["deadline_at"] == "2026-03-15T01:00:00+00:00"  # 08:00 next morning


def test_check_in_a_group_from_qr_texts(api: Api, clock: None) -> None:
    response = api.post("/stays", stay_body({"qr": CARD + "\r\n"}, {"qr": CARD_2}, room="201"))
    assert response.status_code == 201, response.get_json()
    head, member = response.get_json()["stays"]
    assert (head["person"]["full_name"], member["person"]["full_name"]) == ("Nguyễn Thị Hoa", "Trần Văn Nam")
    assert head["head_id"] is None and member["head_id"] == head["id"]
    assert head["receipt_no"] != member["receipt_no"]
    assert head["deadline_at"] == member["deadline_at"] == DEADLINE
    person = db.session.scalars(select(Person).where(Person.doc_number == "001085012345")).one()
    assert (person.sex, person.birth_date, person.id_issue_date) == ("M", date(1985, 6, 15), date(2022, 1, 1))
    assert person.address == "Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội"


def test_check_in_as_draft(api: Api, clock: None) -> None:
    response = api.post("/stays", stay_body(file=False))
    [stay] = response.get_json()["stays"]
    assert response.status_code == 201
    assert (stay["status"], stay["notice_state"], stay["receipt_no"], stay["filed_at"]) == (
        "draft",
        "pending",
        None,
        None,
    )


def test_check_in_field_errors(api: Api, clock: None) -> None:
    bad = {**HOA, "doc_number": "03430301182"}
    response = api.post("/stays", stay_body(HOA, bad, {**HOA, "doc_number": "034303011829 ", "full_name": ""}))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["codes"] == {
        "guests.1.doc_number": "id_number_format",
        "guests.2.full_name": "name_missing",
        "guests.2.doc_number": "duplicate_guest",
    }
    assert set(error["fields"]) == set(error["codes"])
    assert all(isinstance(m, str) and m for m in error["fields"]["guests.1.doc_number"])
    assert "12" in error["fields"]["guests.1.doc_number"][0]  # the message says what is expected
    assert count(Stay) == count(Person) == count(StayEvent) == 0


def test_check_in_input_errors(api: Api, clock: None) -> None:
    """What cannot even be read (bad QR text, a date in the wrong format, an unknown room) is answered first."""
    response = api.post("/stays", stay_body({"qr": "abc"}, {**HOA, "birth_date": "21/03/2003"}, room="999"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["codes"] == {
        "guests.0.qr": "too_few_fields",
        "guests.1.birth_date": "date_invalid",
        "room": "room_invalid",
    }
    assert count(Stay) == count(Person) == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"reason": "Du lịch"}, "guests", "guests_missing"),
        ({"guests": [], "reason": "Du lịch"}, "guests", "guests_missing"),
        ({"guests": ["034303011829"], "reason": "Du lịch"}, "guests.0", "type_invalid"),
        (stay_body(reason=""), "reason", "reason_missing"),
        (stay_body(reason=5), "reason", "type_invalid"),
        (stay_body(arrived_at="hôm qua"), "arrived_at", "datetime_invalid"),
        (stay_body(arrived_at="2026-03-14T16:00:00+07:00"), "arrived_at", "arrival_future"),
        (stay_body(expected_departure="2026-03-13"), "expected_departure", "departure_before_arrival"),
        (stay_body({**HOA, "sex": "X"}), "guests.0.sex", "sex_invalid"),
        (stay_body({**HOA, "doc_type": "passport", "doc_number": "12"}), "guests.0.doc_number", None),
    ],
)
def test_check_in_rules(api: Api, clock: None, body: dict[str, Any], field: str, code: str | None) -> None:
    response = api.post("/stays", body)
    assert response.status_code == 422, response.get_json()
    codes = response.get_json()["error"]["codes"]
    assert field in codes
    if code:
        assert codes[field] == code


def test_arrival_up_to_now_in_any_offset_is_accepted(api: Api, clock: None) -> None:
    response = api.post("/stays", stay_body(arrived_at="2026-03-14T08:00:00Z"))  # now, in UTC
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["stays"][0]["arrived_at"] == NOW


def test_a_guest_already_in_house(api: Api, clock: None) -> None:
    assert api.post("/stays", stay_body()).status_code == 201
    response = api.post("/stays", stay_body({**HOA, "full_name": "Nguyễn Thị Hoà"}))
    assert response.status_code in (409, 422)
    error = response.get_json()["error"]
    assert error.get("codes", {}).get("guests.0.doc_number", error["code"]) == "already_in_house"
    assert count(Stay) == 1
    assert db.session.scalars(select(Person.full_name)).one() == "Nguyễn Thị Hoa"


def test_a_guest_open_at_another_establishment_is_a_warning(api: Api, client: FlaskClient, factory: Factory) -> None:
    other = Api(client, factory.token(factory.establishment(name="Nhà nghỉ Bên Kia")))
    with freeze_time(NOW):
        assert other.post("/stays", stay_body()).status_code == 201
        response = api.post("/stays", stay_body())
    assert response.status_code == 201
    [warning] = response.get_json()["warnings"]
    assert "Nhà nghỉ Bên Kia" in warning


def test_check_in_needs_a_json_object(api: Api) -> None:
    response = api.post("/stays", data="guests=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert api.post("/stays", [HOA]).status_code == 400
    response = api.post("/stays", data="", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


# --------------------------------------------------------------------------------------------------------
# Reading stays
# --------------------------------------------------------------------------------------------------------


def test_list_shows_in_house_stays_of_the_tokens_establishment(
    api: Api, client: FlaskClient, factory: Factory, clock: None
) -> None:
    other = Api(client, factory.token(factory.establishment()))
    group = api.post("/stays", stay_body({"qr": CARD}, {"qr": CARD_2}, room="101")).get_json()["stays"]
    draft = api.post("/stays", stay_body(THU, file=False)).get_json()["stays"][0]
    elsewhere = other.post("/stays", stay_body({"qr": CARD})).get_json()["stays"][0]
    assert api.post(f"/stays/{group[1]['id']}/check-out", {}).status_code == 200

    response = api.get("/stays")
    assert response.status_code == 200
    listed = response.get_json()
    ids = {s["id"] for s in listed["stays"]}
    assert ids == {group[0]["id"], draft["id"]}
    assert listed["count"] == 2
    assert elsewhere["id"] not in ids

    assert [s["id"] for s in api.get("/stays", query_string={"q": "thu"}).get_json()["stays"]] == [draft["id"]]
    assert [s["id"] for s in api.get("/stays", query_string={"q": "101"}).get_json()["stays"]] == [group[0]["id"]]
    assert api.get("/stays", query_string={"q": "nobody"}).get_json() == {"stays": [], "count": 0, "next": None}


def people(n: int) -> list[dict[str, Any]]:
    """n valid guests (Hà Nội ID numbers, born 1980 + i)."""
    return [
        {
            "doc_number": f"0010{80 + i:02d}{100000 + i:06d}",
            "full_name": f"Khách {given_name(i)}",
            "birth_date": f"{1980 + i}-01-15",
        }
        for i in range(n)
    ]


def test_the_list_pages_with_a_cursor_and_never_cuts_silently(api: Api, clock: None) -> None:
    # seven stays; three arrive at the same minute, so the order needs its tie-break (the id)
    arrivals = ["2026-03-14T09:00", "2026-03-14T10:00", "2026-03-14T10:00", "2026-03-14T10:00", "2026-03-13T22:00"]
    arrivals += ["2026-03-14T11:30", "2026-03-12T08:00"]
    ids = []
    for guest, arrived in zip(people(7), arrivals, strict=True):
        response = api.post("/stays", stay_body(guest, arrived_at=arrived))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["stays"][0]["id"])
    everything = api.get("/stays").get_json()
    assert everything["count"] == 7 and everything["next"] is None
    order = [s["id"] for s in everything["stays"]]
    assert order == [ids[5], ids[1], ids[2], ids[3], ids[0], ids[4], ids[6]]  # latest first, ties by id

    seen, pages, cursor = [], 0, None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = api.get("/stays", query_string=query)
        assert response.status_code == 200
        page = response.get_json()
        pages += 1
        seen += [s["id"] for s in page["stays"]]
        assert page["count"] == len(page["stays"])
        cursor = page["next"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"] == f'</api/v1/stays?limit=3&cursor={cursor}>; rel="next"'
        if pages == 1:  # a guest arriving meanwhile, before the cursor, does not shift the pages that follow
            late = api.post("/stays", stay_body(people(8)[7], arrived_at="2026-03-14T11:45"))
            assert late.status_code == 201
    assert seen == order and pages == 3

    # the Link is followed as it is, with the search kept
    full = [s["id"] for s in api.get("/stays", query_string={"q": "khách"}).get_json()["stays"]]
    first = api.get("/stays", query_string={"q": "khách", "limit": "2"})
    link = first.headers["Link"].split(";")[0].strip("<>")
    assert "q=kh" in link
    second = api.client.get(link, headers=api.headers()).get_json()
    assert [s["id"] for s in second["stays"]] == full[2:4] and len(full) == 8


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"limit": "0"}, "limit", "value_invalid"),
        ({"limit": "501"}, "limit", "value_invalid"),
        ({"limit": "many"}, "limit", "type_invalid"),
        ({"cursor": "not-a-cursor"}, "cursor", "cursor_invalid"),
        ({"cursor": "MjAyNi0wMy0xNFQxMDowMDowMHw1"}, "cursor", "cursor_invalid"),  # no offset in the time
    ],
)
def test_bad_page_parameters_are_422(api: Api, query: dict[str, str], field: str, code: str) -> None:
    response = api.get("/stays", query_string=query)
    assert response.status_code == 422
    assert response.get_json()["error"]["codes"] == {field: code}


def test_get_one_stay(api: Api, client: FlaskClient, factory: Factory, clock: None) -> None:
    [stay] = api.post("/stays", stay_body()).get_json()["stays"]
    response = api.get(f"/stays/{stay['id']}")
    assert response.status_code == 200
    assert response.get_json() == {"stay": stay}

    other = Api(client, factory.token(factory.establishment()))
    response = other.get(f"/stays/{stay['id']}")
    assert response.status_code == 404  # another establishment's stay does not exist for this token
    assert response.get_json()["error"]["code"] == "not_found"
    assert api.get("/stays/999999").status_code == 404


# --------------------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def stay_id(api: Api, clock: None) -> int:
    response = api.post("/stays", stay_body(room="101", expected_departure="2026-03-16", arrived_at="2026-03-14T14:00"))
    return response.get_json()["stays"][0]["id"]


def events_of(stay_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(StayEvent.kind).where(StayEvent.stay_id == stay_id).order_by(StayEvent.id)))


def test_check_out(api: Api, stay_id: int) -> None:
    response = api.post(f"/stays/{stay_id}/check-out", {"departed_at": "2026-03-14T14:45"})
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["stay"]["status"] == "checked_out"
    assert payload["stay"]["departed_at"] == "2026-03-14T07:45:00+00:00"
    assert payload["receipt_no"].startswith("LT-") and payload["receipt_no"] != payload["stay"]["receipt_no"]
    assert events_of(stay_id) == ["check_in", "check_out"]

    again = api.post(f"/stays/{stay_id}/check-out", {})
    assert again.status_code == 422
    assert again.get_json()["error"]["codes"] == {"stay": "not_open"}


def test_check_out_without_a_body_is_now(api: Api, stay_id: int) -> None:
    response = api.post(f"/stays/{stay_id}/check-out")
    assert response.status_code == 200
    assert response.get_json()["stay"]["departed_at"] == NOW


@pytest.mark.parametrize(
    ("departed_at", "code"),
    [
        ("2026-03-14T13:59", "departure_before_arrival"),
        ("2026-03-14T16:00", "departure_future"),
        ("x", "datetime_invalid"),
    ],
)
def test_check_out_rules(api: Api, stay_id: int, departed_at: str, code: str) -> None:
    response = api.post(f"/stays/{stay_id}/check-out", {"departed_at": departed_at})
    assert response.status_code == 422
    assert response.get_json()["error"]["codes"] == {"departed_at": code}
    assert events_of(stay_id) == ["check_in"]


def test_extend(api: Api, stay_id: int) -> None:
    response = api.post(f"/stays/{stay_id}/extend", {"expected_departure": "2026-03-20"})
    assert response.status_code == 200
    assert response.get_json()["stay"]["expected_departure"] == "2026-03-20"
    assert events_of(stay_id) == ["check_in", "extend"]

    for body, code in [({}, "required"), ({"expected_departure": "2026-03-13"}, "extend_in_past")]:
        response = api.post(f"/stays/{stay_id}/extend", body)
        assert response.status_code == 422
        assert response.get_json()["error"]["codes"] == {"expected_departure": code}


def test_move(api: Api, stay_id: int, client: FlaskClient, factory: Factory) -> None:
    response = api.post(f"/stays/{stay_id}/move", {"room": "201"})
    assert response.status_code == 200
    assert response.get_json()["stay"]["room"] == "201"

    factory.establishment(rooms=("301",))
    for body, code in [({"room": "201"}, "same_room"), ({"room": "301"}, "room_invalid"), ({}, "required")]:
        response = api.post(f"/stays/{stay_id}/move", body)
        assert response.status_code == 422, body
        assert set(response.get_json()["error"]["codes"].values()) == {code}
    assert events_of(stay_id) == ["check_in", "move"]


def test_cancel(api: Api, stay_id: int) -> None:
    response = api.post(f"/stays/{stay_id}/cancel", {"reason": " "})
    assert response.status_code == 422
    assert response.get_json()["error"]["codes"] == {"reason": "reason_missing"}

    response = api.post(f"/stays/{stay_id}/cancel", {"reason": "Nhập nhầm"})
    assert response.status_code == 200
    assert response.get_json()["stay"]["status"] == "cancelled"
    assert api.get("/stays").get_json()["count"] == 0
    assert events_of(stay_id) == ["check_in", "cancel"]


def test_changes_on_a_draft_are_refused(api: Api, clock: None) -> None:
    [draft] = api.post("/stays", stay_body(room="101", file=False)).get_json()["stays"]
    for path, body in [("check-out", {}), ("extend", {"expected_departure": "2026-03-20"}), ("move", {"room": "201"})]:
        response = api.post(f"/stays/{draft['id']}/{path}", body)
        assert response.status_code == 422
        assert response.get_json()["error"]["codes"] == {"stay": "not_filed"}


def test_changes_on_another_establishments_stay_are_404(
    api: Api, stay_id: int, client: FlaskClient, factory: Factory
) -> None:
    other = Api(client, factory.token(factory.establishment()))
    for path, body in [
        ("check-out", {}),
        ("extend", {"expected_departure": "2026-03-20"}),
        ("move", {"room": "201"}),
        ("cancel", {"reason": "x"}),
    ]:
        assert other.post(f"/stays/{stay_id}/{path}", body).status_code == 404
    assert events_of(stay_id) == ["check_in"]


# --------------------------------------------------------------------------------------------------------
# Tokens and rate limits
# --------------------------------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/api/v1/stays"),
    ("POST", "/api/v1/stays"),
    ("GET", "/api/v1/stays/1"),
    ("POST", "/api/v1/stays/1/check-out"),
    ("POST", "/api/v1/id-cards/parse"),
    ("POST", "/api/v1/id-cards/decode"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer asm_not-a-real-token", "Bearer not-even-the-prefix", "Basic dXNlcjpwYXNz"],
    ids=["none", "empty", "unknown", "no-prefix", "basic"],
)
def test_401_without_a_valid_token(client: FlaskClient, method: str, path: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(path, method=method, headers=headers, json=stay_body())
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(Stay) == 0


def test_401_with_a_revoked_token_or_an_inactive_establishment(
    api: Api, client: FlaskClient, factory: Factory, est: Establishment
) -> None:
    assert api.get("/stays").status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    revoke_token(token, now=datetime.fromisoformat(NOW))
    db.session.commit()
    assert api.get("/stays").status_code == 401

    second = Api(client, factory.token(est))
    assert second.get("/stays").status_code == 200
    est.active = False
    db.session.commit()
    assert second.get("/stays").status_code == 401


def test_rate_limit_headers(api: Api) -> None:
    first = api.get("/stays")
    second = api.get("/stays")
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in first.headers
    assert int(second.headers["X-RateLimit-Remaining"]) < int(first.headers["X-RateLimit-Remaining"])


def test_scans_are_limited_per_token(app: Flask, api: Api, client: FlaskClient, factory: Factory) -> None:
    app.config["RATELIMIT_SCAN"] = "2 per minute"
    assert [api.post("/id-cards/parse", {"text": CARD}).status_code for _ in range(3)] == [200, 200, 429]
    limited = api.post("/id-cards/parse", {"text": CARD})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert "Retry-After" in limited.headers
    other = Api(client, factory.token(factory.establishment()))
    assert other.post("/id-cards/parse", {"text": CARD}).status_code == 200
    assert api.get("/stays").status_code == 200  # the scan limit does not block the rest of the API


def test_every_api_call_counts_against_the_token_limit(
    app: Flask, api: Api, client: FlaskClient, factory: Factory
) -> None:
    app.config["RATELIMIT_API"] = "3 per minute"
    assert [api.get("/stays").status_code for _ in range(2)] == [200, 200]
    assert api.post("/id-cards/parse", {"text": CARD}).status_code == 200  # a scan counts too
    limited = api.get("/stays")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Remaining"] == "0"
    other = Api(client, factory.token(factory.establishment()))
    assert other.get("/stays").status_code == 200
