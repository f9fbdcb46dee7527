"""Backtest metrics against independent computations, and a backtest on the sample."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from workbench.churn import (
    ChurnDefinition,
    backtest,
    backtest_cutoffs,
    expected_auc,
    expected_calibration_error,
    lift_capture,
    reliability_curve,
    score_metrics,
)
from workbench.data import connect
from workbench.errors import TooLittleDataError
from workbench.settings import Settings


@pytest.fixture
def scores(rng):
    p = rng.random(3000)
    y = (rng.random(3000) < p ** 1.3).astype(int)
    return y, p


def test_metrics_equal_sklearn(scores):
    y, p = scores
    m = score_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_ece_and_reliability_equal_independent_computations(scores):
    y, p = scores
    # pandas cut on [0, 0.1), ..., [0.9, 1.0]: the same equal-width bins, built another way
    bins = pd.cut(p, np.linspace(0, 1, 11), right=False, include_lowest=True)
    frame = pd.DataFrame({"y": y, "p": p, "b": bins}).groupby("b", observed=True)
    ece = sum(len(g) / len(y) * abs(g["y"].mean() - g["p"].mean()) for _, g in frame)
    assert expected_calibration_error(y, p) == pytest.approx(ece, abs=1e-12)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    curve = reliability_curve(y, p)
    np.testing.assert_allclose(curve["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(curve["mean_predicted"], predicted, atol=1e-12)
    assert curve["customers"].sum() == len(y)


def test_lift_and_capture_equal_a_pandas_computation(scores):
    y, p = scores
    frame = pd.DataFrame({"y": y, "p": p}).sort_values("p", ascending=False)
    for share in (0.1, 0.2):
        top = frame.head(math.ceil(share * len(frame)))
        lift, capture = lift_capture(y, p, share)
        assert lift == pytest.approx(top["y"].mean() / frame["y"].mean(), abs=1e-12)
        assert capture == pytest.approx(top["y"].sum() / frame["y"].sum(), abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=60),
       st.sampled_from([0.1, 0.2, 0.5]))
def test_capture_is_a_share_and_ece_is_bounded(pairs, share):
    y = np.array([a for a, _ in pairs], dtype=int)
    p = np.array([b for _, b in pairs])
    lift, capture = lift_capture(y, p, share)
    if y.sum() == 0:
        assert math.isnan(capture)
    else:
        assert 0 <= capture <= 1 and lift >= 0
    assert 0 <= expected_calibration_error(y, p) <= 1


def test_non_probability_scores_get_no_brier_or_ece(scores):
    y, p = scores
    m = score_metrics(y, 100 * p, probability=False)
    assert math.isnan(m["brier"]) and math.isnan(m["ece"])
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))


def test_expected_auc_of_a_perfect_separator_is_one():
    assert expected_auc(np.r_[np.zeros(50), np.ones(50)]) == 1.0
    assert 0.45 < expected_auc(np.full(1000, 0.5), draws=5) <= 0.55


def test_cutoffs_are_consecutive_and_labels_end_by_the_data():
    cuts = backtest_cutoffs(date(2026, 11, 16), ChurnDefinition(horizon_days=60), n=4,
                            step_days=7)
    assert cuts == [date(2026, 8, 27), date(2026, 9, 3), date(2026, 9, 10), date(2026, 9, 17)]


def test_backtest_on_the_sample_reports_every_scorer(sample_backtest):
    bt = sample_backtest
    assert bt.cutoffs == (date(2026, 2, 19), date(2026, 5, 20), date(2026, 8, 18))
    assert set(bt.metrics["scorer"]) == {"model", "days_since_last_order", "p_alive",
                                         "bgnbd_p_no_order", "truth"}
    model = bt.metrics[bt.metrics["scorer"] == "model"]
    assert (model["roc_auc"] > 0.8).all() and (model["ece"] < 0.1).all()
    truth = bt.metrics[bt.metrics["scorer"] == "truth"]
    # the latent state knows more than any history can
    assert (truth["roc_auc"].to_numpy() > model["roc_auc"].to_numpy()).all()
    gaps = bt.gaps()
    assert list(gaps.columns[:3]) == ["cutoff", "model", "margin_days_since_last_order"]
    assert set(bt.reliability["cutoff"]) == set(bt.cutoffs)
    assert bt.importance["importance"].iloc[0] > 0


def test_a_cutoff_before_enough_history_is_too_little_data(sample_store):
    # Its training slice (180 days earlier) comes before the sample's first order.
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    with pytest.raises(TooLittleDataError, match="the slice at 2024-09-02 has 0 customers") as info:
        backtest(con, cutoffs=[date(2025, 3, 1)], settings=s, importance=False)
    con.disconnect()
    assert info.value.key == "churn.train.one_class"
