"""Argument types of the command line: dates and local times within a range pandas can hold.

Shared by ``workbench.cli`` and ``workbench.audience.cli``. A date the analyses cannot hold
(``--as-of 0001-01-01`` or ``9999-12-31``, which overflow pandas' nanosecond timestamps) is
refused by the parser with exit code 2, before anything runs.

>>> iso_date("2026-11-16")
datetime.date(2026, 11, 16)
>>> local_time("2026-11-16 10:00")
datetime.datetime(2026, 11, 16, 10, 0)
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

from workbench.i18n import tr

__all__ = ["EARLIEST", "LATEST", "iso_date", "local_time"]

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
        raise argparse.ArgumentTypeError(tr("cli.bad_date", got=text)) from None
    _in_range(day, text)
    return day


def local_time(text: str) -> datetime:
    """Parse a local time ``YYYY-MM-DD HH:MM`` (naive: the shop's zone) within the range."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(tr("cli.bad_time", got=text)) from None
    if moment.tzinfo is not None:
        raise argparse.ArgumentTypeError(tr("cli.bad_time", got=text))
    _in_range(moment.date(), text)
    return moment
