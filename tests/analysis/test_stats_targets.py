"""Target judgement, ranking policy and sample-size planning (worked examples from shared/domain.md)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import (
    KHANH_HOA_POLICY,
    RankingPolicy,
    composite_from_moments,
    group_moments,
    quick_rating_index,
    responses_to_settle,
    verdict_bounds,
    verdict_bounds_from_estimate,
    judge,
    judge_array,
    min_n_all_satisfied,
    proportion_ci,
    sample_size_for_margin,
    sample_size_for_power,
)
from analysis.planning import _wilson_half_width
from analysis._validation import z_quantile


# --------------------------------------------------------------------------
# judge
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "status", "admin"), [(0.85, "met", True), (0.90, "inconclusive", True), (0.95, "not_met", False)]
)
def test_domain_example_180_of_200(target: float, status: str, admin: bool) -> None:
    # domain.md: 180/200, Wilson 95% 0.8506-0.9343: met vs 85%, inconclusive vs 90%, not met vs 95%.
    low, high = proportion_ci(180, 200)
    res = judge(0.9, low, high, target)
    assert res.status == status
    assert res.admin_met is admin
    assert res.shortfall == pytest.approx(max(target - 0.9, 0.0))
    assert res.estimate == 0.9 and not res.certainty_target


def test_strict_target_boundary() -> None:
    assert judge(0.95, 0.90, 0.97, 0.90).status == "met"
    assert judge(0.95, 0.90, 0.97, 0.90, strict=True).status == "inconclusive"
    assert judge(0.88, 0.85, 0.90, 0.90, strict=True).status == "not_met"
    assert judge(0.90, 0.85, 0.93, 0.90, strict=True).admin_met is False
    assert judge(0.90, 0.85, 0.93, 0.90).admin_met is True


def test_hundred_percent_target() -> None:
    low, high = proportion_ci(50, 50)
    ok = judge(1.0, low, high, 1.0, n_dissatisfied=0)
    assert ok.status == "met" and ok.certainty_target and "No interval can confirm" in ok.note
    bad = judge(49 / 50, *proportion_ci(49, 50), 1.0, n_dissatisfied=1)
    assert bad.status == "not_met" and bad.admin_met is False and "1 dissatisfied" in bad.note
    unknown = judge(1.0, low, high, 1.0)
    assert unknown.status == "inconclusive" and "No interval can confirm" in unknown.note
    with pytest.raises(ValueError, match="never be met"):
        judge(1.0, low, high, 1.0, strict=True)
    assert ok.label_vi == "Đạt" and bad.label_vi == "Không đạt" and unknown.label_vi == "Chưa đủ căn cứ"


def test_judge_validation_and_nan() -> None:
    with pytest.raises(ValueError, match="target"):
        judge(0.9, 0.8, 0.95, 90)
    with pytest.raises(ValueError, match="low <= estimate"):
        judge(0.7, 0.8, 0.95, 0.9)
    assert judge(float("nan"), float("nan"), float("nan"), 0.9).status == "no_data"


def test_judge_array_matches_scalar() -> None:
    rng = np.random.default_rng(0)
    n = rng.integers(1, 400, 300)
    k = rng.binomial(n, 0.9)
    low, high = proportion_ci(k, n)
    est = k / n
    arr = judge_array(est, low, high, 0.9)
    for i in range(300):
        one = judge(est[i], low[i], high[i], 0.9)
        assert arr.status[i] == one.status and arr.admin_met[i] == one.admin_met
    cert = judge_array(est, low, high, 1.0, n_dissatisfied=n - k)
    assert set(cert.status[(n - k) == 0]) <= {"met"} and set(cert.status[(n - k) > 0]) <= {"not_met"}


def test_khanh_hoa_policy() -> None:
    assert KHANH_HOA_POLICY.can_rank_good(0.80) is False  # 80% or lower cannot be "good"
    assert KHANH_HOA_POLICY.can_rank_good(0.8001) is True
    assert KHANH_HOA_POLICY.can_rank_good(0.95, late_share=0.05) is False  # 5% or more late dossiers
    assert KHANH_HOA_POLICY.can_rank_good(0.95, late_share=0.049) is True
    assert KHANH_HOA_POLICY.barred_reasons(0.95, 0.01) == []
    assert len(KHANH_HOA_POLICY.barred_reasons(0.75, 0.10)) == 2
    np.testing.assert_array_equal(KHANH_HOA_POLICY.can_rank_good(np.array([0.7, 0.85])), [False, True])
    stricter = RankingPolicy(name="other", min_index=0.85, index_inclusive=False, max_late_share=None)
    assert stricter.can_rank_good(0.85) is True and stricter.can_rank_good(0.849) is False


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------


def test_min_n_with_nobody_dissatisfied() -> None:
    # domain.md: 19 for 0.85, 29 for 0.90, 59 for 0.95 (one-sided 95%, exact binomial: target**n <= 0.05).
    assert min_n_all_satisfied(0.85) == 19
    assert min_n_all_satisfied(0.90) == 29
    assert min_n_all_satisfied(0.95) == 59
    assert 0.85**19 <= 0.05 < 0.85**18


def test_min_n_with_some_dissatisfied_is_minimal() -> None:
    for d in (1, 3):
        n = min_n_all_satisfied(0.9, n_dissatisfied=d)
        assert stats.binom.sf(n - d - 1, n, 0.9) <= 0.05 < stats.binom.sf(n - d - 2, n - 1, 0.9)
    with pytest.raises(ValueError, match="100%"):
        min_n_all_satisfied(1.0)


def test_power_sample_size() -> None:
    # domain.md: telling 0.85 from 0.90 at one-sided alpha 0.05 with 80% power takes 283.
    assert sample_size_for_power(0.85, 0.90) == 283
    assert sample_size_for_power(0.85, 0.90, one_sided=False) > 283


@pytest.mark.parametrize("p", [0.5, 0.8, 0.85, 0.9, 0.97, 1.0])
@pytest.mark.parametrize("margin", [0.02, 0.05, 0.1])
def test_sample_size_for_margin_is_minimal(p: float, margin: float) -> None:
    z = z_quantile(0.95)
    n = sample_size_for_margin(p, margin)
    assert _wilson_half_width(p, n, z) <= margin
    assert n == 1 or _wilson_half_width(p, n - 1, z) > margin
    # And the half-width of the actual interval at k = p n agrees.
    low, high = proportion_ci(p * n, n)
    assert (high - low) / 2 <= margin + 1e-12
    wald = sample_size_for_margin(p, margin, method="wald")
    assert wald == max(int(np.ceil(z * z * p * (1 - p) / margin**2 - 1e-9)), 1)


# --------------------------------------------------------------------------
# No respondents is never evidence (issue 13)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [0.85, 0.90, 1.0])
def test_no_respondents_is_no_data_for_every_target(target: float) -> None:
    nan = float("nan")
    # The 100% target used to be judged on n_dissatisfied alone: 0 dissatisfied of 0 was "met".
    for n_dissatisfied in (None, 0):
        res = judge(nan, nan, nan, target, n_dissatisfied=n_dissatisfied)
        assert res.status == "no_data" and res.admin_met is False
        assert res.label_vi == "Chưa có dữ liệu"
        assert judge(nan, nan, nan, target, n_dissatisfied=n_dissatisfied, n=0).status == "no_data"
    arr = judge_array([nan, 1.0], [nan, 0.9], [nan, 1.0], target, n_dissatisfied=[0, 0], n=[0, 30])
    assert arr.status[0] == "no_data" and not arr.admin_met[0]
    assert arr.status[1] != "no_data"


def test_zero_respondents_with_a_number_as_estimate_is_no_data() -> None:
    # n = 0 wins over whatever a caller put in the estimate.
    assert judge(1.0, 1.0, 1.0, 1.0, n_dissatisfied=0, n=0).status == "no_data"
    assert judge_array([1.0], [1.0], [1.0], 0.9, n=[0]).status[0] == "no_data"


# --------------------------------------------------------------------------
# judge and judge_array refuse the same inputs (issue 13)
# --------------------------------------------------------------------------

BAD_JUDGE_INPUTS = [
    # (estimate, low, high, target, kwargs, message)
    (0.9, 0.95, 0.85, 0.9, {}, "low <= estimate <= high"),
    (0.7, 0.8, 0.95, 0.9, {}, "low <= estimate <= high"),
    (0.9, 0.8, 0.95, 0.9, {"n_dissatisfied": -1}, "n_dissatisfied"),
    (0.9, 0.8, 0.95, 0.9, {"n_dissatisfied": 1.5}, "whole number"),
    (0.9, 0.8, 0.95, 1.0, {"n_dissatisfied": -1}, "n_dissatisfied"),
    (0.9, 0.8, 0.95, 1.0, {"n_dissatisfied": 0.5}, "whole number"),
    (0.9, 0.8, 0.95, 1.0, {"n_dissatisfied": 3, "n": 2}, "cannot exceed"),
    (0.9, 0.8, 0.95, 0.9, {"n": -2}, r"n \(respondents\) must"),
    (0.9, 0.8, 0.95, 0.9, {"n": 2.5}, "whole number"),
    (1.2, 0.8, 1.3, 0.9, {}, r"\[0, 1\]"),
    ("0.9", 0.8, 0.95, 0.9, {}, "number"),
    (0.9, 0.8, 0.95, "0.9", {}, "number"),
    (0.9, 0.8, 0.95, 90, {}, "target"),
    (0.9, 0.8, 0.95, 1.0, {"strict": True}, "never be met"),
]


@pytest.mark.parametrize(("est", "low", "high", "target", "kwargs", "message"), BAD_JUDGE_INPUTS)
def test_judge_and_judge_array_refuse_the_same_inputs(est, low, high, target, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        judge(est, low, high, target, **kwargs)
    array_kwargs = {key: (value if key == "strict" else [value]) for key, value in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        judge_array([est], [low], [high], target, **array_kwargs)


def test_judge_array_refuses_one_bad_group_among_good_ones() -> None:
    with pytest.raises(ValueError, match="low <= estimate <= high"):
        judge_array([0.9, 0.9], [0.8, 0.95], [0.95, 0.85], 0.9)
    with pytest.raises(ValueError, match="n_dissatisfied"):
        judge_array([0.9, 0.9], [0.8, 0.8], [0.95, 0.95], 1.0, n_dissatisfied=[0, -1])


# --------------------------------------------------------------------------
# The verdict and the planner use the same test (issue 13)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "n_min"), [(0.85, 19), (0.90, 29), (0.95, 59)])
def test_verdict_agrees_with_the_planner_when_nobody_is_dissatisfied(target: float, n_min: int) -> None:
    # domain.md: 19 / 29 / 59 responses, all satisfied, show the index exceeds the target (one-sided 95%).
    assert min_n_all_satisfied(target) == n_min
    assert judge(1.0, *verdict_bounds(n_min, n_min), target).status == "met"
    assert judge(1.0, *verdict_bounds(n_min - 1, n_min - 1), target).status == "inconclusive"
    # The two-sided Wilson 95% interval, which the dashboard used to judge by, disagreed.
    assert judge(1.0, *proportion_ci(n_min, n_min), target).status == "inconclusive"


@pytest.mark.parametrize(("n_resp", "status"), [(19, "met"), (18, "inconclusive")])
def test_every_index_carries_the_verdict_bounds(n_resp: int, status: str) -> None:
    # The composite of respondents all satisfied on every item, and the quick rating of taps.
    sat = np.ones((n_resp, 4))
    _, n, sums, cross = group_moments(np.hstack([sat, sat]), np.zeros(n_resp))
    comp = composite_from_moments(n, sums, cross, aspects=[0, 0, 1, 1])
    assert judge(comp.estimate[0], comp.verdict_low[0], comp.verdict_high[0], 0.85).status == status
    quick = quick_rating_index([0, 0, 3, n_resp - 3])
    assert judge(quick.estimate, quick.verdict_low, quick.verdict_high, 0.85).status == status


@pytest.mark.parametrize(
    ("target", "status"), [(0.85, "met"), (0.90, "inconclusive"), (0.95, "not_met")]
)
def test_domain_example_180_of_200_under_the_verdict_test(target: float, status: str) -> None:
    # The reported interval stays Wilson 95% (0.8506-0.9343); the verdict bounds (one-sided 95%
    # exact, 0.8580-0.9327) keep the domain's three verdicts.
    low, high = verdict_bounds(180, 200)
    assert (round(low, 4), round(high, 4)) == (0.858, 0.9327)
    assert judge(0.9, low, high, target).status == status


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 400), st.data(), st.sampled_from([0.8, 0.85, 0.9, 0.95]))
def test_verdict_is_the_one_sided_exact_binomial_test(n: int, data: st.DataObject, target: float) -> None:
    k = data.draw(st.integers(0, n))
    status = judge(k / n, *verdict_bounds(k, n), target).status
    # met: the exact test of p < target rejects at one-sided 5%; not met: the test of p >= target does.
    p_met = stats.binom.sf(k - 1, n, target)  # P(X >= k | target)
    p_not = stats.binom.cdf(k, n, target)  # P(X <= k | target)
    if abs(p_met - 0.05) > 1e-9 and abs(p_not - 0.05) > 1e-9:
        expected = "met" if p_met < 0.05 else "not_met" if p_not < 0.05 else "inconclusive"
        assert status == expected


def test_planner_with_dissatisfied_matches_the_verdict() -> None:
    for target in (0.85, 0.9):
        for d in (1, 2, 5):
            n = min_n_all_satisfied(target, n_dissatisfied=d)
            assert judge((n - d) / n, *verdict_bounds(n - d, n), target).status == "met"
            assert judge((n - 1 - d) / (n - 1), *verdict_bounds(n - 1 - d, n - 1), target).status != "met"


def test_verdict_bounds_from_an_estimate_reduce_to_the_exact_bounds() -> None:
    # With n_eff = n (SE of a simple proportion) the Korn-Graubard beta bounds are the exact ones.
    k, n = 45, 50
    p = k / n
    low, high = verdict_bounds_from_estimate(p, np.sqrt(p * (1 - p) / n), n=n)
    assert (low, high) == pytest.approx(verdict_bounds(k, n), abs=1e-9)
    with pytest.raises(ValueError, match="whole counts"):
        verdict_bounds(4.5, 10)


# --------------------------------------------------------------------------
# responses_to_settle
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "n_min"), [(0.85, 19), (0.90, 29), (0.95, 59)])
def test_responses_to_settle_all_satisfied(target: float, n_min: int) -> None:
    assert responses_to_settle(10, 10, target) == n_min - 10
    assert responses_to_settle(n_min, n_min, target) == 0
    assert responses_to_settle(1, 1, target) == n_min - 1


def test_responses_to_settle_at_80_percent_power() -> None:
    # domain.md: telling 0.85 from 0.90 at one-sided 5% with 80% power takes 283 responses.
    assert responses_to_settle(18, 20, 0.85, power=0.80) == 283 - 20
    assert responses_to_settle(90, 100, 0.85, power=0.80) == 283 - 100
    assert responses_to_settle(20, 20, 0.85, power=0.80) == 0  # already met
    assert responses_to_settle(10, 10, 0.85, power=0.80) == 9  # all satisfied: the exact count


@pytest.mark.parametrize(("k", "n", "target"), [(27, 30, 0.85), (16, 20, 0.9), (45, 50, 0.85), (85, 100, 0.9),
                                                (7, 10, 0.8), (3, 4, 0.9),
                                                # Large units, near the target: millions more to settle.
                                                (880_400, 1_000_000, 0.88), (879_700, 1_000_000, 0.88),
                                                (45_090, 50_000, 0.9), (1_000, 1_100, 0.9), (0, 5, 0.1)])
@pytest.mark.parametrize("strict", [False, True])
def test_responses_to_settle_is_the_smallest_number_that_settles(k: int, n: int, target: float, strict: bool) -> None:
    rate = k / n
    m = responses_to_settle(k, n, target, strict=strict)
    assert m is not None and m > 0

    def status(extra: int) -> str:
        nn = n + extra
        low, high = verdict_bounds_from_estimate(rate, float("nan"), n=nn)
        return judge(rate, low, high, target, strict=strict).status

    assert status(m) == ("met" if rate > target else "not_met")
    assert status(m - 1) == "inconclusive"


def test_responses_to_settle_edge_cases() -> None:
    assert responses_to_settle(180, 200, 0.85) == 0  # already met
    assert responses_to_settle(150, 200, 0.9) == 0  # already not met
    assert responses_to_settle(0, 0, 0.85) is None  # no data: no proportion to extrapolate
    assert responses_to_settle(17, 20, 0.85) is None  # at the target it never settles
    assert responses_to_settle(9, 10, 0.9, strict=True) is None
    assert responses_to_settle(20, 20, 1.0) == 0  # a 100% target is judged on the count, already settled
    assert responses_to_settle(19, 20, 1.0) == 0
    for bad, message in (((11, 10, 0.85), "exceed"), ((-1, 10, 0.85), ">= 0"), ((2.5, 10, 0.85), "whole"),
                         (("9", 10, 0.85), "not text"), ((9, 10, 1.2), "target")):
        with pytest.raises(ValueError, match=message):
            responses_to_settle(*bad)
    with pytest.raises(ValueError, match="power"):
        responses_to_settle(9, 10, 0.85, power=1.5)


_numbers = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 0.5, 0.85, 0.9, 1.0, float("nan")]))
_counts = st.one_of(st.none(), st.integers(-2, 40), st.sampled_from([0.5, 2.5]))


@settings(max_examples=400, deadline=None)
@given(_numbers, _numbers, _numbers, st.sampled_from([0.0, 0.85, 0.9, 1.0, 1.2]), st.booleans(), _counts, _counts)
def test_judge_and_judge_array_agree_on_any_input(est, low, high, target, strict, d, n) -> None:
    def outcome(fn):
        try:
            return fn()
        except ValueError as exc:
            return str(exc)

    one = outcome(lambda: judge(est, low, high, target, strict=strict, n_dissatisfied=d, n=n))
    many = outcome(lambda: judge_array([est], [low], [high], target, strict=strict,
                                       n_dissatisfied=None if d is None else [d], n=None if n is None else [n]))
    if isinstance(one, str) or isinstance(many, str):
        assert one == many  # the same refusal, with the same message
    else:
        assert one.status == many.status[0] and one.admin_met == bool(many.admin_met[0])
