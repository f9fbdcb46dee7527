"""run_clv, clv_part and ClvParams on the sample store."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from workbench.clv import PART_COLUMNS, ClvParams, ClvResult, clv_part, run_clv
from workbench.clv.analysis import CUSTOMER_COLUMNS, value_bands
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.results import Status
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(str(sample_store), settings=Settings())


@pytest.fixture(scope="module")
def result(con) -> ClvResult:
    return run_clv(con, ClvParams(as_of=AS_OF), settings=Settings())


def test_result_has_every_part(result):
    assert result.status == Status.OK
    c = result.customers
    assert list(c.columns) == list(CUSTOMER_COLUMNS)
    assert c["customer_id"].is_unique
    assert c["p_alive"].between(0, 1).all()
    assert (c["clv"] >= 0).all() and (c["expected_spend"] > 0).all()
    assert set(c["clv_band"]) == {"high", "medium", "low"}
    assert result.bands["customers"].sum() == len(c)
    assert result.bands["clv_total"].sum() == pytest.approx(c["clv"].sum())
    assert result.by_segment["customers"].sum() == len(c)
    assert len(result.top_customers) == 20
    assert result.top_customers["clv"].is_monotonic_decreasing
    assert set(result.comparison["model"]) == {"bgnbd", "pareto_nbd"}
    assert not result.tracking.empty and not result.by_frequency.empty
    assert set(result.parameters["model"]) == {"bgnbd", "gamma_gamma", "bgnbd_calibration",
                                               "pareto_nbd_calibration"}
    assert result.calibration_end == date(2026, 5, 18)
    assert "Model check" in result.quality and "BG/NBD" in result.quality
    assert result.message.startswith(f"The {len(c):,} customers are expected to bring")
    assert [h["metric"] for h in result.headline()] == ["clv.total", "clv.mean", "clv.alive"]
    assert result.to_frame().equals(result.by_segment)


def test_top_customers_are_masked(result):
    names = result.top_customers["name"].dropna()
    assert len(names) and names.str.contains(r"\*").all()
    assert result.top_customers["phone"].dropna().str.contains(r"\*\*\*\*").all()


def test_clv_is_the_discounted_margin_of_predicted_purchases(result):
    # Spot check: the CLV of a customer is at most margin x spend x 12-month purchases.
    c = result.customers.set_index("customer_id")
    bound = result.gross_margin * c["expected_spend"] * c["expected_purchases_90d"] * 5
    assert (c["clv"] <= bound + 1e-6).all()


def test_korean_messages(con):
    ko = run_clv(con, ClvParams(as_of=AS_OF, language="ko", holdout_weeks=0),
                 settings=Settings())
    assert "고객" in ko.message and "검증 기간" in ko.quality
    assert ko.tracking.empty and ko.comparison.empty


def test_no_data_before_the_first_order(con):
    early = run_clv(con, ClvParams(as_of=date(2020, 1, 6)), settings=Settings())
    assert early.status == Status.NO_DATA
    assert "No net orders with a customer before" in early.message
    assert early.headline() == [] and early.summary() == early.message


def test_too_little_data(tmp_path):
    from workbench.data.sample import write_sample

    path = tmp_path / "tiny.duckdb"
    write_sample(path, 120, seed=3, end=AS_OF)
    small = run_clv(connect(str(path)), ClvParams(as_of=AS_OF), settings=Settings())
    assert small.status == Status.TOO_LITTLE_DATA
    assert "Too little data for a lifetime-value model" in small.message
    assert "at least 100 repeat buyers" in small.message
    assert clv_part(connect(str(path)), as_of=AS_OF, settings=Settings()) is None


def test_sentences_are_made_from_the_numbers_in_the_language_asked(result):
    c = result.customers
    assert result.message == result.message_in("en") == result.message_in()
    assert result.message_in("ko").startswith(f"고객 {len(c):,}명이 앞으로 12개월 동안")
    assert result.holdout_weeks == 26 and result.data_check.enough
    assert result.data_check.customers == len(c)
    row = result.comparison.set_index("model").loc["bgnbd"]
    grade = result.quality_grade
    assert grade == ("good" if abs(row["error_pct"]) <= 10
                     else "fair" if abs(row["error_pct"]) <= 25 else "poor")
    assert f"({abs(row['error_pct']):.1f}% too" in result.quality
    assert result.quality_in("ko").startswith("모델 검증: ")
    assert result.summary().endswith(result.quality)


def test_too_little_data_keeps_the_numbers_and_words_them_in_either_language(tmp_path):
    from workbench.data.sample import write_sample

    path = tmp_path / "tiny.duckdb"
    write_sample(path, 120, seed=3, end=AS_OF)
    small = run_clv(connect(str(path)), ClvParams(as_of=AS_OF), settings=Settings())
    check = small.data_check
    assert small.status == Status.TOO_LITTLE_DATA and not check.enough
    assert f"{check.customers} customers, {check.repeat_buyers} of them repeat buyers" in (
        small.message)
    assert f"재구매 고객 {check.repeat_buyers}명" in small.message_in("ko")
    assert small.quality == "" and small.quality_grade == ""
    assert small.summary() == small.message


def test_clv_part_columns_and_values(con, result):
    part = clv_part(con, as_of=AS_OF, settings=Settings())
    assert tuple(part.columns) == PART_COLUMNS
    schema = {k: str(v) for k, v in part.schema().items()}
    assert schema == {"customer_id": "string", "expected_purchases_90d": "float64",
                      "p_alive": "float64", "expected_spend": "float64", "clv": "float64",
                      "clv_band": "string"}
    frame = part.to_pandas().set_index("customer_id").sort_index()
    ours = result.customers.set_index("customer_id").sort_index()
    assert frame.index.equals(ours.index)
    assert frame["clv"].to_numpy() == pytest.approx(ours["clv"].to_numpy())


def test_value_bands_give_ties_the_same_band():
    bands = value_bands(pd.Series([5.0] * 10))
    assert set(bands) == {"high"}
    bands = value_bands(pd.Series(range(100), dtype=float))
    assert bands.value_counts().to_dict() == {"low": 50, "medium": 30, "high": 20}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": "gbm"}, r"'model' must be one of \['bgnbd', 'pareto_nbd'\]; got 'gbm'"),
    ({"horizon_months": 0}, r"'horizon_months' must be between 1 and 120; got 0"),
    ({"holdout_weeks": 2}, r"'holdout_weeks' must be 0 or between 4 and 104; got 2"),
    ({"monthly_discount_rate": 0.5}, r"'monthly_discount_rate' must be between 0 and 0.2"),
    ({"gross_margin": 2}, r"'gross_margin' must be between 0 and 1; got 2"),
    ({"top_n": 0}, r"'top_n' must be between 1 and 200; got 0"),
    ({"top_n": "many"}, r"'top_n' must be a whole number; got 'many'"),
    ({"as_of": "yesterday"}, r"'as_of' must be an ISO date"),
], ids=["model", "horizon", "holdout", "rate", "margin", "top_n", "top_n_text", "as_of"])
def test_params_validation(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        ClvParams(**kwargs)


def test_run_clv_needs_params_with_a_date(con):
    with pytest.raises(ParameterError, match=r"run_clv: 'params.as_of' is required"):
        run_clv(con, ClvParams())
    with pytest.raises(ParameterError, match="run_clv: 'params' must be ClvParams"):
        run_clv(con, object())


def test_pareto_nbd_as_the_purchase_model(con):
    pareto = run_clv(con, ClvParams(as_of=AS_OF, model="pareto_nbd", holdout_weeks=13),
                     settings=Settings())
    assert pareto.status == Status.OK
    assert pareto.comparison["model"].tolist() == ["pareto_nbd", "bgnbd"]
    assert pareto.tracking["model"].iloc[0] == "pareto_nbd"
    assert "Pareto/NBD" in pareto.quality and "13 weeks" in pareto.quality
    assert set(pareto.parameters["parameter"]) >= {"r", "alpha", "s", "beta", "p", "q"}
    assert pareto.customers["p_alive"].between(0, 1).all()
