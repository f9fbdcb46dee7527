"""Speed and memory of `workbench sample` against raw DuckDB (issue: 100k customers <= 60 s,
1M customers <= 10 min under 8 GB peak RSS).

Runs, in one process:
- ours: ``write_sample(path, customers)`` into a new store (generation, Arrow conversion and the
  all-or-nothing DuckDB write, including the final checkpoint and rename);
- reference: plain DuckDB SQL writing the same number of rows per table into another new file,
  each column filled from ``range()`` and ``random()`` with the contract's type (no realism, no
  Python), in one transaction like ours.
Prints rows per table, seconds for both, the ratio and peak RSS (the peak is taken after ours,
before the reference runs, and sampled by a thread when psutil is available).

    python benchmarks/bench_sample.py --customers 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import threading
import time
from pathlib import Path

import duckdb

from workbench.data.schema import TABLES, duckdb_ddl

_FILL = {
    "string": "'x' || (random() * 1e9)::BIGINT::VARCHAR",
    "int64": "(random() * 1000)::BIGINT",
    "float64": "round(random() * 100000)",
    "boolean": "random() < 0.5",
    "timestamp": "TIMESTAMPTZ '2024-11-16 00:00:00+09' "
                 "+ to_microseconds((random() * 6.3e13)::BIGINT)",
    "date": "DATE '1960-01-01' + (random() * 15000)::INTEGER",
}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _PeakSampler:
    """Sample this process's RSS every 0.2 s (psutil), as a cross-check of ru_maxrss."""

    def __init__(self) -> None:
        try:
            import psutil
        except ImportError:
            self.process = None
        else:
            self.process = psutil.Process()
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss / 2**20)
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakSampler:
        if self.process is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.process is not None:
            self._thread.join()


def ours(store: Path, customers: int, seed: int, end: dt.date) -> tuple[float, dict[str, int]]:
    from workbench.data.sample import write_sample
    from workbench.settings import Settings

    t0 = time.perf_counter()
    summary = write_sample(store, customers, seed=seed, end=end, settings=Settings())
    return time.perf_counter() - t0, summary.rows


def reference(store: Path, rows: dict[str, int]) -> float:
    t0 = time.perf_counter()
    con = duckdb.connect(str(store))
    con.execute("SET TimeZone = 'Asia/Seoul'")
    con.execute("BEGIN TRANSACTION")
    for name, n in rows.items():
        table = TABLES[name]
        con.execute(duckdb_ddl(table))
        cols = ", ".join(_FILL[c.kind] for c in table.columns)
        con.execute(f'INSERT INTO "{name}" SELECT {cols} FROM range({n})')
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sample-") as folder:
        work = Path(folder)
        with _PeakSampler() as sampler:
            took, rows = ours(work / "ours.duckdb", args.customers, args.seed, args.end)
        peak_ours = _maxrss_mb()
        size = (work / "ours.duckdb").stat().st_size / 1e6
        ref = reference(work / "reference.duckdb", rows)
        ref_size = (work / "reference.duckdb").stat().st_size / 1e6
    print(f"customers {args.customers:,}  seed {args.seed}  end {args.end}")
    for name, n in rows.items():
        print(f"  {name:<18} {n:>13,} rows")
    print(f"  {'total':<18} {sum(rows.values()):>13,} rows")
    print(f"ours       write_sample:            {took:8.1f} s  ({size:,.0f} MB file)")
    print(f"reference  DuckDB range()/random(): {ref:8.1f} s  ({ref_size:,.0f} MB file)")
    print(f"ratio      {took / ref:.1f}x")
    sampled = f", sampled {sampler.peak:,.0f} MB" if sampler.process is not None else ""
    print(f"peak RSS   ours {peak_ours:,.0f} MB (ru_maxrss{sampled}); "
          f"whole run {_maxrss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
