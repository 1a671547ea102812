"""Questionnaire versions: copying, the version to edit, and the options of a new question.

A version is frozen once any survey of it has a response (``Questionnaire.is_frozen``):
editing it, or a standard questionnaire, makes version n+1 of the same family, so that the
responses already stored keep the exact wording they answered. Who may edit which
questionnaire is :mod:`surveyapp.auth.scope`'s rule; this module only versions.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from .extensions import db
from .models import Aspect, Option, Organisation, Question, Questionnaire, Response, Survey

# The satisfaction scale of a new rating question: (value, code, Vietnamese, English, satisfied).
RATING_SCALE = (
    (1, "v1", "Rất không hài lòng", "Very dissatisfied", False),
    (2, "v2", "Không hài lòng", "Dissatisfied", False),
    (3, "v3", "Bình thường", "Neutral", False),
    (4, "v4", "Hài lòng", "Satisfied", True),
    (5, "v5", "Rất hài lòng", "Very satisfied", True),
)


def frozen_ids() -> set[int]:
    """The ids of every frozen version (one query, for lists)."""
    return set(db.session.scalars(
        sa.select(Survey.questionnaire_id).join(Response, Response.survey_id == Survey.id).distinct()))


def used_ids() -> set[int]:
    """The ids of the versions that some survey uses."""
    return set(db.session.scalars(sa.select(Survey.questionnaire_id).distinct()))


def copy_questionnaire(src: Questionnaire, **overrides) -> Questionnaire:
    """A deep copy of ``src`` (aspects, questions, options), never standard unless ``overrides``
    say so; ``overrides`` set family, version, titles, owner..."""
    q = Questionnaire(family=src.family, version=src.version, title_vi=src.title_vi, title_en=src.title_en,
                      sector=src.sector, indicator=src.indicator, is_standard=False,
                      organisation_id=src.organisation_id)
    for key, value in overrides.items():
        setattr(q, key, value)
    aspects = {}
    for a in src.aspects:
        aspects[a.id] = Aspect(position=a.position, code=a.code, title_vi=a.title_vi, title_en=a.title_en)
        q.aspects.append(aspects[a.id])
    for s in src.questions:
        copy = Question(position=s.position, code=s.code, type=s.type, text_vi=s.text_vi, text_en=s.text_en,
                        required=s.required, counts_in_index=s.counts_in_index, min_value=s.min_value,
                        max_value=s.max_value, max_length=s.max_length, follows_code=s.follows_code,
                        follows_max_value=s.follows_max_value,
                        aspect=aspects.get(s.aspect_id) if s.aspect_id else None)
        for o in s.options:
            copy.options.append(Option(position=o.position, code=o.code, value=o.value, label_vi=o.label_vi,
                                       label_en=o.label_en, is_satisfied=o.is_satisfied, is_no_opinion=o.is_no_opinion))
        q.questions.append(copy)
    db.session.add(q)
    db.session.flush()
    return q


def clone_for(src: Questionnaire, org: Organisation, *, title_vi: str, title_en: str) -> Questionnaire:
    """A new family owned by ``org``, version 1, copied from ``src``."""
    family = f"{src.family[:30]}-{org.code.lower()[:16]}-{secrets.token_hex(3)}"
    return copy_questionnaire(src, family=family, version=1, organisation_id=org.id, title_vi=title_vi,
                              title_en=title_en)


def needs_new_version(q: Questionnaire) -> bool:
    """Editing ``q`` makes a new version: it is standard, or frozen."""
    return q.is_standard or q.is_frozen()


def editable_version(q: Questionnaire) -> tuple[Questionnaire, bool]:
    """The version to edit: ``q`` itself, or (True) a new version n+1 of its family when ``q``
    is frozen or standard; a standard questionnaire's new version stays standard."""
    if not needs_new_version(q):
        return q, False
    latest = db.session.scalar(sa.select(sa.func.max(Questionnaire.version)).where(Questionnaire.family == q.family))
    return copy_questionnaire(q, version=latest + 1, is_standard=q.is_standard), True


def options_for(kind: str, choices: list[tuple[str, str]] = ()) -> list[Option]:
    """The options of a new question of type ``kind``; ``choices`` (Vietnamese, English) for "choice"."""
    if kind == "rating":
        options = [Option(position=i, code=c, value=v, label_vi=vi, label_en=en, is_satisfied=s)
                   for i, (v, c, vi, en, s) in enumerate(RATING_SCALE, start=1)]
        options.append(Option(position=6, code="na", label_vi="Không ý kiến / Không áp dụng",
                              label_en="No opinion / Not applicable", is_no_opinion=True))
        return options
    if kind == "yesno":
        return [Option(position=1, code="yes", value=1, label_vi="Có", label_en="Yes"),
                Option(position=2, code="no", value=0, label_vi="Không", label_en="No")]
    if kind == "choice":
        return [Option(position=i, code=f"o{i}", label_vi=vi, label_en=en) for i, (vi, en) in enumerate(choices, start=1)]
    return []
