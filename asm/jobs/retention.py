"""The nightly retention job: the purge of asm/jobs/purge.py, as `flask retention purge` runs it."""

from __future__ import annotations

from asm import jobs


@jobs.handler("retention_purge", max_attempts=3)
def retention_purge(job: jobs.Job) -> None:
    from asm.jobs import purge

    purge.run(dry_run=False)
