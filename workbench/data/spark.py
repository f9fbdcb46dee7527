"""Stores on Apache Spark: a lake of versioned Parquet tables read through Ibis' PySpark backend.

A Spark store is named ``spark:/path/to/lake`` (the ``store`` setting or ``--store``). The lake
is the folder layout of :mod:`workbench.data.lake`; :func:`connect_spark` starts (or reuses) a
SparkSession configured by the ``[spark]`` settings, registers every table of the lake's current
version as a temporary view and returns an Ibis backend on it.

Two things make the same Ibis code give the same answers as on DuckDB:

* The session time zone is the shop's (Ibis' PySpark backend sets UTC; we set it back), and
  Spark's ``TIMESTAMP`` columns (instants, "local time zone" semantics) are declared to Ibis as
  timestamps *in that zone* (:class:`SparkStoreBackend`), so results arrive tz-aware exactly as
  DuckDB's ``TIMESTAMPTZ`` do, and tz-aware bounds compare as instants.
* ``disconnect()`` leaves a session alone unless this module started it, and even then only
  :func:`stop_session` stops it: Ibis' own ``disconnect`` stops the process-wide session that
  every other notebook cell, test or job in the process shares.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.schema as sch

from workbench.data import lake
from workbench.errors import InputError, StoreError
from workbench.i18n import tr

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from workbench.settings import Settings

__all__ = ["PREFIX", "backend_for", "connect_spark", "is_spark", "lake_path",
           "spark_session", "stop_session"]

#: A store setting that starts with this names a lake folder read by Spark.
PREFIX = "spark:"

_lock = threading.Lock()
#: The session this process started (``None``: none, or one started by someone else).
_STARTED: list[Any] = []


def is_spark(location: str | os.PathLike[str] | None) -> bool:
    """Tell whether a store location names a Spark lake (``spark:/path``)."""
    return str(location or "").startswith(PREFIX)


def lake_path(location: str | os.PathLike[str]) -> Path:
    """Return the lake folder of a ``spark:`` location (``~`` expanded, made absolute)."""
    text = str(location)
    if not is_spark(text):
        raise InputError(tr("spark.not_spark", location=text))
    rest = text[len(PREFIX):]
    if rest.startswith("//"):  # spark:///abs/path as a URL
        rest = rest[2:]
        if rest and not rest.startswith("/"):  # spark://host:7077 is a master, not a lake
            raise InputError(tr("lake.master_url", location=text))
    if not rest:
        raise InputError(tr("spark.no_path", location=text))
    return Path(rest).expanduser().absolute()


def _conf(settings: Settings) -> dict[str, str]:
    """Return the session configuration of the ``[spark]`` settings, loopback and quiet."""
    spark = settings.spark
    conf = {
        "spark.master": spark.master,
        "spark.app.name": "workbench",
        "spark.driver.memory": spark.driver_memory,
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        # No web UI by default; when asked for, it listens on loopback only.
        "spark.ui.enabled": "true" if spark.ui else "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.session.timeZone": settings.timezone,
        # DuckDB's semantics: x / 0 is null, not an error (Spark 4 turns ANSI mode on).
        "spark.sql.ansi.enabled": "false",
        # Arrow moves results to pandas column-wise (10-50x faster than row pickling).
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        # Spark would leave a spark-warehouse/ folder in whatever folder a command ran in.
        "spark.sql.warehouse.dir": str(_private_dir() / "warehouse"),
        "spark.ui.showConsoleProgress": "false",
        # Spark's own log4j profile prints its start-up lines and WARNs on every command's
        # stderr; this one prints errors only.
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_log_config().as_uri()}",
    }
    conf.update({str(k): str(v) for k, v in spark.conf})
    return conf


#: SQL options results depend on; set on a session workbench reuses too (they are per session).
_SQL_OPTIONS = ("spark.sql.ansi.enabled", "spark.sql.execution.arrow.pyspark.enabled",
                "spark.sql.execution.arrow.pyspark.fallback.enabled")


def _private_dir() -> Path:
    """Return this user's folder for Spark's scratch files (mode 0700)."""
    folder = Path(tempfile.gettempdir()) / f"workbench-spark-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _log_config() -> Path:
    """Write (once) and return a log4j2 configuration that lets only errors through."""
    path = _private_dir() / "log4j2.properties"
    text = ("rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
            "appender.console.type = Console\nappender.console.name = console\n"
            "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex\n")
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def spark_session(settings: Settings) -> SparkSession:
    """Return the process's SparkSession, starting one from the ``[spark]`` settings if none runs.

    A session that is already active (a notebook's, a cluster job's under ``spark-submit``) is
    reused, with the SQL options results depend on set for it: the shop's time zone, ANSI mode
    off (``x / 0`` is null, as on DuckDB) and Arrow transfers.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(tr("spark.missing")) from None
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            conf = _conf(settings)
            for key in _SQL_OPTIONS:
                active.conf.set(key, conf[key])
            return active
        builder = SparkSession.builder
        for key, value in _conf(settings).items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - a missing Java, a bad master URL, ...
            first = (str(exc).splitlines() or [""])[0][:300]
            raise StoreError(tr("spark.cannot_start", master=settings.spark.master,
                                detail=first)) from None
        session.sparkContext.setLogLevel("ERROR")
        _STARTED[:] = [session]
        return session


def stop_session() -> None:
    """Stop the SparkSession this process started (one started by others is left running)."""
    with _lock:
        if _STARTED:
            _STARTED.pop().stop()


def _backend_class() -> type:
    """Build the backend class lazily: importing Ibis' PySpark backend imports pyspark."""
    import pyspark.sql.types as pt
    from ibis.backends.pyspark import Backend
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    class _Compiler(PySparkCompiler):
        """Ibis' PySpark compiler with float literals typed ``DOUBLE``.

        Ibis writes a float64 literal as ``7.0``, which Spark SQL reads as ``DECIMAL(2,1)``:
        ``BIGINT / DECIMAL`` is then a decimal rounded to 6 places (weekly recency and T,
        the CLV headline), and ``IF(c, x, 0.0)`` a decimal. DuckDB divides them as doubles.
        """

        def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: dt.DataType) -> Any:
            result = super().visit_NonNullLiteral(op, value=value, dtype=dtype)
            if dtype.is_floating() and math.isfinite(value):
                return self.cast(result, dtype)
            return result

    class _Backend(Backend):
        """Ibis' PySpark backend reading instants in the shop's zone; never stops the session."""

        compiler = _Compiler()
        _wb_timezone: str = "UTC"
        _wb_lake: Path | None = None

        def get_schema(self, table_name: str, *, catalog: str | None = None,
                       database: str | None = None) -> sch.Schema:
            schema = super().get_schema(table_name, catalog=catalog, database=database)
            return _zoned(schema, self._session.table(table_name).schema, self._wb_timezone,
                          pt)

        def _get_schema_using_query(self, query: str) -> sch.Schema:
            df = self.raw_sql(query)
            schema = super()._get_schema_using_query(query)
            return _zoned(schema, df.schema, self._wb_timezone, pt)

        def disconnect(self) -> None:
            """Do nothing: the session is shared by the process (see :func:`stop_session`)."""

        def _register_in_memory_table(self, op: Any) -> None:
            """Register an in-memory table (a model's scores, say) from Arrow, not pandas.

            Ibis hands Spark a pandas frame; when its columns are Arrow-backed and come in
            several chunks (any frame read back from Spark or Parquet), PySpark 4.0's Arrow
            path fails with "Cannot convert pyarrow.lib.ChunkedArray to pyarrow.lib.Array".
            PySpark 4 takes an Arrow table directly; one chunk per column keeps it on that path.
            """
            from ibis.backends.pyspark.datatypes import PySparkSchema

            arrow = op.data.to_pyarrow(op.schema).combine_chunks()
            frame = self._session.createDataFrame(
                arrow, schema=PySparkSchema.from_ibis(op.schema))
            frame.createOrReplaceTempView(op.name)

    return _Backend


def _zoned(schema: sch.Schema, spark_schema: Any, timezone: str, pt: Any) -> sch.Schema:
    """Declare Spark ``TIMESTAMP`` (instant) columns as timestamps in ``timezone``."""
    instants = {f.name for f in spark_schema.fields if isinstance(f.dataType, pt.TimestampType)}
    if not instants:
        return schema
    return sch.Schema({name: dt.Timestamp(timezone=timezone, nullable=typ.nullable)
                       if name in instants else typ for name, typ in schema.items()})


_BACKEND: list[type] = []


def backend_for(session: SparkSession, timezone: str) -> Any:
    """Wrap a session in the workbench's PySpark backend (session zone set to ``timezone``)."""
    if not _BACKEND:
        _ = ibis.pyspark  # registers Ibis' pyspark options, which its compiler reads
        _BACKEND.append(_backend_class())
    backend = _BACKEND[0]()
    backend.do_connect(session, **{"spark.sql.session.timeZone": timezone})
    backend._wb_timezone = timezone
    return backend


def connect_spark(location: str | os.PathLike[str], settings: Settings) -> Any:
    """Open a ``spark:`` store: start or reuse the session and register the lake's tables.

    Raises
    ------
    StoreError
        The lake has no current version (run ``workbench sample --store spark:...`` or
        ``workbench load`` first), or Spark cannot start.
    """
    folder = lake_path(location)
    lake.clean_if_idle(folder)  # what a killed write left, when no write is running
    current = lake.read_current(folder)
    if current is None:
        raise StoreError(tr("spark.no_lake", path=str(folder)))
    session = spark_session(settings)
    for table, version in current.tables.items():
        # A file: URI, not a bare path: on YARN a bare path means HDFS.
        frame = session.read.parquet((folder / version).as_uri())
        frame.createOrReplaceTempView(table)
    con = backend_for(session, settings.timezone)
    con._wb_lake = folder
    return con
