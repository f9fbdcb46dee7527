"""The next-product recommender: metrics, the co-purchase model, the shop's rules, the holdout
check on both data sets, and the snapshot column with its condition and export field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLE_END
from workbench.audience import Audience, Condition, Group
from workbench.audience.personalise import field_columns
from workbench.data import connect
from workbench.data.load import load_file
from workbench.data.sample import write_sample
from workbench.data.schema import NET_STATUSES
from workbench.errors import ParameterError
from workbench.recommend import (
    CoPurchase,
    baseline_ranked,
    evaluate_recommender,
    next_orders,
    purchase_history,
    purchase_matrix,
    ranked,
    ranking_quality,
)
from workbench.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_ranking_quality_hand_worked():
    # Customer 1 bought product 1, ranked first: NDCG 1. Customer 2 bought 0 and 1; the list
    # (2, 0) hits at rank 2: DCG 1/log2(3), ideal 1 + 1/log2(3).
    relevant = sp.csr_matrix(np.array([[0, 1, 0], [1, 1, 0]]))
    hit, ndcg = ranking_quality(np.array([[1, 0], [2, 0]]), relevant)
    g = 1 / np.log2(3)
    assert hit == 1.0 and ndcg == pytest.approx((1 + g / (1 + g)) / 2)
    # A bought product that could not be ranked (new) still counts in the ideal.
    _, ndcg = ranking_quality(np.array([[1, 0]]), relevant[:1], n_relevant=np.array([2]))
    assert ndcg == pytest.approx(1 / (1 + g))


def _history(rows):
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "orders", "days_since"])


def test_co_purchase_similarity_hand_worked():
    # a bought x, y; b bought x (twice) and z; c bought y. Buyers: x 2, y 2, z 1.
    h = _history([("a", "x", 1, 5), ("a", "y", 1, 5), ("b", "x", 2, 5), ("b", "z", 1, 5),
                  ("c", "y", 1, 5)])
    m = purchase_matrix(h, pd.Index(["x", "y", "z"]))
    sim = CoPurchase(shrinkage=1.0, alpha=1.0, repeat_weight=1.0).fit(m).similarity_
    # alpha 1: P(j | i) = c_ij / (n_i + s); the diagonal: repeat buyers (b re-bought x).
    np.testing.assert_allclose(sim, [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 0, 0], [1 / 2, 0, 0]])
    with pytest.raises(ParameterError, match="'alpha' must be in"):
        CoPurchase(alpha=2.0).fit(m)


def _catalogue(rows):
    frame = pd.DataFrame(rows, columns=["product_id", "name", "category", "replenish_days",
                                        "buyers"]).set_index("product_id")
    frame["still_sold"] = frame["buyers"] > 0
    return frame


def test_rules_consumables_due_durables_recent_and_discontinued():
    cat = _catalogue([("cream", "Cream", "beauty", 30, 50), ("toner", "Toner", "beauty", 60, 40),
                      ("mat", "Mat", "living", None, 30), ("old", "Old", "beauty", None, 0),
                      ("tint", "Tint", "beauty", None, 10)])
    # Cream is due (40 days > 0.8 x 30), toner is not (20 < 48), the mat was bought 10 days
    # ago (durable: left out for 90 days), "old" sold nothing lately.
    h = _history([("u", "cream", 3, 40), ("u", "toner", 1, 20), ("u", "mat", 1, 10),
                  ("u", "old", 1, 200)])
    m = purchase_matrix(h, cat.index)

    def scores(weight):  # a model that likes everything, "old" most
        return np.tile([1.0, 1.0, 1.0, 5.0, 0.1], (weight.shape[0], 1))

    top = cat.index[ranked(scores, m, cat, k=2)[0]].tolist()
    assert top == ["cream", "tint"]
    assert cat.index[ranked(scores, m, cat, k=2, rules=False)[0]].tolist() == ["cream", "toner"]
    # Baselines keep the same rules: best sellers skip the not-due toner and the recent mat.
    assert cat.index[baseline_ranked("best_sellers", m, cat, k=2)[0]].tolist() == [
        "cream", "tint"]


@pytest.fixture(scope="module")
def retail_store(tmp_path_factory):
    """The Online Retail-layout fixture (tests/fixtures/make_online_retail_like.py), loaded."""
    path = tmp_path_factory.mktemp("retail") / "retail.duckdb"
    load_file("orders", FIXTURES / "online_retail_like.csv", mapping="online_retail", store=path)
    return path


@pytest.fixture(scope="module")
def sample_shop(tmp_path_factory):
    """A 3,000-customer sample shop (a different seed from the shared test store)."""
    path = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    write_sample(path, 3_000, seed=11, end=date(2026, 11, 16))
    return path


@pytest.mark.parametrize(("store", "as_of"), [
    ("sample_shop", date(2026, 8, 1)), ("retail_store", date(2011, 9, 1))],
    ids=["sample", "online_retail"])
def test_co_purchase_beats_both_baselines(store, as_of, request):
    path = request.getfixturevalue(store)
    settings = Settings(store=str(path))
    table = evaluate_recommender(connect(path, settings=settings), as_of=as_of,
                                 settings=settings).set_index("method")
    assert table["customers"].min() > 150
    for metric in ("hit_rate", "ndcg"):
        best_baseline = table.loc[["best_sellers", "category_best_sellers"], metric].max()
        assert table.loc["co_purchase", metric] > best_baseline + 0.02, (metric, table)


def test_snapshot_condition_and_export_field(refreshed_store):
    settings = Settings(store=str(refreshed_store))
    con = connect(refreshed_store, settings=settings)
    snap = con.table("snapshot_customers").select(
        "customer_id", "orders", "recommended_product", "recommended_product_name").to_pandas()
    assert snap["recommended_product"].notna().all()
    products = con.table("products").to_pandas().set_index("product_id")["name"]
    assert (snap["recommended_product"].map(products) == snap["recommended_product_name"]).all()
    chosen = snap["recommended_product"].value_counts().index[:2].tolist()
    aud = Audience(Group("and", (Condition.make("recommended_product", products=chosen),)),
                   con, as_of=date.fromisoformat(SAMPLE_END), settings=settings)
    found = sorted(aud.members(limit=None)["customer_id"])
    assert found == sorted(snap.loc[snap["recommended_product"].isin(chosen), "customer_id"])
    ids = ibis.memtable(pd.DataFrame({"customer_id": found[:5]}))
    cells = field_columns(con, ids, ["recommended_product"],
                          cutoff=pd.Timestamp(SAMPLE_END, tz="Asia/Seoul"))
    expected = snap.set_index("customer_id").loc[found[:5], "recommended_product_name"]
    assert cells["recommended_product"].to_dict() == expected.to_dict()


def test_condition_labels_in_both_languages():
    kind = Condition.make("recommended_product", products=["P0001"]).kind
    assert kind.label("en") == "Recommended product is one of"
    assert kind.label("ko") == "추천 상품이 다음 중 하나"


def test_history_and_next_orders_match_pandas(retail_store):
    # Differential check of the two Ibis queries against pandas on the raw tables.
    settings = Settings(store=str(retail_store), timezone="Europe/London")
    con = connect(retail_store, settings=settings)
    as_of = date(2011, 9, 1)
    raw = duckdb.connect(str(retail_store), read_only=True)
    lines = raw.sql("SELECT o.customer_id, o.order_id, o.ordered_at, o.status, i.product_id, "
                    "i.quantity FROM orders o JOIN order_items i USING (order_id)"
                    ).fetch_arrow_table().to_pandas()
    raw.close()
    t0 = pd.Timestamp("2011-09-01", tz="Europe/London")
    net = lines[lines["status"].isin(NET_STATUSES) & lines["customer_id"].notna()
                & lines["product_id"].notna() & (lines["quantity"] > 0)]
    before = net[net["ordered_at"] < t0]
    expected = before.groupby(["customer_id", "product_id"]).agg(
        orders=("order_id", "size"), last_at=("ordered_at", "max")).reset_index()
    expected["days_since"] = (t0 - expected.pop("last_at")).dt.days
    got = purchase_history(con, as_of=as_of, settings=settings)
    key = ["customer_id", "product_id"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True), check_dtype=False)
    after = net[net["ordered_at"] >= t0].sort_values(["customer_id", "ordered_at", "order_id"])
    first = after.groupby("customer_id")["order_id"].transform("first")
    expected_next = after[after["order_id"] == first][key].drop_duplicates()
    got_next = next_orders(con, as_of=as_of, settings=settings)
    assert sorted(map(tuple, got_next[key].to_numpy())) == sorted(
        map(tuple, expected_next.to_numpy()))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_lists_are_unique_and_obey_the_rules(seed):
    rng = np.random.default_rng(seed)
    n_products, n_customers = 12, 6
    cat = _catalogue([(f"p{i}", f"P{i}", f"c{i % 3}", [None, 30, 60][i % 3],
                       int(rng.integers(0, 20)) if i else 5) for i in range(n_products)])
    rows = [(f"u{c}", f"p{i}", int(rng.integers(1, 4)), int(rng.integers(0, 200)))
            for c in range(n_customers) for i in rng.choice(n_products, 4, replace=False)]
    h = _history(rows)
    m = purchase_matrix(h, cat.index)
    model = CoPurchase().fit(m)
    top = ranked(model.score, m, cat, k=5)
    days = m.days_since.toarray() - 1
    wait = np.where(cat["replenish_days"].isna(), 90, 0.8 * cat["replenish_days"].fillna(0))
    ok = cat["still_sold"].to_numpy() & ~((days >= 0) & (days < wait))
    for row, picks in enumerate(top):
        # Every product listed is allowed and listed once; -1 fills what no product can.
        shown = picks[picks >= 0]
        assert len(set(shown)) == len(shown) == min(5, ok[row].sum())
        assert ok[row, shown].all() and (picks[len(shown):] == -1).all()
