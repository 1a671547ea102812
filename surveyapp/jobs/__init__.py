"""Background jobs: what runs them, and the lease that lets one worker at a time run each.

APScheduler 3 decides *when* to try a job (its interval and cron triggers, in the configured
zone); the database decides *who* runs it: a job runs only after an atomic ``UPDATE`` of its
``job_state`` row has taken the lease and found the job due. That ``UPDATE`` is one statement
on both databases (a row lock on PostgreSQL, the write lock on SQLite), so two workers, or a
worker and a cron ``jobs run-once``, never run the same job at once, and a due run happens
once whoever gets there first. A worker that dies holding a lease loses it after
``JOBS_LEASE_SECONDS``. See docs/WORKER.md for the choice of library.

Jobs are registered here with their triggers; each is a plain function that the worker, the
``jobs run-once`` command and the tests call alike.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app

from ..alerts import evaluate_daily, evaluate_frequent
from ..alerts.digests import send_due_digests
from ..alerts.notify import send_held_summaries
from ..cases.service import open_cases_since_last_case, remind_overdue
from ..clock import now_utc, zone
from ..documents.subscriptions import send_due_reports
from ..extensions import db
from ..models import JobState
from ..outbox import deliver_due
from ..reports.rollups import refresh_rollups
from ..retention import apply_retention
from ..themes.store import theme_pending

# Interval triggers start from a fixed instant so that every worker tries at the same moments.
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], object]
    # Built per app: intervals come from the config, cron times are local.
    trigger: Callable[[], BaseTrigger]
    description: str
    # Exclusive jobs run in one worker at a time (the lease). Delivery is not: every worker
    # delivers, and each outbox item is claimed by exactly one of them (SKIP LOCKED).
    exclusive: bool = True


def _every(setting: str) -> Callable[[], BaseTrigger]:
    return lambda: IntervalTrigger(seconds=current_app.config[setting], start_date=EPOCH, timezone=zone())


def _cron(**fields) -> Callable[[], BaseTrigger]:
    return lambda: CronTrigger(timezone=zone(), **fields)


# In the order ``jobs run-once`` runs them: what raises messages first, delivery last, so that
# one run sends what it raised.
JOBS: tuple[Job, ...] = (
    Job("alerts", evaluate_frequent, _every("JOBS_ALERTS_SECONDS"),
        "Alert rules on what was stored since the last run (dissatisfied answers, comments, silent kiosks)"),
    Job("cases", open_cases_since_last_case, _every("JOBS_ALERTS_SECONDS"),
        "Cases opened for stored responses that call for one (a dissatisfied rating with a comment, or a contact)"),
    Job("themes", theme_pending, _every("JOBS_ALERTS_SECONDS"),
        "Themes, polarity and flags of the comments stored since the last run"),
    Job("cases-overdue", remind_overdue, _cron(hour=7, minute=45),
        "E-mails to the assignees of overdue cases"),
    Job("alerts-targets", evaluate_daily, _cron(hour=6, minute=30),
        "Alert rule: service points below their target"),
    Job("held-notifications", send_held_summaries, _every("JOBS_HELD_SECONDS"),
        "Summaries of the alert e-mails held back by a cap or quiet hours"),
    Job("digests", send_due_digests, _cron(minute=5), "Daily, weekly and monthly digests"),
    Job("report-refresh", refresh_rollups, _cron(hour=1, minute=30), "Nightly report rollups"),
    Job("retention", apply_retention, _cron(hour=2, minute=15),
        "Retention of personal data: contacts erased, old comments masked, old raw responses reduced to rollups"),
    Job("report-subscriptions", send_due_reports, _cron(hour=7, minute=0),
        "Filed reports of the period just closed, e-mailed to their subscribers (first working day after it)"),
    Job("outbox", deliver_due, _every("JOBS_OUTBOX_SECONDS"), "Delivery of queued e-mails and webhook calls",
        exclusive=False),
)
BY_NAME = {job.name: job for job in JOBS}


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:64]


def next_due(job: Job, after: datetime) -> datetime:
    """The first time the job's trigger fires after ``after`` (naive UTC in, naive UTC out)."""
    aware = after.replace(tzinfo=timezone.utc)
    fire = job.trigger().get_next_fire_time(None, aware + timedelta(microseconds=1))
    return fire.astimezone(timezone.utc).replace(tzinfo=None)


def _ensure_rows() -> None:
    have = set(db.session.scalars(sa.select(JobState.name)))
    for job in JOBS:
        if job.name not in have:
            # A concurrent worker may insert the same row: the primary key keeps one.
            try:
                with db.session.begin_nested():
                    db.session.add(JobState(name=job.name))
            except sa.exc.IntegrityError:
                pass
    db.session.commit()


def claim(name: str, holder: str, now: datetime, *, force: bool = False) -> bool:
    """Take the job's lease if it is due and nobody holds it; True when this caller may run it."""
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    due = sa.true() if force else sa.or_(JobState.next_due_at.is_(None), JobState.next_due_at <= now)
    taken = db.session.execute(
        sa.update(JobState)
        .where(JobState.name == name, due, sa.or_(JobState.lease_until.is_(None), JobState.lease_until < now))
        .values(holder=holder, lease_until=now + lease, last_started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1


def run_job(name: str, holder: str | None = None, *, force: bool = False) -> bool:
    """Run one job if it is due (or ``force``) and its lease is free; True when it ran (a failure
    is logged and recorded on its ``job_state`` row)."""
    job = BY_NAME[name]
    holder = holder or worker_id()
    now = now_utc()
    _ensure_rows()
    if job.exclusive and not claim(name, holder, now, force=force):
        return False
    error = None
    try:
        job.func()
    except Exception:  # noqa: BLE001 - recorded on the job's row; the next run tries again
        db.session.rollback()
        error = traceback.format_exc()[-4000:]
        current_app.logger.exception("job %s failed", name)
    db.session.rollback()  # whatever the job left open
    finished = now_utc()
    done = {"last_finished_at": finished, "last_error": error, "next_due_at": next_due(job, max(now, finished)),
            "runs": JobState.runs + 1}
    if job.exclusive:
        stmt = sa.update(JobState).where(JobState.name == name, JobState.holder == holder).values(
            holder=None, lease_until=None, **done)
    else:
        stmt = sa.update(JobState).where(JobState.name == name).values(last_started_at=now, **done)
    db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.commit()
    return True


def run_due(holder: str | None = None) -> list[str]:
    """Run every job that is due, once, in order; the names of those that ran."""
    holder = holder or worker_id()
    return [job.name for job in JOBS if run_job(job.name, holder)]


def states() -> list[JobState]:
    _ensure_rows()
    return list(db.session.scalars(sa.select(JobState).order_by(JobState.name)))


def run_worker(app, *, install_signals: bool = True) -> None:
    """The long-lived worker: catch up on what is due, then try each job on its trigger.
    SIGTERM stops it; a job cut short is safe (its lease runs out, its messages stay queued)."""
    holder = worker_id()
    with app.app_context():
        triggers = {job.name: job.trigger() for job in JOBS}
        tz = zone()
    # One thread per job at most (max_instances=1): a long report refresh never delays delivery.
    scheduler = BlockingScheduler(timezone=tz, executors={"default": {"type": "threadpool",
                                                                     "max_workers": len(JOBS)}},
                                  job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})

    def stop(*_):
        if scheduler.running:
            scheduler.shutdown(wait=False)
        else:
            raise SystemExit(0)  # still catching up: stop there

    if install_signals:
        signal.signal(signal.SIGTERM, stop)

    def attempt(name: str) -> None:
        with app.app_context():
            run_job(name, holder)

    try:
        with app.app_context():
            run_due(holder)
        for job in JOBS:
            scheduler.add_job(attempt, triggers[job.name], args=[job.name], id=job.name, name=job.description)
        app.logger.info("worker %s started with %d jobs", holder, len(JOBS))
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
