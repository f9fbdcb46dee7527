"""What the CLV estimators share: the data check, the fit report, one error type, two languages."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest

from workbench import errors
from workbench.clv import BetaGeo, GammaGamma, ParetoNBD, TooLittleDataError, customer_value
from workbench.clv._base import (
    MIN_HISTORY_DAYS,
    MIN_REPEAT_BUYERS,
    MIN_REPEATERS_3,
    DataCheck,
    FitReport,
    data_check,
)
from workbench.errors import InputError, ParameterError, SchemaError, WorkbenchWarning
from workbench.i18n import using_language

#: Eight customers: enough to fit, far too few to trust (the dropout parameter runs away).
TINY = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1, 0, 3],
                     "recency": [0, 10, 20, 0, 30, 5, 0, 25],
                     "T": [40, 38, 35, 30, 40, 20, 12, 33]}, dtype=float)


@pytest.mark.parametrize(("check", "missing"), [
    (DataCheck(500, MIN_REPEAT_BUYERS, MIN_REPEATERS_3, MIN_HISTORY_DAYS), ()),
    (DataCheck(500, 99, 20, 180.0), ("repeat_buyers",)),
    (DataCheck(500, 100, 19, 180.0), ("repeaters_3",)),
    (DataCheck(500, 100, 20, 179.0), ("history_days",)),
    (DataCheck(8, 5, 3, 280.0), ("repeat_buyers", "repeaters_3")),
], ids=["exactly-enough", "repeat", "three", "history", "two"])
def test_data_check_names_every_minimum_that_is_not_met(check, missing):
    assert check.shortfalls() == missing
    assert check.enough is (not missing)
    assert (check.message("BetaGeo") == "") is (not missing)


def test_data_check_counts_the_summary_in_days():
    check = data_check(TINY)  # no unit recorded: weeks
    assert check == DataCheck(customers=8, repeat_buyers=5, repeaters_3=3, history_days=280.0)
    assert data_check(TINY, unit="D").history_days == 40.0
    days = TINY.copy()
    days.attrs["unit"] = "D"
    assert data_check(days).history_days == 40.0


def test_data_check_words_what_is_missing_in_english_and_korean():
    check = DataCheck(customers=8, repeat_buyers=5, repeaters_3=3, history_days=280.0)
    assert check.message("BetaGeo", "en") == (
        "BetaGeo: too little data for a purchase model: 5 repeat buyers (need at least 100), "
        "3 customers with 3 or more purchase days (need at least 20). Wait for more purchases, "
        "use a longer history, or pass check_data=False to accept unreliable predictions.")
    ko = check.message("BetaGeo", "ko")
    assert "재구매 고객 5명(최소 100명 필요)" in ko and "check_data=False" in ko


@pytest.mark.parametrize("model", [BetaGeo, ParetoNBD], ids=["bgnbd", "pareto"])
def test_thin_data_is_one_error_type_that_is_an_input_error(model):
    assert TooLittleDataError is errors.TooLittleDataError
    with pytest.warns(WorkbenchWarning):
        fitted = model().fit(TINY)
    assert fitted.data_check_ == data_check(TINY)
    with pytest.raises(TooLittleDataError, match=re.escape(
            f"{model.__name__}.p_alive: predictions refused. {model.__name__}: too little data "
            "for a purchase model: 5 repeat buyers")) as info:
        fitted.p_alive(TINY)
    # A data condition, not a bad argument: the command line exits 2, as for other input.
    assert isinstance(info.value, InputError) and not isinstance(info.value, ParameterError)


def test_a_runaway_parameter_is_a_status_and_a_warning_not_an_error():
    with pytest.warns(WorkbenchWarning, match=r"BetaGeo.fit: a parameter ran to the edge of its "
                                              r"range \(log value \[-30.0\]\)"):
        model = BetaGeo(check_data=False).fit(TINY)
    report = model.fit_report_
    assert report.status == "at_bound" and not report.converged and not model.converged_
    assert report.at_bound == (-30.0,)
    assert model.convergence_message_ == report.message("BetaGeo.fit", "en")
    assert model.p_alive(TINY).between(0, 1).all()  # the last estimate is still usable
    assert "범위의 끝" in report.message("BetaGeo.fit", "ko")


def test_a_converged_fit_is_reported_with_its_numbers(bgnbd_cdnow):
    report = bgnbd_cdnow.fit_report_
    assert report.converged and report.status == "converged" and report.at_bound == ()
    assert report.max_gradient < 1e-5 and report.iterations > 0
    assert report.n_customers == 2357 and report.n_patterns < report.n_customers
    assert bgnbd_cdnow.convergence_message_ == (
        f"converged after {report.iterations} iterations "
        f"(max |gradient| {report.max_gradient:.1e})")
    stopped = FitReport("stopped", 1000, 1200, 10, 10, 0.3, optimiser="ABNORMAL")
    assert stopped.message("ParetoNBD.fit", "en") == (
        "ParetoNBD.fit: the optimiser did not converge after 1000 iterations: ABNORMAL. Try a "
        "small penalizer (e.g. 0.001) or more data.")


def test_the_fit_message_follows_the_active_language():
    with using_language("ko"), warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        model = BetaGeo().fit(TINY)
    assert "구매 모델에 쓸 데이터가 부족합니다" in model.data_message_
    assert "범위의 끝" in model.convergence_message_


@pytest.mark.parametrize(("call", "kind", "english", "korean"), [
    (lambda: BetaGeo().fit(TINY.drop(columns="T")), SchemaError,
     "BetaGeo.fit: missing required columns ['T']", "BetaGeo.fit: 필요한 열 ['T']가 없습니다"),
    (lambda: BetaGeo().fit(TINY.assign(recency=TINY["T"] + 1)), SchemaError,
     "'recency' must not exceed 'T'; 8 customers", "'recency'는 'T'보다 클 수 없습니다"),
    (lambda: BetaGeo(penalizer=-1).fit(TINY), ParameterError,
     "BetaGeo.fit: 'penalizer' must be a finite number >= 0; got -1.", "0 이상의 유한한 숫자"),
    (lambda: GammaGamma().fit(pd.DataFrame({"frequency": [1.0], "monetary_value": [2.0]})),
     ParameterError, "needs at least 3 repeat buyers with a positive monetary_value; got 1.",
     "재구매 고객이 3명 이상 필요"),
    (lambda: ParetoNBD().p_alive(TINY), errors.NotFittedError,
     "ParetoNBD.p_alive: the model is not fitted yet; call fit(summary) first.",
     "모델이 아직 적합되지 않았습니다"),
    (lambda: customer_value(BetaGeo(), TINY, 1.0), ParameterError,
     "customer_value: pass 'as_of' (the start of the horizon)", "'as_of'(기간의 시작일)를 주세요"),
], ids=["columns", "recency", "penalizer", "spend", "not-fitted", "as-of"])
def test_errors_are_worded_in_english_and_korean(call, kind, english, korean):
    with pytest.raises(kind, match=re.escape(english)):
        call()
    with using_language("ko"), pytest.raises(kind, match=re.escape(korean)):
        call()
