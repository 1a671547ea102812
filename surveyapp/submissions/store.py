"""The one storage path for responses, used by the QR form (one response) and the kiosk (a
batch of ratings): ``store_responses``.

Idempotent on both databases the same way: every response carries its client's idempotency
key, unique per survey in the database, and is inserted with ``ON CONFLICT DO NOTHING ...
RETURNING``. A key stored earlier, or a moment ago by a concurrent request (a double tap, a
re-sent POST, two tabs of one tablet), makes its row vanish from RETURNING instead of
failing the statement; the caller learns which keys this call created and answers the
others as already stored. The dossier's uniqueness is enforced the same way (a second
rating of a dossier is not created). Any other refusal of the database (a foreign key, a
check) fails the whole call and stores nothing.

PostgreSQL: one statement, whatever the number of responses and answers: the responses come
from arrays unnested in step, are inserted in a CTE, and the answers join them by key; run
in autocommit (no BEGIN and COMMIT round trips). SQLite: one insert per response, then all
answers in one executemany, then COMMIT. Either way on a connection of its own, not the
request's ORM session (none is needed), with the statements compiled once (``_Prepared``).
Rows go in key order, so that two requests carrying the same keys meet them in the same
order and queue behind each other instead of deadlocking.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import now_utc
from ..extensions import db
from ..models import Answer, Response
from ..privacy import mask_personal_data
from .answers import CleanAnswer

# Columns shared by every response of one call, then those of each response, then those of
# each answer (``key`` is its response's idempotency key).
_COMMON = ("survey_id", "service_point_id", "channel", "submitted_at", "kiosk_device_id")
_EACH = ("idempotency_key", "language", "client_created_at", "dossier_hash", "client_hash", "duration_ms", "flag",
         "contact", "contact_consent", "procedure_code", "field_code")
_ANSWER_EACH = (("key", sa.String(64)), ("question_id", sa.Integer), ("option_id", sa.Integer),
                ("value", sa.Integer), ("text", sa.Text), ("satisfied", sa.SmallInteger))
_ANSWER_COLUMNS = ("response_id", "question_id", "option_id", "value", "text", "satisfied", "service_point_id",
                   "submitted_at")


@dataclass(slots=True)
class NewResponse:
    """One response to store: its key, its validated answers and what is particular to it."""
    idempotency_key: str
    answers: list[CleanAnswer] = field(default_factory=list)
    language: str = "vi"
    flag: str | None = None
    client_created_at: datetime | None = None
    dossier_hash: str | None = None
    client_hash: str | None = None
    duration_ms: int | None = None
    contact: str | None = None
    contact_consent: bool = False
    procedure_code: str | None = None  # what the dossier token said (MaTTHC, MaLinhVuc)
    field_code: str | None = None


def _bind(table: sa.Table, name: str) -> sa.BindParameter:
    return sa.bindparam(name, type_=table.c[name].type)


def _postgresql_statement() -> sa.Select:
    response, answer = Response.__table__, Answer.__table__
    given = sa.func.unnest(*[sa.bindparam("r_" + name, type_=postgresql.ARRAY(response.c[name].type)) for name in _EACH]
                           ).table_valued(*_EACH).render_derived(name="given")
    inserted = (
        postgresql.insert(response)
        .from_select(list(_COMMON) + list(_EACH),
                     sa.select(*[_bind(response, name) for name in _COMMON], *[given.c[name] for name in _EACH]))
        .on_conflict_do_nothing()
        .returning(response.c.id, response.c.idempotency_key)
        .cte("inserted")
    )
    names = [name for name, _type in _ANSWER_EACH]
    given_answers = sa.func.unnest(*[sa.bindparam("a_" + name, type_=postgresql.ARRAY(kind)) for name, kind in _ANSWER_EACH]
                                   ).table_valued(*names).render_derived(name="given_answer")
    answers = sa.insert(answer).from_select(
        list(_ANSWER_COLUMNS),
        sa.select(inserted.c.id, *[given_answers.c[name] for name in names[1:]], _bind(answer, "service_point_id"),
                  _bind(answer, "submitted_at"))
        .select_from(given_answers.join(inserted, inserted.c.idempotency_key == given_answers.c.key)),
    ).cte("answers")
    return sa.select(inserted.c.id, inserted.c.idempotency_key).add_cte(answers)


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
    if dialect.name == "postgresql":
        return {"all": _Prepared(_postgresql_statement(), dialect)}
    response, answer = Response.__table__, Answer.__table__
    insert_response = (sqlite.insert(response).values({name: _bind(response, name) for name in _COMMON + _EACH})
                       .on_conflict_do_nothing().returning(response.c.id))
    insert_answer = sa.insert(answer).values({name: _bind(answer, name) for name in _ANSWER_COLUMNS})
    return {"response": _Prepared(insert_response, dialect), "answer": _Prepared(insert_answer, dialect)}


def _answer_values(a: CleanAnswer) -> tuple:
    return (a.question.id, a.option.id if a.option is not None else None, a.value,
            mask_personal_data(a.text) if a.text is not None else None, a.satisfied)


def store_responses(survey_id: int, service_point_id: int, channel: str, responses: list[NewResponse], *,
                    kiosk_device_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Store validated responses to one survey at one service point, once each, in one
    transaction of their own; returns {idempotency key: new id} for those this call created
    (a key absent from it was stored before). Contact details are kept only with consent;
    personal data in free text is masked."""
    common = {"survey_id": survey_id, "service_point_id": service_point_id, "channel": channel,
              "submitted_at": now or now_utc(), "kiosk_device_id": kiosk_device_id}
    rows = sorted(responses, key=lambda r: r.idempotency_key)
    if not rows:
        return {}
    engine = db.engine
    prepared = _prepared(engine.dialect)
    if engine.dialect.name == "postgresql":
        params = dict(common)
        for name in _EACH:
            params["r_" + name] = [getattr(r, name) for r in rows]
        consent = [bool(r.contact_consent and r.contact) for r in rows]
        params["r_contact"] = [r.contact if ok else None for r, ok in zip(rows, consent)]
        params["r_contact_consent"] = consent
        answers = [(r.idempotency_key, *_answer_values(a)) for r in rows for a in r.answers]
        for i, (name, _kind) in enumerate(_ANSWER_EACH):
            params["a_" + name] = [a[i] for a in answers]
        statement = prepared["all"]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return {key: rid for rid, key in conn.exec_driver_sql(statement.sql, statement.params(params)).all()}
    created: dict[str, int] = {}
    insert_response, insert_answer = prepared["response"], prepared["answer"]
    with engine.connect() as conn:
        answer_params = []
        for r in rows:
            values = dict(common)
            for name in _EACH:
                values[name] = getattr(r, name)
            values["contact_consent"] = bool(r.contact_consent and r.contact)
            values["contact"] = r.contact if values["contact_consent"] else None
            row = conn.exec_driver_sql(insert_response.sql, insert_response.params(values)).first()
            if row is None:
                continue  # stored before
            created[r.idempotency_key] = rid = row[0]
            for a in r.answers:
                question_id, option_id, value, text, satisfied = _answer_values(a)
                answer_params.append(insert_answer.params({
                    "response_id": rid, "question_id": question_id, "option_id": option_id, "value": value,
                    "text": text, "satisfied": satisfied, "service_point_id": service_point_id,
                    "submitted_at": common["submitted_at"]}))
        if answer_params:
            conn.exec_driver_sql(insert_answer.sql, answer_params)
        conn.commit()
    return created


__all__ = ["NewResponse", "store_responses"]
