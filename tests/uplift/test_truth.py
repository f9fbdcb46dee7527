"""On the sample shop: the uplift score ranks customers by their true uplift, and the held-out
Qini of past campaigns beats random targeting.

The sample generator gives each customer a true uplift (``truth_customers.true_uplift``: the
increase of P(order within 14 days) a standard message sent at the sample end would cause),
from a latent responsiveness and the customer's segment, and runs about two campaigns a month
with 10% holdouts. "Target by churn risk" is represented by the generator's true churn
probability (``truth_customers.churn_prob_90d``): the best ranking any churn model can give.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from workbench.data import connect
from workbench.data.sample import write_sample
from workbench.results import Status
from workbench.settings import Settings
from workbench.uplift import evaluate_uplift, training_frame, uplift_scores

END = date(2026, 11, 16)
SETTINGS = Settings()


def _shop(path, customers: int, seed: int):
    write_sample(path, customers, seed=seed, end=END)
    return connect(path, settings=SETTINGS)


def _scores(con) -> pd.Series:
    scores, status, message = uplift_scores(con, as_of=END, settings=SETTINGS)
    assert status == Status.OK and scores is not None, message
    return scores


def _rank_correlations(con, scores: pd.Series) -> tuple[float, float]:
    truth = con.table("truth_customers").to_pandas().set_index("customer_id")
    # Customers with an order before the end: the population campaigns are sent to.
    pop = truth.index[truth["first_order_at"].notna()
                      & (truth["first_order_at"] < pd.Timestamp(END, tz="Asia/Seoul"))]
    true = truth["true_uplift"].reindex(pop)
    model = spearmanr(scores.reindex(pop), true).statistic
    churn = spearmanr(truth["churn_prob_90d"].reindex(pop), true).statistic
    return float(model), float(churn)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    con = _shop(tmp_path_factory.mktemp("uplift_shop") / "shop.duckdb", 6_000, seed=3)
    yield con, _scores(con)
    con.disconnect()


def test_score_ranks_true_uplift_better_than_churn_risk(shop):
    model, churn = _rank_correlations(*shop)
    # Measured at 6,000 customers, seeds 1-5: model 0.31-0.39, churn risk -0.93 (targeting the
    # likeliest churners first picks those a message moves least).
    assert model > 0.2
    assert model > churn


def test_every_customer_is_scored(shop):
    con, scores = shop
    customers = int(con.table("customers").count().execute())
    assert len(scores) == customers and scores.notna().all()
    assert scores.index.is_unique


def test_training_rows_are_sampled_keeping_the_holdout(shop):
    con, _ = shop
    full = training_frame(con, as_of=END, settings=SETTINGS)
    part = training_frame(con, as_of=END, settings=SETTINGS, max_rows=5_000)
    assert len(full) > 10_000
    assert (part["treated"] == 0).sum() == (full["treated"] == 0).sum()
    assert abs(len(part) - 5_000) < 500
    again = training_frame(con, as_of=END, settings=SETTINGS, max_rows=5_000)
    assert part.equals(again)  # the same rows every refresh


@pytest.mark.slow
def test_heldout_qini_beats_random_over_shops(tmp_path):
    # One shop's held-out Qini is noisy (6,000 customers: about +-0.02), so five shops are
    # averaged: measured -0.010, 0.004, 0.020, 0.004, 0.045 for seeds 1-5.
    qinis, models = [], []
    for seed in range(1, 6):
        con = _shop(tmp_path / f"shop{seed}.duckdb", 6_000, seed=seed)
        result = evaluate_uplift(con, as_of=END, settings=SETTINGS, churn=False,
                                 learners=("x",), n_boot=0)
        assert result.ok and len(result.test_campaigns) >= 5
        qinis.append(result.table.set_index("ranking").loc["uplift_x", "qini"])
        models.append(_rank_correlations(con, _scores(con))[0])
        con.disconnect()
    assert np.mean(qinis) > 0
    assert min(models) > 0.2
