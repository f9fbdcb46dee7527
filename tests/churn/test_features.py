"""Churn features: no leakage from the future, and values equal to a pandas reference."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from workbench.churn import churn_features, feature_frame
from workbench.churn.features import EVENT_LOOKBACK_DAYS, FEATURE_GROUPS, feature_group
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.settings import Settings

CUTOFF = date(2026, 8, 17)
TZ = "Asia/Seoul"


def _append_future(path, cutoff: date) -> None:
    """Append orders, lines, events and messages on and after local midnight of ``cutoff``.

    Each kind of row is copied from existing ones and moved into the future, the first copy
    exactly at midnight (the boundary), so every table a feature reads gets later rows.
    """
    start = pd.Timestamp(cutoff).tz_localize(TZ)
    con = duckdb.connect(str(path))
    con.execute(f"SET TimeZone = '{TZ}'")
    con.execute("""
        CREATE TEMP TABLE src AS SELECT * FROM orders WHERE customer_id IS NOT NULL
        ORDER BY order_id LIMIT 500""")
    con.execute("""
        INSERT INTO order_items SELECT 'F' || i.order_id, i.line_no, i.product_id,
            i.product_name, i.category, i.option, i.quantity, i.unit_price, i.line_amount
        FROM order_items i JOIN src USING (order_id)""")
    con.execute("""
        INSERT INTO orders SELECT 'F' || order_id, customer_id,
            ?::TIMESTAMPTZ + (row_number() OVER (ORDER BY order_id) - 1) * INTERVAL 3 HOUR,
            status, amount, discount, points_used, shipping_fee, coupon_code, channel,
            delivered_at FROM src""", [start.to_pydatetime()])
    con.execute("""
        INSERT INTO events SELECT customer_id, visitor_id,
            ?::TIMESTAMPTZ + (row_number() OVER (ORDER BY ts, session_id) - 1) * INTERVAL 1 MINUTE,
            'F' || session_id, type, product_id, query
        FROM (SELECT * FROM events WHERE customer_id IS NOT NULL ORDER BY ts LIMIT 3000)""",
                [start.to_pydatetime()])
    con.execute("""
        INSERT INTO messages (campaign_id, customer_id, variant, sent_at, opened_at,
                              clicked_at, unsubscribed_at)
        SELECT 'CMPF', customer_id, variant,
            ?::TIMESTAMPTZ, ?::TIMESTAMPTZ + INTERVAL 1 HOUR, ?::TIMESTAMPTZ + INTERVAL 2 HOUR,
            ?::TIMESTAMPTZ + INTERVAL 3 HOUR
        FROM (SELECT DISTINCT customer_id, variant FROM messages LIMIT 500)""",
                [start.to_pydatetime()] * 4)
    con.close()


def test_features_do_not_change_when_future_data_is_appended(store_copy):
    settings = Settings(store=str(store_copy))
    con = connect(store_copy, settings=settings)
    before = feature_frame(con, CUTOFF, settings=settings)
    counts = {t: con.table(t).count().execute() for t in ("orders", "events", "messages")}
    con.disconnect()
    _append_future(store_copy, CUTOFF)
    con = connect(store_copy, settings=settings)
    grown = {t: con.table(t).count().execute() for t in ("orders", "events", "messages")}
    after = feature_frame(con, CUTOFF, settings=settings)
    con.disconnect()
    assert all(grown[t] > counts[t] for t in counts)  # the future really is there
    assert len(before) > 500
    pd.testing.assert_frame_equal(before, after)


def test_the_appended_rows_would_change_features_after_the_cutoff(store_copy):
    # Guards the leakage test: the same rows one day later are visible.
    settings = Settings(store=str(store_copy))
    _append_future(store_copy, CUTOFF)
    con = connect(store_copy, settings=settings)
    later = CUTOFF + timedelta(days=1)
    full = churn_features(con, later, settings=settings).to_pandas().set_index("customer_id")
    assert full["orders_30d"].sum() > 0
    con.disconnect()


@pytest.fixture(scope="module")
def frames(sample_store):
    settings = Settings(store=str(sample_store))
    con = connect(sample_store, settings=settings)
    ours = churn_features(con, CUTOFF, settings=settings).to_pandas().set_index("customer_id")
    tables = {t: con.table(t).to_pandas() for t in ("orders", "events", "messages",
                                                    "customers", "order_items")}
    con.disconnect()
    return ours, tables


def _reference_events(tables: dict, cutoff: date) -> pd.DataFrame:
    """Plain pandas: days since the last visit, visits in 90 days, abandoned carts in 90 days.

    Only the year before the cutoff is read (EVENT_LOOKBACK_DAYS).
    """
    end = pd.Timestamp(cutoff).tz_localize(TZ)
    start = pd.Timestamp(cutoff - timedelta(days=EVENT_LOOKBACK_DAYS)).tz_localize(TZ)
    ev = tables["events"]
    ev = ev[ev["customer_id"].notna() & (ev["ts"] < end) & (ev["ts"] >= start)]
    visits = ev[ev["type"] == "visit"]
    out = pd.DataFrame({
        "days_since_visit": (end - visits.groupby("customer_id")["ts"].max()).dt.total_seconds()
        / 86_400,
        "visits_90d": visits[visits["ts"] >= end - pd.Timedelta(days=90)].groupby(
            "customer_id").size()})
    carts = ev[ev["type"].isin(["cart_add", "checkout_start"])
               & (ev["ts"] >= pd.Timestamp(cutoff - timedelta(days=365)).tz_localize(TZ))]
    s = carts.groupby(["customer_id", "session_id"]).agg(
        cart=("type", lambda t: (t == "cart_add").any()),
        checkout=("type", lambda t: (t == "checkout_start").any()), at=("ts", "max"))
    ab = s[s["cart"] & ~s["checkout"] & (s["at"] >= end - pd.Timedelta(days=90))]
    out["abandoned_carts_90d"] = ab.groupby("customer_id").size()
    return out


def test_event_features_equal_a_pandas_reference(frames):
    ours, tables = frames
    ref = _reference_events(tables, CUTOFF).reindex(ours.index)
    ref[["visits_90d", "abandoned_carts_90d"]] = ref[["visits_90d",
                                                      "abandoned_carts_90d"]].fillna(0)
    np.testing.assert_allclose(ours["days_since_visit"].astype(float),
                               ref["days_since_visit"].astype(float), rtol=1e-9)
    np.testing.assert_array_equal(ours["visits_90d"].astype(int), ref["visits_90d"].astype(int))
    np.testing.assert_array_equal(ours["abandoned_carts_90d"].astype(int),
                                  ref["abandoned_carts_90d"].astype(int))
    assert ours["abandoned_carts_90d"].sum() > 0


def test_events_older_than_the_lookback_are_not_read(frames):
    ours, tables = frames
    ev = tables["events"]
    visits = ev[(ev["type"] == "visit") & ev["customer_id"].notna()
                & (ev["ts"] < pd.Timestamp(CUTOFF).tz_localize(TZ))]
    last = visits.groupby("customer_id")["ts"].max().reindex(ours.index)
    old = last < pd.Timestamp(CUTOFF - timedelta(days=EVENT_LOOKBACK_DAYS)).tz_localize(TZ)
    assert old.sum() > 0  # the sample has customers whose last visit is older than a year
    assert ours.loc[old, "days_since_visit"].isna().all()
    assert (ours.loc[last.notna() & ~old, "days_since_visit"] <= EVENT_LOOKBACK_DAYS).all()


def test_message_and_category_features_equal_a_pandas_reference(frames):
    ours, tables = frames
    end = pd.Timestamp(CUTOFF).tz_localize(TZ)
    m = tables["messages"]
    m = m[m["sent_at"] < end]
    sent = m.groupby("customer_id").size().reindex(ours.index).fillna(0)
    opened = (m["opened_at"] < end).groupby(m["customer_id"]).sum().reindex(ours.index).fillna(0)
    np.testing.assert_array_equal(ours["messages_sent"], sent.astype(int))
    np.testing.assert_array_equal(ours["messages_opened"], opened.astype(int))
    o, items = tables["orders"], tables["order_items"]
    net = o[o["customer_id"].notna() & o["status"].isin(["paid", "shipped", "delivered",
                                                         "confirmed"]) & (o["ordered_at"] < end)]
    lines = items.merge(net[["order_id", "customer_id"]], on="order_id")
    share = (lines[lines["category"] == "beauty"].groupby("customer_id")["line_amount"].sum()
             / lines.groupby("customer_id")["line_amount"].sum())
    share = share.reindex(ours.index).fillna(0.0)
    np.testing.assert_allclose(ours["cat_share_beauty"].fillna(0.0), share, atol=1e-12)


def test_one_row_per_customer_active_before_the_cutoff(frames):
    ours, tables = frames
    o = tables["orders"]
    end = pd.Timestamp(CUTOFF).tz_localize(TZ)
    active = o[o["customer_id"].notna() & (o["ordered_at"] < end) & o["status"].isin(
        ["paid", "shipped", "delivered", "confirmed"])]["customer_id"].unique()
    assert ours.index.is_unique
    assert set(ours.index) == set(active)


def test_every_feature_has_an_explanation_group(frames):
    ours, _ = frames
    skip = {"top_category", "days_since_last_order", "bg_recency", "bg_T"}
    groups = {feature_group(c) for c in ours.columns if c not in skip}
    assert groups <= set(FEATURE_GROUPS)
    with pytest.raises(ParameterError, match="unknown churn feature 'nope'"):
        feature_group("nope")


def test_orders_only_store_gets_order_features_and_p_alive(tmp_path):
    settings = Settings(store=str(tmp_path / "o.duckdb"))
    rng = np.random.default_rng(0)
    n = 400
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "customer_id": [f"c{i % 80}" for i in range(n)],
        "ordered_at": (pd.Timestamp("2025-01-01", tz=TZ)
                       + pd.to_timedelta(rng.uniform(0, 500, n), unit="D")).floor("s"),
        "status": "paid", "amount": rng.uniform(1000, 9000, n).round()})
    import ibis
    con = ibis.duckdb.connect()
    con.create_table("orders", orders)
    frame = feature_frame(con, date(2026, 3, 1), settings=settings)
    assert "days_since_visit" not in frame and "cat_share_beauty" not in frame
    assert frame["p_alive"].between(0, 1).all()
    assert frame["bgnbd_p_no_order"].between(0, 1).all()


def test_unsorted_frames_hold_the_same_rows_and_bgnbd_ignores_row_order(sample_store):
    from workbench.churn.features import bgnbd_columns

    settings = Settings(store=str(sample_store))
    con = connect(sample_store, settings=settings)
    sorted_frame = feature_frame(con, CUTOFF, settings=settings, bgnbd_max_customers=500)
    unsorted = feature_frame(con, CUTOFF, settings=settings, bgnbd_max_customers=500,
                             sort=False)
    con.disconnect()
    assert sorted_frame.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(unsorted.loc[sorted_frame.index], sorted_frame)
    summary = pd.DataFrame({"frequency": sorted_frame["frequency"],
                            "recency": sorted_frame["bg_recency"] / 7,
                            "T": sorted_frame["bg_T"] / 7})
    shuffled = summary.sample(frac=1.0, random_state=7)
    a = bgnbd_columns(summary, as_of=CUTOFF, max_customers=500)
    b = bgnbd_columns(shuffled, as_of=CUTOFF, max_customers=500)
    pd.testing.assert_frame_equal(b.loc[a.index], a)  # the same sample, bit for bit
    c = bgnbd_columns(summary, as_of=CUTOFF, max_customers=500, seed=1)
    assert not np.allclose(a["p_alive"], c["p_alive"])  # another seed, another sample
