"""Benchmark: the dashboard of a province with 1,000,000 responses, on PostgreSQL.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/test .venv/bin/python bench/bench_dashboard.py [--responses N]

Builds a private schema, migrates it, loads the demo province's structure (no responses),
generates the responses and their answers with set-based SQL (generate_series), then times
``GET /admin/`` through the Flask test client, the report cache cleared each time:

* cold: the first request, which builds the rollups of every complete month and of the other
  complete days (the current month's, the previous period's partial first month);
* warm: rollups present, the default period (the last twelve months; only today comes from
  the raw answers, the current month's elapsed days from the daily rollups);
* complete months: a period of complete months only (everything from the monthly rollups);
* custom edges: a period starting and ending mid-month (edge months from daily rollups, built
  by its first request, then warm);
* raw: the same default period with rollups disabled (``REPORT_ROLLUPS = False``), the
  pre-rollup path, for comparison.

The schema is dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

# Latent share satisfied per demo service point, in DEMO_TREE order (some meet targets, some not).
QUALITY = [0.97, 0.82, 0.74, 0.9, 0.96, 0.76, 0.78, 0.88, 0.84, 0.95, 0.93, 0.8]


def private_schema(base_url: str) -> tuple[str, str]:
    schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(normalise_database_url(base_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.make_url(normalise_database_url(base_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(base_url: str, schema: str) -> None:
    engine = sa.create_engine(normalise_database_url(base_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "TESTING": True})


def generate(app, n_responses: int) -> dict[str, float]:
    """The demo structure, then ``n_responses`` responses over the last twelve months, in SQL."""
    from surveyapp.cli import upgrade_to_head
    from surveyapp.seed import seed_demo

    timings = {}
    with app.app_context():
        upgrade_to_head()
        seed_demo(seed=1, n_responses=0)
        t0 = time.perf_counter()
        conn = db.session.connection()
        # The rows are consistent by construction: skip the per-row foreign-key triggers
        # (superuser only; the constraints are still declared and checked by the app).
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        # Loading into tables without their secondary indexes and building those once at the
        # end is several times faster than maintaining them row by row. Indexes that back a
        # constraint (primary and unique keys) stay.
        secondary = conn.execute(sa.text("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename IN ('response', 'answer')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """)).all()
        for name, _ in secondary:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        q = [f"({i}, {p})" for i, p in enumerate(QUALITY)]
        conn.execute(sa.text(f"""
            CREATE TEMP TABLE sp_map AS
            SELECT row_number() OVER (ORDER BY sp.id) - 1 AS idx, sp.id AS sp_id, full_s.id AS full_survey,
                   quality.p
            FROM service_point sp
            JOIN survey_service_point ssp ON ssp.service_point_id = sp.id
            JOIN survey full_s ON full_s.id = ssp.survey_id AND NOT full_s.channel_kiosk
            JOIN (VALUES {", ".join(q)}) AS quality(i, p) ON TRUE
            WHERE quality.i = (SELECT count(*) FROM service_point s2 WHERE s2.id < sp.id)
        """))
        quick = conn.execute(sa.text("SELECT id FROM survey WHERE channel_kiosk")).scalar_one()
        n_sp = conn.execute(sa.text("SELECT count(*) FROM sp_map")).scalar_one()
        conn.execute(sa.text(f"""
            INSERT INTO response (id, survey_id, service_point_id, channel, submitted_at, client_created_at, language,
                                  idempotency_key, contact_consent, flag)
            SELECT g, CASE WHEN x.quick THEN {quick} ELSE m.full_survey END, m.sp_id,
                   CASE WHEN x.quick AND x.r < 0.8 THEN 'kiosk' ELSE 'qr' END, x.ts,
                   CASE WHEN x.quick AND x.r < 0.8 THEN x.ts END, 'vi', md5(g::text), FALSE,
                   CASE WHEN x.r > 0.995 THEN 'too_fast' END
            FROM (SELECT row_number() OVER (ORDER BY ts) AS g, y.*
                  FROM (SELECT random() < 0.45 AS quick, random() AS r, floor(random() * {n_sp})::int AS idx,
                               date_trunc('second', now() AT TIME ZONE 'UTC' - random() * interval '360 days') AS ts
                        FROM generate_series(1, :n)) y) x
            JOIN sp_map m ON m.idx = x.idx
            -- Stored in receipt order, as the app stores them (submitted_at is the server's
            -- receipt time): ids and the heap follow time, so a month's answers sit together.
            ORDER BY g
        """), {"n": n_responses})
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('response', 'id'), (SELECT max(id) FROM response))"))
        timings["responses_s"] = time.perf_counter() - t0
        # Two options per side of the scale, chosen at random; a per-respondent effect from a hash
        # of the id so that one person's answers are correlated.
        conn.execute(sa.text("""
            CREATE TEMP TABLE opt_map AS
            SELECT question_id, is_satisfied AS sat, k, option_id, value FROM (
              SELECT o.question_id, o.is_satisfied, o.id AS option_id, o.value,
                     row_number() OVER (PARTITION BY o.question_id, o.is_satisfied ORDER BY o.value DESC) - 1 AS k
              FROM option o JOIN question q ON q.id = o.question_id
              WHERE q.counts_in_index AND NOT o.is_no_opinion) t
            WHERE k < 2
        """))
        t1 = time.perf_counter()
        # In chunks of consecutive responses (ids follow time), so that the answers too are
        # stored in receipt order, as in production; one statement would interleave them.
        chunks = 24
        step = -(-n_responses // chunks)
        for lo in range(1, n_responses + 1, step):
            conn.execute(sa.text("""
            INSERT INTO answer (response_id, question_id, option_id, value, satisfied, service_point_id, submitted_at)
            SELECT a.id, a.qid, om.option_id, om.value, om.sat::int, a.sp, a.ts
            FROM (
              SELECT r.id, q.id AS qid, r.service_point_id AS sp, r.submitted_at AS ts,
                     random() < least(0.995, m.p + ((hashint4(r.id) % 1000) / 1000.0) * 0.12) AS sat,
                     (random() < 0.5)::int AS k
              FROM response r
              JOIN sp_map m ON m.sp_id = r.service_point_id
              JOIN survey s ON s.id = r.survey_id
              JOIN question q ON q.questionnaire_id = s.questionnaire_id AND q.counts_in_index
              WHERE r.id >= :lo AND r.id < :hi
            ) a
            JOIN opt_map om ON om.question_id = a.qid AND om.sat = a.sat AND om.k = a.k
            """), {"lo": lo, "hi": lo + step})
        # A few comments, for the comments page.
        conn.execute(sa.text("""
            INSERT INTO answer (response_id, question_id, text, service_point_id, submitted_at)
            SELECT r.id, q.id, 'Góp ý thử nghiệm số ' || r.id, r.service_point_id, r.submitted_at
            FROM response r JOIN survey s ON s.id = r.survey_id
            JOIN question q ON q.questionnaire_id = s.questionnaire_id AND q.type = 'text'
            WHERE r.id % 50 = 0
        """))
        timings["answers_s"] = time.perf_counter() - t1
        t3 = time.perf_counter()
        for _, ddl in secondary:
            conn.execute(sa.text(ddl))
        timings["indexes_s"] = time.perf_counter() - t3
        db.session.commit()
        t2 = time.perf_counter()
        db.session.execute(sa.text("VACUUM ANALYZE") if False else sa.text("ANALYZE"))
        db.session.commit()
        timings["analyze_s"] = time.perf_counter() - t2
        timings["responses"] = db.session.scalar(sa.text("SELECT count(*) FROM response"))
        timings["answers"] = db.session.scalar(sa.text("SELECT count(*) FROM answer"))
        timings["time_correlation"] = db.session.scalar(sa.text(
            "SELECT correlation FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'answer' "
            "AND attname = 'submitted_at'"))
    return timings


def time_dashboard(app, repeats: int = 3, query: str = "") -> list[float]:
    client = app.test_client()
    r = client.post("/login", data={"username": "admin", "password": "demo12345"})
    assert r.status_code == 302, r.status_code
    times = []
    for _ in range(repeats):
        app.extensions.get("reports_cache", {}).clear()
        t = time.perf_counter()
        r = client.get("/admin/" + query)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.status_code
    return times


def complete_months_query() -> str:
    """The twelve complete months before the current one (rolled up entirely)."""
    from surveyapp.reports import filters, rollups

    limit = rollups.complete_month_limit()
    first = filters.month_first_day(limit - 12)
    last = filters.month_first_day(limit) - timedelta(days=1)
    return f"?from={first.isoformat()}&to={last.isoformat()}"


def custom_edges_query() -> str:
    """From the 15th five months back to ten days ago: partial months at both edges."""
    from surveyapp.reports import rollups

    today = rollups.complete_day_limit()
    y, m = today.year, today.month - 5
    if m <= 0:
        y, m = y - 1, m + 12
    return f"?from={date(y, m, 15).isoformat()}&to={(today - timedelta(days=10)).isoformat()}"


def rollup_rows(app) -> str:
    with app.app_context():
        months, days = db.session.execute(sa.text(
            "SELECT count(*) FILTER (WHERE day = 0), count(*) FILTER (WHERE day <> 0) FROM report_rollup")).one()
    return f"{months:,} month rows, {days:,} day rows (markers included)"


def show(label: str, times: list[float]) -> None:
    print(f"{label}: " + ", ".join(f"{t:.3f} s" for t in times) + f" (best {min(times):.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the schema (prints its URL).")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgresql://root@127.0.0.1:5432/test")
    schema, url = private_schema(base)
    try:
        app = make_app(url)
        gen = generate(app, args.responses)
        print(f"generated {gen['responses']:,} responses, {gen['answers']:,} answers "
              f"(responses {gen['responses_s']:.1f} s, answers {gen['answers_s']:.1f} s, analyze {gen['analyze_s']:.1f} s)")
        print(f"indexes rebuilt in {gen['indexes_s']:.1f} s; answer.submitted_at physical-order correlation "
              f"{gen['time_correlation']:.3f}")
        show("GET /admin/ cold (builds the monthly and daily rollups)", time_dashboard(app, repeats=1))
        print(f"rollups stored: {rollup_rows(app)}")
        show("GET /admin/ warm, default period (today from raw answers)", time_dashboard(app))
        query = complete_months_query()
        show(f"GET /admin/{query} (complete months only)", time_dashboard(app, query=query))
        query = custom_edges_query()
        show(f"GET /admin/{query} custom edges, cold then warm", time_dashboard(app, repeats=3, query=query))
        app.config["REPORT_ROLLUPS"] = False
        show("GET /admin/ raw answers only (rollups disabled, the previous path)", time_dashboard(app, repeats=2))
        if args.keep:
            print(f"schema kept: {url}")
    finally:
        if not args.keep:
            drop_schema(base, schema)


if __name__ == "__main__":
    main()
