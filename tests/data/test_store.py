import re
import stat
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from workbench.data import TABLES, connect, write_store
from workbench.data.store import describe_store, table_counts
from workbench.errors import InputError, ParameterError, StoreError
from workbench.settings import load_settings


def _products(ids, price=1000.0):
    return pd.DataFrame({"product_id": ids, "price": [price] * len(ids)})


def test_new_store_has_every_table_of_the_contract(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path):
        pass
    con = connect(path)
    assert set(TABLES) <= set(con.list_tables())
    for name, spec in TABLES.items():
        assert con.table(name).columns == tuple(spec.names)


def test_connect_missing_store_says_how_to_create_it(tmp_path):
    with pytest.raises(StoreError, match="Create it with 'workbench sample'"):
        connect(tmp_path / "none.duckdb")


def test_modes(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A", "B"]))
    with write_store(path) as w:
        w.write("products", _products(["B", "C"], 2000.0), mode="upsert")
    df = connect(path).table("products").order_by("product_id").to_pandas()
    assert df.product_id.tolist() == ["A", "B", "C"]
    assert df.price.tolist() == [1000.0, 2000.0, 2000.0]
    with write_store(path) as w:
        w.write("products", _products(["Z"]), mode="replace")
    assert connect(path).table("products").product_id.to_pandas().tolist() == ["Z"]


def test_failure_leaves_store_byte_for_byte_unchanged(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    before = path.read_bytes()
    with pytest.raises(RuntimeError), write_store(path) as w:
        w.write("products", _products(["B"]))
        raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "s.duckdb.lock"]


def test_unknown_columns_and_modes_are_refused(tmp_path):
    with write_store(tmp_path / "s.duckdb") as w:
        with pytest.raises(ParameterError, match=re.escape("columns ['colour'] are not part")):
            w.write("products", pd.DataFrame({"product_id": ["A"], "colour": ["red"]}))
        with pytest.raises(ParameterError, match="'mode' must be one of"):
            w.write("products", _products(["A"]), mode="merge")


def test_writer_works_while_another_process_reads(tmp_path):
    """A dashboard holding the file read-only does not block a load, and sees old data."""
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    reader = duckdb.connect(str(path), read_only=True)
    # a second process writes while this one holds the file open read-only
    code = (
        "import pandas as pd; from workbench.data import write_store\n"
        f"with write_store({str(path)!r}) as w:\n"
        "    w.write('products', pd.DataFrame({'product_id': ['B'], 'price': [1.0]}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert reader.execute("select count(*) from products").fetchone()[0] == 1
    reader.close()
    assert connect(path).table("products").count().execute() == 2


def _hold_lock(path, seconds):
    """Start a process that holds the store's write lock for ``seconds``; return it when held."""
    code = (
        "import sys, time; from workbench.data import write_store\n"
        f"with write_store({str(path)!r}):\n"
        "    print('held', flush=True); time.sleep(float(sys.argv[1]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_nested_write_in_the_same_process_is_refused_at_once(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path):
        with pytest.raises(StoreError, match="already being written by this process"), \
                write_store(path):
            pass


def test_a_second_writer_waits_for_the_first_then_writes(tmp_path, caplog):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    holder = _hold_lock(path, 1.5)
    try:
        with caplog.at_level("WARNING"), write_store(path, lock_timeout=60) as w:
            w.write("products", _products(["B"]))
    finally:
        holder.wait(timeout=30)
    assert "waiting for it" in caplog.text and "pid" in caplog.text
    assert connect(path).table("products").count().execute() == 2


def test_a_writer_gives_up_after_the_lock_timeout_and_writes_nothing(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    before = path.read_bytes()
    holder = _hold_lock(path, 20)
    try:
        with pytest.raises(StoreError, match=r"being written by another process \(pid \d+"), \
                write_store(path, lock_timeout=0.5) as w:
            w.write("products", _products(["B"]))
    finally:
        holder.kill()
        holder.wait()
    assert path.read_bytes() == before


def test_a_new_store_is_private_and_every_write_keeps_the_mode(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    with write_store(path) as w:
        w.write("products", _products(["B"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o600)
    with write_store(path, fresh=True) as w:
        w.write("products", _products(["C"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_killed_write_leaves_no_readable_copy_and_the_next_start_removes_it(tmp_path):
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    before = path.read_bytes()
    code = (
        "import os, signal; import pandas as pd; from workbench.data import write_store\n"
        f"with write_store({str(path)!r}) as w:\n"
        "    w.write('products', pd.DataFrame({'product_id': ['B'], 'price': [1.0]}))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == -9
    assert path.read_bytes() == before
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".s.duckdb.write-")]
    assert leftovers and all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in leftovers)
    connect(path).disconnect()  # the next start (here a reader) cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "s.duckdb.lock"]


def test_files_that_are_not_stores_are_never_overwritten(tmp_path):
    csv = tmp_path / "customers.csv"
    csv.write_text("customer_id\nC1\n")
    for fresh in (False, True):
        with pytest.raises(InputError, match="is not a DuckDB store"), \
                write_store(csv, fresh=fresh):
            pass
    assert csv.read_text() == "customer_id\nC1\n"
    with pytest.raises(InputError, match="is not a DuckDB store"):
        connect(csv)
    with pytest.raises(InputError, match="is a folder"):
        connect(tmp_path)


def test_a_long_lived_connection_sees_the_store_after_another_process_writes(tmp_path):
    """A JupyterLab kernel keeps connections open; it must not read the old file forever."""
    path = tmp_path / "s.duckdb"
    with write_store(path) as w:
        w.write("products", _products(["A"]))
    old = connect(path)
    table = old.table("products")
    assert table.count().execute() == 1
    raw = duckdb.connect(str(path), read_only=True)  # DuckDB caches the file per process
    code = (
        "import pandas as pd; from workbench.data import write_store\n"
        f"with write_store({str(path)!r}) as w:\n"
        "    w.write('products', pd.DataFrame({'product_id': ['B'], 'price': [1.0]}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert connect(path).table("products").count().execute() == 2  # a new connection
    assert table.count().execute() == 2  # an expression of the old connection
    assert old.table("products").count().execute() == 2
    raw.close()


def test_session_time_zone_is_the_shops(tmp_path):
    path = tmp_path / "s.duckdb"
    orders = pd.DataFrame({
        "order_id": ["1"], "status": ["paid"], "amount": [100.0],
        "ordered_at": [pd.Timestamp("2024-01-01 00:30", tz="Asia/Seoul")],
    })
    with write_store(path) as w:
        w.write("orders", orders)
    t = connect(path).table("orders")
    assert str(t.ordered_at.date().execute().iloc[0])[:10] == "2024-01-01"
    utc = connect(path, settings=load_settings(timezone="UTC")).table("orders")
    assert str(utc.ordered_at.date().execute().iloc[0])[:10] == "2023-12-31"


def test_counts_and_description(tmp_path):
    path = tmp_path / "s.duckdb"
    assert table_counts(path) == {}
    with write_store(path) as w:
        w.write("products", _products(["A", "B"]))
        w.log_load("products", source="p.csv", mapping=None, mode="append", rows_in=2,
                   rows_written=2, fingerprint="x")
    assert table_counts(path)["products"] == 2
    text = describe_store(path)
    assert "products" in text and "p.csv" in text and "Recent loads:" in text


def test_a_store_from_an_older_version_gains_the_new_columns_on_its_next_write(tmp_path):
    """A store whose customers table predates columns of the contract keeps its rows and gets
    the new columns, empty, on the next write."""
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute('CREATE TABLE customers ("customer_id" VARCHAR, "sms_opt_in" BOOLEAN)')
    raw.execute("INSERT INTO customers VALUES ('c1', true), ('c2', false)")
    raw.close()
    with write_store(path) as w:
        w.write("customers", pd.DataFrame({"customer_id": ["c3"], "kakao_friend": [True]}))
    con = connect(path)
    got = con.table("customers").to_pandas().sort_values("customer_id")
    con.disconnect()
    assert list(got.columns) == TABLES["customers"].names[:1] + ["sms_opt_in"] + [
        c for c in TABLES["customers"].names if c not in ("customer_id", "sms_opt_in")]
    assert got["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert got["sms_opt_in"].tolist()[:2] == [True, False]
    assert got["kakao_friend"].isna().tolist() == [True, True, False]
