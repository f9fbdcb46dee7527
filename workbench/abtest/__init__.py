"""A/B tests and campaign holdouts: assignment, sufficient statistics, readouts, planning, ROI.

Public API::

    from workbench.abtest import AbTestParams, run_abtest, list_campaigns, campaign_overview
    result = run_abtest(con, AbTestParams(campaign_id="CMP001"))
    result.message                       # the verdict, sample-ratio check included
    result.to_frame(), result.figure(), result.roi_frame(), result.srm.to_frame()

    # planning (no store needed) and deterministic assignment
    sample_size_per_arm(0.05, 0.10)                # customers per arm for a 10% lift
    minimum_detectable_effect(20_000, 0.05)        # relative lift detectable with 20k per arm
    assign_variants(ids, "spring-sale", {"holdout": 0.1, "control": 0.45, "B": 0.45})

    # statistics on sufficient statistics
    compare_proportions(ProportionStats(1000, 100), ProportionStats(1000, 130))
    welch_ttest(MeanStats(n, s, ss), ...), compare_ratios(RatioStats(...), ...), cuped_ttest(...)
    beta_binomial(...), sequential_interval(...), srm_check(...), holm(...), campaign_roi(...)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names resolve on first use (PEP 562), so `from workbench.abtest import
# minimum_detectable_effect` does not import Ibis, the readout and scipy.integrate.
_WHERE = {
    "AbStatus": "workbench.abtest.stats",
    "AbTestParams": "workbench.abtest.analysis",
    "AbTestResult": "workbench.abtest.analysis",
    "BayesComparison": "workbench.abtest.bayesian",
    "CRM_ARM": "workbench.abtest.holdout",
    "CUSTOMER_OUTCOME_COLUMNS": "workbench.abtest.aggregate",
    "Comparison": "workbench.abtest.stats",
    "CupedStats": "workbench.abtest.stats",
    "DEFAULT_N_STAR": "workbench.abtest.sequential",
    "DurationEstimate": "workbench.abtest.power",
    "GLOBAL_HOLDOUT": "workbench.abtest.assignment",
    "GLOBAL_HOLDOUT_SALT": "workbench.abtest.assignment",
    "MIN_USERS": "workbench.abtest.stats",
    "MeanStats": "workbench.abtest.stats",
    "ProportionStats": "workbench.abtest.stats",
    "RatioStats": "workbench.abtest.stats",
    "RoiResult": "workbench.abtest.roi",
    "SRM_THRESHOLD": "workbench.abtest.srm",
    "SUM_COLUMNS": "workbench.abtest.aggregate",
    "SrmResult": "workbench.abtest.srm",
    "adjust_p_values": "workbench.abtest.multiple",
    "arm_statistics": "workbench.abtest.aggregate",
    "arm_sums": "workbench.abtest.aggregate",
    "assign_campaign": "workbench.abtest.assignment",
    "assign_variants": "workbench.abtest.assignment",
    "benjamini_hochberg": "workbench.abtest.multiple",
    "beta_binomial": "workbench.abtest.bayesian",
    "bootstrap_mean_diff_ci": "workbench.abtest.frequentist",
    "bucket_of": "workbench.abtest.assignment",
    "campaign_overview": "workbench.abtest.analysis",
    "campaign_roi": "workbench.abtest.roi",
    "compare_proportions": "workbench.abtest.frequentist",
    "compare_ratios": "workbench.abtest.frequentist",
    "cuped_ttest": "workbench.abtest.frequentist",
    "customer_outcomes": "workbench.abtest.aggregate",
    "expected_duration_days": "workbench.abtest.power",
    "guardrail_vetoes": "workbench.abtest.multiple",
    "holm": "workbench.abtest.multiple",
    "in_global_holdout": "workbench.abtest.assignment",
    "infer_coupon_codes": "workbench.abtest.analysis",
    "list_campaigns": "workbench.abtest.analysis",
    "minimum_detectable_effect": "workbench.abtest.power",
    "minimum_detectable_effect_mean": "workbench.abtest.power",
    "newcombe_interval": "workbench.abtest.frequentist",
    "normal_means": "workbench.abtest.bayesian",
    "readout_from_sums": "workbench.abtest.analysis",
    "relative_lift": "workbench.abtest.frequentist",
    "run_abtest": "workbench.abtest.analysis",
    "run_global_holdout": "workbench.abtest.holdout",
    "sample_size_mean": "workbench.abtest.power",
    "sample_size_per_arm": "workbench.abtest.power",
    "sequential_halfwidth": "workbench.abtest.sequential",
    "sequential_interval": "workbench.abtest.sequential",
    "srm_check": "workbench.abtest.srm",
    "welch_ttest": "workbench.abtest.frequentist",
    "wilson_interval": "workbench.abtest.frequentist",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from workbench.abtest.aggregate import (
        CUSTOMER_OUTCOME_COLUMNS,
        SUM_COLUMNS,
        arm_statistics,
        arm_sums,
        customer_outcomes,
    )
    from workbench.abtest.analysis import (
        AbTestParams,
        AbTestResult,
        campaign_overview,
        infer_coupon_codes,
        list_campaigns,
        readout_from_sums,
        run_abtest,
    )
    from workbench.abtest.assignment import (
        GLOBAL_HOLDOUT,
        GLOBAL_HOLDOUT_SALT,
        assign_campaign,
        assign_variants,
        bucket_of,
        in_global_holdout,
    )
    from workbench.abtest.bayesian import BayesComparison, beta_binomial, normal_means
    from workbench.abtest.frequentist import (
        bootstrap_mean_diff_ci,
        compare_proportions,
        compare_ratios,
        cuped_ttest,
        newcombe_interval,
        relative_lift,
        welch_ttest,
        wilson_interval,
    )
    from workbench.abtest.holdout import CRM_ARM, run_global_holdout
    from workbench.abtest.multiple import (
        adjust_p_values,
        benjamini_hochberg,
        guardrail_vetoes,
        holm,
    )
    from workbench.abtest.power import (
        DurationEstimate,
        expected_duration_days,
        minimum_detectable_effect,
        minimum_detectable_effect_mean,
        sample_size_mean,
        sample_size_per_arm,
    )
    from workbench.abtest.roi import RoiResult, campaign_roi
    from workbench.abtest.sequential import (
        DEFAULT_N_STAR,
        sequential_halfwidth,
        sequential_interval,
    )
    from workbench.abtest.srm import SRM_THRESHOLD, SrmResult, srm_check
    from workbench.abtest.stats import (
        MIN_USERS,
        AbStatus,
        Comparison,
        CupedStats,
        MeanStats,
        ProportionStats,
        RatioStats,
    )


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'workbench.abtest' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [
    "CRM_ARM",
    "CUSTOMER_OUTCOME_COLUMNS",
    "DEFAULT_N_STAR",
    "GLOBAL_HOLDOUT",
    "GLOBAL_HOLDOUT_SALT",
    "MIN_USERS",
    "SRM_THRESHOLD",
    "SUM_COLUMNS",
    "AbStatus",
    "AbTestParams",
    "AbTestResult",
    "BayesComparison",
    "Comparison",
    "CupedStats",
    "DurationEstimate",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "RoiResult",
    "SrmResult",
    "adjust_p_values",
    "arm_statistics",
    "arm_sums",
    "assign_campaign",
    "assign_variants",
    "benjamini_hochberg",
    "beta_binomial",
    "bootstrap_mean_diff_ci",
    "bucket_of",
    "campaign_overview",
    "campaign_roi",
    "compare_proportions",
    "compare_ratios",
    "cuped_ttest",
    "customer_outcomes",
    "expected_duration_days",
    "guardrail_vetoes",
    "holm",
    "in_global_holdout",
    "infer_coupon_codes",
    "list_campaigns",
    "minimum_detectable_effect",
    "minimum_detectable_effect_mean",
    "newcombe_interval",
    "normal_means",
    "readout_from_sums",
    "relative_lift",
    "run_abtest",
    "run_global_holdout",
    "sample_size_mean",
    "sample_size_per_arm",
    "sequential_halfwidth",
    "sequential_interval",
    "srm_check",
    "welch_ttest",
    "wilson_interval",
]
