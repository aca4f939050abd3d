"""The hospital services: admission (with and without a document), carers, transfer, discharge, beds, census."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from asm.clock import VN_TZ
from asm.common import Actor, ValidationError
from asm.extensions import db
from asm.hospital import queries, services
from asm.hospital.models import BedAssignment, BedStatus
from asm.people.models import DocType
from asm.stays.models import EventKind, StayStatus
from asm.stays.rules import NoticeState, notification_deadline
from tests.conftest import Factory
from tests.support.hospital import Hospital, make_hospital, person

ACTOR = Actor(label="Điều dưỡng Thử")
# An afternoon: the deadline of an arrival now is 23:00 the same day.
NOW = datetime(2026, 11, 20, 14, 0, tzinfo=VN_TZ)


@pytest.fixture
def hospital(app: Flask, factory: Factory) -> Hospital:
    return make_hospital(factory)


def admit(h: Hospital, bed: str, n: int = 0, *, at: datetime = NOW, now: datetime = NOW):  # type: ignore[no-untyped-def]
    data = services.AdmissionInput(bed_id=h.bed(bed).id, arrived_at=at, patient=person(n))
    stay = services.admit(h.est, data, actor=ACTOR, now=now)
    db.session.commit()
    return stay


def add_carer(patient, n: int, *, relation: str = "Con", now: datetime = NOW, replaces: int | None = None):  # type: ignore[no-untyped-def]
    carer = services.register_carer(
        patient,
        services.CarerInput(person=person(n), relation=relation, arrived_at=now, replaces_stay_id=replaces),
        actor=ACTOR,
        now=now,
    )
    db.session.commit()
    return carer


def test_admission_files_the_stay_with_the_legal_deadline_and_takes_the_bed(hospital: Hospital) -> None:
    arrived = NOW - timedelta(hours=1)
    stay = admit(hospital, "K1-101-1", at=arrived)
    assert stay.role == "patient" and stay.status == StayStatus.IN_HOUSE
    assert stay.deadline_at == notification_deadline(arrived)
    assert stay.state(NOW) == NoticeState.ON_TIME and stay.receipt_no
    assert stay.reason == services.PATIENT_REASON
    assert hospital.bed("K1-101-1").status == BedStatus.OCCUPIED
    assert stay.room.name == "P101"
    # An arrival after 23:00 is due at 08:00 the next day, as for any stay.
    late_night = datetime(2026, 11, 20, 23, 30, tzinfo=VN_TZ)
    night = admit(hospital, "K1-101-2", 1, at=late_night, now=late_night + timedelta(minutes=5))
    assert night.deadline_at == datetime(2026, 11, 21, 8, 0, tzinfo=VN_TZ)


def test_a_bed_holds_one_patient(hospital: Hospital) -> None:
    admit(hospital, "K1-101-1")
    with pytest.raises(ValidationError) as refused:
        admit(hospital, "K1-101-1", 1)
    assert refused.value.codes["bed_id"] == "bed_occupied"
    assert "Người Thử An" in refused.value.errors["bed_id"][0]
    db.session.rollback()


def test_a_provisional_identity_is_a_draft_until_completed(hospital: Hospital) -> None:
    data = services.AdmissionInput(
        bed_id=hospital.bed("K2-201-1").id,
        arrived_at=NOW,
        provisional=services.ProvisionalInput(record_no="BA-2026-77", birth_date=date(2019, 1, 1)),
    )
    stay = services.admit(hospital.est, data, actor=ACTOR, now=NOW)
    db.session.commit()
    assert stay.status == StayStatus.DRAFT and stay.filed_at is None and stay.receipt_no is None
    assert stay.person.doc_type == DocType.NONE and stay.person.full_name == services.UNKNOWN_NAME
    assert stay.deadline_at == notification_deadline(NOW)
    assert stay.state(NOW) == NoticeState.PENDING
    later = NOW + timedelta(hours=10)  # past 23:00: overdue, and the board says so
    assert stay.state(later) == NoticeState.OVERDUE
    view = next(v for v in queries.board(hospital.k2, later) if v.stay is not None)
    assert {"overdue", "provisional"} <= set(view.flags)
    # The same record number cannot be admitted twice while in hospital.
    again = services.AdmissionInput(
        bed_id=hospital.bed("K2-201-2").id,
        arrived_at=NOW,
        provisional=services.ProvisionalInput(record_no="BA-2026-77", birth_date=date(2019, 1, 1)),
    )
    with pytest.raises(ValidationError) as refused:
        services.admit(hospital.est, again, actor=ACTOR, now=NOW)
    assert refused.value.codes["record_no"] == "already_in_house"
    db.session.rollback()

    event = services.complete_identity(stay, person(3), actor=ACTOR, now=later)
    db.session.commit()
    assert stay.person.doc_type == "cccd" and stay.person.full_name == "Người Thử Dũng"
    assert stay.status == StayStatus.IN_HOUSE and stay.filed_at == later
    assert event.kind == EventKind.FILE and event.receipt_no
    assert stay.state(later) == NoticeState.LATE
    assert [e.kind for e in stay.events] == [EventKind.DRAFT, EventKind.FILE]
    assert stay.events[0].data["provisional_record_no"] == "BA-2026-77"


def test_a_document_of_type_none_is_refused_at_an_ordinary_check_in(hospital: Hospital) -> None:
    from asm.stays.services import CheckInInput, check_in

    guest = person(0)
    guest.doc_type = "none"
    with pytest.raises(ValidationError) as refused:
        check_in(hospital.est, CheckInInput(guests=[guest], arrived_at=NOW, reason="Thăm"), actor=ACTOR, now=NOW)
    assert "guests.0.doc_number" in refused.value.errors
    db.session.rollback()


def test_carers_up_to_the_limit_then_a_clear_refusal_and_a_swap(hospital: Hospital) -> None:
    patient = admit(hospital, "K1-101-1")
    first = add_carer(patient, 1, relation="Vợ")
    second = add_carer(patient, 2)
    for carer in (first, second):
        assert carer.role == "carer" and carer.status == StayStatus.IN_HOUSE and carer.receipt_no
        assert carer.deadline_at == notification_deadline(NOW) and carer.room_id == patient.room_id
        assert carer.reason == services.CARER_REASON
    with pytest.raises(ValidationError) as refused:
        add_carer(patient, 3)
    db.session.rollback()
    assert refused.value.codes["carers"] == "carers_full"
    message = refused.value.errors["carers"][0]
    assert "đã có đủ 2 người chăm sóc" in message and "Người Thử An" in message
    # A swap: the first carer checks out as the third checks in.
    third = add_carer(patient, 3, replaces=first.id, now=NOW + timedelta(hours=1))
    assert first.status == StayStatus.CHECKED_OUT and [e.kind for e in first.events][-1] == EventKind.CHECK_OUT
    assert {c.id for c in services.open_carers(patient)} == {second.id, third.id}


def test_the_carer_limit_is_a_setting(hospital: Hospital) -> None:
    hospital.est.max_carers = 1
    db.session.commit()
    patient = admit(hospital, "K1-101-1")
    add_carer(patient, 1)
    with pytest.raises(ValidationError, match="đã có đủ 1 người chăm sóc"):
        add_carer(patient, 2)
    db.session.rollback()


def test_unnotified_carers_are_drafts_withdrawn_when_they_leave(hospital: Hospital) -> None:
    hospital.est.notify_carers = False
    db.session.commit()
    patient = admit(hospital, "K1-101-1")
    carer = add_carer(patient, 1)
    assert carer.status == StayStatus.DRAFT and carer.receipt_no is None
    services.release_carer(carer, at=NOW, actor=ACTOR, now=NOW)
    db.session.commit()
    assert carer.status == StayStatus.CANCELLED


def test_transfer_keeps_its_history_and_takes_the_carers_along(hospital: Hospital) -> None:
    patient = admit(hospital, "K1-101-1")
    carer = add_carer(patient, 1)
    later = NOW + timedelta(hours=2)
    event = services.transfer(patient, bed_id=hospital.bed("K2-201-2").id, at=later, actor=ACTOR, now=later)
    db.session.commit()
    assert event.kind == EventKind.MOVE and event.receipt_no
    assert event.data["from"] == "K1 · P101 · K1-101-1" and event.data["to"] == "K2 · P201 · K2-201-2"
    assert patient.room.name == "P201" and carer.room.name == "P201"
    assert carer.events[-1].kind == EventKind.MOVE and carer.events[-1].receipt_no
    assert hospital.bed("K1-101-1").status == BedStatus.CLEANING
    assert hospital.bed("K2-201-2").status == BedStatus.OCCUPIED
    history = [(a.bed.label, a.start_at, a.end_at) for a in queries.assignments_of(patient)]
    assert history == [("K1-101-1", NOW, later), ("K2-201-2", later, None)]
    with pytest.raises(ValidationError) as same:
        services.transfer(patient, bed_id=hospital.bed("K2-201-2").id, at=later, actor=ACTOR, now=later)
    assert same.value.codes["bed_id"] == "same_bed"
    db.session.rollback()


def test_discharge_checks_out_the_carers_unless_told_otherwise(hospital: Hospital) -> None:
    patient = admit(hospital, "K1-101-1")
    carer = add_carer(patient, 1)
    later = NOW + timedelta(hours=3)
    ended = services.discharge(patient, at=later, actor=ACTOR, now=later)
    db.session.commit()
    assert {s.id for s in ended} == {patient.id, carer.id}
    assert patient.status == carer.status == StayStatus.CHECKED_OUT and carer.departed_at == later
    assert hospital.bed("K1-101-1").status == BedStatus.CLEANING
    assert db.session.scalars(select(BedAssignment.end_at)).all() == [later]

    other = admit(hospital, "K1-101-2", 2)
    staying = add_carer(other, 3)
    services.discharge(other, at=later, actor=ACTOR, now=later, with_carers=False)
    db.session.commit()
    assert other.status == StayStatus.CHECKED_OUT and staying.status == StayStatus.IN_HOUSE


def test_bed_status_is_set_by_hand_only_when_nobody_lies_in_it(hospital: Hospital) -> None:
    admit(hospital, "K1-101-1")
    with pytest.raises(ValidationError) as refused:
        services.set_bed_status(hospital.bed("K1-101-1"), "free")
    assert refused.value.codes["status"] == "bed_occupied"
    db.session.rollback()
    services.set_bed_status(hospital.bed("K1-102-1"), "reserved")
    assert hospital.bed("K1-102-1").status == BedStatus.RESERVED
    with pytest.raises(ValidationError):
        services.set_bed_status(hospital.bed("K1-102-1"), "occupied")
    db.session.rollback()


def test_the_board_shows_state_initials_carers_days_and_long_stays(hospital: Hospital) -> None:
    long_ago = NOW - timedelta(days=29, hours=2)
    patient = admit(hospital, "K1-101-1", at=NOW - timedelta(minutes=5))
    add_carer(patient, 1)
    services.set_bed_status(hospital.bed("K1-102-1"), "cleaning")
    db.session.commit()
    views = {v.bed.label: v for v in queries.board(hospital.k1, NOW)}
    assert views["K1-101-1"].state == "occupied" and views["K1-101-1"].initials == "N.T.A."
    assert views["K1-101-1"].carers == 1 and views["K1-101-1"].days == 0
    assert views["K1-101-2"].state == "free" and views["K1-102-1"].state == "cleaning"
    # A patient admitted 29 days ago passes 30 days two days later: flagged for temporary residence.
    old = admit(hospital, "K1-101-2", 2, at=long_ago, now=long_ago + timedelta(minutes=5))
    in_two_days = NOW + timedelta(days=2)
    view = next(v for v in queries.board(hospital.k1, in_two_days) if v.stay is old)
    assert view.days == 31 and "long_stay" in view.flags
    assert "long_stay" not in next(v for v in queries.board(hospital.k1, NOW) if v.stay is old).flags


def test_the_census_of_a_day_follows_transfers_and_carers(hospital: Hospital) -> None:
    patient = admit(hospital, "K1-101-1")
    add_carer(patient, 1, relation="Mẹ")
    next_day = NOW + timedelta(days=1)
    services.transfer(patient, bed_id=hospital.bed("K2-201-1").id, at=next_day, actor=ACTOR, now=next_day)
    db.session.commit()
    day1 = queries.census(hospital.k1, NOW.date())
    assert [(r.bed, r.full_name) for r in day1] == [("K1-101-1", "Người Thử An")]
    assert [(c.full_name, c.relation) for c in day1[0].carers] == [("Người Thử Bình", "Mẹ")]
    assert queries.census(hospital.k2, NOW.date()) == []
    day2_k1 = queries.census(hospital.k1, next_day.date())
    assert day2_k1[0].in_bed_until == next_day  # left K1 that day
    assert [r.bed for r in queries.census(hospital.k2, next_day.date())] == ["K2-201-1"]


def test_a_patient_checked_out_from_the_desk_pages_leaves_the_bed_to_clean(hospital: Hospital) -> None:
    from asm.stays.services import check_out

    patient = admit(hospital, "K1-101-1")
    check_out(patient, at=NOW + timedelta(hours=1), actor=ACTOR, now=NOW + timedelta(hours=1))
    db.session.commit()
    view = next(v for v in queries.board(hospital.k1, NOW) if v.bed.label == "K1-101-1")
    assert view.stay is None and view.state == "cleaning"
    admit(hospital, "K1-101-1", 1)  # nobody lies in it: a new patient may take it
