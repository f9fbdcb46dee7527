"""Serving files: the lake's current version copied into a local DuckDB file for the pages.

A Spark store (``spark:/path/to/lake``) is where the shop's data and the snapshot are computed,
but a dashboard page must open in a second or two, and a Spark session takes about ten to start
and 0.1-0.5 s per query. So dashboards and the weekly report read a *serving file*: a DuckDB
file holding every table of one lake version, written after each refresh::

    workbench refresh --store spark:/data/lake --serve-from data/serving.duckdb

or, with ``serve_from = "data/serving.duckdb"`` under ``[spark]`` in ``workbench.toml``, plain
``workbench refresh``, ``workbench dashboard`` and ``workbench report weekly``.

The copy is one all-or-nothing store write (:func:`workbench.data.write_store` with
``fresh=True``): DuckDB reads each table's current Parquet folder straight into a private copy
that replaces the serving file only when every table is in, so an open dashboard reads either
the previous copy or the new one, and the file keeps mode 0600 (it holds personal data). A
``serving_meta`` table records the lake and version it was copied from; pages and reports say
so in their header (:func:`served_from_html`).

The serving file is an output: it is never written over the lake, the settings file, or an
existing file that is not a serving copy (a DuckDB store of the shop, a CSV).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb

from workbench import __version__
from workbench.data.lake import read_current
from workbench.data.schema import TABLES
from workbench.data.spark import lake_path
from workbench.data.store import TIME_ORDER, is_spark, write_store
from workbench.errors import InputError, StoreError
from workbench.i18n import tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import Settings

__all__ = ["SERVING_META", "ServingReport", "check_serving_target", "export_serving",
           "pages_store", "read_serving_meta", "served_from_html", "serving_target"]

log = logging.getLogger(__name__)

#: The table of a serving file naming the lake and version it was copied from.
SERVING_META = "serving_meta"
_META_DDL = (f'CREATE TABLE "{SERVING_META}" (lake VARCHAR, version VARCHAR, '
             "lake_written_at VARCHAR, exported_at TIMESTAMPTZ, tables BIGINT, "
             "package_version VARCHAR)")
#: Parquet types that hold a timestamp without a zone. Spark writes its TIMESTAMP (an instant)
#: as INT96 by default, which DuckDB reads as such a timestamp holding UTC wall time.
_NAIVE = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
#: The lake's folder of saved models (``workbench.churn.model.models_dir`` of a ``spark:``
#: store), copied to ``models/`` beside the serving file where the pages look.
MODELS = "_models"
_MODELS_MANIFEST = ".serving-models.json"


@dataclass(frozen=True, slots=True)
class ServingReport:
    """What :func:`export_serving` wrote: the file, its source and the rows of each table."""

    path: Path
    lake: Path
    version: str
    rows: dict[str, int]
    seconds: float

    def summary(self) -> str:
        """One line for people, in the active language."""
        return tr("serving.exported", path=str(self.path), lake=str(self.lake),
                  version=self.version, tables=len(self.rows),
                  customers=f"{self.rows.get('customers', 0):,}", seconds=f"{self.seconds:.1f}")


def serving_target(settings: Settings, serve_from: str | os.PathLike[str] | None = None,
                   *, option: str = "--serve-from", write: bool = True) -> Path | None:
    """Return the serving file a command writes (``write``) or reads for the settings' store.

    ``serve_from`` (the command's ``--serve-from``) wins over ``[spark] serve_from``. A DuckDB
    store has no serving file (``None``); so has a Spark store without either. A file to be
    written is checked now (:func:`check_serving_target`), before a refresh takes minutes.

    Raises
    ------
    InputError
        ``--serve-from`` was given for a store that is not a Spark lake (a DuckDB store is
        read by the pages as it is), or the file must not be written.
    """
    if not is_spark(settings.store):
        if serve_from:
            raise InputError(tr("serving.not_spark", option=option, store=settings.store))
        return None
    chosen = serve_from or settings.spark.serve_from
    if not chosen:
        return None
    path = Path(chosen).expanduser().absolute()
    return check_serving_target(path, lake_path(settings.store), settings=settings) if (
        write) else path


def pages_store(settings: Settings, serve_from: str | os.PathLike[str] | None = None,
                *, command: str) -> str:
    """Return the store that pages and reports read: the serving file for a Spark store.

    Raises
    ------
    InputError
        The store is a Spark lake but no serving file is set (``--serve-from`` or ``[spark]
        serve_from``), or, for ``workbench dashboard``, the serving file was never written.
    """
    target = serving_target(settings, serve_from, write=command != "dashboard")
    if target is None:
        if is_spark(settings.store):
            raise InputError(tr("serving.not_set", command=command, store=settings.store))
        return settings.store
    if command == "dashboard" and not target.is_file():
        raise InputError(tr("serving.missing", path=str(target), store=settings.store))
    return str(target)


def check_serving_target(path: str | os.PathLike[str], lake: Path, *,
                         settings: Settings | None = None,
                         inputs: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Return the resolved serving file, or refuse a path that must not be written.

    Refused: a folder; a path inside the lake (or the lake itself); the settings file; any of
    ``inputs``; an existing file that is not a serving copy written by workbench (the shop's
    DuckDB store, a CSV). An empty file or a previous serving copy is replaced.

    Raises
    ------
    InputError
        The path is refused; the message names it and why.
    """
    target = Path(path).expanduser().resolve()
    lake = Path(lake).expanduser().resolve()
    protected = [Path(p).expanduser().resolve() for p in inputs if p]
    if settings is not None and settings.source:
        protected.append(Path(settings.source).resolve())
    reason = None
    if target.is_dir():
        reason = tr("serving.reason_folder")
    elif target == lake or lake in target.parents:
        reason = tr("serving.reason_lake", lake=str(lake))
    elif target in protected:
        reason = tr("serving.reason_input")
    elif target.is_file() and target.stat().st_size > 0 and not _is_serving_copy(target):
        reason = tr("serving.reason_foreign")
    if reason is not None:
        raise InputError(tr("serving.refused", path=str(target), reason=reason))
    return target


def _is_serving_copy(path: Path) -> bool:
    """Tell whether a file is a DuckDB file holding ``serving_meta`` (a copy workbench wrote)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(12)[8:12] != b"DUCK":
                return False
        con = duckdb.connect(str(path), read_only=True)
    except (OSError, duckdb.Error):
        return False
    try:
        return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                [SERVING_META]).fetchone()[0])
    finally:
        con.close()


def export_serving(location: str, serving: str | os.PathLike[str], *, settings: Settings,
                   inputs: tuple[str | os.PathLike[str], ...] = ()) -> ServingReport:
    """Copy the current version of a Spark store's lake into a DuckDB serving file atomically.

    Parameters
    ----------
    location
        The ``spark:/path/to/lake`` store.
    serving
        The DuckDB file to write (created with mode 0600; a previous copy is replaced whole).
    settings
        Settings (time zone, ``lock_timeout``, the settings file that is never written).
    inputs
        Files of the same command that must never be written over.

    Returns
    -------
    ServingReport
        The file, the lake version copied and the rows of each table.

    Raises
    ------
    StoreError
        The lake has no current version yet.
    InputError
        The serving path is refused (:func:`check_serving_target`).
    """
    started = time.perf_counter()
    lake = lake_path(location)
    target = check_serving_target(serving, lake, settings=settings, inputs=inputs)
    current = read_current(lake)
    if current is None:
        raise StoreError(tr("spark.no_lake", path=str(lake)))
    # The version folders are named by time (lake.new_version): the newest names the write
    # that made this version current, usually the refresh.
    version = max((folder.rsplit("/", 1)[-1] for folder in current.tables.values()), default="")
    rows: dict[str, int] = {}
    with write_store(target, settings=settings.replace(store=str(target)), fresh=True) as w:
        for table, folder in sorted(current.tables.items()):
            rows[table] = _copy_table(w.con, table, lake / folder)
        w.con.execute(_META_DDL)
        w.con.execute(f'INSERT INTO "{SERVING_META}" VALUES (?, ?, ?, ?, ?, ?)',
                      [str(lake), version, current.written_at, datetime.now(UTC), len(rows),
                       __version__])
    _copy_models(lake / MODELS, target.parent / "models")
    return ServingReport(target, lake, version, rows, time.perf_counter() - started)


def _copy_models(source: Path, folder: Path) -> None:
    """Copy the lake's saved models beside the serving file, where the pages look for them.

    Each file is replaced whole (a temporary file, then a rename), mode 0600. A file there that
    this function did not write (a DuckDB store's own model in the same folder) is left alone,
    with a warning: ``.serving-models.json`` lists the files copied and their digests.
    """
    if not source.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / _MODELS_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    for model in sorted(p for p in source.iterdir() if p.is_file()):
        dest = folder / model.name
        if dest.exists() and manifest.get(model.name) != _digest(dest):
            log.warning(tr("serving.model_kept", path=str(dest), lake=str(source)))
            continue
        data = model.read_bytes()
        tmp = dest.with_name(f".{dest.name}.copy")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
        manifest[model.name] = hashlib.sha256(data).hexdigest()
    tmp = manifest_path.with_name(manifest_path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, manifest_path)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> int:
    """Copy one table's Parquet folder into the serving copy; return its rows."""
    if not any(folder.rglob("*.parquet")):  # a writer that leaves no file for an empty table
        return 0
    glob = str(folder / "**" / "*.parquet").replace("'", "''")
    source = f"read_parquet('{glob}', union_by_name = true)"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                             f"{source})").fetchall())
    spec = TABLES.get(table)
    if spec is None:  # a table outside the contract is copied as it is
        con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM {source}')
    else:
        kinds = {c.name: c.kind for c in spec.columns}
        columns = [name for name in spec.names if name in types]
        extra = sorted(set(types) - set(kinds))
        if extra:
            log.info("serving copy of %s leaves out columns outside the contract: %s",
                     table, extra)
        # A naive Parquet timestamp in a lake is an instant written as UTC wall time (Spark's
        # INT96); reading it into TIMESTAMPTZ without saying so would shift it by the zone.
        select = ", ".join(
            f'timezone(\'UTC\', "{name}")' if kinds[name] == "timestamp"
            and types[name] in _NAIVE else f'"{name}"' for name in columns)
        names = ", ".join(f'"{name}"' for name in columns)
        # in time order, as StoreWriter writes: a recent window then skips most row groups
        order = (f' ORDER BY "{TIME_ORDER[table]}"' if TIME_ORDER.get(table) in columns
                 else "")
        con.execute(f'INSERT INTO "{table}" ({names}) SELECT {select} FROM {source}{order}')
    return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def read_serving_meta(con: BaseBackend) -> dict[str, Any] | None:
    """Return the lake and version a serving file was copied from, or ``None`` (not a copy)."""
    try:
        if SERVING_META not in con.list_tables():
            return None
        frame = con.table(SERVING_META).limit(1).to_pandas()
    except Exception as exc:  # noqa: BLE001 - a header line must never break a page
        log.warning("could not read %s: %s", SERVING_META, exc)
        return None
    return None if frame.empty else frame.iloc[0].to_dict()


def served_from_html(meta: dict[str, Any] | None, *, language: str,
                     timezone: str | None = None) -> str:
    """Return the header line saying which lake and version a page's data was copied from.

    Empty when ``meta`` is ``None`` (the page reads its store directly).

    >>> meta = {"lake": "/data/lake", "version": "v-20261116T010203000000-ab12cd34",
    ...         "exported_at": datetime(2026, 11, 16, 1, 2, tzinfo=UTC)}
    >>> line = served_from_html(meta, language="en", timezone="Asia/Seoul")
    >>> line[line.index(">") + 1:-4].split(", ")  # the shop's time, not UTC
    ['Data copied from Spark lake /data/lake', 'version v-20261116T010203000000-ab12cd34', \
'on 2026-11-16 10:02.']
    """
    if not meta:
        return ""
    when = meta.get("exported_at")
    if isinstance(when, datetime):
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        when = when.astimezone(ZoneInfo(timezone)) if timezone else when
        when = when.strftime("%Y-%m-%d %H:%M")
    text = tr("serving.header", language=language, lake=str(meta.get("lake", "")),
              version=str(meta.get("version", "")), exported_at=str(when or "–")[:16])
    return (f"<p class='wb-served-from' style='margin:0 0 8px;color:#555;font-size:.9em'>"
            f"{html.escape(text)}</p>")

