"""The lake behind a Spark store: versioned Parquet tables and one atomically switched pointer.

Layout of a lake folder::

    <lake>/_current.json              the current version: {"format": 1, "tables": {...}}
    <lake>/<table>/<version>/*.parquet   one folder per version of a table, never changed

A write puts new tables into new version folders and then replaces ``_current.json``
(``os.replace``: atomic on a POSIX file system), so a reader sees either every table of the
previous version or every table of the new one, never a half-written table. Folders that the
pointer no longer names are removed after a retention period.

:func:`write_lake` is that write (``write_store`` on a ``spark:`` store): DuckDB in a private
staging folder ``<lake>/.write-<version>-*`` (mode 0700), one writer at a time (``<lake>/.lock``),
only the tables changed get a new folder; a killed write's leftovers are removed by the next
write or connection. Writing needs an atomic rename and ``flock``: a local disk or a mounted
shared file system, not an object store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from workbench.data.schema import SQL_TYPES, TABLES, Table, duckdb_ddl
from workbench.data.store import StoreWriter, _init_duckdb, hold_lock, lock_if_free
from workbench.errors import InputError, StoreError
from workbench.i18n import tr

if TYPE_CHECKING:
    from workbench.settings import Settings

__all__ = ["CURRENT", "Current", "LakeWriter", "check_lake_folder", "clean_if_idle",
           "current_size", "new_version", "read_current", "recent_loads", "remove_old_versions",
           "table_counts", "write_current", "write_lake"]

log = logging.getLogger(__name__)

#: The pointer file naming every table's current version folder.
CURRENT = "_current.json"
FORMAT = 1


@dataclass(frozen=True)
class Current:
    """The lake's current version: each table's folder, relative to the lake."""

    tables: dict[str, str] = field(default_factory=dict)
    written_at: str = ""


def read_current(lake: Path) -> Current | None:
    """Return the lake's current version, or ``None`` when the lake has none yet."""
    path = Path(lake) / CURRENT
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise InputError(tr("lake.not_folder", path=str(lake))) from None
    except (OSError, ValueError) as exc:
        raise StoreError(tr("spark.bad_pointer", path=str(path), detail=str(exc)[:200])) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(
            raw.get("tables"), dict):
        raise StoreError(tr("spark.bad_pointer", path=str(path), detail="unknown format"))
    return Current(tables={str(k): str(v) for k, v in raw["tables"].items()},
                   written_at=str(raw.get("written_at", "")))


def new_version() -> str:
    """Return a fresh version folder name: sortable by time, unique across processes."""
    return f"v-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def write_current(lake: Path, current: Current) -> None:
    """Switch the lake to ``current`` atomically (write a temporary file, then rename it)."""
    lake = Path(lake)
    body = json.dumps({"format": FORMAT, "tables": dict(sorted(current.tables.items())),
                       "written_at": datetime.now(UTC).isoformat()}, indent=1)
    fd, tmp = tempfile.mkstemp(prefix=".current-", suffix=".tmp", dir=lake)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, lake / CURRENT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_duckdb(store: Path, lake: Path) -> Current:
    """Copy every table of a DuckDB store into a new version of ``lake`` and switch to it."""
    lake = Path(lake)
    lake.mkdir(parents=True, exist_ok=True)
    version = new_version()
    tables: dict[str, str] = {}
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        for name in names:
            folder = lake / name / version
            folder.parent.mkdir(parents=True, exist_ok=True)
            literal = str(folder).replace("'", "''")
            con.execute(f"COPY \"{name}\" TO '{literal}' (FORMAT parquet, PER_THREAD_OUTPUT)")
            tables[name] = f"{name}/{version}"
    finally:
        con.close()
    current = Current(tables=tables)
    write_current(lake, current)
    return current


# --------------------------------------------------------------------------- writing
#: Private folders of writes in progress: ``.write-<version>-<random>`` (mode 0700).
WRITE_PREFIX = ".write-"
#: The lake's write lock (``hold_lock``): one writer at a time.
LOCK = ".lock"
_VERSION = re.compile(r"v-\d{8}T\d{12}-[0-9a-f]{8}")
_STAGING = re.compile(re.escape(WRITE_PREFIX) + r"(" + _VERSION.pattern + r")-")
#: Statements of raw SQL (``writer.con``) that change the table they name.
_CHANGES = re.compile(r'\b(?:DELETE\s+FROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|ALTER\s+TABLE'
                      r'|TRUNCATE(?:\s+TABLE)?|COPY)\s+"?(\w+)"?', re.IGNORECASE)


class _StagingConnection:
    """The DuckDB connection of a lake write, turning a table's view into a table before a change.

    ``load.py`` and ``sample.py`` use ``writer.con`` for raw SQL; a ``DELETE`` on a view would
    fail, so every statement that changes a table first makes that table a real copy.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, touch: Callable[[str], None]) -> None:
        self._con = con
        self._touch = touch

    def execute(self, query: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        for name in _CHANGES.findall(query):
            self._touch(name)
        if parameters is None:
            return self._con.execute(query)
        return self._con.execute(query, parameters)

    def sql(self, query: str, **kwargs: Any) -> Any:
        for name in _CHANGES.findall(query):
            self._touch(name)
        return self._con.sql(query, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class LakeWriter(StoreWriter):
    """Writes tables of one lake version; see :func:`write_lake`.

    Every table of the current version is a view over its Parquet folder until the write
    changes it; then it becomes a table of the private staging database, and only the tables
    changed get a new version folder.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, *, lake: Path,
                 current: Current | None) -> None:
        self.settings = settings
        self._undo = []
        self._raw = con
        self.con = _StagingConnection(con, self._materialise)  # type: ignore[assignment]
        self._views: dict[str, str] = {}
        #: Tables whose new version is written at the end (changed, new, or missing columns).
        self.changed: set[str] = set()
        tables = current.tables if current is not None else {}
        for name, relative in tables.items():
            select, complete = _select(con, lake / relative, TABLES.get(name))
            con.execute(f'CREATE VIEW "{name}" AS {select}')
            self._views[name] = select
            if not complete:  # an older lake: written again with the contract's new columns
                self.changed.add(name)
        for table in TABLES.values():
            if table.name not in tables:
                con.execute(duckdb_ddl(table))
                self.changed.add(table.name)

    def _materialise(self, table: str) -> None:
        select = self._views.pop(table, None)
        if select is not None:
            self._raw.execute(f'DROP VIEW "{table}"')
            self._raw.execute(f'CREATE TABLE "{table}" AS {select}')
            self.changed.add(table)

    def write(self, table: str, data: Any, *, mode: str = "append") -> int:
        """Write rows into a table of the contract; see :meth:`StoreWriter.write`."""
        if table in TABLES:
            self._materialise(table)
        return super().write(table, data, mode=mode)

    def reset_table(self, table: str) -> None:
        """Drop and recreate a table with the contract's current columns (derived tables)."""
        kind = "VIEW" if self._views.pop(table, None) is not None else "TABLE"
        self._raw.execute(f'DROP {kind} IF EXISTS "{table}"')
        self._raw.execute(duckdb_ddl(TABLES[table]))
        self.changed.add(table)

    def log_load(self, table: str, **kwargs: Any) -> None:
        """Record a load in the ``load_log`` table; see :meth:`StoreWriter.log_load`."""
        self._materialise("load_log")
        super().log_load(table, **kwargs)

    def export(self, folder: Path) -> dict[str, Path]:
        """Write every changed table as Parquet into ``folder/<table>``; return the folders."""
        folder.mkdir(mode=0o700)
        out = {}
        for name in sorted(self.changed):
            target = folder / name
            self._raw.execute(f"COPY (SELECT * FROM \"{name}\") TO '{_literal(target)}' "
                              "(FORMAT parquet, PER_THREAD_OUTPUT)")
            _seal(target)
            out[name] = target
        return out


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _select(con: duckdb.DuckDBPyConnection, folder: Path, table: Table | None
            ) -> tuple[str, bool]:
    """Return the query reading a version folder, with the contract's missing columns as nulls.

    The second value tells whether the folder already has every column of the contract.
    """
    source = f"read_parquet('{_literal(folder)}/*.parquet')"
    if not any(folder.glob("*.parquet")):
        raise StoreError(tr("lake.missing_version", path=str(folder)))
    if table is None:
        return f"SELECT * FROM {source}", True
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    missing = [c for c in table.columns if c.name not in have]
    extra = "".join(f', CAST(NULL AS {SQL_TYPES[c.kind]}) AS "{c.name}"' for c in missing)
    return f"SELECT *{extra} FROM {source}", not missing


def _seal(folder: Path) -> None:
    """Make a written folder private (0700, files 0600) and flush its files to disk."""
    for path in folder.iterdir():
        os.chmod(path, 0o600)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.chmod(folder, 0o700)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs folders
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_lake_folder(lake: Path) -> None:
    """Refuse to write a lake into a file, or into a folder that holds other things.

    Raises
    ------
    InputError
        ``lake`` is a file, or a folder with other files and no ``_current.json`` (a home
        folder named by mistake would get a table folder per table).
    """
    if lake.exists() and not lake.is_dir():
        raise InputError(tr("lake.not_folder", path=str(lake)))
    if lake.is_dir() and not (lake / CURRENT).exists():
        others = [p.name for p in lake.iterdir() if not p.name.startswith((".", "_"))]
        if others:
            raise InputError(tr("lake.not_a_lake", path=str(lake),
                                names=", ".join(sorted(others)[:3])))


def _clean_stale(lake: Path, current: Current | None) -> None:
    """Remove what killed writes left (call with the write lock held).

    A killed write leaves its staging folder and, if it died between publishing its version
    folders and switching the pointer, version folders the pointer never named: the staging
    folder's name carries the version, so those are found and removed too.
    """
    named = set(current.tables.values()) if current is not None else set()
    for staging in lake.glob(WRITE_PREFIX + "*"):
        match = _STAGING.match(staging.name)
        if match:
            for folder in lake.glob(f"*/{match.group(1)}"):
                if f"{folder.parent.name}/{folder.name}" not in named:
                    shutil.rmtree(folder, ignore_errors=True)
        if staging.is_dir() and not staging.is_symlink():
            shutil.rmtree(staging, ignore_errors=True)
    for leftover in lake.glob(".current-*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def clean_if_idle(lake: Path) -> None:
    """Remove leftovers of killed writes when no write is running (cheap; best effort)."""
    lake = Path(lake)
    if not any(lake.glob(WRITE_PREFIX + "*")) and not any(lake.glob(".current-*.tmp")):
        return
    with lock_if_free(lake / LOCK) as free:
        if free:
            _clean_stale(lake, read_current(lake))


def remove_old_versions(lake: Path, current: Current, hours: float) -> list[Path]:
    """Remove version folders the pointer no longer names and that were retired ``hours`` ago.

    A folder's modification time is set when a write retires it (:func:`write_lake`), so the
    retention counts from the moment readers stopped being sent to it. Only folders named like
    a version (``v-...``) inside table folders are ever removed.

    Returns
    -------
    list of Path
        The folders removed.
    """
    lake = Path(lake)
    keep = {lake / relative for relative in current.tables.values()}
    limit = time.time() - hours * 3600
    removed = []
    for table in lake.iterdir():
        if table.name.startswith((".", "_")) or table.is_symlink() or not table.is_dir():
            continue
        gone = 0
        for folder in table.iterdir():
            if (folder in keep or not _VERSION.fullmatch(folder.name) or folder.is_symlink()
                    or folder.stat().st_mtime > limit):
                continue
            shutil.rmtree(folder)
            removed.append(folder)
            gone += 1
        if gone and table not in {p.parent for p in keep}:
            with contextlib.suppress(OSError):  # only when empty: a table no version names
                table.rmdir()
    return removed


@contextlib.contextmanager
def write_lake(lake: Path, *, settings: Settings, fresh: bool = False,
               lock_timeout: float | None = None) -> Iterator[LakeWriter]:
    """Open a lake for one all-or-nothing write (:func:`workbench.data.write_store` on ``spark:``).

    The write runs in a private staging folder inside the lake (``.write-<version>-*``, mode
    0700) holding a DuckDB database where each table of the current version is a view over its
    Parquet folder. When the ``with`` block ends without an exception, every table it changed
    is written as Parquet into a new version folder and ``_current.json`` is replaced (one
    ``os.replace``); tables it did not change keep their folder. On an exception the new
    folders are removed and the pointer is untouched. Version folders retired more than
    ``[spark] retention_hours`` ago are removed after the switch.

    Parameters
    ----------
    lake
        The lake folder; created (mode 0700) if missing.
    settings
        Settings (time zone, ``lock_timeout``, ``[spark] retention_hours``).
    fresh
        Start from an empty version instead of the current one (``sample``).
    lock_timeout
        Seconds to wait for another writer (default: the ``lock_timeout`` setting).

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from workbench.settings import Settings
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "lake"
    >>> with write_lake(folder, settings=Settings()) as w:
    ...     _ = w.write("products", pa.table({"product_id": ["P1"], "price": [9900.0]}))
    >>> table_counts(folder)["products"]
    1
    """
    lake = Path(lake)
    check_lake_folder(lake)
    if not lake.exists():
        lake.mkdir(parents=True, mode=0o700)
    timeout = settings.lock_timeout if lock_timeout is None else lock_timeout
    with hold_lock(lake, lake / LOCK, float(timeout)):
        check_lake_folder(lake)  # it may have changed while this write waited
        current = read_current(lake)
        _clean_stale(lake, current)
        version = new_version()
        staging = Path(tempfile.mkdtemp(prefix=f"{WRITE_PREFIX}{version}-", dir=lake))
        published: list[Path] = []
        writer: LakeWriter | None = None
        try:
            con = duckdb.connect(str(staging / "stage.duckdb"))
            try:
                _init_duckdb(con, settings.timezone)
                writer = LakeWriter(con, settings, lake=lake,
                                    current=None if fresh else current)
                con.execute("BEGIN TRANSACTION")
                yield writer
                con.execute("COMMIT")
                written = writer.export(staging / "out")
            finally:
                con.close()
            new = _switch(lake, current, written, version, fresh=fresh, published=published)
        except BaseException:
            for folder in published:
                shutil.rmtree(folder, ignore_errors=True)
            if writer is not None:
                writer.undo()
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        try:
            remove_old_versions(lake, new, settings.spark.retention_hours)
        except OSError as exc:  # the write succeeded; the next one tries again
            log.warning(tr("lake.cleanup_failed", path=str(lake), detail=str(exc)))


def _switch(lake: Path, current: Current | None, written: dict[str, Path], version: str, *,
            fresh: bool, published: list[Path]) -> Current:
    """Move the written tables into their version folders and switch the pointer to them."""
    tables = {} if fresh or current is None else dict(current.tables)
    for name, folder in written.items():
        parent = lake / name
        parent.mkdir(mode=0o700, exist_ok=True)
        target = parent / version
        os.replace(folder, target)
        published.append(target)
        _fsync_folder(parent)
        tables[name] = f"{name}/{version}"
    new = Current(tables=tables)
    # Retired now: the retention counts from here (see remove_old_versions).
    for relative in (current.tables.values() if current is not None else ()):
        if relative not in tables.values():
            with contextlib.suppress(OSError):
                os.utime(lake / relative)
    write_current(lake, new)
    published.clear()  # the pointer names them: a later failure must not remove them
    return new


# --------------------------------------------------------------------------- reading for people
def table_counts(lake: Path) -> dict[str, int]:
    """Return the rows of every table of the lake's current version (``{}``: no lake).

    Read from the Parquet footers with DuckDB: ``workbench info`` needs no Spark session.
    """
    current = read_current(Path(lake))
    if current is None:
        return {}
    con = duckdb.connect(":memory:")
    try:
        return {name: int(con.execute(
            f"SELECT count(*) FROM read_parquet('{_literal(Path(lake) / rel)}/*.parquet')"
        ).fetchone()[0]) for name, rel in current.tables.items()}
    finally:
        con.close()


def current_size(lake: Path) -> int | None:
    """Return the bytes on disk of the lake's current version (``None``: no lake)."""
    current = read_current(Path(lake))
    if current is None:
        return None
    return sum(p.stat().st_size for rel in current.tables.values()
               for p in (Path(lake) / rel).glob("*.parquet"))


def recent_loads(lake: Path, limit: int, timezone: str) -> Any:
    """Return the ``limit`` most recent rows of the lake's ``load_log`` as a pandas frame."""
    current = read_current(Path(lake))
    if current is None or "load_log" not in current.tables:
        return None
    folder = Path(lake) / current.tables["load_log"]
    con = duckdb.connect(":memory:")
    try:
        _init_duckdb(con, timezone)
        return con.execute(f"SELECT * FROM read_parquet('{_literal(folder)}/*.parquet') "
                           f"ORDER BY loaded_at DESC LIMIT {int(limit)}").df()
    finally:
        con.close()
