"""Small simulated shops for coverage tests, built once and cached on disk.

``simulated_shops(500)`` yields ``(seed, connection)`` for shops of the sample generator with
seeds ``first_seed, first_seed + 1, ...``: an Ibis backend on an in-memory DuckDB holding every
table of :func:`workbench.data.sample.generate_sample` (without web events, which no coverage
check needs: ``events=False``), in the shop's time zone.

The tables of each shop are cached as Arrow IPC files under ``$WORKBENCH_SHOPS_DIR`` (default:
``<tmp>/workbench-shops``) in a folder named after a hash of the generator's source, so a
changed generator never reuses stale shops. A shop is written to a temporary folder and renamed
when complete, so an interrupted run leaves no half shop and several processes can fill the
cache at once (``python -m tests._shops 500 --part 1/2`` and ``--part 2/2``).

Building takes about a second per shop of 2,500 customers on an idle machine; reading a cached
shop back takes a few hundredths of a second. Writing a DuckDB store per shop instead would take
twice as long (``write_sample``: schema checks, a fresh file and a transaction per block).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.feather as feather

import workbench.data as data_package
from workbench.data.sample import generate_sample
from workbench.data.schema import TABLES

#: The sample end every simulated shop shares (a Monday, as in tests/conftest.py).
END = dt.date(2026, 11, 16)
CUSTOMERS = 2_500
TIMEZONE = "Asia/Seoul"


def _generator_hash() -> str:
    """Hash of the generator's source: shops are rebuilt whenever it changes."""
    folder = Path(data_package.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([folder / "sample.py", folder / "schema.py", *folder.glob("_sample_*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


#: Hashed once, at import: the code this process runs, even if the files change meanwhile.
_HASH = _generator_hash()


def shops_dir() -> Path:
    """Return the cache folder of the current generator (created if missing)."""
    root = Path(os.environ.get("WORKBENCH_SHOPS_DIR")
                or Path(tempfile.gettempdir()) / "workbench-shops")
    folder = root / _HASH
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _build(seed: int, customers: int) -> dict[str, pa.Table]:
    parts: dict[str, list[pa.Table]] = {}
    for name, chunk in generate_sample(customers, seed=seed, end=END, timezone=TIMEZONE,
                                       events=False):
        parts.setdefault(name, []).append(chunk)
    return {name: pa.concat_tables(chunks) for name, chunks in parts.items()}


def _current(tables: dict[str, pa.Table]) -> bool:
    """Whether cached tables have the columns of today's schema (not an older generator's)."""
    return all(t.column_names == TABLES[name].names for name, t in tables.items())


def shop_tables(seed: int, customers: int = CUSTOMERS) -> dict[str, pa.Table]:
    """Return one shop's tables by name, building and caching them first if needed."""
    folder = shops_dir() / f"shop-{customers}-{seed}"
    if folder.exists():
        tables = {p.stem: feather.read_table(p) for p in sorted(folder.glob("*.arrow"))}
        if _current(tables):
            return tables
    tables = _build(seed, customers)
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name, table in tables.items():
        feather.write_feather(table, partial / f"{name}.arrow", compression="uncompressed")
    shutil.rmtree(folder, ignore_errors=True)  # a stale shop of an older generator
    try:
        partial.rename(folder)
    except OSError:  # another process finished the same shop first
        shutil.rmtree(partial, ignore_errors=True)
    return tables


def shop_connection(tables: dict[str, pa.Table]):
    """Return an Ibis backend on an in-memory DuckDB holding ``tables``."""
    raw = duckdb.connect(":memory:")
    raw.execute(f"SET TimeZone = '{TIMEZONE}'")
    for name, table in tables.items():
        raw.register("_arrow", table)
        raw.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _arrow')
        raw.unregister("_arrow")
    return ibis.duckdb.from_connection(raw)


def simulated_shops(n: int, customers: int = CUSTOMERS, *, first_seed: int = 0
                    ) -> Iterator[tuple[int, object]]:
    """Yield ``(seed, ibis_backend)`` for ``n`` simulated shops."""
    for seed in range(first_seed, first_seed + n):
        con = shop_connection(shop_tables(seed, customers))
        try:
            yield seed, con
        finally:
            con.disconnect()


def _main() -> None:
    parser = argparse.ArgumentParser(description="Fill the simulated-shop cache.")
    parser.add_argument("n", type=int)
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--part", default="1/1", help="k/m: build every m-th shop from k")
    args = parser.parse_args()
    k, m = (int(x) for x in args.part.split("/"))
    for seed in range(k - 1, args.n, m):
        shop_tables(seed, args.customers)
    print(shops_dir())


if __name__ == "__main__":
    _main()
