"""The one clock: instants in UTC, dates in the configured time zone.

Instants are stored as naive UTC (``now_utc``). Anything a person reads as a date (a survey's
first and last day, "today" on a dashboard, a month of a report) is a local date in
``BABEL_DEFAULT_TIMEZONE`` (Asia/Ho_Chi_Minh), whatever zone the server itself runs in. Every
module asks this one for "now", "today" and a local day's bounds, so that a QR survey and its
kiosk twin open and close at the same instant.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from .config import Defaults


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The configured local zone (the app's, or the default outside an app)."""
    return _zone(current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else Defaults.BABEL_DEFAULT_TIMEZONE)


def now_utc() -> datetime:
    """The current instant as naive UTC, the form every timestamp column stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(instant: datetime) -> datetime:
    """A stored naive-UTC instant as naive local time."""
    return instant.replace(tzinfo=timezone.utc).astimezone(zone()).replace(tzinfo=None)


def to_utc(local: datetime) -> datetime:
    """A naive local time as naive UTC."""
    return local.replace(tzinfo=zone()).astimezone(timezone.utc).replace(tzinfo=None)


def now_local() -> datetime:
    return to_local(now_utc())


def today() -> date:
    """Today's date where the service is, not where the server is."""
    return now_local().date()


def day_start_utc(day: date) -> datetime:
    """The UTC instant at which local ``day`` begins."""
    return to_utc(datetime.combine(day, time.min))


def day_bounds_utc(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """Half-open UTC bounds [start, end) of the local days ``first`` to ``last`` inclusive."""
    return day_start_utc(first), day_start_utc((last or first) + timedelta(days=1))


def utc_offset() -> timedelta:
    """The local zone's offset from UTC now, for SQL that shifts timestamps to local days.
    Vietnam keeps no daylight saving, so one offset holds for every stored instant."""
    return zone().utcoffset(now_utc())
