"""Writes of the stay lifecycle. Each takes plain values and an actor, flushes, and never commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm.clock import local_today, to_local
from asm.common import Actor, ValidationError, free_text
from asm.establishments.models import Establishment, Room
from asm.extensions import db
from asm.people.models import DocType, Person
from asm.people.services import PersonInput, record_person, validate_person
from asm.police.watch import alert_on_filing
from asm.stays.models import OPEN_STATUSES, EventKind, Source, Stay, StayEvent, StayStatus
from asm.stays.rules import notification_deadline, parse_hhmm

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_BACKDATE = timedelta(days=30)
MAX_GROUP = 50
REASON_MAX = 200  # stays.reason
CANCEL_REASON_MAX = 255  # stays.cancel_reason


@dataclass
class CheckInInput:
    guests: list[PersonInput]
    arrived_at: datetime
    reason: str
    room_id: int | None = None
    expected_departure: date | None = None
    file_now: bool = True


@dataclass
class CheckInResult:
    stays: list[Stay]
    warnings: list[str] = field(default_factory=list)


def deadline_for(arrived_at: datetime) -> datetime:
    return notification_deadline(
        arrived_at,
        evening_cutoff=parse_hhmm(current_app.config["NOTIFY_EVENING_CUTOFF"]),
        morning_deadline=parse_hhmm(current_app.config["NOTIFY_MORNING_DEADLINE"]),
    )


def new_receipt_no(now: datetime) -> str:
    bits = int.from_bytes(secrets.token_bytes(5))  # 40 random bits: 8 characters of 5 bits
    suffix = "".join(RECEIPT_ALPHABET[(bits >> shift) & 31] for shift in range(0, 40, 5))
    return f"LT-{to_local(now):%y%m%d}-{suffix}"


def check_in(
    establishment: Establishment,
    data: CheckInInput,
    *,
    actor: Actor,
    now: datetime,
    source: Source = Source.DESK,
) -> CheckInResult:
    """Record the arrival of one person or a group under its first member, and file it unless told not to."""
    errors = ValidationError()
    validate_check_in(data, now, errors)
    room = room_of(establishment, data.room_id, errors) if data.room_id else None
    if errors:
        raise errors

    with db.session.no_autoflush:  # new people are inserted with their stays, in one flush
        people = [record_person(guest) for guest in data.guests]
    open_here, warnings = open_stays_of(establishment, people)
    for i, person in enumerate(people):
        if person.id in open_here:
            errors.add(
                f"guests.{i}.doc_number",
                _l("%(name)s đang lưu trú tại cơ sở này.", name=person.full_name),
                "already_in_house",
            )
    if errors:
        raise errors

    deadline = deadline_for(data.arrived_at)
    stays: list[Stay] = []
    for person in people:
        stay = Stay(
            establishment=establishment,
            person=person,
            room=room,
            head=stays[0] if stays else None,
            status=StayStatus.IN_HOUSE if data.file_now else StayStatus.DRAFT,
            source=source,
            reason=data.reason,
            arrived_at=data.arrived_at,
            expected_departure=data.expected_departure,
            deadline_at=deadline,
            filed_at=now if data.file_now else None,
        )
        db.session.add(stay)
        stays.append(stay)
        kind = EventKind.CHECK_IN if data.file_now else EventKind.DRAFT
        event = record_event(stay, kind, actor=actor, now=now, data=period_of(stay), receipt=data.file_now)
        stay.receipt_no = event.receipt_no
    db.session.flush()
    if data.file_now:
        alert_on_filing(establishment, stays, now=now)  # the police watch list, in the same transaction
    return CheckInResult(stays=stays, warnings=warnings)


def validate_check_in(data: CheckInInput, now: datetime, errors: ValidationError) -> None:
    """The rules of a check-in that need no database: the guests, the reason, the dates. Normalises `data`."""
    today = local_today(now)
    if not data.guests:
        errors.add("guests", _l("Cần ít nhất một người."), "guests_missing")
    if len(data.guests) > MAX_GROUP:
        errors.add("guests", _l("Một lần khai báo tối đa %(n)s người.", n=MAX_GROUP), "group_too_large")
    seen: set[tuple[str, str, str]] = set()
    for i, guest in enumerate(data.guests):
        validate_person(guest, errors, f"guests.{i}.", today)
        key = (guest.doc_type, guest.doc_number, guest.nationality)
        if key in seen:
            errors.add(f"guests.{i}.doc_number", _l("Người này đã có trong danh sách."), "duplicate_guest")
        seen.add(key)
    data.reason = free_text(errors, "reason", data.reason, max_length=REASON_MAX)
    if not data.reason and "reason" not in errors.errors:
        errors.add("reason", _l("Cần nhập lý do lưu trú."), "reason_missing")
    check_arrival(data.arrived_at, now, errors)
    arrival_day = to_local(data.arrived_at).date()
    if data.expected_departure is not None and data.expected_departure < arrival_day:
        errors.add("expected_departure", _l("Ngày dự kiến đi phải từ ngày đến trở đi."), "departure_before_arrival")


def file_draft(stay: Stay, *, actor: Actor, now: datetime) -> StayEvent:
    """File the notification of a stay recorded as a draft. Late if past its deadline."""
    if stay.status != StayStatus.DRAFT:
        raise ValidationError({"stay": [str(_l("Lưu trú này đã được khai báo."))]}, {"stay": "already_filed"})
    if stay.person.doc_type == DocType.NONE:  # a hospital's provisional identity: completed first (asm/hospital)
        raise ValidationError(
            {"stay": [str(_l("Người này chưa có giấy tờ: bổ sung giấy tờ trước khi khai báo."))]},
            {"stay": "identity_incomplete"},
        )
    stay.status = StayStatus.IN_HOUSE
    stay.filed_at = now
    event = record_event(stay, EventKind.FILE, actor=actor, now=now, data=period_of(stay), receipt=True)
    stay.receipt_no = event.receipt_no
    db.session.flush()
    alert_on_filing(stay.establishment, [stay], now=now)  # the police watch list, in the same transaction
    return event


def check_out(stay: Stay, *, at: datetime, actor: Actor, now: datetime) -> StayEvent:
    require_filed_open(stay)
    errors = ValidationError()
    if at < stay.arrived_at:
        errors.add("departed_at", _l("Giờ đi không thể trước giờ đến."), "departure_before_arrival")
    if at > now + FUTURE_TOLERANCE:
        errors.add("departed_at", _l("Giờ đi không thể ở tương lai."), "departure_future")
    if errors:
        raise errors
    stay.status = StayStatus.CHECKED_OUT
    stay.departed_at = at
    event = record_event(stay, EventKind.CHECK_OUT, actor=actor, now=now, data={"departed_at": at.isoformat()})
    db.session.flush()
    return event


def extend(stay: Stay, *, until: date, actor: Actor, now: datetime) -> StayEvent:
    require_filed_open(stay)
    if until < max(local_today(now), to_local(stay.arrived_at).date()):
        raise ValidationError(
            {"expected_departure": [str(_l("Ngày gia hạn phải từ hôm nay trở đi."))]},
            {"expected_departure": "extend_in_past"},
        )
    before = stay.expected_departure
    stay.expected_departure = until
    event = record_event(
        stay,
        EventKind.EXTEND,
        actor=actor,
        now=now,
        data={"from": before.isoformat() if before else None, "to": until.isoformat()},
    )
    db.session.flush()
    return event


def move(stay: Stay, *, room_id: int, actor: Actor, now: datetime) -> StayEvent:
    require_filed_open(stay)
    errors = ValidationError()
    room = room_of(stay.establishment, room_id, errors)
    if room is not None and room.id == stay.room_id:
        errors.add("room_id", _l("Khách đang ở phòng này."), "same_room")
    if errors or room is None:
        raise errors
    before = stay.room.name if stay.room else None
    stay.room = room
    event = record_event(stay, EventKind.MOVE, actor=actor, now=now, data={"from": before, "to": room.name})
    db.session.flush()
    return event


def cancel(stay: Stay, *, reason: str, actor: Actor, now: datetime) -> StayEvent:
    """Withdraw a stay filed or recorded by mistake. The notification stays in the history."""
    if not stay.is_open:
        raise ValidationError({"stay": [str(_l("Chỉ hủy được lưu trú đang mở."))]}, {"stay": "not_open"})
    errors = ValidationError()
    reason = free_text(errors, "reason", reason, max_length=CANCEL_REASON_MAX)
    if errors:
        raise errors
    if not reason:
        raise ValidationError({"reason": [str(_l("Cần nêu lý do hủy."))]}, {"reason": "reason_missing"})
    was_filed = stay.filed_at is not None
    stay.status = StayStatus.CANCELLED
    stay.cancel_reason = reason
    event = record_event(stay, EventKind.CANCEL, actor=actor, now=now, data={"reason": reason}, receipt=was_filed)
    db.session.flush()
    return event


def record_event(
    stay: Stay,
    kind: EventKind,
    *,
    actor: Actor,
    now: datetime,
    data: dict[str, Any] | None = None,
    receipt: bool = True,
) -> StayEvent:
    event = StayEvent(
        stay=stay,
        kind=kind,
        at=now,
        actor=actor.label,
        user_id=actor.user_id,
        token_id=actor.token_id,
        receipt_no=new_receipt_no(now) if receipt else None,
        data=data or {},
    )
    db.session.add(event)
    return event


def check_arrival(arrived_at: datetime, now: datetime, errors: ValidationError) -> None:
    if arrived_at > now + FUTURE_TOLERANCE:
        errors.add("arrived_at", _l("Giờ đến không thể ở tương lai."), "arrival_future")
    elif arrived_at < now - MAX_BACKDATE:
        errors.add("arrived_at", _l("Giờ đến quá 30 ngày trước: hãy đăng ký tạm trú."), "arrival_too_old")


def room_of(establishment: Establishment, room_id: int | None, errors: ValidationError) -> Room | None:
    room = db.session.get(Room, room_id) if room_id else None
    if room is None or room.establishment_id != establishment.id or not room.active:
        errors.add("room_id", _l("Phòng không thuộc cơ sở này."), "room_invalid")
        return None
    return room


def require_filed_open(stay: Stay) -> None:
    if stay.status == StayStatus.DRAFT:
        raise ValidationError(
            {"stay": [str(_l("Lưu trú chưa được khai báo: hãy khai báo trước."))]}, {"stay": "not_filed"}
        )
    if stay.status != StayStatus.IN_HOUSE:
        raise ValidationError({"stay": [str(_l("Khách không còn lưu trú."))]}, {"stay": "not_open"})


def open_stays_of(establishment: Establishment, people: list[Person]) -> tuple[set[int], list[str]]:
    """Who of `people` has an open stay here (refused), and warnings, not errors, for open stays elsewhere.

    One query for the whole group; none when everyone is new (a person created in this transaction has no stays).
    """
    ids = [p.id for p in people if p.id is not None]
    if not ids:
        return set(), []
    rows = db.session.execute(
        select(Stay.person_id, Stay.establishment_id, Person.full_name, Establishment.name)
        .join(Person, Person.id == Stay.person_id)
        .join(Establishment, Establishment.id == Stay.establishment_id)
        .where(Stay.person_id.in_(ids), Stay.status.in_(OPEN_STATUSES))
    ).all()
    here = {row.person_id for row in rows if row.establishment_id == establishment.id}
    warnings = [elsewhere_warning(row.full_name, row.name) for row in rows if row.establishment_id != establishment.id]
    return here, warnings


def elsewhere_warning(name: str, place: str) -> str:
    return str(_l("%(name)s cũng đang lưu trú tại %(place)s.", name=name, place=place))


def period_of(stay: Stay) -> dict[str, Any]:
    return period_data(stay.arrived_at, stay.expected_departure, stay.room.name if stay.room else None)


def period_data(arrived_at: datetime, expected_departure: date | None, room: str | None) -> dict[str, Any]:
    """What a check-in or filing event records of the stay's period."""
    return {
        "arrived_at": arrived_at.isoformat(),
        "expected_departure": expected_departure.isoformat() if expected_departure else None,
        "room": room,
    }
