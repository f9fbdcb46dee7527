"""Notebook parameters, papermill runs, the weekly report and its index pages."""

import importlib
from typing import Any

from workbench.reporting.params import (
    LAZY_PARAMS,
    AudienceParams,
    CohortParams,
    NotebookParams,
    OverviewParams,
    RfmParams,
    params_for,
)
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
    # Parameter classes that live with their analysis (see LAZY_PARAMS), e.g. AbTestParams.
    for module, cls in LAZY_PARAMS.values():
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module 'workbench.reporting' has no attribute {name!r}")
