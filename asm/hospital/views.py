"""Hospitals: wards, beds, admission, carers, transfers, discharge, bed board, census (issue 4).

The hospital's own staff write; police of its commune (or province) and admins read, as on /co-so/<code>/ (the
same access rules; a police look at people's data leaves an access-log line). Scanning a card reuses the desk's
scan endpoint (stays.scan), which answers with the guest block that these forms send back.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from asm.clock import local_today, to_local, utcnow
from asm.common import ValidationError
from asm.establishments.models import Establishment, EstablishmentType
from asm.extensions import db
from asm.filing.core import deadline_for
from asm.hospital import (
    api,  # noqa: F401  (adds POST /api/v1/hospital/events to the API blueprint)
    models,
    queries,
    services,
)
from asm.hospital.pdf import (
    CarerCardData,
    CensusCarerLine,
    CensusData,
    CensusLine,
    build_carer_card_pdf,
    build_census_pdf,
)
from asm.people.models import DocType
from asm.stays.forms import guests_from_form, parse_arrival, parse_date
from asm.stays.models import Source, Stay
from asm.stays.views import actor, establishment_for
from asm.web.access import ALL_ROLES, STAFF, can_write_establishment, log_people_view, roles
from asm.web.htmx import redirect_to, render
from asm.web.i18n import request_translations

bp = Blueprint("hospital", __name__, url_prefix="/benh-vien/<code>")


@bp.app_template_filter("bed_status_label")
def bed_status_label(status: str) -> str:
    return _(models.BED_STATUS_LABELS[models.BedStatus(status)])


@bp.app_template_filter("bed_kind_label")
def bed_kind_label(kind: str) -> str:
    return _(models.BED_KIND_LABELS[models.BedKind(kind)])


def hospital_for(code: str, *, write: bool = False) -> Establishment:
    est = establishment_for(code, write=write)
    if est.type != EstablishmentType.HOSPITAL:
        abort(404)
    return est


def long_stay_days() -> int:
    return current_app.config["LONG_STAY_DAYS"]


def patient_for(est: Establishment, stay_id: int) -> Stay:
    stay = queries.patient_of(est, stay_id)
    if stay is None:
        abort(404)
    return stay


@bp.route("/")
@roles(*ALL_ROLES)
def index(code: str) -> str:
    est = hospital_for(code)
    now = utcnow()
    log_people_view(current_user, "hospital", est.code)
    db.session.commit()
    return render_template(
        "hospital/index.html",
        est=est,
        now=now,
        wards=queries.summaries(est, now, long_stay_days()),
        patients=queries.patients(est, now),
        today=local_today(now),
        can_write=can_write_establishment(current_user, est),
        long_stay_days=long_stay_days(),
    )


# --- admission ----------------------------------------------------------------------------------------------


@bp.route("/nhap-vien", methods=["GET", "POST"])
@roles(*STAFF)
def admit(code: str) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    now = utcnow()
    if request.method == "GET":
        return _admit_page(est, now, [], {}, {})
    form = request.form
    provisional = form.get("mode") == "provisional"
    guests = [] if provisional else guests_from_form(form)
    arrived_at = parse_arrival(form.get("arrived_at", ""), now)
    try:
        if arrived_at is None:
            raise ValidationError({"arrived_at": [_("Giờ vào viện không hợp lệ.")]})
        if not provisional and len(guests) != 1:
            raise ValidationError({"patient": [_("Quét hoặc nhập đúng một người bệnh.")]})
        data = services.AdmissionInput(
            bed_id=form.get("bed_id", type=int) or 0,
            arrived_at=arrived_at,
            expected_discharge=parse_date(form.get("expected_discharge", "")),
            patient=None if provisional else guests[0].to_input(),
            provisional=services.ProvisionalInput(
                record_no=form.get("record_no", ""),
                full_name=form.get("p_full_name", ""),
                birth_date=parse_date(form.get("p_birth_date", "")),
                sex=form.get("p_sex") or None,
                nationality=form.get("p_nationality", "VNM"),
            )
            if provisional
            else None,
        )
        stay = services.admit(est, data, actor=actor(), now=now, source=Source.DESK)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for guest in guests:
            guest.errors = {k[len("guests.0.") :]: v for k, v in exc.errors.items() if k.startswith("guests.0.")}
        general = {k: v for k, v in exc.errors.items() if not k.startswith("guests.")}
        return _admit_page(est, now, guests, general, form), 422
    if stay.filed_at:
        flash(_("Đã nhập viện và khai báo lưu trú. Số biên nhận: %(no)s", no=stay.receipt_no), "success")
    else:
        flash(_("Đã nhập viện với danh tính tạm. Bổ sung giấy tờ để khai báo trước hạn."), "warning")
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=stay.id))


def _admit_page(est, now, guests, errors, form):  # type: ignore[no-untyped-def]
    return render_template(
        "hospital/admit.html",
        est=est,
        guests=guests,
        errors=errors,
        form=form,
        beds=queries.beds(est),
        occupied=set(queries.open_patients_by_bed([w.id for w in queries.wards(est)])),
        default_arrival=to_local(now).strftime("%Y-%m-%dT%H:%M"),
        default_discharge=(local_today(now) + timedelta(days=5)).isoformat(),
        deadline=deadline_for(now),
        can_write=True,
    )


# --- a patient, their carers, transfer, discharge -------------------------------------------------------------


@bp.route("/benh-nhan/<int:stay_id>")
@roles(*ALL_ROLES)
def patient(code: str, stay_id: int) -> str:
    est = hospital_for(code)
    stay = patient_for(est, stay_id)
    log_people_view(current_user, "patient", f"{est.code}/{stay.id}")
    db.session.commit()
    return _patient_page(est, stay)


def _patient_page(est, stay, *, errors=None, carer_guests=(), identity_guests=(), form=None):  # type: ignore[no-untyped-def]
    now = utcnow()
    carers = queries.carers_of(stay)
    return render_template(
        "hospital/patient.html",
        est=est,
        stay=stay,
        now=now,
        today=local_today(now),
        carers=carers,
        open_carers=[c for c in carers if c.stay.is_open],
        assignments=queries.assignments_of(stay),
        beds=queries.beds(est),
        occupied=set(queries.open_patients_by_bed([w.id for w in queries.wards(est)])),
        errors=errors or {},
        carer_guests=list(carer_guests),
        identity_guests=list(identity_guests),
        form=form or {},
        provisional=stay.person.doc_type == DocType.NONE,
        can_write=can_write_establishment(current_user, est),
        long_stay_days=long_stay_days(),
        default_time=to_local(now).strftime("%Y-%m-%dT%H:%M"),
    )


def _refused(est: Establishment, stay: Stay, exc: ValidationError, **kwargs) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return _patient_page(est, stay, errors=exc.errors, form=request.form, **kwargs), 422


@bp.route("/benh-nhan/<int:stay_id>/nguoi-cham-soc", methods=["POST"])
@roles(*STAFF)
def register_carer(code: str, stay_id: int) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    stay = patient_for(est, stay_id)
    now = utcnow()
    guests = guests_from_form(request.form)
    try:
        if len(guests) != 1:
            raise ValidationError({"carer": [_("Quét hoặc nhập đúng một người chăm sóc.")]})
        carer = services.register_carer(
            stay,
            services.CarerInput(
                person=guests[0].to_input(),
                relation=request.form.get("relation", ""),
                arrived_at=parse_arrival(request.form.get("arrived_at", ""), now) or now,
                replaces_stay_id=request.form.get("replaces", type=int),
            ),
            actor=actor(),
            now=now,
        )
        db.session.commit()
    except ValidationError as exc:
        for guest in guests:
            guest.errors = {k[len("guests.0.") :]: v for k, v in exc.errors.items() if k.startswith("guests.0.")}
        return _refused(est, stay, exc, carer_guests=guests)
    if carer.filed_at:
        flash(
            _(
                "Đã đăng ký người chăm sóc %(name)s và khai báo lưu trú. Số biên nhận: %(no)s",
                name=carer.person.full_name,
                no=carer.receipt_no,
            ),
            "success",
        )
    else:
        flash(
            _("Đã đăng ký người chăm sóc %(name)s (không khai báo theo cài đặt).", name=carer.person.full_name),
            "success",
        )
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=stay.id))


@bp.route("/benh-nhan/<int:stay_id>/chuyen", methods=["POST"])
@roles(*STAFF)
def transfer(code: str, stay_id: int) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    stay = patient_for(est, stay_id)
    now = utcnow()
    try:
        services.transfer(stay, bed_id=request.form.get("bed_id", type=int) or 0, at=now, actor=actor(), now=now)
        db.session.commit()
    except ValidationError as exc:
        return _refused(est, stay, exc)
    bed = services.current_assignment(stay)
    flash(_("Đã chuyển người bệnh sang %(to)s.", to=services.location(bed.bed if bed else None)), "success")
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=stay.id))


@bp.route("/benh-nhan/<int:stay_id>/ra-vien", methods=["POST"])
@roles(*STAFF)
def discharge(code: str, stay_id: int) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    stay = patient_for(est, stay_id)
    now = utcnow()
    try:
        ended = services.discharge(
            stay, at=now, actor=actor(), now=now, with_carers=request.form.get("keep_carers") != "1"
        )
        db.session.commit()
    except ValidationError as exc:
        return _refused(est, stay, exc)
    flash(_("Đã cho ra viện: %(names)s.", names=", ".join(s.person.full_name for s in ended)), "success")
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=stay.id))


@bp.route("/benh-nhan/<int:stay_id>/dinh-danh", methods=["POST"])
@roles(*STAFF)
def complete_identity(code: str, stay_id: int) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    stay = patient_for(est, stay_id)
    now = utcnow()
    guests = guests_from_form(request.form)
    try:
        if len(guests) != 1:
            raise ValidationError({"patient": [_("Quét hoặc nhập đúng một người bệnh.")]})
        event = services.complete_identity(stay, guests[0].to_input(), actor=actor(), now=now)
        db.session.commit()
    except ValidationError as exc:
        for guest in guests:
            guest.errors = {k[len("patient.") :]: v for k, v in exc.errors.items() if k.startswith("patient.")}
        return _refused(est, stay, exc, identity_guests=guests)
    flash(_("Đã bổ sung giấy tờ và khai báo. Số biên nhận: %(no)s", no=event.receipt_no), "success")
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=stay.id))


@bp.route("/nguoi-cham-soc/<int:stay_id>/tra-the", methods=["POST"])
@roles(*STAFF)
def release_carer(code: str, stay_id: int) -> str | Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    carer = queries.carer_of(est, stay_id)
    if carer is None:
        abort(404)
    now = utcnow()
    try:
        services.release_carer(carer.stay, at=now, actor=actor(), now=now)
        db.session.commit()
    except ValidationError as exc:
        return _refused(est, carer.patient_stay, exc)
    flash(_("Người chăm sóc %(name)s đã trả thẻ.", name=carer.stay.person.full_name), "success")
    return redirect_to(url_for("hospital.patient", code=est.code, stay_id=carer.patient_stay_id))


# --- carer card and its QR ------------------------------------------------------------------------------------


@bp.route("/the/<int:stay_id>.pdf")
@roles(*ALL_ROLES)
def carer_card(code: str, stay_id: int) -> Response:
    est = hospital_for(code)
    carer = queries.carer_of(est, stay_id)
    if carer is None:
        abort(404)
    log_people_view(current_user, "carer_card", f"{est.code}/{stay_id}")
    db.session.commit()
    assignment = services.current_assignment(carer.patient_stay)
    bed = assignment.bed if assignment else None
    data = CarerCardData(
        hospital_name=est.name,
        carer_name=carer.stay.person.full_name,
        document_masked=carer.stay.person.masked_doc_number,
        relation=carer.relation,
        patient_name=carer.patient_stay.person.full_name,
        ward=f"{bed.ward.code} {bed.ward.name}" if bed else "—",
        bed=bed.label if bed else "—",
        valid_from=carer.stay.arrived_at,
        lookup_url=url_for("hospital.carer_lookup", code=est.code, token=carer.card_token, _external=True),
        card_no=f"NCS-{carer.stay_id:06d}",
    )
    pdf = build_carer_card_pdf(data, translations=request_translations())
    return send_file(BytesIO(pdf), mimetype="application/pdf", download_name=f"the-ncs-{carer.stay_id}.pdf")


@bp.route("/the-cham-soc/<token>")
@roles(*ALL_ROLES)
def carer_lookup(code: str, token: str) -> str:
    """Where the card's QR leads: staff scan it and see whether this carer is really with this patient now."""
    est = hospital_for(code)
    carer = queries.carer_by_token(est, token)
    if carer is None:
        abort(404)
    log_people_view(current_user, "carer_lookup", f"{est.code}/{carer.stay_id}")
    db.session.commit()
    assignment = services.current_assignment(carer.patient_stay)
    return render_template(
        "hospital/carer.html",
        est=est,
        carer=carer,
        stay=carer.stay,
        bed=assignment.bed if assignment else None,
        now=utcnow(),
        can_write=can_write_establishment(current_user, est),
        long_stay_days=long_stay_days(),
    )


# --- bed board and census -------------------------------------------------------------------------------------


@bp.route("/khoa/<int:ward_id>")
@roles(*ALL_ROLES)
def board(code: str, ward_id: int) -> str:
    """The bed board; the grid polls itself (htmx, every few seconds) and comes back as a partial."""
    est = hospital_for(code)
    ward = queries.ward_of(est, ward_id)
    if ward is None:
        abort(404)
    now = utcnow()
    if not request.headers.get("HX-Request"):  # the page, not each poll of it
        log_people_view(current_user, "bed_board", f"{est.code}/{ward.code}")
    db.session.commit()
    return render(
        "hospital/board.html",
        "hospital/_board.html",
        est=est,
        ward=ward,
        wards=queries.wards(est),
        views=queries.board(ward, now, long_stay_days()),
        now=now,
        today=local_today(now),
        can_write=can_write_establishment(current_user, est),
        statuses=("free", "reserved", "cleaning"),
    )


@bp.route("/giuong/<int:bed_id>/trang-thai", methods=["POST"])
@roles(*STAFF)
def bed_status(code: str, bed_id: int) -> Response | tuple[str, int]:
    est = hospital_for(code, write=True)
    bed = queries.bed_of(est, bed_id)
    if bed is None:
        abort(404)
    try:
        services.set_bed_status(bed, request.form.get("status", ""))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        if request.headers.get("HX-Request"):
            return render_template("stays/_action_error.html", messages=exc.messages()), 422
        for m in exc.messages():
            flash(m, "error")
    return redirect_to(url_for("hospital.board", code=est.code, ward_id=bed.ward_id))


@bp.route("/khoa/<int:ward_id>/danh-sach.pdf")
@roles(*ALL_ROLES)
def census(code: str, ward_id: int) -> Response:
    est = hospital_for(code)
    ward = queries.ward_of(est, ward_id)
    if ward is None:
        abort(404)
    day: date = parse_date(request.args.get("ngay", "")) or local_today()
    log_people_view(current_user, "census", f"{est.code}/{ward.code}", reason=day.isoformat())
    db.session.commit()
    rows = queries.census(ward, day)
    data = CensusData(
        hospital_name=est.name,
        hospital_address=est.address,
        ward_code=ward.code,
        ward_name=ward.name,
        day=day,
        beds=len([b for b in ward.beds if b.active]),
        lines=[
            CensusLine(
                bed=r.bed,
                room=r.room,
                full_name=r.full_name,
                birth_date=r.birth_date,
                document=r.document,
                admitted_at=r.admitted_at,
                in_bed_from=r.in_bed_from,
                in_bed_until=r.in_bed_until,
                carers=[CensusCarerLine(c.full_name, c.relation, c.document) for c in r.carers],
            )
            for r in rows
        ],
        printed_at=utcnow(),
    )
    pdf = build_census_pdf(data, translations=request_translations())
    return send_file(
        BytesIO(pdf), mimetype="application/pdf", download_name=f"danh-sach-{ward.code}-{day.isoformat()}.pdf"
    )


from asm.hospital import ops  # noqa: E402, F401  (the HIS operations page: routes on this blueprint)
