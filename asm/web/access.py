"""Access rules. Every endpoint declares one; an endpoint without a rule answers 403 (fail closed).

Rules:
- `public`: anyone (login page, static files, OpenAPI document).
- `roles(*allowed)`: a logged-in user of one of the roles (checks of the object in the view).
- `api_token`: a bearer token of an establishment (the JSON API).
- `kiosk_device` / `kiosk_device_api`: the request carries the cookie of a paired, unrevoked kiosk device (its
  page redirects to pairing, its JSON answers 401). A kiosk cookie grants nothing else: staff and police pages
  need a logged-in user, and kiosk endpoints ignore the login session.
Object-level checks (this establishment, this commune) are `can_view_establishment` / `can_write_establishment`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from asm.accounts import sessions
from asm.accounts.models import Role, User, UserSession
from asm.accounts.services import record_access
from asm.clock import utcnow
from asm.establishments.models import Establishment
from asm.extensions import db, login_manager
from asm.police.jurisdiction import covers_establishment, jurisdiction_of

F = TypeVar("F", bound=Callable[..., Any])
STAFF = (Role.OWNER, Role.CLERK)
POLICE = (Role.OFFICER, Role.SUPERVISOR)
ALL_ROLES = tuple(Role)


def public(func: F) -> F:
    func.access_rule = ("public",)  # type: ignore[attr-defined]
    return func


def roles(*allowed: Role) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        func.access_rule = ("roles", frozenset(allowed))  # type: ignore[attr-defined]
        return func

    return decorate


def api_token(func: F) -> F:
    func.access_rule = ("api_token",)  # type: ignore[attr-defined]
    return func


def kiosk_device(func: F) -> F:
    func.access_rule = ("kiosk_device", "page")  # type: ignore[attr-defined]
    return func


def kiosk_device_api(func: F) -> F:
    func.access_rule = ("kiosk_device", "json")  # type: ignore[attr-defined]
    return func


def rule_of(endpoint: str | None) -> tuple[Any, ...] | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return ("public",)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def enforce() -> Any:
    if request.endpoint is None:  # 404/405: let Flask answer
        return None
    rule = rule_of(request.endpoint)
    if rule is None:
        abort(403)
    g.access_rule = rule[0]
    if rule[0] == "public":
        return None
    if rule[0] == "api_token":
        from asm.api.auth import authenticate_request, count_rate_limits, unauthorized

        if not authenticate_request():
            return unauthorized()
        count_rate_limits()
        return None
    if rule[0] == "kiosk_device":
        from asm.devices.auth import authenticate_kiosk

        if authenticate_kiosk():
            return None
        if rule[1] == "page":
            return redirect(url_for("kiosk.pair"))
        response = jsonify(error={"code": "kiosk_not_paired", "message": "This kiosk is not paired or was revoked"})
        response.status_code = 401
        return response
    if not current_user.is_authenticated:
        if g.get("session_refused") and not request.headers.get("HX-Request"):
            flash(_("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại."), "warning")
        if request.headers.get("HX-Request"):
            response = current_app.response_class(status=401)
            response.headers["HX-Redirect"] = url_for("accounts.login", next=request.full_path)
            return response
        return redirect(url_for("accounts.login", next=request.full_path))
    if Role(current_user.role) not in rule[1]:
        abort(403)
    return None


def can_view_establishment(user: User, establishment: Establishment) -> bool:
    role = Role(user.role)
    if role == Role.ADMIN:
        return True
    if role in STAFF:
        return any(e.id == establishment.id for e in user.establishments)
    if role in POLICE:
        area = jurisdiction_of(user)
        return area is not None and covers_establishment(area, establishment)
    return False


def can_write_establishment(user: User, establishment: Establishment) -> bool:
    """Only the establishment's own staff file notifications for it."""
    return Role(user.role) in STAFF and can_view_establishment(user, establishment)


def owned_establishment(code: str) -> Establishment:
    """The establishment with this code, for its own owner only (kiosks, reminders): 404 for an unknown code,
    403 for anyone else (clerks, police, the platform admin)."""
    est = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if est is None:
        abort(404)
    if Role(current_user.role) != Role.OWNER or est not in current_user.establishments:
        abort(403)
    return est


def log_people_view(user: User, action: str, target: str, reason: str | None = None) -> None:
    """Police, and platform admins, looking at people's data leave a line; the caller's commit keeps it. An
    establishment's own staff looking at their guests do not: that is their work, and their filings are logged."""
    if Role(user.role) in POLICE or user.role == Role.ADMIN:
        record_access(
            user_id=user.id, action=action, target=target, reason=reason, ip=request.remote_addr, now=utcnow()
        )


def log_account_event(action: str, *, user_id: int | None, target: str, reason: str | None = None) -> None:
    """A login, failure, lockout, second-factor or account event, for any role; the caller commits."""
    record_access(user_id=user_id, action=action, target=target, reason=reason, ip=request.remote_addr, now=utcnow())


def current_session() -> UserSession | None:
    """The server-side session of the logged-in user of this request."""
    _ = current_user.is_authenticated  # loads it
    return g.get("user_session")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's user, through the request's server-side session (asm/accounts/sessions.py)."""
    loaded = sessions.load(
        session.get(sessions.SESSION_KEY),
        user_id,
        limits=current_app.extensions["asm.session_limits"],
        now=utcnow(),
        ip=request.remote_addr,
    )
    if loaded.write is not None:  # its own short transaction: the request's own stays untouched
        with db.engine.begin() as connection:
            connection.execute(loaded.write)
    if loaded.user is None:
        if loaded.refused:
            g.session_refused = loaded.refused
            for key in ("_user_id", "_fresh", "_id", sessions.SESSION_KEY):
                session.pop(key, None)
        return None
    g.user_session = loaded.row
    return loaded.user


def init_app(app: Flask) -> None:
    app.extensions["asm.session_limits"] = sessions.Limits.from_config(app.config)
    app.before_request(enforce)
    login_manager.login_view = "accounts.login"
