"""Monthly rollups: reports read complete months from ``report_rollup`` and give exactly the
numbers of the raw-answer path, for every scope, filter and period shape."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from flask import current_app

from surveyapp import clock
from surveyapp.reports import filters, model, rollups
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, ReportRollup, Response, ServicePoint, Survey


def org(code) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


def build(root, f, **kw) -> model.Report:
    with current_app.test_request_context("/"):
        return model.build_report(root, f, **kw)


def assert_same(a, b, path="report"):
    """Every number equal to 1e-9, everything else identical."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            if k != "computed_in":
                assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert isinstance(b, (int, float)), path
        assert math.isclose(a, b, rel_tol=0, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)), (path, a, b)
    else:
        assert a == b, (path, a, b)


def markers() -> set[int]:
    """Months rolled up whole."""
    return set(db.session.scalars(sa.select(ReportRollup.month).where(ReportRollup.survey_id == 0,
                                                                      ReportRollup.day == 0)))


def day_markers() -> set[date]:
    """Single days rolled up."""
    rows = db.session.execute(sa.select(ReportRollup.month, ReportRollup.day).where(
        ReportRollup.survey_id == 0, ReportRollup.day != 0))
    return {date(m // 12, m % 12 + 1, d) for m, d in rows}


@pytest.fixture
def flagged_demo(demo):
    """The demo province with some flagged responses, a response at each edge of a local month
    and of a local day of the current month, and one just now (read raw)."""
    db.session.execute(sa.update(Response).where(Response.id % 9 == 0).values(flag="too_fast"))
    today = clock.today()
    key = filters.month_key(today) - 2
    boundary = filters.month_start_utc(key)
    src = db.session.scalar(sa.select(Response).where(Response.flag.is_(None)).order_by(Response.id).limit(1))
    day_boundary = clock.day_start_utc(today - timedelta(days=3))
    now = datetime.utcnow().replace(microsecond=0)
    for when in (boundary - timedelta(seconds=1), boundary, day_boundary - timedelta(seconds=1), day_boundary,
                 now - timedelta(minutes=1)):
        # Moved with its answers: reports read the answers' own copy of the time.
        r = db.session.scalar(sa.select(Response).where(Response.id > src.id, Response.flag.is_(None))
                              .order_by(Response.id).limit(1))
        r.submitted_at = when
        for a in r.answers:
            a.submitted_at = when
        src = r
    db.session.commit()
    return demo


def test_rollups_give_the_raw_numbers(app, flagged_demo):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(Response.flag.is_not(None))) > 10
    channels = set(db.session.scalars(sa.select(Response.channel).distinct()))
    assert channels == {"qr", "kiosk"}
    today = clock.today()
    survey = db.session.scalar(sa.select(Survey).where(Survey.channel_kiosk).limit(1))
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.name == "Quầy 2 – Xây dựng"))
    periods = [
        {},  # the default: twelve months, the current (partial) one from raw answers
        {"from": (today - timedelta(days=420)).isoformat(), "to": today.isoformat()},
        # Partial months at both edges, and a previous period cutting months anywhere.
        {"from": (today - timedelta(days=200)).isoformat(), "to": (today - timedelta(days=40)).isoformat()},
        # Complete months only.
        {"from": date(today.year - 1, today.month, 1).isoformat(),
         "to": (today.replace(day=1) - timedelta(days=1)).isoformat()},
        # Ending yesterday (all complete days, no raw part), and a short one ending today
        # whose previous period is days of this month and the last.
        {"from": (today - timedelta(days=75)).isoformat(), "to": (today - timedelta(days=1)).isoformat()},
        {"from": (today - timedelta(days=9)).isoformat(), "to": today.isoformat()},
    ]
    extras = [{}, {"include_flagged": "1"}, {"channel": "kiosk"}, {"channel": "qr"}, {"survey": str(survey.id)},
              {"sector": "health"}]
    assert markers() == set()
    compared = 0
    for period in periods:
        for extra in extras:
            f = filters.parse_filters({**period, **extra})
            for root, kw in ((None, {}), (org("KA-HCC"), {"with_items": True}), (None, {"service_point": sp})):
                raw = build(root, f, rollups=False, **kw)
                rolled = build(root, f, rollups=True, **kw)
                assert_same(raw.to_dict(), rolled.to_dict())
                compared += bool(raw.sections)
    # Across month boundaries with both edges mid-month, and from mid last month to today
    # (edge days, a whole month or none, and today's raw answers), on every index kind.
    first_of_month = today.replace(day=1)
    two_back = (first_of_month - timedelta(days=40)).replace(day=20)
    kinds = set()
    for period in ({"from": two_back.isoformat(), "to": (first_of_month - timedelta(days=20)).isoformat()},
                   {"from": (first_of_month - timedelta(days=15)).isoformat(), "to": today.isoformat()},
                   {"from": (two_back - timedelta(days=31)).isoformat(), "to": today.isoformat()}):
        f = filters.parse_filters(period)
        for root, kw in ((None, {}), (org("KA-BVDK"), {"with_items": True}), (None, {"service_point": sp})):
            raw = build(root, f, rollups=False, **kw)
            rolled = build(root, f, rollups=True, **kw)
            assert_same(raw.to_dict(), rolled.to_dict())
            kinds |= {(s.indicator, s.weighted) for s in rolled.sections if s.headline.n}
            compared += bool(raw.sections)
    # Composite (SIPAS style), overall rate (health) and quick indices, weighted by volume.
    assert {("composite", True), ("overall_rate", True), ("quick", True)} <= kinds
    assert compared > 60
    built = markers()
    limit = rollups.complete_month_limit()
    assert built and max(built) == limit - 1  # the current month is never rolled up whole
    days = day_markers()
    day_limit = rollups.complete_day_limit()
    # Today is never rolled up; every complete day of this month is, as days.
    assert max(days) == day_limit - timedelta(days=1)
    assert {day_limit.replace(day=1) + timedelta(days=i) for i in range(day_limit.day - 1)} <= days
    # Days of partial months at the edges of custom periods and their previous periods.
    assert any(filters.month_key(d) < limit for d in days)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)
                             .where(ReportRollup.survey_id != 0, ReportRollup.day != 0)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)
                             .where(ReportRollup.survey_id != 0, ReportRollup.flagged)) > 0
    # Rolled-up respondents per month are those stored.
    first_rows = db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup))
    total = db.session.scalar(sa.select(sa.func.sum(ReportRollup.respondents)).where(ReportRollup.survey_id == 0))
    assert total > 300
    # A second pass reads the rollups and builds nothing.
    f = filters.parse_filters({})
    assert_same(build(None, f, rollups=False).to_dict(), build(None, f).to_dict())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)) == first_rows


def test_disabled_by_config_reads_raw_only(make_app, flagged_demo):
    app = make_app(REPORT_ROLLUPS=False)
    with app.app_context():
        build(None, filters.parse_filters({}))
        assert markers() == set()


def test_concurrent_builders_do_not_double_count(app, flagged_demo, monkeypatch):
    limit = rollups.complete_month_limit()
    keys = list(range(limit - 4, limit))
    assert rollups.ensure_rollups(keys) == keys
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup))
    assert rollups.ensure_rollups(keys) == []
    # A builder that checked before the other committed: the unique key refuses its rows.
    monkeypatch.setattr(rollups, "rolled_up_months", lambda keys: set())
    assert rollups.ensure_rollups(keys) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)) == rows
    # Months not yet complete are never stored.
    assert rollups.ensure_rollups([limit, limit + 1]) == []


def test_concurrent_day_builders_do_not_double_count(app, flagged_demo, monkeypatch):
    limit = rollups.complete_day_limit()
    days = [limit - timedelta(days=i) for i in range(40, 0, -1)]
    assert rollups.ensure_day_rollups(days[10:20]) == days[10:20]
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup))
    # A builder that checked before another committed part of its run: the overlap is
    # refused, the rest is built day by day.
    monkeypatch.setattr(rollups, "rolled_up_days", lambda ds, real=rollups.rolled_up_days: (
        set() if len(ds) == len(days) else real(ds)))
    assert rollups.ensure_day_rollups(days) == days[:10] + days[20:]
    assert day_markers() == set(days)
    monkeypatch.undo()
    assert rollups.ensure_day_rollups(days) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRollup)) > rows
    # Today is never stored.
    assert rollups.ensure_day_rollups([limit, limit + timedelta(days=1)]) == []
    total = db.session.scalar(sa.select(sa.func.sum(ReportRollup.respondents)).where(
        ReportRollup.survey_id == 0, ReportRollup.day != 0))
    start, end = clock.day_start_utc(days[0]), clock.day_start_utc(limit)
    assert total == db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.submitted_at >= start, Response.submitted_at < end,
        Response.id.in_(sa.select(Answer.response_id).where(Answer.satisfied.is_not(None)))))


def test_month_completeness_and_period_split():
    # 00:30 local on 1 March: February ended half an hour ago, within the margin.
    assert rollups.complete_month_limit(datetime(2026, 2, 28, 17, 30)) == filters.month_key(date(2026, 2, 1))
    # 01:30 local: February is complete.
    assert rollups.complete_month_limit(datetime(2026, 2, 28, 18, 30)) == filters.month_key(date(2026, 3, 1))
    # Days likewise: 00:30 local on 22 November, the 21st ended within the margin.
    assert rollups.complete_day_limit(datetime(2026, 11, 21, 17, 30)) == date(2026, 11, 21)
    assert rollups.complete_day_limit(datetime(2026, 11, 21, 18, 30)) == date(2026, 11, 22)
    limit = date(2026, 11, 21)  # today is the 21st
    f = filters.Filters(date(2026, 1, 15), date(2026, 11, 21))
    months, days, ranges = rollups.split_period(f, limit)
    assert months == list(range(filters.month_key(date(2026, 2, 1)), filters.month_key(date(2026, 11, 1))))
    assert days == [date(2026, 1, d) for d in range(15, 32)] + [date(2026, 11, d) for d in range(1, 21)]
    assert ranges == [(datetime(2026, 11, 20, 17), datetime(2026, 11, 21, 17))]
    months, days, ranges = rollups.split_period(filters.Filters(date(2026, 3, 1), date(2026, 3, 31)), limit)
    assert months == [filters.month_key(date(2026, 3, 1))] and days == [] and ranges == []
    months, days, ranges = rollups.split_period(filters.Filters(date(2026, 3, 2), date(2026, 3, 31)), limit)
    assert months == [] and days == [date(2026, 3, d) for d in range(2, 32)] and ranges == []
    # The first of the month: no complete day of it yet, the whole month raw until then.
    months, days, ranges = rollups.split_period(filters.Filters(date(2026, 10, 1), date(2026, 11, 1)),
                                                 date(2026, 11, 1))
    assert months == [filters.month_key(date(2026, 10, 1))] and days == []
    assert ranges == [(datetime(2026, 10, 31, 17), datetime(2026, 11, 1, 17))]
    # Within the margin after midnight on the 1st: the month just ended is read as its complete
    # days, and its last day raw.
    months, days, ranges = rollups.split_period(filters.Filters(date(2026, 10, 1), date(2026, 11, 1)),
                                                 date(2026, 10, 31))
    assert months == [] and days == [date(2026, 10, d) for d in range(1, 31)]
    assert ranges == [(datetime(2026, 10, 30, 17), datetime(2026, 11, 1, 17))]
    # A period in the future of the limit: all raw.
    months, days, ranges = rollups.split_period(filters.Filters(date(2026, 12, 1), date(2026, 12, 2)), limit)
    assert months == [] and days == [] and ranges == [(datetime(2026, 11, 30, 17), datetime(2026, 12, 2, 17))]


def test_report_refresh_command(app, flagged_demo, runner):
    result = runner.invoke(args=["report-refresh", "--months", "3"])
    assert result.exit_code == 0, result.output
    limit = rollups.complete_month_limit()
    day_limit = rollups.complete_day_limit()
    this_month = {day_limit.replace(day=1) + timedelta(days=i) for i in range(day_limit.day - 1)}
    window = {d for k in range(limit - 3, limit) for d in rollups.days_of_month(k)} | this_month
    assert f"3 month(s) rolled up, 0 already present; {len(window)} day(s) rolled up" in result.output
    assert markers() == {limit - 3, limit - 2, limit - 1}
    assert day_markers() == window
    result = runner.invoke(args=["report-refresh", "--months", "3"])
    assert f"0 month(s) rolled up, 3 already present; 0 day(s) rolled up, {len(window)} already present" \
        in result.output
    result = runner.invoke(args=["report-refresh", "--months", "3", "--rebuild"])
    assert f"3 month(s) rolled up, 0 already present; {len(window)} day(s) rolled up" in result.output
    assert markers() == {limit - 3, limit - 2, limit - 1}
    assert day_markers() == window
    assert "report-refresh" in runner.invoke(args=["report", "--help"]).output
    # Without --months: 25 months, or more to reach the first stored response.
    first = db.session.scalar(sa.select(sa.func.min(Response.submitted_at)))
    first_month = min(filters.month_key(clock.to_local(first).date()), limit - 25)
    result = runner.invoke(args=["report-refresh"])
    assert result.exit_code == 0, result.output
    assert markers() == set(range(first_month, limit))
    assert day_markers() == {d for k in range(first_month, limit) for d in rollups.days_of_month(k)} | this_month


def test_month_cells_are_the_sums_of_their_days(app, flagged_demo):
    limit = rollups.complete_month_limit()
    key = limit - 2  # holds a response a second before its first local midnight and one at it
    assert rollups.ensure_rollups([key]) == [key]
    assert day_markers() == set(rollups.days_of_month(key))

    def cells(day):
        rows = db.session.execute(sa.select(
            ReportRollup.survey_id, ReportRollup.service_point_id, ReportRollup.channel, ReportRollup.flagged,
            ReportRollup.respondents, ReportRollup.dissatisfied, ReportRollup.moments,
        ).where(ReportRollup.month == key, day, ReportRollup.survey_id != 0)).all()
        return rows

    month = {r[:4]: (r[4], r[5], np.frombuffer(bytes(r[6]), dtype="<i8")) for r in cells(ReportRollup.day == 0)}
    summed: dict = {}
    for r in cells(ReportRollup.day != 0):
        n, dis, m = summed.get(r[:4], (0, 0, 0))
        summed[r[:4]] = (n + r[4], dis + r[5], m + np.frombuffer(bytes(r[6]), dtype="<i8"))
    assert month.keys() == summed.keys() and len(month) > 5
    for k, (n, dis, m) in month.items():
        assert (n, dis) == summed[k][:2] and np.array_equal(m, summed[k][2])
    # And the month's respondents are those stored in it (the raw count, by local month).
    start, end = filters.month_start_utc(key), filters.month_start_utc(key + 1)
    assert sum(n for n, _, _ in month.values()) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(
            Response.submitted_at >= start, Response.submitted_at < end,
            Response.id.in_(sa.select(Answer.response_id).where(Answer.satisfied.is_not(None)))))


def test_after_report_refresh_any_period_reads_only_rollups_and_today(app, flagged_demo, runner):
    """The nightly job leaves nothing to build: a period with mid-month edges, in an old month or
    across month boundaries, a whole month, a quarter, the default (and each one's previous
    period) read stored cells and today's answers only. Shown by deleting the raw answers of
    every complete day (as retention does): the reports do not change."""
    today = clock.today()
    periods = [
        {},
        {"from": (today - timedelta(days=300)).isoformat(), "to": (today - timedelta(days=250)).isoformat()},
        {"from": (today - timedelta(days=47)).isoformat(), "to": (today - timedelta(days=20)).isoformat()},
        {"from": (today - timedelta(days=200)).isoformat(), "to": today.isoformat()},
        {"from": filters.month_first_day(filters.month_key(today) - 4).isoformat(),
         "to": (filters.month_first_day(filters.month_key(today) - 1) - timedelta(days=1)).isoformat()},
    ]
    before = [build(None, filters.parse_filters(p), rollups=False).to_dict() for p in periods]
    assert runner.invoke(args=["report-refresh"]).exit_code == 0
    cells = sa.select(sa.func.count()).select_from(ReportRollup).where(ReportRollup.survey_id != 0)
    stored = db.session.scalar(cells)
    start_of_today = clock.day_start_utc(rollups.complete_day_limit())
    old = sa.select(Response.id).where(Response.submitted_at < start_of_today)
    db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(old)))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0  # today's remain
    for p, expected in zip(periods, before):
        assert_same(expected, build(None, filters.parse_filters(p)).to_dict())
    # Nothing was built (only markers of the empty days before the first response, at most).
    assert db.session.scalar(cells) == stored
