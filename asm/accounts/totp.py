"""The second factor, pure: TOTP codes (RFC 6238, through pyotp: 30-second steps, 6 digits, SHA-1, as every
authenticator app reads them), the enrolment QR code, and one-time recovery codes.

A code is accepted for the current step and one step either side (clocks drift), never for a step at or before
the last one accepted for the same user: a code seen over a shoulder or replayed is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed from paper
RECOVERY_COUNT = 10
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An inline SVG (no style attribute, so the Content-Security-Policy allows it)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="TOTP")


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an app that cannot scan."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` is valid for (now, or one step either side), if it is later than `last_step`."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6 or len(code.strip()) > 9:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1)[: 1 + 2 * DRIFT_STEPS]:
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_COUNT) -> list[str]:
    """Codes of 12 characters (about 59 bits each), shown as xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def recovery_code_hash(code: str) -> str:
    """SHA-256 of the code as typed, without spaces, dashes or case."""
    plain = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(plain.encode()).hexdigest()
