"""The layout for reporting upward: ``report --format json|csv`` and ``GET /api/v1/reports``.

Documented field by field in docs/REPORTING.md and, for the JSON, by the JSON Schema shipped
beside this module (``report.schema.json``). ``LAYOUT_VERSION`` changes with the layout: the
minor number when fields are only added, the major one when a field changes or goes.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .decision766 import attach_indicator_766
from .model import Report, Row, Section, build_report

LAYOUT_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")

# The first nine columns are the table `report` prints; the rest carry the codes and raw values.
CSV_HEADER = ["survey", "unit", "index", "low", "high", "n", "target", "target_source", "status",
              "layout_version", "scope_code", "period_from", "period_to", "questionnaire_id", "indicator", "level",
              "unit_code", "n_eff", "dissatisfied", "admin_met", "barred", "target_value", "target_operator",
              "target_origin", "weight_source", "indicator_766"]


def report_json(report: Report) -> dict:
    """The report as the JSON layout: every field of the report, less the time it took."""
    data = report.to_dict()
    data.pop("computed_in", None)
    return {"layout_version": LAYOUT_VERSION, **data}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema (2020-12) of :func:`report_json`'s output."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v * 100:.{digits}f}%"


def _number(v: float | None, digits: int = 6) -> str:
    return "" if v is None else f"{v:.{digits}f}".rstrip("0").rstrip(".")


def _flag(v: bool | None) -> str:
    return "" if v is None else ("1" if v else "0")


def _line(report: Report, s: Section, level: str, label: str, code: str | None, row: Row | Section) -> list[str]:
    e = row.headline if isinstance(row, Section) else row.estimate
    t, v = row.target, row.verdict
    indicator_766 = getattr(row, "indicator_766", None)
    return [s.title, label, pct(e.estimate), pct(e.low), pct(e.high), str(e.n),
            t.label if t else "", t.origin_label if t else "", v.status,
            LAYOUT_VERSION, report.scope_code or "", report.filters.date_from.isoformat(),
            report.filters.date_to.isoformat(), str(s.questionnaire_id), s.indicator, level, code or "",
            _number(e.n_eff, 1), str(e.dissatisfied), _flag(v.admin_met), _flag(v.barred),
            _number(t.value) if t else "", (">" if t.strict else ">=") if t else "", t.origin if t else "",
            row.weight_source or "", _number(indicator_766["value"]) if indicator_766 else ""]


def report_rows(report: Report) -> list[list[str]]:
    """One line per section (level "total") and per unit, in :data:`CSV_HEADER`'s order."""
    rows = []
    for s in report.sections:
        rows.append(_line(report, s, "total", report.scope_label, report.scope_code, s))
        for u in s.units:
            rows.append(_line(report, s, u.kind, u.label, u.code, u))
    return rows


def upward_report(org, f, lang: str = "vi") -> Report:
    """The report the upward layout describes: :func:`build_report` with Decision 766's indicator
    on its units. The command line and the API both call this, so they agree by construction."""
    return attach_indicator_766(build_report(org, f, lang=lang))
