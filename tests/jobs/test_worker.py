"""The job queue with real worker processes (`flask --app wsgi jobs worker`, Huey on a SQLite queue file): a
worker killed in the middle of a 10,000-row report leaves it to another worker, which completes it once; the file
is in the database and downloads from a second app server."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from asm.accounts.models import Role, User
from asm.clock import aware, utcnow
from asm.extensions import db
from asm.jobs.models import Job, ReportChunk, State
from asm.people.models import Person
from asm.police import reports
from asm.police.models import JobState, ReportJob
from asm.police.services import create_report_job
from asm.stays.models import Stay, StayStatus
from asm.text import search_key
from tests.conftest import Factory, second_app
from tests.support.desk import use_fast_password_hashes
from tests.support.police import report_period
from tests.support.processes import stop

ROWS = 10_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def many_stays(est_id: int, n: int) -> None:
    """n filed stays of the last days, inserted in bulk (the report reads them; how they were filed does not
    matter here)."""
    now = utcnow()
    people = [
        {
            "doc_type": "cccd",
            "doc_number": f"0010900{i:05d}",
            "nationality": "VNM",
            "full_name": f"Nguyễn Văn Thử {i}",
            "search_key": search_key(f"Nguyễn Văn Thử {i}"),
            "birth_date": date(1990, 1, 1),
            "sex": "M",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    db.session.execute(insert(Person), people)
    ids = list(db.session.scalars(select(Person.id).order_by(Person.id)))[-n:]
    stays = []
    for i, pid in enumerate(ids):
        arrived = now - timedelta(days=1 + i % 20, minutes=i % 600)
        stays.append(
            {
                "establishment_id": est_id,
                "person_id": pid,
                "status": StayStatus.IN_HOUSE,
                "source": "desk",
                "reason": "Du lịch",
                "arrived_at": arrived,
                "deadline_at": arrived + timedelta(hours=12),
                "filed_at": arrived + timedelta(minutes=5),
                "receipt_no": f"LT-T-{i:06d}",
                "created_at": arrived,
                "role": "guest",
            }
        )
    db.session.execute(insert(Stay), stays)
    db.session.commit()


@contextmanager
def worker(database_url: str, queue: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ASM_ENV": "test",
        "DATABASE_URL": database_url,
        "ASM_JOBS_BACKEND": "huey",
        "ASM_JOBS_QUEUE_URL": f"sqlite:///{queue}",
        "ASM_JOBS_LEASE_S": "3",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "1", "--no-scheduler"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        stop(proc, 20)


def wait_until(check: Callable[[], Any], what: str, log: Path, *, limit_s: float = 300) -> Any:
    """Poll the database (no timing is asserted: the limit only ends a hung test)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        db.session.rollback()
        db.session.expire_all()
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not in {limit_s} s; worker log:\n{log.read_text()[-3000:]}")


# On PostgreSQL one of this process's pooled connections is dropped unclosed while the workers run (not found in
# the time there was: it is no connection of asm/jobs); it is collected here, inside this test, not in the next.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_worker_killed_mid_report_leaves_it_to_another_which_completes_it_once(
    app: Flask, factory: Factory, database_url: str, tmp_path: Path, login_as: Any
) -> None:
    est = factory.establishment(code="EST-BIG", name="Khách sạn Lớn", commune="00004")
    officer = factory.user(Role.OFFICER, commune="00004")
    many_stays(est.id, ROWS)
    queue, log = tmp_path / "queue.sqlite3", tmp_path / "workers.log"
    url = database_url
    web = {"JOBS_BACKEND": "huey", "JOBS_QUEUE_URL": f"sqlite:///{queue}"}

    # App server 1 (configured with the Huey queue) takes the request: a queued job; nothing runs in it.
    start, end = report_period()
    with second_app(url, **web) as server_1, server_1.app_context():
        job = create_report_job(
            user=db.session.get(User, officer.id),
            kind="register",
            fmt="pdf",
            params={"establishment": "EST-BIG", "from": start, "to": end, "locale": "vi"},
            now=utcnow(),
        )
        reports.queue(job)
        db.session.commit()
        report_id = job.id
    assert db.session.get(ReportJob, report_id).state == JobState.QUEUED

    # Worker 1 starts it, and is killed (SIGKILL: no clean-up of any kind) once it has written some rows.
    with worker(url, queue, log) as first:
        wait_until(lambda: (r := db.session.get(ReportJob, report_id)) and r.done > 0, "progress", log)
        first.send_signal(signal.SIGKILL)
        first.wait()
    db.session.expire_all()
    report = db.session.get(ReportJob, report_id)
    ledger = db.session.scalars(select(Job).where(Job.key == f"police_report:{report_id}")).one()
    assert report.state == JobState.RUNNING and 0 < report.done < ROWS, "killed in the middle"
    assert ledger.state == State.RUNNING and ledger.attempts == 1
    assert db.session.scalar(select(func.count()).select_from(ReportChunk)) == 0, "no half file"
    first_worker = ledger.worker

    # Its lease runs out; worker 2 sweeps at start, claims the job and makes the report from the beginning.
    wait_until(lambda: aware(db.session.get(Job, ledger.id).lease_until) < utcnow(), "lease expiry", log)
    with worker(url, queue, log):
        wait_until(lambda: db.session.get(ReportJob, report_id).state == JobState.DONE, "report done", log)
    db.session.expire_all()
    ledger = db.session.get(Job, ledger.id)
    assert ledger.state == State.DONE and ledger.attempts == 2 and ledger.worker != first_worker
    assert db.session.get(ReportJob, report_id).done == ROWS
    chunks = db.session.scalars(select(ReportChunk.seq).where(ReportChunk.job_id == report_id)).all()
    assert chunks == list(range(len(chunks))), "one file, stored once"

    # The test's own app is another app server on the same database (no shared disk, no queue): it serves the
    # file, through the download page.
    response = login_as(officer).get(f"/cong-an/bao-cao/{report_id}/tai-ve")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"%PDF") and len(body) == sum(
        len(c) for c in db.session.scalars(select(ReportChunk.data).where(ReportChunk.job_id == report_id))
    )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(body)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Nguyễn Văn Thử 0" in text and f"Nguyễn Văn Thử {ROWS - 1}" in text
    db.session.remove()
    gc.collect()
