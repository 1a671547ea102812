"""In a real Chromium: sign in, read the dashboard, drill down, download each export and check
that the files carry the numbers the analysis package gives."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from surveyapp.reports import filters, model, queries
from surveyapp.extensions import db
from surveyapp.models import Organisation

from tests.conftest import assert_accessible


@pytest.mark.browser
def test_official_reads_dashboard_drills_down_and_exports(live_server, page, tmp_path):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from surveyapp.seed import seed_demo

    with live_server.app.app_context():
        seed_demo(seed=7, n_responses=600)
        province = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
        with live_server.app.test_request_context("/"):
            expected = model.build_report(province, filters.parse_filters({}))

    page.goto(live_server.url + "/admin/")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill("demo12345")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/**")

    first = expected.sections[0]
    headline = page.get_by_test_id(f"headline-{first.questionnaire_id}")
    assert headline.inner_text() == f"{first.headline.estimate * 100:.1f}%".replace(".", ",")
    # The charts are images served by the app itself, and they load under the CSP: one small
    # trend per headline card.
    charts = page.locator(".card .spark img")
    assert charts.count() == sum(1 for s in expected.sections if s.trend) >= 3
    charts.first.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.card .spark img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert_accessible(page)

    # Drill down: province → Department of Health → hospital → a department.
    page.get_by_role("link", name="Sở Y tế").first.click()
    page.get_by_role("heading", level=1, name="Sở Y tế").wait_for()
    page.get_by_role("link", name="Bệnh viện Đa khoa tỉnh Khánh An").first.click()
    page.get_by_role("link", name="Khoa Nhi").first.click()
    page.get_by_role("navigation", name="Chi tiết").get_by_role("link", name="Các câu hỏi").click()
    page.get_by_role("heading", name="Các câu hỏi").first.wait_for()
    page.get_by_role("navigation", name="Vị trí").get_by_role("link", name="Tổng quan").click()
    page.get_by_role("heading", level=1, name="UBND tỉnh Khánh An").wait_for()

    def download(name):
        with page.expect_download() as info:
            page.get_by_role("link", name=name).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        return path

    rows = list(csv.reader(io.StringIO(download("Phiếu ẩn danh (CSV)").read_text("utf-8-sig"))))
    assert rows[0] == queries.EXPORT_HEADER and len(rows) > 100

    wb = load_workbook(download("Bảng báo cáo (XLSX)"))
    summary = {row[0]: row for row in list(wb.worksheets[0].iter_rows(values_only=True))[2:]}
    for s in expected.sections:
        assert summary[s.title][2] == round(s.headline.estimate * 100, 1)
        assert summary[s.title][3] == round(s.headline.low * 100, 1)

    text = " ".join(p.extract_text() for p in PdfReader(download("Báo cáo in (PDF)")).pages)
    assert "UBND tỉnh Khánh An" in text
    for s in expected.sections:
        assert f"{s.headline.estimate * 100:.1f}".replace(".", ",") in text
