"""Power at a given size or duration and the always-valid relative lift against golden values.

The values come from tests/abtest/reference/make_power_lift.py (statsmodels, and the mSPRT of
Johari et al. written out there from the paper). Tolerances: power and the fixed-horizon
standard error are the same closed forms in double precision (relative 1e-9); the mSPRT
interval is found there by ``brentq`` and here in closed form (relative 1e-9).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbench.abtest import (
    AbStatus,
    MeanStats,
    ProportionStats,
    power_means,
    power_proportions,
    sample_size_mean,
    sample_size_per_arm,
    sequential_interval,
    sequential_lift,
)
from workbench.abtest.frequentist import compare_proportions
from workbench.errors import ParameterError
from workbench.i18n import tr

REF = json.loads((Path(__file__).parent / "reference" / "power_lift.json").read_text("utf-8"))
REL = 1e-9


def _size_kwargs(case: dict) -> dict:
    if "n_per_arm" in case:
        return {"n_per_arm": case["n_per_arm"], "ratio": case["ratio"]}
    return {"daily_customers": case["daily_customers"], "days": case["days"],
            "shares": tuple(case["shares"])}


@pytest.mark.parametrize("case", REF["power_proportions"], ids=repr)
def test_power_proportions_matches_statsmodels(case: dict) -> None:
    got = power_proportions(case["baseline"], case["mde"], alpha=case["alpha"],
                            two_sided=case["two_sided"], **_size_kwargs(case))
    assert got == pytest.approx(case["power"], rel=REL)


@pytest.mark.parametrize("case", REF["power_means"], ids=repr)
def test_power_means_matches_statsmodels(case: dict) -> None:
    got = power_means(case["sd"], case["mde_abs"], alpha=case["alpha"],
                      two_sided=case["two_sided"], **_size_kwargs(case))
    assert got == pytest.approx(case["power"], rel=REL)


def _arms(case: dict) -> tuple:
    kind = ProportionStats if case["kind"] == "proportion" else MeanStats
    return kind(**case["control"]), kind(**case["variant"])


@pytest.mark.parametrize("case", REF["lift"], ids=lambda c: f"{c['kind']}-{c['lift']:.3f}")
def test_sequential_lift(case: dict) -> None:
    r = sequential_lift(*_arms(case), alpha=case["alpha"], n_star=case["n_star"])
    assert r.status in (AbStatus.OK, AbStatus.TOO_LITTLE_DATA)
    # the delta-method log-ratio standard error of statsmodels
    assert r.lift == pytest.approx(case["lift"], rel=REL)
    assert r.std_error == pytest.approx(case["std_error"], rel=1e-7)
    # (b) the mSPRT of Johari et al., written independently in the reference script
    for key in ("ci_low", "ci_high", "p_value"):
        assert getattr(r, key) == pytest.approx(case[key], rel=1e-8, abs=1e-12), key
    # (a) the always-valid interval contains the fixed-horizon one; its p-value is larger
    assert r.ci_low < case["fixed_ci_low"] < case["lift"] < case["fixed_ci_high"] < r.ci_high
    assert r.p_value >= case["fixed_p_value"]


# -- consistency properties -----------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(base=st.floats(0.005, 0.6), mde=st.floats(0.02, 0.5), negative=st.booleans(),
       alpha=st.floats(0.005, 0.2), power=st.floats(0.5, 0.99), ratio=st.floats(0.25, 4.0))
def test_power_inverts_sample_size_proportions(base, mde, negative, alpha, power, ratio):
    mde = -mde if negative else mde
    n = sample_size_per_arm(base, mde, alpha=alpha, power=power, ratio=ratio)
    assume(n > 1)
    assert power_proportions(base, mde, n_per_arm=n, ratio=ratio, alpha=alpha) >= power - 1e-9
    # one customer fewer misses the target in the near tail (the half the size formula uses)
    near = power_proportions(base, mde, n_per_arm=n - 1, ratio=ratio, alpha=alpha / 2,
                             two_sided=False)
    assert near < power + 1e-9


@settings(max_examples=40, deadline=None)
@given(sd=st.floats(0.1, 1e5), mde=st.floats(0.01, 2.0), alpha=st.floats(0.005, 0.2),
       power=st.floats(0.5, 0.99), ratio=st.floats(0.25, 4.0))
def test_power_inverts_sample_size_means(sd, mde, alpha, power, ratio):
    mde_abs = mde * sd
    n = sample_size_mean(sd, mde_abs, alpha=alpha, power=power, ratio=ratio)
    assume(n > 1)
    assert power_means(sd, mde_abs, n_per_arm=n, ratio=ratio, alpha=alpha) >= power - 1e-9
    assert power_means(sd, mde_abs, n_per_arm=n - 1, ratio=ratio, alpha=alpha / 2,
                       two_sided=False) < power + 1e-9


def test_duration_form_equals_size_form() -> None:
    by_days = power_proportions(0.05, 0.1, daily_customers=1_000, days=30, shares=(0.2, 0.6))
    by_size = power_proportions(0.05, 0.1, n_per_arm=6_000, ratio=3.0)
    assert by_days == pytest.approx(by_size, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(nc=st.integers(30, 50_000), nv=st.integers(30, 50_000), pc=st.floats(0.01, 0.9),
       pv=st.floats(0.01, 0.9), alpha=st.floats(0.001, 0.2), n_star=st.floats(100, 1e6))
def test_sequential_lift_properties(nc, nv, pc, pv, alpha, n_star):
    c = ProportionStats(nc, max(1, round(pc * nc)))
    v = ProportionStats(nv, max(1, round(pv * nv)))
    r = sequential_lift(c, v, alpha=alpha, n_star=n_star)
    assume(r.status == AbStatus.OK)
    assert 0.0 <= r.p_value <= 1.0
    assert r.ci_low <= r.lift <= r.ci_high
    assert r.ci_low >= -1.0  # exp(.) - 1 of a very wide log interval may round to -1
    # the p-value and the interval are the same test: p < alpha iff the interval excludes 0
    if abs(r.p_value - alpha) > 1e-9:
        assert (r.p_value < alpha) == (r.ci_low > 0 or r.ci_high < 0)
    # swapping the arms inverts the ratio: lift -> 1 / (1 + lift) - 1, interval ends swap
    s = sequential_lift(v, c, alpha=alpha, n_star=n_star)
    assert s.ci_low == pytest.approx(1 / (1 + r.ci_high) - 1, rel=1e-9, abs=1e-12)
    assert s.p_value == pytest.approx(r.p_value, rel=1e-9)


def test_sequential_lift_shares_the_absolute_sequence_width() -> None:
    # same boundary as sequential_interval, only on the log scale
    c, v = ProportionStats(5000, 500), ProportionStats(5000, 580)
    r = sequential_lift(c, v)
    low, high = sequential_interval(compare_proportions(c, v))
    half_abs = (high - low) / 2
    half_log = (math.log1p(r.ci_high) - math.log1p(r.ci_low)) / 2
    se_abs = compare_proportions(c, v).std_error
    assert half_log / r.std_error == pytest.approx(half_abs / se_abs, rel=1e-12)


@pytest.mark.parametrize(("control", "variant", "status", "reason"), [
    (ProportionStats(0, 0), ProportionStats(100, 5), AbStatus.EMPTY_ARM, "empty_arm"),
    (ProportionStats(100, 0), ProportionStats(100, 5), AbStatus.ZERO_CONVERSIONS,
     "non_positive"),
    (ProportionStats(100, 100), ProportionStats(100, 100), AbStatus.ZERO_VARIANCE,
     "zero_variance"),
    (MeanStats(1, 5.0, 25.0), MeanStats(100, 500.0, 5000.0), AbStatus.TOO_LITTLE_DATA, "too_few"),
    (MeanStats(50, -5.0, 100.0), MeanStats(50, 5.0, 100.0), AbStatus.ZERO_CONVERSIONS,
     "non_positive"),
], ids=["empty", "zero-rate", "all-converted", "one-customer", "negative-mean"])
def test_sequential_lift_data_conditions_are_statuses(control, variant, status, reason) -> None:
    r = sequential_lift(control, variant)
    assert (r.status, r.reason) == (status, reason)
    assert math.isnan(r.p_value) and math.isnan(r.ci_low)
    assert r.to_dict()["status"] == str(status)


def test_small_arm_is_flagged_but_computed() -> None:
    r = sequential_lift(ProportionStats(20, 4), ProportionStats(25, 9))
    assert r.status == AbStatus.TOO_LITTLE_DATA and not math.isnan(r.p_value)


# -- validation -----------------------------------------------------------------------------------

def _msg(key: str, **fields) -> str:
    return "^" + re.escape(tr(key, language="en", **fields)) + "$"


@pytest.mark.parametrize(("kwargs", "key", "fields"), [
    ({}, "power_lift.error.sizes",
     {"func": "power_proportions", "n": "None", "daily": "None", "days": "None"}),
    ({"n_per_arm": 100, "daily_customers": 10, "days": 5}, "power_lift.error.sizes",
     {"func": "power_proportions", "n": "100", "daily": "10", "days": "5"}),
    ({"daily_customers": 10}, "power_lift.error.sizes",
     {"func": "power_proportions", "n": "None", "daily": "10", "days": "None"}),
    ({"daily_customers": 10, "days": 5, "shares": (0.7, 0.7)}, "power_lift.error.shares",
     {"func": "power_proportions", "got": "(0.7, 0.7)"}),
    ({"daily_customers": 10, "days": 5, "shares": (0.5,)}, "power_lift.error.shares",
     {"func": "power_proportions", "got": "(0.5,)"}),
    ({"n_per_arm": -3}, "abtest.error.positive",
     {"func": "power_proportions", "name": "n_per_arm", "got": "-3"}),
    ({"daily_customers": 10, "days": 0}, "abtest.error.positive",
     {"func": "power_proportions", "name": "days", "got": "0"}),
    ({"n_per_arm": 100, "alpha": 1.5}, "abtest.error.probability",
     {"func": "power_proportions", "name": "alpha", "got": "1.5"}),
], ids=["no-size", "both-sizes", "days-missing", "shares-over-one", "one-share", "negative-n",
        "zero-days", "alpha"])
def test_power_proportions_errors(kwargs, key, fields) -> None:
    with pytest.raises(ParameterError, match=_msg(key, **fields)):
        power_proportions(0.05, 0.1, **kwargs)


def test_power_errors_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match=_msg("abtest.error.lifted_rate",
                                                  func="power_proportions", got="1.1")):
        power_proportions(0.55, 1.0, n_per_arm=100)
    with pytest.raises(ParameterError, match=_msg("abtest.error.mde_abs", func="power_means",
                                                  got="0")):
        power_means(1.0, 0, n_per_arm=100)
    with pytest.raises(ParameterError, match=_msg("abtest.error.positive", func="power_means",
                                                  name="sd", got="0.0")):
        power_means(0.0, 1.0, n_per_arm=100)


def test_sequential_lift_errors() -> None:
    with pytest.raises(ParameterError, match=_msg("power_lift.error.arms", func="sequential_lift",
                                                  got="ProportionStats, MeanStats")):
        sequential_lift(ProportionStats(10, 1), MeanStats(10, 1.0, 1.0))
    with pytest.raises(ParameterError, match=_msg("abtest.error.positive", func="sequential_lift",
                                                  name="n_star", got="0")):
        sequential_lift(ProportionStats(10, 1), ProportionStats(10, 2), n_star=0)


def test_messages_in_korean() -> None:
    ko = tr("power_lift.error.shares", language="ko", func="power_means", got="(0.7, 0.7)")
    assert "대조군" in ko and "(0.7, 0.7)" in ko
    ko = tr("power_lift.error.sizes", language="ko", func="f", n="None", daily="10", days="None")
    assert "'days'" in ko and "함께" in ko
