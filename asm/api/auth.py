"""Bearer tokens for the JSON API: one indexed look-up per request, in plain SQL (`asm.rawdb`), and the
per-token API rate limit.

The limit (`RATELIMIT_API`) is counted here, per token, once the token is known (`asm.ratelimit`, memory or
Redis with `REDIS_URL`). A route marked `@api_limits("RATELIMIT_SCAN")` counts against that stricter limit too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, request

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


def count_rate_limits() -> None:
    """Count this request against its token's limits; 429 once one is used up."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = f"tok:{current_token().id}"
    for name in ("RATELIMIT_API", *getattr(view, "api_limits", ())):
        ratelimit.check(current_app.config[name], name, key)
