"""The in-process memo: bounded, keyed on the store's data version, and forgetting dead stores."""

from __future__ import annotations

import gc
from datetime import date

import ibis
import pandas as pd

from tests._loads import load_more_orders
from workbench.data import connect
from workbench.data.memo import Memo, data_version, memo_key, store_identity


def test_memo_keeps_the_last_values_and_computes_each_key_once():
    memo = Memo("test", size=2)
    calls = []

    def value(k):
        calls.append(k)
        return k * 10

    assert [memo.get(k, lambda k=k: value(k)) for k in (1, 2, 1, 3, 1, 2)] == [
        10, 20, 10, 30, 10, 20]
    # 1 stays (used again before 3 came), 2 was the least recently used when 3 came.
    assert calls == [1, 2, 3, 2]
    assert (memo.hits, memo.misses) == (2, 4)


def test_a_new_load_changes_the_data_version(store_copy):
    con = connect(store_copy)
    before, identity = data_version(con), store_identity(con)
    assert data_version(con) == before  # reading changes nothing
    load_more_orders(store_copy, date(2026, 11, 16), n=5, lines=False)
    # The same connection: it follows the replaced file.
    after = data_version(con)
    assert after != before and store_identity(con) == identity
    assert con.table("orders").filter(ibis._.order_id.startswith("NEW")).count().execute() == 5
    con.disconnect()


def test_a_store_without_a_file_has_a_version_from_its_rows():
    con = ibis.duckdb.connect()
    con.create_table("orders", pd.DataFrame({
        "order_id": ["o1"], "customer_id": ["c1"], "status": ["paid"], "amount": [1.0],
        "ordered_at": pd.to_datetime(["2026-01-01"]).tz_localize("UTC")}))
    before = data_version(con)
    con.insert("orders", pd.DataFrame({
        "order_id": ["o2"], "customer_id": ["c1"], "status": ["paid"], "amount": [2.0],
        "ordered_at": pd.to_datetime(["2026-01-02"]).tz_localize("UTC")}))
    assert data_version(con) != before


def test_entries_of_a_connection_without_a_file_go_with_the_connection():
    memo = Memo("test", size=4)
    con = ibis.duckdb.connect()
    key = memo_key(con, "part")
    memo.get(key, lambda: "value")
    assert memo.get(key, lambda: "other") == "value"
    del con
    gc.collect()
    assert len(memo) == 0
