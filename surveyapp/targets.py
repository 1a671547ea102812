"""The rule of an organisation's own target: it may be stricter than the targets it inherits,
never laxer.

An organisation inherits, for an indicator and a period, the sector's target (Resolution 76,
for the organisation's sector) and the own targets of each of its ancestors (a province's
for its communes). Its own target must be at least as strict as every inherited one that is
valid on some day of its period; otherwise a unit would report "đạt" against a bar below the
one set for it. Who may set which target is :func:`surveyapp.auth.scope.may_set_target_for`.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .extensions import db
from .models import Organisation, Target


def _thousandths(value: float) -> int:
    """A fraction compared in thousandths: targets are entered in percent with one decimal."""
    return round(value * 1000)


def at_least_as_strict(value: float, operator: str, than_value: float, than_operator: str) -> bool:
    """Whether the bar (``value``, ``operator``) is at least as high as (``than_value``, ``than_operator``):
    a higher value, or the same value with ``>`` where the other has ``>=``, or the same bar."""
    mine, theirs = _thousandths(value), _thousandths(than_value)
    if mine != theirs:
        return mine > theirs
    return operator == ">" or than_operator == ">="


def inherited_targets(org: Organisation, indicator: str, valid_from: date, valid_to: date | None) -> list[Target]:
    """The sector's and the ancestors' targets for ``indicator`` valid on some day of the period."""
    ancestors = [i for i in org.ancestor_ids() if i != org.id]
    whose = sa.and_(Target.organisation_id.is_(None), Target.sector == org.sector)
    if ancestors:
        whose = sa.or_(whose, Target.organisation_id.in_(ancestors))
    stmt = sa.select(Target).where(whose, Target.indicator == indicator,
                                   sa.or_(Target.valid_to.is_(None), Target.valid_to >= valid_from))
    if valid_to is not None:
        stmt = stmt.where(Target.valid_from <= valid_to)
    return list(db.session.scalars(stmt.order_by(Target.valid_from, Target.id)))


def undercut_target(org: Organisation, indicator: str, value: float, operator: str, valid_from: date,
                    valid_to: date | None) -> Target | None:
    """The highest inherited target that an own target (``value``, ``operator``) of ``org`` for the
    period would fall below; None when it is at least as strict as every one of them."""
    laxer_than = [t for t in inherited_targets(org, indicator, valid_from, valid_to)
                  if not at_least_as_strict(value, operator, t.value, t.operator)]
    return max(laxer_than, key=lambda t: (_thousandths(t.value), t.operator == ">"), default=None)
