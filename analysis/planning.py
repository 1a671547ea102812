"""Sample-size planning for satisfaction surveys."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ._validation import as_float_array, check_level, check_target, check_whole, z_quantile
from .targets import INCONCLUSIVE, VERDICT_ALPHA, judge, judge_array, verdict_bounds, verdict_bounds_from_estimate

__all__ = [
    "sample_size_for_margin",
    "responses_to_settle",
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


def responses_to_settle(
    successes: int,
    n: int,
    target: float,
    strict: bool = False,
    *,
    power: float | None = None,
    max_extra: int = 10**8,
) -> int | None:
    """How many more responses would settle an inconclusive verdict, if the current share holds.

    The verdict is :func:`analysis.targets.judge` on the verdict bounds (the one-sided exact
    test at 5%, :func:`analysis.targets.verdict_bounds`).  With ``power=None`` the extra ``m``
    responses are assumed satisfied at exactly the current rate ``k / n`` (expected, fractional
    counts, on the beta form of the exact bounds): the answer is the smallest ``m`` after which
    the verdict is "met" (rate above the target) or "not met" (rate below it).  With all
    satisfied this is ``min_n_all_satisfied(target) - n``.  With ``power`` (e.g. 0.8) it is the
    number after which a unit whose true index is ``k / n`` is settled with that probability:
    :func:`sample_size_for_power` (normal approximation of the same one-sided test) minus ``n``;
    at a rate of 0 or 1 every new response is certain, and the exact count is returned.

    Returns 0 when the verdict is already settled (a 100% target always is: it is judged on
    the number of dissatisfied respondents), and ``None`` when it never can be: no responses
    (no current rate), or a rate equal to the target.
    """
    k_arr, n_arr = as_float_array(successes, "successes"), as_float_array(n, "n")
    if k_arr.ndim or n_arr.ndim:
        raise ValueError("responses_to_settle takes one unit: successes and n must be single numbers")
    check_whole(k_arr, "successes")
    check_whole(n_arr, "n")
    k, nn = float(k_arr), float(n_arr)
    if k > nn:
        raise ValueError("successes cannot exceed n")
    t = check_target(target, strict)
    if power is not None and not (0.0 < float(power) < 1.0):
        raise ValueError("power must be in (0, 1)")
    if nn == 0:
        return None
    rate = k / nn
    if t >= 1.0:
        return 0
    if judge(rate, *verdict_bounds(k, nn), t, strict=strict).status != "inconclusive":
        return 0
    if rate == t:
        return None
    if power is not None and 0.0 < rate < 1.0:
        total = sample_size_for_power(t, rate, alpha=VERDICT_ALPHA, power=float(power))
        return max(total - int(nn), 0)

    def settled(extra: np.ndarray) -> np.ndarray:
        low, high = verdict_bounds_from_estimate(rate, float("nan"), n=nn + extra)
        return judge_array(np.full(extra.shape, rate), low, high, t, strict=strict).status != INCONCLUSIVE

    # The smallest whole m with settled(m), found with a few vectorised evaluations instead of
    # one per step of a bisection (settling is monotone in m). The bracket (lo, hi] (lo
    # unsettled, hi settled) starts around the normal approximation's answer; where that guess
    # misses, from the doublings 1, 2, 4, ... up to max_extra. Grids then narrow it.
    lo, hi = _settle_bracket(settled, rate, t, nn, max_extra)
    if hi is None:
        return None
    while hi - lo > 1:
        if hi - lo <= _GRID:
            grid = np.arange(lo + 1, hi, dtype=np.int64)
        else:
            grid = np.unique(np.linspace(lo, hi, _GRID + 1).round().astype(np.int64)[1:-1])
        ok = settled(grid.astype(np.float64))
        if ok.any():
            j = int(np.argmax(ok))
            hi, lo = int(grid[j]), (int(grid[j - 1]) if j else lo)
        else:
            lo = int(grid[-1])
    return hi


def _settle_bracket(settled, rate: float, t: float, n: float, max_extra: int) -> tuple[int, int | None]:
    """(lo, hi) with ``settled(hi)`` and not ``settled(lo)`` (lo 0 is known unsettled); hi None
    when nothing up to ``max_extra`` settles."""
    if 0.0 < rate < 1.0:
        z = z_quantile(1.0 - 2.0 * VERDICT_ALPHA)
        guess = z * z * rate * (1.0 - rate) / (rate - t) ** 2 - n
        if 1.0 <= guess <= max_extra:
            edges = np.array([math.floor(guess * 0.9), math.ceil(guess * 1.1) + 2], dtype=np.int64)
            edges = np.clip(edges, 0, max_extra)
            ok = settled(edges.astype(np.float64))
            if ok[1] and (edges[0] == 0 or not ok[0]):
                return int(edges[0]), int(edges[1])
    doublings = 2 ** np.arange(int(math.log2(max_extra)) + 1, dtype=np.int64)
    ok = settled(doublings.astype(np.float64))
    if not ok.any():
        return 0, None
    first = int(np.argmax(ok))
    hi = int(doublings[first])
    return (hi // 2 if first else 0), hi


#: Points evaluated at once while narrowing responses_to_settle's bracket.
_GRID = 16


def min_n_all_satisfied(target: float, alpha: float = 0.05, n_dissatisfied: int = 0) -> int:
    """Smallest n that shows the index exceeds ``target`` at one-sided level alpha (exact binomial).

    This is the test the verdict uses (:func:`analysis.targets.verdict_bounds` at the default
    alpha of 0.05): ``n`` responses with ``n_dissatisfied`` dissatisfied are judged "met".

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
