"""Survey submissions in process, through ``wsgi_app`` itself: surveyapp against the bare floor.

Flask's test client costs about as much as a whole bare request, which hides the difference
``bench/profile_submission.py`` is after. Here each side's WSGI callable is called directly
with environs built beforehand (a real session cookie and CSRF token, unique idempotency keys,
signed start tokens), so only the app's own work is timed. Sides: the bare floor
(``bench/bare_floor.py``), surveyapp with limits in process memory and, with ``--redis``,
surveyapp with limits in Redis. Rounds alternate between the sides (this machine's speed
drifts); the figure per side is the least CPU time per request over the rounds.

``--stages`` also splits one surveyapp request into its stages (request set-up, before-request
hooks, quotas, the view, after-request hooks, teardown), medians of wall time.

    .venv/bin/python bench/wsgi_submission.py --redis redis://127.0.0.1:6379/13 --stages
    .venv/bin/python bench/wsgi_submission.py --pg postgresql://root@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench.load_submissions import csrf_token_in, drop_schema, prepare_database, seed  # noqa: E402
from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402

LIMITS = "1000000 per hour"  # counted, never reached


def ours_side(uri: str, secret: str, redis: str | None, n: int):
    """surveyapp on a seeded database and ``n`` distinct submission environs."""
    from surveyapp.citizen.forms import new_key, sign_start

    survey_id, code = seed(uri, secret)
    config = {"SQLALCHEMY_DATABASE_URI": normalise_database_url(uri), "SECRET_KEY": secret,
              "RATELIMIT_ENABLED": True, "SUBMIT_RATE_LIMIT_CLIENT": LIMITS,
              "SUBMIT_RATE_LIMIT_ADDRESS": LIMITS, "SUBMIT_RATE_LIMIT_POINT": LIMITS}
    if redis:
        config["RATELIMIT_STORAGE_URI"] = redis
    app = create_app(config)
    client = app.test_client()
    page = client.get(f"/s/{code}").get_data(as_text=True)
    csrf = csrf_token_in(page)
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    started = int(time.time() * 1000) - 60_000
    with app.app_context():
        environs = []
        for i in range(n):
            key = new_key()
            data = {"csrf_token": csrf, "key": key, "started": sign_start(key, survey_id, started), "website": "",
                    "q_rating": ("v4", "v3", "v2", "v1")[i % 4]}
            environs.append(EnvironBuilder(path=f"/s/{code}", method="POST", data=data,
                                           headers={"Cookie": cookie, "User-Agent": "Mozilla/5.0 (bench)"},
                                           environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ())
    return app, environs


def bare_side(uri: str, n: int):
    os.environ["DATABASE_URL"] = uri
    from bench.bare_floor import create_app as bare_factory

    environs = [EnvironBuilder(path="/", method="POST", data={"key": secrets.token_hex(16), "value": str(4 - i % 4)},
                               environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ() for i in range(n)]
    return bare_factory(), environs


def run(app, environs) -> tuple[float, float]:
    """CPU and wall microseconds per request; every answer must be the 303 of a stored submission."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for environ in environs:
        for _ in app(environ, start_response):
            pass
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    bad = [s for s in statuses if not s.startswith("303")]
    if bad:
        raise SystemExit(f"unexpected answers: {bad[:3]}")
    return cpu * 1e6 / len(environs), wall * 1e6 / len(environs)


def stages(app, environs) -> None:
    """Medians of one request's stages, by timestamps taken in hooks put first and last."""
    marks: dict[str, list[float]] = {}

    def mark(name):
        marks.setdefault(name, []).append(time.perf_counter())

    before, after = app.before_request_funcs.setdefault(None, []), app.after_request_funcs.setdefault(None, [])
    before.insert(0, lambda: mark("before0"))
    before.append(lambda: mark("before1"))
    after.append(lambda r: (mark("after0"), r)[1])  # after-request hooks run in reverse order
    after.insert(0, lambda r: (mark("after1"), r)[1])
    import surveyapp.citizen.routes as routes

    submit = routes._submit

    def timed_submit(code):
        mark("view0")
        try:
            return submit(code)
        finally:
            mark("view1")

    routes._submit = timed_submit
    starts, ends = [], []
    try:
        for environ in environs:
            starts.append(time.perf_counter())
            for _ in app(environ, lambda *a: None):
                pass
            ends.append(time.perf_counter())
    finally:
        routes._submit = submit
        del before[0], before[-1], after[0], after[-1]

    def median(a, b):
        return statistics.median((y - x) * 1e6 for x, y in zip(a, b))

    rows = [("request set-up (context, session, routing)", starts, marks["before0"]),
            ("before-request hooks (CSRF, input guards)", marks["before0"], marks["before1"]),
            ("quotas sent (keys, hashes, counters)", marks["before1"], marks["view0"]),
            ("the view (validation, quota check, store)", marks["view0"], marks["view1"]),
            ("quota bookkeeping, after-request hooks", marks["view1"], marks["after1"]),
            ("response, session save, teardown", marks["after1"], ends),
            ("whole request", starts, ends)]
    print("surveyapp, one request, µs (median wall time):")
    for label, a, b in rows:
        print(f"  {label:45} {median(a, b):7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500, help="requests per side per round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (a schema per side) instead of SQLite files")
    parser.add_argument("--redis", default=None, help="also surveyapp with its limits in this Redis")
    parser.add_argument("--stages", action="store_true", help="split a surveyapp request into stages")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-wsgi-"))
    kind = "postgres" if args.pg else "sqlite"
    secret = secrets.token_hex(32)
    total = args.n * (args.rounds + 1) + (args.n if args.stages else 0)
    schemas = []
    try:
        uris = {}
        for name in ("bare", "ours", "ours_redis"):
            uris[name], schema = prepare_database(kind, args.pg, workdir, name)
            if schema:
                schemas.append(schema)
        sides = {"bare": bare_side(uris["bare"], total), "ours": ours_side(uris["ours"], secret, None, total)}
        if args.redis:
            sides["ours_redis"] = ours_side(uris["ours_redis"], secret, args.redis, total)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for r in range(args.rounds + 1):  # round 0 warms up
            for name, (app, environs) in sides.items():
                measured = run(app, environs[r * args.n:(r + 1) * args.n])
                if r:
                    results[name].append(measured)
        print(f"== {kind}: {args.rounds} rounds of {args.n} requests per side, in process (wsgi_app) ==")
        bare_cpu = min(c for c, _ in results["bare"])
        for name, rounds in results.items():
            cpu, wall = min(c for c, _ in rounds), min(w for _, w in rounds)
            print(f"{name:11} CPU {cpu:6.0f} µs/request  wall {wall:6.0f} µs  floor/this {bare_cpu / cpu:.2f}")
        if args.stages:
            app, environs = sides["ours_redis" if args.redis else "ours"]
            stages(app, environs[-args.n:])
    finally:
        for schema in schemas:
            drop_schema(args.pg, schema)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
