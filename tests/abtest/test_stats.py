"""Edge cases and invariants of the statistics on sufficient statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.abtest.bayesian import beta_binomial, normal_means
from workbench.abtest.frequentist import (
    compare_proportions,
    compare_ratios,
    cuped_ttest,
    relative_lift,
    welch_ttest,
)
from workbench.abtest.multiple import adjust_p_values, guardrail_vetoes
from workbench.abtest.roi import campaign_roi
from workbench.abtest.sequential import sequential_halfwidth, sequential_interval
from workbench.abtest.srm import srm_check
from workbench.abtest.stats import (
    AbStatus,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioStats,
)
from workbench.errors import ParameterError


def mean_stats(x: np.ndarray) -> MeanStats:
    return MeanStats(int(x.size), float(x.sum()), float((x * x).sum()))


# ----------------------------------------------------------------------------------- edge cases


def test_empty_arm_is_a_status_not_an_error() -> None:
    r = compare_proportions(ProportionStats(0, 0), ProportionStats(100, 10))
    assert r.status == AbStatus.EMPTY_ARM and math.isnan(r.p_value)
    assert "'control' has no customers" in r.message
    assert welch_ttest(MeanStats(0, 0.0, 0.0), MeanStats(5, 5.0, 5.0)).status == AbStatus.EMPTY_ARM
    assert beta_binomial(ProportionStats(0, 0), ProportionStats(3, 1)).status == AbStatus.EMPTY_ARM


def test_zero_conversions_in_both_arms() -> None:
    r = compare_proportions(ProportionStats(500, 0), ProportionStats(480, 0))
    assert r.status == AbStatus.ZERO_CONVERSIONS and r.effect == 0.0
    assert "No customer converted" in r.message


def test_zero_conversions_in_one_arm_still_tests() -> None:
    r = compare_proportions(ProportionStats(500, 0), ProportionStats(500, 9))
    assert r.status == AbStatus.OK and r.test == "fisher" and 0 < r.p_value < 0.01
    assert math.isnan(r.lift)  # relative to a zero rate


def test_zero_variance() -> None:
    r = welch_ttest(MeanStats(50, 100.0, 200.0), MeanStats(50, 100.0, 200.0))
    assert r.status == AbStatus.ZERO_VARIANCE and r.effect == 0.0


def test_fewer_than_30_users_gives_numbers_and_a_warning() -> None:
    r = compare_proportions(ProportionStats(20, 3), ProportionStats(25, 9))
    assert r.status == AbStatus.TOO_LITTLE_DATA and r.test == "fisher"
    assert 0 < r.p_value <= 1 and "only 20 customers" in r.message


def test_ratio_with_zero_denominator() -> None:
    empty = RatioStats(40, 0.0, 0.0, 0.0, 0.0, 0.0)
    r = compare_ratios(empty, RatioStats(40, 100.0, 2.0, 6000.0, 2.0, 100.0))
    assert r.status == AbStatus.ZERO_CONVERSIONS and math.isnan(r.p_value)


def test_status_is_worded_when_read_in_either_language() -> None:
    r = compare_proportions(ProportionStats(0, 0), ProportionStats(10, 1))
    assert "고객이 없어" in r.summary("ko") and "전환율" in r.summary("ko")
    assert r.summary("en").startswith("Arm 'control' has no customers, so conversion cannot")
    assert r.reason == "empty_arm" and r.reason_arm == "control"
    ok = compare_proportions(ProportionStats(100, 10), ProportionStats(100, 12))
    assert ok.reason == "" and ok.summary("ko") == ok.message == ""


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"alpha": 1.5}, r"compare_proportions: 'alpha' must be in \(0, 1\); got 1.5."),
    ({"alpha": 0}, r"compare_proportions: 'alpha' must be in \(0, 1\); got 0."),
], ids=["alpha-high", "alpha-zero"])
def test_bad_alpha(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        compare_proportions(ProportionStats(10, 1), ProportionStats(10, 2), **kwargs)


def test_successes_above_n_raise() -> None:
    with pytest.raises(ParameterError, match=r"'successes' \(11\) cannot exceed 'n' \(10\)"):
        ProportionStats(10, 11)


# ------------------------------------------------------------------------------------ invariants

counts = st.integers(min_value=30, max_value=100_000)


@st.composite
def two_arms(draw) -> tuple[ProportionStats, ProportionStats]:
    nc, nv = draw(counts), draw(counts)
    xc = draw(st.integers(0, nc))
    xv = draw(st.integers(0, nv))
    return ProportionStats(nc, xc), ProportionStats(nv, xv)


@settings(max_examples=200, deadline=None)
@given(two_arms())
def test_proportion_invariants(arms) -> None:
    c, v = arms
    r = compare_proportions(c, v)
    if r.status == AbStatus.OK:
        assert 0.0 <= r.p_value <= 1.0
        assert r.ci_low <= r.effect <= r.ci_high
        s = compare_proportions(v, c, exact=r.test == "fisher")
        assert s.effect == pytest.approx(-r.effect, abs=1e-15)
        assert s.p_value == pytest.approx(r.p_value, rel=1e-9, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 400), st.integers(2, 400), st.integers(0, 10_000))
def test_welch_invariants(nc: int, nv: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = mean_stats(rng.exponential(10.0, nc))
    v = mean_stats(rng.exponential(12.0, nv))
    r = welch_ttest(c, v)
    assert 0.0 <= r.p_value <= 1.0 and r.ci_low <= r.effect <= r.ci_high
    s = welch_ttest(v, c)
    assert s.effect == pytest.approx(-r.effect) and s.p_value == pytest.approx(r.p_value)


def test_lift_interval_contains_lift() -> None:
    lift, low, high = relative_lift(0.05, 0.06, 1e-6, 1e-6)
    assert low < lift < high and lift == pytest.approx(0.2)


def test_cuped_reduces_variance_with_a_correlated_covariate(rng) -> None:
    x = rng.normal(100, 30, (2, 4000))
    y = x + rng.normal(0, 10, (2, 4000))
    y[1] += 2.0

    def cs(yy, xx):
        return CupedStats(yy.size, yy.sum(), (yy * yy).sum(), xx.sum(), (xx * xx).sum(),
                          (xx * yy).sum())

    r = cuped_ttest(cs(y[0], x[0]), cs(y[1], x[1]))
    plain = welch_ttest(mean_stats(y[0]), mean_stats(y[1]))
    assert r.variance_reduction > 0.85 and r.std_error < plain.std_error / 2
    assert r.ci_low < 2.0 < r.ci_high


def test_sequential_interval_is_wider_and_tightest_near_n_star() -> None:
    r = compare_proportions(ProportionStats(5000, 500), ProportionStats(5000, 560))
    low, high = sequential_interval(r, n_star=10_000)
    assert low < r.ci_low and high > r.ci_high
    ratios = [sequential_halfwidth(1.0, n, n_star=10_000) for n in (1_000, 10_000, 100_000)]
    # the half-width per standard error is smallest at n_star
    assert ratios[1] < ratios[0] and ratios[1] < ratios[2]
    with pytest.raises(ParameterError, match="'n_star' must be a positive number"):
        sequential_halfwidth(1.0, 10, n_star=0)


def test_sequential_interval_keeps_coverage_under_daily_peeking() -> None:
    # 400 experiments under the null, 30 daily looks each: the always-valid interval may
    # exclude zero at any look in at most ~5% of them; the fixed one does far more often.
    rng = np.random.default_rng(5)
    days, per_day, sims = 30, 200, 400
    fixed_hits = seq_hits = 0
    for _ in range(sims):
        c = rng.binomial(1, 0.1, (days, per_day)).sum(axis=1).cumsum()
        v = rng.binomial(1, 0.1, (days, per_day)).sum(axis=1).cumsum()
        n = per_day * np.arange(1, days + 1)
        fixed = seq = False
        for k in range(days):
            r = compare_proportions(ProportionStats(int(n[k]), int(c[k])),
                                    ProportionStats(int(n[k]), int(v[k])), exact=False)
            fixed |= not (r.ci_low <= 0 <= r.ci_high)
            lo, hi = sequential_interval(r, n_star=days * per_day * 2)
            seq |= not (lo <= 0 <= hi)
        fixed_hits += fixed
        seq_hits += seq
    assert seq_hits / sims <= 0.06
    assert fixed_hits / sims > 0.15


def test_bayes_normal_means_is_symmetric() -> None:
    c = welch_ttest(MeanStats(400, 4000.0, 90000.0), MeanStats(400, 4000.0, 90000.0))
    b = normal_means(c)
    assert b.prob_beat_control == pytest.approx(0.5) and b.expected_loss == pytest.approx(
        b.expected_loss_control)


def test_srm_flags_51_49_at_100k() -> None:
    r = srm_check({"control": 51_000, "B": 49_000}, {"control": 0.5, "B": 0.5})
    assert r.mismatch and r.status == AbStatus.SAMPLE_RATIO_MISMATCH and r.p_value < 1e-9
    assert "not trustworthy" in r.message
    ok = srm_check({"control": 50_100, "B": 49_900}, {"control": 0.5, "B": 0.5})
    assert not ok.mismatch and "as planned" in ok.message


def test_srm_unplanned_arm_and_no_data() -> None:
    r = srm_check({"control": 10, "X": 3}, {"control": 1.0})
    assert r.mismatch and "X" in r.message
    assert srm_check({}, {"control": 1.0}).status == AbStatus.NO_DATA


def test_adjust_p_values_rejects_bad_method() -> None:
    with pytest.raises(ParameterError, match="'method' must be one of"):
        adjust_p_values([0.1], "bonferonni")  # a typo of a known method
    assert np.isnan(adjust_p_values([math.nan, 0.01], "holm")[0])


def test_guardrail_veto_only_on_harmful_significant_change() -> None:
    worse = compare_proportions(ProportionStats(10_000, 20), ProportionStats(10_000, 60),
                                metric="opt_out_rate")
    better = compare_proportions(ProportionStats(10_000, 60), ProportionStats(10_000, 20),
                                 metric="opt_out_rate", names=("control", "C"))
    assert guardrail_vetoes([worse, better]) == {"B": ["opt_out_rate"]}


def test_roi_arithmetic() -> None:
    n = 1000
    r = campaign_roi(ProportionStats(n, 100), ProportionStats(n, 80),
                     MeanStats(n, 2_000_000.0, 4e10), MeanStats(n, 1_500_000.0, 3e10),
                     MeanStats(n, 2_100_000.0, 4.5e10), MeanStats(n, 1_500_000.0, 3e10),
                     messages_sent=n, cost_per_message=10.0, coupon_cost=100_000.0,
                     margin_rate=0.3)
    assert r.cost == 110_000.0
    assert r.incremental_conversions == pytest.approx(20.0)
    assert r.incremental_revenue == pytest.approx(500_000.0)
    assert r.incremental_margin == pytest.approx(0.3 * 600_000 - 110_000)
    assert r.roi == pytest.approx((0.3 * 600_000 - 110_000) / 110_000)
    assert r.roi_ci[0] < r.roi < r.roi_ci[1]
