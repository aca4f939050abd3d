"""Server-side login sessions: a row per login in `user_sessions`, in the application's database.

The browser's signed session cookie holds a random key (`SESSION_KEY`); the row holds its SHA-256, who logged
in, from where, with which browser, when, when last seen, and when and why it ended. A request is logged in only
while its row is open, its user active, and neither the idle timeout (by role) nor the absolute lifetime has
passed: ending the row ends the login at once, whatever the cookie says, so a cookie saved before a logout, a
password or role change or a disabling is refused when replayed.

Cost: one indexed SELECT (the session joined to its user) per request of a logged-in user, which replaces
Flask-Login's user lookup; last-seen is written at most once per `SESSION_TOUCH_SECONDS` per login, in its own
short transaction. API requests (bearer tokens) and kiosk requests (device cookie) never look at it.

Functions here take plain values and flush, never commit (asm/accounts/services.py style); `load` is the
Flask-Login user loader's body.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from asm.accounts.models import Role, User, UserSession
from asm.clock import aware
from asm.extensions import db

SESSION_KEY = "_sid"
POLICE_IDLE_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Limits:
    idle_police: timedelta
    idle_establishment: timedelta
    lifetime: timedelta
    touch: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            idle_police=timedelta(minutes=float(config["SESSION_IDLE_MINUTES_POLICE"])),
            idle_establishment=timedelta(minutes=float(config["SESSION_IDLE_MINUTES_ESTABLISHMENT"])),
            lifetime=timedelta(hours=float(config["SESSION_MAX_HOURS"])),
            touch=timedelta(seconds=float(config["SESSION_TOUCH_SECONDS"])),
        )

    def idle(self, role: str) -> timedelta:
        return self.idle_police if Role(role) in POLICE_IDLE_ROLES else self.idle_establishment

    def expiry(self, row: UserSession, role: str, now: datetime) -> str | None:
        """Why an open login has run out ("idle", "lifetime"), or None while it holds."""
        if now - aware(row.created_at) >= self.lifetime:
            return "lifetime"
        if now - aware(row.last_seen_at) >= self.idle(role):
            return "idle"
        return None


def start(user: User, *, ip: str | None, user_agent: str | None, now: datetime) -> tuple[UserSession, str]:
    """A new login for `user`; returns the row and the key for the cookie (shown once, stored hashed)."""
    key = secrets.token_urlsafe(32)
    row = UserSession(
        key_hash=key_hash(key),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or "")[:255] or None,
    )
    db.session.add(row)
    db.session.flush()
    return row, key


def end(row: UserSession, *, reason: str, now: datetime) -> None:
    if row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason
        db.session.flush()


def end_all(user_id: int, *, reason: str, now: datetime) -> int:
    """End every open login of a user; how many were open."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_sessions(user: User, *, limits: Limits, now: datetime) -> list[UserSession]:
    """A user's logins that still hold, the most recently seen first."""
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    live = [row for row in rows if limits.expiry(row, user.role, now) is None]
    return sorted(live, key=lambda row: aware(row.last_seen_at), reverse=True)


def session_of(user_id: int, session_id: int) -> UserSession | None:
    return db.session.scalar(select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id))


# Built once: a request's lookup only binds the key's hash (the statement's compiled form is cached too).
_BY_KEY = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.key_hash == bindparam("key_hash"))
)


@dataclass(frozen=True)
class Loaded:
    user: User | None
    row: UserSession | None
    refused: str | None  # why a cookie's login was refused ("ended", "idle", ...), None when no cookie or fine
    write: Any = None  # a statement to run in its own transaction (last-seen, or the end of an expired login)


def load(key: str | None, user_id: str, *, limits: Limits, now: datetime, ip: str | None) -> Loaded:
    """The user of a request whose cookie carries `key` and Flask-Login's `user_id`."""
    if not key:
        return Loaded(None, None, "no_key" if user_id else None)
    found = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == key_hash(key))
    ).first()
    if found is None:
        return Loaded(None, None, "unknown")
    row, user = found
    if str(user.id) != str(user_id) or row.ended_at is not None:
        return Loaded(None, row, row.end_reason or "ended")
    if not user.active:
        return Loaded(None, row, "disabled")
    expired = limits.expiry(row, user.role, now)
    if expired:
        end_it = (
            update(UserSession)
            .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=expired)
        )
        return Loaded(None, row, expired, end_it)
    write = None
    if now - aware(row.last_seen_at) >= limits.touch:
        write = (
            update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now, ip=(ip or None) and ip[:45])
        )
    return Loaded(user, row, None, write)


def describe_device(user_agent: str | None) -> str:
    """A short name for a browser from its User-Agent: "Chrome · Windows", "Safari · iPhone"."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return " · ".join(part for part in (browser, system) if part) or (ua[:60] or "?")
