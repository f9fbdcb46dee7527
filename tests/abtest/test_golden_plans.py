"""Golden values for plans, capping, quantiles and priors (reference/make_plans.py).

Tolerances:
* group-sequential boundaries: absolute 1e-5 against multivariate-normal integration (the two
  methods agree to about 1e-6), 1e-4 plus rounding against published values; alpha spent:
  1e-12 (the same closed-form spending function);
* winsorization and quantile point estimates: relative 1e-12 (numpy percentile);
* quantile intervals against scipy.stats.bootstrap (different random draws): 10% of the
  interval width, as for the mean bootstrap in test_golden.py;
* conjugate posterior parameters: exact; Beta moments 1e-12 relative; Normal posterior against
  quadrature: 1e-8; P(B > A) against 4,000,000 Monte Carlo draws: absolute 2e-3 and expected
  losses 3% relative, as in test_golden.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from workbench.abtest.bayesian import (
    beta_binomial,
    beta_posterior,
    normal_means,
    normal_posterior,
)
from workbench.abtest.capping import quantile_diff_ci, winsorize
from workbench.abtest.frequentist import welch_ttest
from workbench.abtest.group_sequential import group_sequential_plan, sequential_decision
from workbench.abtest.stats import MeanStats, ProportionStats
from workbench.errors import ParameterError
from workbench.i18n import using_language

REF = json.loads((Path(__file__).parent / "reference" / "plans.json").read_text("utf-8"))


@pytest.mark.parametrize("case", REF["group_sequential"], ids=lambda c: c["name"])
def test_group_sequential_boundaries(case: dict) -> None:
    plan = group_sequential_plan(case["looks"], case["alpha"], case["spending"], case["sides"],
                                 constant=case.get("constant", False))
    assert plan.boundaries == pytest.approx(case["boundaries"], abs=1e-5)
    if case["published"] is not None:
        assert plan.boundaries == pytest.approx(case["published"], abs=1e-4 + 5e-4 * (
            len(str(case["published"][0]).split(".")[1]) == 3))
    if "alpha_spent" in case:
        assert plan.alpha_spent == pytest.approx(case["alpha_spent"], rel=1e-12, abs=1e-15)
        assert plan.nominal_p == pytest.approx(case["nominal_p"], rel=1e-4)
    assert plan.alpha_spent[-1] == pytest.approx(case["alpha"], rel=1e-9)


def test_group_sequential_is_fast_and_frame_is_tidy() -> None:
    plan = group_sequential_plan([0.1, 0.2, 0.5, 0.99, 1.0], spending="pocock")
    frame = plan.to_frame()
    assert list(frame.columns) == ["look", "information", "z_boundary", "nominal_p",
                                   "alpha_spent"]
    assert frame["alpha_spent"].is_monotonic_increasing
    # one look gives the fixed-sample test
    assert group_sequential_plan(1).boundaries[0] == pytest.approx(1.959963984540054)


@pytest.mark.parametrize(("look", "z", "crosses", "final"), [
    (1, 3.6, False, False), (1, -3.8, True, False), (2, 2.6, True, False),
    (3, 1.99, False, True), (3, -2.0, True, True)], ids=str)
def test_sequential_decision_two_sided(look: int, z: float, crosses: bool, final: bool) -> None:
    plan = group_sequential_plan(3)  # O'Brien-Fleming: +-3.7103, 2.5114, 1.9930
    d = sequential_decision(plan, look, z)
    assert (d.crosses, d.final, d.boundary) == (crosses, final, plan.boundaries[look - 1])


def test_sequential_decision_one_sided_ignores_the_lower_tail() -> None:
    plan = group_sequential_plan(3, alpha=0.025, sides=1)
    assert not sequential_decision(plan, 3, -5.0).crosses
    assert sequential_decision(plan, 3, 1.9931).crosses


@pytest.mark.parametrize("case", REF["capping"], ids=lambda c: c["name"])
def test_winsorize(case: dict) -> None:
    w = winsorize({"control": case["control"], "B": case["variant"]}, case["percentile"])
    assert w.cap == pytest.approx(case["cap"], rel=1e-12)
    assert w.values["control"].mean() == pytest.approx(case["mean_control"], rel=1e-12)
    assert w.values["B"].mean() == pytest.approx(case["mean_variant"], rel=1e-12)
    assert (w.n_capped, w.percentile) == (case["n_capped"], case["percentile"])


@pytest.mark.parametrize("case", REF["quantiles"], ids=lambda c: c["name"])
def test_quantile_diff_ci(case: dict) -> None:
    r = quantile_diff_ci(case["control"], case["variant"], q=case["q"], n_boot=20_000, seed=5)
    assert r.value_control == pytest.approx(case["value_control"], rel=1e-12)
    assert r.value_variant == pytest.approx(case["value_variant"], rel=1e-12)
    width = case["ci_high"] - case["ci_low"]
    assert r.ci_low == pytest.approx(case["ci_low"], abs=0.1 * width)
    assert r.ci_high == pytest.approx(case["ci_high"], abs=0.1 * width)


def test_quantile_bootstrap_matches_row_resampling() -> None:
    # the order-statistic shortcut against plain resampling of rows, same data
    rng = np.random.default_rng(11)
    values = np.round(rng.lognormal(3, 0.7, 200))
    rows = np.quantile(values[rng.integers(0, 200, (5_000, 200))], 0.3, axis=1)
    ours = quantile_diff_ci(np.zeros(5), values, q=0.3, n_boot=20_000, seed=2)
    assert ours.ci_low == pytest.approx(np.quantile(rows, 0.025), abs=0.1 * np.ptp(rows))
    assert ours.ci_high == pytest.approx(np.quantile(rows, 0.975), abs=0.1 * np.ptp(rows))


@pytest.mark.parametrize("case", REF["beta_priors"], ids=lambda c: str(c["prior"]))
def test_beta_prior(case: dict) -> None:
    c, v = ProportionStats(**case["control"]), ProportionStats(**case["variant"])
    prior = tuple(case["prior"])
    assert list(beta_posterior(c, prior)) == case["posterior_control"]
    assert list(beta_posterior(v, prior)) == case["posterior_variant"]
    a, b = beta_posterior(c, prior)
    assert a / (a + b) == pytest.approx(case["posterior_mean_control"], rel=1e-12)
    assert a * b / ((a + b) ** 2 * (a + b + 1)) == pytest.approx(
        case["posterior_var_control"], rel=1e-12)
    r = beta_binomial(c, v, prior=prior)
    assert r.prob_beat_control == pytest.approx(case["prob_beat_control"], abs=2e-3)
    assert r.expected_loss == pytest.approx(case["expected_loss"], rel=0.03, abs=1e-6)
    assert r.expected_loss_control == pytest.approx(case["expected_loss_control"], rel=0.03,
                                                    abs=1e-6)


@pytest.mark.parametrize("case", REF["normal_priors"], ids=lambda c: str(c["prior"]))
def test_normal_prior(case: dict) -> None:
    comp = welch_ttest(MeanStats(**case["control"]), MeanStats(**case["variant"]))
    mean, sd = normal_posterior(comp, tuple(case["prior"]))
    assert (mean, sd) == pytest.approx((case["posterior_mean"], case["posterior_sd"]),
                                       rel=1e-8, abs=1e-10)
    r = normal_means(comp, prior=tuple(case["prior"]))
    assert r.prob_beat_control == pytest.approx(case["prob_beat_control"], rel=1e-8)
    assert r.expected_loss == pytest.approx(case["expected_loss"], rel=1e-7, abs=1e-12)


def test_default_priors_are_unchanged() -> None:
    c, v = ProportionStats(1000, 100), ProportionStats(1000, 130)
    assert beta_binomial(c, v) == beta_binomial(c, v, prior=(1.0, 1.0))
    comp = welch_ttest(MeanStats(400, 4000.0, 90000.0), MeanStats(400, 4400.0, 100000.0))
    assert normal_means(comp) == normal_means(comp, prior=None)
    assert normal_posterior(comp) == (comp.effect, comp.std_error)


GS = "group_sequential_plan"
ERRORS = [
    (lambda: group_sequential_plan(0), "en",
     f"{GS}: 'looks' must be a whole number of looks from 1 to 50 or a list of information "
     "fractions; got 0."),
    (lambda: group_sequential_plan([0.5, 0.4, 1.0]), "en",
     f"{GS}: information fractions must increase strictly within (0, 1] and end at 1, e.g. "
     "[0.25, 0.5, 1.0]; got [0.5, 0.4, 1.0]."),
    (lambda: group_sequential_plan([0.5, 0.8]), "ko",
     f"{GS}: 정보 비율은 (0, 1] 안에서 순증가하고 1로 끝나야 합니다(예: [0.25, 0.5, 1.0]). "
     "받은 값: [0.5, 0.8]."),
    (lambda: group_sequential_plan(3, spending="haybittle"), "en",
     f"{GS}: 'spending' must be one of obrien_fleming, pocock; got 'haybittle'."),
    (lambda: group_sequential_plan(3, sides=3), "ko",
     f"{GS}: 'sides'는 1, 2 중 하나여야 합니다. 받은 값: 3."),
    (lambda: group_sequential_plan(3, alpha=1.5), "en",
     f"{GS}: 'alpha' must be in (0, 1); got 1.5."),
    (lambda: group_sequential_plan(3, constant=True), "en",
     f"{GS}: 'constant=True' is Pocock's constant boundary and needs spending='pocock'; "
     "got spending='obrien_fleming'."),
    (lambda: sequential_decision(group_sequential_plan(3), 4, 2.0), "ko",
     "sequential_decision: 'look'은 계획된 분석 차수(1에서 3)여야 합니다. 받은 값: 4."),
    (lambda: sequential_decision(group_sequential_plan(3), 1, math.nan), "en",
     "sequential_decision: 'z' must be finite; got nan."),
    (lambda: winsorize({}), "en",
     "winsorize: 'arms' must be a non-empty dict of arm -> values, e.g. "
     "{'control': [...], 'B': [...]}; got {}."),
    (lambda: winsorize({"A": []}), "ko",
     "winsorize: 'A'는 유한한 수로 된 비어 있지 않은 목록이어야 합니다. 받은 값: []."),
    (lambda: winsorize({"A": [1, 2]}, percentile=1.0), "en",
     "winsorize: 'percentile' must be in (0, 1); got 1.0."),
    (lambda: quantile_diff_ci([1, 2], [1, math.inf]), "en",
     "quantile_diff_ci: 'variant' must be a non-empty list of finite numbers; got [1, inf]."),
    (lambda: quantile_diff_ci([1, 2], [1, 2], n_boot=10), "ko",
     "quantile_diff_ci: 'n_boot'는 100 이상의 정수여야 합니다. 받은 값: 10."),
    (lambda: quantile_diff_ci([1, 2], [1, 2], q=0.0), "en",
     "quantile_diff_ci: 'q' must be in (0, 1); got 0.0."),
    (lambda: beta_binomial(ProportionStats(10, 1), ProportionStats(10, 2), prior=(0, 1)), "en",
     "beta_binomial: 'prior' must be the two positive finite parameters (a, b) of a Beta "
     "prior, e.g. (1, 1) for uniform; got (0, 1)."),
    (lambda: beta_posterior(ProportionStats(10, 1), prior=(1.0,)), "ko",
     "beta_posterior: 'prior'는 Beta 사전분포의 양의 유한한 모수 두 개 (a, b)여야 합니다"
     "(예: 균등분포는 (1, 1)). 받은 값: (1.0,)."),
    (lambda: normal_means(welch_ttest(MeanStats(10, 10.0, 20.0), MeanStats(10, 12.0, 25.0)),
                          prior=(0.0, 0.0)), "en",
     "normal_means: 'prior' must be (mean, sd) of a Normal prior on the effect, both finite "
     "and sd > 0; got (0.0, 0.0)."),
]


@pytest.mark.parametrize(("call", "language", "message"), ERRORS,
                         ids=lambda x: x[:40] if isinstance(x, str) else "")
def test_errors(call, language: str, message: str) -> None:
    with using_language(language), pytest.raises(ParameterError) as info:
        call()
    assert str(info.value) == message
