"""Compute golden values for the shrinkage of lift by segment (issue 17, point 3).

Run from the repository root (it prints nothing; the output is deterministic)::

    .venv/bin/python tests/abtest/reference/make_segments.py

It writes ``tests/abtest/reference/segments.json``. For each case (per-segment effects and
their sampling variances: differences of conversion rates drawn with fixed seeds, with the
unpooled variance ``p_c (1 - p_c) / n_c + p_v (1 - p_v) / n_v``) it stores
``statsmodels.stats.meta_analysis.combine_effects`` with ``method_re="chi2"``
(DerSimonian-Laird) and ``method_re="iterated"`` (Paule-Mandel): ``tau2``, the random-effects
mean and its standard error. statsmodels does not truncate a DerSimonian-Laird ``tau2``
below 0 (its random-effects mean then uses the negative value); the reference for that case
is ``tau2 = 0`` and statsmodels' fixed-effect mean and standard error, which is what the
truncated estimator gives.

The shrunk estimates are the empirical-Bayes posterior means and variances of the
normal-normal model (Morris 1983, JASA 78, 47-55, section 3) evaluated on statsmodels'
``tau2`` and mean: ``mu + tau2 / (tau2 + v) (y - mu)`` and
``v tau2 / (tau2 + v) + (v / (tau2 + v))^2 se_mu^2``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

OUT = Path(__file__).with_name("segments.json")


def _case(seed: int, rates_c: list[float], lifts: list[float], sizes: list[int]) -> dict:
    gen = np.random.default_rng(seed)
    n = np.asarray(sizes)
    pc, pv = np.asarray(rates_c), np.asarray(rates_c) * (1 + np.asarray(lifts))
    xc, xv = gen.binomial(n, pc), gen.binomial(n, pv)
    rc, rv = xc / n, xv / n
    y = rv - rc
    v = rc * (1 - rc) / n + rv * (1 - rv) / n
    out = {"n": n.tolist(), "conversions_control": xc.tolist(),
           "conversions_variant": xv.tolist(), "effects": y.tolist(), "variances": v.tolist()}
    for ours, theirs in (("dl", "chi2"), ("pm", "iterated")):
        r = combine_effects(y, v, method_re=theirs)
        if r.tau2 > 0:
            tau2, mu, se = float(r.tau2), float(r.mean_effect_re), float(r.sd_eff_w_re)
        else:
            tau2, mu, se = 0.0, float(r.mean_effect_fe), float(r.sd_eff_w_fe)
        s = v / (v + tau2)
        shrunk = mu + (1 - s) * (y - mu)
        var = v * (1 - s) + s**2 * se**2
        out[ours] = {"tau2": tau2, "mu": mu, "se_mu": se, "q": float(r.q),
                     "shrunk": shrunk.tolist(), "shrunk_sd": np.sqrt(var).tolist()}
    return out


def main() -> None:
    cases = {
        "heterogeneous": _case(1, [0.05, 0.08, 0.10, 0.12, 0.04, 0.20],
                               [0.6, 0.0, 0.3, -0.1, 1.0, 0.05],
                               [800, 1200, 600, 900, 400, 300]),
        "homogeneous": _case(2, [0.10, 0.10, 0.10, 0.10], [0.1, 0.1, 0.1, 0.1],
                             [500, 700, 300, 900]),
    }
    OUT.write_text(json.dumps(cases, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
