"""A small province for the public page: P with communes A (published in the tests) and B (never),
each with a service point and answered quick ratings of distinctive rates, and under A a tiny
team C with fewer responses than the minimum and a team D with enough."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from auth_actions import PASSWORD
from surveyapp import clock
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Questionnaire, Response, ServicePoint, Survey, User


@dataclass
class Province:
    p: Organisation
    a: Organisation
    b: Organisation
    c: Organisation
    manager_a: User
    viewer_a: User
    manager_b: User


def _user(username: str, role: str, org: Organisation) -> User:
    from werkzeug.security import generate_password_hash

    user = User(username=username, full_name=f"Cán bộ {username}", role=role, organisation=org,
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    db.session.add(user)
    return user


def _answers(q: Questionnaire, org: Organisation, n: int, satisfied: int, day: date, key: str) -> None:
    sp = ServicePoint(organisation=org, name=f"Bộ phận Một cửa {org.name}")
    db.session.add(sp)
    db.session.flush()
    survey = Survey(questionnaire=q, organisation=org, name=f"Khảo sát {org.code}", starts_on=date(2020, 1, 1),
                    status="open", channel_qr=True, channel_kiosk=True, service_points=[sp])
    db.session.add(survey)
    db.session.flush()
    add_ratings(survey, sp, n, satisfied, day, key)


def add_ratings(survey: Survey, sp: ServicePoint, n: int, satisfied: int, day: date, key: str) -> None:
    rating = next(x for x in survey.questionnaire.questions if x.type == "rating")
    good = next(o for o in rating.options if o.is_satisfied)
    bad = next(o for o in rating.options if not o.is_satisfied and o.value is not None)
    at = clock.day_start_utc(day) + timedelta(hours=3)
    for i in range(n):
        option = good if i < satisfied else bad
        r = Response(survey=survey, service_point=sp, channel="qr", idempotency_key=f"{key}-{i}", submitted_at=at)
        db.session.add(r)
        db.session.flush()
        db.session.add(Answer(response=r, question_id=rating.id, option_id=option.id, value=option.value,
                              satisfied=int(option.is_satisfied), service_point_id=sp.id, submitted_at=at))


def last_month_day() -> date:
    return clock.today().replace(day=1) - timedelta(days=10)


def seed_province(standard) -> Province:
    q = standard["quick-rating"]
    p = Organisation(code="TINH-P", name="UBND tỉnh Thử Nghiệm", sector="administrative")
    db.session.add(p)
    db.session.flush()
    a = Organisation(code="XA-AN", name="xã An Bình", sector="administrative", parent=p)
    b = Organisation(code="XA-BAC", name="xã Bắc Sơn", sector="administrative", parent=p)
    db.session.add_all([a, b])
    db.session.flush()
    # A name a spreadsheet would run as a formula: the CSV must keep it inert.
    c = Organisation(code="TO-C", name="=Tổ 1+1", sector="administrative", parent=a)
    # A team with enough responses, hidden all the same: else A's headline minus A's other units
    # would give C's figures away.
    d = Organisation(code="TO-D", name="Tổ tiếp nhận hồ sơ", sector="administrative", parent=a)
    db.session.add_all([c, d])
    db.session.flush()
    day = last_month_day()
    _answers(q, a, 40, 37, day, "a")
    _answers(q, b, 53, 29, day, "b")
    _answers(q, c, 5, 1, day, "c")
    _answers(q, d, 35, 30, day, "d")
    # A's previous period, for the trend.
    a_sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.organisation_id == a.id))
    a_survey = db.session.scalar(sa.select(Survey).where(Survey.organisation_id == a.id))
    add_ratings(a_survey, a_sp, 40, 28, clock.today().replace(day=1) - timedelta(days=400), "a-prev")
    province = Province(p, a, b, c, _user("ql-an", "manager", a), _user("xem-an", "viewer", a),
                        _user("ql-bac", "manager", b))
    db.session.commit()
    return province
