"""Queries every analysis shares: the orders that count as net revenue.

Net revenue counts paid, shipped, delivered and confirmed orders
(:data:`workbench.data.schema.NET_STATUSES`); cancelled and returned orders are excluded. Time
bounds are dates (local midnight in the shop's zone, see :func:`workbench.dates.midnight`),
datetimes, or Ibis timestamp expressions, half-open as ``[since, before)``.

Examples
--------
>>> import ibis, pandas as pd
>>> from datetime import date
>>> orders = ibis.memtable(pd.DataFrame({
...     "customer_id": ["A", None, "B", "A"], "status": ["paid", "paid", "cancelled", "confirmed"],
...     "ordered_at": pd.to_datetime(["2026-11-15 23:30", "2026-11-15 10:00", "2026-11-15 10:00",
...                                   "2026-11-16 00:30"]).tz_localize("Asia/Seoul")}))
>>> net_orders(orders, before=date(2026, 11, 16), timezone="Asia/Seoul").count().execute()
2
>>> net_orders(orders, before=date(2026, 11, 16), timezone="Asia/Seoul",
...            identified=True).count().execute()
1
"""

from __future__ import annotations

from datetime import date, datetime

import ibis.expr.types as ir

from workbench.data.schema import NET_STATUSES
from workbench.dates import midnight

__all__ = ["net_orders"]

Bound = date | datetime | ir.TimestampValue | None


def _instant(bound: Bound, timezone: str | None) -> ir.Value:
    if isinstance(bound, ir.Value):
        return bound
    if timezone is None:
        raise TypeError("net_orders: a date or datetime bound needs the shop's 'timezone'.")
    return midnight(bound, timezone)


def net_orders(orders: ir.Table, *, before: Bound = None, since: Bound = None,
               timezone: str | None = None, identified: bool = False) -> ir.Table:
    """Return the orders counting as net revenue, optionally in ``[since, before)``.

    Parameters
    ----------
    orders
        The ``orders`` table of the data contract.
    before, since
        Bounds: a date (its local midnight), a naive datetime (local time), or a timestamp
        expression; ``None`` for no bound.
    timezone
        The shop's IANA time zone (needed for date and datetime bounds).
    identified
        Keep only orders with a customer (guests count toward revenue, not toward customers).
    """
    keep = [orders.status.isin(NET_STATUSES)]
    if identified:
        keep.append(orders.customer_id.notnull())
    if since is not None:
        keep.append(orders.ordered_at >= _instant(since, timezone))
    if before is not None:
        keep.append(orders.ordered_at < _instant(before, timezone))
    return orders.filter(*keep)
