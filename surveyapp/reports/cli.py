"""The report commands: ``flask report`` prints a subtree's indices; ``flask report-refresh``
builds the rollups ahead of requests (for a nightly cron job)."""
from __future__ import annotations

import csv
import io
import json
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..documents.report import filed_bytes, header_from
from ..extensions import db
from ..models import Organisation
from .exports import inert
from .filters import FilterError, parse_filters
from .layout import CSV_HEADER, report_json, report_rows, upward_report
from .rollups import refresh_rollups


@click.command("report")
@click.option("--org", "org_code", required=True, help="Organisation code: the subtree to report on.")
@click.option("--from", "date_from", help="First day (YYYY-MM-DD); default: twelve months back.")
@click.option("--to", "date_to", help="Last day (YYYY-MM-DD); default: today.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "docx", "pdf"]), default="table",
              show_default=True, help="docx/pdf: the filed báo cáo (Decree 30 layout); needs --out.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="File for docx/pdf.")
@click.option("--include-flagged", is_flag=True, help="Count flagged responses too.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--number", default="", help="Document number (empty: left for the clerk).")
@click.option("--symbol", default=None, help="Number symbol; default: the REPORT_NUMBER_SYMBOL setting.")
@click.option("--agency", default=None, help="Issuing agency; default: the organisation's name.")
@click.option("--managing-agency", default="", help="Managing agency, above the issuing one.")
@click.option("--place", default="", help="Place in the date line.")
@click.option("--date", "issued", default=None, help="Date of the document (YYYY-MM-DD); default: today.")
@click.option("--signer-prefix", default="", help="TM., KT., Q. or empty.")
@click.option("--signer-authority", default="")
@click.option("--signer-title", default="")
@click.option("--signer-name", default="")
@click.option("--recipient", "recipients", multiple=True, help="A recipient (repeat the option).")
@with_appcontext
def report_command(org_code: str, date_from: str | None, date_to: str | None, fmt: str, include_flagged: bool,
                   lang: str, out_path: str | None = None, **header) -> None:
    """Print indices, intervals and target status for an organisation subtree.

    Complete months and days are read from the rollups, built on first use; run
    ``flask report-refresh`` from cron (e.g. daily at 01:30) to build them ahead of requests.
    """
    # Labels are translated per request; a request context carries the chosen language.
    with current_app.test_request_context(query_string={"lang": lang}):
        _report_command(org_code, date_from, date_to, fmt, include_flagged, lang, out_path, header)


def _report_command(org_code, date_from, date_to, fmt, include_flagged, lang, out_path=None, header=None) -> None:
    if fmt in ("docx", "pdf") and not out_path:
        raise click.BadParameter("--format docx/pdf writes a file: give --out FILE", param_hint="--out")
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    try:
        f = parse_filters({"from": date_from, "to": date_to, "include_flagged": "1" if include_flagged else "0"})
    except FilterError as exc:
        raise click.BadParameter(str(exc)) from None
    report = upward_report(org, f, lang)
    if fmt in ("docx", "pdf"):
        try:
            h = header_from(org, f, **header)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        data = filed_bytes(report, h, fmt, lang)
        with open(out_path, "wb") as fh:
            fh.write(data)
        click.echo(f"{out_path}: {len(data)} bytes")
        return
    # json and csv: the upward layout of docs/REPORTING.md; table: its first nine columns.
    if fmt == "json":
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        writer.writerows([inert(v) for v in row] for row in report_rows(report))
        click.echo(out.getvalue(), nl=False)
    else:
        header = CSV_HEADER[:9]
        rows = [header] + [row[:9] for row in report_rows(report)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        click.echo(f"{report.scope_label} ({org.code}) {f.date_from} – {f.date_to}")
        for r in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


@click.command("report-refresh")
@click.option("--months", type=int, default=None,
              help="How many complete months back to roll up; default: 25 (a year and the year before), or "
                   "more to reach the first stored response (with --rebuild: 25).")
@click.option("--rebuild", is_flag=True, help="Recompute those months and days even if already rolled up.")
@with_appcontext
def report_refresh_command(months: int | None, rebuild: bool) -> None:
    """Precompute the report rollups of every complete day and month (for a nightly cron job).

    Reports build a missing day or month on first use anyway; this moves that work off the
    requests, so that any period (whole months, edges mid-month, the previous period) reads
    only rollups and today's answers. Only what is missing is built: a night costs one day.
    """
    t0 = time.perf_counter()
    done = refresh_rollups(months, rebuild=rebuild)
    click.echo(f"{done.months} month(s) rolled up, {done.months_present} already present; "
               f"{done.days} day(s) rolled up, {done.days_present} already present "
               f"({time.perf_counter() - t0:.1f} s).")


commands = [report_command, report_refresh_command]
