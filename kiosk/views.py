"""The kiosk's full-screen self check-in UI (issue 3). No models here: it calls `asm` services."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="../templates/kiosk")
