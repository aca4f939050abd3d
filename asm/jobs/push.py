"""Web Push (RFC 8030, payload encryption RFC 8291, VAPID RFC 8292) through pywebpush, and VAPID key pairs."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]  # no types shipped

from asm.jobs.models import PushSubscription

GONE = (404, 410)  # the push service forgot the subscription (RFC 8030 §7.3)


class PushError(Exception):
    """The push service did not take the message; trying again later may work."""


def enabled() -> bool:
    return bool(current_app.config.get("VAPID_PRIVATE_KEY") and current_app.config.get("VAPID_PUBLIC_KEY"))


def send(sub: PushSubscription, payload: str) -> bool:
    """Deliver one encrypted message. False: the subscription is gone (delete it). Raises PushError to retry."""
    config = current_app.config
    if not enabled():
        raise PushError("VAPID keys are not configured")
    try:
        webpush(
            subscription_info={"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
            data=payload,
            vapid_private_key=config["VAPID_PRIVATE_KEY"],
            vapid_claims={"sub": config["VAPID_SUBJECT"]},
            ttl=6 * 3600,
            timeout=float(config["PUSH_TIMEOUT_S"]),
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in GONE:
            return False
        raise PushError(f"push service answered {status}") from exc
    return True


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_vapid_keys() -> tuple[str, str]:
    """(private key, public key), both base64url: the private one as pywebpush reads it (the raw 32-byte scalar),
    the public one as the browser's `applicationServerKey` (the uncompressed point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(private), b64url(public)
