"""CLV ranges (workbench.clv.intervals): coverage on a simulation at known parameters.

The customers are drawn from the BG/NBD and Gamma-Gamma models themselves (Fader, Hardie & Lee
2005; Fader & Hardie 2013) at the CDNOW-like parameters below, observed for a calibration
period, fitted, and followed for 12 months after it. An 80% interval must hold about 80% of
the realised discounted margins; the tolerance is three binomial standard errors plus the
Monte Carlo bias of a quantile from 100 draws (about 1 point).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.clv import BetaGeo, GammaGamma, customer_value
from workbench.clv.intervals import (
    clv_intervals,
    parameter_draws,
    predictive_pit,
    value_draws,
)
from workbench.clv.value import month_ends
from workbench.errors import ParameterError

AS_OF = date(2026, 1, 1)
TRUE_BG = {"r": 0.6, "alpha": 6.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 4.0, "q": 5.0, "gamma": 40.0}
MARGIN = 0.3
RATE = 0.01


def _simulate_shop(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Return the calibration summary (weeks) and each customer's realised 12-month margin."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BG["r"], 1 / TRUE_BG["alpha"], n)
    p = rng.beta(TRUE_BG["a"], TRUE_BG["b"], n)
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["gamma"], n)
    T = rng.uniform(10, 78, n)  # weeks since the first purchase at the end of calibration
    ends = month_ends(AS_OF, 12, "W")
    weights = (1 + RATE) ** -np.arange(1, 13)
    rows, realised = [], np.zeros(n)
    for i in range(n):
        t, times, alive = 0.0, [], True
        while alive:
            t += rng.exponential(1 / lam[i])
            if t > T[i] + ends[-1]:
                break
            times.append(t)
            alive = rng.random() >= p[i]
        times = np.array(times)
        past, future = times[times <= T[i]], times[times > T[i]] - T[i]
        spend = rng.gamma(TRUE_GG["p"], 1 / nu[i], len(times))
        x = len(past)
        rows.append((float(x), float(past[-1]) if x else 0.0, T[i],
                     float(spend[:x].mean()) if x else 0.0))
        month = np.searchsorted(ends, future)  # 0-based month of each future purchase
        realised[i] = MARGIN * float(spend[x:] @ weights[month])
    index = pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id")
    summary = pd.DataFrame(rows, columns=["frequency", "recency", "T", "monetary_value"],
                           index=index)
    return summary, pd.Series(realised, index=index, name="realised")


@pytest.fixture(scope="module")
def shop():
    summary, realised = _simulate_shop(3000, seed=7)
    bg = BetaGeo(check_data=False).fit(summary)
    gg = GammaGamma().fit(summary)
    return summary, realised, bg, gg


def test_intervals_hold_eighty_percent_of_realised_values(shop):
    summary, realised, bg, gg = shop
    out = clv_intervals(bg, gg, summary, as_of=AS_OF, margin=MARGIN)
    inside = (realised >= out["clv_low"] - 1e-9) & (realised <= out["clv_high"] + 1e-9)
    tol = 3 * math.sqrt(0.8 * 0.2 / len(summary)) + 0.01
    assert abs(float(inside.mean()) - 0.8) <= tol, float(inside.mean())


def test_randomised_pit_is_uniform(shop):
    summary, realised, bg, gg = shop
    sim = value_draws(bg, gg, summary, as_of=AS_OF, margin=MARGIN)
    pit = predictive_pit(sim, realised, np.random.default_rng(0))
    tol = 3 * math.sqrt(0.8 * 0.2 / len(summary)) + 0.01
    assert abs(float(pit.between(0.1, 0.9).mean()) - 0.8) <= tol
    # each decile of the PIT holds about a tenth of the customers
    counts = np.histogram(pit, bins=10, range=(0, 1))[0] / len(pit)
    assert np.all(np.abs(counts - 0.1) < 3 * math.sqrt(0.09 / len(pit)) + 0.01), counts


def test_simulated_mean_is_the_point_value(shop):
    summary, _, bg, gg = shop
    sim = value_draws(bg, gg, summary, as_of=AS_OF, margin=MARGIN, draws=400)
    clv = customer_value(bg, summary, gg.expected_spend(summary), as_of=AS_OF, margin=MARGIN)
    # Totals agree within Monte Carlo error; the parameter draws add a little (Jensen).
    assert float(sim.values.mean(axis=1).sum()) == pytest.approx(float(clv.sum()), rel=0.04)


def test_a_customer_gets_the_same_interval_alone_or_in_any_chunk(shop):
    summary, _, bg, gg = shop
    full = clv_intervals(bg, gg, summary, as_of=AS_OF, margin=MARGIN)
    part = summary.iloc[::-7].iloc[:200]
    alone = clv_intervals(bg, gg, part, as_of=AS_OF, margin=MARGIN, chunk_size=13)
    pd.testing.assert_frame_equal(alone, full.loc[part.index])


def test_parameter_draws_follow_the_fitted_covariance(shop):
    _, _, bg, _ = shop
    draws = parameter_draws(bg, 4000, np.random.default_rng(1))
    se = bg.standard_errors_.to_numpy()
    # on the log scale the spread is se / estimate (the delta method, reversed)
    theta = np.array([bg.params_[k] for k in ("r", "alpha", "a", "b")])
    assert np.allclose(np.log(draws).std(axis=0), se / theta, rtol=0.1)
    assert np.allclose(np.exp(np.log(draws).mean(axis=0)), theta, rtol=0.05)


@pytest.mark.parametrize(("option", "value"), [("level", 1.5), ("draws", 3),
                                               ("horizon_months", 0), ("margin", 0.0)],
                         ids=["level", "draws", "horizon", "margin"])
def test_bad_options_raise(shop, option, value):
    summary, _, bg, gg = shop
    with pytest.raises(ParameterError, match=f"clv_intervals: '{option}' must be"):
        clv_intervals(bg, gg, summary.iloc[:10], as_of=AS_OF, **{option: value})


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.5, 40.0])
def test_hashed_gamma_variates_follow_the_gamma_distribution(shape):
    from scipy import stats

    from workbench.clv.intervals import _gamma, _mix

    base = _mix(np.arange(20_000, dtype=np.uint64) * np.uint64(7919))
    draws = _gamma(np.full(20_000, shape), base, 5)
    assert stats.kstest(draws, stats.gamma(shape).cdf).pvalue > 0.001


@pytest.mark.parametrize(("size", "q"), [(0.3, 0.5), (2.0, 0.9), (160.0, 0.5)])
def test_arrivals_follow_the_negative_binomial(size, q):
    from scipy import stats

    from workbench.clv.intervals import _arrivals, _mix, _uniform

    u = _uniform(_mix(np.arange(20_000, dtype=np.uint64)), 1)
    n = _arrivals(np.full(20_000, size), np.full(20_000, q), u)
    # inversion: each draw is the smallest k with CDF(k) >= u (scipy's quantile function)
    expected = stats.nbinom(size, q).ppf(u)
    assert np.mean(n == expected) > 0.999
