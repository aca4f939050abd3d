"""Pages of the foreigners' channel at an establishment: the foreign guests of a day and their declarations,
the list's export (CSV, XLSX), form NA17 per guest (PDF), the declaration's "declared" mark and the guest's
entry and visa details.

Staff of the establishment read and write; police of its commune (or province) and admins only read, and each
of their reads leaves an access-log line.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from asm.clock import local_today, parse_local_datetime, to_local, utcnow
from asm.common import ValidationError
from asm.extensions import db
from asm.foreigners import exports, queries, services
from asm.foreigners.labels import ENTRY_PORTS, ENTRY_PURPOSES, VISA_TYPES
from asm.foreigners.pdf import build_na17_pdf
from asm.people.services import ForeignInput
from asm.stays.forms import parse_date
from asm.stays.views import actor, establishment_for, stay_for
from asm.web.access import ALL_ROLES, STAFF, can_write_establishment, log_people_view, roles
from asm.web.htmx import redirect_to
from asm.web.i18n import current_locale, request_translations

bp = Blueprint("foreigners", __name__, url_prefix="/co-so/<code>/nguoi-nuoc-ngoai")

FORMATS = {
    "csv": "text/csv",  # Flask adds "; charset=utf-8" to text/* itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def day_of_request() -> date:
    text = request.args.get("ngay", "")
    if not text:
        return local_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


@bp.route("/")
@roles(*ALL_ROLES)
def day_list(code: str) -> str:
    est = establishment_for(code)
    day = day_of_request()
    stays = queries.foreigners_on(est, day)
    log_people_view(current_user, "foreigners", f"{est.code}:{day.isoformat()}")
    db.session.commit()
    return render_template(
        "foreigners/list.html",
        est=est,
        day=day,
        stays=stays,
        now=utcnow(),
        can_write=can_write_establishment(current_user, est),
        visa_types=VISA_TYPES,
    )


@bp.route("/danh-sach.<fmt>")
@roles(*ALL_ROLES)
def export(code: str, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    est = establishment_for(code)
    day = day_of_request()
    stays = queries.foreigners_on(est, day)
    log_people_view(current_user, "foreigners_export", f"{est.code}:{day.isoformat()}")
    db.session.commit()
    words = request_translations()
    head = queries.export_heads(words)
    rows = queries.export_rows(stays, translations=words, now=utcnow())
    title = words.gettext("Người nước ngoài")
    body = exports.to_csv(head, rows) if fmt == "csv" else exports.to_xlsx(title, head, rows)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="nguoi-nuoc-ngoai-{est.code}-{day}.{fmt}"'
    return response


@bp.route("/<int:stay_id>/na17.pdf")
@roles(*ALL_ROLES)
def na17(code: str, stay_id: int) -> Response:
    est = establishment_for(code)
    stay = stay_for(est, stay_id)
    if stay.foreign is None:  # type: ignore[attr-defined]
        abort(404)
    log_people_view(current_user, "na17", f"{est.code}/{stay.id}")
    db.session.commit()
    words = request_translations()
    data = queries.na17_data(stay, locale=current_locale(), translations=words, now=utcnow())
    pdf = build_na17_pdf(data, translations=words)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="NA17-{est.code}-{stay.id}.pdf"'
    return response


def _back(est_code: str, stay_id: int) -> Response:
    if request.form.get("back") == "list":
        return redirect_to(url_for("foreigners.day_list", code=est_code, ngay=request.form.get("ngay") or None))
    return redirect_to(url_for("stays.detail", code=est_code, stay_id=stay_id))


def _refused(exc: ValidationError, est_code: str, stay_id: int) -> Response | tuple[str, int]:
    db.session.rollback()
    if request.headers.get("HX-Request"):
        return render_template("stays/_action_error.html", messages=exc.messages()), 422
    for message in exc.messages():
        flash(message, "error")
    return _back(est_code, stay_id)


@bp.route("/<int:stay_id>/khai-bao", methods=["POST"])
@roles(*STAFF)
def declare(code: str, stay_id: int) -> Response | tuple[str, int]:
    """The declaration was made (on the province's immigration portal, or form NA17 handed in): its reference."""
    est = establishment_for(code, write=True)
    stay = stay_for(est, stay_id)
    now = utcnow()
    try:
        at = None
        if request.form.get("declared_at"):
            try:
                at = parse_local_datetime(request.form["declared_at"])
            except ValueError:
                raise ValidationError({"declared_at": [_("Giờ khai báo không hợp lệ.")]}, {}) from None
        event = services.declare(stay, reference=request.form.get("reference", ""), at=at, actor=actor(), now=now)
        db.session.commit()
    except ValidationError as exc:
        return _refused(exc, est.code, stay.id)
    flash(
        _(
            "Đã ghi nhận khai báo tạm trú của %(name)s (số %(ref)s, lúc %(t)s).",
            name=stay.person.full_name,
            ref=event.data["reference"],
            t=to_local(event.at if at is None else at).strftime("%d/%m/%Y %H:%M"),
        ),
        "success",
    )
    return _back(est.code, stay.id)


def details_from_form() -> ForeignInput:
    form = request.form
    return ForeignInput(
        passport_expiry=parse_date(form.get("passport_expiry", "")),
        visa_type=form.get("visa_type") or None,
        visa_number=form.get("visa_number") or None,
        entry_date=parse_date(form.get("entry_date", "")),
        entry_port=form.get("entry_port") or None,
        entry_purpose=form.get("entry_purpose") or None,
    )


@bp.route("/<int:stay_id>/thong-tin", methods=["POST"])
@roles(*STAFF)
def update(code: str, stay_id: int) -> Response | tuple[str, int]:
    est = establishment_for(code, write=True)
    stay = stay_for(est, stay_id)
    try:
        event = services.update_details(stay, details_from_form(), actor=actor(), now=utcnow())
        db.session.commit()
    except ValidationError as exc:
        return _refused(exc, est.code, stay.id)
    flash(_("Đã cập nhật thông tin nhập cảnh.") if event else _("Không có gì thay đổi."), "success")
    return _back(est.code, stay.id)


def choices() -> dict[str, object]:
    """What the pages' foreign-guest fields offer (templates take them through the context processor)."""
    return {"visa_types": VISA_TYPES, "entry_ports": ENTRY_PORTS, "entry_purposes": ENTRY_PURPOSES}


@bp.app_context_processor
def foreign_choices() -> dict[str, object]:
    return {"foreign_choices": choices}
