"""JSON API v1 for hotel and hospital software. Bearer token per establishment; Idempotency-Key on writes.

Each view reads its body through its model (asm/api/schemas.py), calls one service and answers; its
`@operation` says what the OpenAPI document tells of it (asm/api/openapi.py, generated from both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from asm import rawdb
from asm.api import idempotency, openapi
from asm.api.auth import api_limits, confirm_token, current_token, token_actor, token_rechecked, unauthorized
from asm.api.contract import Outcome, json_object, operation, read_body, read_query, validate
from asm.api.idempotency import idempotent
from asm.api.pages import CursorError, decode_cursor, encode_cursor
from asm.api.schemas import (
    CancelBody,
    CardAnswer,
    CardTextBody,
    CheckInAnswer,
    CheckInBody,
    CheckOutBody,
    DeclarationBody,
    ExtendBody,
    MoveBody,
    OneStay,
    StayChanged,
    StayListQuery,
    StayPage,
    error_payload,
)
from asm.api.serialize import stay_json
from asm.clock import utcnow
from asm.common import ValidationError
from asm.extensions import csrf, db
from asm.filing import sql as sql_writer
from asm.filing.core import CLOSED_MESSAGES, Filing, Place
from asm.foreigners import services as foreigners
from asm.idcard import MESSAGES, CardError
from asm.idcard.decode import DECODE_ERROR_STATUS, DecodeError
from asm.people import documents
from asm.stays import queries, services
from asm.stays.models import Source, Stay
from asm.web.access import api_token, public
from asm.web.i18n import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: nothing for a forged cross-site request to ride on

CARD_CODES = tuple(MESSAGES)
# The codes `error.codes` holds for a person, from the rules (asm.people.services, asm.idcard).
PERSON_CODES = ("doc_type_invalid", "name_missing", "birth_date_missing", "birth_date_future", "sex_invalid")
# An establishment the police have not approved, or have rejected or suspended, files nothing (issue 16).
ESTABLISHMENT_CODES = tuple(f"establishment_{status.value}" for status in CLOSED_MESSAGES)
CHECK_IN_CODES = (
    *ESTABLISHMENT_CODES,
    "guests_missing",
    "group_too_large",
    "duplicate_guest",
    "already_in_house",
    "reason_missing",
    "arrival_future",
    "arrival_too_old",
    "departure_before_arrival",
    "room_invalid",
    *PERSON_CODES,
    *CARD_CODES,
)
STAY_CODES = ("not_filed", "not_open", *ESTABLISHMENT_CODES)
# Fields that had codes of their own before the contract was typed keep them (asm.api.contract.field_errors).
GUESTS_MISSING = ("guests_missing", _l("Cần ít nhất một người."))
CHECK_IN_OVERRIDES = {
    "guests:required": GUESTS_MISSING,
    "guests:type_invalid": GUESTS_MISSING,
    "guests:too_few": GUESTS_MISSING,
    "guests:too_many": ("group_too_large", _l("Một lần khai báo tối đa %(n)s người.", n=services.MAX_GROUP)),
    "reason:required": ("reason_missing", _l("Cần nhập lý do lưu trú.")),
}
CANCEL_OVERRIDES = {"reason:required": ("reason_missing", _l("Cần nêu lý do hủy."))}


def scope() -> str:
    return f"est:{current_token().establishment_id}"


def validation_payload(exc: ValidationError) -> tuple[dict[str, Any], int]:
    return error_payload(422, "validation_error", "The request has invalid fields", fields=exc.errors, codes=exc.codes)


@bp.route("/openapi.json")
@public
@operation("This document", {200: Outcome("The OpenAPI 3.1 document of this API")})
def openapi_document() -> Response:
    return jsonify(openapi.document(current_app))


@bp.route("/id-cards/parse", methods=["POST"])
@api_token
@api_limits("RATELIMIT_SCAN")
@operation(
    "Parse the text of an ID card or VNeID QR code",
    {
        200: Outcome("Parsed", CardAnswer),
        422: Outcome("No `text` (string), or the text is not a valid card", codes=("text_missing", *CARD_CODES)),
    },
    body=CardTextBody,
)
def parse_card() -> tuple[Response, int]:
    try:
        text = read_body(CardTextBody).text
    except ValidationError as exc:
        payload, status = error_payload(
            422, "text_missing", "'text' (string) is required", fields=exc.errors, codes=exc.codes
        )
        return jsonify(payload), status
    try:
        card = documents.read_text(text)
    except CardError as exc:
        return jsonify(error=card_error(exc)), 422
    return jsonify(card=card.as_dict()), 200


def decode_outcomes() -> dict[int, Outcome]:
    by_status: dict[int, list[str]] = {}
    for code, status in DECODE_ERROR_STATUS.items():
        by_status.setdefault(status, []).append(code)
    described = {
        413: "Image too large (bytes or pixels)",
        415: "Not a JPEG, PNG or WebP image",
        422: "No QR code in the image, an unreadable image, or a code that is not a valid card",
        503: "The configured QR decoder is not installed on this server",
    }
    outcomes = {status: Outcome(described[status], codes=tuple(codes)) for status, codes in by_status.items()}
    outcomes[422] = Outcome(described[422], codes=(*outcomes[422].codes, *CARD_CODES))
    return outcomes


@bp.route("/id-cards/decode", methods=["POST"])
@api_token
@api_limits("RATELIMIT_SCAN")
@operation(
    "Find and parse the QR code in a photo (JPEG, PNG or WebP)",
    {200: Outcome("Parsed", CardAnswer), **decode_outcomes()},
    content={
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {"image": {"type": "string", "format": "binary"}},
            }
        },
        **{f"image/{kind}": {"schema": {"type": "string", "format": "binary"}} for kind in ("jpeg", "png", "webp")},
    },
)
def decode_card() -> tuple[Response, int]:
    upload = request.files.get("image")
    data = upload.read() if upload is not None else request.get_data()
    try:
        card, _text = documents.read_image(data)
    except DecodeError as exc:
        return jsonify(error=card_error(exc)), exc.http_status
    except CardError as exc:
        return jsonify(error=card_error(exc)), 422
    return jsonify(card=card.as_dict()), 200


def card_error(exc: CardError | DecodeError) -> dict[str, Any]:
    return {
        "code": exc.code,
        "field": getattr(exc, "field", None),
        "message": exc.message(current_locale()),
        "message_vi": exc.message_vi,
        "message_en": exc.message_en,
    }


@bp.route("/stays", methods=["POST"])
@api_token
@operation(
    "Check in one guest or a group (the first is the head) and file the notification",
    {
        201: Outcome(
            "Filed (or recorded as a draft with `file: false`)",
            CheckInAnswer,
            links={
                name: {"stay_id": "$response.body#/stays/0/id"}
                for name in ("get_stay", "check_out", "extend", "move", "cancel")
            },
        ),
        409: Outcome("A guest already has an open stay here (a concurrent filing)", codes=("already_in_house",)),
    },
    body=CheckInBody,
    idempotent=True,
    field_codes=CHECK_IN_CODES,
)
@token_rechecked
def create_stay() -> Any:
    try:
        claim = idempotency.claim_of_request(scope())
    except idempotency.BadKey as exc:
        return exc.answer()
    now = utcnow()
    data, room_name, errors = read_check_in(now)
    if data is not None and current_app.config["API_SQL_FILING"] and sql_writer.applies(db.engine.dialect.name, data):
        token = current_token()
        data.room_name = room_name or None
        try:
            with rawdb.connection() as conn:
                answer = sql_writer.file_one(
                    conn,
                    data,
                    place=Place(
                        id=token.establishment_id,
                        commune_code=token.commune_code,
                        status=token.status,
                        status_reason=token.status_reason,
                    ),
                    claim=claim,
                    actor=token_actor(),
                    now=now,
                )
        except psycopg.DataError:  # a value PostgreSQL cannot store (a NUL byte): nothing written, the ORM answers
            answer = None
        if answer is not None:
            return Response(answer, status=201, mimetype="application/json")
    if not confirm_token():  # let in on a remembered identity, and its checked statement wrote nothing
        return unauthorized()
    return idempotency.run(claim, lambda: check_in_through_orm(data, room_name, errors, now))


def read_check_in(now: datetime) -> tuple[services.CheckInInput | None, str, ValidationError]:
    """The check-in the body asks for, its room's name, and what is wrong with its fields (the rules come later).

    With wrong fields the room is still named, so that an unknown room is reported together with them."""
    body = json_object()
    try:
        checked = validate(CheckInBody, body, CHECK_IN_OVERRIDES)
    except ValidationError as exc:
        room = body.get("room")
        return None, room if isinstance(room, str) and "room" not in exc.errors else "", exc
    return checked.to_input(now), checked.room or "", ValidationError()


def check_in_through_orm(
    data: services.CheckInInput | None, room_name: str, errors: ValidationError, now: datetime
) -> tuple[dict[str, Any], int]:
    est = current_token().establishment
    if errors or data is None:  # what could not be read, with the room's check (the core's own) answered together
        room = services.CheckInInput(guests=[], arrived_at=now, reason="", room_name=room_name or None)
        Filing(est, actor=token_actor(), now=now, source=Source.API).room(room, errors)
        return validation_payload(errors)
    data.room_name = room_name or None
    try:
        result = services.check_in(est, data, actor=token_actor(), now=now, source=Source.API)
    except ValidationError as exc:
        return validation_payload(exc)
    except IntegrityError:
        db.session.rollback()
        return error_payload(409, "already_in_house", "A guest already has an open stay here")
    return {"stays": [stay_json(s, now) for s in result.stays], "warnings": result.warnings}, 201


@bp.route("/stays", methods=["GET"])
@api_token
@operation(
    "Guests in house (open stays), latest arrival first, a page at a time",
    {
        200: Outcome(
            "A page of stays. While there are more, `next` is the cursor of the next page (also in `Link`)",
            StayPage,
            headers={
                "Link": {
                    "description": 'The next page, `<...>; rel="next"`; absent on the last page',
                    "schema": {"type": "string"},
                }
            },
        ),
        422: Outcome("A bad `limit` or `cursor`", codes=("validation_error",)),
    },
    query=StayListQuery,
    field_codes=("cursor_invalid",),
)
def list_stays() -> Any:
    try:
        query = read_query(StayListQuery)
        after = decode_cursor(query.cursor) if query.cursor else None
    except ValidationError as exc:
        return jsonify(validation_payload(exc)[0]), 422
    except CursorError:
        bad_cursor = ValidationError()
        bad_cursor.add(
            "cursor", _l("Con trỏ trang không hợp lệ: dùng giá trị `next` của trang trước."), "cursor_invalid"
        )
        return jsonify(validation_payload(bad_cursor)[0]), 422
    est = current_token().establishment
    now = utcnow()
    stays = queries.in_house(est, query.q or "", limit=query.limit + 1, after=after)
    page, more = stays[: query.limit], len(stays) > query.limit
    cursor = encode_cursor(page[-1].arrived_at, page[-1].id) if more else None
    response = jsonify(stays=[stay_json(s, now) for s in page], count=len(page), next=cursor)
    if cursor is not None:
        args: dict[str, Any] = {"q": query.q} if query.q else {}
        link = url_for("api.list_stays", **args, limit=query.limit, cursor=cursor)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


def token_stay(stay_id: int) -> Stay:
    stay = queries.stay_of(current_token().establishment, stay_id)
    if stay is None:
        abort(404, description="No such stay at this establishment")
    return stay


@bp.route("/stays/<int:stay_id>", methods=["GET"])
@api_token
@operation("One stay", {200: Outcome("The stay", OneStay)})
def get_stay(stay_id: int) -> Response:
    return jsonify(stay=stay_json(token_stay(stay_id)))


CHANGED = Outcome("Done; the change is notified with its own receipt", StayChanged)


def changed(stay: Stay, receipt_no: str | None, now: datetime) -> tuple[dict[str, Any], int]:
    return {"stay": stay_json(stay, now), "receipt_no": receipt_no}, 200


@bp.route("/stays/<int:stay_id>/check-out", methods=["POST"])
@api_token
@idempotent(scope)
@operation(
    "Check the guest out",
    {200: CHANGED},
    body=CheckOutBody,
    body_required=False,
    idempotent=True,
    field_codes=(*STAY_CODES, "departure_before_arrival", "departure_future"),
)
def check_out(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    now = utcnow()
    try:
        body = read_body(CheckOutBody, required=False)
        event = services.check_out(stay, at=body.departed_at or now, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return changed(stay, event.receipt_no, now)


@bp.route("/stays/<int:stay_id>/extend", methods=["POST"])
@api_token
@idempotent(scope)
@operation(
    "Extend the expected departure",
    {200: CHANGED},
    body=ExtendBody,
    idempotent=True,
    field_codes=(*STAY_CODES, "extend_in_past"),
)
def extend(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    now = utcnow()
    try:
        body = read_body(ExtendBody)
        event = services.extend(stay, until=body.expected_departure, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return changed(stay, event.receipt_no, now)


@bp.route("/stays/<int:stay_id>/move", methods=["POST"])
@api_token
@idempotent(scope)
@operation(
    "Move the guest to another room",
    {200: CHANGED},
    body=MoveBody,
    idempotent=True,
    field_codes=(*STAY_CODES, "room_invalid", "same_room"),
)
def move(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    now = utcnow()
    try:
        body = read_body(MoveBody)
        event = services.move(stay, room_name=body.room, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return changed(stay, event.receipt_no, now)


@bp.route("/stays/<int:stay_id>/declaration", methods=["POST"])
@api_token
@idempotent(scope)
@operation(
    "Mark a foreign guest's temporary-residence declaration made (immigration portal or form NA17)",
    {200: Outcome("Done; the stay with its declaration", OneStay)},
    body=DeclarationBody,
    idempotent=True,
    field_codes=(
        "not_foreign",
        "cancelled",
        "already_declared",
        "declared_before_arrival",
        "declared_future",
        "reference_missing",
        "text_invalid",
        "text_too_long",
    ),
)
def declare(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    now = utcnow()
    try:
        body = read_body(DeclarationBody)
        foreigners.declare(stay, reference=body.reference, at=body.declared_at, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now)}, 200


@bp.route("/stays/<int:stay_id>/cancel", methods=["POST"])
@api_token
@idempotent(scope)
@operation(
    "Cancel a stay filed or recorded by mistake (a draft's cancellation notifies nothing: `receipt_no` null)",
    {200: CHANGED},
    body=CancelBody,
    idempotent=True,
    field_codes=("not_open", "reason_missing"),
)
def cancel(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    now = utcnow()
    try:
        body = read_body(CancelBody, overrides=CANCEL_OVERRIDES)
        event = services.cancel(stay, reason=body.reason, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return changed(stay, event.receipt_no, now)
