"""BG/NBD and Gamma-Gamma with covariates: the plain models without them, recovery, LR test.

The simulated truths below are the models' own generative stories (Fader & Hardie 2007, note
019; Fader, Hardie & Lee 2005), drawn with numpy: a customer's ``lambda ~ Gamma(r, alpha_i)``,
``p ~ Beta(a_i, b_i)``, purchases as a Poisson process cut by a coin after each repeat
purchase; spend ``nu ~ Gamma(q, gamma_i)``, transaction values ``Gamma(p, nu)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.clv import BetaGeo, GammaGamma, bgnbd
from workbench.clv._base import collapse
from workbench.clv.covariates import BetaGeoCovariates, GammaGammaCovariates, LikelihoodRatio
from workbench.errors import ParameterError, SchemaError

COVARIATES = ("web", "app", "coupon")
TRUTH = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 3.0,
         "gamma1": np.array([0.5, -0.4, 0.3]), "gamma2": np.array([-0.5, 0.4, 0.0]),
         "gamma3": np.array([0.3, 0.0, -0.4])}


def simulate(rng: np.random.Generator, n: int, truth: dict) -> pd.DataFrame:
    """Return frequency, recency, T and the covariates of ``n`` simulated BG/NBD customers."""
    channel = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = np.column_stack([channel == 1, channel == 2, rng.random(n) < 0.3]).astype(float)
    alpha = truth["alpha"] * np.exp(-(X @ truth["gamma1"]))
    a = truth["a"] * np.exp(X @ truth["gamma2"])
    b = truth["b"] * np.exp(X @ truth["gamma3"])
    lam = rng.gamma(truth["r"], 1 / alpha)
    p = rng.beta(a, b)
    T = rng.uniform(26, 78, size=n)
    x, tx, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1 / lam[idx])
        bought = now[idx] <= T[idx]
        hit = idx[bought]
        x[hit] += 1
        tx[hit] = now[hit]
        active[idx[~bought]] = False
        active[hit[rng.random(len(hit)) < p[hit]]] = False
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    for j, name in enumerate(COVARIATES):
        frame[name] = X[:, j]
    return frame.rename_axis("customer_id")


def add_spend(rng: np.random.Generator, frame: pd.DataFrame, delta: np.ndarray,
              p: float = 6.0, q: float = 4.0, gamma: float = 15.0) -> pd.DataFrame:
    """Return ``frame`` with Gamma-Gamma ``monetary_value`` (mean of ``frequency`` values)."""
    X = frame.loc[:, list(COVARIATES)].to_numpy()
    nu = rng.gamma(q, 1 / (gamma * np.exp(X @ delta)))
    x = frame["frequency"].to_numpy()
    total = rng.gamma(np.maximum(p * x, 1e-9), 1 / nu)
    return frame.assign(monetary_value=np.where(x > 0, total / np.maximum(x, 1), 0.0))


def test_without_covariates_it_is_betageo_on_cdnow(cdnow, bgnbd_cdnow):
    model = BetaGeoCovariates().fit(cdnow)
    assert model.params_ == bgnbd_cdnow.params_
    assert model.log_likelihood_ == bgnbd_cdnow.log_likelihood_
    pd.testing.assert_series_equal(model.standard_errors_, bgnbd_cdnow.standard_errors_)
    pd.testing.assert_series_equal(model.p_alive(cdnow), bgnbd_cdnow.p_alive(cdnow))
    times = np.array([1.0, 13.0, 52.0])
    np.testing.assert_array_equal(model.expected_purchases_matrix(times, cdnow),
                                  bgnbd_cdnow.expected_purchases_matrix(times, cdnow))
    np.testing.assert_array_equal(
        model.expected_purchases_new(times, cdnow)[0], bgnbd_cdnow.expected_purchases_new(times))
    assert model.lr_test_ is None


def test_without_covariates_it_is_gammagamma_on_cdnow(cdnow_monetary):
    plain = GammaGamma().fit(cdnow_monetary)
    model = GammaGammaCovariates().fit(cdnow_monetary)
    assert model.params_ == plain.params_
    assert model.log_likelihood_ == plain.log_likelihood_
    pd.testing.assert_series_equal(model.expected_spend(cdnow_monetary),
                                   plain.expected_spend(cdnow_monetary))
    assert model.expected_spend_new(cdnow_monetary.iloc[:1]).iloc[0] == plain.population_mean_


def test_a_constant_covariate_row_changes_nothing_but_the_names(cdnow, bgnbd_cdnow):
    # All-zero covariates: every customer is the baseline; the coefficients have no data,
    # so only the baseline is compared (it must equal the plain fit).
    model = BetaGeoCovariates(covariates=("web",), check_data=False).fit(cdnow.assign(web=0.0))
    for name, value in bgnbd_cdnow.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-5)


def test_recovers_the_simulated_coefficients(rng):
    frame = simulate(rng, 8000, TRUTH)
    model = BetaGeoCovariates(covariates=COVARIATES).fit(frame)
    truth = {"r": TRUTH["r"], "alpha": TRUTH["alpha"], "a": TRUTH["a"], "b": TRUTH["b"]}
    for i in (1, 2, 3):
        truth.update({f"gamma{i}:{c}": v
                      for c, v in zip(COVARIATES, TRUTH[f"gamma{i}"], strict=True)})
    z = {k: (model.params_[k] - v) / model.standard_errors_[k] for k, v in truth.items()}
    assert model.converged_
    assert max(abs(v) for v in z.values()) < 4, z
    assert model.lr_test_.df == 9 and model.lr_test_.p_value < 1e-6
    # the purchase-rate effects are well identified: each within 0.15 of the truth
    for c, v in zip(COVARIATES, TRUTH["gamma1"], strict=True):
        assert model.params_[f"gamma1:{c}"] == pytest.approx(v, abs=0.15)


def test_the_lr_test_does_not_reject_covariates_without_effect(rng):
    null = {**TRUTH, "gamma1": np.zeros(3), "gamma2": np.zeros(3), "gamma3": np.zeros(3)}
    frame = simulate(rng, 4000, null)
    model = BetaGeoCovariates(covariates=COVARIATES).fit(frame)
    plain = BetaGeo().fit(frame)
    assert model.lr_test_.plain_log_likelihood == pytest.approx(plain.log_likelihood_)
    assert model.lr_test_.statistic == pytest.approx(
        2 * (model.log_likelihood_ - plain.log_likelihood_), abs=1e-9)
    assert model.lr_test_.p_value > 0.001


def test_predictions_use_each_customers_own_parameters(rng):
    frame = simulate(rng, 3000, TRUTH)
    model = BetaGeoCovariates(covariates=COVARIATES).fit(frame)
    own = model.customer_parameters(frame)
    for row in ({"web": 1.0, "app": 0.0, "coupon": 1.0}, {"web": 0.0, "app": 0.0, "coupon": 0.0}):
        mask = (frame[list(row)] == pd.Series(row)).all(axis=1)
        sub = frame[mask]
        plain = BetaGeo(check_data=False)
        plain.params_ = own[mask].iloc[0].to_dict()  # a BG/NBD with this row's parameters
        plain.data_message_ = ""
        pd.testing.assert_series_equal(model.p_alive(sub), plain.p_alive(sub))
        np.testing.assert_allclose(model.expected_purchases_matrix(np.array([13.0]), sub),
                                   plain.expected_purchases_matrix(np.array([13.0]), sub),
                                   rtol=1e-12)


def test_gamma_gamma_recovers_the_spend_effect(rng):
    delta = np.array([0.4, 0.0, -0.3])
    frame = add_spend(rng, simulate(rng, 8000, TRUTH), delta)
    model = GammaGammaCovariates(covariates=COVARIATES).fit(frame)
    for c, v in zip(COVARIATES, delta, strict=True):
        est, se = model.params_[f"delta:{c}"], model.standard_errors_[f"delta:{c}"]
        assert abs(est - v) < 4 * se, (c, est, se)
    assert model.lr_test_.df == 3 and model.lr_test_.p_value < 1e-6
    new = model.expected_spend_new(pd.DataFrame({"web": [0.0, 1.0], "app": 0.0, "coupon": 0.0}))
    assert new.iloc[1] / new.iloc[0] == pytest.approx(np.exp(model.params_["delta:web"]))


def test_likelihood_ratio_from_fits():
    test = LikelihoodRatio.from_fits(-10.0, -10.0 + 1e-12, df=3)
    assert test.statistic == 0.0 and test.p_value == 1.0


@pytest.mark.parametrize(("kwargs", "frame", "error", "match"), [
    ({"covariates": "web"}, None, ParameterError, "'covariates' must be a list"),
    ({"covariates": ("web", "web")}, None, ParameterError, "'covariates' must be a list"),
    ({"covariates": ("nope",)}, None, SchemaError, "nope"),
    ({"covariates": ("web",)}, {"web": [np.nan] * 8}, SchemaError, r"\['web'\] hold missing"),
    ({"covariates": ("web",)}, {"web": np.arange(8.0) / 1000}, None, None),
], ids=["string", "duplicate", "missing_column", "missing_value", "fine"])
@pytest.mark.filterwarnings("ignore::workbench.errors.WorkbenchWarning")  # 8 customers
def test_bad_covariates_are_named(kwargs, frame, error, match):
    summary = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1, 0, 3],
                            "recency": [0, 10, 20, 0, 30, 5, 0, 25],
                            "T": [40, 38, 35, 30, 40, 20, 12, 33], "web": 0.0})
    if frame:
        summary = summary.assign(**frame)
    model = BetaGeoCovariates(check_data=False, **kwargs)
    if error is None:
        model.fit(summary)
        return
    with pytest.raises(error, match=match):
        model.fit(summary)


def test_too_many_covariate_rows_are_refused(monkeypatch):
    import workbench.clv.covariates as module

    monkeypatch.setattr(module, "MAX_GROUPS", 3)
    summary = pd.DataFrame({"frequency": [0, 1, 2, 0], "recency": [0, 10, 20, 0],
                            "T": [40, 38, 35, 30], "z": [0.0, 1, 2, 3]})
    with pytest.raises(ParameterError, match="4 distinct combinations"):
        BetaGeoCovariates(covariates=("z",), check_data=False).fit(summary)


@pytest.mark.slow
def test_coefficient_intervals_cover_the_truth():
    # 40 simulated shops x 9 coefficients: the 95% Wald intervals from the observed
    # information hold the true coefficient in about 95% of the 360 cases.
    hits = []
    for seed in range(40):
        frame = simulate(np.random.default_rng(1000 + seed), 4000, TRUTH)
        model = BetaGeoCovariates(covariates=COVARIATES).fit(frame)
        ci = model.confidence_intervals_
        for i in (1, 2, 3):
            for c, v in zip(COVARIATES, TRUTH[f"gamma{i}"], strict=True):
                name = f"gamma{i}:{c}"
                hits.append(ci.loc[name, "lower"] <= v <= ci.loc[name, "upper"])
    assert 0.91 <= np.mean(hits) <= 0.99, np.mean(hits)


def _independent_loglik(params: np.ndarray, frame: pd.DataFrame) -> float:
    """Eq. (6) of Fader, Hardie & Lee (2005) per customer with note 019's links (scipy only)."""
    from scipy.special import betaln, gammaln, logsumexp

    k = len(COVARIATES)
    r, alpha0, a0, b0 = np.exp(params[:4])
    X = frame.loc[:, list(COVARIATES)].to_numpy()
    alpha = alpha0 * np.exp(-(X @ params[4:4 + k]))
    a, b = a0 * np.exp(X @ params[4 + k:4 + 2 * k]), b0 * np.exp(X @ params[4 + 2 * k:])
    x, tx, T = (frame[c].to_numpy() for c in ("frequency", "recency", "T"))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx)
    mix = logsumexp(np.column_stack([a3, a4]), axis=1, b=np.column_stack([np.ones_like(x),
                                                                           x > 0]))
    return float((head + mix).sum())


def test_likelihood_and_gradient_match_an_independent_formula(rng):
    from scipy.optimize import approx_fprime

    frame = simulate(rng, 1500, TRUTH)
    model = BetaGeoCovariates(covariates=COVARIATES).fit(frame)
    theta = np.concatenate([np.log([model.params_[k] for k in ("r", "alpha", "a", "b")]),
                            [model.params_[k] for k in list(model.params_)[4:]]])
    assert model.log_likelihood_ == pytest.approx(_independent_loglik(theta, frame), rel=1e-10)
    # at the optimum the independent formula's numerical gradient vanishes too
    grad = approx_fprime(theta, _independent_loglik, 1e-6, frame)
    assert np.max(np.abs(grad)) < 0.05 * np.sqrt(len(frame)), grad
    # and away from it, the two formulas agree at a random point
    point = theta + rng.normal(scale=0.1, size=len(theta))
    other = BetaGeoCovariates(covariates=COVARIATES)
    other.params_ = dict(zip(model.params_, np.concatenate([np.exp(point[:4]), point[4:]]),
                             strict=True))
    X = frame.loc[:, list(COVARIATES)].to_numpy()
    ours = 0.0
    for row in np.unique(X, axis=0):
        part = frame[(X == row).all(axis=1)]
        pat = collapse(*(part[c].to_numpy() for c in ("frequency", "recency", "T")))
        data = bgnbd._Data.build(*pat.columns, pat.weight)
        ours -= bgnbd._negloglik(other._own(row), data, want_grad=False)[0]
    assert ours == pytest.approx(_independent_loglik(point, frame), rel=1e-10)
