"""Security headers (asm/web/headers.py): pages get the Content-Security-Policy and may not be framed; every
answer says nosniff and keeps the referrer on the site."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import second_app


def test_a_page_allows_only_the_sites_own_scripts_and_styles(client: FlaskClient) -> None:
    page = client.get("/dang-nhap")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert policy["style-src"] == "'self'"
    # This site's scripts only, and the compiling of WebAssembly (the device's QR reader); never eval of JavaScript.
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_https_answers_ask_for_https_only(app: Flask, client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/dang-nhap").headers  # plain http: nothing to pin
    secure = client.get("/dang-nhap", base_url="https://asm.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    with second_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1) as proxied:
        behind = proxied.test_client().get("/dang-nhap", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"
    spoofed = client.get("/dang-nhap", headers={"X-Forwarded-Proto": "https"})  # no trusted proxy: ignored
    assert "Strict-Transport-Security" not in spoofed.headers


def test_error_pages_carry_the_policy_too(client: FlaskClient) -> None:
    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404
    assert "Content-Security-Policy" in missing.headers


def test_json_answers_say_nosniff_without_a_page_policy(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.mimetype == "application/json"
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert document.headers["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" not in document.headers


def test_no_template_has_inline_script_style_or_handler() -> None:
    """What the policy would block, caught before a browser meets it (the browser tests catch the rest)."""
    import re
    from pathlib import Path

    inline = re.compile(r"<script(?![^>]*(\bsrc=|type=\"application/json\"))[^>]*>|<style\b|\sstyle=|\son[a-z]+=")
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in sorted((root / "templates").rglob("*.html"))
        for match in inline.finditer(path.read_text())
    ]
    assert found == []
