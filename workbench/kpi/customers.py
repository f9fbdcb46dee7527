"""KPI facts per customer: the base of the per-customer snapshot.

Built from :func:`workbench.features.customer_facts` (net orders strictly before local
midnight of ``as_of``), with every customer of the ``customers`` table (also those without an
order), membership and the last visit, login or order.

Examples
--------
>>> import ibis, pandas as pd
>>> from datetime import date
>>> from workbench.settings import Settings
>>> con = ibis.duckdb.connect()
>>> _ = con.create_table("customers", pd.DataFrame({"customer_id": ["A", "B"],
...                                                 "is_member": [True, False]}))
>>> _ = con.create_table("orders", pd.DataFrame({
...     "order_id": ["o1", "o2"], "customer_id": ["A", "A"], "status": ["paid", "paid"],
...     "amount": [10.0, 20.0], "ordered_at": pd.to_datetime(
...         ["2026-11-14 23:30", "2026-11-15 08:00"]).tz_localize("Asia/Seoul")}))
>>> _ = con.create_table("events", pd.DataFrame({"customer_id": ["B"], "type": ["visit"],
...     "ts": pd.to_datetime(["2026-11-10 12:00"]).tz_localize("Asia/Seoul")}))
>>> f = kpi_facts(con, as_of=date(2026, 11, 16), settings=Settings()).order_by("customer_id")
>>> f.select("customer_id", "orders", "net_revenue", "days_since_last_order").to_pyarrow(
... ).to_pylist()  # doctest: +NORMALIZE_WHITESPACE
[{'customer_id': 'A', 'orders': 2, 'net_revenue': 30.0, 'days_since_last_order': 1},
 {'customer_id': 'B', 'orders': 0, 'net_revenue': 0.0, 'days_since_last_order': None}]
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis

from workbench.data.snapshot import SnapshotPart
from workbench.dates import local_days, midnight
from workbench.features import customer_facts
from workbench.kpi.queries import ACTIVE_EVENTS
from workbench.settings import Settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["KPI_COLUMNS", "SNAPSHOT_PART", "kpi_facts"]

#: Columns of :func:`kpi_facts` besides ``customer_id``.
KPI_COLUMNS = ("as_of", "is_member", "first_order_at", "last_order_at", "orders", "net_revenue",
               "orders_365d", "net_revenue_365d", "last_active_at", "days_since_last_order")


def kpi_facts(con: BaseBackend, *, as_of: date, settings: Settings) -> ibis.Table:
    """Return one row per customer with the KPI facts as of a date (lazy Ibis table).

    Customers of the ``customers`` table and everyone with a net order before ``as_of``;
    counts are 0 and times null for customers without orders.
    """
    tz = settings.timezone
    facts = customer_facts(con.table("orders"), as_of=as_of, timezone=tz, median=False)
    tables = set(con.list_tables())
    ids = facts.select("customer_id")
    customers = None
    if "customers" in tables:
        customers = con.table("customers").select("customer_id", "is_member")
        ids = customers.select("customer_id").union(ids).distinct()
    out = _join(ids, facts)
    if customers is not None:
        out = _join(out, customers)
    if "events" in tables:
        events = con.table("events")
        active = events.filter(events.ts < midnight(as_of, tz), events.customer_id.notnull(),
                               events.type.isin(ACTIVE_EVENTS))
        out = _join(out, active.group_by("customer_id").aggregate(last_event_at=active.ts.max()))
    last_event = out.last_event_at if "last_event_at" in out.columns else ibis.null("timestamp")
    last_active = ibis.cases((out.last_order_at.isnull(), last_event),
                             (last_event.isnull(), out.last_order_at),
                             else_=ibis.greatest(out.last_order_at, last_event))
    member = out.is_member.fill_null(False) if "is_member" in out.columns else ibis.literal(False)
    return out.select(
        "customer_id",
        as_of=ibis.literal(as_of),
        is_member=member,
        first_order_at=out.first_order_at,
        last_order_at=out.last_order_at,
        orders=out.orders.fill_null(0),
        net_revenue=out.net_revenue.fill_null(0.0),
        orders_365d=out.orders_365d.fill_null(0),
        net_revenue_365d=out.net_revenue_365d.fill_null(0.0),
        last_active_at=last_active,
        # local calendar days, the same on any backend and session time zone
        days_since_last_order=(-local_days(out.last_order_at, as_of=as_of, timezone=tz)
                               ).cast("int64"),
    )


def _join(left: ibis.Table, right: ibis.Table) -> ibis.Table:
    """Left-join on ``customer_id``, keeping one ``customer_id`` column."""
    right = right.rename(_right_id="customer_id")
    return left.left_join(right, left.customer_id == right._right_id).drop("_right_id")


#: The KPI columns of the per-customer snapshot: the rows every other part joins to.
SNAPSHOT_PART = SnapshotPart("kpi", KPI_COLUMNS, kpi_facts)
