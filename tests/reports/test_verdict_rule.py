"""The dashboard's verdict and the sample-size planner use one test (issue 13): 19 satisfied
of 19 shows a unit above 85% at one-sided 95% (shared/domain.md), and an inconclusive unit
says how many more responses would settle it."""
from __future__ import annotations

import numpy as np
import pytest

import analysis
from surveyapp.reports.estimates import Estimate
from surveyapp.reports.verdicts import TargetRef, judge


def quick(k: int, n: int) -> Estimate:
    low, high = analysis.proportion_ci(np.array([k]), np.array([n]))
    return Estimate(k / n, float(low[0]), float(high[0]), n, float(n), n - k, *analysis.verdict_bounds(k, n))


@pytest.mark.parametrize("target, smallest", [(0.85, 19), (0.90, 29), (0.95, 59)])
def test_all_satisfied_is_met_from_the_planners_count(app, target, smallest):
    ref = TargetRef(target, False, "Nghị quyết 76/NQ-CP")
    assert analysis.min_n_all_satisfied(target) == smallest
    assert judge(quick(smallest, smallest), ref).status == "met"
    below = judge(quick(smallest - 1, smallest - 1), ref)
    assert below.status == "inconclusive"
    assert below.more_needed == 1


def test_inconclusive_unit_says_how_many_more_would_settle_it(app):
    ref = TargetRef(0.85, False, "Nghị quyết 76/NQ-CP")
    v = judge(quick(18, 20), ref)  # 90% of 20: inconclusive against 85%
    assert v.status == "inconclusive"
    assert v.more_needed == analysis.responses_to_settle(18, 20, 0.85) and v.more_needed > 0
    assert judge(quick(180, 200), ref).more_needed is None  # settled: met


def test_no_respondents_is_no_data_even_for_a_100_percent_target(app):
    e = Estimate(None, None, None, 0)
    assert judge(e, TargetRef(1.0, False, "kế hoạch tỉnh")).status == "no_data"
