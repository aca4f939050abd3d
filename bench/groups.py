"""Groups of 40 guests filed in one request through POST /api/v1/stays on PostgreSQL, against raw INSERTs.

A tour group or a school class arrives together: one request files every member under the first (a head), through
the filing core's set-based writer (a few statements per table, whatever the group's size). One run, on loopback:
1. drops and recreates its own database (`asm_bench_groups`; never `test`), migrates it, loads the units;
2. per round, sends N groups of `--size` guests (new people each time) through the app's WSGI stack (Flask's test
   client: JSON parsing, bearer auth, validation of every guest, the core, one commit), with an Idempotency-Key;
3. times, in the same run, the baseline: `--size` rows, and 3 x `--size` rows (a person, a stay and an event per
   guest), into a table as wide as `stays` with psycopg `executemany` in one transaction;
4. prints the median per group and its ratio to the baselines.

Run: `.venv/bin/python -m bench groups [--rounds 5] [--groups 20] [--size 40]`. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.hospital_events import make_app, person, raw_inserts, recreate_database


def make_hotel(app: Any, n: int) -> str:
    from asm.accounts.services import create_token
    from asm.establishments.services import create_establishment
    from asm.extensions import db

    with app.app_context():
        est = create_establishment(
            code=f"BENCH-KS-{n}",
            name=f"Khách sạn Bench {n}",
            type="hotel",
            address="1 Phố Huế, Hà Nội",
            commune_code="00004",
            rooms=["101"],
        )
        _token, secret = create_token(est, name="pms")
        db.session.commit()
    return secret


def send(client: Any, secret: str, guests: list[dict[str, Any]], now: datetime) -> float:
    body = {
        "guests": guests,
        "reason": "Du lịch",
        "arrived_at": (now - timedelta(minutes=5)).isoformat(),
        "expected_departure": (now + timedelta(days=2)).date().isoformat(),
    }
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": str(uuid.uuid4())}
    start = time.perf_counter()
    response = client.post("/api/v1/stays", json=body, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != 201 or len(response.get_json()["stays"]) != len(guests):
        raise SystemExit(f"unexpected answer {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench groups", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="asm_bench_groups")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--groups", type=int, default=20, help="groups per round")
    parser.add_argument("--size", type=int, default=40, help="guests per group (at most 50)")
    args = parser.parse_args(argv)
    size = max(1, min(args.size, 50))
    url = recreate_database(args.database)
    app = make_app(url)
    client = app.test_client()
    now = datetime.now(UTC)
    times: dict[str, list[float]] = {"group": [], "raw": [], "raw3": []}
    serial = 0
    for round_no in range(args.rounds):
        secret = make_hotel(app, round_no)
        spent = []
        for _ in range(args.groups):
            guests = [person(serial + i) for i in range(size)]
            serial += size
            spent.append(send(client, secret, guests, now))
        times["group"].append(statistics.median(spent))
        times["raw"].append(raw_inserts(url, size))
        times["raw3"].append(raw_inserts(url, 3 * size))
        print(
            f"round {round_no + 1}: a group of {size} {times['group'][-1] * 1000:.1f} ms (median of {args.groups}); "
            f"raw executemany {size} rows {times['raw'][-1] * 1000:.1f} ms, {3 * size} rows "
            f"{times['raw3'][-1] * 1000:.1f} ms",
            flush=True,
        )
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmedian of {args.rounds} rounds (PostgreSQL, Flask test client, one commit per group):")
    print(
        f"  group of {size}: {median['group'] * 1000:.1f} ms ({size / median['group']:,.0f} guests/s); "
        f"{median['group'] / median['raw']:.1f}x raw {size}-row executemany, "
        f"{median['group'] / median['raw3']:.1f}x raw {3 * size}-row executemany"
    )
    raw, raw3 = median["raw"] * 1000, median["raw3"] * 1000
    print(f"  baseline: {raw:.1f} ms for {size} raw INSERTs, {raw3:.1f} ms for {3 * size}")
    with app.app_context():
        from asm.extensions import db

        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
