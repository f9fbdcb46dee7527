"""Notebook parameters, papermill runs, the weekly report and its index pages.

The parameter classes (``wb.reporting.OverviewParams`` ...) live with their analyses and are
looked up in the notebook registry (:mod:`workbench.reporting.params`) on first use.
"""

import importlib
from typing import Any

from workbench.params import NotebookParams
from workbench.reporting.params import NOTEBOOK_PARAMS, params_for
from workbench.reporting.run import (
    ReportError,
    WeeklyRun,
    record_headline,
    run_weekly,
)

__all__ = [
    "AbTestParams",
    "AudienceParams",
    "ChurnParams",
    "ClvParams",
    "CohortParams",
    "NotebookParams",
    "OverviewParams",
    "ReportError",
    "RfmParams",
    "WeeklyRun",
    "params_for",
    "record_headline",
    "run_weekly",
]


def __getattr__(name: str) -> Any:
    for module, cls in NOTEBOOK_PARAMS.values():
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module 'workbench.reporting' has no attribute {name!r}")
