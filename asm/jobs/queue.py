"""The Huey side: the queue that rings the ledger's bell, the worker (consumer) and the schedule.

JOBS_QUEUE_URL picks the queue: empty or `sqlite:///path` (SqliteHuey: a file of its own next to the app's
SQLite database, for `make run`), `redis://...` (RedisHuey: production, the Redis the rate limits already use).
Huey keeps only `(job id,)` messages; the job itself and its arguments are in the database.

The schedule (Huey periodic tasks, run by every worker started without --no-scheduler; each step is safe to run
twice): every minute the sweeper and the reminders due at this minute; every hour the report files past their
time and the history's next months (PostgreSQL partitions); every night (RETENTION_PURGE_AT, Vietnam time)
the retention purge; every morning (POLICE_DIGEST_AT) the police digest of each ward.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab  # type: ignore[import-untyped]  # huey ships no types
from huey.exceptions import RetryTask  # type: ignore[import-untyped]  # huey ships no types

from asm.clock import VN_TZ, utcnow


def make_huey(app: Flask) -> Huey:
    url = str(app.config.get("JOBS_QUEUE_URL") or "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("asm", url=url, results=False, utc=True)
    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "jobs-queue.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("asm", filename=path, results=False, utc=True, timeout=30)


def local_minute(hhmm: str) -> Any:
    """A Huey periodic test true at HH:MM Vietnam time (Huey hands it the UTC time of the minute)."""
    hour, minute = (int(p) for p in hhmm.split(":"))

    def at(dt: datetime) -> bool:
        local = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(VN_TZ)  # Huey's utc=True: naive UTC
        return (local.hour, local.minute) == (hour, minute)

    return at


def install(app: Flask) -> None:
    huey = make_huey(app)

    @huey.task(name="run_job")
    def run_job(job_id: int) -> None:
        from asm.jobs import execute

        delay = execute(app, job_id)
        if delay is not None:
            raise RetryTask(delay=delay)

    @huey.periodic_task(crontab(minute="*"), name="every_minute")
    def every_minute() -> None:
        from asm.jobs import reminders, sweep

        with app.app_context():
            sweep(app)
            reminders.run_due(utcnow())

    @huey.periodic_task(crontab(minute="17"), name="every_hour")
    def every_hour() -> None:
        from asm.extensions import db
        from asm.jobs import enqueue

        with app.app_context():
            enqueue("purge_report_files", key=f"purge_report_files:{utcnow():%Y%m%d%H}")
            enqueue("history_partitions", key=f"history_partitions:{utcnow():%Y%m%d%H}")
            db.session.commit()

    @huey.periodic_task(local_minute(str(app.config["RETENTION_PURGE_AT"])), name="every_night")
    def every_night() -> None:
        from asm.extensions import db
        from asm.jobs import enqueue

        with app.app_context():
            enqueue("retention_purge", key=f"retention_purge:{utcnow():%Y%m%d}")
            db.session.commit()

    @huey.periodic_task(local_minute(str(app.config["POLICE_DIGEST_AT"])), name="every_morning")
    def every_morning() -> None:
        from asm.extensions import db
        from asm.police import digest

        with app.app_context():
            digest.schedule()
            db.session.commit()

    app.extensions["asm_jobs_huey"] = huey
    app.extensions["asm_jobs_huey_task"] = run_job
