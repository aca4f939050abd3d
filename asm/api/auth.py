"""Bearer tokens for the JSON API: one indexed look-up per request, in plain SQL (`asm.rawdb`), and the
per-token API rate limit.

A route that checks the token again in its own write (`@token_rechecked`: the one-statement filing on PostgreSQL,
whose statement writes nothing unless the token is still live and its establishment's decision unchanged) may use
the identity remembered by this process for `API_TOKEN_CACHE_S` seconds instead of a look-up; when its write does
not happen, `confirm_token()` looks the token up before anything else is done. Every other route looks it up on
every request, so a revoked token is refused at once everywhere.

The limit (`RATELIMIT_API`) is counted here, per token, once the token is known (`asm.ratelimit`, memory or
Redis with `REDIS_URL`). A route marked `@api_limits("RATELIMIT_SCAN")` counts against that stricter limit too.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, current_app, g, jsonify, request

from asm import ratelimit, rawdb
from asm.accounts.services import TOKEN_PREFIX, hash_secret
from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_SQL = """
SELECT t.id, t.name, t.establishment_id, e.commune_code, e.status, e.status_reason
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
    status: str  # the police's decision (issue 16): the filing core refuses all but approved, with the reason
    status_reason: str | None

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


class RememberedTokens:
    """Identities of live tokens for a few seconds (at most `size` of them, the least used go first), by the
    secret's hash as stored in the database: no secret is kept beyond its request."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[float, TokenIdentity]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, secret: str, max_age_s: float) -> TokenIdentity | None:
        key = hash_secret(secret)
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or time.monotonic() - entry[0] >= max_age_s:
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, secret: str, token: TokenIdentity) -> None:
        key = hash_secret(secret)
        with self.lock:
            self.entries[key] = (time.monotonic(), token)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def forget(self, secret: str) -> None:
        key = hash_secret(secret)
        with self.lock:
            self.entries.pop(key, None)


remembered = RememberedTokens()


def token_rechecked(view: F) -> F:
    """Mark a route whose write checks the token again (see the module's docstring)."""
    view.token_rechecked = True  # type: ignore[attr-defined]
    return view


def authenticate_request() -> bool:
    secret = bearer_secret()
    if secret is None:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    max_age = current_app.config["API_TOKEN_CACHE_S"] if getattr(view, "token_rechecked", False) else 0
    token = remembered.get(secret, max_age) if max_age > 0 else None
    g.api_token_remembered = token is not None
    if token is None:
        token = token_for_secret(secret)
        if token is None:
            remembered.forget(secret)
            return False
        remembered.put(secret, token)
    g.api_token = token
    return True


def unauthorized() -> Response:
    response = jsonify(error={"code": "unauthorized", "message": "Bearer token missing or invalid"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="asm"'
    return response


def confirm_token() -> bool:
    """Before a `@token_rechecked` route writes by another way than its checked statement: the token looked up
    now, if the request was let in on a remembered identity. False: the token is no longer live."""
    if not g.get("api_token_remembered"):
        return True
    secret = bearer_secret()
    token = token_for_secret(secret) if secret else None
    g.api_token_remembered = False
    if token is None:
        if secret:
            remembered.forget(secret)
        return False
    if secret:
        remembered.put(secret, token)
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


def count_rate_limits() -> None:
    """Count this request against its token's limits; 429 once one is used up."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = f"tok:{current_token().id}"
    for name in ("RATELIMIT_API", *getattr(view, "api_limits", ())):
        ratelimit.check(current_app.config[name], name, key)
