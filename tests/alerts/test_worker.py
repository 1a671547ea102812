"""The worker as real processes: killed with SIGKILL mid-delivery and restarted, nothing is lost;
two workers on PostgreSQL never deliver one item twice; ``jobs run-once`` runs what is due once."""
from __future__ import annotations

import collections
import signal
import threading

import pytest
import sqlalchemy as sa
from alert_helpers import wait_for

from surveyapp import outbox
from surveyapp.alerts.webhooks import add_webhook
from surveyapp.extensions import db
from tests.worker_process import start_worker, stop
from surveyapp.models import JobState, OutboxItem

def statuses() -> collections.Counter:
    db.session.rollback()
    return collections.Counter(db.session.scalars(sa.select(OutboxItem.status)))


# A lease and a retry short enough that a killed worker's items come back within the test.
FAST_OUTBOX = {"OUTBOX_LEASE_SECONDS": "3", "OUTBOX_RETRY_BASE_SECONDS": "1"}


def queue_webhooks(province, url, n: int) -> list[str]:
    add_webhook(province.commune, url, "worker-test-secret-123456")
    ids = []
    for i in range(n):
        ids += [item.event_id for item in outbox.enqueue_webhook(province.commune.id, "test", {"i": i},
                                                                 dedupe_key=f"w{i}")]
    db.session.commit()
    return ids


def test_worker_killed_mid_delivery_then_restarted_leaves_every_item_delivered(app, province, receiver):
    ids = queue_webhooks(province, receiver.url, 6)
    hold = receiver.hold = threading.Event()  # the first call hangs: the worker is mid-delivery
    first = start_worker(app, **FAST_OUTBOX)
    try:
        assert receiver.arrived.wait(60), first.stderr.read1().decode() if first.poll() is not None else "no call"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert statuses() == {"sending": 1, "pending": 5}  # the one in flight, and the rest untouched
        hold.set()  # the answer goes to a dead connection
        second = start_worker(app, **FAST_OUTBOX)
        try:
            wait_for(lambda: statuses() == {"delivered": 6}, timeout=90)
        finally:
            stop(second)
    finally:
        stop(first)
    got = collections.Counter(c["headers"]["X-Event-Id"] for c in receiver.calls)
    assert set(got) == set(ids)
    # Only the message that was in flight went out twice, with the same event id for the receiver.
    in_flight = receiver.calls[0]["headers"]["X-Event-Id"]
    assert got[in_flight] == 2 and all(v == 1 for k, v in got.items() if k != in_flight)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_workers_on_postgresql_never_deliver_the_same_item_twice(app, province, receiver):
    ids = queue_webhooks(province, receiver.url, 40)
    receiver.delay = 0.05
    workers = [start_worker(app, **FAST_OUTBOX), start_worker(app, **FAST_OUTBOX)]
    try:
        wait_for(lambda: statuses() == {"delivered": 40}, timeout=120)
    finally:
        for w in workers:
            stop(w)
    got = collections.Counter(c["headers"]["X-Event-Id"] for c in receiver.calls)
    assert sorted(got) == sorted(ids) and set(got.values()) == {1}
    assert receiver.max_in_flight >= 2  # both workers were delivering at the same time


def test_jobs_run_once_runs_what_is_due_once(app, province_rows, receiver, monkeypatch):
    # The interval jobs must not fall due again while the first run builds the rollups.
    monkeypatch.setitem(app.config, "JOBS_ALERTS_SECONDS", 3600)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["jobs", "run-once"])
    assert first.exit_code == 0, first.output
    assert "Ran: alerts, cases, themes, cases-overdue, alerts-targets, held-notifications, digests, report-refresh, retention, report-subscriptions, outbox" in first.output
    with app.app_context():
        runs = dict(db.session.execute(sa.select(JobState.name, JobState.runs)).all())
    assert runs["alerts"] == runs["report-refresh"] == 1 and runs["outbox"] == 1

    second = runner.invoke(args=["jobs", "run-once"])
    assert second.exit_code == 0
    assert "Ran: outbox" in second.output  # delivery always looks; the scheduled jobs are not due
    with app.app_context():
        runs = dict(db.session.execute(sa.select(JobState.name, JobState.runs)).all())
    assert runs["alerts"] == runs["report-refresh"] == runs["digests"] == 1

    listing = runner.invoke(args=["jobs", "list"])
    assert "report-refresh" in listing.output and "next" in listing.output
