"""Operators' commands, calling the same jobs as the scheduler: `jobs worker|list|sweep|vapid-keys`,
`reminders run --at HH:MM`, `retention purge [--dry-run]`."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from asm.clock import fmt_datetime, utcnow
from asm.extensions import db

jobs_cli = AppGroup("jobs", help="Hàng đợi công việc / the job queue (worker, list).")
reminders_cli = AppGroup("reminders", help="Nhắc hạn thông báo lưu trú / deadline reminders.")
retention_cli = AppGroup("retention", help="Thời hạn lưu giữ dữ liệu / data retention and purge.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads running jobs in this process.")
@click.option("--no-scheduler", is_flag=True, help="Run jobs only; another worker runs the schedule.")
def worker_command(workers: int, no_scheduler: bool) -> None:
    """Run jobs until stopped (Ctrl-C / SIGINT: finish the running jobs first; SIGTERM: stop now)."""
    from asm import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app
    if app.config["JOBS_BACKEND"] == "inline":
        raise click.UsageError("JOBS_BACKEND is inline: jobs run where they are enqueued, no worker needed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    swept = jobs.sweep(app)  # what a worker killed before this one left behind
    click.echo(f"jobs worker: {workers} thread(s), scheduler {'off' if no_scheduler else 'on'}, {swept} swept")
    huey = app.extensions["asm_jobs_huey"]
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=not no_scheduler)
    consumer.run()


@jobs_cli.command("list")
@click.option("--state", type=click.Choice(["queued", "running", "done", "failed"]), default=None)
@click.option("--limit", default=30, show_default=True)
def list_command(state: str | None, limit: int) -> None:
    """The latest jobs of the ledger, and how many are in each state."""
    from asm.jobs.models import Job

    counts = dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).tuples().all())
    click.echo("  ".join(f"{s}: {counts.get(s, 0)}" for s in ("queued", "running", "done", "failed")))
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    for job in db.session.scalars(query):
        when = fmt_datetime(job.finished_at or job.run_after)
        error = f"  {job.error}" if job.error else ""
        click.echo(
            f"{job.id:>8}  {job.name:<20} {job.state:<8} attempts {job.attempts}/{job.max_attempts}  {when}{error}"
        )


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Ring again the jobs whose worker died or whose bell was lost (the scheduler does it every minute)."""
    from asm import jobs

    click.echo(f"{jobs.sweep(current_app._get_current_object())} job(s) rung again")  # type: ignore[attr-defined]


@jobs_cli.command("vapid-keys")
def vapid_keys_command() -> None:
    """Print a new VAPID key pair for Web Push (settings VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY)."""
    from asm.jobs.push import new_vapid_keys

    private, public = new_vapid_keys()
    click.echo(f"ASM_VAPID_PRIVATE_KEY={private}\nASM_VAPID_PUBLIC_KEY={public}")


@reminders_cli.command("run")
@click.option("--at", "at", required=True, help="The local time of today's slot, HH:MM (Vietnam time).")
def reminders_run_command(at: str) -> None:
    """Run the reminder step of HH:MM today now, in this process, as the scheduler would; print what it sent."""
    from asm.jobs import reminders
    from asm.jobs.models import ReminderDelivery

    try:
        (slot,) = reminders.parse_times(at)
    except ValueError as exc:
        raise click.BadParameter("HH:MM, e.g. 21:30", param_hint="--at") from exc
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app
    app.config["JOBS_BACKEND"] = "inline"  # the deliveries run here, now
    sent = reminders.run_at(slot, utcnow())
    if not sent:
        click.echo("no reminder: nothing pending, or already sent for this slot")
    for r in sent:
        db.session.refresh(r)
        click.echo(f"{r.establishment.code}: {r.guests} guest(s), slot {fmt_datetime(r.slot_at)}")
        for d in db.session.scalars(select(ReminderDelivery).where(ReminderDelivery.reminder_id == r.id)):
            click.echo(f"  {d.channel} {d.target}: {d.state}{' ' + d.error if d.error else ''}")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
def purge_command(dry_run: bool) -> None:
    """Remove what is past its retention period, in batches, and write the purge ledger."""
    from asm.jobs import purge

    for line in purge.run(dry_run=dry_run):
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{line.policy:<14} {line.target:<24} {verb} {line.rows:>9}  before {fmt_datetime(line.cutoff)}")


people_cli = AppGroup("people", help="Dữ liệu của một người / a data subject's data.")


@people_cli.command("export")
@click.option("--doc", "doc_number", required=True, help="The person's document number (CCCD, passport).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Write JSON and PDF here.")
@click.option("--operator", default="cli", show_default=True, help="Who handles the request (logged).")
def people_export_command(doc_number: str, out_dir: str | None, operator: str) -> None:
    """Everything held about a person (stays, history, who looked at it and why) as JSON and PDF; the request
    is logged in the access log. Without --out the JSON goes to standard output."""
    import json
    from pathlib import Path

    from asm.jobs import subject

    data = subject.gather(doc_number.strip())
    if data is None:
        raise click.ClickException("no person with this document number")
    subject.log_request(doc_number, operator)
    db.session.commit()
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if out_dir is None:
        click.echo(text)
        return
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{doc_number}.json").write_text(text, encoding="utf-8")
    (directory / f"{doc_number}.pdf").write_bytes(subject.pdf(data))
    click.echo(f"{directory / doc_number}.json, .pdf")
