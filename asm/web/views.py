"""Home (by role), language switch, front-end libraries from node_modules."""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from asm.accounts.models import Role
from asm.accounts.views import safe_next
from asm.establishments.models import EstablishmentType
from asm.web.access import ALL_ROLES, public, roles

bp = Blueprint("web", __name__)

# Front-end files served from node_modules (installed by `npm ci` from package-lock.json): URL name -> file. The
# zxing-wasm reader keeps its layout (its index.js imports ../share.js) for the device-side QR decoding
# (asm/static/idcard/scanner.js).
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "zxing-wasm/es/reader/index.js": "zxing-wasm/dist/es/reader/index.js",
    "zxing-wasm/es/share.js": "zxing-wasm/dist/es/share.js",
    "zxing-wasm/reader/zxing_reader.wasm": "zxing-wasm/dist/reader/zxing_reader.wasm",
}


@bp.route("/")
@roles(*ALL_ROLES)
def home() -> Response:
    role = Role(current_user.role)
    if role in (Role.OWNER, Role.CLERK) and not any(e.can_file for e in current_user.establishments):
        return redirect(url_for("joining.status"))  # not approved (yet): the state and the police's reason
    if role in (Role.OWNER, Role.CLERK) and len(current_user.establishments) == 1:
        est = current_user.establishments[0]
        if est.type == EstablishmentType.HOSPITAL:  # a hospital's clerk lands on the hospital's pages (issue 17)
            return redirect(url_for("hospital.index", code=est.code))
        return redirect(url_for("stays.in_house", code=est.code))
    if role.is_police:
        return redirect(url_for("police.dashboard"))
    return redirect(url_for("establishments.index"))


@bp.route("/ngon-ngu/<lang>", methods=["POST"])
@public
def set_language(lang: str) -> Response:
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("web.home"), code=303)


@bp.route("/vendor/<path:name>")
@public
def vendor(name: str) -> Response:
    if name not in VENDOR_FILES:
        abort(404)
    path = Path(current_app.config["STATIC_VENDOR_DIR"]) / VENDOR_FILES[name]
    try:
        stat = path.stat()
    except OSError:
        abort(404)
    # Read once per process and served from memory: a browser that drops the connection mid-download (a kiosk
    # reloading) leaves no open file behind, and the same few files are asked for by every device.
    data = _vendor_bytes(str(path), stat.st_mtime_ns, stat.st_size)
    response = Response(data, mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
    return response.make_conditional(request)


@functools.lru_cache(maxsize=16)
def _vendor_bytes(path: str, mtime_ns: int, size: int) -> bytes:
    return Path(path).read_bytes()


@bp.route("/healthz")
@public
def healthz() -> dict[str, str]:
    return {"status": "ok"}
