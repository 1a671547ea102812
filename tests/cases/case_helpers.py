"""Helpers of the case tests: a province with two communes side by side, users of each role,
responses with ratings, comments and contacts, and a recorder in place of the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from auth_actions import PASSWORD
from surveyapp.clock import to_utc
from surveyapp.extensions import db
from surveyapp.models import Answer, Organisation, Response, ServicePoint, Survey, User

_HASH: list[str] = []


def cheap_hash() -> str:
    if not _HASH:
        from werkzeug.security import generate_password_hash

        _HASH.append(generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    return _HASH[0]


def make_user(username: str, role: str, org: Organisation | None) -> User:
    user = User(username=username, full_name=f"Cán bộ {username}", role=role, organisation=org)
    user.password_hash = cheap_hash()
    db.session.add(user)
    return user


@dataclass
class Commune:
    org: Organisation
    sp: ServicePoint
    survey: Survey
    manager: User
    viewer: User


@dataclass
class World:
    province: Organisation
    admin: User
    a: Commune
    b: Commune
    questionnaire: object = None
    keys: list = field(default_factory=list)


def local(*args) -> datetime:
    """A local (Asia/Ho_Chi_Minh) wall-clock time as the naive UTC the database stores."""
    return to_utc(datetime(*args))


_counter = [0]


def add_response(commune: Commune, *, rating: int | None = 2, comment: str | None = "Phải chờ quá lâu.",
                 contact: str | None = None, at: datetime | None = None, language: str = "vi",
                 flag: str | None = None) -> Response:
    """A response at ``commune``'s service point: every rating question answered ``rating``
    (None: no rating), the comment, and a contact left with consent."""
    _counter[0] += 1
    q = commune.survey.questionnaire
    at = at or local(2026, 3, 2, 9)
    response = Response(survey=commune.survey, service_point=commune.sp, channel="qr", submitted_at=at,
                        idempotency_key=f"k-{_counter[0]}", language=language, contact=contact,
                        contact_consent=contact is not None, flag=flag)
    db.session.add(response)
    db.session.flush()
    for question in q.questions:
        if question.type == "rating" and rating is not None:
            option = next(o for o in question.options if o.value == rating)
            db.session.add(Answer(response=response, question_id=question.id, option_id=option.id, value=option.value,
                                  satisfied=int(option.is_satisfied), service_point_id=commune.sp.id, submitted_at=at))
        elif question.type == "text" and comment is not None:
            db.session.add(Answer(response=response, question_id=question.id, text=comment,
                                  service_point_id=commune.sp.id, submitted_at=at))
    db.session.commit()
    return response


class Recorder:
    """Stands in for surveyapp.outbox (built on another branch): records what would be queued."""

    def __init__(self):
        self.emails: list[dict] = []
        self.webhooks: list[dict] = []

    def enqueue_email(self, to, subject, text, html, *, kind, dedupe_key):
        self.emails.append({"to": to, "subject": subject, "text": text, "html": html, "kind": kind,
                            "dedupe_key": dedupe_key})

    def enqueue_webhook(self, org_id, event, payload, *, dedupe_key):
        self.webhooks.append({"org_id": org_id, "event": event, "payload": payload, "dedupe_key": dedupe_key})


def the_case(response: Response):
    from surveyapp.models import Case

    db.session.expire_all()
    return db.session.scalar(sa.select(Case).where(Case.response_id == response.id))
