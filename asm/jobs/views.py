"""The reminders page (times and address, set by the owner; this device for Web Push, for every member of staff:
the reminders go to each one's subscribed devices; every reminder and its delivery) and the desk's web app
manifest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.accounts.models import Role
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.jobs import push, reminders
from asm.jobs.models import PushSubscription, Reminder
from asm.mail import valid_address
from asm.stays.views import establishment_for
from asm.web.access import STAFF, owned_establishment, public, roles
from asm.web.htmx import redirect_to

bp = Blueprint("reminders", __name__)


def page(est: Establishment, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Any:
    sent = db.session.scalars(
        select(Reminder).where(Reminder.establishment_id == est.id).order_by(Reminder.slot_at.desc()).limit(30)
    ).all()
    devices = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == current_user.id).order_by(PushSubscription.id)
    ).all()
    form = form or {
        "times": est.reminder_times or str(current_app.config["REMINDER_TIMES"]),
        "email": est.reminder_email or "",
    }
    return render_template(
        "jobs/reminders.html",
        est=est,
        reminders=sent,
        devices=devices,
        form=form,
        errors=errors or {},
        push_key=current_app.config["VAPID_PUBLIC_KEY"] if push.enabled() else "",
        active="reminders",
        can_write=True,
        can_set=Role(current_user.role) == Role.OWNER,
    ), (422 if errors else 200)


@bp.route("/co-so/<code>/nhac-nho", methods=["GET"])
@roles(*STAFF)
def index(code: str) -> Any:
    return page(establishment_for(code, write=True))


@bp.route("/co-so/<code>/nhac-nho", methods=["POST"])
@roles(Role.OWNER)
def settings(code: str) -> Any:
    est = owned_establishment(code)
    form = {"times": request.form.get("times", "").strip(), "email": request.form.get("email", "").strip()}
    errors = {}
    try:
        times = reminders.parse_times(form["times"])
    except ValueError:
        errors["times"] = _("Giờ nhắc không hợp lệ: ví dụ 21:30, 22:30, 07:00 (tối đa 6).")
    if form["email"] and not valid_address(form["email"]):
        errors["email"] = _("Địa chỉ e-mail không hợp lệ.")
    if errors:
        return page(est, errors=errors, form=form)
    est.reminder_times = ",".join(t.strftime("%H:%M") for t in times) or None
    est.reminder_email = form["email"] or None
    db.session.commit()
    flash(_("Đã lưu cài đặt nhắc hạn."), "ok")
    return redirect_to(url_for("reminders.index", code=est.code))


@bp.route("/co-so/<code>/nhac-nho/thiet-bi", methods=["POST"])
@roles(*STAFF)
def subscribe(code: str) -> Any:
    """This browser's Web Push subscription (PushSubscription.toJSON()), sent by asm/static/push.js: an owner's or
    a clerk's, for the reminders of the establishments they work at."""
    establishment_for(code, write=True)
    data = request.get_json(silent=True)
    keys = data.get("keys") if isinstance(data, dict) else None
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not (
        isinstance(endpoint, str)
        and endpoint.startswith("https://")
        and len(endpoint) <= 1000
        and isinstance(keys, dict)
        and isinstance(keys.get("p256dh"), str)
        and isinstance(keys.get("auth"), str)
        and 40 <= len(keys["p256dh"]) <= 200
        and 10 <= len(keys["auth"]) <= 100
    ):
        return jsonify({"error": "invalid subscription"}), 400
    sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if sub is None:
        sub = PushSubscription(endpoint=endpoint, user_id=current_user.id, p256dh="", auth="")
        db.session.add(sub)
    sub.user_id, sub.p256dh, sub.auth = current_user.id, keys["p256dh"], keys["auth"]
    sub.device = (request.user_agent.browser or "")[:40] + " " + (request.user_agent.platform or "")[:40]
    db.session.commit()
    return jsonify({"ok": True}), 201


@bp.route("/manifest.webmanifest")
@public
def manifest() -> Response:
    """The desk as an installable web app."""
    body = {
        "name": "ASM – Thông báo lưu trú",
        "short_name": "ASM",
        "lang": "vi",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [{"src": url_for("static", filename="icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response
