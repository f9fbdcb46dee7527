"""Gamma-Gamma: published CDNOW values with the published monetary definition, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.clv import GammaGamma
from workbench.errors import ParameterError, SchemaError


def test_monetary_definition_gives_the_published_sample(cdnow_monetary, reference):
    # Fader, Hardie & Lee (2005, "RFM and CLV"): 946 repeat buyers, mean about 35, sd 30.
    assert len(cdnow_monetary) == reference["published"]["gamma_gamma"]["customers"]
    assert round(cdnow_monetary["monetary_value"].mean()) == 35
    assert round(cdnow_monetary["monetary_value"].std()) == 30


def test_reproduces_the_published_estimates(cdnow_monetary, reference):
    model = GammaGamma().fit(cdnow_monetary)
    published = reference["published"]["gamma_gamma"]
    for name in ("p", "q", "gamma"):
        assert round(model.params_[name], 2) == published[name], name
    ref = reference["gamma_gamma_mle"]
    for name, value in ref["params"].items():
        assert model.params_[name] == pytest.approx(value, rel=1e-5), name
        assert model.standard_errors_[name] == pytest.approx(
            ref["standard_errors"][name], rel=2e-3), name
    assert model.log_likelihood_ == pytest.approx(ref["log_likelihood"], rel=1e-10)
    assert model.converged_


def test_expected_spend_is_the_weighted_average_of_eq_5(cdnow_monetary):
    model = GammaGamma().fit(cdnow_monetary)
    p, q, g = (model.params_[k] for k in ("p", "q", "gamma"))
    frame = pd.DataFrame({"frequency": [0, 1, 10, 1000], "monetary_value": [0, 50, 50, 50]},
                         index=pd.Index(list("abcd"), name="customer_id"))
    spend = model.expected_spend(frame)
    population = p * g / (q - 1)
    assert spend["a"] == pytest.approx(population)
    assert spend["b"] == pytest.approx(p * (g + 50) / (p + q - 1))
    # More purchases: closer to the customer's own mean.
    assert abs(spend["d"] - 50) < abs(spend["c"] - 50) < abs(spend["b"] - 50)
    assert model.population_mean_ == pytest.approx(population)
    assert spend.name == "expected_spend"


def test_currency_scale_does_not_change_shape_parameters(cdnow_monetary):
    usd = GammaGamma().fit(cdnow_monetary)
    krw = GammaGamma().fit(cdnow_monetary.assign(
        monetary_value=cdnow_monetary["monetary_value"] * 1300))
    assert krw.params_["p"] == pytest.approx(usd.params_["p"], rel=1e-5)
    assert krw.params_["q"] == pytest.approx(usd.params_["q"], rel=1e-5)
    assert krw.params_["gamma"] == pytest.approx(1300 * usd.params_["gamma"], rel=1e-5)


def test_errors():
    with pytest.raises(SchemaError, match=r"GammaGamma.fit: missing required columns "
                                          r"\['monetary_value'\]"):
        GammaGamma().fit(pd.DataFrame({"frequency": [1.0]}))
    with pytest.raises(ParameterError, match="needs at least 3 repeat buyers"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0.0, 1.0], "monetary_value": [0, 5.0]}))
    assert np.isfinite(GammaGamma(penalizer=0.1).fit(pd.DataFrame(
        {"frequency": [1.0, 2, 3, 1], "monetary_value": [5.0, 7, 9, 4]})).params_["p"])
