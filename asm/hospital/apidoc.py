"""The OpenAPI description of POST /api/v1/hospital/events (merged into asm/api/openapi.py's document)."""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


EVENT = {
    "type": "object",
    "required": ["event_id", "type", "admission_id", "occurred_at"],
    "properties": {
        "event_id": {
            "type": "string",
            "maxLength": 100,
            "description": "The event's own idempotency key, unique per hospital. A replay files nothing.",
        },
        "type": {
            "type": "string",
            "enum": [
                "admission",
                "transfer",
                "discharge",
                "carer",
                "cancel_admission",
                "cancel_discharge",
                "identify",
            ],
            "description": "carer: a carer staying with the admitted patient (`carer`, `relation`), up to the "
            "hospital's limit. cancel_admission: the admission was a mistake (the stays are cancelled). "
            "cancel_discharge: the discharge was a mistake (in house again, back in `bed`, else the last bed). "
            "identify: the document of a patient admitted provisionally (`patient`); the stay is filed.",
        },
        "admission_id": {
            "type": "string",
            "maxLength": 64,
            "description": "The hospital software's id of the admission (encounter, visit); ties the events together",
        },
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "When it happened (the arrival time of an admission: its notification deadline follows)",
        },
        "patient": {
            "allOf": [{"$ref": "#/components/schemas/Guest"}],
            "description": "admission only. `doc_type: none` admits a provisional identity (no document yet), "
            "recorded as a draft under the admission_id until the desk completes it.",
        },
        "bed": {"type": "string", "description": "admission and transfer: the bed label, unique in the hospital"},
        "ward": {
            "type": "string",
            "description": "instead of `bed`: a ward code; the patient takes its first free bed (by label)",
        },
        "room": {"type": "string", "description": "with `ward`: the room's name"},
        "record_no": {
            "type": "string",
            "maxLength": 16,
            "description": "admission of a provisional identity: the hospital's record number (default admission_id)",
        },
        "carer": {"allOf": [{"$ref": "#/components/schemas/Guest"}], "description": "carer only: the carer"},
        "relation": {"type": "string", "maxLength": 40, "description": "carer only: relation to the patient"},
        "reason": {"type": "string", "maxLength": 200, "description": "cancellations: why (optional)"},
        "expected_discharge": {"type": "string", "format": "date", "description": "admission only"},
        "with_carers": {
            "type": "boolean",
            "default": True,
            "description": "discharge only: false keeps the carers' stays open",
        },
    },
}

RESULT = {
    "type": "object",
    "required": ["index", "event_id", "status"],
    "properties": {
        "index": {"type": "integer", "description": "Position of the event in the batch"},
        "event_id": {"type": ["string", "null"]},
        "status": {
            "type": "string",
            "enum": ["applied", "recorded_late", "duplicate", "refused"],
            "description": "recorded_late: older than the admission's last event; written to the history only. "
            "duplicate: this event_id was already received; nothing filed.",
        },
        "stay_id": {"type": "integer"},
        "receipt_no": {"type": "string", "description": "The notification's receipt, when one was filed"},
        "error": {
            "type": "object",
            "description": "refused only. Codes: event_invalid (malformed; see fields), event_id_reused, "
            "admission_unknown, admission_exists, admission_closed, bed_unknown, location_unknown, location_mismatch, "
            "ward_full, bed_occupied, already_in_house, not_filed, carers_full, not_checked_out, and the validation "
            "codes of a guest.",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
}

HOSPITAL_EVENTS = {
    "post": {
        "summary": "Admission, transfer and discharge events from hospital software, in a batch of up to 1,000",
        "description": "Each event is applied or refused on its own (a malformed event gets its own error, the "
        "rest are applied); the answer lists one result per event, in the order sent. Events are applied in "
        "`occurred_at` order. A transfer or discharge for an unknown admission is refused (send the admission "
        "first); an event older than the admission's last applied event is recorded in its history without "
        "changing the current state. Rules: docs/HOSPITAL.md.",
        "requestBody": {
            "required": True,
            **_json(
                {
                    "type": "object",
                    "required": ["events"],
                    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 1000, "items": EVENT}},
                }
            ),
        },
        "responses": {
            "200": {
                "description": "The batch was processed; see each result",
                **_json(
                    {
                        "type": "object",
                        "properties": {
                            "results": {"type": "array", "items": RESULT},
                            "summary": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                                "description": "How many events per status",
                            },
                        },
                    }
                ),
            },
            "401": {"description": "Missing or invalid bearer token", **_json(ERROR_REF)},
            "403": {"description": "The token's establishment is not a hospital", **_json(ERROR_REF)},
            "409": {
                "description": "Another request changed the same admissions at the same time; nothing was applied, "
                "retry the batch",
                **_json(ERROR_REF),
            },
            "422": {"description": "No `events` list, or more than 1,000 events", **_json(ERROR_REF)},
            "429": {"description": "Rate limit exceeded", **_json(ERROR_REF)},
        },
    }
}


FHIR_JSON = {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}

HOSPITAL_FHIR = {
    "post": {
        "summary": "A FHIR R4 transaction or batch Bundle of Patient, Encounter, Location and RelatedPerson",
        "description": "An inpatient Encounter (class IMP, ACUTE, NONAC) is an admission keyed by its identifier: "
        "its location history gives the transfers, status finished the discharge (period.end), cancelled or "
        "entered-in-error a cancellation; a RelatedPerson of its Patient is a carer. A Patient is matched by a CCCD "
        "identifier (type v2-0203 NI, or a documented system), else provisionally by its MR record number; a "
        "Location's identifier value or name is a bed label, room or ward code. Resending a Bundle files only what "
        "is new. Validated with the FHIR R4 models; rules: docs/HOSPITAL.md. Content type application/fhir+json.",
        "requestBody": {"required": True, **FHIR_JSON},
        "responses": {
            "200": {"description": "A transaction-response or batch-response Bundle, an entry per entry", **FHIR_JSON},
            "400": {"description": "Not a valid FHIR R4 Bundle (an OperationOutcome)", **FHIR_JSON},
            "401": {"description": "Missing or invalid bearer token", **_json(ERROR_REF)},
            "403": {"description": "The token's establishment is not a hospital (an OperationOutcome)", **FHIR_JSON},
            "409": {"description": "A concurrent request changed the same admissions; retry", **FHIR_JSON},
            "422": {
                "description": "A transaction with a refused Encounter: nothing filed (an OperationOutcome)",
                **FHIR_JSON,
            },
            "429": {"description": "Rate limit exceeded", **_json(ERROR_REF)},
        },
    }
}

HOSPITAL_FHIR_METADATA = {
    "get": {
        "summary": "The FHIR CapabilityStatement of the hospital endpoint (what it accepts)",
        "security": [],
        "responses": {"200": {"description": "A CapabilityStatement", **FHIR_JSON}},
    }
}
