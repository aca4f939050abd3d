"""The list of establishments a user may open (own, or in the police jurisdiction), and rooms."""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false, func, select
from werkzeug.wrappers import Response

from asm.accounts.models import Role
from asm.common import ValidationError
from asm.establishments.models import Establishment
from asm.establishments.services import add_rooms
from asm.extensions import db
from asm.police.jurisdiction import jurisdiction_of, scope_establishments
from asm.stays.models import OPEN_STATUSES, Stay
from asm.web.access import ALL_ROLES, roles
from asm.web.htmx import redirect_to

bp = Blueprint("establishments", __name__, url_prefix="/co-so")


def visible_establishments():  # type: ignore[no-untyped-def]
    query = select(Establishment)
    role = Role(current_user.role)
    if role in (Role.OWNER, Role.CLERK):
        query = query.where(Establishment.id.in_([e.id for e in current_user.establishments]))
    elif role in (Role.OFFICER, Role.SUPERVISOR):
        area = jurisdiction_of(current_user)
        query = scope_establishments(query, area) if area else query.where(false())
    return query


@bp.route("/")
@roles(*ALL_ROLES)
def index() -> str:
    ests = visible_establishments().subquery()
    counts = (
        select(Stay.establishment_id, func.count(Stay.id).label("n"))
        .where(Stay.status.in_(OPEN_STATUSES))
        .group_by(Stay.establishment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Establishment, func.coalesce(counts.c.n, 0))
        .join(ests, ests.c.id == Establishment.id)
        .outerjoin(counts, counts.c.establishment_id == Establishment.id)
        .order_by(Establishment.name)
        .limit(500)
    ).all()
    return render_template("establishments/index.html", rows=rows)


@bp.route("/<code>/phong", methods=["POST"])
@roles(Role.OWNER, Role.ADMIN)
def add_room(code: str) -> Response:
    est = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if est is None:
        abort(404)
    if Role(current_user.role) == Role.OWNER and est not in current_user.establishments:
        abort(403)
    names = [n for n in request.form.get("names", "").replace(",", " ").split() if n]
    try:
        added = add_rooms(est, names)
    except ValidationError as exc:
        db.session.rollback()
        for message in exc.messages():
            flash(message, "error")
        return redirect_to(url_for("stays.in_house", code=est.code))
    db.session.commit()
    flash(_("Đã thêm %(n)s phòng.", n=len(added)), "success")
    return redirect_to(url_for("stays.in_house", code=est.code))
