"""The OpenAPI 3.1 document of API v1, generated, never written by hand.

Paths and methods come from the app's URL map (every `/api/v1` rule), each operation from the `@operation` its
view declares (`asm.api.contract`), request and answer schemas from the pydantic models (their JSON Schema, in
`components.schemas`). What every operation of a kind can answer is added here once: 401 and 429 behind a
token; 400, 413, 415 and 422 with a JSON body; 404 with an id in the path; 400, 409 and 422 of the
Idempotency-Key; 405 (with `Allow`) everywhere. Each error answer lists its stable codes (`x-error-codes`, and
`x-field-codes` for the codes a 422's `error.codes` may hold). A route without `@operation` fails the document.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from asm.api.contract import CODES, Answer, Operation, Outcome
from asm.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from asm.api.idempotency import KEY, MAX_KEY
from asm.api.schemas import PAGE_DEFAULT, PAGE_MAX, ErrorAnswer
from asm.web.inputs import INT_MAX

PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
PLACEHOLDER = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\([^)]*\))?:)?(?P<name>[^<>]+)>")
REF = "#/components/schemas/{model}"
INFO = {
    "title": "ASM stay notification API",
    "version": "1",
    "description": (
        "Thông báo lưu trú for hotel and hospital software. One bearer token per establishment "
        "(`flask --app wsgi tokens create --establishment CODE`). Times are ISO 8601; without an offset they are "
        "Asia/Ho_Chi_Minh. Deadline: before 23:00 on the day of arrival, before 08:00 next day for arrivals from "
        "23:00.\n\n"
        'Errors are JSON: `{"error": {"code": ..., "message": ...}}` with a stable `code`; a 422 for fields '
        "adds `fields` (dotted path, e.g. `guests.0.doc_number`, to messages in the request's language: "
        "Vietnamese, or English with `?lang=en`) and `codes` (the same paths to stable codes). Nothing is stored "
        "by a request that answers an error.\n\n"
        f"Lists are pages: `limit` ({PAGE_DEFAULT} unless given, at most {PAGE_MAX}) and the opaque `cursor` of "
        'the previous page\'s `next`; while more follow, `next` is set and `Link: <...>; rel="next"` is sent. '
        "A list is never cut silently.\n\n"
        "Limits: bodies up to 10 MB (413), JSON nested at most 200 deep (400), ids up to 2^31-1 (404 beyond), "
        "dates in the years 1900-2999 (422)."
    ),
}


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without a `title` on every field (the names say it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def document(app: Flask) -> dict[str, Any]:
    """The document of `app`'s API, built once per app."""
    built = app.extensions.get("asm.openapi")
    if built is None:
        built = app.extensions["asm.openapi"] = build(app)
    return built


def api_operations(app: Flask) -> list[tuple[str, str, Operation, dict[str, str], bool, str]]:
    """(path, method, operation, {path parameter: converter}, public, operationId) of every API route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        op = getattr(view, "api_operation", None)
        if op is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @operation: document it")
        path = PLACEHOLDER.sub(r"{\g<name>}", rule.rule[len(PREFIX) :])
        params = {m["name"]: m["converter"] or "default" for m in PLACEHOLDER.finditer(rule.rule)}
        for method in sorted(m.lower() for m in rule.methods or () if m.lower() in METHODS):
            public = getattr(view, "access_rule", None) == ("public",)
            found.append((path, method, op, params, public, rule.endpoint.rpartition(".")[2]))
    return found


def build(app: Flask) -> dict[str, Any]:
    found = api_operations(app)
    models: set[type[BaseModel]] = {ErrorAnswer}
    for _path, _method, op, _params, _public, _id in found:
        models.update(m for m in (op.body, op.query) if m is not None)
        models.update(o.model for o in op.answers.values() if o.model is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, defs = models_json_schema(
        [(m, "serialization" if _is_answer(m) else "validation") for m in ordered],
        ref_template=REF,
        schema_generator=_Schemas,
    )
    ref = {model: refs[(model, "serialization" if _is_answer(model) else "validation")] for model in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op, params, public, operation_id in found:
        paths.setdefault(path, {})[method] = {"operationId": operation_id, **_operation(op, params, public, ref)}
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": defs.get("$defs", {}),
        },
        "paths": paths,
    }


def _is_answer(model: type[BaseModel]) -> bool:
    return issubclass(model, Answer)


def _operation(
    op: Operation, params: dict[str, str], public: bool, ref: dict[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary}
    if op.description:
        out["description"] = op.description
    if public:
        out["security"] = []
    parameters = [_path_parameter(name, converter) for name, converter in params.items()]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if op.idempotent:
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Client-made unique key (e.g. a UUID). A retry with the same key and body returns "
                "the first answer (header `Idempotent-Replayed: true`) and files nothing twice; the same key with "
                "another body is 422 `idempotency_key_reused`.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": f"^{KEY.pattern}$"},
            }
        )
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": {"application/json": {"schema": ref[op.body]}}}
    elif op.content is not None:
        out["requestBody"] = {"required": True, "content": dict(op.content)}
    outcomes = sorted(_outcomes(op, params, public).items())
    out["responses"] = {str(status): _response(status, outcome, op, ref) for status, outcome in outcomes}
    return out


def _outcomes(op: Operation, params: dict[str, str], public: bool) -> dict[int, Outcome]:
    """The operation's own answers, and what every operation of its kind can answer."""
    common: dict[int, Outcome] = {}
    if not public:
        common[401] = Outcome(
            "Missing or invalid bearer token",
            codes=("unauthorized",),
            headers={"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
        )
        common[429] = Outcome(
            "Rate limit exceeded; retry after `Retry-After` seconds",
            codes=("too_many_requests",),
            headers={"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}},
        )
    if any(converter == "int" for converter in params.values()):
        common[404] = Outcome("No such stay at this establishment (or an id out of range)", codes=("not_found",))
    if op.body is not None or op.content is not None:
        common[400] = Outcome("The body is missing, not JSON or too deeply nested", codes=("bad_request",))
        common[413] = Outcome("The body is larger than 10 MB", codes=("request_entity_too_large",))
    if op.body is not None:
        common[415] = Outcome("The body is not `application/json`", codes=("unsupported_media_type",))
        common[422] = Outcome("Invalid fields: see `error.fields` and `error.codes`", codes=("validation_error",))
    if op.query is not None:
        common[422] = Outcome("Invalid parameters: see `error.fields` and `error.codes`", codes=("validation_error",))
    if op.idempotent:
        _merge(
            common,
            400,
            Outcome(f"{IDEMPOTENCY_HEADER} is not 1-{MAX_KEY} visible ASCII", codes=("idempotency_key_invalid",)),
        )
        _merge(common, 409, Outcome("A request with this key is still in progress", codes=("idempotency_in_progress",)))
        _merge(common, 422, Outcome("The key was used for another request", codes=("idempotency_key_reused",)))
    common[405] = Outcome(
        "Method not allowed on this path; `Allow` lists the methods",
        codes=("method_not_allowed",),
        headers={"Allow": {"schema": {"type": "string"}, "required": True}},
    )
    outcomes = dict(op.answers)
    for status, outcome in common.items():
        _merge(outcomes, status, outcome, first=False)
    return outcomes


def _merge(into: dict[int, Outcome], status: int, outcome: Outcome, first: bool = True) -> None:
    have = into.get(status)
    if have is None:
        into[status] = outcome
        return
    a, b = (outcome, have) if first else (have, outcome)
    into[status] = Outcome(
        description=f"{a.description}. {b.description}" if a.description != b.description else a.description,
        model=a.model or b.model,
        codes=tuple(dict.fromkeys((*a.codes, *b.codes))),
        headers={**b.headers, **a.headers},
    )


def _response(
    status: int, outcome: Outcome, op: Operation, ref: dict[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"description": outcome.description}
    model = outcome.model or (ErrorAnswer if status >= 400 else None)
    schema = ref[model] if model is not None else {"type": "object"}
    out["content"] = {"application/json": {"schema": schema}}
    if op.media is not None and status in op.answers:  # the operation's own answer (FHIR resources)
        media = {op.media: {"schema": {"type": "object", "required": ["resourceType"]}}}
        out["content"] = media | (out["content"] if status >= 400 else {})
    headers = dict(outcome.headers)
    if op.idempotent and 200 <= status < 300:
        headers["Idempotent-Replayed"] = {
            "description": "`true` on the stored answer to a retry with the same Idempotency-Key",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if headers:
        out["headers"] = headers
    if outcome.links:
        out["links"] = {
            target: {"operationId": target, "parameters": dict(parameters)}
            for target, parameters in outcome.links.items()
        }
    if outcome.codes:
        out["x-error-codes"] = list(outcome.codes)
        out["description"] += ". Codes: " + ", ".join(f"`{c}`" for c in outcome.codes)
    if status == 422 and (op.body is not None or op.query is not None):
        out["x-field-codes"] = list(dict.fromkeys((*CODES, *op.field_codes)))
    return out


def _path_parameter(name: str, converter: str) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1, "maximum": INT_MAX} if converter == "int" else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(schema_generator=_Schemas)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if branches:
            prop.update(branches[0])
        if prop.get("default", 0) is None:
            del prop["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params
