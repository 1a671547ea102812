"""What a report describes: its period, filters and scope, and the SQL clauses that select them.

Periods are calendar dates in the configured local zone (:mod:`surveyapp.clock`); stored
times are UTC. Every query of the reports applies the filters through :func:`clauses` and
the scope through :func:`scope_condition`, so that a filter means the same thing on the
raw answers, the rollup cells, the comments and the exports.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import clock
from ..models import CHANNELS, SECTORS, Organisation, ReportRollup, Response


class FilterError(ValueError):
    """A filter in the URL or on the command line is invalid; the message is for the user."""


@dataclass(frozen=True)
class Filters:
    """What a report describes. Default period: the last twelve calendar months, this one included."""

    date_from: date
    date_to: date
    sector: str | None = None
    channel: str | None = None
    survey_id: int | None = None
    include_flagged: bool = False

    def args(self) -> dict[str, str]:
        """The filters as URL query arguments (bookmarkable; defaults left out only when empty)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.sector:
            out["sector"] = self.sector
        if self.channel:
            out["channel"] = self.channel
        if self.survey_id:
            out["survey"] = str(self.survey_id)
        if self.include_flagged:
            out["include_flagged"] = "1"
        return out

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        days = (self.date_to - self.date_from).days + 1
        return replace(self, date_from=self.date_from - timedelta(days=days), date_to=self.date_from - timedelta(days=1))

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in stored UTC time for the local calendar dates of the period."""
        return clock.day_bounds_utc(self.date_from, self.date_to)


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or clock.today()
    y, m = today.year, today.month - 11
    if m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, 1), today


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(_("Ngày không hợp lệ ở mục %(name)s: dùng dạng NNNN-TT-NN.", name=name)) from None


def parse_filters(args, today: date | None = None) -> Filters:
    """Filters from request args (or any mapping); raises :class:`FilterError` with a user message."""
    d_from, d_to = default_period(today)
    if args.get("from"):
        d_from = _parse_date(args["from"], "from")
    if args.get("to"):
        d_to = _parse_date(args["to"], "to")
    if d_to < d_from:
        raise FilterError(_("Ngày kết thúc phải sau ngày bắt đầu."))
    if (d_to - d_from).days > 3660:
        raise FilterError(_("Khoảng thời gian tối đa là 10 năm."))
    sector = args.get("sector") or None
    if sector is not None and sector not in SECTORS:
        raise FilterError(_("Lĩnh vực không hợp lệ."))
    channel = args.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise FilterError(_("Kênh không hợp lệ."))
    survey_id = None
    if args.get("survey"):
        try:
            survey_id = int(args["survey"])
        except ValueError:
            raise FilterError(_("Đợt khảo sát không hợp lệ.")) from None
    include_flagged = str(args.get("include_flagged") or "0") in ("1", "true", "on", "yes")
    return Filters(d_from, d_to, sector, channel, survey_id, include_flagged)


# ---------------------------------------------------------------------------------------------
# The filters in SQL


def scope_condition(root: Organisation | None, sector: str | None):
    """Organisations in ``root``'s subtree (all when None), of ``sector`` when given."""
    cond = sa.true()
    if root is not None:
        cond = sa.and_(cond, Organisation.path.startswith(root.path, autoescape=True))
    if sector:
        cond = sa.and_(cond, Organisation.sector == sector)
    return cond


def within(column, ranges: list[tuple[datetime, datetime]]):
    """``column`` inside one of the half-open UTC ``ranges``."""
    return sa.or_(*(sa.and_(column >= a, column < b) for a, b in ranges))


def clauses(f: Filters | None, *, rollups: bool = False, time=None,
            ranges: list[tuple[datetime, datetime]] | None = None) -> list:
    """The WHERE clauses of ``f``'s flag, channel and survey filters: on the responses, or on
    the rollup cells (``rollups``). ``time``: a stored-time column to bound as well, to the
    period's local days or to ``ranges``. ``f`` None: no filter (the rollup builder)."""
    out = []
    if time is not None:
        out.append(within(time, ranges if ranges is not None else [f.utc_bounds()]))
    if f is None:
        return out
    if not f.include_flagged:
        out.append(ReportRollup.flagged.is_(False) if rollups else Response.flag.is_(None))
    if f.channel:
        out.append((ReportRollup.channel if rollups else Response.channel) == f.channel)
    if f.survey_id:
        out.append((ReportRollup.survey_id if rollups else Response.survey_id) == f.survey_id)
    return out


# ---------------------------------------------------------------------------------------------
# Months


def month_key(d: date) -> int:
    """A calendar month as one integer, year * 12 + month - 1."""
    return d.year * 12 + d.month - 1


def month_label(key: int) -> str:
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


def month_first_day(key: int) -> date:
    y, m = divmod(int(key), 12)
    return date(y, m + 1, 1)


def month_start_utc(key: int) -> datetime:
    """Stored (UTC) time at which local month ``key`` begins."""
    return clock.day_start_utc(month_first_day(key))


def month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
