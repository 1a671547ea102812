"""Report assembly: SQL aggregation handed to ``analysis``; one path for dashboard, exports and CLI.

The database does the heavy part in one pass over the answers: it folds each response's
index answers into two bit masks (bit = question position; answered, satisfied), so
that Python receives one small row per respondent instead of one per answer. From those
masks NumPy builds per-group sums and cross products (the moments form of
``analysis.composite_from_moments``), and ``analysis`` does all the statistics with the
respondent as the cluster. Every index is computed by :func:`build_report`, so the
dashboard, the exports and ``flask report`` agree by construction.

Periods are calendar dates in Vietnam time (UTC+7): stored times are UTC.

Monthly rollups: a local month that ended more than an hour ago never changes (responses are
immutable and stamped with the server receipt time), so its moment cells per survey, service
point, channel and flag are computed once and kept in ``report_rollup``. A report sums the
cells of the complete months of its period (and of the previous period), the daily cells
of its other complete days, and runs the raw aggregate only over the rest: today. Cells add
up exactly (whole-number sums), so the numbers are those of the raw path. A missing month or
day is built on first use; ``flask report-refresh [--months N] [--rebuild]`` builds them
ahead, for a cron job. ``REPORT_ROLLUPS = False`` in the config disables them.

Daily rollups: the same for complete local days outside complete months (the current month's
elapsed days, partial months at the edges of a custom period or of the previous period), kept
as cells with ``day`` 1-31 next to the month cells (``day`` 0). Only today (and yesterday
within the margin after midnight) is then read from the raw answers.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable

import click
import numpy as np
import sqlalchemy as sa
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import analysis

from .cases.service import comments_handled_condition
from .extensions import db
from .models import (
    CHANNELS,
    SECTORS,
    Answer,
    Option,
    Organisation,
    Question,
    Questionnaire,
    ReportRollup,
    Response,
    ServicePoint,
    ServiceVolume,
    Survey,
    Target,
)

LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving
LEVEL = 0.95
KHANH_HOA = analysis.KHANH_HOA_POLICY

STATUS_LABELS = {
    "met": _l("Đạt"),
    "not_met": _l("Không đạt"),
    "inconclusive": _l("Chưa đủ căn cứ"),
    "no_target": _l("Chưa có chỉ tiêu"),
    "no_data": _l("Chưa có dữ liệu"),
}
INDICATOR_LABELS = {
    "composite": _l("Chỉ số hài lòng tổng hợp"),
    "overall_rate": _l("Tỷ lệ hài lòng chung"),
    "quick": _l("Chỉ số đánh giá nhanh"),
    "procedure": _l("Hài lòng về giải quyết thủ tục"),
}
CHANNEL_LABELS = {"qr": _l("Mã QR"), "kiosk": _l("Máy đánh giá tại quầy")}
SECTOR_LABELS = {"administrative": _l("Hành chính"), "health": _l("Y tế"), "education": _l("Giáo dục")}


class FilterError(ValueError):
    """A filter in the URL or on the command line is invalid; the message is for the user."""


# ---------------------------------------------------------------------------------------------
# Filters


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


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or (datetime.utcnow() + LOCAL_OFFSET).date()
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


def _utc_bounds(f: Filters) -> tuple[datetime, datetime]:
    """[start, end) in stored UTC time for the local calendar dates of ``f``."""
    return (datetime.combine(f.date_from, datetime.min.time()) - LOCAL_OFFSET,
            datetime.combine(f.date_to + timedelta(days=1), datetime.min.time()) - LOCAL_OFFSET)


def _month_key(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_label(key: int) -> str:
    return f"{key // 12:04d}-{key % 12 + 1:02d}"


# ---------------------------------------------------------------------------------------------
# SQL: one row per respondent, and the monthly rollups


@dataclass
class Respondents:
    """Per respondent: service point, channel, survey and its questionnaire, local month,
    current/previous period, flagged, and bit masks of the index questions answered and
    satisfied (bit = question position). Respondents with identical values are folded into
    one row with a ``count``."""

    sp: np.ndarray
    kiosk: np.ndarray
    survey: np.ndarray
    questionnaire: np.ndarray
    month: np.ndarray
    current: np.ndarray
    flagged: np.ndarray
    answered: np.ndarray
    satisfied: np.ndarray
    count: np.ndarray  # respondents sharing this row's values (identical answer patterns are folded)

    def take(self, mask: np.ndarray) -> Respondents:
        return Respondents(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return int(self.sp.size)

    @property
    def total(self) -> int:
        return int(self.count.sum())


def _no_respondents() -> Respondents:
    empty = np.zeros(0, dtype=np.int64)
    return Respondents(empty, empty.astype(bool), empty, empty, empty, empty.astype(bool), empty.astype(bool),
                       empty, empty, empty.astype(np.float64))


def _local_month_expr(column):
    """Local (UTC+7) month as year*12 + month - 1, on either backend."""
    if db.engine.dialect.name == "postgresql":
        local = column + sa.text("INTERVAL '7 hours'")
        return (sa.extract("year", local) * 12 + sa.extract("month", local) - 1).cast(sa.Integer)
    local = sa.func.datetime(column, "+7 hours")
    return (sa.cast(sa.func.strftime("%Y", local), sa.Integer) * 12
            + sa.cast(sa.func.strftime("%m", local), sa.Integer) - 1)


def _local_day_expr(column):
    """Local (UTC+7) calendar day as days since 1970-01-01, on either backend."""
    if db.engine.dialect.name == "postgresql":
        local = column + sa.text("INTERVAL '7 hours'")
        return sa.func.floor(sa.extract("epoch", local) / 86400).cast(sa.Integer)
    # Stored times are after 1970, so truncation is the floor.
    return sa.cast(sa.func.julianday(sa.func.datetime(column, "+7 hours")) - 2440587.5, sa.Integer)


EPOCH = date(1970, 1, 1)


def scope_condition(root: Organisation | None, sector: str | None):
    """Organisations in ``root``'s subtree (all when None), of ``sector`` when given."""
    cond = sa.true()
    if root is not None:
        cond = sa.and_(cond, Organisation.path.startswith(root.path, autoescape=True))
    if sector:
        cond = sa.and_(cond, Organisation.sector == sector)
    return cond


def _raw_respondents(ranges: list[tuple[datetime, datetime]], cur_start: datetime | None,
                     sp_ids: list[int] | None, include_flagged: bool = True, channel: str | None = None,
                     survey_id: int | None = None, by_day: bool = False) -> Respondents:
    """One aggregate query over the raw answers stored in the UTC ``ranges``, per respondent.

    ``sp_ids`` None means every service point (the rollup builder). ``cur_start`` None: every
    row is "current" and the flag is kept as a column (the rollup builder keys cells by it).
    ``by_day``: the ``month`` column holds the local day (days since 1970-01-01) instead, for
    the builder of day cells.
    """
    if not ranges:
        return _no_respondents()
    bit = sa.cast(sa.literal(1), sa.BigInteger).op("<<")(Question.position)
    in_time = sa.or_(*(sa.and_(Answer.submitted_at >= a, Answer.submitted_at < b) for a, b in ranges))
    where = [Answer.satisfied.is_not(None), in_time]
    if sp_ids is not None:
        where.append(Answer.service_point_id.in_(sp_ids or [-1]))
    # Pass 1, over the answers: each respondent's index answers folded into two bit masks.
    per_response = (
        sa.select(
            Answer.response_id.label("rid"),
            sa.func.sum(bit).label("amask"),
            sa.func.sum(sa.case((Answer.satisfied == 1, bit), else_=0)).label("smask"),
        )
        .join(Question, Question.id == Answer.question_id)
        .where(*where)
        .group_by(Answer.response_id)
    ).subquery()
    # Pass 2, over one row per respondent: the response's own columns, then identical
    # respondents folded together.
    cols = [
        Response.service_point_id,
        Response.channel,
        Response.survey_id,
        (_local_day_expr if by_day else _local_month_expr)(Response.submitted_at),
        sa.literal(1) if cur_start is None else sa.case((Response.submitted_at >= cur_start, 1), else_=0),
        sa.case((Response.flag.is_not(None), 1), else_=0) if cur_start is None else sa.literal(0),
        per_response.c.amask,
        per_response.c.smask,
    ]
    stmt = (sa.select(*cols, sa.func.count())
            .select_from(per_response).join(Response, Response.id == per_response.c.rid)
            .where(sa.or_(*(sa.and_(Response.submitted_at >= a, Response.submitted_at < b) for a, b in ranges)))
            .group_by(*cols))
    # The same time range on the responses (answers repeat their response's time): without it
    # PostgreSQL joins the month's respondents against a scan of every stored response
    # (measured 0.3 s of a 1.0 s current-month query on 1M responses).
    if sp_ids is not None:
        stmt = stmt.where(Response.service_point_id.in_(sp_ids or [-1]))
    if not include_flagged:
        stmt = stmt.where(Response.flag.is_(None))
    if channel:
        stmt = stmt.where(Response.channel == channel)
    if survey_id:
        stmt = stmt.where(Response.survey_id == survey_id)
    if db.engine.dialect.name == "postgresql":
        # One big aggregate: JIT compilation costs more than it saves here, and the
        # per-response hash table should stay in memory.
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '128MB'"))
    rows = db.session.execute(stmt).all()
    if not rows:
        return _no_respondents()
    sp, chan, survey, mon, cur, flagged, amask, smask, count = zip(*rows)
    questionnaire_of = _questionnaire_of(set(survey))
    return Respondents(
        sp=np.asarray(sp, dtype=np.int64),
        kiosk=np.asarray([c == "kiosk" for c in chan], dtype=bool),
        survey=np.asarray(survey, dtype=np.int64),
        questionnaire=np.asarray([questionnaire_of[s] for s in survey], dtype=np.int64),
        month=np.asarray(mon, dtype=np.int64),
        current=np.asarray(cur, dtype=bool),
        flagged=np.asarray(flagged, dtype=bool),
        answered=np.asarray(amask, dtype=np.int64),
        satisfied=np.asarray(smask, dtype=np.int64),
        count=np.asarray(count, dtype=np.float64),
    )


def _questionnaire_of(survey_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted({int(s) for s in survey_ids})
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Survey.id, Survey.questionnaire_id).where(Survey.id.in_(ids))).all())


# Rollups. A local month or day that ended more than ROLLUP_MARGIN ago never changes: responses
# are immutable and ``submitted_at`` is the server receipt time (late kiosk syncs carry the time
# they arrived), so the margin only covers requests in flight at midnight. Its moment cells are
# computed once from the raw answers and kept in ``report_rollup`` (``day`` 0: a whole month);
# a report reads month cells for the complete months of its periods, day cells for their other
# complete days (the current month's, partial months at the edges) and the raw answers for the
# rest (today).

ROLLUP_MARGIN = timedelta(hours=1)


def month_start_utc(key: int) -> datetime:
    """Stored (UTC) time at which local month ``key`` begins."""
    y, m = divmod(int(key), 12)
    return datetime(y, m + 1, 1) - LOCAL_OFFSET


def complete_month_limit(now: datetime | None = None) -> int:
    """Month keys below this are complete: they ended more than ``ROLLUP_MARGIN`` before ``now`` (UTC)."""
    now = now or datetime.utcnow()
    return _month_key((now - ROLLUP_MARGIN + LOCAL_OFFSET).date())


def rollups_enabled() -> bool:
    """``REPORT_ROLLUPS = False`` in the app config computes every report from the raw answers."""
    from flask import current_app

    return bool(current_app.config.get("REPORT_ROLLUPS", True))


def complete_day_limit(now: datetime | None = None) -> date:
    """Local days before this one are complete: they ended more than ``ROLLUP_MARGIN`` before ``now`` (UTC)."""
    now = now or datetime.utcnow()
    return (now - ROLLUP_MARGIN + LOCAL_OFFSET).date()


def day_start_utc(d: date) -> datetime:
    """Stored (UTC) time at which local day ``d`` begins."""
    return datetime.combine(d, datetime.min.time()) - LOCAL_OFFSET


def _month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _split_period(f: Filters, limit: date) -> tuple[list[int], list[date], list[tuple[datetime, datetime]]]:
    """``f``'s dates split into the complete months lying wholly inside them, the other complete
    days (before ``limit``, see :func:`complete_day_limit`), and the UTC range left for raw
    answers (the days from ``limit`` on: today, within the margin yesterday too)."""
    months: list[int] = []
    days: list[date] = []
    d = f.date_from
    while d <= f.date_to and d < limit:
        end = _month_end(d)
        if d.day == 1 and end <= f.date_to and end < limit:
            months.append(_month_key(d))
            d = end + timedelta(days=1)
        else:
            days.append(d)
            d += timedelta(days=1)
    ranges = [(day_start_utc(d), day_start_utc(f.date_to + timedelta(days=1)))] if d <= f.date_to else []
    return months, days, ranges


def _merge_ranges(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _positions_key(lay: Layout) -> str:
    return ",".join(str(int(p)) for p in lay.positions)


def _pack_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each packed cross product (``analysis.cross_product_pairs`` order)."""
    return np.triu_indices(p)


def _cells_of(r: Respondents, lay: Layout, keys: list[np.ndarray]):
    """Moment cells of respondents ``r`` (one questionnaire) grouped by the columns ``keys``:
    (first row of each cell, n, dissatisfied, sums, packed cross)."""
    x = _columns(r, lay, False)
    _, first, codes = np.unique(np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True)
    codes = codes.ravel()
    g = first.size
    n, sums, cross = group_moments(x, codes, g, r.count)
    pooled = _columns(r, lay, True)
    dissatisfied = np.bincount(codes, weights=r.count * ((pooled[:, 1] - pooled[:, 0]) > 0), minlength=g)
    rows, cols = _pack_index(x.shape[1])
    return first, n, dissatisfied, sums, cross[:, rows, cols]


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
        ReportRollup.month.in_(sorted({_month_key(d) for d in wanted})), ReportRollup.day != 0,
        ReportRollup.survey_id == 0, ReportRollup.service_point_id == 0))
    return {date(m // 12, m % 12 + 1, d) for m, d in rows} & wanted


def _runs(items: list, step) -> list[list]:
    """Sorted ``items`` cut into runs of consecutive ones (``step(a) == b``)."""
    runs: list[list] = []
    for k in items:
        if runs and step(runs[-1][-1]) == k:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def _store_run(units: list[tuple[int, int]], start: datetime, end: datetime, by_day: bool) -> bool:
    """One raw pass over [start, end), for every service point, survey, channel and flag (a
    rollup serves every scope and filter), stored as the cells and markers of ``units``
    ((month, day) pairs, day 0 for a whole month). The rows and markers go in together and are
    committed at once: a concurrent builder that got there first makes the unique key refuse
    ours, and its rows hold the same numbers. Returns whether ours were stored."""
    r = _raw_respondents([(start, end)], None, None, by_day=by_day)
    layouts = {q.id: layout_for(q) for q in db.session.scalars(
        sa.select(Questionnaire).where(Questionnaire.id.in_([int(i) for i in np.unique(r.questionnaire)])))}
    rows = []
    for qid, lay in layouts.items():
        mine = r.take(r.questionnaire == qid)
        first, n, dis, sums, cross = _cells_of(mine, lay, [mine.survey, mine.sp, mine.kiosk.astype(np.int64),
                                                          mine.month, mine.flagged.astype(np.int64)])
        # Cross products of 0/1 indicators and their sums are whole numbers: int64 is exact.
        blob = np.rint(np.concatenate([sums, cross], axis=1)).astype("<i8")
        pos = _positions_key(lay)
        for g, i in enumerate(first):
            if by_day:
                d = EPOCH + timedelta(days=int(mine.month[i]))
                month, day = _month_key(d), d.day
            else:
                month, day = int(mine.month[i]), 0
            rows.append({"month": month, "day": day, "survey_id": int(mine.survey[i]),
                         "service_point_id": int(mine.sp[i]), "channel": "kiosk" if mine.kiosk[i] else "qr",
                         "flagged": bool(mine.flagged[i]), "respondents": int(round(n[g])),
                         "dissatisfied": int(round(dis[g])), "positions": pos, "moments": blob[g].tobytes()})
    totals = {u: 0 for u in units}
    for row in rows:
        totals[(row["month"], row["day"])] += row["respondents"]
    rows += [{"month": m, "day": d, "survey_id": 0, "service_point_id": 0, "channel": "", "flagged": False,
              "respondents": totals[(m, d)], "dissatisfied": 0, "positions": "", "moments": b""} for m, d in units]
    try:
        db.session.execute(sa.insert(ReportRollup), rows)
        db.session.commit()
    except sa.exc.IntegrityError:
        # A report request writes nothing else, so rolling its transaction back loses nothing.
        db.session.rollback()
        return False
    return True


def ensure_rollups(keys: Iterable[int]) -> list[int]:
    """Roll up the complete months among ``keys`` that are not yet; returns those built.
    One raw pass per run of consecutive missing months."""
    limit = complete_month_limit()
    wanted = sorted({int(k) for k in keys if int(k) < limit})
    done = rolled_up_months(wanted)
    built = []
    for run in _runs([k for k in wanted if k not in done], lambda k: k + 1):
        if _store_run([(k, 0) for k in run], month_start_utc(run[0]), month_start_utc(run[-1] + 1), False):
            built += run
        elif len(run) > 1:
            # A concurrent builder's run may have covered only part of ours: the rest one by one.
            have = rolled_up_months(run)
            built += [k for k in run if k not in have
                      and _store_run([(k, 0)], month_start_utc(k), month_start_utc(k + 1), False)]
    return built


def ensure_day_rollups(days: Iterable[date]) -> list[date]:
    """Roll up the complete local days among ``days`` that are not yet; returns those built.
    One raw pass per run of consecutive missing days."""
    limit = complete_day_limit()
    wanted = sorted({d for d in days if d < limit})
    done = rolled_up_days(wanted)
    built = []
    one = timedelta(days=1)
    for run in _runs([d for d in wanted if d not in done], lambda d: d + one):
        if _store_run([(_month_key(d), d.day) for d in run], day_start_utc(run[0]), day_start_utc(run[-1] + one),
                      True):
            built += run
        elif len(run) > 1:
            # A concurrent builder's run may have covered only part of ours: the rest one by one.
            have = rolled_up_days(run)
            built += [d for d in run if d not in have
                      and _store_run([(_month_key(d), d.day)], day_start_utc(d), day_start_utc(d + one), True)]
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
    day_months = sorted({_month_key(d) for d in days})
    if (months or days) and sp_ids:
        stmt = (sa.select(ReportRollup.service_point_id, ReportRollup.channel, ReportRollup.survey_id,
                          ReportRollup.month, ReportRollup.day, ReportRollup.respondents,
                          ReportRollup.dissatisfied, ReportRollup.positions, ReportRollup.moments)
                .where(sa.or_(sa.and_(ReportRollup.day == 0, ReportRollup.month.in_(months or [-1])),
                              sa.and_(ReportRollup.day != 0, ReportRollup.month.in_(day_months or [-1]))),
                       ReportRollup.survey_id != 0, ReportRollup.service_point_id.in_(sp_ids)))
        if not f.include_flagged:
            stmt = stmt.where(ReportRollup.flagged.is_(False))
        if f.channel:
            stmt = stmt.where(ReportRollup.channel == f.channel)
        if f.survey_id:
            stmt = stmt.where(ReportRollup.survey_id == f.survey_id)
        rows = db.session.execute(stmt).all()
    if rows:
        # Day cells are read per month, then cut to the wanted days (the days of other
        # periods, built by other reports, are in the same months).
        code = _unit_code([r[3] for r in rows], [r[4] for r in rows])
        wanted = [_month_key(d) * 32 + d.day for d in days] + [m * 32 for m in months]
        keep = np.flatnonzero(np.isin(code, wanted))
        rows = [rows[i] for i in keep]
        code = code[keep]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Rollups(empty, empty.astype(bool), empty, empty, empty.astype(bool), empty.astype(np.float64),
                       empty.astype(np.float64), np.zeros(0, dtype=object), np.zeros(0, dtype=object))
    sp, chan, survey, mon, _day, n, dis, pos, blob = zip(*rows)
    questionnaire_of = _questionnaire_of(survey)
    month = np.asarray(mon, dtype=np.int64)
    return Rollups(
        sp=np.asarray(sp, dtype=np.int64),
        kiosk=np.asarray([c == "kiosk" for c in chan], dtype=bool),
        questionnaire=np.asarray([questionnaire_of[s] for s in survey], dtype=np.int64),
        month=month,
        current=np.isin(code, [m * 32 + d for m, d in current]),
        n=np.asarray(n, dtype=np.float64),
        dissatisfied=np.asarray(dis, dtype=np.float64),
        positions=np.asarray(pos, dtype=object),
        moments=np.asarray([bytes(b) for b in blob], dtype=object),  # psycopg gives memoryviews
    )


@dataclass
class Cells:
    """Moment cells of one questionnaire: per row, respondents ``n``, dissatisfied respondents,
    column sums (G, 2J) and packed cross products (G, J(2J+1)) of x = [satisfied, answered]
    per index item. A raw respondent row is the cell n = count, sums = count x, cross = count x xᵀ;
    cells of disjoint respondents add up."""

    sp: np.ndarray
    kiosk: np.ndarray
    month: np.ndarray
    current: np.ndarray
    n: np.ndarray
    dissatisfied: np.ndarray
    sums: np.ndarray
    cross: np.ndarray

    def take(self, mask: np.ndarray) -> Cells:
        return Cells(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return int(self.sp.size)


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
            first, n, dis, sums, cross = _cells_of(r, lay, [r.sp, r.kiosk.astype(np.int64), r.month,
                                                            r.current.astype(np.int64)])
            parts.append(Cells(r.sp[first], r.kiosk[first], r.month[first], r.current[first], n, dis, sums, cross))
        ru = self.rolled.take(self.rolled.questionnaire == qid)
        if len(ru):
            pos = _positions_key(lay)
            if any(p != pos for p in ru.positions):
                # Questionnaires with responses are frozen (models.Questionnaire.is_frozen), so
                # stored cells always match; if one was edited in place, refuse to mix items.
                raise RuntimeError(f"report rollups of questionnaire {qid} do not match its index items; "
                                   "run `flask report-refresh --rebuild`")
            m = np.frombuffer(b"".join(ru.moments), dtype="<i8").reshape(len(ru), -1).astype(np.float64)
            parts.append(Cells(ru.sp, ru.kiosk, ru.month, ru.current, ru.n, ru.dissatisfied, m[:, :j2], m[:, j2:]))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return Cells(empty, empty.astype(bool), empty, empty.astype(bool), empty.astype(np.float64),
                         empty.astype(np.float64), np.zeros((0, j2)), np.zeros((0, j2 * (j2 + 1) // 2)))
        return Cells(*(np.concatenate([getattr(p, fld) for p in parts]) for fld in Cells.__dataclass_fields__))


def fetch_respondents(root: Organisation | None, f: Filters, with_previous: bool = True,
                      rollups: bool | None = None) -> ReportData:
    """The period's (and the previous one's) index answers: rollup cells for complete months
    and the other complete days (built on first use), one aggregate query over the raw answers
    for the remaining time (today)."""
    use = rollups_enabled() if rollups is None else rollups
    periods = [f, f.previous()] if with_previous else [f]
    cur_start, _end = _utc_bounds(f)
    limit = complete_day_limit()
    months: list[int] = []
    days: list[date] = []
    current: set[tuple[int, int]] = set()
    ranges: list[tuple[datetime, datetime]] = []
    for i, p in enumerate(periods):
        if use:
            ms, ds, rs = _split_period(p, limit)
        else:
            ms, ds, rs = [], [], [_utc_bounds(p)]
        months += ms
        days += ds
        ranges += rs
        if i == 0:
            current = {(m, 0) for m in ms} | {(_month_key(d), d.day) for d in ds}
    # Built before the raw query: building commits, which would end its SET LOCALs.
    if months:
        ensure_rollups(months)
    if days:
        ensure_day_rollups(days)
    # The service points in scope, looked up once: the answers are then filtered on their own
    # column, and the big aggregate touches no other table than the tiny question table.
    sp_ids = list(db.session.scalars(
        sa.select(ServicePoint.id).join(Organisation).where(scope_condition(root, f.sector))))
    # One query per time range (today; with rollups disabled, each period): each is then an
    # index range scan, where an OR of ranges can be planned as a scan of far more answers
    # (bench_report, 10M answers: default period 1.7-2.2 s with the OR, against 1.0 s for the
    # current month alone).
    parts = [_raw_respondents([r], cur_start, sp_ids, f.include_flagged, f.channel, f.survey_id)
             for r in _merge_ranges(ranges)]
    raw = _no_respondents() if not parts else parts[0] if len(parts) == 1 else Respondents(
        *(np.concatenate([getattr(p, fld) for p in parts]) for fld in Respondents.__dataclass_fields__))
    return ReportData(raw, _read_rollups(months, days, current, sp_ids, f))


def fetch_volumes(sp_ids: Iterable[int], f: Filters) -> dict[tuple[int, int], int]:
    """Service volume per (service point, month key) over the period and the previous one."""
    ids = sorted(set(int(i) for i in sp_ids))
    if not ids:
        return {}
    first = f.previous().date_from.replace(day=1)
    rows = db.session.execute(
        sa.select(ServiceVolume.service_point_id, ServiceVolume.month, ServiceVolume.volume)
        .where(ServiceVolume.service_point_id.in_(ids), ServiceVolume.month >= first, ServiceVolume.month <= f.date_to)
    )
    return {(sp, _month_key(m)): v for sp, m, v in rows}


# ---------------------------------------------------------------------------------------------
# Moments and estimates


@dataclass
class Layout:
    """The index questions of one questionnaire: bit positions, aspect of each, labels."""

    questionnaire: Questionnaire
    positions: np.ndarray
    question_ids: list[int]
    codes: list[str]
    aspect_of: list[str]
    aspect_titles: dict[str, tuple[str, str]]

    @property
    def indicator(self) -> str:
        return self.questionnaire.indicator


def layout_for(q: Questionnaire) -> Layout:
    qs = [x for x in q.questions if x.counts_in_index]
    titles = {a.code: (a.title_vi, a.title_en) for a in q.aspects}
    return Layout(
        questionnaire=q,
        positions=np.asarray([x.position for x in qs], dtype=np.int64),
        question_ids=[x.id for x in qs],
        codes=[x.code for x in qs],
        aspect_of=[x.aspect.code if x.aspect else x.code for x in qs],
        aspect_titles=titles,
    )


def _bits(masks: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return ((masks[:, None] >> positions[None, :]) & 1).astype(np.float64)


def _columns(r: Respondents, lay: Layout, pooled: bool) -> np.ndarray:
    """x_i: satisfied then answered columns, per item, or pooled over items (overall rate, quick)."""
    s = _bits(r.satisfied, lay.positions)
    a = _bits(r.answered, lay.positions)
    if pooled:
        return np.stack([s.sum(axis=1), a.sum(axis=1)], axis=1)
    return np.concatenate([s, a], axis=1)


def group_moments(x: np.ndarray, codes: np.ndarray, n_groups: int,
                  count: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, sums, cross) per group code; row i stands for ``count[i]`` identical respondents.

    Same numbers as ``analysis.group_moments`` on the unfolded respondents, but one matrix
    product per group instead of O(p^2) passes, which matters for a 34-column composite.
    """
    p = x.shape[1]
    c = np.ones(x.shape[0]) if count is None else count
    n = np.bincount(codes, weights=c, minlength=n_groups)
    sums = np.zeros((n_groups, p))
    cross = np.zeros((n_groups, p, p))
    order = np.argsort(codes, kind="stable")
    xs, cs, ws = x[order], codes[order], c[order]
    cx = xs * ws[:, None]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(cs)) + 1])
    if cs.size:
        sums[cs[starts]] = np.add.reduceat(cx, starts, axis=0)
        ends = np.append(starts[1:], cs.size)
        for a, b in zip(starts, ends):
            cross[cs[a]] = cx[a:b].T @ xs[a:b]
    return n, sums, cross


@dataclass
class Estimate:
    """An index with its interval and what it rests on; ``None`` fields when undefined."""

    estimate: float | None
    low: float | None
    high: float | None
    n: int
    n_eff: float | None = None
    dissatisfied: int = 0

    @property
    def defined(self) -> bool:
        return self.estimate is not None


def _f(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _pooled(c: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Sums and packed cross products of x = [Σ satisfied, Σ answered] (overall rate, quick, the
    dissatisfied count), from the item-level ones: x_pooled = x T, so the cross products are
    sums of item-level ones (off-diagonal pairs of a block twice, by symmetry)."""
    j = c.sums.shape[1] // 2
    rows, cols = _pack_index(2 * j)
    twice = np.where(rows == cols, 1.0, 2.0)
    ss = (rows < j) & (cols < j)
    sa_ = (rows < j) & (cols >= j)
    aa = rows >= j
    w = np.stack([np.where(ss, twice, 0.0), sa_.astype(np.float64), np.where(aa, twice, 0.0)], axis=1)
    sums = np.stack([c.sums[:, :j].sum(axis=1), c.sums[:, j:].sum(axis=1)], axis=1)
    return sums, c.cross @ w


def _sum_by(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros((n_groups,) + values.shape[1:])
    if codes.size:
        order = np.argsort(codes, kind="stable")
        cs = codes[order]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(cs)) + 1])
        out[cs[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def estimate_by(c: Cells, lay: Layout, key: np.ndarray, volumes: dict | None,
                kind: str = "headline") -> dict[Any, Estimate]:
    """Index per value of ``key`` (one per cell), combining service points weighted by service volume.

    Groups are (key, service point): each point is a stratum, and each of its responses
    weighs volume / responses (the domain's rule), unless some point has no recorded
    volume, in which case every response weighs the same (said in the report's method).
    A group's moments are the sums of its cells' (whole numbers, so exactly those of its
    respondents). ``kind``: "headline" (the questionnaire's indicator), "aspects", or "items".
    """
    if len(c) == 0:
        return {}
    pooled = kind == "headline" and lay.indicator in ("overall_rate", "quick")
    keys, key_code = np.unique(key, return_inverse=True)
    key_code = key_code.ravel()
    width = int(c.sp.max()) + 1
    pairs, codes = np.unique(key_code.astype(np.int64) * width + c.sp, return_inverse=True)
    codes = codes.ravel()
    g_key = pairs // width
    g_sp = pairs % width
    cell_sums, cell_cross = _pooled(c) if pooled else (c.sums, c.cross)
    n = np.bincount(codes, weights=c.n, minlength=pairs.size)
    sums = _sum_by(codes, cell_sums, pairs.size)
    cross = _sum_by(codes, cell_cross, pairs.size)
    weights = None
    if volumes is not None:
        # Volume of each group: its point's volume over the months its responses fall in.
        mmin = int(c.month.min())
        span = int(c.month.max()) - mmin + 1
        vol = np.zeros(pairs.size)
        for gm in np.unique(codes * span + (c.month - mmin)):
            gi, m = divmod(int(gm), span)
            vol[gi] += volumes.get((int(g_sp[gi]), m + mmin), 0)
        weights = vol / n if np.all(vol > 0) else None
    dissatisfied = np.bincount(key_code, weights=c.dissatisfied, minlength=keys.size)
    if kind == "headline":
        aspects = None if pooled else lay.aspect_of
        est = analysis.composite_from_moments(n, sums, cross, aspects=aspects, weights=weights, org=g_key, level=LEVEL)
        out = {keys[i]: Estimate(_f(est.estimate[i]), _f(est.low[i]), _f(est.high[i]), int(est.n[i]),
                                 _f(est.n_eff[i]), int(dissatisfied[i])) for i in range(keys.size)}
        if lay.indicator == "quick":
            # One tap per respondent: where no volume weighting is involved (one point, or no
            # volumes) the index is a plain proportion, with the plain Wilson interval.
            plain = (np.bincount(g_key, minlength=keys.size) == 1) | (weights is None)
            k = np.bincount(g_key, weights=sums[:, 0], minlength=keys.size)
            m = np.bincount(g_key, weights=sums[:, 1], minlength=keys.size)
            low, high = analysis.proportion_ci(k, m, level=LEVEL)
            for i in np.flatnonzero(plain & (m > 0)):
                e = out[keys[i]]
                e.estimate, e.low, e.high = float(k[i] / m[i]), float(low[i]), float(high[i])
        return out
    labels = lay.aspect_of if kind == "aspects" else lay.codes
    est = analysis.aspect_indices_from_moments(n, sums, cross, aspects=labels, weights=weights, org=g_key, level=LEVEL)
    order = list(dict.fromkeys(labels))
    out = {}
    for i in range(keys.size):
        out[keys[i]] = {c: Estimate(_f(est.estimate[i, j]), _f(est.low[i, j]), _f(est.high[i, j]), int(est.n[i, j]),
                                    _f(est.n_eff[i, j])) for j, c in enumerate(order)}
    return out


# ---------------------------------------------------------------------------------------------
# Targets


@dataclass
class TargetRef:
    value: float
    strict: bool
    source: str | None

    @property
    def label(self) -> str:
        return f"{'>' if self.strict else '≥'} {self.value * 100:.0f}%"


def resolve_target(targets: list[Target], indicator: str, org: Organisation | None, sector: str | None,
                   on: date) -> TargetRef | None:
    """The most specific target valid on ``on``: the organisation's own or its nearest ancestor's,
    else the sector default."""
    valid = [t for t in targets if t.indicator == indicator and t.valid_from <= on
             and (t.valid_to is None or on <= t.valid_to)]
    if org is not None:
        chain = list(reversed(org.ancestor_ids()))  # self first, then parents
        for oid in chain:
            own = [t for t in valid if t.organisation_id == oid]
            if own:
                t = max(own, key=lambda t: t.valid_from)
                return TargetRef(t.value, t.operator == ">", t.source)
    by_sector = [t for t in valid if t.organisation_id is None and t.sector == sector]
    if by_sector:
        t = max(by_sector, key=lambda t: t.valid_from)
        return TargetRef(t.value, t.operator == ">", t.source)
    return None


@dataclass
class Verdict:
    status: str  # met / not_met / inconclusive / no_target / no_data
    admin_met: bool | None
    barred: bool  # Khánh Hòa: <= 80% cannot be ranked good
    note: str = ""

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])


def judge(e: Estimate, target: TargetRef | None) -> Verdict:
    if not e.defined:
        return Verdict("no_data", None, False)
    barred = bool(KHANH_HOA.barred_reasons(e.estimate))
    if target is None:
        return Verdict("no_target", None, barred)
    j = analysis.judge(e.estimate, e.low, e.high, target.value, strict=target.strict, n_dissatisfied=e.dissatisfied)
    note = _("Không khoảng tin cậy nào xác nhận được chỉ tiêu 100%%; số người chưa hài lòng: %(d)s.",
             d=e.dissatisfied) if j.certainty_target else ""
    return Verdict(j.status, j.admin_met, barred, note)


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Row:
    """A line of a table: a unit (organisation or service point), a month, a channel."""

    key: Any
    label: str
    estimate: Estimate
    verdict: Verdict
    kind: str = ""  # "organisation" / "service_point" for units
    target: TargetRef | None = None
    previous: Estimate | None = None
    change: tuple[float, float, float] | None = None  # difference, low, high (Newcombe)
    funnel: tuple[float, float, float, float] | None = None  # 95% and 99.8% limits at this n


@dataclass
class Section:
    """Everything about one questionnaire's index within the scope."""

    questionnaire_id: int
    title: str
    indicator: str
    indicator_label: str
    sector: str
    headline: Estimate
    target: TargetRef | None
    verdict: Verdict
    weighted: bool
    previous: Estimate | None
    change: tuple[float, float, float] | None
    aspects: list[Row]
    trend: list[Row]
    units: list[Row]
    channels: list[Row]
    items: list[Row] = field(default_factory=list)

    @property
    def below(self) -> list[Row]:
        """Units below target (not met, or the point estimate under it) or at or below 80%."""
        return [u for u in self.units if u.estimate.defined and (
            u.verdict.status == "not_met" or u.verdict.admin_met is False or u.verdict.barred)]


@dataclass
class Report:
    scope_label: str
    scope_code: str | None
    organisation_id: int | None
    service_point_id: int | None
    filters: Filters
    sections: list[Section]
    respondents: int
    computed_in: float

    def to_dict(self) -> dict:
        def conv(o):
            if isinstance(o, (date, datetime)):
                return o.isoformat()
            if hasattr(o, "__html__") or type(o).__name__ == "LazyString":
                return str(o)
            raise TypeError(type(o))

        data = asdict(self)
        return json.loads(json.dumps(data, default=conv))


def _change(cur: Estimate, prev: Estimate | None) -> tuple[float, float, float] | None:
    """Newcombe's hybrid score interval on the effective sample sizes (design effect included)."""
    if prev is None or not cur.defined or not prev.defined:
        return None
    n1 = cur.n_eff if cur.n_eff and cur.n_eff > 0 else cur.n
    n2 = prev.n_eff if prev.n_eff and prev.n_eff > 0 else prev.n
    d, lo, hi = analysis.newcombe_difference(cur.estimate * n1, n1, prev.estimate * n2, n2, level=LEVEL)
    return float(d), float(lo), float(hi)


def _funnel(e: Estimate, target: TargetRef | None) -> tuple[float, float, float, float] | None:
    if target is None or not e.defined or not (0 < target.value < 1):
        return None
    n = max(int(round(e.n_eff if e.n_eff and e.n_eff > 0 else e.n)), 1)
    lim = analysis.funnel_limits([n], target.value, levels=(0.95, 0.998))
    lo95, hi95 = lim.limits[0.95]
    lo998, hi998 = lim.limits[0.998]
    return float(lo95[0]), float(hi95[0]), float(lo998[0]), float(hi998[0])


def _name(obj, lang: str) -> str:
    return (obj.name_en or obj.name) if lang == "en" else obj.name


def build_report(root: Organisation | None, f: Filters, lang: str = "vi", service_point: ServicePoint | None = None,
                 with_items: bool = False, rollups: bool | None = None) -> Report:
    """The whole report for ``root``'s subtree (everything when None) or one service point.

    ``rollups``: read complete months from the monthly rollups (default: the app's
    ``REPORT_ROLLUPS``, on); False computes everything from the raw answers."""
    t0 = time.perf_counter()
    data = fetch_respondents(service_point.organisation if service_point else root, f, rollups=rollups)
    if service_point is not None:
        data = data.only_sp(service_point.id)
    sp_ids = data.sp_ids()
    volumes = fetch_volumes(sp_ids, f)
    targets = list(db.session.scalars(sa.select(Target)))
    sps = {sp.id: sp for sp in db.session.scalars(sa.select(ServicePoint).where(ServicePoint.id.in_(
        [int(i) for i in sp_ids])))} if sp_ids.size else {}
    sections = []
    qids = data.questionnaire_ids()
    questionnaires = {q.id: q for q in db.session.scalars(sa.select(Questionnaire).where(Questionnaire.id.in_(qids)))}
    # Units: the children of the root (each a subtree) and the root's own service points.
    if service_point is None:
        unit_of_sp, unit_meta = _units(root, sps, lang)
    else:
        unit_of_sp = {service_point.id: ("sp", service_point.id)}
        unit_meta = {("sp", service_point.id): (_name(service_point, lang), "service_point", service_point.organisation)}
    for qid in sorted(qids, key=lambda i: (questionnaires[i].sector, questionnaires[i].indicator != "quick", i)):
        q = questionnaires[qid]
        lay = layout_for(q)
        mine = data.cells(qid, lay)
        cur, prev = mine.take(mine.current), mine.take(~mine.current)
        judged_org = service_point.organisation if service_point else root
        sector = _target_sector(q, judged_org, f)
        target = resolve_target(targets, lay.indicator, judged_org, sector, f.date_to)
        all_key = np.zeros(len(cur), dtype=np.int64)
        head = estimate_by(cur, lay, all_key, volumes).get(0, Estimate(None, None, None, 0))
        weighted = _is_weighted(cur, volumes)
        prev_head = estimate_by(prev, lay, np.zeros(len(prev), dtype=np.int64), volumes).get(0) if len(prev) else None
        aspects = []
        if lay.indicator != "quick" and len(cur):
            for code, e in estimate_by(cur, lay, all_key, volumes, kind="aspects")[0].items():
                vi, en = lay.aspect_titles.get(code, (code, code))
                aspects.append(Row(code, en if lang == "en" else vi, e, judge(e, target)))
        trend = [Row(int(m), month_label(int(m)), e, judge(e, target))
                 for m, e in sorted(estimate_by(cur, lay, cur.month, volumes).items())]
        channels = []
        if len(cur):
            for k, e in sorted(estimate_by(cur, lay, cur.kiosk.astype(np.int64), volumes).items()):
                ch = "kiosk" if k else "qr"
                channels.append(Row(ch, str(CHANNEL_LABELS[ch]), e, judge(e, target)))
        units = _unit_rows(cur, prev, lay, volumes, unit_of_sp, unit_meta, targets, q, f)
        items = []
        if with_items and len(cur):
            texts = {x.code: x.text(lang) for x in q.questions}
            ids = dict(zip(lay.codes, lay.question_ids))
            for code, e in estimate_by(cur, lay, all_key, volumes, kind="items")[0].items():
                items.append(Row(ids[code], texts.get(code, code), e, judge(e, target)))
        sections.append(Section(
            questionnaire_id=qid, title=q.title(lang), indicator=lay.indicator,
            indicator_label=str(INDICATOR_LABELS.get(lay.indicator, lay.indicator)), sector=q.sector,
            headline=head, target=target, verdict=judge(head, target), weighted=weighted,
            previous=prev_head, change=_change(head, prev_head), aspects=aspects, trend=trend, units=units,
            channels=channels, items=items,
        ))
    if service_point is not None:
        label, code, org_id = _name(service_point, lang), service_point.code, service_point.organisation_id
    elif root is not None:
        label, code, org_id = _name(root, lang), root.code, root.id
    else:
        label, code, org_id = str(_l("Toàn bộ hệ thống")), None, None
    return Report(label, code, org_id, service_point.id if service_point else None, f, sections,
                  data.current_respondents, time.perf_counter() - t0)


def _target_sector(q: Questionnaire, org: Organisation | None, f: Filters) -> str:
    """The quick rating is one questionnaire for every sector: judge it by the unit's sector."""
    if q.indicator == "quick":
        return f.sector or (org.sector if org is not None else q.sector)
    return q.sector


def _is_weighted(r: Cells, volumes: dict) -> bool:
    if not len(r):
        return False
    width = int(r.month.max()) + 1
    totals: dict[int, int] = {}
    for pair in np.unique(r.sp * width + r.month):
        sp, m = divmod(int(pair), width)
        totals[sp] = totals.get(sp, 0) + volumes.get((sp, m), 0)
    return all(v > 0 for v in totals.values())


def _units(root: Organisation | None, sps: dict[int, ServicePoint], lang: str):
    """Map each service point to its unit under ``root``: a child organisation, or itself."""
    unit_of_sp, meta = {}, {}
    orgs = {}
    if sps:
        org_ids = {sp.organisation_id for sp in sps.values()}
        for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(org_ids))):
            orgs[o.id] = o
        ancestor_ids = {a for o in orgs.values() for a in o.ancestor_ids()}
        for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ancestor_ids))):
            orgs[o.id] = o
    root_depth = root.depth if root is not None else 0
    for sp_id, sp in sps.items():
        org = orgs[sp.organisation_id]
        chain = org.ancestor_ids()
        if root is not None and org.id == root.id:
            key = ("sp", sp_id)
            meta[key] = (_name(sp, lang), "service_point", org)
        else:
            child_id = chain[root_depth] if root is not None else chain[0]
            key = ("org", child_id)
            meta[key] = (_name(orgs[child_id], lang), "organisation", orgs[child_id])
        unit_of_sp[sp_id] = key
    return unit_of_sp, meta


def _unit_rows(cur, prev, lay, volumes, unit_of_sp, unit_meta, targets, q, f) -> list[Row]:
    keys = sorted(unit_meta, key=lambda k: (k[0], unit_meta[k][0]))
    index = {k: i for i, k in enumerate(keys)}

    def coded(r):
        lookup = {sp: index[key] for sp, key in unit_of_sp.items()}
        sps, inverse = np.unique(r.sp, return_inverse=True)
        return np.asarray([lookup[int(s)] for s in sps], dtype=np.int64)[inverse.ravel()]

    now = estimate_by(cur, lay, coded(cur), volumes) if len(cur) else {}
    before = estimate_by(prev, lay, coded(prev), volumes) if len(prev) else {}
    rows = []
    for i, k in enumerate(keys):
        if i not in now:
            continue
        label, kind, org = unit_meta[k]
        target = resolve_target(targets, lay.indicator, org, _target_sector(q, org, f), f.date_to)
        e = now[i]
        rows.append(Row(k[1], label, e, judge(e, target), kind=kind, target=target, previous=before.get(i),
                        change=_change(e, before.get(i)), funnel=_funnel(e, target)))
    return rows


# ---------------------------------------------------------------------------------------------
# Question drill-down and comments


def question_distribution(question: Question, sp_ids: list[int], f: Filters) -> list[tuple[Option, int]]:
    """How many chose each option of ``question`` at the given points in the period."""
    start, end = _utc_bounds(f)
    stmt = (
        sa.select(Answer.option_id, sa.func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.question_id == question.id, Answer.service_point_id.in_(sp_ids),
               Answer.submitted_at >= start, Answer.submitted_at < end)
        .group_by(Answer.option_id)
    )
    if not f.include_flagged:
        stmt = stmt.where(Response.flag.is_(None))
    if f.channel:
        stmt = stmt.where(Response.channel == f.channel)
    if f.survey_id:
        stmt = stmt.where(Response.survey_id == f.survey_id)
    counts = dict(db.session.execute(stmt).all())
    return [(o, int(counts.get(o.id, 0))) for o in question.options]


def comments_query(root: Organisation | None, f: Filters, state: str = "open", text: str | None = None,
                   service_point_id: int | None = None):
    """Free-text answers in scope and period, newest first (a SELECT of Answer)."""
    start, end = _utc_bounds(f)
    stmt = (
        sa.select(Answer)
        .join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .join(ServicePoint, ServicePoint.id == Answer.service_point_id)
        .join(Organisation, Organisation.id == ServicePoint.organisation_id)
        .where(Question.type == "text", Answer.text.is_not(None), Answer.submitted_at >= start,
               Answer.submitted_at < end, scope_condition(root, f.sector))
        .order_by(Answer.submitted_at.desc(), Answer.id.desc())
    )
    if not f.include_flagged:
        stmt = stmt.where(Response.flag.is_(None))
    if f.channel:
        stmt = stmt.where(Response.channel == f.channel)
    if f.survey_id:
        stmt = stmt.where(Response.survey_id == f.survey_id)
    if state == "open":
        stmt = stmt.where(~comments_handled_condition(Answer.response_id))
    elif state == "handled":
        stmt = stmt.where(comments_handled_condition(Answer.response_id))
    if text:
        stmt = stmt.where(Answer.text.icontains(text, autoescape=True))
    if service_point_id:
        stmt = stmt.where(Answer.service_point_id == service_point_id)
    return stmt


def local_time(dt: datetime) -> datetime:
    return dt + LOCAL_OFFSET


def export_rows(root: Organisation | None, f: Filters, service_point_id: int | None = None, batch: int = 5000):
    """Anonymised answers, one per row: no client hash, no contact, comments masked."""
    from .privacy import mask_personal_data

    start, end = _utc_bounds(f)
    stmt = (
        sa.select(Response.id, Response.submitted_at, Organisation.code, ServicePoint.name, Response.channel,
                  Response.language, Response.flag, Questionnaire.family, Questionnaire.version, Question.code,
                  Option.code, Answer.value, Answer.satisfied, Answer.text)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(Survey, Survey.id == Response.survey_id)
        .join(Questionnaire, Questionnaire.id == Survey.questionnaire_id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Option, Option.id == Answer.option_id)
        .join(ServicePoint, ServicePoint.id == Answer.service_point_id)
        .join(Organisation, Organisation.id == ServicePoint.organisation_id)
        .where(Answer.submitted_at >= start, Answer.submitted_at < end, scope_condition(root, f.sector))
        .order_by(Response.id, Question.position)
    )
    if service_point_id:
        stmt = stmt.where(Answer.service_point_id == service_point_id)
    if not f.include_flagged:
        stmt = stmt.where(Response.flag.is_(None))
    if f.channel:
        stmt = stmt.where(Response.channel == f.channel)
    if f.survey_id:
        stmt = stmt.where(Response.survey_id == f.survey_id)
    numbers: dict[int, int] = {}
    for row in db.session.execute(stmt.execution_options(yield_per=batch)):
        rid = row[0]
        seq = numbers.setdefault(rid, len(numbers) + 1)  # a sequence number, not the database id
        text = mask_personal_data(row[13]) if row[13] else ""
        yield [seq, local_time(row[1]).strftime("%Y-%m-%d"), row[2], row[3], row[4], row[5], row[6] or "",
               f"{row[7]}@{row[8]}", row[9], row[10] or "", "" if row[11] is None else row[11],
               "" if row[12] is None else row[12], text]


EXPORT_HEADER = ["response", "date", "organisation", "service_point", "channel", "language", "flag",
                 "questionnaire", "question", "option", "value", "satisfied", "comment"]


# ---------------------------------------------------------------------------------------------
# CLI


def pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v * 100:.{digits}f}%"


def report_table_rows(report: Report) -> list[list[str]]:
    """Flat rows for text, CSV and the CLI: one line per section and unit."""
    rows = []
    for s in report.sections:
        rows.append([s.title, report.scope_label, pct(s.headline.estimate), pct(s.headline.low), pct(s.headline.high),
                     str(s.headline.n), s.target.label if s.target else "", s.verdict.status])
        for u in s.units:
            rows.append([s.title, u.label, pct(u.estimate.estimate), pct(u.estimate.low), pct(u.estimate.high),
                         str(u.estimate.n), u.target.label if u.target else "", u.verdict.status])
    return rows


@click.command("report")
@click.option("--org", "org_code", required=True, help="Organisation code: the subtree to report on.")
@click.option("--from", "date_from", help="First day (YYYY-MM-DD); default: twelve months back.")
@click.option("--to", "date_to", help="Last day (YYYY-MM-DD); default: today.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--include-flagged", is_flag=True, help="Count flagged responses too.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@with_appcontext
def report_command(org_code: str, date_from: str | None, date_to: str | None, fmt: str, include_flagged: bool,
                   lang: str) -> None:
    """Print indices, intervals and target status for an organisation subtree.

    Complete months and days are read from the rollups, built on first use; run
    ``flask report-refresh`` from cron (e.g. daily at 01:30) to build them ahead of requests.
    """
    from flask import current_app

    # Labels are translated per request; a request context carries the chosen language.
    with current_app.test_request_context(query_string={"lang": lang}):
        _report_command(org_code, date_from, date_to, fmt, include_flagged, lang)


def _report_command(org_code, date_from, date_to, fmt, include_flagged, lang) -> None:
    org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
    try:
        f = parse_filters({"from": date_from, "to": date_to, "include_flagged": "1" if include_flagged else "0"})
    except FilterError as exc:
        raise click.BadParameter(str(exc)) from None
    report = build_report(org, f, lang=lang)
    header = ["survey", "unit", "index", "low", "high", "n", "target", "status"]
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(report_table_rows(report))
        click.echo(out.getvalue(), nl=False)
    else:
        rows = [header] + report_table_rows(report)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        click.echo(f"{report.scope_label} ({org.code}) {f.date_from} – {f.date_to}")
        for r in rows:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


@click.command("report-refresh")
@click.option("--months", default=25, show_default=True,
              help="How many complete months back to roll up (a year and the year before need 25).")
@click.option("--rebuild", is_flag=True, help="Recompute those months and days even if already rolled up.")
@with_appcontext
def report_refresh_command(months: int, rebuild: bool) -> None:
    """Precompute the report rollups of complete months and of the current month's complete days,
    and prune the day rollups of months before the previous one (for a nightly cron job).

    Reports build a missing month or day on first use anyway; this only moves that work off
    the first request after a month or day ends.
    """
    limit = complete_month_limit()
    keys = list(range(limit - max(months, 0), limit))
    day_limit = complete_day_limit()
    first = day_limit.replace(day=1)
    days = [first + timedelta(days=i) for i in range((day_limit - first).days)]
    t0 = time.perf_counter()
    if rebuild and keys:
        db.session.execute(sa.delete(ReportRollup).where(ReportRollup.month.in_(keys), ReportRollup.day == 0))
    if rebuild and days:
        db.session.execute(sa.delete(ReportRollup).where(ReportRollup.month == _month_key(first),
                                                         ReportRollup.day != 0))
    db.session.commit()
    built = ensure_rollups(keys)
    built_days = ensure_day_rollups(days)
    # Day cells of months before the previous one only serve periods with a mid-month edge
    # there, and such a day is rebuilt on demand (one small aggregate): without pruning they
    # would pile up forever, one set per day, service point, survey and channel.
    pruned = db.session.execute(
        sa.delete(ReportRollup).where(ReportRollup.day != 0, ReportRollup.month < _month_key(first) - 1)
    ).rowcount
    db.session.commit()
    click.echo(f"{len(built)} month(s) rolled up, {len(keys) - len(built)} already present; "
               f"{len(built_days)} day(s) of this month rolled up, {len(days) - len(built_days)} already present; "
               f"{pruned} day cell(s) of older months pruned ({time.perf_counter() - t0:.1f} s).")


commands = [report_command, report_refresh_command]
