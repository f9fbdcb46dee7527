"""Plotly figure builders: data in, a new ``go.Figure`` out, no I/O (one function per chart)."""

from workbench.viz.cohorts import cycles_figure, retention_figure, revenue_figure
from workbench.viz.kpi import (
    drivers_figure,
    money_tickformat,
    money_unit,
    second_order_figure,
    trend_figure,
)
from workbench.viz.rfm import migration_sankey, rf_heatmap_figure, segment_treemap, tier_figure

__all__ = [
    "cycles_figure",
    "drivers_figure",
    "migration_sankey",
    "money_tickformat",
    "money_unit",
    "retention_figure",
    "revenue_figure",
    "rf_heatmap_figure",
    "second_order_figure",
    "segment_treemap",
    "tier_figure",
    "trend_figure",
]
