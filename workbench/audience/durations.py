"""Window bounds of audience conditions: ``"14d"``, ``"1h"``, ``"2w"`` before the cut-off.

A bare number means days; weeks are stored as days, so every duration has one canonical form
(``"14d"``, ``"36h"``) that files, cache keys and comparisons use.

Examples
--------
>>> duration("2w"), to_timedelta("36h")
('14d', datetime.timedelta(days=1, seconds=43200))
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from workbench._userfiles import short
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["cooldown_duration", "duration", "to_timedelta"]

_DURATION = re.compile(r"^\s*(\d{1,5})\s*([hdw]?)\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks", "": "days"}
#: 100 years in each canonical unit: longer windows are typing mistakes.
_LONGEST = {"d": 36_500, "h": 876_000}


def duration(value: Any, *, where: str = "duration") -> str:
    """Return a window bound in canonical form (``"14d"``, ``"1h"``), validating it.

    Parameters
    ----------
    value
        ``"14d"``, ``"36h"``, ``"2w"`` or a whole number of days.
    where
        Named in the error message.

    Raises
    ------
    ParameterError
        Not a duration, or longer than 100 years.

    Examples
    --------
    >>> duration(14), duration("36h"), duration(" 2w ")
    ('14d', '36h', '14d')
    """
    if isinstance(value, bool):
        value = "?"
    if isinstance(value, int):
        value = str(value)
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m:
        raise ParameterError(tr("audience.error.duration", where=where, got=short(value)))
    n, unit = int(m.group(1)), m.group(2) or "d"
    if unit == "w":
        n, unit = 7 * n, "d"
    if n > _LONGEST[unit]:
        raise ParameterError(tr("audience.error.duration_too_long", where=where,
                                got=short(value)))
    return f"{n}{unit}"


def to_timedelta(text: str) -> timedelta:
    """Return the :class:`~datetime.timedelta` of a canonical duration.

    >>> to_timedelta("36h"), to_timedelta("2d")
    (datetime.timedelta(days=1, seconds=43200), datetime.timedelta(days=2))
    """
    n, unit = int(text[:-1]), text[-1]
    return timedelta(**{_UNITS[unit]: n})


def cooldown_duration(value: Any, where: str) -> str:
    """Return an audience's cooldown in canonical form: a duration of at least one hour.

    Raises
    ------
    ParameterError
        Not a duration, or zero.

    Examples
    --------
    >>> cooldown_duration("1w", "x"), cooldown_duration(" 24h", "x")
    ('7d', '24h')
    """
    try:
        text = duration(value, where=where)
    except ParameterError:
        text = None
    if text is None or to_timedelta(text).total_seconds() <= 0:
        raise ParameterError(tr("audience.error.cooldown", where=where, got=short(value)))
    return text
