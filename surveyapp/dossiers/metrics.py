"""What follows from dossier records, per unit (an organisation's subtree) and period.

Definitions (docs/DOSSIERS.md):
- handled in a period: returned (``returned_at``) within it;
- late: returned after its due time; or not returned by the end of the period while its due
  time had passed. The late share is over the dossiers handled in the period plus those still
  open at its end whose due time fell within it;
- dissatisfied: a dossier-linked rating (``Response.dossier_hash`` equal to the dossier's
  ``code_hash``), not flagged, with at least one answer that counts and is not satisfied;
- volumes: dossiers received per service point (or organisation) and local month.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

import analysis.decision766 as d766

from ..clock import day_bounds_utc
from ..extensions import db
from ..reports.filters import month_end, month_key, month_start_utc
from ..models import Answer, Dossier, Organisation, Response, subtree_filter
from . import volumes


def period_bounds(first: date, last: date):
    """Naive-UTC [start, end) of the local days ``first`` to ``last``."""
    return day_bounds_utc(first, last)


def _dissatisfied_hashes():
    """Hashes of dossiers rated dissatisfied (a subquery)."""
    return (sa.select(Response.dossier_hash)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.dossier_hash.is_not(None), Response.flag.is_(None), Answer.satisfied == 0)
            .distinct())


def _handled(org: Organisation, start, end):
    return (Dossier.returned_at >= start) & (Dossier.returned_at < end) & subtree_filter(Dossier.organisation_id, org)


def handled_count(org: Organisation, first: date, last: date) -> int:
    start, end = period_bounds(first, last)
    return db.session.scalar(sa.select(sa.func.count()).select_from(Dossier).where(_handled(org, start, end))) or 0


def late(org: Organisation, first: date, last: date) -> dict:
    """{"late", "total", "share"} for ``org``'s subtree in the period."""
    start, end = period_bounds(first, last)
    in_scope = subtree_filter(Dossier.organisation_id, org)
    returned = (Dossier.returned_at >= start) & (Dossier.returned_at < end)
    open_due = Dossier.returned_at.is_(None) & (Dossier.due_at >= start) & (Dossier.due_at < end)
    is_late = sa.case(
        (Dossier.returned_at.is_not(None) & Dossier.due_at.is_not(None) & (Dossier.returned_at > Dossier.due_at), 1),
        (Dossier.returned_at.is_(None) & Dossier.due_at.is_not(None), 1),
        else_=0)
    # Also count dossiers returned after the period whose due time fell within it and passed:
    # at the period's end they were open and overdue.
    open_at_end = (Dossier.returned_at >= end) & (Dossier.due_at >= start) & (Dossier.due_at < end)
    is_late = sa.case((open_at_end, 1), else_=is_late)
    total, n_late = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(is_late), 0))
        .select_from(Dossier).where(in_scope, returned | open_due | open_at_end)).one()
    return {"late": int(n_late), "total": int(total), "share": d766.late_share(int(n_late), int(total))}


def indicator_766(org: Organisation, first: date, last: date) -> dict:
    """Decision 766's "mức độ hài lòng trong tiếp nhận, giải quyết TTHC" for ``org``'s subtree:
    (handled − rated dissatisfied) ÷ handled, unrated dossiers counted satisfied."""
    start, end = period_bounds(first, last)
    handled, dissatisfied = db.session.execute(
        sa.select(sa.func.count(),
                  sa.func.coalesce(sa.func.sum(sa.case((Dossier.code_hash.in_(_dissatisfied_hashes()), 1), else_=0)), 0))
        .select_from(Dossier).where(_handled(org, start, end))).one()
    return d766.satisfaction_766(int(handled), int(dissatisfied))


def satisfaction_by_field(org: Organisation, first: date, last: date, by: str = "field") -> dict[str, dict]:
    """Per field (``by="field"``) or procedure (``"procedure"``) of the dossiers handled in the
    period: {code: {"handled", "rated", "dissatisfied", "satisfied_share" (of those rated),
    "indicator_766"}}. The code comes from the dossier record, else from the rating's token."""
    start, end = period_bounds(first, last)
    column = Dossier.field_code if by == "field" else Dossier.procedure_code
    token_column = Response.field_code if by == "field" else Response.procedure_code
    rated = sa.select(Response.dossier_hash).where(Response.dossier_hash.is_not(None), Response.flag.is_(None))
    code = sa.func.coalesce(column, sa.select(token_column).where(Response.dossier_hash == Dossier.code_hash,
                                                                  Response.flag.is_(None)).scalar_subquery(), "")
    rows = db.session.execute(
        sa.select(code.label("code"), sa.func.count(),
                  sa.func.sum(sa.case((Dossier.code_hash.in_(rated), 1), else_=0)),
                  sa.func.sum(sa.case((Dossier.code_hash.in_(_dissatisfied_hashes()), 1), else_=0)))
        .where(_handled(org, start, end)).group_by(code).order_by(code)).all()
    out = {}
    for c, handled, n_rated, n_dis in rows:
        n_rated, n_dis = int(n_rated or 0), int(n_dis or 0)
        out[c] = {"handled": int(handled), "rated": n_rated, "dissatisfied": n_dis,
                  "satisfied_share": (n_rated - n_dis) / n_rated if n_rated else None,
                  "indicator_766": d766.satisfaction_766(int(handled), n_dis)}
    return out


def _volumes(column, ids, first: date, last: date) -> dict[tuple[int, int], int]:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    start, end = period_bounds(first, last)
    # The database counts per unit and local month: each month's UTC start bounds a CASE
    # branch, so no dossier row travels to Python (reports call this for every page).
    keys = list(range(month_key(first), month_key(last) + 1))
    month = sa.case(*((Dossier.received_at < month_start_utc(k + 1), k) for k in keys[:-1]), else_=keys[-1]) \
        if len(keys) > 1 else sa.literal(keys[0])
    # Grouped outside: PostgreSQL cannot match a CASE of bound parameters in GROUP BY.
    cells = (sa.select(column.label("unit"), month.label("month"))
             .where(column.in_(ids), Dossier.received_at >= start, Dossier.received_at < end).subquery())
    rows = db.session.execute(sa.select(cells.c.unit, cells.c.month, sa.func.count())
                              .group_by(cells.c.unit, cells.c.month))
    return {(int(unit), int(m)): int(n) for unit, m, n in rows}


def service_point_volumes(sp_ids, first: date, last: date) -> dict[tuple[int, int], int]:
    """{(service point id, month key): dossiers received there in that local month}, in the
    shape of ``reports.queries.fetch_volumes``: where records exist, they replace hand-entered
    volumes. Only dossiers that name their service point count. Whole months (``first`` a
    month's first day, ``last`` a month's last) are read from the stored counts
    (:mod:`.volumes`); any other period is counted afresh."""
    if first.day == 1 and last == month_end(last):
        return volumes.stored(sp_ids, month_key(first), month_key(last))
    return counted_service_point_volumes(sp_ids, first, last)


def counted_service_point_volumes(sp_ids, first: date, last: date) -> dict[tuple[int, int], int]:
    """The same, counted from the dossier rows of the period."""
    return _volumes(Dossier.service_point_id, sp_ids, first, last)


def organisation_volumes(org_ids, first: date, last: date) -> dict[tuple[int, int], int]:
    """{(organisation id, month key): dossiers received by that organisation itself}."""
    return _volumes(Dossier.organisation_id, org_ids, first, last)


__all__ = ["handled_count", "late", "indicator_766", "satisfaction_by_field", "service_point_volumes", "counted_service_point_volumes", "organisation_volumes", "period_bounds"]
