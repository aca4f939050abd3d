"""The retention purge while the API files (issue 14): purge time, and filings/s during the purge against filings/s
without it, in the same run, on PostgreSQL.

One run: recreate its own database (`asm_bench_purge`), migrate, seed establishments with API tokens, generate
`--months` months of ended stays (`--per-month` each, with one history row each) in plain SQL; start gunicorn
(production settings); file through the API for `--duration` seconds (the baseline); then file again for the same
time while `asm.jobs.purge.run` removes the oldest month (RETENTION_STAYS_DAYS set so that exactly it is past);
`--rounds` times, a month more each (windows without and during alternate, so that the load other sessions put
on the shared machine weighs on both alike); report each purge's time and rows, and the sum of filings/s during
÷ the sum without (the headline).
The database is dropped at the end unless --keep.

Run: `.venv/bin/python -m bench purge` (`--help`). Sized modestly by default; docs/PERFORMANCE.md extrapolates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.api_filings import (
    PG_SERVER,
    ROOT,
    VENV_BIN,
    Guests,
    Gunicorn,
    ServerSetup,
    checkpoint,
    filing_requests,
    flask_cli,
    pg_connect,
    recreate_database,
    seed,
)

HISTORY_SQL = """
INSERT INTO people (doc_type, doc_number, nationality, full_name, search_key, birth_date, sex, created_at, updated_at)
SELECT 'cccd', 'H' || %(month)s || lpad(g::text, 8, '0'), 'VNM', 'Khách Lịch Sử', 'khach lich su',
       date '1990-01-01', 'M', %(start)s, %(start)s
FROM generate_series(1, %(per_month)s) g;

INSERT INTO stays (establishment_id, person_id, status, source, reason, arrived_at, departed_at, deadline_at,
                   filed_at, created_at, role)
SELECT e.ids[1 + (p.n %% array_length(e.ids, 1))], p.id, 'checked_out', 'api', 'Du lịch', t.at,
       t.at + interval '2 days', t.at + interval '12 hours', t.at + interval '5 minutes', t.at, 'guest'
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM people WHERE doc_number LIKE 'H' || %(month)s || '%%') p
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM establishments) e
CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + interval '1 second' * (p.n * 2160000 / %(per_month)s) AS at) t
ORDER BY p.n;

INSERT INTO stay_events (stay_id, kind, at, actor, data, prev_hash, row_hash)
SELECT s.id, 'check_in', s.arrived_at, 'bench', '{}', repeat('0', 64), md5(s.id::text) || md5(s.id::text)
FROM stays s WHERE s.id >= %(lo)s ORDER BY s.id;

INSERT INTO access_log (at, user_id, action, target, prev_hash, row_hash)
SELECT %(start)s::timestamptz + interval '1 second' * (g::bigint * 2160000 / %(lines)s), NULL, 'search', 'bench',
       repeat('0', 64), md5(g::text) || md5(g::text)
FROM generate_series(0, %(lines)s - 1) g
"""


def month_starts(months: int) -> list[date]:
    """The first days of the `months` calendar months before this one, oldest first."""
    today = datetime.now(UTC).date().replace(day=1)
    starts = []
    for back in range(months, 0, -1):
        index = today.year * 12 + today.month - 1 - back
        starts.append(date(index // 12, index % 12 + 1, 1))
    return starts


def generate(database: str, months: int, per_month: int, block: int) -> float:
    """Each past month in its own block (`history_partitions_ensure`, as the hourly job makes them): its people,
    its ended stays (arrived over its first 25 days, two nights each), one history line each, and a tenth as many
    access-log lines; then this month's block, as after a deployment."""
    started = time.perf_counter()
    with pg_connect(database) as conn:
        for table in ("stay_events", "access_log"):  # the migration's layout, empty: made again month by month
            for (name,) in conn.execute("SELECT name FROM history_partitions(%s)", (table,)).fetchall():
                conn.execute(f'DROP TABLE history."{name}"')
        for start in month_starts(months):
            conn.execute("SELECT history_partitions_ensure(%s, 0, %s)", (start, block))
            lo = conn.execute("SELECT history_next_id('stay_events')").fetchone()[0]  # type: ignore[index]
            values = {"month": f"{start:%Y%m}", "start": start, "per_month": per_month, "lo": lo}
            for statement in HISTORY_SQL.split(";"):
                conn.execute(statement, values | {"lines": max(per_month // 10, 1)})  # type: ignore[arg-type]
            print(f"  {start:%Y-%m}: {per_month:,} stays from id {lo:,}", flush=True)
        conn.execute("SELECT history_partitions_ensure(%s, 2, %s)", (datetime.now(UTC).date(), block))
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def history_rows(database: str) -> dict[str, int]:
    with pg_connect(database) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("people", "stays", "stay_events", "access_log")
        }


PURGER = """
import json, sys, time
from asm import create_app
app = create_app()
with app.app_context():
    from asm.jobs import purge
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    lines = purge.run()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 2), "rows": {l.target: l.rows for l in lines}}), flush=True)
"""


class Purger:
    """`asm.jobs.purge.run` in a process of its own, started (imports, app) before the measured window, as a
    worker already running would be: `go()` starts the purge, `result()` waits for its time and rows."""

    def __init__(self, url: str, days: int, batch: int, pause: float, duty: float, block: int) -> None:
        env = {
            **os.environ,
            "ASM_ENV": "dev",
            "DATABASE_URL": url,
            "ASM_RETENTION_STAYS_DAYS": str(days),
            "ASM_RETENTION_ACCESS_LOG_DAYS": str(days),
            "ASM_HISTORY_PARTITION_BLOCK": str(block),
            "ASM_RETENTION_BATCH": str(batch),
            "ASM_RETENTION_PAUSE_S": str(pause),
            "ASM_RETENTION_DUTY": str(duty),
        }
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "-c", PURGER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the purge process did not start")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        out, _ = self.proc.communicate(timeout=3600)
        if self.proc.returncode != 0:
            raise SystemExit(f"purge failed: {out}")
        return dict(json.loads(out.strip().splitlines()[-1]))


def window(server: Gunicorn, requests: list[bytes], args: argparse.Namespace) -> dict[str, Any]:
    result = loadgen.run(
        "127.0.0.1", server.port, requests, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup
    )
    summary = result.summary()
    return {
        "per_s": summary["per_s"],
        "ok": summary["ok"],
        "errors": summary["errors"],
        "p99_ms": summary["latency_ms"]["p99"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench purge", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="asm_bench_purge")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--per-month", type=int, default=50_000, help="ended stays per month of history")
    parser.add_argument("--block", type=int, default=0, help="ids per month's block (default: per-month + 10%%)")
    parser.add_argument("--establishments", type=int, default=50)
    parser.add_argument("--batch", type=int, default=2000, help="RETENTION_BATCH: stays per purge transaction")
    parser.add_argument("--pause", type=float, default=0.2, help="RETENTION_PAUSE_S: seconds between batches")
    parser.add_argument("--duty", type=float, default=0.25, help="RETENTION_DUTY: the share of time it works")
    parser.add_argument("--server", type=ServerSetup.parse, default=ServerSetup.parse("sync:3"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="windows without / during, one month purged each")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)

    url = f"{PG_SERVER}/{args.database}"
    recreate_database(args.database)
    try:
        flask_cli(url, "db", "upgrade")
        flask_cli(url, "units", "load")
        sites = seed(url, args.establishments)
        block = args.block or max(args.per_month + args.per_month // 10, 1000)
        made = generate(args.database, args.months, args.per_month, block)
        rows = history_rows(args.database)
        print(f"history: {args.months} months x {args.per_month:,} ended stays in {made:.1f} s: {rows}", flush=True)
        guests = Guests(seed=14)
        per_window = int(args.concurrency * 400 * (args.duration + args.warmup))
        rounds = []
        with tempfile.TemporaryDirectory() as tmp, Gunicorn(args.server, url, Path(tmp)) as server:
            server.wait_ready()
            host = f"127.0.0.1:{server.port}"
            for month in range(args.rounds):
                # Past: the oldest months up to this round's (their stays ended by their 28th day); kept: from the
                # next month's first day. The purge process starts (idle) before the window without it.
                kept_from = month_starts(args.months)[month + 1]
                since = datetime.now(UTC) - datetime(kept_from.year, kept_from.month, 1, tzinfo=UTC)
                purger = Purger(url, int(since.total_seconds() // 86400), args.batch, args.pause, args.duty, block)
                checkpoint(args.database)
                before = window(server, filing_requests(guests, sites, per_window, host), args)
                checkpoint(args.database)
                requests = filing_requests(guests, sites, per_window, host)
                purger.go()
                during = window(server, requests, args)
                purged = purger.result()
                rounds.append({"before": before, "during": during, "purge": purged})
                print(
                    f"round {month + 1}: filings/s without {before['per_s']:.0f} (p99 {before['p99_ms']} ms), "
                    f"during {during['per_s']:.0f} (p99 {during['p99_ms']} ms); purge {purged['seconds']} s "
                    f"(window {args.warmup + args.duration} s), rows {purged['rows']}",
                    flush=True,
                )
        without = sum(r["before"]["per_s"] for r in rounds)
        ratio = round(sum(r["during"]["per_s"] for r in rounds) / without, 3) if without else 0.0
        results = {"history": rows, "rounds": rounds, "ratio": ratio}
        print(f"filings/s during the purges / without, over {len(rounds)} rounds: {ratio}")
        return results
    finally:
        if not args.keep:
            with pg_connect() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
