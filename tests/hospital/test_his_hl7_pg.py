"""The MLLP listener loses no acknowledged message and applies none twice when its database connections are killed
mid-stream (PostgreSQL: pg_terminate_backend on the listener's own connections, as a database restart would)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.his.mllp import Listener
from asm.hospital.models import HisMessage, HospitalEvent
from asm.hospital.services import create_ward
from asm.idcard import century_sex_digit
from asm.stays.models import Stay
from tests.conftest import Factory, second_app
from tests.support.his import DialectA, Patient, ack_code, mllp_client
from tests.support.processes import in_threads, stop

pytestmark = pytest.mark.postgres_only

CLIENTS = 4
PER_CLIENT = 15
KILLS = 8
ROOT = Path(__file__).resolve().parents[2]


def patient(n: int) -> Patient:
    born = date(1950 + n % 40, 1 + n % 12, 1 + n % 28)
    number = "001" + century_sex_digit(born.year, "M") + f"{born.year % 100:02d}" + f"{n:06d}"
    given = "".join("ABCDEGHKLMNPQRSTUVXY"[int(d)] for d in f"{n:03d}")  # names hold letters only
    return Patient(number, f"BN{n:05d}", "Phạm", f"Thử {given}", "Văn", born.strftime("%Y%m%d"), "M")


def test_killing_the_listeners_database_connections_loses_and_doubles_nothing(
    app: Flask, factory: Factory, database_url: str
) -> None:
    est = factory.establishment(type="hospital", rooms=())
    create_ward(est, code="K3", name="Khoa Thử", beds=[("P3", f"K3-{i}") for i in range(CLIENTS * PER_CLIENT)])
    db.session.commit()
    name = f"asm-mllp-kill-{db.engine.url.database}"
    d = DialectA()
    messages = {
        f"K{c}-{i}": d.admit(
            f"K{c}-{i}",
            patient(c * PER_CLIENT + i),
            f"V{c}-{i}",
            f"K3^P3^K3-{c * PER_CLIENT + i}",
            utcnow() - timedelta(hours=1),
        )
        for c in range(CLIENTS)
        for i in range(PER_CLIENT)
    }
    acked: dict[str, str] = {}
    resends = [0]
    lock = threading.Lock()
    done = threading.Event()

    with second_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"application_name": name}}) as other:
        listener = Listener(other, est.code, port=0)
        listener.start()
        try:

            def client(c: int) -> None:
                with mllp_client(listener.host, listener.port) as his:
                    for i in range(PER_CLIENT):
                        key = f"K{c}-{i}"
                        while True:  # as a HIS does: resend while the listener answers AR (unavailable)
                            answer = his.send(messages[key])
                            if ack_code(answer) != "AR":  # AA, or AE: a refusal a resend will not change
                                with lock:
                                    acked[key] = answer
                                break
                            with lock:
                                resends[0] += 1
                            time.sleep(0.05)

            def killer() -> None:
                kills = 0
                with engine.connect() as conn:
                    while not done.is_set() and kills < KILLS:
                        killed = conn.execute(
                            text(
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                " WHERE application_name = :n"
                            ),
                            {"n": name},
                        ).scalar()
                        conn.commit()
                        kills += int(killed or 0)
                        time.sleep(0.2)  # between kills, the stream goes on
                killed_total.append(kills)

            killed_total: list[int] = []
            engine = db.engine
            threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            kill = threading.Thread(target=killer)
            kill.start()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=240)
            done.set()
            kill.join(timeout=30)
            assert killed_total and killed_total[0] > 0, "no connection was killed: the test proved nothing"
            assert len(acked) == CLIENTS * PER_CLIENT
            assert {ack_code(a) for a in acked.values()} == {"AA"}, "a valid admission was refused"

            def state() -> tuple[int, int, int]:
                db.session.rollback()
                return (
                    db.session.scalar(select(func.count()).select_from(Stay).where(Stay.establishment_id == est.id))
                    or 0,
                    db.session.scalar(select(func.count()).select_from(HospitalEvent)) or 0,
                    db.session.scalar(
                        select(func.count()).select_from(HisMessage).where(HisMessage.status == "applied")
                    )
                    or 0,
                )

            # Every acknowledged message is stored once.
            assert state() == (CLIENTS * PER_CLIENT,) * 3
            # Resending everything now (a HIS that lost its ACKs) changes nothing and answers the stored ACKs.
            with mllp_client(listener.host, listener.port) as his:
                for key, message in messages.items():
                    assert his.send(message) == acked[key]
            assert state() == (CLIENTS * PER_CLIENT,) * 3
        finally:
            listener.stop()


def listener_pids(parent: int) -> set[int]:
    """The listener processes the command started (its children, read from /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


def test_listener_processes_share_the_port_file_everything_once_and_one_killed_is_replaced(
    factory: Factory, database_url: str, tmp_path: Path
) -> None:
    """`flask hospital mllp --processes 2`: two listeners on one port; eight HIS connections are served between
    them, every admission filed once; a listener killed is started again by the command, which stops them all on
    SIGTERM."""
    est = factory.establishment(type="hospital", rooms=())
    create_ward(est, code="K5", name="Khoa Năm", beds=[("P5", f"K5-{i}") for i in range(40)])
    db.session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "mllp.log"
    env = {**os.environ, "ASM_ENV": "test", "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "hospital", "mllp", "--establishment", est.code]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--processes", "2"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    d = DialectA()
    sent = [0]

    def admit(his: Any, n: int) -> str:
        sent[0] += 1
        message = d.admit(f"P{n}", patient(500 + n), f"VP{n}", f"K5^P5^K5-{n}", utcnow() - timedelta(hours=1))
        return ack_code(his.send(message))

    try:
        end = time.monotonic() + 120  # no timing is asserted: the limit only ends a hung test
        while len(listener_pids(proc.pid)) < 2 and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.1)
        first = listener_pids(proc.pid)
        assert len(first) == 2, log.read_text()
        while time.monotonic() < end:  # both listeners accept
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        answers: list[str] = []
        lock = threading.Lock()

        def client(c: int) -> None:
            with mllp_client("127.0.0.1", port) as his:
                for i in range(3):
                    code = admit(his, c * 3 + i)
                    with lock:
                        answers.append(code)

        in_threads(client, 8)
        assert answers == ["AA"] * 24
        # One listener killed: the command starts another; the port keeps answering.
        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)
        while time.monotonic() < end and (victim in listener_pids(proc.pid) or len(listener_pids(proc.pid)) < 2):
            time.sleep(0.1)
        assert victim not in listener_pids(proc.pid) and len(listener_pids(proc.pid)) == 2, log.read_text()
        with mllp_client("127.0.0.1", port) as his:
            assert [admit(his, 24 + i) for i in range(8)] == ["AA"] * 8
            # Resent: answered from what is stored, nothing filed again.
            assert admit(his, 0) == "AA"
        db.session.rollback()
        stays = db.session.scalar(select(func.count()).select_from(Stay).where(Stay.establishment_id == est.id))
        assert stays == 32
        assert sent[0] == 33
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text()
