"""Targets and verdicts: which target applies to an index, where it comes from, and whether
the index meets it.

An organisation's own target may be stricter than the one it inherits (the sector's, from
Resolution 76, or an ancestor's, such as the province's), never laxer: the strictest of those
that apply is the one a unit is judged by, whatever was stored.
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import analysis

from ..models import Organisation, Questionnaire, Target
from .estimates import Estimate
from .filters import Filters

KHANH_HOA = analysis.KHANH_HOA_POLICY

STATUS_LABELS = {
    "met": _l("Đạt"),
    "not_met": _l("Không đạt"),
    "inconclusive": _l("Chưa đủ căn cứ"),
    "no_target": _l("Chưa có chỉ tiêu"),
    "no_data": _l("Chưa có dữ liệu"),
}

# Where a target comes from, as seen from the organisation judged.
SECTOR, INHERITED, OWN = "sector", "inherited", "own"


@dataclass
class TargetRef:
    """The target an index is judged by: its bar, and where it comes from."""

    value: float
    strict: bool
    source: str | None  # the document that sets it, e.g. "Nghị quyết 76/NQ-CP"
    origin: str = SECTOR  # SECTOR default, INHERITED from an ancestor organisation, or the OWN one
    organisation: str | None = None  # name of the organisation that set it (INHERITED and OWN)

    @property
    def label(self) -> str:
        return f"{'>' if self.strict else '≥'} {self.value * 100:.0f}%"

    @property
    def origin_label(self) -> str:
        """Where the target comes from, for people: the sector's, an ancestor's, the unit's own."""
        if self.origin == OWN:
            text = _("chỉ tiêu riêng của %(org)s", org=self.organisation)
        elif self.origin == INHERITED:
            text = _("chỉ tiêu của cấp trên: %(org)s", org=self.organisation)
        else:
            text = _("chỉ tiêu chung của ngành")
        return f"{text} – {self.source}" if self.source else text


def _ref(t: Target, origin: str) -> TargetRef:
    return TargetRef(t.value, t.operator == ">", t.source, origin,
                     t.organisation.name if t.organisation is not None else None)


def _in_force(t: Target) -> tuple:
    """At one level the latest target replaces the earlier ones; of two set the same day, the stricter."""
    return t.valid_from, t.value, t.operator == ">"


def resolve_target(targets: list[Target], indicator: str, org: Organisation | None, sector: str | None,
                   on: date) -> TargetRef | None:
    """The strictest target valid on ``on`` among the sector default and those of ``org`` and its
    ancestors (at each level the latest one in force); a tie goes to the most specific."""
    valid = [t for t in targets if t.indicator == indicator and t.valid_from <= on
             and (t.valid_to is None or on <= t.valid_to)]
    candidates: list[TargetRef] = []
    if org is not None:
        for oid in reversed(org.ancestor_ids()):  # self first, then parents
            own = [t for t in valid if t.organisation_id == oid]
            if own:
                candidates.append(_ref(max(own, key=_in_force), OWN if oid == org.id else INHERITED))
    by_sector = [t for t in valid if t.organisation_id is None and t.sector == sector]
    if by_sector:
        candidates.append(_ref(max(by_sector, key=_in_force), SECTOR))
    # max() keeps the first of equals: the nearest organisation's.
    return max(candidates, key=lambda r: (r.value, r.strict), default=None)


def target_sector(q: Questionnaire, org: Organisation | None, f: Filters) -> str:
    """The quick rating is one questionnaire for every sector: judge it by the unit's sector."""
    if q.indicator == "quick":
        return f.sector or (org.sector if org is not None else q.sector)
    return q.sector


@dataclass
class Verdict:
    status: str  # met / not_met / inconclusive / no_target / no_data
    admin_met: bool | None
    barred: bool  # Khánh Hòa: <= 80% cannot be ranked good
    note: str = ""
    # Inconclusive: about how many more responses would settle it if the index holds.
    more_needed: int | None = None

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])


def judge(e: Estimate, target: TargetRef | None) -> Verdict:
    if not e.defined:
        return Verdict("no_data", None, False)
    barred = bool(KHANH_HOA.barred_reasons(e.estimate))
    if target is None:
        return Verdict("no_target", None, barred)
    low = e.low if e.verdict_low is None else e.verdict_low
    high = e.high if e.verdict_high is None else e.verdict_high
    j = analysis.judge(e.estimate, low, high, target.value, strict=target.strict, n_dissatisfied=e.dissatisfied,
                       n=e.n)
    note = _("Không khoảng tin cậy nào xác nhận được chỉ tiêu 100%%; số người chưa hài lòng: %(d)s.",
             d=e.dissatisfied) if j.certainty_target else ""
    return Verdict(j.status, j.admin_met, barred, note, more_needed(e, target) if j.status == "inconclusive" else None)


def more_needed(e: Estimate, target: TargetRef) -> int | None:
    """How many more responses would settle an inconclusive verdict if the index holds: the
    planner's count on the effective sample size, scaled back by the design effect (the
    respondents an index of correlated answers needs are more than its effective n)."""
    n_eff = e.n_eff if e.n_eff else e.n
    if not n_eff or e.estimate is None:
        return None
    k_eff = int(round(e.estimate * n_eff))
    extra = analysis.responses_to_settle(k_eff, int(round(n_eff)), target.value, target.strict)
    if extra is None:
        return None
    return int(math.ceil(extra * e.n / n_eff))
