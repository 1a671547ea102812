"""Design-based estimation: reproduces R `survey` on its api example data.

Reference (Lumley, R package `survey`, data(api); the package's documented example output, as
quoted in shared/reference/README.md):

* svymean(~api00, svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat))
      mean 662.29, SE 9.4089
* svymean(~api00, svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1))
      mean 644.17, SE 23.542
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from analysis import (
    combine_units,
    design_variance,
    kish_effective_n,
    survey_mean,
    survey_proportion,
    unit_volume_weights,
)


def _strat(d: dict[str, np.ndarray]) -> dict:
    return {"weights": d["pw"].astype(float), "strata": d["stype"], "fpc": d["fpc"].astype(float)}


def _clus(d: dict[str, np.ndarray]) -> dict:
    return {"weights": d["pw"].astype(float), "clusters": d["dnum"], "fpc": d["fpc"].astype(float)}


def test_r_survey_apistrat_stratified_mean(apistrat: dict) -> None:
    est = survey_mean(apistrat["api00"].astype(float), **_strat(apistrat))
    # R prints: api00 662.29 9.4089
    assert round(est.estimate, 2) == 662.29
    assert round(est.se, 4) == 9.4089
    assert est.df == 200 - 3
    assert (est.n_psu, est.n_strata) == (200, 3)


def test_r_survey_apiclus1_cluster_mean(apiclus1: dict) -> None:
    est = survey_mean(apiclus1["api00"].astype(float), **_clus(apiclus1))
    # R prints: api00 644.17 23.542
    assert round(est.estimate, 2) == 644.17
    assert round(est.se, 3) == 23.542
    assert est.df == 15 - 1
    assert (est.n_psu, est.n_strata) == (15, 1)
    # Clustering by district costs a lot of precision for a school-level mean.
    assert est.deff > 5


@pytest.mark.parametrize("design", ["strat", "clus"])
def test_proportion_is_mean_of_indicator(design: str, apistrat: dict, apiclus1: dict) -> None:
    data, kw = (apistrat, _strat(apistrat)) if design == "strat" else (apiclus1, _clus(apiclus1))
    y = data["sch.wide"] == "Yes"
    mean = survey_mean(y.astype(float), **kw)
    prop = survey_proportion(y, **kw)
    assert prop.estimate == pytest.approx(mean.estimate, abs=1e-15)
    assert prop.se == pytest.approx(mean.se, abs=1e-15)
    assert prop.df == (197 if design == "strat" else 14)  # PSUs - strata
    assert prop.low < prop.estimate < prop.high
    # Korn-Graubard beta interval, written out as in R's svyciprop(method="beta").
    p, n, df = prop.estimate, prop.n, prop.df
    n_eff = p * (1 - p) / prop.se**2 * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    assert prop.low == pytest.approx(stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1), abs=1e-10)
    assert prop.high == pytest.approx(stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p)), abs=1e-10)


def test_proportion_methods(apiclus1: dict) -> None:
    y = apiclus1["awards"] == "Yes"
    kw = _clus(apiclus1)
    res = {m: survey_proportion(y, method=m, **kw) for m in ("beta", "logit", "wilson", "mean")}
    t = stats.t.ppf(0.975, 14)
    p, se = res["mean"].estimate, res["mean"].se
    assert (res["mean"].low, res["mean"].high) == pytest.approx((p - t * se, p + t * se), abs=1e-12)
    lg = special.logit(p)
    assert res["logit"].low == pytest.approx(special.expit(lg - t * se / (p * (1 - p))), abs=1e-12)
    for r in res.values():
        assert r.low < p < r.high
    with pytest.raises(ValueError, match="0/1"):
        survey_proportion(apiclus1["api00"].astype(float), **kw)


def test_deff_is_one_under_simple_random_sampling() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=400)
    assert survey_mean(y).deff == pytest.approx(1.0, abs=1e-12)
    # SRS without replacement of 400 from 10,000 with fpc: still 1 (both sides carry 1 - f).
    w = np.full(400, 10_000 / 400)
    est = survey_mean(y, weights=w, fpc=np.full(400, 10_000.0))
    assert est.deff == pytest.approx(1.0, abs=1e-12)
    assert est.se == pytest.approx(np.std(y, ddof=1) / np.sqrt(400) * np.sqrt(1 - 400 / 10_000), rel=1e-12)


def test_kish_effective_n() -> None:
    w = np.array([1.0, 1.0, 2.0, 4.0])
    assert kish_effective_n(w) == pytest.approx(8.0**2 / 22.0)
    assert survey_mean(np.arange(4.0), weights=w).n_eff == pytest.approx(64 / 22)


def test_fpc_as_fraction_equals_fpc_as_population(apistrat: dict) -> None:
    kw = _strat(apistrat)
    stype = apistrat["stype"]
    n_h = {s: np.sum(stype == s) for s in np.unique(stype)}
    fraction = np.array([n_h[s] for s in stype]) / kw["fpc"]
    a = survey_mean(apistrat["api00"].astype(float), **kw)
    b = survey_mean(apistrat["api00"].astype(float), weights=kw["weights"], strata=stype, fpc=fraction)
    assert a.se == pytest.approx(b.se, rel=1e-12)


def test_design_variance_lonely_psu_and_validation() -> None:
    z = np.array([1.0, 2.0, 3.0, 10.0])
    strata = np.array(["a", "a", "a", "b"])
    with pytest.raises(ValueError, match="single PSU"):
        design_variance(z, strata=strata)
    certainty = design_variance(z, strata=strata, lonely_psu="certainty")
    assert certainty.variance == pytest.approx(3 / 2 * 2.0)  # stratum a only: n/(n-1) * SS
    adjust = design_variance(z, strata=strata, lonely_psu="adjust")
    assert adjust.variance == pytest.approx(certainty.variance + (10.0 - z.sum() / 4) ** 2)
    with pytest.raises(ValueError, match="constant within"):
        design_variance(z, strata=np.array(["a", "a", "b", "b"]), fpc=np.array([10.0, 11.0, 10.0, 10.0]))
    with pytest.raises(ValueError, match="smaller than"):
        design_variance(z, fpc=np.full(4, 3.0))
    with pytest.raises(ValueError, match="lonely_psu"):
        design_variance(z, lonely_psu="drop")


def test_clusters_nested_within_strata() -> None:
    # The same cluster label in two strata is two PSUs (R's nest=TRUE).
    z = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    res = design_variance(z, strata=np.array([0, 0, 0, 1, 1, 1]), clusters=np.array([1, 1, 2, 1, 2, 2]))
    assert res.n_psu == 4 and res.df == 2
    # Stratum 0: PSU totals 3 and 3 contribute 0; stratum 1: totals 4 and 11, n/(n-1) * SS = 2 * 24.5.
    assert res.variance == pytest.approx(2 * 24.5)


def test_combine_units_by_volume() -> None:
    est = np.array([0.9, 0.8])
    se = np.array([0.02, 0.04])
    res = combine_units(est, se, volumes=np.array([3000.0, 1000.0]))
    assert res.estimate == pytest.approx(0.875)
    assert res.se == pytest.approx(np.sqrt(0.75**2 * 0.02**2 + 0.25**2 * 0.04**2))
    assert res.weighting == "volume" and res.low < 0.875 < res.high
    # Responses are not the weights: a unit with many responses but little volume counts little.
    assert res.estimate != pytest.approx((0.9 * 50 + 0.8 * 400) / 450)


def test_combine_units_fallback_to_responses() -> None:
    res = combine_units([0.9, 0.8], [0.02, 0.04], volumes=[3000.0, np.nan], n_responses=[100, 300])
    assert res.weighting == "responses" and res.units_without_volume == 1
    assert res.estimate == pytest.approx((0.9 * 100 + 0.8 * 300) / 400)
    with pytest.raises(ValueError, match="n_responses"):
        combine_units([0.9, 0.8], [0.02, 0.04], volumes=[3000.0, np.nan])


def test_combine_units_equals_respondent_level_stratified_estimate() -> None:
    # Each response weighted volume/responses, units as strata: the same estimate and SE as
    # combining unit proportions with se_u**2 = p_u (1 - p_u) / (n_u - 1).
    rng = np.random.default_rng(11)
    n_u = np.array([40, 120, 15])
    vol = np.array([5000.0, 800.0, 2500.0])
    unit = np.repeat(np.arange(3), n_u)
    y = (rng.random(unit.size) < np.array([0.9, 0.7, 0.8])[unit]).astype(float)
    w = unit_volume_weights(unit, vol)
    assert w[unit == 0][0] == pytest.approx(5000 / 40)
    resp = survey_mean(y, weights=w, strata=unit)
    p_u = np.array([y[unit == u].mean() for u in range(3)])
    comb = combine_units(p_u, np.sqrt(p_u * (1 - p_u) / (n_u - 1)), vol)
    assert comb.estimate == pytest.approx(resp.estimate, abs=1e-12)
    assert comb.se == pytest.approx(resp.se, abs=1e-12)
    w_dict = unit_volume_weights(np.array(["x", "y", "x"]), {"x": 10.0, "y": 4.0})
    np.testing.assert_allclose(w_dict, [5.0, 4.0, 5.0])
    with pytest.raises(ValueError, match="no volume"):
        unit_volume_weights(np.array(["x", "z"]), {"x": 1.0})


def test_survey_validation() -> None:
    with pytest.raises(ValueError, match="weights"):
        survey_mean([1.0, 2.0], weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        survey_mean([1.0, 2.0], weights=[-1.0, 1.0])
    with pytest.raises(ValueError, match="non-empty"):
        survey_mean([])
    with pytest.raises(ValueError, match="level"):
        survey_proportion([0, 1, 1], level=1.5)
