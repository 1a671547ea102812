"""A realistic mix against one production-shaped app server: citizens opening and submitting
surveys, kiosks syncing batches, officials signing in and opening dashboards.

Starts surveyapp under gunicorn (``--preload``, 2 × cores + 1 workers) on a fresh database
seeded with the demo province, runs the three kinds of client in threads for a fixed time
(loopback only), then reports throughput and p50/p95/p99 latency per kind of request, the
errors, and counts rows: every submission a client saw acknowledged must be stored exactly
once, and nothing else may be.

    .venv/bin/python bench/load_mixed.py --duration 30 --citizens 8 --kiosks 4 --officials 2 \\
        [--pg postgresql://root@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/13]

This client is Python on the same cores as the server, so it measures the mix and its
correctness, not the ceiling (``bench/load_submissions.py`` with wrk does that).
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from load_submissions import Server, bench_config, count, drop_schema, prepare_database  # noqa: E402

from surveyapp import create_app  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

TIMEOUT = 15


class Stats:
    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.acked_keys: list[str] = []
        self.lock = threading.Lock()

    def timed(self, kind: str, fn):
        t = time.perf_counter()
        try:
            r = fn()
        except requests.RequestException as exc:
            with self.lock:
                self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        with self.lock:
            self.latency[kind].append((time.perf_counter() - t) * 1000)
        return r

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


def hidden_fields(html: str) -> dict[str, str]:
    sys.path.insert(0, str(REPO / "tests"))
    from production.clients import hidden_fields as parse

    return parse(html)


def seed(uri: str, secret: str, responses: int, kiosks: int) -> dict:
    """Demo province, plus enrolment codes for the kiosks; returns what the clients need."""
    from surveyapp.cli import upgrade_to_head
    from surveyapp.kiosk.devices import create_device
    from surveyapp.models import ServicePoint, Survey, survey_service_point
    from surveyapp.seed import seed_demo

    app = create_app(bench_config(uri, secret))
    with app.app_context():
        upgrade_to_head()
        seed_demo(seed=7, n_responses=responses)
        if db.engine.dialect.name == "postgresql":
            # seed_demo inserts rows with explicit ids without advancing PostgreSQL's sequences,
            # so the next INSERT would collide on the primary key (reported; see seed.py).
            for table in ("response", "answer"):
                db.session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            db.session.commit()
        open_qr = sa.select(ServicePoint.code).join(
            survey_service_point, survey_service_point.c.service_point_id == ServicePoint.id).join(
            Survey, Survey.id == survey_service_point.c.survey_id).where(
            Survey.status == "open", Survey.channel_qr.is_(True)).distinct()
        codes = list(db.session.scalars(open_qr))
        kiosk_points = list(db.session.scalars(sa.select(ServicePoint).join(
            survey_service_point, survey_service_point.c.service_point_id == ServicePoint.id).join(
            Survey, Survey.id == survey_service_point.c.survey_id).where(
            Survey.status == "open", Survey.channel_kiosk.is_(True)).distinct()))
        enrol_codes = []
        for i in range(kiosks):
            _device, code = create_device(kiosk_points[i % len(kiosk_points)], f"Máy đo tải {i + 1}")
            enrol_codes.append(code)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"codes": codes, "enrol_codes": enrol_codes}


def citizen(base: str, codes: list[str], stats: Stats, stop: float) -> None:
    """Scan a QR code, read the questions a little, answer every rating, send."""
    while time.monotonic() < stop:
        with requests.Session() as s:
            code = random.choice(codes)
            page = stats.timed("citizen GET /s/<code>", lambda: s.get(f"{base}/s/{code}", timeout=TIMEOUT))
            if page is None or page.status_code != 200:
                stats.error(f"citizen GET {getattr(page, 'status_code', 'conn')}")
                continue
            fields = hidden_fields(page.text)
            # Answer every radio group with a random option; leave text empty.
            import re

            groups: dict[str, list[str]] = defaultdict(list)
            for name, value in re.findall(r'type="radio" name="(q_[a-z0-9_]+)" value="([^"]+)"', page.text):
                groups[name].append(value)
            form = fields | {name: random.choice(values) for name, values in groups.items()}
            time.sleep(random.uniform(0.05, 0.2))
            for _attempt in range(5):  # same key every time: a re-send is stored once
                r = stats.timed("citizen POST /s/<code>",
                                lambda: s.post(f"{base}/s/{code}", data=form, allow_redirects=False, timeout=TIMEOUT))
                if r is not None and r.status_code == 303:
                    with stats.lock:
                        stats.acked_keys.append(form["key"])
                    break
                stats.error(f"citizen POST {getattr(r, 'status_code', 'conn')}")
                if r is not None and r.status_code not in (429, 502, 503):
                    break
                time.sleep(0.2)


def kiosk(base: str, enrol_code: str, stats: Stats, stop: float, acked: list[str]) -> None:
    r = requests.post(f"{base}/api/v1/kiosk/enroll", json={"code": enrol_code}, timeout=TIMEOUT)
    if r.status_code != 201:
        stats.error(f"kiosk enroll {r.status_code}")
        return
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    queue: list[dict] = []
    with requests.Session() as s:
        while time.monotonic() < stop or queue:
            if time.monotonic() < stop:
                for _ in range(random.randint(1, 20)):
                    value = random.choice([1, 2, 3, 4, 4, 4, 3])
                    queue.append({"id": str(uuid.uuid4()), "value": value,
                                  "created_at": datetime.now(timezone.utc).isoformat()})
            elif time.monotonic() > stop + 30:
                stats.error("kiosk queue not drained")
                return
            batch = queue[:200]
            r = stats.timed("kiosk POST ratings", lambda: s.post(f"{base}/api/v1/kiosk/ratings",
                                                                 json={"ratings": batch}, headers=headers,
                                                                 timeout=TIMEOUT))
            if r is not None and r.status_code == 200:
                done = {x["id"] for x in r.json()["results"] if x["status"] in ("stored", "duplicate")}
                with stats.lock:
                    acked.extend(done)
                queue = [x for x in queue if x["id"] not in done]
            else:
                stats.error(f"kiosk POST {getattr(r, 'status_code', 'conn')}")
            time.sleep(random.uniform(0.2, 0.5))


def official(base: str, stats: Stats, stop: float) -> None:
    """Sign in, then look at the dashboard and the comments, with a pause between pages."""
    with requests.Session() as s:
        page = stats.timed("official GET /login", lambda: s.get(f"{base}/login", timeout=TIMEOUT))
        if page is None:
            return
        fields = hidden_fields(page.text) | {"username": "admin", "password": "demo12345"}
        r = stats.timed("official POST /login",
                        lambda: s.post(f"{base}/login", data=fields, allow_redirects=False, timeout=TIMEOUT))
        if r is None or r.status_code != 302:
            stats.error(f"official login {getattr(r, 'status_code', 'conn')}")
            return
        pages = ["/admin/", "/admin/reports/comments", "/admin/?channel=kiosk", "/admin/surveys"]
        while time.monotonic() < stop:
            path = random.choice(pages)
            r = stats.timed(f"official GET {path.split('?')[0]}", lambda: s.get(base + path, timeout=TIMEOUT * 2))
            if r is None or r.status_code != 200:
                stats.error(f"official GET {path} {getattr(r, 'status_code', 'conn')}")
            time.sleep(random.uniform(0.5, 1.5))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--redis", default=None)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--citizens", type=int, default=8)
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--officials", type=int, default=2)
    parser.add_argument("--seed-responses", type=int, default=5000)
    args = parser.parse_args()
    if args.duration > 600 or args.citizens + args.kiosks + args.officials > 200:
        raise SystemExit("bounded: at most 600 s and 200 clients")

    workdir = Path(tempfile.mkdtemp(prefix="mixed-"))
    secret = secrets.token_hex(32)
    uri, schema = prepare_database(args.db, args.pg, workdir, "mixed")
    server = None
    try:
        seeded = seed(uri, secret, args.seed_responses, args.kiosks)
        before = count(uri, "SELECT count(*) FROM response")
        env = {"DATABASE_URL": uri, "SECRET_KEY": secret, "SURVEYAPP_RATELIMIT_ENABLED": "true",
               # One loopback address stands for many phones: lift the limits (still counted).
               "SURVEYAPP_SUBMIT_RATE_LIMIT_CLIENT": "1000000 per hour",
               "SURVEYAPP_SUBMIT_RATE_LIMIT_ADDRESS": "1000000 per hour",
               "SURVEYAPP_SUBMIT_RATE_LIMIT_POINT": "1000000 per hour"}
        if args.redis:
            env["REDIS_URL"] = args.redis
        server = Server("surveyapp:create_app()", env, args.workers, f"mixed-{args.db}")
        server.wait("/readyz")

        stats, kiosk_acked = Stats(), []
        stop = time.monotonic() + args.duration
        threads = [threading.Thread(target=citizen, args=(server.url, seeded["codes"], stats, stop))
                   for _ in range(args.citizens)]
        threads += [threading.Thread(target=kiosk, args=(server.url, code, stats, stop, kiosk_acked))
                    for code in seeded["enrol_codes"]]
        threads += [threading.Thread(target=official, args=(server.url, stats, stop)) for _ in range(args.officials)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.duration + 60)
        elapsed = time.monotonic() - started
        server.stop()  # finish what is in flight before counting

        print(f"\n== mixed load on {args.db}: {args.workers} workers, {args.citizens} citizens, {args.kiosks} kiosks, "
              f"{args.officials} officials, {elapsed:.0f} s, load average {os.getloadavg()[0]:.1f} ==")
        print(f"{'request':32} {'n':>6} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for kind, values in sorted(stats.latency.items()):
            print(f"{kind:32} {len(values):6d} {len(values) / elapsed:7.1f} {statistics.median(values):8.1f} "
                  f"{percentile(values, 95):8.1f} {percentile(values, 99):8.1f}")
        print("errors:", dict(stats.errors) or "none")
        after = count(uri, "SELECT count(*) FROM response")
        distinct = count(uri, "SELECT count(*) FROM (SELECT DISTINCT survey_id, idempotency_key FROM response) d")
        acked = len(stats.acked_keys) + len(kiosk_acked)
        print(f"acknowledged: {len(stats.acked_keys)} citizen + {len(kiosk_acked)} kiosk = {acked}; "
              f"new rows: {after - before}; duplicates: {after - distinct}")
        if after - before != acked or after != distinct:
            raise SystemExit("MISMATCH: an acknowledged submission is missing or stored twice")
        print("every acknowledged submission is stored exactly once")
    finally:
        if server:
            server.stop()
        if schema:
            drop_schema(args.pg, schema)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
