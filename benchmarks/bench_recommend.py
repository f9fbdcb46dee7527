"""Next-product recommendations: our two methods and implicit's ALS against two baselines.

Issue 19, point 4: trained on net orders before a cutoff, each method recommends five
products to every customer with history; the truth is the customer's first net order from the
cutoff on. Hit rate@5 and NDCG@5 (:func:`workbench.recommend.evaluate_recommender`) of

- ``co_purchase`` (item-to-item, the snapshot's method) and ``factors`` (PureSVD), ours;
- ``als``: implicit-feedback ALS from the ``implicit`` library (optional extra
  ``workbench[recommend]``; skipped when it is not installed), under the same shop rules;
- the baselines ``best_sellers`` and ``category_best_sellers``

on two data sets, in the same process:

1. the sample shop (``--customers``, default 20,000; generated once into ``--cache``), cutoff
   2026-08-01 for a sample ending 2026-11-16;
2. the UCI Online Retail layout: ``tests/fixtures/online_retail_like.csv`` (written by
   ``tests/fixtures/make_online_retail_like.py``; the real file is not available offline)
   loaded with ``--mapping online_retail``, cutoff 2011-09-01.

Then the snapshot part's time (``recommend_part``, what ``workbench refresh`` adds) on
``--big`` when that store exists. Prints one table per data set, the part's seconds and the
peak RSS.

Usage::

    python benchmarks/bench_recommend.py
    python benchmarks/bench_recommend.py --customers 5000 --big /tmp/lead19/big.duckdb
    python benchmarks/bench_recommend.py --no-rules --big none
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from datetime import date
from pathlib import Path

import pandas as pd

from workbench.data import connect
from workbench.data.load import load_file
from workbench.data.sample import write_sample
from workbench.recommend import METHODS, evaluate_recommender, recommend_part
from workbench.settings import Settings

warnings.filterwarnings("ignore", category=DeprecationWarning)

RETAIL = Path(__file__).parents[1] / "tests" / "fixtures" / "online_retail_like.csv"


def _table(store: Path, as_of: date, rules: bool) -> pd.DataFrame:
    settings = Settings(store=str(store))
    con = connect(store, settings=settings)
    return evaluate_recommender(con, as_of=as_of, settings=settings, methods=tuple(METHODS),
                                rules=rules)


def main() -> None:
    """Run the comparison and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bench-recommend"))
    parser.add_argument("--big", type=Path, default=Path("/tmp/lead19/big.duckdb"))
    parser.add_argument("--no-rules", action="store_true",
                        help="without the 'just bought' rule (every list, baselines too)")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    shop = args.cache / f"shop-{args.customers}.duckdb"
    if not shop.exists():
        write_sample(shop, args.customers, seed=3, end=date(2026, 11, 16))
    retail = args.cache / "online-retail-like.duckdb"
    if not retail.exists():
        load_file("orders", RETAIL, mapping="online_retail", store=retail)
    pd.set_option("display.width", 120)
    for label, store, as_of in (
            (f"sample shop, {args.customers:,} customers, cutoff 2026-08-01", shop,
             date(2026, 8, 1)),
            ("UCI Online Retail layout (online_retail_like.csv), cutoff 2011-09-01", retail,
             date(2011, 9, 1))):
        print(f"\n{label}")
        print(_table(store, as_of, not args.no_rules).round(4).to_string(index=False))
    if args.big.exists():
        settings = Settings(store=str(args.big))
        con = connect(args.big, settings=settings)
        start = time.perf_counter()
        rows = recommend_part(con, as_of=date(2026, 11, 16), settings=settings).count().execute()
        print(f"\nsnapshot part on {args.big} ({rows:,} customers): "
              f"{time.perf_counter() - start:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
