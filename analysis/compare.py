"""Comparing proportions: differences, trends, funnel plots and shrinkage for ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

from ._validation import FloatArray, as_float_array, check_level, is_scalar_input, scalar_or_array, z_quantile
from .intervals import proportion_ci

__all__ = [
    "newcombe_difference",
    "TrendResult",
    "trend_test",
    "FunnelLimits",
    "funnel_limits",
    "ShrinkageResult",
    "shrink_beta_binomial",
]


# --------------------------------------------------------------------------
# Difference of two independent proportions
# --------------------------------------------------------------------------


def newcombe_difference(
    k1: ArrayLike,
    n1: ArrayLike,
    k2: ArrayLike,
    n2: ArrayLike,
    level: float = 0.95,
    correction: bool = False,
) -> tuple[Any, Any, Any]:
    """``(p1 - p2, low, high)`` by Newcombe's hybrid score interval (1998b, method 10; method 11 with ``correction``).

    With Wilson intervals (l_i, u_i) for each proportion:
    ``low = d - sqrt((p1 - l1)**2 + (u2 - p2)**2)``,
    ``high = d + sqrt((u1 - p1)**2 + (p2 - l2)**2)``.  Vectorised; ``n = 0`` gives nan.
    """
    level = check_level(level)
    method = "wilson_cc" if correction else "wilson"
    scalar = is_scalar_input(k1, n1, k2, n2)
    l1, u1 = proportion_ci(np.asarray(k1), np.asarray(n1), method=method, level=level)
    l2, u2 = proportion_ci(np.asarray(k2), np.asarray(n2), method=method, level=level)
    kk1, nn1 = as_float_array(k1, "k1"), as_float_array(n1, "n1")
    kk2, nn2 = as_float_array(k2, "k2"), as_float_array(n2, "n2")
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.where(nn1 > 0, kk1 / np.where(nn1 > 0, nn1, 1.0), np.nan)
        p2 = np.where(nn2 > 0, kk2 / np.where(nn2 > 0, nn2, 1.0), np.nan)
    d = p1 - p2
    low = d - np.sqrt(np.square(p1 - l1) + np.square(u2 - p2))
    high = d + np.sqrt(np.square(u1 - p1) + np.square(p2 - l2))
    return scalar_or_array(d, scalar), scalar_or_array(low, scalar), scalar_or_array(high, scalar)


# --------------------------------------------------------------------------
# Trend over periods
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendResult:
    """Cochran-Armitage test for a linear trend, and the per-score slope of the proportion."""

    z: float
    chi2: float
    p_value: float
    slope: float
    slope_se: float
    slope_low: float
    slope_high: float
    level: float


def trend_test(
    successes: ArrayLike,
    totals: ArrayLike,
    scores: ArrayLike | None = None,
    level: float = 0.95,
) -> TrendResult:
    """Cochran-Armitage chi-square test for trend over ordered periods (e.g. months).

    ``z = sum k_t (x_t - xbar) / sqrt(pbar (1 - pbar) sum n_t (x_t - xbar)**2)``
    with ``xbar`` weighted by ``n_t``; two-sided p-value.  ``slope`` is the
    n-weighted least-squares slope of the monthly proportion on the score
    (change per month with the default scores 0, 1, 2, ...), with a
    heteroscedasticity-robust SE ``sqrt(sum n_t (x_t - xbar)**2 p_t (1 - p_t)) / Sxx``.
    Periods with no responses carry no weight.
    """
    level = check_level(level)
    k = as_float_array(successes, "successes")
    n = as_float_array(totals, "totals")
    if k.ndim != 1 or k.shape != n.shape or k.size < 2:
        raise ValueError("successes and totals must be 1-D of equal length >= 2")
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= successes <= totals")
    x = np.arange(k.size, dtype=np.float64) if scores is None else as_float_array(scores, "scores")
    if x.shape != k.shape:
        raise ValueError("scores must match successes")
    N = n.sum()
    if N <= 0:
        raise ValueError("no responses")
    p_bar = k.sum() / N
    x_bar = (n * x).sum() / N
    dx = x - x_bar
    sxx = (n * dx * dx).sum()
    if sxx <= 0:
        raise ValueError("need responses in at least two periods with different scores")
    t_stat = (k * dx).sum()
    var0 = p_bar * (1.0 - p_bar) * sxx
    z = t_stat / np.sqrt(var0) if var0 > 0 else 0.0
    p_value = float(2.0 * stats.norm.sf(abs(z)))
    slope = t_stat / sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        p_t = np.where(n > 0, k / np.where(n > 0, n, 1.0), 0.0)
    slope_se = float(np.sqrt((n * dx * dx * p_t * (1.0 - p_t)).sum()) / sxx)
    crit = z_quantile(level)
    return TrendResult(
        z=float(z),
        chi2=float(z * z),
        p_value=p_value,
        slope=float(slope),
        slope_se=slope_se,
        slope_low=float(slope - crit * slope_se),
        slope_high=float(slope + crit * slope_se),
        level=level,
    )


# --------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelLimits:
    """Control limits around ``target`` for each requested coverage, as arrays over n."""

    n: FloatArray
    target: float
    limits: dict[float, tuple[FloatArray, FloatArray]]
    method: str


def _exact_binomial_limit(n: FloatArray, target: float, prob: float) -> FloatArray:
    """Spiegelhalter (2005, appendix) interpolated binomial quantile, as a proportion.

    r = smallest count with F(r) >= prob; the limit is (r - a) / n with
    a = (F(r) - prob) / (F(r) - F(r - 1)), which makes the limits continuous in n.
    """
    r = stats.binom.ppf(prob, n, target)
    f_r = stats.binom.cdf(r, n, target)
    f_prev = stats.binom.cdf(r - 1.0, n, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(f_r > f_prev, (f_r - prob) / (f_r - f_prev), 0.0)
        return (r - a) / n


def funnel_limits(
    n: ArrayLike,
    target: float,
    levels: Sequence[float] = (0.95, 0.998),
    method: str = "exact",
) -> FunnelLimits:
    """Funnel-plot control limits around ``target`` as a function of the number of responses.

    ``exact``: binomial quantiles with Spiegelhalter's interpolation;
    ``normal``: ``target ± z sqrt(target (1 - target) / n)``.  Limits are
    clipped to [0, 1]; ``n = 0`` gives nan.
    """
    t = float(target)
    if not (0.0 < t < 1.0):
        raise ValueError("target must be in (0, 1)")
    nn = np.atleast_1d(as_float_array(n, "n"))
    if np.any(nn < 0) or np.any(nn != np.floor(nn)):
        raise ValueError("n must be whole numbers >= 0")
    safe = np.where(nn > 0, nn, 1.0)
    limits: dict[float, tuple[FloatArray, FloatArray]] = {}
    for level in levels:
        lv = check_level(level)
        tail = (1.0 - lv) / 2.0
        if method == "exact":
            low = _exact_binomial_limit(safe, t, tail)
            high = _exact_binomial_limit(safe, t, 1.0 - tail)
        elif method == "normal":
            half = z_quantile(lv) * np.sqrt(t * (1.0 - t) / safe)
            low, high = t - half, t + half
        else:
            raise ValueError("method must be 'exact' or 'normal'")
        low = np.where(nn > 0, np.clip(low, 0.0, 1.0), np.nan)
        high = np.where(nn > 0, np.clip(high, 0.0, 1.0), np.nan)
        limits[lv] = (low, high)
    return FunnelLimits(nn, t, limits, method)


# --------------------------------------------------------------------------
# Empirical-Bayes shrinkage for ranking
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShrinkageResult:
    """Beta-binomial empirical-Bayes estimates.

    ``posterior_mean = (k + a) / (n + a + b)``; ``shrinkage`` is the weight
    ``(a + b) / (n + a + b)`` given to the prior mean.  ``rho = 1 / (a + b + 1)``
    is the intra-unit correlation (over-dispersion).
    """

    posterior_mean: FloatArray
    low: FloatArray
    high: FloatArray
    shrinkage: FloatArray
    a: float
    b: float
    prior_mean: float
    rho: float
    method: str
    level: float


# When units do not vary beyond binomial noise the prior's precision a + b is
# unbounded; it is capped here, which means (practically) full pooling.
_MAX_PRECISION = 1e8


def _prior_moments(k: FloatArray, n: FloatArray) -> tuple[float, float]:
    """Method-of-moments (mean, precision a + b) of the beta prior.

    With N = sum n_i, mu = sum k_i / N and S = sum n_i (p_i - mu)**2,
    E[S] = mu (1 - mu) [(I - 1) + rho (N - sum n_i**2 / N - (I - 1))], solved for rho.
    """
    use = n > 0
    k, n = k[use], n[use]
    N = n.sum()
    mu = k.sum() / N
    units = n.size
    if mu <= 0 or mu >= 1 or units < 2:
        return float(mu), _MAX_PRECISION
    s = (n * np.square(k / n - mu)).sum()
    denom = N - np.square(n).sum() / N - (units - 1)
    rho = (s / (mu * (1 - mu)) - (units - 1)) / denom if denom > 0 else 0.0
    if rho <= 1.0 / (_MAX_PRECISION + 1.0):
        return float(mu), _MAX_PRECISION
    rho = min(rho, 1.0 - 1e-9)
    return float(mu), float(1.0 / rho - 1.0)


def _prior_ml(k: FloatArray, n: FloatArray) -> tuple[float, float]:
    """Maximum-likelihood (mean, precision) of the beta-binomial prior, started from the moments."""
    use = n > 0
    k, n = k[use], n[use]
    mu0, m0 = _prior_moments(k, n)
    if mu0 <= 0 or mu0 >= 1:
        return mu0, _MAX_PRECISION

    def negloglik(theta: FloatArray) -> float:
        mu = special.expit(theta[0])
        m = np.exp(theta[1])
        a, b = mu * m, (1.0 - mu) * m
        # The binomial coefficient does not depend on (a, b) and is left out.
        return -float((special.betaln(k + a, n - k + b) - special.betaln(a, b)).sum())

    start = np.array([special.logit(mu0), np.log(min(max(m0, 1e-2), _MAX_PRECISION))])
    bounds = [(-30.0, 30.0), (np.log(1e-3), np.log(_MAX_PRECISION))]
    res = optimize.minimize(negloglik, start, method="L-BFGS-B", bounds=bounds)
    return float(special.expit(res.x[0])), float(np.exp(res.x[1]))


def shrink_beta_binomial(
    successes: ArrayLike,
    n: ArrayLike,
    method: str = "ml",
    level: float = 0.95,
) -> ShrinkageResult:
    """Empirical-Bayes shrunken satisfaction rates for ranking many units fairly.

    A Beta(a, b) prior is fitted to all units by maximum likelihood of the
    beta-binomial (``ml``) or by moments (``mm``); each unit's rate is then
    its posterior mean, pulled towards the overall rate the more the fewer
    responses it has.  ``low``/``high`` are equal-tailed posterior intervals.
    """
    level = check_level(level)
    k = np.atleast_1d(as_float_array(successes, "successes"))
    nn = np.atleast_1d(as_float_array(n, "n"))
    if k.shape != nn.shape or k.ndim != 1:
        raise ValueError("successes and n must be 1-D of equal length")
    if np.any(nn < 0) or np.any(k < 0) or np.any(k > nn):
        raise ValueError("need 0 <= successes <= n")
    if not np.any(nn > 0):
        raise ValueError("no unit has responses")
    if method == "ml":
        mu, m = _prior_ml(k, nn)
    elif method == "mm":
        mu, m = _prior_moments(k, nn)
    else:
        raise ValueError("method must be 'ml' or 'mm'")
    a, b = mu * m, (1.0 - mu) * m
    post_a, post_b = k + a, nn - k + b
    alpha = 1.0 - level
    if 0.0 < mu < 1.0:
        low = special.betaincinv(post_a, post_b, alpha / 2.0)
        high = special.betaincinv(post_a, post_b, 1.0 - alpha / 2.0)
    else:  # every response in every unit agrees: the prior is a point mass
        low = np.full(k.shape, mu)
        high = np.full(k.shape, mu)
    return ShrinkageResult(
        posterior_mean=post_a / (post_a + post_b),
        low=low,
        high=high,
        shrinkage=m / (nn + m),
        a=float(a),
        b=float(b),
        prior_mean=float(mu),
        rho=float(1.0 / (m + 1.0)),
        method=method,
        level=level,
    )
