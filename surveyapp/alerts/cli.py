"""``flask --app surveyapp alerts add-webhook|list`` and ``flask --app surveyapp digest send``."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from ..extensions import db
from ..models import AlertRule, Organisation, OutboxItem, User, Webhook
from . import rules
from .digests import PERIODS, send_digest
from .webhooks import WebhookError, add_webhook


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules, webhooks and deliveries."""


@alerts_group.command("add-webhook")
@click.option("--org", "org_code", required=True, help="Organisation code: its alerts and its subtree's go to the URL.")
@click.option("--url", required=True, help="Where to POST (http or https).")
@click.option("--secret", required=True, help="Shared secret for the X-Signature-256 HMAC.")
@click.option("--description", default=None)
@with_appcontext
def add_webhook_command(org_code: str, url: str, secret: str, description: str | None) -> None:
    """Send the organisation's events to a URL, signed with SECRET."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # no request to take it from
            hook = add_webhook(org, url, secret, description)
    except WebhookError as exc:
        raise click.BadParameter(str(exc)) from None
    db.session.commit()
    click.echo(f"Webhook {hook.id} for {org.code}: {hook.url}")


@alerts_group.command("list")
@click.option("--deliveries", default=20, show_default=True, help="How many recent deliveries to show.")
@with_appcontext
def list_command(deliveries: int) -> None:
    """Rules, channels (webhooks, e-mail recipients) and recent deliveries."""
    rules.ensure_default_rules()
    db.session.commit()
    click.echo("Rules:")
    for rule in db.session.scalars(sa.select(AlertRule).order_by(AlertRule.organisation_id, AlertRule.kind)):
        state = "on" if rule.active else "off"
        params = {k: v for k, v in rules.params_of(rule).items() if k != "terms"}
        if rule.kind == "harassment":
            params["terms"] = len(rules.params_of(rule)["terms"])
        click.echo(f"  {rule.id:4} {rule.organisation.code:12} {rule.kind:20} {state:3} {params} "
                   f"cap {rule.cap_count}/{rule.cap_window_minutes} min")
    click.echo("Webhooks:")
    for hook in db.session.scalars(sa.select(Webhook).order_by(Webhook.id)):
        click.echo(f"  {hook.id:4} {hook.organisation.code:12} {'on ' if hook.active else 'off'} {hook.url}")
    n_mail = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active, User.email.is_not(None)))
    click.echo(f"E-mail: {n_mail} active user(s) with an address")
    click.echo("Recent deliveries:")
    for item in db.session.scalars(sa.select(OutboxItem).order_by(OutboxItem.id.desc()).limit(deliveries)):
        when = f"{item.delivered_at:%Y-%m-%d %H:%M}" if item.delivered_at else "-"
        err = f" last error: {item.last_error}" if item.last_error and item.status != "delivered" else ""
        click.echo(f"  {item.id:5} {item.channel:7} {item.kind:14} {item.status:9} attempts {item.attempts} "
                   f"delivered {when} {item.subject or ''}{err}")


@click.group("digest")
def digest_group() -> None:
    """Digests of the indices, alerts and cases."""


@digest_group.command("send")
@click.option("--user", "username", help="Only this user (default: every user who asked for digests).")
@click.option("--period", type=click.Choice(PERIODS), help="Default: each user's own frequency (day when none).")
@with_appcontext
def digest_send(username: str | None, period: str | None) -> None:
    """Queue a digest of the last complete period now (the worker delivers it)."""
    stmt = sa.select(User).where(User.active)
    if username:
        stmt = stmt.where(User.username == username)
    else:
        stmt = stmt.where(User.digest_frequency.in_(PERIODS))
    users = db.session.scalars(stmt).all()
    if username and not users:
        raise click.ClickException(f"no active user {username!r}")
    queued = 0
    for user in users:
        if not user.email:
            click.echo(f"{user.username}: no e-mail address, skipped")
            continue
        chosen = period or (user.digest_frequency if user.digest_frequency in PERIODS else "day")
        if send_digest(user, chosen, force=True) is not None:
            queued += 1
            click.echo(f"{user.username}: {chosen} digest queued for {user.email}")
    db.session.commit()
    click.echo(f"{queued} digest(s) queued.")


commands = [alerts_group, digest_group]
