"""Design-based (weighted, stratified, clustered) estimation by linearisation.

The variance estimator is the usual with-replacement-of-PSUs formula with a
finite population correction per stratum, as in R's ``survey`` package:

    V = sum_h (1 - f_h) * n_h / (n_h - 1) * sum_c (z_hc - zbar_h)**2

where ``z_hc`` is the total over PSU ``c`` of stratum ``h`` of the
linearised values ``z_i`` (for a weighted mean, ``z_i = w_i (y_i - ybar) /
sum(w)``), ``n_h`` the number of sampled PSUs and ``f_h = n_h / N_h``.
Degrees of freedom are PSUs minus strata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_float_array, check_level, t_quantile
from .intervals import interval_from_estimate

__all__ = [
    "SurveyEstimate",
    "SurveyProportion",
    "CombinedEstimate",
    "DesignVariance",
    "design_variance",
    "survey_mean",
    "survey_proportion",
    "combine_units",
    "unit_volume_weights",
    "kish_effective_n",
]

_LONELY_PSU = ("fail", "certainty", "adjust")


@dataclass(frozen=True)
class DesignVariance:
    """Variance of a total of linearised values, with its design bookkeeping."""

    variance: float
    df: int
    n_psu: int
    n_strata: int


@dataclass(frozen=True)
class SurveyEstimate:
    """A design-based mean.

    ``deff`` is the design variance over the variance of the same estimator
    under simple random sampling of the same number of observations (see
    :func:`survey_mean`); ``n_eff`` is Kish's ``(sum w)**2 / sum w**2``.
    """

    estimate: float
    se: float
    df: int
    deff: float
    n_eff: float
    n: int
    n_psu: int
    n_strata: int

    def confint(self, level: float = 0.95) -> tuple[float, float]:
        """Wald interval with a t critical value on ``df`` (R's ``confint(svymean, df=degf)``)."""
        crit = t_quantile(check_level(level), self.df if self.df > 0 else None)
        return self.estimate - crit * self.se, self.estimate + crit * self.se


@dataclass(frozen=True)
class SurveyProportion(SurveyEstimate):
    """A design-based proportion with its interval (``method`` as in :func:`survey_proportion`)."""

    low: float
    high: float
    level: float
    method: str


@dataclass(frozen=True)
class CombinedEstimate:
    """An organisation's index combined from independent units (see :func:`combine_units`)."""

    estimate: float
    se: float
    low: float
    high: float
    weights: FloatArray
    weighting: str  # "volume" or "responses" (the fallback)
    units_without_volume: int


# --------------------------------------------------------------------------
# The variance engine
# --------------------------------------------------------------------------


def _codes(labels: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if labels is None:
        return np.zeros(n, dtype=np.intp)
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per observation ({n}), got shape {arr.shape}")
    return np.unique(arr, return_inverse=True)[1].astype(np.intp).ravel()


def _stratum_sampling(fpc: ArrayLike, s_code: np.ndarray, n_h: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(sampling fraction, population) per stratum, from ``fpc`` per observation: the stratum's
    population number of PSUs, or its sampling fraction when every value is <= 1 (as R reads it).
    ``s_code`` is each observation's stratum (0..H-1), ``n_h`` the sampled PSUs per stratum."""
    f_obs = as_float_array(fpc, "fpc")
    if f_obs.shape != s_code.shape:
        raise ValueError("fpc must have one entry per observation")
    if np.any(f_obs <= 0):
        raise ValueError("fpc must be positive")
    per_stratum = np.zeros(n_h.size)
    per_stratum[s_code] = f_obs
    if np.any(per_stratum[s_code] != f_obs):
        raise ValueError("fpc must be constant within each stratum")
    if np.all(f_obs <= 1.0):
        return per_stratum, n_h / per_stratum
    if np.any(per_stratum < n_h):
        raise ValueError("fpc (population PSUs) is smaller than the number of sampled PSUs in a stratum")
    return n_h / per_stratum, per_stratum


def design_variance(
    z: ArrayLike,
    strata: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
    fpc: ArrayLike | None = None,
    lonely_psu: str = "fail",
) -> DesignVariance:
    """Variance of ``sum(z)`` under a stratified (cluster) design, by the formula in the module docstring.

    ``clusters`` are PSU labels; the same label in two strata means two PSUs
    (R's ``nest=TRUE``).  Without ``clusters`` each observation is a PSU.
    ``fpc`` per observation is the stratum's population number of PSUs
    ``N_h`` (values all <= 1 are read as sampling fractions, as R does).
    ``lonely_psu`` handles strata with one PSU: ``"fail"`` raises (R's
    default), ``"certainty"`` lets them contribute nothing, ``"adjust"``
    centres them at the grand mean of PSU totals.
    """
    zz = as_float_array(z, "z")
    if zz.ndim != 1:
        raise ValueError("z must be one-dimensional")
    if lonely_psu not in _LONELY_PSU:
        raise ValueError(f"lonely_psu must be one of {_LONELY_PSU}")
    n = zz.size
    if n == 0:
        raise ValueError("no observations")
    s_code = _codes(strata, n, "strata")
    if clusters is None:
        psu_code = np.arange(n, dtype=np.intp)
    else:
        c_code = _codes(clusters, n, "clusters")
        psu_code = np.unique(s_code * (c_code.max() + 1) + c_code, return_inverse=True)[1].ravel()
    n_psu = int(psu_code.max()) + 1
    psu_total = np.bincount(psu_code, weights=zz, minlength=n_psu)
    psu_stratum = np.empty(n_psu, dtype=np.intp)
    psu_stratum[psu_code] = s_code
    n_strata = int(s_code.max()) + 1
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
    mean_h = np.bincount(psu_stratum, weights=psu_total, minlength=n_strata) / n_h
    ss_h = np.bincount(psu_stratum, weights=np.square(psu_total - mean_h[psu_stratum]), minlength=n_strata)

    one_minus_f = np.ones(n_strata)
    if fpc is not None:
        one_minus_f = 1.0 - _stratum_sampling(fpc, s_code, n_h)[0]

    lonely = n_h < 2
    with np.errstate(divide="ignore", invalid="ignore"):
        var_h = one_minus_f * n_h / (n_h - 1.0) * ss_h
    if np.any(lonely):
        if lonely_psu == "fail":
            raise ValueError(
                f"{int(lonely.sum())} stratum/strata with a single PSU: variance cannot be estimated "
                "(use lonely_psu='certainty' or 'adjust')"
            )
        if lonely_psu == "certainty":
            var_h = np.where(lonely, 0.0, var_h)
        else:
            grand = psu_total.sum() / n_psu
            lonely_ss = np.bincount(psu_stratum, weights=np.square(psu_total - grand), minlength=n_strata)
            var_h = np.where(lonely, one_minus_f * lonely_ss, var_h)
    return DesignVariance(float(var_h.sum()), n_psu - n_strata, n_psu, n_strata)


def kish_effective_n(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum(w**2)``."""
    w = as_float_array(weights, "weights")
    return float(w.sum() ** 2 / np.square(w).sum())


# --------------------------------------------------------------------------
# Means and proportions
# --------------------------------------------------------------------------


def _prepare(y: ArrayLike, weights: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    yy = as_float_array(y, "y")
    if yy.ndim != 1 or yy.size == 0:
        raise ValueError("y must be a non-empty one-dimensional array")
    if weights is None:
        w = np.ones_like(yy)
    else:
        w = as_float_array(weights, "weights")
        if w.shape != yy.shape:
            raise ValueError("weights must have the same shape as y")
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError("weights must be >= 0 with a positive sum")
    return yy, w


def survey_mean(
    y: ArrayLike,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
    fpc: ArrayLike | None = None,
    lonely_psu: str = "fail",
) -> SurveyEstimate:
    """Weighted mean ``sum(w y) / sum(w)`` with its linearised design SE (R ``svymean``).

    ``deff``: design variance / SRS variance, where the SRS variance is
    ``s_w**2 / n`` with the weighted ``s_w**2 = n/(n-1) * sum w (y-ybar)**2 / sum w``,
    multiplied by ``1 - n / sum(w)`` when ``fpc`` is given (SRS without
    replacement from a population of size ``sum(w)``, like R's
    ``deff=TRUE``); without ``fpc`` it is R's ``deff="replace"``.
    """
    yy, w = _prepare(y, weights)
    total_w = w.sum()
    mean = float((w * yy).sum() / total_w)
    z = w * (yy - mean) / total_w
    dv = design_variance(z, strata, clusters, fpc, lonely_psu)
    n = int(np.count_nonzero(w))
    if n > 1:
        s2 = n / (n - 1.0) * float((w * np.square(yy - mean)).sum() / total_w)
        v_srs = s2 / n
        if fpc is not None:
            v_srs *= max(1.0 - n / total_w, 0.0)
        deff = dv.variance / v_srs if v_srs > 0 else float("nan")
    else:
        deff = float("nan")
    return SurveyEstimate(
        estimate=mean,
        se=float(np.sqrt(dv.variance)),
        df=dv.df,
        deff=float(deff),
        n_eff=kish_effective_n(w),
        n=n,
        n_psu=dv.n_psu,
        n_strata=dv.n_strata,
    )


def survey_proportion(
    y: ArrayLike,
    weights: ArrayLike | None = None,
    strata: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
    fpc: ArrayLike | None = None,
    method: str = "beta",
    level: float = 0.95,
    lonely_psu: str = "fail",
) -> SurveyProportion:
    """Design-based proportion of a 0/1 (or boolean) ``y`` with an interval, as R ``svyciprop``.

    ``method``: ``beta`` (Korn-Graubard, R's ``method="beta"``), ``logit``
    (R's ``"logit"``: Wald on the log-odds with t on df), ``wilson`` (Wilson on
    the effective sample size) or ``mean`` (t on the SE, R's ``"mean"``).
    The SE is the same linearised SE as :func:`survey_mean` of the 0/1 variable.
    """
    level = check_level(level)
    yy = np.asarray(y)
    if yy.dtype == bool:
        yy = yy.astype(np.float64)
    yy = as_float_array(yy, "y")
    if np.any((yy != 0) & (yy != 1)):
        raise ValueError("y must be 0/1 (or boolean) for a proportion")
    est = survey_mean(yy, weights, strata, clusters, fpc, lonely_psu)
    df = est.df if est.df > 0 else None
    low, high = interval_from_estimate(est.estimate, est.se, n=est.n, method=method, level=level, df=df)
    return SurveyProportion(
        estimate=est.estimate,
        se=est.se,
        df=est.df,
        deff=est.deff,
        n_eff=est.n_eff,
        n=est.n,
        n_psu=est.n_psu,
        n_strata=est.n_strata,
        low=float(low),
        high=float(high),
        level=level,
        method=method,
    )


# --------------------------------------------------------------------------
# Combining units into an organisation
# --------------------------------------------------------------------------


def unit_volume_weights(unit: ArrayLike, volumes: dict[Any, float] | ArrayLike) -> FloatArray:
    """Per-response weights: the unit's volume of service divided by the unit's number of responses.

    ``unit`` gives each response's unit label; ``volumes`` maps each label to
    its volume (a dict, or an array indexed by integer labels).
    """
    u = np.asarray(unit)
    labels, inverse, counts = np.unique(u, return_inverse=True, return_counts=True)
    if isinstance(volumes, dict):
        try:
            vol = np.array([float(volumes[label]) for label in labels.tolist()])
        except KeyError as exc:
            raise ValueError(f"no volume for unit {exc.args[0]!r}") from None
    else:
        vol = as_float_array(volumes, "volumes")[labels.astype(np.intp)]
    if np.any(vol < 0) or not np.all(np.isfinite(vol)):
        raise ValueError("volumes must be finite and >= 0")
    return (vol / counts)[inverse.ravel()]


def combine_units(
    estimates: ArrayLike,
    ses: ArrayLike,
    volumes: ArrayLike,
    n_responses: ArrayLike | None = None,
    level: float = 0.95,
    method: str = "wilson",
) -> CombinedEstimate:
    """Volume-weighted index of an organisation from its units' estimates and SEs.

    ``estimate = sum V_u p_u / sum V_u`` and ``se**2 = sum (V_u / sum V)**2 se_u**2``:
    units are independent samples (strata).  Weighting by the volume of service
    (dossiers, patients, pupils), not by the number of responses, is the
    domain rule.  If any volume is missing (``nan``), all units are weighted by
    ``n_responses`` instead (mixing the two scales would be meaningless) and
    ``weighting`` says ``"responses"``; without ``n_responses`` that raises.
    The interval uses :func:`interval_from_estimate` on the combined estimate
    with ``n = sum(n_responses)`` as fallback size when known.
    """
    level = check_level(level)
    p = as_float_array(estimates, "estimates")
    se = as_float_array(ses, "ses")
    vol = as_float_array(volumes, "volumes", allow_nan=True)
    if not (p.shape == se.shape == vol.shape) or p.ndim != 1 or p.size == 0:
        raise ValueError("estimates, ses and volumes must be non-empty 1-D arrays of equal length")
    if np.any(se < 0):
        raise ValueError("ses must be >= 0")
    if np.any(vol < 0):
        raise ValueError("volumes must be >= 0")
    missing = np.isnan(vol)
    resp = None
    if n_responses is not None:
        resp = as_float_array(n_responses, "n_responses")
        if resp.shape != p.shape or np.any(resp < 0):
            raise ValueError("n_responses must be >= 0, one per unit")
    if np.any(missing):
        if resp is None:
            raise ValueError("some volumes are unknown; pass n_responses to fall back to weighting by responses")
        raw, weighting = resp, "responses"
    else:
        raw, weighting = vol, "volume"
    if raw.sum() <= 0:
        raise ValueError("the weights sum to zero")
    w = raw / raw.sum()
    estimate = float((w * p).sum())
    se_c = float(np.sqrt((np.square(w) * np.square(se)).sum()))
    n_total = float(resp.sum()) if resp is not None else None
    low, high = interval_from_estimate(min(max(estimate, 0.0), 1.0), se_c, n=n_total, method=method, level=level)
    return CombinedEstimate(
        estimate=estimate,
        se=se_c,
        low=float(low),
        high=float(high),
        weights=w,
        weighting=weighting,
        units_without_volume=int(missing.sum()),
    )
