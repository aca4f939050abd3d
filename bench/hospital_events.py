"""Batches of 1,000 hospital events through POST /api/v1/hospital/events on PostgreSQL, against raw INSERTs.

What one run does, on loopback only:
1. drops and recreates its own database (`asm_bench_hospital` by default; never `test`), migrates it with the
   Alembic migrations and loads the administrative units;
2. per round, creates a hospital with enough beds and an API token through the services, then sends through the
   app's WSGI stack (Flask's test client: JSON parsing, bearer auth, the view, one commit):
   a. 1,000 admissions (each a new person, a filed stay, its receipt event, a bed assignment, the kept event);
   b. 1,000 mixed events for those admissions (500 transfers, 500 discharges);
   c. the batch of (a) again: 1,000 duplicates, nothing filed;
3. times, in the same run, the baseline: 1,000 rows into a table as wide as `stays` with psycopg `executemany`
   in one transaction (and 4,000 rows, the row count an admission batch writes);
4. prints each time, the median per kind, and the ratio to the baseline. The target is under 1 s per batch.

Run: `.venv/bin/python -m bench hospital [--rounds 5] [--events 1000]`. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.api_filings import RAW_TABLE

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}
TARGET_SECONDS = 1.0

RAW_INSERT = """INSERT INTO raw_inserts (establishment_id, person_id, room_id, status, source, reason, arrived_at,
  expected_departure, deadline_at, filed_at, receipt_no, created_at, role)
  VALUES (%s, %s, %s, 'in_house', 'api', 'Điều trị nội trú', %s, %s, %s, %s, %s, %s, 'patient')"""


def recreate_database(name: str) -> str:
    import psycopg

    if name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def make_app(url: str) -> Any:
    from flask_migrate import upgrade

    from asm import create_app
    from asm.config import Dev
    from asm.extensions import db
    from asm.geo.services import load_units

    app = create_app(Dev, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False, TESTING=True)
    with app.app_context():
        upgrade()
        load_units()
        db.session.commit()
    return app


def make_hospital(app: Any, n: int, beds: int) -> tuple[str, list[str]]:
    """A hospital with `beds` beds in wards of 100; returns its token and the bed labels."""
    from asm.accounts.services import create_token
    from asm.establishments.services import create_establishment
    from asm.extensions import db
    from asm.hospital.services import create_ward

    with app.app_context():
        est = create_establishment(
            code=f"BENCH-BV-{n}",
            name=f"Bệnh viện Bench {n}",
            type="hospital",
            address="1 Phố Huế, Hà Nội",
            commune_code="00004",
        )
        labels: list[str] = []
        for w in range(0, beds, 100):
            ward_beds = [(f"W{w // 100}-P{i // 4}", f"W{w // 100}-{i}") for i in range(min(100, beds - w))]
            create_ward(est, code=f"W{w // 100}", name=f"Khoa {w // 100}", beds=ward_beds)
            labels += [label for _room, label in ward_beds]
        _token, secret = create_token(est, name="his")
        db.session.commit()
    return secret, labels


def letters(serial: int) -> str:
    """A number spelt in letters (a name holds no digits): 0 -> "A", 27 -> "Bb"... unique per serial."""
    alphabet = "abcdeghiklmnopqrstuvxy"
    word = ""
    while True:
        serial, digit = divmod(serial, len(alphabet))
        word = alphabet[digit] + word
        if not serial:
            return word.capitalize()


def person(serial: int) -> dict[str, Any]:
    from asm.idcard import century_sex_digit

    born = date(1940 + serial % 60, 1 + serial % 12, 1 + serial % 28)
    sex = "M" if serial % 2 else "F"
    number = "001" + century_sex_digit(born.year, sex) + f"{born.year % 100:02d}" + f"{serial % 10**6:06d}"
    return {
        "doc_type": "cccd",
        "doc_number": number,
        "full_name": f"Bệnh Nhân {letters(serial)}",
        "birth_date": born.isoformat(),
        "sex": sex,
    }


def batches(
    round_no: int, count: int, beds: list[str], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    base = round_no * count
    admissions = [
        {
            "event_id": f"r{round_no}-adm-{i}",
            "type": "admission",
            "admission_id": f"R{round_no}-A{i}",
            "occurred_at": (now - timedelta(hours=3, seconds=i)).isoformat(),
            "patient": person(base + i),
            "bed": beds[i],
            "expected_discharge": (now + timedelta(days=5)).date().isoformat(),
        }
        for i in range(count)
    ]
    spare = beds[count:]
    mixed = []
    for i in range(count):
        if i % 2 == 0 and i // 2 < len(spare):
            mixed.append(
                {
                    "event_id": f"r{round_no}-tr-{i}",
                    "type": "transfer",
                    "admission_id": f"R{round_no}-A{i}",
                    "occurred_at": (now - timedelta(hours=1, seconds=i)).isoformat(),
                    "bed": spare[i // 2],
                }
            )
        else:
            mixed.append(
                {
                    "event_id": f"r{round_no}-dis-{i}",
                    "type": "discharge",
                    "admission_id": f"R{round_no}-A{i}",
                    "occurred_at": (now - timedelta(minutes=30, seconds=i)).isoformat(),
                }
            )
    return admissions, mixed


def send(client: Any, secret: str, events: list[dict[str, Any]], expect: str) -> float:
    start = time.perf_counter()
    response = client.post(
        "/api/v1/hospital/events", json={"events": events}, headers={"Authorization": f"Bearer {secret}"}
    )
    elapsed = time.perf_counter() - start
    body = response.get_json()
    if response.status_code != 200 or body["summary"] != {expect: len(events)}:
        raise SystemExit(f"unexpected answer {response.status_code}: {body.get('summary', body)}")
    return elapsed


def raw_inserts(url: str, rows: int) -> float:
    import psycopg

    now = datetime.now(UTC)
    values = [(1, i, 1, now, now.date(), now, now, f"LT-{i}", now) for i in range(rows)]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_inserts")
        conn.execute(RAW_TABLE)
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(RAW_INSERT, values)
        conn.commit()
        return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench hospital", description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="asm_bench_hospital")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=1000, help="events per batch (at most 1000)")
    args = parser.parse_args(argv)
    count = max(1, min(args.events, 1000))
    url = recreate_database(args.database)
    app = make_app(url)
    client = app.test_client()
    times: dict[str, list[float]] = {"admissions": [], "mixed": [], "replay": [], "raw": [], "raw4": []}
    now = datetime.now(UTC)
    for round_no in range(args.rounds):
        secret, beds = make_hospital(app, round_no, count + count // 2 + 1)
        admissions, mixed = batches(round_no, count, beds, now)
        times["admissions"].append(send(client, secret, admissions, "applied"))
        times["mixed"].append(send(client, secret, mixed, "applied"))
        times["replay"].append(send(client, secret, admissions, "duplicate"))
        times["raw"].append(raw_inserts(url, count))
        times["raw4"].append(raw_inserts(url, 4 * count))
        print(
            f"round {round_no + 1}: admissions {times['admissions'][-1]:.3f} s, mixed {times['mixed'][-1]:.3f} s, "
            f"replay {times['replay'][-1]:.3f} s; raw executemany {count} rows {times['raw'][-1]:.3f} s, "
            f"{4 * count} rows {times['raw4'][-1]:.3f} s",
            flush=True,
        )
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmedian of {args.rounds} rounds, {count} events per batch (PostgreSQL, Flask test client, one commit):")
    for kind in ("admissions", "mixed", "replay"):
        verdict = "under" if median[kind] < TARGET_SECONDS else "OVER"
        print(
            f"  {kind:<10} {median[kind]:.3f} s  ({count / median[kind]:,.0f} events/s; {verdict} the 1 s target; "
            f"{median[kind] / median['raw']:.1f}x raw {count}-row executemany, "
            f"{median[kind] / median['raw4']:.1f}x raw {4 * count}-row executemany)"
        )
    print(f"  baseline   {median['raw']:.3f} s for {count} raw INSERTs, {median['raw4']:.3f} s for {4 * count}")
    with app.app_context():
        from asm.extensions import db

        db.engine.dispose()
    return 0 if all(median[k] < TARGET_SECONDS for k in ("admissions", "mixed", "replay")) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
