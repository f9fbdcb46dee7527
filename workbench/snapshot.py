"""The per-customer snapshot that dashboards and audience forms read (``workbench refresh``).

Dashboards must open in seconds, so they read precomputed per-customer results for one
``as_of`` instead of scanning orders and events on every page load. :func:`refresh` computes
them in the backend and swaps them into the store in one step (see
:func:`workbench.data.write_store`): an open dashboard keeps reading the previous snapshot
until it reconnects, and never sees a half-written one.

This is the write side: each analysis declares the columns it contributes and how to compute
them (a :class:`~workbench.data.snapshot.SnapshotPart`), and :func:`refresh` joins the parts
listed in :data:`SNAPSHOT_PARTS`. Reading (the snapshot's date, its columns, the one freshness
rule) is :mod:`workbench.data.snapshot`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa

from workbench import __version__
from workbench.churn.analysis import SNAPSHOT_PART as CHURN_PART
from workbench.clv.analysis import SNAPSHOT_PART as CLV_PART
from workbench.clv.intervals import SNAPSHOT_PART as CLV_INTERVALS_PART
from workbench.clv.next_order import SNAPSHOT_PART as NEXT_ORDER_PART
from workbench.data.schema import TABLES
from workbench.data.snapshot import SnapshotPart
from workbench.data.store import connect, write_store
from workbench.dates import local_instant
from workbench.i18n import tr
from workbench.kpi.customers import SNAPSHOT_PART as KPI_PART
from workbench.recommend.part import SNAPSHOT_PART as RECOMMEND_PART
from workbench.rfm.analysis import SNAPSHOT_PART as RFM_PART
from workbench.settings import Settings, load_settings
from workbench.uplift import SNAPSHOT_PART as UPLIFT_PART

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["SNAPSHOT_PARTS", "SnapshotReport", "data_fingerprint", "refresh"]


#: The parts joined into the snapshot, the KPI facts first (one row per customer).
SNAPSHOT_PARTS: tuple[SnapshotPart, ...] = (KPI_PART, RFM_PART, CLV_PART, CHURN_PART,
                                            UPLIFT_PART, NEXT_ORDER_PART, RECOMMEND_PART,
                                            CLV_INTERVALS_PART)


def data_fingerprint(con: BaseBackend) -> str:
    """Return a short fingerprint of the input data (row counts, sums and latest timestamps).

    Cheap to compute on millions of rows, and it changes whenever a load adds, removes or
    changes orders or events, so a report records exactly which data it was built from.
    """
    parts: dict[str, object] = {}
    tables = set(con.list_tables())
    for name in ("customers", "orders", "order_items", "events", "campaigns", "assignments",
                 "messages", "products"):
        if name in tables:
            parts[name] = int(con.table(name).count().execute())
    if "orders" in tables:
        o = con.table("orders")
        row = o.aggregate(s=o.amount.sum(), m=o.ordered_at.max()).to_pandas().iloc[0]
        parts["orders_sum"] = None if pd.isna(row.s) else round(float(row.s), 2)
        parts["orders_max"] = None if pd.isna(row.m) else _utc_text(row.m)
    if "events" in tables:
        last = con.table("events").ts.max().execute()
        parts["events_max"] = str(last) if last is None or pd.isna(last) else _utc_text(last)
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _utc_text(value: Any) -> str:
    """Return an instant as text in UTC, whatever zone the backend returned it in.

    DuckDB returns ``TIMESTAMPTZ`` in UTC, a Spark store in the shop's zone: the same data
    must give the same fingerprint (and DuckDB's text stays what it was).
    """
    return str(local_instant(value, "UTC"))


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    """What a refresh wrote."""

    as_of: date
    customers: int
    fingerprint: str
    seconds: float
    store: str

    def summary(self) -> str:
        """One line for people, in the active language."""
        return tr("snapshot.summary", as_of=self.as_of.isoformat(), customers=f"{self.customers:,}",
                  seconds=f"{self.seconds:.1f}", store=self.store)


def _compute(store: str, as_of: date, settings: Settings, *,
             con: BaseBackend | None = None) -> tuple[pa.Table, str]:
    """Return the snapshot of ``store`` for ``as_of`` and the data's fingerprint.

    ``con``: an open connection to the store to use (left open), instead of opening one.
    """
    own = con is None
    con = connect(store, settings=settings) if con is None else con
    try:
        table = SNAPSHOT_PARTS[0].compute(con, as_of=as_of, settings=settings)
        for part in SNAPSHOT_PARTS[1:]:
            columns = part.compute(con, as_of=as_of, settings=settings)
            if columns is None:  # the part has nothing yet (e.g. too little data for a model)
                continue
            if not isinstance(columns, ibis.Table):
                columns = ibis.memtable(columns)
            table = table.left_join(columns, "customer_id")
            if "customer_id_right" in table.columns:  # Ibis keeps the right key of a left join
                table = table.drop("customer_id_right")
        frame = table.to_pyarrow()
        return frame, data_fingerprint(con)
    finally:
        if own:
            con.disconnect()


def refresh(as_of: date, *, store: str | None = None,
            settings: Settings | None = None) -> SnapshotReport:
    """Compute the per-customer snapshot for ``as_of`` and swap it into the store atomically.

    Parameters
    ----------
    as_of
        Facts use orders and events strictly before midnight of this date (shop's zone).
    store
        DuckDB file; default: the ``store`` setting.
    settings
        Settings (time zone); default: ``workbench.toml``.
    """
    settings = settings or load_settings()
    store = store or settings.store
    started = time.perf_counter()
    frame, fingerprint = _compute(store, as_of, settings)
    with write_store(store, settings=settings) as w:
        w.reset_table("snapshot_customers")
        # Columns of a part that returned nothing are written as nulls.
        w.write("snapshot_customers", frame.select(
            [n for n in TABLES["snapshot_customers"].names if n in frame.column_names]))
        w.reset_table("snapshot_meta")
        w.write("snapshot_meta", pd.DataFrame({
            "as_of": [as_of], "refreshed_at": [datetime.now(UTC)],
            "customers": [frame.num_rows], "fingerprint": [fingerprint],
            "package_version": [__version__],
        }))
    return SnapshotReport(as_of, frame.num_rows, fingerprint, time.perf_counter() - started,
                          str(store))
