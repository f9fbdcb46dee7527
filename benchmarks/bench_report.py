"""Weekly report and overview speed on a sample store (issue target: report <= 30 s at 100k).

Runs, in one process:
- ours: ``run_weekly`` for the overview notebook (snapshot refresh + papermill + HTML), and
  ``run_overview`` alone (what a dashboard form change computes);
- reference: the same headline numbers (net revenue, orders, buyers of the week and the one
  before) as one raw DuckDB SQL query on the same file.
Prints seconds, the ratio and peak RSS.

    python benchmarks/bench_report.py --customers 100000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


REFERENCE_SQL = """
SET TimeZone = 'Asia/Seoul';
SELECT (ordered_at >= TIMESTAMPTZ '{cur}') AS current_week,
       sum(amount) AS net_revenue, count(*) AS orders, count(DISTINCT customer_id) AS buyers
FROM orders
WHERE status IN ('paid', 'shipped', 'delivered', 'confirmed')
  AND ordered_at >= TIMESTAMPTZ '{prev}' AND ordered_at < TIMESTAMPTZ '{end}'
GROUP BY ALL ORDER BY 1
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--end", default="2026-11-16")
    parser.add_argument("--store", help="reuse an existing sample store instead of generating")
    args = parser.parse_args()

    from workbench.data import connect
    from workbench.data.sample import write_sample
    from workbench.kpi import run_overview
    from workbench.reporting import OverviewParams, run_weekly

    end = date.fromisoformat(args.end)
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    store = Path(args.store) if args.store else work / "shop.duckdb"
    if not args.store or not store.exists():
        t0 = time.perf_counter()
        write_sample(store, args.customers, seed=1, end=end)
        print(f"sample store: {args.customers:,} customers in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    run = run_weekly(end, store=str(store), out_dir=work / "reports")
    report_s = time.perf_counter() - t0

    con = connect(store)
    params = OverviewParams(as_of=end, period="W")
    run_overview(con, params)  # warm up (first query compiles and loads the file)
    t0 = time.perf_counter()
    runs = 5
    for _ in range(runs):
        run_overview(con, params)
    overview_s = (time.perf_counter() - t0) / runs

    raw = duckdb.connect(str(store), read_only=True)
    sql = REFERENCE_SQL.format(prev="2026-11-02 00:00:00+09", cur="2026-11-09 00:00:00+09",
                               end="2026-11-16 00:00:00+09")
    raw.execute(sql).fetchall()
    t0 = time.perf_counter()
    for _ in range(runs):
        raw.execute(sql).fetchall()
    ref_s = (time.perf_counter() - t0) / runs

    print(f"weekly report (refresh + {len(run.run['notebooks'])} notebooks + HTML): "
          f"{report_s:.1f} s -> {run.path}")
    for nb in run.run["notebooks"]:
        print(f"  {nb['name']:<10} {nb['seconds']:6.1f} s  {nb['status']}")
    print(f"run_overview (every tile, drivers, repurchase, trend): {overview_s * 1000:.0f} ms")
    print(f"reference raw DuckDB SQL (week tiles only):          {ref_s * 1000:.1f} ms")
    print(f"ratio ours / reference: {overview_s / ref_s:.1f}x")
    print(f"peak RSS: this process {_rss_mb():,.0f} MB, kernels {_children_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
