"""In a real headless Chromium, as a province's manager: download a template, upload a file with
bad rows, read the errors in the table, fix it, confirm, and find the units in the tree."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from admin_helpers import PASSWORD, cheap_hash
from surveyapp.extensions import db
from surveyapp.models import Organisation, User
from tests.conftest import assert_accessible

pytestmark = pytest.mark.browser

HEADER = "Mã đơn vị,Tên đơn vị,Tên tiếng Anh,Lĩnh vực,Mã đơn vị cấp trên\n"


@pytest.fixture
def province(live_server):
    with live_server.app.app_context():
        org = Organisation(code="25", name="UBND tỉnh Phú Thọ", sector="administrative")
        db.session.add(org)
        db.session.flush()
        db.session.add(User(username="ql-tinh", role="manager", organisation=org, password_hash=cheap_hash()))
        db.session.commit()
    return live_server


def test_template_dry_run_errors_then_confirm(province, page, tmp_path):
    base = province.url
    page.goto(base + "/login?next=/admin/imports")
    page.get_by_label("Tên đăng nhập").fill("ql-tinh")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/admin/imports")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/imports_index.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    row = page.get_by_role("row", name="Cây đơn vị")
    with page.expect_download() as download:
        row.get_by_role("cell").nth(0).get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename == "mau-organisations.xlsx"
    row.get_by_role("link", name="Nhập tệp").click()
    page.wait_for_url(base + "/admin/imports/organisations")

    bad = tmp_path / "donvi.csv"
    bad.write_text(HEADER + "26734,UBND xã Tân Lập,,hành chính,25\n"
                            "4,UBND xã mất số 0,,hành chính,25\n"
                            "26735,,,hành chính,KHONG-CO\n", encoding="utf-8-sig")
    page.get_by_label("Tệp CSV hoặc XLSX").set_input_files(str(bad))
    page.get_by_role("button", name="Kiểm tra tệp (chạy thử)").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("3 lỗi trong 3 dòng; chưa lưu gì.")
    expect(alert.get_by_role("row")).to_have_count(4)
    expect(alert.get_by_role("row").nth(1)).to_contain_text("Mã toàn chữ số là mã đơn vị hành chính")
    assert_accessible(page)
    page.screenshot(path="/tmp/imports_errors.png", full_page=True)

    good = tmp_path / "donvi-sua.csv"
    good.write_text(HEADER + "26734,UBND xã Tân Lập,,hành chính,25\n26735,UBND xã Tân Phú,,hành chính,25\n",
                    encoding="utf-8-sig")
    page.get_by_label("Tệp CSV hoặc XLSX").set_input_files(str(good))
    page.get_by_role("button", name="Kiểm tra tệp (chạy thử)").click()
    expect(page.get_by_role("heading", name="2 dòng hợp lệ.")).to_be_visible()
    page.screenshot(path="/tmp/imports_confirm.png", full_page=True)
    page.get_by_role("button", name="Xác nhận nhập").click()
    expect(page.get_by_text("Đã nhập 2 dòng: 2 mới, 0 cập nhật, 0 không đổi.")).to_be_visible()
    page.goto(base + "/admin/organisations")
    expect(page.get_by_role("rowheader", name="UBND xã Tân Phú")).to_be_visible()
    with province.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 3
