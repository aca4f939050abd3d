"""`flask audit verify` and `flask audit head`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from asm.audit.chains import CHAINS, verify
from asm.extensions import db

audit_cli = AppGroup("audit", help="Nhật ký chống sửa / tamper-evident logs.")


@audit_cli.command("verify")
@click.option("--chain", "names", multiple=True, help="Only these chains (default: every registered chain).")
def verify_command(names: tuple[str, ...]) -> None:
    """Walk every hash chain; report the first broken link of each and exit 1 if any is broken."""
    unknown = set(names) - set(CHAINS)
    if unknown:
        raise click.ClickException(f"unknown chains {sorted(unknown)}; known: {sorted(CHAINS)}")
    broken = False
    with db.engine.connect() as connection:
        for chain in CHAINS.values():
            if names and chain.name not in names:
                continue
            result = verify(connection, chain)
            if result.broken is None:
                click.echo(f"{chain.name}: {result.rows} rows, intact; head {result.head or '-'}")
            else:
                broken = True
                click.echo(f"BROKEN {result.broken.describe()}", err=True)
    if broken:
        raise SystemExit(1)


@audit_cli.command("head")
def head_command() -> None:
    """Print each chain's last hash: keep it somewhere the database cannot reach (a note, a ticket, an e-mail),
    so that cutting rows off the end of a chain shows too."""
    with db.engine.connect() as connection:
        for chain in CHAINS.values():
            result = verify(connection, chain)
            click.echo(f"{chain.name} {result.rows} {result.head or '-'}")
