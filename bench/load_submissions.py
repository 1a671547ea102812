"""Sustained survey submissions per second: surveyapp against a bare Flask floor, side by side.

For each database (SQLite file, and PostgreSQL when a URL is given) this script:

1. makes a fresh database per side (a new SQLite file / a new PostgreSQL schema), migrates
   surveyapp's and seeds one open quick-rating survey on one service point;
2. starts the bare floor (``bench/bare_floor.py``) and surveyapp under gunicorn with the same
   worker count and ``--preload``, on loopback ports; with ``--redis``, a second surveyapp
   whose limits are shared through Redis runs in the same run (three sides);
3. runs wrk (Debian's, with ``bench/load/submit.lua``) against each in turn, with identical
   connections, threads and duration, after a short warm-up;
   With ``--rounds N`` each side runs N times, rotating which goes first, so that the
   load of a shared machine drifting during the run hits every side alike;
4. prints requests/s, p50/p90/p99 latency, errors, CPU time per request of each kind of
   process, and the ratio ours/bare, and counts rows:
   every submission wrk saw acknowledged (303) must be stored exactly once.

surveyapp runs as in production: CSRF on (one session cookie and its token, fetched with a
real GET, reused by every request), rate limiting on (limits raised so that one loopback
client is not refused; the limiter still counts every request, in Redis when --redis is
given), signed start tokens and unique idempotency keys prepared beforehand so that wrk
only replays bodies.

    .venv/bin/python bench/load_submissions.py --duration 20 \\
        --pg postgresql://root@127.0.0.1:5432/test --redis redis://127.0.0.1:6379/13

Bounded: loopback only, a fixed duration per run, every process stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import date
from pathlib import Path

import requests
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from surveyapp import create_app  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LUA = REPO / "bench" / "load" / "submit.lua"
OUT = REPO / "bench" / "out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, app_spec: str, env: dict[str, str], workers: int, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
        full_env.update(env)
        full_env["PYTHONPATH"] = str(REPO)
        OUT.mkdir(exist_ok=True)
        self.log = (OUT / f"{name}.log").open("wb")
        self.proc = subprocess.Popen(
            # Both sides run with surveyapp's production gunicorn settings.
            [GUNICORN, "-c", "python:surveyapp.gunicorn_conf", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", "--preload", "--timeout", "30", "--graceful-timeout", "30", app_spec],
            cwd=REPO, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                if requests.get(self.url + path, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} not ready after {timeout}s")

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def bench_config(uri: str, secret: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": normalise_database_url(uri), "SECRET_KEY": secret,
            "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}


def prepare_database(kind: str, pg_url: str | None, workdir: Path, name: str) -> tuple[str, str | None]:
    """(URL, schema to drop) of a fresh, empty database for one side: a SQLite file, or a new
    schema on the PostgreSQL server (same server, same driver for every side)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / (name + '.sqlite3')}", None
    schema = f"bench_{os.getpid()}_{name}_{secrets.token_hex(3)}"
    engine = sa.create_engine(normalise_database_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.make_url(normalise_database_url(pg_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(pg_url: str, schema: str) -> None:
    engine = sa.create_engine(normalise_database_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def seed(uri: str, secret: str) -> tuple[int, str]:
    """Migrate, then one open quick-rating survey on one service point: (survey id, code)."""
    from surveyapp.cli import upgrade_to_head
    from surveyapp.models import Organisation, ServicePoint, Survey
    from surveyapp.seed import seed_standard

    app = create_app(bench_config(uri, secret))
    with app.app_context():
        upgrade_to_head()
        families = seed_standard()
        org = Organisation(code="BENCH", name="Xã Đo Tải", sector="administrative")
        sp = ServicePoint(organisation=org, name="Quầy 1")
        survey = Survey(questionnaire=families["quick-rating"], organisation=org, name="Đo tải",
                        starts_on=date(2026, 1, 1), status="open", channel_qr=True, channel_kiosk=True,
                        service_points=[sp])
        db.session.add_all([org, sp, survey])
        db.session.commit()
        out = survey.id, sp.code
        db.session.remove()
        db.engine.dispose()
    return out


def our_bodies(uri: str, secret: str, survey_id: int, csrf: str, n: int, path: Path) -> None:
    """``n`` distinct submissions: unique key, a start token signed by the server's secret and
    dated a minute back (a plausible completion time, so nothing is flagged too fast)."""
    from surveyapp.citizen.forms import new_key, sign_start

    app = create_app(bench_config(uri, secret))
    started = int(time.time() * 1000) - 60_000
    with app.app_context(), path.open("w") as fh:
        for i in range(n):
            key = new_key()
            fields = {"csrf_token": csrf, "key": key, "started": sign_start(key, survey_id, started),
                      "website": "", "q_rating": ("v4", "v3", "v2", "v1")[i % 4]}
            fh.write(urllib.parse.urlencode(fields) + "\n")


def bare_bodies(n: int, path: Path) -> None:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(urllib.parse.urlencode({"key": secrets.token_hex(16), "value": 4 - i % 4}) + "\n")


CPU_GROUPS = {"wrk": "wrk", "gunicorn": "app", "python": "app", "postgres": "postgres",
              "redis-server": "redis", "ksoftirqd": "kernel"}


def cpu_ticks() -> dict[str, int]:
    """CPU time (clock ticks) used so far by each kind of process on the machine, and in all."""
    out: dict[str, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        group = next((g for prefix, g in CPU_GROUPS.items() if comm.startswith(prefix)), "other")
        out[group] = out.get(group, 0) + int(fields[11]) + int(fields[12])  # utime + stime
        if group == "app":  # how often workers wait (voluntary) or are preempted (involuntary)
            try:
                with open(f"/proc/{entry.name}/status") as fh:
                    for line in fh:
                        if "ctxt_switches" in line:
                            key = "switch_wait" if line.startswith("voluntary") else "switch_preempted"
                            out[key] = out.get(key, 0) + int(line.split()[1])
            except OSError:
                pass
    with open("/proc/stat") as fh:
        cpu = fh.readline().split()[1:]
    out["machine"] = sum(int(x) for x in cpu) - int(cpu[3]) - int(cpu[4])  # all but idle and iowait
    return out


def run_wrk(url: str, bodies: Path, threads: int, connections: int, duration: int, cookie: str = "") -> dict:
    env = dict(os.environ, WRK_COOKIE=cookie)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA),
           url, "--", str(bodies), str(threads)]
    before, children_before = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60).stdout
    after, children_after = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out}")
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["ack_rps"] = result["acknowledged"] / (result["duration_us"] / 1e6)
    # Where the machine's time went, per request (microseconds). wrk has ended by then: its
    # time is this process's children's.
    hz, n = os.sysconf("SC_CLK_TCK"), max(1, result["requests"])
    cpu = {k: (after.get(k, 0) - before.get(k, 0)) * 1e6 / hz / n for k in after
           if k != "wrk" and not k.startswith("switch_")}
    result["switches"] = {k: (after.get(k, 0) - before.get(k, 0)) / n for k in ("switch_wait", "switch_preempted")}
    cpu["wrk"] = sum(getattr(children_after, f) - getattr(children_before, f) for f in ("ru_utime", "ru_stime")) * 1e6 / n
    result["cpu_us"] = cpu
    return result


def combine(runs: list[dict]) -> dict:
    """One side's rounds together: totals for counts and rates, the median of the rounds'
    percentiles (wrk reports them per run), the worst maximum; the rounds kept for the ratios."""
    import statistics

    out = {k: sum(r[k] for r in runs) for k in ("requests", "duration_us", "acknowledged", "not_acknowledged",
                                                 "exhausted", "socket_errors")}
    out["rps"] = out["requests"] / (out["duration_us"] / 1e6)
    out["ack_rps"] = out["acknowledged"] / (out["duration_us"] / 1e6)
    for k in ("p50_ms", "p90_ms", "p99_ms"):
        out[k] = statistics.median(r[k] for r in runs)
    out["max_ms"] = max(r["max_ms"] for r in runs)
    out["loadavg_before"] = statistics.mean(r["loadavg_before"] for r in runs)
    out["cpu_us"] = {k: statistics.median(r["cpu_us"].get(k, 0.0) for r in runs) for k in runs[0]["cpu_us"]}
    out["switches"] = {k: statistics.median(r["switches"][k] for r in runs) for k in runs[0]["switches"]}
    out["rounds"] = runs
    return out


def count(uri: str, sql: str) -> int:
    engine = sa.create_engine(normalise_database_url(uri))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(sql))
    finally:
        engine.dispose()


def csrf_token_in(page: str) -> str:
    """The CSRF token of the survey form in a rendered page."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not m:
        raise SystemExit("no CSRF token on the survey page")
    return m.group(1)


def session_cookie_and_csrf(base: str, code: str) -> tuple[str, str]:
    """What a real phone has after opening the page: a session cookie and the form's token."""
    with requests.Session() as s:
        r = s.get(f"{base}/s/{code}", timeout=10)
        r.raise_for_status()
        cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
        return cookie, csrf_token_in(r.text)


def bench_one(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    secret = secrets.token_hex(32)
    servers: list[Server] = []
    schemas: list[str] = []
    # surveyapp with limits counted per process (one app server, the embedded default) and,
    # with --redis, a second surveyapp whose limits are shared through Redis (several app
    # servers): both in the same run as the floor, so the three are measured alike.
    ours_names = ["ours"] + (["ours_redis"] if args.redis else [])
    try:
        uris: dict[str, str] = {}
        for name in ["bare", *ours_names]:
            uris[name], schema = prepare_database(kind, args.pg, workdir, name)
            if schema:
                schemas.append(schema)
        bare = Server("bench.bare_floor:create_app()", {"DATABASE_URL": uris["bare"]}, args.workers, f"bare-{kind}")
        servers.append(bare)
        n = int(args.max_rate * (args.duration * args.rounds + args.warmup) * 1.2)
        sides = [("bare", bare.url + "/", workdir / "bare.txt", "")]
        bare_bodies(n, sides[0][2])
        limits = "1000000 per hour"  # counted, never reached by the single loopback client
        for name in ours_names:
            survey_id, code = seed(uris[name], secret)
            env = {"DATABASE_URL": uris[name], "SECRET_KEY": secret,
                   "SURVEYAPP_RATELIMIT_ENABLED": "false" if args.no_limits else "true",
                   "SURVEYAPP_SUBMIT_RATE_LIMIT_CLIENT": limits, "SURVEYAPP_SUBMIT_RATE_LIMIT_ADDRESS": limits,
                   "SURVEYAPP_SUBMIT_RATE_LIMIT_POINT": limits}
            if name == "ours_redis":
                env["REDIS_URL"] = args.redis
            server = Server("surveyapp:create_app()", env, args.workers, f"{name}-{kind}")
            servers.append(server)
            server.wait("/readyz")
            cookie, csrf = session_cookie_and_csrf(server.url, code)
            bodies = workdir / f"{name}.txt"
            our_bodies(uris[name], secret, survey_id, csrf, n, bodies)
            sides.append((name, f"{server.url}/s/{code}", bodies, cookie))
        bare.wait("/")

        chunks: dict[str, list[Path]] = {}
        for side, url, bodies, ck in sides:
            lines = bodies.read_text().splitlines()
            n_warm = int(args.max_rate * args.warmup)
            if args.warmup:
                warm = workdir / f"{side}-warm.txt"
                warm.write_text("\n".join(lines[-n_warm:]) + "\n")
                lines = lines[:-n_warm]
                run_wrk(url, warm, args.threads, args.connections, args.warmup, ck)
            per_round = len(lines) // args.rounds
            chunks[side] = []
            for r in range(args.rounds):
                chunk = workdir / f"{side}-{r}.txt"
                chunk.write_text("\n".join(lines[r * per_round:(r + 1) * per_round]) + "\n")
                chunks[side].append(chunk)

        # Rounds rotate the order (bare first, then the next side first, ...) so that a change
        # in the machine's load during the run hits every side alike.
        runs: dict[str, list[dict]] = {side[0]: [] for side in sides}
        for r in range(args.rounds):
            k = r % len(sides)
            for side, url, _bodies, ck in sides[k:] + sides[:k]:
                load_before = os.getloadavg()[0]
                result = run_wrk(url, chunks[side][r], args.threads, args.connections, args.duration, ck)
                result["loadavg_before"] = load_before
                runs[side].append(result)
        results = {side: combine(runs[side]) for side in runs}

        # Requests wrk gave up on may still be queued in gunicorn: let the servers finish them
        # (graceful stop) before counting, or the counts race with the last commits.
        for server in servers:
            server.stop()
        # Acknowledged == stored, exactly once (warm-up rows included).
        for name in ours_names:
            x = results[name]
            x["rows"] = count(uris[name], "SELECT count(*) FROM response")
            x["distinct_keys"] = count(uris[name], "SELECT count(DISTINCT idempotency_key) FROM response")
            x["answers"] = count(uris[name], "SELECT count(*) FROM answer")
            x["warmup_rows"] = x["rows"] - x["acknowledged"]
        results["bare"]["rows"] = count(uris["bare"], "SELECT count(*) FROM bare_submission")
        results["bare"]["distinct_keys"] = count(uris["bare"], "SELECT count(DISTINCT key) FROM bare_submission")
        return results
    finally:
        for s in servers:
            s.stop()
        for schema in schemas:
            drop_schema(args.pg, schema)
        shutil.rmtree(workdir, ignore_errors=True)


def report(kind: str, r: dict, args) -> None:
    import statistics

    bare = r["bare"]
    ours_names = [name for name in r if name != "bare"]
    print(f"\n== {kind}: {args.workers} gunicorn workers, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s x {args.rounds} round(s) per side, {os.cpu_count()} cores ==")
    print("ours: limits counted per process (no REDIS_URL)" + (
        "; ours_redis: limits shared through Redis (several app servers)" if "ours_redis" in r else ""))
    print(f"{'':10} {'req/s':>8} {'acked/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7} {'load':>5}")
    for side, x in r.items():
        errors = x["not_acknowledged"] + x["socket_errors"]
        print(f"{side:10} {x['rps']:8.0f} {x['ack_rps']:8.0f} {x['p50_ms']:8.1f} {x['p90_ms']:8.1f} "
              f"{x['p99_ms']:8.1f} {x['max_ms']:8.1f} {errors:7d} {x['loadavg_before']:5.1f}")
    groups = ("app", "postgres", "redis", "wrk", "kernel", "other", "machine")
    print("CPU per request, µs" + "".join(f"{g:>9}" for g in groups) + "   worker context switches per request")
    for side, x in r.items():
        print(f"{side:19}" + "".join(f"{x['cpu_us'].get(g, 0.0):9.0f}" for g in groups)
              + f"   {x['switches']['switch_wait']:.2f} waiting, {x['switches']['switch_preempted']:.2f} preempted")
    for name in ours_names:
        ours = r[name]
        line = f"ratio {name}/bare (acknowledged/s): {ours['ack_rps'] / bare['ack_rps']:.2f}"
        if len(ours["rounds"]) > 1:
            per_round = [o["ack_rps"] / b["ack_rps"] for o, b in zip(ours["rounds"], bare["rounds"])]
            ratios = ", ".join(f"{x:.2f}" for x in per_round)
            p99s = ", ".join(f"{o['p99_ms']:.0f}" for o in ours["rounds"])
            line += f"; per round {ratios} (median {statistics.median(per_round):.2f}); p99 per round {p99s} ms"
        print(line)
    # Every acknowledged submission stored once: rows == acknowledged (+ warm-up), keys distinct.
    for name in ours_names:
        ours = r[name]
        print(f"{name}: acknowledged {ours['acknowledged']} (+{ours['warmup_rows']} warm-up) -> rows {ours['rows']}, "
              f"distinct keys {ours['distinct_keys']}, answers {ours['answers']}")
        assert ours["rows"] == ours["distinct_keys"] == ours["answers"], "a submission stored twice or half-way"
        assert ours["rows"] >= ours["acknowledged"], "an acknowledged submission is missing"
    print(f"bare: rows {bare['rows']}, distinct keys {bare['distinct_keys']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (a schema is made in it)")
    parser.add_argument("--redis", default=None, help="Redis URL for rate-limit counters (production shape)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per side, alternating which side goes first (percentiles: median of rounds)")
    parser.add_argument("--max-rate", type=int, default=2500, help="bodies prepared per second of run")
    parser.add_argument("--json", action="store_true", help="also print the raw results as JSON")
    parser.add_argument("--no-limits", action="store_true",
                        help="rate limiting off in surveyapp (to see what it costs; not the production shape)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk (make system-deps)")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and not args.pg:
        if args.db == "postgres":
            raise SystemExit("--pg URL (or TEST_DATABASE_URL) needed for PostgreSQL")
        kinds.remove("postgres")
    for kind in kinds:
        r = bench_one(kind, args)
        report(kind, r, args)
        if args.json:
            print(json.dumps({kind: r}))


if __name__ == "__main__":
    main()
