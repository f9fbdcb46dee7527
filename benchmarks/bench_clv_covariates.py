"""BG/NBD with covariates (Fader & Hardie 2007, note 019): our fit against two references.

On customers simulated from the model itself (three 0/1 covariates, nine coefficients, known
truth), in one process:

1. ``BetaGeoCovariates`` (grouped likelihood, analytic gradient; :mod:`workbench.clv.covariates`);
2. an independent per-customer implementation of eq. (6) of Fader, Hardie & Lee (2005) with the
   note's links, written here with scipy only and fitted by L-BFGS-B with numerical gradients
   from a different start (the reference for the estimates);
3. the plain ``BetaGeo`` on the same summary (the baseline for time; the likelihood-ratio test).

Prints the estimates of both fits and the truth, the largest difference between the fits, the
wall time of each and the peak memory (tracemalloc) of ours. Nothing is asserted; the exit code
is non-zero when the two fits' log-likelihoods differ by more than 1e-3.

Usage::

    python benchmarks/bench_clv_covariates.py                 # 20,000 customers
    python benchmarks/bench_clv_covariates.py --customers 100000 --skip-reference
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special

from workbench.clv import BetaGeo, BetaGeoCovariates

NAMES = ("web", "app", "coupon")
TRUTH = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 3.0, "gamma1": [0.5, -0.4, 0.3],
         "gamma2": [-0.5, 0.4, 0.0], "gamma3": [0.3, 0.0, -0.4]}


def simulate(n: int, seed: int = 1) -> pd.DataFrame:
    """Return frequency, recency, T and the covariates of ``n`` customers drawn from the model."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = np.column_stack([channel == 1, channel == 2, rng.random(n) < 0.3]).astype(float)
    alpha = TRUTH["alpha"] * np.exp(-(X @ TRUTH["gamma1"]))
    p = rng.beta(TRUTH["a"] * np.exp(X @ TRUTH["gamma2"]), TRUTH["b"] * np.exp(X @ TRUTH["gamma3"]))
    lam = rng.gamma(TRUTH["r"], 1 / alpha)
    T = rng.uniform(26, 78, size=n)
    x, tx, now, active = np.zeros(n), np.zeros(n), np.zeros(n), np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1 / lam[idx])
        bought = now[idx] <= T[idx]
        hit = idx[bought]
        x[hit], tx[hit] = x[hit] + 1, now[hit]
        active[idx[~bought]] = False
        active[hit[rng.random(len(hit)) < p[hit]]] = False
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    return frame.assign(**{c: X[:, j] for j, c in enumerate(NAMES)})


def reference_negloglik(theta: np.ndarray, x, tx, T, X) -> float:
    """Return the mean negative log-likelihood, customer by customer (scipy only)."""
    k = X.shape[1]
    r, alpha0, a0, b0 = np.exp(theta[:4])
    alpha = alpha0 * np.exp(-(X @ theta[4:4 + k]))
    a, b = a0 * np.exp(X @ theta[4 + k:4 + 2 * k]), b0 * np.exp(X @ theta[4 + 2 * k:])
    head = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
            + special.betaln(a, b + x) - special.betaln(a, b))
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx)
    mix = special.logsumexp(np.column_stack([a3, a4]), axis=1,
                            b=np.column_stack([np.ones_like(x), x > 0]))
    return -float((head + mix).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    frame = simulate(args.customers)
    print(f"{args.customers:,} simulated customers, {int((frame.frequency > 0).sum()):,} repeat "
          f"buyers, covariates {NAMES}")
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    ours = BetaGeoCovariates(covariates=NAMES).fit(frame)
    ours_s = time.perf_counter() - started
    tracemalloc.start()  # a second fit for the memory: tracing slows numpy's allocations
    BetaGeoCovariates(covariates=NAMES).fit(frame)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    started = time.perf_counter()
    plain = BetaGeo().fit(frame)
    plain_s = time.perf_counter() - started
    print(f"ours (BetaGeoCovariates): {ours_s:.2f} s, peak {peak:.0f} MiB, "
          f"{ours.fit_report_.iterations} iterations, log L {ours.log_likelihood_:.3f}")
    print(f"plain BetaGeo:            {plain_s:.2f} s, log L {plain.log_likelihood_:.3f}")
    print(f"LR test: statistic {ours.lr_test_.statistic:.1f}, df {ours.lr_test_.df}, "
          f"p {ours.lr_test_.p_value:.2g}")
    truth = [TRUTH[k] for k in ("r", "alpha", "a", "b")] + [
        v for i in (1, 2, 3) for v in TRUTH[f"gamma{i}"]]
    table = pd.DataFrame({"truth": truth, "ours": list(ours.params_.values()),
                          "se": ours.standard_errors_.to_numpy()}, index=list(ours.params_))
    code = 0
    if not args.skip_reference:
        X = frame.loc[:, list(NAMES)].to_numpy()
        data = tuple(frame[c].to_numpy() for c in ("frequency", "recency", "T")) + (X,)
        x0 = np.concatenate([np.log([1.0, 1.0, 1.0, 1.0]), np.zeros(3 * X.shape[1])])
        started = time.perf_counter()
        res = optimize.minimize(reference_negloglik, x0, args=data, method="L-BFGS-B",
                                options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9})
        ref_s = time.perf_counter() - started
        est = np.concatenate([np.exp(res.x[:4]), res.x[4:]])
        table["reference"] = est
        ref_ll = -reference_negloglik(res.x, *data) * len(frame)
        print(f"reference (scipy, per customer, numerical gradient): {ref_s:.2f} s, "
              f"{res.nit} iterations, log L {ref_ll:.3f}")
        diff = np.max(np.abs(table["ours"] - table["reference"]) / table["se"])
        print(f"largest difference ours - reference: {diff:.3f} standard errors; "
              f"log L difference {ours.log_likelihood_ - ref_ll:.2e}")
        code = int(abs(ours.log_likelihood_ - ref_ll) > 1e-3)
    print(table.round(4).to_string())
    return code


if __name__ == "__main__":
    sys.exit(main())
