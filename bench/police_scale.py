"""The police pages at national scale: 10 million stays, 34 provinces, 3,321 communes, 50,000 establishments.

What one run does, on loopback only:
1. drops and recreates its own PostgreSQL database (`asm_scale` by default; never `test`), migrates it with the
   app's Alembic migrations and loads the 34/3,321 administrative units;
2. generates the data with SQL `generate_series` (not the ORM): establishments spread over every commune, with one
   "hot" ward holding `--hot-share` of them (a busy city ward: the worst case of a ward dashboard); people; and
   `--stays` stays over the last two years (most checked out, ~5 % filed late, ~0.2 % drafts never filed, ~1 % never
   checked out, hospital stays as patients and carers). The stays' secondary indexes and foreign-key triggers are
   set aside during the load and rebuilt after it, then the tables are ANALYZEd;
3. measures, through the Flask test client as a logged-in user (so the time includes the queries, the jurisdiction
   filter and the template): the dashboard of a typical ward, of the hot ward (target ≤ 200 ms), of the hot ward's
   province (target ≤ 1 s); and the stay register PDF of ~10,000 stays of the hot ward (the background job's own
   function: chunked reads and the canvas writer; target ≤ 5 s), with CSV and XLSX of the same rows;
4. measures a baseline in the same run: `SELECT count(*) FROM stays` (a full scan), and reports each figure with
   its ratio to it, since the machine is shared and noisy.

Run: `.venv/bin/python -m bench police [--stays N] [--help]`. Figures: docs/PERFORMANCE.md ("Police pages at scale").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from typing import Any

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}
TARGETS_MS = {"ward": 200.0, "hot_ward": 200.0, "province": 1000.0, "report_pdf": 5000.0}


def log(message: str) -> None:
    print(message, flush=True)


# --- the database -----------------------------------------------------------------------------------------------


def recreate_database(server: str, name: str) -> str:
    import psycopg

    if name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}")
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def make_app(url: str, report_dir: str) -> Any:
    from asm import create_app
    from asm.config import Test

    return create_app(
        Test,
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        TEMPLATES_STRICT=False,
        POLICE_REPORT_DIR=report_dir,
        POLICE_REPORTS_INLINE=True,
    )


def migrate(app: Any) -> None:
    from flask_migrate import upgrade

    from asm.extensions import db
    from asm.geo.services import load_units

    with app.app_context():
        upgrade()
        load_units()
        db.session.commit()


def timed(label: str, run: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = run()
    log(f"  {label}: {time.perf_counter() - start:.1f} s")
    return result


def generate(app: Any, *, stays: int, establishments: int, hot_share: float, batch: int) -> dict[str, Any]:
    """Fill the database with SQL only. Returns what the measurements need (the hot ward, its province)."""
    from sqlalchemy import text

    from asm.extensions import db

    with app.app_context():
        conn = db.session.connection()
        communes = conn.execute(text("SELECT count(*) FROM communes")).scalar_one()
        provinces = conn.execute(text("SELECT count(*) FROM provinces")).scalar_one()
        log(f"units: {provinces} provinces, {communes} communes")
        # The hot ward: Phường Bến Thành if present (TP Hồ Chí Minh), else the first ward.
        hot = conn.execute(
            text("SELECT code FROM communes ORDER BY (name = 'Phường Bến Thành') DESC, code LIMIT 1")
        ).scalar_one()
        hot_n = int(establishments * hot_share)
        types = "ARRAY['hotel','guesthouse','homestay','rented_rooms','dormitory','hotel','guesthouse','hospital']"
        # Establishment g: ids 1..hot_n in the hot ward, the others spread over every commune by a stride.
        timed(
            f"{establishments:,} establishments",
            lambda: conn.execute(
                text(f"""
                WITH c AS (SELECT array_agg(code ORDER BY code) AS a, count(*) AS n FROM communes)
                INSERT INTO establishments (code, name, type, address, commune_code, active, created_at)
                SELECT 'CS' || lpad(g::text, 6, '0'),
                       'Cơ sở lưu trú số ' || g,
                       ({types})[1 + g % 8],
                       g || ' Đường Thử Nghiệm',
                       CASE WHEN g <= :hot_n THEN :hot ELSE c.a[1 + (g * 7919) % c.n] END,
                       true, now() - interval '3 years'
                FROM generate_series(1, :n) AS g, c
            """),
                {"n": establishments, "hot_n": hot_n, "hot": hot},
            ),
        )
        people = stays // 3 + 1  # person k has the stays 3k+1..3k+3, at three different establishments
        timed(
            f"{people:,} people",
            lambda: conn.execute(
                text("""
                INSERT INTO people
                    (doc_type, doc_number, nationality, full_name, search_key, birth_date, sex, created_at,
                     updated_at)
                SELECT CASE WHEN g % 20 = 0 THEN 'passport' ELSE 'cccd' END,
                       CASE WHEN g % 20 = 0 THEN 'P' || lpad(g::text, 9, '0') ELSE lpad(g::text, 12, '0') END,
                       CASE WHEN g % 20 = 0 THEN 'KOR' ELSE 'VNM' END,
                       (ARRAY['Nguyễn','Trần','Lê','Phạm','Hoàng','Vũ','Đặng','Bùi'])[1 + g % 8]
                         || ' ' || (ARRAY['Thị','Văn','Hữu','Ngọc','Minh'])[1 + g % 5]
                         || ' ' || (ARRAY['Hoa','Nam','Ánh','Hường','Bảo','Tâm','Đức','Linh'])[1 + g % 7] || ' ' || g,
                       -- the same name as asm.text.search_key folds it
                       (ARRAY['nguyen','tran','le','pham','hoang','vu','dang','bui'])[1 + g % 8]
                         || ' ' || (ARRAY['thi','van','huu','ngoc','minh'])[1 + g % 5]
                         || ' ' || (ARRAY['hoa','nam','anh','huong','bao','tam','duc','linh'])[1 + g % 7] || ' ' || g,
                       date '1950-01-01' + (g % 20000),
                       CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END,
                       now(), now()
                FROM generate_series(1, :n) AS g
            """),
                {"n": people},
            ),
        )
        db.session.commit()
        conn = db.session.connection()
        # Set aside the stays' secondary indexes and the foreign-key triggers for the load.
        indexes = conn.execute(
            text("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stays'
                    AND indexname NOT IN (SELECT conname FROM pg_constraint)""")
        ).all()
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text("SET session_replication_role = replica"))
        # The arithmetic below spreads stays over establishments (stride 48271, hot ones included by their ids),
        # people (three consecutive stays each, at three establishments: never twice open at one) and two years.
        insert = text("""
            INSERT INTO stays (establishment_id, person_id, status, source, reason, arrived_at, expected_departure,
                               departed_at, deadline_at, filed_at, created_at, role)
            SELECT est, person, status, 'demo', 'Du lịch', arrived, (arrived AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + d,
                   CASE WHEN status = 'checked_out' THEN arrived + d * interval '1 day' END,
                   (date_trunc('day', arrived AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '23 hours')
                       AT TIME ZONE 'Asia/Ho_Chi_Minh',
                   CASE WHEN status = 'draft' THEN NULL
                        WHEN g % 20 = 7 THEN arrived + interval '1 day' + (g % 24) * interval '1 hour'
                        ELSE arrived + interval '10 minutes' END,
                   arrived,
                   CASE WHEN est % 8 = 7 THEN (CASE WHEN g % 3 = 0 THEN 'carer' ELSE 'patient' END) ELSE 'guest' END
            FROM (
                SELECT g, est, person, arrived, d,
                       CASE WHEN g % 500 = 3 THEN 'draft'
                            WHEN arrived + d * interval '1 day' > now() OR g % 100 = 1 THEN 'in_house'
                            ELSE 'checked_out' END AS status
                FROM (
                    SELECT g,
                           1 + (g * 48271::bigint) % :establishments AS est,
                           1 + (g - 1) / 3 AS person,
                           now() - ((g * 2654435761::bigint) % (730 * 1440)) * interval '1 minute' AS arrived,
                           1 + g % 4 AS d
                    FROM generate_series(:lo, :hi) AS g
                ) AS raw
            ) AS s
        """)
        start = time.perf_counter()
        for lo in range(1, stays + 1, batch):
            hi = min(lo + batch - 1, stays)
            conn.execute(insert, {"lo": lo, "hi": hi, "establishments": establishments})
            db.session.commit()
            conn = db.session.connection()
            conn.execute(text("SET session_replication_role = replica"))
            rate = hi / (time.perf_counter() - start)
            log(f"  stays {hi:,}/{stays:,} ({rate:,.0f}/s)")
        conn.execute(text("SET session_replication_role = DEFAULT"))
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for name, definition in indexes:
            timed(f"index {name}", lambda d=definition: conn.execute(text(d)))
        db.session.commit()
    # VACUUM sets the visibility map, so that covering indexes answer without the table (autovacuum does it in
    # production); it cannot run inside a transaction.
    timed("VACUUM ANALYZE", lambda: vacuum(app.config["SQLALCHEMY_DATABASE_URI"]))
    return generate_info(app, hot)


def vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) stays, people, establishments")


def scale_of(app: Any, info: dict[str, Any]) -> dict[str, int]:
    from sqlalchemy import text

    from asm.extensions import db

    with app.app_context():
        q = db.session.execute
        return {
            "stays": q(text("SELECT count(*) FROM stays")).scalar_one(),
            "establishments": q(text("SELECT count(*) FROM establishments")).scalar_one(),
            "communes": q(text("SELECT count(*) FROM communes")).scalar_one(),
            "provinces": q(text("SELECT count(*) FROM provinces")).scalar_one(),
            "hot_ward_establishments": q(
                text("SELECT count(*) FROM establishments WHERE commune_code = :c"), {"c": info["hot"]}
            ).scalar_one(),
            "typical_ward_establishments": q(
                text("SELECT count(*) FROM establishments WHERE commune_code = :c"), {"c": info["typical"]}
            ).scalar_one(),
            "province_establishments": q(
                text("""SELECT count(*) FROM establishments e JOIN communes c ON c.code = e.commune_code
                        WHERE c.province_code = :p"""),
                {"p": info["province"]},
            ).scalar_one(),
        }


# --- measurements -----------------------------------------------------------------------------------------------


def median_ms(run: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    run()  # warm-up: caches, the first template compilation
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def logged_in_client(app: Any, role: str, **area: str) -> Any:
    from asm.accounts.services import create_user
    from asm.extensions import db

    with app.app_context():
        name = f"bench-{role}-{'-'.join(area.values())}"
        from sqlalchemy import select

        from asm.accounts.models import User

        if db.session.scalar(select(User).where(User.username == name)) is None:
            create_user(username=name, password="bench-password", role=role, full_name=f"Cán bộ {name}", **area)
            db.session.commit()
    client = app.test_client()
    response = client.post("/dang-nhap", data={"username": name, "password": "bench-password"})
    assert response.status_code == 302, response.status_code
    return client


def page_ms(client: Any, url: str, runs: int) -> tuple[float, list[float]]:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return median_ms(get, runs)


def report_period(app: Any, commune: str, wanted: int) -> tuple[date, date, int]:
    """The most recent period of the hot ward holding at least `wanted` stays (by whole days)."""
    from sqlalchemy import text

    from asm.clock import local_today
    from asm.extensions import db

    with app.app_context():
        rows = db.session.execute(
            text("""SELECT (s.arrived_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS d, count(*)
                    FROM stays s JOIN establishments e ON e.id = s.establishment_id
                    WHERE e.commune_code = :c AND s.status <> 'cancelled'
                    GROUP BY d ORDER BY d DESC"""),
            {"c": commune},
        ).all()
    total = 0
    end = local_today()
    start = end
    for day, n in rows:
        if (end - day).days >= 366:  # a report covers at most 366 days
            break
        total += n
        start = day
        if total >= wanted:
            break
    return start, end, total


def report_ms(app: Any, user_id: int, params: dict[str, Any], fmt: str, runs: int) -> tuple[float, list[float], int]:
    from asm.extensions import db
    from asm.police import reports
    from asm.police.models import ReportJob

    size = 0

    def run() -> None:
        nonlocal size
        with app.app_context():
            job = ReportJob(user_id=user_id, kind="register", fmt=fmt, params=params, state="running")
            db.session.add(job)
            db.session.commit()
            name = reports.generate(app, job)
            path = reports.report_dir(app) / name
            size = path.stat().st_size
            path.unlink()

    ms, times = median_ms(run, runs)
    return ms, times, size


def baseline_ms(app: Any, runs: int) -> float:
    from sqlalchemy import text

    from asm.extensions import db

    def count() -> None:
        with app.app_context():
            db.session.execute(text("SELECT count(*) FROM stays")).scalar_one()

    return median_ms(count, runs)[0]


def measure(app: Any, info: dict[str, Any], runs: int) -> dict[str, Any]:
    from sqlalchemy import select

    from asm.accounts.models import User
    from asm.extensions import db

    results: dict[str, Any] = {}
    results["baseline"] = baseline_ms(app, runs)
    log(f"baseline SELECT count(*) FROM stays: {results['baseline']:.0f} ms")
    ward = logged_in_client(app, "officer", commune_code=info["typical"])
    hot = logged_in_client(app, "officer", commune_code=info["hot"])
    province = logged_in_client(app, "supervisor", province_code=info["province"])
    for key, client in (("ward", ward), ("hot_ward", hot), ("province", province)):
        ms, times = page_ms(client, "/cong-an/", runs)
        results[key] = ms
        log(f"dashboard {key}: median {ms:.0f} ms (runs: {', '.join(f'{t:.0f}' for t in times)})")
    ms, _ = page_ms(hot, "/cong-an/danh-sach/in_house", runs)
    results["hot_ward_list"] = ms
    log(f"hot ward in-house list (first 100): median {ms:.0f} ms")
    start, end, count = report_period(app, info["hot"], 10_000)
    results["report_rows"] = count
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == f"bench-officer-{info['hot']}"))
    params = {"commune": info["hot"], "from": start.isoformat(), "to": end.isoformat(), "locale": "vi"}
    for fmt in ("pdf", "csv", "xlsx"):
        ms, times, size = report_ms(app, user_id, params, fmt, max(2, runs // 2))
        results[f"report_{fmt}"] = ms
        log(f"register {fmt} of {count:,} stays ({start} → {end}): median {ms:.0f} ms, {size / 1e6:.1f} MB")
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench police", description=__doc__.split("\n")[0])
    parser.add_argument("--stays", type=int, default=10_000_000)
    parser.add_argument("--establishments", type=int, default=50_000)
    parser.add_argument("--hot-share", type=float, default=0.01, help="share of establishments in the hot ward")
    parser.add_argument("--batch", type=int, default=1_000_000, help="stays per INSERT … SELECT")
    parser.add_argument("--database", default="asm_scale")
    parser.add_argument("--server", default=PG_SERVER)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="measure an already generated database")
    args = parser.parse_args(argv)
    if args.database in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {args.database!r}")
    url = f"{args.server}/{args.database}"
    with tempfile.TemporaryDirectory() as report_dir:
        if args.reuse:
            app = make_app(url, report_dir)
            with app.app_context():
                from sqlalchemy import text

                from asm.extensions import db

                hot = db.session.execute(text("SELECT commune_code FROM establishments WHERE id = 1")).scalar_one()
            info = generate_info(app, hot)
        else:
            log(f"database {args.database}: recreate and migrate")
            url = recreate_database(args.server, args.database)
            app = make_app(url, report_dir)
            timed("migrations and units", lambda: migrate(app))
            start = time.perf_counter()
            info = generate(
                app, stays=args.stays, establishments=args.establishments, hot_share=args.hot_share, batch=args.batch
            )
            log(f"generated in {time.perf_counter() - start:.0f} s")
        scale = scale_of(app, info)
        log("scale: " + ", ".join(f"{k} {v:,}" for k, v in scale.items()))
        results = measure(app, info, args.runs)
    log("\nsummary (median ms; ratio to the full-table count baseline; target):")
    for key in ("ward", "hot_ward", "province", "report_pdf", "report_csv", "report_xlsx", "hot_ward_list"):
        target = TARGETS_MS.get(key)
        verdict = "" if target is None else (" ok" if results[key] <= target else " OVER TARGET")
        target_text = f"≤ {target:.0f} ms" if target else "—"
        log(f"  {key:14} {results[key]:8.0f} ms  ×{results[key] / results['baseline']:.3f}  {target_text}{verdict}")


def generate_info(app: Any, hot: str) -> dict[str, Any]:
    from sqlalchemy import text

    from asm.extensions import db

    with app.app_context():
        province = db.session.execute(
            text("SELECT province_code FROM communes WHERE code = :c"), {"c": hot}
        ).scalar_one()
        typical = db.session.execute(
            text("""SELECT commune_code FROM establishments WHERE commune_code <> :hot
                    GROUP BY commune_code ORDER BY count(*) DESC, commune_code LIMIT 1 OFFSET 1000"""),
            {"hot": hot},
        ).scalar_one()
    return {"hot": hot, "province": province, "typical": typical}


if __name__ == "__main__":
    main(sys.argv[1:])
