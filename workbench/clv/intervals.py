"""Per-customer ranges of the 12-month value: posterior-predictive (parametric bootstrap) intervals.

The point value ``clv`` (:func:`workbench.clv.customer_value`) is an expectation: the margin on
the expected spend times the discounted expected purchases. What a customer will actually bring
is far more spread out, for two reasons this module simulates together:

1. **Parameter uncertainty.** ``draws`` parameter vectors are drawn from the fits' asymptotic
   normal distribution on the log scale the fits use (the inverse observed information,
   :mod:`workbench.clv._base`): BG/NBD ``(r, alpha, a, b)`` and Gamma-Gamma ``(p, q, gamma)``,
   the same draws for every customer (a parametric bootstrap of the parameters).
2. **The purchase process**, given a parameter vector and the customer's ``(x, t_x, T, m)``
   (BG/NBD of Fader, Hardie & Lee 2005 [1]_; Gamma-Gamma of Fader & Hardie 2013 [2]_):

   - alive at ``T`` with probability P(alive), eq. (A.10) of [1]_;
   - given alive, the posterior is ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)``,
     independent (the individual likelihood of an alive customer factorises). Integrating
     ``lambda`` out, the arrivals ``N`` in the horizon ``H`` are negative binomial with size
     ``r+x`` and success probability ``(alpha+T)/(alpha+T+H)``; given ``p`` (drawn from its
     Beta posterior) the purchase after which she drops out, ``G``, is geometric. She makes
     ``n = min(N, G)`` purchases (eq. (3) of [1]_ is the same process seen from its start);
   - spend: the customer's mean-spend rate has the Gamma-Gamma posterior
     ``nu ~ Gamma(p x + q, gamma + m x)`` (eq. (4) of [2]_), and ``n`` purchases of
     ``Gamma(p, nu)`` each sum to ``Gamma(n p, nu)``;
   - discounting: the purchases of a customer who survives the horizon are spread uniformly
     over it, so the value is discounted by the mean monthly discount over ``[0, H]``; one
     who drops out after purchase ``G < N`` made her purchases before about ``H (G+1)/(N+1)``
     and is discounted by the mean over that span. (The value uses the mean discount of the
     span, not each purchase's own month: at 1% a month the two differ by well under 1% of
     a customer's value.)

The interval is the 10th and 90th percentile of the simulated values (``level`` 0.8). When
more than ``(1 - level)/2`` of a customer's draws are 0 (likely to buy nothing), the
equal-tailed interval would start at 0 and hold more than ``level`` of her outcomes; the
interval is then ``[0, the level-quantile]`` (for example ``[0, 80th percentile]``), which holds
``level`` of them unless more than ``level`` of the draws are 0 (then it is ``[0, 0]``).

Determinism: the parameter draws come from ``seed``; a customer's own random numbers are a
counter-based hash of her ``customer_id``, the draw and the quantity (SplitMix64 [3]_), so her
interval does not depend on which other customers are computed with her, how they are chunked
or in which order (the page's top list and the snapshot agree). Gamma variates are drawn from
those uniforms by Marsaglia & Tsang's method [4]_ (three tries; a draw that fails all three,
about one in 10^4 at the worst shape, keeps its last candidate).

Cost: the 100k-customer sample (92,034 customers, 100 draws) takes 5.5 s of CPU in two
threads, 61-104 MB at peak (chunks of 2,000 customers); ``benchmarks/bench_clv_intervals.py``
measures it and checks the coverage on the generator.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your Customers the
   Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value",
   http://brucehardie.com/notes/025/.
.. [3] Steele, G. L., Lea, D. and Flood, C. H. (2014), "Fast Splittable Pseudorandom Number
   Generators", *OOPSLA 2014*, 453-472.
.. [4] Marsaglia, G. and Tsang, W. W. (2000), "A Simple Method for Generating Gamma
   Variables", *ACM Transactions on Mathematical Software* 26(3), 363-372.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
from scipy import special

from workbench.clv._base import check_summary, data_check
from workbench.clv.bgnbd import BetaGeo
from workbench.clv.gamma_gamma import GammaGamma
from workbench.clv.summary import clv_summary
from workbench.clv.value import month_ends
from workbench.data.memo import Memo, memo_key
from workbench.data.snapshot import SnapshotPart, snapshot_for
from workbench.errors import ParameterError, WorkbenchWarning
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings

__all__ = ["INTERVAL_COLUMNS", "SNAPSHOT_PART", "ValueDraws", "clv_intervals",
           "interval_part", "parameter_draws", "predictive_pit", "range_profile", "realised_value",
           "snapshot_fit", "value_draws", "with_ranges"]

#: Columns of :func:`clv_intervals` (besides the ``customer_id`` index).
INTERVAL_COLUMNS = ("clv_low", "clv_high")
_COLUMNS = ("frequency", "recency", "T", "monetary_value")
_UNIT = "W"
#: Threads simulating chunks at once (numpy's loops release the GIL).
_WORKERS = max(1, min(2, os.cpu_count() or 1))
_MAX_STEPS = 20_000  # purchases simulated per customer and draw at most (a safety bound)


# ------------------------------------------------------------------------- random numbers
def _mix(z: np.ndarray) -> np.ndarray:
    """Return SplitMix64's finaliser of ``z`` (uint64; wrap-around arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _uniform(base: np.ndarray, stream: int) -> np.ndarray:
    """Return uniforms in (0, 1), one per element of ``base``, for the quantity ``stream``."""
    z = _mix(base + np.uint64((stream * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0


def _uniform_pair(base: np.ndarray, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """Return two uniforms in (0, 1) per element from one hash (32 bits each)."""
    z = _mix(base + np.uint64((stream * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))
    scale = 1.0 / 4294967296.0
    high = ((z >> np.uint64(32)).astype(np.float64) + 0.5) * scale
    low = ((z & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * scale
    return high, low


def _gamma(shape: np.ndarray, base: np.ndarray, stream: int) -> np.ndarray:
    """Return standard Gamma(``shape``) variates from the uniforms of ``base`` (Marsaglia-Tsang).

    ``shape < 1`` uses ``Gamma(k) = Gamma(k+1) U^(1/k)`` ([4]_ sec. 6). Streams ``stream`` to
    ``stream + 3`` are used (each try takes its normal and its uniform from one 64-bit hash,
    32 bits each: normals reach 6.3 standard deviations, far beyond what a 10th or 90th
    percentile of 100 draws can see).
    """
    small = shape < 1
    k = np.where(small, shape + 1.0, shape)
    d = k - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.empty_like(k)
    todo = np.arange(len(k))
    for attempt in range(3):
        zu, u = _uniform_pair(base[todo] if attempt else base, stream + attempt)
        dd, cc = (d[todo], c[todo]) if attempt else (d, c)
        z = special.ndtri(zu)
        t = 1.0 + cc * z
        v = t * t * t
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = (v > 0) & (np.log(u) < 0.5 * z * z + dd - dd * v + dd * np.log(v))
        if attempt == 2:
            ok[:] = True
        out[todo[ok]] = dd[ok] * np.maximum(v[ok], 1e-12)
        todo = todo[~ok]
        if not len(todo):
            break
    if small.any():
        boost = _uniform(base[small], stream + 3) ** (1.0 / shape[small])
        out[small] *= boost
    return out


def _customer_keys(index: pd.Index) -> np.ndarray:
    """Return a stable 64-bit key per customer id (pandas' SipHash of the id's text)."""
    return pd.util.hash_array(np.asarray(index.astype(str), dtype=object)).astype(np.uint64)


# ------------------------------------------------------------------------- parameter draws
def parameter_draws(model: Any, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``draws`` parameter vectors of a fitted model, shape ``(draws, k)``.

    The log-parameters are normal around the estimate with the inverse observed information
    as covariance (``covariance_`` is on the natural scale: ``Var(log theta) = Var(theta) /
    theta^2``). Parameters without a standard error (not identified, e.g. BG/NBD's ``a`` and
    ``b`` when everyone shares one dropout probability) stay at their estimate.
    """
    names = model._param_names
    theta = np.array([model.params_[k] for k in names], dtype=float)
    cov = model.covariance_.loc[list(names), list(names)].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        cov_log = cov / np.outer(theta, theta)
    known = np.isfinite(np.diag(cov_log))
    cov_log = np.where(np.outer(known, known) & np.isfinite(cov_log), cov_log, 0.0)
    # Symmetric square root by eigenvalues: a Hessian that is barely positive definite still
    # gives a valid (clipped) covariance, where a Cholesky factorisation would fail.
    values, vectors = np.linalg.eigh((cov_log + cov_log.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    noise = rng.standard_normal((draws, len(theta))) @ root.T
    return np.exp(np.log(theta)[None, :] + noise)


# ------------------------------------------------------------------------- the simulation
@dataclass(frozen=True, slots=True)
class ValueDraws:
    """Simulated values of some customers: ``values[i, s]`` for customer ``i`` and draw ``s``."""

    index: pd.Index
    values: np.ndarray


def _discount_curve(as_of: date, horizon_months: int, rate: float
                    ) -> tuple[float, np.ndarray, np.ndarray]:
    """Return the horizon ``H`` (weeks) and the cumulative discount at ``0, t_1, ..., t_H``."""
    ends = month_ends(as_of, horizon_months, _UNIT)
    edges = np.concatenate([[0.0], ends])
    per_month = (1.0 + rate) ** -np.arange(1, horizon_months + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(per_month * np.diff(edges))])
    return float(ends[-1]), edges, cumulative


def _arrivals(size: np.ndarray, q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Return negative binomial variates (``size``, success probability ``q``) by inversion.

    The walk up the CDF starts at ``k0 = mean - 6 sd`` (when positive), where the CDF is
    ``I_q(size, k0 + 1)`` (the regularized incomplete beta) and the mass below it under 1e-6
    (a uniform that falls there is given ``k0``): a heavy buyer's walk then takes a few dozen
    steps instead of hundreds. The undecided pairs' state is kept in short contiguous arrays,
    compacted once a quarter of them has finished (gathers and scatters through an index at
    every step cost several times more).
    """
    mean = size * (1.0 - q) / q
    sd = np.sqrt(size * (1.0 - q)) / q
    k = np.maximum(0.0, np.floor(mean - 6.0 * sd))
    with np.errstate(under="ignore"):
        pmf = np.exp(size * np.log(q))
    cdf = pmf.copy()
    ahead = np.nonzero(k > 0)[0]
    if len(ahead):
        sa, ka, qa = size[ahead], k[ahead], q[ahead]
        with np.errstate(under="ignore"):
            pmf[ahead] = np.exp(special.gammaln(sa + ka) - special.gammaln(sa)
                                - special.gammaln(ka + 1) + sa * np.log(qa) + ka * np.log1p(-qa))
        cdf[ahead] = special.betainc(sa, ka + 1.0, qa)
    out = np.empty(len(size))
    pos = np.arange(len(size))
    state = [size, 1.0 - q, u, pmf, cdf, k, np.zeros(len(size), dtype=bool)]
    finished, steps = 0, 0
    while len(pos) and steps < _MAX_STEPS:
        s_size, s_q1, s_u, s_pmf, s_cdf, s_k, s_fin = state
        done = s_cdf >= s_u
        done &= ~s_fin
        if done.any():
            out[pos[done]] = s_k[done]
            s_fin |= done
            finished += int(done.sum())
            if finished == len(pos):
                return out
            if 4 * finished > len(pos):
                keep = ~s_fin
                pos = pos[keep]
                state = [v[keep] for v in state]
                finished = 0
                s_size, s_q1, s_u, s_pmf, s_cdf, s_k, s_fin = state
        s_pmf *= (s_size + s_k) / (s_k + 1.0) * s_q1
        s_cdf += s_pmf
        s_k += 1.0
        steps += 1
    out[pos[~state[6]]] = state[5][~state[6]]
    return out


def _simulate(data: np.ndarray, keys: np.ndarray, bg: np.ndarray, gg: np.ndarray, *,
              horizon: float, edges: np.ndarray, cumulative: np.ndarray,
              margin: float) -> np.ndarray:
    """Return simulated discounted margins, shape ``(len(data), draws)``, for one chunk.

    The work runs on flat (customer, draw) pairs, narrowed at each step to the pairs still
    concerned: repeat buyers for P(alive), the alive for purchases, the buyers for spend.
    """
    n_draws = bg.shape[0]
    values = np.zeros(len(data) * n_draws)
    row = np.repeat(np.arange(len(data)), n_draws)
    draw = np.tile(np.arange(n_draws), len(data))
    draw_keys = _mix(np.arange(1, n_draws + 1, dtype=np.uint64)
                     * np.uint64(0xD1B54A32D192ED03))
    base = _mix(keys[row] ^ draw_keys[draw])
    x, tx, T = data[row, 0], data[row, 1], data[row, 2]
    # P(alive) per draw, eq. (A.10) of [1]: one-time buyers are alive.
    alive = np.ones(len(values), dtype=bool)
    rep = np.nonzero(x > 0)[0]
    if len(rep):
        r, alpha, a, b = (bg[draw[rep], k] for k in range(4))
        xr = x[rep]
        odds = np.log(a / (b + xr - 1)) + (r + xr) * np.log((alpha + T[rep])
                                                            / (alpha + tx[rep]))
        alive[rep] = _uniform(base[rep], 0) < special.expit(-odds)
    live = np.nonzero(alive)[0]
    d = draw[live]
    r, alpha, a, b = (bg[d, k] for k in range(4))
    sub = base[live]
    # Given alive: N ~ NB(r+x, (alpha+T)/(alpha+T+H)) arrivals (lambda integrated out) and
    # p ~ Beta(a, b+x); she drops out after purchase G ~ Geometric(p) and makes min(N, G).
    arrivals = _arrivals(r + x[live], (alpha + T[live]) / (alpha + T[live] + horizon),
                         _uniform(sub, 1))
    buy = arrivals > 0  # the dropout matters only to those with a purchase to make
    live, arrivals, sub, d = live[buy], arrivals[buy], sub[buy], d[buy]
    g_a, g_b = _gamma(a[buy], sub, 17), _gamma(b[buy] + x[live], sub, 24)
    p_drop = g_a / (g_a + g_b)
    with np.errstate(divide="ignore"):
        dropout = np.ceil(np.log(_uniform(sub, 2)) / np.log1p(-p_drop))
    n = np.minimum(arrivals, np.maximum(dropout, 1.0))
    p, q, g = (gg[d, k] for k in range(3))
    xb, mb = x[live], data[row[live], 3]
    nu = _gamma(p * xb + q, sub, 3) / (g + mb * xb)
    spend = _gamma(n * p, sub, 10) / nu
    span = horizon * np.minimum(1.0, (n + 1.0) / (arrivals + 1.0))
    discount = np.interp(span, edges, cumulative) / span
    values[live] = margin * discount * spend
    return values.reshape(len(data), n_draws)


def _check_options(horizon_months: Any, margin: Any, rate: Any, level: Any, draws: Any,
                   chunk_size: Any) -> None:
    checks = (("horizon_months", horizon_months, isinstance(horizon_months, int)
               and not isinstance(horizon_months, bool) and 1 <= horizon_months <= 120,
               "a whole number of months in 1..120"),
              ("margin", margin, isinstance(margin, (int, float)) and 0 < margin <= 1,
               "a share in (0, 1]"),
              ("monthly_discount_rate", rate, isinstance(rate, (int, float)) and 0 <= rate < 1,
               "a rate in [0, 1)"),
              ("level", level, isinstance(level, float) and 0 < level < 1, "a share in (0, 1)"),
              ("draws", draws, isinstance(draws, int) and draws >= 10, "a whole number >= 10"),
              ("chunk_size", chunk_size, isinstance(chunk_size, int) and chunk_size >= 1,
               "a whole number >= 1"))
    for name, value, ok, want in checks:
        if not ok:
            raise ParameterError(tr("clv.intervals.option", name=name, want=want,
                                    got=repr(value)))


def value_draws(purchase: BetaGeo, spend_model: GammaGamma, summary: pd.DataFrame, *,
                as_of: date, horizon_months: int = 12, monthly_discount_rate: float = 0.01,
                margin: float = 0.3, draws: int = 100, seed: int = 19,
                chunk_size: int = 2000) -> ValueDraws:
    """Return every customer's simulated discounted margins over the horizon.

    Parameters
    ----------
    purchase, spend_model
        Fitted :class:`~workbench.clv.BetaGeo` and :class:`~workbench.clv.GammaGamma`.
    summary
        ``frequency``, ``recency``, ``T`` (weeks) and ``monetary_value``, indexed by
        ``customer_id`` (:func:`workbench.clv.clv_summary`).
    as_of, horizon_months, monthly_discount_rate, margin
        As for :func:`workbench.clv.customer_value`.
    draws
        Simulations per customer (each with its own parameter vector).
    seed
        Seed of the parameter draws; customers' own random numbers come from their ids.
    chunk_size
        Customers simulated at once (memory is about ``chunk_size * draws * 100`` bytes).

    Returns
    -------
    ValueDraws
        ``values`` of shape ``(len(summary), draws)``.

    Raises
    ------
    ParameterError
        An option is out of range, or ``purchase`` is not a fitted BG/NBD model.
    """
    _check_options(horizon_months, margin, monthly_discount_rate, 0.5, draws, chunk_size)
    if not isinstance(purchase, BetaGeo) or not hasattr(purchase, "params_"):
        raise ParameterError(tr("clv.intervals.model", got=type(purchase).__name__))
    data = check_summary(summary, _COLUMNS, "clv_intervals").to_numpy(copy=True)
    data[:, 3] = np.where(data[:, 0] > 0, data[:, 3], 0.0)
    rng = np.random.default_rng(seed)
    bg = parameter_draws(purchase, draws, rng)
    gg = parameter_draws(spend_model, draws, rng)
    horizon, edges, cumulative = _discount_curve(as_of, horizon_months, monthly_discount_rate)
    keys = _customer_keys(summary.index)
    out = np.empty((len(data), draws))

    def run(start: int) -> None:
        stop = start + chunk_size
        with np.errstate(over="ignore"):
            out[start:stop] = _simulate(data[start:stop], keys[start:stop], bg, gg,
                                        horizon=horizon, edges=edges, cumulative=cumulative,
                                        margin=margin)

    # numpy releases the GIL in its loops, so two threads use two cores; a customer's draws
    # do not depend on the chunk that computes them, so the result does not either.
    starts = range(0, len(data), chunk_size)
    if len(starts) > 1 and _WORKERS > 1:
        with ThreadPoolExecutor(_WORKERS) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return ValueDraws(summary.index, out)


def _bounds(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the interval of each row of ``values`` (see the module docstring)."""
    tail = (1.0 - level) / 2.0
    low, high, upper = np.quantile(values, [tail, 1.0 - tail, level], axis=1)
    zeros = (values <= 0).mean(axis=1)
    anchored = zeros > tail
    return np.where(anchored, 0.0, low), np.where(anchored, upper, high)


def clv_intervals(purchase: BetaGeo, spend_model: GammaGamma, summary: pd.DataFrame, *,
                  as_of: date, horizon_months: int = 12, monthly_discount_rate: float = 0.01,
                  margin: float = 0.3, level: float = 0.8, draws: int = 100, seed: int = 19,
                  chunk_size: int = 2000) -> pd.DataFrame:
    """Return each customer's ``level`` interval of the discounted margin over the horizon.

    Parameters are those of :func:`value_draws`, plus ``level`` (default 0.8: the 10th and
    90th percentile, see the module docstring for customers likely to buy nothing).

    Returns
    -------
    pandas.DataFrame
        ``clv_low`` and ``clv_high`` (the shop's currency, margin only), indexed like
        ``summary``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from datetime import date
    >>> from workbench.clv import BetaGeo, GammaGamma
    >>> rng = np.random.default_rng(0)
    >>> f = rng.poisson(2, 300).astype(float)
    >>> T = np.full(300, 52.0)
    >>> summary = pd.DataFrame({"frequency": f, "recency": np.where(f > 0, 40.0, 0.0), "T": T,
    ...                         "monetary_value": np.where(f > 0, rng.gamma(4, 10, 300), 0.0)},
    ...                        index=pd.Index([f"c{i}" for i in range(300)], name="customer_id"))
    >>> bg = BetaGeo(check_data=False).fit(summary)
    >>> gg = GammaGamma().fit(summary)
    >>> out = clv_intervals(bg, gg, summary, as_of=date(2026, 1, 1), draws=50)
    >>> bool((out["clv_low"] <= out["clv_high"]).all())
    True
    """
    _check_options(horizon_months, margin, monthly_discount_rate, level, draws, chunk_size)
    lows, highs = [], []
    for start in range(0, len(summary), chunk_size * 5):
        part = summary.iloc[start:start + chunk_size * 5]
        sim = value_draws(purchase, spend_model, part, as_of=as_of,
                          horizon_months=horizon_months,
                          monthly_discount_rate=monthly_discount_rate, margin=margin,
                          draws=draws, seed=seed, chunk_size=chunk_size)
        low, high = _bounds(sim.values, level)
        lows.append(low)
        highs.append(high)
    return pd.DataFrame({"clv_low": np.concatenate(lows) if lows else np.empty(0),
                         "clv_high": np.concatenate(highs) if highs else np.empty(0)},
                        index=summary.index)


def predictive_pit(sim: ValueDraws, realised: pd.Series, rng: np.random.Generator
                   ) -> pd.Series:
    """Return the randomised probability integral transform of each realised value.

    ``F(v-) + U (F(v) - F(v-))`` with ``F`` the customer's simulated distribution (Czado,
    Gneiting & Held 2009, "Predictive Model Assessment for Count Data", *Biometrics* 65(4)):
    uniform on (0, 1) when the predictions are calibrated, also where a customer's value has an
    atom at 0. The share of PIT values in ``[0.1, 0.9]`` is the coverage an 80% interval would
    have without the atom's excess.
    """
    v = realised.reindex(sim.index).to_numpy(dtype=float)[:, None]
    below = (sim.values < v).mean(axis=1)
    at = (sim.values <= v).mean(axis=1)
    return pd.Series(below + rng.random(len(below)) * (at - below), index=sim.index,
                     name="pit")


def with_ranges(top: pd.DataFrame, purchase: Any, spend_model: GammaGamma,
                summary: pd.DataFrame, *, as_of: date, horizon_months: int,
                monthly_discount_rate: float, margin: float) -> pd.DataFrame:
    """Return ``top`` (a few customers with ``customer_id`` and ``clv``) with their ranges.

    ``clv_low`` and ``clv_high`` follow ``clv``; they are computed here, for these customers
    only (milliseconds for a top list), and equal the snapshot's for the same fit and options
    (a customer's draws depend on her id alone). Pareto/NBD has no simulation here: its
    ranges are missing (NaN).
    """
    out = top.copy()
    low = high = np.full(len(out), np.nan)
    if isinstance(purchase, BetaGeo) and len(out):
        ranges = clv_intervals(purchase, spend_model,
                               summary.loc[out["customer_id"].to_numpy()], as_of=as_of,
                               horizon_months=horizon_months,
                               monthly_discount_rate=monthly_discount_rate, margin=margin)
        low, high = ranges["clv_low"].to_numpy(), ranges["clv_high"].to_numpy()
    at = list(out.columns).index("clv") + 1 if "clv" in out.columns else len(out.columns)
    out.insert(at, "clv_low", low)
    out.insert(at + 1, "clv_high", high)
    return out


def realised_value(con: Any, as_of: date, *, settings: Settings, horizon_months: int = 12,
                   monthly_discount_rate: float = 0.01, margin: float = 0.3) -> pd.Series:
    """Return the discounted margin each customer actually brought in the months after ``as_of``.

    The holdout counterpart of ``clv``: net orders from local midnight of ``as_of`` for
    ``horizon_months`` calendar months, each discounted by ``(1 + rate)^-k`` for its month
    ``k`` (1-based, as :func:`workbench.clv.customer_value`), times ``margin``. Customers
    without an order in the window are not listed (their value is 0).
    """
    _check_options(horizon_months, margin, monthly_discount_rate, 0.5, 10, 1)
    end = (pd.Timestamp(as_of) + pd.DateOffset(months=horizon_months)).date()
    net = net_orders(con.table("orders"), since=as_of, before=end,
                     timezone=settings.timezone, identified=True)
    frame = net.select("customer_id", "ordered_at", "amount").to_pandas()
    stamps = pd.to_datetime(frame["ordered_at"])
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert(settings.timezone).dt.tz_localize(None)
    bounds = np.array([pd.Timestamp(as_of) + pd.DateOffset(months=k)
                       for k in range(1, horizon_months + 1)], dtype="datetime64[ns]")
    month = np.searchsorted(bounds, stamps.to_numpy(dtype="datetime64[ns]"), side="right") + 1
    value = margin * frame["amount"].to_numpy(dtype=float) \
        * (1.0 + monthly_discount_rate) ** -month.astype(float)
    out = pd.Series(value, index=frame["customer_id"].astype(str)).groupby(level=0).sum()
    return out.rename_axis("customer_id").rename("realised_value")


def range_profile(con: Any, as_of: date, *, model: str, horizon_months: int,
                  monthly_discount_rate: float, margin: float, settings: Settings,
                  bins: int = 50) -> pd.DataFrame | None:
    """Return the store's value and typical 80% range by value percentile, from the snapshot.

    Customers are ranked by ``clv`` and cut into ``bins`` groups of equal size; each row holds
    the group's ``percentile`` (its upper end, 1-100), ``customers`` and the mean ``clv``,
    ``clv_low`` and ``clv_high``. The ranges are those of the snapshot, so ``None`` unless
    the snapshot is for ``as_of`` and the options are its definition (BG/NBD, 12 months, 1% a
    month, the ``gross_margin`` setting): a page never simulates the whole store.
    """
    same = (model == "bgnbd" and horizon_months == 12
            and abs(monthly_discount_rate - 0.01) < 1e-12
            and abs(margin - float(settings.gross_margin)) < 1e-12)
    snap = snapshot_for(con, as_of, ["clv", "clv_low", "clv_high"]) if same else None
    if snap is None:
        return None
    kept = snap.filter(snap.clv.notnull() & snap.clv_low.notnull())
    frame = kept.select("clv", "clv_low", "clv_high").to_pyarrow().to_pandas()
    if frame.empty:
        return None
    rank = frame["clv"].rank(method="first", pct=True).to_numpy()
    group = np.clip(np.ceil(rank * bins), 1, bins).astype(int)
    out = frame.groupby(group).agg(customers=("clv", "size"), clv=("clv", "mean"),
                                   clv_low=("clv_low", "mean"), clv_high=("clv_high", "mean"))
    out.insert(0, "percentile", out.index.to_numpy() * 100.0 / bins)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- snapshot part
_SNAPSHOT_FITS = Memo("clv.intervals.fit", size=2)


def snapshot_fit(con: Any, as_of: date, settings: Settings
                 ) -> tuple[pd.DataFrame, BetaGeo, GammaGamma] | None:
    """Return the summary and the BG/NBD and Gamma-Gamma fits of the snapshot's CLV.

    Kept per process on the store's data version, so the refresh's two CLV parts
    (:func:`workbench.clv.clv_part` and :func:`interval_part`) query and fit once. ``None``
    when the store has no orders or too little data for the models.
    """
    key = (*memo_key(con), as_of, settings.timezone)
    return _SNAPSHOT_FITS.get(key, lambda: _snapshot_fit(con, as_of, settings))


def _snapshot_fit(con: Any, as_of: date, settings: Settings
                  ) -> tuple[pd.DataFrame, BetaGeo, GammaGamma] | None:
    if "orders" not in con.list_tables():
        return None
    summary = clv_summary(con, as_of, settings=settings, unit=_UNIT)
    if summary.empty or not data_check(summary).enough:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)  # the data check above says it all
        purchase = BetaGeo().fit(summary)
        spend = GammaGamma().fit(summary)
    return summary, purchase, spend


def interval_part(con: Any, *, as_of: date, settings: Settings) -> ibis.Table | None:
    """Return ``clv_low`` and ``clv_high`` for the per-customer snapshot.

    The snapshot's ``clv`` definition (:func:`workbench.clv.clv_part`): BG/NBD and
    Gamma-Gamma on all history before ``as_of``, 12 months, the ``gross_margin`` setting and
    a 1% monthly discount rate. ``None`` when the store has too little data for the models.
    """
    fit = snapshot_fit(con, as_of, settings)
    if fit is None:
        return None
    summary, purchase, spend = fit
    frame = clv_intervals(purchase, spend, summary, as_of=as_of,
                          margin=float(settings.gross_margin))
    frame = frame.reset_index()
    frame["customer_id"] = frame["customer_id"].astype(str)
    schema = ibis.schema({"customer_id": "string", "clv_low": "float64", "clv_high": "float64"})
    return ibis.memtable(frame, schema=schema)


#: The CLV-range columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("clv_intervals", INTERVAL_COLUMNS, interval_part)
