"""``flask import KIND FILE [--dry-run]``, ``flask export KIND FILE`` and ``flask ranking``."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from .. import imports, rankings
from ..extensions import db
from ..models import Organisation


@click.command("import")
@click.argument("kind")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and change nothing.")
@with_appcontext
def import_command(kind: str, path: str, dry_run: bool) -> None:
    """Import a CSV or XLSX file of KIND (e.g. dossiers): every row or none."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        # Messages in Vietnamese: the officials' language (lazy strings need a request's locale).
        with current_app.test_request_context(query_string={"lang": "vi"}):
            result = imports.run_import(kind, path, data, dry_run=dry_run)
            errors = [(e.row, e.column, str(e.message)) for e in result.errors]
    except imports.FileProblem as exc:
        raise click.ClickException(str(exc)) from None
    for row, column, message in errors:
        click.echo(f"Dòng {row}, cột {column}: {message}")
    if result.errors:
        click.echo(f"{len(result.errors)} lỗi trong {result.rows} dòng; không thay đổi gì.")
        sys.exit(1)
    if dry_run:
        click.echo(f"{result.rows} dòng hợp lệ (chạy thử: không thay đổi gì).")
    else:
        c = result.counts
        click.echo(f"{result.rows} dòng: {c['created']} mới, {c['updated']} cập nhật, {c['unchanged']} không đổi.")
        if c.get("invited"):
            click.echo(f"{c['invited']} thư mời đặt mật khẩu đã xếp hàng gửi.")


@click.command("export")
@click.argument("kind")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(kind: str, path: str) -> None:
    """Write every record of KIND to a CSV or XLSX file that ``import`` reads back."""
    try:
        with open(path, "wb") as fh, current_app.test_request_context(query_string={"lang": "vi"}):
            n = imports.write_export(kind, path, fh)
    except imports.FileProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{n} dòng.")


@click.command("ranking")
@click.option("--org", "org_code", required=True, help="Organisation code: its child units are ranked.")
@click.option("--year", type=int, required=True)
@click.option("--quarter", type=click.IntRange(1, 4))
@click.option("--rules", type=click.Choice(sorted(rankings.PRESETS)), default="khanh-hoa", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_appcontext
def ranking_command(org_code: str, year: int, quarter: int | None, rules: str, fmt: str) -> None:
    """Rank the units of an organisation for a year or quarter, with the rule that decided each rank."""
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    with current_app.test_request_context(query_string={"lang": "vi"}):
        rows = rankings.rank(org, year, quarter, rules)
    click.echo(rankings.as_json(rows) if fmt == "json" else rankings.as_table(rows))


commands = [import_command, export_command, ranking_command]
