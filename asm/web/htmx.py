"""The one place that knows htmx: partial or full page, redirects, Vary."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request
from werkzeug.wrappers import Response

from asm.extensions import htmx


def wants_partial() -> bool:
    """A partial only for a plain htmx request, not for boosted links or history restores."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, partial: str, **context: Any) -> str:
    return render_template(partial if wants_partial() else page, **context)


def redirect_to(url: str) -> Response:
    """After a successful POST: HX-Redirect for htmx, 303 otherwise."""
    if request.headers.get("HX-Request"):
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def add_vary(response: Response) -> Response:
    # The environ, not request.headers: werkzeug raises and catches an exception for a missing header.
    if "HTTP_HX_REQUEST" in request.environ or response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response
