"""Cases: what opens one (idempotently), its deadline across weekends and holidays, the moves the
rules allow, the reply to the citizen, and the on-time share of Decision 766."""
from __future__ import annotations

import logging
from datetime import date

import pytest
import sqlalchemy as sa

from surveyapp.cases import on_time_share, open_cases_for_new_responses, overdue_cases, reply_message
from surveyapp.cases import service
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Case, CaseDeadline
from surveyapp.workdays import due_on
from tests.conftest import reloaded

from case_helpers import add_response, local, the_case


def case_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


def test_a_case_becomes_overdue_across_a_weekend_and_two_public_holidays(world):
    db.session.add(CaseDeadline(organisation_id=world.a.org.id, working_days=3))
    db.session.commit()
    # Wednesday 29/4/2026; 30/4 and 1/5 are holidays, 2-3/5 a weekend: the third working day is 6/5.
    response = add_response(world.a, rating=1, comment="Cán bộ hẹn lại nhiều lần.", at=local(2026, 4, 29, 10))
    assert open_cases_for_new_responses() == 1
    case = the_case(response)
    assert (case.deadline_days, due_on(case.due_at)) == (3, date(2026, 5, 6))
    assert case.assignee_id == world.a.manager.id  # the commune's own manager
    # Counting only weekends the deadline would have passed on 4/5.
    assert overdue_cases(local(2026, 5, 5, 12)) == []
    assert overdue_cases(local(2026, 5, 6, 23, 59)) == []
    assert overdue_cases(local(2026, 5, 7, 0, 1)) == [case]
    # Resolved, it is no longer overdue.
    service.transition(case, "resolved", world.a.manager, resolution="Đã nhắc nhở cán bộ.")
    db.session.commit()
    assert overdue_cases(local(2026, 5, 8)) == []


def test_the_deadline_is_inherited_from_the_nearest_ancestor_else_the_default(world, app):
    assert service.deadline_days(world.a.org) == app.config["CASE_DEADLINE_WORKING_DAYS"] == 5
    service.set_deadline(world.province, 10, world.admin)
    service.set_deadline(world.b.org, 2, world.admin)
    db.session.commit()
    assert (service.deadline_days(world.a.org), service.deadline_days(world.b.org)) == (10, 2)
    with pytest.raises(service.CaseError):
        service.set_deadline(world.a.org, 0, world.admin)


def test_opening_cases_is_idempotent_and_follows_the_rule(world):
    complaint = add_response(world.a, rating=2, comment="Nhà vệ sinh bẩn.")
    neutral = add_response(world.a, rating=3, comment="Bình thường.")
    no_comment = add_response(world.a, rating=1, comment=None)
    blank = add_response(world.a, rating=1, comment="   ")
    contact_only = add_response(world.b, rating=5, comment=None, contact="dan@example.vn")
    bot = add_response(world.a, rating=1, comment="spam", flag="honeypot")
    assert open_cases_for_new_responses() == 2
    assert open_cases_for_new_responses() == 0
    assert open_cases_for_new_responses(since_id=0) == 0
    assert case_count() == 2
    assert the_case(complaint) is not None and the_case(contact_only) is not None
    assert all(the_case(r) is None for r in (neutral, no_comment, blank, bot))
    assert the_case(complaint).origin == "auto" and the_case(complaint).state == "new"
    # A complaint opened from its comment by an official is not opened a second time by the scan.
    later = add_response(world.a, rating=1, comment="Thiếu ghế chờ.")
    case, opened = service.open_case_for_comment(later.answers[-1], world.a.manager)
    db.session.commit()
    assert opened and case.origin == "manual" and case.opened_by_id == world.a.manager.id
    assert open_cases_for_new_responses() == 0
    assert service.open_case_for_comment(later.answers[-1], world.a.manager) == (case, False)
    # The scan only looks past since_id / since_time.
    newer = add_response(world.a, rating=1, comment="Mới nhất.", at=local(2026, 3, 5, 9))
    assert open_cases_for_new_responses(since_id=newer.id) == 0
    assert open_cases_for_new_responses(since_time=local(2026, 3, 5, 10)) == 0
    assert open_cases_for_new_responses(since_time=local(2026, 3, 5, 8)) == 1
    # The unique key itself refuses a second case for a response.
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(Case(response_id=complaint.id, service_point_id=world.a.sp.id, deadline_days=5,
                            due_at=local(2026, 3, 9), state="new", origin="manual"))
        db.session.flush()
    db.session.rollback()


def test_transitions_follow_the_rules_and_each_is_audited(world):
    case = the_case_of(world)
    with pytest.raises(service.CaseError):
        service.transition(case, "closed", world.a.manager)  # a new case cannot be closed unresolved
    with pytest.raises(service.CaseError):
        service.transition(case, "resolved", world.a.manager, resolution="   ")  # what was done is required
    with pytest.raises(service.CaseError):
        service.transition(case, "bogus", world.a.manager)
    assert case.state == "new"
    service.transition(case, "acknowledged", world.a.manager)
    service.transition(case, "resolved", world.a.manager, resolution="Đã bổ sung ghế.")
    service.transition(case, "acknowledged", world.a.manager)  # reopened
    assert case.resolved_at is None
    service.transition(case, "resolved", world.a.manager, resolution="Đã bổ sung 10 ghế.")
    service.transition(case, "closed", world.a.manager)
    db.session.commit()
    for to in ("new", "acknowledged", "resolved", "rejected", "closed"):
        with pytest.raises(service.CaseError):
            service.transition(case, to, world.a.manager)
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "Case", AuditEvent.object_id == str(case.id)).order_by(AuditEvent.id)).all()
    assert actions == ["case.open", "case.acknowledged", "case.resolved", "case.reopen", "case.resolved",
                       "case.closed"]
    # Spam is rejected, and may be restored.
    spam = the_case_of(world, comment="quảng cáo")
    service.transition(spam, "rejected", world.a.manager, note="Quảng cáo")
    with pytest.raises(service.CaseError):
        service.transition(spam, "resolved", world.a.manager, resolution="x")
    service.transition(spam, "new", world.a.manager)
    assert spam.state == "new"


def the_case_of(world, **kwargs):
    response = add_response(world.a, **{"rating": 1, "comment": "Chờ lâu.", **kwargs})
    open_cases_for_new_responses()
    return the_case(response)


def test_a_case_is_assigned_only_to_someone_whose_scope_contains_its_point(world):
    case = the_case_of(world)
    with pytest.raises(service.CaseError):
        service.assign(case, world.b.manager, world.admin)
    with pytest.raises(service.CaseError):
        service.assign(case, world.a.viewer, world.admin)
    service.assign(case, world.admin, world.a.manager)
    assert case.assignee_id == world.admin.id


def test_the_reply_goes_to_the_citizens_email_in_their_language_with_no_other_contact(world, outbox):
    case = the_case_of(world, comment="Gọi tôi 0912 345 678 hoặc ban@example.vn, CCCD 012345678901.",
                       contact="  dan@example.vn ", language="en")
    assert outbox.emails == []
    service.transition(case, "resolved", world.a.manager,
                       resolution="We added ten seats; call 0987 654 321 to ask more.")
    db.session.commit()
    assert len(outbox.emails) == 1 and outbox.webhooks == []
    email = outbox.emails[0]
    assert email["to"] == "dan@example.vn"
    assert (email["kind"], email["dedupe_key"]) == ("case_reply", f"case-reply-{case.id}")
    assert email["subject"] == f"Reply to your feedback at {world.a.sp.name}"
    for body in (email["text"], email["html"]):
        assert "We added ten seats" in body
        assert "we did the following" in body.lower()
        for personal in ("0912 345 678", "ban@example.vn", "012345678901", "0987 654 321", "dan@example.vn"):
            assert personal not in body
    assert (email["to"], email["subject"], email["text"], email["html"]) == reply_message(case)


def test_the_reply_is_in_vietnamese_for_a_vietnamese_response(world, outbox):
    case = the_case_of(world, contact="dan@example.vn")
    service.transition(case, "resolved", world.a.manager, resolution="Đã bố trí thêm cán bộ.")
    email = outbox.emails[0]
    assert email["subject"].startswith("Phản hồi góp ý của Ông/Bà")
    assert "Chúng tôi đã xử lý như sau:" in email["text"] and "Đã bố trí thêm cán bộ." in email["html"]


def test_a_phone_number_goes_to_the_webhook_for_sms_and_never_into_a_log(world, outbox, caplog):
    caplog.set_level(logging.DEBUG)
    case = the_case_of(world, contact="0912 345 678")
    service.transition(case, "resolved", world.a.manager, resolution="Đã xử lý.")
    assert outbox.emails == []
    [hook] = outbox.webhooks
    assert (hook["org_id"], hook["event"]) == (world.a.org.id, "case.reply_sms")
    assert hook["payload"]["phone"] == "0912 345 678" and "Đã xử lý." in hook["payload"]["text"]
    assert hook["dedupe_key"] == f"case-reply-sms-{case.id}"
    assert "0912" not in caplog.text and f"case {case.id}" in caplog.text
    # No contact, or no consent: no reply at all.
    quiet = the_case_of(world)
    service.transition(quiet, "resolved", world.a.manager, resolution="Đã xử lý.")
    assert len(outbox.webhooks) == 1 and outbox.emails == []


def test_on_time_share_counts_cases_due_in_the_period(world):
    def opened(at, commune=None):
        response = add_response(commune or world.a, rating=1, comment="Chờ lâu.", at=at)
        open_cases_for_new_responses()
        return the_case(response)

    # Opened Monday 2/3/2026, 5 working days: due Monday 9/3.
    on_time, late, open_late, spam = (opened(local(2026, 3, 2, 9)) for _ in range(4))
    opened(local(2026, 3, 30, 9))  # due 6/4, after "now": not counted yet
    other = opened(local(2026, 3, 2, 9), world.b)
    assert due_on(on_time.due_at) == date(2026, 3, 9)
    service.transition(on_time, "resolved", world.a.manager, resolution="x", now=local(2026, 3, 9, 17))
    service.transition(late, "resolved", world.a.manager, resolution="x", now=local(2026, 3, 10, 8))
    service.transition(spam, "rejected", world.a.manager)
    service.transition(other, "resolved", world.b.manager, resolution="x", now=local(2026, 3, 3))
    db.session.commit()
    now = local(2026, 4, 1, 12)
    march = (date(2026, 3, 1), date(2026, 4, 30))
    assert on_time_share(*march, org_ids=[world.a.org.id], now=now) == (1, 3)
    assert on_time_share(*march, service_point_ids=[world.b.sp.id], now=now) == (1, 1)
    assert on_time_share(*march, org_ids=[world.province.id], now=now) == (2, 4)
    # Once its deadline passes, the case still open counts as not on time.
    assert on_time_share(*march, org_ids=[world.a.org.id], now=local(2026, 4, 7)) == (1, 4)
    # Due on 9/3: in a period ending that day, not in one starting the day after.
    assert on_time_share(date(2026, 3, 9), date(2026, 3, 9), org_ids=[world.a.org.id], now=now) == (1, 3)
    assert on_time_share(date(2026, 3, 10), date(2026, 3, 31), org_ids=[world.a.org.id], now=now) == (0, 0)
    assert open_late.state == "new"
    with pytest.raises(ValueError):
        on_time_share(*march)


def test_a_holiday_added_later_moves_the_deadline_of_open_cases(app, world_rows, runner):
    with app.app_context():
        world = reloaded(world_rows)
        case = the_case_of(world, at=local(2026, 4, 29, 10))
        done = the_case_of(world, at=local(2026, 4, 29, 10))
        service.transition(done, "resolved", world.a.manager, resolution="x")
        db.session.commit()
        assert due_on(case.due_at) == date(2026, 5, 8)  # 5 working days: 4, 5, 6, 7, 8 May
        case_id, done_id = case.id, done.id
    assert runner.invoke(args=["holidays", "add", "2026-05-04"]).exit_code == 0
    with app.app_context():
        assert due_on(db.session.get(Case, case_id).due_at) == date(2026, 5, 11)
        assert due_on(db.session.get(Case, done_id).due_at) == date(2026, 5, 8)  # resolved: the deadline it had
