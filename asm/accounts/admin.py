"""The platform admin's user pages: find a user, see their open sessions, end them all, disable or enable the
account, change its role, forget its second factor (a lost phone). Each change ends the user's logins at once
and is written to the access log. The CLI (`flask users ...`) calls the same services."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from asm.accounts import services, sessions
from asm.accounts.models import ROLE_LABELS, Role, User, UserSession
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.web.access import log_account_event, roles

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")
PAGE = 50


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/nguoi-dung/")
@roles(Role.ADMIN)
def users() -> str:
    q = request.args.get("q", "").strip().lower()[:80]
    query = select(User).order_by(User.username).limit(PAGE)
    if q:
        query = query.where(or_(User.username.contains(q), func.lower(User.full_name).contains(q)))
    found = db.session.scalars(query).all()
    open_counts = dict(
        db.session.execute(
            select(UserSession.user_id, func.count())
            .where(UserSession.ended_at.is_(None), UserSession.user_id.in_([u.id for u in found]))
            .group_by(UserSession.user_id)
        ).all()
    )
    return render_template("accounts/admin_users.html", users=found, q=q, open_counts=open_counts)


@bp.route("/nguoi-dung/<int:user_id>")
@roles(Role.ADMIN)
def user(user_id: int) -> str:
    user = _user(user_id)
    limits = sessions.Limits.from_config(current_app.config)
    return render_template(
        "accounts/admin_user.html",
        user=user,
        open_sessions=sessions.open_sessions(user, limits=limits, now=utcnow()),
        describe=sessions.describe_device,
        roles=[(r.value, _(ROLE_LABELS[r])) for r in Role],
        errors={},
    )


def _done(user: User, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=user.id), code=303)


@bp.route("/nguoi-dung/<int:user_id>/ket-thuc-phien", methods=["POST"])
@roles(Role.ADMIN)
def end_sessions(user_id: int) -> Response:
    user = _user(user_id)
    ended = sessions.end_all(user.id, reason="admin", now=utcnow())
    log_account_event("sessions_ended", user_id=current_user.id, target=user.username, reason=f"{ended} by admin")
    db.session.commit()
    return _done(user, _("Đã kết thúc %(n)s phiên đăng nhập.", n=ended))


@bp.route("/nguoi-dung/<int:user_id>/khoa", methods=["POST"])
@roles(Role.ADMIN)
def disable(user_id: int) -> Response:
    user = _user(user_id)
    if user.id == current_user.id:
        flash(_("Không thể tự khóa tài khoản của mình."), "error")
        return redirect(url_for("admin.user", user_id=user.id), code=303)
    ended = services.set_active(user, False, now=utcnow())
    log_account_event("user_disabled", user_id=current_user.id, target=user.username, reason=f"{ended} sessions ended")
    db.session.commit()
    return _done(user, _("Đã khóa tài khoản."))


@bp.route("/nguoi-dung/<int:user_id>/mo-khoa", methods=["POST"])
@roles(Role.ADMIN)
def enable(user_id: int) -> Response:
    user = _user(user_id)
    services.set_active(user, True, now=utcnow())
    log_account_event("user_enabled", user_id=current_user.id, target=user.username)
    db.session.commit()
    return _done(user, _("Đã mở khóa tài khoản."))


@bp.route("/nguoi-dung/<int:user_id>/vai-tro", methods=["POST"])
@roles(Role.ADMIN)
def change_role(user_id: int) -> Response | tuple[str, int]:
    user = _user(user_id)
    role = request.form.get("role", "")
    if role not in {r.value for r in Role}:
        abort(400, description="unknown role")
    if user.id == current_user.id and role != Role.ADMIN:
        flash(_("Không thể tự bỏ quyền quản trị của mình."), "error")
        return redirect(url_for("admin.user", user_id=user.id), code=303)
    codes = [c.strip() for c in request.form.get("establishments", "").split(",") if c.strip()]
    ests = list(db.session.scalars(select(Establishment).where(Establishment.code.in_(codes)))) if codes else []
    before = user.role
    try:
        if len(ests) != len(set(codes)):
            raise ValidationError({"establishment": [_("Không tìm thấy cơ sở với mã đã nhập.")]})
        ended = services.change_role(
            user,
            role,
            establishments=ests,
            commune_code=request.form.get("commune", "").strip() or None,
            province_code=request.form.get("province", "").strip() or None,
            now=utcnow(),
        )
    except ValidationError as exc:
        db.session.rollback()
        limits = sessions.Limits.from_config(current_app.config)
        page = render_template(
            "accounts/admin_user.html",
            user=user,
            open_sessions=sessions.open_sessions(user, limits=limits, now=utcnow()),
            describe=sessions.describe_device,
            roles=[(r.value, _(ROLE_LABELS[r])) for r in Role],
            errors=exc.errors,
        )
        return page, 422
    log_account_event(
        "role_changed", user_id=current_user.id, target=user.username, reason=f"{before} -> {role}; {ended} ended"
    )
    db.session.commit()
    return _done(user, _("Đã đổi vai trò; các phiên đăng nhập của người này đã kết thúc."))


@bp.route("/nguoi-dung/<int:user_id>/xac-thuc-2-buoc/dat-lai", methods=["POST"])
@roles(Role.ADMIN)
def reset_two_factor(user_id: int) -> Response:
    user = _user(user_id)
    ended = services.reset_totp(user, now=utcnow())
    log_account_event("2fa_reset", user_id=current_user.id, target=user.username, reason=f"{ended} sessions ended")
    db.session.commit()
    return _done(user, _("Đã xóa xác thực hai bước; người dùng đăng ký lại ở lần đăng nhập sau."))
