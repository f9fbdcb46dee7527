"""KPI overview: tiles, revenue drivers (LMDI), repurchase and the weekly trend.

Public API::

    from workbench.kpi import run_overview, period_bounds
    result = run_overview(con, OverviewParams(as_of=date(2026, 11, 16), period="W"))
    result.tiles, result.drivers, result.repurchase, result.second_order_curve, result.trend
    result.message, result.headline(), result.summary(), result.figure_drivers()
    result.message_in("ko"), result.definitions_in("ko")  # sentences in another language
"""

from workbench.dates import period_bounds
from workbench.kpi.drivers import Decomposition, lmdi, log_mean
from workbench.kpi.overview import TILE_METRICS, OverviewResult, run_overview
from workbench.kpi.params import OverviewParams
from workbench.kpi.products import (
    PERIOD_DAYS,
    SORT_KEYS,
    ProductsParams,
    ProductsResult,
    run_products,
)
from workbench.kpi.repurchase import repurchase_rate, second_order_curve, second_orders

__all__ = [
    "TILE_METRICS",
    "Decomposition",
    "OverviewParams",
    "OverviewResult",
    "PERIOD_DAYS",
    "ProductsParams",
    "ProductsResult",
    "SORT_KEYS",
    "lmdi",
    "log_mean",
    "period_bounds",
    "repurchase_rate",
    "run_overview",
    "run_products",
    "second_order_curve",
    "second_orders",
]
