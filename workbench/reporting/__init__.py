"""Notebook parameters, papermill runs, the weekly report and its index pages.

The parameter classes (``wb.reporting.OverviewParams`` ...) live with their analyses and are
looked up in the notebook registry (:mod:`workbench.reporting.params`) on first use.

The report runner's names (``run_weekly`` ...) are looked up on first use too: every dashboard
kernel reaches ``wb.reporting.OverviewParams`` and would otherwise import
:mod:`workbench.reporting.run` with nbformat and jsonschema, which no page needs (measured:
see ``_RUNNER`` below).
"""

import importlib
from typing import Any

from workbench.params import NotebookParams
from workbench.reporting.params import NOTEBOOK_PARAMS, params_for

#: Names served from :mod:`workbench.reporting.run` on first use. ``import workbench as wb;
#: wb.reporting.OverviewParams; wb.ui.show_overview`` (a page's import cell) used a median of
#: 1.64 s of CPU with them imported here and 1.43 s without (five alternating runs each, 2
#: cores under a load average of 18 from other work; wall 14.4 s and 13.0 s); the saving is
#: nbformat's validator and jsonschema.
_RUNNER = ("ReportError", "WeeklyRun", "record_headline", "run_weekly")

__all__ = [
    "AbTestParams",
    "AudienceParams",
    "CampaignsParams",
    "ChurnParams",
    "ClvParams",
    "CohortParams",
    "NotebookParams",
    "OverviewParams",
    "ProductsParams",
    "ReportError",
    "RfmParams",
    "WeeklyRun",
    "params_for",
    "record_headline",
    "run_weekly",
]


def __getattr__(name: str) -> Any:
    if name in _RUNNER:
        return getattr(importlib.import_module("workbench.reporting.run"), name)
    for module, cls in NOTEBOOK_PARAMS.values():
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module 'workbench.reporting' has no attribute {name!r}")
