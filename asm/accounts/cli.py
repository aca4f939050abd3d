"""`flask users ...` and `flask tokens ...`: the same services as the pages."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from asm.accounts.models import ApiToken, Role
from asm.accounts.services import create_token, create_user, revoke_token
from asm.clock import utcnow
from asm.common import ValidationError
from asm.establishments.models import Establishment
from asm.extensions import db

users_cli = AppGroup("users", help="Tài khoản người dùng / user accounts.")
tokens_cli = AppGroup("tokens", help="Khóa API của cơ sở / establishment API tokens.")


def establishment_by_code(code: str) -> Establishment:
    est = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if est is None:
        raise click.ClickException(f"no establishment with code {code!r}")
    return est


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--full-name", default="")
@click.option("--establishment", "establishments", multiple=True, help="Establishment code (owner, clerk).")
@click.option("--commune", help="Commune code (officer).")
@click.option("--province", help="Province code (supervisor).")
def create_user_command(
    username: str,
    role: str,
    password: str,
    full_name: str,
    establishments: tuple[str, ...],
    commune: str | None,
    province: str | None,
) -> None:
    """Create a user of any role."""
    ests = [establishment_by_code(code) for code in establishments]
    try:
        user = create_user(
            username=username,
            password=password,
            role=role,
            full_name=full_name,
            establishments=ests,
            commune_code=commune,
            province_code=province,
        )
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created user {user.username} ({user.role})")


@tokens_cli.command("create")
@click.option("--establishment", required=True, help="Establishment code.")
@click.option("--name", default="api", help="What the token is for, e.g. the hotel software.")
def create_token_command(establishment: str, name: str) -> None:
    """Create a bearer token; the secret is printed once, on the last line."""
    token, secret = create_token(establishment_by_code(establishment), name=name)
    db.session.commit()
    click.echo(f"token {token.id} '{token.name}' for {establishment}; keep it secret, it is not shown again:")
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke a token by its id."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    revoke_token(token, now=utcnow())
    db.session.commit()
    click.echo(f"revoked token {token_id}")
