"""Login defence: a back-off per account that guessing cannot turn into a long lockout of the real user.

- Per address, every login and second-factor attempt is rate limited (`RATELIMIT_LOGIN`, asm/ratelimit.py).
- Per account, failures in a row (wrong password or wrong second-factor code) are counted; after
  `LOGIN_BACKOFF_AFTER` of them each further failure locks the account for BASE × 2^(n − AFTER) seconds, at most
  `LOGIN_BACKOFF_MAX_SECONDS`. While locked, an attempt is refused before the password is looked at, and is not
  counted: a hundred guesses from a hundred addresses earn the attacker five tries and a lock, never a login, and
  the lock never lasts longer than the cap after the last counted failure.
- Per source: a browser the user has logged in from carries a signed device cookie (`asm_device`, a random nonce
  per user) and is counted on its own. Guesses from elsewhere lock out the unknown browsers only; the officer at
  their own terminal logs in meanwhile (OWASP's "device cookies" against account lockout).

The counts live where the rate limits do: in each process by default, in Redis (`REDIS_URL`) shared by every
worker; a successful login forgets the counts of the source it came from. Names that are not accounts are
counted the same way, so the answers do not tell which names exist.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from asm import ratelimit

NAMESPACE = "login"
DEVICE_COOKIE = "asm_device"
DEVICE_MAX_AGE = 400 * 24 * 3600
DEVICE_USERS = 8  # a shared terminal remembers this many users


@dataclass(frozen=True)
class Backoff:
    after: int
    base: int
    cap: int

    def delay(self, failures: int) -> int:
        """Seconds an account stays locked after its `failures`-th failure in a row."""
        if failures < self.after:
            return 0
        return int(min(self.base * 2 ** min(failures - self.after, 30), self.cap))


def backoff() -> Backoff:
    c = current_app.config
    return Backoff(
        int(c["LOGIN_BACKOFF_AFTER"]), int(c["LOGIN_BACKOFF_BASE_SECONDS"]), int(c["LOGIN_BACKOFF_MAX_SECONDS"])
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="asm-device")  # type: ignore[arg-type]


def _device_entries() -> list[list[str]]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        entries = _serializer().loads(raw)
    except BadSignature:
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2] if isinstance(entries, list) else []


def source_key(username: str) -> str:
    """The count an attempt for `username` goes to: this browser's own, if the user logged in from it before,
    else the account's count for every other source."""
    name = username.strip().lower()[:80]
    nonce = next((n for u, n in _device_entries() if u == name), None)
    return f"device:{name}:{nonce}" if nonce else f"account:{name}"


def locked_for(key: str) -> int:
    """Seconds until `key` may try again (0: now)."""
    strikes = ratelimit.windows().strikes(NAMESPACE, key)
    if not strikes.count:
        return 0
    wait = strikes.last_at + backoff().delay(strikes.count) - time.time()
    return math.ceil(wait) if wait > 0.001 else 0  # (epoch floats are not exact to the microsecond)


def fail(key: str) -> tuple[int, int]:
    """Count a failure; (failures in a row, seconds now locked)."""
    forget = int(current_app.config["LOGIN_STRIKES_FORGET_SECONDS"])
    strikes = ratelimit.windows().strike(NAMESPACE, key, forget)
    return strikes.count, backoff().delay(strikes.count)


def forgive(key: str) -> None:
    ratelimit.windows().forgive(NAMESPACE, key)


def remember_device(response: Response, username: str) -> None:
    """After a full login: this browser is a known source for `username` from now on."""
    name = username.strip().lower()[:80]
    entries = _device_entries()
    nonce = next((n for u, n in entries if u == name), None) or secrets.token_urlsafe(12)
    entries = [e for e in entries if e[0] != name] + [[name, nonce]]
    value: Any = _serializer().dumps(entries[-DEVICE_USERS:])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE,
        path="/dang-nhap",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
