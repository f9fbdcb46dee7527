"""Purchase cycles and replenishment due dates on hand-made orders (Asia/Seoul)."""

import re
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from workbench.errors import ParameterError
from workbench.i18n import set_language
from workbench.rfm.cycles import purchase_cycles, replenishment_due

TZ = "Asia/Seoul"
AS_OF = date(2026, 3, 1)

ORDERS = [  # order_id, customer_id, ordered_at (Seoul), status
    ("a1", "A", "2026-01-01 10:00", "paid"),  # pet + beauty
    ("a2", "A", "2026-01-11 09:00", "paid"),
    ("a3", "A", "2026-01-11 20:00", "paid"),  # same day as a2: not a repeat (no 0-day gap)
    ("a4", "A", "2026-01-31 10:00", "delivered"),
    ("a5", "A", "2026-02-01 10:00", "confirmed"),  # beauty only
    ("b1", "B", "2026-01-05 10:00", "paid"),
    ("b2", "B", "2026-01-20 10:00", "cancelled"),  # ignored: would split 30 into 15 + 15
    ("b3", "B", "2026-02-04 10:00", "shipped"),
    ("c1", "C", "2026-01-02 23:30", "paid"),  # 14:30 UTC
    ("c2", "C", "2026-01-03 00:30", "paid"),  # 2 Jan 15:30 UTC: a different day in Seoul
    ("d1", "D", "2026-02-20 10:00", "paid"),  # one purchase: a buyer, no gap
    ("e1", "E", "2026-02-14 10:00", "paid"),
    ("f1", "F", "2026-02-21 10:00", "paid"),
    ("g1", None, "2026-01-07 10:00", "paid"),  # guest
    ("h1", "H", "2026-03-01 00:00", "paid"),  # at as_of: not before it
]
ITEMS = [  # order_id, line_no, product_id, product_name, category
    ("a1", 1, "P1", "사료", "pet"), ("a1", 2, "P3", "크림", "beauty"),
    ("a2", 1, "P1", "사료", "pet"), ("a3", 1, "P2", "간식", "pet"),
    ("a4", 1, "P1", "사료", "pet"), ("a4", 2, "P1", "사료", "pet"),  # two lines, one purchase
    ("a5", 1, "P3", "크림", "beauty"),
    ("b1", 1, "P2", "간식", "pet"), ("b2", 1, "P2", "간식", "pet"), ("b3", 1, "P2", "간식", "pet"),
    ("c1", 1, "P1", "사료", "pet"), ("c2", 1, "P1", "사료", "pet"),
    ("d1", 1, "P1", "사료", "pet"), ("e1", 1, "P1", "사료", "pet"), ("f1", 1, "P2", "간식", "pet"),
    ("g1", 1, "P1", "사료", "pet"), ("h1", 1, "P1", "사료", "pet"),
]
PRODUCTS = [("P1", "pet", 30), ("P2", "pet", 20), ("P3", "beauty", None)]

# Gaps in days between consecutive purchase days of the same category:
#   pet:    A 10 (1->11 Jan), 20 (11->31 Jan); B 30 (5 Jan->4 Feb); C 1 (2->3 Jan in Seoul)
#           -> 4 repeats by 3 of 6 buyers; median 15, P75 22.5 (numpy's linear rule)
#   beauty: A 31 (1 Jan->1 Feb) -> 1 repeat, below min_repeats=2: no cycle
PET_GAPS = [10, 20, 30, 1]


@pytest.fixture(params=["UTC", "Asia/Seoul"])
def con(request):
    backend = ibis.duckdb.connect()
    backend.raw_sql(f"SET TimeZone = '{request.param}'")
    o = pd.DataFrame(ORDERS, columns=["order_id", "customer_id", "ordered_at", "status"])
    o["ordered_at"] = pd.to_datetime(o["ordered_at"]).dt.tz_localize(TZ)
    o["amount"] = 1_000.0
    backend.create_table("orders", o)
    backend.create_table("order_items", pd.DataFrame(ITEMS, columns=[
        "order_id", "line_no", "product_id", "product_name", "category"]))
    p = pd.DataFrame(PRODUCTS, columns=["product_id", "category", "replenish_days"])
    p["replenish_days"] = p["replenish_days"].astype("Int64")
    backend.create_table("products", p)
    yield backend
    backend.disconnect()


def cycles(con, **kw):
    kw = {"as_of": AS_OF, "timezone": TZ, "min_repeats": 2} | kw
    expr = purchase_cycles(con.table("orders"), con.table("order_items"), con.table("products"),
                           **kw)
    return expr.to_pyarrow().to_pandas()


def test_category_cycles_match_the_hand_computed_gaps(con):
    got = cycles(con).set_index("category")
    assert list(got.index) == ["pet", "beauty"]  # most repeats first
    pet, beauty = got.loc["pet"], got.loc["beauty"]
    assert (pet.buyers, pet.repeat_buyers, pet.repeats) == (6, 3, 4)
    assert (pet.median_days, pet.p75_days) == (15.0, 22.5)
    assert [pet.median_days, pet.p75_days] == list(np.percentile(PET_GAPS, [50, 75]))
    assert pet.replenish_days == 25.0  # median of P1's 30 and P2's 20
    assert bool(pet.has_cycle)
    assert (beauty.buyers, beauty.repeats, beauty.median_days, beauty.p75_days) == (1, 1, 31, 31)
    assert not beauty.has_cycle
    assert pd.isna(beauty.replenish_days)


def test_product_cycles(con):
    got = cycles(con, level="product", min_repeats=1).set_index("product_id")
    # P1: A 1 -> 11 -> 31 Jan (10, 20), C 2 -> 3 Jan (1)
    assert got.loc["P1", "repeats"] == 3
    assert got.loc["P1", "median_days"] == 10.0
    assert (got.loc["P1", "product_name"], got.loc["P1", "category"]) == ("사료", "pet")
    assert got.loc["P1", "replenish_days"] == 30
    assert got.loc["P2", "repeats"] == 1  # B 5 Jan -> 4 Feb; A's single P2 day has no gap
    assert got.loc["P2", "median_days"] == 30.0


def test_cycles_without_products_leave_replenish_days_empty(con):
    expr = purchase_cycles(con.table("orders"), con.table("order_items"), as_of=AS_OF,
                           timezone=TZ, min_repeats=2)
    assert expr.to_pandas()["replenish_days"].isna().all()


def test_quantiles_are_exact_not_approximate(con):
    sql = ibis.to_sql(purchase_cycles(con.table("orders"), con.table("order_items"),
                                      as_of=AS_OF, timezone=TZ))
    assert "QUANTILE_CONT" in sql.upper() and "APPROX" not in sql.upper()


def test_replenishment_due_on_hand_made_dates(con):
    # A hand-made cycle: a median of 14.5 days is rounded up to 15.
    cyc = ibis.memtable({"category": ["pet", "beauty"], "median_days": [14.5, 31.0],
                         "has_cycle": [True, False]})
    got = replenishment_due(con.table("orders"), con.table("order_items"), cyc, as_of=AS_OF,
                            timezone=TZ).to_pyarrow().to_pandas().set_index("customer_id")
    assert set(got["category"]) == {"pet"}  # beauty has no cycle
    # last pet day + 15 days; due when in [1 Mar, 8 Mar)
    expected = {"A": (date(2026, 1, 31), date(2026, 2, 15), 14, False),
                "B": (date(2026, 2, 4), date(2026, 2, 19), 10, False),
                "C": (date(2026, 1, 3), date(2026, 1, 18), 42, False),
                "D": (date(2026, 2, 20), date(2026, 3, 7), -6, True),
                "E": (date(2026, 2, 14), date(2026, 3, 1), 0, True),
                "F": (date(2026, 2, 21), date(2026, 3, 8), -7, False)}
    assert sorted(got.index) == sorted(expected)
    for customer, (last, when, overdue, due) in expected.items():
        row = got.loc[customer]
        assert (row.last_purchase, row.expected_date, row.days_overdue, bool(row.due_this_week)) \
            == (last, when, overdue, due), customer
        assert row.cycle_days == 14.5


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"level": "sku"}, "purchase_cycles: 'level' must be 'category' or 'product'; got 'sku'."),
     ({"min_repeats": 0}, "purchase_cycles: 'min_repeats' must be at least 1; got 0."),
     ({"as_of": "2026-03-01"}, "purchase_cycles: 'as_of' must be a datetime.date; got str.")],
    ids=["level", "min_repeats", "as_of"])
def test_caller_mistakes_raise(con, kw, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        purchase_cycles(con.table("orders"), con.table("order_items"),
                        **({"as_of": AS_OF, "timezone": TZ} | kw))


def test_caller_mistakes_in_korean(con):
    set_language("ko")
    with pytest.raises(ParameterError, match=re.escape(
            "purchase_cycles: 'level'은 'category'나 'product'여야 합니다. 받은 값: 'sku'.")):
        purchase_cycles(con.table("orders"), con.table("order_items"), as_of=AS_OF, timezone=TZ,
                        level="sku")
