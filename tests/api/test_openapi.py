"""The OpenAPI document of API v1 is public, is OpenAPI 3.1 and lists exactly the routes the app serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from asm import create_app
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


def test_the_schemas_describe_the_answers(client: FlaskClient, factory: Factory, doc: dict[str, Any]) -> None:
    """The keys the API sends are the keys the document promises (and no more)."""
    headers = {"Authorization": f"Bearer {factory.token(factory.establishment())}"}
    schemas = doc["components"]["schemas"]

    card = client.post(f"{PREFIX}/id-cards/parse", json={"text": CARD}, headers=headers).get_json()["card"]
    assert set(card) == set(schemas["Card"]["properties"]["card"]["properties"])

    body = {"guests": [{"qr": CARD}], "reason": "Du lịch", "room": "101"}
    created = client.post(f"{PREFIX}/stays", json=body, headers=headers)
    assert created.status_code == 201
    stay = created.get_json()["stays"][0]
    assert set(stay) == set(schemas["Stay"]["properties"])
    assert set(stay["person"]) == set(schemas["Stay"]["properties"]["person"]["properties"])
    assert stay["status"] in schemas["Stay"]["properties"]["status"]["enum"]
    assert stay["notice_state"] in schemas["Stay"]["properties"]["notice_state"]["enum"]

    error = client.post(f"{PREFIX}/stays", json={"guests": []}, headers=headers).get_json()["error"]
    assert set(error) <= set(schemas["Error"]["properties"]["error"]["properties"])
    assert set(schemas["Error"]["properties"]["error"]["required"]) <= set(error)
