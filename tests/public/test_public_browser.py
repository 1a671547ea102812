"""The public page in a real headless Chromium, with JavaScript off: readable, accessible, looked at."""
from __future__ import annotations

from tests.conftest import assert_accessible
from public_helpers import seed_province
from surveyapp.public.service import publish
from surveyapp.extensions import db


def test_public_page_without_javascript_is_accessible(live_server, browser):
    from surveyapp.seed import seed_standard

    with live_server.app.app_context():
        standard = seed_standard()
        db.session.commit()
        province = seed_province(standard)
        publish(province.a, None)
        db.session.commit()
        code = province.a.code
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.goto(f"{live_server.url}/p/{code}")
        assert page.locator("h1").inner_text() == "xã An Bình"
        assert page.get_by_text("Chưa đủ phiếu").count() >= 1
        page.screenshot(path="/tmp/public_page.png", full_page=True)
        page.get_by_role("link", name="English").click()
        assert page.get_by_text("Not enough responses").count() >= 1
    finally:
        ctx.close()
    # axe needs scripts to run in the page: the same page, JavaScript on.
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.goto(f"{live_server.url}/p/{code}")
        assert_accessible(page)
        page.screenshot(path="/tmp/public_page_phone.png", full_page=True)
        page.goto(f"{live_server.url}/p/{code}/card")
        assert_accessible(page)
    finally:
        ctx.close()
