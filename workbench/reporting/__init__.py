"""Notebook parameters, papermill runs, the weekly report and its index pages.

The runner (papermill, nbconvert) is imported on first use: dashboards import the parameter
classes from here, and papermill's imports alone cost about 0.9 s of every page's start.
"""

import importlib
from typing import Any

from workbench.reporting.params import (
    CohortParams,
    NotebookParams,
    OverviewParams,
    RfmParams,
    params_for,
)

_RUN_NAMES = ("ReportError", "WeeklyRun", "record_headline", "run_weekly", "week_label",
              "week_start")

__all__ = [
    "CohortParams",
    "NotebookParams",
    "OverviewParams",
    "ReportError",
    "RfmParams",
    "WeeklyRun",
    "params_for",
    "record_headline",
    "run_weekly",
    "week_label",
    "week_start",
]


def __getattr__(name: str) -> Any:
    if name in _RUN_NAMES:
        return getattr(importlib.import_module("workbench.reporting.run"), name)
    raise AttributeError(f"module 'workbench.reporting' has no attribute {name!r}")
