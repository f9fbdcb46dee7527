"""Purchase cycles (구매 주기) per category or product, and who is due for a replenishment.

A customer's **purchase days** of a category (or product) are the distinct local calendar days
(shop's time zone) on which they placed a net order holding it, strictly before ``as_of``. A
**repeat purchase** is every purchase day after the first; its **gap** is the number of days
since the previous purchase day of the same category. Two orders on the same day are one
purchase day, so a same-day repeat is not a gap of 0 (it would drag the median towards 0).

The cycle of a category is the median (P50) and 75th percentile (P75) of its gaps
(``PRODUCT_NOTES.md``: "inter-purchase P50/P75 per product"; replenishment reminders go out at
P50). The quantiles are exact, computed in the backend: Ibis's ``quantile`` is DuckDB's
``quantile_cont``, the linear interpolation between order statistics that is also numpy's
default (definition 7 in [1]_), not ``approx_quantile`` (a t-digest sketch). A category
**has a cycle** when it has at least ``min_repeats`` gaps; fewer gaps give a number too noisy to
time messages by.

References
----------
.. [1] Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages.
   *The American Statistician* 50(4), 361-365.

Examples
--------
>>> import ibis, pandas as pd
>>> from datetime import date
>>> orders = ibis.memtable(pd.DataFrame({
...     "order_id": ["o1", "o2", "o3", "o4"], "customer_id": ["A", "A", "A", "B"],
...     "ordered_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-11 10:00",
...                                   "2026-01-31 10:00", "2026-01-05 10:00"])
...                     .tz_localize("Asia/Seoul"),
...     "status": ["paid"] * 4, "amount": [1.0] * 4}))
>>> items = ibis.memtable({"order_id": ["o1", "o2", "o3", "o4"],
...                        "product_id": ["P1"] * 4, "category": ["pet"] * 4})
>>> c = purchase_cycles(orders, items, as_of=date(2026, 2, 1), timezone="Asia/Seoul",
...                     min_repeats=2)
>>> c.select("category", "buyers", "repeats", "median_days", "p75_days", "has_cycle").to_pandas()
  category  buyers  repeats  median_days  p75_days  has_cycle
0      pet       2        2         15.0      17.5       True
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from workbench.dates import EPOCH, local_day_number
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.queries import net_orders

__all__ = ["CYCLE_COLUMNS", "DUE_COLUMNS", "LEVELS", "purchase_cycles", "replenishment_due",
           "week_end"]

#: Where cycles are measured, and the column that names the thing measured.
LEVELS = {"category": "category", "product": "product_id"}

#: Columns of :func:`purchase_cycles` after the level's key (product level adds
#: ``product_name`` and ``category`` right after ``product_id``).
CYCLE_COLUMNS = ("buyers", "repeat_buyers", "repeats", "median_days", "p75_days",
                 "replenish_days", "has_cycle")

#: Columns of :func:`replenishment_due` after ``customer_id`` and the level's key.
DUE_COLUMNS = ("last_purchase", "cycle_days", "expected_date", "days_overdue", "due_this_week")


def _check(owner: str, as_of: object, level: str) -> str:
    if not isinstance(as_of, date):
        raise ParameterError(tr("cohorts.error.as_of", owner=owner, got=type(as_of).__name__))
    if level not in LEVELS:
        raise ParameterError(tr("cohorts.error.level", owner=owner, got=repr(level)))
    return LEVELS[level]


def _purchase_days(orders: ir.Table, items: ir.Table, *, as_of: date, timezone: str,
                   key: str) -> ir.Table:
    """Return distinct ``(customer_id, key, day)``: local purchase days of net orders."""
    net = net_orders(orders, before=as_of, timezone=timezone, identified=True)
    net = net.select("order_id", "customer_id",
                     day=local_day_number(net.ordered_at, timezone=timezone, until=as_of))
    lines = items.filter(items[key].notnull()).select("order_id", key)
    return lines.inner_join(net, "order_id").select("customer_id", key, "day").distinct()


def purchase_cycles(orders: ir.Table, items: ir.Table, products: ir.Table | None = None, *,
                    as_of: date, timezone: str, level: str = "category",
                    min_repeats: int = 30) -> ir.Table:
    """Return the purchase cycle (median and P75 days between repeat purchases) per level.

    Parameters
    ----------
    orders, items
        Orders and order lines of the data contract.
    products
        The catalogue, for ``replenish_days`` (the shop's own guess, shown next to the
        measured cycle); ``None`` leaves it null.
    as_of
        Only orders strictly before local midnight of this date count.
    timezone
        The shop's IANA time zone (purchase days are cut here).
    level
        ``category`` (key ``category``) or ``product`` (key ``product_id``).
    min_repeats
        A key needs at least this many gaps for ``has_cycle``.

    Returns
    -------
    ibis.Table
        One row per key bought by an identified customer, most repeats first: the key
        (product level adds ``product_name`` and ``category``), ``buyers``, ``repeat_buyers``
        (buyers with 2+ purchase days), ``repeats`` (gaps), ``median_days`` and ``p75_days``
        (exact, null without gaps), ``replenish_days`` (the product's value; for a category
        the median over its products that have one) and ``has_cycle``.

    Raises
    ------
    ParameterError
        ``as_of`` is not a date, ``level`` is unknown or ``min_repeats`` is below 1.
    """
    key = _check("purchase_cycles", as_of, level)
    if int(min_repeats) < 1:
        raise ParameterError(tr("cohorts.error.min_repeats", got=repr(min_repeats)))
    days = _purchase_days(orders, items, as_of=as_of, timezone=timezone, key=key)
    w = ibis.window(group_by=["customer_id", key], order_by="day")
    gaps = days.mutate(gap=days.day - days.day.lag().over(w))
    repeat = gaps.gap.notnull()
    stats = gaps.group_by(key).aggregate(
        buyers=gaps.customer_id.nunique(),
        repeat_buyers=gaps.customer_id.nunique(where=repeat),
        repeats=gaps.gap.count(),
        median_days=gaps.gap.quantile(0.5),
        p75_days=gaps.gap.quantile(0.75),
    )
    if level == "product":
        names = items.filter(items.product_id.notnull()).group_by("product_id").aggregate(
            product_name=items.product_name.max(), category=items.category.max())
        stats = stats.left_join(names, "product_id").select(
            "product_id", "product_name", "category", *CYCLE_COLUMNS[:5])
    stats = stats.left_join(_replenish(products, key), key).select(
        stats, replenish_days=ibis._.replenish_days)
    return stats.mutate(
        repeats=stats.repeats.cast("int64"), buyers=stats.buyers.cast("int64"),
        repeat_buyers=stats.repeat_buyers.cast("int64"),
        median_days=stats.median_days.cast("float64"), p75_days=stats.p75_days.cast("float64"),
        has_cycle=stats.repeats >= int(min_repeats),
    ).order_by([ibis.desc("repeats"), key])


def _replenish(products: ir.Table | None, key: str) -> ir.Table:
    if products is None or "replenish_days" not in products.columns:
        return ibis.memtable({key: []}, schema={key: "string"}).mutate(
            replenish_days=ibis.null("float64"))
    known = products.filter(products[key].notnull(), products.replenish_days.notnull())
    return known.group_by(key).aggregate(
        replenish_days=known.replenish_days.quantile(0.5).cast("float64"))


def replenishment_due(orders: ir.Table, items: ir.Table, cycles: ir.Table, *, as_of: date,
                      timezone: str, level: str = "category") -> ir.Table:
    """Return, per customer and key with a cycle, when the next purchase is expected.

    The expected date is the last purchase day plus the median cycle rounded up to whole days
    (the first day on which at least the median gap has passed). A customer is **due this
    week** when the expected date falls in the seven days ``[as_of, as_of + 7)``: with the
    weekly report's ``as_of`` (a Monday) that is the Monday-Sunday week starting on ``as_of``.
    Customers whose expected date already passed are overdue (``days_overdue > 0``), not due.

    Parameters
    ----------
    orders, items
        Orders and order lines of the data contract.
    cycles
        Rows of :func:`purchase_cycles` at the same ``level``; keys with ``has_cycle`` count.
    as_of
        Only orders strictly before local midnight of this date count; "today".
    timezone
        The shop's IANA time zone.
    level
        ``category`` or ``product``.

    Returns
    -------
    ibis.Table
        ``customer_id``, the key, ``last_purchase`` (local date), ``cycle_days`` (the median),
        ``expected_date``, ``days_overdue`` (``as_of - expected_date`` in days; negative: not
        yet) and ``due_this_week``.

    Raises
    ------
    ParameterError
        ``as_of`` is not a date or ``level`` is unknown.
    """
    key = _check("replenishment_due", as_of, level)
    with_cycle = cycles.filter(cycles.has_cycle).select(key, cycle_days=cycles.median_days)
    days = _purchase_days(orders, items, as_of=as_of, timezone=timezone, key=key)
    last = days.group_by(["customer_id", key]).aggregate(last_day=days.day.max())
    j = last.inner_join(with_cycle, key)
    expected = j.last_day + j.cycle_days.ceil().cast("int64")
    today = (as_of - EPOCH).days
    start = ibis.literal(EPOCH)
    return j.select(
        "customer_id", key,
        last_purchase=start + j.last_day.as_interval("D"),
        cycle_days=j.cycle_days.cast("float64"),
        expected_date=start + expected.as_interval("D"),
        days_overdue=(today - expected).cast("int64"),
        due_this_week=(expected >= today) & (expected < today + 7),
    ).order_by(["customer_id", key])


def week_end(as_of: date) -> date:
    """Return the last day of the due week ``[as_of, as_of + 7)``.

    Examples
    --------
    >>> week_end(date(2026, 11, 16))
    datetime.date(2026, 11, 22)
    """
    return as_of + timedelta(days=6)
