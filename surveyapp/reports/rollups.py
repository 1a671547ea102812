"""Rollups: the moment cells of complete days and months, kept so that a report reads them
instead of the raw answers, and the one function that gathers a report's data.

A local day that ended more than ``ROLLUP_MARGIN`` ago never changes: responses are immutable
and ``submitted_at`` is the server receipt time (late kiosk syncs carry the time they arrived),
so the margin only covers requests in flight at midnight. Its moment cells per survey, service
point, channel and flag are computed once from the raw answers and kept in ``report_rollup``
(``day`` 1-31). A complete month's cells (``day`` 0) are the sums of its day cells, kept too so
that a long period reads one row per month instead of thirty. A report reads month cells for
the complete months of its period (and of the previous period), day cells for their other
complete days (partial months at the edges, the current month), and the raw answers for the
rest: today (and yesterday within the margin after midnight). Cells add up exactly
(whole-number sums), so the numbers are those of the raw path. Day cells are never pruned:
any period, whatever its edges, is whole months plus whole days plus today.

A missing day or month is built on first use; ``flask report-refresh`` (nightly) builds every
one ahead, so that no request pays for it. ``REPORT_ROLLUPS = False`` in the config disables
rollups.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import numpy as np
import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..clock import day_bounds_utc, day_start_utc
from ..extensions import db
from ..models import Organisation, Questionnaire, ReportRollup, Response, ServicePoint, Survey
from .estimates import Cells, Layout, cells_of, empty_cells, layout_for, positions_key
from .filters import Filters, clauses, month_end, month_first_day, month_key
from .queries import (
    EPOCH,
    Respondents,
    concat_respondents,
    raw_respondents,
    scope_service_point_ids,
)

ROLLUP_MARGIN = timedelta(hours=1)


def complete_month_limit(now: datetime | None = None) -> int:
    """Month keys below this are complete: they ended more than ``ROLLUP_MARGIN`` before ``now`` (UTC)."""
    return month_key(clock.to_local((now or clock.now_utc()) - ROLLUP_MARGIN).date())


def rollups_enabled() -> bool:
    """``REPORT_ROLLUPS = False`` in the app config computes every report from the raw answers."""
    return bool(current_app.config["REPORT_ROLLUPS"])


def complete_day_limit(now: datetime | None = None) -> date:
    """Local days before this one are complete: they ended more than ``ROLLUP_MARGIN`` before ``now`` (UTC)."""
    return clock.to_local((now or clock.now_utc()) - ROLLUP_MARGIN).date()


def split_period(f: Filters, limit: date) -> tuple[list[int], list[date], list[tuple[datetime, datetime]]]:
    """``f``'s dates split into the complete months lying wholly inside them, the other complete
    days (before ``limit``, see :func:`complete_day_limit`), and the UTC range left for raw
    answers (the days from ``limit`` on: today, within the margin yesterday too)."""
    months: list[int] = []
    days: list[date] = []
    d = f.date_from
    while d <= f.date_to and d < limit:
        end = month_end(d)
        if d.day == 1 and end <= f.date_to and end < limit:
            months.append(month_key(d))
            d = end + timedelta(days=1)
        else:
            days.append(d)
            d += timedelta(days=1)
    ranges = [day_bounds_utc(d, f.date_to)] if d <= f.date_to else []
    return months, days, ranges


def _merge_ranges(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def first_stored_month() -> int | None:
    """The local month of the first stored response (None: no response yet)."""
    first = db.session.scalar(sa.select(sa.func.min(Response.submitted_at)))
    return None if first is None else month_key(clock.to_local(first).date())


def rolled_up_months(keys: Iterable[int]) -> set[int]:
    keys = sorted({int(k) for k in keys})
    if not keys:
        return set()
    return set(db.session.scalars(sa.select(ReportRollup.month).where(
        ReportRollup.month.in_(keys), ReportRollup.day == 0, ReportRollup.survey_id == 0,
        ReportRollup.service_point_id == 0)))


def rolled_up_days(days: Iterable[date]) -> set[date]:
    wanted = {d for d in days}
    if not wanted:
        return set()
    rows = db.session.execute(sa.select(ReportRollup.month, ReportRollup.day).where(
        ReportRollup.month.in_(sorted({month_key(d) for d in wanted})), ReportRollup.day != 0,
        ReportRollup.survey_id == 0, ReportRollup.service_point_id == 0))
    return {date(m // 12, m % 12 + 1, d) for m, d in rows} & wanted


def _rolled_up(months: list[int], days: list[date]) -> tuple[set[int], set[date]]:
    """:func:`rolled_up_months` and :func:`rolled_up_days` in one query."""
    if not months and not days:
        return set(), set()
    rows = db.session.execute(sa.select(ReportRollup.month, ReportRollup.day).where(
        ReportRollup.survey_id == 0, ReportRollup.service_point_id == 0,
        sa.or_(sa.and_(ReportRollup.day == 0, ReportRollup.month.in_(sorted(set(months)) or [-1])),
               sa.and_(ReportRollup.day != 0, ReportRollup.month.in_(sorted({month_key(d) for d in days}) or [-1])))))
    have_months, have_days = set(), set()
    for m, d in rows:
        if d == 0:
            have_months.add(m)
        else:
            have_days.add(date(m // 12, m % 12 + 1, d))
    return have_months & set(months), have_days & set(days)


def _runs(items: list, step) -> list[list]:
    """Sorted ``items`` cut into runs of consecutive ones (``step(a) == b``)."""
    runs: list[list] = []
    for k in items:
        if runs and step(runs[-1][-1]) == k:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def _store_rows(rows: list[dict]) -> bool:
    """Cells and their markers, inserted and committed together: a concurrent builder that got
    there first makes the unique key refuse ours, and its rows hold the same numbers. Returns
    whether ours were stored."""
    try:
        db.session.execute(sa.insert(ReportRollup), rows)
        db.session.commit()
    except sa.exc.IntegrityError:
        # A report request writes nothing else, so rolling its transaction back loses nothing.
        db.session.rollback()
        return False
    return True


def _markers(units: list[tuple[int, int]], rows: list[dict]) -> list[dict]:
    """The marker row of each (month, day) unit: survey and service point 0, all its respondents."""
    totals = {u: 0 for u in units}
    for row in rows:
        totals[(row["month"], row["day"])] += row["respondents"]
    return [{"month": m, "day": d, "survey_id": 0, "service_point_id": 0, "channel": "", "flagged": False,
             "respondents": totals[(m, d)], "dissatisfied": 0, "positions": "", "moments": b""} for m, d in units]


def _store_days(days: list[date]) -> bool:
    """One raw pass over the consecutive local ``days``, for every service point, survey,
    channel and flag (a rollup serves every scope and filter), stored as their day cells and
    markers."""
    start, end = day_start_utc(days[0]), day_start_utc(days[-1] + timedelta(days=1))
    # Every service point named, so that the answers are read through their (point, time)
    # index: a bare time range would scan every stored answer.
    every_point = list(db.session.scalars(sa.select(ServicePoint.id)))
    r = raw_respondents([(start, end)], None, every_point, by_day=True)
    layouts = {q.id: layout_for(q) for q in db.session.scalars(
        sa.select(Questionnaire).where(Questionnaire.id.in_([int(i) for i in np.unique(r.questionnaire)])))}
    rows = []
    for qid, lay in layouts.items():
        mine = r.take(r.questionnaire == qid)
        first, n, dis, sums, cross = cells_of(mine, lay, [mine.survey, mine.sp, mine.kiosk.astype(np.int64),
                                                          mine.month, mine.flagged.astype(np.int64)])
        # Cross products of 0/1 indicators and their sums are whole numbers: int64 is exact.
        blob = np.rint(np.concatenate([sums, cross], axis=1)).astype("<i8")
        pos = positions_key(lay)
        for g, i in enumerate(first):
            d = EPOCH + timedelta(days=int(mine.month[i]))
            rows.append({"month": month_key(d), "day": d.day, "survey_id": int(mine.survey[i]),
                         "service_point_id": int(mine.sp[i]), "channel": "kiosk" if mine.kiosk[i] else "qr",
                         "flagged": bool(mine.flagged[i]), "respondents": int(round(n[g])),
                         "dissatisfied": int(round(dis[g])), "positions": pos, "moments": blob[g].tobytes()})
    return _store_rows(rows + _markers([(month_key(d), d.day) for d in days], rows))


def _store_month(key: int) -> bool:
    """Month ``key``'s cells as the sums of its day cells (all of them present), with its marker."""
    cells = db.session.execute(sa.select(
        ReportRollup.survey_id, ReportRollup.service_point_id, ReportRollup.channel, ReportRollup.flagged,
        ReportRollup.respondents, ReportRollup.dissatisfied, ReportRollup.positions, ReportRollup.moments,
    ).where(ReportRollup.month == key, ReportRollup.day != 0, ReportRollup.survey_id != 0)).all()
    groups: dict[tuple, list] = {}
    for survey, sp, channel, flagged, n, dis, pos, blob in cells:
        g = groups.get((survey, sp, channel, flagged))
        moments = np.frombuffer(bytes(blob), dtype="<i8")  # psycopg gives memoryviews
        if g is None:
            groups[(survey, sp, channel, flagged)] = [n, dis, pos, moments.copy()]
        elif g[2] != pos:
            # One survey's questionnaire is frozen once it has responses (Questionnaire.is_frozen).
            raise RuntimeError(f"day rollups of survey {survey} in month {key} disagree on their index items; "
                               "run `flask report-refresh --rebuild`")
        else:
            g[0] += n
            g[1] += dis
            g[3] += moments
    rows = [{"month": key, "day": 0, "survey_id": survey, "service_point_id": sp, "channel": channel,
             "flagged": flagged, "respondents": n, "dissatisfied": dis, "positions": pos,
             "moments": moments.astype("<i8").tobytes()}
            for (survey, sp, channel, flagged), (n, dis, pos, moments) in groups.items()]
    return _store_rows(rows + _markers([(key, 0)], rows))


def days_of_month(key: int) -> list[date]:
    first = month_first_day(key)
    return [first + timedelta(days=i) for i in range(month_end(first).day)]


def ensure_rollups(keys: Iterable[int]) -> list[int]:
    """Roll up the complete months among ``keys`` that are not yet; returns those built. Each is
    the sum of its day cells, the missing ones built first (:func:`ensure_day_rollups`)."""
    limit = complete_month_limit()
    wanted = sorted({int(k) for k in keys if int(k) < limit})
    done = rolled_up_months(wanted)
    missing = [k for k in wanted if k not in done]
    if not missing:
        return []
    days = [d for k in missing for d in days_of_month(k)]
    ensure_day_rollups(days)
    if rolled_up_days(days) != set(days):
        # Never a month marker over missing days: its report would silently lack them.
        raise RuntimeError("day rollups missing after building them")
    # A month a concurrent builder stored first is refused by the unique key: not ours, but there.
    return [k for k in missing if _store_month(k)]


def ensure_day_rollups(days: Iterable[date]) -> list[date]:
    """Roll up the complete local days among ``days`` that are not yet; returns those built.
    One raw pass per run of consecutive missing days within one month (a month bounds the
    memory of one pass)."""
    limit = complete_day_limit()
    wanted = sorted({d for d in days if d < limit})
    done = rolled_up_days(wanted)
    built = []
    one = timedelta(days=1)
    for run in _runs([d for d in wanted if d not in done], lambda d: d + one if (d + one).day != 1 else None):
        if _store_days(run):
            built += run
        elif len(run) > 1:
            # A concurrent builder's run may have covered only part of ours: the rest one by one.
            have = rolled_up_days(run)
            built += [d for d in run if d not in have and _store_days([d])]
    return built


@dataclass
class Rollups:
    """Rollup cells read for a report: one row per (survey, service point, channel, month or day, flag)."""

    sp: np.ndarray
    kiosk: np.ndarray
    questionnaire: np.ndarray
    month: np.ndarray
    current: np.ndarray
    n: np.ndarray
    dissatisfied: np.ndarray
    positions: np.ndarray  # str per row
    moments: np.ndarray  # bytes per row

    def take(self, mask: np.ndarray) -> Rollups:
        return Rollups(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return int(self.sp.size)


def _unit_code(month, day):
    """One integer per (month key, day) pair, day 0 for a month cell."""
    return np.asarray(month, dtype=np.int64) * 32 + np.asarray(day, dtype=np.int64)


def _read_rollups(months: list[int], days: list[date], current: set[tuple[int, int]], sp_ids: list[int],
                  f: Filters) -> Rollups:
    """The cells of whole ``months`` and of single ``days``; ``current``: the (month, day)
    units of the report's own period (the others are the previous period's)."""
    rows = []
    span: dict[int, tuple[int, int]] = {}
    for d in days:
        lo, hi = span.get(month_key(d), (d.day, d.day))
        span[month_key(d)] = (min(lo, d.day), max(hi, d.day))
    if (months or days) and sp_ids:
        # Each month's wanted days as one range of the unique key (month, day, ...).
        units = [sa.and_(ReportRollup.month == m, ReportRollup.day.between(lo, hi)) for m, (lo, hi) in span.items()]
        if months:
            units.append(sa.and_(ReportRollup.day == 0, ReportRollup.month.in_(months)))
        stmt = (sa.select(ReportRollup.service_point_id, ReportRollup.channel, ReportRollup.survey_id,
                          ReportRollup.month, ReportRollup.day, ReportRollup.respondents,
                          ReportRollup.dissatisfied, ReportRollup.positions, ReportRollup.moments,
                          Survey.questionnaire_id)
                .join(Survey, Survey.id == ReportRollup.survey_id)
                .where(sa.or_(*units), ReportRollup.survey_id != 0, ReportRollup.service_point_id.in_(sp_ids),
                       *clauses(f, rollups=True)))
        rows = db.session.execute(stmt).all()
    if rows:
        # A month's range may span days of both periods and a gap between them: cut to the
        # wanted days.
        code = _unit_code([r[3] for r in rows], [r[4] for r in rows])
        wanted = [month_key(d) * 32 + d.day for d in days] + [m * 32 for m in months]
        keep = np.flatnonzero(np.isin(code, wanted))
        rows = [rows[i] for i in keep]
        code = code[keep]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Rollups(empty, empty.astype(bool), empty, empty, empty.astype(bool), empty.astype(np.float64),
                       empty.astype(np.float64), np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    sp, chan, _survey, mon, _day, n, dis, pos, blob, questionnaire = zip(*rows)
    month = np.asarray(mon, dtype=np.int64)
    return Rollups(
        sp=np.asarray(sp, dtype=np.int64),
        kiosk=np.asarray([c == "kiosk" for c in chan], dtype=bool),
        questionnaire=np.asarray(questionnaire, dtype=np.int64),
        month=month,
        current=np.isin(code, [m * 32 + d for m, d in current]),
        n=np.asarray(n, dtype=np.float64),
        dissatisfied=np.asarray(dis, dtype=np.float64),
        positions=np.asarray(pos, dtype=object),
        moments=np.asarray([bytes(b) for b in blob], dtype=object),  # psycopg gives memoryviews
    )


@dataclass
class ReportData:
    """What a report reads: rollup cells for the complete months, respondent rows for the rest."""

    raw: Respondents
    rolled: Rollups

    def only_sp(self, sp_id: int) -> ReportData:
        return ReportData(self.raw.take(self.raw.sp == sp_id), self.rolled.take(self.rolled.sp == sp_id))

    def sp_ids(self) -> np.ndarray:
        return np.unique(np.concatenate([self.raw.sp, self.rolled.sp]))

    def questionnaire_ids(self) -> list[int]:
        return [int(q) for q in np.unique(np.concatenate([self.raw.questionnaire, self.rolled.questionnaire]))]

    @property
    def current_respondents(self) -> int:
        return int(round(self.raw.count[self.raw.current].sum() + self.rolled.n[self.rolled.current].sum()))

    @property
    def total(self) -> int:
        return int(round(self.raw.count.sum() + self.rolled.n.sum()))

    def cells(self, qid: int, lay: Layout) -> Cells:
        """The questionnaire's cells: raw rows folded per (point, channel, month, period), then the rollups."""
        j2 = 2 * lay.positions.size
        r = self.raw.take(self.raw.questionnaire == qid)
        parts = []
        if len(r):
            first, n, dis, sums, cross = cells_of(r, lay, [r.sp, r.kiosk.astype(np.int64), r.month,
                                                            r.current.astype(np.int64)])
            parts.append(Cells(r.sp[first], r.kiosk[first], r.month[first], r.current[first], n, dis, sums, cross))
        ru = self.rolled.take(self.rolled.questionnaire == qid)
        if len(ru):
            pos = positions_key(lay)
            if any(p != pos for p in ru.positions):
                # Questionnaires with responses are frozen (models.Questionnaire.is_frozen), so
                # stored cells always match; if one was edited in place, refuse to mix items.
                raise RuntimeError(f"report rollups of questionnaire {qid} do not match its index items; "
                                   "run `flask report-refresh --rebuild`")
            m = np.frombuffer(b"".join(ru.moments), dtype="<i8").reshape(len(ru), -1).astype(np.float64)
            parts.append(Cells(ru.sp, ru.kiosk, ru.month, ru.current, ru.n, ru.dissatisfied, m[:, :j2], m[:, j2:]))
        if not parts:
            return empty_cells(lay)
        return Cells(*(np.concatenate([getattr(p, fld) for p in parts]) for fld in Cells.__dataclass_fields__))


def fetch_respondents(root: Organisation | None, f: Filters, with_previous: bool = True,
                      rollups: bool | None = None) -> ReportData:
    """The period's (and the previous one's) index answers: rollup cells for complete months
    and the other complete days (built on first use), one aggregate query over the raw answers
    for the remaining time (today)."""
    use = rollups_enabled() if rollups is None else rollups
    periods = [f, f.previous()] if with_previous else [f]
    cur_start, _end = f.utc_bounds()
    limit = complete_day_limit()
    months: list[int] = []
    days: list[date] = []
    current: set[tuple[int, int]] = set()
    ranges: list[tuple[datetime, datetime]] = []
    for i, p in enumerate(periods):
        if use:
            ms, ds, rs = split_period(p, limit)
        else:
            ms, ds, rs = [], [], [p.utc_bounds()]
        months += ms
        days += ds
        ranges += rs
        if i == 0:
            current = {(m, 0) for m in ms} | {(month_key(d), d.day) for d in ds}
    # Built before the raw query: building commits, which would end its SET LOCALs. One look
    # at the markers first: after the nightly refresh nothing is missing.
    have_months, have_days = _rolled_up(months, days)
    if set(months) - have_months:
        ensure_rollups(months)
    if set(days) - have_days:
        ensure_day_rollups(days)
    # The service points in scope, looked up once: the answers are then filtered on their own
    # column, and the big aggregate touches no other table than the tiny question table.
    sp_ids = scope_service_point_ids(root, f)
    # One query per time range (today; with rollups disabled, each period): each is then an
    # index range scan, where an OR of ranges can be planned as a scan of far more answers.
    raw = concat_respondents([raw_respondents([r], cur_start, sp_ids, f) for r in _merge_ranges(ranges)])
    return ReportData(raw, _read_rollups(months, days, current, sp_ids, f))


@dataclass(frozen=True)
class Refreshed:
    """What one refresh did: rollups built, and those already present."""
    months: int
    months_present: int
    days: int
    days_present: int


def refresh_rollups(months: int | None = None, *, rebuild: bool = False) -> Refreshed:
    """Roll up every complete day and month ahead of requests, so that any period (whole months,
    edges mid-month, the previous period) reads only rollups and today's answers.

    ``months`` complete months back (default: 25, a year and the year before, or further back to
    the first stored response); ``rebuild`` recomputes them. Only what is missing is built, so a
    night costs one day. ``flask report-refresh`` and the worker's nightly job both run this;
    committed here."""
    limit = complete_month_limit()
    if months is not None:
        start = limit - max(months, 0)
    else:
        start = limit - 25
        first = None if rebuild else first_stored_month()
        if first is not None:
            start = min(start, first)
    keys = list(range(start, limit))
    day_limit = complete_day_limit()
    this_month = day_limit.replace(day=1)
    days = [d for k in keys for d in days_of_month(k)]
    days += [this_month + timedelta(days=i) for i in range((day_limit - this_month).days)]
    if rebuild and days:
        db.session.execute(sa.delete(ReportRollup).where(ReportRollup.month.in_(keys + [month_key(this_month)])))
    db.session.commit()
    built_days = ensure_day_rollups(days)
    built = ensure_rollups(keys)
    db.session.commit()
    return Refreshed(len(built), len(keys) - len(built), len(built_days), len(days) - len(built_days))
