"""The OpenAPI document of API v1 is public, is OpenAPI 3.1 and lists exactly the routes the app serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask, jsonify
from flask.testing import FlaskClient

from asm import create_app
from asm.api import openapi
from asm.config import Test
from asm.web.access import api_token, rule_of
from tests.conftest import CARD, Factory

PREFIX = "/api/v1"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def served_routes(app: Flask) -> dict[str, set[str]]:
    """Path (relative to the server URL, OpenAPI style) -> methods, from the URL map."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = PLACEHOLDER.sub(r"{\1}", rule.rule[len(PREFIX) :])
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods or () if m not in ("HEAD", "OPTIONS"))
    return routes


def documented_routes(doc: dict[str, Any]) -> dict[str, set[str]]:
    return {path: {m for m in item if m in HTTP_METHODS} for path, item in doc["paths"].items()}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, item in doc["paths"].items() for m, op in item.items() if m in HTTP_METHODS]


@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_public_and_openapi_3_1(client: FlaskClient, doc: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"] == "1"
    assert doc["servers"] == [{"url": PREFIX}]
    # no token needed, and a wrong one is not an error either
    response = client.get(f"{PREFIX}/openapi.json", headers={"Authorization": "Bearer asm_wrong"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"


def test_documented_paths_equal_the_api_routes(app: Flask, doc: dict[str, Any]) -> None:
    served = served_routes(app)
    assert served, "no /api/v1 routes found: the prefix changed?"
    assert documented_routes(doc) == served


def test_an_undocumented_route_would_fail_the_comparison(doc: dict[str, Any]) -> None:
    """The check above is not vacuous: a new API route without documentation shows up as a difference."""
    other = create_app(Test, SQLALCHEMY_DATABASE_URI="sqlite://")  # no I/O: only its URL map is read

    @api_token
    def undocumented() -> Any:
        return jsonify(ok=True)

    other.add_url_rule(f"{PREFIX}/stays/<int:stay_id>/undocumented", view_func=undocumented, methods=["POST"])
    other.add_url_rule(f"{PREFIX}/stays/<int:stay_id>", "delete_stay", view_func=undocumented, methods=["DELETE"])
    served = served_routes(other)
    assert served != documented_routes(doc)
    assert served["/stays/{stay_id}/undocumented"] == {"post"}
    assert served["/stays/{stay_id}"] == {"get", "delete"}
    # and the document of that app is not made at all: a route without @operation is an error, not a gap
    with other.app_context(), pytest.raises(LookupError, match="undocumented"):
        openapi.document(other)


def test_path_parameters_match_the_placeholders(doc: dict[str, Any]) -> None:
    for path, method, op in operations(doc):
        in_path = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == in_path, (method, path)
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")


def test_every_operation_is_described_and_secured_like_its_view(app: Flask, doc: dict[str, Any]) -> None:
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    adapter = app.url_map.bind("asm.test")
    for path, method, op in operations(doc):
        assert op.get("summary"), (method, path)
        assert any(code.startswith("2") for code in op["responses"]), (method, path)
        url = PREFIX + path.replace("{stay_id}", "1")
        endpoint, _ = adapter.match(url, method=method.upper())
        public = rule_of(endpoint) == ("public",)
        assert (op.get("security") == []) == public, (method, path)
        if not public:
            assert "401" in op["responses"], (method, path)
        if method == "post" and not public:
            assert "422" in op["responses"], (method, path)


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            assert part in target, ref
            target = target[part]


def test_write_operations_document_the_idempotency_key(doc: dict[str, Any]) -> None:
    for path, method, op in operations(doc):
        if method == "post" and path.startswith("/stays"):
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in names, path


def conforms(doc: dict[str, Any], path: str, method: str, response: Any) -> Any:
    """The answer is one the document allows for the operation: a listed status, its schema, its headers."""
    operation = schemathesis.openapi.from_dict(doc)[path][method]
    operation.validate_response(response)
    return response.get_json()


def test_the_answers_match_the_document(client: FlaskClient, factory: Factory, doc: dict[str, Any]) -> None:
    """Real answers, success and error, validated against the generated document (schemas with no extra keys)."""
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}

    def post(path: str, body: Any, **kw: Any) -> Any:
        return client.post(f"{PREFIX}{path}", json=body, headers={**headers, **kw.pop("extra", {})}, **kw)

    conforms(doc, "/id-cards/parse", "POST", post("/id-cards/parse", {"text": CARD}))
    conforms(doc, "/id-cards/parse", "POST", post("/id-cards/parse", {"text": "abc"}))
    conforms(doc, "/id-cards/parse", "POST", post("/id-cards/parse", {}))

    body = {"guests": [{"qr": CARD}], "reason": "Du lịch", "room": "101"}
    created = conforms(doc, "/stays", "POST", post("/stays", body))
    stay_id = created["stays"][0]["id"]
    conforms(doc, "/stays", "POST", post("/stays", {"guests": []}))
    conforms(doc, "/stays", "POST", post("/stays", body))  # in house already: 422
    conforms(doc, "/stays", "GET", client.get(f"{PREFIX}/stays", headers=headers))
    conforms(doc, "/stays", "GET", client.get(f"{PREFIX}/stays?limit=0", headers=headers))
    conforms(doc, "/stays/{stay_id}", "GET", client.get(f"{PREFIX}/stays/{stay_id}", headers=headers))
    conforms(doc, "/stays/{stay_id}", "GET", client.get(f"{PREFIX}/stays/2147483647", headers=headers))
    conforms(doc, "/stays/{stay_id}/move", "POST", post(f"/stays/{stay_id}/move", {"room": "102"}))
    conforms(doc, "/stays/{stay_id}/check-out", "POST", post(f"/stays/{stay_id}/check-out", {}))
    conforms(doc, "/stays/{stay_id}/check-out", "POST", post(f"/stays/{stay_id}/check-out", {}))  # not open: 422

    # A draft cancelled notifies nothing: its answer's receipt_no is null, and the document allows it.
    draft = post("/stays", {**body, "guests": [{"qr": CARD}], "file": False}).get_json()["stays"][0]
    assert draft["receipt_no"] is None
    cancelled = conforms(doc, "/stays/{stay_id}/cancel", "POST", post(f"/stays/{draft['id']}/cancel", {"reason": "x"}))
    assert cancelled["receipt_no"] is None and cancelled["stay"]["status"] == "cancelled"

    unauthorized = client.get(f"{PREFIX}/stays")
    conforms(doc, "/stays", "GET", unauthorized)


def test_every_operation_lists_its_errors_with_stable_codes(doc: dict[str, Any]) -> None:
    for path, method, op in operations(doc):
        responses = op["responses"]
        assert "405" in responses and responses["405"]["headers"]["Allow"]["required"], (method, path)
        for status, answer in responses.items():
            if status.startswith("4"):
                assert answer["x-error-codes"], (method, path, status)
                # our errors' shape; an operation answering in another media type (FHIR) has both documented
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorAnswer"}
        if op.get("security") == []:
            continue
        assert {"401", "429"} <= set(responses), (method, path)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(responses), (method, path)
        if "{stay_id}" in path:
            assert "404" in responses, (method, path)
    create = doc["paths"]["/stays"]["post"]["responses"]
    assert "validation_error" in create["422"]["x-error-codes"]
    assert {"guests_missing", "id_number_format", "date_invalid", "room_invalid"} <= set(create["422"]["x-field-codes"])
    assert "idempotency_in_progress" in create["409"]["x-error-codes"]


def test_the_request_schemas_come_from_the_models(doc: dict[str, Any]) -> None:
    """Bodies are the pydantic models' JSON Schema: one declaration validates and documents."""
    from asm.api.schemas import CheckInBody
    from asm.hospital.schemas import EventBatchIn

    schemas = doc["components"]["schemas"]
    create = doc["paths"]["/stays"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create == {"$ref": "#/components/schemas/CheckInBody"}
    assert set(schemas["CheckInBody"]["properties"]) == set(CheckInBody.model_fields)
    assert schemas["CheckInBody"]["properties"]["guests"]["maxItems"] == 50
    assert schemas["GuestIn"]["properties"]["full_name"]["anyOf"][0]["maxLength"] == 120
    events = doc["paths"]["/hospital/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert events == {"$ref": "#/components/schemas/EventBatchIn"}
    assert set(schemas["EventBatchIn"]["properties"]) == set(EventBatchIn.model_fields)
    assert schemas["StayOut"]["additionalProperties"] is False
    limit = next(p for p in doc["paths"]["/stays"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["default"], limit["schema"]["maximum"]) == (100, 500)  # as README says
    receipt = schemas["StayChanged"]["properties"]["receipt_no"]
    assert {"type": "null"} in receipt["anyOf"]
