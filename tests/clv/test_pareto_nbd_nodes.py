"""Pareto/NBD speed-ups keep the results: the quadrature's node rule and the warm-started fit.

The likelihood integral uses 8 to 32 Gauss-Legendre nodes per pattern (``_node_counts``);
these tests check the rule on a fresh random grid against 128 nodes, against mpmath's
hypergeometric solution (``reference/make_pareto_nodes_reference.py``), and that a fit on more
than ``_WARM_MIN_CUSTOMERS`` customers (subsample, BFGS polish, Newton finish) lands where the
plain L-BFGS-B fit does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.clv import ParetoNBD
from workbench.clv import pareto_nbd as pnbd

NODES_REFERENCE = Path(__file__).with_name("reference") / "pareto_nbd_nodes.json"


def _grid(seed: int, size: int) -> dict[str, np.ndarray]:
    """Random ``(m, e2, w, L)`` over the ranges the likelihood meets (and far beyond)."""
    rng = np.random.default_rng(seed)
    m = np.exp(rng.uniform(np.log(0.02), np.log(1e4), size))
    e2 = np.where(rng.uniform(0, 1, size) < 0.5, m * rng.uniform(0, 1, size),
                  np.exp(rng.uniform(0, np.log(60), size)))
    e2 = np.minimum(e2, m + 1)  # e2 is s+1 (at most m+1) or r+x (at most m)
    w = np.where(rng.uniform(0, 1, size) < 0.3, rng.uniform(0, 1, size),
                 -np.expm1(-np.exp(rng.uniform(np.log(1e-6), np.log(40), size))))
    w = np.minimum(w, 1 - 1e-15)
    L = np.exp(rng.uniform(np.log(1e-6), np.log(60), size))
    return {"m": m, "e2": e2, "w": w, "L": L}


def _log_k(grid: dict[str, np.ndarray], nodes: np.ndarray | int, with_grad: bool = False):
    """``log int_{-L}^0 e^l (1 - w e^{l/m})^-e2 dl`` (plus constants) with ``nodes`` nodes."""
    m, e2, w, L = grid["m"], grid["e2"], grid["w"], grid["L"]
    n = len(m)
    k = 1.0 + (e2 / m) * w / (1.0 - w)
    counts = np.broadcast_to(nodes, (n,))
    log_i = np.full(n, np.nan)
    grad = np.zeros((4, n)) if with_grad else None
    one = np.ones(n)
    for count in np.unique(counts):
        idx = np.flatnonzero(counts == count)
        pnbd._integral_block(pnbd._gauss_rule(int(count)), idx, e2[idx], m[idx], e2[idx],
                             one[idx], w[idx], 0 * one[idx], L[idx], k[idx], True, 0.5,
                             log_i, grad)
    return log_i, grad


def test_node_rule_stays_within_rounding_of_128_nodes_on_a_fresh_grid():
    grid = _grid(seed=2026, size=30_000)
    m, e2, w, L = grid["m"], grid["e2"], grid["w"], grid["L"]
    k = 1.0 + (e2 / m) * w / (1.0 - w)
    counts = pnbd._node_counts(L, k, -m * np.log(w))
    ruled, ruled_grad = _log_k(grid, counts, with_grad=True)
    exact, exact_grad = _log_k(grid, 128, with_grad=True)
    check, _ = _log_k(grid, 160)
    trusted = np.abs(exact - check) <= 1e-13 * np.maximum(1.0, np.abs(exact))
    assert trusted.mean() > 0.95
    fewer = trusted & (counts < 32)
    assert fewer.mean() > 0.4  # the rule does cut nodes on a good share of the grid
    scale = np.maximum(1.0, np.abs(exact))
    assert np.max(np.abs(ruled - exact)[fewer] / scale[fewer]) < 1e-12
    # The gradient's posterior-weighted means use the same nodes; the means of 1/(kappa+y)
    # converge a little slower (worst 2e-8 at 8 nodes for r+s+x ~ 0.02). The gradient only
    # locates the optimum, which moves by H^-1 times the error: far below 1e-6.
    err = np.abs(ruled_grad - exact_grad)[:, fewer] / (np.abs(exact_grad[:, fewer]) + 1e-12)
    assert err.max() < 1e-7
    assert np.quantile(err, 0.999) < 1e-10
    for count in (8, 12, 16, 24):
        assert (counts == count).sum() > 400, count


def test_log_integral_matches_mpmath_in_every_tier():
    reference = json.loads(NODES_REFERENCE.read_text(encoding="utf-8"))
    seen = set()
    for row in reference["cases"]:
        x, tx, T, r, alpha, s, beta = row["case"]
        value, _ = pnbd.log_integral(np.array([x], float), np.array([tx], float),
                                     np.array([T], float), r, alpha, s, beta)
        assert value[0] == pytest.approx(row["log_integral"], rel=1e-11, abs=1e-11), row
        rx, m = r + x, r + x + s
        kappa = max(alpha, beta)
        e2 = s + 1 if alpha >= beta else rx
        w = (kappa - min(alpha, beta)) / (kappa + tx)
        L = min(m * np.log((kappa + T) / (kappa + tx)), 60.0)
        k = 1 + e2 / m * w / (1 - w)
        seen.add(int(pnbd._node_counts(np.array([L]), np.array([k]),
                                       np.array([-m * np.log(w)]))[0]))
    assert seen == {8, 12, 16, 24, 32}


def _simulate(rng, n, r, alpha, s, beta, t_cal=104.0):
    """Customers of the model itself with continuous (ungrouped) recency and age."""
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    birth = rng.uniform(0, t_cal - 1, n)
    age = t_cal - birth
    alive = np.minimum(rng.exponential(1 / mu), age)
    x = rng.poisson(lam * alive).astype(float)
    tx = np.where(x > 0, alive * rng.beta(np.maximum(x, 1), 1), 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": age})


@pytest.fixture(scope="module")
def large():
    data = _simulate(np.random.default_rng(19), 30_000, 0.3, 1.0, 0.4, 15.0)
    assert len(data) >= pnbd._WARM_MIN_CUSTOMERS
    return data


@pytest.fixture(scope="module")
def direct(large):
    saved = pnbd._WARM_MIN_CUSTOMERS
    pnbd._WARM_MIN_CUSTOMERS = float("inf")
    try:
        return ParetoNBD(check_data=False).fit(large)
    finally:
        pnbd._WARM_MIN_CUSTOMERS = saved


def _assert_same_fit(model, direct):
    for name, value in direct.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6), name
    assert model.log_likelihood_ == pytest.approx(direct.log_likelihood_, rel=1e-12)
    for name, value in direct.standard_errors_.items():
        assert model.standard_errors_[name] == pytest.approx(value, rel=1e-3), name
    assert model.converged_


def test_warm_started_fit_lands_on_the_direct_fit(large, direct):
    model = ParetoNBD(check_data=False).fit(large)
    _assert_same_fit(model, direct)
    # Fewer evaluations on all patterns (the Hessian's included) than L-BFGS-B alone.
    assert model.fit_report_.evaluations < direct.fit_report_.evaluations


def test_a_stalled_polish_falls_back_to_lbfgsb(large, direct, monkeypatch):
    monkeypatch.setattr(pnbd, "_polish", lambda fun, x, h_inv, step_tol: (x, False, 0))
    _assert_same_fit(ParetoNBD(check_data=False).fit(large), direct)


def test_weights_take_the_warm_path_too(large, direct):
    doubled = pd.concat([large, large.iloc[:5000]], ignore_index=True)
    weights = np.r_[np.ones(len(large)), np.zeros(5000)]
    _assert_same_fit(ParetoNBD(check_data=False).fit(doubled, weights=weights), direct)
