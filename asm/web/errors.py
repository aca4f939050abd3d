"""Error pages and JSON errors (for /api, and for clients that ask for JSON). The handlers themselves never fail.

Every handler first rolls the request's database session back: after a failed statement (a NUL byte PostgreSQL
refuses, a number out of range) the session can run nothing until then, and the error page itself reads the
logged-in user. A value the database refuses (`DataError`; SQLite's OverflowError for an integer beyond 64 bits;
a string that cannot be encoded) is bad input: 422 `value_invalid`, with nothing stored. If rendering the error
page fails anyway, a plain page with the status is sent, never werkzeug's bare 500. The headers an HTTP error
carries (`Allow` on a 405, `WWW-Authenticate`, `Retry-After`) are kept on the answer.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from asm.common import ValidationError
from asm.extensions import db

log = logging.getLogger(__name__)

VALUE_INVALID = "A value cannot be stored (out of range, too long or a character that is not allowed)"


def wants_json() -> bool:
    """A JSON client: the API, the kiosk's JSON endpoints (its script reads every answer as JSON, 429 included),
    a JSON body (not htmx's), or an Accept that prefers JSON."""
    if request.path.startswith("/api/") or (request.is_json and not request.headers.get("HX-Request")):
        return True
    if request.accept_mimetypes.best == "application/json":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "access_rule", None) in (("kiosk_device", "json"), ("api_token",))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return answer(400, "csrf", exc.description)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        if exc.code is None or exc.code < 400:
            return exc
        response = answer(exc.code, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    @app.errorhandler(UnicodeEncodeError)
    def _refused_value(exc: Exception) -> Response:
        log.info("input refused by the database layer: %s", exc)
        return answer(422, "value_invalid", VALUE_INVALID)

    @app.errorhandler(ValidationError)
    def _refused(exc: ValidationError) -> Response:
        """A rule's refusal that no channel turned into its own answer (e.g. the filing core refusing an establishment
        the police have not approved, before any guest is read): 422 with the rule's code and words."""
        code = next(iter(exc.codes.values()), "invalid")
        return answer(422, code, " ".join(exc.messages()))

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


def answer(status: int, code: str, message: str) -> Response:
    """The error as JSON or as a page, after a rollback; a plain page if even that fails."""
    try:
        db.session.rollback()
    except Exception:  # a broken connection: the page below does not need it
        log.exception("rollback before an error answer failed")
    response: Response
    try:
        if wants_json():
            response = jsonify(error={"code": code, "message": message})
        else:
            response = current_app.make_response(
                render_template("error.html", status=status, code=code, message=message)
            )
    except Exception:
        log.exception("error page for %s failed; answering a plain page", status)
        response = Response(f"{status} {code}", mimetype="text/plain")
    response.status_code = status
    return response
