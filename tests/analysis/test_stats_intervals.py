"""Tests for analysis.intervals: reference implementations, published values, edges, properties."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    PROPORTION_METHODS,
    ci_undefined_reason,
    effective_sample_size,
    interval_from_estimate,
    proportion_ci,
)

# A grid of (k, n): every k for small n, a spread of k for larger n.
GRID = [(k, n) for n in (1, 2, 3, 4, 5, 7, 10, 13, 20, 29, 50) for k in range(n + 1)]
GRID += [
    (k, n)
    for n in (100, 148, 263, 1000, 10_000)
    for k in sorted({0, 1, 2, 5, n // 10, n // 3, n // 2, n - 2, n - 1, n})
]
K_GRID = np.array([k for k, _ in GRID], dtype=float)
N_GRID = np.array([n for _, n in GRID], dtype=float)

# Our name -> statsmodels.stats.proportion.proportion_confint name.
STATSMODELS_NAMES = {
    "wilson": "wilson",
    "agresti_coull": "agresti_coull",
    "clopper_pearson": "beta",
    "jeffreys": "jeffreys",
    "wald": "normal",
}


# --------------------------------------------------------------------------
# Agreement with independent implementations
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(STATSMODELS_NAMES))
@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_matches_statsmodels(method: str, level: float) -> None:
    low, high = proportion_ci(K_GRID, N_GRID, method=method, level=level)
    ref_low, ref_high = proportion_confint(K_GRID, N_GRID, alpha=1 - level, method=STATSMODELS_NAMES[method])
    ref_low, ref_high = np.asarray(ref_low, float), np.asarray(ref_high, float)
    if method in ("jeffreys", "agresti_coull"):
        # Documented difference: we set low = 0 at k = 0 and high = 1 at k = n (Brown, Cai &
        # DasGupta 2001 for Jeffreys); statsmodels keeps the raw beta quantiles / clipped values.
        ref_low = np.where(K_GRID == 0, 0.0, ref_low)
        ref_high = np.where(K_GRID == N_GRID, 1.0, ref_high)
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-10)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("method", "scipy_name"), [("clopper_pearson", "exact"), ("wilson", "wilson"), ("wilson_cc", "wilsoncc")]
)
def test_matches_scipy_binomtest(method: str, scipy_name: str) -> None:
    low, high = proportion_ci(K_GRID, N_GRID, method=method)
    for i, (k, n) in enumerate(GRID):
        ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method=scipy_name)
        assert low[i] == pytest.approx(ref.low, abs=1e-10), (k, n)
        assert high[i] == pytest.approx(ref.high, abs=1e-10), (k, n)


def _midp_reference(k: int, n: int, level: float) -> tuple[float, float]:
    """Mid-p bounds by scalar brentq on the binomial distribution (independent of our solver)."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else optimize.brentq(
        lambda p: stats.binom.sf(k, n, p) + 0.5 * stats.binom.pmf(k, n, p) - a, 0, 1, xtol=1e-15, rtol=1e-15)
    hi = 1.0 if k == n else optimize.brentq(
        lambda p: stats.binom.cdf(k - 1, n, p) + 0.5 * stats.binom.pmf(k, n, p) - a, 0, 1, xtol=1e-15, rtol=1e-15)
    return lo, hi


@pytest.mark.parametrize("level", [0.80, 0.95, 0.998])
def test_midp_matches_root_finding_on_binomial(level: float) -> None:
    low, high = proportion_ci(K_GRID, N_GRID, method="midp", level=level)
    for i, (k, n) in enumerate(GRID):
        ref_low, ref_high = _midp_reference(k, n, level)
        assert low[i] == pytest.approx(ref_low, abs=1e-10), (k, n)
        assert high[i] == pytest.approx(ref_high, abs=1e-10), (k, n)


# --------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------

# Newcombe RG (1998a). Two-sided confidence intervals for the single proportion: comparison of
# seven methods. Statistics in Medicine 17:857-872, Table I (4 decimals).  Method numbers are
# Newcombe's: 1 Wald, 3 Wilson score, 4 score with continuity correction, 5 Clopper-Pearson
# "exact", 6 mid-p.  Every value below was also recomputed with scipy/statsmodels (and, for mid-p,
# the brentq reference above) and agrees to the 4 printed decimals.
NEWCOMBE_TABLE_I = {
    (81, 263): {
        "wald": (0.2522, 0.3638),
        "wilson": (0.2553, 0.3662),
        "wilson_cc": (0.2535, 0.3682),
        "clopper_pearson": (0.2527, 0.3676),
        "midp": (0.2544, 0.3658),
    },
    (15, 148): {
        "wald": (0.0527, 0.1500),
        "wilson": (0.0624, 0.1605),
        "wilson_cc": (0.0598, 0.1644),
        "clopper_pearson": (0.0578, 0.1617),
        "midp": (0.0601, 0.1581),
    },
    (0, 20): {
        "wilson": (0.0, 0.1611),
        "wilson_cc": (0.0, 0.2005),
        "clopper_pearson": (0.0, 0.1684),
        "midp": (0.0, 0.1391),
    },
    (1, 29): {
        "wilson": (0.0061, 0.1718),
        "wilson_cc": (0.0018, 0.1963),
        "clopper_pearson": (0.0009, 0.1776),
        "midp": (0.0017, 0.1585),
    },
}


@pytest.mark.parametrize("case", sorted(NEWCOMBE_TABLE_I))
def test_newcombe_1998_table_1(case: tuple[int, int]) -> None:
    k, n = case
    for method, (ref_low, ref_high) in NEWCOMBE_TABLE_I[case].items():
        low, high = proportion_ci(k, n, method=method)
        assert round(low, 4) == pytest.approx(ref_low, abs=1e-12), (case, method)
        assert round(high, 4) == pytest.approx(ref_high, abs=1e-12), (case, method)


def test_domain_worked_example_wilson() -> None:
    # shared/domain.md: 180 satisfied of 200 gives 0.8506-0.9343 (Wilson, 95%).
    low, high = proportion_ci(180, 200)
    assert round(low, 4) == 0.8506
    assert round(high, 4) == 0.9343


# --------------------------------------------------------------------------
# Edges, shapes, validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_end_point_conventions(method: str) -> None:
    for n in (1, 5, 50, 10_000):
        low0, high0 = proportion_ci(0, n, method=method)
        lown, highn = proportion_ci(n, n, method=method)
        assert low0 == 0.0
        assert highn == 1.0
        if method != "wald":  # Wald is degenerate at the ends, kept for comparison only
            assert 0.0 < high0 < 1.0
            assert 0.0 < lown < 1.0
            # Symmetry of the binomial: k -> n - k mirrors the interval.
            assert high0 == pytest.approx(1.0 - lown, abs=1e-12)


def test_clopper_pearson_end_points_closed_form() -> None:
    # k = 0: upper = 1 - (alpha/2)**(1/n); k = n: lower = (alpha/2)**(1/n).
    for n in (1, 7, 100):
        assert proportion_ci(0, n, "clopper_pearson")[1] == pytest.approx(1 - 0.025 ** (1 / n), abs=1e-12)
        assert proportion_ci(n, n, "clopper_pearson")[0] == pytest.approx(0.025 ** (1 / n), abs=1e-12)
        # mid-p at k = 0: (1 - p)**n / 2 = alpha / 2.
        assert proportion_ci(0, n, "midp")[1] == pytest.approx(1 - 0.05 ** (1 / n), abs=1e-12)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_n_zero_gives_nan_without_warning(method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = proportion_ci(0, 0, method=method)
        arr_low, arr_high = proportion_ci(np.array([0, 3, 0]), np.array([0, 10, 5]), method=method)
    assert np.isnan(low) and np.isnan(high)
    assert np.isnan(arr_low[0]) and np.isnan(arr_high[0])
    assert np.all(np.isfinite(arr_low[1:])) and np.all(np.isfinite(arr_high[1:]))


def test_undefined_reason() -> None:
    assert ci_undefined_reason(3, 10) is None
    assert "n = 0" in ci_undefined_reason(0, 0)
    reasons = ci_undefined_reason(np.array([0, 1]), np.array([0, 2]))
    assert reasons[0] is not None and reasons[1] is None


def test_scalar_in_python_float_out_and_broadcasting() -> None:
    low, high = proportion_ci(3, 10)
    assert type(low) is float and type(high) is float
    low, high = proportion_ci(np.arange(3)[:, None], np.array([[5, 10, 20, 40]]))
    assert low.shape == high.shape == (3, 4)
    assert isinstance(proportion_ci(np.int64(3), np.int64(10))[0], float)


@pytest.mark.parametrize(
    ("k", "n", "kwargs", "message"),
    [
        (-1, 10, {}, "successes must be >= 0"),
        (11, 10, {}, "must not exceed n"),
        (3, -1, {}, "n must be >= 0"),
        (2.5, 10, {"method": "clopper_pearson"}, "whole counts"),
        (2.5, 10, {"method": "midp"}, "whole counts"),
        (2, 10.5, {"method": "wilson_cc"}, "whole counts"),
        (3, 10, {"level": 0}, "level"),
        (3, 10, {"level": 1}, "level"),
        (3, 10, {"level": 95}, "level"),
        (3, 10, {"level": "high"}, "level"),
        (3, 10, {"method": "bayes"}, "unknown method"),
        (float("nan"), 10, {}, "finite"),
        ("three", 10, {}, "numeric"),
        (np.array([1, 2]), np.array([3, 4, 5]), {}, "broadcast"),
    ],
)
def test_validation(k: object, n: object, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        proportion_ci(k, n, **kwargs)


def test_fractional_counts_allowed_for_smooth_methods() -> None:
    # Effective (design-adjusted) counts are fractional; Wilson is smooth in (k, n).
    low, high = proportion_ci(37.5, 50.25, method="wilson")
    assert 0 < low < 37.5 / 50.25 < high < 1


def test_large_vector_is_fast_enough() -> None:
    k = np.random.default_rng(0).integers(0, 500, 200_000)
    low, high = proportion_ci(k, 500)
    assert low.shape == (200_000,) and np.all(low <= high)


# --------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------

counts = st.integers(min_value=1, max_value=3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=60, deadline=None)
@given(kn=counts, method=st.sampled_from(PROPORTION_METHODS), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_contains_estimate_and_is_in_unit_interval(kn: tuple[int, int], method: str, level: float) -> None:
    k, n = kn
    low, high = proportion_ci(k, n, method=method, level=level)
    assert 0.0 <= low <= k / n + 1e-12
    assert k / n - 1e-12 <= high <= 1.0


@settings(max_examples=60, deadline=None)
@given(kn=counts, method=st.sampled_from(PROPORTION_METHODS))
def test_wider_at_higher_level(kn: tuple[int, int], method: str) -> None:
    k, n = kn
    low95, high95 = proportion_ci(k, n, method=method, level=0.95)
    low99, high99 = proportion_ci(k, n, method=method, level=0.99)
    assert low99 <= low95 + 1e-12
    assert high99 >= high95 - 1e-12


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), method=st.sampled_from(PROPORTION_METHODS))
def test_monotone_in_successes_and_symmetric(n: int, method: str) -> None:
    k = np.arange(n + 1)
    low, high = proportion_ci(k, n, method=method)
    if method != "wald":  # Wald's clipped bounds are not monotone near the ends
        assert np.all(np.diff(low) >= -1e-12)
        assert np.all(np.diff(high) >= -1e-12)
    np.testing.assert_allclose(low, 1.0 - high[::-1], atol=1e-10)


# --------------------------------------------------------------------------
# interval_from_estimate
# --------------------------------------------------------------------------


def test_from_estimate_reduces_to_wilson_and_cp_for_binomial_se() -> None:
    k, n = 42, 60
    p = k / n
    se = np.sqrt(p * (1 - p) / n)
    assert interval_from_estimate(p, se, method="wilson") == pytest.approx(proportion_ci(k, n, "wilson"), abs=1e-12)
    cp = proportion_ci(k, n, "clopper_pearson")
    assert interval_from_estimate(p, se, method="beta") == pytest.approx(cp, abs=1e-9)
    assert effective_sample_size(p, se) == pytest.approx(n)


def test_from_estimate_logit_and_mean_formulas() -> None:
    p, se, df = 0.8, 0.03, 14
    t = stats.t.ppf(0.975, df)
    lo, hi = interval_from_estimate(p, se, method="logit", df=df)
    logit = np.log(p / (1 - p))
    assert lo == pytest.approx(1 / (1 + np.exp(-(logit - t * se / (p * (1 - p))))), abs=1e-12)
    assert hi == pytest.approx(1 / (1 + np.exp(-(logit + t * se / (p * (1 - p))))), abs=1e-12)
    assert interval_from_estimate(p, se, method="mean", df=df) == pytest.approx((p - t * se, p + t * se), abs=1e-12)


def test_from_estimate_korn_graubard_df_adjustment_as_in_r() -> None:
    # R survey::svyciprop(method="beta"):
    #   n.eff <- p(1-p)/var * (qt(alpha/2, nrow - 1) / qt(alpha/2, degf))^2
    #   ci <- c(qbeta(alpha/2, n.eff*p, n.eff*(1-p)+1), qbeta(1-alpha/2, n.eff*p+1, n.eff*(1-p)))
    p, se, n, df = 0.71, 0.033, 183, 14
    n_eff = p * (1 - p) / se**2 * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    ref = (stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1), stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p)))
    assert interval_from_estimate(p, se, n=n, method="beta", df=df) == pytest.approx(ref, abs=1e-10)


def test_from_estimate_zero_se_falls_back_to_n() -> None:
    # Every respondent satisfied: se = 0, so the effective size is the number of respondents.
    assert interval_from_estimate(1.0, 0.0, n=25) == pytest.approx(proportion_ci(25, 25), abs=1e-12)
    assert interval_from_estimate(0.0, 0.0, n=25, method="logit") == pytest.approx(
        proportion_ci(0, 25, "clopper_pearson"), abs=1e-9)
    low, high = interval_from_estimate(1.0, 0.0)
    assert np.isnan(low) and np.isnan(high)


def test_from_estimate_vectorised_and_validated() -> None:
    low, high = interval_from_estimate(np.array([0.5, 0.9]), np.array([0.05, 0.02]), n=np.array([100, 200]))
    assert low.shape == (2,) and np.all(low < high)
    with pytest.raises(ValueError, match="p must lie"):
        interval_from_estimate(1.2, 0.1)
    with pytest.raises(ValueError, match="se must be"):
        interval_from_estimate(0.5, -0.1)
    with pytest.raises(ValueError, match="unknown method"):
        interval_from_estimate(0.5, 0.1, method="asin")
    with pytest.raises(ValueError, match="df"):
        interval_from_estimate(0.5, 0.1, df=0)


@pytest.mark.parametrize("bad", ["12", b"12", ["3", "4"], np.array(["3", "4"]), np.array([3, "4"], dtype=object)])
def test_numeric_strings_are_not_counts(bad: object) -> None:
    # NumPy parses "12" as 12.0; a count that arrives as text is a caller's bug, not data.
    with pytest.raises(ValueError, match="not text"):
        proportion_ci(bad, 20)
    with pytest.raises(ValueError, match="not text"):
        proportion_ci(1, bad)
    with pytest.raises(ValueError, match="level"):
        proportion_ci(3, 10, level="0.95")


def test_decimal_counts_from_sql_are_still_numbers() -> None:
    from decimal import Decimal

    assert proportion_ci(Decimal(18), Decimal(20)) == proportion_ci(18, 20)
    low, _ = proportion_ci(np.array([Decimal(18), Decimal(5)], dtype=object), np.array([20, 10]))
    assert low.shape == (2,)


# --------------------------------------------------------------------------
# Issue 13: the lines of docs/STATISTICS.md that were untrue
# --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def _coverage_bench():
    spec = importlib.util.spec_from_file_location("coverage_sim", REPO / "bench" / "coverage_sim.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wilson_coverage_infimum_at_n30_is_found_at_a_jump_not_on_a_grid() -> None:
    bench = _coverage_bench()
    inf, where = bench.coverage_infimum("wilson", 30)
    assert round(inf, 3) == 0.894 and where == pytest.approx(0.9815, abs=1e-4)
    # A grid of 197 points misses the dip; one just past the jump finds it.
    grid = bench.exact_coverage("wilson", 30, np.linspace(0.5, 0.99, 197))
    assert round(grid.min(), 3) == 0.903
    assert bench.exact_coverage("wilson", 30, np.array([where + 1e-9]))[0] == pytest.approx(inf, abs=1e-6)
    # No point of a fine grid is below the infimum.
    assert bench.exact_coverage("wilson", 30, np.linspace(0.5, 0.99, 200001)).min() >= inf - 1e-12


def test_statistics_doc_states_the_exact_coverage_figures() -> None:
    bench = _coverage_bench()
    text = (REPO / "docs" / "STATISTICS.md").read_text(encoding="utf-8")
    for label, method in (("Wilson", "wilson"), ("Wald", "wald")):
        row = re.search(rf"^\| {label} \| ([0-9.]+) \| ([0-9.]+) \|$", text, re.M)
        assert row, f"no {label} row in the coverage table"
        mean = bench.exact_coverage(method, 30, bench.PS_FINE).mean()
        assert (float(row.group(1)), float(row.group(2))) == (round(mean, 3), round(bench.coverage_infimum(method, 30)[0], 3))


def test_agresti_coull_lower_bound_is_zero_at_one_success() -> None:
    # Its Wald-type bounds are clipped to [0, 1]: low = 0 at k = 1 (n >= 9 at 95%), high = 1 at k = n - 1.
    for n in (9, 10, 30, 200, 1000):
        low, high = proportion_ci(np.array([1, n - 1]), n, method="agresti_coull")
        assert low[0] == 0.0 and high[1] == 1.0
    assert proportion_ci(1, 8, method="agresti_coull")[0] > 0
    # Every method but Agresti-Coull and Wald: low = 0 exactly when k = 0, high = 1 exactly when k = n.
    for method in set(PROPORTION_METHODS) - {"agresti_coull", "wald"}:
        for n in (1, 5, 9, 30, 200):
            k = np.arange(n + 1)
            low, high = proportion_ci(k, n, method=method)
            np.testing.assert_array_equal(low == 0, k == 0)
            np.testing.assert_array_equal(high == 1, k == n)
    text = (REPO / "docs" / "STATISTICS.md").read_text(encoding="utf-8")
    assert "exactly when k = 0, and `high = 1` exactly when k = n, for every method." not in text
