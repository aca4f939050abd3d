"""`flask establishments ...`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from asm.accounts.cli import establishment_by_code
from asm.common import ValidationError
from asm.establishments.models import EstablishmentType
from asm.establishments.services import add_rooms, create_establishment
from asm.extensions import db

establishments_cli = AppGroup("establishments", help="Cơ sở lưu trú / establishments.")


@establishments_cli.command("create")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--type", "type_", required=True, type=click.Choice([t.value for t in EstablishmentType]))
@click.option("--address", required=True)
@click.option("--commune", required=True, help="Commune code (5 digits) of the police that receive notifications.")
@click.option("--licence", default=None, help="Business licence number.")
@click.option("--phone", default=None)
@click.option("--rooms", default="", help="Comma-separated room names, e.g. 101,102,201.")
def create_command(
    code: str,
    name: str,
    type_: str,
    address: str,
    commune: str,
    licence: str | None,
    phone: str | None,
    rooms: str,
) -> None:
    """Create an establishment."""
    try:
        est = create_establishment(
            code=code,
            name=name,
            type=type_,
            address=address,
            commune_code=commune,
            licence_no=licence,
            phone=phone,
            rooms=rooms.split(",") if rooms else [],
        )
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created establishment {est.code} with {len(est.rooms)} rooms")


@establishments_cli.command("add-rooms")
@click.argument("code")
@click.argument("names", nargs=-1, required=True)
def add_rooms_command(code: str, names: tuple[str, ...]) -> None:
    """Add rooms to an establishment."""
    try:
        rooms = add_rooms(establishment_by_code(code), list(names))
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"added {len(rooms)} rooms")


@establishments_cli.command("decide")
@click.argument("code")
@click.argument("action", type=click.Choice(["approve", "ask_changes", "reject", "suspend", "reopen"]))
@click.option("--reason", default="", help="Required to ask for changes, reject or suspend; the owner sees it.")
def decide_command(code: str, action: str, reason: str) -> None:
    """The police's decision on an establishment, for scripting (the officers' page calls the same service)."""
    from asm.clock import utcnow
    from asm.establishments.registration import decide

    est = establishment_by_code(code)
    try:
        decide(est, action, reason=reason, user=None, now=utcnow())
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{est.code}: {est.status}")
