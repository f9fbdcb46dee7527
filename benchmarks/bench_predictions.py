"""Next-order predictions: calibration of the 30-day probability and error of the next-order date.

Targets (issue 19, point 1):

- the 30-day purchase probability has ECE <= 0.03 on a 90-day holdout, on the 100k sample and on
  CDNOW (ten **equal-width** bins; ECE is the customer-weighted mean |predicted - observed|);
- the next-order date has a smaller median absolute error (days) than the naive "last order +
  the customer's median gap" among customers who ordered in the holdout.

The check is :func:`workbench.clv.next_order.holdout_check`: predictions made at
``as_of - 90 days`` (their blend tuned and recalibrated on the 90 days before that, never on the
holdout) and compared with the first net order of each customer in the 90 days that follow.
Besides ours it prints the references on the same customers in the same process: the raw
BG/NBD probability (before blend and recalibration), and for the date the model alone, the
customer's cycle alone, the naive rule and the naive rule clipped to the origin (an overdue
date becomes "today"). The naive rule gives a customer with one purchase day the shop's median
of the customers' median gaps after their only purchase.

The refresh cost is the snapshot part alone (:func:`next_order_part`, fresh process): the query
of every customer's purchase days plus two BG/NBD fits and the calibration.

Usage::

    python benchmarks/bench_predictions.py                      # /tmp/lead19/big.duckdb
    python benchmarks/bench_predictions.py --store other.duckdb --as-of 2026-12-08
    python benchmarks/bench_predictions.py --cdnow              # data/cdnow/CDNOW_master.txt

Prints numbers, seconds and peak memory; targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STORE = Path("/tmp/lead19/big.duckdb")
CDNOW = ROOT / "data" / "cdnow" / "CDNOW_master.txt"
#: The day after CDNOW's last purchase (1998-06-30).
CDNOW_AS_OF = date(1998, 7, 1)


def _hwm_mb() -> float:
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def report(con, as_of: date, settings, name: str) -> dict:
    """Run the holdout check as of ``as_of`` and print its numbers."""
    from workbench.clv.next_order import holdout_check

    started = time.perf_counter()
    check = holdout_check(con, as_of, settings, components=True)
    seconds = time.perf_counter() - started
    if check is None:
        print(f"{name}: the model refused the data")
        return {}
    fit = check["fit"]
    print(f"\n== {name}: predictions at {check['origin']} (holdout to {as_of}), "
          f"{len(fit.customers):,} customers; check {seconds:.1f} s")
    print(f"blend m={fit.m:g} pseudo-gaps, date k0={fit.k0:g}, calibrated on "
          f"{fit.calibration_origin} ({'yes' if fit.calibrated else 'no'})")
    print(f"ECE 30-day probability (10 equal-width bins): ours {check['ece']:.4f}, "
          f"raw BG/NBD {check['ece_raw']:.4f} (target <= 0.03)")
    table = check["reliability"].round(4)
    print("reliability (ours):")
    print(table.to_string(index=False))
    print("30-day probability, blend vs components (each recalibrated on the earlier origin):")
    print(check["scores"].round(4).to_string(index=False))
    print("median absolute error of the next-order date (days), holdout buyers:")
    print(check["dates"].round(1).to_string(index=False))
    return check


def big(store: Path, as_of: date | None) -> None:
    """The 100k sample: holdout check and the refresh cost of the snapshot part."""
    from workbench.clv.next_order import next_order_part
    from workbench.data import connect
    from workbench.settings import Settings

    settings = Settings(store=str(store))
    con = connect(str(store), settings=settings)
    as_of = as_of or date(2026, 12, 8)
    started = time.perf_counter()
    part = next_order_part(con, as_of=as_of, settings=settings)
    seconds = time.perf_counter() - started
    rows = part.count().execute() if part is not None else 0
    print(f"snapshot part as of {as_of}: {rows:,} customers in {seconds:.1f} s "
          f"(target < 15 s added to the refresh); peak memory {_hwm_mb():,.0f} MB")
    report(con, as_of, settings, f"sample {store.name}")
    print(f"peak memory {_hwm_mb():,.0f} MB")


def cdnow() -> None:
    """CDNOW_master.txt loaded with the shipped ``cdnow`` mapping, checked at its end."""
    from workbench.data import connect
    from workbench.data.load import load_file
    from workbench.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "cdnow.duckdb"
        settings = Settings(store=str(store), currency="USD")
        load_file("orders", CDNOW, mapping="cdnow", store=store, settings=settings)
        con = connect(str(store), settings=settings)
        report(con, CDNOW_AS_OF, settings, "CDNOW (23,570 customers, 1997-01 to 1998-06)")
        con.disconnect()
    print(f"peak memory {_hwm_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="the end of the holdout (default 2026-12-08, the sample's end)")
    parser.add_argument("--cdnow", action="store_true", help="CDNOW instead of the sample")
    args = parser.parse_args()
    pd.set_option("display.width", 140)
    if args.cdnow:
        cdnow()
    else:
        big(args.store, args.as_of)


if __name__ == "__main__":
    main()
