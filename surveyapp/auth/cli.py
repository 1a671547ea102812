"""``flask --app surveyapp api-keys create|list|revoke``: API keys from the command line, with
the same rules as the workspace (:mod:`.apikeys`); the key is printed once."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import ApiKey, Organisation
from .apikeys import SCOPES, ApiKeyError, create_key, revoke_key


def _organisation(code: str) -> Organisation:
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {code!r}", param_hint="--org")
    return org


@click.group("api-keys")
def api_keys() -> None:
    """API keys of other systems, each scoped to an organisation's subtree and one purpose."""


@api_keys.command("create")
@click.option("--org", "org_code", required=True, help="Organisation code: the subtree the key may read or write.")
@click.option("--scope", type=click.Choice(list(SCOPES)), required=True,
              help="reports: read report results; dossiers: send dossiers and ask for receipt QR links.")
@click.option("--name", required=True, help="Which system holds the key.")
@with_appcontext
def create(org_code: str, scope: str, name: str) -> None:
    """Create a key and print it: it is shown this once, only its hash is stored."""
    try:
        row, key = create_key(_organisation(org_code), scope, name)
    except ApiKeyError as exc:
        raise click.BadParameter(str(exc)) from None
    db.session.commit()
    click.echo(f"Key {row.id} ({scope}, {org_code}, {row.name}); shown once:")
    click.echo(key)


@api_keys.command("list")
@click.option("--org", "org_code", help="Only this organisation's subtree.")
@with_appcontext
def list_keys(org_code: str | None) -> None:
    """Id, prefix, organisation, purpose, name and state of each key (never the key)."""
    stmt = sa.select(ApiKey).join(Organisation).order_by(ApiKey.id)
    if org_code:
        stmt = stmt.where(Organisation.path.startswith(_organisation(org_code).path, autoescape=True))
    for row in db.session.scalars(stmt):
        state = "active" if row.active else f"revoked {row.revoked_at:%Y-%m-%d}"
        click.echo(f"{row.id}\tsak_{row.prefix}_…\t{row.organisation.code}\t{row.scope}\t{row.name}\t{state}")


@api_keys.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def revoke(key_id: int) -> None:
    """Revoke a key at once."""
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise click.ClickException(f"no API key {key_id}")
    if not revoke_key(row):
        raise click.ClickException(f"API key {key_id} is already revoked")
    db.session.commit()
    click.echo(f"Revoked key {key_id}")


commands = [api_keys]
