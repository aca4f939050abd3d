"""Compliance reports from the database: the data of the PDF builders, the CSV and XLSX exports of the same tables,
and the job (asm/jobs) that writes them on a worker and stores them in the database while the page polls.

Rows are read `CHUNK` at a time, ordered by arrival then id: on PostgreSQL from one server-side cursor, on SQLite
in keyset chunks, each its own short query (there a long read would block the job's progress writes). Either way
a report of any size holds one chunk in memory.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from asm import jobs
from asm.accounts.models import Role, User
from asm.clock import local_today, utcnow
from asm.establishments.models import TYPE_LABELS, Establishment, EstablishmentType, Room
from asm.exports import PROGRESS_EVERY, Sheet, write_csv, write_xlsx
from asm.extensions import db
from asm.foreigners.models import ForeignStay
from asm.geo.models import Commune, Province
from asm.i18n import Translator, translations
from asm.jobs.models import ReportChunk
from asm.people.models import SEX_LABELS, Person
from asm.police import pdf
from asm.police.fines import Bracket, brackets_from_setting, exposure, foreign_fine_settings
from asm.police.jurisdiction import (
    Jurisdiction,
    commune_in,
    establishment_in,
    jurisdiction_of,
    scope_establishments,
)
from asm.police.models import JobState, ReportJob
from asm.police.queries import PERIOD_DAYS, late_condition, local_date, local_midnight
from asm.stays.models import Stay, StayStatus
from asm.trades import trade_words

CHUNK = 2000
MAX_PERIOD_DAYS = 366
# send_file adds "; charset=utf-8" to text/* types itself (the CSV is written in UTF-8, with a BOM for Excel)
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportError(Exception):
    """The report cannot be made (out of the jurisdiction, bad period): the job fails with this message."""


# --- scope and period ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a report covers: one establishment, or every establishment of one commune, within a jurisdiction."""

    jurisdiction: Jurisdiction
    establishment: Establishment | None = None
    commune: Commune | None = None

    def establishment_ids(self) -> Any:
        if self.establishment is not None:
            return select(Establishment.id).where(Establishment.id == self.establishment.id)
        assert self.commune is not None
        query = select(Establishment.id).where(Establishment.commune_code == self.commune.code)
        return scope_establishments(query, self.jurisdiction)  # the jurisdiction filter, once more

    @property
    def name(self) -> str:
        if self.establishment is not None:
            return f"{self.establishment.name} ({self.establishment.code})"
        assert self.commune is not None
        return self.commune.full_name

    @property
    def slug(self) -> str:
        return self.establishment.code if self.establishment is not None else self.commune.code  # type: ignore[union-attr]


def resolve_scope(j: Jurisdiction, params: dict[str, Any]) -> Scope:
    if params.get("establishment"):
        est = establishment_in(j, str(params["establishment"]))
        if est is None:
            raise ReportError("establishment outside the jurisdiction")
        return Scope(j, establishment=est)
    commune = commune_in(j, str(params.get("commune") or j.commune_code or ""))
    if commune is None:
        raise ReportError("commune outside the jurisdiction")
    return Scope(j, commune=commune)


def period_of(params: dict[str, Any]) -> tuple[date, date]:
    try:
        start, end = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError("invalid period") from exc
    if end < start or (end - start).days >= MAX_PERIOD_DAYS:
        raise ReportError("invalid period")
    return start, end


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return local_midnight(start), local_midnight(end + timedelta(days=1))


def in_period(scope: Scope, start: date, end: date) -> Any:
    lo, hi = bounds(start, end)
    return and_(
        Stay.establishment_id.in_(scope.establishment_ids()),
        Stay.arrived_at >= lo,
        Stay.arrived_at < hi,
        Stay.status != StayStatus.CANCELLED,
    )


# --- compliance ---------------------------------------------------------------------------------------------


def missing_condition(now: datetime) -> Any:
    return and_(Stay.filed_at.is_(None), Stay.deadline_at < now)


def compliance_by_establishment(
    scope: Scope, start: date, end: date, *, now: datetime, brackets: tuple[Bracket, ...], factor: int
) -> dict[int, pdf.Compliance]:
    """The compliance figures of every establishment of the scope (those without stays get zeros)."""
    where = in_period(scope, start, end)
    counts = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(
                Stay.establishment_id,
                func.count().filter(Stay.filed_at <= Stay.deadline_at),
                func.count().filter(late_condition()),
                func.count().filter(missing_condition(now)),
                func.count().filter(Stay.filed_at.is_(None), Stay.deadline_at >= now),
            )
            .where(where)
            .group_by(Stay.establishment_id)
        )
    }
    _, hi = bounds(start, end)
    today = local_today(now)
    checkouts = dict(
        db.session.execute(
            select(Stay.establishment_id, func.count())
            .where(
                Stay.establishment_id.in_(scope.establishment_ids()),
                Stay.status == StayStatus.IN_HOUSE,
                Stay.expected_departure < today,
                Stay.arrived_at < hi,
            )
            .group_by(Stay.establishment_id)
        ).all()
    )
    # One violation per notification (group) with its late or missing guests.
    group = func.coalesce(Stay.head_id, Stay.id)
    sizes: dict[int, list[int]] = defaultdict(list)
    for est_id, size in db.session.execute(
        select(Stay.establishment_id, func.count())
        .where(where, or_(late_condition(), missing_condition(now)))
        .group_by(Stay.establishment_id, group)
    ):
        sizes[est_id].append(size)
    foreign = foreign_compliance(scope, start, end, now=now)
    result = {}
    for est_id in db.session.scalars(scope.establishment_ids()):
        on_time, late, missing, pending = counts.get(est_id, (0, 0, 0, 0))
        result[est_id] = pdf.Compliance(
            foreign=foreign.get(est_id) or foreign[None],
            due=on_time + late + missing,
            on_time=on_time,
            late=late,
            missing=missing,
            pending=pending,
            missing_checkouts=checkouts.get(est_id, 0),
            exposure=exposure(sizes.get(est_id, []), brackets, factor=factor),
        )
    return result


def foreign_compliance(
    scope: Scope, start: date, end: date, *, now: datetime
) -> dict[int | None, pdf.ForeignCompliance]:
    """Foreigners' temporary-residence declarations of the stays of the period, by establishment (key None: an
    establishment without any), with their own fine exposure (asm/police/fines.py, FOREIGN_* settings)."""
    config = current_app.config
    brackets, basis, confirmed = foreign_fine_settings(
        config.get("FOREIGN_FINE_BRACKETS"), config.get("FOREIGN_FINE_LEGAL_BASIS")
    )
    factor = int(config.get("POLICE_FINE_ORGANISATION_FACTOR", 2))
    where = in_period(scope, start, end)
    on_time = ForeignStay.declared_at <= ForeignStay.deadline_at
    late = ForeignStay.declared_at > ForeignStay.deadline_at
    missing = and_(ForeignStay.declared_at.is_(None), ForeignStay.deadline_at < now)
    pending = and_(ForeignStay.declared_at.is_(None), ForeignStay.deadline_at >= now)
    counts = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(
                Stay.establishment_id,
                func.count().filter(on_time),
                func.count().filter(late),
                func.count().filter(missing),
                func.count().filter(pending),
            )
            .join(ForeignStay, ForeignStay.stay_id == Stay.id)
            .where(where)
            .group_by(Stay.establishment_id)
        )
    }
    sizes: dict[int, list[int]] = defaultdict(list)
    group = func.coalesce(Stay.head_id, Stay.id)
    for est_id, size in db.session.execute(
        select(Stay.establishment_id, func.count())
        .join(ForeignStay, ForeignStay.stay_id == Stay.id)
        .where(where, or_(late, missing))
        .group_by(Stay.establishment_id, group)
    ):
        sizes[est_id].append(size)

    def line(values: tuple[int, ...], violations: list[int]) -> pdf.ForeignCompliance:
        ok, lt, ms, pd = values
        return pdf.ForeignCompliance(
            due=ok + lt + ms,
            on_time=ok,
            late=lt,
            missing=ms,
            pending=pd,
            exposure=exposure(violations, brackets, factor=factor),
            brackets=brackets,
            legal_basis=basis,
            confirmed=confirmed,
        )

    out: dict[int | None, pdf.ForeignCompliance] = {
        est_id: line(tuple(values), sizes.get(est_id, [])) for est_id, values in counts.items()
    }
    out[None] = line((0, 0, 0, 0), [])
    return out


def fine_settings() -> tuple[tuple[Bracket, ...], int]:
    config = current_app.config
    return brackets_from_setting(config.get("POLICE_FINE_BRACKETS")), int(
        config.get("POLICE_FINE_ORGANISATION_FACTOR", 2)
    )


def header_for(
    user: User, j: Jurisdiction, start: date, end: date, *, now: datetime, doc_no: str, translations: Translator
) -> pdf.ReportHeader:
    _ = translations.gettext
    if j.commune_code is not None:
        commune = db.session.get(Commune, j.commune_code)
        assert commune is not None
        province = commune.province
        lines = [_("Công an %(unit)s") % {"unit": province.name}, _("Công an %(unit)s") % {"unit": commune.name}]
    else:
        found = db.session.get(Province, j.province_code)
        assert found is not None
        province = found
        lines = [_("Bộ Công an"), _("Công an %(unit)s") % {"unit": province.name}]
    place = province.name.removeprefix("Thành phố ").removeprefix("Tỉnh ")
    return pdf.ReportHeader(
        unit_lines=lines,
        place=place,
        generated_at=now,
        period_from=start,
        period_to=end,
        author=user.full_name,
        doc_no=doc_no,
    )


def type_label(value: str, translations: Translator) -> str:
    return translations.gettext(TYPE_LABELS[EstablishmentType(value)])


def establishment_report_data(
    scope: Scope, start: date, end: date, header: pdf.ReportHeader, *, now: datetime, translations: Translator
) -> pdf.EstablishmentReportData:
    est = scope.establishment
    assert est is not None
    brackets, factor = fine_settings()
    compliance = compliance_by_establishment(scope, start, end, now=now, brackets=brackets, factor=factor)[est.id]
    late_rows = [
        pdf.LateRow(r.full_name, r.doc_number, r.arrived_at, r.deadline_at, r.filed_at)
        for r in db.session.execute(
            select(Person.full_name, Person.doc_number, Stay.arrived_at, Stay.deadline_at, Stay.filed_at)
            .join(Person, Person.id == Stay.person_id)
            .where(in_period(scope, start, end), or_(late_condition(), missing_condition(now)))
            .order_by(Stay.arrived_at, Stay.id)
        )
    ]
    _, hi = bounds(start, end)
    checkouts = [
        pdf.CheckoutRow(r.full_name, r.doc_number, r.arrived_at, r.expected_departure, r.room)
        for r in db.session.execute(
            select(
                Person.full_name, Person.doc_number, Stay.arrived_at, Stay.expected_departure, Room.name.label("room")
            )
            .join(Person, Person.id == Stay.person_id)
            .outerjoin(Room, Room.id == Stay.room_id)
            .where(
                Stay.establishment_id == est.id,
                Stay.status == StayStatus.IN_HOUSE,
                Stay.expected_departure < local_today(now),
                Stay.arrived_at < hi,
            )
            .order_by(Stay.arrived_at, Stay.id)
        )
    ]
    return pdf.EstablishmentReportData(
        header=header,
        establishment_name=est.name,
        establishment_code=est.code,
        establishment_type=type_label(est.type, translations),
        establishment_address=est.address,
        commune_name=est.commune.full_name,
        compliance=compliance,
        late=late_rows,
        checkouts=checkouts,
        brackets=brackets,
        trade_type=est.type,
    )


def commune_report_data(
    scope: Scope, start: date, end: date, header: pdf.ReportHeader, *, now: datetime, translations: Translator
) -> pdf.CommuneReportData:
    brackets, factor = fine_settings()
    by_est = compliance_by_establishment(scope, start, end, now=now, brackets=brackets, factor=factor)
    ests = list(
        db.session.scalars(
            select(Establishment).where(Establishment.id.in_(scope.establishment_ids())).order_by(Establishment.name)
        )
    )
    lines = [pdf.EstablishmentLine(e.code, e.name, type_label(e.type, translations), by_est[e.id]) for e in ests]
    day = local_date(Stay.arrived_at)
    per_day = {
        (d if isinstance(d, date) else date.fromisoformat(str(d))): n
        for d, n in db.session.execute(select(day, func.count()).where(in_period(scope, start, end)).group_by(day))
    }
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    silent = [line.name for line in lines if line.compliance.due + line.compliance.pending == 0]
    return pdf.CommuneReportData(
        header=header,
        area_name=scope.name,
        establishments=lines,
        daily_arrivals=[(d, per_day.get(d, 0)) for d in days],
        brackets=brackets,
        silent=silent,
    )


# --- rows read in chunks --------------------------------------------------------------------------------------


def count_stays(scope: Scope, start: date, end: date) -> int:
    return db.session.scalar(select(func.count()).select_from(Stay).where(in_period(scope, start, end))) or 0


def stay_rows(scope: Scope, start: date, end: date, *, chunk: int | None = None) -> Iterator[Any]:
    """Every stay of the period with its person, establishment and room, by arrival, read `chunk` at a time."""
    chunk = chunk or CHUNK
    room = aliased(Room)
    columns = (
        Stay.id,
        Stay.arrived_at,
        Stay.departed_at,
        Stay.filed_at,
        Stay.deadline_at,
        Stay.status,
        Stay.expected_departure,
        Stay.reason,
        Person.full_name,
        Person.birth_date,
        Person.sex,
        Person.nationality,
        Person.doc_number,
        Establishment.name.label("establishment"),
        room.name.label("room"),
    )
    base = (
        select(*columns)
        .join(Person, Person.id == Stay.person_id)
        .join(Establishment, Establishment.id == Stay.establishment_id)
        .outerjoin(room, room.id == Stay.room_id)
        .where(in_period(scope, start, end))
        .order_by(Stay.arrived_at, Stay.id)
        .limit(chunk)
    )
    if db.engine.dialect.name == "postgresql":
        # One pass on a server-side cursor of its own connection (the job's progress commits go through the
        # session's): PostgreSQL sends `chunk` rows at a time.
        with db.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(base.limit(None))
            yield from result
        return
    # SQLite: keyset chunks, each its own short read, so the job's progress writes never wait on a reader.
    last: tuple[datetime, int] | None = None
    while True:
        query = base
        if last is not None:
            query = query.where(or_(Stay.arrived_at > last[0], and_(Stay.arrived_at == last[0], Stay.id > last[1])))
        rows = db.session.execute(query).all()
        db.session.rollback()  # end the read transaction between chunks
        yield from rows
        if len(rows) < chunk:
            return
        last = (rows[-1].arrived_at, rows[-1].id)


def register_row(r: Any) -> pdf.RegisterRow:
    return pdf.RegisterRow(
        full_name=r.full_name,
        birth_date=r.birth_date,
        sex=r.sex or "",
        nationality=r.nationality,
        doc_number=r.doc_number,
        establishment=r.establishment,
        room=r.room,
        arrived_at=r.arrived_at,
        departed_at=r.departed_at,
        filed_at=r.filed_at,
        reason=r.reason,
    )


# --- CSV and XLSX ---------------------------------------------------------------------------------------------


def table_heads(translations: Translator, establishment_type: str | None = None) -> dict[str, list[str]]:
    """The column heads of the CSV and XLSX tables, from the catalogue, in the words of the establishment's trade
    (asm/trades.py; a table of several establishments: words that suit all)."""
    _, pgettext = translations.gettext, translations.pgettext
    w, every = trade_words(establishment_type, translations), trade_words(None, translations)
    return {
        "register": [_("STT"), _("Họ và tên"), _("Ngày sinh"), _("Giới tính"), _("Quốc tịch"), _("Số giấy tờ"),
                     pgettext("report", "Cơ sở"), w.place, w.arrived_at, w.departed_at,
                     _("Thời gian thông báo"), _("Lý do")],
        "notifications": [_("STT"), _("Họ và tên"), _("Số giấy tờ"), w.arrived_at, _("Hạn thông báo"),
                          _("Thời gian thông báo"), _("Tình trạng"), _("Trễ (phút)"), w.departed_at,
                          w.not_checked_out],
        "establishments": [_("STT"), _("Mã cơ sở"), pgettext("report", "Cơ sở"), _("Loại hình"), _("Phải thông báo"),
                           _("Đúng hạn"), _("Trễ hạn"), _("Không thông báo"), _("Chưa đến hạn"),
                           _("Tỷ lệ đúng hạn (%)"), every.not_checked_out, _("Số vi phạm"),
                           _("Phạt tối thiểu (cá nhân, đồng)"), _("Phạt tối đa (cá nhân, đồng)"),
                           _("NNN phải khai báo tạm trú"), _("NNN khai báo đúng hạn"), _("NNN khai báo trễ"),
                           _("NNN không khai báo"), _("NNN số vi phạm"), _("NNN phạt tối thiểu (cá nhân, đồng)"),
                           _("NNN phạt tối đa (cá nhân, đồng)")],
    }  # fmt: skip


def sheet_titles(translations: Translator) -> dict[str, str]:
    _ = translations.gettext
    return {"register": _("Sổ lưu trú"), "notifications": _("Thông báo"), "establishments": _("Theo cơ sở")}


def state_words(translations: Translator) -> dict[str, str]:
    _ = translations.gettext
    return {
        "on_time": _("Đúng hạn"),
        "late": _("Trễ hạn"),
        "missing": _("Không thông báo"),
        "pending": _("Chưa đến hạn"),
        "yes": _("Có"),
        "no": _("Không"),
    }


def _dt(value: datetime | None) -> str:
    return pdf.format_datetime(value) if value else ""


def register_table(rows: Iterator[Any], translations: Translator) -> Iterator[list[Any]]:
    sexes = {sex: translations.gettext(word) for sex, word in SEX_LABELS.items()}
    for i, r in enumerate(rows, start=1):
        yield [
            i,
            r.full_name,
            pdf.format_date(r.birth_date) if r.birth_date else "",
            sexes.get(r.sex or "", ""),
            r.nationality,
            r.doc_number,
            r.establishment,
            r.room or "",
            _dt(r.arrived_at),
            _dt(r.departed_at),
            _dt(r.filed_at),
            r.reason,
        ]


def notifications_table(rows: Iterator[Any], translations: Translator, now: datetime) -> Iterator[list[Any]]:
    states = state_words(translations)
    yes, no = states["yes"], states["no"]
    today = local_today(now)
    delay: int | str
    for i, r in enumerate(rows, start=1):
        if r.filed_at is None:
            state, delay = ("missing" if r.deadline_at < now else "pending"), ""
        else:
            late = r.filed_at > r.deadline_at
            state = "late" if late else "on_time"
            delay = pdf.delay_minutes(r.deadline_at, r.filed_at) if late else 0
        no_checkout = (
            r.status == StayStatus.IN_HOUSE and r.expected_departure is not None and r.expected_departure < today
        )
        yield [
            i,
            r.full_name,
            r.doc_number,
            _dt(r.arrived_at),
            _dt(r.deadline_at),
            _dt(r.filed_at),
            states[state],
            delay,
            _dt(r.departed_at),
            yes if no_checkout else no,
        ]


def establishments_table(data: pdf.CommuneReportData) -> Iterator[list[Any]]:
    for i, line in enumerate(data.establishments, start=1):
        c = line.compliance
        share = c.on_time_share
        yield [
            i,
            line.code,
            line.name,
            line.type_label,
            c.due,
            c.on_time,
            c.late,
            c.missing,
            c.pending,
            round(share * 100, 1) if share is not None else "",
            c.missing_checkouts,
            c.exposure.violations,
            c.exposure.min_vnd,
            c.exposure.max_vnd,
            *foreign_cells(c.foreign),
        ]


def foreign_cells(f: pdf.ForeignCompliance | None) -> list[Any]:
    """The foreigners' declaration columns of a row (the commune table): a separate duty and fine line."""
    if f is None:
        return [0, 0, 0, 0, 0, 0, 0]
    return [f.due, f.on_time, f.late, f.missing, f.exposure.violations, f.exposure.min_vnd, f.exposure.max_vnd]


# --- jobs -----------------------------------------------------------------------------------------------------
# A report is a job of the queue (asm/jobs): written by a worker to a temporary file, then stored in the database
# in CHUNK_BYTES pieces (police_report_chunks) in the transaction that marks it done, so any app server serves it
# and a worker killed midway leaves nothing behind. The files are deleted REPORT_FILE_HOURS after they were made
# (the hourly `purge_report_files` job): they hold personal data.

CHUNK_BYTES = 1_000_000


def download_name(job: ReportJob) -> str:
    p = job.params
    slug = p.get("establishment") or p.get("commune") or "bao-cao"
    prefix = {"establishment": "bao-cao-co-so", "commune": "bao-cao-dia-ban", "register": "so-luu-tru"}[job.kind]
    return f"{prefix}-{slug}-{p.get('from')}_{p.get('to')}.{job.fmt}"


def queue(job: ReportJob) -> None:
    """Hand the report to a worker once the caller's transaction commits."""
    jobs.enqueue("police_report", {"report_id": job.id}, key=f"police_report:{job.id}")


@jobs.handler("police_report", max_attempts=3)
def run_report(ledger: jobs.Job) -> None:
    """Write the report and store it; the runner commits the file with the ledger's `done`. A report that cannot
    be made (ReportError) is done too: its answer is the error shown to the officer."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app
    job_id = int(ledger.args["report_id"])
    job = db.session.get(ReportJob, job_id)
    if job is None or job.state == JobState.DONE:
        return
    job.state, job.done, job.error = JobState.RUNNING, 0, None
    db.session.commit()
    with tempfile.TemporaryDirectory(prefix="asm-report-") as tmp:
        path = Path(tmp) / f"report.{job.fmt}"
        try:
            generate(app, job, path)
        except ReportError as exc:
            db.session.rollback()
            job = db.session.get(ReportJob, job_id)
            assert job is not None
            job.state, job.error, job.finished_at = JobState.FAILED, str(exc)[:255], utcnow()
            return
        job = db.session.get(ReportJob, job_id)
        assert job is not None
        db.session.execute(delete(ReportChunk).where(ReportChunk.job_id == job_id))
        with path.open("rb") as data:
            for seq, piece in enumerate(iter(lambda: data.read(CHUNK_BYTES), b"")):
                db.session.add(ReportChunk(job_id=job_id, seq=seq, data=piece))
    job.state, job.file_name, job.finished_at = JobState.DONE, download_name(job), utcnow()
    job.done = max(job.done, job.total)


@jobs.on_failure("police_report")
def report_failed(ledger: jobs.Job, error: str) -> None:
    job = db.session.get(ReportJob, int(ledger.args["report_id"]))
    if job is not None and job.state != JobState.DONE:
        job.state, job.error, job.finished_at = JobState.FAILED, error[:255], utcnow()


def file_chunks(job_id: int) -> Iterator[bytes]:
    """The stored file, one chunk per query (a report of any size holds one chunk in memory)."""
    seq = 0
    while True:
        piece = db.session.scalar(select(ReportChunk.data).where(ReportChunk.job_id == job_id, ReportChunk.seq == seq))
        if piece is None:
            return
        yield bytes(piece)
        seq += 1


def has_file(job_id: int) -> bool:
    return db.session.scalar(select(ReportChunk.seq).where(ReportChunk.job_id == job_id).limit(1)) is not None


@jobs.handler("purge_report_files")
def purge_report_files(_ledger: jobs.Job) -> None:
    """Delete the files of reports made more than REPORT_FILE_HOURS ago (the report's row stays, without file)."""
    hours = float(current_app.config["REPORT_FILE_HOURS"])
    cutoff = utcnow() - timedelta(hours=hours)
    old = select(ReportJob.id).where(ReportJob.finished_at < cutoff, ReportJob.file_name.is_not(None))
    ids = list(db.session.scalars(old.limit(1000)))
    if ids:
        db.session.execute(delete(ReportChunk).where(ReportChunk.job_id.in_(ids)))
        db.session.execute(update(ReportJob).where(ReportJob.id.in_(ids)).values(file_name=None))
    jobs.renew()


def generate(app: Flask, job: ReportJob, path: Path) -> None:
    """Write the job's file to `path`. Re-checks the jurisdiction of the user who asked."""
    user = db.session.get(User, job.user_id)
    j = jurisdiction_of(user) if user is not None and Role(user.role).is_police else None
    if user is None or j is None:
        raise ReportError("not a police user")
    params, kind, fmt = dict(job.params), job.kind, job.fmt
    words = translations(params.get("locale", "vi"))  # the language of the page that asked for the report
    scope = resolve_scope(j, params)
    if kind == "establishment" and scope.establishment is None:
        raise ReportError("an establishment report needs an establishment")
    start, end = period_of(params)
    now = utcnow()
    job_id = job.id
    total = count_stays(scope, start, end)
    job.total = max(total, 1)
    db.session.commit()

    def progress(n: int) -> None:
        db.session.execute(ReportJob.__table__.update().where(ReportJob.id == job_id).values(done=n))
        jobs.renew()  # still alive: the lease runs on
        db.session.commit()

    header = header_for(user, j, start, end, now=now, doc_no=f"{job_id}/BC-LT", translations=words)
    trade = scope.establishment.type if scope.establishment is not None else None
    heads, titles = table_heads(words, trade), sheet_titles(words)
    if kind == "register" and fmt == "pdf":
        with path.open("wb") as out:
            pdf.write_register_pdf(
                out,
                header,
                scope.name,
                (register_row(r) for r in stay_rows(scope, start, end)),
                total=total,
                translations=words,
                establishment_type=trade,
                on_progress=progress,
                progress_every=PROGRESS_EVERY,
            )
    elif kind == "register":
        rows = register_table(stay_rows(scope, start, end), words)
        _write_table(path, fmt, [(titles["register"], heads["register"], rows)], progress)
    elif kind == "establishment" and fmt == "pdf":
        data = establishment_report_data(scope, start, end, header, now=now, translations=words)
        path.write_bytes(pdf.build_establishment_report_pdf(data, translations=words))
    elif kind == "establishment":
        rows = notifications_table(stay_rows(scope, start, end), words, now)
        _write_table(path, fmt, [(titles["notifications"], heads["notifications"], rows)], progress)
    elif kind == "commune":
        commune_data = commune_report_data(scope, start, end, header, now=now, translations=words)
        if fmt == "pdf":
            path.write_bytes(pdf.build_commune_report_pdf(commune_data, translations=words))
        else:
            table = establishments_table(commune_data)
            _write_table(path, fmt, [(titles["establishments"], heads["establishments"], table)], progress)
    else:
        raise ReportError("unknown report")


def _write_table(path: Path, fmt: str, sheets: list[Sheet], progress: Callable[[int], None]) -> None:
    """CSV or XLSX through asm.exports, which neutralises every cell (no formula, whatever the rows hold)."""
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM lets Excel read UTF-8
            for _title, head, rows in sheets:
                write_csv(out, head, rows, progress)
    else:
        write_xlsx(path, sheets, progress)


def default_period(now: datetime) -> tuple[date, date]:
    today = local_today(now)
    return today - timedelta(days=PERIOD_DAYS - 1), today
