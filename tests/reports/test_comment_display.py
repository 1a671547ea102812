"""Comments shown in the workspace cannot reverse or paint over the page: direction controls
are removed and floods of combining marks cut, while Vietnamese in either normal form stays
as written and markup stays escaped."""
from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer
from surveyapp.seed import DEMO_PASSWORD
from surveyapp.text import neutralise_display

WIDE = {"from": (date.today() - timedelta(days=420)).isoformat(), "to": (date.today() + timedelta(days=1)).isoformat(),
        "state": "all"}
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
ZALGO = "x" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308" * 6 + "b"


def test_neutralise_display():
    assert neutralise_display("Phí \u202eđồng 000.05\u202c rất cao") == "Phí đồng 000.05 rất cao"
    assert not set(neutralise_display("x" + BIDI + "y")) & set(BIDI)
    cut = neutralise_display(ZALGO)
    assert cut == "x\u0301\u0302\u0303b"
    vietnamese = "Nhân viên nhiệt tình, thủ tục nhanh gọn"
    assert neutralise_display(vietnamese) == vietnamese
    assert neutralise_display(unicodedata.normalize("NFD", vietnamese)) == vietnamese
    assert neutralise_display(None) == ""


def test_comments_page_shows_no_direction_override_and_no_mark_flood(client, demo, auth):
    answer = db.session.scalar(sa.select(Answer).where(Answer.text.is_not(None)).order_by(Answer.id).limit(1))
    answer.text = "Lệ phí \u202e000.05 đồng\u202c <b>quá</b> cao " + ZALGO
    db.session.commit()
    assert auth.login("admin", DEMO_PASSWORD).status_code == 302
    r = client.get("/admin/reports/comments", query_string=WIDE)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Lệ phí 000.05 đồng &lt;b&gt;quá&lt;/b&gt; cao" in html
    assert not set(html) & set(BIDI)
    assert "\u0304" not in html and "x\u0301\u0302\u0303b" in html
