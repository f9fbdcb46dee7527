"""Best sellers: every measure against a pandas reference, the trend rule, labels in en and ko."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from workbench.data import NET_STATUSES, connect, write_store
from workbench.errors import ParameterError
from workbench.i18n import _catalog
from workbench.kpi import ProductsParams, run_products
from workbench.kpi.product_sales import recommended_counts
from workbench.kpi.products import ranked, with_rates
from workbench.results import Status
from workbench.settings import Settings
from workbench.ui.products import categories_html, products_html, recommended_html

TZ = "Asia/Seoul"
SETTINGS = Settings(timezone=TZ)
AS_OF = date(2026, 11, 16)


def reference(store, as_of: date, days: int, key: str) -> pd.DataFrame:
    """The measures in plain pandas on the store's raw tables (the module docstring's rules)."""
    con = duckdb.connect(str(store), read_only=True)
    o, i, p = (con.sql(q).to_arrow_table().to_pandas() for q in (
        "select * from orders", "select * from order_items",
        "select product_id, category as p_category from products"))
    con.close()
    o["day"] = o.ordered_at.dt.tz_convert(TZ).dt.tz_localize(None)
    o = o[o.status.isin(NET_STATUSES) & (o.day < pd.Timestamp(as_of))]
    lines = i.merge(p, on="product_id", how="left").merge(o, on="order_id")
    lines["category"] = lines.category.fillna(lines.p_category)
    start, prev = pd.Timestamp(as_of - timedelta(days)), pd.Timestamp(as_of - timedelta(2 * days))
    now, before = lines[lines.day >= start], lines[(lines.day >= prev) & (lines.day < start)]
    out = now.groupby(key).agg(net_revenue=("line_amount", "sum"), units=("quantity", "sum"))
    out = out.join(before.groupby(key).agg(previous_revenue=("line_amount", "sum"),
                                           previous_units=("quantity", "sum")), how="outer")
    n_now = now.dropna(subset=["customer_id"]).groupby([key, "customer_id"]).order_id.nunique()
    n_ever = lines.dropna(subset=["customer_id"]).groupby([key, "customer_id"]).order_id.nunique()
    ever = n_ever.reindex(n_now.index)
    out["buyers"] = n_now.groupby(level=0).size()
    out["repeat_buyers"] = (n_now >= 2).groupby(level=0).sum()
    out["repeat_buyers_ever"] = (ever >= 2).groupby(level=0).sum()
    return out.fillna(0).sort_index()


@pytest.mark.parametrize("days", [30, 90])
def test_measures_equal_a_pandas_reference(sample_store, days):
    con = connect(sample_store)
    r = run_products(con, ProductsParams(as_of=AS_OF, period_days=days, language="en"),
                     settings=SETTINGS)
    assert r.status == Status.OK
    for frame, key in ((r.products, "product_id"), (r.categories, "category")):
        got = frame.set_index(key).sort_index()
        want = reference(sample_store, AS_OF, days, key)
        assert list(got.index) == list(want.index)
        for column in want.columns:
            np.testing.assert_allclose(got[column].astype(float), want[column].astype(float),
                                       err_msg=f"{key} {column}")
    # products add up to categories (every sample line has both)
    assert r.products.net_revenue.sum() == pytest.approx(r.categories.net_revenue.sum())
    assert r.products.revenue_share.sum() == pytest.approx(1.0)


def test_sort_orders_and_top(sample_store):
    con = connect(sample_store)
    for sort_by in ("net_revenue", "units", "repeat_rate", "trend"):
        r = run_products(con, ProductsParams(as_of=AS_OF, sort_by=sort_by, top=5,
                                             min_units=5, language="en"), settings=SETTINGS)
        shown = r.products if sort_by != "repeat_rate" else r.products[r.products.units >= 5]
        values = shown[sort_by].dropna().to_numpy()
        assert (np.diff(values) <= 0).all(), sort_by
        assert len(r.to_frame()) == 5
        fig = r.figure_products()  # the chart follows the order: first bar = first row
        assert list(fig.data[0].y) == r.to_frame().name.tolist()


@pytest.mark.parametrize(
    ("previous_units", "units", "min_units", "status"),
    [(20, 1, 20, "change"), (19, 100, 20, "few"), (0, 20, 20, "new"), (0, 19, 20, "few"),
     (5, 40, 5, "change")],
    ids=["enough-before", "too-few-before", "new", "new-but-too-few", "low-threshold"])
def test_trend_needs_volume_in_the_previous_period(previous_units, units, min_units, status):
    s = pd.DataFrame({"net_revenue": [units * 10.0], "units": [units], "buyers": [1],
                      "repeat_buyers": [0], "repeat_buyers_ever": [0],
                      "previous_revenue": [previous_units * 10.0],
                      "previous_units": [previous_units]})
    out = with_rates(s, min_units)
    assert out.trend_status.iloc[0] == status
    if status == "change":
        assert out.trend.iloc[0] == pytest.approx(units / previous_units - 1)
    else:
        assert np.isnan(out.trend.iloc[0])


def test_ranked_puts_missing_measures_last_and_breaks_ties_by_revenue_then_key():
    f = pd.DataFrame({"k": ["a", "b", "c", "d"], "trend": [np.nan, 0.5, 0.5, -0.2],
                      "net_revenue": [9.0, 1.0, 2.0, 3.0]})
    assert ranked(f, "trend", "k").k.tolist() == ["c", "b", "d", "a"]


def test_an_empty_period_is_a_status_not_an_error(sample_store):
    con = connect(sample_store)
    r = run_products(con, ProductsParams(as_of=date(2020, 1, 6), language="ko"),
                     settings=SETTINGS)
    assert r.status == Status.EMPTY_PERIOD and r.products.empty
    assert r.message.startswith("최근 30일(") and "판매된 상품이 없습니다" in r.message
    assert r.headline() == []


def test_guests_count_toward_revenue_not_toward_buyers(tmp_path):
    store = tmp_path / "s.duckdb"
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"], "customer_id": ["A", None, "A", "A"],
        "ordered_at": pd.to_datetime(["2026-11-10 10:00", "2026-11-11 10:00",
                                      "2026-11-12 10:00", "2026-08-01 10:00"]).tz_localize(TZ),
        "status": ["paid", "paid", "paid", "paid"], "amount": [1.0, 1.0, 1.0, 1.0]})
    items = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o3", "o4"], "line_no": [1, 2, 1, 1, 1],
                          "product_id": ["P1", "P1", "P1", "P2", "P2"],
                          "category": ["x", "x", "x", "x", "x"], "quantity": [1, 2, 5, 1, 1],
                          "line_amount": [10.0, 20.0, 50.0, 7.0, 7.0]})
    with write_store(store, settings=SETTINGS) as w:
        w.write("orders", orders)
        w.write("order_items", items)
    r = run_products(connect(store, settings=SETTINGS), ProductsParams(as_of=AS_OF, language="en"),
                     settings=SETTINGS)
    p = r.products.set_index("product_id")
    # P1: two lines of one order are one purchase; the guest adds revenue and units only
    assert (p.loc["P1", "net_revenue"], p.loc["P1", "units"], p.loc["P1", "buyers"],
            p.loc["P1", "repeat_buyers"]) == (80.0, 8, 1, 0)
    # P2: bought once in the period, once in August: a repeat buyer ever, not in the period
    assert (p.loc["P2", "repeat_buyers"], p.loc["P2", "repeat_buyers_ever"]) == (0, 1)
    c = r.categories.set_index("category").loc["x"]
    # the category: A bought it on o1 and o3, two orders in the period
    assert (c.buyers, c.repeat_buyers, c.repeat_buyers_ever) == (1, 1, 1)


def test_recommended_counts_names_products_and_ranks_by_customers():
    snap = ibis.memtable({"customer_id": list("ABCDE"),
                          "recommended_product": ["P2", "P1", "P2", None, "P9"]})
    products = ibis.memtable({"product_id": ["P1", "P2"], "name": ["립밤", "토너"]})
    got = recommended_counts(snap, products).to_pandas()
    assert got.to_dict("list") == {"product_id": ["P2", "P1", "P9"],
                                   "name": ["토너", "립밤", "P9"], "customers": [2, 1, 1]}


def test_params_are_checked():
    with pytest.raises(ParameterError, match="'period_days' must be one of"):
        ProductsParams(period_days=14)
    with pytest.raises(ParameterError, match="run_products: 'as_of' is required"):
        run_products(None, ProductsParams(language="en"))


def test_every_label_has_english_and_korean():
    keys = [k for k in _catalog() if k.startswith("products.") or k.startswith("pages.products")]
    assert len(keys) > 40
    for key in keys:
        entry = _catalog()[key]
        assert entry.get("en") and entry.get("ko"), key


_LATIN = re.compile(r"[A-Za-z]{2,}")


def test_korean_tables_have_no_english_words(sample_store):
    con = connect(sample_store)
    r = run_products(con, ProductsParams(as_of=AS_OF, language="ko", min_units=5),
                     settings=SETTINGS)
    text = products_html(r.top_products(), currency="KRW", language="ko") + categories_html(
        r.categories, currency="KRW", language="ko") + r.message + r.summary()
    visible = re.sub(r"<style>.*?</style>|<[^>]+>", " ", text, flags=re.S)
    for name in r.products.name:  # product names are the shop's own ("200ml")
        visible = visible.replace(name, " ")
    assert not _LATIN.findall(visible)
    assert "순매출" in text and "재구매율(기간 내)" in text and "뷰티" in text
    english = products_html(r.top_products(), currency="KRW", language="en")
    assert "Repeat (period)" in english and "Beauty" in english
    assert recommended_html(r.recommended, language="ko") == ""  # no recommender column


def test_the_page_lists_the_snapshots_most_recommended_products(tmp_path):
    store = tmp_path / "s.duckdb"
    orders = pd.DataFrame({"order_id": ["o1"], "customer_id": ["A"], "status": ["paid"],
                           "ordered_at": pd.to_datetime(["2026-11-10 10:00"]).tz_localize(TZ),
                           "amount": [10.0]})
    items = pd.DataFrame({"order_id": ["o1"], "line_no": [1], "product_id": ["P1"],
                          "quantity": [1], "line_amount": [10.0]})
    snapshot = pd.DataFrame({"customer_id": ["A", "B", "C"], "as_of": [AS_OF] * 3,
                             "recommended_product": ["P2", "P2", "P1"]})
    with write_store(store, settings=SETTINGS) as w:
        w.write("orders", orders)
        w.write("order_items", items)
        w.write("products", pd.DataFrame({"product_id": ["P1", "P2"], "name": ["립밤", "토너"]}))
        w.write("snapshot_customers", snapshot)
    r = run_products(connect(store, settings=SETTINGS), ProductsParams(as_of=AS_OF, language="ko"),
                     settings=SETTINGS)
    assert r.recommended.to_dict("list") == {"product_id": ["P2", "P1"], "name": ["토너", "립밤"],
                                             "customers": [2, 1]}
    shown = recommended_html(r.recommended, language="ko")
    assert "다음 구매로 가장 많이 추천된 상품" in shown and "data-customers='2'" in shown
