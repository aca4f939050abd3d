"""Error pages and JSON errors (for /api and htmx requests)."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from asm.extensions import db


def wants_json() -> bool:
    """A JSON client: the API, the kiosk's JSON endpoints (its script reads every answer as JSON, 429 included),
    a JSON body, or an Accept that prefers JSON."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    if request.accept_mimetypes.best == "application/json":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "access_rule", None) in (("kiosk_device", "json"), ("api_token",))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response | str, int]:
        return _answer(400, "csrf", exc.description)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if exc.code is None or exc.code < 400:
            return exc
        return _answer(exc.code, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


def _answer(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, code=code, message=message), status
