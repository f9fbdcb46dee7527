"""One planner for tests and holdouts: customers per arm, days, and the lift an audience detects."""

from __future__ import annotations

import math

import pytest

from workbench.abtest import (
    PlanStatus,
    expected_duration_days,
    minimum_detectable_effect,
    plan_experiment,
    sample_size_per_arm,
)
from workbench.errors import ParameterError
from workbench.i18n import using_language


def test_sample_size_and_days_for_a_lift() -> None:
    plan = plan_experiment(0.05, mde=0.2, daily_customers=1_000, arms=3, holdout_share=0.1)
    n = sample_size_per_arm(0.05, 0.2)
    days = expected_duration_days(n, 1_000, {"a": 0.3, "b": 0.3, "c": 0.3, "holdout": 0.1})
    assert plan.status == PlanStatus.OK and plan.n_per_arm == n
    assert (plan.days, plan.total_customers) == (days.days, days.total_customers)
    assert plan.detectable_mde is None  # no audience given


@pytest.mark.parametrize(("arms", "holdout", "baseline", "variant"), [
    (2, 0.0, 10_000, 10_000),  # an A/B split: one arm against the other
    (4, 0.0, 5_000, 5_000),
    (1, 0.1, 2_000, 18_000),  # a campaign against its holdout (the audience builder)
    (2, 0.2, 4_000, 8_000),  # each of two variants against the holdout
], ids=["ab", "four-arms", "holdout", "two-variants-and-holdout"])
def test_what_an_audience_can_detect(arms: int, holdout: float, baseline: int,
                                     variant: int) -> None:
    plan = plan_experiment(0.05, audience=20_000, arms=arms, holdout_share=holdout)
    assert (plan.baseline_size, plan.variant_size) == (baseline, variant)
    assert plan.detectable_mde == pytest.approx(
        minimum_detectable_effect(baseline, 0.05, ratio=variant / baseline))
    assert plan.n_per_arm is None and plan.status == PlanStatus.OK


def test_impossible_inputs_are_statuses() -> None:
    over = plan_experiment(0.6, mde=1.0, audience=1_000)
    assert over.status == PlanStatus.LIFT_OUT_OF_RANGE and over.n_per_arm is None
    assert over.detectable_mde is not None  # the rest of the plan is still filled in
    small = plan_experiment(0.05, audience=15, arms=1, holdout_share=0.1)
    assert small.status == PlanStatus.AUDIENCE_TOO_SMALL and small.detectable_mde is None
    assert math.isinf(plan_experiment(0.01, audience=4).detectable_mde)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"baseline_rate": 0.0}, r"plan_experiment: 'baseline_rate' must be in \(0, 1\); got 0.0."),
    ({"mde": 0.0}, "plan_experiment: 'mde' must be a non-zero relative lift such as 0.1"),
    ({"holdout_share": 1.0}, r"plan_experiment: 'holdout_share' must be in \[0, 1\); got 1.0."),
    ({"arms": 1}, "plan_experiment: 'arms' must be at least 2; got 1."),
    ({"audience": -5}, "plan_experiment: 'audience' must be a finite number >= 0; got -5."),
], ids=["baseline", "mde", "holdout", "one-arm-without-holdout", "audience"])
def test_caller_mistakes_raise(kwargs: dict, match: str) -> None:
    args = {"baseline_rate": 0.05, **kwargs}
    with pytest.raises(ParameterError, match=match):
        plan_experiment(args.pop("baseline_rate"), **args)


def test_errors_follow_the_active_language() -> None:
    with using_language("ko"), pytest.raises(ParameterError, match="받은 값: 1.5"):
        plan_experiment(0.05, mde=0.1, power=1.5)
