"""The SQL of the reports: respondents' index answers, service volumes, one question's
distribution, the comments and the anonymised answer export.

The database does the heavy part in one pass over the answers: it folds each response's
index answers into two bit masks (bit = question position; answered, satisfied), so that
Python receives one small row per respondent instead of one per answer, and identical
respondents are folded into one row with a count.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

import numpy as np
import sqlalchemy as sa

from .. import clock
from ..extensions import db
from ..models import (
    Answer,
    Option,
    Organisation,
    Question,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Survey,
)
from ..cases.service import comments_handled_condition
from ..privacy import mask_personal_data
from .filters import Filters, clauses, month_key, scope_condition, within

EPOCH = date(1970, 1, 1)


@dataclass
class Respondents:
    """Per respondent: service point, channel, survey and its questionnaire, local month,
    current/previous period, flagged, and bit masks of the index questions answered and
    satisfied (bit = question position). Respondents with identical values are folded into
    one row with a ``count``."""

    sp: np.ndarray
    kiosk: np.ndarray
    survey: np.ndarray
    questionnaire: np.ndarray
    month: np.ndarray
    current: np.ndarray
    flagged: np.ndarray
    answered: np.ndarray
    satisfied: np.ndarray
    count: np.ndarray  # respondents sharing this row's values (identical answer patterns are folded)

    def take(self, mask: np.ndarray) -> Respondents:
        return Respondents(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return int(self.sp.size)


def no_respondents() -> Respondents:
    empty = np.zeros(0, dtype=np.int64)
    return Respondents(empty, empty.astype(bool), empty, empty, empty, empty.astype(bool), empty.astype(bool),
                       empty, empty, empty.astype(np.float64))


def concat_respondents(parts: list[Respondents]) -> Respondents:
    if not parts:
        return no_respondents()
    if len(parts) == 1:
        return parts[0]
    return Respondents(*(np.concatenate([getattr(p, fld) for p in parts]) for fld in Respondents.__dataclass_fields__))


def _local(column):
    """A stored UTC time shifted to local wall-clock time, on either backend."""
    seconds = int(clock.utc_offset().total_seconds())
    if db.engine.dialect.name == "postgresql":
        # A literal, not a parameter: the same expression appears in SELECT and GROUP BY.
        return column + sa.text(f"INTERVAL '{seconds} seconds'")
    return sa.func.datetime(column, f"{seconds:+d} seconds")


def local_month_expr(column):
    """Local month as year*12 + month - 1, on either backend."""
    local = _local(column)
    if db.engine.dialect.name == "postgresql":
        return (sa.extract("year", local) * 12 + sa.extract("month", local) - 1).cast(sa.Integer)
    return (sa.cast(sa.func.strftime("%Y", local), sa.Integer) * 12
            + sa.cast(sa.func.strftime("%m", local), sa.Integer) - 1)


def local_day_expr(column):
    """Local calendar day as days since 1970-01-01, on either backend."""
    local = _local(column)
    if db.engine.dialect.name == "postgresql":
        return sa.func.floor(sa.extract("epoch", local) / 86400).cast(sa.Integer)
    # Stored times are after 1970, so truncation is the floor.
    return sa.cast(sa.func.julianday(local) - 2440587.5, sa.Integer)


def raw_respondents(ranges: list[tuple[datetime, datetime]], cur_start: datetime | None,
                    sp_ids: list[int] | None, f: Filters | None = None, by_day: bool = False) -> Respondents:
    """One aggregate query over the raw answers stored in the UTC ``ranges``, per respondent.

    ``sp_ids`` None means every service point, and ``f`` None no filter (the rollup builder).
    ``cur_start`` None: every row is "current" and the flag is kept as a column (the rollup
    builder keys cells by it). ``by_day``: the ``month`` column holds the local day (days
    since 1970-01-01) instead, for the builder of day cells.
    """
    if not ranges:
        return no_respondents()
    bit = sa.cast(sa.literal(1), sa.BigInteger).op("<<")(Question.position)
    where = [Answer.satisfied.is_not(None), within(Answer.submitted_at, ranges)]
    if sp_ids is not None:
        where.append(Answer.service_point_id.in_(sp_ids or [-1]))
    # Pass 1, over the answers: each respondent's index answers folded into two bit masks.
    per_response = (
        sa.select(
            Answer.response_id.label("rid"),
            sa.func.sum(bit).label("amask"),
            sa.func.sum(sa.case((Answer.satisfied == 1, bit), else_=0)).label("smask"),
        )
        .join(Question, Question.id == Answer.question_id)
        .where(*where)
        .group_by(Answer.response_id)
    ).subquery()
    # Pass 2, over one row per respondent: the response's own columns, then identical
    # respondents folded together.
    cols = [
        Response.service_point_id,
        Response.channel,
        Response.survey_id,
        (local_day_expr if by_day else local_month_expr)(Response.submitted_at),
        sa.literal(1) if cur_start is None else sa.case((Response.submitted_at >= cur_start, 1), else_=0),
        sa.case((Response.flag.is_not(None), 1), else_=0) if cur_start is None else sa.literal(0),
        per_response.c.amask,
        per_response.c.smask,
        Survey.questionnaire_id,
    ]
    # The same time range on the responses (answers repeat their response's time): without it
    # PostgreSQL joins the month's respondents against a scan of every stored response.
    stmt = (sa.select(*cols, sa.func.count())
            .select_from(per_response).join(Response, Response.id == per_response.c.rid)
            .join(Survey, Survey.id == Response.survey_id)
            .where(*clauses(f, time=Response.submitted_at, ranges=ranges))
            .group_by(*cols))
    if sp_ids is not None:
        stmt = stmt.where(Response.service_point_id.in_(sp_ids or [-1]))
    if db.engine.dialect.name == "postgresql":
        # One big aggregate: JIT compilation costs more than it saves here, and the
        # per-response hash table should stay in memory. set_config(..., true) is SET LOCAL,
        # both settings in one round trip.
        db.session.execute(sa.text("SELECT set_config('jit', 'off', true), set_config('work_mem', '128MB', true)"))
    rows = db.session.execute(stmt).all()
    if not rows:
        return no_respondents()
    sp, chan, survey, mon, cur, flagged, amask, smask, questionnaire, count = zip(*rows)
    return Respondents(
        sp=np.asarray(sp, dtype=np.int64),
        kiosk=np.asarray([c == "kiosk" for c in chan], dtype=bool),
        survey=np.asarray(survey, dtype=np.int64),
        questionnaire=np.asarray(questionnaire, dtype=np.int64),
        month=np.asarray(mon, dtype=np.int64),
        current=np.asarray(cur, dtype=bool),
        flagged=np.asarray(flagged, dtype=bool),
        answered=np.asarray(amask, dtype=np.int64),
        satisfied=np.asarray(smask, dtype=np.int64),
        count=np.asarray(count, dtype=np.float64),
    )


def scope_service_point_ids(root: Organisation | None, f: Filters) -> list[int]:
    """The service points in ``root``'s subtree, of the filtered sector."""
    return list(db.session.scalars(sa.select(ServicePoint.id).join(Organisation).where(scope_condition(root, f.sector))))


def fetch_volumes(sp_ids: Iterable[int], f: Filters) -> dict[tuple[int, int], int]:
    """Service volume per (service point, month key) over the period and the previous one."""
    ids = sorted(set(int(i) for i in sp_ids))
    if not ids:
        return {}
    first = f.previous().date_from.replace(day=1)
    rows = db.session.execute(
        sa.select(ServiceVolume.service_point_id, ServiceVolume.month, ServiceVolume.volume)
        .where(ServiceVolume.service_point_id.in_(ids), ServiceVolume.month >= first, ServiceVolume.month <= f.date_to)
    )
    return {(sp, month_key(m)): v for sp, m, v in rows}


# ---------------------------------------------------------------------------------------------
# Question drill-down, comments, export


def question_distribution(question: Question, sp_ids: list[int], f: Filters) -> list[tuple[Option, int]]:
    """How many chose each option of ``question`` at the given points in the period."""
    stmt = (
        sa.select(Answer.option_id, sa.func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.question_id == question.id, Answer.service_point_id.in_(sp_ids),
               *clauses(f, time=Answer.submitted_at))
        .group_by(Answer.option_id)
    )
    counts = dict(db.session.execute(stmt).all())
    return [(o, int(counts.get(o.id, 0))) for o in question.options]


def comments_query(root: Organisation | None, f: Filters, state: str = "open", text: str | None = None,
                   service_point_id: int | None = None):
    """Free-text answers in scope and period, newest first (a SELECT of Answer)."""
    stmt = (
        sa.select(Answer)
        .join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .join(ServicePoint, ServicePoint.id == Answer.service_point_id)
        .join(Organisation, Organisation.id == ServicePoint.organisation_id)
        .where(Question.type == "text", Answer.text.is_not(None), scope_condition(root, f.sector),
               *clauses(f, time=Answer.submitted_at))
        .order_by(Answer.submitted_at.desc(), Answer.id.desc())
    )
    if state == "open":
        stmt = stmt.where(~comments_handled_condition(Answer.response_id))
    elif state == "handled":
        stmt = stmt.where(comments_handled_condition(Answer.response_id))
    if text:
        stmt = stmt.where(Answer.text.icontains(text, autoescape=True))
    if service_point_id:
        stmt = stmt.where(Answer.service_point_id == service_point_id)
    return stmt


EXPORT_HEADER = ["response", "date", "organisation", "service_point", "channel", "language", "flag",
                 "questionnaire", "question", "option", "value", "satisfied", "comment"]


def export_rows(root: Organisation | None, f: Filters, service_point_id: int | None = None, batch: int = 5000):
    """Anonymised answers, one per row (:data:`EXPORT_HEADER`): no client hash, no contact,
    comments masked. Raw values: the export writers make them inert."""
    stmt = (
        sa.select(Response.id, Response.submitted_at, Organisation.code, ServicePoint.name, Response.channel,
                  Response.language, Response.flag, Questionnaire.family, Questionnaire.version, Question.code,
                  Option.code, Answer.value, Answer.satisfied, Answer.text)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(Survey, Survey.id == Response.survey_id)
        .join(Questionnaire, Questionnaire.id == Survey.questionnaire_id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Option, Option.id == Answer.option_id)
        .join(ServicePoint, ServicePoint.id == Answer.service_point_id)
        .join(Organisation, Organisation.id == ServicePoint.organisation_id)
        .where(scope_condition(root, f.sector), *clauses(f, time=Answer.submitted_at))
        .order_by(Response.id, Question.position)
    )
    if service_point_id:
        stmt = stmt.where(Answer.service_point_id == service_point_id)
    numbers: dict[int, int] = {}
    for row in db.session.execute(stmt.execution_options(yield_per=batch)):
        rid = row[0]
        seq = numbers.setdefault(rid, len(numbers) + 1)  # a sequence number, not the database id
        text = mask_personal_data(row[13]) if row[13] else ""
        yield [seq, clock.to_local(row[1]).strftime("%Y-%m-%d"), row[2], row[3], row[4], row[5], row[6] or "",
               f"{row[7]}@{row[8]}", row[9], row[10] or "", "" if row[11] is None else row[11],
               "" if row[12] is None else row[12], text]
