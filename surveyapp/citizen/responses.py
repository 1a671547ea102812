"""The citizen path's choice of survey and its own checks; storing goes through the shared
path (``submissions.store``), validating answers through ``submissions.answers``.

- A survey for ``/s/<code>`` is one taking QR responses at that service point today
  (``submissions.surveys``). Several may qualify (the unit's full questionnaire and the
  province-wide quick rating): without a dossier token the full questionnaire wins, the one
  of the deepest organisation first; with a dossier token (receipt QR) the quick rating wins.
- Contact details are kept only with explicit consent (``validate_contact``).
- A dossier is rated once: a second response for it raises ``AlreadyRated``.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..clock import today
from ..extensions import db
from ..models import Organisation, Questionnaire, Response, ServicePoint, Survey, survey_service_point
from ..submissions.answers import CleanAnswer
from ..submissions.store import NewResponse, store_responses
from ..submissions.surveys import open_on, open_surveys

CONTACT_MAX = 255


class AlreadyRated(Exception):
    """The dossier of this response has been rated before."""


# ---------------------------------------------------------------------------------------------
# Which survey


def choose_survey(service_point: ServicePoint, for_dossier: bool = False, on: date | None = None) -> Survey | None:
    """The survey a QR scan at this service point answers (rules in the module docstring)."""
    candidates = open_surveys(service_point.id, "qr", on)
    if not candidates:
        return None

    def rank(s: Survey):
        quick = s.questionnaire.indicator == "quick"
        prefer_quick = quick if for_dossier else not quick
        return (not prefer_quick, -s.organisation.depth, -s.id)

    return min(candidates, key=rank)


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
    open_here = ssp.join(sv, sa.and_(sv.c.id == ssp.c.survey_id, open_on(sv, "qr", on))).join(
        qn, qn.c.id == sv.c.questionnaire_id)
    return (
        sa.select(sp.c.id, sp.c.code, sp.c.active, org.c.active.label("org_active"),
                  sv.c.id.label("survey_id"), qn.c.id.label("questionnaire_id"), qn.c.family, qn.c.version,
                  qn.c.created_at, qn.c.is_standard, qn.c.indicator)
        .select_from(sp.join(org, org.c.id == sp.c.organisation_id).outerjoin(open_here, ssp.c.service_point_id == sp.c.id))
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
    """The service point ``code`` and its open QR surveys (the rule of ``submissions.surveys``),
    in one Core statement, or from the short-lived cache above: the POST path's only read."""
    on = on or today()
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
# Contact and storage


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
    procedure_code: str | None = None,
    field_code: str | None = None,
) -> tuple[int, bool]:
    """Store one validated response once (``submissions.store``); returns (response id, created).

    Two identical submits may race (a double tap, a re-sent POST on a flaky link): the
    database creates exactly one, and the other is answered with the stored one, so the
    citizen sees the same thank-you page and the count stays right. A second response for a
    dossier already rated raises AlreadyRated. ``survey`` and ``service_point`` are objects
    with an ``id`` or the ids themselves.
    """
    survey_id = survey if isinstance(survey, int) else survey.id
    service_point_id = service_point if isinstance(service_point, int) else service_point.id
    new = NewResponse(idempotency_key, answers, language=language, flag=flag, dossier_hash=dossier_hash,
                      client_hash=client_hash, duration_ms=duration_ms, contact=contact,
                      contact_consent=contact_consent, procedure_code=procedure_code, field_code=field_code)
    created = store_responses(survey_id, service_point_id, channel, [new])
    if idempotency_key in created:
        return created[idempotency_key], True
    existing = db.session.scalar(
        sa.select(Response.id).where(Response.survey_id == survey_id, Response.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing, False
    if dossier_hash and dossier_already_rated(dossier_hash):
        raise AlreadyRated(dossier_hash)
    raise RuntimeError("a response was refused by a uniqueness rule other than its key or its dossier")


def dossier_already_rated(dossier_hash: str) -> bool:
    return db.session.scalar(sa.select(Response.id).where(Response.dossier_hash == dossier_hash).limit(1)) is not None


__all__ = ["AlreadyRated", "choose_survey", "submission_targets", "forget_targets", "PointForSubmission", "OpenSurvey",
           "validate_contact", "store_response", "dossier_already_rated"]
