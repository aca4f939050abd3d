"""`flask hospital ...`: set up wards and beds, and the carer settings of a hospital."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from asm.accounts.cli import establishment_by_code
from asm.common import ValidationError
from asm.extensions import db
from asm.hospital.models import BedKind
from asm.hospital.services import create_ward, require_hospital

hospital_cli = AppGroup("hospital", help="Bệnh viện: khoa, giường, người chăm sóc / hospital wards and beds.")


def parse_beds(ward_code: str, spec: str) -> list[tuple[str, str]]:
    """ "P101:3,P102:2" -> beds K1-P101-1..3 in room P101, K1-P102-1..2 in room P102."""
    beds: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        room, _, count = part.partition(":")
        if not room or not count.isdigit() or not 1 <= int(count) <= 50:
            raise click.BadParameter(f"{part!r}: expected ROOM:COUNT, e.g. P101:3")
        beds += [(room, f"{ward_code.upper()}-{room}-{n}") for n in range(1, int(count) + 1)]
    return beds


@hospital_cli.command("add-ward")
@click.argument("code")
@click.option("--ward", "ward_code", required=True, help="Ward code, e.g. K1.")
@click.option("--name", required=True, help="Ward name, e.g. 'Khoa Nội'.")
@click.option("--beds", required=True, help="Rooms and their bed counts, e.g. P101:3,P102:2.")
@click.option("--kind", default=BedKind.STANDARD.value, type=click.Choice([k.value for k in BedKind]))
@click.option("--capacity", type=int, default=None, help="Planned beds (default: the beds created).")
def add_ward_command(code: str, ward_code: str, name: str, beds: str, kind: str, capacity: int | None) -> None:
    """Add a ward with its rooms and beds to hospital CODE."""
    est = establishment_by_code(code)
    try:
        ward = create_ward(
            est, code=ward_code, name=name, beds=parse_beds(ward_code, beds), kind=kind, capacity=capacity
        )
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created ward {ward.code} with {len(ward.beds)} beds")


@hospital_cli.command("settings")
@click.argument("code")
@click.option("--max-carers", type=click.IntRange(0, 10), default=None, help="Carers allowed per patient.")
@click.option("--notify-carers/--no-notify-carers", default=None, help="File carers' stays with the police.")
def settings_command(code: str, max_carers: int | None, notify_carers: bool | None) -> None:
    """Show or change the carer settings of hospital CODE."""
    est = establishment_by_code(code)
    try:
        require_hospital(est)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    if max_carers is not None:
        est.max_carers = max_carers
    if notify_carers is not None:
        est.notify_carers = notify_carers
    db.session.commit()
    click.echo(f"{est.code}: max_carers={est.max_carers} notify_carers={'on' if est.notify_carers else 'off'}")


@hospital_cli.command("mllp")
@click.option("--establishment", "code", required=True, help="The hospital's code: whose messages these are.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=2575, show_default=True, help="TCP port (0: any).")
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Listener processes sharing the port (default: MLLP_PROCESSES, 2).",
)
def mllp_command(code: str, host: str, port: int, processes: int | None) -> None:
    """Listen for HL7 v2 ADT messages over MLLP for hospital CODE (its own process; docs/HOSPITAL.md)."""
    import logging

    from flask import current_app

    from asm.hospital.his.mllp import serve

    est = establishment_by_code(code)
    try:
        require_hospital(est)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.remove()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    count = processes or int(current_app.config["MLLP_PROCESSES"])
    click.echo(f"MLLP listener for {code} on {host}:{port}, {count} process(es) (Ctrl-C to stop)")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serve(app, code, host=host, port=port, processes=count)


@hospital_cli.command("import-xml")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--establishment", "code", required=True, help="The hospital's code: whose files these are.")
def import_xml_command(files: tuple[str, ...], code: str) -> None:
    """Read the summary table (XML1) of insurance XML FILES and file the inpatients' stays of hospital CODE.
    Each file is committed on its own; a file read twice files nothing twice."""
    from pathlib import Path

    from asm.clock import utcnow
    from asm.common import Actor
    from asm.hospital.his.receive import receive_xml
    from asm.hospital.his.xml130 import XmlInvalid

    est = establishment_by_code(code)
    try:
        require_hospital(est)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    failed = False
    for name in files:
        try:
            outcomes = receive_xml(est, Path(name).read_bytes(), actor=Actor.system("HIS: XML (CLI)"), now=utcnow())
        except XmlInvalid as exc:
            db.session.rollback()
            click.echo(f"{name}: not read: {exc.message}", err=True)
            failed = True
            continue
        db.session.commit()
        for o in outcomes:
            detail = f" {o.code}: {o.message}" if o.status == "refused" else (f" {o.message}" if o.message else "")
            click.echo(f"{name}: {o.visit or '?'} {o.status}{detail}")
        failed = failed or any(o.status == "refused" for o in outcomes)
    if failed:
        raise SystemExit(1)
