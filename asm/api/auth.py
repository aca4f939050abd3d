"""Bearer tokens for the JSON API."""

from __future__ import annotations

import hashlib

from flask import g, request

from asm.accounts.models import ApiToken
from asm.accounts.services import token_for_secret
from asm.common import Actor


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def authenticate_request() -> bool:
    secret = bearer_secret()
    token = token_for_secret(secret) if secret else None
    if token is None:
        return False
    g.api_token = token
    return True


def current_token() -> ApiToken:
    return g.api_token


def token_actor() -> Actor:
    token = current_token()
    return Actor(label=f"API: {token.name}", token_id=token.id, kind="token")


def rate_key() -> str:
    """Rate limits count per token (hashed), or per address without one."""
    secret = bearer_secret()
    if secret:
        return "tok:" + hashlib.sha256(secret.encode()).hexdigest()[:16]
    return "ip:" + (request.remote_addr or "?")
