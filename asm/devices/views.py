"""Kiosk devices: registration, pairing codes and revocation by the establishment owner (issue 3)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("devices", __name__, url_prefix="/co-so/<code>/kiosk")
