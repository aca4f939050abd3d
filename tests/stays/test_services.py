"""The stay lifecycle through asm.stays.services, with an explicit clock and actor (as views, CLI and API call it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from asm.accounts.models import Role, User
from asm.common import Actor, ValidationError
from asm.establishments.models import Establishment, Room
from asm.extensions import db
from asm.people.models import Person
from asm.people.services import PersonInput
from asm.stays import services
from asm.stays.models import EventKind, Source, Stay, StayEvent, StayStatus
from asm.stays.rules import NoticeState
from tests.conftest import Factory

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 14, 15, 0, tzinfo=VN).astimezone(UTC)  # 15:00 in Vietnam
ARRIVED = NOW - timedelta(hours=1)
DEADLINE = datetime(2026, 3, 14, 23, 0, tzinfo=VN)
RECEIPT = re.compile(r"^LT-\d{6}-[0-9A-HJKMNP-TV-Z]{8}$")


def hoa() -> PersonInput:
    """The DOMAIN.md card: Thái Bình (034), female born 2003."""
    return PersonInput(
        doc_type="cccd",
        doc_number="034303011829",
        full_name="Nguyễn Thị Hoa",
        birth_date=date(2003, 3, 21),
        sex="F",
        address="Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
    )


def man(n: int) -> PersonInput:
    """A Hà Nội (001) man born 1985, ID digits 4-6 `085`, told apart by `n`."""
    return PersonInput(
        doc_type="cccd", doc_number=f"001085{n:06d}", full_name="Trần Văn Nam", birth_date=date(1985, 5, 1), sex="M"
    )


def inp(*guests: PersonInput, **kw: object) -> services.CheckInInput:
    kw.setdefault("arrived_at", ARRIVED)
    kw.setdefault("reason", "Du lịch")
    return services.CheckInInput(guests=list(guests), **kw)  # type: ignore[arg-type]


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def room(est: Establishment, name: str) -> Room:
    return next(r for r in est.rooms if r.name == name)


@pytest.fixture
def est(factory: Factory) -> Establishment:
    return factory.establishment()


@pytest.fixture
def clerk(factory: Factory, est: Establishment) -> User:
    return factory.user(Role.CLERK, establishment=est)


@pytest.fixture
def actor(clerk: User) -> Actor:
    return Actor(label=clerk.full_name, user_id=clerk.id)


def check_in(est: Establishment, data: services.CheckInInput, actor: Actor, now: datetime = NOW) -> list[Stay]:
    result = services.check_in(est, data, actor=actor, now=now)
    db.session.commit()
    return result.stays


# --------------------------------------------------------------------------------------------------------
# Check-in
# --------------------------------------------------------------------------------------------------------


def test_check_in_one_guest(est: Establishment, actor: Actor, clerk: User) -> None:
    result = services.check_in(est, inp(hoa(), room_id=room(est, "101").id), actor=actor, now=NOW)
    db.session.commit()

    assert result.warnings == []
    [stay] = result.stays
    assert stay.status == StayStatus.IN_HOUSE
    assert stay.source == Source.DESK
    assert stay.person.full_name == "Nguyễn Thị Hoa"
    assert stay.person.doc_number == "034303011829"
    assert stay.room.name == "101"
    assert stay.arrived_at == ARRIVED
    assert stay.deadline_at == DEADLINE
    assert stay.filed_at == NOW
    assert stay.state(NOW) == NoticeState.ON_TIME
    assert RECEIPT.match(stay.receipt_no or "")
    assert stay.receipt_no.startswith("LT-260314-")
    [event] = stay.events
    assert (event.kind, event.receipt_no, event.actor, event.user_id, event.at) == (
        EventKind.CHECK_IN,
        stay.receipt_no,
        clerk.full_name,
        clerk.id,
        NOW,
    )
    assert event.data["room"] == "101"
    assert (count(Person), count(Stay), count(StayEvent)) == (1, 1, 1)


def test_check_in_a_group_under_its_first_member(est: Establishment, actor: Actor) -> None:
    stays = check_in(est, inp(hoa(), man(1), man(2), expected_departure=date(2026, 3, 16)), actor)

    head, *members = stays
    assert head.head_id is None
    assert [m.head_id for m in members] == [head.id, head.id]
    assert {s.id for s in head.members} == {m.id for m in members}
    assert all(s.status == StayStatus.IN_HOUSE and s.deadline_at == DEADLINE for s in stays)
    assert all(s.expected_departure == date(2026, 3, 16) for s in stays)
    receipts = [s.receipt_no for s in stays]
    assert len(set(receipts)) == 3 and all(RECEIPT.match(r or "") for r in receipts)
    assert (count(Person), count(Stay), count(StayEvent)) == (3, 3, 3)


def test_check_in_as_api_token_records_the_source_and_token(factory: Factory, est: Establishment) -> None:
    from asm.accounts.models import ApiToken

    factory.token(est, name="pms")
    token = db.session.scalars(select(ApiToken)).one()
    actor = Actor(label="API: pms", token_id=token.id, kind="token")
    result = services.check_in(est, inp(hoa()), actor=actor, now=NOW, source=Source.API)
    db.session.commit()
    [stay] = result.stays
    assert stay.source == Source.API
    assert (stay.events[0].actor, stay.events[0].token_id, stay.events[0].user_id) == ("API: pms", token.id, None)


def test_returning_guest_is_the_same_person(est: Establishment, actor: Actor) -> None:
    [first] = check_in(est, inp(hoa()), actor)
    services.check_out(first, at=NOW, actor=actor, now=NOW)
    db.session.commit()
    later = NOW + timedelta(days=2)
    moved = replace(hoa(), address="Số 5 Lê Lợi, Hà Nội")
    [second] = check_in(est, inp(moved, arrived_at=later), actor, now=later)
    assert second.person_id == first.person_id
    assert second.person.address == "Số 5 Lê Lợi, Hà Nội"
    assert count(Person) == 1


def test_check_in_reads_the_deadline_settings(app: Flask, est: Establishment, actor: Actor) -> None:
    app.config.update(NOTIFY_EVENING_CUTOFF="14:00", NOTIFY_MORNING_DEADLINE="09:30")
    [stay] = check_in(est, inp(hoa()), actor)  # arrived at 14:00 local: past the cutoff
    assert stay.deadline_at == datetime(2026, 3, 15, 9, 30, tzinfo=VN)


# --------------------------------------------------------------------------------------------------------
# Validation: dotted field keys, stable codes, nothing stored
# --------------------------------------------------------------------------------------------------------


def refused(est: Establishment, data: services.CheckInInput, actor: Actor, now: datetime = NOW) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        services.check_in(est, data, actor=actor, now=now)
    return info.value


def test_validation_errors_carry_dotted_fields_and_codes(est: Establishment, actor: Actor) -> None:
    bad_number = replace(man(1), doc_number="00108501")
    no_birth = replace(man(2), birth_date=None, full_name="  ")
    exc = refused(est, inp(hoa(), bad_number, no_birth, reason=" "), actor)

    assert exc.codes == {
        "guests.1.doc_number": "id_number_format",
        "guests.2.full_name": "name_missing",
        "guests.2.birth_date": "birth_date_missing",
        "reason": "reason_missing",
    }
    assert set(exc.errors) == set(exc.codes)
    assert all(exc.errors[k] and all(isinstance(m, str) and m for m in exc.errors[k]) for k in exc.errors)
    assert not db.session.new  # nothing even added to the session
    assert (count(Person), count(Stay), count(StayEvent)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("guest", "field", "code"),
    [
        (replace(hoa(), birth_date=date(2033, 3, 21)), "birth_date", "birth_date_future"),
        (replace(hoa(), sex="F", doc_number="034203011829"), "doc_number", "id_century_sex_mismatch"),
        (replace(hoa(), birth_date=date(2004, 3, 21)), "doc_number", "id_birth_year_mismatch"),
        (replace(hoa(), doc_number="999303011829"), "doc_number", "id_province_code"),
        (replace(hoa(), sex="X"), "sex", "sex_invalid"),
        (replace(hoa(), doc_type="visa"), "doc_type", "doc_type_invalid"),
        (replace(hoa(), nationality="KOR"), "nationality", "document_nationality_mismatch"),
        (replace(hoa(), nationality="K0R"), "nationality", "nationality_format"),
    ],
    ids=["birth-future", "digit4", "digits5-6", "province", "sex", "doc-type", "cccd-foreigner", "nationality"],
)
def test_person_rules(est: Establishment, actor: Actor, guest: PersonInput, field: str, code: str) -> None:
    exc = refused(est, inp(guest), actor)
    assert exc.codes.get(f"guests.0.{field}") == code, exc.codes
    assert count(Stay) == 0


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"arrived_at": NOW + timedelta(minutes=11)}, "arrived_at", "arrival_future"),
        ({"arrived_at": NOW - timedelta(days=31)}, "arrived_at", "arrival_too_old"),
        ({"expected_departure": date(2026, 3, 13)}, "expected_departure", "departure_before_arrival"),
        ({"guests": []}, "guests", "guests_missing"),
        ({"guests": [man(i) for i in range(51)]}, "guests", "group_too_large"),
        ({"guests": [hoa(), man(1), hoa()]}, "guests.2.doc_number", "duplicate_guest"),
    ],
    ids=["future", "too-old", "departure", "no-guests", "too-many", "twice-in-group"],
)
def test_stay_rules(est: Establishment, actor: Actor, changes: dict[str, object], field: str, code: str) -> None:
    data = inp(hoa())
    for name, value in changes.items():
        setattr(data, name, value)
    exc = refused(est, data, actor)
    assert exc.codes.get(field) == code, exc.codes
    assert (count(Person), count(Stay)) == (0, 0)


def test_arrival_a_few_minutes_ahead_is_tolerated(est: Establishment, actor: Actor) -> None:
    [stay] = check_in(est, inp(hoa(), arrived_at=NOW + timedelta(minutes=9)), actor)
    assert stay.arrived_at == NOW + timedelta(minutes=9)


def test_room_of_another_establishment_is_refused(factory: Factory, est: Establishment, actor: Actor) -> None:
    other = factory.establishment()
    exc = refused(est, inp(hoa(), room_id=room(other, "101").id), actor)
    assert exc.codes == {"room_id": "room_invalid"}


def test_passport_needs_a_nationality(est: Establishment, actor: Actor) -> None:
    passport = PersonInput(
        doc_type="passport",
        doc_number="M12345678",
        nationality="",
        full_name="Kim Min Jun",
        birth_date=date(1990, 1, 2),
    )
    exc = refused(est, inp(passport), actor)
    assert exc.codes == {"guests.0.nationality": "nationality_required"}

    [stay] = check_in(est, inp(replace(passport, nationality="kor")), actor)
    assert (stay.person.doc_type, stay.person.doc_number, stay.person.nationality) == ("passport", "M12345678", "KOR")
    assert stay.person.is_foreigner


def test_vietnamese_passport_format(est: Establishment, actor: Actor) -> None:
    passport = PersonInput(
        doc_type="passport",
        doc_number="1234567",
        nationality="VNM",
        full_name="Lê Văn Tám",
        birth_date=date(1990, 1, 2),
    )
    assert refused(est, inp(passport), actor).codes == {"guests.0.doc_number": "document_number_format"}
    [stay] = check_in(est, inp(replace(passport, doc_number="c1234567")), actor)
    assert stay.person.doc_number == "C1234567"


@pytest.mark.parametrize("number", ["12345678", "1234567890", "12345678A"])
def test_cmnd_needs_9_digits(est: Establishment, actor: Actor, number: str) -> None:
    cmnd = PersonInput(doc_type="cmnd", doc_number=number, full_name="Lê Văn Tám", birth_date=date(1970, 1, 2))
    assert refused(est, inp(cmnd), actor).codes == {"guests.0.doc_number": "document_number_format"}


def test_cmnd_of_9_digits_is_accepted(est: Establishment, actor: Actor) -> None:
    cmnd = PersonInput(doc_type="cmnd", doc_number=" 123 456 789 ", full_name="Lê Văn Tám", birth_date=date(1970, 1, 2))
    [stay] = check_in(est, inp(cmnd), actor)
    assert (stay.person.doc_type, stay.person.doc_number) == ("cmnd", "123456789")


# --------------------------------------------------------------------------------------------------------
# One open stay per person per establishment
# --------------------------------------------------------------------------------------------------------


def test_second_open_stay_is_refused_and_nothing_changes(est: Establishment, actor: Actor) -> None:
    check_in(est, inp(hoa()), actor)
    exc = refused(est, inp(man(1), replace(hoa(), full_name="Nguyễn Thị Hoà")), actor)
    assert exc.codes == {"guests.1.doc_number": "already_in_house"}
    db.session.rollback()  # what the caller does on a refusal
    assert (count(Person), count(Stay), count(StayEvent)) == (1, 1, 1)
    assert db.session.scalars(select(Person.full_name)).one() == "Nguyễn Thị Hoa"


def test_a_draft_counts_as_open(est: Establishment, actor: Actor) -> None:
    check_in(est, inp(hoa(), file_now=False), actor)
    assert refused(est, inp(hoa()), actor).codes == {"guests.0.doc_number": "already_in_house"}


def test_after_check_out_the_guest_may_check_in_again(est: Establishment, actor: Actor) -> None:
    [first] = check_in(est, inp(hoa()), actor)
    services.check_out(first, at=NOW, actor=actor, now=NOW)
    db.session.commit()
    [second] = check_in(est, inp(hoa(), arrived_at=NOW), actor)
    assert second.id != first.id and second.status == StayStatus.IN_HOUSE


def test_database_refuses_a_raw_duplicate_open_stay(est: Establishment, actor: Actor) -> None:
    """The partial unique index holds even when a writer skips the service (or two race past its check)."""
    [stay] = check_in(est, inp(hoa()), actor)
    columns = ("establishment_id", "person_id", "status", "source", "reason", "arrived_at", "deadline_at", "created_at")
    row = {name: getattr(stay, name) for name in columns}
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Stay).values(**row))
    db.session.rollback()
    # a closed stay of the same person is allowed: the index covers open stays only
    db.session.execute(insert(Stay).values(**{**row, "status": StayStatus.CHECKED_OUT}))
    db.session.commit()
    assert count(Stay) == 2


def test_open_elsewhere_is_a_warning(factory: Factory, est: Establishment, actor: Actor) -> None:
    check_in(est, inp(hoa()), actor)
    other = factory.establishment(name="Nhà nghỉ Bên Kia")
    result = services.check_in(other, inp(hoa(), man(1)), actor=Actor.system(), now=NOW)
    db.session.commit()
    assert len(result.stays) == 2
    [warning] = result.warnings
    assert "Nguyễn Thị Hoa" in warning and est.name in warning
    assert "Trần Văn Nam" not in warning


# --------------------------------------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------------------------------------


def test_draft_then_file_on_time(est: Establishment, actor: Actor) -> None:
    [stay] = check_in(est, inp(hoa(), file_now=False), actor)
    assert (stay.status, stay.filed_at, stay.receipt_no) == (StayStatus.DRAFT, None, None)
    assert stay.state(NOW) == NoticeState.PENDING
    assert [(e.kind, e.receipt_no) for e in stay.events] == [(EventKind.DRAFT, None)]

    filed_at = DEADLINE - timedelta(minutes=1)
    event = services.file_draft(stay, actor=actor, now=filed_at)
    db.session.commit()
    assert (stay.status, stay.filed_at, stay.receipt_no) == (StayStatus.IN_HOUSE, filed_at, event.receipt_no)
    assert event.kind == EventKind.FILE and RECEIPT.match(event.receipt_no or "")
    assert stay.state(filed_at + timedelta(days=1)) == NoticeState.ON_TIME


def test_draft_filed_after_the_deadline_is_late(est: Establishment, actor: Actor) -> None:
    [stay] = check_in(est, inp(hoa(), file_now=False), actor)
    assert stay.state(DEADLINE + timedelta(minutes=1)) == NoticeState.OVERDUE
    services.file_draft(stay, actor=actor, now=DEADLINE + timedelta(minutes=1))
    db.session.commit()
    assert stay.state(DEADLINE + timedelta(minutes=2)) == NoticeState.LATE


def test_filing_twice_is_refused(est: Establishment, actor: Actor) -> None:
    [stay] = check_in(est, inp(hoa()), actor)
    with pytest.raises(ValidationError) as info:
        services.file_draft(stay, actor=actor, now=NOW)
    assert info.value.codes == {"stay": "already_filed"}


# --------------------------------------------------------------------------------------------------------
# Check-out, extend, move, cancel
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def stay(est: Establishment, actor: Actor) -> Stay:
    [stay] = check_in(est, inp(hoa(), room_id=room(est, "101").id, expected_departure=date(2026, 3, 16)), actor)
    return stay


def codes_of(call: Callable[[], object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.codes


def test_check_out(stay: Stay, actor: Actor) -> None:
    later = NOW + timedelta(days=2)
    event = services.check_out(stay, at=later - timedelta(hours=1), actor=actor, now=later)
    db.session.commit()
    assert (stay.status, stay.departed_at) == (StayStatus.CHECKED_OUT, later - timedelta(hours=1))
    assert not stay.is_open
    assert (event.kind, event.at, event.actor) == (EventKind.CHECK_OUT, later, actor.label)


def test_check_out_rules(stay: Stay, actor: Actor) -> None:
    assert codes_of(lambda: services.check_out(stay, at=ARRIVED - timedelta(minutes=1), actor=actor, now=NOW)) == {
        "departed_at": "departure_before_arrival"
    }
    assert codes_of(lambda: services.check_out(stay, at=NOW + timedelta(minutes=11), actor=actor, now=NOW)) == {
        "departed_at": "departure_future"
    }
    assert stay.status == StayStatus.IN_HOUSE and stay.departed_at is None
    # ten minutes of clock drift between the desk and the server are tolerated
    services.check_out(stay, at=NOW + timedelta(minutes=9), actor=actor, now=NOW)
    assert stay.status == StayStatus.CHECKED_OUT


def test_extend(stay: Stay, actor: Actor) -> None:
    event = services.extend(stay, until=date(2026, 3, 20), actor=actor, now=NOW)
    db.session.commit()
    assert stay.expected_departure == date(2026, 3, 20)
    assert event.data == {"from": "2026-03-16", "to": "2026-03-20"}
    # today is allowed, yesterday is not
    services.extend(stay, until=date(2026, 3, 14), actor=actor, now=NOW)
    assert codes_of(lambda: services.extend(stay, until=date(2026, 3, 13), actor=actor, now=NOW)) == {
        "expected_departure": "extend_in_past"
    }


def test_move(est: Establishment, stay: Stay, actor: Actor, factory: Factory) -> None:
    event = services.move(stay, room_id=room(est, "201").id, actor=actor, now=NOW)
    db.session.commit()
    assert stay.room.name == "201"
    assert event.data == {"from": "101", "to": "201"}

    assert codes_of(lambda: services.move(stay, room_id=room(est, "201").id, actor=actor, now=NOW)) == {
        "room_id": "same_room"
    }
    other = factory.establishment()
    assert codes_of(lambda: services.move(stay, room_id=room(other, "101").id, actor=actor, now=NOW)) == {
        "room_id": "room_invalid"
    }
    assert codes_of(lambda: services.move(stay, room_id=999_999, actor=actor, now=NOW)) == {"room_id": "room_invalid"}
    assert stay.room.name == "201"


def test_cancel_needs_a_reason(stay: Stay, actor: Actor) -> None:
    assert codes_of(lambda: services.cancel(stay, reason="  ", actor=actor, now=NOW)) == {"reason": "reason_missing"}
    assert stay.status == StayStatus.IN_HOUSE
    event = services.cancel(stay, reason="  Nhập  nhầm   khách ", actor=actor, now=NOW)
    db.session.commit()
    assert (stay.status, stay.cancel_reason) == (StayStatus.CANCELLED, "Nhập nhầm khách")
    assert event.kind == EventKind.CANCEL and RECEIPT.match(event.receipt_no or "")  # a filed stay: a receipt


def test_cancel_a_draft_has_no_receipt(est: Establishment, actor: Actor) -> None:
    [draft] = check_in(est, inp(hoa(), file_now=False), actor)
    event = services.cancel(draft, reason="Khách không đến", actor=actor, now=NOW)
    assert draft.status == StayStatus.CANCELLED and event.receipt_no is None


def test_actions_on_a_draft_are_refused(est: Establishment, actor: Actor) -> None:
    [draft] = check_in(est, inp(hoa(), room_id=room(est, "101").id, file_now=False), actor)
    calls = [
        lambda: services.check_out(draft, at=NOW, actor=actor, now=NOW),
        lambda: services.extend(draft, until=date(2026, 3, 20), actor=actor, now=NOW),
        lambda: services.move(draft, room_id=room(est, "201").id, actor=actor, now=NOW),
    ]
    for call in calls:
        assert codes_of(call) == {"stay": "not_filed"}
    assert draft.status == StayStatus.DRAFT and len(draft.events) == 1


@pytest.mark.parametrize("close", ["check_out", "cancel"])
def test_actions_on_a_closed_stay_are_refused(est: Establishment, stay: Stay, actor: Actor, close: str) -> None:
    if close == "check_out":
        services.check_out(stay, at=NOW, actor=actor, now=NOW)
    else:
        services.cancel(stay, reason="Nhầm", actor=actor, now=NOW)
    db.session.commit()
    calls = [
        lambda: services.check_out(stay, at=NOW, actor=actor, now=NOW),
        lambda: services.extend(stay, until=date(2026, 3, 20), actor=actor, now=NOW),
        lambda: services.move(stay, room_id=room(est, "201").id, actor=actor, now=NOW),
        lambda: services.cancel(stay, reason="Nhầm", actor=actor, now=NOW),
        lambda: services.file_draft(stay, actor=actor, now=NOW),
    ]
    expected = [{"stay": "not_open"}] * 4 + [{"stay": "already_filed"}]
    assert [codes_of(call) for call in calls] == expected
    assert len(stay.events) == 2


# --------------------------------------------------------------------------------------------------------
# The append-only history
# --------------------------------------------------------------------------------------------------------


def test_every_change_appends_an_event_with_its_own_receipt(est: Establishment, stay: Stay, actor: Actor) -> None:
    other = Actor(label="Chủ cơ sở", kind="system")
    services.extend(stay, until=date(2026, 3, 18), actor=actor, now=NOW + timedelta(hours=1))
    services.move(stay, room_id=room(est, "102").id, actor=other, now=NOW + timedelta(hours=2))
    services.check_out(stay, at=NOW + timedelta(hours=3), actor=actor, now=NOW + timedelta(hours=3))
    db.session.commit()

    events = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == stay.id).order_by(StayEvent.id)).all()
    assert [e.kind for e in events] == [EventKind.CHECK_IN, EventKind.EXTEND, EventKind.MOVE, EventKind.CHECK_OUT]
    assert [e.actor for e in events] == [actor.label, actor.label, "Chủ cơ sở", actor.label]
    assert [e.user_id for e in events] == [actor.user_id, actor.user_id, None, actor.user_id]
    assert [e.at for e in events] == [NOW + timedelta(hours=h) for h in range(4)]
    receipts = [e.receipt_no for e in events]
    assert all(RECEIPT.match(r or "") for r in receipts)
    assert len(set(receipts)) == 4
    assert stay.receipt_no == receipts[0]  # the stay keeps the receipt of its notification


def test_orm_refuses_to_update_an_event(stay: Stay) -> None:
    event = stay.events[0]
    event.actor = "someone else"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(StayEvent, event.id).actor != "someone else"


def test_orm_refuses_to_delete_an_event(stay: Stay) -> None:
    db.session.delete(stay.events[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert count(StayEvent) == 1


@pytest.mark.parametrize("statement", ["UPDATE stay_events SET actor = 'x'", "DELETE FROM stay_events"])
def test_database_refuses_to_change_an_event(stay: Stay, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalars(select(StayEvent.actor)).all() == [stay.events[0].actor]
