"""What ``seed-demo`` adds so that a newcomer sees an alert and a digest: e-mail addresses and
preferences for the demo users, a harassment rule, and fresh answers that the rules catch."""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from ..clock import now_utc
from ..extensions import db
from ..models import AlertRule, AlertSubscription, Answer, Organisation, Response, ServicePoint, Survey, User
from . import rules

DEMO_MAIL_DOMAIN = "khanhan.example"


def _response(survey: Survey, sp: ServicePoint, at, answers: list[dict]) -> None:
    r = Response(survey_id=survey.id, service_point_id=sp.id, channel="kiosk" if survey.channel_kiosk else "qr",
                 submitted_at=at, idempotency_key=uuid.uuid4().hex, contact_consent=False)
    for a in answers:
        r.answers.append(Answer(service_point_id=sp.id, submitted_at=at, **a))
    db.session.add(r)


def seed_alert_demo() -> None:
    """Call after the demo province exists (idempotent enough for a fresh demo database)."""
    now = now_utc()
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    for username, freq in (("admin", "week"), ("tanphu", "day"), ("benhvien", "none")):
        if username in users:
            users[username].email = f"{username}@{DEMO_MAIL_DOMAIN}"
            users[username].digest_frequency = freq
    province = db.session.scalar(sa.select(Organisation).where(Organisation.code == "KA"))
    rules.ensure_default_rules()
    burst = db.session.scalar(sa.select(AlertRule).where(AlertRule.organisation_id == province.id,
                                                         AlertRule.kind == "dissatisfied_burst"))
    harassment = AlertRule(organisation_id=province.id, kind="harassment",
                           params=dict(rules.DEFAULT_PARAMS["harassment"]))
    db.session.add(harassment)
    db.session.flush()
    if "admin" in users:  # the system administrator is not a manager: opted in for the demo
        for rule in (burst, harassment):
            db.session.add(AlertSubscription(user_id=users["admin"].id, rule_id=rule.id, subscribed=True))

    desk = db.session.scalar(sa.select(ServicePoint).join(Organisation).where(Organisation.code == "KA-TANPHU"))
    quick = db.session.scalar(sa.select(Survey).where(Survey.channel_kiosk, Survey.service_points.contains(desk)))
    rating = next(q for q in quick.questionnaire.questions if q.code == "rating")
    values = {o.value: o for o in rating.options}
    for minutes, value in ((25, 1), (15, 2), (5, 1)):
        _response(quick, desk, now - timedelta(minutes=minutes),
                  [dict(question_id=rating.id, option_id=values[value].id, value=value, satisfied=0)])

    counter = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name.startswith("Quầy 2")))
    full = db.session.scalar(sa.select(Survey).where(~Survey.channel_kiosk, Survey.service_points.contains(counter)))
    if full is not None:
        qs = {q.code: q for q in full.questionnaire.questions}
        overall = next(o for o in qs["overall"].options if o.value == 2)
        _response(full, counter, now - timedelta(minutes=10), [
            dict(question_id=qs["overall"].id, option_id=overall.id, value=2),
            dict(question_id=qs["comment"].id,
                 text="Can bo noi phai co tien ca phe thi ho so moi xong nhanh, goi toi 0912 345 678."),
        ])
    db.session.commit()
