"""CLV ranges (issue 19, point 2): time on 100k customers and coverage on the generator.

Time
    :func:`workbench.clv.intervals.clv_intervals` on every customer of a store (default the
    100k sample ``/tmp/lead19/big.duckdb``), wall and CPU seconds and peak memory (traced
    allocations), beside what the refresh already spends on the same customers (the summary
    query, the two fits and the point ``clv``). The reference is an independent simulation of
    the same model with numpy's own samplers (``Generator.gamma``/``beta``/``poisson``/
    ``geometric``; ``lambda`` and ``p`` drawn explicitly instead of integrated out), run on a
    sample of the customers: its bounds must agree with ours up to Monte Carlo error.
Coverage
    A shop is generated to 12 months and a day after ``--as-of`` (default 2025-12-01); the
    models are fitted on the orders before it, and each customer's realised discounted margin
    over the next 12 months is compared with her range. Printed overall, by value band and by
    the generator's purchase process (BG/NBD or "replenish"): the literal coverage of
    ``[clv_low, clv_high]``, the randomised-PIT coverage (the calibrated notion when the value
    has an atom at 0) and the shares below and above; plus the same for the plug-in variant
    (no parameter uncertainty) and for the numpy reference.

Usage::

    python benchmarks/bench_clv_intervals.py                    # both
    python benchmarks/bench_clv_intervals.py --time-only --store /tmp/lead19/big.duckdb
    python benchmarks/bench_clv_intervals.py --coverage-only --customers 40000

Prints numbers; targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

DEFAULT_STORE = Path("/tmp/lead19/big.duckdb")


def reference_draws(bg, gg, summary: pd.DataFrame, *, as_of: date, margin: float,
                    rate: float = 0.01, draws: int = 100, seed: int = 0,
                    plug_in: bool = False) -> np.ndarray:
    """Simulate the same model with numpy's samplers (an independent implementation)."""
    from workbench.clv.intervals import _discount_curve, parameter_draws

    rng = np.random.default_rng(seed)
    if plug_in:
        theta_bg = np.tile([bg.params_[k] for k in ("r", "alpha", "a", "b")], (draws, 1))
        theta_gg = np.tile([gg.params_[k] for k in ("p", "q", "gamma")], (draws, 1))
    else:
        theta_bg, theta_gg = parameter_draws(bg, draws, rng), parameter_draws(gg, draws, rng)
    horizon, edges, cumulative = _discount_curve(as_of, 12, rate)
    x, tx, T, m = (summary[c].to_numpy(float)[:, None]
                   for c in ("frequency", "recency", "T", "monetary_value"))
    m = np.where(x > 0, m, 0.0)
    r, alpha, a, b = (theta_bg[:, k][None, :] for k in range(4))
    p, q, g = (theta_gg[:, k][None, :] for k in range(3))
    shape = (len(summary), draws)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(x > 0, np.log(a / np.where(x > 0, b + x - 1, 1.0))
                        + (r + x) * np.log((alpha + T) / (alpha + tx)), -np.inf)
    alive = rng.random(shape) < 1 / (1 + np.exp(odds))
    lam = rng.gamma(np.broadcast_to(r + x, shape), 1 / np.broadcast_to(alpha + T, shape))
    drop = rng.beta(np.broadcast_to(a, shape), np.broadcast_to(b + x, shape))
    arrivals = rng.poisson(lam * horizon).astype(float)
    dropout = rng.geometric(np.clip(drop, 1e-300, 1)).astype(float)
    n = np.where(alive, np.minimum(arrivals, dropout), 0.0)
    nu = rng.gamma(np.broadcast_to(p * x + q, shape)) / (g + m * x)
    spend = np.where(n > 0, rng.gamma(np.maximum(n * p, 1e-12)) / nu, 0.0)
    span = horizon * np.minimum(1.0, (n + 1.0) / (arrivals + 1.0))
    return margin * np.interp(span, edges, cumulative) / span * spend


def time_store(store: Path, as_of: date | None, sample: int) -> None:
    """Time the ranges on every customer of ``store`` and compare with the reference."""
    from workbench.clv import BetaGeo, GammaGamma, clv_summary, customer_value
    from workbench.clv.intervals import _bounds, clv_intervals
    from workbench.data import connect
    from workbench.data.snapshot import snapshot_as_of
    from workbench.settings import Settings

    settings = Settings()
    con = connect(store, settings=settings)
    as_of = as_of or snapshot_as_of(con)
    margin = float(settings.gross_margin)
    t0 = time.perf_counter()
    summary = clv_summary(con, as_of, settings=settings)
    t1 = time.perf_counter()
    bg, gg = BetaGeo().fit(summary), GammaGamma().fit(summary)
    t2 = time.perf_counter()
    clv = customer_value(bg, summary, gg.expected_spend(summary), as_of=as_of, margin=margin)
    t3 = time.perf_counter()
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    ranges = clv_intervals(bg, gg, summary, as_of=as_of, margin=margin)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"store {store}, as_of {as_of}: {len(summary):,} customers")
    print(f"  already at refresh: summary {t1 - t0:.2f} s, fits {t2 - t1:.2f} s, "
          f"point clv {t3 - t2:.2f} s")
    print(f"  ours clv_intervals: {wall:.2f} s wall, {cpu:.2f} s CPU, peak {peak:.0f} MB "
          f"traced (100 draws, chunks of 2,000)")
    inside = (clv >= ranges["clv_low"]) & (clv <= ranges["clv_high"])
    print(f"  point clv inside its own range: {inside.mean():.1%}; range [0, 0]: "
          f"{(ranges['clv_high'] == 0).mean():.1%}; clv_low > 0: "
          f"{(ranges['clv_low'] > 0).mean():.1%}")
    part = summary.sample(min(sample, len(summary)), random_state=1)
    wall = time.perf_counter()
    ref = reference_draws(bg, gg, part, as_of=as_of, margin=margin, draws=400)
    wall = time.perf_counter() - wall
    low, high = _bounds(ref, 0.8)
    ours = ranges.loc[part.index]
    scale = np.maximum(clv.loc[part.index].to_numpy(), 1.0)
    print(f"  reference (numpy samplers, 400 draws) on {len(part):,} customers: {wall:.2f} s; "
          f"median |bound difference| / clv: low "
          f"{np.median(np.abs(ours['clv_low'].to_numpy() - low) / scale):.3f}, high "
          f"{np.median(np.abs(ours['clv_high'].to_numpy() - high) / scale):.3f}")
    con.disconnect()


def _coverage(sim_values: np.ndarray, real: np.ndarray, groups: pd.DataFrame,
              name: str) -> None:
    from workbench.clv.intervals import ValueDraws, _bounds, predictive_pit

    low, high = _bounds(sim_values, 0.8)
    sim = ValueDraws(groups.index, sim_values)
    pit = predictive_pit(sim, pd.Series(real, index=groups.index), np.random.default_rng(0))
    frame = groups.assign(inside=(real >= low - 1e-9) & (real <= high + 1e-9),
                          pit=pit.between(0.1, 0.9).to_numpy(), below=real < low - 1e-9,
                          above=real > high + 1e-9, zero_range=high == 0)
    cols = ["inside", "pit", "below", "above", "zero_range"]
    print(f"\n{name}: {len(frame):,} customers; literal {frame['inside'].mean():.1%}, "
          f"randomised PIT {frame['pit'].mean():.1%} (target 77-83%)")
    for key in ("band", "process"):
        table = frame.groupby(key)[cols].mean().mul(100).round(1)
        table.insert(0, "customers", frame.groupby(key).size())
        print(table.to_string())


def coverage(customers: int, as_of: date, seed: int) -> None:
    """Generate a shop past ``as_of`` and print how often the ranges held the outcome."""
    from workbench.clv import BetaGeo, GammaGamma, clv_summary, customer_value
    from workbench.clv.intervals import realised_value, value_draws
    from workbench.data import connect
    from workbench.data.sample import write_sample
    from workbench.settings import Settings

    settings = Settings()
    margin = float(settings.gross_margin)
    end = (pd.Timestamp(as_of) + pd.DateOffset(months=12)).date() + timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shop.duckdb"
        started = time.perf_counter()
        write_sample(path, customers, seed=seed, end=end, settings=settings, events=False)
        print(f"generated {customers:,} customers to {end} in "
              f"{time.perf_counter() - started:.0f} s")
        con = connect(path, settings=settings)
        summary = clv_summary(con, as_of, settings=settings)
        bg, gg = BetaGeo().fit(summary), GammaGamma().fit(summary)
        real = realised_value(con, as_of, settings=settings, margin=margin)
        real = real.reindex(summary.index, fill_value=0.0).to_numpy()
        truth = con.table("truth_customers").select("customer_id", "purchase_process")
        process = truth.to_pandas().set_index("customer_id")["purchase_process"]
        con.disconnect()
    clv = customer_value(bg, summary, gg.expected_spend(summary), as_of=as_of, margin=margin)
    share = clv.rank(method="max", pct=True)
    groups = pd.DataFrame({"band": np.select([share > 0.8, share > 0.5],
                                             ["1 high", "2 medium"], "3 low"),
                           "process": process.reindex(summary.index).to_numpy()},
                          index=summary.index)
    print(f"fitted as of {as_of}: BG/NBD {({k: round(v, 4) for k, v in bg.params_.items()})}, "
          f"Gamma-Gamma {({k: round(v, 4) for k, v in gg.params_.items()})}")
    print(f"realised total {real.sum():,.0f} vs predicted clv total {clv.sum():,.0f}")
    ours = value_draws(bg, gg, summary, as_of=as_of, margin=margin).values
    _coverage(ours, real, groups, "ours (parameter + process uncertainty)")
    _coverage(reference_draws(bg, gg, summary, as_of=as_of, margin=margin, plug_in=True),
              real, groups, "plug-in (numpy samplers, no parameter uncertainty)")
    _coverage(reference_draws(bg, gg, summary, as_of=as_of, margin=margin), real, groups,
              "reference (numpy samplers, with parameter uncertainty)")


def main() -> None:
    """Parse the arguments and run the benchmarks asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--store-as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--sample", type=int, default=3000,
                        help="customers for the reference comparison")
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time-only", action="store_true")
    parser.add_argument("--coverage-only", action="store_true")
    args = parser.parse_args()
    if not args.coverage_only:
        time_store(args.store, args.store_as_of, args.sample)
    if not args.time_only:
        coverage(args.customers, args.as_of, args.seed)


if __name__ == "__main__":
    main()
