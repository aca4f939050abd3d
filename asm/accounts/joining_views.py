"""Joining from a browser (issue 16): self-registration (public, linked from the login page), the owner's page of
their registration's state, accepting a staff invitation, and resetting a forgotten password by e-mail.

Public pages hold personal data typed in (a CCCD's QR): `Cache-Control: no-store` on every answer here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm import ratelimit
from asm.accounts import joining
from asm.accounts.models import Role
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments import registration
from asm.establishments.models import TYPE_LABELS, Establishment, EstablishmentType, Status
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.idcard import CardError
from asm.people import documents
from asm.people.services import PersonInput
from asm.ratelimit import rate_limit
from asm.text import fold
from asm.web.access import log_account_event, public, roles
from asm.web.i18n import current_locale

bp = Blueprint("joining", __name__)
REGISTER_FIELDS = (
    "name", "type", "address", "province", "commune_code", "licence_no", "phone", "email", "capacity",
    "owner_qr", "username",
)  # fmt: skip


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _no_store(make_response(render_template(template, **context), status))


def _register_limit() -> str:
    return current_app.config["RATELIMIT_REGISTER"]


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_RESET"]


# --- self-registration ----------------------------------------------------------------------------------------


def communes_of(province: str, q: str = "") -> list[Commune]:
    if not province:
        return []
    rows = db.session.scalars(select(Commune).where(Commune.province_code == province).order_by(Commune.name)).all()
    wanted = fold(q.strip())[:60]
    return [c for c in rows if wanted in fold(c.name)] if wanted else list(rows)


def _register_context(form: dict[str, str], errors: dict[str, list[str]], owner: PersonInput | None) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors,
        "owner": owner,
        "provinces": db.session.scalars(select(Province).order_by(Province.name)).all(),
        "communes": communes_of(form.get("province", ""), form.get("commune_q", "")),
        "types": [(t.value, _(TYPE_LABELS[t])) for t in EstablishmentType],
    }


def _owner_preview(text: str) -> PersonInput | None:
    try:
        person = PersonInput.from_document(documents.read_text(text))
    except CardError:
        return None
    return person if person.doc_type == "cccd" else None


@bp.route("/dang-ky", methods=["GET", "POST"])
@public
@rate_limit(_register_limit, methods=("POST",))
def register() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    if request.method == "GET":
        return _page("joining/register.html", **_register_context({}, {}, None))
    form = {name: request.form.get(name, "")[:2000] for name in (*REGISTER_FIELDS, "commune_q")}
    data = registration.RegistrationInput(
        name=form["name"],
        type=form["type"],
        address=form["address"],
        commune_code=form["commune_code"],
        licence_no=form["licence_no"],
        phone=form["phone"],
        email=form["email"],
        capacity=form["capacity"],
        owner_qr=form["owner_qr"],
        username=form["username"],
        password=request.form.get("password", ""),
        confirm=request.form.get("confirm", ""),
    )
    try:
        est, user = registration.register(data, locale=current_locale(), now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        owner = _owner_preview(form["owner_qr"])
        return _page("joining/register.html", 422, **_register_context(form, exc.errors, owner))
    log_account_event("registered", user_id=user.id, target=est.code)
    db.session.commit()
    flash(_("Đã gửi đăng ký. Công an xã/phường sẽ xem xét; đăng nhập để theo dõi trạng thái."), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/dang-ky/xa-phuong")
@public
def communes() -> Response:
    """The communes of a province whose name holds the search (htmx: the options of the commune list)."""
    found = communes_of(request.args.get("province", "")[:2], request.args.get("commune_q", "")[:60])
    return _page("joining/_communes.html", communes=found, selected=request.args.get("commune_code", ""))


@bp.route("/dang-ky/quet", methods=["POST"])
@public
@rate_limit(_register_limit)
def scan_owner() -> Response:
    """The owner's QR, read by the same reader as the desk: their name and ID number shown to confirm."""
    try:
        person = PersonInput.from_document(documents.read_text(request.form.get("owner_qr", "")))
    except CardError as exc:
        return _page("joining/_owner.html", 422, owner=None, error=exc.message(current_locale()))
    if person.doc_type != "cccd":
        return _page("joining/_owner.html", 422, owner=None, error=_("Cần mã QR trên căn cước công dân của chủ cơ sở."))
    return _page("joining/_owner.html", owner=person, error=None)


# --- the owner's view of their registration ---------------------------------------------------------------


def _own_establishment(code: str) -> Establishment:
    est = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if est is None:
        abort(404)
    if not any(e.id == est.id for e in current_user.establishments):
        abort(403)
    return est


@bp.route("/dang-ky/ho-so")
@roles(Role.OWNER, Role.CLERK)
def status() -> Response:
    """Where each of the user's establishments stands with the police, why, and its history."""
    ests = sorted(current_user.establishments, key=lambda e: e.name)
    return _page(
        "joining/status.html",
        rows=[(e, registration.history(e)) for e in ests],
        errors={},
        Status=Status,
    )


@bp.route("/dang-ky/ho-so/<code>/gui-lai", methods=["POST"])
@roles(Role.OWNER)
def resubmit(code: str) -> Response:
    est = _own_establishment(code)
    try:
        registration.resubmit(
            est,
            name=request.form.get("name", ""),
            address=request.form.get("address", ""),
            licence_no=request.form.get("licence_no", ""),
            phone=request.form.get("phone", ""),
            email=request.form.get("email", ""),
            capacity=request.form.get("capacity", ""),
            user=current_user,
            now=utcnow(),
        )
    except ValidationError as exc:
        db.session.rollback()
        ests = sorted(current_user.establishments, key=lambda e: e.name)
        rows = [(e, registration.history(e)) for e in ests]
        return _page("joining/status.html", 422, rows=rows, errors=exc.errors, Status=Status)
    log_account_event("registered", user_id=current_user.id, target=est.code, reason="resubmitted")
    db.session.commit()
    flash(_("Đã gửi lại hồ sơ cho Công an xã/phường."), "success")
    return redirect(url_for("joining.status"), code=303)


# --- invitations ------------------------------------------------------------------------------------------


@bp.route("/moi/<token>", methods=["GET", "POST"])
@public
@rate_limit(_register_limit, methods=("POST",))
def accept(token: str) -> Response:
    now = utcnow()
    invitation = joining.invitation_for(token, now=now)
    if invitation is None:
        return _page("joining/invitation_gone.html", 404)
    if request.method == "GET":
        return _page("joining/accept.html", invitation=invitation, form={}, errors={})
    form = {k: request.form.get(k, "")[:200] for k in ("username", "full_name", "email")}
    try:
        user = joining.accept(
            invitation,
            username=form["username"],
            full_name=form["full_name"],
            email=form["email"],
            password=request.form.get("password", ""),
            confirm=request.form.get("confirm", ""),
            now=now,
        )
    except ValidationError as exc:
        db.session.rollback()
        return _page("joining/accept.html", 422, invitation=invitation, form=form, errors=exc.errors)
    log_account_event(
        "invitation_accepted", user_id=user.id, target=invitation.establishment.code, reason=f"{user.role}"
    )
    db.session.commit()
    flash(_("Đã tạo tài khoản. Hãy đăng nhập (và bật xác thực hai bước nếu được yêu cầu)."), "success")
    return redirect(url_for("accounts.login"), code=303)


# --- password reset ---------------------------------------------------------------------------------------


@bp.route("/quen-mat-khau", methods=["GET", "POST"])
@public
@rate_limit(_reset_limit, methods=("POST",))
def forgot() -> Response:
    """The same answer whatever was typed: nothing tells whether an address has an account."""
    if request.method == "GET":
        return _page("joining/forgot.html", sent=False)
    email = request.form.get("email", "").strip().lower()[:254]
    now = utcnow()
    per_address = ratelimit.hit(current_app.config["RATELIMIT_RESET_PER_ADDRESS"], "password_reset", email)
    users = joining.users_with_email(email) if per_address.allowed else []
    links = []
    for user in users:
        token = joining.new_reset(user, now=now, minutes=int(current_app.config["PASSWORD_RESET_MINUTES"]))
        links.append((user, url_for("joining.reset", token=token, _external=True)))
        log_account_event("password_reset_asked", user_id=user.id, target=user.username)
    db.session.commit()
    for user, link in links:  # after the commit: a link that is sent works; queued (asm/jobs)
        joining.send_mail(
            email,
            _("Đặt lại mật khẩu ASM"),
            _(
                "Chào %(name)s,\n\nĐể đặt mật khẩu mới cho tài khoản %(username)s, mở liên kết sau (dùng một lần, "
                "hết hạn sau %(minutes)s phút):\n\n%(link)s\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này.",
                name=user.full_name,
                username=user.username,
                minutes=current_app.config["PASSWORD_RESET_MINUTES"],
                link=link,
            ),
        )
    return _page("joining/forgot.html", sent=True)


@bp.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"])
@public
@rate_limit(_reset_limit, methods=("POST",))
def reset(token: str) -> Response:
    now = utcnow()
    found = joining.reset_for(token, now=now)
    if found is None:
        return _page("joining/reset_gone.html", 404)
    if request.method == "GET":
        return _page("joining/reset.html", errors={})
    try:
        user = joining.use_reset(
            found, password=request.form.get("password", ""), confirm=request.form.get("confirm", ""), now=now
        )
    except ValidationError as exc:
        db.session.rollback()
        return _page("joining/reset.html", 422, errors=exc.errors)
    log_account_event("password_reset", user_id=user.id, target=user.username)
    db.session.commit()
    flash(_("Đã đặt mật khẩu mới. Hãy đăng nhập."), "success")
    return redirect(url_for("accounts.login"), code=303)
