"""The filing core: the rules of every write to a stay, for every channel. Flush-free: it only plans.

A `Filing` is one unit of work at one establishment, by one actor, at one moment. A channel (desk page, kiosk,
API, hospital events, hospital desk, CLI, demo) turns its input into calls on it (`arrive`, `file`,
`check_out`, `extend`, `move`, `cancel`, and the hospital's bed rows through `link`), then calls `write()` once.
Every rule lives here or in the pure modules it calls (asm/stays/rules.py: deadline, state, long stays;
asm/people/services.validate_person: a person's fields); the writers (asm/filing/writer.py, asm/filing/sql.py)
only write what the plan says, and the police watch list is matched by the writer for every stay the plan files.

What the rules need to know of the database (who is already in house here or elsewhere, a person's stored row,
a room) is read by `Knowledge` in one query per kind for a whole batch (`prefetch`), and kept up to date in
memory as the plan grows, so a batch of a thousand hospital events reads it once. With `optimistic=True` (the
PostgreSQL one-statement path) nothing is read: the statement itself checks the room, looks for open stays and
inserts or updates the person, and refuses (nothing written) anything but the plain success.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm import text as rules
from asm.clock import aware, local_today, to_local
from asm.common import Actor, ValidationError, free_text
from asm.establishments.models import Establishment, Room, Status
from asm.extensions import db
from asm.filing.plan import (
    PERSON_ALWAYS,
    PERSON_OPTIONAL,
    EventRow,
    Key,
    LinkedRow,
    PersonRow,
    Plan,
    StayRow,
    Warning,
)
from asm.foreigners.labels import VISA_TYPES
from asm.geo.models import Commune
from asm.people.models import DocType, Person
from asm.people.services import ForeignInput, PersonInput, validate_person
from asm.stays.models import LATE_OUTAGE, OPEN_STATUSES, EventKind, Stay, StayStatus
from asm.stays.rules import (
    declaration_state,
    foreign_declaration_deadline,
    is_long_stay,
    notification_deadline,
    parse_hhmm,
)

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_BACKDATE = timedelta(days=30)
MAX_GROUP = 50
REASON_MAX = 200  # stays.reason
CANCEL_REASON_MAX = 255  # stays.cancel_reason
ROOM_MAX = 40  # rooms.name
NATIONALITY = re.compile(r"[A-Z]{3}")
UNKNOWN_NAME = "Chưa rõ danh tính"  # the name of a provisional identity whose name is not known either
VISA_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9/.-]{0,29}")
FOREIGN_TEXT_LIMITS = {"entry_port": 80, "entry_purpose": 100}
DECLARATION_REF_MAX = 60


@dataclass
class CheckInInput:
    """An arrival as every channel states it: one person or a group filed under its first member."""

    guests: list[PersonInput]
    arrived_at: datetime
    reason: str
    room_id: int | None = None
    expected_departure: date | None = None
    file_now: bool = True
    room_name: str | None = None  # the API names rooms; the pages pick them by id
    # A device kept this filing while the server was out of reach (docs/OFFLINE.md): a filing that arrives past
    # its deadline is marked as late because of the outage, and its history says when it was kept.
    waited_offline: bool = False


@dataclass(frozen=True)
class Place:
    """The establishment a filing is for: what the rules and the writers need of it."""

    id: int
    commune_code: str
    name: str = ""
    status: str = Status.APPROVED  # the police's decision on the establishment (issue 16): only approved files
    status_reason: str | None = None

    @classmethod
    def of(cls, establishment: Establishment | Place) -> Place:
        if isinstance(establishment, Place):
            return establishment
        return cls(
            id=establishment.id,
            commune_code=establishment.commune_code,
            name=establishment.name,
            status=establishment.status,
            status_reason=establishment.status_reason,
        )


# An establishment the police have not approved (or have rejected or suspended) files nothing, on every channel:
# the refusal is here, where every channel's filing starts (issue 16).
CLOSED_MESSAGES = {
    Status.PENDING: _l("Cơ sở đang chờ Công an xã/phường duyệt đăng ký: chưa khai báo lưu trú được."),
    Status.CHANGES_REQUESTED: _l("Công an xã/phường yêu cầu bổ sung hồ sơ đăng ký: %(reason)s"),
    Status.REJECTED: _l("Đăng ký cơ sở bị Công an xã/phường từ chối: %(reason)s"),
    Status.SUSPENDED: _l("Cơ sở bị Công an xã/phường tạm dừng: %(reason)s"),
}


def check_open(place: Place) -> None:
    """Raise the ValidationError (field `establishment`, code `establishment_<status>`) of an establishment that may
    not file, with the police's reason."""
    if place.status == Status.APPROVED:
        return
    status = Status(place.status)
    message = CLOSED_MESSAGES[status]
    text = str(message) if status == Status.PENDING else str(message % {"reason": place.status_reason or "—"})
    raise ValidationError({"establishment": [text]}, {"establishment": f"establishment_{status.value}"})


# --- pure pieces of the rules -------------------------------------------------------------------------------


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


def late_reason(data: CheckInInput, now: datetime, deadline: datetime) -> str | None:
    """Why a filing comes past its deadline, where known: the device kept it while the server was away."""
    return LATE_OUTAGE if data.waited_offline and data.file_now and now > deadline else None


def check_arrival(arrived_at: datetime, now: datetime, errors: ValidationError, field_name: str = "arrived_at") -> None:
    if arrived_at > now + FUTURE_TOLERANCE:
        errors.add(field_name, _l("Giờ đến không thể ở tương lai."), "arrival_future")
    elif arrived_at < now - MAX_BACKDATE:
        errors.add(field_name, _l("Giờ đến quá 30 ngày trước: hãy đăng ký tạm trú."), "arrival_too_old")


def validate_check_in(
    data: CheckInInput, now: datetime, errors: ValidationError, *, provisional_ok: bool = False
) -> None:
    """The rules of an arrival that need no database: the guests, the reason, the dates. Normalises `data`.
    `provisional_ok`: a hospital may admit a patient with no document yet (kept as a draft)."""
    today = local_today(now)
    if not data.guests:
        errors.add("guests", _l("Cần ít nhất một người."), "guests_missing")
    if len(data.guests) > MAX_GROUP:
        errors.add("guests", _l("Một lần khai báo tối đa %(n)s người.", n=MAX_GROUP), "group_too_large")
    seen: set[Key] = set()
    for i, guest in enumerate(data.guests):
        if guest.doc_type == DocType.NONE and provisional_ok:
            validate_provisional(guest, errors, f"guests.{i}.", today, filing=data.file_now)
        else:
            validate_person(guest, errors, f"guests.{i}.", today)
        validate_foreign(guest, errors, f"guests.{i}.foreign.", to_local(data.arrived_at).date())
        key = key_of(guest)
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


def validate_provisional(
    guest: PersonInput, errors: ValidationError, prefix: str, today: date, *, filing: bool
) -> None:
    """A person with no document yet (a hospital's patient: a child, an unconscious patient): kept as a draft,
    filed once the document is known. The caller gives the name (or a placeholder) and the provisional number."""
    try:  # a name typed in is written as the card would; the placeholder stays as it is
        guest.full_name = rules.person_name(guest.full_name, title=guest.full_name != UNKNOWN_NAME)
    except rules.TextError as exc:
        errors.refuse(prefix + "full_name", exc)
    if filing:
        errors.add(
            prefix + "doc_number",
            _l("Người này chưa có giấy tờ: bổ sung giấy tờ trước khi khai báo."),
            "identity_incomplete",
        )
    if guest.birth_date is None:
        errors.add(prefix + "birth_date", _l("Cần ngày sinh (ước tính cũng được)."), "birth_date_missing")
    elif guest.birth_date > today:
        errors.add(prefix + "birth_date", _l("Ngày sinh không thể ở tương lai."), "birth_date_future")
    if guest.sex not in (None, "", "M", "F"):
        errors.add(prefix + "sex", _l("Giới tính phải là Nam hoặc Nữ."), "sex_invalid")
    guest.sex = guest.sex or None
    guest.nationality = (guest.nationality or "VNM").strip().upper()
    if not NATIONALITY.fullmatch(guest.nationality):
        errors.add(prefix + "nationality", _l("Quốc tịch là mã 3 chữ cái, ví dụ VNM."), "nationality_invalid")


def validate_foreign(guest: PersonInput, errors: ValidationError, prefix: str, arrival_day: date) -> None:
    """A foreign national's stay details (all optional at check-in; NA17 needs the entry ones). Normalises them;
    a citizen's (nationality VNM) are dropped: the foreigners' channel is for foreigners only."""
    if (guest.nationality or "VNM") == "VNM" or guest.doc_type == DocType.NONE:
        guest.foreign = None
        return
    details = guest.foreign = guest.foreign or ForeignInput()
    check_foreign(details, errors, prefix, arrival_day)


def check_foreign(details: ForeignInput, errors: ValidationError, prefix: str, arrival_day: date) -> None:
    details.visa_type = (details.visa_type or "").strip().lower() or None
    if details.visa_type is not None and details.visa_type not in VISA_TYPES:
        errors.add(prefix + "visa_type", _l("Loại thị thực hoặc thẻ cư trú không hợp lệ."), "visa_type_invalid")
    details.visa_number = "".join((details.visa_number or "").split()).upper() or None
    if details.visa_number is not None and not VISA_NUMBER.fullmatch(details.visa_number):
        errors.add(
            prefix + "visa_number",
            _l("Số thị thực/thẻ gồm tối đa 30 chữ cái không dấu, chữ số, dấu / . -"),
            "visa_number_invalid",
        )
    for name, limit in FOREIGN_TEXT_LIMITS.items():
        value = " ".join((getattr(details, name) or "").split()) or None
        setattr(details, name, value)
        if value is not None and len(value) > limit:
            errors.add(prefix + name, _l("Tối đa %(n)s ký tự.", n=limit), "too_long")
    if details.entry_date is not None and details.entry_date > arrival_day:
        errors.add(prefix + "entry_date", _l("Ngày nhập cảnh không thể sau ngày đến."), "entry_after_arrival")


def foreign_values(details: ForeignInput) -> dict[str, Any]:
    return {
        "passport_expiry": details.passport_expiry,
        "visa_type": details.visa_type,
        "visa_number": details.visa_number,
        "entry_date": details.entry_date,
        "entry_port": details.entry_port,
        "entry_purpose": details.entry_purpose,
    }


def foreign_missing_warning(name: str) -> str:
    return str(
        _l(
            "%(name)s là người nước ngoài: còn thiếu ngày nhập cảnh, cửa khẩu hoặc mục đích nhập cảnh cho phiếu khai "
            "báo tạm trú (NA17). Bổ sung ở trang lưu trú.",
            name=name,
        )
    )


def passport_expired_warning(name: str, expiry: date) -> str:
    return str(_l("Hộ chiếu của %(name)s đã hết hạn ngày %(d)s.", name=name, d=expiry.strftime("%d/%m/%Y")))


def key_of(person: PersonInput) -> Key:
    return (person.doc_type, person.doc_number, person.nationality)


def elsewhere_warning(name: str, place: str) -> str:
    return str(_l("%(name)s cũng đang lưu trú tại %(place)s.", name=name, place=place))


def long_stay_warning(name: str) -> str:
    return str(_l("%(name)s dự kiến ở từ 30 ngày trở lên: cần đăng ký tạm trú.", name=name))


def period_data(arrived_at: datetime, expected_departure: date | None, room: str | None) -> dict[str, Any]:
    """What a check-in or filing event records of the stay's period."""
    return {
        "arrived_at": arrived_at.isoformat(),
        "expected_departure": expected_departure.isoformat() if expected_departure else None,
        "room": room,
    }


def person_values(guest: PersonInput) -> dict[str, Any]:
    """The columns a confirmed identity sets: the name, birth date and sex always, the rest only when given."""
    values: dict[str, Any] = {"full_name": guest.full_name, "birth_date": guest.birth_date, "sex": guest.sex}
    for name in PERSON_OPTIONAL:
        value = getattr(guest, name)
        if value:
            values[name] = value
    return values


# --- what the rules know of the database --------------------------------------------------------------------

PERSON_COLUMNS = (
    Person.id,
    Person.doc_type,
    Person.doc_number,
    Person.nationality,
    *(getattr(Person, name) for name in PERSON_ALWAYS + PERSON_OPTIONAL),
)


@dataclass
class OpenStay:
    stay_id: int
    establishment_id: int
    establishment_name: str


@dataclass
class Knowledge:
    """What one filing has read of the database, and what its own plan has changed since."""

    place: Place
    people: dict[Key, PersonRow] = field(default_factory=dict)
    looked_up: set[Key] = field(default_factory=set)
    open_stays: dict[int, list[OpenStay]] = field(default_factory=dict)  # person id -> open stays anywhere
    open_here: set[Key] = field(default_factory=set)  # people with an open stay here (read, then planned)

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Read the people with these documents, and their open stays, in two queries."""
        wanted = {k for k in keys if k not in self.looked_up}
        if not wanted:
            return
        self.looked_up |= wanted
        numbers = sorted({k[1] for k in wanted})
        found: dict[int, Key] = {}
        for chunk in chunks(numbers, 500):
            for row in db.session.execute(select(*PERSON_COLUMNS).where(Person.doc_number.in_(chunk))):
                key = (row.doc_type, row.doc_number, row.nationality)
                if key not in wanted or key in self.people:
                    continue
                values = {name: getattr(row, name) for name in PERSON_ALWAYS + PERSON_OPTIONAL}
                self.people[key] = PersonRow(key=key, values=values, id=row.id)
                found[row.id] = key
        for chunk in chunks(sorted(found), 500):
            query = (
                select(Stay.id, Stay.person_id, Stay.establishment_id, Establishment.name)
                .join(Establishment, Establishment.id == Stay.establishment_id)
                .where(Stay.person_id.in_(chunk), Stay.status.in_(OPEN_STATUSES))
                .order_by(Stay.id)
            )
            for row in db.session.execute(query):
                self.open_stays.setdefault(row.person_id, []).append(OpenStay(row.id, row.establishment_id, row.name))
                if row.establishment_id == self.place.id:
                    self.open_here.add(found[row.person_id])


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the unit of work ---------------------------------------------------------------------------------------


class Filing:
    """One unit of work: rules applied in memory to a plan, written once by `write()`."""

    def __init__(
        self,
        establishment: Establishment | Place,
        *,
        actor: Actor,
        now: datetime,
        source: str,
        optimistic: bool = False,
    ) -> None:
        self.place = Place.of(establishment)
        check_open(self.place)  # rejected, suspended or not yet approved: nothing at all
        self.actor = actor
        self.now = now
        self.source = source
        self.optimistic = optimistic
        self.plan = Plan(establishment_id=self.place.id, commune_code=self.place.commune_code, now=now)
        self.known = Knowledge(self.place)
        self.orm_stays: dict[int, Stay] = {}  # ORM objects the plan changes: refreshed after the write
        self._remote: bool | None = None

    # -- people

    def prefetch(self, guests: Iterable[PersonInput]) -> None:
        if not self.optimistic:
            self.known.prefetch(key_of(g) for g in guests)

    def person(self, guest: PersonInput) -> PersonRow:
        """The plan's row for this (validated) person: new, brought up to date, or kept as it is."""
        key = key_of(guest)
        values = person_values(guest)
        if self.optimistic:  # the statement inserts or updates (the same columns, see asm/filing/sql.py)
            row = PersonRow(key=key, values=values)
            self.plan.people.append(row)
            return row
        self.known.prefetch([key])
        known = self.known.people.get(key)
        if known is None:
            row = PersonRow(key=key, values=dict.fromkeys(PERSON_OPTIONAL) | values, new=True)
            self.known.people[key] = row
            self.plan.people.append(row)
            return row
        row = known
        changes = {name: value for name, value in values.items() if row.values.get(name) != value}
        if changes:
            row.values.update(changes)
            if not row.new:
                if not row.changes:
                    self.plan.people.append(row)
                row.changes.update(changes)
        return row

    # -- arrivals

    def arrive(
        self,
        data: CheckInInput,
        *,
        role: str = "guest",
        event_data: dict[str, Any] | None = None,
        room: tuple[int, str] | None = None,
    ) -> list[StayRow]:
        """Record the arrival of one person or a group under its first member, filed now unless told not to.

        Raises ValidationError (nothing planned) for bad input, an unknown room or a guest already in house here.
        `room`: (id, name) of a room the channel has already checked (a hospital's bed is in one).
        """
        errors = ValidationError()
        validate_check_in(data, self.now, errors, provisional_ok=role == "patient")
        room_id, room_name = room if room is not None else self.room(data, errors)
        if errors:
            raise errors
        self.prefetch(data.guests)
        people = [self.person(g) for g in data.guests]
        foreign = {id(p): g.foreign for g, p in zip(data.guests, people, strict=True) if g.foreign is not None}
        for i, person in enumerate(people):
            if person.key in self.known.open_here:
                errors.add(
                    f"guests.{i}.doc_number",
                    _l("%(name)s đang lưu trú tại cơ sở này.", name=person.full_name),
                    "already_in_house",
                )
        if errors:
            raise errors

        deadline = deadline_for(data.arrived_at)
        stays: list[StayRow] = []
        for person in people:
            self.known.open_here.add(person.key)
            for other in self.known.open_stays.get(person.id or 0, []):
                if other.establishment_id != self.place.id:
                    self.warn("in_house_elsewhere", elsewhere_warning(person.full_name, other.establishment_name))
            if is_long_stay(
                data.arrived_at,
                until=data.arrived_at,
                expected_departure=data.expected_departure,
                limit_days=current_app.config["LONG_STAY_DAYS"],
            ):
                self.warn("long_stay", long_stay_warning(person.full_name))
            stay = StayRow(
                establishment_id=self.place.id,
                person=person,
                person_id=person.id,
                room_id=room_id,
                room_name=room_name,
                head=stays[0] if stays else None,
                status=StayStatus.IN_HOUSE if data.file_now else StayStatus.DRAFT,
                source=self.source,
                reason=data.reason,
                arrived_at=data.arrived_at,
                expected_departure=data.expected_departure,
                deadline_at=deadline,
                filed_at=self.now if data.file_now else None,
                created_at=self.now,
                role=role,
                filed_late_reason=late_reason(data, self.now, deadline),
                new=True,
                person_name=person.full_name,
                numbers=person.numbers,
                provisional=person.key[0] == DocType.NONE,
                key=person.key,
            )
            self.plan.stays.append(stay)
            stays.append(stay)
            kind = EventKind.CHECK_IN if data.file_now else EventKind.DRAFT
            period = period_data(data.arrived_at, data.expected_departure, room_name)
            details = foreign.get(id(person))
            if details is not None:
                self.plan_foreign(stay, details)
                period["declaration_deadline"] = stay.declaration_deadline_at.isoformat()  # type: ignore[union-attr]
            if data.waited_offline:
                period["waited_offline"] = True
            event = self.record(stay, kind, period | (event_data or {}), receipt=data.file_now)
            stay.receipt_no = event.receipt_no
            if data.file_now:
                self.plan.filed.append(stay)
        return stays

    # -- the foreigners' channel

    def remote(self) -> bool:
        """The establishment's commune is marked remote (declarations due in 24 h). Read once, when needed; the
        one-statement path reads nothing (it declines foreign guests: asm/filing/sql.py)."""
        if self._remote is None:
            self._remote = not self.optimistic and bool(
                db.session.scalar(select(Commune.remote).where(Commune.code == self.place.commune_code))
            )
        return self._remote

    def plan_foreign(self, stay: StayRow, details: ForeignInput) -> LinkedRow:
        """A foreign national's stay: its details and the temporary-residence declaration's deadline (Law 47/2014
        Art. 33(2): 12 h after arrival, 24 h in a remote commune; both hours are settings)."""
        config = current_app.config
        remote = self.remote()
        hours = int(config["FOREIGN_DECLARATION_REMOTE_HOURS" if remote else "FOREIGN_DECLARATION_HOURS"])
        deadline = foreign_declaration_deadline(stay.arrived_at, hours=hours, remote_hours=hours, remote=remote)
        stay.declaration_deadline_at = deadline
        values = foreign_values(details) | {
            "deadline_hours": hours,
            "deadline_at": deadline,
            "declared_at": None,
            "declaration_ref": None,
        }
        if not (details.entry_date and details.entry_port and details.entry_purpose):
            self.warn("foreign_details_missing", foreign_missing_warning(stay.person_name))
        if details.passport_expiry is not None and details.passport_expiry < to_local(stay.arrived_at).date():
            self.warn("passport_expired", passport_expired_warning(stay.person_name, details.passport_expiry))
        return self.link("foreign_stays", values, stay_id=stay)

    def declare(self, stay: StayRow, foreign: Any, *, reference: str, at: datetime | None = None) -> EventRow:
        """Mark a foreign guest's temporary-residence declaration made (on the immigration portal, or form NA17
        handed in), with its reference number and time: late if past its deadline. `foreign`: the stay's
        `ForeignStay` (id, deadline_at, declared_at)."""
        errors = ValidationError()
        if stay.status == StayStatus.CANCELLED:
            raise ValidationError({"stay": [str(_l("Lưu trú này đã bị hủy."))]}, {"stay": "cancelled"})
        if foreign.declared_at is not None:
            raise ValidationError(
                {"stay": [str(_l("Đã khai báo tạm trú cho người này."))]}, {"stay": "already_declared"}
            )
        reference = free_text(errors, "reference", reference, max_length=DECLARATION_REF_MAX)
        if not reference and "reference" not in errors.errors:
            errors.add("reference", _l("Cần số tham chiếu (mã hồ sơ) của lần khai báo."), "reference_missing")
        at = at or self.now
        if at > self.now + FUTURE_TOLERANCE:
            errors.add("declared_at", _l("Giờ khai báo không thể ở tương lai."), "declared_future")
        elif at < stay.arrived_at:
            errors.add("declared_at", _l("Giờ khai báo không thể trước giờ đến."), "declared_before_arrival")
        if errors:
            raise errors
        self.update("foreign_stays", foreign.id, {"declared_at": at, "declaration_ref": reference})
        deadline = aware(foreign.deadline_at)
        data = {
            "reference": reference,
            "declared_at": at.isoformat(),
            "deadline_at": deadline.isoformat(),
            "state": str(declaration_state(deadline, at, self.now)),
        }
        return self.record(stay, EventKind.DECLARE, data, receipt=False)

    def update_foreign(self, stay: StayRow, foreign: Any, details: ForeignInput) -> EventRow | None:
        """Complete or correct a foreign guest's entry and visa details (the check-in may not have had them).
        None when nothing changed."""
        errors = ValidationError()
        check_foreign(details, errors, "", to_local(stay.arrived_at).date())
        if errors:
            raise errors
        values = foreign_values(details)
        changes = {name: value for name, value in values.items() if getattr(foreign, name) != value}
        if not changes:
            return None
        self.update("foreign_stays", foreign.id, changes)
        shown = {name: value.isoformat() if isinstance(value, date) else value for name, value in changes.items()}
        return self.record(stay, EventKind.FOREIGN, shown, receipt=False)

    def room(self, data: CheckInInput, errors: ValidationError) -> tuple[int | None, str | None]:
        """The room asked for, by id (pages) or name (API): an active room of this establishment."""
        if data.room_id is None and not data.room_name:
            return None, None
        if data.room_id is None:  # a typed name reaches a query: it is text first (no control characters)
            data.room_name = free_text(errors, "room", data.room_name, max_length=ROOM_MAX)
            if "room" in errors.errors:
                return None, None
        if self.optimistic:  # the statement checks it
            return None, data.room_name
        query = select(Room.id, Room.name).where(Room.establishment_id == self.place.id, Room.active)
        if data.room_id is not None:
            query = query.where(Room.id == data.room_id)
        else:
            query = query.where(Room.name == data.room_name)
        row = db.session.execute(query).first()
        if row is None:
            errors.add(
                "room" if data.room_id is None else "room_id", _l("Phòng không thuộc cơ sở này."), "room_invalid"
            )
            return None, None
        return row.id, row.name

    # -- the lifecycle of a stay already planned or stored

    def existing(self, stay: Stay) -> StayRow:
        """The plan's view of a stored stay (an ORM object), refreshed from the database after the write."""
        self.orm_stays[stay.id] = stay
        person = stay.person
        row = StayRow(
            id=stay.id,
            establishment_id=stay.establishment_id,
            person_id=stay.person_id,
            status=stay.status,
            source=stay.source,
            reason=stay.reason,
            arrived_at=aware(stay.arrived_at),
            deadline_at=aware(stay.deadline_at),
            role=stay.role,
            room_id=stay.room_id,
            room_name=stay.room.name if stay.room is not None else None,
            head_id=stay.head_id,
            expected_departure=stay.expected_departure,
            departed_at=aware(stay.departed_at) if stay.departed_at else None,
            filed_at=aware(stay.filed_at) if stay.filed_at else None,
            receipt_no=stay.receipt_no,
            cancel_reason=stay.cancel_reason,
            person_name=person.full_name,
            numbers=[n.upper() for n in (person.doc_number, person.old_id_number) if n],
            provisional=person.doc_type == DocType.NONE,
            key=(person.doc_type, person.doc_number, person.nationality),
        )
        return row

    def identify(self, stay: StayRow, guest: PersonInput, *, prefix: str = "patient.") -> PersonRow:
        """A stay recorded with no document (a hospital's provisional patient) takes the person now identified."""
        if not stay.provisional or stay.status != StayStatus.DRAFT:
            raise ValidationError({"stay": [str(_l("Người bệnh này đã có giấy tờ."))]}, {"stay": "identity_complete"})
        errors = ValidationError()
        validate_person(guest, errors, prefix, local_today(self.now))
        validate_foreign(guest, errors, prefix + "foreign.", to_local(stay.arrived_at).date())
        if errors:
            raise errors
        self.prefetch([guest])
        person = self.person(guest)
        if person.key in self.known.open_here:
            raise ValidationError(
                {prefix + "doc_number": [str(_l("%(name)s đang lưu trú tại cơ sở này.", name=person.full_name))]},
                {prefix + "doc_number": "already_in_house"},
            )
        self.touch(stay)
        stay.set(person_id=person.id)  # the writer takes the id of a person it inserts
        stay.person, stay.key, stay.numbers, stay.provisional = person, person.key, person.numbers, False
        stay.person_name = person.full_name
        self.known.open_here.add(person.key)
        if guest.foreign is not None:  # identified as a foreign national: the declaration is due from the arrival
            self.plan_foreign(stay, guest.foreign)
        return person

    def file(self, stay: StayRow) -> EventRow:
        """File the notification of a stay recorded as a draft. Late if past its deadline."""
        if stay.status != StayStatus.DRAFT:
            raise ValidationError({"stay": [str(_l("Lưu trú này đã được khai báo."))]}, {"stay": "already_filed"})
        if stay.provisional:  # a hospital's patient with no document yet: completed first (asm/hospital)
            raise ValidationError(
                {"stay": [str(_l("Người này chưa có giấy tờ: bổ sung giấy tờ trước khi khai báo."))]},
                {"stay": "identity_incomplete"},
            )
        self.touch(stay)
        stay.set(status=StayStatus.IN_HOUSE, filed_at=self.now)
        event = self.record(stay, EventKind.FILE, period_data(stay.arrived_at, stay.expected_departure, stay.room_name))
        stay.set(receipt_no=event.receipt_no)
        self.plan.filed.append(stay)
        return event

    def check_out(
        self, stay: StayRow, *, at: datetime, field_name: str = "departed_at", waited_offline: bool = False
    ) -> EventRow:
        require_filed_open(stay)
        errors = ValidationError()
        if at < stay.arrived_at:
            errors.add(field_name, _l("Giờ đi không thể trước giờ đến."), "departure_before_arrival")
        if at > self.now + FUTURE_TOLERANCE:
            errors.add(field_name, _l("Giờ đi không thể ở tương lai."), "departure_future")
        if errors:
            raise errors
        self.touch(stay)
        stay.set(status=StayStatus.CHECKED_OUT, departed_at=at)
        self.closed(stay)
        data: dict[str, Any] = {"departed_at": at.isoformat()}
        if waited_offline:  # kept on a device while the server was away (docs/OFFLINE.md)
            data["waited_offline"] = True
        return self.record(stay, EventKind.CHECK_OUT, data)

    def extend(self, stay: StayRow, *, until: date) -> EventRow:
        require_filed_open(stay)
        if until < max(local_today(self.now), to_local(stay.arrived_at).date()):
            raise ValidationError(
                {"expected_departure": [str(_l("Ngày gia hạn phải từ hôm nay trở đi."))]},
                {"expected_departure": "extend_in_past"},
            )
        before = stay.expected_departure
        self.touch(stay)
        stay.set(expected_departure=until)
        data = {"from": before.isoformat() if before else None, "to": until.isoformat()}
        return self.record(stay, EventKind.EXTEND, data)

    def move(self, stay: StayRow, *, room_id: int | None = None, room_name: str | None = None) -> EventRow:
        """Another room of this establishment, by id (pages) or name (API). (A hospital moves patients between
        beds: asm/hospital/filing.py.)"""
        require_filed_open(stay)
        errors = ValidationError()
        wanted = CheckInInput(guests=[], arrived_at=self.now, reason="", room_id=room_id, room_name=room_name)
        if room_id is None and not room_name:
            errors.add("room", _l("Phòng không thuộc cơ sở này."), "room_invalid")
        new_id, new_name = self.room(wanted, errors)
        if new_id is not None and new_id == stay.room_id:
            errors.add("room_id", _l("Khách đang ở phòng này."), "same_room")
        if errors:
            raise errors
        before = stay.room_name
        self.touch(stay)
        stay.set(room_id=new_id, room_name=new_name)
        return self.record(stay, EventKind.MOVE, {"from": before, "to": new_name})

    def cancel(self, stay: StayRow, *, reason: str) -> EventRow:
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
        self.touch(stay)
        stay.set(status=StayStatus.CANCELLED, cancel_reason=reason)
        self.closed(stay)
        return self.record(stay, EventKind.CANCEL, {"reason": reason}, receipt=was_filed)

    def reopen(self, stay: StayRow, *, reason: str) -> EventRow:
        """Withdraw a check-out recorded by mistake (hospital software cancels a discharge): the stay is in house
        again, notified with its own receipt. Refused when the person has another open stay here since."""
        if stay.status != StayStatus.CHECKED_OUT:
            raise ValidationError(
                {"stay": [str(_l("Chỉ mở lại được lưu trú đã trả phòng."))]}, {"stay": "not_checked_out"}
            )
        if stay.key is not None:
            self.known.prefetch([stay.key])
            if stay.key in self.known.open_here:
                raise ValidationError(
                    {"stay": [str(_l("%(name)s đang lưu trú tại cơ sở này.", name=stay.person_name))]},
                    {"stay": "already_in_house"},
                )
            self.known.open_here.add(stay.key)
        before = stay.departed_at
        self.touch(stay)
        stay.set(status=StayStatus.IN_HOUSE, departed_at=None)
        data = {"reason": " ".join(reason.split()), "departed_at": before.isoformat() if before else None}
        return self.record(stay, EventKind.REOPEN, data)

    # -- small steps, also for the channels' own rows (asm/hospital)

    def record(self, stay: StayRow, kind: str, data: dict[str, Any], *, receipt: bool = True) -> EventRow:
        """A line of the stay's history; with a receipt number when it notifies the police."""
        event = EventRow(
            stay=stay,
            kind=kind,
            at=self.now,
            actor=self.actor.label,
            user_id=self.actor.user_id,
            token_id=self.actor.token_id,
            receipt_no=new_receipt_no(self.now) if receipt else None,
            data=data,
        )
        self.plan.events.append(event)
        return event

    def link(self, table: str, values: dict[str, Any], **refs: StayRow) -> LinkedRow:
        """Another table's row tied to stays of the plan (inserted after them)."""
        row = LinkedRow(table=table, values=values, refs=refs)
        self.plan.linked.append(row)
        return row

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> LinkedRow:
        row = LinkedRow(table=table, values=values, id=row_id)
        self.plan.linked.append(row)
        return row

    def warn(self, code: str, message: str) -> None:
        self.plan.warnings.append(Warning(code, message))

    def touch(self, stay: StayRow) -> None:
        """A stored stay takes part in the plan (once)."""
        if not stay.new and stay not in self.plan.stays:
            self.plan.stays.append(stay)

    def closed(self, stay: StayRow) -> None:
        if stay.key is not None:
            self.known.open_here.discard(stay.key)

    # -- writing

    def write(self) -> Plan:
        """Write the plan with the set-based writer (every channel; both databases). Flushes, never commits."""
        from asm.filing.writer import write

        write(self.plan, orm_stays=self.orm_stays)
        return self.plan


def require_filed_open(stay: StayRow) -> None:
    if stay.status == StayStatus.DRAFT:
        raise ValidationError(
            {"stay": [str(_l("Lưu trú chưa được khai báo: hãy khai báo trước."))]}, {"stay": "not_filed"}
        )
    if stay.status != StayStatus.IN_HOUSE:
        raise ValidationError({"stay": [str(_l("Khách không còn lưu trú."))]}, {"stay": "not_open"})
