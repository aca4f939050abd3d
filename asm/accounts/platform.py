"""The platform administrator in the browser (issue 16): establishments nationwide with search (their state, history,
staff and API tokens), police units with their officers and supervisors (and new police accounts), every API token.
Every administrative action, and every look at an establishment's people (its staff), is written to the access
log. The CLI (`flask establishments|users|tokens`) calls the same services.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from asm.accounts import services
from asm.accounts.models import ApiToken, Role, User
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments import registration
from asm.establishments.models import Establishment, Status
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.text import fold, is_plain
from asm.web.access import log_account_event, roles

bp = Blueprint("platform", __name__, url_prefix="/quan-tri")
PAGE = 50


def _search_text() -> str:
    q = request.args.get("q", "").strip()[:80]
    return q if is_plain(q) else ""


@bp.route("/co-so/")
@roles(Role.ADMIN)
def establishments() -> str:
    q = _search_text()
    status = request.args.get("trang_thai", "")
    province = request.args.get("tinh", "")[:2]
    query = select(Establishment).join(Commune, Commune.code == Establishment.commune_code)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Establishment.name).like(like),
                func.lower(Establishment.code).like(like),
                func.lower(Establishment.licence_no).like(like),
                func.lower(Establishment.address).like(like),
            )
        )
    if status in {s.value for s in Status}:
        query = query.where(Establishment.status == status)
    if province:
        query = query.where(Commune.province_code == province)
    rows = db.session.scalars(query.order_by(Establishment.name).limit(PAGE)).all()
    return render_template(
        "platform/establishments.html",
        rows=rows,
        q=q,
        status=status,
        province=province,
        statuses=[s.value for s in Status],
        provinces=db.session.scalars(select(Province).order_by(Province.name)).all(),
    )


def _establishment(code: str) -> Establishment:
    est = db.session.scalar(select(Establishment).where(Establishment.code == code)) if is_plain(code) else None
    if est is None:
        abort(404)
    return est


def _detail(est: Establishment, *, secret: str | None = None) -> Response:
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.establishment_id == est.id).order_by(ApiToken.created_at.desc())
    ).all()
    page = render_template(
        "platform/establishment.html",
        est=est,
        staff=sorted(est.staff, key=lambda u: u.username),
        decisions=registration.history(est),
        tokens=tokens,
        secret=secret,
    )
    return make_response(page)


@bp.route("/co-so/<code>")
@roles(Role.ADMIN)
def establishment(code: str) -> Response:
    est = _establishment(code)
    log_account_event("admin_establishment", user_id=current_user.id, target=est.code)
    db.session.commit()
    return _detail(est)


@bp.route("/co-so/<code>/ma-api", methods=["POST"])
@roles(Role.ADMIN)
def create_token(code: str) -> Response:
    est = _establishment(code)
    name = request.form.get("name", "").strip()[:80] or "api"
    token, secret = services.create_token(est, name=name)
    log_account_event("admin_token_created", user_id=current_user.id, target=est.code, reason=token.prefix)
    db.session.commit()
    return _detail(est, secret=secret)


@bp.route("/ma-api/<int:token_id>/thu-hoi", methods=["POST"])
@roles(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    services.revoke_token(token, now=utcnow())
    log_account_event(
        "admin_token_revoked", user_id=current_user.id, target=token.establishment.code, reason=token.prefix
    )
    db.session.commit()
    flash(_("Đã thu hồi mã API."), "success")
    back = request.form.get("back") == "list"
    return redirect(
        url_for("platform.tokens") if back else url_for("platform.establishment", code=token.establishment.code),
        code=303,
    )


@bp.route("/ma-api/")
@roles(Role.ADMIN)
def tokens() -> str:
    rows = db.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc()).limit(200)).all()
    return render_template("platform/tokens.html", rows=rows)


# --- police units -------------------------------------------------------------------------------------------


def _police_page(errors: dict[str, list[str]] | None = None, form: dict[str, str] | None = None) -> Response:
    province = request.values.get("tinh", "")[:2]
    q = fold(_search_text())
    query = select(User).where(User.role.in_((Role.OFFICER, Role.SUPERVISOR)))
    if province:
        query = query.outerjoin(Commune, Commune.code == User.commune_code).where(
            or_(User.province_code == province, Commune.province_code == province)
        )
    users = [
        u
        for u in db.session.scalars(query.order_by(User.username).limit(500))
        if not q or q in fold(u.full_name) or q in u.username
    ]
    units: dict[str, list[User]] = {}
    for u in users:
        unit = u.commune.full_name if u.commune else (u.province.name if u.province else "—")
        units.setdefault(unit, []).append(u)
    page = render_template(
        "platform/police.html",
        units=sorted(units.items()),
        province=province,
        q=request.args.get("q", "")[:80],
        provinces=db.session.scalars(select(Province).order_by(Province.name)).all(),
        errors=errors or {},
        form=form or {},
    )
    return make_response(page, 422 if errors else 200)


@bp.route("/cong-an/")
@roles(Role.ADMIN)
def police() -> Response:
    return _police_page()


@bp.route("/cong-an/tao", methods=["POST"])
@roles(Role.ADMIN)
def create_police_user() -> Response:
    """A new officer (bound to a commune) or supervisor (bound to a province); the house password rules apply."""
    form = {k: request.form.get(k, "")[:120] for k in ("username", "full_name", "role", "commune", "province", "email")}
    try:
        if form["role"] not in (Role.OFFICER, Role.SUPERVISOR):
            raise ValidationError({"role": [_("Vai trò không hợp lệ.")]}, {"role": "role_invalid"})
        user = services.create_user(
            username=form["username"],
            password=request.form.get("password", ""),
            role=form["role"],
            full_name=form["full_name"],
            commune_code=form["commune"].strip() or None,
            province_code=form["province"].strip() or None,
        )
        user.email = form["email"].strip().lower() or None
    except ValidationError as exc:
        db.session.rollback()
        return _police_page(exc.errors, form)
    log_account_event("admin_user_created", user_id=current_user.id, target=user.username, reason=f"{user.role}")
    db.session.commit()
    flash(_("Đã tạo tài khoản %(name)s.", name=user.username), "success")
    return redirect(url_for("platform.police"), code=303)
