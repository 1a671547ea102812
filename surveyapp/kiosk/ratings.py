"""Kiosk rating batches: the batch protocol and the plausibility of what a tablet claims.
Which survey is open, how each answer is checked and how responses are stored are the rules
both channels share (``submissions``).

A tablet may send the same batch twice (the answer was lost), a batch cut off half-way, or
the same batch from two sync loops at once (two tabs). Each rating carries the tablet's UUID
as its idempotency key, unique per survey in the database, so ``submissions.store`` stores
it once whatever the path; a rating already stored is answered "duplicate".

Plausibility
------------
A rating carries the tablet's own clock, so the server judges what one tablet at one counter
can physically have collected, and flags (stores, but leaves out of the indices) the rest;
the bounds and their reasons are in docs/RELIABILITY.md, the settings in ``config.Defaults``:

- ``clock_skew``: claimed ahead of the server, or older than the offline horizon;
- ``implausible``: claimed before the tablet was enrolled, or before the last moment it
  reported an empty queue (it had nothing older to send then), or beyond what it could have
  collected since the later of the two at the hourly bound (what a device delivers against
  the time that passed);
- ``burst``: more taps in a minute, or in an hour, than a tablet can take (counting this
  device's ratings already stored around the batch; flagged ones take no place).
"""
from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from ..citizen.structure import QuestionSpec, spec_of
from ..clock import now_utc
from ..extensions import db
from ..models import KioskDevice, Response, Survey
from ..submissions.answers import CleanAnswer, applies, check_option
from ..submissions.store import NewResponse, store_responses
from ..submissions.surveys import open_surveys
from .devices import note_delivery

LANGUAGES = ("vi", "en")
PLAUSIBILITY_FLAGS = ("clock_skew", "implausible", "burst")


@dataclass(frozen=True, slots=True)
class QuickForm:
    """The quick-rating questionnaire of the open kiosk survey, as ``citizen.structure`` caches it."""
    survey_id: int
    rating: QuestionSpec
    reason: QuestionSpec


def kiosk_survey(service_point_id: int, on: date | None = None) -> Survey | None:
    """The open kiosk survey of a service point: among the surveys taking kiosk responses
    there today (``submissions.surveys``), those with a quick-rating questionnaire; the most
    recent one wins."""
    quick = [s for s in open_surveys(service_point_id, "kiosk", on) if s.questionnaire.indicator == "quick"]
    return max(quick, key=lambda s: (s.starts_on, s.id), default=None)


def quick_form(survey: Survey) -> QuickForm | None:
    questions = {q.code: q for q in spec_of(survey.questionnaire).questions}
    rating, reason = questions.get("rating"), questions.get("reason")
    if rating is None or reason is None:
        return None
    return QuickForm(survey.id, rating, reason)


def parse_time(text) -> datetime | None:
    """ISO 8601 to naive UTC (the database convention); a time without offset is taken as UTC."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # e.g. year 1 with a positive offset
        return None
    return when


def _key(item) -> tuple[str | None, str | None]:
    """(idempotency key, the id as sent) of one item."""
    raw_id = item.get("id")
    try:
        key = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) and len(raw_id) <= 64 else None
    except ValueError:
        key = None
    return key, raw_id if isinstance(raw_id, str) else None


def validate(item, form: QuickForm) -> tuple[dict | None, str | None]:
    """One rating of the batch, checked with the shared validators: (clean rating, None) or
    (None, refusal reason). The protocol's own rules: the value is an integer on the scale, a
    reason is sent only after a rating it follows (otherwise the tablet is broken: refused)."""
    value = item.get("value")
    rating = check_option(form.rating, value) \
        if isinstance(value, int) and not isinstance(value, bool) else None
    if not isinstance(rating, CleanAnswer):
        return None, "invalid_value"
    created = parse_time(item.get("created_at"))
    if created is None:
        return None, "invalid_created_at"
    answers = [rating]
    reason = item.get("reason")
    if reason is not None:
        clean = check_option(form.reason, reason) \
            if isinstance(reason, str) and applies(form.reason, {form.rating.code: rating}) else None
        if not isinstance(clean, CleanAnswer):
            return None, "invalid_reason"
        answers.append(clean)
    language = item.get("language", "vi")
    return {"created_at": created, "answers": answers,
            "language": language if language in LANGUAGES else "vi"}, None


def store_batch(device: KioskDevice, items: list, now: datetime | None = None) -> dict:
    """Store a batch for ``device``; returns {"results": [...], "stored": n, "duplicates": n, "refused": n}."""
    now = now or now_utc()
    results: list[dict] = [{"id": None, "status": None} for _item in items]
    keyed: list[tuple[int, str, dict]] = []  # (position, key, item)
    seen: set[str] = set()
    for pos, item in enumerate(items):
        if not isinstance(item, dict):
            results[pos].update(status="refused", reason="invalid_rating")
            continue
        key, raw_id = _key(item)
        results[pos]["id"] = raw_id
        if key is None:
            results[pos].update(status="refused", reason="invalid_id")
        elif key in seen:
            results[pos]["status"] = "duplicate"
        else:
            seen.add(key)
            keyed.append((pos, key, item))

    survey = kiosk_survey(device.service_point_id) if keyed else None
    form = quick_form(survey) if survey else None
    clean: list[tuple[int, dict]] = []
    for pos, key, item in keyed:
        if form is None:
            results[pos].update(status="refused", reason="no_open_survey")
            continue
        rating, refusal = validate(item, form)
        if refusal:
            results[pos].update(status="refused", reason=refusal)
        else:
            rating["key"] = key
            clean.append((pos, rating))

    flagged = 0
    if clean:
        ratings = [r for _pos, r in clean]
        flags = plausibility(device, ratings, now)
        created = store_responses(
            form.survey_id, device.service_point_id, "kiosk",
            [NewResponse(r["key"], r["answers"], language=r["language"], flag=flags[r["key"]],
                         client_created_at=r["created_at"]) for r in ratings],
            kiosk_device_id=device.id, now=now,
        )
        for pos, r in clean:
            if r["key"] in created:
                results[pos]["status"] = "stored"
                if flags[r["key"]]:
                    results[pos]["flag"] = flags[r["key"]]
                    flagged += 1
            else:
                results[pos]["status"] = "duplicate"

    note_delivery(device, now, flagged=flagged, queue_empty=not items)
    db.session.commit()
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("stored", "duplicate", "refused")}
    return {"results": results, "stored": counts["stored"], "duplicates": counts["duplicate"], "refused": counts["refused"]}


def plausibility(device: KioskDevice, ratings: list[dict], now: datetime) -> dict[str, str | None]:
    """{key: flag or None} for ``ratings`` (each with "key" and "created_at") of ``device``,
    received ``now`` (rules in the module docstring)."""
    cfg = current_app.config
    future = now + timedelta(minutes=cfg["KIOSK_CLOCK_FUTURE_MINUTES"])
    horizon = now - timedelta(days=cfg["KIOSK_OFFLINE_HORIZON_DAYS"])
    grace = timedelta(minutes=cfg["KIOSK_CLOCK_GRACE_MINUTES"])
    minute, per_minute = timedelta(seconds=cfg["KIOSK_BURST_WINDOW_SECONDS"]), cfg["KIOSK_BURST_MAX"]
    hour, per_hour = timedelta(hours=1), cfg["KIOSK_HOURLY_MAX"]
    # Since when the tablet can have held what it sends: its enrolment, or the last moment it
    # reported an empty queue, whichever is later.
    known = [t for t in (device.enrolled_at, device.queue_empty_at) if t is not None]
    since = max(known) if known else None

    flags: dict[str, str | None] = {}
    candidates = []
    for r in ratings:
        t = r["created_at"]
        if not horizon <= t <= future:
            flags[r["key"]] = "clock_skew"
        elif since is not None and t < since - grace:
            flags[r["key"]] = "implausible"
        else:
            candidates.append(r)
    if not candidates:
        return flags
    candidates.sort(key=lambda r: r["created_at"])
    lo, hi = candidates[0]["created_at"], candidates[-1]["created_at"]
    mine = sa.and_(Response.kiosk_device_id == device.id, Response.flag.is_(None))
    stored = dict(db.session.execute(
        sa.select(Response.idempotency_key, Response.client_created_at)
        .where(mine, Response.client_created_at > lo - hour, Response.client_created_at <= hi)
    ).all())
    times = sorted(stored.values())
    # What it can have collected since ``since``: the hourly pace over the time that passed,
    # and one minute's worth for a queue at the counter.
    capacity = collected = None
    if since is not None:
        capacity = per_hour * ((now - since) / hour) + per_minute
        collected = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
            mine, Response.client_created_at >= since - grace))
    for r in candidates:
        key, t = r["key"], r["created_at"]
        if key in stored:  # re-sent: already counted, and answered "duplicate"
            flags[key] = None
            continue
        in_minute = bisect.bisect_right(times, t) - bisect.bisect_right(times, t - minute) + 1
        in_hour = bisect.bisect_right(times, t) - bisect.bisect_right(times, t - hour) + 1
        if in_minute > per_minute or in_hour > per_hour:
            flags[key] = "burst"
        elif capacity is not None and collected + 1 > capacity:
            flags[key] = "implausible"
        else:
            flags[key] = None
            bisect.insort(times, t)
            if collected is not None:
                collected += 1
    return flags


__all__ = ["kiosk_survey", "quick_form", "store_batch", "plausibility", "parse_time", "validate", "PLAUSIBILITY_FLAGS"]
