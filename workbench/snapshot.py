"""The per-customer snapshot that dashboards and audience forms read (``workbench refresh``).

Dashboards must open in seconds, so they read precomputed per-customer results for one
``as_of`` instead of scanning orders and events on every page load. :func:`refresh` computes
them in the backend and swaps them into the store in one step (see
:func:`workbench.data.write_store`): an open dashboard keeps reading the previous snapshot
until it reconnects, and never sees a half-written one.

This module holds the KPI facts, the RFM columns, the CLV predictions and churn scores; each
analysis adds its columns through :data:`SNAPSHOT_PARTS`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa

from workbench import __version__
from workbench.data.schema import TABLES
from workbench.data.store import connect, write_store
from workbench.dates import midnight
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings, load_settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["SnapshotReport", "data_fingerprint", "kpi_facts", "read_snapshot_meta", "refresh"]


def kpi_facts(con: BaseBackend, *, as_of: date, settings: Settings) -> ibis.Table:
    """Return one row per customer with the KPI facts as of a date (lazy Ibis table).

    Only orders and events strictly before midnight of ``as_of`` in the shop's zone count; net
    orders are those in :data:`NET_STATUSES`.
    """
    cutoff = midnight(as_of, settings.timezone)
    year_ago = midnight(as_of - pd.Timedelta(days=365), settings.timezone)
    orders = con.table("orders")
    net = net_orders(orders, before=cutoff, identified=True)
    in_year = net.ordered_at >= year_ago
    per_customer = net.group_by("customer_id").aggregate(
        first_order_at=net.ordered_at.min(),
        last_order_at=net.ordered_at.max(),
        orders=net.count(),
        net_revenue=net.amount.sum(),
        orders_365d=in_year.cast("int64").sum(),
        net_revenue_365d=in_year.ifelse(net.amount, 0).sum(),
    )
    events = con.table("events")
    active = events.filter(events.ts < cutoff, events.customer_id.notnull(),
                           events.type.isin(["visit", "login"]))
    last_event = active.group_by("customer_id").aggregate(last_event_at=active.ts.max())
    customers = con.table("customers").select("customer_id", "is_member")
    ids = (customers.select("customer_id")
           .union(per_customer.select("customer_id"))
           .distinct())
    out = (ids.left_join(customers, "customer_id")
           .left_join(per_customer, "customer_id")
           .left_join(last_event, "customer_id"))
    last_active = ibis.greatest(out.last_order_at, out.last_event_at)
    last_active = out.last_order_at.isnull().ifelse(out.last_event_at, last_active)
    last_active = out.last_event_at.isnull().ifelse(out.last_order_at, last_active)
    return out.select(
        "customer_id",
        as_of=ibis.literal(as_of),
        is_member=out.is_member.fill_null(False),
        first_order_at=out.first_order_at,
        last_order_at=out.last_order_at,
        orders=out.orders.fill_null(0),
        net_revenue=out.net_revenue.fill_null(0.0),
        orders_365d=out.orders_365d.fill_null(0),
        net_revenue_365d=out.net_revenue_365d.fill_null(0.0),
        last_active_at=last_active,
        days_since_last_order=cutoff.delta(out.last_order_at, unit="day").cast("int64"),
    )


def rfm_part(con: BaseBackend, *, as_of: date, settings: Settings) -> ibis.Table:
    """Return RFM scores, segment, groups and tier per customer (default parameters)."""
    from workbench.rfm.analysis import rfm_snapshot

    return rfm_snapshot(con, as_of=as_of, settings=settings)


def clv_part(con: BaseBackend, *, as_of: date, settings: Settings) -> object:
    """Return BG/NBD and Gamma-Gamma predictions and CLV per customer (default parameters)."""
    from workbench.clv.analysis import clv_part as part

    return part(con, as_of=as_of, settings=settings)


def churn_part(con: BaseBackend, *, as_of: date, settings: Settings) -> object:
    """Return churn risk, band and reasons per customer (saved model, else trained now)."""
    from workbench.churn.analysis import churn_part as part

    return part(con, as_of=as_of, settings=settings)


#: Functions ``(con, as_of=, settings=) -> columns keyed by customer_id`` joined into the
#: snapshot: an Ibis table, a pandas or Arrow frame, or ``None`` when the part has nothing to add
#: (its columns are then null).
SNAPSHOT_PARTS = [kpi_facts, rfm_part, clv_part, churn_part]


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
        parts["orders_max"] = None if pd.isna(row.m) else str(row.m)
    if "events" in tables:
        parts["events_max"] = str(con.table("events").ts.max().execute())
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def _compute(store: str, as_of: date, settings: Settings) -> tuple[pa.Table, str]:
    con = connect(store, settings=settings)
    try:
        table = SNAPSHOT_PARTS[0](con, as_of=as_of, settings=settings)
        for part in SNAPSHOT_PARTS[1:]:
            columns = part(con, as_of=as_of, settings=settings)
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


def read_snapshot_meta(con: BaseBackend) -> dict | None:
    """Return the latest snapshot's ``as_of``, refresh time and fingerprint, or ``None``."""
    if "snapshot_meta" not in con.list_tables():
        return None
    meta = con.table("snapshot_meta").order_by(ibis.desc("refreshed_at")).limit(1).to_pandas()
    return None if meta.empty else meta.iloc[0].to_dict()
