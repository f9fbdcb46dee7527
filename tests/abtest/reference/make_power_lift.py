"""Golden values for power at a given size and the always-valid relative lift (independent code).

Run from the repository root::

    .venv/bin/python tests/abtest/reference/make_power_lift.py

It writes ``tests/abtest/reference/power_lift.json``. Nothing here imports workbench.

* power of the two-proportion z test: ``statsmodels.stats.proportion.power_proportions_2indep``
  (pooled variance under the null, unpooled under the alternative: the formula of
  ``samplesize_proportions_2indep_onetail``, which the sample-size golden values use). Roles
  are swapped as in make_reference.py: statsmodels' ``prop1 = prop2 + diff`` has ``nobs1``
  customers, so ``prop1`` is our control and ``prop2`` the treated rate with
  ``ratio * nobs1`` customers. The duration form's sizes are worked out here:
  ``n_control = daily * days * share_control``, ``ratio = share_variant / share_control``;
* power for a mean: ``statsmodels.stats.power.NormalIndPower().power`` with
  ``effect_size = mde / sd``;
* fixed-horizon interval and p-value of the log ratio of two rates:
  ``confint_proportions_2indep`` and ``test_proportions_2indep`` with
  ``compare="ratio", method="log"``; of two means: ``NonlinearDeltaCov`` on
  ``log(m_v / m_c)`` from the raw samples (drawn here with a fixed seed);
* always-valid interval and p-value: the mSPRT of Johari et al. (KDD 2017; Operations
  Research 2022) written out below from the paper's closed form, with a normal mixture
  ``N(0, tau^2)`` and data variance ``sigma^2``::

      Lambda_n(theta0) = sqrt(sigma^2 / (sigma^2 + n tau^2))
                         * exp(n^2 tau^2 (xbar - theta0)^2 / (2 sigma^2 (sigma^2 + n tau^2)))

  p-value ``min(1, 1 / Lambda_n(0))``; interval ``{theta0 : Lambda_n(theta0) < 1 / alpha}``
  found by ``brentq`` on both sides. On the log scale ``xbar`` is the log ratio, ``n`` the
  customers in both arms and ``sigma^2 = n se^2``. The mixing variance is
  ``tau^2 = sigma^2 (-2 log(alpha) + log(1 - 2 log(alpha))) / n_star`` (eq. (C.4) in
  Waudby-Smith et al. 2024), the value that makes the interval tightest at ``n = n_star``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy import optimize, stats
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    test_proportions_2indep,
)

OUT = Path(__file__).with_name("power_lift.json")


def proportion_power(base, mde, n, ratio, alpha, two_sided):
    treated = base * (1 + mde)
    alternative = "two-sided" if two_sided else ("smaller" if mde > 0 else "larger")
    return float(power_proportions_2indep(base - treated, treated, n, ratio=ratio, alpha=alpha,
                                          alternative=alternative, return_results=False))


def mean_power(sd, mde, n, ratio, alpha, two_sided):
    alternative = "two-sided" if two_sided else ("larger" if mde > 0 else "smaller")
    return float(NormalIndPower().power(effect_size=mde / sd, nobs1=n, alpha=alpha, ratio=ratio,
                                        alternative=alternative))


def msprt(theta_hat: float, se: float, n: int, alpha: float, n_star: float) -> dict:
    """Always-valid p-value and interval of ``theta`` by the mSPRT (Johari et al.)."""
    sigma2 = n * se * se
    la = -2 * math.log(alpha)
    tau2 = sigma2 * (la + math.log(la + 1)) / n_star

    def log_lambda(theta0: float) -> float:
        return (0.5 * math.log(sigma2 / (sigma2 + n * tau2))
                + n * n * tau2 * (theta_hat - theta0) ** 2
                / (2 * sigma2 * (sigma2 + n * tau2)))

    def gap(theta0: float) -> float:
        return log_lambda(theta0) - math.log(1 / alpha)

    width = 50 * se
    low = optimize.brentq(gap, theta_hat - width, theta_hat, xtol=1e-15, rtol=1e-14)
    high = optimize.brentq(gap, theta_hat, theta_hat + width, xtol=1e-15, rtol=1e-14)
    return {"p_value": min(1.0, math.exp(-log_lambda(0.0))),
            "ci_low": math.expm1(low), "ci_high": math.expm1(high)}


def proportion_lift(xc, nc, xv, nv, alpha, n_star) -> dict:
    low, high = confint_proportions_2indep(xv, nv, xc, nc, compare="ratio", method="log",
                                           alpha=alpha)
    p_fixed = test_proportions_2indep(xv, nv, xc, nc, compare="ratio", method="log").pvalue
    theta = math.log((xv / nv) / (xc / nc))
    z = stats.norm.isf(alpha / 2)
    se = (math.log(high) - math.log(low)) / (2 * z)
    return {"kind": "proportion", "control": {"n": nc, "successes": xc},
            "variant": {"n": nv, "successes": xv}, "alpha": alpha, "n_star": n_star,
            "lift": math.expm1(theta), "std_error": se, "fixed_ci_low": float(low) - 1,
            "fixed_ci_high": float(high) - 1, "fixed_p_value": float(p_fixed),
            **msprt(theta, se, nc + nv, alpha, n_star)}


def mean_lift(c: np.ndarray, v: np.ndarray, alpha: float, n_star: float) -> dict:
    cov = np.diag([c.var(ddof=1) / c.size, v.var(ddof=1) / v.size])
    d = NonlinearDeltaCov(lambda m: np.array([np.log(m[1] / m[0])]),
                          np.array([c.mean(), v.mean()]), cov)
    theta, se = float(d.predicted()[0]), float(d.se_vectorized()[0])
    z = stats.norm.isf(alpha / 2)

    def s(x):
        return {"n": int(x.size), "sum": float(x.sum()), "sum_sq": float((x * x).sum())}

    return {"kind": "mean", "control": s(c), "variant": s(v), "alpha": alpha, "n_star": n_star,
            "lift": math.expm1(theta), "std_error": se,
            "fixed_ci_low": math.expm1(theta - z * se), "fixed_ci_high": math.expm1(theta + z * se),
            "fixed_p_value": float(2 * stats.norm.sf(abs(theta) / se)),
            **msprt(theta, se, c.size + v.size, alpha, n_star)}


def main() -> None:
    ref: dict[str, list] = {"power_proportions": [], "power_means": [], "lift": []}
    for base, mde, n, ratio, alpha, two in (
            (0.05, 0.10, 31_234, 1.0, 0.05, True), (0.05, 0.10, 10_000, 1.0, 0.05, True),
            (0.02, 0.20, 5_000, 2.0, 0.05, True), (0.30, -0.05, 8_000, 1.0, 0.10, True),
            (0.10, 0.15, 3_000, 0.5, 0.05, False), (0.10, -0.10, 3_000, 1.0, 0.01, False),
            (0.4, 0.5, 40, 1.0, 0.2, True)):
        ref["power_proportions"].append({"baseline": base, "mde": mde, "n_per_arm": n,
                                         "ratio": ratio, "alpha": alpha, "two_sided": two,
                                         "power": proportion_power(base, mde, n, ratio, alpha,
                                                                   two)})
    for base, mde, daily, days, shares in ((0.05, 0.10, 2_000, 14, (0.5, 0.5)),
                                           (0.03, 0.10, 5_000, 28, (0.1, 0.45)),
                                           (0.20, -0.08, 800, 21, (0.3, 0.3))):
        n, ratio = daily * days * shares[0], shares[1] / shares[0]
        ref["power_proportions"].append({"baseline": base, "mde": mde, "daily_customers": daily,
                                         "days": days, "shares": list(shares), "alpha": 0.05,
                                         "two_sided": True,
                                         "power": proportion_power(base, mde, n, ratio, 0.05,
                                                                   True)})
    for sd, mde, n, ratio, alpha, two in ((1.0, 0.1, 1570, 1.0, 0.05, True),
                                          (20_000.0, 500.0, 10_000, 1.0, 0.05, True),
                                          (10.0, -2.0, 50, 3.0, 0.05, True),
                                          (10.0, 1.0, 400, 1.0, 0.1, False)):
        ref["power_means"].append({"sd": sd, "mde_abs": mde, "n_per_arm": n, "ratio": ratio,
                                   "alpha": alpha, "two_sided": two,
                                   "power": mean_power(sd, mde, n, ratio, alpha, two)})
    ref["power_means"].append({"sd": 20_000.0, "mde_abs": 500.0, "daily_customers": 3_000,
                               "days": 28, "shares": [0.1, 0.9], "alpha": 0.05,
                               "two_sided": True,
                               "power": mean_power(20_000.0, 500.0, 3_000 * 28 * 0.1, 9.0, 0.05,
                                                   True)})

    for xc, nc, xv, nv, alpha, n_star in ((500, 5000, 580, 5000, 0.05, 10_000),
                                          (100, 1000, 130, 1000, 0.05, 2_000),
                                          (2_000, 40_000, 2_150, 40_000, 0.05, 10_000),
                                          (620, 9000, 540, 9100, 0.10, 50_000),
                                          (12, 40, 19, 41, 0.05, 100),
                                          (200, 10_000, 45, 1_500, 0.01, 5_000)):
        ref["lift"].append(proportion_lift(xc, nc, xv, nv, alpha, n_star))
    rng = np.random.default_rng(20261207)
    for n_c, n_v, scale_v, alpha, n_star in ((3000, 3000, 1.1, 0.05, 10_000),
                                             (800, 1200, 0.95, 0.05, 2_000)):
        c = np.round(rng.lognormal(np.log(30_000), 1.0, n_c) * (rng.random(n_c) < 0.3))
        v = np.round(rng.lognormal(np.log(30_000 * scale_v), 1.0, n_v)
                     * (rng.random(n_v) < 0.3))
        ref["lift"].append(mean_lift(c, v, alpha, n_star))

    OUT.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} with {sum(len(v) for v in ref.values())} cases")


if __name__ == "__main__":
    main()
