"""Retention of personal data: contacts erased after N days or when their case closes, old
comments masked, old raw responses reduced to rollups with every report's numbers unchanged."""
from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from surveyapp import clock
from surveyapp.extensions import db
from surveyapp.jobs import BY_NAME
from surveyapp.models import Answer, Case, Question, Response
from surveyapp.reports import filters, model
from surveyapp.retention import apply_retention


def report_numbers(f, rollups=None):
    with current_app.test_request_context("/"):
        return _plain(model.build_report(None, f, with_items=True, rollups=rollups).to_dict())


def _plain(obj):
    """The report as nested plain values (dataclasses walked), timings left out."""
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return {k: _plain(v) for k, v in vars(obj).items() if k != "computed_in"}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items() if k != "computed_in"}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return "nan"
    if isinstance(obj, float):
        return round(obj, 6)
    return obj if isinstance(obj, (int, str, bool, type(None))) else repr(obj)


def comments():
    return db.session.scalars(sa.select(Answer).join(Question).where(Question.type == "text",
                                                                     Answer.text.is_not(None)).order_by(Answer.id)).all()


def test_retention_keeps_every_report_number_and_erases_what_is_due(app_context, demo):
    current_app.config["RETENTION_RAW_YEARS"] = 1
    responses = db.session.scalars(sa.select(Response).order_by(Response.submitted_at)).all()
    oldest, newest = responses[0], responses[-1]
    oldest.contact, oldest.contact_consent = "an@example.vn", True
    newest.contact, newest.contact_consent = "0912 345 678", True
    old_comment = comments()[0]
    old_comment.text = "Gọi cho tôi: 0912345678"
    db.session.commit()
    oldest_id, newest_id = oldest.id, newest.id

    f = filters.Filters(date_from=clock.today() - timedelta(days=400), date_to=clock.today())
    last_year = filters.Filters(*filters.default_period())
    # From the raw answers, so that no rollup exists before the retention run.
    before = [report_numbers(f, rollups=False), report_numbers(last_year, rollups=False)]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response))

    # A day later: only the contact older than the 90 days goes, comments within 12 months stay.
    done = apply_retention(clock.now_utc() + timedelta(days=1))
    assert done["contacts_erased"] == 1 and done["responses_deleted"] == 0
    db.session.expire_all()
    assert db.session.get(Response, oldest.id).contact is None
    assert db.session.get(Response, newest.id).contact == "0912 345 678"

    # Over a year on: old comments masked, raw responses of the complete months a year old gone.
    done = apply_retention(clock.now_utc() + timedelta(days=366))
    db.session.expire_all()
    assert done["contacts_erased"] == 1 and done["comments_masked"] >= 1
    assert 0 < done["responses_deleted"] < total
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == total - done["responses_deleted"]
    assert db.session.get(Response, oldest_id) is None
    assert db.session.get(Response, newest_id).contact is None
    assert [report_numbers(f), report_numbers(last_year)] == before
    # A second run finds nothing more to do.
    assert apply_retention(clock.now_utc() + timedelta(days=366))["responses_deleted"] == 0


def test_old_comments_keep_only_their_masked_text(app_context, demo):
    comment = comments()[0]
    comment.text = "Liên hệ an@example.vn hoặc 0912 345 678, rất chậm"
    db.session.commit()
    apply_retention(clock.now_utc() + timedelta(days=31 * 13))
    db.session.expire_all()
    assert db.session.get(Answer, comment.id).text == "Liên hệ [email] hoặc [số điện thoại], rất chậm"


def test_raw_responses_are_kept_by_default(app_context, demo):
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    assert apply_retention(clock.now_utc() + timedelta(days=3650))["responses_deleted"] == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == total


def test_contact_goes_when_its_case_is_closed(app_context, demo):
    response = db.session.scalars(sa.select(Response).order_by(Response.submitted_at.desc())).first()
    response.contact, response.contact_consent = "binh@example.vn", True
    now = clock.now_utc()
    case = Case(response_id=response.id, service_point_id=response.service_point_id, deadline_days=5, due_at=now,
                state="resolved", resolution="Đã trả lời", resolved_at=now)
    db.session.add(case)
    db.session.commit()
    assert apply_retention()["contacts_erased"] == 0
    case.state, case.closed_at = "closed", now
    db.session.commit()
    assert apply_retention()["contacts_erased"] == 1
    db.session.expire_all()
    assert db.session.get(Response, response.id).contact is None


def test_retention_is_a_daily_worker_job(app_context):
    job = BY_NAME["retention"]
    assert "cron" in str(job.trigger()).lower()
