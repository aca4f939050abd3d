"""The OpenAPI 3.1 document of API v1, kept beside the views (a test checks both list the same routes)."""

from __future__ import annotations

from typing import Any

from asm.hospital.apidoc import HOSPITAL_EVENTS

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

FOREIGN = {
    "type": "object",
    "description": "A foreign national's entry and visa details for the temporary-residence declaration (NA17); "
    "all optional (a passport's MRZ gives the expiry).",
    "properties": {
        "passport_expiry": {"type": ["string", "null"], "format": "date"},
        "visa_type": {
            "type": ["string", "null"],
            "enum": ["visa", "evisa", "exemption", "exemption_certificate", "trc", "prc", "abtc", "other", None],
        },
        "visa_number": {"type": ["string", "null"]},
        "entry_date": {"type": ["string", "null"], "format": "date"},
        "entry_port": {"type": ["string", "null"]},
        "entry_purpose": {"type": ["string", "null"]},
    },
}

GUEST = {
    "type": "object",
    "description": "Either `qr` (the raw text a scanner read, parsed and checked by the server: the ID card's QR, or "
    "a passport's machine-readable zone, lines ended by CR/LF or run together) or the fields. `foreign`: a foreign "
    "national's entry and visa details.",
    "properties": {
        "qr": {"type": "string"},
        "foreign": FOREIGN,
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
        "declaration": {
            "type": ["object", "null"],
            "description": "A foreign national's temporary-residence declaration (12 h after arrival, 24 h in a "
            "remote commune); null for a citizen.",
            "properties": {
                "deadline_at": {"type": "string", "format": "date-time"},
                "deadline_hours": {"type": "integer"},
                "state": {"type": "string", "enum": ["pending", "overdue", "on_time", "late"]},
                "declared_at": {"type": ["string", "null"], "format": "date-time"},
                "reference": {"type": ["string", "null"]},
                **FOREIGN["properties"],
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


_STRING_OR_NULL = {"type": ["string", "null"]}
MRZ_CARD = {
    "type": "object",
    "description": "A machine-readable zone (passport TD3, ID card TD1/TD2, visa MRV-A/B): the keys of a QR card "
    "(same meaning), then the zone's own. Every check digit agreed.",
    "properties": {
        "card": {
            "type": "object",
            "properties": {
                "id_number": {**_STRING_OR_NULL, "description": "A VNM document's 12-digit personal number"},
                "old_id_number": {"type": "null"},
                "full_name": {"type": "string"},
                "birth_date": {"type": ["string", "null"], "format": "date"},
                "sex": {"type": ["string", "null"], "enum": ["M", "F", None]},
                "address": {"type": "null"},
                "issue_date": {"type": "null"},
                "extra_fields": {"type": "array", "items": {"type": "string"}},
                "card_format": {"type": "string", "enum": ["mrz_td1", "mrz_td2", "mrz_td3", "mrz_mrva", "mrz_mrvb"]},
                "doc_type": {"type": "string", "enum": ["passport", "id_card", "visa"]},
                "mrz_format": {"type": "string"},
                "document_code": {"type": "string"},
                "document_number": {"type": "string"},
                "issuing_state": {"type": "string", "description": "ISO 3166-1 alpha-3 or an ICAO code"},
                "issuing_state_name_vi": _STRING_OR_NULL,
                "issuing_state_name_en": _STRING_OR_NULL,
                "nationality": {"type": "string", "description": "ISO 3166-1 alpha-3 or an ICAO code"},
                "nationality_name_vi": _STRING_OR_NULL,
                "nationality_name_en": _STRING_OR_NULL,
                "expiry": {"type": ["string", "null"], "format": "date"},
                "surname": {"type": "string"},
                "given_names": {"type": "string"},
                "optional_data": {"type": "string"},
                "optional_data_2": {"type": "string"},
                "mrz": {"type": "array", "items": {"type": "string"}},
                "corrected_fields": {"type": "array", "items": {"type": "string"}},
                "warnings": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


CARD_OR_MRZ = {"oneOf": [_ref("Card"), _ref("MrzCard")]}

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
            "schemas": {"Error": ERROR, "Guest": GUEST, "Stay": STAY, "Card": CARD, "MrzCard": MRZ_CARD},
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
                    "summary": "Parse the text of an ID card or VNeID QR code, or of a machine-readable zone",
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
                    "responses": {"200": {"description": "Parsed", **_json(CARD_OR_MRZ)}, **ERRORS},
                }
            },
            "/id-cards/decode": {
                "post": {
                    "summary": "Find and parse the QR code, or else the machine-readable zone, in a photo (JPEG, "
                    "PNG or WebP)",
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
                        "200": {"description": "Parsed", **_json(CARD_OR_MRZ)},
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
            "/stays/{stay_id}/declaration": {
                "post": {
                    "summary": "A foreign guest's temporary-residence declaration was made: its reference number",
                    "parameters": [STAY_ID, IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["reference"],
                                "properties": {
                                    "reference": {"type": "string", "maxLength": 60},
                                    "declared_at": {"type": "string", "format": "date-time"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "Marked",
                            **_json({"type": "object", "properties": {"stay": _ref("Stay")}}),
                        },
                        **ERRORS,
                    },
                }
            },
            "/hospital/events": HOSPITAL_EVENTS,
        },
    }
