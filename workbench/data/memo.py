"""A small in-process memo of analysis parts, keyed on the store's data version.

A dashboard page answers a widget change by running its analysis again. Most widgets change only
how a result is shown (a CLV horizon, a churn band rule, a cycle level), while the heavy part
under it (fitted models, scored customers, a retention triangle) depends only on the store's
data, the date and a few model settings. :class:`Memo` keeps the last few heavy parts of one
kind in the process, keyed on everything they depend on, so the second widget change costs
only the view; :func:`data_version` is the part of the key that says "the same data".

Why a version and not a time-to-live: a page must never show numbers of data that were
replaced, and must not pay for the analysis twice when nothing changed. :func:`data_version`
is cheap (a ``stat`` and one query of row counts and latest times: 16-20 ms on the 100k-customer
sample, 1M orders and 5M events) and changes with every write:

- every write to a DuckDB store file goes through :func:`workbench.data.write_store`, which
  replaces the file (``os.replace``): its inode, size and modification time change, and a
  read-only connection attaches the new file before its next query;
- a Spark lake (:mod:`workbench.data.lake`) writes every table version into a new folder and
  never changes one: the files the session's views read are the version (no query runs; the
  queries below cost 0.3-1 s each on Spark);
- a store that is not a file (an Ibis URL, an in-memory database) has no such stamp: the latest
  ``load_log`` row (every load and ``workbench sample`` write one), the latest
  ``snapshot_meta`` row (every refresh), the row counts of the data tables and the latest
  ``ordered_at`` and total ``amount`` of ``orders`` stand for it (they are in the version of a
  file too: a connection opened read-write writes in place).

Entries are bounded (least recently used out), hold only results (frames, fitted models; never
a connection), and are shared read-only: callers must not modify what they get.

Examples
--------
>>> memo = Memo("demo", size=2)
>>> memo.get(("a",), lambda: [1, 2])
[1, 2]
>>> memo.get(("a",), lambda: [3])  # the same key: the stored value, not a new computation
[1, 2]
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["Memo", "clear_memos", "data_version", "memo_key", "store_identity"]

T = TypeVar("T")

#: The tables whose latest row marks a write (a load, a refresh); see the module docstring.
_LOG_TABLES = (("load_log", "loaded_at"), ("snapshot_meta", "refreshed_at"))
#: Tables whose row count is part of the version (appends without a load_log row, in tests).
_COUNTED = ("orders", "order_items", "customers", "events", "messages", "products",
            "campaigns", "assignments")


def _file_stamp(con: Any) -> tuple | None:
    """Return ``(path, inode, size, mtime_ns)`` of the DuckDB file behind ``con``, or ``None``."""
    if getattr(con, "name", None) != "duckdb":
        return None
    rows = con.raw_sql("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchall()
    path = rows[0][0] if rows else None
    if not path or path == ":memory:":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return (path, None)
    return (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)


def store_identity(con: Any, stamp: tuple | None = None) -> Hashable:
    """Return what identifies the store behind ``con``: its file, else the connection itself.

    Connections to the same file share memo entries; any other connection has its own, which
    are forgotten when the connection is garbage-collected (ids of dead objects are reused).
    ``stamp`` is :func:`_file_stamp` when the caller has it already.
    """
    stamp = stamp if stamp is not None else _file_stamp(con)
    if stamp is not None:
        return ("file", stamp[0])
    if getattr(con, "_wb_lake", None) is not None:
        return ("lake", str(con._wb_lake))
    key = id(con)
    if key not in _LIVE:
        _LIVE.add(key)
        try:
            weakref.finalize(con, _forget, key)
        except TypeError:  # not weak-referenceable: never share, a fresh token each call
            _LIVE.discard(key)
            return ("once", object())
    return ("con", key)


def data_version(con: Any, stamp: tuple | None = None) -> tuple:
    """Return a value that changes whenever the data in the store behind ``con`` changes.

    See the module docstring for what it is made of and why that suffices. ``stamp`` is
    :func:`_file_stamp` when the caller has it already.
    """
    tables = set(con.list_tables())
    if getattr(con, "_wb_lake", None) is not None:
        return (("lake", str(con._wb_lake)), (), _lake_files(con, tables))
    parts = [(name, "count", "*") for name in _COUNTED if name in tables]
    if "orders" in tables:
        parts += [("orders", "max", "ordered_at"), ("orders", "sum", "amount")]
    parts += [(name, "max", column) for name, column in _LOG_TABLES if name in tables]
    if not parts:
        values: tuple = ()
    elif getattr(con, "name", None) == "duckdb":
        # One statement: through Ibis each of these one-number queries costs 5-30 ms.
        # As text: fetching a TIMESTAMPTZ into Python needs pytz.
        select = ", ".join(f'(SELECT CAST({func}({column}) AS VARCHAR) FROM "{name}")'
                           for name, func, column in parts)
        values = tuple(con.raw_sql(f"SELECT {select}").fetchall()[0])
    else:
        values = tuple(_ibis_value(con.table(name), func, column)
                       for name, func, column in parts)
    return (stamp if stamp is not None else _file_stamp(con), tuple(parts), values)


def _lake_files(con: Any, tables: set[str]) -> tuple:
    """Return the Parquet files each table's view reads (Spark lists them when registering).

    Ibis' own temporary views (``ibis_...``: memtables of an analysis) are not store data.
    """
    session = con._session
    return tuple((name, tuple(sorted(session.table(name).inputFiles()))) for name in
                 sorted(tables) if not name.startswith("ibis_"))


def _ibis_value(table: Any, func: str, column: str) -> Any:
    if func == "count":
        return table.count().execute()
    return getattr(table[column], func)().execute()


class Memo:
    """The last ``size`` values of one kind of computation, least recently used out.

    Parameters
    ----------
    name
        What is kept (for :func:`repr` and debugging).
    size
        How many values are kept at most.
    """

    def __init__(self, name: str, size: int = 4) -> None:
        self.name = name
        self.size = int(size)
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        _MEMOS.add(self)

    def __repr__(self) -> str:
        return f"Memo({self.name!r}, size={self.size}, entries={len(self)})"

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the value stored under ``key``, computing and storing it when missing.

        ``compute`` runs outside the lock: two threads asking for the same missing key both
        compute it (the same value), which is rarer and cheaper than serialising pages.
        """
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.hits += 1
                return self._values[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()

    def _forget_connection(self, key: int) -> None:
        with self._lock:
            for k in [k for k in self._values if isinstance(k, tuple) and ("con", key) in k]:
                del self._values[k]


_LIVE: set[int] = set()
_MEMOS: weakref.WeakSet[Memo] = weakref.WeakSet()


def _forget(key: int) -> None:
    _LIVE.discard(key)
    for memo in list(_MEMOS):
        memo._forget_connection(key)


def clear_memos() -> None:
    """Forget the values of every memo of the process (tests comparing with a fresh run)."""
    for memo in list(_MEMOS):
        memo.clear()


def memo_key(con: Any, *parts: Hashable) -> tuple:
    """Return a memo key: the store's identity and data version, then ``parts``."""
    stamp = _file_stamp(con)
    return (store_identity(con, stamp), data_version(con, stamp), *parts)


