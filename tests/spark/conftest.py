"""One local Spark session for the parity suite, on a 1,000-customer sample.

``spark_con`` reads the sample through a ``spark:`` lake; ``duck_con`` reads the same sample
from its DuckDB file; ``duck_utc_con`` is DuckDB with the *session* time zone set to UTC while
the shop's zone stays Asia/Seoul, so an analysis that leans on the session zone (``.date()``,
``delta(unit="day")``) instead of :mod:`workbench.dates` gives different numbers there.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

pyspark = pytest.importorskip("pyspark", reason="the spark extra is not installed")
if shutil.which("java") is None:  # pragma: no cover - make test installs Java
    pytest.skip("Java is not installed (make java-deps)", allow_module_level=True)

#: A Monday, as in the main suite: the sample's last complete week is 2026-W46.
AS_OF = date(2026, 11, 16)
CUSTOMERS = 1_000


@pytest.fixture(scope="session")
def parity_settings():
    """The shop's settings for both engines (Asia/Seoul, KRW, four shuffle partitions)."""
    from workbench.settings import Settings, SparkSettings

    return Settings(spark=SparkSettings(master="local[2]", shuffle_partitions=4))


@pytest.fixture(scope="session")
def parity_store(tmp_path_factory):
    """The 1k-customer sample as a DuckDB file."""
    from workbench.data.sample import write_sample

    path = tmp_path_factory.mktemp("parity") / "shop.duckdb"
    write_sample(path, CUSTOMERS, seed=11, end=AS_OF)
    return path


@pytest.fixture(scope="session")
def parity_lake(parity_store):
    """The same sample as a lake (every table of the DuckDB file, one version)."""
    from workbench.data.lake import export_duckdb

    lake = parity_store.parent / "lake"
    export_duckdb(parity_store, lake)
    return lake


@pytest.fixture(scope="session")
def spark_con(parity_lake, parity_settings):
    """The sample on a local Spark session (started once; stopped at the end of the run)."""
    from workbench.data import connect
    from workbench.data.spark import stop_session

    con = connect(f"spark:{parity_lake}", settings=parity_settings)
    yield con
    stop_session()


@pytest.fixture(scope="session")
def duck_con(parity_store, parity_settings):
    """The sample on DuckDB, session zone Asia/Seoul (as every workbench connection)."""
    from workbench.data import connect

    con = connect(parity_store, settings=parity_settings)
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def duck_utc_con(parity_store, parity_settings):
    """The sample on DuckDB with the session zone UTC; the shop's zone is still Asia/Seoul."""
    from workbench.data import connect

    con = connect(parity_store, settings=parity_settings)
    con.raw_sql("SET TimeZone = 'UTC'")
    yield con
    con.disconnect()


@pytest.fixture(scope="session", params=["spark", "duckdb_utc"])
def other_con(request):
    """Each engine compared with ``duck_con``: Spark, and DuckDB with the session zone UTC."""
    return request.getfixturevalue("spark_con" if request.param == "spark" else "duck_utc_con")
