"""ipywidgets pages and forms; no analysis logic lives here.

Pages are imported on first use (``wb.ui.show_overview`` imports only the overview page), so a
dashboard kernel does not pay for the imports of every other page (importing all seven takes
2.5-2.9 s on 2 cores, the overview page alone 1.1-1.2 s). ``AudienceParams`` follows suit.
"""

from __future__ import annotations

import importlib
from typing import Any

from workbench.ui.common import detect_mode
from workbench.ui.page import Page

_PAGES = {
    "AbTestPage": "abtest", "show_abtest": "abtest",
    "ChurnPage": "churn", "show_churn": "churn",
    "ClvPage": "clv", "show_clv": "clv",
    "AudienceBuilder": "audience", "show_audience_builder": "audience",
    "CampaignsPage": "campaigns", "show_campaigns": "campaigns",
    "CohortPage": "cohorts", "show_cohorts": "cohorts",
    "OverviewPage": "overview", "show_overview": "overview",
    "ProductsPage": "products", "show_products": "products",
    "RfmPage": "rfm", "show_rfm": "rfm",
}

__all__ = ["AudienceParams", "Page", "detect_mode", *sorted(_PAGES)]


def __getattr__(name: str) -> Any:
    if name in _PAGES:
        return getattr(importlib.import_module(f"workbench.ui.{_PAGES[name]}"), name)
    if name == "AudienceParams":
        from workbench.audience.params import AudienceParams

        return AudienceParams
    raise AttributeError(f"module 'workbench.ui' has no attribute {name!r}")
