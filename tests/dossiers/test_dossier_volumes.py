"""The stored dossier volumes (dossiers per service point and local month, the reports' weights)
always equal a fresh count of the records: after API batches, re-sent batches, changed dates and
service points, rejected batches, file imports, and two writers at once on PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from surveyapp import imports
from surveyapp.dossiers import metrics
from surveyapp.dossiers.records import FIELDS, Resolver, parse_batch, write
from surveyapp.extensions import db
from surveyapp.models import Dossier, DossierVolume, ServicePoint
from surveyapp.reports.filters import month_key

from .conftest import API_KEY, build_province, record

FIRST, LAST = date(2026, 8, 1), date(2026, 12, 31)
SEP, OCT, NOV = (month_key(date(2026, m, 1)) for m in (9, 10, 11))


def table() -> dict:
    """Every stored cell with dossiers in it."""
    db.session.expire_all()
    return {(sp, m): n for sp, m, n in db.session.execute(
        sa.select(DossierVolume.service_point_id, DossierVolume.month, DossierVolume.dossiers)
        .where(DossierVolume.dossiers > 0))}


def fresh() -> dict:
    """Counted from the dossier rows in SQL (the CASE over month starts), for every point."""
    ids = db.session.scalars(sa.select(ServicePoint.id)).all()
    return metrics.counted_service_point_volumes(ids, FIRST, LAST)


def assert_consistent() -> dict:
    counted = fresh()
    assert table() == counted
    ids = db.session.scalars(sa.select(ServicePoint.id)).all()
    assert metrics.service_point_volumes(ids, FIRST, LAST) == counted
    return counted


def second_counter(kh) -> ServicePoint:
    sp = ServicePoint(organisation=kh.justice, name="Quầy Tư pháp 2", code="quaytp0002")
    db.session.add(sp)
    db.session.commit()
    return sp


def test_api_batches_resends_moves_and_rejections_keep_the_counts_exact(make_app):
    app = make_app(DOSSIER_API_KEYS=hashlib.sha256(API_KEY.encode()).hexdigest())
    with app.app_context():
        kh = build_province()
        one, two = kh.counter.id, second_counter(kh).id
        client, key = app.test_client(), {"X-API-Key": API_KEY}

        def post(*records, status=200):
            response = client.post("/api/v1/dossiers", json={"dossiers": list(records)}, headers=key)
            assert response.status_code == status, response.json
            return response.json

        batch = [
            record("HS-1", service_point="quaytp0001"),  # 1 October
            record("HS-2", service_point="quaytp0001", received="20261031233000", due=""),  # local 31 October
            record("HS-3", service_point="quaytp0001", received="20261101003000", due=""),  # local 1 November
            record("HS-4", service_point="quaytp0002", received="20260915080000", due=""),
            record("HS-5"),  # names no service point: weighs nothing
            record("HS-6", agency="STC"),
        ]
        assert post(*batch) == {"created": 6, "updated": 0, "unchanged": 0}
        # HS-2 is 16:30 UTC on 31 October and HS-3 17:30: the local month decides.
        assert assert_consistent() == {(one, OCT): 2, (one, NOV): 1, (two, SEP): 1}

        # The same batch again changes nothing.
        assert post(*batch) == {"created": 0, "updated": 0, "unchanged": 6}
        assert assert_consistent() == {(one, OCT): 2, (one, NOV): 1, (two, SEP): 1}

        # A date moved to another month, a dossier moved between points, one losing its point,
        # one gaining one, and a new one: every move counted once, out and in.
        moved = [
            record("HS-1", service_point="quaytp0001", received="20261105080000", due=""),
            record("HS-2", service_point="quaytp0002", received="20261031233000", due=""),
            record("HS-3", received="20261101003000", due=""),
            record("HS-5", service_point="quaytp0002"),
            record("HS-7", service_point="quaytp0002", received="20260915080000", due=""),
        ]
        assert post(*moved) == {"created": 1, "updated": 4, "unchanged": 0}
        # Point one keeps only HS-1, now in November; its October cell is empty and left out.
        assert assert_consistent() == {(one, NOV): 1, (two, OCT): 2, (two, SEP): 2}

        # A batch with one bad record stores nothing, counts included.
        rejected = [record("HS-1", service_point="quaytp0002", received="20260901080000", due=""),
                    record("HS-8", service_point="khong-co")]
        assert post(*rejected, status=422)["error"] == "invalid_records"
        assert assert_consistent() == {(one, NOV): 1, (two, OCT): 2, (two, SEP): 2}


def test_file_imports_and_reimports_keep_the_counts_exact(app, kh, app_context):
    two = second_counter(kh).id
    labels = [label for label, _ in FIELDS.values()]

    def run(rows):
        lines = [",".join(labels)] + [",".join(r.get(k, "") for k in FIELDS) for r in rows]
        result = imports.run_import("dossiers", "hoso.csv", ("\n".join(lines) + "\n").encode())
        assert not result.errors, [(e.row, e.column, str(e.message)) for e in result.errors]
        return result.counts

    rows = [record(f"F-{i}", service_point="quaytp0001" if i % 2 else "quaytp0002",
                   received=f"202609{i + 1:02d}080000", due="") for i in range(10)]
    assert run(rows)["created"] == 10
    assert assert_consistent() == {(kh.counter.id, SEP): 5, (two, SEP): 5}
    assert run(rows)["unchanged"] == 10
    assert assert_consistent() == {(kh.counter.id, SEP): 5, (two, SEP): 5}
    # The file again with three dates in October and two points swapped.
    rows[0]["received"] = rows[1]["received"] = rows[2]["received"] = "20261015080000"
    rows[3]["service_point"], rows[4]["service_point"] = "quaytp0002", "quaytp0001"
    counts = run(rows)
    assert (counts["updated"], counts["unchanged"]) == (5, 5)
    # Point one: F-1 in October; F-4 joins, F-3 leaves. Point two: F-0 and F-2 in October.
    assert assert_consistent() == {(kh.counter.id, SEP): 4, (kh.counter.id, OCT): 1,
                                   (two, SEP): 3, (two, OCT): 2}


def test_a_dossier_written_past_the_one_write_path_is_refused(app, kh, app_context):
    from datetime import datetime

    db.session.add(Dossier(organisation_id=kh.justice.id, service_point_id=kh.counter.id, code="ORM",
                           code_hash="h", received_at=datetime(2026, 10, 1, 1, 0)))
    with pytest.raises(RuntimeError, match="records.write"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 0


# PostgreSQL only: SQLite has one writer at a time.
@pytest.mark.parametrize("backend", ["postgres"])
def test_two_writers_at_once_lose_no_increment(make_app, backend):
    """Two transactions on PostgreSQL, the second started while the first holds its locks: new
    dossiers in one cell, and the same new dossier sent by both with different months."""
    app = make_app()
    with app.app_context():
        kh = build_province()
        sp = kh.counter.id

    def writer(records, started: threading.Event, go_on: threading.Event | None, errors: list):
        try:
            with app.test_request_context():
                rows, errs = parse_batch(records, Resolver())
                assert not errs
                write(rows)
                started.set()
                if go_on is not None:
                    go_on.wait(10)  # hold the locks until the other writer is blocked on them
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            started.set()

    def race(first, second):
        errors: list = []
        started_1, started_2, go_on = threading.Event(), threading.Event(), threading.Event()
        t1 = threading.Thread(target=writer, args=(first, started_1, go_on, errors))
        t2 = threading.Thread(target=writer, args=(second, started_2, None, errors))
        t1.start()
        assert started_1.wait(10)
        t2.start()
        time.sleep(0.5)
        assert not started_2.is_set(), "the second writer should wait for the first one's locks"
        go_on.set()
        t1.join(10)
        t2.join(10)
        assert not errors, errors

    # Different new dossiers in the same cell.
    race([record("A-1", service_point="quaytp0001")], [record("A-2", service_point="quaytp0001")])
    # The same new dossier from both, in October then in November: it counts once, in November.
    race([record("B-1", service_point="quaytp0001")],
         [record("B-1", service_point="quaytp0001", received="20261110080000", due="")])
    # The same existing dossier moved by both: it ends where the second put it.
    race([record("A-1", service_point="quaytp0001", received="20260910080000", due="")],
         [record("A-1", service_point="quaytp0001", received="20261120080000", due="")])
    with app.app_context():
        assert assert_consistent() == {(sp, OCT): 1, (sp, NOV): 2}


def test_rebuild_recounts_dossiers_loaded_past_the_write_path(app, kh, app_context):
    """Dossiers loaded by raw SQL (a restore, a bulk load) are not counted until ``rebuild``."""
    from datetime import datetime

    from surveyapp.dossiers import volumes

    store = [record("R-1", service_point="quaytp0001"), record("R-2", service_point="quaytp0001")]
    rows, errors = parse_batch(store, Resolver())
    write(rows)
    db.session.execute(sa.insert(Dossier.__table__), [
        {"organisation_id": kh.justice.id, "service_point_id": kh.counter.id, "code": f"RAW-{i}",
         "code_hash": f"raw{i}", "received_at": datetime(2026, 9, 10, 3, 0), "updated_at": datetime(2026, 9, 10)}
        for i in range(3)])
    db.session.commit()
    assert table() == {(kh.counter.id, OCT): 2} != fresh()
    assert volumes.rebuild() == 2
    db.session.commit()
    assert assert_consistent() == {(kh.counter.id, OCT): 2, (kh.counter.id, SEP): 3}
