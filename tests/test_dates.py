"""Time in one place: cut-offs, local days, offsets, weeks and periods (workbench.dates)."""

from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.clock import this_week, today
from workbench.dates import (
    cutoff,
    last_complete_week,
    local_day_number,
    local_days,
    monday,
    offset_changes,
    period_bounds,
    week_label,
    week_starts,
)
from workbench.errors import ParameterError
from workbench.settings import Settings


def test_offset_changes_find_every_change():
    changes = offset_changes("Asia/Seoul", datetime(1970, 1, 1, tzinfo=UTC),
                             datetime(2026, 11, 16, tzinfo=UTC))
    # Korea kept summer time in 1987 and 1988 only (02:00 -> 03:00 local).
    assert [(at.isoformat(), off) for at, off in changes[1:]] == [
        ("1987-05-09T17:00:00+00:00", 36000), ("1987-10-10T17:00:00+00:00", 32400),
        ("1988-05-07T17:00:00+00:00", 36000), ("1988-10-08T17:00:00+00:00", 32400)]



@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York", "Europe/Berlin", "UTC"])
def test_local_day_number_matches_pandas_in_any_zone(zone, rng):
    # Random instants, plus the minutes around local midnights and DST changes.
    seconds = rng.integers(pd.Timestamp("1985-01-01").timestamp(),
                           pd.Timestamp("2027-01-01").timestamp(), 2_000)
    edges = pd.to_datetime(["2026-03-08 01:59:59", "2026-03-08 03:00", "2026-11-01 00:59:59",
                            "2026-11-01 01:00", "2026-03-29 01:59", "2026-01-01 00:00",
                            "2025-12-31 23:59:59"], format="ISO8601")
    ts = pd.concat([pd.Series(pd.to_datetime(seconds, unit="s", utc=True)),
                    pd.Series(edges.tz_localize("UTC"))], ignore_index=True)
    t = ibis.memtable(pd.DataFrame({"ts": ts}))
    got = t.select(d=local_day_number(t.ts, timezone=zone, until=date(2026, 12, 31))).to_pandas()
    local = ts.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    expected = (local - pd.Timestamp("1970-01-01")).dt.days
    np.testing.assert_array_equal(got["d"].to_numpy(), expected.to_numpy())


def test_local_days_count_from_as_of_across_a_dst_change():
    # Berlin springs forward on 2026-03-29: 23:30 local the day before is day -1, not -2.
    ts = pd.to_datetime(["2026-03-28 23:30", "2026-03-29 00:30", "2026-03-29 23:59"]
                        ).tz_localize("Europe/Berlin")
    t = ibis.memtable(pd.DataFrame({"ts": ts}))
    got = t.select(d=local_days(t.ts, as_of=date(2026, 3, 30), timezone="Europe/Berlin"))
    assert got.to_pandas()["d"].tolist() == [-2, -1, -1]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_weeks_are_monday_to_sunday_and_end_before_as_of(day):
    start, end = last_complete_week(day)
    assert start.weekday() == 0 and end - start == timedelta(days=6) and end < day
    assert day - end <= timedelta(days=7)
    assert monday(day) <= day < monday(day) + timedelta(days=7)
    assert week_starts(day, 1) == [start]
    assert week_label(day) == f"{start.isocalendar()[0]}-W{start.isocalendar()[1]:02d}"
    previous, current, stop = period_bounds(day, "W")
    assert (current, stop - timedelta(days=1)) == (start, end)
    assert current - previous == timedelta(days=7)


def test_cutoff_of_dates_and_times_and_bad_values():
    assert cutoff(date(2026, 11, 16), "Asia/Seoul").isoformat() == "2026-11-16T00:00:00+09:00"
    assert cutoff(datetime(2026, 11, 16, 10, 30), "Asia/Seoul").hour == 10
    aware = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    assert cutoff(aware, "Asia/Seoul").hour == 10
    with pytest.raises(ParameterError, match="'as_of' must be a date or datetime; got str"):
        cutoff("2026-11-16", "Asia/Seoul")


def test_the_clock_reads_the_shops_zone():
    settings = Settings(timezone="Pacific/Kiritimati")  # UTC+14: often a day ahead of UTC
    day = today(settings)
    assert abs((day - datetime.now(UTC).date()).days) <= 1
    assert this_week(settings) == monday(day)
