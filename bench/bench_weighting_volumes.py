"""Benchmark: what dossier-derived weighting volumes cost a report, on PostgreSQL.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/test .venv/bin/python bench/bench_weighting_volumes.py [--dossiers N]

Seeds the demo province (its responses) into a private schema, adds N dossier records
(default 1,000,000) spread over its service points and the last 25 months with set-based SQL
(then counts them into the stored dossier volumes, as migration 0018 does), and times, warm and
as medians:

* ``service_point_volumes`` for every point over a report's 25 months: read from the stored
  counts (now), against the count grouped in SQL that it replaced (the same result checked);
* ``build_report`` for the province: with dossier volumes (now) and with hand-entered ones only;
* ``records.write`` of 1,000-dossier batches (the API's largest), new and re-sent unchanged.

The schema is dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_dashboard import drop_schema, make_app, schema_url  # noqa: E402


def private_schema(base_url: str) -> tuple[str, str]:
    """A fresh schema of this run's own, and its URL."""
    schema = f"bench_weighting_{os.getpid()}"
    return schema, schema_url(base_url, schema, True)


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgresql://root@127.0.0.1:5432/test")
    schema, url = private_schema(base)
    try:
        app = make_app(url)
        with app.app_context():
            from surveyapp import clock
            from surveyapp.cli import upgrade_to_head
            from surveyapp.dossiers import volumes as dossier_volumes
            from surveyapp.dossiers.metrics import counted_service_point_volumes, service_point_volumes
            from surveyapp.dossiers.records import WRITTEN, write
            from surveyapp.extensions import db
            from surveyapp.models import Organisation, ServicePoint
            from surveyapp.reports import model, volumes
            from surveyapp.reports.filters import month_end, month_key, parse_filters
            from surveyapp.reports.queries import fetch_volumes
            from surveyapp.seed import seed_demo

            upgrade_to_head()
            seed_demo(seed=1, n_responses=args.responses)
            t0 = time.perf_counter()
            db.session.execute(sa.text("""
                INSERT INTO dossier (organisation_id, service_point_id, code, code_hash, received_at, updated_at)
                SELECT sp.organisation_id, sp.id, 'B' || g, md5(g::text),
                       now() AT TIME ZONE 'UTC' - (g % 760) * interval '1 day' - (g % 86400) * interval '1 second',
                       now() AT TIME ZONE 'UTC'
                FROM generate_series(1, :n) AS g
                JOIN (SELECT id, organisation_id, row_number() OVER (ORDER BY id) - 1 AS i,
                             count(*) OVER () AS c FROM service_point) sp ON sp.i = g % sp.c"""),
                {"n": args.dossiers})
            db.session.commit()
            db.session.execute(sa.text("ANALYZE dossier"))
            print(f"{args.dossiers:,} dossiers inserted in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            cells = dossier_volumes.rebuild()
            db.session.commit()
            print(f"{cells:,} stored (service point, month) counts rebuilt in {time.perf_counter() - t0:.1f} s")

            ids = list(db.session.scalars(sa.select(ServicePoint.id)))
            f = parse_filters({})
            first, last = f.previous().date_from.replace(day=1), month_end(f.date_to)
            new_t, new = timed(lambda: service_point_volumes(ids, first, last), args.repeats)
            old_t, old = timed(lambda: counted_service_point_volumes(ids, first, last), args.repeats)
            assert new == old, "the stored counts differ from a fresh count"
            print(f"service_point_volumes, {len(ids)} points, {len(new)} point-months: stored counts "
                  f"{new_t * 1000:.1f} ms, counted in SQL {old_t * 1000:.0f} ms (ratio {old_t / new_t:.0f})")

            org_of = dict(db.session.execute(sa.select(ServicePoint.id, ServicePoint.organisation_id)).all())
            start = clock.now_utc()
            batch_no = iter(range(10 ** 6))

            def batch():
                n = next(batch_no)
                return [{**dict.fromkeys(WRITTEN), "organisation_id": org_of[ids[i % len(ids)]],
                         "service_point_id": ids[i % len(ids)], "code": f"W{n}-{i}", "code_hash": f"w{n}h{i}",
                         "received_at": start} for i in range(1000)]

            def write_new():
                write(batch())
                db.session.commit()

            write_t, _ = timed(write_new, args.repeats)
            same = batch()
            write(same)
            db.session.commit()

            def write_again():
                write(same)
                db.session.commit()

            again_t, _ = timed(write_again, args.repeats)
            assert dossier_volumes.stored(ids, month_key(first), month_key(last)) == \
                counted_service_point_volumes(ids, first, last), "the writes broke the counts"
            print(f"records.write, 1,000 new dossiers: {write_t * 1000:.0f} ms; the same 1,000 re-sent: "
                  f"{again_t * 1000:.0f} ms (counts checked against a fresh count afterwards)")

            root = db.session.scalar(sa.select(Organisation).where(Organisation.parent_id.is_(None)))

            def report():
                with app.test_request_context("/"):
                    return model.build_report(root, f)

            report()  # builds the rollups
            with_dossiers, r1 = timed(report, args.repeats)
            original = volumes.weighting_volumes
            volumes_only_entered = lambda sp_ids, ff: (fetch_volumes(sp_ids, ff), {})  # noqa: E731
            model.weighting_volumes = volumes_only_entered
            try:
                entered_only, _r2 = timed(report, args.repeats)
            finally:
                model.weighting_volumes = original
            sources = sorted({s.weight_source for s in r1.sections})
            print(f"build_report (province, default period, warm): with dossier volumes {with_dossiers * 1000:.0f} ms "
                  f"(weights from {', '.join(sources)}), hand-entered only {entered_only * 1000:.0f} ms "
                  f"(ratio {with_dossiers / entered_only:.2f}); local today {clock.today()}")
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_schema(base, schema)


if __name__ == "__main__":
    main()
