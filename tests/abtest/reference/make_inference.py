"""Compute golden values for the inference additions of workbench.abtest (issue 17, point 5).

Run from the repository root (it prints nothing; the output is deterministic)::

    .venv/bin/python tests/abtest/reference/make_inference.py

It writes ``tests/abtest/reference/inference.json`` with independent statsmodels results:

* corrections: ``statsmodels.stats.multitest.multipletests`` with methods ``bonferroni``,
  ``sidak`` and ``hommel`` (plus ``holm`` and ``fdr_bh`` as a cross-check), and its
  corrected alphas ``alphacSidak`` / ``alphacBonf`` for the readout's decision levels;
* non-inferiority of rates: ``statsmodels.stats.proportion.test_proportions_2indep`` with
  ``method="wald"`` (unpooled Wald z, the test ours implements), ``value=-margin`` and
  ``alternative="larger"`` (``value=+margin``, ``"smaller"`` when lower is better), and the
  ``1 - 2 alpha`` interval from ``confint_proportions_2indep(method="wald")``;
* non-inferiority of means: ``statsmodels.stats.weightstats.ttest_ind`` with
  ``usevar="unequal"`` (Welch), the same ``value`` and ``alternative``, and the interval from
  ``CompareMeans.tconfint_diff(usevar="unequal")`` on the raw samples drawn here with fixed
  seeds; the JSON stores each arm's sufficient statistics (what workbench.abtest consumes).

The statistic is stored as statsmodels reports it (``(d - value) / se``); ours is oriented so
that a positive value favours non-inferiority, i.e. negated when lower is better.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

OUT = Path(__file__).with_name("inference.json")
ALPHA = 0.05
METHODS = {"bonferroni": "bonferroni", "sidak": "sidak", "hommel": "hommel", "holm": "holm",
           "bh": "fdr_bh"}


def p_value_vectors() -> list[list[float]]:
    rng = np.random.default_rng(20261207)
    return [
        [0.01, 0.04, 0.03],
        [0.3],
        [0.02, 0.02, 0.02, 0.5, 0.01],                      # ties
        [1.0, 0.001, 0.2, 1.0, 0.049],                      # p = 1, twice
        [1e-12, 3e-9, 0.004, 0.03, 0.03, 0.7, 1.0],          # tiny p (Sidak's expm1), ties
        [0.011, 0.012, 0.013, 0.014, 0.015, 0.016],          # Hommel rejects all, Holm none
        [0.04, 0.04, 0.04, 0.04],                            # all tied
        rng.uniform(0, 0.2, 12).round(6).tolist(),
        rng.beta(0.3, 2.0, 25).tolist(),
    ]


def corrections() -> list[dict]:
    cases = []
    for p in p_value_vectors():
        case: dict = {"p": [float(x) for x in p]}
        for name, method in METHODS.items():
            reject, adj, alpha_sidak, alpha_bonf = multipletests(p, alpha=ALPHA, method=method)
            case[name] = [float(x) for x in adj]
            case[f"reject_{name}"] = [bool(x) for x in reject]
        case["alpha_sidak"], case["alpha_bonferroni"] = float(alpha_sidak), float(alpha_bonf)
        cases.append(case)
    return cases


PROPORTION_CASES = [
    # (n_c, x_c, n_v, x_v, margin, alpha, higher_is_better)
    (10_000, 40, 10_000, 44, 0.002, 0.05, False),     # the docstring's opt-out example
    (10_000, 40, 10_000, 48, 0.002, 0.05, False),
    (5_000, 600, 5_200, 590, 0.01, 0.05, True),
    (800, 96, 750, 70, 0.03, 0.025, True),
    (20_000, 3_100, 19_500, 3_150, 0.005, 0.1, True),
    (3_000, 15, 3_100, 9, 0.004, 0.05, False),
    (1_200, 0, 1_150, 3, 0.01, 0.05, False),           # one arm with no events
]


def proportions() -> list[dict]:
    cases = []
    for nc, xc, nv, xv, margin, alpha, hib in PROPORTION_CASES:
        value, alt = (-margin, "larger") if hib else (margin, "smaller")
        r = test_proportions_2indep(xv, nv, xc, nc, value=value, compare="diff",
                                    alternative=alt, method="wald")
        low, high = confint_proportions_2indep(xv, nv, xc, nc, method="wald", compare="diff",
                                               alpha=2 * alpha)
        cases.append({"control": {"n": nc, "successes": xc},
                      "variant": {"n": nv, "successes": xv},
                      "margin": margin, "alpha": alpha, "higher_is_better": hib,
                      "estimate": float(r.diff), "statistic": float(r.statistic),
                      "p_value": float(r.pvalue), "ci": [float(low), float(high)],
                      "std_error": float(np.sqrt(r.variance)),
                      "non_inferior": bool(r.pvalue < alpha)})
    return cases


def skewed(rng: np.random.Generator, n: int, rate: float, mean: float) -> np.ndarray:
    """Revenue per customer: zero for non-buyers, log-normal spend for buyers."""
    buy = rng.random(n) < rate
    return np.where(buy, rng.lognormal(np.log(mean), 0.8, n), 0.0)


def sufficient(x: np.ndarray) -> dict:
    return {"n": int(x.size), "sum": float(x.sum()), "sum_sq": float((x * x).sum())}


def means() -> list[dict]:
    rng = np.random.default_rng(17)
    samples = [
        (rng.normal(50, 12, 400), rng.normal(49, 15, 380), 3.0, 0.05, True),
        (skewed(rng, 3_000, 0.08, 60.0), skewed(rng, 2_900, 0.075, 62.0), 1.0, 0.05, True),
        (rng.normal(2.0, 0.5, 60), rng.normal(2.1, 0.9, 45), 0.3, 0.025, False),
        (rng.gamma(2.0, 5.0, 1_500), rng.gamma(2.0, 5.3, 1_600), 0.5, 0.1, False),
        (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0, 3.0]), 3.0, 0.05, True),
    ]
    cases = []
    for c, v, margin, alpha, hib in samples:
        value, alt = (-margin, "larger") if hib else (margin, "smaller")
        t, p, df = ttest_ind(v, c, alternative=alt, usevar="unequal", value=value)
        cm = CompareMeans(DescrStatsW(v), DescrStatsW(c))
        low, high = cm.tconfint_diff(alpha=2 * alpha, usevar="unequal")
        cases.append({"control": sufficient(c), "variant": sufficient(v), "margin": margin,
                      "alpha": alpha, "higher_is_better": hib,
                      "estimate": float(v.mean() - c.mean()), "statistic": float(t),
                      "p_value": float(p), "df": float(df), "ci": [float(low), float(high)],
                      "std_error": float(cm.std_meandiff_separatevar),
                      "non_inferior": bool(p < alpha)})
    return cases


def main() -> None:
    # statsmodels warns about p = 1 (Sidak's log1p(-1)) and a zero rate (its unused ratio);
    # neither touches the values stored, and the script prints nothing.
    warnings.simplefilter("ignore", RuntimeWarning)
    ref = {"corrections": corrections(), "proportions": proportions(), "means": means()}
    OUT.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
