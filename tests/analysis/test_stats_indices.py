"""Indices with the respondent as cluster: definitions, moments form, bootstrap check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import (
    aspect_indices,
    aspect_indices_from_moments,
    circular01_levels,
    composite_from_moments,
    composite_index,
    comprehensive_satisfaction,
    cross_product_pairs,
    encode_answers,
    group_moments,
    item_shares,
    mean_score,
    mean_score_from_moments,
    overall_rate,
    proportion_ci,
    quick_rating_index,
    ratio_from_moments,
    to_0_100,
    unit_volume_weights,
)

# Five SIPAS aspects with 3, 4, 4, 3, 3 items (access, procedure, civil servants, result, feedback).
ASPECTS = np.repeat(["access", "procedure", "staff", "result", "feedback"], [3, 4, 4, 3, 3])


def simulate(n: int, seed: int, answer_rate: float = 0.9, latent_sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Respondents with a latent satisfaction shared by all their answers (the source of correlation)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(1.6, latent_sd, n)
    item_effect = np.linspace(-0.6, 0.6, ASPECTS.size)
    prob = 1.0 / (1.0 + np.exp(-(latent[:, None] + item_effect[None, :])))
    answered = rng.random((n, ASPECTS.size)) < answer_rate
    satisfied = (rng.random((n, ASPECTS.size)) < prob) & answered
    return satisfied.astype(float), answered.astype(float)


def moments_of(satisfied: np.ndarray, answered: np.ndarray, groups: np.ndarray):
    return group_moments(np.hstack([satisfied, answered]), groups)


# --------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------


def test_definitions_on_a_hand_example() -> None:
    # 3 respondents, aspect A = items 0, 1; aspect B = item 2.  nan = no opinion.
    values = np.array([[5, 4, 2], [3, np.nan, 4], [4, 5, np.nan]])
    sat, ans = encode_answers(values)
    np.testing.assert_array_equal(sat, [[1, 1, 0], [0, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(ans, [[1, 1, 1], [1, 0, 1], [1, 1, 0]])
    shares = item_shares(sat, ans)
    np.testing.assert_allclose(shares.estimate, [2 / 3, 2 / 2, 1 / 2])  # no-opinion out of the denominator
    aspects = ["A", "A", "B"]
    by_aspect = aspect_indices(sat, ans, aspects)
    assert by_aspect["A"].estimate == pytest.approx((2 / 3 + 1) / 2)
    assert by_aspect["B"].estimate == pytest.approx(1 / 2)
    comp = composite_index(sat, ans, aspects)
    assert comp.estimate == pytest.approx(((2 / 3 + 1) / 2 + 1 / 2) / 2)
    # Health: pooled satisfied answers / answered items = 5 / 7.
    assert overall_rate(sat, ans).estimate == pytest.approx(5 / 7)
    # Comprehensive: respondent 3 only (respondent 1 has a 2, respondent 2 a 3).
    assert comprehensive_satisfaction(sat, ans).estimate == pytest.approx(1 / 3)
    ms = mean_score(values)
    assert ms.mean == pytest.approx(27 / 7)
    assert ms.score_100 == pytest.approx((27 / 7 - 1) / 4 * 100)
    assert to_0_100(4.0) == 75.0 and to_0_100(3, scale_points=4) == pytest.approx(200 / 3)


def test_item_shares_are_binomial_wilson() -> None:
    sat, ans = simulate(120, 1)
    res = item_shares(sat, ans)
    low, high = proportion_ci(sat.sum(0), ans.sum(0))
    np.testing.assert_allclose(res.low, low)
    np.testing.assert_allclose(res.high, high)
    cp = item_shares(sat, ans, method="clopper_pearson")
    np.testing.assert_allclose(cp.low, proportion_ci(sat.sum(0), ans.sum(0), "clopper_pearson")[0])


def test_ratio_form_equals_mean_of_item_shares_when_all_items_answered() -> None:
    sat, ans = simulate(200, 2, answer_rate=1.0)
    codes = np.unique(ASPECTS, return_inverse=True)[1]
    per_aspect_s = np.stack([sat[:, codes == a].sum(1) for a in range(5)], axis=1)
    per_aspect_a = np.stack([ans[:, codes == a].sum(1) for a in range(5)], axis=1)
    exact = composite_index(sat, ans, ASPECTS)
    ratio = composite_index(per_aspect_s, per_aspect_a)
    assert ratio.estimate == pytest.approx(exact.estimate, abs=1e-12)
    assert ratio.se == pytest.approx(exact.se, abs=1e-12)
    # With missing answers the two definitions differ; the item-level one is the domain's.
    sat, ans = simulate(200, 2, answer_rate=0.7)
    per_aspect_s = np.stack([sat[:, codes == a].sum(1) for a in range(5)], axis=1)
    per_aspect_a = np.stack([ans[:, codes == a].sum(1) for a in range(5)], axis=1)
    assert composite_index(per_aspect_s, per_aspect_a).estimate != pytest.approx(
        composite_index(sat, ans, ASPECTS).estimate, abs=1e-6)


def test_linearised_se_of_a_single_ratio_matches_the_textbook_formula() -> None:
    # Ratio estimator under SRS of respondents: V = n/(n-1) * sum (y_i - R x_i)**2 / X**2.
    sat, ans = simulate(150, 4)
    y, x = sat.sum(1), ans.sum(1)
    keep = x > 0
    y, x = y[keep], x[keep]
    r = y.sum() / x.sum()
    n = y.size
    v = n / (n - 1) * np.sum((y - r * x) ** 2) / x.sum() ** 2
    res = overall_rate(sat, ans)
    assert res.estimate == pytest.approx(r)
    assert res.se == pytest.approx(np.sqrt(v), rel=1e-12)
    assert res.n == n


def test_unanswered_items_and_aspects_are_left_out() -> None:
    sat, ans = simulate(60, 5)
    ans[:, 0] = 0  # nobody answered item 0 (aspect "access")
    sat[:, 0] = 0
    full = composite_index(sat, ans, ASPECTS)
    by_aspect = aspect_indices(sat, ans, ASPECTS)
    shares = item_shares(sat, ans)
    assert np.isnan(shares.estimate[0])
    assert by_aspect["access"].estimate == pytest.approx(np.mean(shares.estimate[1:3]))
    assert full.estimate == pytest.approx(np.mean([r.estimate for r in by_aspect.values()]))
    # A whole aspect unanswered: the composite averages the others.
    ans[:, :3] = 0
    sat[:, :3] = 0
    res = composite_index(sat, ans, ASPECTS)
    others = aspect_indices(sat, ans, ASPECTS)
    assert np.isnan(others["access"].estimate)
    rest = [others[a].estimate for a in ("procedure", "staff", "result", "feedback")]
    assert res.estimate == pytest.approx(np.mean(rest))


def test_all_satisfied_uses_respondents_as_effective_size() -> None:
    ans = np.ones((12, ASPECTS.size))
    res = composite_index(ans, ans, ASPECTS)
    assert res.estimate == 1.0 and res.se == 0.0
    assert (res.low, res.high) == pytest.approx(proportion_ci(12, 12), abs=1e-12)


def test_quick_rating_and_circular01() -> None:
    res = quick_rating_index([5, 10, 40, 45])
    assert res.estimate == pytest.approx(0.85)
    assert (res.low, res.high) == pytest.approx(proportion_ci(85, 100))
    many = quick_rating_index(np.array([[5, 10, 40, 45], [0, 0, 0, 0]]))
    assert np.isnan(many.estimate[1]) and np.isnan(many.low[1])
    assert circular01_levels([5, 10, 40, 45]) == {"very_satisfied": 45.0, "satisfied": 40.0, "dissatisfied": 15.0}


def test_validation() -> None:
    with pytest.raises(ValueError, match="satisfied <= answered"):
        composite_index([[1, 1]], [[1, 0]])
    with pytest.raises(ValueError, match="one label per column"):
        composite_index([[1, 1]], [[1, 1]], aspects=["a"])
    with pytest.raises(ValueError, match="same shape"):
        composite_index([[1, 1]], [[1, 1, 1]])
    with pytest.raises(ValueError, match="not available for a linearised"):
        composite_index([[1, 1]], [[1, 1]], method="midp")
    with pytest.raises(ValueError, match="values must lie"):
        mean_score([[6.0, 1.0]])
    with pytest.raises(ValueError, match="cross must be"):
        composite_from_moments(np.array([3.0]), np.ones((1, 4)), np.ones((1, 3, 3)))


# --------------------------------------------------------------------------
# Moments form == respondent level (to 1e-12)
# --------------------------------------------------------------------------


def test_composite_from_moments_equals_respondent_level_for_many_groups() -> None:
    sat, ans = simulate(900, 6)
    groups = np.random.default_rng(6).integers(0, 7, 900)
    labels, n, sums, cross = moments_of(sat, ans, groups)
    vec = composite_from_moments(n, sums, cross, ASPECTS)
    asp = aspect_indices_from_moments(n, sums, cross, ASPECTS)
    for g, label in enumerate(labels):
        rows = groups == label
        ref = composite_index(sat[rows], ans[rows], ASPECTS)
        for field in ("estimate", "se", "low", "high", "se_naive"):
            assert getattr(vec, field)[g] == pytest.approx(getattr(ref, field), abs=1e-12), field
        assert vec.n_eff[g] == pytest.approx(ref.n_eff, rel=1e-12)
        ref_asp = aspect_indices(sat[rows], ans[rows], ASPECTS)
        for a, key in enumerate(ref_asp):
            assert asp.estimate[g, a] == pytest.approx(ref_asp[key].estimate, abs=1e-12)
            assert asp.se[g, a] == pytest.approx(ref_asp[key].se, abs=1e-12)
            assert asp.low[g, a] == pytest.approx(ref_asp[key].low, abs=1e-12)


def test_moments_packed_cross_products_and_scalar_group() -> None:
    sat, ans = simulate(80, 7)
    _, n, sums, cross = moments_of(sat, ans, np.zeros(80))
    p = sums.shape[1]
    packed = np.stack([cross[:, j, k] for j, k in cross_product_pairs(p)], axis=1)
    a = composite_from_moments(n, sums, packed, ASPECTS)
    b = composite_from_moments(n[0], sums[0], cross[0], ASPECTS)
    assert isinstance(b.estimate, float)
    assert a.se[0] == pytest.approx(b.se, abs=1e-15)
    assert b.se == pytest.approx(composite_index(sat, ans, ASPECTS).se, abs=1e-12)


def test_moments_with_volume_weights_match_weighted_stratified_respondent_level() -> None:
    # An organisation of units (service points), each response weighted by unit volume / responses,
    # units as strata.  Unit 3 has a single respondent (R's lonely.psu = "adjust").
    sizes = np.array([150, 40, 75, 1])
    unit = np.repeat(np.arange(4), sizes)
    sat, ans = simulate(unit.size, 8)
    volume = np.array([12_000.0, 900.0, 4_000.0, 50.0])
    w = unit_volume_weights(unit, volume)
    ref = composite_index(sat, ans, ASPECTS, weights=w, strata=unit)
    _, n, sums, cross = moments_of(sat, ans, unit)
    org = composite_from_moments(n, sums, cross, ASPECTS, weights=volume / n, org=np.zeros(4))
    for field in ("estimate", "se", "low", "high", "se_naive"):
        assert getattr(org, field)[0] == pytest.approx(getattr(ref, field), abs=1e-12), field
    # Two organisations in one call.
    org2 = composite_from_moments(n, sums, cross, ASPECTS, weights=volume / n, org=np.array(["x", "x", "y", "y"]))
    rows = np.isin(unit, [0, 1])
    ref_x = composite_index(sat[rows], ans[rows], ASPECTS, weights=w[rows], strata=unit[rows])
    assert org2.estimate[0] == pytest.approx(ref_x.estimate, abs=1e-12)
    assert org2.se[0] == pytest.approx(ref_x.se, abs=1e-12)


def test_ratio_and_mean_score_from_moments() -> None:
    sat, ans = simulate(300, 9)
    groups = np.random.default_rng(9).integers(0, 4, 300)
    y, x = sat.sum(1), ans.sum(1)
    labels, n, sums, cross = group_moments(np.stack([y, x], 1), groups)
    res = ratio_from_moments(n, sums[:, 0], sums[:, 1], cross[:, 0, 0], cross[:, 1, 1], cross[:, 0, 1])
    values = np.where(ans > 0, np.where(sat > 0, 5.0, 2.0), np.nan)
    v, m = np.nansum(values, 1), (~np.isnan(values)).sum(1).astype(float)
    _, n2, s2, c2 = group_moments(np.stack([v, m], 1), groups)
    ms = mean_score_from_moments(n2, s2[:, 0], s2[:, 1], c2[:, 0, 0], c2[:, 1, 1], c2[:, 0, 1])
    for g, label in enumerate(labels):
        rows = groups == label
        ref = overall_rate(sat[rows], ans[rows])
        assert res.estimate[g] == pytest.approx(ref.estimate, abs=1e-12)
        assert res.se[g] == pytest.approx(ref.se, abs=1e-12)
        assert res.low[g] == pytest.approx(ref.low, abs=1e-12)
        ref_ms = mean_score(values[rows])
        assert ms.mean[g] == pytest.approx(ref_ms.mean, abs=1e-12)
        assert ms.se[g] == pytest.approx(ref_ms.se, abs=1e-12)
        assert ms.low_100[g] == pytest.approx(ref_ms.low_100, abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 60), rate=st.floats(0.3, 1.0))
def test_moments_equal_respondent_level_property(seed: int, n: int, rate: float) -> None:
    sat, ans = simulate(n, seed, answer_rate=rate)
    if not np.all(ans.sum(1) > 0):
        keep = ans.sum(1) > 0
        sat, ans = sat[keep], ans[keep]
    if sat.shape[0] < 2:
        return
    ref = composite_index(sat, ans, ASPECTS)
    _, nn, sums, cross = moments_of(sat, ans, np.zeros(sat.shape[0]))
    mom = composite_from_moments(nn[0], sums[0], cross[0], ASPECTS)
    assert mom.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert mom.se == pytest.approx(ref.se, abs=1e-12)
    shares = item_shares(sat, ans).estimate
    assert np.nanmin(shares) - 1e-12 <= ref.estimate <= np.nanmax(shares) + 1e-12


# --------------------------------------------------------------------------
# The respondent is the cluster: bootstrap check
# --------------------------------------------------------------------------


def test_linearised_se_matches_bootstrap_and_exceeds_naive() -> None:
    n = 400
    sat, ans = simulate(n, 2024, latent_sd=1.2)
    res = composite_index(sat, ans, ASPECTS)
    codes = np.unique(ASPECTS, return_inverse=True)[1]
    onehot = (codes[:, None] == np.arange(5)[None, :]).astype(float)
    rng = np.random.default_rng(7)
    B = 2000
    # Resample respondents (the clusters) with multinomial counts; recompute the composite.
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=B).astype(float)
    shares = (counts @ sat) / (counts @ ans)  # (B, items)
    boot = (shares @ onehot / onehot.sum(0)).mean(axis=1)
    boot_se = boot.std(ddof=1)
    # Monte Carlo error of a bootstrap SE with B = 2000 is about 1.6%; allow 10%.
    assert res.se == pytest.approx(boot_se, rel=0.10)
    # Treating the ~6,000 answers as independent understates the error markedly.
    assert res.se_naive < 0.75 * res.se
    assert res.deff > 1.5


# --------------------------------------------------------------------------
# Finite population correction
# --------------------------------------------------------------------------


def test_item_share_with_fpc_equals_survey_mean_on_r_survey_apistrat(apistrat: dict) -> None:
    """A share with weights, strata and fpc is the weighted mean of a 0/1 variable, whose
    design-based SE (fpc included) is checked against R's survey package in test_stats_survey."""
    from analysis import survey_mean

    y = (apistrat["sch.wide"] == "Yes").astype(float)
    kw = {"weights": apistrat["pw"].astype(float), "strata": apistrat["stype"], "fpc": apistrat["fpc"].astype(float)}
    ref = survey_mean(y, **kw)
    share = item_shares(y[:, None], np.ones((y.size, 1)), method="wald", **kw)
    assert share.estimate[0] == pytest.approx(ref.estimate, abs=1e-12)
    assert share.se[0] == pytest.approx(ref.se, rel=1e-12)
    without = item_shares(y[:, None], np.ones((y.size, 1)), weights=kw["weights"], strata=kw["strata"], method="wald")
    assert share.se[0] < without.se[0]  # 200 schools of 6,194: the correction is small but real
    # With fpc the design effect compares with simple random sampling without replacement (R's
    # deff=TRUE): the naive variance takes the same 1 - n/N as survey_mean's. (The two reference
    # variances differ otherwise: the index's includes the weighting effect, survey_mean's not.)
    ref_without = survey_mean(y, weights=kw["weights"], strata=kw["strata"])
    assert share.deff[0] / without.deff[0] == pytest.approx(ref.deff / ref_without.deff, rel=1e-9)
    assert share.deff[0] / without.deff[0] != pytest.approx(1.0, rel=1e-6)


def test_fpc_as_population_or_fraction_and_its_limits() -> None:
    sat, ans = simulate(120, 21)
    unit = np.repeat([0, 1, 2], [60, 40, 20])
    population = np.array([150.0, 400.0, 20.0])[unit]  # the last unit answered in full: a census
    plain = composite_index(sat, ans, ASPECTS, strata=unit)
    counted = composite_index(sat, ans, ASPECTS, strata=unit, fpc=population)
    fraction = composite_index(sat, ans, ASPECTS, strata=unit, fpc=np.array([60 / 150, 40 / 400, 1.0])[unit])
    assert counted.estimate == plain.estimate
    assert counted.se == pytest.approx(fraction.se, rel=1e-12) and counted.se < plain.se
    assert counted.low > plain.low and counted.high < plain.high
    # A population so large that sampling is with replacement in effect: no change.
    huge = composite_index(sat, ans, ASPECTS, strata=unit, fpc=np.full(unit.size, 1e15))
    assert huge.se == pytest.approx(plain.se, rel=1e-9)
    # Everybody answered (one stratum, N = n): no sampling error at all.
    census = composite_index(sat, ans, ASPECTS, fpc=np.full(unit.size, float(unit.size)))
    assert census.se == 0.0
    with pytest.raises(ValueError, match="smaller than the number of sampled"):
        composite_index(sat, ans, ASPECTS, strata=unit, fpc=np.array([150.0, 400.0, 19.0])[unit])
    _, n, sums, cross = moments_of(sat, ans, unit)
    with pytest.raises(ValueError, match="smaller than the number of sampled"):
        composite_from_moments(n, sums, cross, ASPECTS, fpc=np.array([150.0, 400.0, 19.0]))


def test_moments_with_fpc_match_respondent_level_with_fpc() -> None:
    """Per group, and groups combined into organisations by volume (the reports' shape), the
    moments form with a population per group equals the respondent-level estimate with the
    group as stratum and its population as fpc, for every index kind that takes fpc."""
    sizes = np.array([150, 40, 75, 1])
    unit = np.repeat(np.arange(4), sizes)
    sat, ans = simulate(unit.size, 22)
    volume = np.array([400.0, 90.0, 75.0, 3.0])  # unit 2 answered in full; unit 3 is a lonely PSU
    w = unit_volume_weights(unit, volume)
    _, n, sums, cross = moments_of(sat, ans, unit)

    ref = composite_index(sat, ans, ASPECTS, weights=w, strata=unit, fpc=volume[unit])
    org = composite_from_moments(n, sums, cross, ASPECTS, weights=volume / n, org=np.zeros(4), fpc=volume)
    for field in ("estimate", "se", "low", "high", "se_naive", "deff"):
        assert getattr(org, field)[0] == pytest.approx(getattr(ref, field), rel=1e-9, abs=1e-12), field
    aspects_ref = aspect_indices(sat, ans, ASPECTS, weights=w, strata=unit, fpc=volume[unit])
    aspects = aspect_indices_from_moments(n, sums, cross, ASPECTS, weights=volume / n, org=np.zeros(4), fpc=volume)
    assert [aspects_ref[a].se for a in aspects_ref] == pytest.approx(list(aspects.se[0]), rel=1e-9)

    per_group = composite_from_moments(n, sums, cross, ASPECTS, fpc=volume)
    for g in range(3):
        rows = unit == g
        alone = composite_index(sat[rows], ans[rows], ASPECTS, fpc=np.full(rows.sum(), volume[g]))
        assert per_group.se[g] == pytest.approx(alone.se, rel=1e-9, abs=1e-15)
    assert per_group.se[2] == 0.0  # the unit that answered in full

    # The pooled ratio (health's overall rate) and the mean score take fpc the same way.
    y, x = sat.sum(axis=1), ans.sum(axis=1)
    m = group_moments(np.column_stack([y, x, y * y, x * x, y * x]), unit)
    rate_ref = overall_rate(sat, ans, weights=w, strata=unit, fpc=volume[unit])
    rate = ratio_from_moments(m[1], *m[2].T, weights=volume / m[1], org=np.zeros(4), fpc=volume)
    assert rate.se[0] == pytest.approx(rate_ref.se, rel=1e-9)
    values = np.where(ans > 0, 3.0 + sat, np.nan)
    v, k = np.nansum(values, axis=1), (ans > 0).sum(axis=1).astype(float)
    mm = group_moments(np.column_stack([v, k, v * v, k * k, v * k]), unit)
    score_ref = mean_score(values, weights=w, strata=unit, fpc=volume[unit])
    score = mean_score_from_moments(mm[1], *mm[2].T, weights=volume / mm[1], org=np.zeros(4), fpc=volume)
    assert score.se[0] == pytest.approx(score_ref.se, rel=1e-9)


# --------------------------------------------------------------------------
# Issue 13: codes off the scale, one respondent
# --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 6, 9, -1, 4.5])
def test_codes_outside_the_scale_are_refused_not_counted_dissatisfied(code: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        encode_answers(np.array([[5, 4, code]]))


def test_quick_rating_scale_and_satisfied_codes_on_it() -> None:
    sat, ans = encode_answers(np.array([[4], [3], [2], [1], [np.nan]]), satisfied_values=(3, 4), scale=(1, 2, 3, 4))
    np.testing.assert_array_equal(sat.ravel(), [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(ans.ravel(), [1, 1, 1, 1, 0])
    with pytest.raises(ValueError, match="scale"):
        encode_answers(np.array([[5]]), satisfied_values=(3, 4), scale=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="satisfied_values"):
        encode_answers(np.array([[4]]), satisfied_values=(4, 5), scale=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="not text"):
        encode_answers([["5", "4"]])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=ASPECTS.size, max_size=ASPECTS.size))
def test_one_respondent_gives_the_same_se_in_both_forms(row: list[float]) -> None:
    # One respondent is one cluster: its variance cannot be estimated, in either form.
    answered = (~np.isnan(row)).astype(float)[None, :]
    satisfied = np.nan_to_num(np.array(row))[None, :]
    if answered.sum() == 0:
        return
    _, n, sums, cross = moments_of(satisfied, answered, np.zeros(1))
    pairs = [
        (composite_index(satisfied, answered, ASPECTS), composite_from_moments(n[0], sums[0], cross[0], ASPECTS)),
        (composite_index(satisfied, answered, ASPECTS, weights=[3.0], strata=[0]),
         composite_from_moments(n, sums, cross, ASPECTS, weights=[3.0], org=[0])),
        (overall_rate(satisfied, answered),
         ratio_from_moments(1.0, satisfied.sum(), answered.sum(), satisfied.sum() ** 2, answered.sum() ** 2,
                            satisfied.sum() * answered.sum())),
    ]
    for resp, mom in pairs:
        assert np.isnan(resp.se) and np.isnan(mom.se)
        np.testing.assert_equal(np.ravel(mom.se)[0], resp.se)
        assert np.ravel(mom.low)[0] == pytest.approx(resp.low, abs=1e-12)
        assert np.ravel(mom.high)[0] == pytest.approx(resp.high, abs=1e-12)
    asp = aspect_indices(satisfied, answered, ASPECTS)
    asp_m = aspect_indices_from_moments(n, sums, cross, ASPECTS)
    for a, key in enumerate(asp):
        np.testing.assert_equal(asp_m.se[0, a], asp[key].se)


def test_one_respondent_mean_score_se_is_undefined_in_both_forms() -> None:
    values = np.array([[4.0, 5.0, 2.0]])
    v, m = np.nansum(values), 3.0
    a = mean_score(values)
    b = mean_score_from_moments(1.0, v, m, v * v, m * m, v * m)
    assert np.isnan(a.se) and np.isnan(b.se)
