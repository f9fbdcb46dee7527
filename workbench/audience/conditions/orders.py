"""Conditions on orders: orders in a window, the first order's coupon, replenishment due.

``orders`` tests statuses, products or categories, and count and amount ranges in a window;
``first_order_coupon`` asks whether the customer's first net order (the earliest paid,
shipped, delivered or confirmed one before the cut-off; at the same instant the lowest
``order_id``) carried a coupon code, i.e. whether a promotion brought the customer in;
``replenishment_due`` asks :mod:`workbench.rfm.cycles` when each customer's next purchase of a
category or product is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.context import CompileContext, in_range
from workbench.audience.fields import (
    CATEGORIES,
    PRODUCT_FIELDS,
    PRODUCTS,
    FieldSpec,
    OptionSource,
    range_fields,
    window_fields,
)
from workbench.data.schema import NET_STATUSES, ORDER_STATUSES
from workbench.rfm.cycles import LEVELS, purchase_cycles, replenishment_due

__all__ = ["TYPES"]


def _orders(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    orders = ctx.table("orders")
    when = orders.ordered_at if f["date_field"] == "ordered" else orders.delivered_at
    o = orders.filter(orders.customer_id.notnull(), orders.ordered_at < ctx.before(),
                      when < ctx.before(), ctx.window(when, f),
                      orders.status.isin(list(f["statuses"])))
    if f["products"] or f["categories"]:
        items = ctx.table("order_items")
        lines = items.filter(items.product_id.notnull())
        if f["products"]:
            lines = lines.filter(lines.product_id.isin(list(f["products"])))
        if f["categories"]:
            lines = lines.filter(lines.category.isin(list(f["categories"])))
        o = o.filter(o.order_id.isin(lines.order_id))
    agg = o.group_by("customer_id").aggregate(n=o.count(), amount=o.amount.sum())
    return in_range(ctx, agg, {"n": (f["min_count"], f["max_count"]),
                               "amount": (f["min_amount"], f["max_amount"])})


def _first_order_coupon(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    # A coupon is a non-empty coupon_code: ``discount`` alone also holds time sales and tier
    # discounts, which do not make a customer promotion-acquired.
    orders = ctx.table("orders")
    o = orders.filter(orders.customer_id.notnull(), orders.ordered_at < ctx.before(),
                      orders.status.isin(NET_STATUSES))
    rank = ibis.row_number().over(group_by=o.customer_id, order_by=[o.ordered_at, o.order_id])
    first = o.mutate(first_rank=rank)
    first = first.filter(first.first_rank == 0, ctx.window(first.ordered_at, f))
    code = (first.coupon_code if "coupon_code" in first.columns
            else ibis.literal(None, type="string")).strip().upper()
    used = code.notnull() & (code != "")
    if f["codes"]:
        used &= code.isin(sorted({c.strip().upper() for c in f["codes"]}))
    hit = first.filter(used if f["used"] else ~used.fill_null(False))
    return ctx.base.customer_id.isin(hit.customer_id)


def _replenishment_due(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    level = f["level"]
    orders, items = ctx.table("orders"), ctx.table("order_items")
    products = ctx.table("products") if "products" in ctx.names else None
    tz = ctx.settings.timezone
    cycles = purchase_cycles(orders, items, products, as_of=ctx.day, timezone=tz, level=level,
                             min_repeats=int(f["min_repeats"]))
    due = replenishment_due(orders, items, cycles, as_of=ctx.day, timezone=tz, level=level)
    if f["keys"]:
        due = due.filter(due[LEVELS[level]].isin(list(f["keys"])))
    due = due.filter(due.days_overdue > -int(f["due_within_days"]),
                     due.days_overdue <= int(f["max_overdue_days"]))
    return ctx.base.customer_id.isin(due.customer_id)


TYPES = (
    ConditionType("orders", (
        *window_fields(None),
        FieldSpec("date_field", "choice", "ordered", choices=("ordered", "delivered")),
        FieldSpec("statuses", "choices", NET_STATUSES, choices=ORDER_STATUSES),
        *PRODUCT_FIELDS, *range_fields("count", "int", 1), *range_fields("amount", "number")),
        reads="orders", compile=_orders,
        help="orders in a window: status, product, count and amount ranges"),
    ConditionType("first_order_coupon", (
        FieldSpec("used", "bool", True, help="false: the first order used no coupon"),
        FieldSpec("codes", "texts", options=(OptionSource("orders", "coupon_code"),),
                  help="coupon codes (empty: any coupon; case and spaces ignored)"),
        *window_fields(None)),
        reads="orders", compile=_first_order_coupon,
        help="the first net order (in a window) used a coupon: promotion-acquired customers"),
    ConditionType("replenishment_due", (
        FieldSpec("level", "choice", "category", choices=("category", "product")),
        FieldSpec("keys", "texts", options=(CATEGORIES, PRODUCTS),
                  help="categories or product ids (empty: all)"),
        FieldSpec("due_within_days", "int", 7, minimum=1, maximum=365),
        FieldSpec("max_overdue_days", "int", 0, minimum=0, maximum=365),
        FieldSpec("min_repeats", "int", 30, minimum=1)),
        reads="orders", compile=_replenishment_due,
        help="next purchase expected soon from the purchase cycle"),
)
