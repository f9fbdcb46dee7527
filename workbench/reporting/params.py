"""One frozen parameter dataclass per notebook, validated in ``__post_init__``.

The notebook's ``parameters`` cell holds the same names as annotated primitives; papermill
``-p`` flags, the report runner and the dashboard forms all build these objects. A test checks
that each notebook's parameters equal its dataclass's fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from workbench.errors import ParameterError

__all__ = ["PERIODS", "AudienceParams", "CohortParams", "NotebookParams", "OverviewParams",
           "RfmParams", "params_for"]

PERIODS = ("W", "M")
MODES = ("auto", "interactive", "dashboard", "report")


def _as_date(name: str, value: Any, owner: str) -> date | None:
    if value is None or value == "" or isinstance(value, date):
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(
            f"{owner}: '{name}' must be an ISO date such as 2026-11-16; got {value!r}."
        ) from None


@dataclass(frozen=True, slots=True)
class NotebookParams:
    """Parameters every notebook takes.

    Parameters
    ----------
    as_of
        Facts use events strictly before this date (shop's time zone). ``None``: the start of
        the current week, decided by the caller (the library never reads the clock).
    store
        DuckDB file or Ibis URL; ``None`` means the ``store`` setting.
    language
        ``en`` or ``ko``; ``None`` means the ``language`` setting.
    mode
        ``auto`` (detect), ``interactive`` (JupyterLab), ``dashboard`` (Voila) or ``report``
        (papermill: static charts, no widgets).
    """

    as_of: date | None = None
    store: str | None = None
    language: str | None = None
    mode: str = "auto"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "as_of", _as_date("as_of", self.as_of, owner))
        if self.store == "":
            object.__setattr__(self, "store", None)
        if self.language in ("", None):
            object.__setattr__(self, "language", None)
        elif self.language not in ("en", "ko"):
            raise ParameterError(
                f"{owner}: 'language' must be 'en' or 'ko'; got {self.language!r}.")
        if self.mode not in MODES:
            raise ParameterError(
                f"{owner}: 'mode' must be one of {list(MODES)}; got {self.mode!r}.")

    def replace(self, **changes: Any) -> NotebookParams:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


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

    period: str = "W"
    repurchase_window_days: int = 90
    trend_weeks: int = 26

    def __post_init__(self) -> None:
        NotebookParams.__post_init__(self)
        if self.period not in PERIODS:
            raise ParameterError(
                f"OverviewParams: 'period' must be 'W' (week) or 'M' (month); got {self.period!r}."
            )
        if not 1 <= int(self.repurchase_window_days) <= 730:
            raise ParameterError(
                "OverviewParams: 'repurchase_window_days' must be between 1 and 730; "
                f"got {self.repurchase_window_days!r}."
            )
        if not 2 <= int(self.trend_weeks) <= 260:
            raise ParameterError(
                "OverviewParams: 'trend_weeks' must be between 2 and 260; "
                f"got {self.trend_weeks!r}."
            )


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

    lookback_days: int = 0
    bins: int = 5
    method: str = "quantile"
    compare_days: int = 30
    segment: str = ""

    def __post_init__(self) -> None:
        NotebookParams.__post_init__(self)
        if not 0 <= int(self.lookback_days) <= 3650:
            raise ParameterError(
                "RfmParams: 'lookback_days' must be between 0 (all history) and 3650; "
                f"got {self.lookback_days!r}.")
        if not 2 <= int(self.bins) <= 10:
            raise ParameterError(f"RfmParams: 'bins' must be between 2 and 10; got {self.bins!r}.")
        if self.method not in RFM_METHODS:
            raise ParameterError(
                f"RfmParams: 'method' must be one of {list(RFM_METHODS)}; got {self.method!r}.")
        if not 0 <= int(self.compare_days) <= 730:
            raise ParameterError(
                "RfmParams: 'compare_days' must be between 0 and 730; "
                f"got {self.compare_days!r}.")


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

    months: int = 12
    by_channel: bool = False
    cycle_level: str = "category"
    min_repeats: int = 30

    def __post_init__(self) -> None:
        NotebookParams.__post_init__(self)
        if not 2 <= int(self.months) <= 60:
            raise ParameterError(
                f"CohortParams: 'months' must be between 2 and 60; got {self.months!r}.")
        if self.cycle_level not in ("category", "product"):
            raise ParameterError(
                "CohortParams: 'cycle_level' must be 'category' or 'product'; "
                f"got {self.cycle_level!r}.")
        if int(self.min_repeats) < 1:
            raise ParameterError(
                f"CohortParams: 'min_repeats' must be at least 1; got {self.min_repeats!r}.")


@dataclass(frozen=True, slots=True)
class AudienceParams(NotebookParams):
    """Parameters of the audience builder (``notebooks/audience_builder.ipynb``).

    Parameters
    ----------
    start
        What the form starts from: a recipe name, a saved audience's name, or empty (scratch).
    audiences_dir
        Folder of saved audiences (empty: ``audiences/`` next to the store).
    """

    start: str = ""
    audiences_dir: str = ""

    def __post_init__(self) -> None:
        NotebookParams.__post_init__(self)
        if not isinstance(self.start, str):
            raise ParameterError(f"AudienceParams: 'start' must be a recipe or audience name; "
                                 f"got {self.start!r}.")


_BY_NOTEBOOK: dict[str, type[NotebookParams]] = {
    "overview": OverviewParams, "rfm": RfmParams, "cohorts": CohortParams,
    "audience_builder": AudienceParams}


#: Parameter classes defined next to their analysis (they use its constants), imported on
#: first use so that importing this module stays cheap.
LAZY_PARAMS: dict[str, tuple[str, str]] = {
    "abtest": ("workbench.abtest.analysis", "AbTestParams"),
    "clv": ("workbench.clv.analysis", "ClvParams"),
    "churn": ("workbench.churn.analysis", "ChurnParams"),
}


def params_for(notebook: str) -> type[NotebookParams]:
    """Return the parameter dataclass of a notebook by its name (``overview``)."""
    if notebook in LAZY_PARAMS:
        import importlib

        module, name = LAZY_PARAMS[notebook]
        return getattr(importlib.import_module(module), name)
    try:
        return _BY_NOTEBOOK[notebook]
    except KeyError:
        raise ParameterError(
            f"unknown notebook {notebook!r}; known: {sorted([*_BY_NOTEBOOK, *LAZY_PARAMS])}."
        ) from None
