"""Confidence intervals for a binomial proportion, vectorised over groups.

All methods take counts (scalars or broadcastable NumPy arrays) and return
``(low, high)``.  Scalar input gives Python floats; array input gives float64
arrays of the broadcast shape.  No Python loop runs per group.

Conventions (see docs/STATISTICS.md):

* ``n == 0`` gives ``nan`` for both bounds, silently; ``ci_undefined_reason``
  says why.
* Bounds are clipped to [0, 1].
* ``low == 0`` when ``k == 0`` and ``high == 1`` when ``k == n``
  (Clopper-Pearson's convention, which Brown, Cai & DasGupta 2001 also use for
  Jeffreys), for every method but ``wald``, which is degenerate there and is
  kept for comparison only.  The converse holds for all but ``agresti_coull``
  (and ``wald``): its clipped Wald-type bounds also give ``low == 0`` at
  ``k == 1`` once n >= 9 at 95%, and ``high == 1`` at ``k == n - 1``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._validation import (
    FloatArray,
    as_float_array,
    check_level,
    is_scalar_input,
    scalar_or_array,
    t_quantile,
    z_quantile,
)

__all__ = [
    "PROPORTION_METHODS",
    "proportion_ci",
    "ci_undefined_reason",
    "interval_from_estimate",
    "effective_sample_size",
    "wilson_bounds",
]

#: Methods accepted by :func:`proportion_ci`.
PROPORTION_METHODS: tuple[str, ...] = (
    "wilson",
    "wilson_cc",
    "clopper_pearson",
    "jeffreys",
    "agresti_coull",
    "midp",
    "wald",
)

# These methods are defined through the discrete binomial distribution, so a
# fractional count has no meaning for them.  The others are smooth in (k, n)
# and are also used with effective (design-adjusted) counts.
_INTEGER_METHODS = frozenset({"wilson_cc", "clopper_pearson", "midp"})

_UNDEFINED_N0 = "no responses (n = 0): the proportion and its interval are undefined"


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------


def _prepare_counts(successes: ArrayLike, n: ArrayLike, *, integer: bool) -> tuple[FloatArray, FloatArray]:
    k = as_float_array(successes, "successes")
    nn = as_float_array(n, "n")
    try:
        k, nn = np.broadcast_arrays(k, nn)
    except ValueError:
        raise ValueError(f"successes {k.shape} and n {nn.shape} cannot be broadcast together") from None
    if np.any(nn < 0):
        raise ValueError("n must be >= 0")
    if np.any(k < 0):
        raise ValueError("successes must be >= 0")
    if np.any(k > nn):
        raise ValueError("successes must not exceed n")
    if integer and (np.any(k != np.floor(k)) or np.any(nn != np.floor(nn))):
        raise ValueError("this method is defined for whole counts only: successes and n must be integers")
    return k, nn


# --------------------------------------------------------------------------
# The methods.  Each takes k, n (float arrays with n > 0) and the level.
# --------------------------------------------------------------------------


def wilson_bounds(k: FloatArray, n: FloatArray, z: Any) -> tuple[FloatArray, FloatArray]:
    """Wilson score bounds for real-valued ``k`` and ``n > 0`` with critical value ``z``.

    No validation; used by other modules with effective counts.
    """
    z2 = z * z
    denom = n + z2
    center = (k + 0.5 * z2) / denom
    half = z * np.sqrt(np.maximum(k * (n - k) / n, 0.0) + 0.25 * z2) / denom
    low = center - half
    high = center + half
    # Exact end points: the algebra gives 0 and 1 there, rounding may not.
    low = np.where(k <= 0, 0.0, low)
    high = np.where(k >= n, 1.0, high)
    return low, high


def _wilson(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    return wilson_bounds(k, n, z_quantile(level))


def _wilson_cc(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    # Newcombe (1998a), method 4: Wilson score interval with continuity correction.
    z = z_quantile(level)
    z2 = z * z
    p = k / n
    q = 1.0 - p
    denom = 2.0 * (n + z2)
    low_root = np.sqrt(np.maximum(z2 - 2.0 - 1.0 / n + 4.0 * p * (n * q + 1.0), 0.0))
    high_root = np.sqrt(np.maximum(z2 + 2.0 - 1.0 / n + 4.0 * p * (n * q - 1.0), 0.0))
    low = (2.0 * n * p + z2 - 1.0 - z * low_root) / denom
    high = (2.0 * n * p + z2 + 1.0 + z * high_root) / denom
    low = np.where(k <= 0, 0.0, low)
    high = np.where(k >= n, 1.0, high)
    return low, high


def _clopper_pearson(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    alpha = 1.0 - level
    # betaincinv needs positive shape parameters; substitute harmless values at
    # the end points, which are then overwritten by the exact 0 / 1.
    low = special.betaincinv(np.where(k > 0, k, 1.0), n - k + 1.0, alpha / 2.0)
    high = special.betaincinv(k + 1.0, np.where(k < n, n - k, 1.0), 1.0 - alpha / 2.0)
    low = np.where(k <= 0, 0.0, low)
    high = np.where(k >= n, 1.0, high)
    return low, high


def _jeffreys(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    alpha = 1.0 - level
    a = k + 0.5
    b = n - k + 0.5
    low = special.betaincinv(a, b, alpha / 2.0)
    high = special.betaincinv(a, b, 1.0 - alpha / 2.0)
    # Brown, Cai & DasGupta (2001): the Jeffreys interval is set to 0 / 1 at x = 0 / n.
    low = np.where(k <= 0, 0.0, low)
    high = np.where(k >= n, 1.0, high)
    return low, high


def _agresti_coull(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    z = z_quantile(level)
    n_tilde = n + z * z
    p_tilde = (k + 0.5 * z * z) / n_tilde
    half = z * np.sqrt(p_tilde * (1.0 - p_tilde) / n_tilde)
    low = np.where(k <= 0, 0.0, p_tilde - half)
    high = np.where(k >= n, 1.0, p_tilde + half)
    return low, high


def _wald(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    z = z_quantile(level)
    p = k / n
    half = z * np.sqrt(p * (1.0 - p) / n)
    return p - half, p + half


def _midp_lower(k: FloatArray, n: FloatArray, alpha: float) -> FloatArray:
    """Lower exact mid-p bound: solves P(X > k) + P(X = k) / 2 = alpha / 2 for p."""
    out = np.zeros_like(k, dtype=np.float64)
    # k == n has a closed form: p**n / 2 = alpha / 2.
    top = (k >= n) & (n > 0)
    out[top] = alpha ** (1.0 / n[top])
    inner = (k > 0) & (k < n)
    if np.any(inner):
        out[inner] = _solve_midp_lower(k[inner], n[inner], alpha)
    return out


def _solve_midp_lower(k: FloatArray, n: FloatArray, alpha: float) -> FloatArray:
    """Vectorised safeguarded Newton iteration for 0 < k < n.

    Newton runs on y = logit(p) against log of the mid-p upper tail
    T(p) = P(X >= k) - P(X = k) / 2 = I_p(k, n-k+1) - P(X = k) / 2.  On that
    scale the tail is close to concave, so Newton converges from either side
    in a handful of steps; a bracket kept in y replaces any step that leaves it by bisection,
    which guarantees convergence.  Only unconverged groups are iterated.
    """
    a, b = k, n - k + 1.0
    log_beta = special.betaln(a, b)
    # log of C(n, k), for the point probability P(X = k).
    log_choose = -np.log(n + 1.0) - special.betaln(k + 1.0, n - k + 1.0)
    log_target = np.log(alpha / 2.0)

    # Start from the Wilson lower bound, a close and cheap approximation.
    z = float(special.ndtri(1.0 - alpha / 2.0))
    start, _ = wilson_bounds(k, n, z)
    start = np.clip(start, 1e-12, k / n)
    y = np.log(start) - np.log1p(-start)
    lo = np.full_like(k, -745.0)  # p below the smallest double: the tail is 0 there
    hi = np.full_like(k, 40.0)  # p within 1e-17 of 1: the tail is 1 there
    result = np.empty_like(k)
    active = np.arange(k.size)
    for _ in range(400):
        x = special.expit(y)
        log_x = np.log(x)
        log_1mx = np.log1p(-x)
        # T = P(X >= k) - P(X = k) / 2, using one incomplete beta per step.
        point = np.exp(log_choose + k * log_x + (n - k) * log_1mx)
        tail = special.betainc(a, b, x) - 0.5 * point
        density = np.exp((a - 1.0) * log_x + (b - 1.0) * log_1mx - log_beta)
        dtail = density - 0.5 * point * (k / x - (n - k) / (1.0 - x))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = np.log(tail) - log_target
            step = h / (dtail * x * (1.0 - x) / tail)
        lo = np.where(h < 0, y, lo)
        hi = np.where(h > 0, y, hi)
        y_new = y - step
        # Test convergence before safeguarding: a last step of rounding size can
        # land on a bracket end, and must not trigger a bisection.
        done = (h == 0) | (np.abs(step) <= 1e-12 * np.maximum(1.0, np.abs(y))) | (hi - lo <= 1e-12)
        outside = ~np.isfinite(y_new) | (y_new <= lo) | (y_new >= hi)
        y_new = np.where(outside & ~done, 0.5 * (lo + hi), y_new)
        result[active[done]] = special.expit(np.where(np.isfinite(y_new[done]), y_new[done], y[done]))
        keep = ~done
        if not np.any(keep):
            break
        active = active[keep]
        k, n, a, b = k[keep], n[keep], a[keep], b[keep]
        log_beta, log_choose = log_beta[keep], log_choose[keep]
        lo, hi, y = lo[keep], hi[keep], y_new[keep]
    else:  # pragma: no cover - bisection alone reaches the tolerance well within 400 steps
        result[active] = special.expit(y)
    return result


def _midp(k: FloatArray, n: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    alpha = 1.0 - level
    low = _midp_lower(k, n, alpha)
    # The binomial family is symmetric under k -> n - k, p -> 1 - p.
    high = 1.0 - _midp_lower(n - k, n, alpha)
    return low, high


_DISPATCH: dict[str, Callable[[FloatArray, FloatArray, float], tuple[FloatArray, FloatArray]]] = {
    "wilson": _wilson,
    "wilson_cc": _wilson_cc,
    "clopper_pearson": _clopper_pearson,
    "jeffreys": _jeffreys,
    "agresti_coull": _agresti_coull,
    "midp": _midp,
    "wald": _wald,
}


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def proportion_ci(
    successes: ArrayLike,
    n: ArrayLike,
    method: str = "wilson",
    level: float = 0.95,
) -> tuple[Any, Any]:
    """Two-sided confidence interval for ``successes / n``.

    ``method`` is one of :data:`PROPORTION_METHODS`.  ``wilson_cc``,
    ``clopper_pearson`` and ``midp`` need whole counts; the others also accept
    fractional (effective) counts.  Raises ``ValueError`` for negative counts,
    ``successes > n``, non-finite input or ``level`` outside (0, 1).
    Groups with ``n == 0`` get ``nan`` bounds without a warning.
    """
    level = check_level(level)
    if method not in _DISPATCH:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(PROPORTION_METHODS)}")
    scalar = is_scalar_input(successes, n)
    k, nn = _prepare_counts(successes, n, integer=method in _INTEGER_METHODS)
    empty = nn == 0
    if np.any(empty):
        # Compute on a harmless stand-in and blank those groups afterwards, so
        # that one empty group does not force a slow masked path for the rest.
        nn = np.where(empty, 1.0, nn)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = _DISPATCH[method](k, nn, level)
    low = np.clip(np.asarray(low, dtype=np.float64), 0.0, 1.0)
    high = np.clip(np.asarray(high, dtype=np.float64), 0.0, 1.0)
    if np.any(empty):
        low = np.where(empty, np.nan, low)
        high = np.where(empty, np.nan, high)
    return scalar_or_array(low, scalar), scalar_or_array(high, scalar)


def ci_undefined_reason(successes: ArrayLike, n: ArrayLike) -> Any:
    """Why :func:`proportion_ci` returned ``nan``: a message, or ``None`` where it is defined.

    Scalar input gives ``str | None``; array input gives an object array.
    """
    scalar = is_scalar_input(successes, n)
    k, nn = _prepare_counts(successes, n, integer=False)
    reasons = np.where(nn == 0, _UNDEFINED_N0, None).astype(object)
    if scalar:
        return reasons.item()
    return reasons


def effective_sample_size(p: ArrayLike, se: ArrayLike) -> Any:
    """Effective sample size ``p (1 - p) / se**2`` (Korn & Graubard 1998); ``nan`` where se is 0."""
    scalar = is_scalar_input(p, se)
    pp = as_float_array(p, "p", allow_nan=True)
    ss = as_float_array(se, "se", allow_nan=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ss > 0, pp * (1.0 - pp) / np.square(ss), np.nan)
    return scalar_or_array(np.asarray(out, dtype=np.float64), scalar)


_ESTIMATE_METHODS = ("wilson", "beta", "logit", "mean")


def interval_from_estimate(
    p: ArrayLike,
    se: ArrayLike,
    n: ArrayLike | None = None,
    method: str = "wilson",
    level: float = 0.95,
    df: ArrayLike | None = None,
) -> tuple[Any, Any]:
    """Interval for a proportion-like index from its estimate and (design) SE.

    ``wilson`` and ``beta`` apply the Wilson / Clopper-Pearson formulas to the
    effective sample size ``n_eff = p(1-p)/se**2``; ``beta`` is R's
    ``svyciprop(method="beta")`` (Korn & Graubard 1998).  With ``df`` given,
    ``n_eff`` is multiplied by ``(t_{n-1} / t_df)**2`` (``z`` instead of
    ``t_{n-1}`` when ``n`` is None), as R does.  ``logit`` is a Wald interval
    on the log-odds scale and ``mean`` on the probability scale, both with a
    ``t_df`` critical value.  ``n`` (respondents) is also the fallback
    effective size where ``se`` is 0 or nan
    or p is 0 or 1 (e.g. every respondent satisfied); without ``n`` such groups
    get ``nan``.  ``n_eff`` is not capped at ``n``.
    """
    level = check_level(level)
    if method not in _ESTIMATE_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(_ESTIMATE_METHODS)}")
    scalar = is_scalar_input(p, se, n if n is not None else 0, df if df is not None else 0)
    pp = as_float_array(p, "p", allow_nan=True)
    ss = as_float_array(se, "se", allow_nan=True)
    if np.any(pp < 0) or np.any(pp > 1):
        raise ValueError("p must lie in [0, 1]")
    if np.any(ss < 0):
        raise ValueError("se must be >= 0")
    nn = None
    if n is not None:
        nn = as_float_array(n, "n", allow_nan=True)
        if np.any(nn < 0):
            raise ValueError("n must be >= 0")
    arrays = [pp, ss] + ([nn] if nn is not None else [])
    if df is not None:
        dfa = np.asarray(df, dtype=np.float64)
        if np.any(dfa <= 0):
            raise ValueError("df must be positive")
        arrays.append(dfa)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    pp = np.broadcast_to(pp, shape)
    ss = np.broadcast_to(ss, shape)

    with np.errstate(divide="ignore", invalid="ignore"):
        # At p = 0 or 1 (or se = 0) the SE says nothing about the sample size.
        informative = (ss > 0) & (pp > 0) & (pp < 1)
        n_eff = np.where(informative, pp * (1.0 - pp) / np.square(ss), np.nan)
        if nn is not None:
            n_eff = np.where(informative, n_eff, np.broadcast_to(nn, shape))
        if method in ("wilson", "beta"):
            if df is not None:
                # Korn-Graubard degrees-of-freedom adjustment, exactly as in R's svyciprop.
                if nn is not None:
                    ref = t_quantile(level, np.where(nn > 1, nn - 1.0, np.inf))
                else:
                    ref = z_quantile(level)
                n_eff = n_eff * np.square(ref / t_quantile(level, df))
            low, high = _effective_n_interval(pp, n_eff, method, level)
        elif method == "mean":
            crit = t_quantile(level, df)
            low, high = pp - crit * ss, pp + crit * ss
            low = np.where(np.isnan(ss), np.nan, low)
            high = np.where(np.isnan(ss), np.nan, high)
        else:  # logit
            crit = t_quantile(level, df)
            inner = (pp > 0) & (pp < 1) & (ss > 0)
            pi = np.where(inner, pp, 0.5)
            logit = np.log(pi / (1.0 - pi))
            half = crit * ss / (pi * (1.0 - pi))
            low = special.expit(logit - half)
            high = special.expit(logit + half)
            # The log-odds scale has no SE at p = 0 or 1: fall back to the beta
            # (Clopper-Pearson) interval on n_eff there.
            if not np.all(inner):
                b_low, b_high = _effective_n_interval(pp, n_eff, "beta", level)
                low = np.where(inner, low, b_low)
                high = np.where(inner, high, b_high)
    low = np.clip(np.asarray(low, dtype=np.float64), 0.0, 1.0)
    high = np.clip(np.asarray(high, dtype=np.float64), 0.0, 1.0)
    return scalar_or_array(low, scalar), scalar_or_array(high, scalar)


def _effective_n_interval(p: FloatArray, n_eff: FloatArray, method: str, level: float) -> tuple[FloatArray, FloatArray]:
    """Wilson or Clopper-Pearson bounds for real-valued effective counts; nan where n_eff is not positive."""
    ok = np.isfinite(n_eff) & (n_eff > 0) & np.isfinite(p)
    ne = np.where(ok, n_eff, 1.0)
    pe = np.where(ok, p, 0.5)
    k = pe * ne
    if method == "wilson":
        low, high = wilson_bounds(k, ne, z_quantile(level))
    else:
        alpha = 1.0 - level
        low = special.betaincinv(np.where(k > 0, k, 1.0), ne - k + 1.0, alpha / 2.0)
        high = special.betaincinv(k + 1.0, np.where(pe < 1, ne - k, 1.0), 1.0 - alpha / 2.0)
        low = np.where(pe <= 0, 0.0, low)
        high = np.where(pe >= 1, 1.0, high)
    low = np.where(ok, low, np.nan)
    high = np.where(ok, high, np.nan)
    return low, high
