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

__all__ = ["PERIODS", "NotebookParams", "OverviewParams", "params_for"]

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


_BY_NOTEBOOK: dict[str, type[NotebookParams]] = {"overview": OverviewParams}


def params_for(notebook: str) -> type[NotebookParams]:
    """Return the parameter dataclass of a report notebook by its name (``overview``)."""
    try:
        return _BY_NOTEBOOK[notebook]
    except KeyError:
        raise ParameterError(
            f"unknown notebook {notebook!r}; known: {sorted(_BY_NOTEBOOK)}."
        ) from None
