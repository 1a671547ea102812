"""Latency of the workspace's administration pages on the demo province.

    python bench/admin_pages.py [--responses 20000] [--repeat 20] [--database-url URL]

Seeds a fresh database (a temporary SQLite file unless --database-url is given; that
database must be empty), signs in as the administrator and as a commune manager, and
prints the median and 95th percentile time of each list page.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

PAGES = ("/admin/organisations", "/admin/service-points", "/admin/questionnaires", "/admin/surveys",
         "/admin/kiosks", "/admin/users", "/admin/targets", "/admin/audit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from surveyapp import create_app
    from surveyapp.cli import upgrade_to_head
    from surveyapp.seed import DEMO_PASSWORD, seed_demo

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade_to_head()
        started = time.perf_counter()
        summary = seed_demo(seed=2026, n_responses=args.responses)
        print(f"seeded {summary} in {time.perf_counter() - started:.1f} s on {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")

    for username in ("admin", "tanphu"):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
        print(f"\n{username}: page, median ms, p95 ms")
        for page in PAGES:
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                status = client.get(page).status_code
                times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                print(f"  {page:28s} status {status}")
                continue
            times.sort()
            p95 = times[max(int(len(times) * 0.95) - 1, 0)]
            print(f"  {page:28s} {statistics.median(times):7.1f} {p95:7.1f}")


if __name__ == "__main__":
    main()
