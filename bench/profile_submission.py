"""One citizen submission, in process: per-request milliseconds and SQL statements, ours vs bare.

Seeds a fresh SQLite file (or a fresh PostgreSQL schema with --pg) exactly like
``bench/load_submissions.py`` (one open quick-rating survey on one service point; with
``--full`` the SIPAS questionnaire instead), then drives the Flask test client:

- ours: ``POST /s/<code>`` with CSRF and rate limiting on (as in production), each request
  with its own idempotency key and a signed start token a minute old;
- hooks: a POST to a route added to surveyapp's app here that only inserts one row: what
  surveyapp's middleware (CSRF, security guards, Babel, session, headers) costs by itself;
- bare: ``POST /`` of ``bench/bare_floor.py`` (one ORM insert) on its own SQLite file/schema.

Statements are counted with an SQLAlchemy ``before_cursor_execute`` listener (executemany
counts once). ``--profile`` prints a cProfile of the ours loop (top functions by cumulative
time).

    .venv/bin/python bench/profile_submission.py -n 300
    .venv/bin/python bench/profile_submission.py -n 300 --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load_submissions import csrf_token_in  # noqa: E402
from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402


class StatementCounter:
    def __init__(self):
        self.n = 0
        self.kinds: Counter = Counter()

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        self.kinds[statement.split(None, 1)[0].upper()] += 1


def seed(app, full: bool) -> tuple[int, str]:
    from surveyapp.cli import upgrade_to_head
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    with app.app_context():
        upgrade_to_head()
        families = seed_standard()
        org = Organisation(code="BENCH", name="Xã Đo Tải", sector="administrative")
        sp = ServicePoint(organisation=org, name="Quầy 1")
        survey = Survey(questionnaire=families["sipas-admin" if full else "quick-rating"], organisation=org,
                        name="Đo tải", starts_on=date(2026, 1, 1), status="open", channel_qr=True,
                        channel_kiosk=True, service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.commit()
        out = survey.id, sp.code
        db.session.remove()
    return out


def answers_for(app, survey_id: int, i: int) -> dict:
    """Valid answers for every non-follow-up question (first option / a number / a short text)."""
    from surveyapp.models import Survey

    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        fields = {}
        for q in survey.questionnaire.questions:
            if q.follows_code:
                continue
            if q.type in ("rating", "choice", "yesno"):
                fields["q_" + q.code] = q.options[i % len(q.options)].code
            elif q.type == "number":
                fields["q_" + q.code] = str(q.min_value or 1)
            else:
                fields["q_" + q.code] = "Nhân viên nhiệt tình."
        db.session.remove()
    return fields


def time_loop(client, make_request, n: int, counter: StatementCounter, expect: int) -> tuple[list[float], list[int]]:
    times, stmts = [], []
    cpu0 = time.process_time()
    for i in range(n):
        before = counter.n
        t0 = time.perf_counter()
        r = make_request(i)
        times.append((time.perf_counter() - t0) * 1000)
        stmts.append(counter.n - before)
        if r.status_code != expect:
            raise SystemExit(f"unexpected status {r.status_code}: {r.get_data(as_text=True)[:500]}")
    time_loop.cpu_ms = (time.process_time() - cpu0) * 1000 / max(n, 1)
    return times, stmts


def summary(name: str, times: list[float], stmts: list[int]) -> str:
    times = sorted(times)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    return (f"{name:5} mean {statistics.mean(times):6.2f} ms  p50 {p(0.5):6.2f}  p99 {p(0.99):6.2f}  "
            f"statements/request {statistics.mean(stmts):5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="timed requests per side")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (a schema is made in it) instead of SQLite")
    parser.add_argument("--full", action="store_true", help="the SIPAS questionnaire instead of the quick rating")
    parser.add_argument("--redis", default=None, help="Redis URL for the rate-limit counters (production shape)")
    parser.add_argument("--no-limits", action="store_true", help="rate limiting off (to see what it costs)")
    parser.add_argument("--profile", action="store_true", help="cProfile the ours loop")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key for --profile (e.g. tottime)")
    parser.add_argument("--callees", default=r"routes.py.*\(_submit\)",
                        help="with --profile: print what functions matching this call")
    parser.add_argument("--callers", default=None, help="with --profile: print the callers of functions matching this")
    parser.add_argument("--sql", action="store_true", help="print the statements of one ours request")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="profile-submission-"))
    schema = None
    if args.pg:
        schema = f"prof_{os.getpid()}_{secrets.token_hex(3)}"
        engine = sa.create_engine(normalise_database_url(args.pg))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        url = sa.make_url(normalise_database_url(args.pg)).update_query_dict({"options": f"-csearch_path={schema}"})
        ours_uri = bare_uri = url.render_as_string(hide_password=False)
    else:
        ours_uri, bare_uri = f"sqlite:///{workdir / 'ours.sqlite3'}", f"sqlite:///{workdir / 'bare.sqlite3'}"
    try:
        secret = secrets.token_hex(32)
        limits = "1000000 per hour"
        config = {"SQLALCHEMY_DATABASE_URI": normalise_database_url(ours_uri), "SECRET_KEY": secret,
                  "RATELIMIT_ENABLED": not args.no_limits, "WTF_CSRF_ENABLED": True,
                  "SUBMIT_RATE_LIMIT_CLIENT": limits, "SUBMIT_RATE_LIMIT_ADDRESS": limits,
                  "SUBMIT_RATE_LIMIT_POINT": limits}
        if args.redis:
            config["RATELIMIT_STORAGE_URI"] = args.redis
        app = create_app(config)
        survey_id, code = seed(app, args.full)
        # The middleware floor: a POST in surveyapp's own app (same hooks: CSRF, security guards,
        # Babel, session, security headers) that only inserts one row like the bare floor.
        floor_table = sa.Table("bench_floor", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("key", sa.String(64), unique=True), sa.Column("value", sa.Integer))
        with app.app_context():
            floor_table.create(db.engine, checkfirst=True)

        def floor_view():
            from flask import redirect, request
            db.session.execute(floor_table.insert().values(key=request.form["key"], value=int(request.form["value"])))
            db.session.commit()
            return redirect("/thanks", 303)

        app.add_url_rule("/_bench_floor", "bench_floor", floor_view, methods=["POST"])
        os.environ["DATABASE_URL"] = bare_uri
        from bench.bare_floor import create_app as bare_app_factory
        bare = bare_app_factory()

        from surveyapp.citizen.forms import new_key, sign_start

        client = app.test_client()
        page = client.get(f"/s/{code}")
        assert page.status_code == 200, page.status_code
        csrf = csrf_token_in(page.get_data(as_text=True))
        answers = [answers_for(app, survey_id, i) for i in range(4)]
        started = int(time.time() * 1000) - 60_000
        with app.app_context():
            bodies = []
            for i in range(args.n + args.warmup + 1):
                key = new_key()
                bodies.append({"csrf_token": csrf, "key": key, "started": sign_start(key, survey_id, started),
                               "website": "", **answers[i % 4]})

        ours_counter, bare_counter = StatementCounter(), StatementCounter()
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", ours_counter)
        with bare.app_context():
            from bench.bare_floor import db as bare_db
            sa.event.listen(bare_db.engine, "before_cursor_execute", bare_counter)
        bare_client = bare.test_client()

        def ours(i):
            return client.post(f"/s/{code}", data=bodies[i])

        def hooks_post(i):
            return client.post("/_bench_floor", data={"csrf_token": csrf, "key": secrets.token_hex(16),
                                                      "value": str(4 - i % 4)})

        def bare_post(i):
            return bare_client.post("/", data={"key": secrets.token_hex(16), "value": str(4 - i % 4)})

        time_loop(client, ours, args.warmup, ours_counter, 303)
        time_loop(bare_client, bare_post, args.warmup, bare_counter, 303)
        time_loop(client, hooks_post, args.warmup, ours_counter, 303)

        if args.sql:
            statements = []
            listener = lambda c, cu, st, p, ctx, em: statements.append(st.replace("\n", " ")[:160])  # noqa: E731
            with app.app_context():
                sa.event.listen(db.engine, "before_cursor_execute", listener)
            one = ours(args.warmup)
            with app.app_context():
                sa.event.remove(db.engine, "before_cursor_execute", listener)
            print("statements of one submission:")
            for s in statements:
                print("  ", s)
            print(f"response: {one.status}, {len(one.get_data())} bytes of body, headers:")
            for name, value in one.headers.items():
                print(f"   {name}: {value[:100]}")

        offset = args.warmup + 1
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        ours_t, ours_s = time_loop(client, lambda i: ours(offset + i), args.n, ours_counter, 303)
        ours_cpu = time_loop.cpu_ms
        if profiler:
            profiler.disable()
        bare_t, bare_s = time_loop(bare_client, bare_post, args.n, bare_counter, 303)
        bare_cpu = time_loop.cpu_ms
        hooks_t, hooks_s = time_loop(client, hooks_post, args.n, ours_counter, 303)
        hooks_cpu = time_loop.cpu_ms

        db_kind = "postgresql" if args.pg else "sqlite"
        print(f"== one submission in process ({db_kind}, {'SIPAS' if args.full else 'quick rating'}, "
              f"n={args.n}, CSRF on, rate limits {'off' if args.no_limits else 'in ' + ('Redis' if args.redis else 'memory')}) ==")
        print(summary("ours", ours_t, ours_s) + f"  cpu {ours_cpu:5.2f} ms")
        print(summary("hooks", hooks_t, hooks_s) + f"  cpu {hooks_cpu:5.2f} ms   (surveyapp's middleware + the bare insert)")
        print(summary("bare", bare_t, bare_s) + f"  cpu {bare_cpu:5.2f} ms")
        print(f"ours/bare time: {statistics.mean(ours_t) / statistics.mean(bare_t):.2f}x")
        if profiler:
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            stats.print_stats(45)
            stats.print_callees(args.callees)
            if args.callers:
                stats.print_callers(args.callers)
    finally:
        if schema:
            engine = sa.create_engine(normalise_database_url(args.pg))
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
