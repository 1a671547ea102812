"""In a real headless Chromium: a manager finds an overdue case in the list, reads it, resolves
it with what was done, and the pages pass the accessibility checks."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from case_helpers import PASSWORD, Commune, add_response, local, make_user
from surveyapp.cases import open_cases_for_new_responses
from surveyapp.extensions import db
from surveyapp.models import Case, Organisation, ServicePoint, Survey
from tests.conftest import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def overdue_case(live_server):
    from surveyapp.seed import seed_standard

    with live_server.app.app_context():
        q = seed_standard()["sipas-admin"]
        org = Organisation(code="XA", name="UBND xã Xuân Lộc", sector="administrative")
        sp = ServicePoint(organisation=org, name="Bộ phận Một cửa xã Xuân Lộc")
        survey = Survey(questionnaire=q, organisation=org, name="Khảo sát 2026", starts_on=date(2026, 1, 1),
                        status="open", service_points=[sp])
        manager = make_user("ql-xuanloc", "manager", org)
        db.session.add_all([org, sp, survey])
        db.session.commit()
        add_response(Commune(org, sp, survey, manager, manager), rating=1, comment="Chờ hai tiếng mới đến lượt.",
                     at=local(2026, 4, 29, 10))
        open_cases_for_new_responses()
        case_id = db.session.scalar(db.select(Case.id))
    return live_server, case_id


def test_a_manager_finds_an_overdue_case_and_resolves_it(overdue_case, page):
    server, case_id = overdue_case
    base = server.url
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill("ql-xuanloc")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/admin/**")

    page.goto(base + "/admin/cases")
    row = page.get_by_role("row", name=f"#{case_id}")
    expect(row).to_have_class("overdue")
    expect(row).to_contain_text("Quá hạn")
    expect(row).to_contain_text("08/05/2026")  # 5 working days after 29/4: 4-8 May
    assert_accessible(page)

    row.get_by_role("link", name=f"#{case_id}").click()
    page.wait_for_url(f"{base}/admin/cases/{case_id}")
    expect(page.get_by_text("Chờ hai tiếng mới đến lượt.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Tiếp nhận").click()
    expect(page.get_by_text("Hồ sơ đã chuyển sang “Đã tiếp nhận”.")).to_be_visible()
    page.get_by_label("Đã xử lý như thế nào (gửi cho người dân)").fill("Đã bố trí thêm một quầy vào giờ cao điểm.")
    page.get_by_role("button", name="Đã xử lý xong").click()
    expect(page.get_by_text("Hồ sơ đã chuyển sang “Đã xử lý”.")).to_be_visible()
    expect(page.get_by_text("Xử lý trễ hạn")).to_be_visible()

    page.goto(base + "/admin/cases?state=resolved")
    expect(page.get_by_role("row", name=f"#{case_id}")).not_to_have_class("overdue")
