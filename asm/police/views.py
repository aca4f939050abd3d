"""Police pages (/cong-an/): dashboard and the lists behind it, person search, access-log review, watch list and
alert queue, compliance reports and exports; and (platform admin) the binding of police users to their area.

Every page resolves the user's jurisdiction first (`asm.police.jurisdiction`) and reads only through it; what is
outside answers 404 (it does not exist for this user). Reads of people's data leave an access-log line.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.accounts.models import Role, User
from asm.clock import local_today, utcnow
from asm.common import ValidationError, text_message
from asm.establishments.models import EstablishmentType
from asm.extensions import db
from asm.geo.models import Province
from asm.people.models import mask
from asm.police import logwords, queries, reports, services
from asm.police import models as _models  # noqa: F401 (the models exist when the app does)
from asm.police.approvals import pending_count
from asm.police.charts import bar_chart
from asm.police.jurisdiction import Jurisdiction, commune_in, current_jurisdiction, establishment_in
from asm.police.models import JobState, ReportJob
from asm.text import TextError, search_text
from asm.text import free_text as clean_free_text
from asm.web.access import POLICE, log_account_event, log_people_view, roles
from asm.web.htmx import redirect_to, render
from asm.web.i18n import current_locale, request_translations

bp = Blueprint("police", __name__, url_prefix="/cong-an")

REASON_MIN = 5


def view_jurisdiction(j: Jurisdiction) -> Jurisdiction:
    """A supervisor may narrow the dashboard to one commune of the province (?xa=code)."""
    code = request.args.get("xa", "")
    if code and j.is_province:
        commune = commune_in(j, code)
        if commune is None:
            abort(404)
        return Jurisdiction(commune_code=commune.code)
    return j


def settings() -> dict[str, int]:
    config = current_app.config
    return {
        "silent_days": int(config.get("POLICE_SILENT_DAYS", 7)),
        "long_stay_days": int(config.get("LONG_STAY_DAYS", 30)),
    }


# --- dashboard ------------------------------------------------------------------------------------------------


@bp.route("/")
@roles(*POLICE)
def dashboard() -> str:
    j = current_jurisdiction()
    view = view_jurisdiction(j)
    now = utcnow()
    data = queries.dashboard(view, now, **settings())
    return render_template(
        "police/dashboard.html",
        j=j,
        view=view,
        area=view.name(),
        data=data,
        communes=queries.communes_in(j) if j.is_province else [],
        arrivals_chart=bar_chart(data.arrivals),
        departures_chart=bar_chart(data.departures),
        types=[t.value for t in EstablishmentType],
        pending_registrations=pending_count(view),
    )


@bp.route("/danh-sach/<figure>")
@roles(*POLICE)
def figure_list(figure: str) -> str:
    j = current_jurisdiction()
    view = view_jurisdiction(j)
    now = utcnow()
    page = max(1, request.args.get("trang", 1, type=int))
    extra = {k: v for k, v in request.args.items() if k in ("xa", "loai", "ngay", "quoc_tich")}
    if figure in queries.ESTABLISHMENT_FIGURES:
        rows = queries.figure_establishments(view, figure, now, silent_days=settings()["silent_days"])
        return render_template("police/establishments.html", figure=figure, rows=rows, area=view.name(), extra=extra)
    if figure not in queries.STAY_FIGURES:
        abort(404)
    day = None
    if request.args.get("ngay"):
        try:
            day = date.fromisoformat(request.args["ngay"])
        except ValueError:
            abort(404)
    kind = request.args.get("loai") or None
    if kind is not None and kind not in {t.value for t in EstablishmentType}:
        abort(404)
    nationality = (request.args.get("quoc_tich") or "").strip().upper() or None
    if nationality is not None and (len(nationality) != 3 or not nationality.isalpha()):
        abort(404)
    query = queries.figure_stays(
        view,
        figure,
        now,
        type=kind,
        day=day,
        long_stay_days=settings()["long_stay_days"],
        nationality=nationality,
    )
    stays = queries.page_of(query, page)
    log_people_view(current_user, "police_list", f"{figure}:{view.key}", reason=(day.isoformat() if day else kind))
    db.session.commit()
    return render_template(
        "police/stays.html",
        figure=figure,
        stays=stays[: queries.PAGE_SIZE],
        more=len(stays) > queries.PAGE_SIZE,
        page=page,
        area=view.name(),
        day=day,
        kind=kind,
        extra=extra,
        now=now,
        long_stay_days=settings()["long_stay_days"],
    )


# --- person search and record ---------------------------------------------------------------------------------


def clean_reason(text: str) -> str:
    """The reason an officer gives for a look at people's data: free text (asm.text), cut to the log's column.
    Raises TextError for a control or bidi character."""
    return clean_free_text(text or "", max_length=10_000)[:255]


@bp.route("/tra-cuu", methods=["GET", "POST"])
@roles(*POLICE)
def search() -> str | tuple[str, int]:
    j = current_jurisdiction()
    if request.method == "GET":
        return render_template("police/search.html", form={}, errors={}, results=None)
    form = request.form
    errors: dict[str, str] = {}
    try:
        reason = clean_reason(form.get("reason", ""))
    except TextError as exc:
        errors["reason"], reason = text_message(exc), ""
    doc_number = queries.normalize_doc_number(form.get("doc_number", ""))
    name = search_text(form.get("full_name", ""))
    birth = None
    if form.get("birth_date"):
        try:
            birth = date.fromisoformat(form["birth_date"])
        except ValueError:
            errors["birth_date"] = _("Ngày sinh không hợp lệ.")
    if len(reason) < REASON_MIN and "reason" not in errors:
        errors["reason"] = _("Cần nêu lý do tra cứu (ít nhất %(n)s ký tự).", n=REASON_MIN)
    if not doc_number and not (name and birth):
        errors["query"] = _("Nhập số giấy tờ, hoặc họ tên cùng ngày sinh.")
    if errors:
        return render_template("police/search.html", form=form, errors=errors, results=None), 422
    target = f"doc:{doc_number}" if doc_number else f"name:{name}|{birth.isoformat()}"  # type: ignore[union-attr]
    log_people_view(current_user, "search", target[:120], reason=reason)
    results = queries.search_people(j, doc_number=doc_number, name=name, birth_date=birth)
    db.session.commit()
    return render_template("police/search.html", form=form, errors={}, results=results, reason=reason)


@bp.route("/nguoi/<int:person_id>")
@roles(*POLICE)
def person(person_id: int) -> str | tuple[str, int]:
    j = current_jurisdiction()
    found = queries.person_in(j, person_id)
    if found is None:
        abort(404)
    try:
        reason = clean_reason(request.args.get("ly_do", ""))
    except TextError as exc:
        return render_template("police/reason.html", person_id=person_id, reason="", error=text_message(exc)), 422
    if len(reason) < REASON_MIN:
        return render_template("police/reason.html", person_id=person_id, reason=reason, error=None), 200
    stays = queries.stays_of_person(j, found)
    log_people_view(current_user, "person", f"{found.id}:{mask(found.doc_number)}", reason=reason)
    db.session.commit()
    return render_template("police/person.html", person=found, stays=stays, reason=reason, now=utcnow())


@bp.route("/nhat-ky")
@roles(Role.SUPERVISOR)
def access_log() -> str:
    j = current_jurisdiction()
    assert j.province_code is not None
    page = max(1, request.args.get("trang", 1, type=int))
    user_id = request.args.get("can_bo", type=int)
    users = queries.police_users_of_province(j.province_code)
    if user_id is not None and user_id not in {u.id for u in users}:
        abort(404)
    lines = queries.access_log(j.province_code, user_id=user_id, page=page)
    return render_template(
        "police/access_log.html",
        lines=lines[: queries.PAGE_SIZE],
        more=len(lines) > queries.PAGE_SIZE,
        page=page,
        users=users,
        user_id=user_id,
        area=j.name(),
        describe=lambda action, target, reason: logwords.describe(action, target, reason, request_translations()),
    )


# --- watch list and alerts ------------------------------------------------------------------------------------


@bp.route("/theo-doi", methods=["GET", "POST"])
@roles(*POLICE)
def watch_list() -> str | Response | tuple[str, int]:
    j = current_jurisdiction()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        text = request.form.get("numbers", "")
        if upload is not None and upload.filename:
            try:
                text = upload.read(2_000_000).decode("utf-8-sig")
            except UnicodeDecodeError:
                text = ""
                errors["file"] = [_("Tệp phải là CSV mã UTF-8.")]
        try:
            if errors:
                raise ValidationError(errors)
            rows, rejected = services.parse_watch_csv(text)
            result = services.add_watch_entries(
                j, rows, note=request.form.get("note", ""), user=current_user, now=utcnow()
            )
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(_("Đã thêm %(n)s số giấy tờ vào danh sách theo dõi.", n=len(result.added)), "success")
            if result.already:
                flash(_("%(n)s số đã có trong danh sách.", n=result.already), "warning")
            if rejected:
                lines = ", ".join(str(line) for line, _text in rejected[:20])
                flash(_("%(n)s dòng không hợp lệ (dòng %(lines)s).", n=len(rejected), lines=lines), "error")
            return redirect_to(url_for("police.watch_list"))
    entries = queries.watch_entries(j)
    log_people_view(current_user, "watch_list", j.key)
    db.session.commit()
    status = 422 if errors else 200
    return render_template("police/watch.html", entries=entries, errors=errors, form=request.form), status


@bp.route("/theo-doi/<int:entry_id>/ket-thuc", methods=["POST"])
@roles(*POLICE)
def end_watch(entry_id: int) -> Response:
    j = current_jurisdiction()
    entry = queries.watch_entry_in(j, entry_id)
    if entry is None:
        abort(404)
    try:
        services.end_watch_entry(entry, user=current_user, now=utcnow())
        db.session.commit()
        flash(_("Đã kết thúc theo dõi."), "success")
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(m for ms in exc.errors.values() for m in ms), "error")
    return redirect_to(url_for("police.watch_list"))


@bp.route("/canh-bao")
@roles(*POLICE)
def alerts() -> str:
    j = current_jurisdiction()
    include_closed = request.args.get("tat_ca") == "1"
    items = queries.alert_queue(j, include_closed=include_closed)
    log_people_view(current_user, "alerts", j.key)
    db.session.commit()
    return render_template(
        "police/alerts.html",
        alerts=items,
        include_closed=include_closed,
        last_id=max((a.id for a in items), default=0),
        area=j.name(),
    )


@bp.route("/canh-bao/hang-doi")
@roles(*POLICE)
def alert_queue() -> str:
    """The queue, polled every few seconds by the alerts page (htmx). A poll that shows a new alert is logged."""
    j = current_jurisdiction()
    include_closed = request.args.get("tat_ca") == "1"
    items = queries.alert_queue(j, include_closed=include_closed)
    shown = request.args.get("sau", 0, type=int)
    last_id = max((a.id for a in items), default=0)
    if last_id > shown:
        log_people_view(current_user, "alerts", j.key, reason=f"new:{last_id}")
        db.session.commit()
    return render_template("police/_alerts.html", alerts=items, include_closed=include_closed, last_id=last_id)


@bp.route("/canh-bao/<int:alert_id>/<action>", methods=["POST"])
@roles(*POLICE)
def alert_action(alert_id: int, action: str) -> Response | str:
    if action not in services.ALERT_ACTIONS:
        abort(404)
    j = current_jurisdiction()
    alert = queries.alert_in(j, alert_id)
    if alert is None:
        abort(404)
    try:
        services.move_alert(
            alert, services.ALERT_ACTIONS[action], user=current_user, now=utcnow(), note=request.form.get("note", "")
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(m for ms in exc.errors.values() for m in ms), "error")
    return redirect_to(url_for("police.alerts"))


# --- reports --------------------------------------------------------------------------------------------------


@bp.route("/bao-cao", methods=["GET", "POST"])
@roles(*POLICE)
def report_form() -> str | Response | tuple[str, int]:
    j = current_jurisdiction()
    now = utcnow()
    start, end = reports.default_period(now)
    form: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(), "kind": "establishment", "fmt": "pdf"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = dict(request.form)
        params, errors = report_params(j, form)
        if not errors:
            job = services.create_report_job(
                user=current_user, kind=form["kind"], fmt=form["fmt"], params=params, now=now
            )
            reports.queue(job)
            db.session.commit()  # the report goes to a worker (asm/jobs)
            return redirect_to(url_for("police.report_job", job_id=job.id))
    jobs = db.session.scalars(
        select(ReportJob).where(ReportJob.user_id == current_user.id).order_by(ReportJob.id.desc()).limit(20)
    ).all()
    return render_template(
        "police/reports.html",
        form=form,
        errors=errors,
        jobs=jobs,
        establishments=queries.establishments_in(j),
        communes=queries.communes_in(j),
        kinds=services.REPORT_KINDS,
        formats=services.REPORT_FORMATS,
    ), (422 if errors else 200)


def report_params(j: Jurisdiction, form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    kind, fmt = form.get("kind", ""), form.get("fmt", "")
    if kind not in services.REPORT_KINDS or fmt not in services.REPORT_FORMATS:
        errors["kind"] = _("Loại báo cáo không hợp lệ.")
    params: dict[str, Any] = {"locale": current_locale()}
    try:
        start, end = date.fromisoformat(form.get("from", "")), date.fromisoformat(form.get("to", ""))
        if end < start or (end - start).days >= reports.MAX_PERIOD_DAYS or end > local_today() + timedelta(days=1):
            raise ValueError
        params.update({"from": start.isoformat(), "to": end.isoformat()})
    except ValueError:
        errors["period"] = _("Khoảng thời gian không hợp lệ (tối đa 366 ngày).")
    scope = form.get("scope", "establishment" if kind == "establishment" else "commune")
    if kind == "establishment" or scope == "establishment":
        est = establishment_in(j, form.get("establishment", ""))
        if est is None:
            errors["establishment"] = _("Chọn một cơ sở trên địa bàn.")
        else:
            params["establishment"] = est.code
    else:
        commune = commune_in(j, form.get("commune", "") or (j.commune_code or ""))
        if commune is None:
            errors["commune"] = _("Chọn một xã/phường trên địa bàn.")
        else:
            params["commune"] = commune.code
    return params, errors


def job_for(job_id: int) -> ReportJob:
    """A report is its requester's only, and only while the requester keeps the jurisdiction it covers."""
    job = db.session.get(ReportJob, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    j = current_jurisdiction()
    try:
        reports.resolve_scope(j, job.params)
    except reports.ReportError:
        abort(404)
    return job


@bp.route("/bao-cao/<int:job_id>")
@roles(*POLICE)
def report_job(job_id: int) -> str:
    job = job_for(job_id)
    return render("police/job.html", "police/_job.html", job=job, JobState=JobState)


@bp.route("/bao-cao/<int:job_id>/tien-do")
@roles(*POLICE)
def report_progress(job_id: int) -> str:
    job = job_for(job_id)
    return render_template("police/_job.html", job=job, JobState=JobState)


@bp.route("/bao-cao/<int:job_id>/tai-ve")
@roles(*POLICE)
def report_download(job_id: int) -> Response:
    job = job_for(job_id)
    if job.state != JobState.DONE or not job.file_name or not reports.has_file(job.id):
        abort(404)
    p = job.params
    log_people_view(
        current_user, "report", f"{job.kind}:{p.get('establishment') or p.get('commune')}:{p['from']}..{p['to']}"
    )
    db.session.commit()
    # From the database, a chunk at a time: every app server has every report.
    disposition = "inline" if job.fmt == "pdf" else "attachment"
    mimetype = reports.CONTENT_TYPES[job.fmt]
    return Response(
        stream_with_context(reports.file_chunks(job.id)),
        mimetype=mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{reports.download_name(job)}"'},
    )


# --- admin: who polices where ---------------------------------------------------------------------------------


@bp.route("/can-bo", methods=["GET", "POST"])
@roles(Role.ADMIN)
def officers() -> str | Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        user = db.session.get(User, request.form.get("user_id", type=int) or 0)
        if user is None:
            abort(404)
        try:
            services.assign_area(
                user,
                commune_code=request.form.get("commune") or None,
                province_code=request.form.get("province") or None,
            )
            log_account_event(
                "police_area",
                user_id=current_user.id,
                target=user.username,
                reason=user.commune_code or user.province_code,
            )
            db.session.commit()
            flash(_("Đã cập nhật địa bàn của %(name)s.", name=user.full_name), "success")
            return redirect_to(url_for("police.officers"))
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.errors
    users = db.session.scalars(
        select(User).where(User.role.in_((Role.OFFICER, Role.SUPERVISOR))).order_by(User.username)
    ).all()
    provinces = db.session.scalars(select(Province).order_by(Province.name)).all()
    return render_template("police/officers.html", users=users, provinces=provinces, errors=errors), (
        422 if errors else 200
    )
