"""Kiosk devices: registration, pairing codes and revocation by the establishment owner (issue 3)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.accounts.models import Role
from asm.clock import utcnow
from asm.common import ValidationError
from asm.devices import services
from asm.devices.models import KioskDevice, KioskFlow, flow_labels
from asm.establishments.models import Establishment, EstablishmentType
from asm.extensions import db
from asm.trades import trade_words
from asm.web.access import owned_establishment, roles
from asm.web.htmx import redirect_to
from asm.web.i18n import request_translations

bp = Blueprint("devices", __name__, url_prefix="/co-so/<code>/kiosk")


def device_of(est: Establishment, device_id: int) -> KioskDevice:
    device = db.session.get(KioskDevice, device_id)
    if device is None or device.establishment_id != est.id:
        abort(404)
    return device


def default_flows(est: Establishment) -> list[str]:
    if est.type == EstablishmentType.HOSPITAL:
        return [KioskFlow.HOSPITAL_ADMISSION, KioskFlow.CARER]
    return [KioskFlow.HOTEL_CHECK_IN, KioskFlow.CHECK_OUT]


def page(est: Establishment, *, status: int = 200, **context) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    devices = db.session.scalars(
        select(KioskDevice).where(KioskDevice.establishment_id == est.id).order_by(KioskDevice.id)
    ).all()
    context.setdefault("errors", {})
    context.setdefault("shown_code", None)
    context.setdefault("shown_device", None)
    context.setdefault("form", {})
    context.setdefault("chosen_flows", default_flows(est))
    return render_template(
        "devices/index.html",
        est=est,
        devices=devices,
        flows=list(KioskFlow),
        flow_labels=flow_labels(trade_words(est.type, request_translations())),
        now=utcnow(),
        active="kiosk",
        can_write=True,
        **context,
    ), status


@bp.route("/", methods=["GET"])
@roles(Role.OWNER)
def index(code: str) -> tuple[str, int]:
    return page(owned_establishment(code))


@bp.route("/", methods=["POST"])
@roles(Role.OWNER)
def register(code: str) -> tuple[str, int]:
    """Register a kiosk; the answer shows its pairing code, once (only the hash is kept)."""
    est = owned_establishment(code)
    flows = request.form.getlist("flows")
    try:
        device, pairing_code = services.register_device(
            est,
            name=request.form.get("name", ""),
            flows=flows,
            pin=request.form.get("pin", ""),
            guest_picks_room=request.form.get("guest_picks_room") == "1",
            idle_seconds=request.form.get("idle_seconds", 90, type=int) or 0,
            created_by_id=current_user.id,
            now=utcnow(),
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        form = {k: v for k, v in request.form.items() if k not in ("pin", "csrf_token")}
        return page(est, status=422, errors=exc.errors, form=form, chosen_flows=flows)
    return page(est, shown_code=pairing_code, shown_device=device)


@bp.route("/<int:device_id>/ma-ghep-noi", methods=["POST"])
@roles(Role.OWNER)
def new_code(code: str, device_id: int) -> tuple[str, int]:
    est = owned_establishment(code)
    device = device_of(est, device_id)
    try:
        pairing_code = services.new_pairing_code(device, now=utcnow())
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return page(est, status=422, errors=exc.errors)
    return page(est, shown_code=pairing_code, shown_device=device)


@bp.route("/<int:device_id>/thu-hoi", methods=["POST"])
@roles(Role.OWNER)
def revoke(code: str, device_id: int) -> Response:
    est = owned_establishment(code)
    device = device_of(est, device_id)
    services.revoke_device(device, now=utcnow())
    db.session.commit()
    flash(_("Đã thu hồi máy kiosk “%(name)s”: máy không làm được gì nữa.", name=device.name), "success")
    return redirect_to(url_for("devices.index", code=est.code))
