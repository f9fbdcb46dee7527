"""Argument types of the command line: dates and local times within a range pandas can hold.

Shared by ``workbench.cli`` and ``workbench.audience.cli``. A date the analyses cannot hold
(``--as-of 0001-01-01`` or ``9999-12-31``, which overflow pandas' nanosecond timestamps) is
refused by the parser with exit code 2, before anything runs.

>>> iso_date("2026-11-16")
datetime.date(2026, 11, 16)
>>> local_time("2026-11-16 10:00")
datetime.datetime(2026, 11, 16, 10, 0)
>>> as_of_moment("2026-11-16"), as_of_moment("2026-11-16 14:00")
(datetime.date(2026, 11, 16), datetime.datetime(2026, 11, 16, 14, 0))
>>> moment_label(as_of_moment("2026-11-16 14:00"))
'2026-11-16 14:00'

Day-level commands (``refresh``, ``churn train``, ``report weekly``, ``sample --end``) take
:func:`iso_date`: their snapshot, model or week is a calendar day's, so a time of day is
refused with a message saying so, rather than silently cut at midnight. Audience commands take
:func:`as_of_moment`: a plain date is local midnight, ``YYYY-MM-DD HH:MM`` cuts at that
instant (hour-level scenarios such as "+1 h after the cart"). ``--send-at`` takes
:func:`local_time`, which needs the time: a bare date would mean 00:00, inside the
21:00-08:00 night window, and exclude every ad recipient without night consent.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

from workbench.i18n import tr

__all__ = ["EARLIEST", "LATEST", "as_of_moment", "iso_date", "local_time", "moment_label"]

#: The dates a command accepts: wide enough for any shop's history and plans, narrow enough
#: for every calendar computation (pandas holds 1677-2262 in nanoseconds).
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


def _in_range(day: date, text: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise argparse.ArgumentTypeError(tr("cli.date_out_of_range", got=text,
                                            earliest=EARLIEST.isoformat(),
                                            latest=LATEST.isoformat()))


def iso_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` between :data:`EARLIEST` and :data:`LATEST`."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        key = "cli.date_only" if _has_time(text) else "cli.bad_date"
        raise argparse.ArgumentTypeError(tr(key, got=text)) from None
    _in_range(day, text)
    return day


def _has_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return False
    return len(text.strip()) > 10


def as_of_moment(text: str) -> date | datetime:
    """Parse ``YYYY-MM-DD`` (a date: local midnight) or ``YYYY-MM-DD HH:MM`` (local time)."""
    if len(text.strip()) <= 10:
        return iso_date(text.strip())
    try:
        return local_time(text.strip())
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(tr("cli.bad_moment", got=text)) from None


def local_time(text: str) -> datetime:
    """Parse a local time ``YYYY-MM-DD HH:MM`` (naive: the shop's zone) within the range."""
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        pass
    else:  # a bare date would be 00:00: inside the night window, surely not what was meant
        raise argparse.ArgumentTypeError(tr("cli.time_needed", got=text))
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(tr("cli.bad_time", got=text)) from None
    if moment.tzinfo is not None:
        raise argparse.ArgumentTypeError(tr("cli.bad_time", got=text))
    _in_range(moment.date(), text)
    return moment


def moment_label(moment: date | datetime) -> str:
    """Show an as-of as ``YYYY-MM-DD``, with ``HH:MM`` when it has a time of day."""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()
