"""Police: dashboard, person search, watch list, compliance reports (issue 5)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("police", __name__, url_prefix="/cong-an")
