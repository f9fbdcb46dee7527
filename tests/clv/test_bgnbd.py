"""BG/NBD: published CDNOW values, independent references, predictions, estimator contract."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from workbench.clv import BetaGeo, TooLittleDataError
from workbench.errors import NotFittedError, ParameterError, SchemaError, WorkbenchWarning


def test_reproduces_the_published_cdnow_estimates(bgnbd_cdnow, reference):
    published = reference["published"]["bgnbd"]
    for name in ("r", "alpha", "a", "b"):
        # Published to three decimals: the estimate must round to the published value.
        assert round(bgnbd_cdnow.params_[name], 3) == published[name], name
    assert round(bgnbd_cdnow.log_likelihood_, 1) == published["log_likelihood"]
    assert bgnbd_cdnow.converged_
    assert "converged" in bgnbd_cdnow.convergence_message_


def test_matches_an_independent_natural_scale_mle(bgnbd_cdnow, reference):
    ref = reference["bgnbd_mle"]
    for name, value in ref["params"].items():
        assert bgnbd_cdnow.params_[name] == pytest.approx(value, rel=1e-5), name
    assert bgnbd_cdnow.log_likelihood_ == pytest.approx(ref["log_likelihood"], rel=1e-9)
    for name, value in ref["standard_errors"].items():
        assert bgnbd_cdnow.standard_errors_[name] == pytest.approx(value, rel=2e-3), name


def test_confidence_intervals_contain_the_estimate_and_are_positive(bgnbd_cdnow):
    table = bgnbd_cdnow.summary_
    assert list(table.columns) == ["estimate", "standard_error", "lower", "upper"]
    assert (table["lower"] > 0).all()
    assert ((table["lower"] < table["estimate"]) & (table["estimate"] < table["upper"])).all()
    assert bgnbd_cdnow.covariance_.shape == (4, 4)


def test_conditional_predictions_match_mpmath(bgnbd_cdnow, reference):
    model = BetaGeo(check_data=False)
    model.__dict__.update(bgnbd_cdnow.__dict__)
    model.params_ = dict(reference["published"]["bgnbd"])
    model.params_.pop("log_likelihood")
    for row in reference["bgnbd_conditional"]:
        x, tx, T = row["customer"]
        frame = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [T]})
        alive = model.p_alive(frame).iloc[0]
        expected = model.expected_purchases(row["t"], frame).iloc[0]
        assert alive == pytest.approx(row["p_alive"], rel=1e-10, abs=1e-300), row
        assert expected == pytest.approx(row["expected"], rel=1e-8, abs=1e-300), row


def test_probability_of_n_purchases_matches_numerical_integration(bgnbd_cdnow, reference):
    model = BetaGeo(check_data=False)
    model.__dict__.update(bgnbd_cdnow.__dict__)
    model.params_ = {k: reference["published"]["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
    for row in reference["bgnbd_pmf"]:
        x, tx, T = row["customer"]
        frame = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [T]})
        assert model.prob_purchases(row["n"], row["t"], frame).iloc[0] == pytest.approx(
            row["p"], rel=1e-6), row


def test_pmf_sums_to_one_and_its_mean_is_the_expectation(bgnbd_cdnow):
    frame = pd.DataFrame({"frequency": [0, 1, 6, 30, 2000], "recency": [0, 5, 30, 38, 700],
                          "T": [38.86, 38.86, 38.86, 38.86, 730]})
    n = np.arange(0, 1500)
    p = np.array([bgnbd_cdnow.prob_purchases(int(k), 52, frame).to_numpy() for k in n])
    assert p.sum(axis=0) == pytest.approx(1.0, abs=1e-9)
    mean = (p * n[:, None]).sum(axis=0)
    assert mean == pytest.approx(bgnbd_cdnow.expected_purchases(52, frame).to_numpy(), rel=1e-8)


def test_heavy_and_one_time_buyers_give_finite_sensible_predictions(bgnbd_cdnow):
    frame = pd.DataFrame({"frequency": [0, 1, 5000, 5000, 9000],
                          "recency": [0, 0.1, 729.9, 10, 730],
                          "T": [0, 730, 730, 730, 730]},
                         index=pd.Index(list("abcde"), name="customer_id"))
    alive = bgnbd_cdnow.p_alive(frame)
    expected = bgnbd_cdnow.expected_purchases(52, frame)
    assert np.isfinite(alive).all() and np.isfinite(expected).all()
    assert alive["a"] == 1.0  # no repeat purchase: BG/NBD cannot have dropped out
    assert alive["c"] > 0.999 and alive["d"] < 1e-100  # recent vs long-silent heavy buyer
    # A heavy buyer still active buys at about her own rate (x / T per week).
    assert expected["c"] == pytest.approx(52 * 5000 / 730, rel=0.05)
    assert expected["e"] > expected["c"]
    assert expected.name == "expected_purchases" and list(expected.index) == list("abcde")


def test_expected_purchases_of_a_new_customer_is_the_unconditional_formula(bgnbd_cdnow):
    # E[X(t)] (eq. 9) equals the conditional expectation of someone with x = 0, T = 0.
    t = np.array([1.0, 13.0, 39.0, 78.0])
    frame = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": 0.0}, index=range(4))
    conditional = [bgnbd_cdnow.expected_purchases(float(v), frame.iloc[[i]]).iloc[0]
                   for i, v in enumerate(t)]
    assert bgnbd_cdnow.expected_purchases_new(t) == pytest.approx(conditional, rel=1e-12)
    assert np.all(np.diff(bgnbd_cdnow.expected_purchases_new(t)) > 0)


def test_weights_equal_duplicated_rows(cdnow):
    half = cdnow.iloc[::2]
    doubled = pd.concat([half, half])
    a = BetaGeo(check_data=False).fit(doubled)
    b = BetaGeo(check_data=False).fit(half, weights=np.full(len(half), 2.0))
    for k in a.params_:
        assert a.params_[k] == pytest.approx(b.params_[k], rel=1e-7)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_does_not_change_the_fit(cdnow, seed):
    shuffled = cdnow.sample(frac=1.0, random_state=seed)
    a = BetaGeo().fit(shuffled)
    assert a.params_["r"] == pytest.approx(0.2425929, rel=1e-5)
    p = a.p_alive(shuffled)
    assert p.index.equals(shuffled.index) and p.between(0, 1).all()


def test_penalizer_shrinks_the_parameters(cdnow):
    plain = BetaGeo().fit(cdnow)
    shrunk = BetaGeo(penalizer=0.1).fit(cdnow)
    norm = lambda m: sum(v * v for v in m.params_.values())  # noqa: E731
    assert norm(shrunk) < norm(plain)
    assert shrunk.log_likelihood_ < plain.log_likelihood_


def test_estimator_contract(cdnow):
    model = BetaGeo(penalizer=0.01)
    assert model.get_params() == {"penalizer": 0.01, "check_data": True}
    assert clone(model).get_params() == model.get_params()
    assert model.fit(cdnow) is model
    again = pickle.loads(pickle.dumps(model))
    assert again.params_ == model.params_
    with pytest.raises(NotFittedError, match=r"BetaGeo.p_alive: the model is not fitted yet"):
        BetaGeo().p_alive(cdnow)


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"frequency": [1.0], "recency": [1.0]}),
     r"BetaGeo.fit: missing required columns \['T'\]; got \['frequency', 'recency'\]."),
    (pd.DataFrame({"frequency": [1.0], "Recency": [1.0], "T": [2.0]}),
     r"missing required columns \['recency'\].*Did you mean 'Recency'"),
    (pd.DataFrame({"frequency": [1.0], "recency": [3.0], "T": [2.0]}),
     r"'recency' must not exceed 'T'; 1 customers have recency > T"),
    (pd.DataFrame({"frequency": [1.5], "recency": [1.0], "T": [2.0]}),
     r"'frequency' must hold whole numbers"),
    (pd.DataFrame({"frequency": [1.0], "recency": [np.nan], "T": [2.0]}),
     r"columns \['recency'\] contain missing or infinite values"),
    (pd.DataFrame({"frequency": [-1.0], "recency": [0.0], "T": [2.0]}),
     r"columns \['frequency'\] contain negative values"),
], ids=["missing", "case", "recency>T", "fractional", "nan", "negative"])
def test_bad_summaries_raise_schema_errors(frame, message):
    with pytest.raises(SchemaError, match=message):
        BetaGeo(check_data=False).fit(frame)


def test_bad_parameters_raise():
    with pytest.raises(ParameterError, match=r"'penalizer' must be a finite number >= 0"):
        BetaGeo(penalizer=-1).fit(pd.DataFrame({"frequency": [1.0], "recency": [1.0],
                                                "T": [2.0]}))
    with pytest.raises(ParameterError, match="no customer has a repeat purchase"):
        BetaGeo(check_data=False).fit(pd.DataFrame({"frequency": [0.0], "recency": [0.0],
                                                    "T": [2.0]}))


def test_too_little_data_warns_at_fit_and_refuses_predictions(cdnow):
    small = cdnow.iloc[:150]
    with pytest.warns(WorkbenchWarning, match="too little data for a purchase model"):
        model = BetaGeo().fit(small)
    assert "repeat buyers (need at least 100)" in model.data_message_
    with pytest.raises(TooLittleDataError, match="predictions refused"):
        model.p_alive(small)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BetaGeo(check_data=False).fit(small).p_alive(small)  # the caller accepted the risk


def test_bad_horizon_raises(bgnbd_cdnow, cdnow):
    with pytest.raises(ParameterError, match=r"'t' must be a finite number of periods >= 0"):
        bgnbd_cdnow.expected_purchases(-1, cdnow)
    with pytest.raises(ParameterError, match=r"'n' must be an integer >= 0"):
        bgnbd_cdnow.prob_purchases(1.5, 10, cdnow)


@pytest.mark.parametrize("theta", [(0.243, 4.414, 0.793, 2.426), (0.5, 2.0, 3.0, 150.0),
                                   (0.24, 0.86, 1e7, 5e8)],
                         ids=["cdnow", "generator", "huge-a-b"])
def test_analytic_gradient_matches_finite_differences(cdnow, theta):
    from workbench.clv._base import collapse
    from workbench.clv.bgnbd import _Data, _negloglik

    pat = collapse(*(cdnow[c].to_numpy() for c in ("frequency", "recency", "T")))
    data = _Data.build(*pat.columns, pat.weight)
    logp = np.log(theta)
    _, grad = _negloglik(np.exp(logp), data)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        up = _negloglik(np.exp(logp + step), data, want_grad=False)[0]
        down = _negloglik(np.exp(logp - step), data, want_grad=False)[0]
        assert grad[k] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-5), k


def test_fixed_dropout_limit_is_handled(cdnow):
    """Huge a and b (one dropout probability for all): predictions stay finite and consistent."""
    model = BetaGeo(check_data=False).fit(cdnow)
    model.params_ = {"r": 0.24, "alpha": 4.4, "a": 1e7, "b": 3e7}
    frame = cdnow.iloc[:50]
    expected = model.expected_purchases(39, frame).to_numpy()
    n = np.arange(0, 400)
    p = np.array([model.prob_purchases(int(k), 39, frame).to_numpy() for k in n])
    assert np.isfinite(expected).all()
    assert (p * n[:, None]).sum(axis=0) == pytest.approx(expected, rel=1e-6)
