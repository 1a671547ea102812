"""``flask --app surveyapp publish ORG_CODE [--off] [--min-responses N]``."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Organisation
from .service import PublicationError, publish, unpublish


@click.command("publish")
@click.argument("code")
@click.option("--off", is_flag=True, help="Withdraw the organisation's publication.")
@click.option("--min-responses", type=int, default=None,
              help="Fewer responses than this: shown as not enough responses (default PUBLIC_MIN_RESPONSES).")
@with_appcontext
def publish_command(code: str, off: bool, min_responses: int | None) -> None:
    """Publish an organisation's indices (and its sub-units') at /p/ORG_CODE, or withdraw them."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.ClickException(f"no organisation {code!r}")
    if off:
        if not unpublish(org):
            raise click.ClickException(f"{code} is not published")
        db.session.commit()
        click.echo(f"Withdrawn: /p/{code}")
        return
    try:
        pub = publish(org, None, min_responses)
    except PublicationError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Published: /p/{code} (minimum {pub.min_responses} responses)")


commands = [publish_command]
