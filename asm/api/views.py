"""JSON API v1 for hotel and hospital software. Bearer token per establishment; Idempotency-Key on writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from asm import rawdb
from asm.api import idempotency, openapi
from asm.api.auth import api_limits, current_token, token_actor
from asm.api.idempotency import idempotent
from asm.api.serialize import read_date, read_datetime, read_person, read_string, stay_json
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments.models import Room
from asm.extensions import csrf, db
from asm.filing import sql as sql_writer
from asm.filing.core import Filing, Place
from asm.foreigners import services as foreigners
from asm.idcard import CardError
from asm.idcard.decode import DecodeError
from asm.people import documents
from asm.stays import queries, services
from asm.stays.models import Source, Stay
from asm.web.access import api_token, public
from asm.web.i18n import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: nothing for a forged cross-site request to ride on


def scope() -> str:
    return f"est:{current_token().establishment_id}"


def validation_payload(exc: ValidationError) -> tuple[dict[str, Any], int]:
    return {
        "error": {
            "code": "validation_error",
            "message": "The request has invalid fields",
            "fields": exc.errors,
            "codes": exc.codes,
        }
    }, 422


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="A JSON object body is expected")
    return body


@bp.route("/openapi.json")
@public
def openapi_document() -> Response:
    return jsonify(openapi.document())


@bp.route("/id-cards/parse", methods=["POST"])
@api_token
@api_limits("RATELIMIT_SCAN")
def parse_card() -> tuple[Response, int]:
    text = json_body().get("text")
    if not isinstance(text, str):
        return jsonify(error={"code": "text_missing", "message": "'text' (string) is required"}), 422
    try:
        card = documents.read_text(text)
    except CardError as exc:
        return jsonify(error=card_error(exc)), 422
    return jsonify(card=card.as_dict()), 200


@bp.route("/id-cards/decode", methods=["POST"])
@api_token
@api_limits("RATELIMIT_SCAN")
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
def create_stay() -> Any:
    try:
        claim = idempotency.claim_of_request(scope())
    except idempotency.BadKey as exc:
        return exc.answer()
    body = json_body()
    now = utcnow()
    data, room_name, errors = read_check_in(body, now)
    if not errors and current_app.config["API_SQL_FILING"] and sql_writer.applies(db.engine.dialect.name, data):
        token = current_token()
        data.room_name = room_name or None
        with rawdb.connection() as conn:
            answer = sql_writer.file_one(
                conn,
                data,
                place=Place(id=token.establishment_id, commune_code=token.commune_code),
                claim=claim,
                actor=token_actor(),
                now=now,
            )
        if answer is not None:
            return Response(answer, status=201, mimetype="application/json")
    return idempotency.run(claim, lambda: check_in_through_orm(data, room_name, errors, now))


def read_check_in(body: dict[str, Any], now: datetime) -> tuple[services.CheckInInput, str, ValidationError]:
    """The check-in a JSON body asks for, and what is wrong with its shape (the rules come later)."""
    errors = ValidationError()
    raw_guests = body.get("guests")
    if not isinstance(raw_guests, list) or not raw_guests:
        errors.add("guests", "a non-empty list of guests is expected", "guests_missing")
        raw_guests = []
    guests = [read_person(raw, i, errors) for i, raw in enumerate(raw_guests)]
    data = services.CheckInInput(
        guests=[g for g in guests if g is not None],
        arrived_at=read_datetime(body.get("arrived_at"), "arrived_at", errors) or now,
        reason=read_string(body, "reason", errors),
        expected_departure=read_date(body.get("expected_departure"), "expected_departure", errors),
        file_now=body.get("file", True) is not False,
    )
    return data, read_string(body, "room", errors), errors


def check_in_through_orm(
    data: services.CheckInInput, room_name: str, errors: ValidationError, now: datetime
) -> tuple[dict[str, Any], int]:
    est = current_token().establishment
    data.room_name = room_name or None
    if errors:  # what could not be read, with the room's check (the core's own) answered together
        Filing(est, actor=token_actor(), now=now, source=Source.API).room(data, errors)
        return validation_payload(errors)
    try:
        result = services.check_in(est, data, actor=token_actor(), now=now, source=Source.API)
    except ValidationError as exc:
        return validation_payload(exc)
    except IntegrityError:
        db.session.rollback()
        return conflict("already_in_house", "A guest already has an open stay here")
    return {"stays": [stay_json(s, now) for s in result.stays], "warnings": result.warnings}, 201


def room_by_name(establishment_id: int, name: str, errors: ValidationError) -> Room | None:
    """The room itself, not its id: while the caller holds it, the service's check finds it without a query."""
    if not name:
        return None
    room = db.session.scalar(select(Room).where(Room.establishment_id == establishment_id, Room.name == name))
    if room is None:
        errors.add("room", "no such room at this establishment", "room_invalid")
    return room


def conflict(code: str, message: str) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message}}, 409


@bp.route("/stays", methods=["GET"])
@api_token
def list_stays() -> Response:
    est = current_token().establishment
    now = utcnow()
    stays = queries.in_house(est, request.args.get("q", ""))
    return jsonify(stays=[stay_json(s, now) for s in stays], count=len(stays))


def token_stay(stay_id: int) -> Stay:
    stay = queries.stay_of(current_token().establishment, stay_id)
    if stay is None:
        abort(404, description="No such stay at this establishment")
    return stay


@bp.route("/stays/<int:stay_id>", methods=["GET"])
@api_token
def get_stay(stay_id: int) -> Response:
    return jsonify(stay=stay_json(token_stay(stay_id)))


@bp.route("/stays/<int:stay_id>/check-out", methods=["POST"])
@api_token
@idempotent(scope)
def check_out(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    body = request.get_json(silent=True) or {}
    now = utcnow()
    errors = ValidationError()
    at = read_datetime(body.get("departed_at"), "departed_at", errors) or now
    try:
        if errors:
            raise errors
        event = services.check_out(stay, at=at, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now), "receipt_no": event.receipt_no}, 200


@bp.route("/stays/<int:stay_id>/extend", methods=["POST"])
@api_token
@idempotent(scope)
def extend(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    body = json_body()
    now = utcnow()
    errors = ValidationError()
    until = read_date(body.get("expected_departure"), "expected_departure", errors)
    if until is None and not errors:
        errors.add("expected_departure", "required", "required")
    try:
        if errors or until is None:
            raise errors
        event = services.extend(stay, until=until, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now), "receipt_no": event.receipt_no}, 200


@bp.route("/stays/<int:stay_id>/move", methods=["POST"])
@api_token
@idempotent(scope)
def move(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    body = json_body()
    now = utcnow()
    errors = ValidationError()
    room = room_by_name(stay.establishment_id, read_string(body, "room", errors), errors)
    if room is None and not errors:
        errors.add("room", "required", "required")
    try:
        if errors or room is None:
            raise errors
        event = services.move(stay, room_id=room.id, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now), "receipt_no": event.receipt_no}, 200


@bp.route("/stays/<int:stay_id>/declaration", methods=["POST"])
@api_token
@idempotent(scope)
def declare(stay_id: int) -> tuple[dict[str, Any], int]:
    """A foreign guest's temporary-residence declaration was made (immigration portal or form NA17): its reference
    number and, optionally, when (default now)."""
    stay = token_stay(stay_id)
    body = json_body()
    now = utcnow()
    errors = ValidationError()
    reference = read_string(body, "reference", errors)
    at = read_datetime(body.get("declared_at"), "declared_at", errors)
    try:
        if errors:
            raise errors
        foreigners.declare(stay, reference=reference, at=at, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now)}, 200


@bp.route("/stays/<int:stay_id>/cancel", methods=["POST"])
@api_token
@idempotent(scope)
def cancel(stay_id: int) -> tuple[dict[str, Any], int]:
    stay = token_stay(stay_id)
    body = json_body()
    now = utcnow()
    errors = ValidationError()
    reason = read_string(body, "reason", errors)
    try:
        if errors:
            raise errors
        event = services.cancel(stay, reason=reason, actor=token_actor(), now=now)
    except ValidationError as exc:
        return validation_payload(exc)
    return {"stay": stay_json(stay, now), "receipt_no": event.receipt_no}, 200
