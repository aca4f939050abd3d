"""Police writes: the watch list, alert transitions, report jobs, and (admin) the binding of police to an area.

Each takes plain values and an explicit user, flushes, and never commits.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm import text as rules
from asm.accounts.models import Role, User
from asm.common import ValidationError, free_text
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.police.jurisdiction import Jurisdiction
from asm.police.models import Alert, AlertState, JobState, ReportJob, WatchEntry
from asm.police.queries import normalize_doc_number

# 12-digit personal ID, 9-digit old CMND, or a passport number (letters and digits).
DOC_NUMBER = re.compile(r"^(\d{9}|\d{12}|[A-Z0-9]{6,20})$")
MAX_UPLOAD_ROWS = 10_000
NOTE_MAX = 255


@dataclass
class UploadResult:
    added: list[WatchEntry] = field(default_factory=list)
    already: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)


def parse_watch_csv(text: str) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """Rows of (ID number, note) from a CSV: first column the number, optional second column a note.

    A first line that is not a number is a header. Separators "," or ";" (Excel in Vietnamese locales uses ";").
    A number repeated in the file keeps its first line. Returns the good rows and the rejected (line, text) pairs.
    """
    text = text.lstrip("\ufeff")
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    good: list[tuple[str, str]] = []
    bad: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if not row or not "".join(row).strip():
            continue
        number = normalize_doc_number(row[0])
        try:
            note = rules.free_text(row[1], max_length=NOTE_MAX) if len(row) > 1 else ""
            clean = not any(rules.first_forbidden(cell) for cell in row)
        except rules.TextError:
            clean = False
        if not clean:
            bad.append((line_no, rules.search_text(row[0])[:40]))
            continue
        if not DOC_NUMBER.match(number):
            if line_no == 1 and not any(ch.isdigit() for ch in number):
                continue  # a header
            bad.append((line_no, row[0][:40]))
            continue
        if number in seen:
            continue  # the first line of a number wins
        seen.add(number)
        good.append((number, note[:NOTE_MAX]))
        if len(good) > MAX_UPLOAD_ROWS:
            raise ValidationError(
                {"file": [str(_l("Tối đa %(n)s dòng mỗi lần tải lên.", n=MAX_UPLOAD_ROWS))]}, {"file": "too_many_rows"}
            )
    return good, bad


def add_watch_entries(
    j: Jurisdiction, rows: list[tuple[str, str]], *, note: str, user: User, now: datetime
) -> UploadResult:
    """Add ID numbers to the watch list of the user's area (commune, or province for a supervisor).

    A number already active in the same area is left as it is. The form's note applies to rows without their own.
    """
    errors = ValidationError()
    note = free_text(errors, "note", note, max_length=NOTE_MAX)
    if errors:
        raise errors
    if not rows:
        raise ValidationError({"file": [str(_l("Tệp không có số giấy tờ hợp lệ nào."))]}, {"file": "empty"})
    if not note and any(not row_note for _, row_note in rows):
        raise ValidationError({"note": [str(_l("Cần ghi chú (lý do theo dõi)."))]}, {"note": "note_missing"})
    province_code = j.province_code or db.session.get(Commune, j.commune_code).province_code  # type: ignore[union-attr]
    existing_query = select(WatchEntry.doc_number).where(
        WatchEntry.active,
        WatchEntry.province_code == province_code,
        WatchEntry.doc_number.in_([number for number, _ in rows]),
    )
    existing_query = existing_query.where(
        WatchEntry.commune_code == j.commune_code if j.commune_code else WatchEntry.commune_code.is_(None)
    )
    existing = set(db.session.scalars(existing_query))
    result = UploadResult()
    for number, row_note in rows:
        if number in existing:
            result.already += 1
            continue
        existing.add(number)
        entry = WatchEntry(
            doc_number=number,
            note=row_note or note,
            province_code=province_code,
            commune_code=j.commune_code,
            active=True,
            created_by_id=user.id,
            created_at=now,
        )
        db.session.add(entry)
        result.added.append(entry)
    db.session.flush()
    return result


def end_watch_entry(entry: WatchEntry, *, user: User, now: datetime) -> None:
    if not entry.active:
        raise ValidationError({"entry": [str(_l("Mục này đã kết thúc theo dõi."))]}, {"entry": "inactive"})
    entry.active = False
    entry.ended_by_id = user.id
    entry.ended_at = now
    db.session.flush()


ALERT_ACTIONS = {"da-xem": AlertState.SEEN, "dong": AlertState.CLOSED}


def move_alert(alert: Alert, target: AlertState, *, user: User, now: datetime, note: str = "") -> None:
    """new → seen → closed (closing a new alert marks it seen at the same time). Never backwards."""
    errors = ValidationError()
    note = free_text(errors, "note", note, max_length=NOTE_MAX)
    if errors:
        raise errors
    order = [AlertState.NEW, AlertState.SEEN, AlertState.CLOSED]
    current = AlertState(alert.state)
    if order.index(target) <= order.index(current):
        raise ValidationError({"state": [str(_l("Cảnh báo đã ở trạng thái này."))]}, {"state": "invalid_transition"})
    if alert.seen_at is None:
        alert.seen_at = now
        alert.seen_by_id = user.id
    if target == AlertState.CLOSED:
        alert.closed_at = now
        alert.closed_by_id = user.id
        alert.close_note = note or None
    alert.state = target
    db.session.flush()


def assign_area(user: User, *, commune_code: str | None = None, province_code: str | None = None) -> User:
    """Bind an officer to a commune or a supervisor to a province (platform admin)."""
    role = Role(user.role)
    if role == Role.OFFICER:
        if not commune_code or db.session.get(Commune, commune_code) is None:
            raise ValidationError({"commune": [str(_l("Xã/phường không có thật."))]}, {"commune": "commune_invalid"})
        user.commune_code, user.province_code = commune_code, None
    elif role == Role.SUPERVISOR:
        if not province_code or db.session.get(Province, province_code) is None:
            raise ValidationError(
                {"province": [str(_l("Tỉnh/thành không có thật."))]}, {"province": "province_invalid"}
            )
        user.province_code, user.commune_code = province_code, None
    else:
        raise ValidationError({"user": [str(_l("Chỉ cán bộ công an có địa bàn."))]}, {"user": "not_police"})
    db.session.flush()
    return user


REPORT_KINDS = ("establishment", "commune", "register")
REPORT_FORMATS = ("pdf", "csv", "xlsx")


def create_report_job(*, user: User, kind: str, fmt: str, params: dict[str, Any], now: datetime) -> ReportJob:
    if kind not in REPORT_KINDS or fmt not in REPORT_FORMATS:
        raise ValidationError({"kind": [str(_l("Loại báo cáo không hợp lệ."))]}, {"kind": "invalid"})
    job = ReportJob(user_id=user.id, kind=kind, fmt=fmt, params=params, state=JobState.QUEUED, created_at=now)
    db.session.add(job)
    db.session.flush()
    return job
