"""Security headers on every answer.

Pages get a Content-Security-Policy that allows only this site's own scripts, styles and connections (the
templates carry no inline script, style or event handler; htmx is told not to add its indicator `<style>` and
not to evaluate code, `templates/base.html`), may not be framed, and may use the camera only for this site (the
kiosk and the tablet scan). Scripts may compile WebAssembly ('wasm-unsafe-eval': the device's QR reader,
zxing-wasm from this site) but never evaluate JavaScript strings. Every answer, JSON and PDF included, says
nosniff and keeps the referrer on this site.
An answer over HTTPS (directly, or through a trusted proxy: `TRUSTED_PROXIES`) tells the browser to come back
over HTTPS only, for `HSTS_SECONDS`. The policy is the `CONTENT_SECURITY_POLICY` setting.

`Cache-Control: no-store` on every answer that is not public (every page, list, export, PDF and JSON of a
logged-in user, an API token or a kiosk: they carry people's data), on every download, and on every error: no
browser, shared terminal or proxy keeps a copy. Public files (static, the vendor scripts) keep their own caching.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

PAGE_HEADERS = {
    "X-Frame-Options": "DENY",  # what frame-ancestors says, for older browsers
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


DOWNLOADS = ("application/pdf", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def add_headers(response: Response) -> Response:
    headers = response.headers
    # The names present, read once: werkzeug's get/setdefault/pop raise and catch an exception for each missing
    # header, which was most of this hook's cost on an API answer.
    present = {name.lower(): value for name, value in headers.items()}
    if (
        g.get("access_rule", "public") != "public"
        or response.status_code >= 400
        or response.mimetype in DOWNLOADS
        or "attachment" in present.get("content-disposition", "")
    ):
        headers["Cache-Control"] = "no-store"
        for name in ("Expires", "ETag", "Last-Modified"):
            if name.lower() in present:
                del headers[name]
    wanted = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    if request.is_secure and current_app.config["HSTS_SECONDS"]:
        wanted["Strict-Transport-Security"] = f"max-age={current_app.config['HSTS_SECONDS']}"
    if response.mimetype == "text/html":
        wanted["Content-Security-Policy"] = current_app.config["CONTENT_SECURITY_POLICY"]
        wanted |= PAGE_HEADERS
    for name, value in wanted.items():
        if name.lower() not in present:
            headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
