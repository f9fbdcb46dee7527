"""Golden values from scipy / statsmodels (tests/abtest/reference/make_reference.py).

Tolerances:
* closed-form results (z, Fisher, Welch, delta method, CUPED, chi-square, corrections):
  relative 1e-7 and absolute 1e-10 -- the same formulas in double precision; the delta-method
  reference uses numerical gradients, which agree to about 1e-8 relative;
* sample sizes: equal after rounding up (ours is an integer, statsmodels returns a float);
* MDE: relative 1e-6 (two root finders);
* Bayesian quantities against 4,000,000 Monte Carlo draws: absolute 2e-3 on probabilities and
  3% relative (plus 1e-6 absolute) on expected losses;
* bootstrap against scipy.stats.bootstrap (different random draws): 10% of the interval width.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from workbench.abtest import minimum_detectable_effect, sample_size_mean, sample_size_per_arm
from workbench.abtest.bayesian import beta_binomial
from workbench.abtest.frequentist import (
    bootstrap_mean_diff_ci,
    compare_proportions,
    compare_ratios,
    cuped_ttest,
    welch_ttest,
)
from workbench.abtest.multiple import benjamini_hochberg, holm
from workbench.abtest.srm import srm_check
from workbench.abtest.stats import CupedStats, MeanStats, ProportionStats, RatioStats

REF = json.loads((Path(__file__).parent / "reference" / "reference.json").read_text("utf-8"))
REL, ABS = 1e-7, 1e-10


def close(a: float, b: float | None, rel: float = REL, abs_: float = ABS) -> bool:
    if b is None:
        return math.isnan(a)
    return a == pytest.approx(b, rel=rel, abs=abs_)


def check(result, case: dict, keys=("effect", "ci_low", "ci_high", "p_value", "lift",
                                    "lift_ci_low", "lift_ci_high")) -> None:
    for key in keys:
        if key in case:
            assert close(getattr(result, key), case[key], rel=1e-6 if "lift" in key else REL), (
                key, getattr(result, key), case[key])


def test_at_least_30_cases() -> None:
    assert sum(len(v) for v in REF.values()) >= 30


@pytest.mark.parametrize("case", REF["proportions"], ids=lambda c: c["name"])
def test_proportions(case: dict) -> None:
    r = compare_proportions(ProportionStats(**case["control"]), ProportionStats(**case["variant"]),
                            exact=case["exact"])
    assert r.test == ("fisher" if case["exact"] else "z")
    check(r, case)


@pytest.mark.parametrize(("name", "test"), [("zero_in_control_small", "fisher"),
                                            ("zero_in_variant_small", "fisher"),
                                            ("small_3of20_vs_8of22", "fisher"),
                                            ("million_per_arm", "z"),
                                            ("tiny_12of40_vs_19of41", "z")])
def test_proportions_pick_fisher_for_small_expected_counts(name: str, test: str) -> None:
    case = next(c for c in REF["proportions"] if c["name"] == name)
    r = compare_proportions(ProportionStats(**case["control"]), ProportionStats(**case["variant"]))
    assert r.test == test


@pytest.mark.parametrize("case", REF["welch"], ids=lambda c: c["name"])
def test_welch(case: dict) -> None:
    r = welch_ttest(MeanStats(**case["control"]), MeanStats(**case["variant"]))
    check(r, case)


@pytest.mark.parametrize("case", REF["ratios"], ids=lambda c: c["name"])
def test_ratios(case: dict) -> None:
    r = compare_ratios(RatioStats(**case["control"]), RatioStats(**case["variant"]))
    for key in ("effect", "ci_low", "ci_high", "p_value", "lift", "lift_ci_low", "lift_ci_high"):
        assert close(getattr(r, key), case[key], rel=1e-6, abs_=1e-9), key


@pytest.mark.parametrize("case", REF["cuped"], ids=lambda c: c["name"])
def test_cuped(case: dict) -> None:
    r = cuped_ttest(CupedStats(**case["control"]), CupedStats(**case["variant"]))
    check(r, case, keys=("effect", "ci_low", "ci_high", "p_value"))
    assert close(r.variance_reduction, case["variance_reduction"], rel=1e-6, abs_=1e-9)


@pytest.mark.parametrize("case", REF["sample_size"], ids=lambda c: f"{c['baseline']}-{c['mde']}")
def test_sample_size(case: dict) -> None:
    n = sample_size_per_arm(case["baseline"], case["mde"], ratio=case["ratio"])
    assert n == math.ceil(case["n"])


@pytest.mark.parametrize("case", REF["sample_size_mean"], ids=lambda c: str(c["mde_abs"]))
def test_sample_size_mean(case: dict) -> None:
    n = sample_size_mean(case["sd"], case["mde_abs"], ratio=case["ratio"])
    assert n == math.ceil(case["n"])


@pytest.mark.parametrize("case", REF["mde"], ids=lambda c: f"{c['n']}-{c['baseline']}")
def test_mde(case: dict) -> None:
    mde = minimum_detectable_effect(case["n"], case["baseline"])
    assert mde == pytest.approx(case["mde"], rel=1e-6)


@pytest.mark.parametrize("case", REF["srm"], ids=lambda c: c["name"])
def test_srm(case: dict) -> None:
    r = srm_check(case["observed"], case["shares"])
    assert close(r.chi2, case["chi2"]) and close(r.p_value, case["p_value"], abs_=1e-300)
    assert r.mismatch == (case["p_value"] < 0.001)


@pytest.mark.parametrize("case", REF["multiple"], ids=lambda c: str(len(c["p"])))
def test_multiple(case: dict) -> None:
    np.testing.assert_allclose(holm(case["p"]), case["holm"], rtol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg(case["p"]), case["bh"], rtol=1e-12)


@pytest.mark.parametrize("case", REF["bayes"], ids=lambda c: str(c["control"]["n"]))
def test_bayes(case: dict) -> None:
    r = beta_binomial(ProportionStats(**case["control"]), ProportionStats(**case["variant"]))
    assert r.prob_beat_control == pytest.approx(case["prob_beat_control"], abs=2e-3)
    assert r.expected_loss == pytest.approx(case["expected_loss"], rel=0.03, abs=1e-6)
    assert r.expected_loss_control == pytest.approx(case["expected_loss_control"], rel=0.03,
                                                    abs=1e-6)


def test_bootstrap() -> None:
    case = REF["bootstrap"][0]
    low, high = bootstrap_mean_diff_ci(case["control"], case["variant"], resamples=20_000, rng=3)
    width = case["ci_high"] - case["ci_low"]
    assert low == pytest.approx(case["ci_low"], abs=0.1 * width)
    assert high == pytest.approx(case["ci_high"], abs=0.1 * width)
