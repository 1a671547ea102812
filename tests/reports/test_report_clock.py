"""Reports count local days and months in the configured zone (surveyapp.clock), on the raw
path and through the rollups alike: no fixed offset, no server zone."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from flask import current_app

from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, Survey
from surveyapp.reports.filters import parse_filters
from surveyapp.reports.model import build_report

# 22:30 on 31 October in Hanoi, 00:30 on 1 November in Tokyo; then 00:30 and 02:30 on 1 November.
INSTANTS = [datetime(2026, 10, 31, 15, 30), datetime(2026, 10, 31, 17, 30)]


def quick_ratings(standard) -> Organisation:
    o = Organisation(code="XA", name="Xã Thử", sector="administrative")
    sp = ServicePoint(organisation=o, name="Quầy 1")
    survey = Survey(questionnaire=standard["quick-rating"], organisation=o, name="Nhanh", starts_on=date(2026, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    db.session.add_all([o, sp, survey])
    db.session.flush()
    q = next(x for x in survey.questionnaire.questions if x.code == "rating")
    opt = next(x for x in q.options if x.value == 4)
    for when in INSTANTS:
        r = Response(survey=survey, service_point=sp, channel="kiosk", idempotency_key=uuid.uuid4().hex,
                     submitted_at=when)
        db.session.add(r)
        db.session.flush()
        db.session.add(Answer(response=r, question_id=q.id, option_id=opt.id, value=4, satisfied=1,
                              service_point_id=sp.id, submitted_at=when))
    db.session.commit()
    return o


@pytest.mark.parametrize("zone,october,november", [("Asia/Ho_Chi_Minh", 1, 1), ("Asia/Tokyo", 0, 2)])
@pytest.mark.parametrize("rollups", [False, True])
def test_local_months_and_days_follow_the_configured_zone(make_app, zone, october, november, rollups):
    app = make_app(BABEL_DEFAULT_TIMEZONE=zone)
    with app.app_context():
        from surveyapp.seed import seed_standard

        standard = seed_standard()
        db.session.commit()
        root = quick_ratings(standard)
        with current_app.test_request_context("/"):
            year = build_report(root, parse_filters({"from": "2026-10-01", "to": "2026-11-30"}), rollups=rollups)
            trend = {r.label: r.estimate.n for r in year.sections[0].trend}
            assert trend.get("2026-10", 0) == october and trend.get("2026-11", 0) == november
            first_day = build_report(root, parse_filters({"from": "2026-11-01", "to": "2026-11-01"}), rollups=rollups)
            assert first_day.sections[0].headline.n == november
