"""`flask users ...` and `flask tokens ...`: the same services as the pages."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from asm.accounts import services, sessions
from asm.accounts.models import ApiToken, Role, User
from asm.accounts.services import create_token, create_user, record_access, revoke_token
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


def user_by_name(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


def _log(action: str, user: User, reason: str) -> None:
    """Account changes made from the command line go to the access log too (no user: the operator)."""
    record_access(user_id=None, action=action, target=user.username, reason=f"cli: {reason}", now=utcnow())


@users_cli.command("end-sessions")
@click.argument("username")
def end_sessions_command(username: str) -> None:
    """End every login of a user at once (a lost laptop, a suspicion)."""
    user = user_by_name(username)
    ended = sessions.end_all(user.id, reason="admin", now=utcnow())
    _log("sessions_ended", user, f"{ended} ended")
    db.session.commit()
    click.echo(f"ended {ended} sessions of {user.username}")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account; its logins end at once."""
    user = user_by_name(username)
    ended = services.set_active(user, False, now=utcnow())
    _log("user_disabled", user, f"{ended} sessions ended")
    db.session.commit()
    click.echo(f"disabled {user.username}; ended {ended} sessions")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Enable a disabled account."""
    user = user_by_name(username)
    services.set_active(user, True, now=utcnow())
    _log("user_enabled", user, "enabled")
    db.session.commit()
    click.echo(f"enabled {user.username}")


@users_cli.command("set-role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--establishment", "establishments", multiple=True, help="Establishment code (owner, clerk).")
@click.option("--commune", help="Commune code (officer).")
@click.option("--province", help="Province code (supervisor).")
def set_role_command(
    username: str, role: str, establishments: tuple[str, ...], commune: str | None, province: str | None
) -> None:
    """Give a user another role; their logins end."""
    user = user_by_name(username)
    before = user.role
    try:
        ended = services.change_role(
            user,
            role,
            establishments=[establishment_by_code(c) for c in establishments],
            commune_code=commune,
            province_code=province,
            now=utcnow(),
        )
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    _log("role_changed", user, f"{before} -> {role}; {ended} ended")
    db.session.commit()
    click.echo(f"{user.username} is now {role}; ended {ended} sessions")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(username: str, password: str) -> None:
    """Set a user's password (a forgotten one); their logins end."""
    user = user_by_name(username)
    try:
        ended = services.set_password(user, password, now=utcnow())
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    _log("password_set", user, f"{ended} sessions ended")
    db.session.commit()
    click.echo(f"password of {user.username} set; ended {ended} sessions")


@users_cli.command("reset-2fa")
@click.argument("username")
def reset_2fa_command(username: str) -> None:
    """Forget a user's authenticator and recovery codes (a lost phone); they enrol again at their next login."""
    user = user_by_name(username)
    ended = services.reset_totp(user, now=utcnow())
    _log("2fa_reset", user, f"{ended} sessions ended")
    db.session.commit()
    click.echo(f"second factor of {user.username} reset; ended {ended} sessions")


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
