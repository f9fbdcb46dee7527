"""Speed of `workbench load` on a 1M-row orders CSV against raw DuckDB (issue: well under 60 s).

Runs, in one process, on the same generated file:
- ours: ``load_file("orders", csv)`` into a new store (read as text, typed, validated, written);
- reference: ``CREATE TABLE AS SELECT * FROM read_csv(...)`` with DuckDB's own type sniffing
  (no validation, no time-zone handling, no key checks);
- optionally (``--cafe24``) a Cafe24-mapped item-level export of the same size, which also
  derives orders, order_items and customers.
Prints seconds, the ratio and peak RSS.

    python benchmarks/bench_load.py --rows 1000000 [--cafe24]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

STATUSES = np.array(["paid", "shipped", "delivered", "confirmed", "cancelled", "returned"])
CAFE24_STATUSES = np.array(["입금전", "배송중", "배송완료", "구매확정", "취소 완료", "반품완료"])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timestamps(rng: np.random.Generator, n: int) -> np.ndarray:
    start = np.datetime64("2024-01-01T00:00:00")
    seconds = rng.integers(0, 365 * 86_400, n)
    return np.datetime_as_string(start + seconds.astype("timedelta64[s]"), unit="s")


def write_orders_csv(path: Path, n: int, seed: int = 1) -> None:
    """A canonical orders CSV: text IDs with leading zeros, local times, amounts with commas."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("O", np.char.zfill(np.arange(n).astype(str), 9))
    customers = np.char.add("C", np.char.zfill(rng.integers(0, n // 4, n).astype(str), 7))
    when = np.char.replace(_timestamps(rng, n), "T", " ")
    amount = rng.integers(1, 300, n) * 1000
    table = pa.table({
        "order_id": ids, "customer_id": customers, "ordered_at": when,
        "status": STATUSES[rng.integers(0, len(STATUSES), n)],
        "amount": [f"{a:,}" for a in amount.tolist()],
        "discount": rng.integers(0, 5, n) * 500, "channel": np.full(n, "web"),
    })
    pacsv.write_csv(table, path)


def write_cafe24_csv(path: Path, n: int, seed: int = 2) -> None:
    """A Cafe24-style item-level export (about 1.5 lines per order), UTF-8 with BOM."""
    rng = np.random.default_rng(seed)
    order = np.sort(rng.integers(0, int(n / 1.5), n))
    order_id = np.char.add("20240101-", np.char.zfill(order.astype(str), 7))
    member = rng.integers(0, n // 6, int(order.max()) + 1)[order]
    status = rng.integers(0, len(CAFE24_STATUSES), int(order.max()) + 1)[order]
    when = np.char.replace(_timestamps(rng, int(order.max()) + 1)[order], "T", " ")
    price = rng.integers(5, 60, n) * 1000
    qty = rng.integers(1, 4, n)
    table = pa.table({
        "주문번호": order_id, "주문일시": when,
        "주문자ID": np.char.add("member", member.astype(str)),
        "주문상태": CAFE24_STATUSES[status], "상품코드": np.char.add("P", price.astype(str)),
        "상품명": np.full(n, "상품"), "수량": qty, "판매가": price,
        "상품구매금액(KRW)": price * qty,
    })
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, fh)


def reference(path: Path, store: Path) -> float:
    t0 = time.perf_counter()
    con = duckdb.connect(str(store))
    con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{path}')")
    con.close()
    return time.perf_counter() - t0


def ours(table: str, path: Path, store: Path, mapping: str | None = None) -> tuple[float, dict]:
    from workbench.data.load import load_file
    from workbench.settings import Settings

    t0 = time.perf_counter()
    report = load_file(table, path, mapping=mapping, store=store, settings=Settings())
    return time.perf_counter() - t0, report.rows_written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cafe24", action="store_true", help="also time a Cafe24-mapped load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        run(Path(folder), args.rows, args.cafe24)
    print(f"peak RSS {_rss_mb():,.0f} MB")


def run(work: Path, n: int, cafe24: bool) -> None:
    csv_path = work / "orders.csv"
    t0 = time.perf_counter()
    write_orders_csv(csv_path, n)
    size = csv_path.stat().st_size / 1e6
    print(f"generated {n:,} rows ({size:,.0f} MB) in {time.perf_counter() - t0:.1f} s")

    ref = reference(csv_path, work / "reference.duckdb")
    print(f"reference  DuckDB read_csv CTAS:      {ref:6.2f} s")
    took, written = ours("orders", csv_path, work / "ours.duckdb")
    print(f"ours       load_file orders:          {took:6.2f} s  ratio {took / ref:4.1f}x  "
          f"written {written}")
    if cafe24:
        cafe_path = work / "cafe24.csv"
        write_cafe24_csv(cafe_path, n)
        ref2 = reference(cafe_path, work / "reference2.duckdb")
        print(f"reference  DuckDB read_csv CTAS:      {ref2:6.2f} s  (cafe24 file)")
        took2, written2 = ours("orders", cafe_path, work / "cafe24.duckdb", mapping="cafe24")
        print(f"ours       load_file --mapping cafe24: {took2:6.2f} s  ratio {took2 / ref2:4.1f}x  "
              f"written {written2}")


if __name__ == "__main__":
    main()
