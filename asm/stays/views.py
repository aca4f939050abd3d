"""Establishment pages: in-house list, check-in with a scan field, stay actions, history, receipts.

Staff of the establishment read and write; police of its commune (or province) and admins only read,
and every police read of people's data leaves an access-log line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.clock import fmt_datetime, local_today, to_local, utcnow
from asm.common import Actor, ValidationError
from asm.establishments.models import Establishment, EstablishmentType
from asm.extensions import db
from asm.idcard import CardError
from asm.idcard.decode import DecodeError
from asm.people import documents
from asm.people.services import PersonInput
from asm.ratelimit import rate_limit
from asm.stays import queries, services
from asm.stays.forms import GuestForm, guests_from_form, parse_arrival, parse_date
from asm.stays.models import Source, Stay
from asm.stays.receipts import receipt_pdf
from asm.stays.rules import foreign_declaration_deadline
from asm.text import search_text
from asm.web.access import (
    ALL_ROLES,
    STAFF,
    can_view_establishment,
    can_write_establishment,
    log_people_view,
    roles,
)
from asm.web.htmx import redirect_to, render
from asm.web.i18n import current_locale, request_translations

bp = Blueprint("stays", __name__, url_prefix="/co-so/<code>")

REASONS = ("Du lịch", "Công tác", "Thăm thân", "Học tập", "Khám chữa bệnh", "Khác")


def _scan_limit() -> str:
    return current_app.config["RATELIMIT_SCAN"]


def establishment_for(code: str, *, write: bool = False) -> Establishment:
    est = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if est is None:
        abort(404)
    allowed = can_write_establishment if write else can_view_establishment
    if not allowed(current_user, est):
        abort(403)
    return est


def stay_for(est: Establishment, stay_id: int) -> Stay:
    stay = queries.stay_of(est, stay_id)
    if stay is None:
        abort(404)
    return stay


def actor() -> Actor:
    return Actor(label=current_user.full_name, user_id=current_user.id)


@bp.route("/")
@roles(*ALL_ROLES)
def in_house(code: str) -> str:
    est = establishment_for(code)
    now = utcnow()
    search = search_text(request.args.get("q", ""))
    stays = queries.in_house(est, search)
    log_people_view(current_user, "in_house", est.code, reason=search or None)
    db.session.commit()
    return render(
        "stays/in_house.html",
        "stays/_rows.html",
        est=est,
        stays=stays,
        search=search,
        now=now,
        problems=queries.problems(est, now),
        arrivals=queries.arrivals_today(est, now),
        departures=queries.departures_today(est, now),
        can_write=can_write_establishment(current_user, est),
        long_stay_days=current_app.config["LONG_STAY_DAYS"],
    )


@bp.route("/nhan-phong", methods=["GET", "POST"])
@roles(*STAFF)
def check_in(code: str) -> str | Response | tuple[str, int]:
    est = establishment_for(code, write=True)
    now = utcnow()
    if request.method == "GET":
        if est.type == EstablishmentType.HOSPITAL:  # a hospital admits on its own page, in its own words
            return redirect(url_for("hospital.admit", code=est.code))
        return _checkin_page(est, [], {}, now)
    guests = guests_from_form(request.form)
    arrived_at = parse_arrival(request.form.get("arrived_at", ""), now)
    data = services.CheckInInput(
        guests=[g.to_input() for g in guests],
        arrived_at=arrived_at or now,
        reason=request.form.get("reason", ""),
        room_id=request.form.get("room_id", type=int),
        expected_departure=parse_date(request.form.get("expected_departure", "")),
        file_now=request.form.get("action", "file") != "draft",
    )
    try:
        if arrived_at is None:
            raise ValidationError({"arrived_at": [_("Giờ đến không hợp lệ.")]})
        result = services.check_in(est, data, actor=actor(), now=now, source=Source.DESK)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for i, guest in enumerate(guests):
            prefix = f"guests.{i}."
            guest.errors = {k[len(prefix) :]: v for k, v in exc.errors.items() if k.startswith(prefix)}
        general = {k: v for k, v in exc.errors.items() if not k.startswith("guests.")}
        return _checkin_page(est, guests, general, now, form=request.form), 422
    head = result.stays[0]
    for warning in result.warnings:
        flash(warning, "warning")
    if head.filed_at:
        flash(_("Đã khai báo lưu trú. Số biên nhận: %(no)s", no=head.receipt_no), "success")
    else:
        flash(_("Đã lưu nháp. Nhớ khai báo trước %(t)s.", t=fmt_datetime(head.deadline_at)), "warning")
    return redirect_to(url_for("stays.detail", code=est.code, stay_id=head.id))


def _checkin_page(est, guests, errors, now, form=None):  # type: ignore[no-untyped-def]
    return render_template(
        "stays/check_in.html",
        est=est,
        guests=guests,
        errors=errors,
        form=form or {},
        reasons=REASONS,
        default_arrival=to_local(now).strftime("%Y-%m-%dT%H:%M"),
        default_departure=(local_today(now) + timedelta(days=1)).isoformat(),
        deadline=services.deadline_for(now),
        foreign_deadline=foreign_deadline_for(est, now),
        foreign_hours=foreign_hours(est),
        scan_config=scan_config(est),
    )


GUEST_TEMPLATE_KEY = "keytemplate"  # replaced by a fresh block key in the browser (asm/static/checkin.js)


def scan_config(est: Establishment) -> dict[str, object]:
    """What the check-in page's own reader needs (asm/static/checkin.js): where the server paths and zxing-wasm are,
    and the words it writes."""
    blank = GuestForm(key=GUEST_TEMPLATE_KEY, values={"doc_type": "cccd"}, scanned=True)
    return {
        "guestBlock": render_template("stays/_guest.html", est=est, guest=blank),
        "templateKey": GUEST_TEMPLATE_KEY,
        "locale": current_locale(),
        "urls": {
            "scan": url_for("stays.scan", code=est.code),
            "scanner": url_for("static", filename="idcard/scanner.js"),
            "zxing": url_for("web.vendor", name="zxing-wasm/es/reader/index.js"),
            "zxingWasm": url_for("web.vendor", name="zxing-wasm/reader/zxing_reader.wasm"),
        },
        "texts": {
            "unreadable": _("Không đọc được mã"),
            "duplicate": _("Thẻ này đã được quét: người thứ %(n)s trong danh sách."),
            "camera_unavailable": _("Không mở được camera. Hãy dùng đầu đọc, ảnh chụp hoặc nhập tay."),
        },
    }


def foreign_hours(est: Establishment) -> int:
    config = current_app.config
    return int(config["FOREIGN_DECLARATION_REMOTE_HOURS" if est.commune.remote else "FOREIGN_DECLARATION_HOURS"])


def foreign_deadline_for(est: Establishment, arrived_at: datetime) -> datetime:
    """What a foreign guest arriving now must be declared by (the rule: asm/stays/rules.py, as the core applies)."""
    hours = foreign_hours(est)
    return foreign_declaration_deadline(arrived_at, hours=hours, remote_hours=hours, remote=est.commune.remote)


@bp.route("/quet", methods=["POST"])
@roles(*STAFF)
@rate_limit(_scan_limit)
def scan(code: str) -> str | Response:
    """The scan field: text from a USB scanner or pasted, parsed into a filled guest block."""
    est = establishment_for(code, write=True)
    try:
        person = PersonInput.from_document(documents.read_text(request.form.get("text", "")))
    except CardError as exc:
        return scan_error(exc)
    return _guest_block(est, GuestForm.from_scan(person))


def scan_error(exc: CardError | DecodeError) -> Response:
    """An unreadable code: the message goes to the scan area, not into the guest list."""
    return _to_scan_area(
        render_template("stays/_scan_error.html", message=exc.message(current_locale()), code=exc.code)
    )


def _to_scan_area(html: str) -> Response:
    response = Response(html, status=422)
    response.headers["HX-Retarget"] = "#scan-result"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.route("/quet-anh", methods=["POST"])
@roles(*STAFF)
@rate_limit(_scan_limit)
def scan_image(code: str) -> str | Response:
    """A photo of the card (tablet camera or upload), decoded and parsed."""
    est = establishment_for(code, write=True)
    upload = request.files.get("image")
    try:
        if upload is None:
            raise DecodeError("no_code_found")
        card, _text = documents.read_image(upload.read())
        person = PersonInput.from_document(card)
    except (DecodeError, CardError) as exc:
        return scan_error(exc)
    return _guest_block(est, GuestForm.from_scan(person))


def _guest_block(est: Establishment, guest: GuestForm) -> str | Response:
    """The block of a card just read; refused at the scan when the same document is already in the form's list (the
    scan forms send the list along), so a group never holds one person twice (issue 17)."""
    listed = [
        value.strip()
        for name, value in request.form.items()
        if name.startswith("guests-") and name.endswith("-doc_number") and value.strip()
    ]
    if guest.get("doc_number") in listed:
        position = listed.index(guest.get("doc_number")) + 1
        message = _("Thẻ này đã được quét: người thứ %(n)s trong danh sách.", n=position)
        return _to_scan_area(render_template("stays/_scan_error.html", message=message, code="duplicate_guest"))
    past = queries.past_guest(est, guest.get("doc_type"), guest.get("doc_number"))
    guest.returning = past is not None
    return render_template("stays/_guest.html", est=est, guest=guest, role=guest_role())


def guest_role() -> str:
    """A hospital's forms say whose block it is: "patient" or "carer" (sent by the scan forms and the blank block)."""
    role = request.values.get("role", "")
    return role if role in ("patient", "carer") else ""


@bp.route("/khach-moi", methods=["GET"])
@roles(*STAFF)
def blank_guest(code: str) -> str:
    est = establishment_for(code, write=True)
    return render_template(
        "stays/_guest.html", est=est, guest=GuestForm(values={"doc_type": "cccd"}), role=guest_role()
    )


@bp.route("/khach-cu", methods=["POST"])
@roles(*STAFF)
def lookup_guest(code: str) -> str | Response:
    """Typed a document number by hand: prefill from this establishment's own past guests only."""
    est = establishment_for(code, write=True)
    key = request.form.get("key", "")
    guest = next(iter(guests_from_form(request.form)), None)
    if guest is None:
        return Response(status=204)
    person = queries.past_guest(est, guest.get("doc_type", "cccd"), guest.get("doc_number"))
    if person is None:
        return Response(status=204)
    return render_template(
        "stays/_guest.html", est=est, guest=GuestForm.from_person(person, key=key), role=guest_role()
    )


@bp.route("/luu-tru/<int:stay_id>")
@roles(*ALL_ROLES)
def detail(code: str, stay_id: int) -> str:
    est = establishment_for(code)
    stay = stay_for(est, stay_id)
    log_people_view(current_user, "stay", f"{est.code}/{stay.id}")
    db.session.commit()
    return render_template(
        "stays/detail.html",
        est=est,
        stay=stay,
        now=utcnow(),
        can_write=can_write_establishment(current_user, est),
        long_stay_days=current_app.config["LONG_STAY_DAYS"],
        today=local_today(),
    )


ACTIONS = {"tra-phong", "gia-han", "chuyen-phong", "huy", "khai-bao"}


@bp.route("/luu-tru/<int:stay_id>/<action>", methods=["POST"])
@roles(*STAFF)
def act(code: str, stay_id: int, action: str) -> str | Response | tuple[str, int]:
    """One tap from the in-house list or the stay page: check out, extend, move, cancel, file a draft."""
    if action not in ACTIONS:
        abort(404)
    est = establishment_for(code, write=True)
    stay = stay_for(est, stay_id)
    now = utcnow()
    try:
        if action == "tra-phong":
            group = request.form.get("group") == "1"
            targets = [stay] + ([m for m in stay.members if m.is_open] if group else [])
            for target in targets:
                services.check_out(target, at=now, actor=actor(), now=now)
            message = _("Đã trả phòng: %(name)s.", name=", ".join(t.person.full_name for t in targets))
        elif action == "gia-han":
            until = parse_date(request.form.get("until", ""))
            if until is None:
                raise ValidationError({"expected_departure": [_("Ngày gia hạn không hợp lệ.")]})
            services.extend(stay, until=until, actor=actor(), now=now)
            message = _("Đã gia hạn đến %(d)s.", d=until.strftime("%d/%m/%Y"))
        elif action == "chuyen-phong":
            services.move(stay, room_id=request.form.get("room_id", type=int) or 0, actor=actor(), now=now)
            message = _("Đã chuyển sang phòng %(room)s.", room=stay.room.name)
        elif action == "huy":
            services.cancel(stay, reason=request.form.get("reason", ""), actor=actor(), now=now)
            message = _("Đã hủy lưu trú.")
        else:
            services.file_draft(stay, actor=actor(), now=now)
            message = _("Đã khai báo. Số biên nhận: %(no)s", no=stay.receipt_no)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        messages = exc.messages()
        if request.headers.get("HX-Request"):
            return render_template("stays/_action_error.html", messages=messages), 422
        for m in messages:
            flash(m, "error")
        return redirect_to(url_for("stays.detail", code=est.code, stay_id=stay.id))
    flash(message, "success")
    back = request.form.get("back") == "list"
    return redirect_to(
        url_for("stays.in_house", code=est.code) if back else url_for("stays.detail", code=est.code, stay_id=stay.id)
    )


@bp.route("/lich-su")
@roles(*ALL_ROLES)
def history(code: str) -> str:
    est = establishment_for(code)
    page = max(request.args.get("page", 1, type=int), 1)
    events = queries.history(est, page=page)
    log_people_view(current_user, "history", est.code)
    db.session.commit()
    return render_template("stays/history.html", est=est, events=events, page=page)


@bp.route("/bien-nhan/<receipt_no>.pdf")
@roles(*ALL_ROLES)
def receipt(code: str, receipt_no: str) -> Response:
    est = establishment_for(code)
    event = queries.event_by_receipt(est, receipt_no)
    if event is None:
        abort(404)
    log_people_view(current_user, "receipt", receipt_no)
    db.session.commit()
    pdf = receipt_pdf(event, translations=request_translations())
    return send_file(pdf, mimetype="application/pdf", download_name=f"{receipt_no}.pdf")
