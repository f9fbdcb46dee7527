"""ipywidgets pages and forms; no analysis logic lives here."""

from workbench.ui.common import detect_mode
from workbench.ui.overview import OverviewPage, show_overview

__all__ = ["OverviewPage", "detect_mode", "show_overview"]
