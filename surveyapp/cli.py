"""Command-line interface: ``flask --app surveyapp <command>`` or the ``surveyapp`` script."""
from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade

from .accounts import EmailError, normalise_email
from .reports import cli as reports_cli
from . import seed as seed_module
from .admin import cli as admin_cli
from .auth import cli as auth_cli
from .cases import cli as cases_cli
from .jobs import cli as jobs_cli
from .alerts import cli as alerts_cli
from .alerts.demo import seed_alert_demo
from .citizen import cli as citizen_cli
from .dossiers import cli as dossiers_cli
from .documents import cli as documents_cli
from .documents.subscriptions import seed_demo_subscription
from . import contacts
from .extensions import db
from .i18n import compile_catalogue
from .kiosk import cli as kiosk_cli
from .public import cli as public_cli
from .themes import cli as themes_cli
from .models import ROLES, Organisation, User

# Areas that contribute commands through a ``commands`` list.
AREA_COMMANDS = (citizen_cli.commands, kiosk_cli.commands, admin_cli.commands, reports_cli.commands,
                 cases_cli.commands, jobs_cli.commands, alerts_cli.commands,
                 public_cli.commands, dossiers_cli.commands, themes_cli.commands,
                 contacts.commands, documents_cli.commands, auth_cli.commands)


def init_app(app: Flask) -> None:
    for command in (init_db, create_admin, seed_demo, translations):
        app.cli.add_command(command)
    for commands in AREA_COMMANDS:
        for command in commands:
            app.cli.add_command(command)


def upgrade_to_head() -> None:
    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    upgrade_to_head()
    click.echo("Database is at the latest migration.")


@click.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--org", "org_code", help="Organisation code: the subtree this user may see.")
@click.option("--email", help="Where alerts and digests go.")
@with_appcontext
def create_admin(username: str, password: str, role: str, org_code: str | None, email: str | None) -> None:
    """Create a user (an administrator unless --role says otherwise)."""
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    org = None
    if org_code:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    elif role != "admin":
        raise click.BadParameter("a manager or viewer needs --org", param_hint="--org")
    if db.session.scalar(sa.select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    if email is not None:
        try:
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                email = normalise_email(email)
        except EmailError as exc:
            raise click.BadParameter(str(exc), param_hint="--email") from None
    user = User(username=username, role=role, organisation=org, email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {username}" + (f" for {org.code}" if org else ""))


@click.command("seed-demo")
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--responses", default=20000, show_default=True, help="Approximate number of synthetic responses.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has organisations.")
@with_appcontext
def seed_demo(seed: int, responses: int, if_empty: bool) -> None:
    """Load the standard questionnaires, targets and a demo province with synthetic responses."""
    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)):
        click.echo("Database already has data; demo seed skipped.")
        return
    summary = seed_module.seed_demo(seed=seed, n_responses=responses)
    seed_alert_demo()
    seed_demo_subscription()
    click.echo(
        f"Demo data: {summary['organisations']} organisations, {summary['service_points']} service points, "
        f"{summary['responses']} responses."
    )


@click.group("translations")
def translations() -> None:
    """Maintain the translation catalogue (Vietnamese source, English catalogue)."""


@translations.command("compile")
def translations_compile() -> None:
    """Merge translations/parts/*.po into the English catalogue and compile it."""
    path = compile_catalogue()
    click.echo(f"Wrote {path}")


def main() -> None:
    """Console entry point: the Flask CLI bound to this app (Flask finds ``create_app`` in the
    package, as ``flask --app surveyapp`` does)."""
    os.environ.setdefault("FLASK_APP", __package__)
    FlaskGroup()()
