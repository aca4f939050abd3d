"""Time at the edges: UTC-aware datetimes inside, Asia/Ho_Chi_Minh only for display and the deadline rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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


def parse_local_datetime(text: str) -> datetime:
    """`2026-11-23T21:05` from an <input type=datetime-local>, read as Vietnam time, returned in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ).astimezone(UTC)
