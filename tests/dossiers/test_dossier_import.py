"""The import framework with the ``dossiers`` kind: dry run, all or nothing, re-import, export."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from surveyapp import imports
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Organisation

from .conftest import dossiers

HEADER = "MaHoSo,MaCoQuan,MaTTHC,MaLinhVuc,NgayTiepNhan,NgayHenTra,NgayTra,KenhNop\n"
GOOD = ("HS-1,STP,1.000001,HT,20261001080000,20261005170000,20261004090000,online\n"
        "HS-2,STC,2.000002,NS,20261002080000,20261003170000,,counter\n")
BAD = ("HS-3,STP,1.000001,HT,2026-10-01,20261005170000,,counter\n"
       "HS-4,STX,1.000001,HT,20261001080000,,,counter\n"
       "HS-5,STP,1.000001,HT,20261001080000,20260901080000,,buudien\n")


def audits(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_dry_run_lists_bad_rows_and_real_runs_are_all_or_nothing(app, kh, runner, tmp_path):
    path = tmp_path / "hoso.csv"
    path.write_bytes(("\ufeff" + HEADER + GOOD + BAD).encode())  # Excel's UTF-8 with BOM
    result = runner.invoke(args=["import", "dossiers", str(path), "--dry-run"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "Dòng 4, cột NgayTiepNhan: Ngày giờ không đúng dạng yyyyMMddHHmmss." in lines
    assert any(line.startswith("Dòng 5, cột MaCoQuan: Không có cơ quan mã “STX”") for line in lines)
    assert "Dòng 6, cột NgayHenTra: Trước ngày tiếp nhận." in lines
    assert "Dòng 6, cột KenhNop: Kênh nộp phải là “online” hoặc “counter”." in lines
    assert not any(line.startswith(("Dòng 2", "Dòng 3")) for line in lines)
    assert dossiers(app) == [] and audits(app) == 0
    # A real run of the same file stores nothing either.
    assert runner.invoke(args=["import", "dossiers", str(path)]).exit_code == 1
    assert dossiers(app) == [] and audits(app) == 0

    path.write_bytes((HEADER + GOOD).encode())
    ok = runner.invoke(args=["import", "dossiers", str(path), "--dry-run"])
    assert ok.exit_code == 0 and dossiers(app) == []
    real = runner.invoke(args=["import", "dossiers", str(path)])
    assert real.exit_code == 0, real.output
    assert "2 mới" in real.output and [d.code for d in dossiers(app)] == ["HS-1", "HS-2"]
    assert audits(app) == 1
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        assert event.action == "import" and event.after["created"] == 2
    # Re-importing the same file changes nothing, and logs nothing.
    before = [(d.id, d.updated_at) for d in dossiers(app)]
    again = runner.invoke(args=["import", "dossiers", str(path)])
    assert again.exit_code == 0 and "2 không đổi" in again.output
    assert [(d.id, d.updated_at) for d in dossiers(app)] == before and audits(app) == 1


def test_export_reimports_to_the_same_rows_and_is_inert(app, kh, runner, tmp_path):
    path = tmp_path / "hoso.csv"
    # Codes that a spreadsheet would run as formulas.
    path.write_bytes((HEADER + GOOD + "=HYPERLINK(1),STP,@SUM,-2,20261001080000,,,\n").encode())
    assert runner.invoke(args=["import", "dossiers", str(path)]).exit_code == 0
    stored = [(d.organisation_id, d.code, d.procedure_code, d.field_code, d.received_at, d.due_at, d.returned_at,
               d.channel) for d in dossiers(app)]
    for name in ("out.csv", "out.xlsx"):
        out = tmp_path / name
        result = runner.invoke(args=["export", "dossiers", str(out)])
        assert result.exit_code == 0 and "3 dòng" in result.output
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        else:
            rows = [list(r) for r in load_workbook(out).active.iter_rows(values_only=True)]
        cells = [c for r in rows[1:] for c in r if isinstance(c, str)]
        assert "'=HYPERLINK(1)" in cells and "'@SUM" in cells and "'-2" in cells
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
        again = runner.invoke(args=["import", "dossiers", str(out)])
        assert again.exit_code == 0 and "3 không đổi" in again.output, again.output
        assert [(d.organisation_id, d.code, d.procedure_code, d.field_code, d.received_at, d.due_at, d.returned_at,
                 d.channel) for d in dossiers(app)] == stored


def test_xlsx_import_and_scope(app, kh):
    wb = Workbook()
    ws = wb.active
    ws.append(["MaHoSo", "MaCoQuan", "NgayTiepNhan"])
    ws.append(["HS-1", "STP", "20261001080000"])
    ws.append(["HS-2", "STC", "20261001080000"])
    buf = io.BytesIO()
    wb.save(buf)
    # An official of the justice department imports only its own dossiers: every row or none.
    # Messages are lazy strings: the service runs, as in the workspace, in a request.
    with app.test_request_context():
        justice, province = (db.session.get(Organisation, o.id) for o in (kh.justice, kh.province))
        result = imports.run_import("dossiers", "hoso.xlsx", buf.getvalue(), scope=justice)
        assert [(e.row, e.column) for e in result.errors] == [(3, "MaCoQuan")]
        assert "phạm vi" in result.errors[0].message and dossiers(app) == []
        result = imports.run_import("dossiers", "hoso.xlsx", buf.getvalue(), scope=province)
        assert result.ok and result.counts["created"] == 2 and len(dossiers(app)) == 2
        for name, data in (("hoso.txt", b"x"), ("hoso.csv", "MaHoSo;Sai\n".encode()), ("hoso.csv", b"\xff\xfe")):
            try:
                imports.run_import("dossiers", name, data)
            except imports.FileProblem:
                continue
            raise AssertionError(name)
