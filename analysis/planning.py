"""Sample-size planning for satisfaction surveys."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ._validation import as_float_array, check_level, z_quantile
from .intervals import proportion_ci

__all__ = [
    "sample_size_for_margin",
    "additional_responses_needed",
    "min_n_all_satisfied",
    "sample_size_for_power",
]


def _wilson_half_width(p: Any, n: Any, z: float) -> Any:
    return z * np.sqrt(p * (1.0 - p) * n + 0.25 * z * z) / (n + z * z)


def sample_size_for_margin(p: ArrayLike, margin: float, level: float = 0.95, method: str = "wilson") -> Any:
    """Smallest n whose interval half-width at the expected share ``p`` is at most ``margin``.

    ``wilson``: half-width of the Wilson interval at k = p n, solved exactly
    (it decreases in n).  ``wald``: the textbook ``z**2 p (1-p) / margin**2``.
    """
    level = check_level(level)
    if not (0.0 < float(margin) < 1.0):
        raise ValueError("margin must be in (0, 1)")
    pp = as_float_array(p, "p")
    if np.any((pp < 0) | (pp > 1)):
        raise ValueError("p must lie in [0, 1]")
    z = z_quantile(level)
    m = float(margin)
    pq = pp * (1.0 - pp)
    if method == "wald":
        n = np.maximum(np.ceil(z * z * pq / (m * m) - 1e-9), 1.0)
    elif method == "wilson":
        # hw(n) <= m  <=>  m^2 n^2 + (2 m^2 z^2 - z^2 pq) n + m^2 z^4 - z^4/4 >= 0.
        a = m * m
        b = 2.0 * m * m * z * z - z * z * pq
        c = m * m * z**4 - z**4 / 4.0
        root = (-b + np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
        n = np.maximum(np.ceil(root - 1e-9), 1.0)
        # Guard the ceiling against rounding in the root.
        n = np.where(_wilson_half_width(pp, n, z) <= m, n, n + 1.0)
        n = np.where(_wilson_half_width(pp, n - 1.0, z) <= m, np.maximum(n - 1.0, 1.0), n)
    else:
        raise ValueError("method must be 'wilson' or 'wald'")
    n = n.astype(np.int64)
    return int(n) if n.ndim == 0 else n


def additional_responses_needed(
    successes: ArrayLike,
    n: ArrayLike,
    target: float,
    level: float = 0.95,
    method: str = "wilson",
    strict: bool = False,
    max_extra: int = 10**8,
) -> Any:
    """Extra responses after which the interval's lower bound reaches ``target`` if the current rate holds.

    The extra ``m`` responses are assumed satisfied at the current rate
    ``k / n`` (fractional expected counts, so ``method`` must accept them:
    ``wilson``, ``jeffreys`` or ``agresti_coull``).  Returns 0 if the target
    is already met, and ``None`` (``-1`` in arrays) when it never can be:
    the current rate is not above the target, or the target is 100%.
    """
    level = check_level(level)
    if method not in ("wilson", "jeffreys", "agresti_coull"):
        raise ValueError("method must accept fractional counts: 'wilson', 'jeffreys' or 'agresti_coull'")
    t = float(target)
    if not (0.0 <= t <= 1.0):
        raise ValueError("target must be in [0, 1]")
    scalar = np.ndim(successes) == 0 and np.ndim(n) == 0
    k = as_float_array(successes, "successes")
    nn = as_float_array(n, "n")
    k, nn = np.broadcast_arrays(k, nn)
    if np.any(nn <= 0) or np.any(k < 0) or np.any(k > nn):
        raise ValueError("need n > 0 and 0 <= successes <= n")
    rate = k / nn

    def reached(extra: np.ndarray) -> np.ndarray:
        low, _ = proportion_ci(k + rate * extra, nn + extra, method=method, level=level)
        low = np.asarray(low)
        return (low > t) if strict else (low >= t)

    possible = (rate > t) & (t < 1.0)
    hi = np.zeros(k.shape)
    ok = reached(hi)
    # Exponential search for an upper bound, then bisection on integers.
    hi = np.where(ok | ~possible, 0.0, 1.0)
    for _ in range(64):
        pending = possible & ~reached(hi)
        if not np.any(pending) or np.all(hi[pending] >= max_extra):
            break
        hi = np.where(pending, np.minimum(hi * 2.0, float(max_extra)), hi)
    possible = possible & reached(hi)
    lo = np.where(hi > 0, np.floor(hi / 2.0), 0.0)  # lo never reaches the target unless hi == 0
    lo = np.where(ok, 0.0, lo)
    while np.any(possible & (hi - lo > 1)):
        mid = np.floor((lo + hi) / 2.0)
        r = reached(mid)
        step = possible & (hi - lo > 1)
        hi = np.where(step & r, mid, hi)
        lo = np.where(step & ~r, mid, lo)
    out = np.where(ok, 0.0, np.where(possible, hi, -1.0)).astype(np.int64)
    if scalar:
        value = int(out)
        return None if value < 0 else value
    return out


def min_n_all_satisfied(target: float, alpha: float = 0.05, n_dissatisfied: int = 0) -> int:
    """Smallest n that shows the index exceeds ``target`` at one-sided level alpha (exact binomial).

    With ``d`` dissatisfied among n, the exact test of p <= target rejects
    when ``P(X >= n - d | n, target) <= alpha``.  For d = 0 this is
    ``target**n <= alpha``: 19 for 0.85, 29 for 0.90, 59 for 0.95 at alpha 0.05.
    """
    t = float(target)
    if not (0.0 < t < 1.0):
        raise ValueError("target must be in (0, 1): no sample can show an index exceeds 100%")
    if not (0.0 < alpha < 1.0):
        raise ValueError("alpha must be in (0, 1)")
    d = int(n_dissatisfied)
    if d < 0:
        raise ValueError("n_dissatisfied must be >= 0")

    def rejects(n: int) -> bool:
        return bool(stats.binom.sf(n - d - 1, n, t) <= alpha)

    if d == 0:
        guess = max(int(math.ceil(math.log(alpha) / math.log(t))) - 1, 1)
        while not rejects(guess):
            guess += 1
        while guess > 1 and rejects(guess - 1):
            guess -= 1
        return guess
    # P(X >= n - d) falls as n grows with d fixed when the rate n-d/n passes t; search upward.
    lo, hi = d + 1, d + 1
    while not rejects(hi):
        lo, hi = hi, hi * 2
        if hi > 10**9:
            raise ValueError("no feasible n below 1e9")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rejects(mid):
            hi = mid
        else:
            lo = mid
    return hi if not rejects(lo) else lo


def sample_size_for_power(
    p0: float, p1: float, alpha: float = 0.05, power: float = 0.80, one_sided: bool = True
) -> int:
    """Responses needed to tell ``p1`` from ``p0`` with a one-sample test of a proportion (normal approximation).

    ``n = ((z_a sqrt(p0 q0) + z_b sqrt(p1 q1)) / (p1 - p0))**2`` rounded up;
    0.85 vs 0.90 at one-sided alpha 0.05 and 80% power gives 283.
    """
    if not (0 < p0 < 1 and 0 < p1 < 1) or p0 == p1:
        raise ValueError("p0 and p1 must be distinct proportions in (0, 1)")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be in (0, 1)")
    z_a = float(special.ndtri(1.0 - (alpha if one_sided else alpha / 2.0)))
    z_b = float(special.ndtri(power))
    n = ((z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2
    return int(math.ceil(n - 1e-9))
