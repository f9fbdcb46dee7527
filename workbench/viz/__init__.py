"""Plotly figure builders: data in, a new ``go.Figure`` out, no I/O (one function per chart)."""

from workbench.viz.kpi import (
    drivers_figure,
    money_tickformat,
    money_unit,
    second_order_figure,
    trend_figure,
)

__all__ = [
    "drivers_figure",
    "money_tickformat",
    "money_unit",
    "second_order_figure",
    "trend_figure",
]
