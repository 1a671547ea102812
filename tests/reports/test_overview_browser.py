"""The overview in a real Chromium at a laptop's 1366×768 and a tablet's 768×1024: no serious
accessibility issue, no sideways scrolling of the page, the matrix leads to the unit, the tabs
work without JavaScript. Screenshots are written to /tmp/overview-*.png to be looked at."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.i18n import percent
from surveyapp.models import Organisation
from surveyapp.reports import filters, model

from tests.conftest import assert_accessible

VIEWPORTS = {"laptop": (1366, 768), "tablet": (768, 1024)}


def _sign_in(page, url):
    page.goto(url + "/admin/")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill("demo12345")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/admin/**")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def _images_loaded(page, selector: str) -> None:
    page.wait_for_function(f"() => [...document.querySelectorAll({selector!r})]"
                           ".every(i => i.complete && i.naturalWidth > 0)")


@pytest.fixture
def province(live_server):
    from surveyapp.seed import seed_demo

    with live_server.app.app_context():
        seed_demo(seed=7, n_responses=600)
        root = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
        with live_server.app.test_request_context("/"):
            return model.build_report(root, filters.parse_filters({}))


@pytest.mark.browser
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_overview_and_drill_down_readable_and_accessible(live_server, browser, province, device):
    width, height = VIEWPORTS[device]
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        _sign_in(page, live_server.url)
        # The first screen: every headline with its number, as the report computes it.
        for s in province.headlines:
            assert page.get_by_test_id(f"headline-{s.questionnaire_id}").inner_text() == percent(s.headline.estimate)
        first = page.get_by_test_id(f"headline-{province.headlines[0].questionnaire_id}")
        assert first.bounding_box()["y"] < height
        _images_loaded(page, ".card .spark img")
        _no_sideways_scroll(page)
        assert_accessible(page)
        page.screenshot(path=f"/tmp/overview-{device}.png", full_page=True)

        # A unit below target: its cell says so in words and leads to the unit.
        s, u = next((s, u) for s in province.headlines for u in s.units if u.verdict.status == "not_met")
        cell = page.locator(f'tr[data-unit="{u.kind}-{u.key}"] td[data-section="{s.questionnaire_id}"]')
        assert "Không đạt" in cell.inner_text()
        cell.get_by_role("link").click()
        page.get_by_role("heading", level=1, name=u.label).wait_for()
        _no_sideways_scroll(page)
        assert_accessible(page)

        # Its monthly trend behind a tab: a chart and the table of its numbers.
        page.get_by_role("navigation", name="Chi tiết").get_by_role("link", name="Theo tháng").click()
        page.locator("figure.chart img").wait_for()
        _images_loaded(page, "figure.chart img")
        assert page.get_by_test_id("chart-data-trend").locator("tbody tr").count() >= 2
        _no_sideways_scroll(page)
        assert_accessible(page)
        page.screenshot(path=f"/tmp/overview-{device}-trend.png", full_page=True)
    finally:
        ctx.close()


@pytest.mark.browser
def test_tabs_work_without_javascript(live_server, browser, province):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        _sign_in(page, live_server.url)
        tabs = page.get_by_role("navigation", name="Chi tiết")
        tabs.get_by_role("link", name="Biểu đồ phễu").click()
        assert tabs.get_by_role("link", name="Biểu đồ phễu").get_attribute("aria-current") == "page"
        funnel = page.get_by_test_id("chart-data-funnel")
        quick = next(s for s in province.headlines if s.group == "quick")
        assert funnel.locator("tbody tr").count() == len([u for u in quick.units if u.estimate.defined])
        page.get_by_role("navigation", name="Bộ câu hỏi").get_by_role("link", name=province.headlines[1].title).click()
        assert page.get_by_role("heading", level=2).first.inner_text().startswith(province.headlines[1].title)
        page.screenshot(path="/tmp/overview-funnel-nojs.png", full_page=True)
    finally:
        ctx.close()
