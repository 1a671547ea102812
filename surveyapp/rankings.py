"""Yearly or quarterly ranking of an organisation's units (its child organisations) under rules
given as data (``analysis.ranking``): the satisfaction index from the report, the late share
from the dossiers, and for each unit the rule that decided its rank."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import analysis.ranking as ar

from .dossiers import metrics
from .extensions import db
from .models import Organisation
from .reports.filters import Filters
from .reports.model import build_report

PRESETS = ar.PRESETS
# The presets' rules in the reader's language (the data holds the Vietnamese label).
RULE_LABELS = {
    "satisfaction_at_most_80": _l("Chỉ số hài lòng ≤ 80%"),
    "late_at_least_5": _l("Hồ sơ trễ hạn ≥ 5%"),
    "no_score": _l("Không có chỉ số"),
}


def rule_label(rule: str, fallback: str) -> str:
    if rule.startswith("band:"):
        return _("Theo thang điểm: %(rank)s", rank=rule[5:])
    return str(RULE_LABELS[rule]) if rule in RULE_LABELS else fallback


def period(year: int, quarter: int | None = None) -> tuple[date, date]:
    """First and last day of the year, or of its quarter 1-4."""
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1-4")
    first = date(year, 3 * quarter - 2, 1)
    last = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def unit_satisfaction(root: Organisation, first: date, last: date) -> dict[int, float | None]:
    """{child organisation id: satisfaction index (point estimate)} from the report builder: the
    headline questionnaire's units (the first section that is not the quick rating)."""
    report = build_report(root, Filters(date_from=first, date_to=last))
    sections = [s for s in report.sections if s.indicator != "quick"] or report.sections
    out: dict[int, float | None] = {}
    if sections:
        for row in sections[0].units:
            if row.kind == "organisation":
                out[int(row.key)] = row.estimate.estimate
    return out


def rank(root: Organisation, year: int, quarter: int | None = None, rules: str | dict = "khanh-hoa",
         satisfaction: dict[int, float | None] | None = None) -> list[dict]:
    """One row per child unit of ``root``: code, name, satisfaction, late share, rank, deciding
    rule. ``satisfaction``: per unit id, else :func:`unit_satisfaction`."""
    ruleset = PRESETS[rules] if isinstance(rules, str) else rules
    first, last = period(year, quarter)
    units = list(db.session.scalars(sa.select(Organisation).where(Organisation.parent_id == root.id,
                                                                  Organisation.active.is_(True))
                                     .order_by(Organisation.code)))
    if satisfaction is None:
        satisfaction = unit_satisfaction(root, first, last)
    data = {}
    late = {}
    for u in units:
        late[u.id] = metrics.late(u, first, last)
        data[u.id] = {"satisfaction": satisfaction.get(u.id), "late_share": late[u.id]["share"]}
    by_id = {u.id: u for u in units}
    rows = []
    for r in ar.rank_units(data, ruleset):
        u = by_id[r.unit]
        rows.append({"code": u.code, "name": u.name, "satisfaction": data[u.id]["satisfaction"],
                     "late_share": data[u.id]["late_share"], "late": late[u.id]["late"],
                     "dossiers": late[u.id]["total"], "rank": r.rank, "rule": r.rule, "rule_label": rule_label(r.rule, r.rule_label)})
    return rows


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def as_table(rows: list[dict]) -> str:
    code, satisfied, late, rank_, rule = _("Mã"), _("Hài lòng"), _("Trễ hạn"), _("Xếp loại"), _("Quy tắc")
    lines = [f"{code:<12} {satisfied:>9} {late:>8}  {rank_:<12} {rule}"]
    for r in rows:
        lines.append(f"{r['code']:<12} {_pct(r['satisfaction']):>9} {_pct(r['late_share']):>8}  "
                     f"{r['rank'] or '-':<12} {r['rule_label']}")
    return "\n".join(lines)


def as_json(rows: list[dict]) -> str:
    return json.dumps({"units": rows}, ensure_ascii=False, indent=2)


__all__ = ["PRESETS", "period", "unit_satisfaction", "rank", "as_table", "as_json"]
