"""Coverage of the 95% intervals over 2,000 simulated experiments (slow: run with --run-slow).

Each metric gets 2,000 independent A/B tests with a known true effect; a correct 95% interval
covers it in 94-96% of them (the simulation's own standard error is 0.5 points).
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench.abtest.frequentist import compare_proportions, compare_ratios, welch_ttest
from workbench.abtest.srm import srm_check
from workbench.abtest.stats import MeanStats, ProportionStats, RatioStats

SIMS = 2_000
N = 4_000  # customers per arm


def coverage(hits: list[bool]) -> float:
    return float(np.mean(hits))


@pytest.mark.slow
def test_conversion_interval_coverage() -> None:
    rng = np.random.default_rng(11)
    pc, pv = 0.10, 0.11
    xc = rng.binomial(N, pc, SIMS)
    xv = rng.binomial(N, pv, SIMS)
    hits, lift_hits = [], []
    for a, b in zip(xc, xv, strict=True):
        r = compare_proportions(ProportionStats(N, int(a)), ProportionStats(N, int(b)),
                                exact=False)
        hits.append(r.ci_low <= pv - pc <= r.ci_high)
        lift_hits.append(r.lift_ci_low <= pv / pc - 1 <= r.lift_ci_high)
    assert 0.94 <= coverage(hits) <= 0.96
    assert 0.93 <= coverage(lift_hits) <= 0.97


def _revenue(rng: np.random.Generator, p: float, mu: float, size: tuple[int, int]) -> np.ndarray:
    bought = rng.random(size) < p
    return np.where(bought, rng.lognormal(mu, 1.0, size), 0.0)


@pytest.mark.slow
def test_revenue_per_user_interval_coverage() -> None:
    rng = np.random.default_rng(12)
    p, mu_c, mu_v = 0.1, np.log(30_000), np.log(33_000)
    true = p * (np.exp(mu_v + 0.5) - np.exp(mu_c + 0.5))
    hits = []
    for _ in range(SIMS // 200):
        c = _revenue(rng, p, mu_c, (200, N))
        v = _revenue(rng, p, mu_v, (200, N))
        for i in range(200):
            r = welch_ttest(MeanStats(N, c[i].sum(), (c[i] ** 2).sum()),
                            MeanStats(N, v[i].sum(), (v[i] ** 2).sum()))
            hits.append(r.ci_low <= true <= r.ci_high)
    assert 0.94 <= coverage(hits) <= 0.96


def _ratio_arm(rng: np.random.Generator, lam: float, mu: float) -> RatioStats:
    orders = rng.poisson(lam, N)
    values = rng.lognormal(mu, 0.8, int(orders.sum()))
    owner = np.repeat(np.arange(N), orders)
    revenue = np.bincount(owner, weights=values, minlength=N)
    y = orders.astype(float)
    return RatioStats(N, revenue.sum(), y.sum(), (revenue**2).sum(), (y**2).sum(),
                      (revenue * y).sum())


@pytest.mark.slow
def test_ratio_metric_interval_coverage() -> None:
    rng = np.random.default_rng(13)
    mu_c, mu_v = np.log(40_000), np.log(41_000)
    true = np.exp(mu_v + 0.32) - np.exp(mu_c + 0.32)  # AOV = E[order value]
    hits = []
    for _ in range(SIMS):
        r = compare_ratios(_ratio_arm(rng, 0.3, mu_c), _ratio_arm(rng, 0.3, mu_v))
        hits.append(r.ci_low <= true <= r.ci_high)
    assert 0.94 <= coverage(hits) <= 0.96


def test_srm_flags_a_51_49_split_of_100k() -> None:
    assert srm_check({"control": 51_000, "B": 49_000}, {"control": 0.5, "B": 0.5}).mismatch
    # and a correct 50/50 split of 100k customers drawn at random is not flagged
    rng = np.random.default_rng(14)
    flagged = sum(srm_check({"control": int(k), "B": 100_000 - int(k)},
                            {"control": 0.5, "B": 0.5}).mismatch
                  for k in rng.binomial(100_000, 0.5, 1_000))
    assert flagged <= 5  # expected 1 in 1,000 at p < 0.001
