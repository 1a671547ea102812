"""Coverage of the interval methods against nominal 95%.

1. Single proportion: exact coverage (sum of binomial probabilities of the k whose interval
   covers p), for every method of proportion_ci: its mean over p, and its exact infimum over
   p, found at the interval end points where coverage jumps (a grid of p misses the dips).
2. Composite index: Monte Carlo coverage of the linearised interval (respondent as cluster)
   against the naive interval that treats every answer as independent, on respondents with a
   latent satisfaction.

Run from the repository root:  .venv/bin/python bench/coverage_sim.py [--proportions-only]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import integrate, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import (  # noqa: E402
    PROPORTION_METHODS,
    composite_from_moments,
    group_moments,
    interval_from_estimate,
    proportion_ci,
)

LEVEL = 0.95
NS = (10, 20, 30, 50, 100, 200, 500, 1000)
PS_TABLE = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
P_RANGE = (0.5, 0.99)
PS_FINE = np.linspace(*P_RANGE, 4901)


def exact_coverage(method: str, n: int, ps: np.ndarray) -> np.ndarray:
    k = np.arange(n + 1)
    low, high = proportion_ci(k, n, method=method, level=LEVEL)
    pmf = stats.binom.pmf(k[None, :], n, ps[:, None])
    covers = (low[None, :] <= ps[:, None]) & (ps[:, None] <= high[None, :])
    return (pmf * covers).sum(axis=1)


def coverage_infimum(method: str, n: int, p_range: tuple[float, float] = P_RANGE) -> tuple[float, float]:
    """Exact infimum of the coverage over p in ``p_range``, and the p where it is approached.

    Coverage is P(a <= X <= b) for the k in a <= k <= b whose intervals contain p; between
    two interval end points that set is fixed and the probability is unimodal in p, so the
    infimum is a one-sided limit at an end point (or a range end).  Each is computed exactly:
    just left of c, the intervals with low = c do not cover; just right, those with high = c.
    """
    a, b = p_range
    k = np.arange(n + 1)
    low, high = (np.asarray(x) for x in proportion_ci(k, n, method=method, level=LEVEL))
    cand = np.concatenate([low, high, [a, b]])
    cand = np.unique(cand[(cand >= a) & (cand <= b)])
    pmf = stats.binom.pmf(k[None, :], n, cand[:, None])
    c = cand[:, None]
    at = (pmf * ((low <= c) & (c <= high))).sum(axis=1)
    left = np.where(cand > a, (pmf * ((low < c) & (c <= high))).sum(axis=1), np.inf)
    right = np.where(cand < b, (pmf * ((low <= c) & (c < high))).sum(axis=1), np.inf)
    values = np.stack([at, left, right], axis=1)
    i = int(np.argmin(values.min(axis=1)))
    return float(values[i].min()), float(cand[i])


def proportion_tables() -> None:
    print(f"Exact coverage of nominal {LEVEL:.0%} intervals for a single proportion")
    print(f"\nMean (over {PS_FINE.size} points) / exact infimum of coverage over p in [0.50, 0.99]:")
    header = f"{'method':<16}" + "".join(f"{'n=' + str(n):>13}" for n in NS)
    print(header)
    for method in PROPORTION_METHODS:
        cells = []
        for n in NS:
            cov = exact_coverage(method, n, PS_FINE)
            cells.append(f"{cov.mean():.3f}/{coverage_infimum(method, n)[0]:.3f}")
        print(f"{method:<16}" + "".join(f"{c:>13}" for c in cells))
    for method in PROPORTION_METHODS:
        print(f"\n{method}: coverage by n (rows) and p (columns)")
        print(f"{'n':>6}" + "".join(f"{p:>8.2f}" for p in PS_TABLE))
        for n in NS:
            cov = exact_coverage(method, n, np.array(PS_TABLE))
            print(f"{n:>6}" + "".join(f"{c:>8.3f}" for c in cov))


# ---------------------------------------------------------------- composite index
ITEMS = 17
ASPECT_OF = np.repeat(np.arange(5), [3, 4, 4, 3, 3])
ITEM_EFFECT = np.linspace(-0.6, 0.6, ITEMS)
ANSWER_RATE = 0.9


def true_composite(mu: float, sd: float) -> float:
    """Population composite: each item share is E[logistic(latent + effect)] (answering is independent)."""
    shares = np.array([
        integrate.quad(lambda z, e=e: stats.norm.pdf(z) / (1 + np.exp(-(mu + sd * z + e))), -12, 12)[0]
        for e in ITEM_EFFECT
    ])
    return float(np.mean([shares[ASPECT_OF == a].mean() for a in range(5)]))


def composite_coverage(n: int, reps: int, mu: float, sd: float, rng: np.random.Generator) -> dict[str, float]:
    latent = rng.normal(mu, sd, (reps * n, 1))
    prob = 1 / (1 + np.exp(-(latent + ITEM_EFFECT[None, :])))
    ans = rng.random((reps * n, ITEMS)) < ANSWER_RATE
    sat = (rng.random((reps * n, ITEMS)) < prob) & ans
    groups = np.repeat(np.arange(reps), n)
    _, nn, sums, cross = group_moments(np.hstack([sat, ans]).astype(float), groups)
    truth = true_composite(mu, sd)
    out = {}
    for method in ("wilson", "logit", "beta"):
        res = composite_from_moments(nn, sums, cross, ASPECT_OF, method=method)
        out[f"linearised {method}"] = float(np.mean((res.low <= truth) & (truth <= res.high)))
    res = composite_from_moments(nn, sums, cross, ASPECT_OF)
    low, high = interval_from_estimate(res.estimate, res.se_naive, n=nn, method="wilson")
    out["naive wilson"] = float(np.mean((low <= truth) & (truth <= high)))
    out["mean deff"] = float(np.nanmean(res.deff))
    out["truth"] = truth
    return out


def composite_tables(reps: int = 2000) -> None:
    rng = np.random.default_rng(2024)
    print(f"\nComposite index (17 items in 5 aspects, latent N(mu, sd) on the logit scale), "
          f"Monte Carlo coverage of nominal {LEVEL:.0%}, {reps} samples each (MC s.e. about 0.005):")
    cols = ("linearised wilson", "linearised logit", "linearised beta", "naive wilson", "mean deff")
    print(f"{'n':>5}{'mu':>5}{'sd':>5}{'truth':>8}" + "".join(f"{c:>19}" for c in cols))
    for n in (20, 50, 200):
        for mu, sd in ((1.5, 1.0), (2.5, 1.5)):
            res = composite_coverage(n, reps, mu, sd, rng)
            print(f"{n:>5}{mu:>5}{sd:>5}{res['truth']:>8.3f}" + "".join(f"{res[c]:>19.3f}" for c in cols))


if __name__ == "__main__":
    proportion_tables()
    if "--proportions-only" not in sys.argv[1:]:
        composite_tables()
