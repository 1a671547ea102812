"""What the complaint themes next to units below target add to a report (docs/PERFORMANCE.md).

    .venv/bin/python bench/bench_complaint_themes.py [--responses 20000] [--database-url URL]

Seeds the demo province into a fresh SQLite file (or the given empty database), classifies its
comments, then times ``reports.model.build_report`` for the province with the complaint themes
and with that step switched off, and prints the minimum and median of each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()

    import sqlalchemy as sa

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import CommentLabel, Organisation
    from surveyapp.reports import model
    from surveyapp.reports.filters import parse_filters
    from surveyapp.seed import seed_demo
    from surveyapp.themes.store import theme_pending

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.test_request_context("/"):
        from flask_migrate import upgrade

        upgrade()
        seed_demo(seed=7, n_responses=args.responses)
        while theme_pending(5000):
            pass
        comments = db.session.scalar(sa.select(sa.func.count()).select_from(CommentLabel))
        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
        f = parse_filters({})
        model.build_report(org, f)  # rollups built once, outside the timing

        def timed() -> list[float]:
            out = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                model.build_report(org, f)
                out.append(time.perf_counter() - t0)
            return out

        with_themes = timed()
        attach = model._attach_complaint_themes
        model._attach_complaint_themes = lambda *a, **k: None
        try:
            without = timed()
        finally:
            model._attach_complaint_themes = attach
        report = model.build_report(org, f)
        below = sum(len(s.below) for s in report.sections)
    print(f"{url.split(':')[0]}: {args.responses} responses, {comments} classified comments, {below} units below target")
    for name, runs in (("with complaint themes", with_themes), ("without", without)):
        print(f"{name:<22} min {min(runs):.3f} s, median {statistics.median(runs):.3f} s")


if __name__ == "__main__":
    main()
