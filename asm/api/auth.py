"""Bearer tokens for the JSON API: one indexed look-up per request, in plain SQL (`asm.rawdb`), and the
per-token API rate limit.

The limit (`RATELIMIT_API`) is counted here, with the `limits` strategy and storage of Flask-Limiter (memory, or
Redis with `REDIS_URL`), rather than by Flask-Limiter's decorators: their machinery cost 0.3 ms of Python per
request, a quarter of a whole filing (docs/PERFORMANCE.md), so Flask-Limiter skips the API blueprint. A route
marked `@api_limits("RATELIMIT_SCAN")` counts against that stricter limit too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from limits import RateLimitItem, parse
from werkzeug.wrappers import Response

from asm import rawdb
from asm.accounts.services import TOKEN_PREFIX, hash_secret
from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db, limiter

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_SQL = """
SELECT t.id, t.name, t.establishment_id, e.commune_code
FROM api_tokens t JOIN establishments e ON e.id = t.establishment_id
WHERE t.secret_hash = %(hash)s AND t.revoked_at IS NULL AND e.active
"""


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """Whose request this is: a live token of an active establishment."""

    id: int
    name: str
    establishment_id: int
    commune_code: str

    @property
    def establishment(self) -> Establishment:
        establishment = db.session.get(Establishment, self.establishment_id)
        assert establishment is not None  # checked by the look-up; establishments are never deleted
        return establishment


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def token_for_secret(secret: str) -> TokenIdentity | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with rawdb.connection() as conn:
        row = conn.fetch_one(TOKEN_SQL, {"hash": hash_secret(secret)})
    return TokenIdentity(*row) if row else None


def authenticate_request() -> bool:
    secret = bearer_secret()
    token = token_for_secret(secret) if secret else None
    if token is None:
        return False
    g.api_token = token
    return True


def current_token() -> TokenIdentity:
    return g.api_token


def token_actor() -> Actor:
    token = current_token()
    return Actor(label=f"API: {token.name}", token_id=token.id, kind="token")


def api_limits(*config_keys: str) -> Callable[[F], F]:
    """Limits of a route on top of `RATELIMIT_API`, named by their config keys (e.g. `RATELIMIT_SCAN`)."""

    def mark(view: F) -> F:
        view.api_limits = config_keys  # type: ignore[attr-defined]
        return view

    return mark


def over_rate_limit() -> Response | None:
    """Count this request against its token's limits; a 429 answer once one is used up."""
    if not limiter.enabled:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    key = rate_key()
    strategy = limiter.limiter
    for name in ("RATELIMIT_API", *getattr(view, "api_limits", ())):
        item = _limit(current_app.config[name])
        allowed = strategy.hit(item, name, key)
        reset_at, remaining = strategy.get_window_stats(item, name, key)
        counted = (item.amount, remaining, int(reset_at))
        if "api_rate" not in g or remaining < g.api_rate[1]:
            g.api_rate = counted  # the headers tell of the limit closest to its end
        if not allowed:
            g.api_rate = counted
            response = jsonify(error={"code": "too_many_requests", "message": f"Rate limit exceeded: {item}"})
            response.status_code = 429
            return response
    return None


def rate_limit_headers(response: Response) -> Response:
    """X-RateLimit-* on every API answer, Retry-After on a 429 (after_request)."""
    counted = g.get("api_rate")
    if counted is not None and current_app.config["RATELIMIT_HEADERS_ENABLED"]:
        amount, remaining, reset_at = counted
        response.headers["X-RateLimit-Limit"] = str(amount)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset_at)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(reset_at - int(time.time()), 1))
    return response


@lru_cache(maxsize=8)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def rate_key() -> str:
    """Rate limits count per token (hashed), or per address without one."""
    secret = bearer_secret()
    if secret:
        return "tok:" + hashlib.sha256(secret.encode()).hexdigest()[:16]
    return "ip:" + (request.remote_addr or "?")
