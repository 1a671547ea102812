"""Satisfaction indices and their intervals, with the respondent as the cluster.

Every multi-item index here is a linear combination of ratio estimators

    theta = sum_j c_j R_j,   R_j = S_j / N_j,   S_j = sum_i w_i s_ij,   N_j = sum_i w_i a_ij

where ``s_ij`` / ``a_ij`` are respondent i's satisfied / answered counts in
column j (an item, or a pre-aggregated group of items).  Its linearised
(Taylor) variance treats respondents as PSUs:

    u_i = sum_j c_j (s_ij - R_j a_ij) / N_j,   z_i = w_i u_i
    V   = sum_h n_h / (n_h - 1) * sum_{i in h} (z_i - zbar_h)**2

(one stratum unless units are given as strata).  Item share: ``c = e_j``.
Aspect index: ``c_j = 1 / m_a`` for the ``m_a`` items of aspect a.  Composite
(SIPAS): ``c_j = 1 / (A m_a(j))``.  Items nobody answered are left out of
their aspect's mean and aspects with no answered item out of the composite.

The same estimate and variance follow from per-group sums that SQL can
compute with ``GROUP BY`` (see :func:`composite_from_moments`): with
``x_i = (s_i1..s_iJ, a_i1..a_iJ)``, ``T = sum_i x_i``, ``M = sum_i x_i x_i^T``
and the vector ``b = (c/N, -c R/N)``, ``sum_i u_i**2 = b^T M b`` and
``sum_i u_i = b^T T`` (which is 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_float_array, check_level, t_quantile
from .intervals import PROPORTION_METHODS, interval_from_estimate, proportion_ci
from .survey import design_variance, _stratum_sampling
from .targets import verdict_bounds_from_estimate

__all__ = [
    "IndexEstimate",
    "MeanScore",
    "encode_answers",
    "item_shares",
    "aspect_indices",
    "composite_index",
    "overall_rate",
    "comprehensive_satisfaction",
    "mean_score",
    "to_0_100",
    "quick_rating_index",
    "circular01_levels",
    "cross_product_pairs",
    "unpack_cross_products",
    "group_moments",
    "composite_from_moments",
    "aspect_indices_from_moments",
    "ratio_from_moments",
    "mean_score_from_moments",
]

_ESTIMATE_METHODS = ("wilson", "beta", "logit", "mean")
# Names accepted for linearised intervals, mapped to interval_from_estimate's.
_METHOD_ALIASES = {"clopper_pearson": "beta", "wald": "mean"}


@dataclass(frozen=True)
class IndexEstimate:
    """An index with its interval; fields are floats, or arrays for many groups.

    ``se`` is the linearised SE with the respondent as cluster; ``se_naive``
    treats every answer as an independent Bernoulli trial; ``deff`` is
    ``(se / se_naive)**2``; ``n_eff`` is ``p (1 - p) / se**2``; ``n`` counts
    respondents (taps for the quick rating).  ``verdict_low`` / ``verdict_high`` are the bounds
    the index is judged by against a target (:func:`analysis.targets.verdict_bounds`): one-sided
    95% exact bounds, whatever ``level`` and ``method`` the reported interval uses.
    """

    estimate: Any
    se: Any
    low: Any
    high: Any
    n: Any
    se_naive: Any
    deff: Any
    n_eff: Any
    level: float
    method: str
    verdict_low: Any = float("nan")
    verdict_high: Any = float("nan")


@dataclass(frozen=True)
class MeanScore:
    """Mean score on the 1..k scale and on 0-100, ``(mean - 1) / (k - 1) * 100``."""

    mean: Any
    se: Any
    low: Any
    high: Any
    score_100: Any
    se_100: Any
    low_100: Any
    high_100: Any
    n: Any
    n_answers: Any
    scale_points: int
    level: float


# --------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------


def encode_answers(
    values: ArrayLike,
    satisfied_values: Sequence[float] = (4, 5),
    scale: Sequence[float] = (1, 2, 3, 4, 5),
) -> tuple[FloatArray, FloatArray]:
    """Turn a (respondents, items) array of answer codes into 0/1 ``satisfied`` and ``answered``.

    ``nan`` marks no answer and "no opinion / not applicable"; such cells count
    in no denominator.  The satisfied codes are 4 and 5 on the 5-point scale
    (3 and 4 on the quick rating's ``scale=(1, 2, 3, 4)``).  A code that is
    not on ``scale`` is an error: it is not an answer, so it must not be
    counted as a dissatisfied one.
    """
    v = as_float_array(values, "values", allow_nan=True)
    codes = as_float_array(scale, "scale")
    sat_codes = as_float_array(satisfied_values, "satisfied_values")
    if not np.all(np.isin(sat_codes, codes)):
        raise ValueError(f"satisfied_values {list(satisfied_values)} must be codes of the scale {list(scale)}")
    answered = ~np.isnan(v)
    off = answered & ~np.isin(np.where(answered, v, codes[0]), codes)
    if np.any(off):
        bad = sorted(set(v[off].tolist()))
        raise ValueError(f"answer codes must be on the scale {list(scale)} (nan for no answer or no opinion); got {bad}")
    satisfied = answered & np.isin(np.where(answered, v, codes[0]), sat_codes)
    return satisfied.astype(np.float64), answered.astype(np.float64)


def _two_d(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    arr = as_float_array(arr, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be (respondents, items)")
    return arr


def _counts_pair(satisfied: ArrayLike, answered: ArrayLike) -> tuple[FloatArray, FloatArray]:
    s = _two_d(satisfied, "satisfied")
    a = _two_d(answered, "answered")
    if s.shape != a.shape:
        raise ValueError(f"satisfied {s.shape} and answered {a.shape} must have the same shape")
    if s.shape[0] == 0:
        raise ValueError("no respondents")
    if np.any(s < 0) or np.any(s > a):
        raise ValueError("need 0 <= satisfied <= answered in every cell")
    return s, a


def _weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, "weights")
    if w.shape != (n,):
        raise ValueError("weights must have one entry per respondent")
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be >= 0 with a positive sum")
    return w


def _binomial_verdict_bounds(p: Any, n: Any) -> tuple[Any, Any]:
    """Verdict bounds of a plain proportion p = k / n (the exact ones; ``nan`` where n is 0)."""
    pp = np.asarray(p, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    defined = np.isfinite(pp) & (nn > 0)
    low, high = verdict_bounds_from_estimate(np.where(defined, pp, 0.5), np.full(pp.shape, np.nan),
                                             n=np.where(defined, nn, 1.0))
    low = np.where(defined, low, np.nan)
    high = np.where(defined, high, np.nan)
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def _linearised_method(method: str) -> str:
    m = _METHOD_ALIASES.get(method, method)
    if m not in _ESTIMATE_METHODS:
        raise ValueError(f"method {method!r} is not available for a linearised index; use one of {_ESTIMATE_METHODS}")
    return m


def _aspect_codes(aspects: Sequence[Hashable] | None, n_columns: int) -> tuple[list[Hashable], np.ndarray]:
    if aspects is None:
        return list(range(n_columns)), np.arange(n_columns)
    try:
        labels = list(aspects)
    except TypeError:
        raise ValueError("aspects must be a sequence with one label per column") from None
    if len(labels) != n_columns:
        raise ValueError(f"aspects must give one label per column ({n_columns}), got {len(labels)}")
    order: list[Hashable] = []
    for label in labels:
        if label not in order:
            order.append(label)
    return order, np.array([order.index(label) for label in labels])


def _coefficients(valid: np.ndarray, codes: np.ndarray, n_aspects: int, kind: str) -> FloatArray:
    """Coefficient matrices ``C[..., k, j]`` of each index k on column ratios j.

    ``valid`` (..., J) marks columns with a positive denominator.  ``kind`` is
    ``"aspects"`` (one row per aspect) or ``"composite"`` (one row).
    """
    onehot = (codes[:, None] == np.arange(n_aspects)[None, :]).astype(np.float64)  # (J, A)
    v = valid.astype(np.float64)
    m = v @ onehot  # valid items per aspect
    with np.errstate(divide="ignore"):
        inv_m = np.where(m > 0, 1.0 / np.where(m > 0, m, 1.0), 0.0)
    per_item = v * (inv_m @ onehot.T)  # 1 / m_a(j) on valid items
    if kind == "aspects":
        return per_item[..., None, :] * onehot.T  # (..., A, J)
    n_valid_aspects = (m > 0).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        comp = np.where(n_valid_aspects > 0, per_item / np.maximum(n_valid_aspects, 1), 0.0)
    return comp[..., None, :]  # (..., 1, J)


def _finish(
    estimate: FloatArray,
    variance: FloatArray,
    variance_naive: FloatArray,
    n: FloatArray,
    df: FloatArray,
    level: float,
    method: str,
    scalar: bool,
) -> IndexEstimate:
    """Attach intervals and derived quantities; ``nan`` estimates stay ``nan`` throughout."""
    est = np.asarray(estimate, dtype=np.float64)
    var = np.asarray(variance, dtype=np.float64)
    defined = np.isfinite(est)
    se = np.sqrt(np.maximum(var, 0.0))
    se_naive = np.sqrt(np.maximum(variance_naive, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(se_naive > 0, np.square(se) / np.square(se_naive), np.nan)
        n_eff = np.where(se > 0, est * (1.0 - est) / np.square(se), np.nan)
    p_safe = np.where(defined, np.clip(est, 0.0, 1.0), 0.5)
    se_safe = np.where(defined & np.isfinite(se), se, np.nan)
    df_safe = np.where(np.asarray(df) >= 1, df, np.inf)
    low, high = interval_from_estimate(p_safe, se_safe, n=n, method=method, level=level, df=df_safe)
    low = np.where(defined, low, np.nan)
    high = np.where(defined, high, np.nan)
    v_low, v_high = verdict_bounds_from_estimate(p_safe, se_safe, n=n, df=df_safe)
    v_low = np.where(defined, v_low, np.nan)
    v_high = np.where(defined, v_high, np.nan)

    def out(a: Any) -> Any:
        arr = np.asarray(a, dtype=np.float64)
        return float(arr.reshape(-1)[0]) if scalar else arr

    return IndexEstimate(
        estimate=out(est),
        se=out(se),
        low=out(low),
        high=out(high),
        n=out(n),
        se_naive=out(se_naive),
        deff=out(deff),
        n_eff=out(n_eff),
        level=level,
        method=method,
        verdict_low=out(v_low),
        verdict_high=out(v_high),
    )


# --------------------------------------------------------------------------
# Respondent-level core
# --------------------------------------------------------------------------


def _drop_unanswered(
    s: FloatArray, a: FloatArray, w: FloatArray, strata: ArrayLike | None, fpc: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray | None, FloatArray | None]:
    """Keep respondents who answered at least one column; the others are not respondents to this index."""
    keep = a.sum(axis=1) > 0
    if not np.any(keep):
        raise ValueError("no respondent answered any item")
    st = None if strata is None else np.asarray(strata)[keep]
    if fpc is not None:
        fpc = as_float_array(fpc, "fpc")
        if fpc.shape != (a.shape[0],):
            raise ValueError("fpc must have one entry per respondent")
        fpc = fpc[keep]
    return s[keep], a[keep], w[keep], st, fpc


def _srs_without_replacement(fpc: FloatArray, strata: ArrayLike | None) -> float:
    """``1 - n/N`` for the whole sample, from ``fpc`` per respondent (see
    ``analysis.survey._stratum_sampling``): what the naive (simple random sampling) variance
    is multiplied by when the design has a finite population correction, so that the design
    effect compares like with like (R's ``deff=TRUE``)."""
    codes = np.zeros(fpc.size, dtype=np.intp) if strata is None else np.unique(
        np.asarray(strata), return_inverse=True)[1].ravel()
    _, population = _stratum_sampling(fpc, codes, np.bincount(codes).astype(np.float64))
    return 1.0 - fpc.size / population.sum()


def _lincomb_respondent(
    num: FloatArray,
    den: FloatArray,
    coef_fn: Any,
    w: FloatArray,
    strata: ArrayLike | None,
    lonely_psu: str,
    fpc: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    """Estimates, linearised variances, naive variances and df for each row of C."""
    S = w @ num
    N = w @ den
    valid = N > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(valid, S / np.where(valid, N, 1.0), 0.0)
        inv_N = np.where(valid, 1.0 / np.where(valid, N, 1.0), 0.0)
    C = coef_fn(valid)  # (K, J)
    defined = C.sum(axis=1) > 0
    estimate = np.where(defined, C @ R, np.nan)
    U = ((num - R * den) * inv_N) @ C.T  # (n, K)
    Z = w[:, None] * U
    variance = np.empty(C.shape[0])
    df = 0
    for k in range(C.shape[0]):
        dv = design_variance(Z[:, k], strata=strata, fpc=fpc, lonely_psu=lonely_psu)
        variance[k] = dv.variance
        df = dv.df
    answers_w2 = np.square(w) @ den
    variance_naive = (np.square(C) * (R * (1.0 - R) * answers_w2 * np.square(inv_N))).sum(axis=1)
    if fpc is not None:
        variance_naive = variance_naive * _srs_without_replacement(fpc, strata)
    # One respondent is one cluster: nothing to estimate a variance from (not 0, which the
    # lonely-PSU centring at the grand mean would give).
    variance = np.where(defined & (num.shape[0] > 1), variance, np.nan)
    return estimate, variance, variance_naive, df


# --------------------------------------------------------------------------
# Respondent-level public functions
# --------------------------------------------------------------------------


def item_shares(
    satisfied: ArrayLike,
    answered: ArrayLike,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Share satisfied among those who answered, per column (arrays over items).

    Unweighted 0/1 answers are binomial, so any :func:`proportion_ci` method
    applies; otherwise (weights, strata or count columns) the share is a
    ratio linearised over respondents.
    """
    level = check_level(level)
    s, a = _counts_pair(satisfied, answered)
    binary = np.all((a == 0) | (a == 1))
    if weights is None and strata is None and fpc is None and binary:
        if method not in PROPORTION_METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {PROPORTION_METHODS}")
        k = s.sum(axis=0)
        n = a.sum(axis=0)
        low, high = proportion_ci(k, n, method=method, level=level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
            se = np.sqrt(p * (1.0 - p) / n)
            n_eff = np.where(se > 0, n, np.nan)
        v_low, v_high = _binomial_verdict_bounds(p, n)
        return IndexEstimate(p, se, np.asarray(low), np.asarray(high), n, se, np.ones_like(p), n_eff, level, method,
                             v_low, v_high)
    m = _linearised_method(method)
    w = _weights(weights, s.shape[0])
    s, a, w, strata, fpc = _drop_unanswered(s, a, w, strata, fpc)
    J = s.shape[1]
    est, var, var_naive, df = _lincomb_respondent(s, a, lambda valid: np.eye(J) * valid, w, strata, "adjust", fpc)
    n = (a > 0).sum(axis=0).astype(np.float64)
    return _finish(est, var, var_naive, n, np.full(J, df), level, m, scalar=False)


def aspect_indices(
    satisfied: ArrayLike,
    answered: ArrayLike,
    aspects: Sequence[Hashable] | None = None,
    *,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    lonely_psu: str = "adjust",
    fpc: ArrayLike | None = None,
) -> dict[Hashable, IndexEstimate]:
    """Each aspect index (mean of its item shares), keyed by aspect label in first-seen order."""
    level = check_level(level)
    m = _linearised_method(method)
    s, a = _counts_pair(satisfied, answered)
    labels, codes = _aspect_codes(aspects, s.shape[1])
    w = _weights(weights, s.shape[0])
    s, a, w, strata, fpc = _drop_unanswered(s, a, w, strata, fpc)
    est, var, var_naive, df = _lincomb_respondent(
        s, a, lambda valid: _coefficients(valid, codes, len(labels), "aspects"), w, strata, lonely_psu, fpc
    )
    # n counts the index's respondents (as in the moments form), not those answering each aspect.
    n = np.full(len(labels), float(s.shape[0]))
    res = _finish(est, var, var_naive, n, np.full(len(labels), df), level, m, scalar=False)
    return {
        label: IndexEstimate(
            float(res.estimate[i]),
            float(res.se[i]),
            float(res.low[i]),
            float(res.high[i]),
            float(res.n[i]),
            float(res.se_naive[i]),
            float(res.deff[i]),
            float(res.n_eff[i]),
            level,
            m,
            float(res.verdict_low[i]),
            float(res.verdict_high[i]),
        )
        for i, label in enumerate(labels)
    }


def composite_index(
    satisfied: ArrayLike,
    answered: ArrayLike,
    aspects: Sequence[Hashable] | None = None,
    *,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    lonely_psu: str = "adjust",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Composite (SIPAS) index: the mean over aspects of the mean of their item shares.

    ``satisfied`` and ``answered`` are (respondents, columns) counts.  With
    ``aspects`` (one label per column) each column is an item and the exact
    definition applies.  Without it each column is its own aspect, and that
    aspect's index is the ratio ``sum_i s_ia / sum_i a_ia`` of per-aspect
    counts, which equals the mean of its item shares only when every
    respondent answers every item of the aspect.  ``weights`` are per-response
    weights (e.g. :func:`analysis.survey.unit_volume_weights`) and ``strata``
    the units they come from.  The interval applies ``method``
    (:func:`interval_from_estimate`) to the linearised SE with ``n`` =
    respondents and ``df`` = respondents - strata.  ``fpc`` (one per respondent) is its stratum's
    population, e.g. the dossiers the unit handled, or its sampling fraction when every value is
    <= 1, as in :func:`analysis.survey.design_variance`: each stratum's variance is multiplied by
    ``1 - n_h/N_h``, and the naive variance by ``1 - n/N``.
    """
    level = check_level(level)
    m = _linearised_method(method)
    s, a = _counts_pair(satisfied, answered)
    labels, codes = _aspect_codes(aspects, s.shape[1])
    w = _weights(weights, s.shape[0])
    s, a, w, strata, fpc = _drop_unanswered(s, a, w, strata, fpc)
    est, var, var_naive, df = _lincomb_respondent(
        s, a, lambda valid: _coefficients(valid, codes, len(labels), "composite"), w, strata, lonely_psu, fpc
    )
    n = np.array([float(s.shape[0])])
    return _finish(est, var, var_naive, n, np.array([df]), level, m, scalar=True)


def overall_rate(
    satisfied: ArrayLike,
    answered: ArrayLike,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    lonely_psu: str = "adjust",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Health's overall satisfaction rate: satisfied answers / answered items, pooled over respondents.

    Accepts (respondents, items) arrays or per-respondent totals (1-D).
    """
    level = check_level(level)
    m = _linearised_method(method)
    s, a = _counts_pair(satisfied, answered)
    w = _weights(weights, s.shape[0])
    s, a, w, strata, fpc = _drop_unanswered(s, a, w, strata, fpc)
    s1 = s.sum(axis=1, keepdims=True)
    a1 = a.sum(axis=1, keepdims=True)
    est, var, var_naive, df = _lincomb_respondent(s1, a1, lambda valid: np.ones((1, 1)) * valid, w, strata, lonely_psu,
                                                  fpc)
    n = np.array([float(s.shape[0])])
    return _finish(est, var, var_naive, n, np.array([df]), level, m, scalar=True)


def comprehensive_satisfaction(
    satisfied: ArrayLike,
    answered: ArrayLike,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Share of respondents all of whose answered items were satisfied (among those answering any).

    Unweighted it is a plain binomial proportion of respondents (any
    :func:`proportion_ci` method); with weights or strata it is linearised.
    """
    level = check_level(level)
    s, a = _counts_pair(satisfied, answered)
    answered_any = a.sum(axis=1) > 0
    all_satisfied = answered_any & (s.sum(axis=1) == a.sum(axis=1))
    if weights is None and strata is None and fpc is None:
        k = float(all_satisfied.sum())
        n = float(answered_any.sum())
        if method not in PROPORTION_METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {PROPORTION_METHODS}")
        low, high = proportion_ci(k, n, method=method, level=level)
        p = k / n if n > 0 else float("nan")
        se = float(np.sqrt(p * (1.0 - p) / n)) if n > 0 else float("nan")
        v_low, v_high = _binomial_verdict_bounds(p, n)
        return IndexEstimate(p, se, low, high, n, se, 1.0, n if se > 0 else float("nan"), level, method, v_low, v_high)
    return overall_rate(
        all_satisfied.astype(np.float64), answered_any.astype(np.float64), weights, strata, level, method, fpc=fpc
    )


def to_0_100(mean: ArrayLike, scale_points: int = 5) -> Any:
    """Map a mean on the 1..k scale to 0-100: ``(mean - 1) / (k - 1) * 100``."""
    if scale_points < 2:
        raise ValueError("scale_points must be at least 2")
    out = (np.asarray(mean, dtype=np.float64) - 1.0) / (scale_points - 1.0) * 100.0
    return float(out) if out.ndim == 0 else out


def _mean_score_result(
    mean: FloatArray, var: FloatArray, n: FloatArray, n_answers: FloatArray, df: Any, k: int, level: float, scalar: bool
) -> MeanScore:
    se = np.sqrt(np.maximum(var, 0.0))
    crit = t_quantile(level, df)
    low, high = mean - crit * se, mean + crit * se
    factor = 100.0 / (k - 1.0)

    def out(x: Any) -> Any:
        arr = np.asarray(x, dtype=np.float64)
        return float(arr.reshape(-1)[0]) if scalar else arr

    return MeanScore(
        mean=out(mean),
        se=out(se),
        low=out(low),
        high=out(high),
        score_100=out((mean - 1.0) * factor),
        se_100=out(se * factor),
        low_100=out((low - 1.0) * factor),
        high_100=out((high - 1.0) * factor),
        n=out(n),
        n_answers=out(n_answers),
        scale_points=k,
        level=level,
    )


def mean_score(
    values: ArrayLike,
    scale_points: int = 5,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    level: float = 0.95,
    fpc: ArrayLike | None = None,
) -> MeanScore:
    """Mean of the answered values (``nan`` = unanswered), pooled over items, respondent-clustered.

    The interval is ``mean ± t_df * se`` with df = respondents - strata.
    """
    level = check_level(level)
    v = as_float_array(values, "values", allow_nan=True)
    if v.ndim == 1:
        v = v[:, None]
    answered = ~np.isnan(v)
    if np.any((v[answered] < 1) | (v[answered] > scale_points)):
        raise ValueError(f"values must lie in 1..{scale_points} (nan for no answer)")
    num = np.where(answered, v, 0.0).sum(axis=1, keepdims=True)
    den = answered.sum(axis=1, keepdims=True).astype(np.float64)
    w = _weights(weights, v.shape[0])
    num, den, w, strata, fpc = _drop_unanswered(num, den, w, strata, fpc)
    est, var, _, df = _lincomb_respondent(num, den, lambda valid: np.ones((1, 1)) * valid, w, strata, "adjust", fpc)
    n = float(np.count_nonzero(den > 0))
    df_t = df if df > 0 else None
    return _mean_score_result(est, var, np.array([n]), np.array([den.sum()]), df_t, scale_points, level, True)


def quick_rating_index(counts: ArrayLike, level: float = 0.95, method: str = "wilson") -> IndexEstimate:
    """Share of satisfied taps from tap counts ``[c1, c2, c3, c4]`` (last axis; values 3 and 4 satisfied).

    Taps are anonymous, so they are treated as independent (binomial).
    Accepts (..., 4) arrays for many counters at once.
    """
    level = check_level(level)
    c = as_float_array(counts, "counts")
    if c.shape[-1:] != (4,):
        raise ValueError("counts must have the 4 answer values (1..4) on the last axis")
    if np.any(c < 0):
        raise ValueError("counts must be >= 0")
    k = c[..., 2] + c[..., 3]
    n = c.sum(axis=-1)
    low, high = proportion_ci(k, n, method=method, level=level)
    scalar = c.ndim == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        se = np.sqrt(p * (1.0 - p) / n)
    v_low, v_high = _binomial_verdict_bounds(p, n)
    if scalar:
        return IndexEstimate(float(p), float(se), low, high, float(n), float(se), 1.0, float(n), level, method,
                             float(v_low), float(v_high))
    return IndexEstimate(p, se, low, high, n, se, np.ones_like(p), n, level, method, v_low, v_high)


def circular01_levels(counts: ArrayLike) -> dict[str, Any]:
    """Circular 01/2018/TT-VPCP's three levels from quick-rating counts ``[c1, c2, c3, c4]``.

    ``very_satisfied`` = value 4, ``satisfied`` = value 3, ``dissatisfied`` = values 2 and 1.
    """
    c = as_float_array(counts, "counts")
    if c.shape[-1:] != (4,):
        raise ValueError("counts must have the 4 answer values (1..4) on the last axis")
    res = {"very_satisfied": c[..., 3], "satisfied": c[..., 2], "dissatisfied": c[..., 0] + c[..., 1]}
    if c.ndim == 1:
        return {key: float(val) for key, val in res.items()}
    return res


# --------------------------------------------------------------------------
# Moments form: per-group sums from SQL
# --------------------------------------------------------------------------


def cross_product_pairs(p: int) -> list[tuple[int, int]]:
    """The (j, k), j <= k, column pairs whose ``SUM(x_j * x_k)`` the packed cross-product form lists, in order."""
    return [(j, k) for j in range(p) for k in range(j, p)]


def unpack_cross_products(packed: ArrayLike, p: int) -> FloatArray:
    """Symmetric (G, p, p) matrices from (G, p(p+1)/2) sums ordered as :func:`cross_product_pairs`."""
    arr = as_float_array(packed, "packed")
    if arr.shape[-1] != p * (p + 1) // 2:
        raise ValueError(f"packed cross products need {p * (p + 1) // 2} columns for p = {p}")
    out = np.zeros(arr.shape[:-1] + (p, p))
    rows, cols = np.triu_indices(p)
    out[..., rows, cols] = arr
    out[..., cols, rows] = arr
    return out


def group_moments(x: ArrayLike, groups: ArrayLike) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """Per-group respondent counts, sums and cross products of the rows of ``x`` (respondents, p).

    Returns ``(labels, n, sums, cross)``: what the SQL ``GROUP BY`` produces.
    """
    xx = as_float_array(x, "x")
    if xx.ndim != 2:
        raise ValueError("x must be (respondents, p)")
    labels, code = np.unique(np.asarray(groups), return_inverse=True)
    code = code.ravel()
    G, p = labels.size, xx.shape[1]
    n = np.bincount(code, minlength=G).astype(np.float64)
    sums = np.stack([np.bincount(code, weights=xx[:, j], minlength=G) for j in range(p)], axis=1)
    cross = np.empty((G, p, p))
    for j in range(p):
        for k in range(j, p):
            col = np.bincount(code, weights=xx[:, j] * xx[:, k], minlength=G)
            cross[:, j, k] = col
            cross[:, k, j] = col
    return labels, n, sums, cross


def _moments_input(
    n: ArrayLike, sums: ArrayLike, cross: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, bool]:
    """Validate and reshape to n (G,), T (G, p), M (G, p, p); a scalar ``n`` means one group."""
    nn = as_float_array(n, "n")
    T = as_float_array(sums, "sums")
    M = as_float_array(cross, "cross")
    scalar = nn.ndim == 0
    if scalar:
        nn, T, M = nn[None], T[None, ...], M[None, ...]
    if nn.ndim != 1 or T.ndim != 2 or T.shape[0] != nn.size:
        raise ValueError("n must be (G,) and sums (G, p)")
    G, p = T.shape
    if p % 2:
        raise ValueError("sums must hold the satisfied columns then the answered columns (an even number)")
    if M.shape == (G, p * (p + 1) // 2):
        M = unpack_cross_products(M, p)
    if M.shape != (G, p, p):
        raise ValueError(f"cross must be (G, {p}, {p}) or packed (G, {p * (p + 1) // 2}); got {M.shape}")
    if np.any(nn < 0):
        raise ValueError("n must be >= 0")
    J = p // 2
    if np.any(T[:, :J] > T[:, J:]) or np.any(T < 0):
        raise ValueError("need 0 <= SUM(satisfied) <= SUM(answered) in every column")
    return nn, T, M, scalar


def _lincomb_moments(
    n: FloatArray,
    T: FloatArray,
    M: FloatArray,
    coef_fn: Any,
    weights: ArrayLike | None,
    org: ArrayLike | None,
    fpc: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, np.ndarray | None]:
    """Estimates, variances, naive variances, respondents and df, per group or per organisation.

    ``fpc`` per group is its population (or, when every value is <= 1, its sampling fraction):
    a group is a stratum, so its variance is multiplied by ``1 - n_g/N_g`` (as
    :func:`analysis.survey.design_variance` does per stratum), and the naive variance by
    ``1 - n/N`` over the groups combined."""
    G, p = T.shape
    J = p // 2
    w = np.ones(G) if weights is None else as_float_array(weights, "weights")
    if w.shape != (G,) or np.any(w < 0):
        raise ValueError("weights must be >= 0, one per group")
    if org is None:
        code = np.arange(G)
        labels = None
        O = G
    else:
        labels, code = np.unique(np.asarray(org), return_inverse=True)
        code = code.ravel()
        if code.size != G:
            raise ValueError("org must have one label per group")
        O = labels.size
    wT = w[:, None] * T
    St = np.zeros((O, J))
    Nt = np.zeros((O, J))
    np.add.at(St, code, wT[:, :J])
    np.add.at(Nt, code, wT[:, J:])
    valid = Nt > 0
    safe_N = np.where(valid, Nt, 1.0)
    R = np.where(valid, St / safe_N, 0.0)
    inv_N = np.where(valid, 1.0 / safe_N, 0.0)
    C = coef_fn(valid)  # (O, K, J)
    defined = C.sum(axis=2) > 0
    estimate = np.where(defined, np.einsum("okj,oj->ok", C, R), np.nan)
    b = np.concatenate([C * inv_N[:, None, :], -C * (R * inv_N)[:, None, :]], axis=2)  # (O, K, p)
    bg = b[code] * w[:, None, None]  # each group's influence coefficients
    quad = (np.matmul(bg, M) * bg).sum(axis=-1)
    lin = np.einsum("gkp,gp->gk", bg, T)
    # b'Mb - (b'T)^2/n cancels to ~0 when every respondent's influence is 0 (e.g. all
    # satisfied); differences below rounding of the terms' size are set to 0.  The size is
    # bounded by (sum_j |b_j| sqrt(M_jj))^2, since |M_jk| <= sqrt(M_jj M_kk).
    root_diag = np.sqrt(np.maximum(np.einsum("gpp->gp", M), 0.0))
    scale = np.square(np.einsum("gkp,gp->gk", np.abs(bg), root_diag))
    ng = n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = quad - np.square(lin) / np.where(ng > 0, ng, 1.0)
        centred = np.where(centred <= 64.0 * np.finfo(float).eps * scale, 0.0, centred)
        contrib = np.where(ng > 1, ng / (ng - 1.0) * centred, np.nan)
    if org is not None:
        # A unit with one respondent is a lonely PSU: centre it at the grand mean of z, which is 0
        # because sum_i z_i = b . (organisation totals) = 0 (R's survey.lonely.psu = "adjust").
        contrib = np.where(ng == 1, quad, contrib)
        contrib = np.where(ng == 0, 0.0, contrib)
    population = None
    if fpc is not None:
        f = np.atleast_1d(as_float_array(fpc, "fpc"))
        if f.shape != (G,):
            raise ValueError("fpc must have one entry per group")
        # Each group is a stratum whose respondents are its PSUs.
        fraction, population = _stratum_sampling(f, np.arange(G), n)
        contrib = contrib * (1.0 - fraction)[:, None]
    variance = np.zeros(estimate.shape)
    np.add.at(variance, code, contrib)
    answers_w2 = np.zeros((O, J))
    np.add.at(answers_w2, code, np.square(w)[:, None] * T[:, J:])
    naive = (np.square(C) * (R * (1.0 - R) * answers_w2 * np.square(inv_N))[:, None, :]).sum(axis=2)
    resp = np.zeros(O)
    np.add.at(resp, code, n)
    if population is not None:
        total = np.zeros(O)
        np.add.at(total, code, population)
        naive = naive * (1.0 - resp / total)[:, None]
    units = np.bincount(code, weights=(n > 0).astype(np.float64), minlength=O)
    df = resp - np.maximum(units, 1.0)
    # As in the respondent-level form: one respondent in all gives no variance estimate.
    variance = np.where(defined & (resp[:, None] > 1), variance, np.nan)
    return estimate, variance, naive, resp, df, labels


def composite_from_moments(
    n: ArrayLike,
    sums: ArrayLike,
    cross: ArrayLike,
    aspects: Sequence[Hashable] | None = None,
    *,
    weights: ArrayLike | None = None,
    org: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Composite index and linearised interval from per-group sums, vectorised over G groups.

    Per group g (e.g. service point x month), over its respondents i, with
    ``x_i = [s_i1..s_iJ, a_i1..a_iJ]`` (satisfied then answered counts in
    the J columns, as in :func:`composite_index`):

    * ``n``: (G,) number of respondents;
    * ``sums``: (G, 2J) ``SUM(x_ij)``;
    * ``cross``: (G, 2J, 2J) ``SUM(x_ij * x_ik)``, or packed (G, J(2J+1))
      in :func:`cross_product_pairs` order.

    Same estimate and SE as :func:`composite_index` on the respondents.  With
    ``org`` (a label per group) groups are combined into organisations,
    weighting every response of group g by ``weights[g]`` (its unit's volume
    / responses) with groups as strata; results then follow
    ``numpy.unique(org)`` order.  ``fpc`` (G,) is each group's population, e.g. the dossiers
    its unit handled in the period, or its sampling fraction when every value is <= 1: the same
    estimate as :func:`composite_index` with ``strata`` = group and ``fpc`` = the group's value.
    """
    level = check_level(level)
    m = _linearised_method(method)
    nn, T, M, scalar = _moments_input(n, sums, cross)
    labels, codes = _aspect_codes(aspects, T.shape[1] // 2)
    est, var, naive, resp, df, _ = _lincomb_moments(
        nn, T, M, lambda valid: _coefficients(valid, codes, len(labels), "composite"), weights, org, fpc
    )
    return _finish(est[:, 0], var[:, 0], naive[:, 0], resp, df, level, m, scalar=scalar and org is None)


def aspect_indices_from_moments(
    n: ArrayLike,
    sums: ArrayLike,
    cross: ArrayLike,
    aspects: Sequence[Hashable] | None = None,
    *,
    weights: ArrayLike | None = None,
    org: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """Aspect indices from the same sums as :func:`composite_from_moments`; fields are (G, A) arrays.

    Aspects are in first-seen order of ``aspects``.  ``n`` is the group's
    respondents (not only those answering the aspect).
    """
    level = check_level(level)
    m = _linearised_method(method)
    nn, T, M, _ = _moments_input(n, sums, cross)
    labels, codes = _aspect_codes(aspects, T.shape[1] // 2)
    est, var, naive, resp, df, _ = _lincomb_moments(
        nn, T, M, lambda valid: _coefficients(valid, codes, len(labels), "aspects"), weights, org, fpc
    )
    A = len(labels)
    return _finish(est, var, naive, np.repeat(resp[:, None], A, 1), np.repeat(df[:, None], A, 1), level, m, False)


def ratio_from_moments(
    n: ArrayLike,
    sum_num: ArrayLike,
    sum_den: ArrayLike,
    sum_num2: ArrayLike,
    sum_den2: ArrayLike,
    sum_num_den: ArrayLike,
    weights: ArrayLike | None = None,
    org: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
    fpc: ArrayLike | None = None,
) -> IndexEstimate:
    """A respondent-clustered ratio ``SUM(y) / SUM(x)`` from per-group sums (vectorised).

    For the health overall rate, per respondent ``y`` = satisfied answers and
    ``x`` = answered items; the sums are ``SUM(y)``, ``SUM(x)``, ``SUM(y*y)``,
    ``SUM(x*x)``, ``SUM(y*x)`` over the group's respondents.
    """
    level = check_level(level)
    mth = _linearised_method(method)
    nn = np.atleast_1d(as_float_array(n, "n"))
    cols = [np.atleast_1d(as_float_array(v, name)) for v, name in (
        (sum_num, "sum_num"), (sum_den, "sum_den"), (sum_num2, "sum_num2"), (sum_den2, "sum_den2"),
        (sum_num_den, "sum_num_den"))]
    T = np.stack([cols[0], cols[1]], axis=1)
    M = np.stack([np.stack([cols[2], cols[4]], axis=1), np.stack([cols[4], cols[3]], axis=1)], axis=1)
    scalar = np.ndim(n) == 0 and org is None
    est, var, naive, resp, df, _ = _lincomb_moments(nn, T, M, lambda valid: valid[:, None, :] * 1.0, weights, org,
                                                    fpc)
    return _finish(est[:, 0], var[:, 0], naive[:, 0], resp, df, level, mth, scalar=scalar)


def mean_score_from_moments(
    n: ArrayLike,
    sum_values: ArrayLike,
    sum_answered: ArrayLike,
    sum_values2: ArrayLike,
    sum_answered2: ArrayLike,
    sum_values_answered: ArrayLike,
    scale_points: int = 5,
    weights: ArrayLike | None = None,
    org: ArrayLike | None = None,
    level: float = 0.95,
    fpc: ArrayLike | None = None,
) -> MeanScore:
    """Mean score from per-group sums over respondents of ``v`` (sum of the respondent's values)
    and ``m`` (number answered): ``SUM(v), SUM(m), SUM(v*v), SUM(m*m), SUM(v*m)``."""
    level = check_level(level)
    nn = np.atleast_1d(as_float_array(n, "n"))
    cols = [np.atleast_1d(as_float_array(v, "sums")) for v in (
        sum_values, sum_answered, sum_values2, sum_answered2, sum_values_answered)]
    T = np.stack([cols[0], cols[1]], axis=1)
    M = np.stack([np.stack([cols[2], cols[4]], axis=1), np.stack([cols[4], cols[3]], axis=1)], axis=1)
    est, var, _, resp, df, _ = _lincomb_moments(nn, T, M, lambda valid: valid[:, None, :] * 1.0, weights, org, fpc)
    scalar = np.ndim(n) == 0 and org is None
    df_t = np.where(df >= 1, df, np.inf)
    answers = np.zeros_like(resp)
    if org is None:
        answers = cols[1] * 1.0
    else:
        code = np.unique(np.asarray(org), return_inverse=True)[1].ravel()
        np.add.at(answers, code, cols[1])
    return _mean_score_result(est[:, 0], var[:, 0], resp, answers, df_t, scale_points, level, scalar)
