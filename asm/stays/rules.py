"""The pure rules of a stay notification: deadline, state, long stays. No Flask, no database."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class NoticeState(enum.StrEnum):
    PENDING = "pending"  # not filed yet, deadline not passed
    OVERDUE = "overdue"  # not filed, deadline passed
    ON_TIME = "on_time"
    LATE = "late"


def parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def notification_deadline(
    arrived_at: datetime,
    *,
    evening_cutoff: time = time(23, 0),
    morning_deadline: time = time(8, 0),
    tz: ZoneInfo = VN_TZ,
) -> datetime:
    """Luật Cư trú Art. 30(4): before 23:00 on the day of arrival; arrivals from 23:00 on, before 08:00 next day.

    The arrival is read in local time; the deadline is returned in UTC.
    """
    if arrived_at.tzinfo is None:
        raise ValueError("arrived_at must be timezone-aware")
    local = arrived_at.astimezone(tz)
    if local.time() < evening_cutoff:
        deadline = datetime.combine(local.date(), evening_cutoff, tz)
    else:
        deadline = datetime.combine(local.date() + timedelta(days=1), morning_deadline, tz)
    return deadline.astimezone(UTC)


def notice_state(deadline_at: datetime, filed_at: datetime | None, now: datetime) -> NoticeState:
    if filed_at is None:
        return NoticeState.OVERDUE if now > deadline_at else NoticeState.PENDING
    return NoticeState.ON_TIME if filed_at <= deadline_at else NoticeState.LATE


def foreign_declaration_deadline(
    arrived_at: datetime, *, hours: int = 12, remote_hours: int = 24, remote: bool = False
) -> datetime:
    """Law 47/2014 on foreigners, Art. 33(2): the establishment declares a foreigner's temporary residence within
    12 hours of arrival, 24 hours in remote areas (both settings: FOREIGN_DECLARATION_HOURS, _REMOTE_HOURS; which
    commune is remote is a flag per commune). Counted from the arrival itself, day or night."""
    if arrived_at.tzinfo is None:
        raise ValueError("arrived_at must be timezone-aware")
    return (arrived_at + timedelta(hours=remote_hours if remote else hours)).astimezone(UTC)


def declaration_state(deadline_at: datetime, declared_at: datetime | None, now: datetime) -> NoticeState:
    """Pending (not declared, deadline ahead), overdue (not declared, deadline passed), on time, or late."""
    return notice_state(deadline_at, declared_at, now)


def stay_days(arrived_at: datetime, until: datetime, *, tz: ZoneInfo = VN_TZ) -> int:
    """Calendar days counted as nights in local time: arriving and leaving the same day is day 0."""
    return (until.astimezone(tz).date() - arrived_at.astimezone(tz).date()).days


def is_long_stay(
    arrived_at: datetime,
    *,
    until: datetime,
    expected_departure: date | None = None,
    limit_days: int = 30,
    tz: ZoneInfo = VN_TZ,
) -> bool:
    """A stay reaching `limit_days` falls under temporary-residence registration (tạm trú), not lưu trú."""
    if stay_days(arrived_at, until, tz=tz) >= limit_days:
        return True
    if expected_departure is not None:
        return (expected_departure - arrived_at.astimezone(tz).date()).days >= limit_days
    return False
