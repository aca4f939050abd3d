"""The OpenAPI 3.1 document of API v1, kept beside the views (a test checks both list the same routes)."""

from __future__ import annotations

from typing import Any

from asm.hospital.apidoc import HOSPITAL_EVENTS, HOSPITAL_FHIR, HOSPITAL_FHIR_METADATA

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Field-level messages, e.g. `guests.0.doc_number`",
                },
                "codes": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

GUEST = {
    "type": "object",
    "description": "Either `qr` (the raw text of the ID card QR, parsed and checked by the server) or the fields.",
    "properties": {
        "qr": {"type": "string"},
        "doc_type": {"type": "string", "enum": ["cccd", "cmnd", "passport"], "default": "cccd"},
        "doc_number": {"type": "string"},
        "nationality": {"type": "string", "description": "ISO 3166-1 alpha-3", "default": "VNM"},
        "full_name": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"},
        "sex": {"type": "string", "enum": ["M", "F"]},
        "address": {"type": "string"},
    },
}

STAY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["draft", "in_house", "checked_out", "cancelled"]},
        "notice_state": {"type": "string", "enum": ["pending", "overdue", "on_time", "late"]},
        "receipt_no": {"type": ["string", "null"]},
        "head_id": {"type": ["integer", "null"]},
        "room": {"type": ["string", "null"]},
        "reason": {"type": "string"},
        "arrived_at": {"type": "string", "format": "date-time"},
        "expected_departure": {"type": ["string", "null"], "format": "date"},
        "departed_at": {"type": ["string", "null"], "format": "date-time"},
        "deadline_at": {"type": "string", "format": "date-time"},
        "filed_at": {"type": ["string", "null"], "format": "date-time"},
        "person": {
            "type": "object",
            "properties": {
                "full_name": {"type": "string"},
                "doc_type": {"type": "string"},
                "doc_number_masked": {"type": "string"},
                "nationality": {"type": "string"},
                "birth_date": {"type": "string", "format": "date"},
            },
        },
    },
}

CARD = {
    "type": "object",
    "properties": {
        "card": {
            "type": "object",
            "properties": {
                "id_number": {"type": "string"},
                "old_id_number": {"type": ["string", "null"]},
                "full_name": {"type": "string"},
                "birth_date": {"type": "string", "format": "date"},
                "sex": {"type": "string", "enum": ["M", "F"]},
                "address": {"type": "string"},
                "issue_date": {"type": ["string", "null"], "format": "date"},
                "extra_fields": {"type": "array", "items": {"type": "string"}},
                "card_format": {"type": "string"},
            },
        }
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Client-made unique key (e.g. a UUID). A retry with the same key and body returns the first "
    "answer (header `Idempotent-Replayed: true`) and files nothing twice; the same key with another body is 422.",
    "schema": {"type": "string", "maxLength": 100},
}
STAY_ID = {"name": "stay_id", "in": "path", "required": True, "schema": {"type": "integer"}}
ERRORS = {
    "401": {"description": "Missing or invalid bearer token", **_json(_ref("Error"))},
    "404": {"description": "No such stay at this establishment", **_json(_ref("Error"))},
    "422": {"description": "Invalid fields", **_json(_ref("Error"))},
    "429": {"description": "Rate limit exceeded", **_json(_ref("Error"))},
}
STAY_CHANGED = {
    "200": {
        "description": "Done; the change is notified with its own receipt",
        **_json({"type": "object", "properties": {"stay": _ref("Stay"), "receipt_no": {"type": "string"}}}),
    },
    **ERRORS,
}


def _change(summary: str, body: dict[str, Any] | None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": [STAY_ID, IDEMPOTENCY], "responses": STAY_CHANGED}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    return {"post": op}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ASM stay notification API",
            "version": "1",
            "description": "Thông báo lưu trú for hotel and hospital software. One bearer token per establishment "
            "(`flask --app wsgi tokens create --establishment CODE`). Times are ISO 8601; without an offset they "
            "are Asia/Ho_Chi_Minh. Deadline: before 23:00 on the day of arrival, before 08:00 next day for "
            "arrivals from 23:00.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Guest": GUEST, "Stay": STAY, "Card": CARD},
        },
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
            "/id-cards/parse": {
                "post": {
                    "summary": "Parse the text of an ID card or VNeID QR code",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["text"],
                                "properties": {"text": {"type": "string"}},
                            }
                        ),
                    },
                    "responses": {"200": {"description": "Parsed", **_json(_ref("Card"))}, **ERRORS},
                }
            },
            "/id-cards/decode": {
                "post": {
                    "summary": "Find and parse the QR code in a photo (JPEG, PNG or WebP)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"image": {"type": "string", "format": "binary"}},
                                }
                            },
                            "image/*": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {
                        "200": {"description": "Parsed", **_json(_ref("Card"))},
                        "413": {"description": "Image too large (bytes or pixels)", **_json(_ref("Error"))},
                        "415": {"description": "Not a JPEG, PNG or WebP image", **_json(_ref("Error"))},
                        **ERRORS,
                    },
                }
            },
            "/stays": {
                "get": {
                    "summary": "Guests in house (open stays)",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "Name, document number or room",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "In house",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "stays": {"type": "array", "items": _ref("Stay")},
                                        "count": {"type": "integer"},
                                    },
                                }
                            ),
                        },
                        "401": ERRORS["401"],
                    },
                },
                "post": {
                    "summary": "Check in one guest or a group (the first is the head) and file the notification",
                    "parameters": [IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["guests", "reason"],
                                "properties": {
                                    "guests": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": 50,
                                        "items": _ref("Guest"),
                                    },
                                    "arrived_at": {
                                        "type": "string",
                                        "format": "date-time",
                                        "description": "Default: now",
                                    },
                                    "expected_departure": {"type": "string", "format": "date"},
                                    "room": {"type": "string"},
                                    "reason": {"type": "string"},
                                    "file": {
                                        "type": "boolean",
                                        "default": True,
                                        "description": "false records a draft to file later",
                                    },
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {
                            "description": "Filed",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "stays": {"type": "array", "items": _ref("Stay")},
                                        "warnings": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            ),
                        },
                        "409": {
                            "description": "A guest already has an open stay here",
                            **_json(_ref("Error")),
                        },
                        **ERRORS,
                    },
                },
            },
            "/stays/{stay_id}": {
                "get": {
                    "summary": "One stay",
                    "parameters": [STAY_ID],
                    "responses": {
                        "200": {
                            "description": "The stay",
                            **_json({"type": "object", "properties": {"stay": _ref("Stay")}}),
                        },
                        **ERRORS,
                    },
                }
            },
            "/stays/{stay_id}/check-out": _change(
                "Check the guest out",
                {"type": "object", "properties": {"departed_at": {"type": "string", "format": "date-time"}}},
            ),
            "/stays/{stay_id}/extend": _change(
                "Extend the expected departure",
                {
                    "type": "object",
                    "required": ["expected_departure"],
                    "properties": {"expected_departure": {"type": "string", "format": "date"}},
                },
            ),
            "/stays/{stay_id}/move": _change(
                "Move the guest to another room",
                {"type": "object", "required": ["room"], "properties": {"room": {"type": "string"}}},
            ),
            "/stays/{stay_id}/cancel": _change(
                "Cancel a stay filed by mistake",
                {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
            ),
            "/hospital/events": HOSPITAL_EVENTS,
            "/hospital/fhir": HOSPITAL_FHIR,
            "/hospital/fhir/metadata": HOSPITAL_FHIR_METADATA,
        },
    }
