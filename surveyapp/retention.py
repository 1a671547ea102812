"""Retention of personal data (docs/PRIVACY.md): what the worker's daily ``retention`` job erases.

- contact details: ``RETENTION_CONTACT_DAYS`` after the response, or once its case is closed;
- comments: after ``RETENTION_COMMENT_MONTHS`` only their masked text is kept;
- raw responses: after ``RETENTION_RAW_YEARS`` (None: never) they are deleted, but only months
  whose month and day rollups are stored, so that every report still gives the same numbers.
  A response with a case is kept (the case refers to it).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from . import clock
from .extensions import db
from .models import Answer, Case, CommentLabel, CommentTheme, Question, Response
from .privacy import mask_personal_data
from .reports.filters import month_end, month_first_day, month_key, month_start_utc
from .reports.rollups import complete_month_limit, ensure_day_rollups, ensure_rollups

BATCH = 1000


def _months_before(now: datetime, months: int) -> datetime:
    """The UTC instant at the local start of the day ``months`` calendar months before ``now``."""
    local = clock.to_local(now).date()
    key = month_key(local) - months
    first = month_first_day(key)
    day = min(local.day, month_end(first).day)
    return clock.day_start_utc(date(first.year, first.month, day))


def erase_contacts(now: datetime) -> int:
    """Erase the contacts older than the retention period or whose case is closed."""
    cutoff = now - timedelta(days=current_app.config["RETENTION_CONTACT_DAYS"])
    closed = sa.select(Case.id).where(Case.response_id == Response.id, Case.state == "closed").exists()
    return db.session.execute(
        sa.update(Response).where(Response.contact.is_not(None), sa.or_(Response.submitted_at < cutoff, closed))
        .values(contact=None).execution_options(synchronize_session=False)).rowcount


def mask_old_comments(now: datetime) -> int:
    """Replace the comments older than the retention period by their masked text."""
    cutoff = _months_before(now, current_app.config["RETENTION_COMMENT_MONTHS"])
    changed, last = 0, 0
    while True:
        rows = db.session.execute(
            sa.select(Answer.id, Answer.text).join(Question, Question.id == Answer.question_id)
            .where(Question.type == "text", Answer.text.is_not(None), Answer.submitted_at < cutoff, Answer.id > last)
            .order_by(Answer.id).limit(BATCH)).all()
        if not rows:
            return changed
        last = rows[-1].id
        updates = [{"id": i, "text": masked} for i, text in rows if (masked := mask_personal_data(text)) != text]
        if updates:
            db.session.execute(sa.update(Answer), updates)  # by primary key
            changed += len(updates)


def delete_answers(answers) -> None:
    """Delete these answers (ids, or a select of ids) and what the classifier read in them."""
    db.session.execute(sa.update(Case).where(Case.answer_id.in_(answers)).values(answer_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.delete(CommentTheme).where(CommentTheme.answer_id.in_(answers))
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.delete(CommentLabel).where(CommentLabel.answer_id.in_(answers))
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.delete(Answer).where(Answer.id.in_(answers)).execution_options(synchronize_session=False))


def delete_old_raw(now: datetime) -> int:
    """Delete the raw responses of the months older than ``RETENTION_RAW_YEARS`` once their
    month and day rollups are stored; the number deleted."""
    years = current_app.config["RETENTION_RAW_YEARS"]
    if years is None:
        return 0
    limit = min(month_key(clock.to_local(_months_before(now, 12 * int(years))).date()), complete_month_limit())
    first = db.session.scalar(sa.select(sa.func.min(Response.submitted_at)).where(
        Response.submitted_at < month_start_utc(limit)))
    if first is None:
        return 0
    months = list(range(month_key(clock.to_local(first).date()), limit))
    ensure_rollups(months)
    days = []
    for key in months:
        d = month_first_day(key)
        while d <= month_end(month_first_day(key)):
            days.append(d)
            d += timedelta(days=1)
    ensure_day_rollups(days)
    end = month_start_utc(limit)
    has_case = sa.select(Case.id).where(Case.response_id == Response.id).exists()
    deleted = 0
    while True:
        ids = list(db.session.scalars(sa.select(Response.id).where(Response.submitted_at < end, ~has_case)
                                      .order_by(Response.id).limit(BATCH)))
        if not ids:
            return deleted
        delete_answers(sa.select(Answer.id).where(Answer.response_id.in_(ids)))
        db.session.execute(sa.delete(Response).where(Response.id.in_(ids)).execution_options(synchronize_session=False))
        db.session.commit()
        deleted += len(ids)


def apply_retention(now: datetime | None = None) -> dict:
    """Apply every retention policy as of ``now`` (default: now); what was done, by policy."""
    now = now or clock.now_utc()
    done = {"contacts_erased": erase_contacts(now), "comments_masked": mask_old_comments(now)}
    db.session.commit()
    done["responses_deleted"] = delete_old_raw(now)
    db.session.commit()
    current_app.logger.info("retention: %s", done)
    return done
