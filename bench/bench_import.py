"""Benchmark: a province moves in by bulk import, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py [--units 150] [--points 800] [--users 600] [--pg URL]

Generates, as an official would fill the templates, a province of ``--units`` organisations
(the province, its departments and communes under their national codes, hospital and school
units below), ``--points`` service points, ``--users`` accounts, twelve months of volumes for
every point and a target for every commune; writes them as CSV files; then, for each kind in
order and on each database (a fresh SQLite file; a private PostgreSQL schema, dropped at the
end), times the dry run, the real run and a second real run of the same file (which changes
nothing), through :func:`surveyapp.imports.run_import` as the CLI runs it. Prints one line per
kind and database, and the totals.
"""
from __future__ import annotations

import argparse
import csv
import getpass
import io
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from surveyapp import create_app, imports  # noqa: E402
from surveyapp.config import normalise_database_url  # noqa: E402
from surveyapp.extensions import db  # noqa: E402

KINDS = ("organisations", "service-points", "users", "volumes", "targets")


def province(units: int, points: int, users: int) -> dict[str, list[list]]:
    """The rows of every kind, in the templates' column order."""
    orgs = [["25", "UBND tỉnh Phú Thọ", "", "hành chính", ""]]
    departments = [f"25-S{i:02d}" for i in range(1, 21)]
    orgs += [[code, f"Sở số {i}", "", "hành chính", "25"] for i, code in enumerate(departments, 1)]
    hospitals = [f"BV{i:02d}" for i in range(1, 6)]
    orgs += [[code, f"Bệnh viện số {i}", "", "y tế", "25-S01"] for i, code in enumerate(hospitals, 1)]
    remaining = units - len(orgs)
    wards = remaining // 4
    communes = remaining - wards
    commune_codes = [f"{26000 + i:05d}" for i in range(communes)]
    orgs += [[code, f"UBND xã số {i}", "", "hành chính", "25"] for i, code in enumerate(commune_codes, 1)]
    orgs += [[f"{hospitals[i % 5]}-K{i:02d}", f"Khoa số {i}", "", "y tế", hospitals[i % 5]] for i in range(wards)]
    leaf_codes = [r[0] for r in orgs[1:]]
    sps = [[f"DPV-{i:04d}", f"Quầy phục vụ số {i}", "", leaf_codes[i % len(leaf_codes)], ""] for i in range(points)]
    roles = ("người xem", "cán bộ quản lý")
    accounts = [[f"canbo{i:04d}", f"Cán bộ số {i}", f"canbo{i:04d}@phutho.gov.vn", roles[i % 2],
                 leaf_codes[i % len(leaf_codes)]] for i in range(users)]
    volumes = [[sp[0], f"2026-{m:02d}", 100 + (i * 37 + m * 11) % 900] for i, sp in enumerate(sps) for m in range(1, 13)]
    targets = [["quick", code, "", "96", "≥", "2026-01-01", "2026-12-31", "Kế hoạch CCHC"] for code in commune_codes]
    return {"organisations": orgs, "service-points": sps, "users": accounts, "volumes": volumes, "targets": targets}


def csv_file(kind: str, rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([h for _, h in imports.get(kind).columns])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def run(url: str, files: dict[str, bytes]) -> list[tuple[str, int, float, float, float]]:
    from surveyapp.cli import upgrade_to_head
    from surveyapp.seed import seed_standard

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "PUBLIC_BASE_URL": "https://khaosat.example.gov.vn"})
    timings = []
    with app.app_context():
        upgrade_to_head()
        seed_standard()  # the sector targets an import is checked against
        db.session.commit()
        with app.test_request_context(query_string={"lang": "vi"}):
            for kind in KINDS:
                data = files[kind]
                t0 = time.perf_counter()
                dry = imports.run_import(kind, f"{kind}.csv", data, dry_run=True)
                t1 = time.perf_counter()
                real = imports.run_import(kind, f"{kind}.csv", data)
                t2 = time.perf_counter()
                again = imports.run_import(kind, f"{kind}.csv", data)
                t3 = time.perf_counter()
                assert dry.ok and real.ok and again.ok, [e.as_dict() for e in (dry.errors or real.errors)][:5]
                assert real.counts["created"] == real.rows and again.counts["unchanged"] == again.rows
                timings.append((kind, real.rows, t1 - t0, t2 - t1, t3 - t2))
        db.session.remove()
        db.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--points", type=int, default=800)
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL") or f"postgresql://{getpass.getuser()}@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = province(args.units, args.points, args.users)
    files = {kind: csv_file(kind, rows[kind]) for kind in KINDS}
    print(f"province: {len(rows['organisations'])} units, {len(rows['service-points'])} service points, "
          f"{len(rows['users'])} users, {len(rows['volumes'])} volumes, {len(rows['targets'])} targets")
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": run(f"sqlite:///{tmp}/bench.sqlite3", files)}
    schema = f"bench_import_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(normalise_database_url(args.pg))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.make_url(normalise_database_url(args.pg)).update_query_dict({"options": f"-csearch_path={schema}"})
        results["postgresql"] = run(url.render_as_string(hide_password=False), files)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    print(f"{'database':<11}{'kind':<16}{'rows':>6}{'dry run s':>11}{'real run s':>12}{'again s':>9}")
    for backend, timings in results.items():
        for kind, n, dry, real, again in timings:
            print(f"{backend:<11}{kind:<16}{n:>6}{dry:>11.2f}{real:>12.2f}{again:>9.2f}")
        total = [sum(t[i] for t in timings) for i in (2, 3, 4)]
        print(f"{backend:<11}{'all':<16}{sum(t[1] for t in timings):>6}{total[0]:>11.2f}{total[1]:>12.2f}{total[2]:>9.2f}")


if __name__ == "__main__":
    main()
