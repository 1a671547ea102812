"""The filed báo cáo from a real report: read back with python-docx against ``report --format
json``, rendered by LibreOffice and pdftoppm, from the command line and the workspace form."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from docx import Document
from pypdf import PdfReader

from surveyapp.documents import decree30 as d30
from surveyapp.documents.report import period_label, pct
from surveyapp.seed import DEMO_PASSWORD
from tests.conftest import detached

FROM = (date.today() - timedelta(days=420)).isoformat()
TO = (date.today() + timedelta(days=1)).isoformat()
HEADER = ["--number", "12", "--agency", "Sở Nội vụ", "--managing-agency", "UBND tỉnh Khánh An",
          "--place", "Khánh An", "--date", "2026-12-02", "--signer-prefix", "KT.", "--signer-authority",
          "Giám đốc", "--signer-title", "Phó Giám đốc", "--signer-name", "Nguyễn Văn A",
          "--recipient", "UBND tỉnh (để b/c)", "--recipient", "Lưu: VT"]


def vn_pct(text: str) -> float:
    """"89,1%" back to 0.891."""
    m = re.fullmatch(r"(\d+),(\d)%", text.strip())
    assert m, text
    return float(f"{m.group(1)}.{m.group(2)}") / 100


@pytest.mark.parametrize("first, last, expected", [
    (date(2026, 10, 1), date(2026, 12, 31), "quý IV năm 2026"),
    (date(2026, 3, 1), date(2026, 3, 31), "tháng 3 năm 2026"),
    (date(2026, 1, 1), date(2026, 6, 30), "6 tháng đầu năm 2026"),
    (date(2026, 1, 1), date(2026, 12, 31), "năm 2026"),
    (date(2026, 3, 2), date(2026, 3, 15), "từ ngày 02/03/2026 đến ngày 15/03/2026"),
])
def test_period_label(first, last, expected):
    assert period_label(first, last) == expected


def test_vietnamese_percent():
    assert pct(0.8912) == "89,1%" and pct(0.8912, "en") == "89.1%" and pct(None) == "–"


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=["report", "--org", "KA", "--from", FROM, "--to", TO, *args])
    assert result.exit_code == 0, result.output
    return result


def test_docx_layout_and_numbers_equal_report_json(app, demo, tmp_path):
    data = json.loads(_cli(app, "--format", "json").output)
    out = tmp_path / "r.docx"
    _cli(app, "--format", "docx", "--out", str(out), *HEADER)
    doc = Document(str(out))
    s = doc.sections[0]
    assert round(s.page_width.mm) == 210 and round(s.page_height.mm) == 297
    assert 20 <= round(s.top_margin.mm) <= 25 and 30 <= round(s.left_margin.mm) <= 35
    assert 15 <= round(s.right_margin.mm) <= 20
    left = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs if p.text]
    right = [p.text for p in doc.tables[0].rows[0].cells[1].paragraphs if p.text]
    assert left == ["UBND TỈNH KHÁNH AN", "SỞ NỘI VỤ", "Số: 12/BC-UBND"]
    assert right == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Khánh An, ngày 02 tháng 12 năm 2026"]
    runs = [r for p in doc.paragraphs for r in p.runs] + [
        r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert {r.font.name for r in runs} == {"Times New Roman"}
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "BÁO CÁO" in body
    # No statistical terms in the body before the annex.
    written = body.split("PHỤ LỤC")[0]
    for term in ("Wilson", "Newcombe", "khoảng tin cậy", "kiểm định"):
        assert term not in written
    # Each section's headline in a sentence and in the table's total row, as the JSON says.
    tables = doc.tables[1:-1]
    assert len(tables) == sum(1 for sec in data["sections"] if sec["units"])
    for sec in data["sections"]:
        h = sec["headline"]
        if h["estimate"] is None:
            continue
        sentence = f"đạt {pct(h['estimate'])}; với số phiếu thu được, giá trị thực nằm trong khoảng từ " \
                   f"{pct(h['low'])} đến {pct(h['high'])}"
        assert sentence in written
        assert abs(vn_pct(pct(h["estimate"])) - h["estimate"]) < 0.0005
    for t, sec in zip(tables, [x for x in data["sections"] if x["units"]]):
        cells = [[c.text for c in row.cells] for row in t.rows][1:]
        assert [r[0] for r in cells[:-1]] == [u["label"] for u in sec["units"]]
        for r, u in zip(cells, sec["units"]):
            assert abs(vn_pct(r[1]) - u["estimate"]["estimate"]) < 0.0005
            assert int(r[3]) == u["estimate"]["n"]
        assert abs(vn_pct(cells[-1][1]) - sec["headline"]["estimate"]) < 0.0005
    for sec in data["sections"]:
        for u in sec["units"]:
            assert "indicator_766" in u


def test_pdf_nothing_in_the_margins(app, demo, tmp_path):
    if not d30.soffice() or not shutil.which("pdftoppm"):
        pytest.fail("LibreOffice or pdftoppm missing: `make test` installs libreoffice-writer-nogui and poppler-utils")
    out = tmp_path / "r.pdf"
    _cli(app, "--format", "pdf", "--out", str(out), *HEADER)
    reader = PdfReader(str(out))
    assert len(reader.pages) >= 2
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in reader.pages[0].extract_text()
    # The recipients and the signature on one page, never split.
    last = reader.pages[-1].extract_text()
    assert "Nơi nhận" in last and "Lưu: VT" in last and "Nguyễn Văn A" in last
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(out), str(tmp_path / "p")], check=True)
    from PIL import Image

    pngs = sorted(tmp_path.glob("p-*.png"))
    assert pngs
    for png in pngs:
        img = Image.open(png).convert("L")
        mm = img.width / 210
        # Right 15 mm, left 30 mm, bottom 20 mm (a little less each, for anti-aliasing): no ink,
        # charts included.
        for name, box in (("right", (img.width - int(12 * mm), 0, img.width, img.height)),
                          ("left", (0, 0, int(27 * mm), img.height)),
                          ("bottom", (0, img.height - int(17 * mm), img.width, img.height))):
            assert img.crop(box).getextrema()[0] > 200, f"{png.name}: ink in the {name} margin"


# ---------------------------------------------------------------------------------------------
# The workspace form


def _org(code):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def _form(org_id, **extra):
    data = {"organisation_id": org_id, "kind": "year", "year": date.today().year, "signer_title": "Giám đốc",
            "signer_name": "Nguyễn Văn B", "doc_number": "7", "recipients": "Sở Nội vụ\nLưu: VT", "fmt": "docx"}
    data.update(extra)
    return data


def test_form_viewer_downloads_docx_and_other_branch_is_not_found(app, demo, auth):
    with app.app_context():
        hospital, commune = detached(_org("KA-BVDK"), _org("KA-TANPHU"))
    viewer = auth.client_for("benhvien", DEMO_PASSWORD)
    assert viewer.get("/admin/reports/filed").status_code == 200
    response = viewer.post("/admin/reports/filed", data=_form(hospital.id))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    doc = Document(io.BytesIO(response.data))
    left = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs if p.text]
    assert left[-1] == "Số: 7/BC-UBND"
    assert any(f"năm {date.today().year}" in p.text for p in doc.paragraphs)
    manager = auth.client_for("tanphu", DEMO_PASSWORD)
    assert manager.post("/admin/reports/filed", data=_form(hospital.id)).status_code == 404
    assert manager.get(f"/admin/reports/filed?org={hospital.id}").status_code == 404
    assert manager.get(f"/admin/reports/filed?org={commune.id}").status_code == 200
    # A bad period is refused with a message, not a file.
    refused = manager.post("/admin/reports/filed", data=_form(commune.id, kind="quarter", number=5))
    assert refused.status_code == 422 and "Content-Disposition" not in refused.headers


def test_form_refuses_a_post_without_csrf_token(app, demo, make_app, auth):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    assert auth.login("benhvien", DEMO_PASSWORD, client=client, data={"csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        hospital_id = _org("KA-BVDK").id
    response = client.post("/admin/reports/filed", data=_form(hospital_id))
    assert response.status_code == 400 and "Content-Disposition" not in response.headers
    page = client.get("/admin/reports/filed").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/admin/reports/filed", data=_form(hospital_id, csrf_token=token))
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")


def test_english_on_request(app, demo, tmp_path):
    out = tmp_path / "en.docx"
    _cli(app, "--format", "docx", "--out", str(out), "--lang", "en", *HEADER)
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "REPORT" in text and "I. OVERALL RESULTS" in text
    assert re.search(r"\d+\.\d% and \d+\.\d%", text) and not re.search(r"\d+,\d%", text)


def test_indicator_766_in_json_and_in_the_document(app, demo, tmp_path):
    from datetime import datetime

    from surveyapp.dossiers.records import WRITTEN, write
    from surveyapp.extensions import db

    day = datetime.combine(date.today() - timedelta(days=10), datetime.min.time())
    with app.app_context():
        commune = _org("KA-TANPHU")
        write([{**dict.fromkeys(WRITTEN), "organisation_id": commune.id, "code": f"HS-{i}", "code_hash": f"h{i}",
                "received_at": day, "due_at": day + timedelta(days=3), "returned_at": day + timedelta(days=1),
                "channel": "online"} for i in range(4)])
        db.session.commit()
    data = json.loads(_cli(app, "--format", "json").output)
    units = {u["label"]: u for sec in data["sections"] for u in sec["units"]}
    assert units["UBND xã Tân Phú"]["indicator_766"]["value"] == 1.0
    assert units["UBND xã Hòa Bình"]["indicator_766"] is None
    out = tmp_path / "r.docx"
    _cli(app, "--format", "docx", "--out", str(out), *HEADER)
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "UBND xã Tân Phú 100,0%" in text
    assert "coi mọi hồ sơ không được đánh giá là hài lòng" in text
    row = [[c.text for c in r.cells] for t in doc.tables[1:-1] for r in t.rows if r.cells[0].text == "UBND xã Tân Phú"][0]
    assert row[-1] == "100,0%"


def test_document_charts_come_from_the_dashboard_chart_module(app, demo, tmp_path):
    """The trend of each questionnaire and the forest plot of its units, as numbered figures
    inside the text width, drawn by surveyapp.charts from the same report; looked at as pages."""
    from PIL import Image

    from surveyapp import charts
    from surveyapp.reports import filters, model

    out = tmp_path / "r.docx"
    _cli(app, "--format", "docx", "--out", str(out), *HEADER)
    doc = Document(str(out))
    with app.test_request_context("/"):
        report = model.build_report(_org("KA"), filters.parse_filters({"from": FROM, "to": TO}))
        expected = [charts.build("trend", s, "vi").title for s in report.sections if len(s.trend) > 1] + [
            charts.build("units", s, "vi").title for s in report.sections if s.units]
    captions = [p.text for p in doc.paragraphs if re.match(r"Hình \d+\. ", p.text)]
    assert [c.split(". ", 1)[1] for c in captions] == sorted(expected, key=expected.index)
    assert [int(c.split(".")[0].split()[1]) for c in captions] == list(range(1, len(expected) + 1))
    shapes = doc.inline_shapes
    assert len(shapes) == len(expected)
    text_width = d30.TEXT_WIDTH
    for shape in shapes:
        assert 0 < shape.width <= text_width
    # Each picture is a real PNG of the chart, wide enough to read when printed.
    blobs = [r.target_part.blob for r in doc.part.rels.values() if "image" in r.reltype]
    for blob in blobs:
        img = Image.open(io.BytesIO(blob))
        assert img.format == "PNG" and img.width >= 1200
    if not d30.soffice() or not shutil.which("pdftoppm"):
        pytest.fail("LibreOffice or pdftoppm missing: `make test` installs libreoffice-writer-nogui and poppler-utils")
    pdf = d30.docx_to_pdf(out.read_bytes())
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(tmp_path / "r.pdf"), "/tmp/filed-report-page"], check=True)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for caption in captions:
        assert caption.split(".")[0] in text
