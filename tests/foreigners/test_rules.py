"""The foreigners' declaration rules, on their own (asm/stays/rules.py): the deadline and the states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from asm.stays.rules import NoticeState, declaration_state, foreign_declaration_deadline

ARRIVED = datetime(2026, 11, 23, 16, 40, tzinfo=UTC)  # 23:40 in Viet Nam: no evening rule for foreigners


def test_twelve_hours_after_arrival_day_or_night() -> None:
    assert foreign_declaration_deadline(ARRIVED) == ARRIVED + timedelta(hours=12)
    morning = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert foreign_declaration_deadline(morning) == morning + timedelta(hours=12)


def test_twenty_four_hours_in_a_remote_commune() -> None:
    assert foreign_declaration_deadline(ARRIVED, remote=True) == ARRIVED + timedelta(hours=24)


def test_the_hours_are_settings() -> None:
    assert foreign_declaration_deadline(ARRIVED, hours=6) == ARRIVED + timedelta(hours=6)
    assert foreign_declaration_deadline(ARRIVED, remote_hours=48, remote=True) == ARRIVED + timedelta(hours=48)


def test_a_local_time_gives_the_same_utc_deadline() -> None:
    local = ARRIVED.astimezone(timezone(timedelta(hours=7)))
    deadline = foreign_declaration_deadline(local)
    assert deadline == ARRIVED + timedelta(hours=12) and deadline.utcoffset() == timedelta(0)


def test_a_naive_arrival_is_refused() -> None:
    with pytest.raises(ValueError):
        foreign_declaration_deadline(datetime(2026, 11, 23, 16, 40))


@pytest.mark.parametrize(
    ("declared", "now", "state"),
    [
        (None, ARRIVED + timedelta(hours=11), NoticeState.PENDING),
        (None, ARRIVED + timedelta(hours=12, seconds=1), NoticeState.OVERDUE),
        (ARRIVED + timedelta(hours=12), ARRIVED + timedelta(days=3), NoticeState.ON_TIME),
        (ARRIVED + timedelta(hours=12, minutes=1), ARRIVED + timedelta(days=3), NoticeState.LATE),
    ],
)
def test_the_declaration_states(declared: datetime | None, now: datetime, state: NoticeState) -> None:
    assert declaration_state(ARRIVED + timedelta(hours=12), declared, now) == state
