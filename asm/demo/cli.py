"""`flask demo load`."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from asm.clock import utcnow
from asm.demo.services import PASSWORD, load_demo
from asm.extensions import db

demo_cli = AppGroup("demo", help="Dữ liệu mẫu / demo data.")


@demo_cli.command("load")
@click.option("--seed", default=2025, show_default=True)
def load_command(seed: int) -> None:
    """Load the demo establishments, users and stays (once; later runs do nothing). Never in production: the
    demo's users share a well-known password that the password rules would refuse."""
    if os.environ.get("ASM_ENV", "dev") == "prod":
        raise click.ClickException("demo data is for development only (ASM_ENV=prod)")
    counts = load_demo(now=utcnow(), seed=seed)
    db.session.commit()
    if not counts:
        click.echo("demo data already loaded")
        return
    click.echo(f"demo: {counts['establishments']} establishments, {counts['stays']} stays; password {PASSWORD!r}")
