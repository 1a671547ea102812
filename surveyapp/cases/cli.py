"""Commands: ``flask --app surveyapp holidays list|add|remove`` (the working-day calendar) and
``flask --app surveyapp cases open-new|overdue|deadline``."""
from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .. import workdays
from ..clock import today
from ..extensions import db
from ..models import AuditEvent, Organisation
from . import service


@click.group("holidays")
def holidays_group() -> None:
    """The working-day calendar: statutory holidays and officials' changes, per year."""


@holidays_group.command("list")
@click.option("--year", type=int, help="Default: this year.")
@with_appcontext
def holidays_list(year: int | None) -> None:
    """Every day off and working weekend day of the year, statutory or added."""
    for d in workdays.year_days(year or today().year):
        mark = " (overridden)" if d.overridden else ""
        click.echo(f"{d.day.isoformat()}  {d.kind:<7}  {d.source:<9}  {d.name}{mark}")


def _day(value: str, year: int | None) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date as YYYY-MM-DD", param_hint="DAY") from None
    if year is not None and day.year != year:
        raise click.BadParameter(f"{day} is not in {year}", param_hint="--year")
    return day


@holidays_group.command("add")
@click.argument("day")
@click.option("--working", is_flag=True, help="A working day (e.g. a Saturday worked in exchange), not a day off.")
@click.option("--note", default="", help="What it is, e.g. the government's announcement.")
@click.option("--year", type=int, help="Checks that DAY is in this year.")
@with_appcontext
def holidays_add(day: str, working: bool, note: str, year: int | None) -> None:
    """Make DAY (YYYY-MM-DD) a day off, or with --working a working day."""
    d = _day(day, year)
    kind = "working" if working else "off"
    workdays.set_day(d, kind, note)
    db.session.add(AuditEvent(action="calendar.set", object_type="CalendarDay", object_id=d.isoformat(),
                              after={"kind": kind, "note": note or None}))
    moved = service.recompute_due_dates()
    db.session.commit()
    click.echo(f"{d.isoformat()} is now a {'working day' if working else 'day off'}; {moved} open case(s) moved")


@holidays_group.command("remove")
@click.argument("day")
@click.option("--year", type=int, help="Checks that DAY is in this year.")
@with_appcontext
def holidays_remove(day: str, year: int | None) -> None:
    """Drop the change made to DAY: the statutory calendar applies again."""
    d = _day(day, year)
    if not workdays.remove_day(d):
        raise click.ClickException(f"no change recorded for {d.isoformat()}")
    db.session.add(AuditEvent(action="calendar.remove", object_type="CalendarDay", object_id=d.isoformat()))
    moved = service.recompute_due_dates()
    db.session.commit()
    click.echo(f"{d.isoformat()}: statutory calendar again; {moved} open case(s) moved")


@click.group("cases")
def cases_group() -> None:
    """Cases: open them for new responses, list the overdue ones, set deadlines."""


@cases_group.command("open-new")
@click.option("--since-id", type=int, help="Only responses with a larger id.")
@with_appcontext
def cases_open_new(since_id: int | None) -> None:
    """Open a case for every stored response that calls for one (what the worker runs)."""
    click.echo(f"Opened {service.open_cases_for_new_responses(since_id=since_id)} case(s)")


@cases_group.command("overdue")
@with_appcontext
def cases_overdue() -> None:
    """Cases past their deadline and still not resolved."""
    for case in service.overdue_cases():
        click.echo(f"#{case.id}  due {workdays.due_on(case.due_at).isoformat()}  {case.state:<12}  "
                   f"{case.service_point.name}")


@cases_group.command("deadline")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--days", type=int, help="Working days; leave out to inherit from the parent again.")
@with_appcontext
def cases_deadline(org_code: str, days: int | None) -> None:
    """Set an organisation's deadline for cases (its subtree inherits it)."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    try:
        service.set_deadline(org, days, None)
    except service.CaseError as exc:
        raise click.BadParameter(str(exc), param_hint="--days") from None
    db.session.commit()
    click.echo(f"{org.code}: {service.deadline_days(org)} working day(s)")


commands = [holidays_group, cases_group]
