"""`flask units load`: the 34 provinces and 3,321 communes; `flask units remote`: communes in remote areas."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from asm.common import ValidationError
from asm.extensions import db
from asm.geo.services import load_units, remote_communes, set_remote

units_cli = AppGroup("units", help="Đơn vị hành chính / administrative units.")


@units_cli.command("load")
def load_command() -> None:
    """Load or refresh the administrative units shipped in asm/geo/data."""
    provinces, communes = load_units()
    db.session.commit()
    click.echo(f"units: {provinces} provinces and {communes} communes added")


@units_cli.command("remote")
@click.argument("codes", nargs=-1)
@click.option("--off", is_flag=True, help="Unmark: the 12-hour deadline applies again.")
def remote_command(codes: tuple[str, ...], off: bool) -> None:
    """Mark communes (by code) as remote areas: a foreign guest's declaration is due 24 h after arrival there,
    not 12 (Law 47/2014 Art. 33(2); no public list exists: docs/FOREIGNERS.md). Without codes: list them."""
    if not codes:
        for commune in remote_communes():
            click.echo(f"{commune.code}\t{commune.full_name}")
        return
    try:
        changed = set_remote(list(codes), remote=not off)
    except ValidationError as exc:
        raise click.ClickException(" ".join(exc.messages())) from None
    db.session.commit()
    state = "not remote (12 h)" if off else "remote (24 h)"
    for commune in changed:
        click.echo(f"{commune.code}\t{commune.full_name}: {state}")
