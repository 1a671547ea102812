"""Choosing, validating and storing a citizen's response; shared by the QR page, the kiosk
and the load tests.

Rules (see also docs for the citizen path):

- A survey for ``/s/<code>`` is an open survey with the QR channel deployed on that service
  point, within its dates. Several may qualify (the unit's full questionnaire and the
  province-wide quick rating): without a dossier token the full questionnaire wins, the one
  of the deepest organisation first; with a dossier token (receipt QR) the quick rating wins.
- Follow-up questions (``follows_code``/``follows_max_value``, e.g. the quick rating's
  reason) are accepted only when the followed rating's value is at most
  ``follows_max_value``. Without JavaScript the page shows them always, marked optional; an
  answer given although the condition does not hold is ignored, never stored, and never an
  error: the citizen did nothing wrong.
- Nothing is stored unless the whole response is valid: ``validate_answers`` returns
  errors for every bad field, ``store_response`` writes the response and its answers in one
  transaction.
"""
from __future__ import annotations

import functools
import itertools
import re
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ..extensions import db
from ..models import (
    Answer, Option, Organisation, Question, Questionnaire, Response, ServicePoint, Survey, survey_service_point, utcnow,
)
from ..privacy import mask_personal_data
from .structure import OptionSpec, QuestionnaireSpec, QuestionSpec

DEFAULT_TEXT_MAX = 1000
CONTACT_MAX = 255
_INT = re.compile(r"^[+-]?\d{1,9}$")


class AlreadyRated(Exception):
    """The dossier of this response has been rated before."""


@dataclass
class CleanAnswer:
    question: Question | QuestionSpec
    option: Option | OptionSpec | None = None
    value: int | None = None
    text: str | None = None

    @property
    def satisfied(self) -> int | None:
        """1/0 for items that count in the index, NULL for no opinion and other items."""
        if not self.question.counts_in_index or self.option is None or self.option.is_no_opinion:
            return None
        return int(self.option.is_satisfied)


# ---------------------------------------------------------------------------------------------
# Which survey


def open_qr_surveys(service_point: ServicePoint, on: date | None = None) -> list[Survey]:
    """The surveys taking QR responses at ``service_point``, each with its questionnaire and
    organisation loaded in the same statement (choosing and the structure cache need them)."""
    on = on or date.today()
    stmt = (
        sa.select(Survey)
        .options(joinedload(Survey.questionnaire), joinedload(Survey.organisation))
        .join(survey_service_point, survey_service_point.c.survey_id == Survey.id)
        .where(
            survey_service_point.c.service_point_id == service_point.id,
            Survey.status == "open",
            Survey.channel_qr.is_(True),
            Survey.starts_on <= on,
            sa.or_(Survey.ends_on.is_(None), Survey.ends_on >= on),
        )
    )
    return list(db.session.scalars(stmt))


def choose_survey(service_point: ServicePoint, for_dossier: bool = False, on: date | None = None) -> Survey | None:
    """The survey a QR scan at this service point answers (rules in the module docstring)."""
    candidates = open_qr_surveys(service_point, on)
    if not candidates:
        return None

    def rank(s: Survey):
        quick = s.questionnaire.indicator == "quick"
        prefer_quick = quick if for_dossier else not quick
        return (not prefer_quick, -s.organisation.depth, -s.id)

    return min(candidates, key=rank)


def accepts(survey: Survey, service_point: ServicePoint, on: date | None = None) -> bool:
    """Whether ``survey`` still takes QR responses for ``service_point``."""
    return any(s.id == survey.id for s in open_qr_surveys(service_point, on))


@dataclass(frozen=True, slots=True)
class PointForSubmission:
    """What a POST needs about a service point: its ids and whether it (and its unit) is active."""
    id: int
    code: str
    active: bool
    organisation_active: bool


@dataclass(frozen=True, slots=True)
class OpenSurvey:
    """An open QR survey of that service point and the key of its questionnaire version (what
    ``structure.questionnaire_spec`` needs; no ORM object is built on the POST path)."""
    id: int
    questionnaire_id: int
    family: str
    version: int
    created_at: object
    is_standard: bool
    indicator: str


def _submission_statement() -> sa.Select:
    sp, org = ServicePoint.__table__, Organisation.__table__
    ssp, sv, qn = survey_service_point, Survey.__table__, Questionnaire.__table__
    on = sa.bindparam("on", type_=sa.Date)
    open_surveys = ssp.join(
        sv,
        sa.and_(
            sv.c.id == ssp.c.survey_id,
            sv.c.status == "open",
            sv.c.channel_qr.is_(True),
            sv.c.starts_on <= on,
            sa.or_(sv.c.ends_on.is_(None), sv.c.ends_on >= on),
        ),
    ).join(qn, qn.c.id == sv.c.questionnaire_id)
    return (
        sa.select(sp.c.id, sp.c.code, sp.c.active, org.c.active.label("org_active"),
                  sv.c.id.label("survey_id"), qn.c.id.label("questionnaire_id"), qn.c.family, qn.c.version,
                  qn.c.created_at, qn.c.is_standard, qn.c.indicator)
        .select_from(sp.join(org, org.c.id == sp.c.organisation_id).outerjoin(open_surveys, ssp.c.service_point_id == sp.c.id))
        .where(sp.c.code == sa.bindparam("code"))
    )


_SUBMISSION_TARGETS = _submission_statement()

# A QR campaign posts to the same few service points thousands of times a day, while their open
# surveys change a few times a year: each process keeps what ``submission_targets`` read for
# ``SUBMIT_TARGETS_TTL`` seconds (0: not at all). A change to a survey, service point,
# organisation or questionnaire flushed by this process empties the cache at once; the other
# processes see it within the TTL (a survey closed by an official still takes answers for at
# most that long there). Keys carry the engine (the database) and the date, as open surveys
# depend on both.
_targets: dict[tuple, tuple[float, PointForSubmission, list[OpenSurvey]]] = {}
_clock = time.monotonic  # replaced in tests
_TARGETS_MAX = 4096  # service points; when full the cache starts over
_WATCHED = (Survey, ServicePoint, Organisation, Questionnaire)


def forget_targets() -> None:
    _targets.clear()


@sa.event.listens_for(Session, "before_flush")
def _forget_on_change(session, flush_context, instances) -> None:
    if _targets and any(isinstance(o, _WATCHED) for o in itertools.chain(session.new, session.dirty, session.deleted)):
        _targets.clear()


def submission_targets(code: str, on: date | None = None) -> tuple[PointForSubmission | None, list[OpenSurvey]]:
    """The service point ``code`` and its open QR surveys (same rules as ``open_qr_surveys``),
    in one Core statement, or from the short-lived cache above: the POST path's only read."""
    on = on or date.today()
    ttl = current_app.config["SUBMIT_TARGETS_TTL"]
    engine = db.engine
    key = (engine, code, on)
    now = _clock()
    entry = _targets.get(key)
    if entry is not None and entry[0] > now:
        return entry[1], entry[2]
    with engine.connect() as conn:  # not the ORM session: the POST path needs none
        rows = conn.execute(_SUBMISSION_TARGETS, {"code": code, "on": on}).all()
    if not rows:
        return None, []  # unknown codes are not kept: anybody can make up as many as they like
    first = rows[0]
    point = PointForSubmission(first.id, first.code, bool(first.active), bool(first.org_active))
    surveys = [
        OpenSurvey(r.survey_id, r.questionnaire_id, r.family, r.version, r.created_at, bool(r.is_standard), r.indicator)
        for r in rows if r.survey_id is not None
    ]
    if ttl > 0:
        if len(_targets) >= _TARGETS_MAX:
            _targets.clear()
        _targets[key] = (now + ttl, point, surveys)
    return point, surveys


# ---------------------------------------------------------------------------------------------
# Validation


def applies(question: Question | QuestionSpec, given: dict[str, CleanAnswer]) -> bool:
    """A follow-up applies only when the rating it follows was at most ``follows_max_value``."""
    if not question.follows_code:
        return True
    followed = given.get(question.follows_code)
    if followed is None or followed.option is None or followed.option.value is None:
        return False
    return followed.option.value <= (question.follows_max_value or 0)


def _one(raw) -> tuple[str | None, bool]:
    """(value, malformed): a field may arrive once; a repeated field is malformed."""
    if isinstance(raw, (list, tuple)):
        values = [v for v in raw if v not in (None, "")]
        if len(values) > 1:
            return None, True
        raw = values[0] if values else None
    if raw is None:
        return None, False
    if not isinstance(raw, (str, int)):
        return None, True
    text = str(raw).strip()
    return (text or None), False


def validate_answers(questionnaire: Questionnaire | QuestionnaireSpec, data: dict) -> tuple[list[CleanAnswer], dict[str, str]]:
    """Check raw answers keyed by question code (option code, number or text).

    ``questionnaire`` is the ORM version or its cached structure (``structure.questionnaire_spec``):
    both have the same attributes.

    Returns the clean answers and the errors by question code, in the current language.
    """
    clean: dict[str, CleanAnswer] = {}
    errors: dict[str, str] = {}
    followups = []
    for q in questionnaire.questions:
        if q.follows_code:
            followups.append(q)
            continue
        _check(q, data.get(q.code), clean, errors)
    for q in followups:
        if applies(q, clean):
            _check(q, data.get(q.code), clean, errors)
    return list(clean.values()), errors


def _check(q: Question | QuestionSpec, raw, clean: dict[str, CleanAnswer], errors: dict[str, str]) -> None:
    value, malformed = _one(raw)
    if malformed:
        errors[q.code] = _("Câu trả lời không hợp lệ.")
        return
    if value is None:
        if q.required:
            errors[q.code] = _("Vui lòng trả lời câu hỏi này.") if q.type != "text" else _("Vui lòng nhập câu trả lời.")
        return
    if q.type in ("rating", "choice", "yesno"):
        option = next((o for o in q.options if o.code == value), None)
        if option is None:
            errors[q.code] = _("Lựa chọn không hợp lệ. Vui lòng chọn một trong các phương án.")
            return
        clean[q.code] = CleanAnswer(q, option=option, value=option.value)
    elif q.type == "number":
        if not _INT.match(value):
            errors[q.code] = _("Vui lòng nhập một số nguyên.")
            return
        number = int(value)
        low = q.min_value if q.min_value is not None else -1_000_000
        high = q.max_value if q.max_value is not None else 1_000_000
        if not low <= number <= high:
            errors[q.code] = _("Vui lòng nhập một số từ %(low)d đến %(high)d.", low=low, high=high)
            return
        clean[q.code] = CleanAnswer(q, value=number)
    elif q.type == "text":
        limit = q.max_length or DEFAULT_TEXT_MAX
        if len(value) > limit:
            errors[q.code] = _("Tối đa %(limit)d ký tự (bạn đã nhập %(count)d ký tự).", limit=limit, count=len(value))
            return
        clean[q.code] = CleanAnswer(q, text=value)


def validate_contact(contact: str | None, consent: bool) -> tuple[str | None, str | None]:
    """(clean contact, error): contact details are kept only with explicit consent."""
    contact = (contact or "").strip() or None
    if contact is None:
        return None, None
    if len(contact) > CONTACT_MAX:
        return None, _("Tối đa %(limit)d ký tự.", limit=CONTACT_MAX)
    if not consent:
        return None, _("Vui lòng đánh dấu ô đồng ý nếu muốn để lại thông tin liên hệ.")
    return contact, None


# ---------------------------------------------------------------------------------------------
# Storage


_RESPONSE_FIELDS = ("survey_id", "service_point_id", "channel", "submitted_at", "client_created_at", "language",
                    "idempotency_key", "kiosk_device_id", "dossier_hash", "client_hash", "duration_ms", "flag",
                    "contact", "contact_consent")
_ANSWER_FIELDS = ("response_id", "question_id", "option_id", "value", "text", "satisfied", "service_point_id",
                  "submitted_at")
_ANSWER_ARRAYS = (("question_id", sa.Integer), ("option_id", sa.Integer), ("value", sa.Integer), ("text", sa.Text),
                  ("satisfied", sa.SmallInteger))


def _insert(table: sa.Table, fields: tuple[str, ...]) -> sa.Insert:
    return sa.insert(table).values({name: sa.bindparam(name, type_=table.c[name].type) for name in fields})


def _insert_both_statement() -> sa.Insert:
    """PostgreSQL: the response and all its answers in one statement (one round trip instead of
    two): the response is inserted in a CTE and the answers come from arrays unnested in step,
    so the statement is the same whatever the number of answers."""
    from sqlalchemy.dialects.postgresql import ARRAY

    answer = Answer.__table__
    inserted = _insert(Response.__table__, _RESPONSE_FIELDS).returning(Response.__table__.c.id).cte("inserted")
    arrays = [sa.func.unnest(sa.bindparam("a_" + name, type_=ARRAY(kind))).label(name) for name, kind in _ANSWER_ARRAYS]
    rows = sa.select(inserted.c.id, *arrays, sa.bindparam("service_point_id", type_=sa.Integer),
                     sa.bindparam("submitted_at", type_=answer.c.submitted_at.type))
    return sa.insert(answer).from_select(list(_ANSWER_FIELDS), rows).returning(answer.c.response_id)


class _Prepared:
    """A Core statement compiled once for a dialect, for ``Connection.exec_driver_sql``.

    The submission is the one write a QR campaign repeats thousands of times; SQLAlchemy's
    per-execution work (cache lookup, parameter processing, result set-up) cost more than
    the inserts themselves (bench/profile_submission.py). SQLAlchemy still owns the
    connection, the transaction and the translation of driver errors (an IntegrityError is
    still ``sqlalchemy.exc.IntegrityError``, a lost connection still invalidates the pool).
    Values go through the same bind processors SQLAlchemy would apply (SQLite's datetime
    text format, booleans, PostgreSQL arrays)."""

    def __init__(self, statement: sa.ClauseElement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if compiled.positiontup else None  # qmark: the order
        self.processors = [(name, process) for name, bind in compiled.binds.items()
                           if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None]

    def params(self, values: dict):
        """The driver's parameters for ``values`` (a dict by bind name; processed in place)."""
        for name, process in self.processors:
            values[name] = process(values[name])
        return tuple([values[name] for name in self.order]) if self.order else values


@functools.lru_cache(maxsize=16)
def _prepared(dialect) -> dict[str, _Prepared]:
    statements = {"response": _insert(Response.__table__, _RESPONSE_FIELDS),
                  "answer": _insert(Answer.__table__, _ANSWER_FIELDS)}
    if dialect.name == "postgresql":  # (the driver's lastrowid is not the new id there)
        statements["response"] = statements["response"].returning(Response.__table__.c.id)
        statements["both"] = _insert_both_statement()
    return {name: _Prepared(statement, dialect) for name, statement in statements.items()}


def store_response(
    survey: Survey | int,
    service_point: ServicePoint | int,
    answers: list[CleanAnswer],
    *,
    idempotency_key: str,
    channel: str = "qr",
    language: str = "vi",
    dossier_hash: str | None = None,
    client_hash: str | None = None,
    duration_ms: int | None = None,
    flag: str | None = None,
    contact: str | None = None,
    contact_consent: bool = False,
    kiosk_device_id: int | None = None,
    client_created_at=None,
) -> tuple[int, bool]:
    """Store a validated response once, in a transaction of its own; returns (response id, created).

    PostgreSQL: one statement (the response in a CTE, the answers from arrays), run in
    autocommit (no BEGIN and COMMIT round trips: two of four). SQLite: the response, then all
    its answers in one executemany, then COMMIT. Either way on a connection of its own, not the
    request's ORM session (none is needed), with the statements compiled once (``_Prepared``).
    ``survey`` and ``service_point`` are objects with an ``id`` or the ids themselves.

    The idempotency key is unique per survey in the database. Two identical submits may race
    (a double tap, a re-sent POST on a flaky link): both insert, the database lets exactly one
    commit, and the loser's IntegrityError is turned into "already stored", so the citizen sees
    the same thank-you page and the count stays right. A second response for a dossier already
    rated raises AlreadyRated.
    """
    now = utcnow()
    survey_id = survey if isinstance(survey, int) else survey.id
    service_point_id = service_point if isinstance(service_point, int) else service_point.id
    response_row = dict(
        survey_id=survey_id, service_point_id=service_point_id, channel=channel, submitted_at=now,
        client_created_at=client_created_at, language=language, idempotency_key=idempotency_key,
        kiosk_device_id=kiosk_device_id, dossier_hash=dossier_hash, client_hash=client_hash,
        duration_ms=duration_ms, flag=flag, contact=contact if contact_consent else None,
        contact_consent=bool(contact_consent and contact),
    )
    answer_rows = [
        dict(response_id=None, question_id=a.question.id, option_id=a.option.id if a.option else None, value=a.value,
             text=mask_personal_data(a.text) if a.text is not None else None, satisfied=a.satisfied,
             service_point_id=service_point_id, submitted_at=now)
        for a in answers
    ]
    engine = db.engine
    prepared = _prepared(engine.dialect)
    postgresql = engine.dialect.name == "postgresql"
    try:
        if postgresql and answer_rows:
            params = response_row
            for name, _ in _ANSWER_ARRAYS:
                params["a_" + name] = [row[name] for row in answer_rows]
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                response_id = conn.exec_driver_sql(prepared["both"].sql, prepared["both"].params(params)).first()[0]
        else:
            with engine.connect() as conn:
                inserted = conn.exec_driver_sql(prepared["response"].sql, prepared["response"].params(response_row))
                response_id = inserted.first()[0] if postgresql else inserted.lastrowid
                if answer_rows:
                    insert_answer = prepared["answer"]
                    for row in answer_rows:
                        row["response_id"] = response_id
                    conn.exec_driver_sql(insert_answer.sql, [insert_answer.params(row) for row in answer_rows])
                conn.commit()
        return response_id, True
    except IntegrityError as exc:
        conflict = exc
    existing = db.session.scalar(
        sa.select(Response.id).where(Response.survey_id == survey_id, Response.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing, False
    if dossier_hash and dossier_already_rated(dossier_hash):
        raise AlreadyRated(dossier_hash)
    raise conflict  # another integrity problem is a bug: let it surface


def dossier_already_rated(dossier_hash: str) -> bool:
    return db.session.scalar(sa.select(Response.id).where(Response.dossier_hash == dossier_hash).limit(1)) is not None


__all__ = ["CleanAnswer", "AlreadyRated", "choose_survey", "open_qr_surveys", "accepts", "validate_answers",
           "submission_targets", "forget_targets", "PointForSubmission", "OpenSurvey",
           "validate_contact", "store_response", "dossier_already_rated", "applies"]
