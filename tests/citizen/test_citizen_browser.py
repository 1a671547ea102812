"""The real path in a real browser: the poster's QR code decoded with zbar, a phone-sized
Chromium, answers in Vietnamese and English, errors, receipt QR codes, and no JavaScript."""
from __future__ import annotations

import io
import re
import urllib.request

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect
from pyzbar.pyzbar import decode

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.qr import issue_dossier_token
from surveyapp.seed import seed_standard
from tests.conftest import assert_accessible

from .conftest import answers_by_code, build_place

pytestmark = pytest.mark.browser


@pytest.fixture
def site(citizen_server):
    with citizen_server.app.app_context():
        place = build_place(seed_standard())
        codes = {"counter": place.counter.code, "desk": place.desk.code, "sipas": place.sipas.id,
                 "quick": place.quick.id}
    return citizen_server, codes


def stored(server) -> list[dict]:
    with server.app.app_context():
        rows = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
        return [{"survey_id": r.survey_id, "language": r.language, "flag": r.flag, "dossier": r.dossier_hash,
                 "answers": {c: (a.option.code if a.option else a.value if a.value is not None else a.text)
                             for c, a in answers_by_code(r).items()}} for r in rows]


def scan_poster(server, code: str) -> str:
    """What a phone camera reads from the printed QR code."""
    with urllib.request.urlopen(f"{server.url}/s/{code}/qr.png") as resp:
        symbols = decode(Image.open(io.BytesIO(resp.read())))
    assert len(symbols) == 1 and symbols[0].type == "QRCODE"
    return symbols[0].data.decode()


def group(page, question: str):
    return page.get_by_role("group", name=question)  # substring of the legend


def test_vietnamese_path_from_poster_to_one_stored_response(site, page):
    server, codes = site
    url = scan_poster(server, codes["counter"])
    assert url == f"{server.url}/s/{codes['counter']}"
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Khảo sát sự hài lòng về dịch vụ hành chính công")
    assert_accessible(page)
    group(page, "Nơi ngồi chờ có đủ chỗ ngồi").get_by_role("radio", name="Rất hài lòng").check()
    group(page, "Trang thiết bị phục vụ").get_by_role("radio", name="Không hài lòng", exact=True).check()
    group(page, "Nhìn chung").get_by_role("radio", name="Hài lòng", exact=True).check()
    page.get_by_label(re.compile("Ông/Bà có góp ý gì thêm")).fill("Cần thêm ghế. Số tôi 0987654321")
    expect(page.locator("#progress-text")).to_have_text("Đã trả lời 4/22 câu hỏi")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn Ông/Bà!")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn Ông/Bà!")
    [resp] = stored(server)
    assert resp["survey_id"] == codes["sipas"] and resp["language"] == "vi" and resp["flag"] is None
    assert resp["answers"] == {"access_a1": "v5", "access_a2": "v2", "overall": "v4",
                               "comment": "Cần thêm ghế. Số tôi [số điện thoại]"}


def test_english_path(site, page):
    server, codes = site
    page.goto(scan_poster(server, codes["counter"]))
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Satisfaction with administrative services")
    group(page, "The waiting area has enough seats").get_by_role("radio", name="No opinion / Not applicable").check()
    group(page, "Overall, how satisfied").get_by_role("radio", name="Very satisfied").check()
    group(page, "Your age").get_by_role("radio", name="60 and over").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you!")
    [resp] = stored(server)
    assert resp["language"] == "en"
    assert resp["answers"] == {"access_a1": "na", "overall": "v5", "age_band": "60p"}


def test_invalid_submission_shows_errors_and_stores_nothing(site, page):
    server, codes = site
    page.goto(f"{server.url}/s/{codes['desk']}")
    reason = group(page, "Ông/Bà chưa hài lòng về điều gì?")
    expect(reason).to_be_hidden()  # asked only after a low rating
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("alert")).to_contain_text("Vui lòng kiểm tra lại các câu trả lời dưới đây")
    rating = group(page, "Ông/Bà có hài lòng với sự phục vụ hôm nay không?")
    expect(rating).to_have_attribute("aria-describedby", "err-rating")
    expect(page.locator("#err-rating")).to_have_text("Vui lòng trả lời câu hỏi này.")
    assert_accessible(page)
    assert stored(server) == []
    rating.get_by_role("radio", name="Chưa hài lòng").check()
    expect(reason).to_be_visible()
    reason.get_by_role("radio", name="Thủ tục").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn Ông/Bà!")
    assert [r["answers"] for r in stored(server)] == [{"rating": "v2", "reason": "procedure"}]


def test_receipt_qr_rates_a_dossier_once(site, page):
    server, codes = site
    with server.app.test_request_context(base_url=server.url):
        from surveyapp.models import ServicePoint

        sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.code == codes["counter"]))
        token = issue_dossier_token(sp, "000.00.12.H33-261121-0042")
    url = f"{server.url}/s/{codes['counter']}?d={token}"
    page.goto(url)
    page.get_by_role("radio", name="Rất hài lòng").check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn Ông/Bà!")
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hồ sơ này đã được đánh giá")
    assert_accessible(page)
    [resp] = stored(server)
    assert resp["survey_id"] == codes["quick"] and resp["dossier"] and resp["answers"] == {"rating": "v4"}


def test_without_javascript(site, browser):
    server, codes = site
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640}, locale="vi-VN",
                              is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/s/{codes['desk']}")
        reason = group(page, "Ông/Bà chưa hài lòng về điều gì?")
        expect(reason).to_be_visible()  # shown always, marked optional
        expect(reason).to_contain_text("không bắt buộc")
        group(page, "Ông/Bà có hài lòng").get_by_role("radio", name="Không hài lòng", exact=True).check()
        reason.get_by_role("radio", name="Thời gian chờ đợi").check()
        page.get_by_role("button", name="Gửi đánh giá").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn Ông/Bà!")
        assert [r["answers"] for r in stored(server)] == [{"rating": "v1", "reason": "waiting_time"}]
    finally:
        ctx.close()


@pytest.mark.parametrize("paper,width_mm", [("A4", 210), ("A5", 148)])
def test_poster_print_view_prints_one_scannable_poster_per_page(site, page, paper, width_mm):
    from pypdf import PdfReader

    from surveyapp.models import ServicePoint
    from surveyapp.qr import render_posters

    server, codes = site
    with server.app.test_request_context(base_url=server.url):
        points = list(db.session.scalars(sa.select(ServicePoint).order_by(ServicePoint.code)))
        html = render_posters(points, paper)
    page.goto(f"{server.url}/s/{codes['counter']}/cam-on")  # same origin for the stylesheet
    page.set_content(html, wait_until="load")
    assert_accessible(page)
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    assert len(pdf.pages) == len(points) == 2
    assert round(float(pdf.pages[0].mediabox.width) / 72 * 25.4) == width_mm
    page.set_viewport_size({"width": 800, "height": 1200})
    shot = Image.open(io.BytesIO(page.locator(".poster").first.locator(".qr").screenshot()))
    assert [s.data.decode() for s in decode(shot)] == [f"{server.url}/s/{points[0].code}"]
