"""Retention triangle: first-order-month cohorts and what they bought in later months.

A customer's **cohort** is the calendar month (in the shop's time zone) of their first net order
(:data:`workbench.data.schema.NET_STATUSES`, identified customers only, strictly before
``as_of``). **Month k** of an order is the number of calendar months between the order's month
and the cohort month (``year * 12 + month``; k = 0 is the first month), never a 30-day factor.

Calendar days are cut in the shop's zone without relying on the backend's session time zone:
:func:`workbench.dates.local_day_number` turns an instant into the local day by an exact
difference plus the zone's UTC offset (a ``CASE`` over the zone's offset changes, so DST zones
are exact too). A 00:30 order on 1 June in Seoul is a June order even though it is 31 May in UTC.

Examples
--------
>>> import ibis, pandas as pd
>>> from datetime import date
>>> orders = ibis.memtable(pd.DataFrame({
...     "order_id": ["o1", "o2", "o3"], "customer_id": ["A", "A", "B"],
...     "ordered_at": pd.to_datetime(["2026-01-05 10:00", "2026-02-01 00:30",
...                                   "2026-01-20 10:00"]).tz_localize("Asia/Seoul"),
...     "status": ["paid", "paid", "confirmed"], "amount": [10_000.0, 20_000.0, 5_000.0]}))
>>> t = retention_triangle(orders, as_of=date(2026, 3, 1), timezone="Asia/Seoul", months=2)
>>> print(t.select("cohort", "months_since", "cohort_size", "active_customers", "retention",
...                "revenue_per_customer").to_pandas().to_string(index=False))
    cohort  months_since  cohort_size  active_customers  retention  revenue_per_customer
2026-01-01             0            2                 2        1.0                7500.0
2026-01-01             1            2                 1        0.5               10000.0
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np

from workbench.dates import EPOCH, local_day_number
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.queries import net_orders

__all__ = ["TRIANGLE_COLUMNS", "month_index", "retention_triangle"]

#: Columns of :func:`retention_triangle` (``acquisition_channel`` only with ``by_channel``).
TRIANGLE_COLUMNS = ("cohort", "acquisition_channel", "months_since", "month", "cohort_size",
                    "active_customers", "retention", "revenue", "revenue_per_customer",
                    "cumulative_revenue_per_customer", "complete")


def _day_to_date(day: ir.IntegerValue) -> ir.DateValue:
    return ibis.literal(EPOCH) + day.as_interval("D")


def month_index(day: date) -> int:
    """Return ``year * 12 + month - 1`` of a date (consecutive months differ by 1).

    Examples
    --------
    >>> month_index(date(2026, 1, 31)) - month_index(date(2025, 12, 1))
    1
    """
    return day.year * 12 + day.month - 1


def _month_expr(day: ir.DateValue) -> ir.IntegerValue:
    return (day.year() * 12 + day.month() - 1).cast("int64")


def _month_date(index: ir.IntegerValue) -> ir.DateValue:
    return ibis.date((index // 12).cast("int32"), (index % 12 + 1).cast("int32"), 1)


def _check(as_of: object, months: int, by_channel: bool, customers: ir.Table | None) -> None:
    if not isinstance(as_of, date):
        raise ParameterError(tr("cohorts.error.as_of", owner="retention_triangle",
                                got=type(as_of).__name__))
    if not 1 <= int(months) <= 120:
        raise ParameterError(tr("cohorts.error.months", got=repr(months)))
    if by_channel and (customers is None or "acquisition_channel" not in customers.columns):
        raise ParameterError(tr("cohorts.error.channel", got="None" if customers is None
                                else sorted(customers.columns)))


def retention_triangle(orders: ir.Table, customers: ir.Table | None = None, *, as_of: date,
                       timezone: str, months: int = 12, by_channel: bool = False) -> ir.Table:
    """Return the retention triangle of the last ``months`` first-order-month cohorts.

    Parameters
    ----------
    orders
        Orders of the data contract.
    customers
        Customers of the data contract; needed only for ``by_channel``.
    as_of
        Only orders strictly before local midnight of this date count.
    timezone
        The shop's IANA time zone (months are cut here).
    months
        Number of cohorts: the month holding ``as_of - 1 day`` and the ``months - 1`` before it.
    by_channel
        Split each cohort by ``customers.acquisition_channel`` (null when the customer has no
        row or no channel).

    Returns
    -------
    ibis.Table
        One row per cohort (``[acquisition_channel]``) and ``months_since`` k from 0 to the
        last month with data, including cells nobody bought in (0 buyers, 0 revenue):
        ``cohort`` and ``month`` (first days of the cohort month and of month k),
        ``cohort_size`` (customers whose first net order is in the cohort month),
        ``active_customers`` (of them, those with a net order in month k), ``retention``
        (active / size), ``revenue`` (their net revenue in month k), ``revenue_per_customer``
        (revenue / size), ``cumulative_revenue_per_customer`` (months 0..k) and ``complete``.

        Incomplete months are **kept and marked**: ``complete`` is false for the month that
        holds ``as_of`` when ``as_of`` is not the 1st (the month has not ended), so the current
        month's cells and a current-month cohort are shown but not compared with full months.

    Raises
    ------
    ParameterError
        ``as_of`` is not a date, ``months`` is outside 1..120, or ``by_channel`` without a
        customers table that has ``acquisition_channel``.
    """
    _check(as_of, months, by_channel, customers)
    last = month_index(as_of - timedelta(days=1))
    first_cohort = last - int(months) + 1
    net = net_orders(orders, before=as_of, timezone=timezone, identified=True)
    day = local_day_number(net.ordered_at, timezone=timezone, until=as_of)
    net = net.select("customer_id", "amount", m=_month_expr(_day_to_date(day)))
    firsts = net.group_by("customer_id").aggregate(cohort_m=net.m.min())
    firsts = firsts.filter(firsts.cohort_m >= first_cohort)
    keys = ["cohort_m"]
    if by_channel:
        channel = customers.select("customer_id", "acquisition_channel")
        firsts = firsts.left_join(channel, "customer_id").select(
            "customer_id", "cohort_m", "acquisition_channel")
        keys.append("acquisition_channel")
    sizes = firsts.group_by(keys).aggregate(cohort_size=firsts.count())
    j = net.inner_join(firsts, "customer_id")
    cells = (j.mutate(months_since=j.m - j.cohort_m)
             .group_by([*keys, "months_since"])
             .aggregate(active_customers=ibis._.customer_id.nunique(), revenue=ibis._.amount.sum()))
    ks = ibis.memtable({"months_since": np.arange(int(months), dtype="int64")})
    grid = sizes.cross_join(ks)
    grid = grid.filter(grid.cohort_m + grid.months_since <= last)
    # IS NOT DISTINCT FROM: customers without a channel form their own (null) group.
    on = [grid[k].identical_to(cells[k]) for k in [*keys, "months_since"]]
    full = grid.left_join(cells, on).select(
        *[grid[k] for k in keys], grid.months_since, grid.cohort_size,
        active_customers=cells.active_customers.fill_null(0),
        revenue=cells.revenue.fill_null(0).cast("float64"))
    return _finish(full, keys, as_of, by_channel)


def _finish(full: ir.Table, keys: list[str], as_of: date, by_channel: bool) -> ir.Table:
    per = full.revenue / full.cohort_size
    cumulative = per.sum().over(group_by=keys, order_by="months_since",
                                rows=(None, 0))
    cell_m = full.cohort_m + full.months_since
    out = full.select(
        cohort=_month_date(full.cohort_m),
        **({"acquisition_channel": full.acquisition_channel} if by_channel else {}),
        months_since=full.months_since.cast("int64"),
        month=_month_date(cell_m),
        cohort_size=full.cohort_size.cast("int64"),
        active_customers=full.active_customers.cast("int64"),
        retention=full.active_customers / full.cohort_size,
        revenue=full.revenue,
        revenue_per_customer=per,
        cumulative_revenue_per_customer=cumulative,
        complete=cell_m < month_index(as_of),
    )
    order = ["cohort", *(["acquisition_channel"] if by_channel else []), "months_since"]
    return out.order_by(order)
