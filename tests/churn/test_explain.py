"""Explanations: permutation importance and per-customer reasons in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.churn import ChurnModel, permutation_table, reason_text, reasons_text, top_reasons
from workbench.churn.explain import REASONS, group_pushes


@pytest.fixture(scope="module")
def recency_model():
    # Churn depends on recency only; visits are noise.
    rng = np.random.default_rng(1)

    def slice_(n):
        recency = rng.uniform(0, 300, n)
        visits = rng.poisson(2, n).astype(float)
        y = (rng.random(n) < 1 / (1 + np.exp(-(recency - 150) / 25))).astype(int)
        return pd.DataFrame({"recency_days": recency, "visits_90d": visits},
                            index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")), y

    X, y = slice_(4000)
    X_cal, y_cal = slice_(4000)
    return ChurnModel(max_iter=60).fit(X, y, X_cal=X_cal, y_cal=y_cal), X_cal, y_cal


def test_permutation_importance_ranks_the_driver_first(recency_model):
    model, X, y = recency_model
    table = permutation_table(model, X, y, rows=2000)
    assert table["feature"].iloc[0] == "recency_days"
    assert table["group"].iloc[0] == "no_recent_order"
    assert table["importance"].iloc[0] > 0.2 > abs(table["importance"].iloc[1])


def test_reasons_name_the_driver_for_long_lapsed_customers(recency_model):
    model, X, _ = recency_model
    lapsed = X[X["recency_days"] > 250]
    reasons = top_reasons(model, lapsed)
    assert (reasons.str.split(";").str[0] == "no_recent_order").all()
    recent = X[X["recency_days"] < 30]
    assert not top_reasons(model, recent).str.contains("no_recent_order").any()


def test_group_pushes_are_differences_to_the_typical_customer(recency_model):
    model, X, _ = recency_model
    row = X.iloc[[0]]
    pushes = group_pushes(model, row)
    typical = row.assign(recency_days=model.reference_["recency_days"])
    expected = model.decision_function(row) - model.decision_function(typical)
    assert pushes["no_recent_order"].iloc[0] == pytest.approx(expected[0])


def test_reason_texts_in_english_and_korean():
    values = {"recency_days": 134.4, "days_since_visit": 61.0, "abandoned_carts_90d": 2.0,
              "orders_90d": 0.0, "orders_180d": 3.0, "p_alive": 0.23, "orders": 1.0}
    assert reason_text("no_recent_order", values, "ko") == "134일째 주문 없음"
    assert reason_text("no_visits", values) == "No visit for 61 days"
    assert reason_text("abandoned_carts", values) == "2 abandoned cart(s) in the last 90 days"
    assert reason_text("abandoned_carts", {"abandoned_carts_90d": 0.0}) == (
        "No recent cart activity")
    assert reason_text("slowing_down", values) == (
        "0 orders in the last 90 days vs 3 in the 90 days before")
    assert reason_text("low_p_alive", values, "ko") == "구매 이력상 아직 활성일 확률이 23%에 불과"
    assert reason_text("no_visits", {"days_since_visit": float("nan")}) == (
        "No visits recorded recently")
    assert reasons_text("few_orders;no_visits", values) == (
        "Only 1 order(s) so far · No visit for 61 days")
    assert reasons_text("", values, "ko") == "두드러진 이유 없음"
    for key in REASONS:  # every reason has words in both languages
        assert reason_text(key, {}, "en") and reason_text(key, {}, "ko")


@pytest.fixture(scope="module")
def u_shaped_model():
    # Churn is likely for one-order customers and, oddly, for very frequent ones (resellers
    # who move to a wholesaler): a tree raises the risk of 104 orders too.
    rng = np.random.default_rng(2)

    def slice_(n):
        orders = np.concatenate([rng.integers(1, 20, n - n // 5), rng.integers(60, 120, n // 5)])
        p = np.where((orders <= 2) | (orders >= 60), 0.8, 0.2)
        y = (rng.random(n) < p).astype(int)
        return pd.DataFrame({"orders": orders.astype(float),
                             "recency_days": rng.uniform(0, 200, n)},
                            index=pd.Index([f"c{i}" for i in range(n)], name="customer_id")), y

    X, y = slice_(4000)
    X_cal, y_cal = slice_(4000)
    return ChurnModel(max_iter=60).fit(X, y, X_cal=X_cal, y_cal=y_cal), X_cal


def test_a_reason_never_argues_against_the_risk(u_shaped_model):
    # Issue 15: "Only 104 order(s) so far" was given as a reason for risk.
    from workbench.churn.explain import MIN_PUSH, reason_holds

    model, X = u_shaped_model
    many = X[X["orders"] >= 60]
    pushes = group_pushes(model, many)
    assert (pushes["few_orders"] >= MIN_PUSH).mean() > 0.9  # the trees do raise their risk
    assert not top_reasons(model, many).str.contains("few_orders").any()
    one = X[X["orders"] == 1]
    assert top_reasons(model, one).str.split(";").str[0].eq("few_orders").mean() > 0.9
    holds = reason_holds(X, model.reference_)
    assert holds["few_orders"].equals(X["orders"] < model.reference_["orders"])


def test_sample_reasons_raise_the_risk_and_their_words_hold(trained):
    from workbench.churn.explain import MIN_PUSH

    model, frame = trained
    X = frame.set_index("customer_id") if "customer_id" in frame else frame
    X = X.loc[:, list(model.features_)].iloc[:600]
    keys = top_reasons(model, X)
    pushes = group_pushes(model, X)
    ref = model.reference_
    picked = [(cid, k) for cid, ks in keys.items() for k in ks.split(";") if k]
    assert len(picked) > 100
    for cid, key in picked:
        row = X.loc[cid]
        assert pushes.loc[cid, key] >= MIN_PUSH  # the contribution has the sign of the risk
        if key == "low_p_alive":
            assert row["p_alive"] < min(0.5, ref["p_alive"])
        elif key == "slowing_down":
            assert row["orders_90d"] < row["orders_180d"] - row["orders_90d"]
        elif key == "few_orders":
            assert row["orders"] < ref["orders"]
        elif key == "no_recent_order":
            assert row["recency_days"] > ref["recency_days"]
