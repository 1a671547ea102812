"""Working days: Monday to Friday, less Vietnam's public holidays, as officials adjust them.

The statutory days (Tết Dương lịch, Tết Nguyên đán, Giỗ Tổ Hùng Vương on 10/3 lunar, 30/4, 1/5,
Quốc khánh, and the days off and working Saturdays the government swaps) come from the
``holidays`` package (country VN). The breaks the government announces each year change, so the
``calendar_day`` table lets officials add a day off or a working day; a row overrides the package
for that date.

A deadline of N working days runs from the day after the opening day (that day itself never
counts, as with any time limit counted in days) and ends at the end of the Nth working day, local
time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
import sqlalchemy as sa

from .clock import day_start_utc, to_local
from .models import CALENDAR_KINDS, CalendarDay, db

COUNTRY = "VN"
# A deadline never needs more than this many calendar days per working day (Tết is the longest run).
_MAX_SPAN_DAYS = 400


class CalendarError(ValueError):
    """A change to the calendar that cannot be made; the message is for the official."""


@lru_cache(maxsize=64)
def _statutory(year: int, language: str) -> holidays.HolidayBase:
    return holidays.country_holidays(COUNTRY, years=year, language=language)


def statutory_holidays(year: int, language: str = "vi") -> dict[date, str]:
    """The package's public holidays of ``year``, named in ``language`` ("vi" or "en")."""
    return dict(_statutory(year, "vi" if language == "vi" else "en_US"))


def statutory_working_weekends(year: int) -> set[date]:
    """Saturdays and Sundays the government made working days (in exchange for a day off)."""
    return {d for d in _statutory(year, "vi").weekend_workdays if d.year == year}


@dataclass(frozen=True)
class Calendar:
    """The working-day calendar: the statutory one with officials' overrides on top."""

    overrides: dict[date, str] = field(default_factory=dict)  # date -> "off" | "working"

    def is_working_day(self, day: date) -> bool:
        kind = self.overrides.get(day)
        if kind is not None:
            return kind == "working"
        statutory = _statutory(day.year, "vi")
        if day in statutory:
            return False
        return day.weekday() < 5 or day in statutory.weekend_workdays

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted); ``start`` for 0."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day, left = start, n
        limit = start + timedelta(days=_MAX_SPAN_DAYS + 7 * n)
        while left:
            day += timedelta(days=1)
            if day > limit:  # a calendar with every day off: refuse rather than loop for ever
                raise CalendarError("no working day in the calendar")
            if self.is_working_day(day):
                left -= 1
        return day

    def due_at(self, opened_at: datetime, working_days: int) -> datetime:
        """The naive-UTC instant a deadline of ``working_days`` opened at ``opened_at`` (naive UTC)
        passes: the local midnight after its last day."""
        last = self.add_working_days(to_local(opened_at).date(), working_days)
        return day_start_utc(last + timedelta(days=1))


def due_on(due_at: datetime) -> date:
    """The last local day of a deadline that passes at ``due_at`` (the inverse of ``Calendar.due_at``)."""
    return to_local(due_at).date() - timedelta(days=1)


def load_calendar() -> Calendar:
    """The calendar with every override in the database (a few rows a year)."""
    rows = db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind)).all()
    return Calendar(overrides={d: k for d, k in rows})


# ---------------------------------------------------------------------------------------------
# Officials' overrides: the workspace page and the CLI share these.


@dataclass(frozen=True)
class YearDay:
    day: date
    kind: str  # "off" or "working"
    name: str
    source: str  # "statutory" or "override"
    overridden: bool = False  # a statutory day an override contradicts


def year_days(year: int, language: str = "vi") -> list[YearDay]:
    """Every day of ``year`` that differs from a plain Monday-to-Friday week, in date order."""
    overrides = {r.day: r for r in db.session.scalars(
        sa.select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    days = []
    for d, name in statutory_holidays(year, language).items():
        days.append(YearDay(d, "off", name, "statutory", overridden=d in overrides and overrides[d].kind != "off"))
    for d in statutory_working_weekends(year):
        days.append(YearDay(d, "working", "", "statutory", overridden=d in overrides and overrides[d].kind != "working"))
    for d, row in overrides.items():
        days.append(YearDay(d, row.kind, row.note or "", "override"))
    return sorted(days, key=lambda x: (x.day, x.source != "statutory"))


def set_day(day: date, kind: str, note: str | None = None) -> CalendarDay:
    """Make ``day`` a day off or a working day whatever the statutory calendar says (not committed)."""
    if kind not in CALENDAR_KINDS:
        raise CalendarError(f"kind must be one of {', '.join(CALENDAR_KINDS)}")
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind)
        db.session.add(row)
    row.kind, row.note = kind, (note or "").strip()[:255] or None
    db.session.flush()
    return row


def remove_day(day: date) -> bool:
    """Drop the override of ``day`` (the statutory calendar applies again); False if there was none."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True
