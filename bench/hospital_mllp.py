"""HL7 v2 ADT messages applied per second over MLLP (one connection and eight), against the events API batch and
raw INSERTs in the same run (PostgreSQL, loopback only).

What one run does:
1. drops and recreates its own database (`asm_bench_mllp` by default; never `test`), migrates it, loads the units;
2. per round, creates a hospital with enough beds through the services, gathers the planner's statistics
   (`ANALYZE`, as autovacuum keeps them in a database in use: without them a new database plans the beds' holders
   by scanning every stay of the hospital), starts `flask hospital mllp` for it as its own process (as in
   production) and sends A01 admissions (each a new person to its own bed) from 1 connection, then from 8
   connections at once, each waiting for its ACK before the next message (as a HIS does); every ACK must be AA
   (64 admissions over 8 connections first, not timed: every listener process warm, as after its first minute);
3. in the same run: the same number of admissions as one events API batch (Flask test client, one commit), and
   raw INSERTs of as many rows into a table as wide as `stays` (psycopg executemany, one transaction);
4. prints messages per second for each. The aim is at least 500 messages/s with eight connections.

Run: `.venv/bin/python -m bench mllp [--rounds 3] [--messages 1000]`. Figures: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.hospital_events import make_app, make_hospital, person, raw_inserts, recreate_database, send

ROOT = Path(__file__).resolve().parent.parent
TARGET = 500.0
WARM_UP = 64  # admissions sent over 8 connections before the clock starts
VT, END = b"\x0b", b"\x1c\x0d"


# What a HIS's A01 also carries (HL7 v2.5 ADT_A01: PD1, PV2, observations, allergies, diagnoses, insurance, a
# Z-segment), sent with `--full`: the listener parses only the segments it reads.
FULL = [
    "PD1|||Bệnh viện Thử^^BV01",
    "PV2|||^Sốt cao",
    "OBX|1|NM|8302-2^Chiều cao^LN||170|cm|||||F",
    "OBX|2|NM|29463-7^Cân nặng^LN||65|kg|||||F",
    "OBX|3|NM|8310-5^Nhiệt độ^LN||38.5|Cel|||||F",
    "AL1|1|DA|^Penicillin|SV",
    "DG1|1||A09^Tiêu chảy^I10||20261120|A",
    "IN1|1|BHYT|79|Bảo hiểm xã hội" + "|" * 33 + "HS4010123456789",
    "ZBV|1|thông tin riêng của HIS",
]


def a01(control: str, p: dict[str, Any], visit: str, bed: str, at: datetime, *, full: bool = False) -> bytes:
    stamp = at.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    family, middle, given = p["full_name"].split(" ", 2)
    born = p["birth_date"].replace("-", "")
    text = "\r".join(
        [
            f"MSH|^~\\&|HIS|BENCH|ASM|BENCH|{stamp}||ADT^A01^ADT_A01|{control}|P|2.5",
            f"EVN|A01|{stamp}",
            f"PID|1||BN{visit}^^^BENCH^MR~{p['doc_number']}^^^BCA^NI||{family}^{given}^{middle}||{born}|{p['sex']}",
            "PV1|1|I|^^" + bed + "||||||||||||||||" + visit + "|" + "|" * 24 + stamp,
            *(FULL if full else []),
        ]
    )
    return VT + text.encode() + END


def start_listener(url: str, code: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"DATABASE_URL": url, "ASM_ENV": "dev"}
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/flask"),
            "--app",
            "wsgi",
            "hospital",
            "mllp",
            "--establishment",
            code,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the MLLP listener did not start")


def analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("ANALYZE")


def stream(port: int, messages: list[bytes], errors: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        buffer = b""
        for message in messages:
            sock.sendall(message)
            while END not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    errors.append("connection closed")
                    return
                buffer += chunk
            ack, _, buffer = buffer.partition(END)
            if b"MSA|AA|" not in ack:
                errors.append(ack.decode(errors="replace")[:300])


def over_mllp(port: int, messages: list[bytes], connections: int) -> float:
    shares = [messages[i::connections] for i in range(connections)]
    errors: list[str] = []
    threads = [threading.Thread(target=stream, args=(port, share, errors)) for share in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} messages not AA, first: {errors[0]}")
    return len(messages) / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mllp", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="asm_bench_mllp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000, help="admissions per measurement")
    parser.add_argument("--full", action="store_true", help="A01s with the segments a HIS adds (PD1, OBX, IN1…)")
    args = parser.parse_args(argv)
    n = max(8, args.messages)
    url = recreate_database(args.database)
    app = make_app(url)
    client = app.test_client()
    rates: dict[str, list[float]] = {"mllp1": [], "mllp8": [], "batch": [], "raw": []}
    now = datetime.now(UTC)
    for round_no in range(args.rounds):
        secret, beds = make_hospital(app, round_no, 3 * n + WARM_UP)
        analyze(url)
        code = f"BENCH-BV-{round_no}"
        base = round_no * (3 * n + WARM_UP)
        proc, port = start_listener(url.replace("postgresql+psycopg", "postgresql"), code)
        try:
            # Not timed: a listener runs for days; the first messages of each of its processes pay for imports,
            # connections and statement caches once.
            warm = [
                a01(f"R{round_no}-warm-{i}", person(base + 3 * n + i), f"R{round_no}W{i}", beds[3 * n + i], now)
                for i in range(WARM_UP)
            ]
            over_mllp(port, warm, 8)
            for key, offset, connections in (("mllp1", 0, 1), ("mllp8", n, 8)):
                messages = [
                    a01(
                        f"R{round_no}-{key}-{i}",
                        person(base + offset + i),
                        f"R{round_no}{key}V{i}",
                        beds[offset + i],
                        now - timedelta(hours=2, seconds=i),
                        full=args.full,
                    )
                    for i in range(n)
                ]
                rates[key].append(over_mllp(port, messages, connections))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        events = [
            {
                "event_id": f"r{round_no}-b-{i}",
                "type": "admission",
                "admission_id": f"R{round_no}B{i}",
                "occurred_at": (now - timedelta(hours=2, seconds=i)).isoformat(),
                "patient": person(base + 2 * n + i),
                "bed": beds[2 * n + i],
            }
            for i in range(min(n, 1000))
        ]
        rates["batch"].append(len(events) / send(client, secret, events, "applied"))
        rates["raw"].append(n / raw_inserts(url, n))
        print(
            f"round {round_no + 1}: MLLP 1 connection {rates['mllp1'][-1]:,.0f} msg/s, 8 connections "
            f"{rates['mllp8'][-1]:,.0f} msg/s; events API batch {rates['batch'][-1]:,.0f} events/s; "
            f"raw INSERT {rates['raw'][-1]:,.0f} rows/s",
            flush=True,
        )
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"\nmedian of {args.rounds} rounds, {n} A01 admissions each (PostgreSQL, listener as its own process):")
    print(f"  MLLP, 1 connection   {median['mllp1']:8,.0f} messages/s")
    verdict = "meets" if median["mllp8"] >= TARGET else "BELOW"
    print(f"  MLLP, 8 connections  {median['mllp8']:8,.0f} messages/s ({verdict} the {TARGET:.0f}/s aim)")
    print(f"  events API batch     {median['batch']:8,.0f} events/s")
    print(f"  raw INSERT           {median['raw']:8,.0f} rows/s")
    with app.app_context():
        from asm.extensions import db

        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
