"""Compute golden values for group-sequential plans, capping, quantiles and priors.

Run from the repository root::

    .venv/bin/python tests/abtest/reference/make_plans.py

It writes ``tests/abtest/reference/plans.json``. Everything here is independent of
``workbench.abtest``:

* group-sequential boundaries: each look's boundary solved by ``scipy.optimize.brentq`` on
  the first-crossing probability computed with ``scipy.stats.multivariate_normal.cdf``
  (Genz's quasi-Monte Carlo integration of the joint normal law of the z statistics,
  ``corr(Z_i, Z_j) = sqrt(t_i / t_j)``), a different method from the library's recursive
  quadrature; then checked by plain Monte Carlo with 2,000,000 Brownian paths (the alpha
  spent must be within 4 standard errors). Published values kept beside them: one-sided
  alpha = 0.025, K = 3, Lan-DeMets O'Brien-Fleming 3.7103, 2.5114, 1.9930 (R gsDesign
  ``gsDesign(k=3, test.type=1, sfu=sfLDOF)``, and the same for two-sided alpha = 0.05 with
  the spending applied per side at 0.025 as gsDesign, ldbounds and rpact do); Pocock's
  constant boundary for K = 5, two-sided alpha = 0.05: 2.413 (Pocock 1977, Table 1);
* winsorization: ``numpy.percentile`` of the pooled arms and ``numpy.clip``;
* quantile differences: ``numpy.percentile`` for the estimate and ``scipy.stats.bootstrap``
  (percentile method, independent samples) for the interval;
* informative Beta priors: conjugate parameters, ``scipy.stats.beta`` moments, and
  P(B > A) and expected losses from 4,000,000 posterior draws;
* informative Normal priors: the posterior of the effect by ``scipy.integrate.quad`` of
  likelihood times prior (no conjugate formula), effect and standard error from the raw
  samples with numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, stats

OUT = Path(__file__).with_name("plans.json")
SEED = 20261207


def spent(t: np.ndarray, alpha: float, spending: str) -> np.ndarray:
    if spending == "pocock":
        return alpha * np.log(1 + (np.e - 1) * t)
    return 2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 2) / np.sqrt(t))


def corr(t: np.ndarray) -> np.ndarray:
    return np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))


def no_cross(bounds: list[float], t: np.ndarray, sides: int) -> float:
    """P(no crossing at any of the looks in ``bounds``) by multivariate-normal integration."""
    k = len(bounds)
    b = np.array(bounds)
    lower = -b if sides == 2 else np.full(k, -np.inf)
    if k == 1:
        return float(stats.norm.cdf(b[0]) - (stats.norm.cdf(-b[0]) if sides == 2 else 0.0))
    return float(stats.multivariate_normal.cdf(
        b, np.zeros(k), corr(t[:k]), lower_limit=lower, maxpts=500_000 * k, abseps=1e-9,
        releps=1e-9, rng=np.random.default_rng(SEED)))


def mvn_plan(t: np.ndarray, alpha: float, spending: str, sides: int) -> list[float]:
    target = sides * spent(t, alpha / sides, spending)  # per side, as gsDesign and rpact
    bounds: list[float] = []
    for k in range(len(t)):
        bounds.append(optimize.brentq(
            lambda b, k=k: (1 - no_cross([*bounds, b], t, sides)) - target[k], 0.5, 12.0,
            xtol=1e-7))
    return bounds


def mvn_constant(t: np.ndarray, alpha: float, sides: int) -> float:
    return optimize.brentq(lambda c: 1 - no_cross([c] * len(t), t, sides) - alpha, 1.5, 4.0,
                           xtol=1e-7)


def monte_carlo_spent(t: np.ndarray, bounds: list[float], sides: int,
                      rng: np.random.Generator, draws: int = 2_000_000) -> list[float]:
    increments = rng.standard_normal((draws, len(t))) * np.sqrt(np.diff(t, prepend=0.0))
    z = np.cumsum(increments, axis=1) / np.sqrt(t)
    stat = np.abs(z) if sides == 2 else z
    crossed = np.maximum.accumulate(stat >= np.array(bounds), axis=1)
    return crossed.mean(axis=0).tolist()


def group_sequential(rng: np.random.Generator) -> list[dict]:
    cases = [
        ("obf_k3_one_sided", 3, 0.025, "obrien_fleming", 1, [3.7103, 2.5114, 1.9930]),
        ("pocock_k3_one_sided", 3, 0.025, "pocock", 1, None),
        ("obf_k3_two_sided", 3, 0.05, "obrien_fleming", 2, [3.7103, 2.5114, 1.9930]),
        ("obf_k5_two_sided", 5, 0.05, "obrien_fleming", 2, None),
        ("pocock_unequal_two_sided", [0.2, 0.45, 0.7, 1.0], 0.05, "pocock", 2, None),
        ("obf_unequal_one_sided", [0.3, 0.6, 1.0], 0.05, "obrien_fleming", 1, None),
    ]
    out = []
    for name, looks, alpha, spending, sides, published in cases:
        t = np.arange(1, looks + 1) / looks if isinstance(looks, int) else np.array(looks)
        bounds = mvn_plan(t, alpha, spending, sides)
        mc = monte_carlo_spent(t, bounds, sides, rng)
        target = sides * spent(t, alpha / sides, spending)
        se = np.sqrt(target * (1 - target) / 2_000_000)
        assert np.all(np.abs(np.array(mc) - target) < 4 * se), (name, mc, target)
        out.append({"name": name, "looks": looks, "alpha": alpha, "spending": spending,
                    "sides": sides, "boundaries": bounds, "alpha_spent": target.tolist(),
                    "nominal_p": (sides * stats.norm.sf(bounds)).tolist(),
                    "monte_carlo_alpha_spent": mc, "published": published})
    t5 = np.arange(1, 6) / 5
    c = mvn_constant(t5, 0.05, 2)
    out.append({"name": "pocock_constant_k5_two_sided", "looks": 5, "alpha": 0.05,
                "spending": "pocock", "sides": 2, "constant": True, "boundaries": [c] * 5,
                "monte_carlo_alpha_spent": monte_carlo_spent(t5, [c] * 5, 2, rng),
                "published": [2.413] * 5})
    return out


def order_values(rng: np.random.Generator, n: int, scale: float) -> list[float]:
    # order values in won, rounded to 100 won as shop prices are (ties included on purpose)
    return (np.round(rng.lognormal(np.log(scale), 0.7, n) / 100) * 100).tolist()


def capping(rng: np.random.Generator) -> list[dict]:
    out = []
    for name, pct in (("p99", 0.99), ("p95", 0.95)):
        c, v = order_values(rng, 400, 35_000), order_values(rng, 420, 38_000)
        cap = float(np.percentile(np.concatenate([c, v]), pct * 100))
        out.append({"name": name, "percentile": pct, "control": c, "variant": v, "cap": cap,
                    "mean_control": float(np.clip(c, None, cap).mean()),
                    "mean_variant": float(np.clip(v, None, cap).mean()),
                    "n_capped": int((np.array(c) > cap).sum() + (np.array(v) > cap).sum())})
    return out


def quantiles(rng: np.random.Generator) -> list[dict]:
    out = []
    for name, q, nc, nv in (("median", 0.5, 300, 320), ("p90", 0.9, 500, 450),
                            ("p25_small", 0.25, 60, 75)):
        c, v = order_values(rng, nc, 30_000), order_values(rng, nv, 33_000)
        res = stats.bootstrap(
            (np.array(c), np.array(v)),
            lambda a, b, axis, q=q: np.percentile(b, q * 100, axis=axis)
            - np.percentile(a, q * 100, axis=axis),
            method="percentile", n_resamples=20_000, confidence_level=0.95,
            vectorized=True, rng=rng)
        out.append({"name": name, "q": q, "control": c, "variant": v,
                    "value_control": float(np.percentile(c, q * 100)),
                    "value_variant": float(np.percentile(v, q * 100)),
                    "ci_low": float(res.confidence_interval.low),
                    "ci_high": float(res.confidence_interval.high)})
    return out


def beta_priors(rng: np.random.Generator) -> list[dict]:
    out = []
    for (nc, sc), (nv, sv), prior in (((200, 18), (210, 29), (20.0, 180.0)),
                                      ((1000, 100), (1000, 130), (2.0, 30.0)),
                                      ((50, 3), (40, 6), (0.5, 0.5))):
        post = [(prior[0] + s, prior[1] + n - s) for n, s in ((nc, sc), (nv, sv))]
        (ac, bc), (av, bv) = post
        draws = 4_000_000
        pc = stats.beta(ac, bc).rvs(draws, random_state=rng)
        pv = stats.beta(av, bv).rvs(draws, random_state=rng)
        out.append({
            "control": {"n": nc, "successes": sc}, "variant": {"n": nv, "successes": sv},
            "prior": list(prior), "posterior_control": [ac, bc], "posterior_variant": [av, bv],
            "posterior_mean_control": float(stats.beta(ac, bc).mean()),
            "posterior_var_control": float(stats.beta(ac, bc).var()),
            "prob_beat_control": float((pv > pc).mean()),
            "expected_loss": float(np.maximum(pc - pv, 0).mean()),
            "expected_loss_control": float(np.maximum(pv - pc, 0).mean())})
    return out


def normal_priors(rng: np.random.Generator) -> list[dict]:
    out = []
    for n, shift, prior in ((400, 1.0, (0.0, 1.0)), (150, 2.5, (1.0, 0.5)),
                            (2000, -0.3, (0.0, 0.2))):
        c = rng.normal(10.0, 11.0, n)
        v = rng.normal(10.0 + shift, 11.5, n + 17)
        d = v.mean() - c.mean()
        se = np.sqrt(c.var(ddof=1) / c.size + v.var(ddof=1) / v.size)

        def post(x: float, d: float = d, se: float = se, prior=prior) -> float:
            return stats.norm.pdf(x, d, se) * stats.norm.pdf(x, *prior)

        lo, hi = min(d, prior[0]) - 12 * max(se, prior[1]), max(d, prior[0]) + 12 * max(
            se, prior[1])
        opts = {"epsabs": 0, "epsrel": 1e-12, "limit": 200, "points": [d, prior[0], 0.0]}
        z = integrate.quad(post, lo, hi, **opts)[0]
        mean = integrate.quad(lambda x: x * post(x), lo, hi, **opts)[0] / z
        var = integrate.quad(lambda x, m=mean: (x - m) ** 2 * post(x), lo, hi, **opts)[0] / z
        out.append({
            "control": {"n": c.size, "sum": float(c.sum()), "sum_sq": float((c * c).sum())},
            "variant": {"n": v.size, "sum": float(v.sum()), "sum_sq": float((v * v).sum())},
            "prior": list(prior), "posterior_mean": mean, "posterior_sd": float(np.sqrt(var)),
            "prob_beat_control": integrate.quad(post, 0.0, hi, epsabs=0, epsrel=1e-12,
                                                limit=200)[0] / z,
            "expected_loss": integrate.quad(lambda x: -x * post(x), lo, 0.0, epsabs=0,
                                            epsrel=1e-12, limit=200)[0] / z})
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    ref = {"group_sequential": group_sequential(rng), "capping": capping(rng),
           "quantiles": quantiles(rng), "beta_priors": beta_priors(rng),
           "normal_priors": normal_priors(rng)}
    OUT.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
