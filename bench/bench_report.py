"""Benchmark: the full report computation for about 10 million stored answers, on PostgreSQL.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/test .venv/bin/python bench/bench_report.py [--answers N]

Generates the demo province's structure and about N answers (default 10,000,000) with
set-based SQL into a private schema (see bench_dashboard.generate), then times
``model.build_report`` for the province (SQL aggregation, moments and every interval,
exactly what ``flask report`` and the dashboard run), split into the data fetch (rollup
cells plus the raw aggregate over the rest) and the rest:

* cold: the first report, which builds the rollups of every complete month and of the other
  complete days (the current month's, the previous period's partial first month);
* warm: rollups present, the default period (only today from raw answers);
* complete months: the twelve complete months before the current one;
* raw: the default period with rollups disabled, the pre-rollup path.

The schema is dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_dashboard import drop_schema, generate, make_app, private_schema  # noqa: E402

ANSWERS_PER_RESPONSE = 9.49  # measured on the generated mix: 45% quick ratings, 55% full forms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-raw", action="store_true", help="Skip the raw-only (pre-rollup) timing.")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgresql://root@127.0.0.1:5432/test")
    schema, url = private_schema(base)
    try:
        app = make_app(url)
        gen = generate(app, int(args.answers / ANSWERS_PER_RESPONSE))
        print(f"generated {gen['responses']:,} responses, {gen['answers']:,} answers "
              f"(responses {gen['responses_s']:.1f} s, answers {gen['answers_s']:.1f} s, indexes {gen['indexes_s']:.1f} s; "
              f"answer.submitted_at physical-order correlation {gen['time_correlation']:.3f})")
        from surveyapp import clock
        from surveyapp.models import ReportRollup
        from surveyapp.reports import filters, model, rollups
        from surveyapp.extensions import db
        from surveyapp.models import Organisation

        with app.test_request_context("/"):
            root = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))

            def timed(label, f, repeats, use_rollups=None):
                for _ in range(repeats):
                    db.session.rollback()
                    t0 = time.perf_counter()
                    data = rollups.fetch_respondents(root, f, rollups=use_rollups)
                    t1 = time.perf_counter()
                    db.session.rollback()
                    t2 = time.perf_counter()
                    report = model.build_report(root, f, rollups=use_rollups)
                    t3 = time.perf_counter()
                    print(f"{label}: report {t3 - t2:.2f} s in all (data fetch alone {t1 - t0:.2f} s: "
                          f"{data.total:,} respondents, {len(data.raw):,} raw rows, {len(data.rolled):,} rollup cells; "
                          f"{len(report.sections)} indices, {sum(len(s.units) for s in report.sections)} unit rows)")

            f = filters.parse_filters({})
            # Cold: build_report alone, since fetch_respondents would build the rollups first.
            t0 = time.perf_counter()
            model.build_report(root, f)
            print(f"cold (builds the monthly and daily rollups): report {time.perf_counter() - t0:.2f} s")
            cells = db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup))
            print(f"rollup rows stored: {cells:,}")
            timed("warm, default period", f, args.repeats)
            limit = rollups.complete_month_limit()
            first = filters.month_first_day(limit - 12)
            last = filters.month_first_day(limit) - timedelta(days=1)
            timed(f"complete months {first} – {last}", filters.parse_filters({"from": first.isoformat(),
                                                                              "to": last.isoformat()}), args.repeats)
            # The current month on its own: its complete days from the daily rollups, today raw.
            today = clock.today()
            month_so_far = filters.parse_filters({"from": today.replace(day=1).isoformat(), "to": today.isoformat()})
            for _ in range(args.repeats):
                db.session.rollback()
                t0 = time.perf_counter()
                data = rollups.fetch_respondents(root, month_so_far, with_previous=False)
                print(f"current month alone (daily rollups + today raw): {time.perf_counter() - t0:.2f} s "
                      f"({data.total:,} respondents, {len(data.raw):,} raw rows)")
            if not args.skip_raw:
                timed("raw answers only (rollups disabled, the previous path)", f, 1, use_rollups=False)
    finally:
        drop_schema(base, schema)


if __name__ == "__main__":
    main()
