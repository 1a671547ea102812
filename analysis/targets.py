"""Judging an index against its target, and ranking policies.

Status from the interval (docs/STATISTICS.md):

* ``met``          lower bound >= target (> for a strict target);
* ``not_met``      upper bound < target (<= for a strict target);
* ``inconclusive`` otherwise.

The administrative verdict on the point estimate is reported beside it,
because rules such as Khánh Hòa's are written on the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array

__all__ = [
    "MET",
    "NOT_MET",
    "INCONCLUSIVE",
    "STATUS_LABELS_VI",
    "Judgement",
    "JudgementArray",
    "judge",
    "judge_array",
    "RankingPolicy",
    "KHANH_HOA_POLICY",
]

MET = "met"
NOT_MET = "not_met"
INCONCLUSIVE = "inconclusive"

#: Vietnamese labels used in the domain documents.
STATUS_LABELS_VI: dict[str, str] = {
    MET: "Đạt",
    NOT_MET: "Không đạt",
    INCONCLUSIVE: "Chưa đủ căn cứ",
}

CERTAINTY_NOTE = (
    "No interval can confirm a 100% target; it is met only if no respondent was dissatisfied "
    "(reported: {d} dissatisfied)."
)
CERTAINTY_NOTE_UNKNOWN = (
    "No interval can confirm a 100% target; pass the number of dissatisfied respondents to judge it."
)


@dataclass(frozen=True)
class Judgement:
    """Statistical status, administrative verdict and context for one index against one target."""

    status: str
    estimate: float
    low: float
    high: float
    target: float
    strict: bool
    shortfall: float
    admin_met: bool
    n_dissatisfied: int | None
    certainty_target: bool
    note: str

    @property
    def label_vi(self) -> str:
        """The status in Vietnamese (Đạt / Không đạt / Chưa đủ căn cứ)."""
        return STATUS_LABELS_VI[self.status]


@dataclass(frozen=True)
class JudgementArray:
    """Vectorised :class:`Judgement`: ``status`` is an array of status strings."""

    status: np.ndarray
    shortfall: np.ndarray
    admin_met: np.ndarray
    certainty_target: bool


def _check_target(target: float, strict: bool) -> float:
    t = float(target)
    if not (0.0 <= t <= 1.0):
        raise ValueError(f"target must be a proportion in [0, 1], got {target!r}")
    if strict and t >= 1.0:
        raise ValueError("a strict target of 100% (> 100%) can never be met")
    return t


def judge(
    estimate: float,
    low: float,
    high: float,
    target: float,
    strict: bool = False,
    n_dissatisfied: int | None = None,
) -> Judgement:
    """Judge one index (estimate and interval) against ``target`` (a proportion, e.g. 0.90).

    For a 100% target the interval is not used: the target is met when
    ``n_dissatisfied == 0``, not met when it is positive, and inconclusive
    when it is not given; ``note`` explains this.
    """
    t = _check_target(target, strict)
    est, lo, hi = float(estimate), float(low), float(high)
    if n_dissatisfied is not None and int(n_dissatisfied) < 0:
        raise ValueError("n_dissatisfied must be >= 0")
    if not any(np.isnan([est, lo, hi])) and not (lo <= est + 1e-12 and est <= hi + 1e-12):
        raise ValueError(f"need low <= estimate <= high, got {lo} <= {est} <= {hi}")
    shortfall = max(t - est, 0.0) if not np.isnan(est) else float("nan")
    if t >= 1.0:
        if n_dissatisfied is None:
            status = INCONCLUSIVE
            note = CERTAINTY_NOTE_UNKNOWN
            admin = bool(est >= 1.0)
        else:
            d = int(n_dissatisfied)
            status = MET if d == 0 else NOT_MET
            note = CERTAINTY_NOTE.format(d=d)
            admin = d == 0
        return Judgement(status, est, lo, hi, t, strict, shortfall, admin, n_dissatisfied, True, note)
    if np.isnan(est) or np.isnan(lo) or np.isnan(hi):
        return Judgement(INCONCLUSIVE, est, lo, hi, t, strict, shortfall, False, n_dissatisfied, False,
                         "no responses: the index is undefined")
    if (lo > t) if strict else (lo >= t):
        status = MET
    elif (hi <= t) if strict else (hi < t):
        status = NOT_MET
    else:
        status = INCONCLUSIVE
    admin = (est > t) if strict else (est >= t)
    return Judgement(status, est, lo, hi, t, strict, shortfall, bool(admin), n_dissatisfied, False, "")


def judge_array(
    estimate: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    target: float,
    strict: bool = False,
    n_dissatisfied: ArrayLike | None = None,
) -> JudgementArray:
    """Vectorised :func:`judge` for many groups against one target (``nan`` estimates are inconclusive)."""
    t = _check_target(target, strict)
    est = as_float_array(estimate, "estimate", allow_nan=True)
    lo = as_float_array(low, "low", allow_nan=True)
    hi = as_float_array(high, "high", allow_nan=True)
    est, lo, hi = np.broadcast_arrays(est, lo, hi)
    shortfall = np.maximum(t - est, 0.0)
    status = np.full(est.shape, INCONCLUSIVE, dtype=object)
    if t >= 1.0:
        if n_dissatisfied is not None:
            d = np.broadcast_to(as_float_array(n_dissatisfied, "n_dissatisfied"), est.shape)
            status = np.where(d == 0, MET, NOT_MET).astype(object)
            admin = d == 0
        else:
            admin = est >= 1.0
        return JudgementArray(status, shortfall, np.asarray(admin), True)
    met = (lo > t) if strict else (lo >= t)
    not_met = (hi <= t) if strict else (hi < t)
    status = np.where(met, MET, np.where(not_met, NOT_MET, INCONCLUSIVE)).astype(object)
    admin = (est > t) if strict else (est >= t)
    return JudgementArray(status, shortfall, np.asarray(admin), False)


@dataclass(frozen=True)
class RankingPolicy:
    """A rule that bars a unit from the "good" rank, applied to point estimates.

    Khánh Hòa: an index of 80% or lower, or 5% or more late dossiers, cannot
    be ranked "good".  ``index_inclusive`` / ``late_inclusive`` say whether
    the threshold itself bars the unit.
    """

    name: str = "Khánh Hòa"
    min_index: float = 0.80
    index_inclusive: bool = True
    max_late_share: float | None = 0.05
    late_inclusive: bool = True

    def barred_reasons(self, index: float, late_share: float | None = None) -> list[str]:
        """Why a unit cannot be ranked "good" (empty when it can)."""
        reasons = []
        idx = float(index)
        if np.isnan(idx) or ((idx <= self.min_index) if self.index_inclusive else (idx < self.min_index)):
            op = "<=" if self.index_inclusive else "<"
            reasons.append(f"satisfaction index {idx:.2%} {op} {self.min_index:.0%}")
        if self.max_late_share is not None and late_share is not None:
            late = float(late_share)
            if (late >= self.max_late_share) if self.late_inclusive else (late > self.max_late_share):
                op = ">=" if self.late_inclusive else ">"
                reasons.append(f"late dossiers {late:.2%} {op} {self.max_late_share:.0%}")
        return reasons

    def can_rank_good(self, index: ArrayLike, late_share: ArrayLike | None = None) -> Any:
        """True where the unit may be ranked "good" (bool, or bool array for arrays)."""
        idx = np.asarray(index, dtype=np.float64)
        barred = (idx <= self.min_index) if self.index_inclusive else (idx < self.min_index)
        barred = barred | np.isnan(idx)
        if self.max_late_share is not None and late_share is not None:
            late = np.asarray(late_share, dtype=np.float64)
            barred = barred | ((late >= self.max_late_share) if self.late_inclusive else (late > self.max_late_share))
        ok = ~barred
        return bool(ok) if np.ndim(ok) == 0 else ok


#: Khánh Hòa's annual reform-ranking rule.
KHANH_HOA_POLICY = RankingPolicy()
