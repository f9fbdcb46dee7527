"""Entry points: train/score, run_churn, the snapshot part, parameters, figures and the page."""

from __future__ import annotations

import copy
import re
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.churn import (
    SNAPSHOT_COLUMNS,
    ChurnParams,
    churn_part,
    ensure_model,
    read_metadata,
    reasons_text,
    run_churn,
    save_model,
    score,
    train,
)
from workbench.churn.explain import REASON_FEATURES
from workbench.churn.model import models_dir
from workbench.churn.result import WATCH_COLUMNS
from workbench.data import connect
from workbench.errors import InputError, ParameterError, TooLittleDataError
from workbench.results import Status
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def result(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    r = run_churn(con, ChurnParams(as_of=AS_OF, backtest_cutoffs=0, top_n=10), settings=s)
    con.disconnect()
    return r


def test_run_churn_scores_everyone_with_bands_reasons_and_actions(result):
    assert result.status == Status.OK
    c = result.customers
    assert c["customer_id"].is_unique and c["churn_risk"].between(0, 1).all()
    assert (c["risk_band"] == "high").sum() == pytest.approx(0.1 * len(c), abs=1)
    high = c[c["risk_band"] == "high"]
    assert (high["churn_reasons"] != "").mean() > 0.9
    assert (c.loc[c["risk_band"] != "high", "churn_reasons"] == "").all()
    assert result.bands["band"].tolist() == ["high", "medium", "low"]
    assert result.bands["action"].str.startswith("Win-back").iloc[0]
    assert result.value_source == "clv_if_retained"  # workbench.clv's CLV / P(alive)
    assert result.definition_text == "Churned = no order in the 90 days after the cutoff."
    assert "in the top risk band" in result.message


def test_watchlist_is_masked_and_sorted_by_value_at_risk(result):
    # Issue 15: the list ranks every customer by value at risk, not only the high band.
    w = result.watchlist
    c = result.customers
    assert len(w) == 10
    assert w["value_at_risk"].is_monotonic_decreasing
    assert w["value_at_risk"].iloc[0] == c["value_at_risk"].max()
    assert w["value_at_risk"].iloc[-1] >= c["value_at_risk"].nlargest(10).iloc[-1]
    assert w["name"].str.contains(r"\*").all()
    assert w["phone"].str.match(r"^010-\*\*\*\*-\d{4}$").all()
    assert w["reasons"].str.len().gt(0).all()


def test_sentences_are_made_where_they_are_shown(result):
    assert result.message == result.message_in("en")
    assert "가장 위험한 구간" in result.message_in("ko")
    watch = result.watch  # numbers and reason keys
    assert "reasons" not in watch and set(REASON_FEATURES) <= set(watch.columns)
    en, ko = result.watchlist, result.watchlist_in("ko")
    assert list(en.columns) == list(ko.columns) == list(WATCH_COLUMNS)
    pd.testing.assert_frame_equal(en.drop(columns="reasons"), ko.drop(columns="reasons"))
    first = watch.iloc[0]
    assert en["reasons"].iloc[0] == reasons_text(first["churn_reasons"], first.to_dict(), "en")
    assert ko["reasons"].str.contains("[가-힣]").all()


def test_value_is_the_clv_of_workbench_clv_if_retained(result, sample_store):
    # Issue 15: value if retained = CLV / P(alive); CLV alone already discounts leaving.
    from workbench.clv.analysis import clv_part

    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    part = clv_part(con, as_of=AS_OF, settings=s).to_pandas().set_index("customer_id")
    con.disconnect()
    c = result.customers.set_index("customer_id")
    expected = (part["clv"] / part["p_alive"].clip(lower=1e-9)).reindex(c.index).fillna(0.0)
    pd.testing.assert_series_equal(c["value"], expected, check_names=False)
    pd.testing.assert_series_equal(c["value_at_risk"], c["value"] * c["churn_risk"],
                                   check_names=False)


def test_figures_are_new_plotly_figures(result):
    for make in (result.figure, result.figure_watchlist, result.figure_reasons):
        fig = make()
        assert isinstance(fig, go.Figure) and fig is not make()
    dist = result.figure_distribution()
    assert sum(sum(t.y) for t in dist.data) == len(result.customers)
    assert "90 days" in dist.layout.annotations[0].text  # the definition is on the chart


def test_korean_result(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    r = run_churn(con, ChurnParams(as_of=AS_OF, backtest_cutoffs=0, language="ko",
                                   band_rule="precision", band_high=0.9, band_medium=0.7), s)
    con.disconnect()
    assert "가장 위험한 구간인 위험 높음 (예상 이탈률 " in r.message
    high = r.customers[r.customers["risk_band"] == "high"]
    assert high["churn_risk"].mean() >= 0.9
    assert r.bands["label"].iloc[0] == (
        f"위험 높음 (예상 이탈률 {round(100 * high['churn_risk'].mean())}%)")


def test_too_short_history_is_a_status_not_an_error(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    r = run_churn(con, ChurnParams(as_of=date(2025, 3, 1), backtest_cutoffs=0), s)
    con.disconnect()
    assert r.status == Status.TOO_LITTLE_DATA
    assert "is not after the store's first order" in r.message


def test_too_short_a_history_is_one_error_type_and_the_result_words_it(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    with pytest.raises(TooLittleDataError, match="is not after the store's first order") as info:
        train(con, date(2025, 3, 1), settings=s)
    r = run_churn(con, ChurnParams(as_of=date(2025, 3, 1), backtest_cutoffs=0), s)
    con.disconnect()
    error = info.value
    assert isinstance(error, InputError) and not isinstance(error, ParameterError)
    assert error.key == r.condition == "churn.train.short_history"
    assert error.facts == r.facts and r.facts["window"] == 90 and r.facts["days"] == 180
    assert r.message == "Not enough history to train a churn model: " + str(error)
    assert "학습 기준일" in r.message_in("ko") and r.facts["first"] in r.message_in("ko")


def test_saved_model_is_used_with_its_stored_backtest(trained, store_copy):
    model = copy.deepcopy(trained[0])  # the session's model stays as trained
    s = Settings(store=str(store_copy))
    model.metadata_ = {**model.metadata_, "backtest": {
        "metrics": [{"cutoff": "2026-08-18", "scorer": "model", "customers": 1, "churn_rate": 0.5,
                     "roc_auc": 0.9, "pr_auc": 0.9, "brier": 0.1, "ece": 0.01, "lift_10": 1.5,
                     "capture_10": 0.2, "lift_20": 1.4, "capture_20": 0.3}],
        "reliability": [], "gaps": [], "importance": []}}
    save_model(model, "churn", settings=s)
    assert (models_dir(s) / "churn.json").is_file()
    con = connect(store_copy, settings=s)
    r = run_churn(con, ChurnParams(as_of=AS_OF, model="churn"), s)
    part = churn_part(con, as_of=AS_OF, settings=s).to_pandas()
    con.disconnect()
    assert r.backtest["roc_auc"].tolist() == [0.9]
    assert r.model_info["model_name"] == "churn"
    assert list(part.columns) == list(SNAPSHOT_COLUMNS)
    assert part["customer_id"].is_unique and len(part) == len(r.customers)
    assert part["churn_risk"].dtype == "float64"
    assert set(part["risk_band"]) == {"high", "medium", "low"}
    merged = part.merge(r.customers, on="customer_id")
    pd.testing.assert_series_equal(merged["churn_risk_x"], merged["churn_risk_y"],
                                   check_names=False)


def test_an_outdated_saved_model_warns_and_refresh_trains_one(trained, store_copy):
    from workbench.errors import WorkbenchWarning

    model = copy.deepcopy(trained[0])
    del model.format_  # as saved by the workbench before model format 2
    s = Settings(store=str(store_copy))
    save_model(model, "churn", settings=s)
    con = connect(store_copy, settings=s)
    # ensure_model is the step of churn_part (refresh) that loads or trains; without the
    # 3-cutoff backtest refresh stores (test_saved.py covers churn_part end to end).
    with pytest.warns(WorkbenchWarning, match="older workbench.*trains a new model and saves"):
        model = ensure_model(con, AS_OF, settings=s, backtest_cutoffs=0)
    con.disconnect()
    assert model.format_ == 3 and read_metadata("churn", settings=s)["model_format"] == 3


def test_churn_part_is_empty_without_enough_history(sample_store):
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    part = churn_part(con, as_of=date(2025, 2, 1), settings=s).to_pandas()
    con.disconnect()
    assert list(part.columns) == list(SNAPSHOT_COLUMNS) and part.empty


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(horizon_days=1), "'horizon_days' must be an integer between 7 and 730"),
    (dict(definition="cycle"), "'mode' must be one of ['fixed', 'rhythm']"),
    (dict(band_rule="capacity", band_high=2.5), "capacity 'high' must be a positive count"),
    (dict(backtest_cutoffs=20), "'backtest_cutoffs' must be between 0 and 12"),
    (dict(top_n=0), "'top_n' must be between 1 and 1000"),
], ids=["horizon", "definition", "band", "cutoffs", "top_n"])
def test_params_are_validated(kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        ChurnParams(**kwargs)


def test_run_churn_needs_a_date(sample_store):
    con = connect(sample_store)
    with pytest.raises(ParameterError, match="'params.as_of' is required"):
        run_churn(con, ChurnParams(), Settings())
    con.disconnect()


def test_score_frame_has_the_snapshot_columns_first(trained, sample_store):
    model, _ = trained
    s = Settings(store=str(sample_store))
    con = connect(sample_store, settings=s)
    scored = score(con, AS_OF, model, settings=s, explain=False)
    con.disconnect()
    assert list(scored.columns[:3]) == ["churn_risk", "risk_band", "churn_reasons"]
    assert (scored["churn_reasons"] == "").all()
