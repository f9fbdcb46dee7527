"""Revenue capping and the median order value of the A/B readout (backend side).

Capping (``AbTestParams.cap_percentile``) winsorizes each customer's revenue in the window at
the ``p``-th percentile of all arms pooled, the rule of :func:`workbench.abtest.capping.winsorize`
(one cap for every arm, numpy's linear interpolation), but in the backend: the cap is one
``quantile_cont`` query and the capped sums come from the same :func:`arm_sums`, so no
customer row leaves the database. ``gross`` (revenue before the campaign's coupons) becomes
the capped revenue plus the coupon, so the coupon cost is unchanged.

The median order value compares the net orders placed in the window (one value per order,
as the readout's AOV counts them) with :func:`workbench.abtest.capping.quantile_diff_ci`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.abtest.capping import quantile_diff_ci
from workbench.abtest.stats import AbStatus, Comparison
from workbench.data.schema import NET_STATUSES

__all__ = ["MEDIAN_METRIC", "RevenueCap", "cap_revenue", "median_order_comparisons",
           "window_orders"]

MEDIAN_METRIC = "median_order_value"


@dataclass(frozen=True, slots=True)
class RevenueCap:
    """What capping did: the percentile asked for, the cap and how many customers it lowered.

    ``applied`` is False when the data cannot be capped (a file of arm-level sums).
    """

    percentile: float
    cap: float
    n_capped: int
    n: int
    applied: bool = True


def cap_revenue(customers: ir.Table, percentile: float) -> tuple[ir.Table, RevenueCap]:
    """Return the customers with revenue capped at the pooled ``percentile`` (0-100).

    Examples
    --------
    >>> t = ibis.memtable({"variant": ["A", "A", "B", "B"], "revenue": [1.0, 2, 3, 100],
    ...                    "coupon": [0.0, 0, 0, 5]})
    >>> capped, cap = cap_revenue(t, 75)
    >>> cap.cap, cap.n_capped, capped.order_by("revenue").revenue.to_list()
    (27.25, 1, [1.0, 2.0, 3.0, 27.25])
    """
    rev = customers.revenue.cast("float64").fill_null(0.0)
    stats = customers.aggregate(cap=rev.quantile(percentile / 100.0), n=customers.count())
    row = stats.to_pyarrow().to_pandas().iloc[0]
    cap = float(row["cap"]) if pd.notna(row["cap"]) else math.nan
    if math.isnan(cap):
        return customers, RevenueCap(float(percentile), cap, 0, int(row["n"]))
    n_capped = int(customers.filter(rev > cap).count().to_pyarrow().as_py())
    capped = ibis.least(rev, ibis.literal(cap))
    changes = {"revenue": capped}
    if "gross" in customers.columns:
        coupon = (customers.coupon.cast("float64").fill_null(0.0) if "coupon" in customers.columns
                  else ibis.literal(0.0))
        changes["gross"] = capped + coupon
    return customers.mutate(**changes), RevenueCap(float(percentile), cap, n_capped,
                                                   int(row["n"]))


def window_orders(assignments: ir.Table, orders: ir.Table, *, campaign_id: str,
                  start: pd.Timestamp, window_days: int, end: pd.Timestamp | None = None
                  ) -> ir.Table:
    """Return ``variant`` and ``amount`` of the campaign's net orders in the window (lazy).

    The window is ``[start, start + window_days)``, cut at ``end``: the same orders the
    readout's AOV counts (:func:`workbench.abtest.customer_outcomes`).
    """
    a = assignments.filter(assignments.campaign_id == campaign_id).select(
        "customer_id", "variant")
    hi = pd.Timestamp(start) + pd.Timedelta(days=int(window_days))
    if end is not None:
        hi = min(hi, pd.Timestamp(end))
    o = orders.filter(orders.customer_id.notnull(),
                      orders.ordered_at >= ibis.literal(pd.Timestamp(start)),
                      orders.ordered_at < ibis.literal(hi),
                      orders.status.isin(list(NET_STATUSES)))
    o = o.select(oid=o.customer_id, amount=o.amount.cast("float64"))
    j = a.join(o, a.customer_id == o.oid)
    return j.select(variant=j.variant.cast("string"), amount=j.amount)


def _quantile_comparison(control: np.ndarray, variant: np.ndarray, names: tuple[str, str],
                         alpha: float) -> Comparison:
    common = {"metric": MEDIAN_METRIC, "variant": names[1], "control": names[0],
              "kind": "quantile", "test": "bootstrap", "n_control": int(control.size),
              "n_variant": int(variant.size), "alpha": alpha, "p_value": math.nan}
    if control.size < 2 or variant.size < 2:
        nan = math.nan
        arm = names[0] if control.size < variant.size else names[1]
        return Comparison(
            **common, value_control=float(np.median(control)) if control.size else nan,
            value_variant=float(np.median(variant)) if variant.size else nan, effect=nan,
            ci_low=nan, ci_high=nan, lift=nan, lift_ci_low=nan, lift_ci_high=nan,
            status=AbStatus.TOO_LITTLE_DATA, reason="small_denominator", reason_arm=arm,
            reason_count=float(min(control.size, variant.size)))
    r = quantile_diff_ci(control, variant, q=0.5, alpha=alpha, n_boot=2000, seed=0)
    base = r.value_control if r.value_control > 0 else math.nan
    return Comparison(**common, value_control=r.value_control, value_variant=r.value_variant,
                      effect=r.effect, ci_low=r.ci_low, ci_high=r.ci_high,
                      lift=r.effect / base, lift_ci_low=r.ci_low / base,
                      lift_ci_high=r.ci_high / base)


def median_order_comparisons(orders: pd.DataFrame, pairs: list[tuple[str, str]],
                             alpha: float) -> tuple[Comparison, ...]:
    """Return the median order value of each ``(control, variant)`` pair with its interval.

    ``orders`` has one row per net order in the window: ``variant`` and ``amount``.

    Examples
    --------
    >>> o = pd.DataFrame({"variant": ["h"] * 50 + ["s"] * 50,
    ...                   "amount": [10.0, 20.0] * 25 + [20.0, 30.0] * 25})
    >>> c = median_order_comparisons(o, [("h", "s")], 0.05)[0]
    >>> c.value_control, c.value_variant, c.effect
    (15.0, 25.0, 10.0)
    """
    values = {str(k): g.to_numpy(dtype=float) for k, g in orders.groupby("variant")["amount"]}
    empty = np.array([], dtype=float)
    return tuple(_quantile_comparison(values.get(c, empty), values.get(v, empty), (c, v), alpha)
                 for c, v in pairs)
