"""Workspace commands: ``flask --app surveyapp unlock-user USERNAME``."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..auth.throttle import lift_locks
from ..models import User
from .. import audit


@click.command("unlock-user")
@click.argument("username")
@with_appcontext
def unlock_user(username: str) -> None:
    """Lift the lock put on an account after failed sign-ins (e.g. the only administrator's)."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    before = audit.snapshot(user)
    lift_locks(user)
    audit.record("user.unlock", user, before)
    db.session.commit()
    click.echo(f"Unlocked {username}")


commands = [unlock_user]
