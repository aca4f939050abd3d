"""Deadline reminders (issue 14): at an establishment's reminder times (REMINDER_TIMES, or its own list), an
establishment with guests not yet notified (drafts) or staying past their expected departure is told so, naming
the guests and each one's deadline, by e-mail (its reminder address) and by Web Push (the devices its staff
subscribed on the desk).

The deadline is the one the filing core stored on each stay (`Stay.deadline_at`, asm/filing/core.deadline_for);
nothing here computes a deadline. Once per establishment and slot: the `reminders` row (unique establishment +
slot time) is the claim, inserted in the transaction that enqueues the deliveries; a second worker running the
same minute gets an IntegrityError and sends nothing. Each delivery is a job of its own, retried on its own.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from asm import jobs
from asm.accounts.models import User, memberships
from asm.clock import VN_TZ, fmt_datetime, local_today, to_local, utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.i18n import translations
from asm.jobs.models import PushSubscription, Reminder, ReminderDelivery, State
from asm.mail import valid_address
from asm.people.models import Person
from asm.stays.models import Stay, StayStatus
from asm.trades import trade_words

log = logging.getLogger(__name__)

MAX_NAMED = 30  # guests named in one reminder; more are counted


def parse_times(value: str) -> list[time]:
    """ "21:30,22:30,07:00" -> times; ValueError for anything else."""
    out = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        hour, _, minute = part.partition(":")
        if not (hour.isdigit() and minute.isdigit() and len(minute) == 2):
            raise ValueError(f"not a time: {part!r}")
        out.append(time(int(hour), int(minute)))
    if len(out) > 6:
        raise ValueError("at most 6 reminder times")
    return sorted(set(out))


def times_of(est: Establishment) -> list[time]:
    try:
        return parse_times(est.reminder_times or str(current_app.config["REMINDER_TIMES"]))
    except ValueError:
        return parse_times(str(current_app.config["REMINDER_TIMES"]))


@dataclass(frozen=True)
class Pending:
    name: str
    deadline_at: datetime | None  # a draft's notification deadline; None: past the expected departure
    overdue: bool
    expected_departure: date | None = None
    role: str = "guest"  # a hospital's "patient" or "carer" (asm/hospital)


def pending(est_id: int, now: datetime) -> list[Pending]:
    """What the establishment has to do: drafts (guests not yet notified) by deadline, then stays past their
    expected departure."""
    today = local_today(now)
    rows = db.session.execute(
        select(Person.full_name, Stay.status, Stay.deadline_at, Stay.expected_departure, Stay.role)
        .join(Person, Person.id == Stay.person_id)
        .where(
            Stay.establishment_id == est_id,
            or_(
                Stay.status == StayStatus.DRAFT,
                (Stay.status == StayStatus.IN_HOUSE) & (Stay.expected_departure < today),
            ),
        )
        .order_by(Stay.deadline_at, Stay.id)
    ).all()
    drafts = [
        Pending(r.full_name, r.deadline_at, r.deadline_at < now, role=r.role)
        for r in rows
        if r.status == StayStatus.DRAFT
    ]
    late = [
        Pending(r.full_name, None, True, r.expected_departure, role=r.role)
        for r in rows
        if r.status == StayStatus.IN_HOUSE
    ]
    return drafts + late


def compose(est: Establishment, items: list[Pending], at: datetime, locale: str = "vi") -> tuple[str, str]:
    """The reminder's subject and text, naming the guests and their deadlines in the trade's words (a hospital's
    patients and carers, each named with which they are; its expected discharge)."""
    words = translations(locale)
    _ = words.gettext
    w = trade_words(est.type, words)
    drafts = [p for p in items if p.deadline_at is not None]
    late = [p for p in items if p.deadline_at is None]
    subject = _("Nhắc thông báo lưu trú: %(name)s, %(n)s %(who)s") % {
        "name": est.name,
        "n": len(items),
        "who": w.people,
    }

    def named(p: Pending) -> str:
        if not w.is_hospital:
            return p.name
        role = w.carer if p.role == "carer" else w.guest
        return _("%(name)s (%(role)s)") % {"name": p.name, "role": role.lower()}

    lines = [_("%(name)s, lúc %(time)s:") % {"name": est.name, "time": fmt_datetime(at)}, ""]
    if drafts:
        lines.append(_("Chưa thông báo lưu trú (%(n)s):") % {"n": len(drafts)})
        for p in drafts[:MAX_NAMED]:
            assert p.deadline_at is not None
            values = {"name": named(p), "deadline": fmt_datetime(p.deadline_at)}
            if p.overdue:
                lines.append(_("- %(name)s: quá hạn từ %(deadline)s") % values)
            else:
                lines.append(_("- %(name)s: hạn %(deadline)s") % values)
        if len(drafts) > MAX_NAMED:
            lines.append(_("… và %(n)s người nữa") % {"n": len(drafts) - MAX_NAMED})
        lines.append("")
    if late:
        expected = w.expected_departure.lower()
        lines.append(
            _("Quá ngày %(expected)s, chưa ghi nhận %(what)s (%(n)s):")
            % {"expected": expected, "what": w.check_out.lower(), "n": len(late)}
        )
        for p in late[:MAX_NAMED]:
            lines.append(
                _("- %(name)s: %(expected)s %(day)s")
                % {"name": named(p), "expected": expected, "day": fmt_date_local(p.expected_departure)}
            )
        if len(late) > MAX_NAMED:
            lines.append(_("… và %(n)s người nữa") % {"n": len(late) - MAX_NAMED})
        lines.append("")
    lines.append(_("Phạt khi không thông báo lưu trú: 2–12 triệu đồng (Nghị định 282/2025)."))
    return subject[:200], "\n".join(lines)


def fmt_date_local(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


# --- the scheduled step ---------------------------------------------------------------------------------------


def due_slots(est: Establishment, now: datetime) -> list[datetime]:
    """The establishment's slots (UTC) within the last REMINDER_CATCHUP_MINUTES up to now."""
    catchup = timedelta(minutes=int(current_app.config["REMINDER_CATCHUP_MINUTES"]))
    local = to_local(now)
    out = []
    for day in (local.date() - timedelta(days=1), local.date()):
        for at in times_of(est):
            slot = datetime.combine(day, at, tzinfo=VN_TZ)
            if now - catchup < slot <= now + timedelta(seconds=59):
                out.append(slot)
    return out


def establishments_with_work(now: datetime) -> list[Establishment]:
    today = local_today(now)
    ids = select(Stay.establishment_id).where(
        or_(
            Stay.status == StayStatus.DRAFT,
            (Stay.status == StayStatus.IN_HOUSE) & (Stay.expected_departure < today),
        )
    )
    return list(
        db.session.scalars(select(Establishment).where(Establishment.active.is_(True), Establishment.id.in_(ids)))
    )


def run_due(now: datetime) -> list[Reminder]:
    """The step the scheduler runs every minute: remind every establishment whose slot has come."""
    sent = []
    for est in establishments_with_work(now):
        for slot in due_slots(est, now):
            reminder = remind(est, slot, now)
            if reminder is not None:
                sent.append(reminder)
    return sent


def run_at(at: time, now: datetime) -> list[Reminder]:
    """`flask reminders run --at HH:MM`: the slot at that local time today, for every establishment that has
    it among its times (and work to do), as the scheduler would run it then."""
    slot = datetime.combine(to_local(now).date(), at, tzinfo=VN_TZ)
    return [
        r
        for est in establishments_with_work(now)
        if at in times_of(est)
        for r in [remind(est, slot, now)]
        if r is not None
    ]


def remind(est: Establishment, slot: datetime, now: datetime) -> Reminder | None:
    """Claim (establishment, slot) and enqueue its deliveries, in one transaction. None: nothing to remind of, or
    already claimed (by this or another worker)."""
    items = pending(est.id, now)
    if not items:
        db.session.rollback()
        return None
    subject, body = compose(est, items, slot)
    deadlines = [p.deadline_at for p in items if p.deadline_at is not None]
    reminder = Reminder(
        establishment_id=est.id,
        slot_at=slot,
        deadline_at=min(deadlines) if deadlines else None,
        guests=len(items),
        subject=subject,
        body=body,
        created_at=now,
    )
    try:
        db.session.add(reminder)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    deliveries = []
    if est.reminder_email and valid_address(est.reminder_email):
        deliveries.append(ReminderDelivery(reminder_id=reminder.id, channel="email", target=est.reminder_email))
    subscriptions = db.session.scalars(
        select(PushSubscription)
        .join(memberships, memberships.c.user_id == PushSubscription.user_id)
        .join(User, User.id == PushSubscription.user_id)
        .where(memberships.c.establishment_id == est.id, User.active.is_(True))
        .order_by(PushSubscription.id)
    )
    for sub in subscriptions:
        target = sub.device or sub.user.username
        deliveries.append(
            ReminderDelivery(reminder_id=reminder.id, channel="push", target=target[:254], subscription_id=sub.id)
        )
    db.session.add_all(deliveries)
    db.session.flush()
    for d in deliveries:
        jobs.enqueue("reminder_delivery", {"delivery_id": d.id}, key=f"reminder_delivery:{d.id}")
    try:
        db.session.commit()
    except IntegrityError:  # the other worker's claim committed between our flush and commit
        db.session.rollback()
        return None
    return reminder


# --- delivering -----------------------------------------------------------------------------------------------


@jobs.handler("reminder_delivery", max_attempts=6)
def deliver(job: jobs.Job) -> None:
    from asm import mail
    from asm.jobs import push

    d = db.session.get(ReminderDelivery, int(job.args["delivery_id"]))
    if d is None or d.state != State.QUEUED:
        return
    r = d.reminder
    if d.channel == "email":
        try:
            mail.send(d.target, r.subject, r.body)
        except ValueError as exc:
            raise jobs.JobFailed("not an e-mail address") from exc
        d.state, d.sent_at = State.DONE, utcnow()
        return
    sub = db.session.get(PushSubscription, d.subscription_id) if d.subscription_id else None
    if sub is None:
        d.state, d.error = State.FAILED, "unsubscribed"
        return
    payload = json.dumps(
        {"title": r.subject, "body": r.body[:1800], "url": "/", "tag": f"reminder-{r.establishment_id}"},
        ensure_ascii=False,
    )
    if push.send(sub, payload):
        d.state, d.sent_at = State.DONE, utcnow()
    else:  # the push service says the subscription is gone: forget the device
        d.state, d.error, d.subscription_id = State.FAILED, "subscription gone", None
        db.session.delete(sub)


@jobs.on_failure("reminder_delivery")
def delivery_failed(job: jobs.Job, error: str) -> None:
    d = db.session.get(ReminderDelivery, int(job.args["delivery_id"]))
    if d is not None and d.state == State.QUEUED:
        d.state, d.error = State.FAILED, error[:255]
