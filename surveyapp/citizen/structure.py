"""What a submission needs to know about a questionnaire version, as plain immutable data,
cached per process.

Validating and storing a response needs the questions (type, limits, required, follow-up
rule, whether they count in the index) and their options. Loading them through the ORM costs
a query per relationship on every POST; here they are read once with two Core queries and
kept as frozen dataclasses that ``submissions.answers`` reads like the ORM objects.

When caching is safe
--------------------
A questionnaire version is frozen once it has a response (``Questionnaire.is_frozen``) and a
standard questionnaire is never edited in place: editing either makes a new version, i.e. a
new id (``questionnaires.editable_version``). Only such versions are cached. An unfrozen
version of a unit's own questionnaire may still be edited in place by an official, so it is
loaded afresh on every request until its first response freezes it. The frozen check runs
*before* the structure is read: an edit that slips in between would then be an edit of a
frozen version, which the admin pages never make.

The key is (database, id, family, version, created_at), not the id alone, so that a database
rebuilt under the same process (tests empty every table and restart the ids) never meets an
entry of a questionnaire that no longer exists. The cache holds at most ``MAX_ENTRIES``
versions (a province has a few dozen); when full it starts over.

Entries also expire after ``TTL_SECONDS``: should an official's in-place edit ever race with
the very first response of a version (the admin page checked "not frozen" just before the
response was stored), a process would not keep the stale structure for longer than that.
Re-reading costs three small queries per version and process every few minutes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Option, Question, Questionnaire, Response, Survey

MAX_ENTRIES = 512
TTL_SECONDS = 300.0
_clock = time.monotonic  # replaced in tests


@dataclass(frozen=True, slots=True)
class OptionSpec:
    id: int
    code: str
    value: int | None
    is_satisfied: bool
    is_no_opinion: bool


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    id: int
    code: str
    type: str
    required: bool
    counts_in_index: bool
    min_value: int | None
    max_value: int | None
    max_length: int | None
    follows_code: str | None
    follows_max_value: int | None
    options: tuple[OptionSpec, ...]


@dataclass(frozen=True, slots=True)
class QuestionnaireSpec:
    id: int
    indicator: str
    questions: tuple[QuestionSpec, ...]


_cache: dict[tuple, tuple[float, QuestionnaireSpec]] = {}  # key -> (expires at, structure)
_lock = threading.Lock()


def _frozen(questionnaire_id: int) -> bool:
    return db.session.scalar(
        sa.select(Response.id).join(Survey, Survey.id == Response.survey_id)
        .where(Survey.questionnaire_id == questionnaire_id).limit(1)
    ) is not None


def _load(questionnaire_id: int, indicator: str) -> QuestionnaireSpec:
    qt, ot = Question.__table__, Option.__table__
    options: dict[int, list[OptionSpec]] = {}
    rows = db.session.execute(
        sa.select(ot.c.id, ot.c.question_id, ot.c.code, ot.c.value, ot.c.is_satisfied, ot.c.is_no_opinion)
        .join(qt, qt.c.id == ot.c.question_id)
        .where(qt.c.questionnaire_id == questionnaire_id)
        .order_by(ot.c.question_id, ot.c.position)
    )
    for r in rows:
        options.setdefault(r.question_id, []).append(
            OptionSpec(r.id, r.code, r.value, bool(r.is_satisfied), bool(r.is_no_opinion)))
    rows = db.session.execute(
        sa.select(qt.c.id, qt.c.code, qt.c.type, qt.c.required, qt.c.counts_in_index, qt.c.min_value,
                  qt.c.max_value, qt.c.max_length, qt.c.follows_code, qt.c.follows_max_value)
        .where(qt.c.questionnaire_id == questionnaire_id)
        .order_by(qt.c.position)
    )
    questions = tuple(
        QuestionSpec(r.id, r.code, r.type, bool(r.required), bool(r.counts_in_index), r.min_value, r.max_value,
                     r.max_length, r.follows_code, r.follows_max_value, tuple(options.get(r.id, ())))
        for r in rows
    )
    return QuestionnaireSpec(questionnaire_id, indicator, questions)


def questionnaire_spec(questionnaire_id: int, family: str, version: int, created_at, is_standard: bool,
                       indicator: str) -> QuestionnaireSpec:
    """The structure of a questionnaire version: from the cache when the version can no longer
    change, else read now (rules in the module docstring). The arguments are the version's own
    columns, read with the survey in the same statement."""
    key = (str(db.engine.url), questionnaire_id, family, version, created_at)
    entry = _cache.get(key)
    now = _clock()
    if entry is not None and entry[0] > now:
        return entry[1]
    cacheable = is_standard or _frozen(questionnaire_id)
    spec = _load(questionnaire_id, indicator)
    if cacheable:
        with _lock:
            if len(_cache) >= MAX_ENTRIES:
                _cache.clear()
            _cache[key] = (now + TTL_SECONDS, spec)
    return spec


def spec_of(q: Questionnaire) -> QuestionnaireSpec:
    """``questionnaire_spec`` of an ORM questionnaire version."""
    return questionnaire_spec(q.id, q.family, q.version, q.created_at, q.is_standard, q.indicator)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


__all__ = ["OptionSpec", "QuestionSpec", "QuestionnaireSpec", "questionnaire_spec", "spec_of", "clear_cache"]
