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


# --- the one way dates and times are shown (pages, PDFs, exports, receipts; issue 17) --------------------------
# dd/mm/yyyy and HH:MM in Asia/Ho_Chi_Minh, the same numbers in English. Templates use the filters of the same names
# (asm/web/templating.py), the PDF builders asm/pdf/common.py's format_date/format_datetime, which call these.
DATE_FORMAT, TIME_FORMAT = "%d/%m/%Y", "%H:%M"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"


def _parsed(value: date | datetime | str) -> date | datetime | str:
    """A stored ISO string (a stay event's data: "2026-12-05", "2026-11-20T16:00:00+00:00") as a date or datetime;
    a string that is no date comes back as it is (shown as stored, never an error page)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return value


def fmt_date(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy; a datetime is first moved to Vietnam time. Empty for None or ""."""
    if value is None or value == "":
        return ""
    value = _parsed(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime(DATE_FORMAT)


def fmt_datetime(value: datetime | str | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time (a stored datetime is UTC). A plain date shows as fmt_date."""
    if value is None or value == "":
        return ""
    parsed = _parsed(value)
    if isinstance(parsed, str):
        return parsed
    if not isinstance(parsed, datetime):
        return parsed.strftime(DATE_FORMAT)
    return to_local(parsed).strftime(DATETIME_FORMAT)


def fmt_time(value: datetime | str | None) -> str:
    """HH:MM in Vietnam time."""
    if value is None or value == "":
        return ""
    parsed = _parsed(value)
    return to_local(parsed).strftime(TIME_FORMAT) if isinstance(parsed, datetime) else ""


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
