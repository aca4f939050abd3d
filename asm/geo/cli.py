"""`flask units load`: the 34 provinces and 3,321 communes."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from asm.extensions import db
from asm.geo.services import load_units

units_cli = AppGroup("units", help="Đơn vị hành chính / administrative units.")


@units_cli.command("load")
def load_command() -> None:
    """Load or refresh the administrative units shipped in asm/geo/data."""
    provinces, communes = load_units()
    db.session.commit()
    click.echo(f"units: {provinces} provinces and {communes} communes added")
