"""The clv_range condition on the hand-made shop of conftest.py (snapshot rows A, B, D)."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from tests.audience.conftest import SETTINGS
from tests.audience.test_conditions import C, members
from workbench.audience import Audience, Group
from workbench.data import connect
from workbench.errors import ParameterError, SchemaError

# customer: (clv_low, clv_high); D has no range (the models refused her data)
RANGES = {"A": (12_000.0, 80_000.0), "B": (0.0, 9_000.0), "D": (None, None)}


@pytest.fixture
def ranged(tiny_copy):
    raw = duckdb.connect(str(tiny_copy))
    for column in ("clv_low", "clv_high"):
        raw.execute(f"ALTER TABLE snapshot_customers DROP COLUMN IF EXISTS {column}")
        raw.execute(f"ALTER TABLE snapshot_customers ADD COLUMN {column} DOUBLE")
    for customer, (low, high) in RANGES.items():
        raw.execute("UPDATE snapshot_customers SET clv_low = ?, clv_high = ? "
                    "WHERE customer_id = ?", [low, high, customer])
    raw.close()
    return connect(tiny_copy, settings=SETTINGS)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"surely_at_least": 10_000}, ["A"]),
    ({"surely_at_least": 12_000}, ["A"]),  # inclusive
    ({"surely_at_least": 12_001}, []),
    ({"surely_at_least": 0}, ["A", "B"]),  # D has no range: never a member
    ({"surely_at_least": None, "surely_at_most": 9_000}, ["B"]),
    ({"surely_at_least": 0, "surely_at_most": 100_000}, ["A", "B"]),
], ids=["above", "inclusive", "nobody", "zero", "at_most", "between"])
def test_members(ranged, fields, expected):
    assert members(ranged, C("clv_range", **fields)) == expected


def test_another_day_uses_the_latest_snapshot_with_a_note(ranged):
    aud = Audience(Group("and", (C("clv_range", surely_at_least=10_000),)), ranged,
                   as_of=datetime(2026, 11, 20), settings=SETTINGS)
    assert aud.count() == 1
    assert aud.notes and "snapshot of 2026-11-16" in aud.notes[0]


def test_a_snapshot_without_ranges_is_a_clear_error(tiny_copy):
    raw = duckdb.connect(str(tiny_copy))
    raw.execute("ALTER TABLE snapshot_customers DROP COLUMN IF EXISTS clv_low")
    raw.close()
    con = connect(tiny_copy, settings=SETTINGS)
    with pytest.raises(SchemaError, match="needs the snapshot column 'clv_low'.*refresh"):
        members(con, C("clv_range", surely_at_least=1))


@pytest.mark.parametrize(("fields", "match"), [
    ({"surely_at_least": None}, "needs 'surely_at_least' or 'surely_at_most'"),
    ({"surely_at_least": 5, "surely_at_most": 4}, "'surely_at_least' \\(5.*\\) is above"),
], ids=["none", "inverted"])
def test_bad_bounds_raise(fields, match):
    with pytest.raises(ParameterError, match=match):
        C("clv_range", **fields)
