"""Best-sellers page speed: :func:`workbench.kpi.run_products` against plain pandas, same data.

Target (issue 19, point 4): the products page within the dashboards' 5 s on the 100k-customer
store. A page opened after ``workbench refresh`` reads its kept result (the refresh warms every
period); this benchmark times the cold computation a new as-of date needs, per period, and the
same measures computed by pandas from the raw tables (read with DuckDB, then merged and grouped
in memory) as the baseline. Both run in this process; the peak memory is reported.

Usage::

    python benchmarks/bench_products.py --store /tmp/lead19/big.duckdb --as-of 2026-12-07

The numbers are reported, not asserted (they vary with the machine and its load); the exit code
is non-zero only when our net revenue per product disagrees with pandas'.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from workbench.data import NET_STATUSES, connect
from workbench.data.memo import clear_memos
from workbench.kpi import ProductsParams, run_products
from workbench.settings import Settings


def pandas_products(store: str, as_of: date, days: int, timezone: str) -> pd.DataFrame:
    """Return net revenue, units, buyers and repeat buyers per product, in pandas."""
    con = duckdb.connect(store, read_only=True)
    o, i = (con.sql(q).to_arrow_table().to_pandas() for q in (
        "select order_id, customer_id, ordered_at, status from orders",
        "select order_id, product_id, quantity, line_amount from order_items"))
    con.close()
    o["day"] = o.ordered_at.dt.tz_convert(timezone).dt.tz_localize(None)
    o = o[o.status.isin(NET_STATUSES) & (o.day < pd.Timestamp(as_of))]
    lines = i.merge(o, on="order_id")
    now = lines[lines.day >= pd.Timestamp(as_of - timedelta(days))]
    out = now.groupby("product_id").agg(net_revenue=("line_amount", "sum"),
                                        units=("quantity", "sum"))
    known = now.dropna(subset=["customer_id"])
    n_now = known.groupby(["product_id", "customer_id"]).order_id.nunique()
    n_ever = lines.dropna(subset=["customer_id"]).groupby(
        ["product_id", "customer_id"]).order_id.nunique().reindex(n_now.index)
    out["buyers"] = n_now.groupby(level=0).size()
    out["repeat_buyers"] = (n_now >= 2).groupby(level=0).sum()
    out["repeat_buyers_ever"] = (n_ever >= 2).groupby(level=0).sum()
    return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Time both implementations per period and compare their numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="/tmp/lead19/big.duckdb")
    parser.add_argument("--as-of", default="2026-12-07")
    parser.add_argument("--periods", default="7,30,90,365")
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)
    settings = Settings(timezone="Asia/Seoul")
    con = connect(args.store, settings=settings)
    bad = 0
    print("period  ours_s  pandas_s  ratio  peak_mb")
    for days in (int(d) for d in args.periods.split(",")):
        clear_memos()
        started = time.perf_counter()
        result = run_products(con, ProductsParams(as_of=as_of, period_days=days, language="en"),
                              settings=settings)
        ours = time.perf_counter() - started
        started = time.perf_counter()
        reference = pandas_products(args.store, as_of, days, settings.timezone)
        theirs = time.perf_counter() - started
        got = result.products.set_index("product_id").reindex(reference.index)
        for column in ("net_revenue", "units", "buyers", "repeat_buyers", "repeat_buyers_ever"):
            if not np.allclose(got[column].astype(float), reference[column].astype(float)):
                print(f"  {days} days: {column} differs from pandas")
                bad += 1
        print(f"{days:>6}  {ours:6.2f}  {theirs:8.2f}  {theirs / ours:5.1f}  {_peak_mb():7.0f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
