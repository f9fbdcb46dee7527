"""The store: an Ibis connection for reading, an all-or-nothing writer for loading.

This is the only module that knows the embedded default is DuckDB.

Reading
    :func:`connect` returns an Ibis backend. A DuckDB file opens read-only by default, so any
    number of notebooks, dashboards and reports can read at once (DuckDB allows one read-write
    process *or* many read-only ones per file). The session time zone is set to the shop's, so
    ``.date()``, ``.truncate("W")`` and friends cut days and weeks where the shop does.

    Connections follow the store: DuckDB keeps one database instance per file and process, so
    a plain ``duckdb.connect(path)`` in a long-lived process (a JupyterLab kernel) would go on
    reading the file as it was before a refresh for as long as any connection to it stays open.
    :func:`connect` therefore attaches the file to a private in-memory database, and before each
    query checks whether the file was replaced (``os.replace`` by a writer); if so it attaches
    the new file. A query started before a swap finishes on the old data.

Writing
    :func:`write_store` copies the file into a private folder (mode 0700) beside it, writes into
    the copy and renames the copy over the original (``os.replace``) only when everything
    succeeded. A failure leaves the store exactly as it was, and readers that are open keep
    reading the old file while new connections see the new one; a reader never sees a
    half-written table (checked in ``STACK_NOTES.md``). The new file gets the old one's mode
    (new stores: 0600, they hold personal data), and a copy left by a killed write is removed by
    the next write or connection. A lock file serialises writers: a second writer waits up to
    the ``lock_timeout`` setting, saying so, then fails with a clear message.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import ibis
import pyarrow as pa
from ibis.backends.duckdb import Backend as _DuckDBBackend

from workbench import __version__
from workbench.data.schema import SQL_TYPES, TABLES, duckdb_ddl
from workbench.errors import InputError, ParameterError, StoreError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = [
    "StoreWriter",
    "connect",
    "describe_store",
    "is_url",
    "store_path",
    "table_counts",
    "write_store",
]

MODES = ("append", "replace", "upsert")

log = logging.getLogger(__name__)

#: DuckDB files carry this magic at byte 8 (after the header checksum).
_MAGIC = b"DUCK"
#: Mode of a new store: it holds names, phones and emails.
NEW_STORE_MODE = 0o600
#: The name of the store inside its attaching in-memory database.
_ALIAS = "store"


def is_spark(path_or_url: str | os.PathLike[str] | None) -> bool:
    """Tell whether a store location names a Spark lake (``spark:/path/to/lake``)."""
    return str(path_or_url or "").startswith("spark:")


def is_url(path_or_url: str | os.PathLike[str]) -> bool:
    """Tell whether a store location is an Ibis URL rather than a DuckDB file path."""
    return "://" in str(path_or_url)


def store_path(path_or_url: str | os.PathLike[str] | None = None,
               settings: Settings | None = None) -> str:
    """Resolve the store location: the argument, else the settings' ``store``."""
    if path_or_url is not None:
        return str(path_or_url)
    return (settings or load_settings()).store


def _init_duckdb(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    con.execute(f"SET TimeZone = '{timezone}'")
    # DuckDB draws a progress bar on stdout for queries over 2 s: noise in notebooks and logs.
    con.execute("SET enable_progress_bar = false")


def connect(
    path_or_url: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = True,
    settings: Settings | None = None,
) -> BaseBackend:
    """Open the store as an Ibis backend whose tables follow the data contract.

    Parameters
    ----------
    path_or_url
        A DuckDB file (default: the ``store`` setting, ``data/workbench.duckdb``) or any Ibis
        connection URL (``postgres://...``, ``duckdb://...``, ``pyspark://...``).
    read_only
        Open a DuckDB file read-only (the default) so other processes can read at the same time.
        Loads and refreshes do not need a read-write connection: they use :func:`write_store`.
    settings
        Settings to use (time zone); default: ``workbench.toml``.

    Returns
    -------
    ibis.backends.BaseBackend
        The connection; ``con.table("orders")`` is an Ibis table.

    Raises
    ------
    StoreError
        The file does not exist (run ``workbench sample`` or ``workbench load`` first) or is locked.
    InputError
        The path is a folder or not a DuckDB file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> with write_store(path) as w:
    ...     _ = w.write("products", ibis.memtable({"product_id": ["P1"], "price": [9900.0]}))
    >>> con = connect(path)
    >>> con.table("products").count().execute()
    1
    """
    settings = settings or load_settings()
    location = store_path(path_or_url, settings)
    if is_spark(location):
        from workbench.data.spark import connect_spark

        return connect_spark(location, settings)
    if is_url(location):
        return _connect_url(location)
    path = Path(location).expanduser()
    if not path.exists():
        raise StoreError(tr("cli.store_missing", path=str(path)))
    check_store_file(path)
    path = path.resolve()
    _clean_if_idle(path)
    raw = duckdb.connect(":memory:")
    try:
        stamp = _attach(raw, path, read_only=read_only)
    except BaseException:
        raw.close()
        raise
    con = _StoreBackend.from_connection(raw)
    con._wb_follow(path, stamp if read_only else None)
    _init_duckdb(raw, settings.timezone)
    return con


def redact_url(url: str) -> str:
    """Hide the password of a connection URL, for messages and logs.

    >>> redact_url("postgres://shop:s3cret@db.example:5432/crm?sslmode=require")
    'postgres://shop:***@db.example:5432/crm?sslmode=require'
    """
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url.split("://", 1)[0] + "://***"


def _connect_url(url: str) -> BaseBackend:
    """Open an Ibis URL store; turn Ibis' errors into sentences without the password."""
    scheme = url.split("://", 1)[0].lower()
    shown = redact_url(url)
    try:
        return ibis.connect(url)
    except ImportError:
        raise InputError(tr("store.backend_missing", scheme=scheme)) from None
    except ValueError as exc:
        if "know how to connect" in str(exc):
            raise InputError(tr("store.unknown_scheme", scheme=scheme, url=shown)) from None
        raise StoreError(tr("store.url_failed", url=shown,
                            detail=_without(str(exc), url))) from None
    except Exception as exc:  # noqa: BLE001 - each backend's driver raises its own errors
        raise StoreError(tr("store.url_failed", url=shown,
                            detail=_without(str(exc), url))) from None


def _without(text: str, url: str) -> str:
    """Return the first line of a driver's message with the URL's password taken out."""
    first = (text.splitlines() or [""])[0][:200]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return first.replace(password, "***") if password else first


def check_store_file(path: Path) -> None:
    """Refuse a store path that is a folder or a file that is not a DuckDB database.

    Raises
    ------
    InputError
        The path is a folder, or a file whose first bytes are not DuckDB's (a CSV passed as
        ``--store``, say): writing would destroy it and reading cannot work.
    """
    if path.is_dir():
        raise InputError(tr("store.is_folder", path=str(path)))
    if path.is_file() and path.stat().st_size > 0 and not _is_duckdb(path):
        raise InputError(tr("store.not_duckdb", path=str(path)))


def _is_duckdb(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == _MAGIC
    except OSError:
        return False


def _stamp(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


def _attach(raw: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool
            ) -> tuple[int, int, int, int]:
    """Attach the store file as the default database of ``raw``; return the file's stamp."""
    stamp = _stamp(path)
    literal = str(path).replace("'", "''")
    options = " (READ_ONLY)" if read_only else ""
    try:
        raw.execute(f"ATTACH '{literal}' AS {_ALIAS}{options}")
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            raise StoreError(tr("store.locked_read_write", path=str(path), detail=first)) from None
        raise StoreError(tr("store.cannot_open", path=str(path), detail=first)) from None
    raw.execute(f"USE {_ALIAS}")
    return stamp


class _StoreBackend(_DuckDBBackend):
    """Ibis' DuckDB backend on an attached store file that follows the file when it is replaced.

    Only read-only connections follow: a read-write one would see its own writes as a change.
    """

    _wb_path: Path | None = None
    _wb_stamp: tuple[int, int, int, int] | None = None

    def _wb_follow(self, path: Path, stamp: tuple[int, int, int, int] | None) -> None:
        self._wb_path, self._wb_stamp = (path, stamp) if stamp is not None else (None, None)

    def _wb_check(self) -> None:
        if self._wb_path is None:
            return
        try:
            stamp = _stamp(self._wb_path)
        except OSError:  # os.replace never leaves the name missing; keep what is attached
            return
        if stamp == self._wb_stamp:
            return
        self.con.execute("USE memory")
        self.con.execute(f"DETACH {_ALIAS}")
        self._wb_stamp = _attach(self.con, self._wb_path, read_only=True)

    def raw_sql(self, query: Any, **kwargs: Any) -> Any:  # noqa: D102 - Ibis' own
        self._wb_check()
        return super().raw_sql(query, **kwargs)

    def _run_pre_execute_hooks(self, expr: Any) -> None:
        self._wb_check()
        super()._run_pre_execute_hooks(expr)

    def get_schema(self, table_name: str, **kwargs: Any) -> Any:  # noqa: D102 - Ibis' own
        self._wb_check()
        return super().get_schema(table_name, **kwargs)

    def list_tables(self, **kwargs: Any) -> list[str]:  # noqa: D102 - Ibis' own
        self._wb_check()
        return super().list_tables(**kwargs)


#: Tables written in the order of this column (see :meth:`StoreWriter.write`).
TIME_ORDER = {"events": "ts", "orders": "ordered_at", "messages": "sent_at",
              "assignments": "assigned_at"}


class StoreWriter:
    """Writes tables into a private copy of the store; see :func:`write_store`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.settings = settings
        self._undo: list[Callable[[], None]] = []
        for table in TABLES.values():
            con.execute(duckdb_ddl(table))
        _add_new_columns(con)

    def on_failure(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if this write fails after all (at the commit, the swap or later).

        For work outside the store that must stand or fall with it, such as publishing the
        file whose export this write logs.
        """
        self._undo.append(callback)

    def undo(self) -> None:
        """Run the :meth:`on_failure` callbacks, newest first (called by :func:`write_store`)."""
        while self._undo:
            callback = self._undo.pop()
            try:
                callback()
            except OSError as exc:  # the write's own error is the one to report
                log.warning("could not undo part of a failed store write: %s", exc)

    def write(self, table: str, data: Any, *, mode: str = "append") -> int:
        """Write rows into a table of the contract and return how many were written.

        Parameters
        ----------
        table
            Name of a table in :data:`workbench.data.schema.TABLES`.
        data
            A pandas DataFrame, a pyarrow Table or an Ibis in-memory table. Columns are matched
            by name; contract columns that are missing become null; other columns are refused.
        mode
            ``append`` adds rows, ``replace`` empties the table first, ``upsert`` replaces rows
            whose key already exists and adds the others.
        """
        if table not in TABLES:
            raise ParameterError(tr("store.write_unknown_table", table=repr(table),
                                    known=sorted(TABLES)))
        if mode not in MODES:
            raise ParameterError(tr("store.write_bad_mode", modes=list(MODES), got=repr(mode)))
        arrow = _to_arrow(data)
        spec = TABLES[table]
        extra = sorted(set(arrow.column_names) - set(spec.names))
        if extra:
            raise ParameterError(tr("store.write_extra_columns", extra=extra, table=repr(table),
                                    allowed=spec.names))
        self.con.register("_wb_staged", arrow)
        try:
            if mode == "replace":
                self.con.execute(f'DELETE FROM "{table}"')
            elif mode == "upsert":
                keys = [k for k in spec.key if k in arrow.column_names]
                if keys:
                    cond = " AND ".join(
                        f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in keys
                    )
                    self.con.execute(
                        f'DELETE FROM "{table}" t WHERE EXISTS '
                        f"(SELECT 1 FROM _wb_staged s WHERE {cond})"
                    )
            cols = ", ".join(f'"{c}"' for c in arrow.column_names)
            # Rows go in in time order: DuckDB keeps min/max per row group, so a query over a
            # recent window (audiences, KPIs) then skips most of a large events table
            # (measured 2.5-3.5x faster on a 30-day window of 100k customers' events).
            time_column = TIME_ORDER.get(table)
            order = (f' ORDER BY "{time_column}"' if time_column in arrow.column_names
                     else "")
            self.con.execute(
                f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM _wb_staged{order}'
            )
        finally:
            self.con.unregister("_wb_staged")
        return arrow.num_rows

    def reset_table(self, table: str) -> None:
        """Drop and recreate a table with the contract's current columns (derived tables)."""
        self.con.execute(f'DROP TABLE IF EXISTS "{table}"')
        self.con.execute(duckdb_ddl(TABLES[table]))

    def log_load(self, table: str, *, source: str, mapping: str | None, mode: str,
                 rows_in: int, rows_written: int, fingerprint: str) -> None:
        """Record a load in the ``load_log`` table."""
        self.con.execute(
            "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(UTC), table, source, mapping, mode, rows_in, rows_written,
             fingerprint, __version__],
        )

    def count(self, table: str) -> int:
        """Return the number of rows in a table of the copy being written."""
        return int(self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Give tables of a store written by an older version the contract's newer columns.

    Columns are only ever added to the contract (nullable, at the end), so an older store is
    brought up to date by ``ADD COLUMN``: its rows keep their values and the new columns are
    null, which every reader treats as "unknown".
    """
    have: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main'").fetchall():
        have.setdefault(table, set()).add(column)
    for table in TABLES.values():
        for column in table.columns:
            if table.name in have and column.name not in have[table.name]:
                con.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" '
                            f"{SQL_TYPES[column.kind]}")


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, ibis.expr.types.Table):
        return data.to_pyarrow()
    # pandas is not imported here: a caller that passes a DataFrame has already imported it,
    # and the CLI's write path never does (pandas adds 0.53-0.58 s to a command's start-up).
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise ParameterError(tr("store.write_bad_data", got=type(data).__name__))


#: Store files this process holds the write lock of: a nested write would wait for itself.
_HELD: set[Path] = set()


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _holder(fh: Any) -> str:
    """Return who holds a lock, as its holder wrote it (``pid command``), or ``?``."""
    try:
        fh.seek(0)
        text = fh.read(200).strip()
    except OSError:
        text = ""
    return text or "?"


@contextlib.contextmanager
def _lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold the store's write lock; wait for another writer up to ``timeout`` seconds."""
    with hold_lock(path, _lock_path(path), timeout):
        yield


@contextlib.contextmanager
def hold_lock(path: Path, lock_path: Path, timeout: float, *, messages: str = "store"
              ) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` for work on ``path``, waiting up to ``timeout``.

    While waiting, a line says who holds the lock (every 15 s); after ``timeout`` seconds a
    :class:`StoreError` says so and what to do. The holder's pid and command are written into
    the lock file for those messages. ``messages`` is the prefix of the message keys
    (``store`` or ``report``).
    """
    if path in _HELD:
        raise StoreError(tr(f"{messages}.lock_nested", path=str(path)))
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        started = time.monotonic()
        told = -1.0
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                holder = _holder(fh)
                if waited >= timeout:
                    raise StoreError(tr(f"{messages}.lock_timeout", path=str(path),
                                        holder=holder, seconds=f"{timeout:g}",
                                        lock=str(lock_path))) from None
                # one line at once, then every 15 s: enough for a cron log, quiet on a terminal
                if told < 0 or waited - told >= 15:
                    told = waited
                    log.warning(tr(f"{messages}.lock_waiting", holder=holder,
                                   waited=f"{waited:.0f}", timeout=f"{timeout:g}"))
                time.sleep(min(0.5, max(0.05, timeout - waited)))
        _HELD.add(path)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} ({_command()})\n")
            fh.flush()
            yield
        finally:
            _HELD.discard(path)
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _command() -> str:
    argv = [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:3]]
    return " ".join(a for a in argv if a)[:80]


def _work_prefix(path: Path) -> str:
    return f".{path.name}.write-"


def _clean_stale(path: Path) -> None:
    """Remove copies left by killed writes of this store (call with the write lock held).

    Also removes the ``.<name>.<random>.tmp`` files of workbench versions before 0.8, which
    wrote the copy next to the store with the default mode.
    """
    folder = path.parent
    for leftover in folder.glob(_work_prefix(path) + "*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in [*folder.glob(f".{path.name}.*.tmp"), *folder.glob(f".{path.name}.*.tmp.wal")]:
        with contextlib.suppress(OSError):
            leftover.unlink()


def _clean_if_idle(path: Path) -> None:
    """Remove leftovers of killed writes when no write is running (cheap; best effort)."""
    folder = path.parent
    if not any(folder.glob(_work_prefix(path) + "*")) and not any(
            folder.glob(f".{path.name}.*.tmp*")):
        return
    with lock_if_free(_lock_path(path)) as free:
        if free:
            _clean_stale(path)


@contextlib.contextmanager
def lock_if_free(lock_path: Path) -> Iterator[bool]:
    """Hold ``lock_path`` if nobody does, without waiting; yield whether it is held.

    For cleaning up after killed runs: when the lock is free, nothing is running, so what a
    run leaves while it works is stale. ``False`` also when the lock file cannot be created
    (a reader without write access to the folder leaves the cleaning to the next writer).
    """
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    with os.fdopen(fd, "r+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a run is on: what it left is not stale
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _mode_and_owner(path: Path) -> tuple[int, tuple[int, int] | None]:
    if not path.exists():
        return NEW_STORE_MODE, None
    st = path.stat()
    return st.st_mode & 0o7777, (st.st_uid, st.st_gid)


@contextlib.contextmanager
def write_store(
    path_or_url: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    fresh: bool = False,
    lock_timeout: float | None = None,
) -> Iterator[StoreWriter]:
    """Open the store for one all-or-nothing write.

    Everything written inside the ``with`` block becomes visible at once when the block ends
    without an exception; on an exception the store is left exactly as it was.

    Parameters
    ----------
    path_or_url
        The DuckDB file (default: the ``store`` setting). Created, with every table of the
        contract, if it does not exist (mode 0600). A Spark lake (``spark:/path/to/lake``) is
        written as a new version of its changed tables (:func:`workbench.data.lake.write_lake`).
    settings
        Settings (time zone, ``lock_timeout``, ``[spark] retention_hours``); default:
        ``workbench.toml``.
    fresh
        Start from an empty store instead of a copy of the current one (used by ``sample``,
        which replaces everything and need not copy a large file first).
    lock_timeout
        Seconds to wait for another writer (default: the ``lock_timeout`` setting).

    Raises
    ------
    StoreError
        Another process kept the store locked for longer than ``lock_timeout``.
    InputError
        The path is a folder or a file that is not a DuckDB store (it is never overwritten).
    """
    settings = settings or load_settings()
    location = store_path(path_or_url, settings)
    if is_spark(location):  # a lake of Parquet versions: see workbench.data.lake
        from workbench.data.lake import write_lake
        from workbench.data.spark import lake_path

        with write_lake(lake_path(location), settings=settings, fresh=fresh,
                        lock_timeout=lock_timeout) as writer:
            yield writer
        return
    if is_url(location):
        raise StoreError(tr("store.write_url", scheme=repr(location.split("://")[0])))
    path = Path(location).expanduser().resolve()
    check_store_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout = settings.lock_timeout if lock_timeout is None else lock_timeout
    with _lock(path, float(timeout)):
        _clean_stale(path)
        check_store_file(path)  # it may have changed while this write waited
        # A private folder (mkdtemp: mode 0700) beside the store, on the same file system so
        # the rename is atomic: the copy and DuckDB's write-ahead log hold personal data and
        # must not be readable by others while they exist, nor survive a failure.
        work = Path(tempfile.mkdtemp(prefix=_work_prefix(path), dir=path.parent))
        tmp = work / path.name
        mode, owner = _mode_and_owner(path)
        writer: StoreWriter | None = None
        try:
            if path.exists() and path.stat().st_size > 0 and not fresh:
                shutil.copyfile(path, tmp)
            con = duckdb.connect(str(tmp))
            try:
                _init_duckdb(con, settings.timezone)
                con.execute("BEGIN TRANSACTION")
                writer = StoreWriter(con, settings)
                yield writer
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.chmod(tmp, mode)
            if owner is not None and hasattr(os, "chown"):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.chown(tmp, *owner)
            os.replace(tmp, path)
        except BaseException:
            if writer is not None:
                writer.undo()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)


def table_counts(path_or_url: str | os.PathLike[str] | None = None, *,
                 settings: Settings | None = None) -> dict[str, int]:
    """Return the number of rows of every table in the store (``{}`` if it does not exist)."""
    settings = settings or load_settings()
    location = store_path(path_or_url, settings)
    if is_spark(location):  # from the Parquet footers: no Spark session needed
        from workbench.data.lake import table_counts as lake_counts
        from workbench.data.spark import lake_path

        return {name: n for name, n in lake_counts(lake_path(location)).items()
                if name in TABLES}
    if not is_url(location) and not Path(location).exists():
        return {}
    con = connect(location, settings=settings)
    try:
        return {name: int(con.table(name).count().execute())
                for name in TABLES if name in set(con.list_tables())}
    finally:
        con.disconnect()


def describe_store(path_or_url: str | os.PathLike[str] | None = None, *,
                   settings: Settings | None = None) -> str:
    """Describe the store for people: location, size, settings, row counts and recent loads."""
    settings = settings or load_settings()
    location = store_path(path_or_url, settings)
    size = _size(location)
    if size is None:
        return tr("cli.info_no_store", path=location)
    lines = [tr("cli.info_header", path=location, size=size,
                source=settings.source or tr("cli.settings_defaults"),
                timezone=settings.timezone, currency=settings.currency,
                ui_language=settings.language)]
    every = table_counts(location, settings=settings)
    counts = {name: n for name, n in every.items() if name != "load_log"}
    # Columns sized to the longest name and count, so long table names keep the counts aligned.
    name_width = max(map(len, counts), default=0)
    count_width = max((len(f"{n:,}") for n in counts.values()), default=0)
    lines += [tr("cli.info_table_one" if n == 1 else "cli.info_table",
                 table=name.ljust(name_width), rows=f"{n:,}".rjust(count_width))
              for name, n in counts.items()]
    if every.get("load_log"):
        log = _recent_loads(location, settings)
        lines.append(tr("cli.info_loads"))
        table_w, mode_w = log["table_name"].str.len().max(), log["mode"].str.len().max()
        rows_w = max(len(f"{n:,}") for n in log["rows_written"])
        for row in log.itertuples():
            when = row.loaded_at.tz_convert(settings.timezone).strftime("%Y-%m-%d %H:%M")
            lines.append(f"  {when}  {row.table_name:<{table_w}}  {row.mode:<{mode_w}}  "
                         f"{row.rows_written:>{rows_w},}  {row.source}")
    return "\n".join(lines)


def _size(location: str) -> str | None:
    """Return the store's size on disk for people (``-``: a URL; ``None``: no store yet).

    For a lake, the size of its current version (older versions kept for readers not counted).
    """
    if is_spark(location):
        from workbench.data.lake import current_size
        from workbench.data.spark import lake_path

        size = current_size(lake_path(location))
    elif is_url(location):
        return "-"
    else:
        size = Path(location).stat().st_size if Path(location).exists() else None
    return None if size is None else f"{size / 1e6:,.1f} MB"


def _recent_loads(location: str, settings: Settings) -> Any:
    """Return the five most recent rows of the load log as a pandas frame."""
    if is_spark(location):
        from workbench.data.lake import recent_loads
        from workbench.data.spark import lake_path

        return recent_loads(lake_path(location), 5, settings.timezone)
    con = connect(location, settings=settings)
    try:
        return con.table("load_log").order_by(ibis.desc("loaded_at")).limit(5).to_pandas()
    finally:
        con.disconnect()
