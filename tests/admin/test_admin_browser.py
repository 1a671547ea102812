"""In a real headless Chromium: sign in, create a unit, a service point and a survey, print the poster."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from admin_helpers import PASSWORD, cheap_hash
from surveyapp.extensions import db
from surveyapp.models import Organisation, ServicePoint, Survey, User
from tests.conftest import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def province(live_server):
    """The standard questionnaires, a province and its administrator on the live server's database."""
    from surveyapp.seed import seed_standard

    with live_server.app.app_context():
        seed_standard()
        db.session.add(Organisation(code="KA", name="UBND tỉnh Khánh An", sector="administrative"))
        db.session.add(User(username="quantri", role="admin", password_hash=cheap_hash()))
        db.session.commit()
    return live_server


def test_sign_in_create_unit_service_point_survey_and_print_poster(province, page):
    base = province.url
    page.goto(base + "/admin/organisations")
    assert "/login" in page.url
    assert_accessible(page)
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#login-error")).to_be_visible()  # waits for the answer to the POST
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/admin/organisations")

    # A new unit under the province.
    page.goto(base + "/admin/organisations/new")
    assert_accessible(page)
    page.get_by_role("button", name="Lưu").click()  # empty: errors next to the fields
    expect(page.locator("#name-error")).to_have_text("Vui lòng điền mục này.")
    page.get_by_label("Mã đơn vị").fill("KA-XUANLOC")
    page.get_by_label("Tên đơn vị", exact=True).fill("UBND xã Xuân Lộc")
    page.get_by_label("Đơn vị cấp trên").select_option(label="UBND tỉnh Khánh An (KA)")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(base + "/admin/organisations")
    expect(page.get_by_role("rowheader", name="UBND xã Xuân Lộc")).to_be_visible()

    # Its service point, from the unit's row.
    page.get_by_role("row", name="UBND xã Xuân Lộc").get_by_role("link", name="Thêm điểm phục vụ").click()
    page.get_by_label("Tên điểm phục vụ").fill("Bộ phận Một cửa xã Xuân Lộc")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/admin/service-points?org=*")

    # A survey of the quick rating on that service point, by QR and kiosk.
    page.goto(base + "/admin/surveys/new")
    assert_accessible(page)
    page.get_by_label("Tên đợt khảo sát").fill("Đánh giá nhanh xã Xuân Lộc 2026")
    page.get_by_label("Đơn vị tổ chức").select_option(label="— UBND xã Xuân Lộc (KA-XUANLOC)")
    page.get_by_label("Phiếu khảo sát (phiên bản)").select_option(label="Đánh giá nhanh tại quầy – phiên bản 1")
    page.get_by_label("Bộ phận Một cửa xã Xuân Lộc – UBND xã Xuân Lộc").check()
    page.get_by_label("Máy đánh giá tại quầy").check()
    page.get_by_label("Trạng thái").select_option("open")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(base + "/admin/surveys")
    expect(page.get_by_role("rowheader", name="Đánh giá nhanh xã Xuân Lộc 2026")).to_be_visible()

    with province.app.app_context():
        survey = db.session.scalar(sa.select(Survey).where(Survey.name == "Đánh giá nhanh xã Xuân Lộc 2026"))
        sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name == "Bộ phận Một cửa xã Xuân Lộc"))
        assert survey.status == "open" and survey.channel_qr and survey.channel_kiosk
        assert [p.id for p in survey.service_points] == [sp.id]
        code = sp.code

    # The poster: open it from the list, then print it to PDF as the browser would.
    page.goto(base + "/admin/service-points")
    page.get_by_role("row", name="Bộ phận Một cửa xã Xuân Lộc").get_by_role("link", name="Áp phích QR").click()
    page.wait_for_url(f"**/admin/service-points/{sp.id}/poster")
    assert page.locator(".poster svg").count() == 1
    assert f"/s/{code}" in page.locator(".url").inner_text()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")

    # Sign out: the workspace asks for sign-in again.
    page.goto(base + "/admin/surveys")
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_url("**/login")
    page.goto(base + "/admin/surveys")
    assert "/login" in page.url
