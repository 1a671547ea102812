"""Storing batches of kiosk ratings: validation, idempotency, flags.

A tablet may send the same batch twice (the answer was lost), a batch cut off half-way, or
the same batch from two sync loops at once (two tabs). Each rating carries the tablet's UUID
as its idempotency key, unique per survey in the database, so every path stores it once:

1. the batch is inserted in one statement with ON CONFLICT DO NOTHING ... RETURNING on the
   unique (survey, key): a key stored earlier, or a moment ago by a concurrent request, makes
   its row vanish from RETURNING instead of failing the whole batch, and is answered
   "duplicate". (A separate "which keys exist?" query first would add a round trip and, on
   PostgreSQL, a plan that may scan the survey's rows instead of probing the unique index.)
2. answers are inserted only for the rows this transaction created, and everything
   commits at once, so a failure stores nothing half-way.
"""
from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    KIOSK_REASONS, Answer, KioskDevice, Question, Questionnaire, Response, Survey, survey_service_point, utcnow,
)

VALUES = (1, 2, 3, 4)


def setting(name: str):
    return current_app.config[name]  # defaults in config.Defaults


@dataclass
class QuickForm:
    survey: Survey
    rating_question_id: int
    reason_question_id: int
    option_by_value: dict[int, tuple[int, int]]  # value -> (option id, satisfied 0/1)
    option_by_reason: dict[str, int]


def kiosk_survey(service_point_id: int, today: date | None = None) -> Survey | None:
    """The open kiosk survey of a service point: open, within its dates, on the kiosk channel,
    deployed there, with a quick-rating questionnaire. The most recent one wins. Survey dates
    are local dates, so "today" is the date in the app's time zone, not UTC's."""
    today = today or datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return db.session.scalar(
        sa.select(Survey)
        .join(survey_service_point, survey_service_point.c.survey_id == Survey.id)
        .join(Questionnaire, Questionnaire.id == Survey.questionnaire_id)
        .where(
            survey_service_point.c.service_point_id == service_point_id,
            Survey.status == "open",
            Survey.channel_kiosk.is_(True),
            Survey.starts_on <= today,
            sa.or_(Survey.ends_on.is_(None), Survey.ends_on >= today),
            Questionnaire.indicator == "quick",
        )
        .order_by(Survey.starts_on.desc(), Survey.id.desc())
        .limit(1)
    )


def quick_form(survey: Survey) -> QuickForm | None:
    questions = {
        q.code: q
        for q in db.session.scalars(
            sa.select(Question).options(selectinload(Question.options)).where(Question.questionnaire_id == survey.questionnaire_id)
        )
    }
    rating, reason = questions.get("rating"), questions.get("reason")
    if rating is None or reason is None:
        return None
    return QuickForm(
        survey=survey,
        rating_question_id=rating.id,
        reason_question_id=reason.id,
        option_by_value={o.value: (o.id, int(o.is_satisfied)) for o in rating.options if o.value in VALUES},
        option_by_reason={o.code: o.id for o in reason.options},
    )


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


def validate(item) -> tuple[dict | None, str | None, str | None]:
    """One rating of the batch: (clean rating, None, id) or (None, refusal reason, id)."""
    if not isinstance(item, dict):
        return None, "invalid_rating", None
    raw_id = item.get("id")
    try:
        key = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) and len(raw_id) <= 64 else None
    except ValueError:
        key = None
    if key is None:
        return None, "invalid_id", raw_id if isinstance(raw_id, str) else None
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or value not in VALUES:
        return None, "invalid_value", raw_id
    created = parse_time(item.get("created_at"))
    if created is None:
        return None, "invalid_created_at", raw_id
    reason = item.get("reason")
    if reason is not None and (reason not in KIOSK_REASONS or value > 2):
        # Reasons are asked after a negative answer only.
        return None, "invalid_reason", raw_id
    language = item.get("language", "vi")
    if language not in ("vi", "en"):
        language = "vi"
    return {"key": key, "value": value, "created_at": created, "reason": reason, "language": language}, None, raw_id


def _insert(table_model):
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table_model)


def store_batch(device: KioskDevice, items: list, now: datetime | None = None) -> dict:
    """Store a batch for ``device``; returns {"results": [...], "stored": n, "duplicates": n, "refused": n}."""
    now = now or utcnow()
    results: list[dict] = []
    clean: list[tuple[int, dict]] = []  # (position in results, rating)
    seen: set[str] = set()
    for item in items:
        rating, refusal, raw_id = validate(item)
        if refusal:
            results.append({"id": raw_id, "status": "refused", "reason": refusal})
        elif rating["key"] in seen:
            results.append({"id": raw_id, "status": "duplicate"})
        else:
            seen.add(rating["key"])
            results.append({"id": raw_id, "status": None})
            clean.append((len(results) - 1, rating))

    survey = kiosk_survey(device.service_point_id) if clean else None
    form = quick_form(survey) if survey else None
    if clean and form is None:
        for pos, _rating in clean:
            results[pos].update(status="refused", reason="no_open_survey")
        clean = []

    if clean:
        inserted = _insert_fresh(device, form, [r for _p, r in clean], now)
        for pos, rating in clean:
            if rating["key"] in inserted:
                results[pos]["status"] = "stored"
                if inserted[rating["key"]]:
                    results[pos]["flag"] = inserted[rating["key"]]
            else:
                results[pos]["status"] = "duplicate"

    device.last_seen_at = now
    db.session.commit()
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("stored", "duplicate", "refused")}
    return {"results": results, "stored": counts["stored"], "duplicates": counts["duplicate"], "refused": counts["refused"]}


def _flags(device: KioskDevice, ratings: list[dict], now: datetime) -> list[str | None]:
    """clock_skew for tablet times implausibly far from ours; burst for more taps in a sliding
    window than a counter can serve (counting this device's stored ratings around the batch)."""
    future = now + timedelta(minutes=setting("KIOSK_CLOCK_FUTURE_MINUTES"))
    horizon = now - timedelta(days=setting("KIOSK_OFFLINE_HORIZON_DAYS"))
    window = timedelta(seconds=setting("KIOSK_BURST_WINDOW_SECONDS"))
    most = setting("KIOSK_BURST_MAX")
    plausible = [r for r in ratings if horizon <= r["created_at"] <= future]
    times: list[datetime] = []
    if plausible:
        lo = min(r["created_at"] for r in plausible)
        hi = max(r["created_at"] for r in plausible)
        stored = dict(db.session.execute(
            sa.select(Response.idempotency_key, Response.client_created_at).where(
                Response.kiosk_device_id == device.id,
                Response.client_created_at > lo - window,
                Response.client_created_at <= hi + window,
            )
        ).all())
        # A re-sent rating is already among the stored ones: count it once.
        times = sorted(list(stored.values()) + [r["created_at"] for r in plausible if r["key"] not in stored])
    flags: list[str | None] = []
    for r in ratings:
        t = r["created_at"]
        if not horizon <= t <= future:
            flags.append("clock_skew")
            continue
        in_window = bisect.bisect_right(times, t) - bisect.bisect_right(times, t - window)
        flags.append("burst" if in_window > most else None)
    return flags


def _insert_fresh(device: KioskDevice, form: QuickForm, ratings: list[dict], now: datetime) -> dict[str, str | None]:
    """Insert responses and answers; returns {key: flag} of the rows this transaction created.
    A key already stored for the survey (re-sent, or inserted a moment ago by a concurrent
    request) is skipped by ON CONFLICT DO NOTHING and absent from RETURNING."""
    flags = _flags(device, ratings, now)
    rows = [
        {
            "survey_id": form.survey.id, "service_point_id": device.service_point_id, "channel": "kiosk",
            "submitted_at": now, "client_created_at": r["created_at"], "language": r["language"],
            "idempotency_key": r["key"], "kiosk_device_id": device.id, "flag": flag, "contact_consent": False,
        }
        for r, flag in zip(ratings, flags)
    ]
    # In key order: two requests carrying the same ratings (two tabs of one tablet syncing one
    # queue, a retry racing the original) then meet their common keys in the same order and
    # queue behind each other, instead of each waiting on a key the other holds (a deadlock
    # that PostgreSQL breaks after a second by failing one of them).
    rows.sort(key=lambda row: row["idempotency_key"])
    # Core statements on the tables: the ORM's bulk path costs more than the database here.
    table = Response.__table__
    stmt = (
        _insert(table)
        .on_conflict_do_nothing(index_elements=["survey_id", "idempotency_key"])
        .returning(table.c.id, table.c.idempotency_key)
    )
    ids = {key: rid for rid, key in db.session.execute(stmt, rows).all()}
    by_key = {r["key"]: r for r in ratings}
    answers = []
    for key, rid in ids.items():
        r = by_key[key]
        option_id, satisfied = form.option_by_value[r["value"]]
        base = {"response_id": rid, "service_point_id": device.service_point_id, "submitted_at": now, "text": None}
        answers.append(base | {"question_id": form.rating_question_id, "option_id": option_id, "value": r["value"],
                               "satisfied": satisfied})
        if r["reason"]:
            answers.append(base | {"question_id": form.reason_question_id, "option_id": form.option_by_reason[r["reason"]],
                                   "value": None, "satisfied": None})
    if answers:
        db.session.execute(sa.insert(Answer.__table__), answers)
    flag_by_key = {r["key"]: f for r, f in zip(ratings, flags)}
    return {key: flag_by_key[key] for key in ids}
