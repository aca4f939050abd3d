"""Filings per second with the history partitioned by month (migration 0017) and without, in the same run.

Two databases of their own: `asm_bench_layout_p` at the head (stay_events and access_log partitioned) and
`asm_bench_layout_u` migrated to the head and then down to 0014 (the same tables unpartitioned); the same seed
in both. Gunicorn serves each in turn and the API files through `POST /api/v1/stays` (the filing core's SQL fast
path, one citizen filed now), in alternating windows (`--rounds` of each), so that the load of other sessions on
the shared machine weighs on both alike. The headline is filings/s partitioned ÷ unpartitioned. Both databases
are dropped at the end.

Run: `.venv/bin/python -m bench layout` (`--help`).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.api_filings import (
    PG_SERVER,
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

LAYOUTS = {"partitioned": "asm_bench_layout_p", "unpartitioned": "asm_bench_layout_u"}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench layout", description=__doc__.split("\n")[0])
    parser.add_argument("--establishments", type=int, default=32)
    parser.add_argument("--server", type=ServerSetup.parse, default=ServerSetup.parse("sync:3"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    sites = {}
    try:
        for layout, database in LAYOUTS.items():
            url = f"{PG_SERVER}/{database}"
            recreate_database(database)
            flask_cli(url, "db", "upgrade")
            if layout == "unpartitioned":
                flask_cli(url, "db", "downgrade", "0014")
            flask_cli(url, "units", "load")
            sites[layout] = seed(url, args.establishments)
        guests = Guests(seed=17)
        per_window = int(args.concurrency * 400 * (args.duration + args.warmup))
        rates: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
        for round_no in range(args.rounds):
            order = list(LAYOUTS) if round_no % 2 == 0 else list(reversed(LAYOUTS))
            for layout in order:
                database = LAYOUTS[layout]
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    Gunicorn(args.server, f"{PG_SERVER}/{database}", Path(tmp)) as server,
                ):
                    server.wait_ready()
                    requests = filing_requests(guests, sites[layout], per_window, f"127.0.0.1:{server.port}")
                    checkpoint(database)
                    result = loadgen.run(
                        "127.0.0.1",
                        server.port,
                        requests,
                        concurrency=args.concurrency,
                        duration=args.duration,
                        warmup=args.warmup,
                    ).summary()
                rates[layout].append(result["per_s"])
                print(
                    f"round {round_no + 1} {layout}: {result['per_s']:.0f} filings/s, errors {result['errors']}, "
                    f"p99 {result['latency_ms']['p99']} ms",
                    flush=True,
                )
        ratio = round(sum(rates["partitioned"]) / sum(rates["unpartitioned"]), 3)
        print(f"filings/s partitioned / unpartitioned over {args.rounds} rounds: {ratio}")
        return {"rates": rates, "ratio": ratio}
    finally:
        with pg_connect() as conn:
            for database in LAYOUTS.values():
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
