"""The one place that reads the clock.

Analyses always take ``as_of``; only the edges (the command line and the notebooks' setup cell)
turn "now" into a date, in the shop's time zone.
"""

from __future__ import annotations

from datetime import date, datetime

from workbench.dates import monday
from workbench.settings import Settings, load_settings

__all__ = ["now", "this_week", "today"]


def now(settings: Settings | None = None) -> datetime:
    """Return the current time in the shop's time zone."""
    return datetime.now((settings or load_settings()).tz)


def today(settings: Settings | None = None) -> date:
    """Return today's date in the shop's time zone."""
    return now(settings).date()


def this_week(settings: Settings | None = None) -> date:
    """Return the Monday of the current week (the default ``as_of`` of reports)."""
    return monday(today(settings))
