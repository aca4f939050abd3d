"""The nightly retention job: the purge of asm/jobs/purge.py, as `flask retention purge` runs it; and the hourly
job that keeps the history's next months ready on PostgreSQL (asm/jobs/partitions.py)."""

from __future__ import annotations

from asm import jobs
from asm.clock import utcnow


@jobs.handler("retention_purge", max_attempts=3)
def retention_purge(job: jobs.Job) -> None:
    from asm.jobs import purge

    purge.run(dry_run=False)


@jobs.handler("history_partitions", max_attempts=3)
def history_partitions(job: jobs.Job) -> None:
    """Through the purge's connection: its role alone may create the history's partitions."""
    from asm.extensions import db
    from asm.jobs import partitions, purge

    s = purge.purge_session()
    try:
        if partitions.enabled(s):
            partitions.ensure(s, utcnow())
            s.commit()
    finally:
        if s is not db.session():
            bind = s.get_bind()
            s.close()
            bind.dispose()  # type: ignore[union-attr]  # an Engine made by purge_session
