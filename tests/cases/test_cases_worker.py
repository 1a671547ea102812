"""Cases and the worker: the jobs open cases from what was stored, the reply and the overdue
reminders go through the real outbox, and digests list new and overdue cases."""
from __future__ import annotations

import sqlalchemy as sa
import time_machine

from case_helpers import add_response, local, the_case
from surveyapp.alerts.digests import digest_cases_section
from surveyapp.cases import service
from surveyapp.extensions import db
from surveyapp.jobs import run_job
from surveyapp.models import Case, OutboxItem


def test_the_cases_job_opens_a_case_for_each_stored_complaint_once(world):
    first = add_response(world.a, rating=1, comment="Cán bộ hướng dẫn không rõ ràng.")
    happy = add_response(world.a, rating=5, comment="Rất tốt.")
    assert run_job("cases", force=True)
    assert the_case(first) is not None and the_case(happy) is None
    later = add_response(world.b, rating=2, comment="Chờ quá lâu.")
    assert run_job("cases", force=True)
    assert run_job("cases", force=True)
    assert the_case(later) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 2


def test_the_reply_is_queued_in_the_real_outbox_with_the_citizens_email_only(world, monkeypatch):
    import surveyapp.outbox as real

    monkeypatch.setattr("surveyapp.cases.reply.outbox", real)
    response = add_response(world.a, rating=1, comment="Gọi 0912345678 nhé", contact="dan@example.vn")
    service.open_cases_for_new_responses()
    case = the_case(response)
    service.transition(case, "resolved", world.a.manager, resolution="Đã bố trí thêm ghế chờ.")
    db.session.commit()
    items = db.session.scalars(sa.select(OutboxItem).where(OutboxItem.kind == "case_reply")).all()
    assert [i.recipient for i in items] == ["dan@example.vn"]
    body = items[0].payload
    assert "0912345678" not in str(body)


def test_overdue_cases_are_reminded_to_their_assignee_once_a_day(world, monkeypatch):
    import surveyapp.outbox as real

    monkeypatch.setattr("surveyapp.cases.reply.outbox", real)
    world.a.manager.email = "ql@xa-an.gov.vn"
    db.session.commit()
    response = add_response(world.a, rating=1, comment="Không ai trả lời.", at=local(2026, 3, 2, 9))
    service.open_cases_for_new_responses()
    case = the_case(response)
    service.assign(case, world.a.manager, world.a.manager)
    db.session.commit()
    with time_machine.travel(local(2026, 3, 20, 8).isoformat() + "Z", tick=False):
        assert service.remind_overdue() == 1
        assert service.remind_overdue() == 0  # the same day: not again
        section = digest_cases_section(world.a.manager, local(2026, 3, 1, 0).date(), local(2026, 3, 19, 0).date())
    mails = db.session.scalars(sa.select(OutboxItem).where(OutboxItem.kind == "case_overdue")).all()
    assert [m.recipient for m in mails] == ["ql@xa-an.gov.vn"]
    assert f"#{case.id}" in str(mails[0].payload)
    assert any(f"#{case.id}" in line for line in section.lines)
    # Another commune's manager does not see it in their digest.
    other = digest_cases_section(world.b.manager, local(2026, 3, 1, 0).date(), local(2026, 3, 19, 0).date())
    assert not any(f"#{case.id}" in line for line in other.lines)
