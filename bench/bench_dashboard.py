"""Benchmark: the dashboard of a province with 1,000,000 responses, on PostgreSQL or SQLite.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/test .venv/bin/python bench/bench_dashboard.py [--runs 3]
    .venv/bin/python bench/bench_dashboard.py --database-url sqlite:////tmp/bench_dashboard_1m.sqlite

The seeded database is kept and reused: on PostgreSQL a schema named ``bench_dashboard_<N>``
(``--schema``), on SQLite the file of the URL. The first run migrates it, loads the demo
province's structure (no responses) and generates ``--responses`` responses over the last 360
days and their answers with set-based SQL (several minutes at 1,000,000); later runs find the
seed complete (``bench_seed``) and start at once. ``--fresh`` regenerates it, ``--drop``
removes it at the end. A seed ages: "today" has responses only on the day it was made, and
the periods below move with the calendar, so regenerate a seed older than a day or two.

Each run deletes every rollup first, then times ``GET`` requests as an administrator through
the Flask test client, the dashboard's in-process report cache cleared before each request (so
a "repeated" request recomputes the report):

* refresh: ``flask report-refresh`` (the nightly job) on empty rollups;
* cold start: a new application (its templates compiled first, as gunicorn's master does before
  forking), the first request right after the refresh (default period);
* default period (the last twelve months to today), repeated;
* a whole month (the last complete one) and a quarter (the last complete one): first, repeated;
* custom mid-month edges (the 15th five months back to ten days ago): first, repeated;
* drill-down to a unit (an organisation) and to a service point, default period: first, repeated;
* ``--cold-build``: also, first, the first request on no rollups at all (no refresh);
* ``--raw``: also the default period with rollups disabled (the raw path, tens of seconds).

``--runs K`` repeats all of it and prints each kind's wall times, their median, and the median
CPU time of this process (the database server's excluded). The script
imports the ``surveyapp`` package from its own tree's parent, or from ``--code DIR`` (another
checkout, e.g. the base branch from ``git archive``), so both are timed by the same script.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path


def _code_root() -> Path:
    for i, arg in enumerate(sys.argv):
        if arg == "--code" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if arg.startswith("--code="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path(__file__).resolve().parent.parent


sys.path.insert(0, str(_code_root()))

import sqlalchemy as sa  # noqa: E402

import surveyapp  # noqa: E402
from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

# Latent share satisfied per demo service point, in DEMO_TREE order (some meet targets, some not).
QUALITY = [0.97, 0.82, 0.74, 0.9, 0.96, 0.76, 0.78, 0.88, 0.84, 0.95, 0.93, 0.8]


def schema_url(base_url: str, schema: str, fresh: bool) -> str:
    """The URL of ``schema`` (created if missing, emptied first when ``fresh``)."""
    engine = sa.create_engine(normalise_database_url(base_url))
    with engine.begin() as conn:
        if fresh:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    url = sa.make_url(normalise_database_url(base_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_schema(base_url: str, schema: str) -> None:
    engine = sa.create_engine(normalise_database_url(base_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "TESTING": True})


def seeded(app, n_responses: int) -> str | None:
    """When the database holds a complete seed of ``n_responses``, the time it was made."""
    with app.app_context():
        if not sa.inspect(db.engine).has_table("bench_seed"):
            return None
        row = db.session.execute(sa.text("SELECT responses, seeded_at FROM bench_seed")).first()
        return str(row[1]) if row and row[0] == n_responses else None


def generate(app, n_responses: int) -> dict[str, float]:
    """The demo structure, then ``n_responses`` responses over the last 360 days, in SQL."""
    from surveyapp.cli import upgrade_to_head
    from surveyapp.seed import seed_demo

    timings: dict = {}
    with app.app_context():
        upgrade_to_head()
        seed_demo(seed=1, n_responses=0)
        if db.engine.dialect.name == "postgresql":
            generate_postgres(n_responses, timings)
        else:
            generate_sqlite(n_responses, timings)
        timings["responses"] = db.session.scalar(sa.text("SELECT count(*) FROM response"))
        timings["answers"] = db.session.scalar(sa.text("SELECT count(*) FROM answer"))
        # Marks the seed complete, for the next run to reuse it.
        db.session.execute(sa.text("CREATE TABLE bench_seed (responses INTEGER, seeded_at VARCHAR(40))"))
        db.session.execute(sa.text("INSERT INTO bench_seed VALUES (:n, :t)"),
                           {"n": n_responses, "t": time.strftime("%Y-%m-%d %H:%M:%S %Z")})
        db.session.commit()
    return timings


def generate_postgres(n_responses: int, timings: dict) -> None:
    """``n_responses`` responses over the last 360 days and their answers, in set-based SQL."""
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
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    timings["analyze_s"] = time.perf_counter() - t2


def generate_sqlite(n_responses: int, timings: dict) -> None:
    """The same data as :func:`generate_postgres`, in SQLite's SQL (a recursive series)."""
    t0 = time.perf_counter()
    conn = db.session.connection()
    secondary = conn.execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('response', 'answer') "
        "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'")).all()
    for name, _ in secondary:
        conn.execute(sa.text(f'DROP INDEX "{name}"'))
    q = [f"({i}, {p})" for i, p in enumerate(QUALITY)]
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE sp_map AS
        SELECT (SELECT count(*) FROM service_point s2 WHERE s2.id < sp.id) AS idx, sp.id AS sp_id,
               full_s.id AS full_survey, quality.p AS p
        FROM service_point sp
        JOIN survey_service_point ssp ON ssp.service_point_id = sp.id
        JOIN survey full_s ON full_s.id = ssp.survey_id AND NOT full_s.channel_kiosk
        JOIN (SELECT column1 AS i, column2 AS p FROM (VALUES {", ".join(q)})) AS quality
          ON quality.i = (SELECT count(*) FROM service_point s2 WHERE s2.id < sp.id)
    """))
    quick = conn.execute(sa.text("SELECT id FROM survey WHERE channel_kiosk")).scalar_one()
    n_sp = conn.execute(sa.text("SELECT count(*) FROM sp_map")).scalar_one()
    uniform = "((random() & 9007199254740991) / 9007199254740992.0)"
    conn.execute(sa.text(f"""
        CREATE TEMP TABLE gen AS
        WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
        SELECT {uniform} < 0.45 AS quick, {uniform} AS r, CAST({uniform} * {n_sp} AS INTEGER) AS idx,
               strftime('%Y-%m-%d %H:%M:%S.000000', 'now',
                        '-' || CAST({uniform} * 360 * 86400 AS INTEGER) || ' seconds') AS ts
        FROM g
    """), {"n": n_responses})
    conn.execute(sa.text(f"""
        INSERT INTO response (id, survey_id, service_point_id, channel, submitted_at, client_created_at, language,
                              idempotency_key, contact_consent, flag)
        SELECT row_number() OVER (ORDER BY x.ts), CASE WHEN x.quick THEN {quick} ELSE m.full_survey END, m.sp_id,
               CASE WHEN x.quick AND x.r < 0.8 THEN 'kiosk' ELSE 'qr' END, x.ts,
               CASE WHEN x.quick AND x.r < 0.8 THEN x.ts END, 'vi', 'bench-' || x.rowid, 0,
               CASE WHEN x.r > 0.995 THEN 'too_fast' END
        FROM gen x JOIN sp_map m ON m.idx = x.idx
        ORDER BY x.ts
    """))
    timings["responses_s"] = time.perf_counter() - t0
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
    conn.execute(sa.text(f"""
        INSERT INTO answer (response_id, question_id, option_id, value, satisfied, service_point_id, submitted_at)
        -- Materialised, so that each answer draws its random numbers once.
        WITH a AS MATERIALIZED (
          SELECT r.id, q.id AS qid, r.service_point_id AS sp, r.submitted_at AS ts,
                 {uniform} < min(0.995, m.p + (((r.id * 2654435761) % 1000) / 1000.0) * 0.12) AS sat,
                 {uniform} < 0.5 AS k
          FROM response r
          JOIN sp_map m ON m.sp_id = r.service_point_id
          JOIN survey s ON s.id = r.survey_id
          JOIN question q ON q.questionnaire_id = s.questionnaire_id AND q.counts_in_index
          ORDER BY r.id
        )
        SELECT a.id, a.qid, om.option_id, om.value, om.sat, a.sp, a.ts
        FROM a JOIN opt_map om ON om.question_id = a.qid AND om.sat = a.sat AND om.k = a.k
        ORDER BY a.id
    """))
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
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    timings["analyze_s"] = time.perf_counter() - t2


def login(app):
    client = app.test_client()
    r = client.post("/login", data={"username": "admin", "password": "demo12345"})
    assert r.status_code == 302, r.status_code
    return client


def get(app, client, path: str) -> tuple[float, float]:
    """One request, the report cache cleared first: its wall time, and the CPU time this
    process spent on it (the database server's excluded), less sensitive to a loaded machine."""
    app.extensions.get("reports_cache", {}).clear()
    t, c = time.perf_counter(), time.process_time()
    r = client.get(path)
    elapsed = time.perf_counter() - t, time.process_time() - c
    assert r.status_code == 200, (path, r.status_code)
    return elapsed


def previous_month(key: int, back: int) -> tuple[date, date]:
    from surveyapp.reports import filters

    first = filters.month_first_day(key - back)
    return first, filters.month_first_day(key - back + 1) - timedelta(days=1)


def queries() -> dict[str, str]:
    """The periods timed, as query strings, from the calendar of the run."""
    from surveyapp.reports import rollups

    limit = rollups.complete_month_limit()
    month = previous_month(limit, 1)
    # The last complete calendar quarter.
    q_end = limit - (limit % 3)
    quarter = (previous_month(q_end, 3)[0], previous_month(q_end, 1)[1])
    today = rollups.complete_day_limit()
    y, m = today.year, today.month - 5
    if m <= 0:
        y, m = y - 1, m + 12
    edges = (date(y, m, 15), today - timedelta(days=10))
    return {name: f"?from={a.isoformat()}&to={b.isoformat()}"
            for name, (a, b) in (("month", month), ("quarter", quarter), ("edges", edges))}


def clear_rollups(app) -> None:
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM report_rollup"))
        db.session.commit()


def one_run(url: str, cold_build: bool, raw: bool) -> dict[str, list[tuple[float, float]]]:
    """Every request kind once (first) or several times (repeated), from empty rollups:
    (wall, CPU) seconds of each."""
    out: dict[str, list[tuple[float, float]]] = {}

    def add(kind, *times):
        out.setdefault(kind, []).extend(times)

    app = make_app(url)
    clear_rollups(app)
    if cold_build:
        client = login(app)
        add("cold, no rollups at all (first request builds them)", get(app, client, "/admin/"))
        clear_rollups(app)
    with app.app_context():
        q = queries()
        unit = db.session.scalar(sa.text("SELECT id FROM organisation WHERE code = 'KA-BVDK'"))
        point = db.session.scalar(sa.text(
            "SELECT sp.id FROM service_point sp JOIN organisation o ON o.id = sp.organisation_id "
            "WHERE o.code = 'KA-HCC' ORDER BY sp.id LIMIT 1"))
    t, c = time.perf_counter(), time.process_time()
    result = app.test_cli_runner().invoke(args=["report-refresh"])
    assert result.exit_code == 0, result.output
    add("report-refresh (nightly job), empty rollups", (time.perf_counter() - t, time.process_time() - c))
    # A cold start: a new application process's first request after the nightly job. In
    # production gunicorn's master compiles the templates before forking (gunicorn_conf.when_ready);
    # a checkout without that step (--code) starts without it.
    app = make_app(url)
    if hasattr(surveyapp, "warm_templates"):
        surveyapp.warm_templates(app)
    client = login(app)
    add("cold start after report-refresh: default period, first request", get(app, client, "/admin/"))
    add("default period (12 months to today), repeated", *(get(app, client, "/admin/") for _ in range(3)))
    for kind, label in (("month", "whole month"), ("quarter", "quarter"), ("edges", "custom mid-month edges")):
        add(f"{label} {q[kind]}, first request", get(app, client, "/admin/" + q[kind]))
        add(f"{label}, repeated", *(get(app, client, "/admin/" + q[kind]) for _ in range(2)))
    for label, path in (("drill-down to a unit (organisation)", f"/admin/reports/organisation/{unit}"),
                        ("drill-down to a service point", f"/admin/reports/point/{point}")):
        add(f"{label}, first request", get(app, client, path))
        add(f"{label}, repeated", *(get(app, client, path) for _ in range(2)))
    if raw:
        app.config["REPORT_ROLLUPS"] = False
        add("raw answers only (rollups disabled), default period", get(app, client, "/admin/"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--schema", help="PostgreSQL schema of the seed (default: bench_dashboard_<N>).")
    parser.add_argument("--fresh", action="store_true", help="Regenerate the seed even if one is there.")
    parser.add_argument("--drop", action="store_true", help="Drop the seed at the end.")
    parser.add_argument("--runs", type=int, default=1, help="Repeat every measurement; medians printed (0: seed only).")
    parser.add_argument("--cold-build", action="store_true", help="Also time the first request on no rollups.")
    parser.add_argument("--raw", action="store_true", help="Also time the raw path (rollups disabled).")
    parser.add_argument("--code", help="Import surveyapp from this tree (e.g. a base checkout).")
    args = parser.parse_args()
    base = args.database_url
    if not base:
        sys.exit("Give --database-url (or DATABASE_URL): postgresql://root@127.0.0.1:5432/test or sqlite:////tmp/x.sqlite")
    import surveyapp

    print(f"code: {Path(surveyapp.__file__).parent}")
    postgres = base.startswith("postgres")
    schema = args.schema or f"bench_dashboard_{args.responses}"
    if postgres:
        url = schema_url(base, schema, args.fresh)
    else:
        url = base
        path = sa.make_url(url).database
        if args.fresh and path and os.path.exists(path):
            os.remove(path)
    app = make_app(url)
    made = seeded(app, args.responses)
    if made and not args.fresh:
        print(f"reusing the seed made {made} ({schema if postgres else url})")
        from surveyapp.cli import upgrade_to_head

        with app.app_context():
            upgrade_to_head()  # a seed made by older code lacks the newer tables
    else:
        if postgres:
            with app.app_context():
                db.engine.dispose()
            url = schema_url(base, schema, True)
        elif os.path.exists(sa.make_url(url).database or ""):
            os.remove(sa.make_url(url).database)
        app = make_app(url)
        gen = generate(app, args.responses)
        print(f"generated {gen['responses']:,} responses, {gen['answers']:,} answers "
              f"(responses {gen['responses_s']:.1f} s, answers {gen['answers_s']:.1f} s, "
              f"indexes {gen['indexes_s']:.1f} s, analyze {gen['analyze_s']:.1f} s)")
    try:
        runs = []
        for i in range(args.runs):
            runs.append(one_run(url, args.cold_build, args.raw))
            print(f"run {i + 1} done", flush=True)
        if not runs:
            return  # --runs 0: only make (or check) the seed
        print(f"\n{'request':<80} {'median':>7} {'CPU':>7}  all (wall s)")
        for kind in runs[0]:
            times = [t for r in runs for t in r[kind]]
            wall = statistics.median(w for w, _ in times)
            cpu = statistics.median(c for _, c in times)
            print(f"{kind:<80} {wall:7.3f} {cpu:7.3f}  " + ", ".join(f"{w:.3f}" for w, _ in times))
    finally:
        if args.drop:
            if postgres:
                drop_schema(base, schema)
            else:
                os.remove(sa.make_url(url).database)


if __name__ == "__main__":
    main()
