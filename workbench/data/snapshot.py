"""The per-customer snapshot, read side: its date, its columns, and what an analysis adds.

``workbench refresh`` (:func:`workbench.snapshot.refresh`) writes ``snapshot_customers`` (one
row per customer) and a row of ``snapshot_meta`` for one ``as_of``. Pages and audience forms
read it instead of scanning orders and events. One rule decides whether it answers a question:
**the snapshot stands for the day it was computed for** (:func:`snapshot_for`); for any other
``as_of`` the analysis computes its columns itself.

Each analysis that contributes columns declares a :class:`SnapshotPart` (its columns and the
function computing them); the refresh joins the declared parts, and a test checks that the
schema's ``snapshot_customers`` columns are exactly the union of the parts'.

Examples
--------
>>> part = SnapshotPart("demo", ("score",), lambda con, *, as_of, settings: None)
>>> part.columns
('score',)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ibis

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["SNAPSHOT_META", "SNAPSHOT_TABLE", "SnapshotPart", "latest_snapshot",
           "read_snapshot_meta", "snapshot_as_of", "snapshot_for"]

SNAPSHOT_TABLE = "snapshot_customers"
SNAPSHOT_META = "snapshot_meta"


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    """Columns an analysis adds to the snapshot, and how to compute them.

    Parameters
    ----------
    name
        The analysis (``kpi``, ``rfm``, ``clv``, ``churn``), for messages.
    columns
        The columns it adds, besides ``customer_id``.
    compute
        ``compute(con, *, as_of, settings)`` returning ``customer_id`` and ``columns`` as an
        Ibis table or a pandas/Arrow frame, or ``None`` when it has nothing yet (too little
        history for a model): its columns are then null.
    """

    name: str
    columns: tuple[str, ...]
    compute: Callable[..., Any]


def read_snapshot_meta(con: BaseBackend) -> dict | None:
    """Return the latest snapshot's ``as_of``, refresh time and fingerprint, or ``None``."""
    if SNAPSHOT_META not in con.list_tables():
        return None
    meta = con.table(SNAPSHOT_META).order_by(ibis.desc("refreshed_at")).limit(1).to_pandas()
    return None if meta.empty else meta.iloc[0].to_dict()


def snapshot_as_of(con: BaseBackend) -> date | None:
    """Return the day the latest snapshot was computed for, or ``None`` (never refreshed)."""
    meta = read_snapshot_meta(con)
    value = None if meta is None else meta.get("as_of")
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def latest_snapshot(con: BaseBackend, columns: Sequence[str] = ()
                    ) -> tuple[ibis.Table, date] | None:
    """Return the snapshot table and its day when it exists and holds ``columns``, else ``None``.

    For answers that may come from an older snapshot with a note (a model's scores, which
    would take minutes to compute on the spot); everything else uses :func:`snapshot_for`.
    """
    as_of = snapshot_as_of(con)
    if as_of is None or SNAPSHOT_TABLE not in con.list_tables():
        return None
    table = con.table(SNAPSHOT_TABLE)
    if any(c not in table.columns for c in columns):
        return None
    return table, as_of


def snapshot_for(con: BaseBackend, as_of: date, columns: Sequence[str] = ()
                 ) -> ibis.Table | None:
    """Return ``snapshot_customers`` when the latest snapshot is for ``as_of``, else ``None``.

    The one freshness rule: a snapshot answers only for the day it was computed for, and only
    when it holds every column asked for.
    """
    found = latest_snapshot(con, columns)
    if found is None or found[1] != as_of:
        return None
    return found[0]
