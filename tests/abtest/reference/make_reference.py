"""Compute golden values for workbench.abtest with scipy and statsmodels (independent code).

Run from the repository root::

    .venv/bin/python tests/abtest/reference/make_reference.py

It writes ``tests/abtest/reference/reference.json``. Raw samples are drawn here with fixed
seeds; the JSON stores each arm's sufficient statistics (what workbench.abtest consumes) next
to the reference results computed from the raw samples by scipy / statsmodels:

* proportions: ``statsmodels.stats.proportion.proportions_ztest`` (pooled z),
  ``confint_proportions_2indep`` (``newcomb``), ``scipy.stats.fisher_exact``, and the score
  interval that inverts the pooled z test (Mee 1984) by brute force with scipy: the restricted
  maximum likelihood by ``brentq`` on the score equation, the limits by ``brentq`` on
  ``|z(delta)| = z_crit`` (:func:`score_ci`). statsmodels 0.15's
  ``confint_proportions_2indep(method="score", correction=False)`` is not used: with unequal
  arms its restricted estimates had a far lower likelihood than the true maximum (checked
  with ``minimize_scalar``), e.g. 411/433 vs 615/2469 at delta 0.67;
* relative lift and ratio metrics: ``statsmodels.stats._delta_method.NonlinearDeltaCov``
  (numerical-gradient delta method) on the estimated means and their covariance;
* means: ``scipy.stats.ttest_ind(equal_var=False)`` and its ``confidence_interval``;
* CUPED: theta from ``numpy.cov`` of the pooled sample, the adjusted samples compared by
  ``scipy.stats.ttest_ind(equal_var=False)``;
* power: ``samplesize_proportions_2indep_onetail``, ``NormalIndPower().solve_power`` and, for
  the MDE, ``scipy.optimize.brentq`` on the statsmodels sample size;
* SRM: ``scipy.stats.chisquare``; corrections: ``statsmodels.stats.multitest.multipletests``;
* Bayesian: Monte Carlo with 4,000,000 posterior draws;
* bootstrap: ``scipy.stats.bootstrap`` (percentile) on the stored raw values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import optimize, stats
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

OUT = Path(__file__).with_name("reference.json")
ALPHA = 0.05


def lift_delta(c: float, v: float, var_c: float, var_v: float) -> dict:
    if c == 0:
        return {"lift": None, "lift_ci_low": None, "lift_ci_high": None}
    d = NonlinearDeltaCov(lambda p: np.array([p[1] / p[0] - 1.0]), np.array([c, v]),
                          np.diag([var_c, var_v]))
    est, se = float(d.predicted()[0]), float(d.se_vectorized()[0])
    z = stats.norm.ppf(1 - ALPHA / 2)
    return {"lift": est, "lift_ci_low": est - z * se, "lift_ci_high": est + z * se}


def score_ci(xc: int, nc: int, xv: int, nv: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Return the score interval of ``p_v - p_c`` by brute-force inversion of the score test."""
    d, z = xv / nv - xc / nc, stats.norm.isf(alpha / 2)

    def restricted(delta: float) -> float:
        # p_c maximising the likelihood under p_v = p_c + delta (log-likelihood is concave).
        lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)

        def score(q: float) -> float:
            out = 0.0
            for x, n, p in ((xv, nv, q + delta), (xc, nc, q)):
                out += (x / p if x else 0.0) - ((n - x) / (1 - p) if n - x else 0.0)
            return out

        a, b = lo + 1e-15, hi - 1e-15
        if b <= a:  # delta = +-1 leaves one point
            return lo
        if score(a) <= 0:
            return lo
        if score(b) >= 0:
            return hi
        return optimize.brentq(score, a, b, xtol=1e-16)

    def excess(delta: float) -> float:
        q = restricted(delta)
        var = q * (1 - q) / nc + (q + delta) * (1 - q - delta) / nv
        if var <= 0:
            return -z if delta == d else np.inf
        return abs(d - delta) / np.sqrt(var) - z

    low = -1.0 if excess(-1.0) <= 0 else optimize.brentq(excess, -1.0, d, xtol=1e-15)
    high = 1.0 if excess(1.0) <= 0 else optimize.brentq(excess, d, 1.0, xtol=1e-15)
    return float(low), float(high)


def proportion_case(name: str, xc: int, nc: int, xv: int, nv: int, exact: bool) -> dict:
    pc, pv = xc / nc, xv / nv
    _, p_z = proportions_ztest([xv, xc], [nv, nc])
    if exact:
        p = stats.fisher_exact([[xv, nv - xv], [xc, nc - xc]]).pvalue
        low, high = confint_proportions_2indep(xv, nv, xc, nc, method="newcomb",
                                               compare="diff", alpha=ALPHA)
    else:
        p = p_z
        low, high = score_ci(xc, nc, xv, nv)
    out = {"name": name, "control": {"n": nc, "successes": xc},
           "variant": {"n": nv, "successes": xv}, "exact": exact,
           "effect": pv - pc, "ci_low": float(low), "ci_high": float(high),
           "p_value": float(p)}
    out.update(lift_delta(pc, pv, pc * (1 - pc) / nc, pv * (1 - pv) / nv))
    return out


def mean_stats(x: np.ndarray) -> dict:
    return {"n": int(x.size), "sum": float(x.sum()), "sum_sq": float((x * x).sum())}


def welch_case(name: str, c: np.ndarray, v: np.ndarray) -> dict:
    res = stats.ttest_ind(v, c, equal_var=False)
    ci = res.confidence_interval(1 - ALPHA)
    out = {"name": name, "control": mean_stats(c), "variant": mean_stats(v),
           "effect": float(v.mean() - c.mean()), "ci_low": float(ci.low),
           "ci_high": float(ci.high), "p_value": float(res.pvalue)}
    out.update(lift_delta(c.mean(), v.mean(), c.var(ddof=1) / c.size, v.var(ddof=1) / v.size))
    return out


def ratio_stats(x: np.ndarray, y: np.ndarray) -> dict:
    return {"n": int(x.size), "sum_x": float(x.sum()), "sum_y": float(y.sum()),
            "sum_x_sq": float((x * x).sum()), "sum_y_sq": float((y * y).sum()),
            "sum_xy": float((x * y).sum())}


def ratio_var(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    cov = np.cov(np.vstack([x, y]), ddof=1) / x.size
    d = NonlinearDeltaCov(lambda p: np.array([p[0] / p[1]]), np.array([x.mean(), y.mean()]), cov)
    return float(d.predicted()[0]), float(d.se_vectorized()[0]) ** 2


def ratio_case(name: str, xc, yc, xv, yv) -> dict:
    rc, vc = ratio_var(xc, yc)
    rv, vv = ratio_var(xv, yv)
    se = np.sqrt(vc + vv)
    z = stats.norm.ppf(1 - ALPHA / 2)
    out = {"name": name, "control": ratio_stats(xc, yc), "variant": ratio_stats(xv, yv),
           "effect": rv - rc, "ci_low": rv - rc - z * se, "ci_high": rv - rc + z * se,
           "p_value": float(2 * stats.norm.sf(abs(rv - rc) / se))}
    out.update(lift_delta(rc, rv, vc, vv))
    return out


def cuped_case(name: str, yc, xc, yv, xv) -> dict:
    y_all, x_all = np.concatenate([yc, yv]), np.concatenate([xc, xv])
    cov = np.cov(y_all, x_all, ddof=1)
    theta = cov[0, 1] / cov[1, 1]
    adj_c = yc - theta * (xc - x_all.mean())
    adj_v = yv - theta * (xv - x_all.mean())
    res = stats.ttest_ind(adj_v, adj_c, equal_var=False)
    ci = res.confidence_interval(1 - ALPHA)
    var_adj = adj_c.var(ddof=1) / adj_c.size + adj_v.var(ddof=1) / adj_v.size
    var_raw = yc.var(ddof=1) / yc.size + yv.var(ddof=1) / yv.size

    def s(y, x):
        return {"n": int(y.size), "sum_y": float(y.sum()), "sum_y_sq": float((y * y).sum()),
                "sum_x": float(x.sum()), "sum_x_sq": float((x * x).sum()),
                "sum_xy": float((x * y).sum())}

    return {"name": name, "control": s(yc, xc), "variant": s(yv, xv),
            "effect": float(adj_v.mean() - adj_c.mean()), "ci_low": float(ci.low),
            "ci_high": float(ci.high), "p_value": float(res.pvalue),
            "variance_reduction": float(1 - var_adj / var_raw)}


def skewed_revenue(rng, n, buy, scale):
    bought = rng.random(n) < buy
    return np.where(bought, np.round(rng.lognormal(np.log(scale), 1.0, n)), 0.0)


def main() -> None:
    rng = np.random.default_rng(20261201)
    ref: dict[str, list] = {}

    ref["proportions"] = [
        proportion_case("tiny_12of40_vs_19of41", 12, 40, 19, 41, exact=False),
        proportion_case("tiny_12of40_vs_19of41_exact", 12, 40, 19, 41, exact=True),
        proportion_case("zero_in_control_small", 0, 500, 5, 500, exact=True),
        proportion_case("zero_in_variant_small", 4, 300, 0, 310, exact=True),
        proportion_case("zero_in_control_large", 0, 1000, 12, 1000, exact=False),
        proportion_case("million_per_arm", 50_000, 1_000_000, 50_500, 1_000_000, exact=False),
        proportion_case("basic_100_vs_130", 100, 1000, 130, 1000, exact=False),
        proportion_case("small_3of20_vs_8of22", 3, 20, 8, 22, exact=True),
        proportion_case("unequal_sizes", 200, 10_000, 45, 1_500, exact=False),
        proportion_case("three_arms_A", 300, 5000, 330, 5000, exact=False),
        proportion_case("three_arms_B", 300, 5000, 370, 5000, exact=False),
        proportion_case("negative_effect", 620, 9000, 540, 9100, exact=False),
    ]

    ref["welch"] = [
        welch_case("skewed_revenue", skewed_revenue(rng, 5000, 0.06, 40_000),
                   skewed_revenue(rng, 5000, 0.07, 42_000)),
        welch_case("skewed_revenue_unequal", skewed_revenue(rng, 20_000, 0.05, 30_000),
                   skewed_revenue(rng, 2_000, 0.06, 30_000)),
        welch_case("small_normal_35", rng.normal(10, 3, 35), rng.normal(11, 5, 35)),
        welch_case("large_200k", skewed_revenue(rng, 200_000, 0.1, 20_000),
                   skewed_revenue(rng, 200_000, 0.1, 20_500)),
        welch_case("negative", rng.normal(100, 20, 800), rng.normal(97, 25, 900)),
    ]

    def orders_and_revenue(n, lam, scale):
        orders = rng.poisson(lam, n).astype(float)
        revenue = np.array([rng.lognormal(np.log(scale), 0.6, int(k)).sum() for k in orders])
        return np.round(revenue), orders

    ref["ratios"] = []
    for name, n, lam, sc, sv in (("aov_basic", 4000, 0.3, 30_000, 32_000),
                                 ("aov_small", 60, 0.8, 25_000, 25_000),
                                 ("aov_unequal", 3000, 0.5, 40_000, 38_000)):
        xc, yc = orders_and_revenue(n, lam, sc)
        xv, yv = orders_and_revenue(n + 500, lam, sv)
        ref["ratios"].append(ratio_case(name, xc, yc, xv, yv))
    sent = 20_000
    opened_c = (rng.random(sent) < 0.40).astype(float)
    opened_v = (rng.random(sent) < 0.42).astype(float)
    ones = np.ones(sent)
    ref["ratios"].append(ratio_case("open_rate", opened_c, ones, opened_v, ones))

    ref["cuped"] = []
    for name, n, rho, effect in (("cuped_strong", 5000, 0.7, 300.0), ("cuped_weak", 3000, 0.2, 0.0),
                                 ("cuped_skewed", 8000, None, 500.0)):
        if rho is None:
            xc = skewed_revenue(rng, n, 0.3, 30_000)
            xv = skewed_revenue(rng, n, 0.3, 30_000)
            yc = 0.4 * xc + skewed_revenue(rng, n, 0.1, 20_000)
            yv = 0.4 * xv + skewed_revenue(rng, n, 0.1, 20_000) + effect * (rng.random(n) < 0.2)
        else:
            cov = [[1.0, rho], [rho, 1.0]]
            zc = rng.multivariate_normal([0, 0], cov, n) * 1000 + 5000
            zv = rng.multivariate_normal([0, 0], cov, n) * 1000 + 5000
            yc, xc = zc[:, 0], zc[:, 1]
            yv, xv = zv[:, 0] + effect, zv[:, 1]
        ref["cuped"].append(cuped_case(name, yc, xc, yv, xv))

    ref["sample_size"] = []
    for base, mde, ratio in ((0.05, 0.10, 1.0), (0.02, 0.20, 1.0), (0.30, 0.05, 1.0),
                             (0.10, -0.10, 1.0), (0.05, 0.10, 2.0), (0.01, 0.50, 0.5)):
        treated = base * (1 + mde)
        # statsmodels: prop2 is the reference with nobs2 = ratio * nobs1; our control has n and
        # the variant ratio * n, so swap the roles (see workbench/abtest/power.py).
        n = samplesize_proportions_2indep_onetail(base - treated, treated, 0.8, ratio=ratio,
                                                  alpha=ALPHA, alternative="two-sided")
        ref["sample_size"].append({"baseline": base, "mde": mde, "ratio": ratio,
                                   "n": float(n)})
    ref["sample_size_mean"] = []
    for d, sd, ratio in ((0.1, 1.0, 1.0), (500.0, 20_000.0, 1.0), (2.0, 10.0, 3.0)):
        n = NormalIndPower().solve_power(effect_size=d / sd, alpha=ALPHA, power=0.8,
                                         ratio=ratio, alternative="two-sided")
        ref["sample_size_mean"].append({"mde_abs": d, "sd": sd, "ratio": ratio, "n": float(n)})
    ref["mde"] = []
    for n_arm, base in ((31_234, 0.05), (5_000, 0.02), (100_000, 0.10), (800, 0.3)):
        def gap(p2, n_arm=n_arm, base=base):
            return samplesize_proportions_2indep_onetail(
                base - p2, p2, 0.8, ratio=1.0, alpha=ALPHA) - n_arm
        p2 = optimize.brentq(gap, base * (1 + 1e-6), 0.999999, xtol=1e-14)
        ref["mde"].append({"n": n_arm, "baseline": base, "mde": p2 / base - 1})

    ref["srm"] = []
    for name, counts, shares in (
            ("51_49_at_100k", {"control": 51_000, "B": 49_000}, {"control": 0.5, "B": 0.5}),
            ("50_2_49_8_fine", {"control": 50_200, "B": 49_800}, {"control": 0.5, "B": 0.5}),
            ("holdout_three_arms", {"holdout": 2009, "A": 9000, "B": 8953},
             {"holdout": 0.1, "A": 0.45, "B": 0.45}),
            ("three_arms_off", {"control": 3400, "A": 3300, "B": 3000},
             {"control": 1 / 3, "A": 1 / 3, "B": 1 / 3})):
        total = sum(counts.values())
        res = stats.chisquare(list(counts.values()),
                              [total * shares[k] for k in counts])
        ref["srm"].append({"name": name, "observed": counts, "shares": shares,
                           "chi2": float(res.statistic), "p_value": float(res.pvalue)})

    ref["multiple"] = []
    for p in ([0.01, 0.04, 0.03, 0.005], [0.2, 0.001, 0.049, 0.5, 0.03, 0.012],
              [0.05, 0.05, 0.05], list(rng.uniform(0, 0.2, 12))):
        ref["multiple"].append({"p": [float(x) for x in p],
                                "holm": multipletests(p, method="holm")[1].tolist(),
                                "bh": multipletests(p, method="fdr_bh")[1].tolist()})

    ref["bayes"] = []
    draws = 4_000_000
    for xc, nc, xv, nv in ((100, 1000, 130, 1000), (12, 40, 19, 41), (0, 50, 3, 50),
                           (50_000, 1_000_000, 50_300, 1_000_000)):
        a = rng.beta(1 + xc, 1 + nc - xc, draws)
        b = rng.beta(1 + xv, 1 + nv - xv, draws)
        ref["bayes"].append({"control": {"n": nc, "successes": xc},
                             "variant": {"n": nv, "successes": xv},
                             "prob_beat_control": float((b > a).mean()),
                             "expected_loss": float(np.maximum(a - b, 0).mean()),
                             "expected_loss_control": float(np.maximum(b - a, 0).mean())})

    c = skewed_revenue(rng, 500, 0.3, 10_000)
    v = skewed_revenue(rng, 500, 0.35, 10_000)
    boot = stats.bootstrap((v, c), lambda x, y: x.mean() - y.mean(), method="percentile",
                           n_resamples=20_000, random_state=1, vectorized=False)
    ref["bootstrap"] = [{"control": c.tolist(), "variant": v.tolist(),
                         "ci_low": float(boot.confidence_interval.low),
                         "ci_high": float(boot.confidence_interval.high)}]

    OUT.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")
    counts = {k: len(v) for k, v in ref.items()}
    print(f"wrote {OUT} with {sum(counts.values())} cases: {counts}")


if __name__ == "__main__":
    main()
