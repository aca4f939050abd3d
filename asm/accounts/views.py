"""Logging in (password, then the second factor where required), logging out, and the user's own account:
their open sessions, their password, their second factor.

A login that needs a second factor is *pending* between the two steps: the signed session cookie holds who
passed the password, when, and from which source, for `LOGIN_PENDING_SECONDS`; nobody is logged in until the
code is accepted, so no page but the second-factor ones opens meanwhile. Every login, failure, lockout and
second-factor event goes to the access log.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.accounts import defence, services, sessions, totp
from asm.accounts.models import Role, User
from asm.clock import utcnow
from asm.common import ValidationError
from asm.config import role_list
from asm.extensions import db
from asm.ratelimit import rate_limit
from asm.text import is_plain
from asm.web.access import ALL_ROLES, current_session, log_account_event, public, roles

bp = Blueprint("accounts", __name__)
PENDING = "_pending_login"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def required_roles() -> frozenset[str]:
    return role_list(current_app.config["REQUIRE_2FA_ROLES"])


def _user_id_of(name: str) -> int | None:
    if not is_plain(name):  # no account has such a name (and PostgreSQL refuses a NUL in a query)
        return None
    return db.session.scalar(select(User.id).where(User.username == name))


def _locked(wait: int, template: str = "accounts/login.html", **context: Any) -> Response:
    minutes = max((wait + 59) // 60, 1)
    flash(_("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.", minutes=minutes), "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


# --- step 1: the password -----------------------------------------------------------------------------------


@bp.route("/dang-nhap", methods=["GET", "POST"])
@public
@rate_limit(_login_limit, methods=("POST",))
def login() -> str | Response:
    if request.method == "GET":
        return render_template("accounts/login.html")
    name = request.form.get("username", "").strip().lower()[:80]
    source = defence.source_key(name)
    wait = defence.locked_for(source)
    if wait:  # refused before the password is looked at, and not counted
        log_account_event("login_locked", user_id=_user_id_of(name), target=name, reason=f"{wait}s")
        db.session.commit()
        return _locked(wait)
    user = services.authenticate(name, request.form.get("password", ""))
    if user is None:
        _count_failure(source, name, "login_failed")
        flash(_("Sai tên đăng nhập hoặc mật khẩu."), "error")
        return make_response(render_template("accounts/login.html"), 401)
    if services.needs_second_factor(user, required_roles()):
        session[PENDING] = {
            "uid": user.id,
            "at": time.time(),
            "src": source,
            "pw": _password_tag(user),
            "next": safe_next(request.args.get("next")),
        }
        log_account_event("login_password_ok", user_id=user.id, target=user.username, reason="2fa_next")
        db.session.commit()
        if not user.has_totp:
            return redirect(url_for("accounts.enrol_at_login"))
        return redirect(url_for("accounts.second_factor"))
    return _complete_login(user, source, via="password", next_url=safe_next(request.args.get("next")))


def _count_failure(source: str, name: str, action: str) -> None:
    failures, locked = defence.fail(source)
    user_id = _user_id_of(name)
    log_account_event(action, user_id=user_id, target=name, reason=f"{failures} in a row")
    if locked:
        log_account_event("lockout", user_id=user_id, target=name, reason=f"{locked}s after {failures} failures")
    db.session.commit()


def _password_tag(user: User) -> str:
    """Changes when the password does: a pending login ends with a password change."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > float(current_app.config["LOGIN_PENDING_SECONDS"]):
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, int(pending.get("uid", 0)))
    if user is None or not user.active or _password_tag(user) != pending.get("pw"):
        session.pop(PENDING, None)
        return None
    return user, pending


def _complete_login(user: User, source: str, *, via: str, next_url: str | None, page: str | None = None) -> Response:
    """Both factors passed: a new server-side session, a fresh cookie, this browser remembered as a source."""
    defence.forgive(source)
    _row, key = sessions.start(user, ip=request.remote_addr, user_agent=request.user_agent.string, now=utcnow())
    log_account_event("login", user_id=user.id, target=user.username, reason=via)
    db.session.commit()
    _fresh_cookie(key)
    login_user(user)
    response = make_response(page) if page is not None else redirect(next_url or url_for("web.home"))
    defence.remember_device(response, user.username)
    return response


def _fresh_cookie(key: str) -> None:
    """A new cookie session for a new login (no fixation); only the language choice carries over."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[sessions.SESSION_KEY] = key
    session.permanent = True


# --- step 2: the second factor ------------------------------------------------------------------------------


@bp.route("/dang-nhap/ma-xac-thuc", methods=["GET", "POST"])
@public
@rate_limit(_login_limit, methods=("POST",))
def second_factor() -> str | Response:
    found = _pending_user()
    if found is None:
        flash(_("Vui lòng đăng nhập lại."), "warning")
        return redirect(url_for("accounts.login"))
    user, pending = found
    if not user.has_totp:
        return redirect(url_for("accounts.enrol_at_login"))
    if request.method == "GET":
        return render_template("accounts/second_factor.html", error=None)
    wait = defence.locked_for(pending["src"])
    if wait:
        log_account_event("login_locked", user_id=user.id, target=user.username, reason=f"{wait}s (2fa)")
        db.session.commit()
        return _locked(wait, "accounts/second_factor.html", error=None)
    via = services.check_second_factor(user, request.form.get("code", ""), now=utcnow())
    if via is None:
        db.session.rollback()
        _count_failure(pending["src"], user.username, "2fa_failed")
        error = _("Mã không đúng hoặc đã dùng. Thử lại với mã mới.")
        return make_response(render_template("accounts/second_factor.html", error=error), 401)
    log_account_event("2fa_passed", user_id=user.id, target=user.username, reason=via)
    if via == "recovery":
        left = services.unused_recovery_codes(user)
        flash(_("Bạn vừa dùng một mã dự phòng; còn %(n)s mã.", n=left), "warning")
    return _complete_login(user, pending["src"], via=f"password+{via}", next_url=pending.get("next"))


@bp.route("/dang-nhap/dang-ky-xac-thuc", methods=["GET", "POST"])
@public
@rate_limit(_login_limit, methods=("POST",))
def enrol_at_login() -> str | Response:
    """A role that requires the second factor, and no authenticator yet: enrol now, then the login completes."""
    found = _pending_user()
    if found is None:
        flash(_("Vui lòng đăng nhập lại."), "warning")
        return redirect(url_for("accounts.login"))
    user, pending = found
    if user.has_totp:
        return redirect(url_for("accounts.second_factor"))
    secret = services.begin_totp(user)
    db.session.commit()
    if request.method == "GET":
        return render_template("accounts/enrol.html", **_enrol_context(user, secret), error=None, at_login=True)
    wait = defence.locked_for(pending["src"])
    if wait:
        return _locked(wait, "accounts/enrol.html", **_enrol_context(user, secret), error=None, at_login=True)
    try:
        codes = services.confirm_totp(user, request.form.get("code", ""), now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        _count_failure(pending["src"], user.username, "2fa_failed")
        context = _enrol_context(user, secret)
        page = render_template("accounts/enrol.html", **context, error=" ".join(exc.messages()), at_login=True)
        return make_response(page, 422)
    log_account_event("2fa_enrolled", user_id=user.id, target=user.username)
    page = render_template(
        "accounts/recovery_codes.html", codes=codes, next_url=pending.get("next") or url_for("web.home")
    )
    return _complete_login(user, pending["src"], via="password+totp_enrolled", next_url=None, page=page)


def _enrol_context(user: User, secret: str) -> dict[str, Any]:
    uri = totp.provisioning_uri(secret, username=user.username, issuer=current_app.config["TOTP_ISSUER"])
    return {"qr": totp.qr_svg(uri), "secret": totp.grouped_secret(secret)}


# --- logout -------------------------------------------------------------------------------------------------


@bp.route("/dang-xuat", methods=["POST"])
@roles(*ALL_ROLES)
def logout() -> Response:
    row = current_session()
    if row is not None:
        sessions.end(row, reason="logout", now=utcnow())
    log_account_event("logout", user_id=current_user.id, target=current_user.username)
    db.session.commit()
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


# --- the user's own account ---------------------------------------------------------------------------------


@bp.route("/tai-khoan/")
@roles(*ALL_ROLES)
def account() -> str:
    limits = sessions.Limits.from_config(current_app.config)
    user = current_user._get_current_object()
    return render_template(
        "accounts/account.html",
        open_sessions=sessions.open_sessions(user, limits=limits, now=utcnow()),
        current=current_session(),
        describe=sessions.describe_device,
        codes_left=services.unused_recovery_codes(user) if user.has_totp else 0,
        totp_required=str(user.role) in required_roles(),
    )


@bp.route("/tai-khoan/ban-tin-sang", methods=["POST"])
@roles(Role.OFFICER, Role.SUPERVISOR)
def police_digest() -> Response:
    """A police user opts in to (or out of) the ward's morning digest by e-mail (asm/police/digest.py)."""
    user = current_user._get_current_object()
    user.police_digest = request.form.get("police_digest") == "on"
    db.session.commit()
    if user.police_digest and not user.email:
        flash(_("Đã đăng ký bản tin sáng, nhưng tài khoản chưa có e-mail: hãy nhờ quản trị viên thêm."), "warning")
    elif user.police_digest:
        flash(_("Đã đăng ký bản tin sáng gửi tới %(email)s.", email=user.email), "success")
    else:
        flash(_("Đã hủy bản tin sáng."), "success")
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/tai-khoan/phien/<int:session_id>/ket-thuc", methods=["POST"])
@roles(*ALL_ROLES)
def end_session(session_id: int) -> Response:
    row = sessions.session_of(current_user.id, session_id)
    if row is None:
        return redirect(url_for("accounts.account"), code=303)
    mine = current_session()
    sessions.end(row, reason="user", now=utcnow())
    log_account_event(
        "session_ended", user_id=current_user.id, target=current_user.username, reason=f"session {row.id}"
    )
    db.session.commit()
    if mine is not None and mine.id == row.id:
        logout_user()
        session.clear()
        return redirect(url_for("accounts.login"), code=303)
    flash(_("Đã kết thúc phiên đăng nhập."), "success")
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/tai-khoan/mat-khau", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def change_password() -> str | Response:
    if request.method == "GET":
        return render_template("accounts/password.html", errors={})
    user = current_user._get_current_object()
    now = utcnow()
    try:
        ended = services.change_password(
            user,
            current=request.form.get("current", ""),
            new=request.form.get("password", ""),
            confirm=request.form.get("confirm", ""),
            now=now,
        )
    except ValidationError as exc:
        db.session.rollback()
        return make_response(render_template("accounts/password.html", errors=exc.errors), 422)
    # Every login ended, this one too; this browser gets a new one, a copy of the old cookie nothing.
    _row, key = sessions.start(user, ip=request.remote_addr, user_agent=request.user_agent.string, now=now)
    log_account_event("password_changed", user_id=user.id, target=user.username, reason=f"{ended} sessions ended")
    db.session.commit()
    _fresh_cookie(key)
    login_user(user)
    flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc."), "success")
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/tai-khoan/xac-thuc-2-buoc", methods=["GET"])
@roles(*ALL_ROLES)
def two_factor() -> str:
    user = current_user._get_current_object()
    context: dict[str, Any] = {"error": None, "at_login": False, "totp_required": str(user.role) in required_roles()}
    if user.has_totp:
        return render_template("accounts/two_factor.html", codes_left=services.unused_recovery_codes(user), **context)
    secret = services.begin_totp(user)
    db.session.commit()
    return render_template("accounts/enrol.html", **_enrol_context(user, secret), **context)


@bp.route("/tai-khoan/xac-thuc-2-buoc/bat", methods=["POST"])
@roles(*ALL_ROLES)
def enable_two_factor() -> str | Response:
    user = current_user._get_current_object()
    if user.has_totp:
        return redirect(url_for("accounts.two_factor"), code=303)
    try:
        codes = services.confirm_totp(user, request.form.get("code", ""), now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        secret = services.begin_totp(user)
        db.session.commit()
        page = render_template(
            "accounts/enrol.html", **_enrol_context(user, secret), error=" ".join(exc.messages()), at_login=False
        )
        return make_response(page, 422)
    log_account_event("2fa_enrolled", user_id=user.id, target=user.username)
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for("accounts.two_factor"))


@bp.route("/tai-khoan/xac-thuc-2-buoc/ma-du-phong", methods=["POST"])
@roles(*ALL_ROLES)
def new_recovery_codes() -> str | Response:
    user = current_user._get_current_object()
    now = utcnow()
    if services.check_second_factor(user, request.form.get("code", ""), now=now) != "totp":
        db.session.rollback()
        flash(_("Mã không đúng hoặc đã dùng. Thử lại với mã mới."), "error")
        return redirect(url_for("accounts.two_factor"), code=303)
    codes = services.new_recovery_codes(user, now=now)
    log_account_event("recovery_codes_new", user_id=user.id, target=user.username)
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for("accounts.two_factor"))


@bp.route("/tai-khoan/xac-thuc-2-buoc/tat", methods=["POST"])
@roles(*ALL_ROLES)
def disable_two_factor() -> Response:
    user = current_user._get_current_object()
    try:
        services.disable_totp(user, request.form.get("code", ""), required_roles=required_roles(), now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(exc.messages()), "error")
        return redirect(url_for("accounts.two_factor"), code=303)
    log_account_event("2fa_disabled", user_id=user.id, target=user.username)
    db.session.commit()
    flash(_("Đã tắt xác thực hai bước."), "success")
    return redirect(url_for("accounts.two_factor"), code=303)
