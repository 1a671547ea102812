"""Themes stored per free-text answer, and the counts the comments page and reports show.

``theme_pending`` is the job a worker runs; the read functions take the same filters as the
pages that call them (service points already limited to the viewer's subtree, a time range)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Answer, CommentLabel, CommentTheme, Question, Response
from ..reports.filters import Filters, clauses
from .classify import classify_many
from .lexicon import THEMES


def _has_text():
    return sa.and_(Answer.text.is_not(None), sa.func.length(sa.func.trim(Answer.text)) > 0)


def theme_pending(limit: int = 1000) -> int:
    """Classify up to ``limit`` stored comments not classified yet, oldest first; return how many.
    One transaction: a comment is stored with all its themes or not at all."""
    rows = db.session.execute(
        sa.select(Answer.id, Answer.text)
        .where(_has_text(), ~sa.exists().where(CommentLabel.answer_id == Answer.id))
        .order_by(Answer.id).limit(limit)
    ).all()
    if not rows:
        return 0
    results = classify_many(text for _, text in rows)
    db.session.execute(sa.insert(CommentLabel), [
        {"answer_id": answer_id, "polarity": r.polarity, "urgent": "urgent" in r.flags}
        for (answer_id, _), r in zip(rows, results)
    ])
    themes = [{"answer_id": answer_id, "theme": t} for (answer_id, _), r in zip(rows, results) for t in r.themes]
    if themes:
        db.session.execute(sa.insert(CommentTheme), themes)
    db.session.commit()
    return len(rows)


def _answer_filter(answer_ids: Iterable[int] | None, service_point_ids: Iterable[int] | None,
                   start: datetime | None, end: datetime | None) -> list:
    clauses = []
    if answer_ids is not None:
        # A query of answer ids (the comments page's filters) or the ids themselves.
        clauses.append(Answer.id.in_(answer_ids if isinstance(answer_ids, sa.Select) else list(answer_ids)))
    if service_point_ids is not None:
        clauses.append(Answer.service_point_id.in_(list(service_point_ids)))
    if start is not None:
        clauses.append(Answer.submitted_at >= start)
    if end is not None:
        clauses.append(Answer.submitted_at < end)
    return clauses


def theme_counts(answer_ids: Iterable[int] | None = None, *, service_point_ids: Iterable[int] | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 polarity: str | None = None) -> dict[str, int]:
    """Classified comments per theme (every code present, zero included, in ``THEMES`` order),
    among the given answers / service points / [start, end) of submission, of one polarity if given."""
    query = (sa.select(CommentTheme.theme, sa.func.count())
             .join(CommentLabel, CommentLabel.answer_id == CommentTheme.answer_id)
             .join(Answer, Answer.id == CommentTheme.answer_id)
             .where(*_answer_filter(answer_ids, service_point_ids, start, end))
             .group_by(CommentTheme.theme))
    if polarity is not None:
        query = query.where(CommentLabel.polarity == polarity)
    found = dict(db.session.execute(query).all())
    return {code: found.get(code, 0) for code in THEMES}


def complaint_counts_by_point(service_point_ids: Iterable[int], f: Filters | None = None, *,
                              questionnaire_id: int | None = None, start: datetime | None = None,
                              end: datetime | None = None) -> dict[int, dict[str, int]]:
    """Classified complaints per service point and theme, in one grouped query: ``{sp: {theme: n}}``
    (themes with no complaint left out). ``f``: a report's period and response filters (flagged,
    channel, survey), so the comments counted are those of the responses the report counts;
    ``questionnaire_id``: only the comments of that questionnaire's surveys."""
    query = (sa.select(Answer.service_point_id, CommentTheme.theme, sa.func.count())
             .join(CommentLabel, CommentLabel.answer_id == CommentTheme.answer_id)
             .join(Answer, Answer.id == CommentTheme.answer_id)
             .where(CommentLabel.polarity == "complaint",
                    *_answer_filter(None, service_point_ids, start, end))
             .group_by(Answer.service_point_id, CommentTheme.theme))
    if f is not None:
        query = query.join(Response, Response.id == Answer.response_id).where(
            *clauses(f, time=Answer.submitted_at))
    if questionnaire_id is not None:
        # The questionnaire's free-text questions, as ids: the answer index then skips the
        # rated answers of the period instead of reading each one.
        texts = list(db.session.scalars(sa.select(Question.id).where(
            Question.questionnaire_id == questionnaire_id, Question.type == "text")))
        if not texts:
            return {}
        query = query.where(Answer.question_id.in_(texts))
    out: dict[int, dict[str, int]] = {}
    for sp_id, theme, n in db.session.execute(query):
        out.setdefault(sp_id, {})[theme] = n
    return out


def rank_themes(counts: Mapping[str, int], limit: int = 3) -> list[tuple[str, int]]:
    """The ``limit`` most frequent themes of ``counts``, most frequent first (ties in ``THEMES``
    order), none with a zero count."""
    ranked = sorted((item for item in counts.items() if item[1]), key=lambda kv: (-kv[1], THEMES.index(kv[0])))
    return ranked[:limit]


def top_complaint_themes(service_point_ids: Iterable[int], start: datetime | None = None,
                         end: datetime | None = None, limit: int = 3, *, f: Filters | None = None,
                         questionnaire_id: int | None = None) -> list[tuple[str, int]]:
    """The most common reasons for dissatisfaction at these service points: the themes of
    complaints, ranked by :func:`rank_themes`."""
    total: Counter[str] = Counter()
    for counts in complaint_counts_by_point(service_point_ids, f, questionnaire_id=questionnaire_id,
                                            start=start, end=end).values():
        total.update(counts)
    return rank_themes(total, limit)


def with_theme(theme: str):
    """SQL condition on ``Answer.id`` for the comments page's theme filter."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    return Answer.id.in_(sa.select(CommentTheme.answer_id).where(CommentTheme.theme == theme))


def labels_of(answer_ids: Iterable[int]) -> dict[int, dict]:
    """``{answer_id: {"themes": [...], "polarity": ..., "urgent": ...}}`` for the classified ones."""
    ids = list(answer_ids)
    labels = {a: {"themes": [], "polarity": p, "urgent": u} for a, p, u in db.session.execute(
        sa.select(CommentLabel.answer_id, CommentLabel.polarity, CommentLabel.urgent)
        .where(CommentLabel.answer_id.in_(ids))).all()}
    for answer_id, theme in db.session.execute(
            sa.select(CommentTheme.answer_id, CommentTheme.theme).where(CommentTheme.answer_id.in_(ids))).all():
        labels[answer_id]["themes"].append(theme)
    for label in labels.values():
        label["themes"].sort(key=THEMES.index)
    return labels
