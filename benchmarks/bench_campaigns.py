"""Campaigns page speed: 100k customers and two years of campaigns, Ibis against hand-written SQL.

Target (issue 17): the campaigns page (:func:`workbench.abtest.campaign_impact` behind
``notebooks/campaigns.ipynb``: every campaign arm against its holdout, the roll-ups by channel
and month, the headline and the weekly tile) renders in at most 5 s at 100,000 customers with
two years of campaigns (~50).

The reference is one hand-written DuckDB query computing the same per-(campaign, arm) sums
(orders, revenue, revenue before the campaign's coupons, their squares, coupon discounts,
messages delivered, opened, clicked, opted out) from the same store in the same process; the
sums must agree. The statistics on ~100 rows of sums take milliseconds; the aggregation is
where the time goes.

The store is the sample generator's shop (``workbench sample --customers 100000``), cached at
``/tmp/bench-campaigns-100k.duckdb`` (an existing file is reused; building it takes 2-3
minutes).

Usage::

    python benchmarks/bench_campaigns.py
    python benchmarks/bench_campaigns.py --store /tmp/i17/big.duckdb --repeat 5

Prints the median seconds (wall and CPU) of each side, the ratio, the page time with and without
a global holdout, and the peak RSS; exits non-zero when the sums differ. The target is reported,
not asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore", category=DeprecationWarning)

DEFAULT_STORE = Path("/tmp/bench-campaigns-100k.duckdb")
AS_OF = date(2026, 11, 16)
WINDOW = 14

REFERENCE_SQL = """
WITH w AS (
  SELECT campaign_id, started_at AS t0, started_at + INTERVAL {window} DAY AS t1
  FROM campaigns WHERE started_at < TIMESTAMPTZ '{end}'
), a AS (
  SELECT a.campaign_id, a.customer_id, a.variant, w.t0, w.t1
  FROM assignments a JOIN w USING (campaign_id)
), k AS (
  SELECT * FROM (VALUES {codes}) AS k(campaign_id, coupon_code)
), per AS (
  SELECT a.campaign_id, a.customer_id,
    count(*) FILTER (WHERE o.status IN ('paid', 'shipped', 'delivered', 'confirmed')) AS orders,
    coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'shipped', 'delivered',
                                                      'confirmed')), 0) AS revenue,
    coalesce(sum(o.discount) FILTER (WHERE o.status IN ('paid', 'shipped', 'delivered',
                                                        'confirmed')
                                     AND k.coupon_code IS NOT NULL), 0) AS coupon
  FROM a JOIN orders o ON o.customer_id = a.customer_id
    AND o.ordered_at >= a.t0 AND o.ordered_at < a.t1 AND o.ordered_at < TIMESTAMPTZ '{end}'
  LEFT JOIN k ON k.campaign_id = a.campaign_id AND k.coupon_code = o.coupon_code
  GROUP BY a.campaign_id, a.customer_id
), m AS (
  SELECT campaign_id, customer_id, 1 AS attempted,
    (status IS NULL OR status <> 'failed') AS ok,
    opened_at, clicked_at, unsubscribed_at
  FROM messages
), c AS (
  SELECT a.campaign_id, a.variant, coalesce(p.orders, 0)::DOUBLE AS orders,
    coalesce(p.revenue, 0) AS revenue, coalesce(p.coupon, 0) AS coupon,
    coalesce(m.attempted, 0) AS attempted, coalesce(m.ok, FALSE)::INT AS sent,
    coalesce(m.ok AND m.opened_at < TIMESTAMPTZ '{end}', FALSE)::INT AS opened,
    coalesce(m.ok AND m.clicked_at < TIMESTAMPTZ '{end}', FALSE)::INT AS clicked,
    coalesce(m.ok AND m.unsubscribed_at < a.t1
             AND m.unsubscribed_at < TIMESTAMPTZ '{end}', FALSE)::INT AS unsubscribed
  FROM a LEFT JOIN per p USING (campaign_id, customer_id)
  LEFT JOIN m USING (campaign_id, customer_id)
)
SELECT campaign_id, variant, count(*) AS n, sum((orders > 0)::INT) AS conversions,
  sum(orders) AS sum_orders, sum(orders * orders) AS sum_orders_sq,
  sum(revenue) AS sum_revenue, sum(revenue * revenue) AS sum_revenue_sq,
  sum(revenue + coupon) AS sum_gross, sum((revenue + coupon) * (revenue + coupon)) AS sum_gross_sq,
  sum(coupon) AS sum_coupon, sum(attempted) AS attempted, sum(sent) AS sent,
  sum(opened) AS opened, sum(clicked) AS clicked, sum(unsubscribed) AS unsubscribed
FROM c GROUP BY campaign_id, variant
"""


def median_time(fn, repeat: int) -> tuple[float, object, float]:
    """Return the median wall seconds, the last result and the median CPU seconds.

    CPU seconds (all threads of this process) are reported too because the machine is shared:
    with other jobs running, wall time overstates what the work needs.
    """
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), out, statistics.median(cpu)


def page_seconds(store: Path, settings) -> float:
    """Return the seconds the dashboard page takes to compute and draw (its wb-done marker)."""
    import re

    from workbench.abtest import CampaignsParams
    from workbench.ui.campaigns import CampaignsPage

    page = CampaignsPage(CampaignsParams(as_of=AS_OF, store=str(store), mode="dashboard",
                                         window_days=WINDOW), settings=settings)
    with contextlib.redirect_stdout(io.StringIO()):  # figures print outside a notebook
        page.widget()
    marker = re.search(r"data-seconds='([\d.]+)'", page.w_status.value)
    page.con.disconnect()
    return float(marker.group(1)) if marker else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, default=DEFAULT_STORE)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import os

    os.environ["WORKBENCH_PAGE_CACHE"] = "0"  # measure the computation, not the page cache
    if not args.store.exists():
        if args.store != DEFAULT_STORE:
            print(f"{args.store} does not exist", file=sys.stderr)
            return 2
        from workbench.data.sample import write_sample

        started = time.perf_counter()
        write_sample(args.store, 100_000, seed=42, end=AS_OF)
        print(f"built {args.store} in {time.perf_counter() - started:.0f} s")

    from workbench.abtest import impact
    from workbench.data import connect
    from workbench.dates import cutoff
    from workbench.settings import Settings

    settings = Settings(store=str(args.store), timezone="Asia/Seoul")
    con = connect(args.store, settings=settings)
    raw = con.con  # the same DuckDB connection, for the hand-written query
    raw.execute("SET enable_progress_bar = false")
    counts = raw.execute("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders),"
                         " (SELECT count(*) FROM campaigns), (SELECT count(*) FROM assignments)"
                         ).fetchone()
    print(f"store {args.store}: {counts[0]:,} customers, {counts[1]:,} orders, "
          f"{counts[2]} campaigns, {counts[3]:,} assignments")
    end = cutoff(AS_OF, settings.timezone)

    def ours() -> pd.DataFrame:
        rows = impact._campaign_rows(con, end, settings.timezone)
        a = impact._assigned(con, end, WINDOW)
        ow = impact._window_orders(con, a, pd.Timestamp(rows["started_at"].min()))
        codes = impact._coupon_codes(a, ow)
        return impact._arm_sums(con, a, ow, codes, end), codes

    ours()  # warm-up (file cache, imports)
    t_ours, (sums, codes), c_ours = median_time(ours, args.repeat)
    values = ", ".join(f"('{r.campaign_id}', '{r.coupon_code}')" for r in codes.itertuples())
    sql = REFERENCE_SQL.format(window=WINDOW, end=end.isoformat(),
                               codes=values or "(NULL, NULL)")
    t_ref, ref, c_ref = median_time(lambda: raw.execute(sql).df(), args.repeat)

    key = ["campaign_id", "variant"]
    a_ = sums.sort_values(key).reset_index(drop=True)
    b_ = ref.sort_values(key).reset_index(drop=True)
    cols = [c for c in b_.columns if c not in key]
    same = (a_[key].astype(str).values.tolist() == b_[key].astype(str).values.tolist()
            and np.allclose(a_[cols].to_numpy(float), b_[cols].to_numpy(float), rtol=1e-9))

    t_full, result, c_full = median_time(
        lambda: impact.campaign_impact(con, as_of=AS_OF, window_days=WINDOW, settings=settings),
        args.repeat)
    held = settings.replace(global_holdout=0.05)
    t_held, held_result, c_held = median_time(
        lambda: impact.campaign_impact(con, as_of=AS_OF, window_days=WINDOW, settings=held),
        args.repeat)
    con.disconnect()
    page = statistics.median(page_seconds(args.store, settings) for _ in range(args.repeat))
    page_held = statistics.median(page_seconds(args.store, held) for _ in range(args.repeat))

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"load average while measuring: {load}")
    print(f"campaigns with a holdout: {result.total['campaigns'].iloc[0]}, arms "
          f"{len(result.campaigns)}")
    print(f"aggregation, Ibis (ours):        {t_ours:6.2f} s wall, {c_ours:6.2f} s CPU")
    print(f"aggregation, hand-written SQL:   {t_ref:6.2f} s wall, {c_ref:6.2f} s CPU")
    print(f"ratio ours / reference:          {t_ours / t_ref:6.2f} wall, "
          f"{c_ours / c_ref:6.2f} CPU")
    print(f"campaign_impact, no global holdout: {t_full:6.2f} s wall, {c_full:6.2f} s CPU")
    print(f"campaign_impact, 5% global holdout: {t_held:6.2f} s wall, {c_held:6.2f} s CPU")
    for name, seconds in (("page, no global holdout", page), ("page, 5% global holdout",
                                                               page_held)):
        print(f"{name}:  {seconds:6.2f} s   target <= 5 s: "
              f"{'met' if seconds <= 5 else 'NOT met'}")
    print(f"peak RSS:                        {peak:6.0f} MiB")
    print(f"per-arm sums identical:          {same}")
    print(held_result.message)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
