"""Stored comments get their themes once, and the counts per theme and the top reasons for
dissatisfaction read them (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, CommentLabel, CommentTheme, Organisation
from surveyapp.themes import THEMES
from surveyapp.themes.store import labels_of, theme_counts, theme_pending, top_complaint_themes, with_theme
from tests.admin.admin_helpers import add_response, make_side

COMMENTS_A = [
    "1 chờ lâu quá, cán bộ cáu gắt",
    "2 cho doi lau, phi cao",
    "3 phải chờ hơn 2 tiếng",
    "4 nhân viên thân thiện, nhanh gọn",
    "5 nên có thêm ghế ngồi",
]


def world(standard):
    province = Organisation(code="T", name="Tỉnh", sector="administrative")
    db.session.add(province)
    a = make_side(province, "XA", "Xã A", standard)
    b = make_side(province, "XB", "Xã B", standard)
    db.session.commit()
    for text in COMMENTS_A:
        add_response(a, text)
    add_response(b, "bi doi tien boi duong")
    return a, b


def test_theme_pending_classifies_each_comment_once(app, standard):
    a, b = world(standard)
    assert theme_pending(limit=4) == 4  # oldest first, at most the limit
    assert theme_pending(limit=100) == 2
    assert theme_pending(limit=100) == 0  # nothing classified twice
    comments = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(Answer.text.is_not(None)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentLabel)) == comments == 6

    counts = theme_counts(service_point_ids=[a.sp.id])
    assert list(counts) == list(THEMES)
    assert counts["waiting"] == 4 and counts["attitude"] == 2 and counts["fees"] == 1 and counts["harassment"] == 0
    assert theme_counts(service_point_ids=[b.sp.id])["harassment"] == 1
    assert theme_counts(service_point_ids=[a.sp.id], polarity="praise")["waiting"] == 1
    assert theme_counts(service_point_ids=[a.sp.id], start=datetime(2026, 4, 1))["waiting"] == 0

    assert top_complaint_themes([a.sp.id]) == [("waiting", 3), ("attitude", 1), ("fees", 1)]
    assert top_complaint_themes([a.sp.id], limit=1) == [("waiting", 3)]
    assert top_complaint_themes([b.sp.id]) == [("harassment", 1)]

    harassed = db.session.scalars(sa.select(Answer.text).where(with_theme("harassment"))).all()
    assert harassed == ["bi doi tien boi duong"]
    labels = labels_of([b.comment.id])
    assert labels == {b.comment.id: {"themes": ["harassment"], "polarity": "complaint", "urgent": False}}


def test_a_deleted_answer_takes_its_themes_along(app, standard):
    a, _ = world(standard)
    theme_pending(limit=100)
    assert theme_counts(service_point_ids=[a.sp.id])["facilities"] == 1
    comment_id = a.comment.id  # the last one: "nên có thêm ghế ngồi"
    db.session.delete(a.comment)  # its response may hold a case, which keeps the response
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentTheme).where(
        CommentTheme.answer_id == comment_id)) == 0
    assert theme_counts(service_point_ids=[a.sp.id])["facilities"] == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentLabel)) == 5
