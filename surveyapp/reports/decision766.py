"""Decision 766's satisfaction indicator beside the survey's units: the one place that puts
it on a report, for ``report --format json`` and the filed report alike."""
from __future__ import annotations

import sqlalchemy as sa

from ..dossiers.metrics import indicator_766
from ..extensions import db
from ..models import Organisation
from .model import Report


def attach_indicator_766(report: Report) -> Report:
    """Fill ``indicator_766`` on every organisation unit of ``report`` that handled dossiers in
    the period (left None elsewhere, and on service-point units, which dossiers are not scored by)."""
    ids = {u.key for s in report.sections for u in s.units if u.kind == "organisation"}
    if not ids:
        return report
    orgs = {o.id: o for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)))}
    f = report.filters
    values = {}
    for oid, org in orgs.items():
        value = indicator_766(org, f.date_from, f.date_to)
        values[oid] = value if value["denominator"] else None
    for s in report.sections:
        for u in s.units:
            if u.kind == "organisation":
                u.indicator_766 = values.get(u.key)
    return report
