"""Parameters of the RFM page and of cohorts and purchase cycles."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.params import NotebookParams, param

__all__ = ["RFM_METHODS", "CohortParams", "RfmParams"]

RFM_METHODS = ("quantile", "threshold")


@dataclass(frozen=True, slots=True)
class RfmParams(NotebookParams):
    """Parameters of the RFM segmentation (``notebooks/rfm.ipynb``).

    Parameters
    ----------
    lookback_days
        Only orders in this many days before ``as_of`` count; ``0`` means all history.
    bins
        Number of score levels for R, F and M (scores run 1..bins; 5 is the usual quintile).
    method
        ``quantile`` (scores by rank, ties scored equally) or ``threshold`` (fixed cut points
        in days, orders and money, from the ``rfm_thresholds`` setting or the defaults).
    compare_days
        Segment migration compares ``as_of`` with this many days earlier (0: no migration).
    segment
        Segment shown first in the member list (empty: the largest one).
    """

    lookback_days: int = param(0, low=0, high=3650)
    bins: int = param(5, low=2, high=10)
    method: str = param("quantile", choices=RFM_METHODS)
    compare_days: int = param(30, low=0, high=730)
    segment: str = param("")


@dataclass(frozen=True, slots=True)
class CohortParams(NotebookParams):
    """Parameters of cohorts and purchase cycles (``notebooks/cohorts.ipynb``).

    Parameters
    ----------
    months
        Number of first-order-month cohorts in the retention triangle.
    by_channel
        Split the triangle by acquisition channel (when the store knows it).
    cycle_level
        ``category`` or ``product``: where purchase cycles are measured.
    min_repeats
        A category or product needs this many repeat purchases to get a cycle.
    """

    months: int = param(12, low=2, high=60)
    by_channel: bool = param(False)
    cycle_level: str = param("category", choices=("category", "product"))
    min_repeats: int = param(30, low=1)
