"""The data model: typed SQLAlchemy 2.x models.

Integrity lives in the database as well as in Python: foreign keys, unique keys
and check constraints, so that a bug or a race in one app server cannot store a
duplicate response or an answer out of range.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import now_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

SECTORS = ("administrative", "health", "education")
ROLES = ("admin", "manager", "viewer")
CHANNELS = ("qr", "kiosk")
QUESTION_TYPES = ("rating", "number", "choice", "yesno", "text")
SURVEY_STATUSES = ("draft", "open", "closed")
# Which headline index a questionnaire is judged by (see shared/domain.md).
INDICATORS = ("composite", "overall_rate", "quick", "procedure")
# Response flags: stored, shown for review, left out of indices by default.
# "implausible": a kiosk rating claimed when its tablet could not have collected it (kiosk.ratings).
FLAGS = ("honeypot", "too_fast", "burst", "clock_skew", "implausible")

# Official codes (organisations, service points) and usernames: the forms and the imports check these.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
USERNAME_PATTERN = r"^[A-Za-z0-9._-]+$"

# Kiosk ratings come from the quick counter rating; reasons asked after 1 or 2.
KIOSK_REASONS = ("waiting_time", "attitude", "procedure", "facilities", "other")


# The one clock (clock.py); models stamp rows with it.
utcnow = now_utc


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def new_public_code() -> str:
    """Short unguessable code for QR links: 10 characters of an unambiguous alphabet (~50 bits)."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Organisation(db.Model):
    """A node of the organisation tree; depth is never fixed.

    ``path`` is the materialised list of ancestor ids ("/1/4/9/"): a subtree is
    ``path LIKE '/1/4/%'``, one indexed range scan on every database.
    """

    __tablename__ = "organisation"
    __table_args__ = (sa.CheckConstraint(_in("sector", SECTORS), name="sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_en: Mapped[str | None] = mapped_column(sa.String(255))
    sector: Mapped[str] = mapped_column(sa.String(20))
    path: Mapped[str] = mapped_column(sa.String(512), default="", index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent", order_by="Organisation.name")
    service_points: Mapped[list[ServicePoint]] = relationship(back_populates="organisation", order_by="ServicePoint.name")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def is_within(self, other: Organisation) -> bool:
        """True when self is ``other`` or one of its descendants."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


@event.listens_for(Organisation, "after_insert")
def _set_path(mapper, connection, target: Organisation) -> None:
    """Fill the materialised path once the id exists."""
    parent_path = "/"
    if target.parent_id is not None:
        parent_path = connection.scalar(sa.select(Organisation.path).where(Organisation.id == target.parent_id))
    path = f"{parent_path}{target.id}/"
    connection.execute(sa.update(Organisation.__table__).where(Organisation.id == target.id).values(path=path))
    sa.orm.attributes.set_committed_value(target, "path", path)


def move_organisation(org: Organisation, new_parent: Organisation | None) -> None:
    """Re-parent ``org`` and rewrite the paths of its whole subtree."""
    if new_parent is not None and new_parent.is_within(org):
        raise ValueError("cannot move an organisation under itself")
    old = org.path
    new = (new_parent.path if new_parent else "/") + f"{org.id}/"
    org.parent = new_parent
    db.session.flush()
    db.session.execute(
        sa.update(Organisation)
        .where(Organisation.path.startswith(old))
        .values(path=sa.func.replace(Organisation.path, old, new))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


class ServicePoint(db.Model):
    """Where people are served: a counter, a one-stop desk, a hospital department, a school."""

    __tablename__ = "service_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_public_code)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_en: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The province's own code for the point (imports match rows by it); ``code`` stays the
    # unguessable one in its QR link (migration 0013_imports).
    official_code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="service_points")

    def __repr__(self) -> str:
        return f"<ServicePoint {self.code} {self.name!r}>"


class Questionnaire(db.Model):
    """One version of a questionnaire. Versions of the same form share ``family``.

    A version that has responses is frozen: editing it makes a new version so that
    stored answers always refer to the wording the citizen saw.
    """

    __tablename__ = "questionnaire"
    __table_args__ = (
        sa.UniqueConstraint("family", "version"),
        sa.CheckConstraint(_in("sector", SECTORS), name="sector"),
        sa.CheckConstraint(_in("indicator", INDICATORS), name="indicator"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    title_vi: Mapped[str] = mapped_column(sa.String(255))
    title_en: Mapped[str] = mapped_column(sa.String(255))
    sector: Mapped[str] = mapped_column(sa.String(20))
    indicator: Mapped[str] = mapped_column(sa.String(20), default="composite")
    is_standard: Mapped[bool] = mapped_column(default=False)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    aspects: Mapped[list[Aspect]] = relationship(
        back_populates="questionnaire", order_by="Aspect.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire", order_by="Question.position", cascade="all, delete-orphan"
    )

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def is_frozen(self) -> bool:
        """Frozen once any survey of this version has a response."""
        return bool(
            db.session.scalar(
                sa.select(Response.id).join(Response.survey).where(Survey.questionnaire_id == self.id).limit(1)
            )
        )


class Aspect(db.Model):
    """A group of questions whose item shares are averaged into an aspect index."""

    __tablename__ = "aspect"
    __table_args__ = (sa.UniqueConstraint("questionnaire_id", "code"), sa.UniqueConstraint("questionnaire_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    title_vi: Mapped[str] = mapped_column(sa.String(255))
    title_en: Mapped[str] = mapped_column(sa.String(255))

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="aspects")
    questions: Mapped[list[Question]] = relationship(back_populates="aspect", order_by="Question.position")

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi


class Question(db.Model):
    """A question. ``counts_in_index`` marks the items that enter the aspect and composite indices."""

    __tablename__ = "question"
    __table_args__ = (
        sa.UniqueConstraint("questionnaire_id", "code"),
        sa.UniqueConstraint("questionnaire_id", "position"),
        sa.CheckConstraint(_in("type", QUESTION_TYPES), name="type"),
        sa.CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="range"),
        sa.CheckConstraint("max_length IS NULL OR max_length > 0", name="max_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id", ondelete="CASCADE"))
    aspect_id: Mapped[int | None] = mapped_column(sa.ForeignKey("aspect.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    type: Mapped[str] = mapped_column(sa.String(10))
    text_vi: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text)
    required: Mapped[bool] = mapped_column(default=False)
    counts_in_index: Mapped[bool] = mapped_column(default=False)
    min_value: Mapped[int | None]  # for "number"
    max_value: Mapped[int | None]
    max_length: Mapped[int | None]  # for "text"
    # Only shown when the rating question it follows got a value <= this (kiosk reasons).
    follows_code: Mapped[str | None] = mapped_column(sa.String(32))
    follows_max_value: Mapped[int | None]

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")
    aspect: Mapped[Aspect | None] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_vi

    @property
    def scale_size(self) -> int:
        """Number of points of a rating scale, "no opinion" excluded."""
        return sum(1 for o in self.options if not o.is_no_opinion)


class Option(db.Model):
    """An answer option; ``is_satisfied`` marks the top-box answers, ``is_no_opinion`` the
    answers that count in no denominator."""

    __tablename__ = "option"
    __table_args__ = (
        sa.UniqueConstraint("question_id", "position"),
        sa.UniqueConstraint("question_id", "code"),
        # Target of the answer's composite foreign key: an option of *that* question.
        sa.UniqueConstraint("id", "question_id"),
        sa.CheckConstraint("NOT (is_satisfied AND is_no_opinion)", name="satisfied_or_no_opinion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    value: Mapped[int | None]  # numeric value on the scale; None for "no opinion" and plain choices
    label_vi: Mapped[str] = mapped_column(sa.String(255))
    label_en: Mapped[str] = mapped_column(sa.String(255))
    is_satisfied: Mapped[bool] = mapped_column(default=False)
    is_no_opinion: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="options")

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi


survey_service_point = sa.Table(
    "survey_service_point",
    db.metadata,
    sa.Column("survey_id", sa.ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_point_id", sa.ForeignKey("service_point.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Survey(db.Model):
    """A questionnaire version deployed to service points for a period, on some channels."""

    __tablename__ = "survey"
    __table_args__ = (
        sa.CheckConstraint(_in("status", SURVEY_STATUSES), name="status"),
        sa.CheckConstraint("channel_qr OR channel_kiosk", name="some_channel"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    channel_qr: Mapped[bool] = mapped_column(default=True)
    channel_kiosk: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship()
    organisation: Mapped[Organisation] = relationship()
    service_points: Mapped[list[ServicePoint]] = relationship(secondary=survey_service_point)


class KioskDevice(db.Model):
    """A tablet enrolled at a service point. Only hashes of its codes and token are stored."""

    __tablename__ = "kiosk_device"
    __table_args__ = (sa.CheckConstraint("queue_length IS NULL OR queue_length >= 0", name="queue_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    service_point_id: Mapped[int] = mapped_column(sa.ForeignKey("service_point.id", ondelete="RESTRICT"), index=True)
    enrol_code_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    enrol_expires_at: Mapped[datetime | None]
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    app_version: Mapped[str | None] = mapped_column(sa.String(32))
    queue_length: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last moment the tablet reported nothing queued: it cannot deliver a rating claimed earlier.
    queue_empty_at: Mapped[datetime | None]
    # Its ratings stored flagged by the plausibility checks (shown on the Kiosks page).
    flagged_ratings: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    last_flagged_at: Mapped[datetime | None]

    service_point: Mapped[ServicePoint] = relationship()


class Response(db.Model):
    """One citizen's submission. Stored once: the idempotency key is unique per survey and a
    dossier can be rated once. Flagged responses are kept for review, excluded from indices."""

    __tablename__ = "response"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "idempotency_key"),
        # Indexed only where set (a dossier rating, a kiosk rating): a QR submission writes no
        # index entry for NULL (migration 0003).
        sa.Index("uq_response_dossier_hash", "dossier_hash", unique=True,
                 sqlite_where=sa.text("dossier_hash IS NOT NULL"), postgresql_where=sa.text("dossier_hash IS NOT NULL")),
        # A device's ratings by claimed time, for the kiosk's plausibility checks (migration 0004).
        sa.Index("ix_response_kiosk_device_time", "kiosk_device_id", "client_created_at",
                 sqlite_where=sa.text("kiosk_device_id IS NOT NULL"), postgresql_where=sa.text("kiosk_device_id IS NOT NULL")),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
        sa.CheckConstraint("language IN ('vi', 'en')", name="language"),
        sa.CheckConstraint("flag IS NULL OR " + _in("flag", FLAGS), name="flag"),
        sa.CheckConstraint("channel = 'kiosk' OR kiosk_device_id IS NULL", name="kiosk_device_channel"),
        sa.CheckConstraint("contact IS NULL OR contact_consent", name="contact_needs_consent"),
        # A response can only go to a service point the survey is deployed on. This key also
        # makes the survey and the service point exist: no separate key for each (each one a
        # lookup, and a row lock on PostgreSQL, on every submission).
        sa.ForeignKeyConstraint(
            ["survey_id", "service_point_id"],
            ["survey_service_point.survey_id", "survey_service_point.service_point_id"],
            name="fk_response_survey_service_point",
        ),
        sa.Index("ix_response_sp_time", "service_point_id", "submitted_at"),
        sa.Index("ix_response_survey_time", "survey_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int]  # foreign key: the composite one above
    service_point_id: Mapped[int]  # likewise
    channel: Mapped[str] = mapped_column(sa.String(10))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)  # server receipt time
    client_created_at: Mapped[datetime | None]  # the tablet's own clock, for kiosk ratings
    language: Mapped[str] = mapped_column(sa.String(2), default="vi")
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    kiosk_device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kiosk_device.id", ondelete="RESTRICT"))
    dossier_hash: Mapped[str | None] = mapped_column(sa.String(64))
    client_hash: Mapped[str | None] = mapped_column(sa.String(32))  # daily-rotated keyed hash
    duration_ms: Mapped[int | None]
    flag: Mapped[str | None] = mapped_column(sa.String(16))
    contact: Mapped[str | None] = mapped_column(sa.String(255))
    contact_consent: Mapped[bool] = mapped_column(default=False)
    # What the dossier token said of the rated dossier (MaTTHC, MaLinhVuc), for per-procedure
    # and per-field satisfaction (migration 0008_dossiers).
    procedure_code: Mapped[str | None] = mapped_column(sa.String(64))
    field_code: Mapped[str | None] = mapped_column(sa.String(64))

    survey: Mapped[Survey] = relationship(primaryjoin="Response.survey_id == Survey.id", foreign_keys="Response.survey_id")
    service_point: Mapped[ServicePoint] = relationship(
        primaryjoin="Response.service_point_id == ServicePoint.id", foreign_keys="Response.service_point_id")
    kiosk_device: Mapped[KioskDevice | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(db.Model):
    """One answer. ``satisfied`` is 1/0 for items that count and NULL for "no opinion",
    so an item share is ``AVG(satisfied)`` in SQL. ``service_point_id`` and
    ``submitted_at`` repeat the response's so that reports scan one table."""

    __tablename__ = "answer"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "question_id"),
        # The chosen option must belong to the question answered.
        sa.ForeignKeyConstraint(
            ["option_id", "question_id"], ["option.id", "option.question_id"], name="fk_answer_option_of_question"
        ),
        sa.CheckConstraint("satisfied IS NULL OR satisfied IN (0, 1)", name="satisfied_01"),
        sa.CheckConstraint(
            "option_id IS NOT NULL OR value IS NOT NULL OR text IS NOT NULL", name="has_content"
        ),
        sa.CheckConstraint("value IS NULL OR (value >= -1000000 AND value <= 1000000)", name="value_range"),
        sa.Index("ix_answer_sp_time_question", "service_point_id", "submitted_at", "question_id"),
        sa.Index("ix_answer_question", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id", ondelete="RESTRICT"))
    option_id: Mapped[int | None] = mapped_column()  # foreign key: the composite one above
    value: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(sa.Text)
    satisfied: Mapped[int | None] = mapped_column(sa.SmallInteger)
    service_point_id: Mapped[int]  # its response's (whose key makes it exist), repeated for reports
    submitted_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]  # marked handled before cases existed (migration 0006 turned these into cases)
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
    option: Mapped[Option | None] = relationship(
        primaryjoin="Answer.option_id == Option.id", foreign_keys=[option_id]
    )


class CommentLabel(db.Model):
    """What the classifier (surveyapp.themes) read in a free-text answer: its polarity and
    whether it is urgent. A row means the comment was classified, with or without themes."""

    __tablename__ = "comment_label"
    __table_args__ = (
        sa.CheckConstraint("polarity IN ('complaint', 'praise', 'suggestion', 'neutral')", name="polarity"),
    )

    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True)
    polarity: Mapped[str] = mapped_column(sa.String(12))
    urgent: Mapped[bool] = mapped_column(default=False)
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)

    themes: Mapped[list[CommentTheme]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class CommentTheme(db.Model):
    """One theme of a classified comment (codes: surveyapp.themes.THEMES)."""

    __tablename__ = "comment_theme"
    __table_args__ = (sa.Index("ix_comment_theme_theme", "theme"),)

    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("comment_label.answer_id", ondelete="CASCADE"),
                                           primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(16), primary_key=True)


class User(db.Model):
    """An official. ``organisation`` is the root of the subtree they may see (None: everything, admins only)."""

    __tablename__ = "user"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint("role = 'admin' OR organisation_id IS NOT NULL", name="scoped"),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject"),
    )
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(sa.String(255))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(10), default="viewer")
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session and remember-me cookie of this account (``get_id``): a new value
    # ends them all. Renewed on sign-out, password change and deactivation (events below).
    session_token: Mapped[str] = mapped_column(sa.String(32), default=lambda: secrets.token_hex(16))

    # Notification preferences (surveyapp/alerts): where alerts and digests go and when. Server
    # defaults only, not fetched back on insert: a user written by code that does not set them
    # (the seed, at an older schema in the migration tests) never names them.
    email: Mapped[str | None] = mapped_column(sa.String(255), server_default=sa.null())
    language: Mapped[str] = mapped_column(sa.String(2), server_default="vi")
    digest_frequency: Mapped[str] = mapped_column(sa.String(8), server_default="none")
    # Local times; no e-mail from quiet_start to quiet_end.
    quiet_start: Mapped[time | None] = mapped_column(server_default=sa.null())
    quiet_end: Mapped[time | None] = mapped_column(server_default=sa.null())
    # Single sign-on: the provider's (issuer, subject) once the account has signed in through it.
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(255))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))

    organisation: Mapped[Organisation | None] = relationship()

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """End every session of this account, wherever its cookie is (the loader refuses the old token)."""
        self.session_token = secrets.token_hex(16)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def set_unusable_password(self) -> None:
        """No password signs in (werkzeug reads no method from it): the account signs in through
        single sign-on until an administrator sets a password."""
        self.password_hash = "!" + secrets.token_hex(16)

    @property
    def has_usable_password(self) -> bool:
        return not self.password_hash.startswith("!")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


@event.listens_for(User.password_hash, "set")
def _password_changed(user: User, value, oldvalue, initiator) -> None:
    if value != oldvalue:
        user.end_sessions()


@event.listens_for(User.active, "set")
def _deactivated(user: User, value, oldvalue, initiator) -> None:
    # Reactivation does not bring the old sessions back: they ended here.
    if not value:
        user.end_sessions()


class LoginSource(db.Model):
    """Sign-in attempts on one account from one address (a keyed hash, never the address):
    the lock after repeated failures applies to this pair, and an address that once signed
    in successfully still gets in while the account is guarded (auth/throttle.py)."""

    __tablename__ = "login_source"
    __table_args__ = (sa.UniqueConstraint("user_id", "source_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class Target(db.Model):
    """A satisfaction target for an indicator, by sector or organisation, for a period."""

    __tablename__ = "target"
    __table_args__ = (
        sa.CheckConstraint("value > 0 AND value <= 1", name="value_fraction"),
        sa.CheckConstraint("operator IN ('>=', '>')", name="operator"),
        sa.CheckConstraint("sector IS NULL OR " + _in("sector", SECTORS), name="sector"),
        sa.CheckConstraint("sector IS NOT NULL OR organisation_id IS NOT NULL", name="has_scope"),
        sa.CheckConstraint(_in("indicator", INDICATORS), name="indicator"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(sa.String(20))
    sector: Mapped[str | None] = mapped_column(sa.String(20))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    value: Mapped[float]
    operator: Mapped[str] = mapped_column(sa.String(2), default=">=")
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(sa.String(255))

    organisation: Mapped[Organisation | None] = relationship()


MAX_VOLUME = 10_000_000  # people served by one point in a month: far beyond any real one


class ServiceVolume(db.Model):
    """How many dossiers, patients or pupils a service point served in a month: the weights
    that turn responses into a population estimate."""

    __tablename__ = "service_volume"
    __table_args__ = (
        sa.UniqueConstraint("service_point_id", "month"),
        sa.CheckConstraint("volume >= 0", name="volume_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(sa.ForeignKey("service_point.id", ondelete="RESTRICT"))
    month: Mapped[date]  # first day of the month
    volume: Mapped[int]

    service_point: Mapped[ServicePoint] = relationship()


DOSSIER_CHANNELS = ("online", "counter")


class Dossier(db.Model):
    """One dossier (hồ sơ) from the provincial one-stop software: MaHoSo, MaTTHC, MaLinhVuc and
    its received, due and returned instants (naive UTC). ``code_hash`` is the keyed hash that a
    dossier-linked rating carries (``Response.dossier_hash``), so ratings meet their dossiers
    without the number being stored with the rating. See docs/DOSSIERS.md."""

    __tablename__ = "dossier"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "code"),
        sa.CheckConstraint("channel IS NULL OR " + _in("channel", DOSSIER_CHANNELS), name="channel"),
        sa.Index("ix_dossier_org_received", "organisation_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    service_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_point.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(sa.String(64))
    code_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    procedure_code: Mapped[str | None] = mapped_column(sa.String(64))
    field_code: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(sa.String(32))
    channel: Mapped[str | None] = mapped_column(sa.String(10))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    service_point: Mapped[ServicePoint | None] = relationship()


class ReportRollup(db.Model):
    """Precomputed report moments of one complete local month (``day`` 0) or one complete local
    day of it (``day`` 1-31), per (survey, service point, channel, flagged): see
    ``surveyapp.reports``. Responses are immutable and stamped with the server receipt time, so
    a month or day that has ended never changes and its sums are kept.

    ``moments`` holds int64 values: the 2J column sums, then the packed upper triangle of the
    cross products (``analysis.cross_product_pairs`` order) of the questionnaire's J index
    items at bit ``positions``. The row with survey 0 and service point 0 marks the month (or
    day) as rolled up, so that one without responses is told apart from one not computed yet.
    No foreign keys: the rows are derived data and the marker row refers to nothing."""

    __tablename__ = "report_rollup"
    __table_args__ = (
        sa.UniqueConstraint("month", "day", "survey_id", "service_point_id", "channel", "flagged"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int]  # local month key: year * 12 + month - 1
    day: Mapped[int] = mapped_column(default=0)  # 0: the whole month; 1-31: that local day only
    survey_id: Mapped[int]
    service_point_id: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(10))
    flagged: Mapped[bool]
    respondents: Mapped[int]
    dissatisfied: Mapped[int]
    positions: Mapped[str] = mapped_column(sa.String(400), default="")
    moments: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Publication(db.Model):
    """An organisation's opt-in to a public page of its indices (``/p/<code>``), and of those of
    its sub-units: a unit's numbers are public when it or an ancestor is published."""

    __tablename__ = "publication"
    __table_args__ = (sa.CheckConstraint("min_responses >= 1", name="min_responses_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), unique=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # A unit with fewer responses in the period is shown as "not enough responses".
    min_responses: Mapped[int]

    organisation: Mapped[Organisation] = relationship()
    published_by: Mapped[User | None] = relationship()


class AuditEvent(db.Model):
    """Who did what to which object, with the values before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


# Cases (surveyapp.cases): a complaint followed from opening to the reply to the citizen.
CASE_STATES = ("new", "acknowledged", "resolved", "closed", "rejected")
CASE_OPEN_STATES = ("new", "acknowledged")  # still to be handled: these can be overdue
CASE_DONE_STATES = ("resolved", "closed", "rejected")  # the comment counts as handled
CASE_ORIGINS = ("auto", "manual", "migrated")
CALENDAR_KINDS = ("off", "working")


class Case(db.Model):
    """A citizen's complaint or request followed to its resolution (see docs/CASES.md).

    One case per response at most (the unique key makes the every-minute scan idempotent and
    keeps an official from opening a second one). ``due_at`` is the instant the deadline
    passes: the local midnight after the last working day allowed.
    """

    __tablename__ = "feedback_case"
    __table_args__ = (
        sa.CheckConstraint(_in("state", CASE_STATES), name="state"),
        sa.CheckConstraint(_in("origin", CASE_ORIGINS), name="origin"),
        sa.CheckConstraint("deadline_days >= 0", name="deadline_days"),
        sa.CheckConstraint("state NOT IN ('resolved', 'closed') OR (resolution IS NOT NULL AND resolved_at IS NOT NULL)",
                           name="resolved_has_resolution"),
        sa.Index("ix_feedback_case_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("response.id", ondelete="RESTRICT"), unique=True)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answer.id", ondelete="SET NULL"))  # the comment
    service_point_id: Mapped[int] = mapped_column(sa.ForeignKey("service_point.id", ondelete="RESTRICT"), index=True)
    origin: Mapped[str] = mapped_column(sa.String(10), default="auto")
    state: Mapped[str] = mapped_column(sa.String(12), default="new")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    deadline_days: Mapped[int]
    due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(sa.Text)  # why it was rejected
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship()
    answer: Mapped[Answer | None] = relationship()
    service_point: Mapped[ServicePoint] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class CaseDeadline(db.Model):
    """An organisation's deadline for cases, in working days; its subtree inherits it."""

    __tablename__ = "case_deadline"
    __table_args__ = (sa.CheckConstraint("working_days >= 1 AND working_days <= 120", name="working_days"),)

    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                                                 primary_key=True)
    working_days: Mapped[int]

# ---------------------------------------------------------------------------------------------
# The worker, the outbox and alerts (surveyapp/jobs, surveyapp/outbox.py, surveyapp/alerts)

OUTBOX_CHANNELS = ("email", "webhook")
# pending: waiting for its next attempt (a retry has attempts > 0 and a last_error); sending:
# claimed by a worker until lease_until; delivered; failed: gave up after the last attempt.
OUTBOX_STATUSES = ("pending", "sending", "delivered", "failed")
ALERT_KINDS = ("dissatisfied_burst", "below_target", "harassment", "silent_kiosk")
ALERT_STATES = ("open", "acknowledged", "closed")
DIGEST_FREQUENCIES = ("none", "day", "week", "month")
# What a notification's e-mail became: sent (queued in the outbox), held (by the cap or quiet
# hours, waiting for the held-back summary), summarised (sent in that summary), none (no e-mail).
NOTIFICATION_EMAIL = ("none", "sent", "held", "summarised")


class JobState(db.Model):
    """One row per background job: the lease that lets one worker at a time run it, when it is
    next due, and a cursor for jobs that scan what was stored since their last run."""

    __tablename__ = "job_state"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    cursor_at: Mapped[datetime | None]
    runs: Mapped[int] = mapped_column(default=0)


class Webhook(db.Model):
    """Where an organisation's events are POSTed, signed with its secret (HMAC needs the secret
    itself, so it is stored as given)."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class CalendarDay(db.Model):
    """An official change to the statutory calendar: an extra day off (the Tết break the
    government announces) or a working day (a Saturday worked in exchange)."""

    __tablename__ = "calendar_day"
    __table_args__ = (sa.CheckConstraint(_in("kind", CALENDAR_KINDS), name="kind"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    note: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxItem(db.Model):
    """A message to deliver: written in the transaction that decided to send it, delivered by
    the worker (surveyapp/outbox.py). ``event_id`` is unique: enqueueing twice is a no-op and a
    webhook receiver dedupes retries by it."""

    __tablename__ = "outbox_item"
    __table_args__ = (
        sa.CheckConstraint(_in("channel", OUTBOX_CHANNELS), name="channel"),
        sa.CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.CheckConstraint("channel = 'email' OR webhook_id IS NOT NULL", name="webhook_has_hook"),
        sa.Index("ix_outbox_item_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(32))
    recipient: Mapped[str] = mapped_column(sa.String(2000))
    subject: Mapped[str | None] = mapped_column(sa.String(255))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    event_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(255))
    webhook_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhook.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None]

    webhook: Mapped[Webhook | None] = relationship()


class AlertRule(db.Model):
    """An alert rule of an organisation; it applies to the organisation's subtree, and the
    nearest rule of a kind overrides those of the ancestors. ``params`` holds the kind's
    settings (see surveyapp/alerts/rules.py); the cap limits e-mails per recipient."""

    __tablename__ = "alert_rule"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        sa.CheckConstraint("cap_count >= 1 AND cap_window_minutes >= 1", name="cap"),
        sa.UniqueConstraint("organisation_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(24))
    active: Mapped[bool] = mapped_column(default=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    cap_count: Mapped[int] = mapped_column(default=3)
    cap_window_minutes: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Alert(db.Model):
    """Something a rule found: open, then acknowledged, then closed. ``subject`` names what it
    is about (a service point, a kiosk) so that a rule does not raise it again while it is
    still being handled; ``details`` holds no personal data (comments masked)."""

    __tablename__ = "alert"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        sa.CheckConstraint(_in("state", ALERT_STATES), name="state"),
        sa.Index("ix_alert_rule_subject", "rule_id", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_rule.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(24))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_point.id", ondelete="RESTRICT"))
    subject: Mapped[str] = mapped_column(sa.String(128))
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(12), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    rule: Mapped[AlertRule] = relationship()
    organisation: Mapped[Organisation] = relationship()
    service_point: Mapped[ServicePoint | None] = relationship()


class AlertSubscription(db.Model):
    """A user's choice for one rule: in (``subscribed``) or out of its default."""

    __tablename__ = "alert_subscription"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_rule.id", ondelete="CASCADE"), primary_key=True)
    subscribed: Mapped[bool]


class Notification(db.Model):
    """An alert in one user's notification list, and what became of its e-mail."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "alert_id"),
        sa.CheckConstraint(_in("email_status", NOTIFICATION_EMAIL), name="email_status"),
        sa.Index("ix_notification_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_rule.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(sa.String(12), default="none")
    held_reason: Mapped[str | None] = mapped_column(sa.String(8))  # cap / quiet

    alert: Mapped[Alert] = relationship()
    user: Mapped[User] = relationship()


def subtree_filter(column, org: Organisation):
    """SQL condition: ``column`` (an organisation id) lies in ``org``'s subtree."""
    sub = sa.select(Organisation.id).where(Organisation.path.startswith(org.path, autoescape=True))
    return column.in_(sub)


# ---------------------------------------------------------------------------------------------
# Scheduled filed reports (surveyapp/documents/subscriptions.py): an organisation's báo cáo sent
# to accounts after each period closes, and the files e-mails carry (surveyapp/outbox.py).

SUBSCRIPTION_PERIODS = ("month", "quarter", "half", "year")
REPORT_LANGUAGES = ("vi", "en")


class ReportSubscription(db.Model):
    """An organisation's filed report, sent after each period of ``period_kind`` closes to the
    ``recipients`` (accounts, never typed addresses). The first period sent is the one that
    ends on or after ``starts_on``; the header fields are those of the filed-report form."""

    __tablename__ = "report_subscription"
    __table_args__ = (
        sa.CheckConstraint(_in("period_kind", SUBSCRIPTION_PERIODS), name="period_kind"),
        sa.CheckConstraint(_in("language", REPORT_LANGUAGES), name="language"),
        sa.CheckConstraint("want_docx OR want_pdf", name="format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    period_kind: Mapped[str] = mapped_column(sa.String(8))
    want_docx: Mapped[bool] = mapped_column(default=True)
    want_pdf: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(sa.String(2), default="vi")
    managing_agency: Mapped[str | None] = mapped_column(sa.String(200))
    agency: Mapped[str | None] = mapped_column(sa.String(200))
    symbol: Mapped[str | None] = mapped_column(sa.String(40))
    place: Mapped[str | None] = mapped_column(sa.String(100))
    signer_prefix: Mapped[str | None] = mapped_column(sa.String(8))
    signer_authority: Mapped[str | None] = mapped_column(sa.String(200))
    signer_title: Mapped[str] = mapped_column(sa.String(200))
    signer_name: Mapped[str | None] = mapped_column(sa.String(200))
    # "Nơi nhận" of the document, one per line (distinct from the accounts the e-mail goes to).
    filed_recipients: Mapped[str | None] = mapped_column(sa.Text)
    starts_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    recipients: Mapped[list[User]] = relationship(secondary="report_subscription_recipient",
                                                  order_by="User.username")


class ReportSubscriptionRecipient(db.Model):
    __tablename__ = "report_subscription_recipient"

    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("report_subscription.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)


class ReportDelivery(db.Model):
    """One period of one subscription, sent: the unique key makes it once, whatever the number
    of workers; written in the transaction that queues its e-mails."""

    __tablename__ = "report_delivery"
    __table_args__ = (sa.UniqueConstraint("subscription_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("report_subscription.id", ondelete="CASCADE"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(db.Model):
    """A file an e-mail carries, stored in the database so that any worker, restarted or on
    another host, sends it; shared by the e-mails of one report."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachment"

    outbox_item_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_item.id", ondelete="CASCADE"),
                                                primary_key=True)
    attachment_id: Mapped[int] = mapped_column(sa.ForeignKey("attachment.id", ondelete="RESTRICT"),
                                               primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)
# API keys (surveyapp/auth/apikeys.py): how other systems call the JSON API.

API_KEY_SCOPES = ("dossiers", "reports")


class ApiKey(db.Model):
    """A key another system presents in ``X-API-Key``: scoped to an organisation's subtree and
    to one purpose. Only its SHA-256 digest is stored (the key is shown once, at creation);
    ``prefix`` is the key's public part, used to find the row and to tell keys apart in lists."""

    __tablename__ = "api_key"
    __table_args__ = (sa.CheckConstraint(_in("scope", API_KEY_SCOPES), name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(255))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# Dossier volumes (surveyapp/dossiers/volumes.py): the weighting volume kept with the records.


class DossierVolume(db.Model):
    """How many dossiers name ``service_point_id`` and were received in local month ``month``
    (``reports.filters.month_key``). Kept in the transaction of every dossier write
    (``dossiers.records.write``) by atomic increments, so it always equals a fresh count."""

    __tablename__ = "dossier_volume"
    __table_args__ = (sa.CheckConstraint("dossiers >= 0", name="dossiers"),)

    # CASCADE: a service point can only go once no dossier names it; its zero rows go with it.
    service_point_id: Mapped[int] = mapped_column(sa.ForeignKey("service_point.id", ondelete="CASCADE"),
                                                  primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    dossiers: Mapped[int] = mapped_column(default=0)
