"""Segment migration between two as_of dates on a tiny hand-made store."""

import re
from datetime import date

import ibis
import pandas as pd
import pytest

from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.rfm import (
    NOT_YET_CUSTOMER,
    OUT_OF_WINDOW,
    load_segment_rules,
    migration_counts,
    segment_migration,
)
from workbench.settings import Settings

TZ = "Asia/Seoul"
SETTINGS = Settings(timezone=TZ, currency="KRW", language="en")
FROM, TO = date(2026, 3, 5), date(2026, 4, 1)
ORDERS = [  # order_id, customer_id, ordered_at (Seoul), status, amount
    ("o1", "A", "2026-01-10 10:00", "paid", 10_000),
    ("o2", "A", "2026-03-01 10:00", "confirmed", 20_000),
    ("o3", "B", "2026-02-01 10:00", "delivered", 15_000),
    ("o4", "C", "2026-03-10 10:00", "paid", 30_000),  # first order between the dates
    ("o5", "D", "2025-09-20 10:00", "paid", 5_000),  # inside a 180-day lookback at FROM only
    ("o6", "E", "2026-02-10 10:00", "cancelled", 9_000),  # never a customer
    ("o7", None, "2026-02-11 10:00", "paid", 9_000),  # guest
    ("o8", "F", "2026-04-01 00:00", "paid", 9_000),  # at TO: not before it
]


@pytest.fixture
def con(tmp_path):
    o = pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "ordered_at", "status",
                                      "amount"])
    o["ordered_at"] = pd.to_datetime(o["ordered_at"]).dt.tz_localize(TZ)
    o["amount"] = o["amount"].astype("float64")
    with write_store(tmp_path / "tiny.duckdb", settings=SETTINGS) as w:
        w.write("orders", o)
    return connect(tmp_path / "tiny.duckdb", settings=SETTINGS)


@pytest.fixture
def everyone(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text('[[segment]]\nid = "everyone"\nr = [1, 5]\nf = [1, 5]\n'
                    'label = { en = "Everyone", ko = "모두" }\n'
                    'description = { en = "d", ko = "d" }\naction = { en = "a", ko = "a" }\n',
                    encoding="utf-8")
    return load_segment_rules(path)


def test_migration_counts_all_history(con, everyone):
    got = segment_migration(con, from_as_of=FROM, to_as_of=TO, settings=SETTINGS,
                            rules=everyone)
    assert got.to_dict("records") == [
        {"from_segment": NOT_YET_CUSTOMER, "to_segment": "everyone", "customers": 1},  # C
        {"from_segment": "everyone", "to_segment": "everyone", "customers": 3},  # A, B, D
    ]


def test_migration_counts_with_a_lookback(con, everyone):
    got = segment_migration(con, from_as_of=FROM, to_as_of=TO, settings=SETTINGS,
                            rules=everyone, lookback_days=180)
    assert got.to_dict("records") == [
        {"from_segment": NOT_YET_CUSTOMER, "to_segment": "everyone", "customers": 1},  # C
        {"from_segment": "everyone", "to_segment": "everyone", "customers": 2},  # A, B
        {"from_segment": "everyone", "to_segment": OUT_OF_WINDOW, "customers": 1},  # D
    ]


def test_migration_with_default_rules_keeps_every_customer(con):
    got = segment_migration(con, from_as_of=FROM, to_as_of=TO, settings=SETTINGS)
    assert got["customers"].sum() == 4
    assert got.loc[got.from_segment == NOT_YET_CUSTOMER, "customers"].sum() == 1
    ids = set(load_segment_rules().ids)
    assert set(got["from_segment"]) <= ids | {NOT_YET_CUSTOMER}
    assert set(got["to_segment"]) <= ids


def test_dates_must_be_in_order(con):
    with pytest.raises(ParameterError, match=re.escape(
            "segment_migration: 'from_as_of' must be before 'to_as_of'; got 2026-04-01 and "
            "2026-03-05. Swap the dates.")):
        segment_migration(con, from_as_of=TO, to_as_of=FROM, settings=SETTINGS)


def test_migration_counts_matches_a_pandas_reference():
    before = pd.DataFrame({"customer_id": list("abcde"),
                           "segment": ["new", "new", "loyal", "lost", "lost"]})
    after = pd.DataFrame({"customer_id": list("abcfg"),
                          "segment": ["loyal", "new", "loyal", "new", "new"]})
    got = migration_counts(ibis.memtable(before), ibis.memtable(after)).to_pandas()
    ref = before.merge(after, on="customer_id", how="outer", suffixes=("_from", "_to"))
    ref = (ref.fillna({"segment_from": NOT_YET_CUSTOMER, "segment_to": OUT_OF_WINDOW})
           .groupby(["segment_from", "segment_to"]).size())
    got = got.set_index(["from_segment", "to_segment"])["customers"]
    assert got.sort_index().to_dict() == ref.sort_index().to_dict()
