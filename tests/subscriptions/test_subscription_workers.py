"""Two real ``flask worker`` processes on one PostgreSQL database, both due to run the scheduled
reports when they start: each recipient receives the report once, over a real SMTP server."""
from __future__ import annotations

import collections
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alert_helpers import rate, wait_for

from surveyapp import clock
from surveyapp.documents import subscriptions as subs
from surveyapp.extensions import db
from tests.worker_process import start_worker, stop
from surveyapp.models import JobState, OutboxItem, ReportDelivery, utcnow
from surveyapp.workdays import load_calendar
from tests.conftest import reloaded

def delivered() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)
                             .where(OutboxItem.kind == subs.KIND, OutboxItem.status == "delivered"))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_workers_send_each_recipient_the_report_once(app, province, smtp):
    # The real clock: the month already due today, with ratings in it.
    with app.app_context():
        first, last = subs.latest_due_period("month", clock.today(), load_calendar())
        p = reloaded(province)
        for i, v in enumerate([4, 3, 4, 1, 4, 2, 4, 4]):
            rate(p.survey, p.point, v, clock.day_start_utc(first) + timedelta(days=i % 20, hours=9))
        sub = subs.subscribe(p.commune, subs.SubscriptionInput(
            period_kind="month", formats=("docx",), language="vi", signer_title="Chủ tịch",
            recipients=[p.manager, p.province_manager], send_last=True),
            scope_root=p.province, created_by=p.province_manager)
        db.session.commit()
        assert sub.starts_on == first and utcnow().date() >= last

    workers = [start_worker(app), start_worker(app)]
    # The test's own reads while the workers run (it makes no request).
    with app.app_context():
        try:
            wait_for(lambda: delivered() == 2, timeout=180)
            # Both workers have run their catch-up (the job, then delivery) before they are stopped,
            # so that a duplicate, were there one, would have been sent.
            wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(JobState).where(
                JobState.name == "outbox", JobState.runs >= 4)), timeout=60)
        finally:
            for w in workers:
                stop(w)
        assert delivered() == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 1
    got = collections.Counter(str(m["To"]) for m in smtp.messages)
    assert got == {"xamot@example.gov.vn": 1, "tinh@example.gov.vn": 1}
    for msg in smtp.messages:
        assert [p.get_filename() for p in msg.iter_attachments()] == [
            f"bao-cao-P-C-{first.isoformat()}-{last.isoformat()}.docx"]
