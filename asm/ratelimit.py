"""Rate limits: fixed windows ("10 per minute") counted per key, in this process or in Redis.

`RATELIMIT_STORAGE_URI` picks where the counts live: `memory://` (the default) counts in this process with a
dict and a lock, so each gunicorn worker counts on its own; `redis://...` (`REDIS_URL`) shares the counts between
every worker and machine, one round trip a hit. Limits are written as the `limits` package parses them.
`RATELIMIT_ENABLED = False` turns every limit off; `RATELIMIT_HEADERS_ENABLED` adds X-RateLimit-Limit/Remaining/
Reset to limited answers, and every 429 carries Retry-After.

Views declare their limits with `@rate_limit(...)`; the API counts its per-token limits in `asm.api.auth`, which
calls `hit` the same way. This replaces Flask-Limiter, whose hooks ran on every request and whose memory storage
starts a timer thread every few requests (together 0.2 ms of a 1.2 ms API filing), and whose Redis storage took
two round trips a hit (0.3 ms); docs/PERFORMANCE.md.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "asm.ratelimit"
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Count:
    """One hit's outcome: allowed or not, and the window it was counted in."""

    allowed: bool
    amount: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    def retry_after(self) -> int:
        return max(self.reset_at - int(time.time()), 1)


@dataclass(frozen=True, slots=True)
class Strikes:
    """Consecutive failures counted against a key (a login back-off), and when the last one was (epoch s)."""

    count: int = 0
    last_at: float = 0.0


class Windows(Protocol):
    def hit(self, item: RateLimitItem, namespace: str, key: str) -> Count: ...

    def strike(self, namespace: str, key: str, forget_after: int) -> Strikes: ...

    def strikes(self, namespace: str, key: str) -> Strikes: ...

    def forgive(self, namespace: str, key: str) -> None: ...


class LocalWindows:
    """Counts in this process: one fixed window per (limit, namespace, key), expired ones swept now and then."""

    SWEEP_EVERY = 4096  # new windows between sweeps of the expired ones

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[tuple[str, str, str], list[int]] = {}  # -> [ends_at, count]
        self.opened = 0
        self.struck: dict[tuple[str, str], tuple[int, float, float]] = {}  # -> (count, last_at, forget_at)

    def hit(self, item: RateLimitItem, namespace: str, key: str) -> Count:
        now = time.time()
        name = (str(item), namespace, key)
        with self.lock:
            window = self.windows.get(name)
            if window is None or window[0] <= now:
                window = self.windows[name] = [int(now) + item.get_expiry(), 0]
                self.opened += 1
                if self.opened % self.SWEEP_EVERY == 0:
                    self.windows = {k: w for k, w in self.windows.items() if w[0] > now}
            allowed = window[1] < item.amount
            if allowed:
                window[1] += 1
            return Count(allowed, item.amount, item.amount - window[1], window[0])

    # Strikes: failures in a row per key, forgotten `forget_after` seconds after the last one.

    def strike(self, namespace: str, key: str, forget_after: int) -> Strikes:
        now = time.time()
        with self.lock:
            if len(self.struck) > self.SWEEP_EVERY:
                self.struck = {k: v for k, v in self.struck.items() if v[2] > now}
            count, _last, forget_at = self.struck.get((namespace, key), (0, 0.0, 0.0))
            if forget_at <= now:
                count = 0
            self.struck[(namespace, key)] = (count + 1, now, now + forget_after)
            return Strikes(count + 1, now)

    def strikes(self, namespace: str, key: str) -> Strikes:
        found = self.struck.get((namespace, key))
        if found is None or found[2] <= time.time():
            return Strikes()
        return Strikes(found[0], found[1])

    def forgive(self, namespace: str, key: str) -> None:
        with self.lock:
            self.struck.pop((namespace, key), None)


class SharedWindows:
    """Counts in Redis, shared by every process using it, one round trip (a script) per count.

    A limit of 2 × `LEASE_SHARE` or more a window (the API's 6,000 a minute per token) is counted in leases: a
    process takes 1/`LEASE_SHARE` of the limit at once and spends it locally, so Redis is asked once per lease
    instead of once per request (each ask cost 0.13 ms of a 0.65 ms filing). Leased units count as used, so a
    limit is never exceeded; it may be reached up to one lease per process early. Small limits (logins, PINs)
    count every hit.
    """

    LEASE_SHARE = 100
    SCRIPT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
    STRIKE = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n
"""

    def __init__(self, uri: str) -> None:
        import redis

        self.client = redis.Redis.from_url(uri, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.take = self.client.register_script(self.SCRIPT)
        self.add_strike = self.client.register_script(self.STRIKE)
        self.errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.lock = threading.Lock()
        self.leases: dict[str, list[int]] = {}  # -> [ends_at, units left, the window's count when taken]
        self.fallback = LocalWindows()
        self.warned_at = 0.0

    def hit(self, item: RateLimitItem, namespace: str, key: str) -> Count:
        """Counted in Redis; while Redis is unreachable, in this process (logged): limits still hold per worker,
        and a filing is never refused for want of a counter."""
        try:
            return self._hit(item, namespace, key)
        except self.errors as exc:
            self._warn(exc)
            return self.fallback.hit(item, namespace, key)

    def _hit(self, item: RateLimitItem, namespace: str, key: str) -> Count:
        name = f"asm:ratelimit:{item}:{namespace}:{key}"
        take = max(item.amount // self.LEASE_SHARE, 1)
        if take > 1:
            with self.lock:
                lease = self.leases.get(name)
                if lease is not None and lease[1] > 0 and lease[0] > time.time():
                    lease[1] -= 1
                    return Count(True, item.amount, max(item.amount - lease[2], 0) + lease[1], lease[0])
        n, ttl = self.take(keys=[name], args=[item.get_expiry(), take])
        ends_at = int(time.time()) + int(ttl)
        granted = min(take, item.amount - (n - take))  # what of this take fits in the limit
        if granted <= 0:
            return Count(False, item.amount, 0, ends_at)
        if take > 1:
            with self.lock:
                self.leases[name] = [ends_at, granted - 1, n]
                if len(self.leases) > 4096:
                    now = time.time()
                    self.leases = {k: v for k, v in self.leases.items() if v[0] > now}
        return Count(True, item.amount, max(item.amount - n, 0) + granted - 1, ends_at)

    def strike(self, namespace: str, key: str, forget_after: int) -> Strikes:
        now = time.time()
        try:
            n = self.add_strike(keys=[f"asm:strikes:{namespace}:{key}"], args=[repr(now), forget_after])
            return Strikes(int(n), now)
        except self.errors as exc:
            self._warn(exc)
            return self.fallback.strike(namespace, key, forget_after)

    def strikes(self, namespace: str, key: str) -> Strikes:
        try:
            n, at = self.client.hmget(f"asm:strikes:{namespace}:{key}", ["n", "at"])
        except self.errors as exc:
            self._warn(exc)
            return self.fallback.strikes(namespace, key)
        return Strikes(int(n), float(at)) if n is not None and at is not None else Strikes()

    def forgive(self, namespace: str, key: str) -> None:
        try:
            self.client.delete(f"asm:strikes:{namespace}:{key}")
        except self.errors as exc:
            self._warn(exc)
        self.fallback.forgive(namespace, key)

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self.warned_at > 60:
            self.warned_at = time.monotonic()
            logger.warning("rate limits counted per process: Redis unreachable (%s)", exc)


def windows_for(uri: str) -> Windows:
    if uri.startswith("memory://"):
        return LocalWindows()
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return SharedWindows(uri)
    raise ValueError(f"RATELIMIT_STORAGE_URI / REDIS_URL: memory:// or a redis:// address, not {uri!r}")


@functools.lru_cache(maxsize=32)
def parse_limit(text: str) -> RateLimitItem:
    return parse(text)


def enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def hit(limit: str, namespace: str, key: str) -> Count:
    """Count one request against `limit` ("120 per minute"); the answer's headers tell of the tightest limit."""
    count = current_app.extensions[EXTENSION].hit(parse_limit(limit), namespace, key)
    shown = g.get("rate_count")
    if shown is None or not count.allowed or (shown.allowed and count.remaining < shown.remaining):
        g.rate_count = count
    return count


def windows() -> Windows:
    """Where this app counts: in this process, or in Redis (`REDIS_URL`)."""
    return current_app.extensions[EXTENSION]


def remote_address() -> str:
    return request.remote_addr or "unknown"


def check(limit: str, namespace: str, key: str) -> None:
    """Count one request against `limit`; over it, 429 (raised, and answered as a page or JSON like any error)."""
    if enabled() and not hit(limit, namespace, key).allowed:
        raise TooManyRequests(description=f"Rate limit exceeded: {parse_limit(limit)}")


def rate_limit(
    limit: str | Callable[[], str],
    *,
    key: Callable[[], str] = remote_address,
    methods: tuple[str, ...] | None = None,
) -> Callable[[F], F]:
    """Limit a view: `limit` is a text such as "10 per minute" or a function returning one (read from config),
    counted per `key` (the client's address by default) for this view alone; only `methods` if given.
    Over the limit, the view is not called."""

    def decorate(view: F) -> F:
        namespace = f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if methods is None or request.method in methods:
                check(limit() if callable(limit) else limit, namespace, key())
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


def add_headers(response: Response) -> Response:
    """X-RateLimit-* on every answer a limit was counted for, Retry-After on a 429 (after_request)."""
    count = g.get("rate_count")
    if count is None:
        return response
    if current_app.config.get("RATELIMIT_HEADERS_ENABLED", True):
        response.headers["X-RateLimit-Limit"] = str(count.amount)
        response.headers["X-RateLimit-Remaining"] = str(count.remaining)
        response.headers["X-RateLimit-Reset"] = str(count.reset_at)
    if response.status_code == 429:
        response.headers.setdefault("Retry-After", str(count.retry_after()))  # a view's own (a login lock) wins
    return response


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = windows_for(app.config["RATELIMIT_STORAGE_URI"])
    app.after_request(add_headers)
