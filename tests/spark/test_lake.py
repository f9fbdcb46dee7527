"""Writes into a Spark lake: all or nothing, readers see whole versions, retention, kills.

Most checks read the lake's Parquet with DuckDB (no Spark needed); the round trip and one
reader read through ``connect("spark:...")`` on the suite's shared session, and the views it
registers are pointed back at the parity lake afterwards (temporary views are per session).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.spark._parity import assert_same
from tests.spark.conftest import AS_OF, CUSTOMERS
from workbench.data import lake
from workbench.data.schema import TABLES
from workbench.data.store import write_store
from workbench.errors import InputError
from workbench.settings import Settings, SparkSettings

WORKBENCH = [sys.executable, "-m", "workbench.cli"]


def _settings(hours: float = 24.0) -> Settings:
    return Settings(spark=SparkSettings(master="local[2]", shuffle_partitions=4,
                                        retention_hours=hours))


def _read(folder: Path, table: str) -> pd.DataFrame:
    """Return a table of the lake's current version, read with DuckDB through the pointer."""
    current = lake.read_current(folder)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Seoul'")
        return con.execute(f"SELECT * FROM read_parquet('{folder / current.tables[table]}"
                           "/*.parquet')").fetch_arrow_table().to_pandas()
    finally:
        con.close()


def _read_duck(store: Path, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(store), read_only=True)
    try:
        con.execute("SET TimeZone = 'Asia/Seoul'")
        return con.execute(f'SELECT * FROM "{table}"').fetch_arrow_table().to_pandas()
    finally:
        con.close()


def _tree(folder: Path) -> dict[str, int]:
    """Every file of the lake (but the lock) with its size."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and p.name != lake.LOCK}


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory):
    """A 300-customer lake without events, written once; tests take copies (:func:`small`)."""
    from workbench.data.sample import write_sample

    folder = tmp_path_factory.mktemp("small") / "lake"
    write_sample(f"spark:{folder}", 300, seed=1, end=AS_OF, settings=_settings(), events=False)
    return folder


@pytest.fixture
def small(small_lake, tmp_path):
    """A private copy of :func:`small_lake`."""
    shutil.copytree(small_lake, tmp_path / "lake")
    return tmp_path / "lake"


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory):
    """The parity sample (1k customers, seed 11) written by ``write_sample`` into a lake."""
    from workbench.data.sample import write_sample

    folder = tmp_path_factory.mktemp("lake") / "lake"
    write_sample(f"spark:{folder}", CUSTOMERS, seed=11, end=AS_OF, settings=_settings())
    return folder


@pytest.fixture(scope="module")
def spark_reader(spark_con, parity_lake, parity_settings):
    """Open other lakes on the shared session; put the parity lake's views back at the end."""
    from workbench.data import connect

    yield lambda folder: connect(f"spark:{folder}", settings=parity_settings)
    connect(f"spark:{parity_lake}", settings=parity_settings)


# ------------------------------------------------------------------------- round trip


def test_sample_lake_equals_the_duckdb_sample(sample_lake, parity_store, duck_con, spark_reader):
    expected = {name: int(duck_con.table(name).count().execute()) for name in TABLES}
    assert lake.table_counts(sample_lake) == expected
    for table, keys in (("customers", ["customer_id"]), ("truth_customers", ["customer_id"])):
        assert_same(duck_con.table(table).to_pandas(), _read(sample_lake, table), keys=keys,
                    where=table)
    con = spark_reader(sample_lake)  # one table through Spark: timestamps as instants
    assert_same(duck_con.table("orders").to_pandas(), con.table("orders").to_pandas(),
                keys=["order_id"], where="orders")


def test_spark_reads_every_contract_type(sample_lake, spark_con):
    import pyspark.sql.types as pt

    kinds = {"string": pt.StringType, "int64": pt.LongType, "float64": pt.DoubleType,
             "boolean": pt.BooleanType, "timestamp": pt.TimestampType, "date": pt.DateType}
    current = lake.read_current(sample_lake)
    session = spark_con._session
    for table in TABLES.values():
        schema = session.read.parquet(str(sample_lake / current.tables[table.name])).schema
        got = {f.name: type(f.dataType) for f in schema.fields}
        assert got == {c.name: kinds[c.kind] for c in table.columns}, table.name


# ------------------------------------------------------------------------- modes


def _same_writes(store, folder: Path, ops) -> None:
    for op in ops:
        for target in (store, f"spark:{folder}"):
            with write_store(target, settings=_settings()) as w:
                op(w)


@pytest.mark.parametrize("mode", ["append", "replace", "upsert"])
def test_modes_equal_duckdb(tmp_path, mode):
    first = pa.table({"product_id": ["P1", "P2", "P3"], "price": [100.0, 200.0, 300.0],
                      "name": ["a", "b", "c"]})
    second = pa.table({"product_id": ["P2", "P4"], "price": [250.0, 400.0]})
    store, folder = tmp_path / "shop.duckdb", tmp_path / "lake"
    _same_writes(store, folder, [lambda w: w.write("products", first),
                                 lambda w: w.write("products", second, mode=mode)])
    got = _read(folder, "products").sort_values(["product_id", "price"], ignore_index=True)
    want = _read_duck(store, "products").sort_values(["product_id", "price"], ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == {"append": 5, "replace": 2, "upsert": 4}[mode]


def test_raw_sql_and_loads_equal_duckdb(tmp_path):
    """``writer.con`` DML (load.py's upsert paths) and a member reload, on both stores."""
    from workbench.data.load import load_file

    orders = pa.table({"order_id": ["O1", "O2"], "customer_id": ["C1", "C2"],
                       "ordered_at": pd.to_datetime(["2026-01-01T10:00Z", "2026-01-02T23:30Z"]),
                       "amount": [1000.0, 2000.0]})
    store, folder = tmp_path / "shop.duckdb", tmp_path / "lake"

    def raw(w):
        w.con.execute('DELETE FROM "orders" WHERE order_id = ?', ["O1"])
        assert w.count("orders") == 1

    _same_writes(store, folder, [lambda w: w.write("orders", orders), raw])
    csv = tmp_path / "customers.csv"
    csv.write_text("customer_id,email,signup_at\nC1,a@example.com,2025-01-01\n"
                   "C2,b@example.com,2025-02-01\n", encoding="utf-8")
    again = tmp_path / "again.csv"
    again.write_text("customer_id,email\nC2,new@example.com\nC3,c@example.com\n",
                     encoding="utf-8")
    for target in (store, f"spark:{folder}"):
        load_file("customers", csv, store=target, settings=_settings())
        load_file("customers", again, mode="upsert", store=target, settings=_settings())
    for table, key in (("orders", "order_id"), ("customers", "customer_id")):
        got = _read(folder, table).sort_values(key, ignore_index=True)
        want = _read_duck(store, table).sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    log = _read(folder, "load_log")
    assert sorted(log["mode"]) == ["append", "upsert"]


def test_untouched_tables_keep_their_folder(small):
    folder = small
    before = lake.read_current(folder).tables
    with write_store(f"spark:{folder}", settings=_settings()) as w:
        w.write("products", pa.table({"product_id": ["X"]}))
    after = lake.read_current(folder).tables
    assert {t for t in after if after[t] != before[t]} == {"products"}


def test_old_lake_gets_new_columns(tmp_path):
    folder = tmp_path / "lake"
    old = folder / "products" / lake.new_version()
    old.mkdir(parents=True)
    pq.write_table(pa.table({"product_id": ["P1"], "price": [9.0]}),
                           old / "data_0.parquet")
    lake.write_current(folder, lake.Current({"products": f"products/{old.name}"}))
    with write_store(f"spark:{folder}", settings=_settings()) as w:
        assert w.count("products") == 1  # a view: nothing else changed
    got = _read(folder, "products")
    # as DuckDB's ADD COLUMN: the stored columns first, the contract's new ones after them
    assert list(got.columns) == ["product_id", "price", *(
        n for n in TABLES["products"].names if n not in ("product_id", "price"))]
    assert got["product_id"].tolist() == ["P1"]


# ------------------------------------------------------------------------- all or nothing


def test_exception_leaves_the_lake_unchanged(small):
    folder = small
    before, pointer = _tree(folder), (folder / lake.CURRENT).read_text()
    undone = []
    with pytest.raises(RuntimeError, match="boom"):
        with write_store(f"spark:{folder}", settings=_settings(0)) as w:
            w.on_failure(lambda: undone.append(True))
            w.write("products", pa.table({"product_id": ["X"]}), mode="replace")
            w.reset_table("snapshot_meta")
            raise RuntimeError("boom")
    assert _tree(folder) == before
    assert (folder / lake.CURRENT).read_text() == pointer
    assert undone == [True]


def test_a_failing_switch_removes_the_new_folders(small, monkeypatch):
    folder = small
    before = _tree(folder)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lake, "write_current", broken)
    with pytest.raises(OSError, match="No space"):
        with write_store(f"spark:{folder}", settings=_settings()) as w:
            w.write("products", pa.table({"product_id": ["X"]}))
    assert _tree(folder) == before


def test_files_are_private(small):
    folder = small
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_refuses_a_folder_that_is_not_a_lake(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds other files"):
        with write_store(f"spark:{tmp_path}", settings=_settings()):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_a_file_and_a_master_url(tmp_path):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(InputError, match="is a file, not a lake folder"):
        with write_store(f"spark:{tmp_path / 'file'}", settings=_settings()):
            pass
    with pytest.raises(InputError, match="is a Spark master URL, not a lake"):
        with write_store("spark://host:7077", settings=_settings()):
            pass


def test_outputs_salt_and_audiences_stay_out_of_the_tables(small, monkeypatch):
    from workbench.audience.storage import audiences_dir
    from workbench.data.load import _salt
    from workbench.data.outputs import check_output_file
    from workbench.errors import UnsafeOutputError

    settings = Settings(store=f"spark:{small}")
    for path in (small / lake.CURRENT, small / "orders" / "x.csv", small / "_models" / "m.json"):
        with pytest.raises(UnsafeOutputError):
            check_output_file(path, settings=settings, force=True)
    monkeypatch.delenv("WORKBENCH_SALT")
    assert _salt(f"spark:{small}") == (small / ".salt").read_text().strip()
    assert audiences_dir(settings) == small.parent / "audiences"


# ------------------------------------------------------------------------- readers


def _counts(folder: Path) -> tuple[int, int]:
    counts = lake.table_counts(folder)
    return counts["customers"], counts["orders"]


def test_a_reader_sees_the_old_or_the_new_version(small, spark_reader):
    from workbench.data.sample import write_sample

    folder = small
    old = _counts(folder)
    seen: set[tuple[int, int]] = set()
    spark_seen: set[tuple[int, int]] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def read(into, count) -> None:
        try:
            while not done.is_set():
                into.add(count())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def through_spark() -> tuple[int, int]:
        con = spark_reader(folder)
        return (int(con.table("customers").count().execute()),
                int(con.table("orders").count().execute()))

    readers = [threading.Thread(target=read, args=(seen, lambda: _counts(folder))),
               threading.Thread(target=read, args=(spark_seen, through_spark))]
    for reader in readers:
        reader.start()
    try:
        time.sleep(0.5)
        write_sample(f"spark:{folder}", 700, seed=2, end=AS_OF, settings=_settings(),
                     events=False)
        new = _counts(folder)
        time.sleep(0.5)
        deadline = time.monotonic() + 300
        while not spark_seen & {new} and not errors and time.monotonic() < deadline:
            time.sleep(0.2)  # until Spark has read the new version once
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert old in seen and new in seen and seen <= {old, new}
    assert new in spark_seen and spark_seen <= {old, new}


# ------------------------------------------------------------------------- killed writes


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_SALT"] = "test-salt"
    return env


def test_a_killed_write_leaves_the_previous_version(small, tmp_path):
    folder = small
    before, pointer = _tree(folder), (folder / lake.CURRENT).read_text()
    counts = lake.table_counts(folder)
    proc = subprocess.Popen(
        [*WORKBENCH, "sample", "--store", f"spark:{folder}", "--customers", "4000", "--replace",
         "--end", AS_OF.isoformat(), "-q"], cwd=tmp_path, env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(folder.glob(".write-*/stage.duckdb")):
            assert proc.poll() is None and time.monotonic() < deadline, "no write started"
            time.sleep(0.05)
        time.sleep(0.5)  # mid-way: the staging database is being written
        assert proc.poll() is None, "the write finished before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (folder / lake.CURRENT).read_text() == pointer
    assert lake.table_counts(folder) == counts
    assert list(folder.glob(".write-*"))  # the killed write's staging folder is left ...
    with write_store(f"spark:{folder}", settings=_settings()) as w:
        w.write("products", pa.table({"product_id": ["X"]}))
    assert not list(folder.glob(".write-*"))  # ... until the next write
    assert {k: v for k, v in _tree(folder).items() if "products" not in k
            and "load_log" not in k and k != lake.CURRENT} == {
        k: v for k, v in before.items() if "products" not in k and "load_log" not in k
        and k != lake.CURRENT}


def test_folders_of_a_write_killed_before_its_switch_are_removed(small):
    folder = small
    version = lake.new_version()
    (folder / f".write-{version}-abc123").mkdir(mode=0o700)
    (folder / "orders" / version).mkdir()
    (folder / "orders" / version / "data_0.parquet").write_bytes(b"half")
    (folder / ".current-x.tmp").write_text("{")
    lake.clean_if_idle(folder)
    assert not (folder / "orders" / version).exists()
    assert not list(folder.glob(".write-*")) and not list(folder.glob(".current-*"))


# ------------------------------------------------------------------------- retention


def test_retention_removes_retired_versions_only(small):
    folder = small
    first = lake.read_current(folder).tables["products"]
    for price in (1.0, 2.0):
        with write_store(f"spark:{folder}", settings=_settings(24)) as w:
            w.write("products", pa.table({"product_id": ["X"], "price": [price]}))
    versions = sorted(p.name for p in (folder / "products").iterdir())
    assert len(versions) == 3  # kept for readers during the retention
    old = time.time() - 25 * 3600
    os.utime(folder / first, (old, old))  # retired a day ago
    with write_store(f"spark:{folder}", settings=_settings(24)) as w:
        w.write("products", pa.table({"product_id": ["Y"]}))
    assert not (folder / first).exists()
    assert len(list((folder / "products").iterdir())) == 3
    with write_store(f"spark:{folder}", settings=_settings(0)) as w:
        w.write("products", pa.table({"product_id": ["Z"]}))
    current = lake.read_current(folder)
    assert [p.name for p in (folder / "products").iterdir()] == [
        Path(current.tables["products"]).name]
    for table, relative in current.tables.items():  # the current version is never removed
        assert (folder / relative).is_dir(), table


# ------------------------------------------------------------------------- the commands


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WORKBENCH, *args], cwd=cwd, env=env or _env(), capture_output=True,
                          text=True, timeout=600)


def test_sample_and_info_commands(tmp_path):
    done = _run("sample", "--store", "spark:rel/lake", "--customers", "200", "--end",
                AS_OF.isoformat(), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert lake.table_counts(tmp_path / "rel" / "lake")["customers"] == 200
    env = {**_env(), "WORKBENCH_STORE": f"spark:{tmp_path / 'rel' / 'lake'}"}
    done = _run("info", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "customers" in done.stdout and "200 rows" in done.stdout
    assert "Recent loads" in done.stdout
    done = _run("sample", "--customers", "200", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "--replace" in done.stderr


@pytest.mark.slow  # the snapshot compute on Spark: minutes on 2 cores (23 min under load)
def test_refresh_command(tmp_path, sample_lake):
    import shutil

    folder = tmp_path / "lake"
    shutil.copytree(sample_lake, folder)
    done = _run("refresh", "--store", f"spark:{folder}", "--as-of", AS_OF.isoformat(),
                "--no-warm", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    counts = lake.table_counts(folder)
    assert counts["snapshot_customers"] == CUSTOMERS and counts["snapshot_meta"] == 1
