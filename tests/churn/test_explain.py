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
    assert reason_text("low_p_alive", values, "ko") == "구매 이력상 활성 확률 23% (BG/NBD)"
    assert reason_text("no_visits", {"days_since_visit": float("nan")}) == (
        "No visits recorded recently")
    assert reasons_text("few_orders;no_visits", values) == (
        "Only 1 order(s) so far · No visit for 61 days")
    assert reasons_text("", values, "ko") == "두드러진 이유 없음"
    for key in REASONS:  # every reason has words in both languages
        assert reason_text(key, {}, "en") and reason_text(key, {}, "ko")
