"""KPI overview speed: ``run_overview`` against the same tiles in raw DuckDB SQL (target < 2 s).

Builds a synthetic store with plain numpy (about 100k customers, 1M orders and 2M visit/login
events over three years; it does not depend on the sample generator), then times, in one process:

- ours: :func:`workbench.kpi.run_overview` (every tile, the LMDI drivers, repurchase rate,
  Kaplan-Meier curve and the weekly trend), what a dashboard form change computes;
- reference: the eleven tiles of the current and previous week as hand-written DuckDB SQL on a
  raw ``duckdb`` connection to the same file (no drivers, no repurchase, no trend, no figures).

Prints the median seconds of each, the ratio and the peak RSS of the process. The store is
written by a child process, so the peak RSS is that of the timed work, not of building the data.

    python benchmarks/bench_kpi.py                       # 100k customers, ~1M orders
    python benchmarks/bench_kpi.py --customers 20000 --repeat 3
    python benchmarks/bench_kpi.py --sample              # workbench.data.sample instead of numpy
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

TZ = "Asia/Seoul"
STATUSES = np.array(["paid", "shipped", "delivered", "confirmed", "cancelled", "returned",
                     "pending"])
STATUS_P = [0.05, 0.04, 0.45, 0.34, 0.07, 0.03, 0.02]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _times(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> pd.DatetimeIndex:
    seconds = low + rng.random(len(low)) * (high - low)
    return pd.to_datetime(seconds.astype("int64"), unit="s", utc=True).tz_convert(TZ)


def build_store(path: Path, customers: int, *, end: date, years: int = 3, seed: int = 1) -> int:
    """Write a synthetic shop into ``path`` with numpy only; return the number of orders."""
    from workbench.data import write_store
    from workbench.settings import Settings

    rng = np.random.default_rng(seed)
    stop = pd.Timestamp(end).tz_localize(TZ).timestamp()
    start = stop - years * 365 * 86400
    ids = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 7))
    first = start + rng.random(customers) * (stop - start)
    # Heterogeneous purchase counts (gamma-Poisson, as in BG/NBD-style synthetic data).
    n = 1 + rng.poisson(rng.gamma(0.9, 9.0, customers))
    owner = np.repeat(np.arange(customers), n)
    is_first = np.r_[True, owner[1:] != owner[:-1]]
    later = first[owner] + rng.random(len(owner)) * (stop - first[owner])
    at = np.where(is_first, first[owner], later)
    guests = int(0.08 * len(owner))
    orders = pd.DataFrame({
        "order_id": np.char.add("O", np.arange(len(owner) + guests).astype(str)),
        "customer_id": np.r_[ids[owner], np.full(guests, None, dtype=object)],
        "ordered_at": _times(rng, np.r_[at, np.full(guests, start)],
                             np.r_[at, np.full(guests, stop)]),
        "status": rng.choice(STATUSES, len(owner) + guests, p=STATUS_P),
        "amount": np.round(rng.lognormal(10.5, 0.6, len(owner) + guests), -2),
    })
    events_n = 2 * len(orders)
    who = rng.integers(0, customers, events_n)
    ev_low = np.maximum(first[who] - 30 * 86400, start)
    events = pd.DataFrame({
        "customer_id": ids[who],
        "ts": _times(rng, ev_low, np.full(events_n, stop)),
        "type": rng.choice(np.array(["visit", "login", "product_view"]), events_n,
                           p=[0.6, 0.2, 0.2]),
    })
    members = pd.DataFrame({"customer_id": ids, "is_member": rng.random(customers) < 0.7})
    with write_store(path, settings=Settings(timezone=TZ), fresh=True) as w:
        w.write("customers", members)
        w.write("orders", orders)
        w.write("events", events)
    return len(orders)


REFERENCE_SQL = """
WITH net AS (
  SELECT o.*, c.is_member,
         CASE WHEN ordered_at >= TIMESTAMPTZ '{cur}' THEN 'current' ELSE 'previous' END AS p
  FROM orders o LEFT JOIN customers c USING (customer_id)
  WHERE status IN ('paid', 'shipped', 'delivered', 'confirmed')
    AND ordered_at >= TIMESTAMPTZ '{prev}' AND ordered_at < TIMESTAMPTZ '{end}'
), first AS (
  SELECT customer_id, min(ordered_at) AS first_at FROM orders
  WHERE status IN ('paid', 'shipped', 'delivered', 'confirmed') AND customer_id IS NOT NULL
    AND ordered_at < TIMESTAMPTZ '{end}'
  GROUP BY ALL
), act AS (
  SELECT DISTINCT p, customer_id FROM (
    SELECT p, customer_id FROM net WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT CASE WHEN ts >= TIMESTAMPTZ '{cur}' THEN 'current' ELSE 'previous' END, customer_id
    FROM events WHERE type IN ('visit', 'login') AND customer_id IS NOT NULL
      AND ts >= TIMESTAMPTZ '{prev}' AND ts < TIMESTAMPTZ '{end}')
), tiles AS (
  SELECT p, sum(amount) AS net_revenue, count(*) AS orders,
         count(DISTINCT customer_id) AS buyers,
         count(customer_id) AS identified_orders,
         count(DISTINCT CASE WHEN first_at >= (CASE WHEN p = 'current' THEN TIMESTAMPTZ '{cur}'
               ELSE TIMESTAMPTZ '{prev}' END) THEN customer_id END) AS new_buyers,
         sum(CASE WHEN is_member THEN 1 ELSE 0 END) / count(*) AS member_order_share
  FROM net LEFT JOIN first USING (customer_id) GROUP BY ALL
), rev AS (
  SELECT w, customer_id, sum(amount) AS r FROM (
    SELECT 'current' AS w, * FROM orders WHERE ordered_at >= TIMESTAMPTZ '{y1}'
      AND ordered_at < TIMESTAMPTZ '{end}'
    UNION ALL
    SELECT 'previous' AS w, * FROM orders WHERE ordered_at >= TIMESTAMPTZ '{y0}'
      AND ordered_at < TIMESTAMPTZ '{cur}')
  WHERE status IN ('paid', 'shipped', 'delivered', 'confirmed') AND customer_id IS NOT NULL
  GROUP BY ALL
), top AS (
  SELECT w, sum(r) FILTER (WHERE (rn - 1) * 100 < 20 * n) / sum(r) AS top20_revenue_share FROM (
    SELECT *, row_number() OVER (PARTITION BY w ORDER BY r DESC) AS rn,
           count(*) OVER (PARTITION BY w) AS n FROM rev)
  GROUP BY ALL
)
SELECT t.*, a.active_customers, t.buyers / a.active_customers AS purchase_probability,
       t.net_revenue / t.orders AS aov, t.identified_orders / t.buyers AS orders_per_buyer,
       t.buyers - t.new_buyers AS returning_buyers, top.top20_revenue_share
FROM tiles t
JOIN (SELECT p, count(*) AS active_customers FROM act GROUP BY ALL) a USING (p)
JOIN top ON top.w = t.p
ORDER BY p
"""


def _build(path: Path, customers: int, end: date, sample: bool) -> None:
    if sample:
        from workbench.data.sample import write_sample
        from workbench.settings import Settings

        write_sample(path, customers, seed=1, end=end, settings=Settings(timezone=TZ))
    else:
        build_store(path, customers, end=end)


def _time(fn, repeat: int) -> float:
    fn()  # warm up: the first query loads the file's blocks
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--end", default="2026-11-16", help="as_of (a Monday by default)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", help="reuse a store written by an earlier run")
    parser.add_argument("--sample", action="store_true",
                        help="write the store with workbench.data.sample.write_sample")
    args = parser.parse_args()

    from workbench.data import connect
    from workbench.kpi import period_bounds, run_overview
    from workbench.reporting.params import OverviewParams
    from workbench.settings import Settings

    as_of = date.fromisoformat(args.end)
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp()) / "bench.duckdb"
    if not args.store:
        t0 = time.perf_counter()
        child = multiprocessing.Process(target=_build,
                                        args=(store, args.customers, as_of, args.sample))
        child.start()
        child.join()
        assert child.exitcode == 0, "building the store failed"
        print(f"store with {args.customers:,} customers written in "
              f"{time.perf_counter() - t0:.1f} s -> {store}")

    settings = Settings(timezone=TZ)
    con = connect(store, settings=settings)
    sizes = {t: con.table(t).count().execute() for t in ("customers", "orders", "events")}
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
    params = OverviewParams(as_of=as_of, period="W")
    ours = _time(lambda: run_overview(con, params, settings=settings), args.repeat)
    result = run_overview(con, params, settings=settings)

    prev, cur, end = period_bounds(as_of, "W")
    stamp = {k: f"{d.isoformat()} 00:00:00+09" for k, d in
             {"prev": prev, "cur": cur, "end": end, "y1": as_of - timedelta(days=365),
              "y0": as_of - timedelta(days=372)}.items()}
    raw = duckdb.connect(str(store), read_only=True)
    raw.execute(f"SET TimeZone = '{TZ}'")
    sql = REFERENCE_SQL.format(**stamp)
    ref = _time(lambda: raw.execute(sql).fetchall(), args.repeat)

    check = raw.execute(sql).df().set_index("p")
    tiles = result.tiles.set_index("metric")
    for metric in ("net_revenue", "orders", "buyers", "active_customers", "new_buyers",
                   "member_order_share", "top20_revenue_share"):
        assert np.isclose(tiles.loc[metric, "current"], check.loc["current", metric]), metric
        assert np.isclose(tiles.loc[metric, "previous"], check.loc["previous", metric]), metric
    print(f"status {result.status}: {result.message}")
    print(f"run_overview (tiles, drivers, repurchase, KM curve, {params.trend_weeks}-week trend): "
          f"{ours * 1000:.0f} ms (median of {args.repeat}; target < 2,000 ms, page 500 ms)")
    print(f"reference raw DuckDB SQL (the week's tiles only): {ref * 1000:.0f} ms")
    print(f"ratio ours / reference: {ours / ref:.1f}x")
    print(f"peak RSS: {_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
