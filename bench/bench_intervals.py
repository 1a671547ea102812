"""Time the interval methods on 1,000,000 groups and composite_from_moments on 100,000 groups.

Run from the repository root:  .venv/bin/python bench/bench_intervals.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statsmodels.stats.proportion import proportion_confint  # noqa: E402

from analysis import PROPORTION_METHODS, composite_from_moments, proportion_ci  # noqa: E402

STATSMODELS_NAMES = {
    "wilson": "wilson",
    "agresti_coull": "agresti_coull",
    "clopper_pearson": "beta",
    "jeffreys": "jeffreys",
    "wald": "normal",
}


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Best CPU time of this process over ``repeats`` runs.

    CPU time rather than wall time: the machine may be shared, and the code is
    single-threaded (element-wise NumPy/SciPy), so CPU time is what it costs.
    """
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def bench_intervals(groups: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    n = rng.integers(1, 2001, groups)
    k = rng.binomial(n, rng.uniform(0.5, 1.0, groups))
    print(f"proportion_ci on {groups:,} groups (n uniform 1..2000, p uniform 0.5..1), best CPU seconds:")
    print(f"{'method':<16}{'analysis (s)':>14}{'statsmodels (s)':>17}{'speed-up':>10}")
    for method in PROPORTION_METHODS:
        repeats = 1 if method == "midp" else 3
        ours = best_of(lambda: proportion_ci(k, n, method=method), repeats)
        if method in STATSMODELS_NAMES:
            ref = best_of(lambda: proportion_confint(k, n, alpha=0.05, method=STATSMODELS_NAMES[method]), repeats)
            print(f"{method:<16}{ours:>14.3f}{ref:>17.3f}{ref / ours:>9.1f}x")
        else:
            print(f"{method:<16}{ours:>14.3f}{'(n/a)':>17}{'':>10}")


def bench_moments(groups: int, respondents_per_group: int, items: int, aspects: int) -> None:
    """Synthetic per-group sums of x = [satisfied counts, answered counts] per column."""
    rng = np.random.default_rng(1)
    p = 2 * items
    # Build plausible sums from a small respondent-level simulation per column set, then tile:
    # the timing depends only on the array shapes.
    resp = respondents_per_group
    latent = rng.normal(1.5, 1.0, (resp, 1))
    ans = (rng.random((resp, items)) < 0.9).astype(float)
    sat = ((rng.random((resp, items)) < 1 / (1 + np.exp(-latent))) & (ans > 0)).astype(float)
    x = np.hstack([sat, ans])
    sums = np.tile(x.sum(0), (groups, 1))
    cross = np.tile(x.T @ x, (groups, 1, 1))
    n = np.full(groups, float(resp))
    aspect_of = np.arange(items) % aspects
    seconds = best_of(lambda: composite_from_moments(n, sums, cross, aspect_of), 3)
    print(
        f"composite_from_moments (CPU s): {groups:,} groups, {items} columns "
        f"({p} sums, {p * (p + 1) // 2} cross sums) in {aspects} aspects: {seconds:.3f} s"
    )


if __name__ == "__main__":
    import os

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    bench_intervals()
    print()
    bench_moments(100_000, 50, items=5, aspects=5)
    bench_moments(100_000, 50, items=17, aspects=5)
