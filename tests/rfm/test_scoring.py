"""RFM scores: quantiles with equal scores for ties, fixed thresholds, validation."""

from __future__ import annotations

import re

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError, SchemaError
from workbench.i18n import set_language
from workbench.rfm.scoring import DEFAULT_THRESHOLDS, RFM_SCORE_COLUMNS, score_rfm


def _facts(recency, orders, revenue) -> ibis.Table:
    n = len(recency)
    return ibis.memtable({"customer_id": [f"c{i:02d}" for i in range(n)],
                          "recency_days": [float(v) for v in recency],
                          "orders": [int(v) for v in orders],
                          "net_revenue": [float(v) for v in revenue],
                          "top_category": ["bags"] * n})


def _scores(table: ibis.Table, **kwargs) -> pd.DataFrame:
    return score_rfm(table, **kwargs).to_pandas().sort_values("customer_id").reset_index(drop=True)


def reference_scores(frame: pd.DataFrame, bins: int) -> pd.DataFrame:
    # below = number of strictly worse values (rank "min" - 1); recency scored on -days.
    score = lambda s: (np.floor((s.rank(method="min") - 1) * bins / len(s)) + 1).astype(int)  # noqa: E731
    return pd.DataFrame({"r_score": score(-frame.recency_days), "f_score": score(frame.orders),
                         "m_score": score(frame.net_revenue)})


def test_ties_get_equal_scores():
    got = _scores(_facts([10, 10, 10, 50, 400], [1, 1, 1, 2, 3], [100, 100, 100, 200, 300]))
    # three tied customers of five with nobody below: 1 + floor(5 * 0/5) = 1 for all of them;
    # then 3 below -> 1 + floor(15/5) = 4, and 4 below -> 5
    assert got.f_score.tolist() == [1, 1, 1, 4, 5]
    assert got.m_score.tolist() == [1, 1, 1, 4, 5]
    # recency: fewer days is better; 400 days has nobody worse -> 1, 50 days 1 worse -> 2,
    # the three at 10 days have 2 worse -> 1 + floor(10/5) = 3
    assert got.r_score.tolist() == [3, 3, 3, 2, 1]
    assert got.rfm_cell.tolist() == ["3-1-1", "3-1-1", "3-1-1", "2-4-4", "1-5-5"]


@pytest.mark.parametrize("n", [1, 4], ids=["one-customer", "all-equal"])
def test_nobody_below_anybody_gets_the_lowest_score(n):
    got = _scores(_facts([7] * n, [2] * n, [5000] * n), bins=5)
    assert (got[list(RFM_SCORE_COLUMNS)] == 1).all().all()


def test_keeps_fact_columns_and_types():
    facts = _facts([1, 2], [1, 2], [10, 20])
    scored = score_rfm(facts)
    assert list(scored.columns) == [*facts.columns, *RFM_SCORE_COLUMNS, "rfm_cell"]
    assert all(str(scored[c].type()) == "int8" for c in RFM_SCORE_COLUMNS)
    assert str(scored.rfm_cell.type()) == "string"


def test_bins_three_quantiles():
    got = _scores(_facts(range(6), range(1, 7), range(6)), bins=3)
    assert got.f_score.tolist() == [1, 1, 2, 2, 3, 3]
    assert got.r_score.tolist() == [3, 3, 2, 2, 1, 1]
    assert got.rfm_cell.iloc[0] == "3-1-1"


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from([0.5, 3.0, 30.0, 30.0, 200.0]),
                               st.integers(1, 4), st.sampled_from([1e3, 5e4, 5e4, 2e5])),
                     min_size=1, max_size=30),
       bins=st.integers(2, 7))
def test_quantile_scores_match_reference(rows, bins):
    recency, orders, revenue = zip(*rows, strict=True)
    got = _scores(_facts(recency, orders, revenue), bins=bins)
    frame = pd.DataFrame({"recency_days": recency, "orders": orders, "net_revenue": revenue})
    ref = reference_scores(frame, bins)
    for col in RFM_SCORE_COLUMNS:
        assert got[col].tolist() == ref[col].tolist(), col
        assert got[col].between(1, bins).all()
    # equal values, equal scores
    assert (got.groupby("orders").f_score.nunique() == 1).all()


def test_default_thresholds_boundaries():
    recency = [0, 30, 30.0001, 60, 90, 180, 180.5]
    orders = [1, 2, 3, 4, 5, 9, 10]
    revenue = [0, 49_999, 50_000, 100_000, 199_999, 200_000, 500_000]
    got = _scores(_facts(recency, orders, revenue), method="threshold")
    assert got.r_score.tolist() == [5, 5, 4, 4, 3, 2, 1]  # at or below a cut point counts
    assert got.f_score.tolist() == [1, 2, 3, 3, 4, 4, 5]  # at or above a cut point counts
    assert got.m_score.tolist() == [1, 1, 2, 3, 3, 4, 5]


def test_custom_thresholds_with_three_bins():
    cuts = {"recency_days": (14, 60), "orders": (2, 4), "net_revenue": (10_000, 90_000)}
    got = _scores(_facts([14, 15, 61], [1, 2, 4], [9_999, 10_000, 90_000]), bins=3,
                  method="threshold", thresholds=cuts)
    assert got.rfm_cell.tolist() == ["3-1-1", "2-2-2", "1-3-3"]


def test_partial_thresholds_use_defaults():
    got = _scores(_facts([45], [3], [10]), method="threshold", thresholds={"orders": (2, 3, 4, 5)})
    assert got.rfm_cell.tolist() == ["4-3-1"]
    assert DEFAULT_THRESHOLDS["recency_days"] == (30, 60, 90, 180)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bins": 1}, "score_rfm: 'bins' must be an integer from 2 to 100; got 1."),
    ({"method": "quantil"}, "score_rfm: 'method' must be one of ['quantile', 'threshold']; "
                            "got 'quantil'. Did you mean 'quantile'?"),
    ({"thresholds": {"orders": (1, 2, 3, 4)}},
     "score_rfm: 'thresholds' are only used with method='threshold'; drop them or pass "
     "method='threshold'."),
    ({"method": "threshold", "thresholds": {"order": (1, 2, 3, 4)}},
     "score_rfm: unknown thresholds key 'order'; use ['recency_days', 'orders', "
     "'net_revenue']. Did you mean 'orders'?"),
    ({"method": "threshold", "thresholds": {"orders": (1, 2, 3)}},
     "score_rfm: thresholds['orders'] needs bins - 1 = 4 cut points; got 3 ([1, 2, 3]). "
     "Give 4 or change 'bins'."),
    ({"method": "threshold", "thresholds": {"net_revenue": (5, 1, 7, 9)}},
     "score_rfm: thresholds['net_revenue'] must be strictly ascending; got [5, 1, 7, 9]. "
     "Sort them: [1, 5, 7, 9]."),
    ({"method": "threshold", "thresholds": {"orders": (1, 2, 2, 4)}},
     "score_rfm: thresholds['orders'] must be strictly ascending; got [1, 2, 2, 4]. "
     "Sort them: [1, 2, 4]."),
    ({"method": "threshold", "thresholds": {"orders": (1, 2, float("nan"), 4)}},
     "score_rfm: thresholds['orders'] must be finite numbers; got [1, 2, nan, 4]."),
    ({"method": "threshold", "bins": 3, "thresholds": {"orders": (2, 3)}},
     "score_rfm: no thresholds for 'recency_days'; the defaults fit bins=5, got bins=3. "
     "Pass thresholds={'recency_days': (2 ascending cut points)}."),
], ids=["bins", "method", "thresholds-with-quantile", "unknown-key", "length", "unsorted",
        "duplicate", "nan", "defaults-need-5-bins"])
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        score_rfm(_facts([1], [1], [1]), **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "quantil"}, "score_rfm: 'method'는 ['quantile', 'threshold'] 중 하나여야 합니다. "
                            "받은 값: 'quantil'. 'quantile'을 뜻했나요?"),
    ({"method": "threshold", "bins": 3, "thresholds": {"orders": (2, 3)}},
     "score_rfm: 'recency_days'의 기준점이 없습니다. 기본값은 bins=5에만 맞는데 bins=3입니다. "
     "thresholds={'recency_days': (오름차순 기준점 2개)}를 주세요."),
], ids=["method", "defaults-need-5-bins"])
def test_bad_parameters_are_worded_in_korean(kwargs, message):
    set_language("ko")
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        score_rfm(_facts([1], [1], [1]), **kwargs)


def test_missing_column_raises():
    facts = ibis.memtable({"customer_id": ["a"], "orders": [1]})
    message = ("score_rfm: missing required columns ['recency_days', 'net_revenue']; got "
               "['customer_id', 'orders']. Compute them with "
               "workbench.features.customer_facts.")
    with pytest.raises(SchemaError, match=re.escape(message)):
        score_rfm(facts)


def test_scores_customer_facts_end_to_end():
    from datetime import date

    from workbench.features import customer_facts

    orders = ibis.memtable({
        "customer_id": ["a", "a", "b", "c"], "status": ["paid"] * 4,
        "amount": [1000.0, 2000.0, 500.0, 500.0],
        "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-09", "2026-01-09", "2025-06-01"])
        .tz_localize("Asia/Seoul")})
    facts = customer_facts(orders, as_of=date(2026, 1, 10), timezone="Asia/Seoul")
    got = score_rfm(facts, bins=3).order_by("customer_id").to_pandas()
    # R: a and b (last order 01-09) have one worse customer (c): 1 + floor(3 * 1/3) = 2.
    # F and M: a has two customers below: 3; b and c tie with nobody below: 1.
    assert got.rfm_cell.tolist() == ["2-3-3", "2-1-1", "1-1-1"]
