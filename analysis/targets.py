"""Judging an index against its target, and ranking policies.

Status from the verdict bounds (docs/STATISTICS.md, section 4): the one-sided exact test at
5% in each direction, whose bounds are the two-sided 90% Clopper-Pearson interval
(:func:`verdict_bounds`; Korn-Graubard's beta interval on the effective sample size for a
design-based index, :func:`verdict_bounds_from_estimate`).  The planner
(:mod:`analysis.planning`) inverts the same test.

* ``met``          lower bound >= target (> for a strict target);
* ``not_met``      upper bound < target (<= for a strict target);
* ``inconclusive`` otherwise;
* ``no_data``      no respondents (n = 0): no data is never evidence, for any target.

The administrative verdict on the point estimate is reported beside it,
because rules such as Khánh Hòa's are written on the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import check_judgement_inputs
from .intervals import interval_from_estimate, proportion_ci

__all__ = [
    "MET",
    "NOT_MET",
    "INCONCLUSIVE",
    "NO_DATA",
    "STATUS_LABELS_VI",
    "Judgement",
    "JudgementArray",
    "judge",
    "judge_array",
    "VERDICT_ALPHA",
    "VERDICT_LEVEL",
    "verdict_bounds",
    "verdict_bounds_from_estimate",
    "RankingPolicy",
    "KHANH_HOA_POLICY",
]

MET = "met"
NOT_MET = "not_met"
INCONCLUSIVE = "inconclusive"
NO_DATA = "no_data"

#: Vietnamese labels used in the domain documents.
STATUS_LABELS_VI: dict[str, str] = {
    MET: "Đạt",
    NOT_MET: "Không đạt",
    INCONCLUSIVE: "Chưa đủ căn cứ",
    NO_DATA: "Chưa có dữ liệu",
}

#: One-sided level of the verdict's test, in each direction ("đạt" and "không đạt").
VERDICT_ALPHA = 0.05
#: The two-sided level whose interval has the one-sided bounds at VERDICT_ALPHA.
VERDICT_LEVEL = 1.0 - 2.0 * VERDICT_ALPHA


def verdict_bounds(successes: ArrayLike, n: ArrayLike) -> tuple[Any, Any]:
    """The bounds a proportion ``successes / n`` is judged by: one-sided 95% exact bounds.

    ``low`` is the one-sided 95% Clopper-Pearson lower bound, so ``low >= target`` exactly when
    the exact binomial test of ``p < target`` rejects at 5% (``P(X >= k | target) <= 0.05``),
    the test :func:`analysis.planning.min_n_all_satisfied` inverts; ``high`` likewise for "not
    met".  Together they are the two-sided 90% Clopper-Pearson interval.  Whole counts only;
    ``n == 0`` gives ``nan``.
    """
    return proportion_ci(successes, n, method="clopper_pearson", level=VERDICT_LEVEL)


def verdict_bounds_from_estimate(
    p: ArrayLike, se: ArrayLike, n: ArrayLike | None = None, df: ArrayLike | None = None
) -> tuple[Any, Any]:
    """Verdict bounds of a design-based index from its estimate and linearised SE.

    Korn-Graubard's beta interval at 90% (:func:`interval_from_estimate` with
    ``method="beta"``): the exact bounds of :func:`verdict_bounds` on the effective sample
    size ``p(1-p)/se**2``, which they equal when that is the number of respondents.  ``n`` is
    the fallback size where the SE says nothing (``se`` 0 or ``nan``, ``p`` 0 or 1).
    """
    return interval_from_estimate(p, se, n=n, method="beta", level=VERDICT_LEVEL, df=df)


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


def _statuses(
    t: float,
    strict: bool,
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    d: np.ndarray | None,
    nn: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Status and administrative verdict per group: the one rule behind judge and judge_array."""
    no_data = np.isnan(est)
    if nn is not None:
        no_data = no_data | (nn == 0)
    if t >= 1.0:
        if d is not None:
            status = np.where(d == 0, MET, NOT_MET).astype(object)
            admin = d == 0
        else:
            status = np.full(est.shape, INCONCLUSIVE, dtype=object)
            admin = est >= 1.0
    else:
        met = (lo > t) if strict else (lo >= t)
        not_met = (hi <= t) if strict else (hi < t)
        status = np.where(met, MET, np.where(not_met, NOT_MET, INCONCLUSIVE)).astype(object)
        admin = (est > t) if strict else (est >= t)
    # No data is never evidence, whatever the target.
    status = np.where(no_data, NO_DATA, status).astype(object)
    admin = np.asarray(admin & ~no_data, dtype=bool)
    return status, admin


def judge(
    estimate: float,
    low: float,
    high: float,
    target: float,
    strict: bool = False,
    n_dissatisfied: int | None = None,
    n: int | None = None,
) -> Judgement:
    """Judge one index (estimate and verdict bounds) against ``target`` (a proportion, e.g. 0.90).

    ``low`` and ``high`` should be the verdict bounds (:func:`verdict_bounds`), so that the
    status is the one-sided exact test the planner uses.  ``n`` is the number of respondents:
    with none (``n == 0``, or a ``nan`` estimate) the status is ``no_data`` for every target.
    For a 100% target the interval is not used: the target is met when
    ``n_dissatisfied == 0``, not met when it is positive, and inconclusive
    when it is not given; ``note`` explains this.  Inputs are checked by
    :func:`analysis._validation.check_judgement_inputs`, as in :func:`judge_array`.
    """
    for name, value in (("estimate", estimate), ("low", low), ("high", high), ("n_dissatisfied", n_dissatisfied),
                        ("n", n)):
        if value is not None and np.ndim(value) != 0:
            raise ValueError(f"{name} must be a single number; use judge_array for many groups")
    t, est, lo, hi, d, nn = check_judgement_inputs(estimate, low, high, target, strict, n_dissatisfied, n)
    status_arr, admin_arr = _statuses(t, strict, est, lo, hi, d, nn)
    status, admin = str(status_arr.item()), bool(admin_arr.item())
    e, lo_f, hi_f = float(est), float(lo), float(hi)
    d_int = None if d is None else int(d)
    shortfall = max(t - e, 0.0) if not np.isnan(e) else float("nan")
    certainty = t >= 1.0
    if status == NO_DATA:
        note = "no responses: the index is undefined"
    elif certainty:
        note = CERTAINTY_NOTE_UNKNOWN if d_int is None else CERTAINTY_NOTE.format(d=d_int)
    else:
        note = ""
    return Judgement(status, e, lo_f, hi_f, t, strict, shortfall, admin, d_int, certainty, note)


def judge_array(
    estimate: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    target: float,
    strict: bool = False,
    n_dissatisfied: ArrayLike | None = None,
    n: ArrayLike | None = None,
) -> JudgementArray:
    """Vectorised :func:`judge` for many groups against one target: the same rule and the same checks.

    Groups with ``n == 0`` or a ``nan`` estimate are ``no_data``.
    """
    t, est, lo, hi, d, nn = check_judgement_inputs(estimate, low, high, target, strict, n_dissatisfied, n)
    status, admin = _statuses(t, strict, est, lo, hi, d, nn)
    with np.errstate(invalid="ignore"):
        shortfall = np.maximum(t - est, 0.0)
    return JudgementArray(status, shortfall, admin, t >= 1.0)


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
