"""Time at the edges: UTC-aware datetimes inside, Asia/Ho_Chi_Minh only for display and the deadline rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Dates outside these years are typing mistakes; at the edges of Python's range (year 1, 9999-12-31) a date cannot
# even move by a time zone or a day. Input outside them is refused (422), never computed with.
MIN_YEAR, MAX_YEAR = 1900, 2999


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored datetime is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def to_local(value: datetime) -> datetime:
    return aware(value).astimezone(VN_TZ)


def local_today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%d/%m/%Y %H:%M") if value else ""


def in_supported_range(value: date | datetime) -> bool:
    """Within the years MIN_YEAR..MAX_YEAR (an aware datetime in UTC and in Vietnam time both)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            years = (value.astimezone(UTC).year, value.astimezone(VN_TZ).year)
        except OverflowError:
            return False
        return all(MIN_YEAR <= year <= MAX_YEAR for year in years)
    return MIN_YEAR <= value.year <= MAX_YEAR


def parse_local_datetime(text: str) -> datetime:
    """`2026-11-23T21:05` from an <input type=datetime-local>, read as Vietnam time, returned in UTC.

    ValueError for text that is not one, or a time outside the supported years."""
    value = datetime.fromisoformat(text)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year {value.year} is outside {MIN_YEAR}-{MAX_YEAR}")
    return value.replace(tzinfo=VN_TZ).astimezone(UTC)
