"""On the synthetic sample (known latent parameters): recovery, P(alive) AUC, holdout totals."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from workbench.clv import (
    BetaGeo,
    ParetoNBD,
    calibration_holdout,
    clv_summary,
    compare_models,
    tracking_data,
)
from workbench.data import connect
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)
CAL_END = date(2026, 5, 18)


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(str(sample_store), settings=Settings())


@pytest.fixture(scope="module")
def truth(con) -> pd.DataFrame:
    return con.table("truth_customers").to_pandas().set_index("customer_id")


def _continuous_summary(con, truth: pd.DataFrame) -> pd.DataFrame:
    """frequency/recency/T in days from every order (any status) of the BG/NBD customers.

    The generator's purchase process is BG/NBD in continuous days; every order it draws is in
    ``orders`` (cancelled and returned ones too), so this summary follows the model exactly.
    """
    orders = con.table("orders").select("customer_id", "ordered_at").to_pandas()
    bgnbd = truth.index[truth["purchase_process"] == "bgnbd"]
    orders = orders[orders["customer_id"].isin(bgnbd)]
    end = pd.Timestamp(AS_OF, tz=Settings().timezone)
    days = (orders["ordered_at"] - end).dt.total_seconds() / 86_400
    per = pd.DataFrame({"c": orders["customer_id"], "t": days}).groupby("c")["t"]
    return pd.DataFrame({"frequency": per.size() - 1.0, "recency": per.max() - per.min(),
                         "T": -per.min()})


def test_bgnbd_recovers_the_generator_parameters(con, truth):
    truth_params = con.table("truth_parameters").to_pandas().set_index("parameter")["value"]
    model = BetaGeo(check_data=False).fit(_continuous_summary(con, truth))
    for name in ("r", "alpha", "a", "b"):
        z = (model.params_[name] - truth_params[f"bgnbd_{name}"]) / model.standard_errors_[name]
        assert abs(z) < 3, (name, model.params_[name], truth_params[f"bgnbd_{name}"], z)


def test_p_alive_ranks_the_truly_alive_customers(con, truth):
    summary = clv_summary(con, AS_OF, settings=Settings())
    p_alive = BetaGeo().fit(summary).p_alive(summary)
    alive = truth["is_alive"].reindex(summary.index).astype(int)
    assert roc_auc_score(alive, p_alive) > 0.9


def test_holdout_totals_are_close_and_tracking_adds_up(con):
    data = calibration_holdout(con, calibration_end=CAL_END, holdout_end=AS_OF,
                               settings=Settings())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {"bgnbd": BetaGeo().fit(data), "pareto_nbd": ParetoNBD().fit(data)}
    table = compare_models(models, data).set_index("model")
    assert (table["error_pct"].abs() < 15).all(), table
    assert (table["mae"] < 3).all()
    tracking = tracking_data(con, models, calibration_end=CAL_END, holdout_end=AS_OF,
                             settings=Settings())
    first = tracking[tracking["model"] == "bgnbd"]
    # The holdout rows of the tracking chart count the same repeat purchase days.
    assert first.loc[first["holdout"], "actual"].sum() == table.loc["bgnbd", "actual_total"]
    assert np.all(np.diff(first["expected_cumulative"]) >= 0)
    assert first["holdout"].sum() == 26


def test_calibration_holdout_matches_pandas(con):
    data = calibration_holdout(con, calibration_end=CAL_END, holdout_end=AS_OF,
                               settings=Settings())
    orders = con.table("orders").to_pandas()
    orders = orders[orders["customer_id"].notna()
                    & orders["status"].isin(["paid", "shipped", "delivered", "confirmed"])]
    local = orders["ordered_at"].dt.tz_convert(Settings().timezone).dt.date
    days = pd.DataFrame({"c": orders["customer_id"], "d": local}).drop_duplicates()
    first = days.groupby("c")["d"].min()
    cohort = first[first < CAL_END].index
    hold = days[(days["d"] >= CAL_END) & (days["d"] < AS_OF) & days["c"].isin(cohort)]
    expected = hold.groupby("c").size().reindex(cohort, fill_value=0).sort_index()
    got = data["frequency_holdout"].reindex(expected.index)
    assert (got.to_numpy() == expected.to_numpy()).all()
    assert data["duration_holdout"].iloc[0] == pytest.approx(26.0)
