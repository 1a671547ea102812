"""Benchmark: drawing the report charts (surveyapp.charts) and serving the overview with them.

    .venv/bin/python bench/bench_charts.py [--responses N] [--units N]

On a private SQLite file with the demo province (``seed_demo``), prints, in milliseconds:

* per chart kind, the SVG for the screen and the PNG for the filed document (median of 5, the
  province's quick-rating questionnaire), and the same for a synthetic questionnaire of
  ``--units`` units (the demo's rows repeated under new names: a province of many communes);
* ``GET /admin/`` (the overview) with the report cache empty, then warm;
* ``GET /admin/reports/chart/<kind>.svg`` with the chart cache empty (report cached), then warm.

Every dashboard answer must stay under 1 s (issue 16); the chart requests are separate
requests, each cached for CACHE_SECONDS per scope, filters, language, kind and questionnaire.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from surveyapp import charts, create_app  # noqa: E402
from surveyapp.extensions import db  # noqa: E402


def ms(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", type=int, default=20000)
    ap.add_argument("--units", type=int, default=150)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            from flask_migrate import upgrade

            from surveyapp.models import Organisation
            from surveyapp.reports import filters, model
            from surveyapp.seed import seed_demo

            upgrade()
            seed_demo(seed=7, n_responses=args.responses)
            root = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
            with app.test_request_context("/"):
                report = model.build_report(root, filters.parse_filters({}))
                quick = next(s for s in report.sections if s.group == "quick")
                many = dataclasses.replace(quick, units=[dataclasses.replace(quick.units[i % len(quick.units)],
                                                                             label=f"UBND xã số {i + 1}", key=10_000 + i)
                                                         for i in range(args.units)])
                print(f"demo: {report.respondents} respondents, {len(report.sections)} questionnaires, "
                      f"{len(quick.units)} units; synthetic: {len(many.units)} units")
                print(f"{'chart':<10}{'svg ms':>9}{'png ms':>9}{f'svg ms ({args.units} units)':>22}{'png ms':>9}")
                for kind in charts.BUILDERS:
                    c, w = charts.build(kind, quick, "vi"), charts.build(kind, many, "vi")
                    big = (f"{ms(w.svg):>22.0f}{ms(w.png):>9.0f}" if kind in ("units", "funnel")
                           else f"{'–':>22}{'–':>9}")
                    print(f"{kind:<10}{ms(c.svg):>9.0f}{ms(c.png):>9.0f}{big}")

            client = app.test_client()
            client.post("/login", data={"username": "admin", "password": "demo12345"})

            def overview_cold():
                app.extensions.get("reports_cache", {}).clear()
                assert client.get("/admin/").status_code == 200

            def overview_warm():
                assert client.get("/admin/").status_code == 200

            print(f"GET /admin/ cold {ms(overview_cold):.0f} ms, warm {ms(overview_warm):.0f} ms")
            for kind in ("spark", "units", "trend", "funnel"):
                url = f"/admin/reports/chart/{kind}.svg?section={quick.questionnaire_id}"

                def chart_cold():
                    app.extensions.get("charts_cache", {}).clear()
                    assert client.get(url).status_code == 200

                def chart_warm():
                    assert client.get(url).status_code == 200

                print(f"GET chart/{kind}.svg cold {ms(chart_cold):.0f} ms, warm {ms(chart_warm):.1f} ms")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
