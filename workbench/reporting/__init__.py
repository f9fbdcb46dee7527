"""Notebook parameters, papermill runs, the weekly report and its index pages."""

from workbench.reporting.params import NotebookParams, OverviewParams, params_for
from workbench.reporting.run import (
    ReportError,
    WeeklyRun,
    record_headline,
    run_weekly,
    week_label,
    week_start,
)

__all__ = [
    "NotebookParams",
    "OverviewParams",
    "ReportError",
    "WeeklyRun",
    "params_for",
    "record_headline",
    "run_weekly",
    "week_label",
    "week_start",
]
