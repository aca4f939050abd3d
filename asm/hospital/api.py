"""POST /api/v1/hospital/events: admission, transfer and discharge events from hospital software, in batches.

The route joins the API blueprint (bearer token, no CSRF, the API rate limit) when asm.hospital.views imports
this module, which create_app does before it registers any blueprint. The rules are in asm/hospital/events.py.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flask import Response, current_app, request, url_for
from sqlalchemy.exc import IntegrityError

from asm.api.auth import current_token, token_actor
from asm.api.serialize import read_date, read_datetime, read_person
from asm.api.views import bp as api_bp
from asm.api.views import json_body
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments.models import EstablishmentType
from asm.extensions import db
from asm.hospital.events import MAX_BATCH, TYPES, EventInput, EventResult, apply_events, body_hash, refused
from asm.hospital.his import fhir, receive
from asm.web.access import api_token, public


def read_event(raw: Any, index: int) -> EventInput | EventResult:
    """A well-formed event, or its own refusal (`event_invalid`, with the fields at fault)."""
    if not isinstance(raw, dict):
        return refused(index, None, "event_invalid", "An event is a JSON object", {"event": ["object expected"]})
    errors = ValidationError()
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id.strip()) <= 100:
        errors.add("event_id", "a string of 1-100 characters is required", "required")
        event_id = None
    else:
        event_id = event_id.strip()
    kind = raw.get("type")
    if kind not in TYPES:
        errors.add("type", f"one of {', '.join(TYPES)}", "type_invalid")
    admission_id = raw.get("admission_id")
    if not isinstance(admission_id, str) or not 1 <= len(admission_id.strip()) <= 64:
        errors.add("admission_id", "a string of 1-64 characters is required", "required")
        admission_id = ""
    occurred_at = read_datetime(raw.get("occurred_at"), "occurred_at", errors)
    if occurred_at is None and "occurred_at" not in errors.errors:
        errors.add("occurred_at", "required", "required")
    bed, ward, room, relation, reason, record_no = (
        optional_string(raw, name, limit, errors)
        for name, limit in (
            ("bed", 40),
            ("ward", 20),
            ("room", 40),
            ("relation", 40),
            ("reason", 200),
            ("record_no", 16),
        )
    )
    if kind in ("admission", "transfer") and not bed and not ward:
        errors.add("bed", "the bed label (or a ward code) is required", "required")
    patient = None
    if kind in ("admission", "identify", "carer"):
        name = "carer" if kind == "carer" else "patient"
        patient = read_person(raw.get(name), 0, errors)
        for old in [k for k in errors.errors if k.startswith("guests.0")]:
            new = name + old[len("guests.0") :]
            errors.errors[new] = errors.errors.pop(old)
            errors.codes[new] = errors.codes.pop(old, "invalid")
    if kind == "identify" and patient is not None and patient.doc_type == "none":
        errors.add("patient.doc_type", "identify needs the patient's document", "doc_type_invalid")
    if kind == "carer" and not relation:
        errors.add("relation", "the carer's relation to the patient is required", "required")
    expected = read_date(raw.get("expected_discharge"), "expected_discharge", errors)
    with_carers = raw.get("with_carers", True)
    if not isinstance(with_carers, bool):
        errors.add("with_carers", "boolean expected", "type_invalid")
    if errors:
        return refused(index, event_id, "event_invalid", "The event is malformed", errors.errors)
    assert occurred_at is not None and isinstance(kind, str) and isinstance(event_id, str)
    return EventInput(
        index=index,
        event_id=event_id,
        type=kind,
        admission_id=str(admission_id).strip(),
        occurred_at=occurred_at,
        body_hash=body_hash(raw),
        patient=patient,
        bed=bed,
        expected_discharge=expected,
        with_carers=with_carers is not False,
        ward=ward,
        room=room,
        record_no=record_no,
        relation=relation,
        reason=reason,
    )


def optional_string(raw: dict[str, Any], name: str, limit: int, errors: ValidationError) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > limit:
        errors.add(name, f"a string of at most {limit} characters", "type_invalid")
        return ""
    return value.strip()


def error(status: int, code: str, message: str) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message}}, status


@api_bp.route("/hospital/events", methods=["POST"])
@api_token
def hospital_events() -> tuple[dict[str, Any], int]:
    est = current_token().establishment
    if est.type != EstablishmentType.HOSPITAL:
        return error(403, "not_a_hospital", "This token's establishment is not a hospital")
    raw_events = json_body().get("events")
    if not isinstance(raw_events, list) or not raw_events:
        return error(422, "events_missing", "'events' must be a non-empty list")
    if len(raw_events) > MAX_BATCH:
        return error(422, "batch_too_large", f"At most {MAX_BATCH} events per batch")
    now = utcnow()
    parsed = [read_event(raw, i) for i, raw in enumerate(raw_events)]
    good = [p for p in parsed if isinstance(p, EventInput)]
    try:
        applied = {r.index: r for r in apply_events(est, good, actor=token_actor(), now=now)}
        results = [applied[p.index] if isinstance(p, EventInput) else p for p in parsed]
        payload = {
            "results": [r.as_dict() for r in results],
            "summary": dict(Counter(r.status for r in results)),
        }
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return error(409, "batch_conflict", "Another request changed the same admissions at the same time; retry")
    return payload, 200


# --- FHIR R4 (asm/hospital/his/fhir.py) ----------------------------------------------------------------------

FHIR_JSON = "application/fhir+json"


def fhir_answer(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


@api_bp.route("/hospital/fhir", methods=["POST"])
@api_token
def hospital_fhir() -> Response:
    """A transaction or batch Bundle of Patient, Encounter, Location and RelatedPerson (docs/HOSPITAL.md)."""
    est = current_token().establishment
    if est.type != EstablishmentType.HOSPITAL:
        return fhir_answer(fhir.outcome("error", "forbidden", ["This token's establishment is not a hospital"]), 403)
    systems = tuple(current_app.config["HIS_FHIR_CCCD_SYSTEMS"])
    try:
        status, body = receive.receive_fhir(
            est, request.get_data(), actor=token_actor(), now=utcnow(), cccd_systems=systems
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        message = "Another request changed the same admissions at the same time; retry"
        return fhir_answer(fhir.outcome("error", "conflict", [message], "batch_conflict"), 409)
    return fhir_answer(body, status)


@api_bp.route("/hospital/fhir/metadata", methods=["GET"])
@public
def hospital_fhir_metadata() -> Response:
    """The CapabilityStatement: what the FHIR endpoint accepts."""
    base = url_for("api.hospital_fhir", _external=True)
    return fhir_answer(fhir.capability_statement(base, current_app.config.get("VERSION", "1")), 200)
