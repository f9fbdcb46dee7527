"""Notebook parameters, papermill runs, the weekly report and its index pages."""

from workbench.reporting.params import (
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
    week_label,
    week_start,
)

__all__ = [
    "AudienceParams",
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
