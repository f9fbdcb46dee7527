"""Customer facts + RFM speed: Ibis against one hand-written DuckDB query, and against lifetimes.

Targets (issue "customer facts as of a date"):

1. ``customer_facts`` + ``score_rfm`` executed to Arrow take at most 1.3x the time of one
   hand-written DuckDB SQL query computing the same columns on the same store, in the same
   process, with identical results (checked column by column, floats with a tolerance).
2. Our BG/NBD summary (``frequency``, ``recency``, ``T``, ``monetary_value``) is at least 3x
   faster than ``lifetimes.utils.summary_data_from_transaction_data`` on the same 1M
   transactions, with the same numbers.

The store is the 1M-customer sample (about 10M orders, 15M order lines), written once with
``workbench.data.sample.write_sample(path, 1_000_000, seed=1, end=2026-11-30)`` (about 2.5 min,
1.5 GB) and cached at ``/tmp/bench-1m.duckdb``: an existing file is reused, never deleted.

lifetimes is never a dependency of workbench. It runs in its own virtual environment, in a
subprocess, on a Parquet file of the 1M transactions this script exports::

    python3.11 -m venv /tmp/lifetimes-venv
    /tmp/lifetimes-venv/bin/pip install -r benchmarks/requirements-lifetimes.txt

Usage::

    python benchmarks/bench_features.py                      # 1M customers, cached store
    python benchmarks/bench_features.py --customers 20000 --store /tmp/bench-20k.duckdb
    python benchmarks/bench_features.py --repeat 3 --skip-lifetimes
    python benchmarks/bench_features.py --show-sql            # print the SQL Ibis compiles

Prints the median seconds of each side, the ratios and the peak RSS, and exits non-zero when
results differ. The speed targets are reported, not asserted (timings vary between machines).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

# duckdb's .df() trips a pandas 3.1 deprecation warning inside pandas; not ours to act on.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*inplace.*")

TZ = "Asia/Seoul"
DEFAULT_STORE = Path("/tmp/bench-1m.duckdb")
LIFETIMES_VENV = Path("/tmp/lifetimes-venv")
REQUIREMENTS = Path(__file__).with_name("requirements-lifetimes.txt")
BINS = 5

# The same columns as customer_facts + score_rfm in one DuckDB query: a LAG window for the gaps,
# FILTERed sums for the windows, QUALIFY for the top category. The purchase day uses the fastest
# form measured (epoch_us plus the zone's fixed offset: Asia/Seoul has not changed its offset
# since 1988); "(ordered_at AT TIME ZONE 'Asia/Seoul')::DATE" or "ordered_at::DATE" in a Seoul
# session give the same days 5-15% slower, which would flatter the Ibis side.
REFERENCE_SQL = """
WITH net AS (
  SELECT order_id, customer_id, ordered_at, amount,
         DATE '1970-01-01' + ((epoch_us(ordered_at) + {offset_us}) // 86400000000)::INTEGER AS day
  FROM orders
  WHERE customer_id IS NOT NULL AND status IN ('paid', 'shipped', 'delivered', 'confirmed')
    AND ordered_at < TIMESTAMPTZ '{end}'
), days AS (
  SELECT customer_id, day, count(*) AS n, sum(amount) AS revenue,
         min(ordered_at) AS first_at, max(ordered_at) AS last_at
  FROM net GROUP BY ALL
), gaps AS (
  SELECT *, day - lag(day) OVER (PARTITION BY customer_id ORDER BY day) AS gap FROM days
), per AS (
  SELECT customer_id, min(first_at) AS first_order_at, max(last_at) AS last_order_at,
         sum(n) AS orders, count(*) AS purchase_days, sum(revenue) AS net_revenue,
         avg(gap) AS mean_days_between, median(gap) AS median_days_between,
         {windows},
         min(day) AS first_day, max(day) AS last_day,
         coalesce(avg(revenue) FILTER (WHERE gap IS NOT NULL), 0) AS monetary_value
  FROM gaps GROUP BY ALL
), top AS (
  SELECT customer_id, category AS top_category FROM (
    SELECT customer_id, category, sum(line_amount) AS v
    FROM order_items JOIN net USING (order_id)
    WHERE category IS NOT NULL GROUP BY ALL)
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY v DESC, category) = 1
), facts AS (
  SELECT customer_id, first_order_at, last_order_at, orders, purchase_days, net_revenue,
         net_revenue / orders AS aov,
         (epoch(TIMESTAMPTZ '{end}') - epoch(last_order_at)) / 86400 AS recency_days,
         (epoch(TIMESTAMPTZ '{end}') - epoch(first_order_at)) / 86400 AS tenure_days,
         mean_days_between, median_days_between, {window_names}, top_category,
         purchase_days - 1 AS frequency, (last_day - first_day)::DOUBLE AS recency,
         (DATE '{last_day}' - first_day)::DOUBLE AS "T", monetary_value
  FROM per LEFT JOIN top USING (customer_id)
)
SELECT *,
       (floor((rank() OVER (ORDER BY recency_days DESC) - 1) * {bins}
              / count(*) OVER ()) + 1)::TINYINT AS r_score,
       (floor((rank() OVER (ORDER BY orders) - 1) * {bins}
              / count(*) OVER ()) + 1)::TINYINT AS f_score,
       (floor((rank() OVER (ORDER BY net_revenue) - 1) * {bins}
              / count(*) OVER ()) + 1)::TINYINT AS m_score,
       concat_ws('-', r_score, f_score, m_score) AS rfm_cell
FROM facts
"""

LIFETIMES_SCRIPT = """
import json, sys, time
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
src, end, out = sys.argv[1:4]
tx = pd.read_parquet(src)
t0 = time.perf_counter()
summary = summary_data_from_transaction_data(tx, "customer_id", "date", "amount",
                                             observation_period_end=end, freq="D")
seconds = time.perf_counter() - t0
summary.reset_index().to_parquet(out)
# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's at fork.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "rows": len(summary), "rss_mb": int(hwm.split()[1]) / 1024}))
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median_time(fn, repeat: int) -> float:
    fn()  # warm up: the first run reads the file's blocks
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _median_times(a, b, repeat: int) -> tuple[float, float]:
    """Time two functions alternately, so load from other processes hits both alike."""
    a(), b()  # warm up: the first run reads the file's blocks
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((a, runs[0]), (b, runs[1])):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(runs[0]), statistics.median(runs[1])


def _build(path: Path, customers: int, end: date) -> None:
    from workbench.data.sample import write_sample
    from workbench.settings import Settings

    write_sample(path, customers, seed=1, end=end, settings=Settings(timezone=TZ))


def _reference_sql(as_of: date) -> str:
    from workbench.features import WINDOWS

    windows = ",\n         ".join(
        f"coalesce(sum(n) FILTER (WHERE day >= DATE '{as_of - timedelta(days=w)}'), 0) "
        f"AS orders_{w}d, coalesce(sum(revenue) FILTER (WHERE day >= "
        f"DATE '{as_of - timedelta(days=w)}'), 0) AS net_revenue_{w}d" for w in WINDOWS)
    names = ", ".join([*(f"orders_{w}d" for w in WINDOWS), *(f"net_revenue_{w}d" for w in WINDOWS)])
    offset_us = int(pd.Timestamp(as_of).tz_localize(TZ).utcoffset().total_seconds()) * 1_000_000
    return REFERENCE_SQL.format(offset_us=offset_us, end=f"{as_of} 00:00:00{_offset(as_of)}",
                                windows=windows, window_names=names,
                                last_day=as_of - timedelta(days=1), bins=BINS)


def _offset(as_of: date) -> str:
    offset = pd.Timestamp(as_of).tz_localize(TZ).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def _compare(ours: pd.DataFrame, ref: pd.DataFrame, key: str = "customer_id") -> list[str]:
    """Return the columns that differ (sorted by key; floats with a relative tolerance)."""
    ours = ours.sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True)[list(ours.columns)]
    if len(ours) != len(ref):
        return [f"rows: {len(ours)} != {len(ref)}"]
    bad = []
    for col in ours.columns:
        a, b = ours[col], ref[col]
        if pd.api.types.is_datetime64_any_dtype(a):
            same = (a.isna() & b.isna()) | (a == b)
        elif pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy("float64", na_value=np.nan), b.to_numpy("float64", na_value=np.nan)
            same = np.isclose(x, y, rtol=1e-9, atol=1e-6, equal_nan=True)
        else:
            same = (a.isna() & b.isna()) | (a.astype("string") == b.astype("string"))
        if not bool(np.all(same)):
            bad.append(f"{col} ({int((~np.asarray(same, bool)).sum())} rows)")
    return bad


def bench_sql(store: Path, as_of: date, repeat: int, show_sql: bool) -> bool:
    import duckdb
    import ibis

    from workbench.data import connect
    from workbench.features import customer_facts
    from workbench.rfm.scoring import score_rfm
    from workbench.settings import Settings

    settings = Settings(timezone=TZ)
    con = connect(store, settings=settings)
    orders, items = con.table("orders"), con.table("order_items")
    sizes = {"customers": con.table("customers").count().execute(),
             "orders": orders.count().execute(), "order_items": items.count().execute()}
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))

    def ours_expr():
        facts = customer_facts(orders, as_of=as_of, timezone=TZ, items=items)
        return score_rfm(facts, bins=BINS)

    if show_sql:
        print(ibis.to_sql(ours_expr()))
    raw = duckdb.connect(str(store), read_only=True)
    raw.execute(f"SET TimeZone = '{TZ}'")
    sql = _reference_sql(as_of)

    ours, ref = _median_times(lambda: ours_expr().to_pyarrow(),
                              lambda: raw.execute(sql).to_arrow_table(), repeat)
    bad = _compare(ours_expr().to_pandas(), raw.execute(sql).df())
    print(f"customer_facts + score_rfm (Ibis, to Arrow): {ours:.2f} s (median of {repeat})")
    print(f"hand-written DuckDB SQL, same columns:      {ref:.2f} s")
    print(f"ratio ours / SQL: {ours / ref:.2f}x (target <= 1.3x)")
    print("results identical" if not bad else f"RESULTS DIFFER in {bad}")
    print(f"peak RSS so far: {_rss_mb():,.0f} MB")
    raw.close()
    return not bad


def export_transactions(store: Path, as_of: date, n: int, target: Path) -> int:
    """Write ``n`` net transactions (customer_id, date, ordered_at, amount) to Parquet."""
    import duckdb

    raw = duckdb.connect(str(store), read_only=True)
    raw.execute(f"SET TimeZone = '{TZ}'")
    raw.execute(f"""
        COPY (SELECT customer_id, ordered_at AT TIME ZONE '{TZ}' AS date, ordered_at, amount
              FROM orders
              WHERE customer_id IS NOT NULL
                AND status IN ('paid', 'shipped', 'delivered', 'confirmed')
                AND ordered_at < TIMESTAMPTZ '{as_of} 00:00:00{_offset(as_of)}'
              ORDER BY customer_id, ordered_at LIMIT {n})
        TO '{target}' (FORMAT parquet)""")
    rows = raw.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    raw.close()
    return rows


def bench_lifetimes(store: Path, as_of: date, repeat: int, n: int) -> bool:
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        print(f"lifetimes comparison skipped: no virtual environment at {LIFETIMES_VENV}.\n"
              f"Create it with:\n  python3.11 -m venv {LIFETIMES_VENV}\n"
              f"  {LIFETIMES_VENV}/bin/pip install -r {REQUIREMENTS}")
        return True
    with tempfile.TemporaryDirectory(prefix="bench-features-") as folder:
        return _compare_lifetimes(store, as_of, repeat, n, python, Path(folder))


def _compare_lifetimes(store: Path, as_of: date, repeat: int, n: int, python: Path,
                       folder: Path) -> bool:
    import ibis

    from workbench.features import customer_facts

    source, out = folder / "transactions.parquet", folder / "lifetimes.parquet"
    rows = export_transactions(store, as_of, n, source)
    print(f"\nexported {rows:,} net transactions (customer_id, local date, amount) to Parquet")

    con = ibis.duckdb.connect()
    con.raw_sql(f"SET TimeZone = '{TZ}'")
    tx = con.create_table("tx", con.read_parquet(source).mutate(status=ibis.literal("paid")))
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]

    def ours_expr():
        return customer_facts(tx, as_of=as_of, timezone=TZ).select(*columns)

    ours = _median_time(lambda: ours_expr().to_pyarrow(), repeat)
    end = (as_of - timedelta(days=1)).isoformat()
    runs = []
    for _ in range(max(1, min(repeat, 3))):
        done = subprocess.run([str(python), "-c", LIFETIMES_SCRIPT, str(source), end, str(out)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"lifetimes failed:\n{done.stderr[-3000:]}")
            return False
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    theirs = statistics.median(r["seconds"] for r in runs)
    ref = pd.read_parquet(out)
    ref["customer_id"] = ref["customer_id"].astype(str)
    bad = _compare(ours_expr().to_pandas(), ref)
    print(f"BG/NBD summary on {rows:,} transactions ({len(ref):,} customers):")
    print(f"  ours (customer_facts, DuckDB): {ours:.3f} s (median of {repeat})")
    print(f"  lifetimes 0.11.3 summary_data_from_transaction_data: {theirs:.3f} s "
          f"(median of {len(runs)}, in {LIFETIMES_VENV}, peak RSS "
          f"{max(r['rss_mb'] for r in runs):,.0f} MB)")
    print(f"  speed-up: {theirs / ours:.1f}x (target >= 3x)")
    print("  summaries agree" if not bad else f"  SUMMARIES DIFFER in {bad}")
    return not bad


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE,
                        help=f"DuckDB sample store; written if missing (default {DEFAULT_STORE})")
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers when the store has to be written (default 1,000,000)")
    parser.add_argument("--end", default="2026-11-30", help="sample end and as_of (ISO date)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side (median)")
    parser.add_argument("--transactions", type=int, default=1_000_000,
                        help="transactions for the lifetimes comparison (default 1,000,000)")
    parser.add_argument("--skip-lifetimes", action="store_true",
                        help="only compare against the hand-written SQL")
    parser.add_argument("--show-sql", action="store_true", help="print the SQL Ibis compiles")
    args = parser.parse_args()

    as_of = date.fromisoformat(args.end)
    if not args.store.exists():
        t0 = time.perf_counter()
        # A child process builds the store, so the peak RSS below is that of the timed work.
        child = multiprocessing.Process(target=_build, args=(args.store, args.customers, as_of))
        child.start()
        child.join()
        if child.exitcode != 0:
            print("building the store failed", file=sys.stderr)
            return 1
        print(f"store with {args.customers:,} customers written in "
              f"{time.perf_counter() - t0:.0f} s -> {args.store}")
    else:
        print(f"reusing {args.store}")
    ok = bench_sql(args.store, as_of, args.repeat, args.show_sql)
    if not args.skip_lifetimes:
        ok = bench_lifetimes(args.store, as_of, args.repeat, args.transactions) and ok
    print(f"\npeak RSS of this process: {_rss_mb():,.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
