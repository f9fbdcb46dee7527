"""Parameters of the KPI overview (``notebooks/overview.ipynb``)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.params import PERIODS, NotebookParams, param

__all__ = ["OverviewParams"]


@dataclass(frozen=True, slots=True)
class OverviewParams(NotebookParams):
    """Parameters of the KPI overview (``notebooks/overview.ipynb``).

    Parameters
    ----------
    period
        ``W`` (Monday-Sunday week) or ``M`` (calendar month): the last complete period before
        ``as_of`` is compared with the one before it.
    repurchase_window_days
        A first-time buyer "repurchased" when they ordered again within this many days.
    trend_weeks
        Number of weeks in the trend charts.
    """

    period: str = param("W", choices=PERIODS)
    repurchase_window_days: int = param(90, low=1, high=730)
    trend_weeks: int = param(26, low=2, high=260)
