"""POST /api/v1/hospital/events: admission, transfer and discharge events from hospital software, in batches.

The route joins the API blueprint (bearer token, no CSRF, the API rate limit) when asm.hospital.views imports
this module, which create_app does before it registers any blueprint. The body's declaration is in
asm/hospital/schemas.py; the rules are in asm/hospital/events.py.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flask import Response, current_app, request, url_for
from sqlalchemy.exc import IntegrityError

from asm.api.auth import current_token, token_actor
from asm.api.contract import Outcome, json_object, operation
from asm.api.schemas import error_payload
from asm.api.views import bp as api_bp
from asm.clock import utcnow
from asm.establishments.models import EstablishmentType
from asm.extensions import db
from asm.hospital.events import MAX_BATCH, EventInput, apply_events
from asm.hospital.his import fhir, receive
from asm.hospital.schemas import EventBatchAnswer, EventBatchIn, read_event
from asm.web.access import api_token, public


@api_bp.route("/hospital/events", methods=["POST"])
@api_token
@operation(
    f"Admission, transfer and discharge events from hospital software, in a batch of up to {MAX_BATCH:,}",
    {
        200: Outcome("The batch was processed; see each result", EventBatchAnswer),
        403: Outcome("The token's establishment is not a hospital", codes=("not_a_hospital",)),
        409: Outcome(
            "Another request changed the same admissions at the same time; nothing was applied, retry the batch",
            codes=("batch_conflict",),
        ),
        422: Outcome("No `events` list, or more than 1,000 events", codes=("events_missing", "batch_too_large")),
    },
    description="Each event is applied or refused on its own (a malformed event gets its own error, "
    "`event_invalid` with its fields, and the rest are applied); the answer lists one result per event, in the "
    "order sent. Events are applied in `occurred_at` order. A transfer or discharge for an unknown admission is "
    "refused (send the admission first); an event older than the admission's last applied event is recorded in "
    "its history without changing the current state. Rules: docs/HOSPITAL.md.",
    body=EventBatchIn,
)
def hospital_events() -> tuple[dict[str, Any], int]:
    est = current_token().establishment
    if est.type != EstablishmentType.HOSPITAL:
        return error_payload(403, "not_a_hospital", "This token's establishment is not a hospital")
    raw_events = json_object().get("events")
    if not isinstance(raw_events, list) or not raw_events:
        return error_payload(422, "events_missing", "'events' must be a non-empty list")
    if len(raw_events) > MAX_BATCH:
        return error_payload(422, "batch_too_large", f"At most {MAX_BATCH} events per batch")
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
        return error_payload(
            409, "batch_conflict", "Another request changed the same admissions at the same time; retry"
        )
    return payload, 200


# --- FHIR R4 (asm/hospital/his/fhir.py) ----------------------------------------------------------------------

FHIR_JSON = "application/fhir+json"
# The outline of what the endpoint takes; each resource's schema is FHIR R4's own (validated by fhir.resources).
BUNDLE_OUTLINE = {
    "type": "object",
    "required": ["resourceType", "type"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"enum": ["transaction", "batch"]},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"enum": ["Patient", "Encounter", "Location", "RelatedPerson"]}},
                    }
                },
            },
        },
    },
}


def fhir_answer(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


@api_bp.route("/hospital/fhir", methods=["POST"])
@api_token
@operation(
    "A FHIR R4 transaction or batch Bundle of Patient, Encounter, Location and RelatedPerson",
    {
        200: Outcome("A transaction-response or batch-response Bundle"),
        400: Outcome("Not a valid FHIR R4 Bundle: an OperationOutcome", codes=("bundle_invalid",)),
        403: Outcome("The token's establishment is not a hospital: an OperationOutcome", codes=("forbidden",)),
        409: Outcome(
            "Another request changed the same admissions at the same time; retry (OperationOutcome)",
            codes=("batch_conflict",),
        ),
        422: Outcome(
            "A transaction refused by the rules, nothing filed: an OperationOutcome whose details name the rule's "
            "code (the hospital events' codes: bed_unknown, bed_occupied, already_in_house, ...)",
            codes=("event_invalid", "admission_unknown", "bed_unknown", "bed_occupied", "already_in_house"),
        ),
    },
    description="Encounter status and location history become admission, transfer, discharge and cancellation "
    "events of the hospital events API (the same rules); an Encounter's identifier is the idempotency key, so a "
    "resent Bundle files only what is new. What is accepted: `GET /api/v1/hospital/fhir/metadata`; mapping: "
    "docs/HOSPITAL.md.",
    content={media: {"schema": BUNDLE_OUTLINE} for media in (FHIR_JSON, "application/json")},
    media=FHIR_JSON,
)
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
@operation(
    "The FHIR CapabilityStatement: what /hospital/fhir accepts",
    {200: Outcome("A CapabilityStatement")},
    media=FHIR_JSON,
)
def hospital_fhir_metadata() -> Response:
    """The CapabilityStatement: what the FHIR endpoint accepts."""
    base = url_for("api.hospital_fhir", _external=True)
    return fhir_answer(fhir.capability_statement(base, current_app.config.get("VERSION", "1")), 200)
