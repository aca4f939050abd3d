"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from asm.accounts.services import authenticate
from asm.ratelimit import rate_limit
from asm.web.access import ALL_ROLES, public, roles

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/dang-nhap", methods=["GET", "POST"])
@public
@rate_limit(_login_limit, methods=("POST",))
def login() -> str | Response:
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash(_("Sai tên đăng nhập hoặc mật khẩu."), "error")
            return render_template("accounts/login.html"), 401  # type: ignore[return-value]
        lang = session.get("lang")
        session.clear()  # a fresh session at login; only the language choice carries over
        if lang:
            session["lang"] = lang
        login_user(user)
        session.permanent = True
        return redirect(safe_next(request.args.get("next")) or url_for("web.home"))
    return render_template("accounts/login.html")


@bp.route("/dang-xuat", methods=["POST"])
@roles(*ALL_ROLES)
def logout() -> Response:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("accounts.login"))


def safe_next(target: str | None) -> str | None:
    """Only a local path, never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
