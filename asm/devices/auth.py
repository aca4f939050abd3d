"""The kiosk's device credential: a long-lived cookie set once at pairing, checked on every kiosk request."""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.wrappers import Response

from asm.devices.models import KioskDevice
from asm.devices.services import device_for_credential

COOKIE = "asm_kiosk"
COOKIE_PATH = "/kiosk"  # the browser sends it to the kiosk's own URLs only
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers allow; revocation is what ends it


def authenticate_kiosk() -> bool:
    device = device_for_credential(request.cookies.get(COOKIE))
    if device is None:
        return False
    g.kiosk_device = device
    return True


def current_device() -> KioskDevice:
    return g.kiosk_device


def set_credential_cookie(response: Response, credential: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no cross-site request carries it), Secure unless the
    configuration serves plain http (development and tests on 127.0.0.1)."""
    response.set_cookie(
        COOKIE,
        credential,
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        secure=current_app.config.get("KIOSK_COOKIE_SECURE", current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )
