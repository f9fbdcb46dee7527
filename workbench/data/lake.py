"""The lake behind a Spark store: versioned Parquet tables and one atomically switched pointer.

Layout of a lake folder::

    <lake>/_current.json              the current version: {"format": 1, "tables": {...}}
    <lake>/<table>/<version>/*.parquet   one folder per version of a table, never changed

A write puts new tables into new version folders and then replaces ``_current.json``
(``os.replace``: atomic on a POSIX file system), so a reader sees either every table of the
previous version or every table of the new one, never a half-written table. Folders that the
pointer no longer names are removed after a retention period.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workbench.errors import StoreError
from workbench.i18n import tr

__all__ = ["CURRENT", "Current", "new_version", "read_current", "write_current"]

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
    import duckdb

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
