"""A/B tests and campaign holdouts: assignment, sufficient statistics, readouts, planning, ROI.

Public API::

    from workbench.abtest import AbTestParams, run_abtest, list_campaigns, campaign_overview
    result = run_abtest(con, AbTestParams(campaign_id="CMP001"))
    result.message                       # the verdict, sample-ratio check included
    result.summary("ko")                 # the same in Korean
    result.to_frame(), result.figure(), result.roi_frame(), result.srm.to_frame()

    # planning (no store needed) and deterministic assignment
    sample_size_per_arm(0.05, 0.10)                # customers per arm for a 10% lift
    minimum_detectable_effect(20_000, 0.05)        # relative lift detectable with 20k per arm
    plan_experiment(0.05, mde=0.10, audience=20_000, daily_customers=1_000)
    assign_variants(ids, "spring-sale", {"holdout": 0.1, "A": 0.45, "B": 0.45})

    # statistics on sufficient statistics: numbers and statuses, worded by summary(language)
    compare_proportions(ProportionStats(1000, 100), ProportionStats(1000, 130))
    welch_ttest(MeanStats(n, s, ss), ...), compare_ratios(RatioStats(...), ...), cuped_ttest(...)
    beta_binomial(...), sequential_interval(...), srm_check(...), holm(...), campaign_roi(...)
"""

from __future__ import annotations

import importlib
from typing import Any

from workbench.abtest.aggregate import (
    CUSTOMER_OUTCOME_COLUMNS,
    SUM_COLUMNS,
    arm_statistics,
    arm_sums,
    customer_outcomes,
)
from workbench.abtest.assignment import (
    GLOBAL_HOLDOUT,
    GLOBAL_HOLDOUT_SALT,
    assign_campaign,
    assign_variants,
    bucket_of,
    in_global_holdout,
)
from workbench.abtest.multiple import (
    adjust_p_values,
    benjamini_hochberg,
    bonferroni,
    guardrail_vetoes,
    holm,
    hommel,
    sidak,
)
from workbench.abtest.sequential import DEFAULT_N_STAR, sequential_halfwidth, sequential_interval
from workbench.abtest.stats import (
    MIN_USERS,
    AbStatus,
    Comparison,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioStats,
)

# The modules below import scipy, so they load on first use (PEP 562). `workbench audience
# export` needs only the assignment above: importing these with the package added 0.87-1.24 s
# to that command's start-up, the modules above 0.01 s (2 cores, three runs each, measured
# with perf_counter around the imports after `workbench.cli` and `workbench.audience.export`).
_LAZY: dict[str, tuple[str, ...]] = {
    "always_valid": ("SequentialLift", "sequential_lift"),
    "analysis": ("AbTestParams", "AbTestResult", "campaign_overview", "infer_coupon_codes",
                 "list_campaigns", "readout_from_sums", "run_abtest"),
    "bayesian": ("BayesComparison", "beta_binomial", "beta_posterior", "normal_means",
                 "normal_posterior"),
    "capping": ("QuantileDiff", "Winsorized", "quantile_diff_ci", "winsorize"),
    "coupons": ("CouponEconomicsResult", "CouponStatus", "coupon_economics"),
    "frequentist": ("bootstrap_mean_diff_ci", "compare_proportions", "compare_ratios",
                    "cuped_ttest", "newcombe_interval", "relative_lift", "welch_ttest",
                    "wilson_interval"),
    "group_sequential": ("GroupSequentialPlan", "SequentialDecision", "group_sequential_plan",
                         "sequential_decision"),
    "holdout": ("CRM_ARM", "run_global_holdout"),
    "impact": ("CampaignImpactResult", "CampaignsParams", "campaign_impact", "run_campaigns"),
    "noninferiority": ("NonInferiorityResult", "noninferiority_means",
                       "noninferiority_proportions"),
    "power": ("DurationEstimate", "ExperimentPlan", "PlanStatus", "expected_duration_days",
              "minimum_detectable_effect", "minimum_detectable_effect_mean", "plan_experiment",
              "power_means", "power_proportions", "sample_size_mean", "sample_size_per_arm"),
    "roi": ("RoiResult", "campaign_roi"),
    "segments": ("SEGMENT_SOURCES", "SegmentLiftResult", "lift_by_segment", "segment_by_label",
                 "segment_choices", "segment_label", "segment_lift_from_sums"),
    "shrinkage": ("RandomEffects", "random_effects", "shrink"),
    "srm": ("SRM_THRESHOLD", "SrmResult", "srm_check"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "CUSTOMER_OUTCOME_COLUMNS",
    "DEFAULT_N_STAR",
    "GLOBAL_HOLDOUT",
    "GLOBAL_HOLDOUT_SALT",
    "MIN_USERS",
    "SUM_COLUMNS",
    "AbStatus",
    "Comparison",
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "adjust_p_values",
    "arm_statistics",
    "arm_sums",
    "assign_campaign",
    "assign_variants",
    "benjamini_hochberg",
    "bonferroni",
    "bucket_of",
    "customer_outcomes",
    "guardrail_vetoes",
    "holm",
    "hommel",
    "in_global_holdout",
    "sequential_halfwidth",
    "sequential_interval",
    "sidak",
    *_MODULE_OF,
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.abtest' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"workbench.abtest.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
