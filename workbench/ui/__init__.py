"""ipywidgets pages and forms; no analysis logic lives here."""

from workbench.ui.cohorts import CohortPage, show_cohorts
from workbench.ui.common import detect_mode
from workbench.ui.overview import OverviewPage, show_overview
from workbench.ui.page import Page
from workbench.ui.rfm import RfmPage, show_rfm

__all__ = ["CohortPage", "OverviewPage", "Page", "RfmPage", "detect_mode", "show_cohorts",
           "show_overview", "show_rfm"]
