"""The commune police decide on establishments (issue 16): registrations waiting, each one's data, owner and look-
alikes (same address or licence), and the decisions approve / ask for changes / reject / suspend / reopen, each
appended to the establishment's history (asm/establishments/registration.py).

Every query goes through the one jurisdiction rule (asm/police/jurisdiction.py): an officer sees their commune's
establishments only, a supervisor their province's; anything else is 404. Decisions are the commune officer's.
Reading a registration shows its owner's ID number: logged like any police read of a person's data.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from asm.accounts.models import Role
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments import registration
from asm.establishments.models import Decision, Establishment, Status
from asm.extensions import db
from asm.police.jurisdiction import (
    Jurisdiction,
    current_jurisdiction,
    establishment_in,
    scope_establishments,
)
from asm.web.access import POLICE, log_account_event, log_people_view, roles

bp = Blueprint("approvals", __name__, url_prefix="/cong-an/dang-ky")
WAITING = (Status.PENDING, Status.CHANGES_REQUESTED)
SHOWN = 200


def pending_count(j: Jurisdiction) -> int:
    query = scope_establishments(select(func.count(Establishment.id)).where(Establishment.status == Status.PENDING), j)
    return db.session.scalar(query) or 0


@bp.route("/")
@roles(*POLICE)
def index() -> str:
    j = current_jurisdiction()
    state = request.args.get("trang_thai", "")
    wanted = [Status(state)] if state in {s.value for s in Status} else list(WAITING)
    rows = db.session.scalars(
        scope_establishments(select(Establishment).where(Establishment.status.in_(wanted)), j)
        .order_by(Establishment.created_at)
        .limit(SHOWN)
    ).all()
    return render_template(
        "police/registrations.html", rows=rows, area=j.name(), state=state, statuses=[s.value for s in Status]
    )


def _establishment(code: str) -> tuple[Jurisdiction, Establishment]:
    j = current_jurisdiction()
    est = establishment_in(j, code)
    if est is None:
        abort(404)
    return j, est


def _detail(est: Establishment, j: Jurisdiction, errors: dict[str, list[str]], status: int = 200) -> Response:
    page = render_template(
        "police/registration.html",
        est=est,
        owners=registration.owners(est),
        alikes=registration.look_alikes(est),
        decisions=registration.history(est),
        can_decide=current_user.role == Role.OFFICER,
        actions=[a for a, (before, _after) in registration.TRANSITIONS.items() if Status(est.status) in before],
        errors=errors,
        area=j.name(),
        Decision=Decision,
    )
    return make_response(page, status)


@bp.route("/<code>")
@roles(*POLICE)
def detail(code: str) -> Response:
    j, est = _establishment(code)
    log_people_view(current_user, "registration", est.code)
    db.session.commit()
    return _detail(est, j, {})


@bp.route("/<code>/quyet-dinh", methods=["POST"])
@roles(Role.OFFICER)
def decide(code: str) -> Response:
    j, est = _establishment(code)
    action = request.form.get("action", "")
    try:
        registration.decide(est, action, reason=request.form.get("reason", ""), user=current_user, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        return _detail(est, j, exc.errors, 422)
    log_account_event("establishment_decision", user_id=current_user.id, target=est.code, reason=action)
    db.session.commit()
    flash(_("Đã ghi quyết định: %(status)s.", status=_(registration_status_label(est.status))), "success")
    return redirect(url_for("approvals.detail", code=est.code), code=303)


def registration_status_label(status: str) -> str:
    from asm.establishments.models import STATUS_LABELS

    return STATUS_LABELS[Status(status)]
