# ruff: noqa: E501 - the hand-made tables read best one row per line
"""A tiny hand-made shop (five customers) whose audiences are worked out by hand in the tests.

Times are Korean local times (Asia/Seoul). The reference date is 2026-11-16: facts use
everything before 2026-11-16 00:00 KST.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from workbench.data import connect, write_store
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)
SETTINGS = Settings()


def kst(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text).tz_localize("Asia/Seoul")


def _frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    names = columns.split()
    df = pd.DataFrame(rows, columns=names)
    for col in names:
        if col.endswith("_at") or col == "ts":
            df[col] = pd.to_datetime(df[col].map(kst), utc=True)
    return df


CUSTOMERS = _frame([
    # id  signup              name    phone          email       birth         region member sms  email  push   night  consent
    ("A", "2026-11-15 10:00", "김민수", "01011112222", "a@x.com", "1990-11-05", "서울", True, True, False, False, True, "2026-01-01 09:00"),
    ("B", "2025-01-01 10:00", "이영희", "1033334444", None, "1985-12-24", "부산", True, True, False, False, False, "2023-06-01 09:00"),
    ("C", None, "박철수", None, "c@y.com", None, None, False, False, True, False, False, "2026-05-01 09:00"),
    ("D", "2024-03-01 10:00", "최지우", "01055556666", None, "2000-11-30", "서울", True, True, False, True, False, "2025-12-01 09:00"),
    ("E", "2026-10-01 10:00", "정하나", "01077778888", "e@z.com", "1999-01-15", "대구", True, False, False, False, False, None),
], "customer_id signup_at name phone email birth_date region is_member sms_opt_in email_opt_in "
   "push_opt_in night_opt_in consent_at")
CUSTOMERS["birth_date"] = pd.to_datetime(CUSTOMERS["birth_date"]).dt.date

ORDERS = _frame([
    ("o1", "A", "2026-11-10 12:00", "paid", 30000.0, None),
    ("o8", "A", "2026-10-11 12:00", "confirmed", 25000.0, "2026-10-13 12:00"),
    ("o2", "B", "2026-11-03 10:00", "delivered", 50000.0, "2026-11-05 10:00"),
    ("o3", "B", "2026-10-01 10:00", "confirmed", 20000.0, "2026-10-03 10:00"),
    ("o4", "B", "2026-09-01 10:00", "confirmed", 10000.0, "2026-09-03 10:00"),
    ("o5", "B", "2026-11-12 10:05", "cancelled", 15000.0, None),
    ("o6", "D", "2026-06-01 10:00", "confirmed", 40000.0, "2026-06-03 10:00"),
    ("o7", "D", "2026-11-15 13:00", "paid", 30000.0, None),
    ("g1", None, "2026-11-14 10:00", "paid", 9000.0, None),
], "order_id customer_id ordered_at status amount delivered_at")

ITEMS = pd.DataFrame({
    "order_id": ["o1", "o8", "o2", "o3", "o4", "o5", "o6", "o7", "g1"],
    "line_no": [1] * 9,
    "product_id": ["P1", "P1", "P2", "P1", "P3", "P2", "P3", "P1", "P2"],
    "category": ["beauty", "beauty", "food", "beauty", "pet", "food", "pet", "beauty", "food"],
    "quantity": [1] * 9,
    "line_amount": [30000.0, 25000.0, 50000.0, 20000.0, 10000.0, 15000.0, 40000.0, 30000.0,
                    9000.0],
})
PRODUCTS = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "name": ["시카 크림", "현미", "사료"],
                         "category": ["beauty", "food", "pet"], "price": [30000.0, 9000.0, 10000.0],
                         "replenish_days": [30, 30, 60]})

EVENTS = _frame([
    ("A", "2026-11-10 11:50", "cart_add", "P1", None),
    ("A", "2026-11-10 11:55", "checkout_start", None, None),
    ("A", "2026-11-15 20:00", "cart_add", "P1", None),
    ("A", "2026-11-15 23:30", "cart_add", "P2", None),
    ("B", "2026-11-14 10:00", "cart_add", "P2", None),
    ("B", "2026-11-14 11:00", "cart_remove", "P2", None),
    ("B", "2026-11-13 09:00", "cart_add", "P3", None),
    ("D", "2026-11-15 12:00", "cart_add", "P1", None),
    ("D", "2026-11-15 12:55", "checkout_start", None, None),
    ("B", "2026-11-12 10:00", "checkout_start", None, None),
    ("E", "2026-11-15 21:00", "checkout_start", None, None),
    ("A", "2026-11-01 10:00", "product_view", "P1", None),
    ("A", "2026-11-07 10:00", "product_view", "P1", None),
    ("A", "2026-11-14 10:00", "product_view", "P1", None),
    ("A", "2026-11-14 10:05", "product_view", "P2", None),
    ("B", "2026-11-02 10:00", "product_view", "P2", None),
    ("B", "2026-11-03 10:00", "product_view", "P2", None),
    ("B", "2026-11-04 10:00", "product_view", "P3", None),
    ("C", "2026-09-01 10:00", "product_view", "P1", None),
    ("C", "2026-09-02 10:00", "product_view", "P1", None),
    ("C", "2026-09-03 10:00", "product_view", "P1", None),
    ("A", "2026-11-14 09:00", "login", None, None),
    ("A", "2026-11-15 09:00", "login", None, None),
    ("A", "2026-11-15 09:01", "visit", None, None),
    ("B", "2026-10-01 09:00", "visit", None, None),
    ("D", "2026-07-01 09:00", "login", None, None),
    ("E", "2026-11-15 20:00", "visit", None, None),
    ("A", "2026-11-12 10:00", "search", None, "시카 크림"),
    ("B", "2026-11-13 10:00", "search", None, "'; DROP TABLE customers; --"),
    ("C", "2026-10-01 10:00", "search", None, "수분크림"),
    ("A", "2026-11-16 09:00", "product_view", "P2", None),  # after the cut-off: never counts
], "customer_id ts type product_id query")

CAMPAIGNS = _frame([("K1", "sms", True, "2025-11-20 10:00"), ("K2", "email", True, "2026-11-01 10:00")],
                   "campaign_id channel is_ad started_at")
MESSAGES = _frame([
    ("K1", "A", "2025-11-20 10:00", "2025-12-01 10:00"),  # before A's consent: consent wins
    ("K1", "D", "2025-11-20 10:00", "2026-11-01 10:00"),  # after D's consent: D opted out
    ("K2", "C", "2026-11-01 10:00", None),
], "campaign_id customer_id sent_at unsubscribed_at")

SNAPSHOT = pd.DataFrame({"customer_id": ["A", "B", "D"], "as_of": [AS_OF] * 3,
                         "segment": ["champions", "at_risk", "lost"],
                         "tier": ["gold", "silver", "bronze"]})


def write_tiny(path) -> None:
    with write_store(path, settings=SETTINGS, fresh=True) as w:
        w.write("customers", CUSTOMERS)
        w.write("orders", ORDERS)
        w.write("order_items", ITEMS)
        w.write("products", PRODUCTS)
        w.write("events", EVENTS)
        w.write("campaigns", CAMPAIGNS)
        w.write("messages", MESSAGES)
        w.write("snapshot_customers", SNAPSHOT)
        w.write("snapshot_meta", pd.DataFrame({
            "as_of": [AS_OF], "refreshed_at": [pd.Timestamp("2026-11-16 01:00", tz="UTC")],
            "customers": [3]}))


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.duckdb"
    write_tiny(path)
    return path


@pytest.fixture
def tiny_copy(tiny_path, tmp_path):
    import shutil

    target = tmp_path / "tiny.duckdb"
    shutil.copyfile(tiny_path, target)
    return target


@pytest.fixture(scope="session")
def tiny(tiny_path):
    con = connect(tiny_path, settings=SETTINGS)
    yield con
    con.disconnect()
