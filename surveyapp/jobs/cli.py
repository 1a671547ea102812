"""``flask --app surveyapp worker`` and ``flask --app surveyapp jobs run-once|list``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from . import BY_NAME, JOBS, run_due, run_job, run_worker, states


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the background worker (alerts, deliveries, digests, report refresh) until stopped.

    Several workers may run on one PostgreSQL database: each job runs in one of them at a time."""
    run_worker(current_app._get_current_object())


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: run what is due once (for cron and tests), or list them."""


@jobs_group.command("run-once")
@click.option("--job", "names", multiple=True, type=click.Choice([j.name for j in JOBS]),
              help="Run only this job (repeatable), even if it is not due.")
@with_appcontext
def run_once(names: tuple[str, ...]) -> None:
    """Run every job that is due, once, and exit."""
    if names:
        ran = [name for name in names if run_job(name, force=True)]
    else:
        ran = run_due()
    click.echo(f"Ran: {', '.join(ran)}" if ran else "Nothing was due.")


@jobs_group.command("list")
@with_appcontext
def list_jobs() -> None:
    """Each job, when it last ran and when it is next due."""
    for state in states():
        if state.name not in BY_NAME:
            continue
        last = f"{state.last_finished_at:%Y-%m-%d %H:%M:%S}" if state.last_finished_at else "-"
        due = f"{state.next_due_at:%Y-%m-%d %H:%M:%S}" if state.next_due_at else "now"
        error = " (last run failed)" if state.last_error else ""
        click.echo(f"{state.name:20} last {last} UTC, next {due} UTC{error}")


commands = [worker_command, jobs_group]
