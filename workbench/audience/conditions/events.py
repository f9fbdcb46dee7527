"""Conditions on behaviour (``events``): cart, product views, visits, searches, checkouts.

Each scans identified events before the cut-off; the cart and checkout conditions also read
orders, to leave out what was bought since.

``visited_not_signed_up`` ("visited but never signed up", the sign-up promotion) can only find
visitors the shop can contact: customers rows that are not members (guests keyed by phone or
order), with activity in the window, no ``signup`` event and no sign-up time before the
cut-off. Anonymous visitors (events with a ``visitor_id`` and no ``customer_id``) are not
customers and never in an audience: nothing maps a visitor to a phone or an email.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.context import CompileContext, in_range, product_filter
from workbench.audience.durations import to_timedelta
from workbench.audience.fields import PRODUCT_FIELDS, FieldSpec, range_fields, window_fields
from workbench.dates import local_day_number
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["TYPES"]


def _cart(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    lo = ctx.at(f["max_age"])
    ev = ctx.events("cart_add", "cart_remove")
    ev = ev.filter(ev.product_id.notnull())
    if lo is not None:
        ev = ev.filter(ev.ts >= lo)
    ev = product_filter(ctx, ev, f)
    per_item = ev.group_by(["customer_id", "product_id"]).aggregate(
        last_add=ev.ts.max(where=ev.type == "cart_add"),
        last_remove=ev.ts.max(where=ev.type == "cart_remove"))
    in_cart = per_item.filter(
        per_item.last_add.notnull(),
        per_item.last_remove.isnull() | (per_item.last_remove < per_item.last_add),
        per_item.last_add < ctx.at(f["min_age"]))
    if f["not_purchased_since"]:
        o, items = ctx.completed_orders(since=lo), ctx.table("order_items")
        bought = o.select("order_id", "customer_id", "ordered_at").inner_join(
            items.select("order_id", "product_id"), "order_id")
        bought = bought.group_by(["customer_id", "product_id"]).aggregate(
            last_buy=bought.ordered_at.max())
        j = in_cart.left_join(bought, ["customer_id", "product_id"])
        in_cart = j.filter(j.last_buy.isnull() | (j.last_buy < j.last_add)).select(
            "customer_id", "product_id")
    agg = in_cart.group_by("customer_id").aggregate(items=in_cart.product_id.nunique())
    return in_range(ctx, agg, {"items": (f["min_items"], f["max_items"])}, zero_ok=False)


def _check_cart(owner: str, f: Mapping[str, Any]) -> None:
    if f["min_items"] is not None and f["min_items"] < 1:
        raise ParameterError(tr("audience.error.empty_cart", owner=owner))
    lo, hi = f["min_age"], f["max_age"]
    if lo is not None and hi is not None and to_timedelta(lo) >= to_timedelta(hi):
        raise ParameterError(tr("audience.error.inverted_age", owner=owner, low=lo, high=hi))


def _product_views(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    ev = ctx.events("product_view")
    ev = product_filter(ctx, ev.filter(ev.product_id.notnull(), ctx.window(ev.ts, f)), f)
    keys = ["customer_id", "product_id"] if f["per_product"] else ["customer_id"]
    agg = ev.group_by(keys).aggregate(n=ev.count())
    return in_range(ctx, agg, {"n": (f["min_count"], f["max_count"])})


def _visits(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    kind = f["event"]
    ev = ctx.events(*(("login", "visit") if kind == "any" else (kind,)))
    ev = ev.filter(ctx.window(ev.ts, f))
    lo, hi = f["min_days"], f["max_days"]
    if (lo or 0) <= 1 and hi in (None, 0):
        # "Any activity" or "none": existence is enough, counting distinct days is not needed.
        agg = ev.select("customer_id").distinct().mutate(days=ibis.literal(1))
    else:
        day = local_day_number(ev.ts, timezone=ctx.settings.timezone, until=ctx.day)
        ev = ev.select("customer_id", day=day)
        agg = ev.group_by("customer_id").aggregate(days=ev.day.nunique())
    return in_range(ctx, agg, {"days": (lo, hi)})


def _searches(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    ev = ctx.events("search")
    ev = ev.filter(ev.query.notnull(), ctx.window(ev.ts, f))
    text = ibis.literal(f["query"].strip().lower())
    found = ev.query.lower().strip()
    ev = ev.filter(found == text if f["match"] == "exact" else found.contains(text))
    agg = ev.group_by("customer_id").aggregate(n=ev.count())
    return in_range(ctx, agg, {"n": (f["min_count"], None)}, zero_ok=False)


def _checkout_abandoned(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    ev = ctx.events("checkout_start")
    ev = ev.filter(ctx.window(ev.ts, f))
    starts = ev.group_by("customer_id").aggregate(last_start=ev.ts.max())
    o = ctx.completed_orders(since=ctx.at(f["from_ago"]))
    last_order = o.group_by("customer_id").aggregate(last_order=o.ordered_at.max())
    j = starts.left_join(last_order, "customer_id")
    dropped = j.filter(j.last_order.isnull() | (j.last_order < j.last_start))
    return ctx.base.customer_id.isin(dropped.customer_id)


def _visited_not_signed_up(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    # Anonymous visitors (events without customer_id) have no customers row, so an audience
    # (a set of customer_ids) cannot hold them: this finds identified non-members (guests who
    # ordered or left a phone) who were active in the window and have not signed up.
    ev = ctx.table("events")
    ev = ev.filter(ev.customer_id.notnull(), ev.ts < ctx.before())
    seen = ev.filter(ev.type != "signup", ctx.window(ev.ts, f))
    signed = ev.filter(ev.type == "signup")
    member = ctx.column("is_member", condition="visited_not_signed_up").fill_null(False)
    signup_at = ctx.column("signup_at", condition="visited_not_signed_up")
    if not {"is_member", "signup_at"} <= set(ctx.base.columns):
        return ibis.literal(False)  # who is a member is unknown: nobody (the note says why)
    return (~member & (signup_at.isnull() | (signup_at >= ctx.before()))
            & ctx.base.customer_id.isin(seen.customer_id)
            & ~ctx.base.customer_id.isin(signed.customer_id))


TYPES = (
    ConditionType("cart", (
        *PRODUCT_FIELDS, *range_fields("items", "int", 1),
        FieldSpec("min_age", "duration", "0h", help="the item was added at least this long ago"),
        FieldSpec("max_age", "duration", "30d", help="and at most this long ago"),
        FieldSpec("not_purchased_since", "bool", True)),
        reads="events", compile=_cart, check=_check_cart,
        help="items in the cart (cart_add minus cart_remove), not bought since"),
    ConditionType("product_views", (
        *PRODUCT_FIELDS, *window_fields("30d"), *range_fields("count", "int", 1),
        FieldSpec("per_product", "bool", True,
                  help="count views of each product separately (3+ views of one product)")),
        reads="events", compile=_product_views, help="product-page views in a window"),
    ConditionType("visits", (
        FieldSpec("event", "choice", "any", choices=("any", "login", "visit")),
        *window_fields("90d"), *range_fields("days", "int", 1)),
        reads="events", compile=_visits,
        help="number of distinct days with a login or visit in a window"),
    ConditionType("searches", (
        FieldSpec("query", "text", required=True),
        FieldSpec("match", "choice", "contains", choices=("contains", "exact")),
        *window_fields("30d"), FieldSpec("min_count", "int", 1, minimum=1)),
        reads="events", compile=_searches, help="searched for a text in a window"),
    ConditionType("visited_not_signed_up", window_fields("30d"), reads="events",
                  compile=_visited_not_signed_up,
                  help="a non-member with activity in a window and no sign-up (identified "
                       "guests only: anonymous visitors have no customer row)"),
    ConditionType("checkout_abandoned", window_fields("1d"), reads="events",
                  compile=_checkout_abandoned,
                  help="started checkout in a window and placed no order since"),
)
