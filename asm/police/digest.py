"""The police morning digest (issue 14): at POLICE_DIGEST_AT (07:30 Vietnam time) each ward's police users who
opted in (their account page) get one e-mail listing the ward's overdue notifications: each establishment with
guests still not notified past their deadline, and how many; no guest is named (the officer opens the ward's
pages for that, which logs the look).

The scheduler enqueues `police_digest` once a day (its key is the day); that job enqueues one `police_digest_ward`
per ward with an opted-in officer (key: ward and day), which queues the e-mails in its own transaction: a ward's
digest is sent once a day however many workers run the schedule. A ward with nothing overdue gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from asm import jobs
from asm.accounts.models import Role, User
from asm.clock import fmt_datetime, local_today, utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune
from asm.i18n import translations
from asm.police.queries import overdue_condition
from asm.stays.models import Stay


@dataclass(frozen=True)
class Overdue:
    establishment: str
    code: str
    count: int
    since: datetime  # the oldest deadline passed


def readers() -> Any:
    """The police users a digest goes to: active, opted in, with an e-mail address and a ward."""
    return select(User).where(
        User.role.in_([str(Role.OFFICER), str(Role.SUPERVISOR)]),
        User.active.is_(True),
        User.police_digest.is_(True),
        User.email.is_not(None),
        User.commune_code.is_not(None),
    )


def overdue(commune: str, now: datetime) -> list[Overdue]:
    rows = db.session.execute(
        select(Establishment.name, Establishment.code, func.count(Stay.id), func.min(Stay.deadline_at))
        .join(Stay, Stay.establishment_id == Establishment.id)
        .where(Establishment.commune_code == commune, overdue_condition(now))
        .group_by(Establishment.id, Establishment.name, Establishment.code)
        .order_by(func.count(Stay.id).desc(), Establishment.name)
    ).all()
    return [Overdue(name, code, int(n), since) for name, code, n, since in rows]


def compose(ward: str, items: list[Overdue], day: date, locale: str = "vi") -> tuple[str, str]:
    _ = translations(locale).gettext
    total = sum(i.count for i in items)
    subject = _("Bản tin sáng %(day)s: %(ward)s, %(n)s lượt lưu trú quá hạn chưa thông báo") % {
        "day": day.strftime("%d/%m/%Y"),
        "ward": ward,
        "n": total,
    }
    lines = [_("Các cơ sở còn lưu trú quá hạn chưa thông báo, sáng %(day)s:") % {"day": day.strftime("%d/%m/%Y")}, ""]
    for item in items:
        lines.append(
            _("- %(name)s (%(code)s): %(n)s, quá hạn từ %(since)s")
            % {"name": item.establishment, "code": item.code, "n": item.count, "since": fmt_datetime(item.since)}
        )
    lines += ["", _("Xem danh sách từng người trên trang của xã/phường (mỗi lần xem được ghi nhật ký).")]
    return subject[:200], "\n".join(lines)


def schedule(now: datetime | None = None) -> jobs.Job:
    """The scheduler's step at POLICE_DIGEST_AT: today's digest job (enqueued once whatever calls it)."""
    day = local_today(now or utcnow())
    return jobs.enqueue("police_digest", {"day": day.isoformat()}, key=f"police_digest:{day.isoformat()}")


@jobs.handler("police_digest", max_attempts=3)
def fan_out(job: jobs.Job) -> None:
    day = str(job.args["day"])
    wards = sorted(set(db.session.scalars(readers().with_only_columns(User.commune_code))))
    for ward in wards:
        jobs.enqueue("police_digest_ward", {"commune": ward, "day": day}, key=f"police_digest:{ward}:{day}")


@jobs.handler("police_digest_ward", max_attempts=3)
def send_ward(job: jobs.Job) -> None:
    commune, day = str(job.args["commune"]), date.fromisoformat(str(job.args["day"]))
    items = overdue(commune, utcnow())
    if not items:
        return
    ward = db.session.get(Commune, commune)
    name = ward.name if ward is not None else commune
    subject, text = compose(name, items, day)
    for user in db.session.scalars(readers().where(User.commune_code == commune).order_by(User.id)):
        jobs.enqueue_mail(str(user.email), subject, text)
