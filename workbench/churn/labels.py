"""Churn labels at a cutoff: did a customer active before it order in the window after it.

Labels use only orders on or after local midnight of the cutoff (features use only those
before), so a feature row and its label never share an order.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.churn.definition import ChurnDefinition
from workbench.churn.features import feature_frame
from workbench.dates import epoch_us, local_instant, midnight
from workbench.errors import ParameterError
from workbench.features import facts_for
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings, load_settings

__all__ = ["churn_labels", "data_end", "label_ready"]

_US_PER_DAY = 86_400_000_000


def data_end(con: Any, *, settings: Settings | None = None) -> date | None:
    """Return the day after the store's last order in the shop's zone (``None``: no orders).

    Orders are known up to this date (exclusive): a label window must end on or before it.
    """
    settings = settings or load_settings()
    if "orders" not in con.list_tables():
        return None
    last = con.table("orders").ordered_at.max().execute()
    if last is None or last != last:
        return None
    return local_instant(last, settings.timezone).date() + timedelta(days=1)


def label_ready(cutoff: date, definition: ChurnDefinition, end: date | None) -> bool:
    """Return True when every label window of ``cutoff`` ends by ``end`` (the data's end)."""
    return end is not None and cutoff + timedelta(days=definition.longest_window) <= end


def churn_labels(con: Any, cutoff: date, *, definition: ChurnDefinition | None = None,
                 settings: Settings | None = None, check_end: bool = True) -> ir.Table:
    """Return ``customer_id``, ``window_days`` and ``churned`` (0/1) at ``cutoff`` (lazy).

    Parameters
    ----------
    con
        Ibis backend of the store.
    cutoff
        Customers with a net order before local midnight of this date are labelled.
    definition
        The churn definition (default: no order in 90 days).
    settings
        Time zone; default: ``workbench.toml``.
    check_end
        Refuse a cutoff whose windows run past the store's last order.

    Returns
    -------
    ibis.Table
        ``churned`` is 1 when the customer placed no net order (customer id set, status in
        :data:`~workbench.data.schema.NET_STATUSES`) in ``[cutoff, cutoff + window_days)``.

    Raises
    ------
    ParameterError
        The windows are not yet over: orders after the store's end would be needed.

    Examples
    --------
    >>> from datetime import date
    >>> import pandas as pd
    >>> from workbench.settings import Settings
    >>> con = ibis.duckdb.connect()
    >>> _ = con.create_table("orders", pd.DataFrame({
    ...     "order_id": ["1", "2", "3"], "customer_id": ["a", "b", "a"],
    ...     "ordered_at": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-02-01"]
    ...                                  ).tz_localize("Asia/Seoul"),
    ...     "status": ["paid", "paid", "paid"], "amount": [1.0, 2.0, 3.0]}))
    >>> churn_labels(con, date(2026, 1, 10), definition=ChurnDefinition(horizon_days=30),
    ...              settings=Settings(), check_end=False).order_by("customer_id").execute()
      customer_id  window_days  churned
    0           a         30.0        0
    1           b         30.0        1
    """
    definition = definition or ChurnDefinition()
    settings = settings or load_settings()
    if check_end:
        end = data_end(con, settings=settings)
        if not label_ready(cutoff, definition, end):
            raise _not_ready("churn_labels", cutoff, definition, end)
    tz = settings.timezone
    facts = facts_for(con, cutoff, settings=settings)
    people = _windows(con, facts, definition)
    start = midnight(cutoff, tz)
    start_us = pd.Timestamp(cutoff).tz_localize(tz).value // 1_000
    orders = con.table("orders")
    future = net_orders(orders, since=start, identified=True, timezone=tz,
                        before=cutoff + timedelta(days=definition.longest_window))
    future = future.select("customer_id", "ordered_at").join(people, "customer_id")
    inside = future.filter(
        (epoch_us(future.ordered_at) - start_us) < future.window_days * _US_PER_DAY)
    bought = inside.select("customer_id").distinct().mutate(bought=ibis.literal(1))
    out = people.left_join(bought, "customer_id").drop("customer_id_right")
    return out.select("customer_id", "window_days",
                      churned=(1 - out.bought.fill_null(0)).cast("int64"))


def _not_ready(caller: str, cutoff: date, definition: ChurnDefinition, end: date | None
               ) -> ParameterError:
    """Return the error for labels asked at a cutoff whose windows run past the data's end.

    A caller's choice of date, not a lack of data: the fix is an earlier cutoff.
    """
    window = timedelta(days=definition.longest_window)
    return ParameterError(tr("churn.labels.not_ready", caller=caller, cutoff=cutoff.isoformat(),
                             need=(cutoff + window).isoformat(),
                             end=end.isoformat() if end else "-",
                             latest=((end or cutoff) - window).isoformat()))


def _windows(con: Any, facts: ir.Table, definition: ChurnDefinition) -> ir.Table:
    """Return ``customer_id`` and the customer's label window in days."""
    fallback = ibis.literal(float(definition.horizon_days))
    if definition.mode == "fixed":
        return facts.select("customer_id", window_days=fallback)
    k = float(definition.k)
    own = ibis.ifelse(facts.purchase_days - 1 >= int(definition.min_gaps),
                      facts.median_days_between * k, ibis.null("float64"))
    people = facts.select("customer_id", "top_category", own=own)
    if "products" in con.list_tables():
        products = con.table("products")
        cycles = products.filter(products.replenish_days.notnull()).group_by(
            "category").aggregate(cycle=products.replenish_days.cast("float64").median())
        people = people.left_join(cycles, people.top_category == cycles.category)
        window = ibis.coalesce(people.own, people.cycle * k, fallback)
    else:
        window = ibis.coalesce(people.own, fallback)
    window = window.clip(lower=float(definition.min_days), upper=float(definition.max_days))
    return people.select("customer_id", window_days=window)


def labelled_frame(con: Any, cutoff: date, *, definition: ChurnDefinition,
                   settings: Settings | None = None, categories: tuple[str, ...] | None = None,
                   p_alive: bool = True, seed: int = 0) -> pd.DataFrame:
    """Return the feature frame at ``cutoff`` with its ``churned`` label (one row per customer).

    Features come from data before the cutoff, labels from orders in the window after it. The
    labels equal :func:`churn_labels` (tested) but reuse the frame's facts (median gap, top
    category) instead of computing them again, which halves the work on a large store.

    Raises
    ------
    ParameterError
        The windows are not yet over: orders after the store's end would be needed.
    """
    settings = settings or load_settings()
    end = data_end(con, settings=settings)
    if not label_ready(cutoff, definition, end):
        raise _not_ready("labelled_frame", cutoff, definition, end)
    frame = feature_frame(con, cutoff, settings=settings, categories=categories,
                          p_alive=p_alive, horizon_days=definition.horizon_days, seed=seed,
                          median=definition.mode != "fixed")
    window = _frame_windows(con, frame, definition)
    first = _first_orders(con, cutoff, definition.longest_window, settings.timezone)
    days = first.reindex(frame.index).to_numpy(float)
    frame["churned"] = (~(days < window.to_numpy(float))).astype("int64")
    return frame


def _first_orders(con: Any, cutoff: date, days: int, timezone: str) -> pd.Series:
    """Return days from local midnight of ``cutoff`` to each customer's first net order.

    Only orders in ``[cutoff, cutoff + days)`` count.
    """
    start = midnight(cutoff, timezone)
    orders = con.table("orders")
    window = net_orders(orders, since=start, before=cutoff + timedelta(days=days),
                        timezone=timezone, identified=True)
    start_us = pd.Timestamp(cutoff).tz_localize(timezone).value // 1_000
    first = window.group_by("customer_id").aggregate(first_at=window.ordered_at.min())
    first = first.select("customer_id",
                         days=(epoch_us(first.first_at) - start_us) / _US_PER_DAY)
    out = first.to_pyarrow().to_pandas()
    return out.set_index("customer_id")["days"]


def _frame_windows(con: Any, frame: pd.DataFrame, definition: ChurnDefinition) -> pd.Series:
    """Return each row's label window in days (pandas twin of :func:`_windows`)."""
    horizon = float(definition.horizon_days)
    if definition.mode == "fixed":
        return pd.Series(horizon, index=frame.index)
    k = float(definition.k)
    own = (frame["median_days_between"] * k).where(
        frame["purchase_days"] - 1 >= int(definition.min_gaps))
    window = own
    if "products" in con.list_tables():
        products = con.table("products")
        cycles = products.filter(products.replenish_days.notnull()).group_by(
            "category").aggregate(cycle=products.replenish_days.cast("float64").median())
        cycle = cycles.to_pyarrow().to_pandas().set_index("category")["cycle"]
        window = window.fillna(frame["top_category"].map(cycle) * k)
    return window.fillna(horizon).clip(float(definition.min_days), float(definition.max_days))
