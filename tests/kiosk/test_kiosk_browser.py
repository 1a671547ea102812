"""The kiosk in a real headless Chromium: enrolment, one-tap rating, reset, debounce,
offline queue across a reload, sync exactly once, revoked device."""
from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa
from kiosk_helpers import assert_accessible, make_kiosk
from playwright.sync_api import expect

from surveyapp.extensions import db
from surveyapp.kiosk import devices
from surveyapp.models import Answer, KioskDevice, Option, Question, Response
from surveyapp.seed import seed_standard

pytestmark = pytest.mark.browser

LABELS = {4: "Rất hài lòng", 3: "Hài lòng", 2: "Chưa hài lòng", 1: "Không hài lòng"}
REASONS = {"waiting_time": "Thời gian chờ đợi", "attitude": "Thái độ phục vụ", "procedure": "Thủ tục",
           "facilities": "Cơ sở vật chất", "other": "Lý do khác"}


@pytest.fixture
def tablet(browser):
    """A landscape tablet in Vietnamese, as at the counter."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", has_touch=True)
    yield ctx
    ctx.close()


def new_kiosk(server, **config):
    """A service point with an open kiosk survey and a device waiting for its code."""
    server.app.config.update(config)
    with server.app.app_context():
        kiosk = make_kiosk(seed_standard())
        code = devices.new_enrolment_code(kiosk.device)
        db.session.commit()
        return {"device_id": kiosk.device.id, "sp_id": kiosk.sp.id, "survey_id": kiosk.survey.id}, code


def stored(server, device_id):
    """(value, reason code) of every stored rating of the device, with its service point."""
    with server.app.app_context():
        rows = db.session.execute(
            sa.select(Response.id, Response.service_point_id, Response.channel, Question.code, Answer.value, Option.code)
            .join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .join(Option, Option.id == Answer.option_id)
            .where(Response.kiosk_device_id == device_id)
        ).all()
        db.session.remove()
    out: dict[int, dict] = {}
    for rid, sp_id, channel, qcode, value, ocode in rows:
        r = out.setdefault(rid, {"sp": sp_id, "channel": channel, "value": None, "reason": None})
        if qcode == "rating":
            r["value"] = value
        else:
            r["reason"] = ocode
    return list(out.values())


def wait_for(predicate, timeout=20.0):
    """Poll ``predicate`` until it holds, up to ``timeout`` seconds; returns its value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def enrol(page, server, code):
    page.goto(server.url + "/kiosk/")
    page.wait_for_url("**/kiosk/enroll")  # no token yet: sent to enrolment
    page.fill("#code", code.lower())
    page.click("button[type=submit]")
    page.wait_for_url("**/kiosk/")
    page.wait_for_selector("#kiosk-root[data-ready='1']")


# evaluate() rather than wait_for_function(): the page's CSP forbids the eval the latter polls with.
WAIT_FOR_WORKER_JS = """async () => { await navigator.serviceWorker.ready;
  while (!navigator.serviceWorker.controller) { await new Promise((r) => setTimeout(r, 50)); } }"""


def queue_length(page) -> int:
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open("surveyapp-kiosk", 2);
        req.onsuccess = () => { const c = req.result.transaction("ratings").objectStore("ratings").count();
                                c.onsuccess = () => resolve(c.result); c.onerror = reject; };
        req.onerror = reject; })""")


def tap(page, value, reason=None):
    page.get_by_role("button", name=LABELS[value], exact=True).click()
    if value <= 2:
        page.wait_for_selector("#screen-reason:not([hidden])")
        if reason:
            page.get_by_role("button", name=REASONS[reason]).click()
        else:
            page.get_by_role("button", name="Bỏ qua").click()
    page.wait_for_selector("#screen-thanks:not([hidden])")


def test_enrol_rate_reset_debounce_and_language(live_server, tablet):
    ids, code = new_kiosk(live_server, KIOSK_THANKS_MS=1200, KIOSK_DEBOUNCE_MS=1500, KIOSK_SYNC_MS=1000)
    page = tablet.new_page()
    page.set_default_timeout(10_000)
    page.clock.install()  # the tablet's clock runs on, and the test moves it past the debounce window
    enrol(page, live_server, code)
    assert page.get_by_role("heading", name="Ông/Bà có hài lòng với sự phục vụ hôm nay không?").is_visible()
    # Shown from the enrolment answer itself, with no wait for the first heartbeat.
    assert page.locator("#place").inner_text() == "Quầy 1"
    assert_accessible(page)

    started = time.monotonic()
    tap(page, 4)
    assert page.get_by_role("heading", name="Cảm ơn Ông/Bà đã đánh giá!").is_visible()
    page.wait_for_selector("#screen-start:not([hidden])")  # back to the start on its own
    assert time.monotonic() - started < 5

    # A second tap right after the first is one rating, even if it lands on the start screen.
    page.clock.fast_forward(1600)
    page.get_by_role("button", name=LABELS[3], exact=True).click()
    page.click("#screen-thanks")
    page.get_by_role("button", name=LABELS[3], exact=True).click()
    page.clock.fast_forward(1600)
    tap(page, 1, "attitude")
    assert_accessible(page)

    # Everything the tablet holds has been sent once its queue is empty: then count what arrived.
    wait_for(lambda: len(stored(live_server, ids["device_id"])) >= 3)
    wait_for(lambda: queue_length(page) == 0)
    got = stored(live_server, ids["device_id"])
    assert sorted((r["value"], r["reason"]) for r in got) == [(1, "attitude"), (3, None), (4, None)]
    assert {(r["sp"], r["channel"]) for r in got} == {(ids["sp_id"], "kiosk")}

    # The language switch sits on the start screen and is remembered.
    page.wait_for_selector("#screen-start:not([hidden])")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Are you satisfied with the service you received today?")).to_be_visible()
    page.reload()
    page.wait_for_selector("#kiosk-root[data-ready='1']")
    assert page.get_by_role("button", name="Very satisfied").is_visible()
    assert page.evaluate("document.documentElement.lang") == "en"


def test_offline_ratings_survive_a_reload_and_sync_exactly_once(live_server, tablet):
    # No debounce window: each tap waits for the start screen, and the debounce has its own test.
    ids, code = new_kiosk(live_server, KIOSK_THANKS_MS=5000, KIOSK_DEBOUNCE_MS=0, KIOSK_SYNC_MS=1000,
                          KIOSK_BURST_MAX=1000)
    page = tablet.new_page()
    page.set_default_timeout(10_000)
    enrol(page, live_server, code)
    page.evaluate(WAIT_FOR_WORKER_JS)
    wait_for(lambda: page.evaluate("caches.keys().then(k => k.length)") > 0)

    tablet.set_offline(True)
    plan = [(4, None), (3, None), (2, "waiting_time"), (1, None), (4, None)] * 4  # 20 taps
    for value, reason in plan:
        tap(page, value, reason)
        page.click("#screen-thanks")
        page.wait_for_selector("#screen-start:not([hidden])")
    assert queue_length(page) == 20

    page.reload()  # no network: the service worker serves the page and its assets
    page.wait_for_selector("#kiosk-root[data-ready='1']")
    tap(page, 2, "facilities")
    plan.append((2, "facilities"))
    assert queue_length(page) == 21
    assert stored(live_server, ids["device_id"]) == []

    tablet.set_offline(False)
    wait_for(lambda: queue_length(page) == 0, timeout=30)
    got = stored(live_server, ids["device_id"])
    assert len(got) == 21
    assert Counter((r["value"], r["reason"]) for r in got) == Counter(plan)
    assert {(r["sp"], r["channel"]) for r in got} == {(ids["sp_id"], "kiosk")}
    with live_server.app.app_context():
        device = db.session.get(KioskDevice, ids["device_id"])
        assert device.app_version == "1.0.0" and device.last_seen_at is not None
        # The tablet's tap times were kept, all before the server received them.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            Response.kiosk_device_id == ids["device_id"], Response.client_created_at < Response.submitted_at)) == 21
        db.session.remove()


def test_idle_follow_up_returns_to_start_and_revoked_tablet_shows_disabled(live_server, tablet):
    ids, code = new_kiosk(live_server, KIOSK_IDLE_MS=1500, KIOSK_SYNC_MS=500)
    page = tablet.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/kiosk/enroll")
    assert_accessible(page)
    enrol(page, live_server, code)

    # A citizen who walks away from the follow-up question: back to the start, rating kept.
    page.get_by_role("button", name=LABELS[2], exact=True).click()
    page.wait_for_selector("#screen-reason:not([hidden])")
    page.wait_for_selector("#screen-start:not([hidden])", timeout=5000)
    assert wait_for(lambda: stored(live_server, ids["device_id"])) == [
        {"sp": ids["sp_id"], "channel": "kiosk", "value": 2, "reason": None}]

    with live_server.app.app_context():
        devices.revoke_device(db.session.get(KioskDevice, ids["device_id"]))
        db.session.commit()
        db.session.remove()
    page.reload()
    page.wait_for_selector("#screen-disabled:not([hidden])")
    expect(page.get_by_role("heading", name="Thiết bị đã bị vô hiệu hóa")).to_be_visible()
    assert page.get_by_role("button", name=LABELS[4], exact=True).is_hidden()
