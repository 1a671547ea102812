"""The worker's one door into the reports code: the nightly rollup refresh, the digests' report
and the below-target rule's verdict all go through these functions, so that a move of the
reports module changes one import here."""
from __future__ import annotations

from datetime import date

import click
from flask_babel import force_locale

from ..reports import cli as report_cli
from ..reports.filters import Filters
from ..reports.model import build_report
from ..reports.verdicts import STATUS_LABELS


def refresh_report_rollups(months: int | None = None) -> None:
    """What ``flask report-refresh`` does: roll up every complete day and month ahead of requests."""
    with click.Context(report_cli.report_refresh_command) as ctx:
        ctx.invoke(report_cli.report_refresh_command, months=months, rebuild=False)


def scope_report(root, date_from: date, date_to: date, lang: str = "vi", service_point=None):
    """The report (as on the dashboard) of ``root``'s subtree or of one service point for a period,
    in ``lang`` (the worker has no request to take a language from)."""
    with force_locale(lang):
        return build_report(root, Filters(date_from=date_from, date_to=date_to), lang=lang,
                            service_point=service_point)


__all__ = ["STATUS_LABELS", "refresh_report_rollups", "scope_report"]
