"""Hospitals: wards, beds, admission, carers, transfers, discharge, bed board, census (issue 4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hospital", __name__, url_prefix="/benh-vien/<code>")
