"""Calendar periods of the overview: complete Monday-Sunday weeks and calendar months.

Every bound is a calendar date; the queries turn it into the instant of local midnight in the
shop's time zone (:func:`midnight`), so a 00:30 order on a Monday in Seoul belongs to that
Monday's week even though it is still Sunday in UTC.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pandas as pd

from workbench.errors import ParameterError

__all__ = ["midnight", "month_start", "period_bounds", "shift_period", "week_starts"]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date, months_back: int = 0) -> date:
    """Return the first day of the month ``months_back`` months before ``day``'s month.

    Examples
    --------
    >>> month_start(date(2026, 1, 20), 1)
    datetime.date(2025, 12, 1)
    """
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(as_of: date, period: str) -> tuple[date, date, date]:
    """Return the previous and current complete periods before ``as_of``.

    ``as_of`` is exclusive: the current period is the last complete Monday-Sunday week (``W``)
    or calendar month (``M``) that ends on or before the day before ``as_of``; the previous
    period is the one before it.

    Parameters
    ----------
    as_of
        Reference date; only days strictly before it are complete.
    period
        ``"W"`` or ``"M"``.

    Returns
    -------
    tuple of date
        ``(previous_start, current_start, current_end)``, half-open: the previous period is
        ``[previous_start, current_start)`` and the current one ``[current_start, current_end)``.

    Raises
    ------
    ParameterError
        ``period`` is not ``"W"`` or ``"M"``, or ``as_of`` is not a date.

    Examples
    --------
    >>> period_bounds(date(2026, 11, 16), "W")  # a Monday: its own week has not started
    (datetime.date(2026, 11, 2), datetime.date(2026, 11, 9), datetime.date(2026, 11, 16))
    >>> period_bounds(date(2026, 11, 18), "W")[1:]
    (datetime.date(2026, 11, 9), datetime.date(2026, 11, 16))
    >>> period_bounds(date(2026, 3, 1), "M")
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
    """
    if not isinstance(as_of, date):
        raise ParameterError(
            f"period_bounds: 'as_of' must be a datetime.date; got {type(as_of).__name__}."
        )
    if period == "W":
        end = _monday(as_of)
        return end - timedelta(days=14), end - timedelta(days=7), end
    if period == "M":
        return month_start(as_of, 2), month_start(as_of, 1), month_start(as_of)
    raise ParameterError(
        f"period_bounds: 'period' must be 'W' (week) or 'M' (month); got {period!r}."
    )


def shift_period(day: date, period: str) -> date:
    """Return ``day`` moved back by one week or one calendar month (day clipped to the month).

    Examples
    --------
    >>> shift_period(date(2026, 3, 31), "M")
    datetime.date(2026, 2, 28)
    """
    if period == "W":
        return day - timedelta(days=7)
    return (pd.Timestamp(day) - pd.DateOffset(months=1)).date()


def week_starts(as_of: date, weeks: int) -> list[date]:
    """Return the Mondays of the last ``weeks`` complete weeks before ``as_of``, oldest first.

    Examples
    --------
    >>> week_starts(date(2026, 11, 16), 2)
    [datetime.date(2026, 11, 2), datetime.date(2026, 11, 9)]
    """
    end = _monday(as_of)
    return [end - timedelta(days=7 * k) for k in range(weeks, 0, -1)]


def midnight(day: date, timezone: str) -> ibis.Expr:
    """Return local midnight at the start of ``day`` in ``timezone`` as a tz-aware literal."""
    return ibis.literal(pd.Timestamp(day).tz_localize(timezone))
