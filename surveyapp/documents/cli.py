"""``flask --app surveyapp report-subscriptions add|list|pause|resume|remove``: the scheduled filed
reports from the command line, with the rules of :mod:`.subscriptions` (as the workspace page)."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from .. import audit
from ..extensions import db
from ..models import SUBSCRIPTION_PERIODS, Organisation, ReportSubscription, User
from . import subscriptions as subs


def _org(code: str) -> Organisation:
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {code!r}", param_hint="--org")
    return org


def _user(username: str, hint: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no account {username!r}", param_hint=hint)
    return user


def _subscription(sub_id: int) -> ReportSubscription:
    sub = db.session.get(ReportSubscription, sub_id)
    if sub is None:
        raise click.BadParameter(f"no subscription {sub_id}", param_hint="ID")
    return sub


@click.group("report-subscriptions")
def report_subscriptions_group() -> None:
    """Filed reports e-mailed to accounts after each period closes (the worker's job
    ``report-subscriptions``)."""


@report_subscriptions_group.command("add")
@click.option("--org", "org_code", required=True, help="Organisation code: whose report.")
@click.option("--period", "period_kind", type=click.Choice(SUBSCRIPTION_PERIODS), required=True)
@click.option("--format", "formats", type=click.Choice(subs.FORMATS), multiple=True,
              help="docx, pdf, or both (repeat the option); default: docx.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--recipient", "recipients", multiple=True, required=True,
              help="Username of an account that receives it (repeat the option).")
@click.option("--by", "by_username", help="Subscribe as this account: its subtree limits the recipients.")
@click.option("--agency", default="", help="Issuing agency; default: the organisation's name.")
@click.option("--managing-agency", default="", help="Managing agency; default: the parent organisation's name.")
@click.option("--symbol", default="", help="Number symbol; default: the REPORT_NUMBER_SYMBOL setting.")
@click.option("--place", default="", help="Place in the date line; default: the organisation's name.")
@click.option("--signer-prefix", type=click.Choice(subs.SIGNER_PREFIXES), default="")
@click.option("--signer-authority", default="")
@click.option("--signer-title", required=True)
@click.option("--signer-name", default="")
@click.option("--filed-recipient", "filed_recipients", multiple=True,
              help='A line of "Nơi nhận" in the document (repeat the option).')
@click.option("--send-last", is_flag=True, help="Also send the latest period already closed, at the next run.")
@with_appcontext
def add(org_code, period_kind, formats, lang, recipients, by_username, send_last, filed_recipients, **header):
    """Subscribe accounts to an organisation's filed report."""
    org = _org(org_code)
    by = _user(by_username, "--by") if by_username else None
    root = None if by is None or (by.role == "admin" and by.organisation_id is None) else by.organisation
    if root is not None and not org.is_within(root):
        raise click.BadParameter(f"{org_code} is outside {by.username}'s organisation", param_hint="--org")
    data = subs.SubscriptionInput(period_kind=period_kind, formats=formats or ("docx",), language=lang,
                                  recipients=[_user(u, "--recipient") for u in recipients],
                                  filed_recipients=filed_recipients, send_last=send_last, **header)
    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            sub = subs.subscribe(org, data, scope_root=root, created_by=by)
    except subs.SubscriptionError as exc:
        db.session.rollback()
        raise click.BadParameter(str(exc), param_hint=f"--{(exc.field or 'recipient').replace('_', '-')}") from None
    audit.record("report_subscription.create", sub)
    db.session.commit()
    click.echo(f"Subscription {sub.id}: {org.code}, every {period_kind}, first period ending on or after "
               f"{sub.starts_on}, to {', '.join(u.username for u in sub.recipients)}")


@report_subscriptions_group.command("list")
@click.option("--org", "org_code", help="Only this organisation's subtree.")
@with_appcontext
def list_subscriptions(org_code: str | None) -> None:
    """Each subscription: id, organisation, period, formats, recipients, state, last period sent."""
    root = _org(org_code) if org_code else None
    rows = subs.visible_subscriptions(root)
    if not rows:
        click.echo("No subscriptions.")
    for sub in rows:
        last = subs.last_delivery(sub)
        click.echo(f"{sub.id:4}  {sub.organisation.code:12} {sub.period_kind:8} {'+'.join(subs.formats_of(sub)):9} "
                   f"{sub.language}  {'active' if sub.active else 'paused':6}  "
                   f"to {', '.join(u.username for u in sub.recipients) or '-'}; "
                   f"last sent: {f'{last.period_start} – {last.period_end}' if last else '-'}")


def _set_active(sub_id: int, active: bool) -> None:
    sub = _subscription(sub_id)
    before = audit.snapshot(sub)
    sub.active = active
    audit.record("report_subscription.resume" if active else "report_subscription.pause", sub, before)
    db.session.commit()
    click.echo(f"Subscription {sub.id} {'resumed' if active else 'paused'}.")


@report_subscriptions_group.command("pause")
@click.argument("sub_id", metavar="ID", type=int)
@with_appcontext
def pause(sub_id: int) -> None:
    """Send nothing until resumed."""
    _set_active(sub_id, False)


@report_subscriptions_group.command("resume")
@click.argument("sub_id", metavar="ID", type=int)
@with_appcontext
def resume(sub_id: int) -> None:
    """Send again: the latest closed period not sent yet, then each one as it closes."""
    _set_active(sub_id, True)


@report_subscriptions_group.command("remove")
@click.argument("sub_id", metavar="ID", type=int)
@with_appcontext
def remove(sub_id: int) -> None:
    """Delete a subscription (e-mails already queued still go out)."""
    sub = _subscription(sub_id)
    before = audit.snapshot(sub)
    subs.unsubscribe(sub)
    audit.record("report_subscription.delete", None, before, after={}, object_type="ReportSubscription",
                 object_id=sub_id)
    db.session.commit()
    click.echo(f"Subscription {sub_id} removed.")


commands = [report_subscriptions_group]
