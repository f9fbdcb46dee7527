"""Churn labels and the churn definition."""

from __future__ import annotations

import re
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from workbench.churn import ChurnDefinition, churn_labels, data_end
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.i18n import using_language
from workbench.settings import Settings

TZ = "Asia/Seoul"


def _store(rows, products=None):
    con = ibis.duckdb.connect()
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "status"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"]).dt.tz_localize(TZ)
    frame["amount"] = 1000.0
    con.create_table("orders", frame)
    if products is not None:
        con.create_table("products", pd.DataFrame(products, columns=[
            "product_id", "category", "replenish_days"]))
        con.create_table("order_items", pd.DataFrame({
            "order_id": frame["order_id"], "line_no": 1, "product_id": "p1", "category": "food",
            "line_amount": 1000.0, "quantity": 1}))
    return con


ROWS = [
    ("1", "a", "2026-01-01 10:00", "paid"),
    ("2", "a", "2026-03-01 00:00", "paid"),      # exactly at the cutoff's midnight: in window
    ("3", "b", "2026-01-15 10:00", "paid"),
    ("4", "b", "2026-05-29 23:59", "paid"),      # last minute of a 90-day window from 03-01
    ("5", "c", "2026-02-10 10:00", "paid"),
    ("6", "c", "2026-03-05 10:00", "cancelled"),  # not a net order: c churned
    ("7", "d", "2026-03-02 10:00", "paid"),      # first order after the cutoff: not labelled
    ("8", "e", "2026-02-28 23:59", "paid"),
    ("9", "e", "2026-05-30 00:00", "paid"),      # first instant after the window
    ("10", None, "2026-03-03 10:00", "paid"),    # guest
]


def test_fixed_window_counts_net_orders_in_cutoff_to_cutoff_plus_horizon():
    con = _store(ROWS)
    out = churn_labels(con, date(2026, 3, 1), settings=Settings()).to_pandas()
    got = dict(zip(out["customer_id"], out["churned"], strict=True))
    assert got == {"a": 0, "b": 0, "c": 1, "e": 1}
    assert set(out["window_days"]) == {90.0}


def test_labels_need_the_whole_window_in_the_data():
    con = _store(ROWS)
    assert data_end(con, settings=Settings()) == date(2026, 5, 31)
    with pytest.raises(ParameterError, match=re.escape(
            "churn windows after 2026-04-01 run to 2026-06-30, but the store's orders end on "
            "2026-05-31; pick a cutoff on or before 2026-03-02")):
        churn_labels(con, date(2026, 4, 1), settings=Settings())


def test_label_and_definition_errors_are_in_korean_too():
    con = _store(ROWS)
    with using_language("ko"), pytest.raises(ParameterError, match=re.escape(
            "2026-05-31에 끝납니다. 2026-03-02 이전의 기준일을 고르세요")):
        churn_labels(con, date(2026, 4, 1), settings=Settings())
    with using_language("ko"), pytest.raises(ParameterError, match=re.escape(
            "'horizon_days'는 7에서 730 사이의 정수여야 합니다. 받은 값: 3.")):
        ChurnDefinition(horizon_days=3)


def test_rhythm_window_uses_own_gap_then_category_cycle_then_horizon():
    rows = [("1", "a", "2026-01-01", "paid"), ("2", "a", "2026-01-11", "paid"),
            ("3", "a", "2026-01-21", "paid"),  # median gap 10 -> window 2 x 10 = 20 -> 30 min
            ("4", "b", "2026-01-05", "paid"),  # one order, food cycle 40 -> 80 days
            ("5", "a", "2026-03-25", "paid"), ("6", "b", "2026-04-20", "paid")]
    con = _store(rows, products=[("p1", "food", 40)])
    d = ChurnDefinition(mode="rhythm", k=2, min_gaps=2, min_days=30, max_days=180)
    out = churn_labels(con, date(2026, 2, 1), definition=d, settings=Settings(),
                       check_end=False).to_pandas().set_index("customer_id")
    assert out.loc["a", "window_days"] == 30.0 and out.loc["a", "churned"] == 1
    assert out.loc["b", "window_days"] == 80.0 and out.loc["b", "churned"] == 0
    no_products = _store(rows[:4])
    out = churn_labels(no_products, date(2026, 2, 1), definition=d, settings=Settings(),
                       check_end=False).to_pandas().set_index("customer_id")
    assert out.loc["b", "window_days"] == 90.0


def test_labels_equal_a_pandas_reference_on_the_sample(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    cutoff = date(2026, 6, 1)
    ours = churn_labels(con, cutoff, settings=s).to_pandas().set_index("customer_id")["churned"]
    o = con.table("orders").to_pandas()
    con.disconnect()
    start = pd.Timestamp(cutoff).tz_localize(TZ)
    net = o[o["customer_id"].notna() & o["status"].isin(["paid", "shipped", "delivered",
                                                         "confirmed"])]
    active = set(net.loc[net["ordered_at"] < start, "customer_id"])
    window = net[(net["ordered_at"] >= start) & (net["ordered_at"] < start
                                                 + pd.Timedelta(days=90))]
    bought = set(window["customer_id"])
    ref = pd.Series({c: int(c not in bought) for c in active}).sort_index()
    assert set(ours.index) == active
    np.testing.assert_array_equal(ours.sort_index().to_numpy(), ref.to_numpy())


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(horizon_days=3), "'horizon_days' must be an integer between 7 and 730"),
    (dict(mode="cycle"), "'mode' must be one of ['fixed', 'rhythm']"),
    (dict(k=0.1), "'k' must be between 0.5 and 10"),
    (dict(min_days=200, max_days=100), "need 1 <= 'min_days' <= 'max_days' <= 730"),
], ids=["horizon", "mode", "k", "bounds"])
def test_definition_is_validated(kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        ChurnDefinition(**kwargs)


def test_definition_prints_in_english_and_korean():
    assert ChurnDefinition(horizon_days=60).describe("en") == (
        "Churned = no order in the 60 days after the cutoff.")
    assert ChurnDefinition().describe("ko") == "이탈 = 기준일 이후 90일 동안 주문 없음."
    rhythm = ChurnDefinition(mode="rhythm", k=2.5)
    assert "2.5× the customer's own median gap" in rhythm.describe("en")
    assert "2.5배" in rhythm.describe("ko")
    assert rhythm.longest_window == 180
    assert ChurnDefinition.from_dict(rhythm.to_dict()) == rhythm


@pytest.mark.parametrize("definition", [ChurnDefinition(),
                                        ChurnDefinition(mode="rhythm", k=1.5, max_days=120)],
                         ids=["fixed", "rhythm"])
def test_labelled_frame_labels_equal_churn_labels(sample_store, definition):
    from workbench.churn import labelled_frame

    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    cutoff = date(2026, 5, 1)
    frame = labelled_frame(con, cutoff, definition=definition, settings=s, p_alive=False)
    ref = churn_labels(con, cutoff, definition=definition, settings=s).to_pandas()
    con.disconnect()
    ref = ref.set_index("customer_id")["churned"].reindex(frame.index)
    np.testing.assert_array_equal(frame["churned"].to_numpy(), ref.to_numpy())
    assert 0 < frame["churned"].mean() < 1
