"""Dashboards and reports over a Spark store read a local DuckDB copy of the lake.

``workbench refresh --store spark:LAKE --serve-from FILE`` refreshes on Spark and copies the
lake's current version into FILE (all or nothing, mode 0600); ``workbench dashboard`` and
``workbench report weekly`` on a ``spark:`` store read that file. The copy is checked against
the lake table by table, a failed copy leaves the previous file, and paths that are inputs are
refused. The two commands that run Spark end to end run once each, in subprocesses, on a copy
of the session's 1k lake that holds a churn model trained beforehand (so the refresh scores
instead of training, as every refresh after the first does).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.browser import CHROMIUM, chromium_page, dashboard_server, open_dashboard
from tests.spark.conftest import AS_OF
from workbench.cli import main
from workbench.data import serving
from workbench.data.lake import Current, new_version, read_current, write_current
from workbench.data.schema import TABLES
from workbench.data.serving import export_serving, pages_store
from workbench.errors import InputError, ParameterError
from workbench.settings import Settings, load_settings


@pytest.fixture(scope="module")
def served(parity_lake, tmp_path_factory):
    """The session's lake copied into a serving file."""
    path = tmp_path_factory.mktemp("served") / "serving.duckdb"
    return export_serving(f"spark:{parity_lake}", path, settings=Settings())


def _lake_sql(lake: Path, folder: str) -> str:
    return f"read_parquet('{lake / folder}/**/*.parquet')"


def test_serving_file_equals_the_lake_table_by_table(served, parity_lake):
    assert served.path.stat().st_mode & 0o777 == 0o600
    current = read_current(parity_lake)
    con = duckdb.connect()
    con.execute(f"ATTACH '{served.path}' AS s (READ_ONLY)")
    con.execute("SET TimeZone = 'Asia/Seoul'")
    for table, folder in current.tables.items():
        columns = ", ".join(f'"{c}"' for c in TABLES[table].names)
        ours = f'SELECT {columns} FROM s."{table}"'
        theirs = f"SELECT {columns} FROM {_lake_sql(parity_lake, folder)}"
        for a, b in ((ours, theirs), (theirs, ours)):
            left = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
            assert left == 0, table
        assert served.rows[table] == con.execute(f"SELECT count(*) FROM ({theirs})").fetchone()[0]
    assert served.rows["customers"] == 1000
    meta = con.execute("SELECT lake, version, tables FROM s.serving_meta").fetchall()
    version = current.tables["orders"].split("/")[-1]
    assert meta == [(str(parity_lake), version, len(current.tables))]


def test_a_failed_copy_leaves_the_previous_serving_file(served, parity_lake, tmp_path,
                                                        monkeypatch):
    path = tmp_path / "serving.duckdb"
    shutil.copyfile(served.path, path)
    before, inode = path.read_bytes(), path.stat().st_ino
    copy = serving._copy_table

    def disk_full_at_orders(con, table, folder):
        if table == "orders":
            raise OSError(errno.ENOSPC, "No space left on device (test)")
        return copy(con, table, folder)

    monkeypatch.setattr(serving, "_copy_table", disk_full_at_orders)
    with pytest.raises(OSError, match="No space left"):
        export_serving(f"spark:{parity_lake}", path, settings=Settings())
    assert path.stat().st_ino == inode and path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "serving.duckdb.lock"]


@pytest.mark.parametrize("case", ["inside_lake", "lake", "store", "csv", "settings"])
def test_inputs_are_never_written_over(case, parity_lake, parity_store, tmp_path):
    settings_file = tmp_path / "workbench.toml"
    settings_file.write_text('[workbench]\nstore = "spark:lake"\n')
    target = {"inside_lake": parity_lake / "serving.duckdb", "lake": parity_lake,
              "store": tmp_path / "shop.duckdb", "csv": tmp_path / "orders.csv",
              "settings": settings_file}[case]
    if case == "store":
        shutil.copyfile(parity_store, target)
    if case == "csv":
        target.write_text("order_id,amount\nO1,100\n")
    before = target.read_bytes() if target.is_file() else None
    with pytest.raises(InputError, match="refusing to write the serving file"):
        export_serving(f"spark:{parity_lake}", target,
                       settings=Settings(source=str(settings_file)))
    assert (target.read_bytes() if target.is_file() else None) == before
    assert not (parity_lake / "serving.duckdb").exists()


def test_saved_models_are_copied_beside_the_serving_file_never_over_others(parity_lake,
                                                                         tmp_path):
    lake, site = tmp_path / "lake", tmp_path / "site"
    shutil.copytree(parity_lake, lake)
    shutil.rmtree(lake / "_models", ignore_errors=True)  # other tests may have saved models
    (lake / "_models").mkdir()
    (lake / "_models" / "churn.json").write_text('{"v": 1}')
    (lake / "_models" / "churn-30d.json").write_text('{"lake": true}')
    (site / "models").mkdir(parents=True)
    (site / "models" / "churn-30d.json").write_text("the DuckDB store's own model")
    export_serving(f"spark:{lake}", site / "serving.duckdb", settings=Settings())
    assert (site / "models" / "churn.json").read_text() == '{"v": 1}'
    assert (site / "models" / "churn.json").stat().st_mode & 0o777 == 0o600
    assert (site / "models" / "churn-30d.json").read_text() == "the DuckDB store's own model"
    (lake / "_models" / "churn.json").write_text('{"v": 2}')  # retrained: the copy follows
    export_serving(f"spark:{lake}", site / "serving.duckdb", settings=Settings())
    assert (site / "models" / "churn.json").read_text() == '{"v": 2}'


@pytest.mark.parametrize("kind", ["INT96", "TIMESTAMP_MICROS"])
def test_timestamps_spark_wrote_keep_their_instant(kind, spark_con, tmp_path):
    # Spark writes TIMESTAMP as INT96 by default, which DuckDB reads without a zone (UTC).
    session = spark_con._session
    previous = session.conf.get("spark.sql.parquet.outputTimestampType")
    session.conf.set("spark.sql.parquet.outputTimestampType", kind)
    try:
        lake, version = tmp_path / "lake", new_version()
        session.sql("SELECT 'C1' AS customer_id, TIMESTAMP '2026-11-16 08:30:00' AS signup_at"
                    ).write.parquet(str(lake / "customers" / version))
    finally:
        session.conf.set("spark.sql.parquet.outputTimestampType", previous)
    write_current(lake, Current(tables={"customers": f"customers/{version}"}))
    report = export_serving(f"spark:{lake}", tmp_path / "serving.duckdb", settings=Settings())
    with duckdb.connect(str(report.path), read_only=True) as con:
        got = con.execute("SELECT epoch(signup_at) FROM customers").fetchone()[0]
    # 08:30 in Seoul (the session zone) is 23:30 UTC the day before
    assert got == datetime(2026, 11, 15, 23, 30, tzinfo=UTC).timestamp()


def test_serve_from_setting_is_resolved_and_checked(tmp_path):
    path = tmp_path / "workbench.toml"
    path.write_text('[workbench]\nstore = "spark:lake"\n[spark]\nserve_from = "data/s.duckdb"\n')
    settings = load_settings(path)
    assert settings.spark.serve_from == str(tmp_path / "data" / "s.duckdb")
    assert pages_store(settings, command="report weekly") == str(tmp_path / "data" / "s.duckdb")
    bad = tmp_path / "bad.toml"  # another file: settings files are read once per process
    bad.write_text('[spark]\nserve_from = "spark:/elsewhere"\n')
    with pytest.raises(ParameterError, match=r"\[spark\] serve_from .* local DuckDB file"):
        load_settings(bad)


@pytest.mark.parametrize("argv,expected", [
    (["dashboard", "--store", "spark:/nowhere/lake"],
     "Add serve_from = \"data/serving.duckdb\" under [spark]"),
    (["dashboard", "--store", "spark:/nowhere/lake", "--serve-from", "missing.duckdb"],
     "does not exist yet. Write it with: workbench refresh --store spark:/nowhere/lake"),
    (["report", "weekly", "--store", "spark:/nowhere/lake"],
     "'workbench report weekly' reads a local copy"),
    (["refresh", "--store", "shop.duckdb", "--serve-from", "s.duckdb"],
     "is not a Spark lake"),
], ids=["dashboard_unset", "dashboard_missing", "report_unset", "refresh_duckdb_store"])
def test_commands_without_a_serving_file_exit_2_naming_the_fix(argv, expected, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert expected in " ".join(capsys.readouterr().err.split())


# ------------------------------------------------------------------- end to end on Spark
@pytest.fixture(scope="module")
def spark_shop(parity_lake, duck_con, parity_settings, tmp_path_factory):
    """A private copy of the lake with a saved churn model, as after a first refresh."""
    from workbench.churn import train

    root = tmp_path_factory.mktemp("spark_shop")
    shutil.copytree(parity_lake, root / "lake")
    train(duck_con, AS_OF, settings=parity_settings, save="churn",
          folder=root / "lake" / "_models")
    return root


def _workbench(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # a second Spark refresh (1.5 min idle, 8 loaded); the report runs one
def test_refresh_on_spark_writes_the_serving_file(spark_shop):
    lake, path = spark_shop / "lake", spark_shop / "serving.duckdb"
    done = _workbench(spark_shop, "refresh", "--store", f"spark:{lake}", "--serve-from",
                      str(path), "--as-of", AS_OF.isoformat(), "--no-warm")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Copied Spark lake" in done.stdout
    assert path.stat().st_mode & 0o777 == 0o600
    current = read_current(lake)
    with duckdb.connect(str(path), read_only=True) as con:
        as_of, customers = con.execute("SELECT as_of, customers FROM snapshot_meta").fetchone()
        version = con.execute("SELECT version FROM serving_meta").fetchone()[0]
        scored = con.execute("SELECT count(churn_risk) FROM snapshot_customers").fetchone()[0]
    assert (as_of, customers) == (AS_OF, 1000)
    assert version == current.tables["snapshot_customers"].split("/")[-1]
    assert scored > 0  # the saved model scored everyone with orders
    # the churn page reading the serving file finds the lake's model beside it
    assert (spark_shop / "models" / "churn.skops").is_file()


def _reference_headline(store: Path, settings: Settings, page: str) -> list[dict]:
    """The headline the same report page records, computed on the DuckDB sample."""
    from workbench.reporting import params_for
    from workbench.ui.warm import PAGES

    module, name = PAGES[page]
    page_class = getattr(__import__(f"workbench.ui.{module}", fromlist=[name]), name)
    view = page_class(params_for(page)(as_of=AS_OF, store=str(store), language="en",
                                       mode="report"), settings=settings)
    view.compute()
    return view.result.headline()


def test_weekly_report_on_spark_shows_the_duckdb_numbers(spark_shop, parity_store,
                                                         parity_settings):
    lake, out = spark_shop / "lake", spark_shop / "reports"
    done = _workbench(spark_shop, "report", "weekly", "--store", f"spark:{lake}",
                      "--serve-from", str(spark_shop / "serving.duckdb"),
                      "--as-of", AS_OF.isoformat(), "--out", str(out), "--notebook", "overview",
                      "--notebook", "rfm", "--no-warm", "-q")
    assert done.returncode == 0, done.stderr[-3000:]
    week = out / "2026-W46"
    index = (week / "index.html").read_text(encoding="utf-8")
    run = json.loads((week / "run.json").read_text(encoding="utf-8"))
    assert run["served_from"]["lake"] == str(lake)
    assert f"copied from Spark lake {lake}" in index
    assert "Data copied from Spark lake" in (week / "overview.html").read_text(encoding="utf-8")
    for nb in run["notebooks"]:
        expected = _reference_headline(parity_store, parity_settings, nb["name"])
        got = [(h["metric"], h["value"], h.get("change")) for h in nb["headline"]]
        assert got == [(h["metric"], h["value"], h.get("change")) for h in expected]
        assert got and all(value in index for _, value, _ in got)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_dashboard_on_a_spark_store_opens_a_page_from_the_serving_file(served, parity_lake,
                                                                       duck_con, tmp_path):
    from workbench.kpi import run_overview
    from workbench.reporting import OverviewParams

    options = ("--serve-from", str(served.path))
    # Voila starts slowly on a loaded 2-core machine (Spark's JVM beside it): wait longer
    with dashboard_server(f"spark:{parity_lake}", tmp_path / "dashboard.log", options=options,
                          start_timeout=180) as base, chromium_page() as page:
        page = open_dashboard(page, base + "/voila/render/overview.ipynb",
                              ".wb-kpi-tiles .wb-tile[data-metric='net_revenue']", attempts=1,
                              timeout=180_000)
        as_of = datetime.strptime(page.locator(".wb-as-of input").input_value(), "%Y-%m-%d")
        shown = float(page.locator(".wb-tile[data-metric='net_revenue']")
                      .get_attribute("data-value"))
        header = page.locator(".wb-served-from").inner_text()
    expected = run_overview(duck_con, OverviewParams(as_of=as_of.date(), period="W"))
    assert shown == pytest.approx(float(
        expected.tiles.set_index("metric").loc["net_revenue", "current"]), rel=1e-12)
    assert f"Spark lake {parity_lake}, version {served.version}" in header


def test_pages_keep_no_cache_for_a_lake():
    from workbench.ui import cache

    # pages over a spark: store directly compute each time; the serving file has the cache
    assert cache.cache_dir("spark:/data/lake") is None
    assert cache.store_version("spark:/data/lake") is None
