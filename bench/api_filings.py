"""Stay filings per second through the JSON API on PostgreSQL under gunicorn, against raw INSERTs (pgbench).

What one run does, on loopback only:
1. drops and recreates its own database (`asm_bench` by default; never `test`), migrates it with
   `flask db upgrade`, loads the administrative units with `flask units load`, and creates establishments with
   rooms and one API token each through the services;
2. for each gunicorn set-up (e.g. `sync:3`, `gthread:2x4`): starts `.venv/bin/gunicorn` on 127.0.0.1 with
   ASM_ENV=prod, a SECRET_KEY and DATABASE_URL, fires filings (POST /api/v1/stays, one new valid guest and a unique
   Idempotency-Key each) over C keep-alive connections for a warm-up and then a measured window, and stops it;
3. runs pgbench with single-row INSERTs into a table as wide as `stays`, with the same C and duration;
4. reports filings/s, latency percentiles, errors, CPU per component, and filings/s ÷ INSERTs/s: the machine is
   shared and noisy, so the ratio is the headline.

Run: `.venv/bin/python -m bench api` (`--help` for the knobs). See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import loadgen

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}
TICK = os.sysconf("SC_CLK_TCK")
DEFAULT_SETUPS = "sync:2,sync:3,sync:4,gthread:2x4,gthread:3x4"
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0
ROOMS = [f"{floor}{n:02d}" for floor in range(1, 6) for n in range(1, 11)]
REASONS = ("Du lịch", "Công tác", "Thăm người thân", "Khám chữa bệnh")

# The columns of `stays`: the cheapest possible write of a stay, the baseline of the API and hospital benches.
RAW_TABLE = """
CREATE TABLE raw_inserts (
    id bigserial PRIMARY KEY,
    establishment_id integer NOT NULL,
    person_id integer NOT NULL,
    room_id integer,
    status varchar(20) NOT NULL,
    source varchar(10) NOT NULL,
    reason varchar(200) NOT NULL,
    arrived_at timestamptz NOT NULL,
    expected_departure date,
    deadline_at timestamptz NOT NULL,
    filed_at timestamptz,
    receipt_no varchar(40),
    created_at timestamptz NOT NULL,
    role varchar(10) NOT NULL
)
"""
RAW_SCRIPT = """\\set person random(1, 1000000000)
INSERT INTO raw_inserts (establishment_id, person_id, room_id, status, source, reason, arrived_at,
  expected_departure, deadline_at, filed_at, receipt_no, created_at, role)
  VALUES (1, :person, 1, 'in_house', 'api', 'Du lịch', now(), current_date + 2, now() + interval '6 hours', now(),
  'LT-' || :person, now(), 'guest');
"""


# ---------------------------------------------------------------------------------------------------- set-up


def sql_url(database: str) -> str:
    return f"{PG_SERVER}/{database}"


def pg_connect(database: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(sql_url(database), autocommit=True)


def recreate_database(name: str) -> None:
    if name in FORBIDDEN_DATABASES or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to use database {name!r}: pick a private one such as asm_bench")
    with pg_connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def flask_cli(url: str, *args: str) -> str:
    env = {**os.environ, "FLASK_APP": "wsgi", "ASM_ENV": "dev", "DATABASE_URL": url}
    done = subprocess.run(
        [str(VENV_BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Site:
    code: str
    secret: str


def seed(url: str, count: int) -> list[Site]:
    """Establishments with rooms and a token each, through the same services as the CLI."""
    from sqlalchemy import select

    from asm import create_app
    from asm.accounts.services import create_token
    from asm.config import Dev, normalize_database_url
    from asm.establishments.services import create_establishment
    from asm.extensions import db
    from asm.geo.models import Commune

    app = create_app(Dev, SQLALCHEMY_DATABASE_URI=normalize_database_url(url))
    sites = []
    with app.app_context():
        communes = db.session.scalars(select(Commune.code).order_by(Commune.code).limit(count)).all()
        for i in range(count):
            est = create_establishment(
                code=f"BENCH-{i + 1:03d}",
                name=f"Khách sạn Bench {i + 1}",
                type="hotel",
                address=f"Số {i + 1} Đường Thử, Phường Bench",
                commune_code=communes[i % len(communes)],
                rooms=ROOMS,
            )
            _, secret = create_token(est, name="bench")
            sites.append(Site(est.code, secret))
        db.session.commit()
        db.engine.dispose()
    return sites


class Guests:
    """Valid, never repeated guests: 12-digit ID numbers consistent with the birth date and sex."""

    def __init__(self, seed: int) -> None:
        from asm.clock import local_today

        self.rng = random.Random(seed)
        self.today = local_today()
        self.seen: set[str] = set()

    def next(self) -> dict[str, str]:
        from asm.demo.people import fake_person

        while True:
            person = fake_person(self.rng, today=self.today)
            if person.id_number not in self.seen:
                self.seen.add(person.id_number)
                break
        return {
            "doc_type": "cccd",
            "doc_number": person.id_number,
            "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "address": person.address,
        }


def filing_requests(guests: Guests, sites: list[Site], count: int, host: str) -> list[bytes]:
    """`count` ready-to-send POST /api/v1/stays requests, spread over the sites' tokens."""
    rng = guests.rng
    requests = []
    for i in range(count):
        site = sites[i % len(sites)]
        body = {
            "guests": [guests.next()],
            "reason": rng.choice(REASONS),
            "room": rng.choice(ROOMS),
            "expected_departure": (guests.today + timedelta(days=rng.randint(1, 4))).isoformat(),
        }
        headers = {
            "Authorization": f"Bearer {site.secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.UUID(int=rng.getrandbits(128)).hex,
        }
        data = json.dumps(body, ensure_ascii=False).encode()
        requests.append(loadgen.build_request("POST", "/api/v1/stays", host, headers, data))
    return requests


# ------------------------------------------------------------------------------------------------ CPU usage


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return total - idle, total


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                kids.append(int(entry))
    return kids


def postgres_pids(database: str) -> list[int]:
    """Backends connected to the bench database, and the server's own processes (WAL writer, checkpointer...)."""
    with pg_connect() as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s OR backend_type <> 'client backend'", (database,)
        ).fetchall()
    return [pid for (pid,) in rows]


def redis_pids() -> list[int]:
    """The local redis-server (for --redis)."""
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and _comm(int(d)) == "redis-server"]


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass
class CpuMeter:
    """CPU seconds of named groups of processes, and of the whole machine, between two marks."""

    groups: dict[str, Callable[[], Iterable[int]]]
    start: dict[str, dict[int, float]] = field(default_factory=dict)
    machine_start: tuple[int, int] = (0, 0)
    wall_start: float = 0.0
    result: dict[str, float] = field(default_factory=dict)

    def mark(self, phase: str) -> None:
        if phase == "start":
            self.start = {name: {p: process_cpu_s(p) for p in pids()} for name, pids in self.groups.items()}
            self.machine_start = machine_ticks()
            self.wall_start = time.perf_counter()
            return
        wall = time.perf_counter() - self.wall_start
        busy, total = machine_ticks()
        cores = os.cpu_count() or 1
        self.result = {"wall_s": round(wall, 2), "cores": cores}
        for name, before in self.start.items():
            used = sum(process_cpu_s(p) - t for p, t in before.items())
            self.result[f"{name}_cpu_pct"] = round(100 * used / wall, 1)  # % of one core
        self.result["machine_busy_pct"] = round(
            100 * cores * (busy - self.machine_start[0]) / max(total - self.machine_start[1], 1), 1
        )


# --------------------------------------------------------------------------------------------------- gunicorn


@dataclass(frozen=True)
class ServerSetup:
    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerSetup:
        """`sync:3` or `gthread:2x4` (workers x threads)."""
        kind, _, shape = text.partition(":")
        workers, _, threads = shape.partition("x")
        if kind not in ("sync", "gthread") or not workers.isdigit() or (threads and not threads.isdigit()):
            raise argparse.ArgumentTypeError(f"bad gunicorn set-up {text!r}: use sync:N or gthread:NxT")
        return cls(kind, int(workers), int(threads or (4 if kind == "gthread" else 1)))

    @property
    def label(self) -> str:
        return f"{self.worker_class}:{self.workers}" + (f"x{self.threads}" if self.worker_class == "gthread" else "")

    def args(self) -> list[str]:
        args = ["--worker-class", self.worker_class, "--workers", str(self.workers)]
        return args + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn master in its own process group; stopped (and its workers with it) on exit, whatever happens."""

    def __init__(self, setup: ServerSetup, url: str, logdir: Path, redis_url: str | None = None) -> None:
        self.port = free_port()
        self.log = logdir / f"gunicorn-{setup.label.replace(':', '-')}.log"
        # The production configuration, as README's production section runs it (a random secret per run).
        env = {**os.environ, "ASM_ENV": "prod", "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32)}
        env.pop("FLASK_DEBUG", None)
        env.pop("REDIS_URL", None)  # rate limits counted in each worker (memory://), unless --redis
        if redis_url:
            env["REDIS_URL"] = redis_url  # shared by the workers, as README's production section has it
        cmd = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", *setup.args()]
        cmd += ["--log-level", "warning", "--error-logfile", str(self.log), "--capture-output", "wsgi:app"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not answer in time")

    def pids(self) -> list[int]:
        return [self.proc.pid, *children_of(self.proc.pid)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own process group, started above
                self.proc.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def others(cpu: dict[str, float], *ours: str) -> float:
    """CPU used by everything else on the machine meanwhile (% of one core): the noise of a shared machine."""
    return round(max(cpu.get("machine_busy_pct", 0) - sum(cpu.get(name, 0) for name in ours), 0), 1)


def per_unit(cpu_pct: float, per_s: float) -> float:
    """CPU milliseconds per unit of work, from % of one core and units per second."""
    return round(10 * cpu_pct / per_s, 3) if per_s else 0.0


def run_api(
    setup: ServerSetup,
    url: str,
    database: str,
    requests: list[bytes],
    args: argparse.Namespace,
    logdir: Path,
) -> dict[str, Any]:
    checkpoint(database)
    with Gunicorn(setup, url, logdir, args.redis) as server:
        server.wait_ready()
        groups = {"gunicorn": server.pids, "postgres": lambda: postgres_pids(database)}
        if args.redis:
            groups["redis"] = redis_pids
        meter = CpuMeter(groups)
        result = loadgen.run(
            "127.0.0.1",
            server.port,
            requests,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            mark=meter.mark,
        )
    summary = result.summary()
    cpu = {**meter.result, "loadgen_cpu_pct": summary["client_cpu_pct_of_one_core"]}
    cpu["others_cpu_pct"] = others(cpu, "gunicorn_cpu_pct", "postgres_cpu_pct", "loadgen_cpu_pct", "redis_cpu_pct")
    cpu["gunicorn_ms_per_filing"] = per_unit(cpu.get("gunicorn_cpu_pct", 0), summary["per_s"])
    cpu["postgres_ms_per_filing"] = per_unit(cpu.get("postgres_cpu_pct", 0), summary["per_s"])
    summary.update(setup=setup.label, cpu=cpu)
    if any(status >= 500 for status in result.statuses) or result.socket_errors:
        summary["server_log_tail"] = server.log.read_text(errors="replace")[-3000:] if server.log.exists() else ""
    summary["ok_including_warmup"] = result.ok_total
    summary["requests_available"] = len(requests)
    summary["ran_out"] = result.sent >= len(requests)
    return summary


# ---------------------------------------------------------------------------------------------------- pgbench


def checkpoint(database: str) -> None:
    """Start every window from a clean WAL, so a checkpoint does not land in one run and not in another."""
    with pg_connect(database) as conn:
        conn.execute("CHECKPOINT")


def run_pgbench(database: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench not found: install postgresql-contrib (make bench does)")
    with pg_connect(database) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_inserts")
        conn.execute(RAW_TABLE)
    checkpoint(database)
    script = workdir / "raw_insert.sql"
    script.write_text(RAW_SCRIPT)
    prefix = workdir / "pgbench_log"
    jobs = min(args.concurrency, os.cpu_count() or 1)
    cmd = [pgbench, "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared", "-f", str(script)]
    cmd += ["-c", str(args.concurrency), "-j", str(jobs), "-T", str(round(args.duration))]
    cmd += ["-l", f"--log-prefix={prefix}", database]
    meter = CpuMeter({"postgres": lambda: postgres_pids(database), "pgbench": lambda: [proc.pid]})
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # connections up; the CPU window covers the middle of the run
    meter.mark("start")
    time.sleep(max(args.duration - 2.0, 0.5))
    meter.mark("end")
    meter.result["others_cpu_pct"] = others(meter.result, "postgres_cpu_pct", "pgbench_cpu_pct")
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{out}\n{err}")
    tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", out)
    latencies = []
    for log in workdir.glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1000)
        log.unlink()
    latencies.sort()
    return {
        "per_s": round(tps, 1),
        "transactions": len(latencies),
        "failed": int(failed.group(1)) if failed else 0,
        "latency_ms": {
            p: round(loadgen.percentile(latencies, q), 2) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))
        },
        "cpu": {**meter.result, "postgres_ms_per_insert": per_unit(meter.result.get("postgres_cpu_pct", 0), tps)},
        "command": " ".join(cmd),
    }


# ------------------------------------------------------------------------------------------------------ main


def stays_in_database(database: str) -> int:
    with pg_connect(database) as conn:
        return conn.execute("SELECT count(*) FROM stays").fetchone()[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="asm_bench", help="private database, dropped and recreated")
    parser.add_argument("--setups", default=DEFAULT_SETUPS, help=f"gunicorn set-ups (default {DEFAULT_SETUPS})")
    parser.add_argument("--concurrency", "-c", type=int, default=16, help="connections (and pgbench clients)")
    parser.add_argument("--duration", "-d", type=float, default=15.0, help="measured seconds per set-up")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--max-filings", type=int, default=40_000, help="upper bound of filings per set-up")
    parser.add_argument("--establishments", type=int, default=32, help="establishments (one token each)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--redis", metavar="URL", help="count rate limits in this Redis (REDIS_URL), e.g. redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args(argv)
    args.setups = [ServerSetup.parse(s.strip()) for s in args.setups.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    url = sql_url(args.database)
    started = time.time()
    print(
        f"== API filings benchmark: database {args.database}, {args.concurrency} connections, "
        f"{args.warmup:g}s warm-up + {args.duration:g}s per set-up",
        flush=True,
    )
    recreate_database(args.database)
    flask_cli(url, "db", "upgrade")
    flask_cli(url, "units", "load")
    sites = seed(url, args.establishments)
    guests = Guests(args.seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="asm-bench-") as tmp:
        workdir = Path(tmp)
        try:
            for setup in args.setups:
                requests = filing_requests(guests, sites, args.max_filings, "127.0.0.1")
                summary = run_api(setup, url, args.database, requests, args, workdir)
                runs.append(summary)
                print_run(summary)
            raw = run_pgbench(args.database, args, workdir)
        except BaseException:
            for log in workdir.glob("gunicorn-*.log"):
                sys.stderr.write(f"--- {log.name}\n{log.read_text()[-4000:]}\n")
            raise
    stored = stays_in_database(args.database)
    expected = sum(r["ok_including_warmup"] for r in runs)
    best = max(runs, key=lambda r: (r["errors"] == 0, r["per_s"]))
    results = {
        "benchmark": "api_filings",
        "command": " ".join(["python -m bench api", *(argv if argv is not None else sys.argv[1:])]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
        "settings": {**vars(args), "setups": [s.label for s in args.setups], "json": str(args.json)},
        "runs": runs,
        "pgbench": raw,
        "best": best["setup"],
        "ratio": round(best["per_s"] / raw["per_s"], 3) if raw["per_s"] else None,
        "target": {
            "per_s": TARGET_RATE,
            "p99_ms": TARGET_P99_MS,
            "met": best["per_s"] >= TARGET_RATE and best["latency_ms"]["p99"] <= TARGET_P99_MS and not best["errors"],
        },
        "database_check": {"stays_stored": stored, "created_answers": expected, "match": stored == expected},
    }
    print_summary(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"raw results: {args.json}")
    return results


def print_run(r: dict[str, Any]) -> None:
    lat, cpu = r["latency_ms"], r["cpu"]
    print(
        f"{r['setup']:>12}  {r['per_s']:8.1f} filings/s  p50 {lat['p50']:6.1f}  p90 {lat['p90']:6.1f}  "
        f"p99 {lat['p99']:6.1f} ms  errors {r['errors']}  CPU ms/filing {cpu['gunicorn_ms_per_filing']:.2f} + "
        f"{cpu['postgres_ms_per_filing']:.2f} pg  CPU% gunicorn {cpu.get('gunicorn_cpu_pct', 0):.0f} "
        f"postgres {cpu.get('postgres_cpu_pct', 0):.0f} loadgen {cpu['loadgen_cpu_pct']:.0f} "
        + (f"redis {cpu['redis_cpu_pct']:.0f} " if "redis_cpu_pct" in cpu else "")
        + f"others {cpu['others_cpu_pct']:.0f} "
        + f"(machine {cpu.get('machine_busy_pct', 0):.0f}/{100 * cpu.get('cores', 1)})"
        + ("  (ran out of requests)" if r["ran_out"] else ""),
        flush=True,
    )
    for sample in r["error_samples"]:
        print(f"             error: {sample.strip()}")
    if r.get("server_log_tail"):
        print("             gunicorn log (end):\n" + r["server_log_tail"])


def print_summary(results: dict[str, Any]) -> None:
    raw, target = results["pgbench"], results["target"]
    best = next(r for r in results["runs"] if r["setup"] == results["best"])
    cpu = raw["cpu"]
    print(
        f"{'pgbench':>12}  {raw['per_s']:8.1f} INSERTs/s  p50 {raw['latency_ms']['p50']:6.1f}  "
        f"p90 {raw['latency_ms']['p90']:6.1f}  p99 {raw['latency_ms']['p99']:6.1f} ms  failed {raw['failed']}  "
        f"CPU% postgres {cpu.get('postgres_cpu_pct', 0):.0f} pgbench {cpu.get('pgbench_cpu_pct', 0):.0f} "
        f"others {cpu['others_cpu_pct']:.0f} (machine {cpu.get('machine_busy_pct', 0):.0f}/{100 * cpu.get('cores', 1)})"
    )
    print(
        f"best: {best['setup']}  {best['per_s']:.0f} filings/s = {results['ratio']:.3f} x raw INSERTs/s; "
        f"p99 {best['latency_ms']['p99']:.1f} ms; target ≥{TARGET_RATE:.0f}/s and p99 ≤{TARGET_P99_MS:.0f} ms: "
        + ("met" if target["met"] else "NOT met")
    )
    check = results["database_check"]
    print(
        f"database: {check['stays_stored']} stays stored for {check['created_answers']} answers 201: "
        + ("match" if check["match"] else "MISMATCH")
    )


if __name__ == "__main__":
    main(sys.argv[1:])
