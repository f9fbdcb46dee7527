"""RFM: scores, named segments (rules as data), groups, migration and loyalty tiers.

Public API::

    from workbench.rfm import run_rfm, run_cohorts, segment_members
    result = run_rfm(con, RfmParams(as_of=date(2026, 11, 16), compare_days=30))
    result.segments, result.customers, result.groups, result.rf_heatmap, result.migration
    result.tiers, result.tier_movers, result.message, result.headline()
    result.message_in("ko"), result.summary("ko")  # sentences in another language
    result.figure_treemap(), result.figure_heatmap(), result.figure_migration()
    segment_members(result, "at_risk", con=con, limit=50)     # masked names and phones

Lazy building blocks (``ibis.Table -> ibis.Table``)::

    facts.pipe(score_rfm, bins=5).pipe(assign_segments, load_segment_rules())
    customer_groups(facts)                      # is_vip, is_first_time, is_dormant
    assign_tiers(facts, load_tier_rules())      # tier from 365-day spend and orders
"""

from workbench.dates import local_day_number
from workbench.rfm.analysis import CUSTOMER_COLUMNS, RfmResult, run_rfm, segment_members

# Cohorts and purchase cycles.
from workbench.rfm.cohort_analysis import CohortResult, run_cohorts
from workbench.rfm.cohorts import TRIANGLE_COLUMNS, retention_triangle
from workbench.rfm.cycles import CYCLE_COLUMNS, DUE_COLUMNS, purchase_cycles, replenishment_due
from workbench.rfm.migration import (
    NOT_YET_CUSTOMER,
    OUT_OF_WINDOW,
    migration_counts,
    segment_migration,
    segmented_facts,
)
from workbench.rfm.params import CohortParams, RfmParams
from workbench.rfm.scoring import DEFAULT_THRESHOLDS, RFM_SCORE_COLUMNS, score_rfm
from workbench.rfm.segments import (
    SegmentRule,
    SegmentRules,
    assign_segments,
    customer_groups,
    grid_score,
    load_segment_rules,
    rf_grid,
    segment_summary,
)
from workbench.rfm.tiers import (
    DEFAULT_TIERS_TOML,
    TierRule,
    TierRules,
    assign_tiers,
    leaving_totals,
    load_tier_rules,
    tier_movers,
    tier_projection,
    tier_summary,
)

__all__ = [
    "CUSTOMER_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_TIERS_TOML",
    "NOT_YET_CUSTOMER",
    "OUT_OF_WINDOW",
    "RFM_SCORE_COLUMNS",
    "RfmParams",
    "RfmResult",
    "SegmentRule",
    "SegmentRules",
    "TierRule",
    "TierRules",
    "assign_segments",
    "assign_tiers",
    "customer_groups",
    "grid_score",
    "leaving_totals",
    "load_segment_rules",
    "load_tier_rules",
    "migration_counts",
    "rf_grid",
    "run_rfm",
    "score_rfm",
    "segment_members",
    "segment_migration",
    "segment_summary",
    "segmented_facts",
    "tier_movers",
    "tier_projection",
    "tier_summary",
    "CYCLE_COLUMNS",
    "CohortParams",
    "CohortResult",
    "DUE_COLUMNS",
    "TRIANGLE_COLUMNS",
    "local_day_number",
    "purchase_cycles",
    "replenishment_due",
    "retention_triangle",
    "run_cohorts",
]
