"""`flask police ...`: bind police users to their area (the same service as the admin page)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from asm.accounts.models import User
from asm.common import ValidationError
from asm.extensions import db
from asm.police.services import assign_area

police_cli = AppGroup("police", help="Công an: địa bàn cán bộ / police areas.")


@police_cli.command("assign")
@click.argument("username")
@click.option("--commune", help="Commune code (an officer's ward).")
@click.option("--province", help="Province code (a supervisor's province).")
def assign_command(username: str, commune: str | None, province: str | None) -> None:
    """Move an officer to another commune, or a supervisor to another province."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        assign_area(user, commune_code=commune, province_code=province)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{user.username}: {user.commune_code or user.province_code}")
