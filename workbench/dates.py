"""Time in one place: cut-offs, local days, offsets, Monday-Sunday weeks and calendar periods.

Every analysis takes ``as_of`` and reads nothing after local midnight of that day in the shop's
time zone (the *cut-off*). Bounds are calendar dates turned into tz-aware instants at local
midnight (:func:`midnight` for queries, :func:`cutoff` for pandas), so a 00:30 order on a
Monday in Seoul belongs to that Monday even though it is still Sunday in UTC. Local days are
counted by an exact difference in microseconds plus the zone's offset in force at each instant
(:func:`local_days`), never through ``.date()``, whose result depends on the backend's session
time zone. The clock itself (today, this week) is :mod:`workbench.clock`.

Examples
--------
>>> period_bounds(date(2026, 11, 16), "W")  # a Monday: its own week has not started
(datetime.date(2026, 11, 2), datetime.date(2026, 11, 9), datetime.date(2026, 11, 16))
>>> last_complete_week(date(2026, 11, 22))  # a Sunday: its own week is not over
(datetime.date(2026, 11, 9), datetime.date(2026, 11, 15))
>>> cutoff(date(2026, 11, 16), "Asia/Seoul")
Timestamp('2026-11-16 00:00:00+0900', tz='Asia/Seoul')
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["EPOCH", "cutoff", "epoch_us", "last_complete_week", "local_day_number", "local_days",
           "local_instant",
           "midnight", "monday", "month_start", "offset_changes", "period_bounds",
           "shift_period", "timestamp_us", "week_label", "week_starts"]

#: Day 0 of :func:`local_day_number`.
EPOCH = date(1970, 1, 1)
US_PER_DAY = 86_400_000_000
# Offset changes before this are ignored (instants before 1970 take the zone's 1970 offset):
# a century of a daylight-saving zone would put hundreds of branches in the per-row CASE.
_ZONE_HISTORY_START = EPOCH


# -- cut-offs --------------------------------------------------------------------------------


def cutoff(as_of: date | datetime, timezone: str) -> pd.Timestamp:
    """Return the cut-off instant (tz-aware, the shop's zone) of a date or a datetime.

    A date means its local midnight; a naive datetime is read as local time.

    Examples
    --------
    >>> cutoff(datetime(2026, 11, 16, 10, 30), "Asia/Seoul").hour
    10

    Raises
    ------
    ParameterError
        ``as_of`` is neither a date nor a datetime.
    """
    if isinstance(as_of, datetime):
        ts = pd.Timestamp(as_of)
        return ts.tz_localize(timezone) if ts.tzinfo is None else ts.tz_convert(timezone)
    if isinstance(as_of, date):
        return pd.Timestamp(as_of).tz_localize(timezone)
    raise ParameterError(tr("dates.bad_as_of", got=type(as_of).__name__))


def local_instant(value: datetime | pd.Timestamp, timezone: str) -> pd.Timestamp:
    """Return a timestamp read from a store as a tz-aware instant in the shop's zone.

    Stores give instants tz-aware (DuckDB's ``TIMESTAMPTZ``, a Spark store's timestamps); a
    naive value is read as UTC, the wall clock Ibis gives for a timestamp without a zone, so a
    date shown to people is never the UTC date by accident.

    Examples
    --------
    >>> local_instant(pd.Timestamp("2026-11-15 16:30"), "Asia/Seoul").date()
    datetime.date(2026, 11, 16)
    >>> local_instant(pd.Timestamp("2026-11-16 01:30", tz="Asia/Seoul"), "UTC").day
    15
    """
    ts = pd.Timestamp(value)
    return (ts.tz_localize(UTC) if ts.tzinfo is None else ts).tz_convert(timezone)


def midnight(day: date | datetime, timezone: str) -> ibis.Expr:
    """Return :func:`cutoff` as a tz-aware Ibis literal, to compare timestamps with."""
    return ibis.literal(cutoff(day, timezone))


# -- weeks and months ------------------------------------------------------------------------


def monday(day: date) -> date:
    """Return the Monday of the Monday-Sunday week holding ``day``.

    >>> monday(date(2026, 11, 22))
    datetime.date(2026, 11, 16)
    """
    return day - timedelta(days=day.weekday())


def week_starts(as_of: date, weeks: int) -> list[date]:
    """Return the Mondays of the last ``weeks`` complete weeks before ``as_of``, oldest first.

    Examples
    --------
    >>> week_starts(date(2026, 11, 16), 2)
    [datetime.date(2026, 11, 2), datetime.date(2026, 11, 9)]
    """
    end = monday(as_of)
    return [end - timedelta(days=7 * k) for k in range(weeks, 0, -1)]


def last_complete_week(as_of: date) -> tuple[date, date]:
    """Return (Monday, Sunday) of the last Monday-Sunday week that ends before ``as_of``."""
    sunday = as_of - timedelta(days=as_of.weekday() + 1)
    return sunday - timedelta(days=6), sunday


def week_label(as_of: date) -> str:
    """Return the ISO week label of the Monday-Sunday week that ends before ``as_of``.

    >>> week_label(date(2026, 11, 16)), week_label(date(2026, 11, 18))
    ('2026-W46', '2026-W46')
    >>> week_label(date(2026, 1, 5))
    '2026-W01'
    """
    year, week, _ = last_complete_week(as_of)[0].isocalendar()
    return f"{year}-W{week:02d}"


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
    >>> period_bounds(date(2026, 11, 18), "W")[1:]
    (datetime.date(2026, 11, 9), datetime.date(2026, 11, 16))
    >>> period_bounds(date(2026, 3, 1), "M")
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
    """
    if not isinstance(as_of, date):
        raise ParameterError(tr("dates.period_as_of", got=type(as_of).__name__))
    if period == "W":
        end = monday(as_of)
        return end - timedelta(days=14), end - timedelta(days=7), end
    if period == "M":
        return month_start(as_of, 2), month_start(as_of, 1), month_start(as_of)
    raise ParameterError(tr("dates.period", got=repr(period)))


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


# -- local days ------------------------------------------------------------------------------


def timestamp_us(instant: datetime | pd.Timestamp) -> int:
    """Return microseconds since 1970-01-01 UTC of a tz-aware instant (a Python int)."""
    return pd.Timestamp(instant).value // 1_000


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[empty-body]
    """Return microseconds since 1970-01-01 UTC (DuckDB's ``epoch_us``)."""


def epoch_us(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Return microseconds since 1970-01-01 UTC of a tz-aware timestamp, on any backend."""
    # Ibis compiles both portable forms to something slow on DuckDB: delta() to an ICU
    # DATE_DIFF (about 8 s for 10M rows) and epoch_seconds() to a cast through the session's
    # time zone (wrong unless the session is in UTC). DuckDB's epoch_us reads the stored value.
    if ibis.get_backend(ts).name == "duckdb":
        return _duckdb_epoch_us(ts)
    return ts.delta(ibis.literal(pd.Timestamp(0, tz=UTC)), unit="microsecond")


@lru_cache(maxsize=64)
def offset_changes(timezone: str, lo: datetime, hi: datetime) -> tuple[tuple[datetime, int], ...]:
    """Return ``(instant, utc offset in seconds)`` from ``lo`` and at every offset change.

    >>> [(t.year, o) for t, o in offset_changes("Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC),
    ...                                         datetime(2026, 12, 1, tzinfo=UTC))]
    [(2026, 3600), (2026, 7200), (2026, 3600)]
    """
    zone = ZoneInfo(timezone)

    def offset(second: int) -> int:
        return int(datetime.fromtimestamp(second, zone).utcoffset().total_seconds())

    now, stop = int(lo.timestamp()), int(hi.timestamp())
    current = offset(now)
    changes = [(lo, current)]
    while now < stop:
        step = min(now + 86_400, stop)
        if offset(step) != current:
            before, after = now, step  # bisect to the first second with the new offset
            while after - before > 1:
                middle = (before + after) // 2
                before, after = (middle, after) if offset(middle) == current else (before, middle)
            current = offset(after)
            changes.append((datetime.fromtimestamp(after, UTC), current))
            step = after
        now = step
    return tuple(changes)


def local_days(ts: ir.TimestampValue, *, as_of: date, timezone: str,
               start: date | None = None) -> ir.IntegerValue:
    """Return the local calendar day of ``ts`` as days after ``as_of`` (yesterday is -1).

    Exact in any zone, across daylight-saving changes, and independent of the backend's
    session time zone, for instants before local midnight of ``as_of`` (the offset changes
    considered end there).

    Parameters
    ----------
    ts
        A tz-aware timestamp column.
    as_of
        Day 0.
    timezone
        The shop's IANA time zone.
    start
        No instant of interest is earlier than this day (fewer offset changes to consider);
        default: every change since 1970.
    """
    origin = pd.Timestamp(as_of).tz_localize(timezone)
    since = epoch_us(ts) - timestamp_us(origin)
    base = int(origin.utcoffset().total_seconds())
    # With a lookback no counted order is older than its start (a day earlier covers the zone).
    lo = pd.Timestamp((start or _ZONE_HISTORY_START) - timedelta(days=1)).tz_localize(UTC)
    changes = offset_changes(timezone, lo.to_pydatetime(), origin.to_pydatetime())
    # Wall-clock microseconds since local midnight of as_of: add the offset in force at ts
    # relative to the one at as_of. Newest changes first, as most orders are recent.
    shift: ir.IntegerValue | int = (changes[-1][1] - base) * 1_000_000
    if len(changes) > 1:
        shift = ibis.cases(*[
            (since >= timestamp_us(at) - timestamp_us(origin), (offset - base) * 1_000_000)
            for at, offset in reversed(changes[1:])
        ], else_=(changes[0][1] - base) * 1_000_000)
    # Floor division compiles to FLOOR(x / y) in floating point: exact here because the
    # quotient is small (days from as_of), unlike with microseconds since 1970.
    return (since + shift) // US_PER_DAY


def local_day_number(ts: ir.TimestampValue, *, timezone: str, until: date) -> ir.IntegerValue:
    """Return the local calendar day of a tz-aware instant as days since 1970-01-01.

    Parameters
    ----------
    ts
        A tz-aware timestamp column.
    timezone
        The shop's IANA time zone.
    until
        A date after the last instant of interest.

    Returns
    -------
    ibis.IntegerValue
        ``(local date - 1970-01-01).days``; add it to ``date(1970, 1, 1)`` for the date.
    """
    return local_days(ts, as_of=until, timezone=timezone) + (until - EPOCH).days
