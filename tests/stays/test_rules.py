"""The pure stay rules: notification deadline, notice state, long stays. No app, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asm.stays.rules import NoticeState, is_long_stay, notice_state, notification_deadline, parse_hhmm, stay_days

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


# --------------------------------------------------------------------------------------------------------
# notification_deadline
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrival", "deadline"),
    [
        (vn(2026, 3, 14, 10, 0), vn(2026, 3, 14, 23, 0)),
        (vn(2026, 3, 14, 22, 59), vn(2026, 3, 14, 23, 0)),
        (vn(2026, 3, 14, 23, 0), vn(2026, 3, 15, 8, 0)),
        (vn(2026, 3, 14, 23, 30), vn(2026, 3, 15, 8, 0)),
        (vn(2026, 3, 14, 0, 30), vn(2026, 3, 14, 23, 0)),
        (vn(2026, 3, 14, 0, 0), vn(2026, 3, 14, 23, 0)),
        # the night of the year's end and of a leap day roll over correctly
        (vn(2026, 12, 31, 23, 15), vn(2027, 1, 1, 8, 0)),
        (vn(2028, 2, 28, 23, 45), vn(2028, 2, 29, 8, 0)),
    ],
    ids=["10:00", "22:59", "23:00", "23:30", "00:30", "midnight", "new-year", "leap-day"],
)
def test_deadline_in_local_time(arrival: datetime, deadline: datetime) -> None:
    got = notification_deadline(arrival)
    assert got == deadline
    assert got.tzinfo is UTC  # stored in UTC


def test_deadline_one_second_before_the_cutoff_is_the_same_evening() -> None:
    arrival = datetime(2026, 3, 14, 22, 59, 59, tzinfo=VN)
    assert notification_deadline(arrival) == vn(2026, 3, 14, 23, 0)


@pytest.mark.parametrize(
    ("arrival_utc", "deadline_utc"),
    [
        # 18:30 UTC on the 1st is 01:30 on the 2nd in Vietnam: the deadline is 23:00 on the 2nd (16:00 UTC)
        (datetime(2026, 3, 1, 18, 30, tzinfo=UTC), datetime(2026, 3, 2, 16, 0, tzinfo=UTC)),
        # 16:30 UTC is 23:30 in Vietnam, the same calendar day: 08:00 next day (01:00 UTC)
        (datetime(2026, 3, 1, 16, 30, tzinfo=UTC), datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
        # 15:59 UTC is 22:59 in Vietnam
        (datetime(2026, 3, 1, 15, 59, tzinfo=UTC), datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
    ],
)
def test_deadline_reads_utc_arrivals_in_vietnam_time(arrival_utc: datetime, deadline_utc: datetime) -> None:
    assert notification_deadline(arrival_utc) == deadline_utc


def test_deadline_from_another_offset() -> None:
    # 20:00 in Paris (UTC+1 in winter) is 02:00 next morning in Vietnam: deadline 23:00 that day
    paris = ZoneInfo("Europe/Paris")
    assert notification_deadline(datetime(2026, 1, 10, 20, 0, tzinfo=paris)) == vn(2026, 1, 11, 23, 0)


def test_deadline_refuses_a_naive_arrival() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        notification_deadline(datetime(2026, 3, 14, 10, 0))


@pytest.mark.parametrize(
    ("arrival", "deadline"),
    [
        (vn(2026, 3, 14, 21, 59), vn(2026, 3, 14, 22, 0)),
        (vn(2026, 3, 14, 22, 0), vn(2026, 3, 15, 9, 30)),
        (vn(2026, 3, 14, 23, 30), vn(2026, 3, 15, 9, 30)),
    ],
)
def test_deadline_settings_for_cutoff_and_morning(arrival: datetime, deadline: datetime) -> None:
    got = notification_deadline(arrival, evening_cutoff=time(22, 0), morning_deadline=time(9, 30))
    assert got == deadline


def test_deadline_in_another_zone_setting() -> None:
    bangkok = ZoneInfo("Asia/Bangkok")  # same offset: same answer
    tokyo = ZoneInfo("Asia/Tokyo")  # two hours ahead: 22:30 in Vietnam is 00:30 in Tokyo
    arrival = vn(2026, 3, 14, 22, 30)
    assert notification_deadline(arrival, tz=bangkok) == vn(2026, 3, 14, 23, 0)
    assert notification_deadline(arrival, tz=tokyo) == datetime(2026, 3, 15, 23, 0, tzinfo=tokyo)


@pytest.mark.parametrize(("text", "expected"), [("23:00", time(23, 0)), ("08:00", time(8, 0)), ("7:05", time(7, 5))])
def test_parse_hhmm(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, VN, ZoneInfo("Europe/Paris"), ZoneInfo("America/Los_Angeles")]),
    )
)
def test_deadline_properties(arrival: datetime) -> None:
    deadline = notification_deadline(arrival)
    local_arrival = arrival.astimezone(VN)
    local_deadline = deadline.astimezone(VN)
    assert deadline > arrival
    assert deadline - arrival <= timedelta(hours=33)
    assert deadline - arrival <= timedelta(hours=23)  # tighter: at most from 00:00 to 23:00
    assert local_deadline.time() in (time(23, 0), time(8, 0))
    if local_arrival.time() < time(23, 0):
        assert (local_deadline.date(), local_deadline.time()) == (local_arrival.date(), time(23, 0))
    else:
        assert (local_deadline.date(), local_deadline.time()) == (local_arrival.date() + timedelta(days=1), time(8))


# --------------------------------------------------------------------------------------------------------
# notice_state
# --------------------------------------------------------------------------------------------------------

DEADLINE = vn(2026, 3, 14, 23, 0)


@pytest.mark.parametrize(
    ("filed_at", "now", "state"),
    [
        (None, DEADLINE - timedelta(hours=1), NoticeState.PENDING),
        (None, DEADLINE, NoticeState.PENDING),  # not past yet at the deadline itself
        (None, DEADLINE + timedelta(seconds=1), NoticeState.OVERDUE),
        (DEADLINE - timedelta(hours=2), DEADLINE + timedelta(days=3), NoticeState.ON_TIME),
        (DEADLINE, DEADLINE + timedelta(days=3), NoticeState.ON_TIME),  # equality is on time
        (DEADLINE + timedelta(seconds=1), DEADLINE + timedelta(days=3), NoticeState.LATE),
        (DEADLINE + timedelta(hours=5), DEADLINE + timedelta(hours=5), NoticeState.LATE),
    ],
    ids=["pending", "pending-at-deadline", "overdue", "on-time", "on-time-at-deadline", "late", "late-now"],
)
def test_notice_state(filed_at: datetime | None, now: datetime, state: NoticeState) -> None:
    assert notice_state(DEADLINE, filed_at, now) == state


def test_notice_state_compares_instants_not_wall_clocks() -> None:
    # Filed at 15:30 UTC (22:30 in Vietnam): before the 23:00 deadline; at 16:30 UTC (23:30): after it.
    assert notice_state(DEADLINE, datetime(2026, 3, 14, 15, 30, tzinfo=UTC), DEADLINE) == NoticeState.ON_TIME
    assert notice_state(DEADLINE, datetime(2026, 3, 14, 16, 30, tzinfo=UTC), DEADLINE) == NoticeState.LATE


def test_notice_state_values_are_the_api_strings() -> None:
    assert [s.value for s in NoticeState] == ["pending", "overdue", "on_time", "late"]


# --------------------------------------------------------------------------------------------------------
# stay_days / is_long_stay
# --------------------------------------------------------------------------------------------------------

ARRIVAL = vn(2026, 1, 1, 14, 0)


def test_stay_days_counts_local_calendar_days() -> None:
    assert stay_days(ARRIVAL, vn(2026, 1, 1, 20, 0)) == 0
    assert stay_days(ARRIVAL, vn(2026, 1, 2, 9, 0)) == 1
    assert stay_days(ARRIVAL, vn(2026, 1, 30, 12, 0)) == 29
    assert stay_days(ARRIVAL, vn(2026, 1, 31, 12, 0)) == 30


def test_stay_days_crosses_midnight_in_vietnam_not_in_utc() -> None:
    # 23:30 and 00:30 next day in Vietnam are 16:30 and 17:30 UTC on one UTC day: one night all the same
    arrival = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    assert stay_days(arrival, datetime(2026, 1, 1, 17, 30, tzinfo=UTC)) == 1


def test_29_days_is_not_a_long_stay_30_is() -> None:
    assert not is_long_stay(ARRIVAL, until=vn(2026, 1, 30, 12, 0))
    assert is_long_stay(ARRIVAL, until=vn(2026, 1, 31, 12, 0))
    assert is_long_stay(ARRIVAL, until=vn(2026, 3, 1, 12, 0))


def test_expected_departure_of_30_days_flags_at_check_in() -> None:
    assert is_long_stay(ARRIVAL, until=ARRIVAL, expected_departure=date(2026, 1, 31))
    assert not is_long_stay(ARRIVAL, until=ARRIVAL, expected_departure=date(2026, 1, 30))
    assert not is_long_stay(ARRIVAL, until=ARRIVAL, expected_departure=None)


def test_long_stay_limit_is_a_setting() -> None:
    until = vn(2026, 1, 15, 12, 0)  # 14 days
    assert is_long_stay(ARRIVAL, until=until, limit_days=14)
    assert not is_long_stay(ARRIVAL, until=until, limit_days=15)
    assert is_long_stay(ARRIVAL, until=ARRIVAL, expected_departure=date(2026, 1, 8), limit_days=7)
