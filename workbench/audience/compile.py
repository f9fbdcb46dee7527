"""Compile an audience definition to one lazy Ibis boolean expression over ``customers``.

Each condition becomes a predicate on the ``customers`` table: a column test (region, consent,
birthday) or a semi-join ``customer_id IN (SELECT customer_id FROM ...)`` against orders,
events or the per-customer snapshot, so the whole audience is one query the backend plans and
runs. Groups become ``AND`` / ``OR`` and ``not`` becomes ``NOT``. Every value from a definition
enters the query as an Ibis literal (``ibis.literal`` / ``isin`` of Python values): a form field
holding ``'; DROP TABLE customers; --`` is a string to compare with, never SQL.

Time
    Everything is relative to a cut-off: local midnight at the start of ``as_of`` (a date) in
    the shop's zone, or the instant ``as_of`` itself (a datetime, for hour-level timings such as
    "+1 h after the cart"). Only orders and events strictly before the cut-off count. A window
    ``from_ago``/``to_ago`` is ``[cutoff - from_ago, cutoff - to_ago)``; day lengths are
    calendar days in the shop's zone.

Counts of zero
    A range that admits zero (``max_count: 0``, ``max_days: 1``) also matches customers with no
    matching rows at all ("no login in 90 days" includes customers who never logged in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow.compute as pc

from workbench.audience.rules import (
    CONDITION_TYPES,
    AudienceDefinition,
    Condition,
    Group,
    to_timedelta,
)
from workbench.data.snapshot import latest_snapshot, snapshot_for
from workbench.dates import cutoff, local_day_number
from workbench.errors import ParameterError, SchemaError
from workbench.rfm.analysis import rfm_snapshot

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import Settings

__all__ = ["COMPLETED_STATUSES", "CompileContext", "audience_filter", "count_members",
           "member_table"]

#: Order statuses that mean a checkout was completed (pending: payment not finished).
COMPLETED_STATUSES = ("paid", "shipped", "delivered", "confirmed", "cancelled", "returned")
#: Snapshot columns read by condition types; the analyses that write them.
SNAPSHOT_COLUMNS = {"tier": ("tier", "RFM (workbench refresh)"),
                    "rfm_segment": ("segment", "RFM (workbench refresh)"),
                    "churn_risk": ("risk_band", "the churn model"),
                    "clv_band": ("clv_band", "the CLV model")}


@dataclass
class CompileContext:
    """What compiling needs: tables, the cut-off, and notes for people."""

    con: BaseBackend
    settings: Settings
    as_of: date | datetime
    notes: list[str] = field(default_factory=list)
    cache: dict | None = None
    _tables: dict[str, ir.Table] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cutoff = cutoff(self.as_of, self.settings.timezone)
        self.day = self.as_of.date() if isinstance(self.as_of, datetime) else self.as_of
        self.names = set(self.con.list_tables())
        self.base = self.table("customers")

    def table(self, name: str) -> ir.Table:
        """Return a table of the store (a readable error when it is missing)."""
        if name not in self._tables:
            if name not in self.names:
                raise SchemaError(
                    f"audience: the store has no {name!r} table; load it with 'workbench load "
                    f"{name} FILE' or create sample data with 'workbench sample'.")
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def at(self, text: str | None) -> ir.TimestampScalar | None:
        """Return the instant ``text`` (a duration) before the cut-off as a literal."""
        if text is None:
            return None
        delta = to_timedelta(text)
        if delta.seconds == 0 and delta.microseconds == 0:  # whole days: calendar arithmetic
            local = self.cutoff.tz_localize(None) - timedelta(days=delta.days)
            ts = local.tz_localize(self.settings.timezone)
        else:
            ts = self.cutoff - delta
        return ibis.literal(ts)

    def window(self, col: ir.TimestampValue, cond: Condition) -> ir.BooleanValue:
        """Return ``col`` within the condition's ``from_ago``/``to_ago`` window."""
        hi = self.at(cond.get("to_ago"))
        hi = ibis.literal(self.cutoff) if hi is None else hi
        lo = self.at(cond.get("from_ago"))
        return (col < hi) if lo is None else ((col >= lo) & (col < hi))

    def events(self, *types: str) -> ir.Table:
        """Return identified events of some types before the cut-off."""
        ev = self.table("events")
        return ev.filter(ev.type.isin(types), ev.customer_id.notnull(),
                         ev.ts < ibis.literal(self.cutoff))



# --------------------------------------------------------------------------- helpers


def _ids(ctx: CompileContext) -> ir.StringValue:
    return ctx.base.customer_id


def _in_range(ctx: CompileContext, agg: ir.Table, col: str, lo: Any, hi: Any,
              zero_ok: bool | None = None) -> ir.BooleanValue:
    """Return customers whose ``agg[col]`` lies in ``[lo, hi]``; no row counts as zero."""
    passing = agg
    if lo is not None:
        passing = passing.filter(passing[col] >= lo)
    if hi is not None:
        passing = passing.filter(passing[col] <= hi)
    expr = _ids(ctx).isin(passing.customer_id)
    if zero_ok if zero_ok is not None else (lo is None or lo <= 0):
        expr = expr | ~_ids(ctx).isin(agg.customer_id)
    return expr


def _product_filter(ctx: CompileContext, table: ir.Table, cond: Condition) -> ir.Table:
    """Keep rows whose ``product_id`` is one of the products or in one of the categories."""
    products, categories = cond.get("products"), cond.get("categories")
    if products:
        table = table.filter(table.product_id.isin(list(products)))
    if categories:
        cat = ctx.table("products")
        table = table.filter(table.product_id.isin(
            cat.filter(cat.category.isin(list(categories))).product_id))
    return table


def _values(cond: Condition) -> list[str]:
    return list(cond.get("values"))


# --------------------------------------------------------------------------- conditions


def _consent(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    column = {"sms": "sms_opt_in", "lms": "sms_opt_in", "kakao": "sms_opt_in",
              "email": "email_opt_in", "push": "push_opt_in",
              "night": "night_opt_in"}[cond.get("channel")]
    flag = ctx.base[column].fill_null(False)
    return flag if cond.get("granted") else ~flag


def _signup(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    return ctx.window(ctx.base.signup_at, cond)


def _membership(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    member = ctx.base.is_member.fill_null(False)
    return member if cond.get("is_member") else ~member


def _region(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    return ctx.base.region.isin(_values(cond))


def _birthday_month(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    month = cond.get("month")
    if month == "this":
        month = ctx.day.month
    elif month == "next":
        month = ctx.day.month % 12 + 1
    return ctx.base.birth_date.month() == ibis.literal(int(month))


def _orders(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    orders = ctx.table("orders")
    when = orders.ordered_at if cond.get("date_field") == "ordered" else orders.delivered_at
    o = orders.filter(orders.customer_id.notnull(), orders.ordered_at < ibis.literal(ctx.cutoff),
                      when < ibis.literal(ctx.cutoff), ctx.window(when, cond),
                      orders.status.isin(list(cond.get("statuses"))))
    if cond.get("products") or cond.get("categories"):
        items = ctx.table("order_items")
        lines = items.filter(items.product_id.notnull())
        if cond.get("products"):
            lines = lines.filter(lines.product_id.isin(list(cond.get("products"))))
        if cond.get("categories"):
            lines = lines.filter(lines.category.isin(list(cond.get("categories"))))
        o = o.filter(o.order_id.isin(lines.order_id))
    agg = o.group_by("customer_id").aggregate(n=o.count(), amount=o.amount.sum())
    lo_n, hi_n = cond.get("min_count"), cond.get("max_count")
    lo_a, hi_a = cond.get("min_amount"), cond.get("max_amount")
    passing = agg
    for col, lo, hi in (("n", lo_n, hi_n), ("amount", lo_a, hi_a)):
        if lo is not None:
            passing = passing.filter(passing[col] >= lo)
        if hi is not None:
            passing = passing.filter(passing[col] <= hi)
    expr = _ids(ctx).isin(passing.customer_id)
    if (lo_n is None or lo_n <= 0) and (lo_a is None or lo_a <= 0):
        expr = expr | ~_ids(ctx).isin(agg.customer_id)
    return expr


def _cart(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    lo = ctx.at(cond.get("max_age"))
    ev = ctx.events("cart_add", "cart_remove")
    ev = ev.filter(ev.product_id.notnull())
    if lo is not None:
        ev = ev.filter(ev.ts >= lo)
    ev = _product_filter(ctx, ev, cond)
    per_item = ev.group_by(["customer_id", "product_id"]).aggregate(
        last_add=ev.ts.max(where=ev.type == "cart_add"),
        last_remove=ev.ts.max(where=ev.type == "cart_remove"))
    in_cart = per_item.filter(
        per_item.last_add.notnull(),
        per_item.last_remove.isnull() | (per_item.last_remove < per_item.last_add),
        per_item.last_add < ctx.at(cond.get("min_age")))
    if cond.get("not_purchased_since"):
        orders, items = ctx.table("orders"), ctx.table("order_items")
        o = orders.filter(orders.customer_id.notnull(), orders.status.isin(COMPLETED_STATUSES),
                          orders.ordered_at < ibis.literal(ctx.cutoff))
        if lo is not None:
            o = o.filter(o.ordered_at >= lo)
        bought = o.select("order_id", "customer_id", "ordered_at").inner_join(
            items.select("order_id", "product_id"), "order_id")
        bought = bought.group_by(["customer_id", "product_id"]).aggregate(
            last_buy=bought.ordered_at.max())
        j = in_cart.left_join(bought, ["customer_id", "product_id"])
        in_cart = j.filter(j.last_buy.isnull() | (j.last_buy < j.last_add)).select(
            "customer_id", "product_id")
    agg = in_cart.group_by("customer_id").aggregate(items=in_cart.product_id.nunique())
    return _in_range(ctx, agg, "items", cond.get("min_items"), cond.get("max_items"),
                     zero_ok=False)


def _product_views(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    ev = ctx.events("product_view")
    ev = _product_filter(ctx, ev.filter(ev.product_id.notnull(), ctx.window(ev.ts, cond)), cond)
    keys = ["customer_id", "product_id"] if cond.get("per_product") else ["customer_id"]
    agg = ev.group_by(keys).aggregate(n=ev.count())
    return _in_range(ctx, agg, "n", cond.get("min_count"), cond.get("max_count"))


def _visits(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:

    kind = cond.get("event")
    ev = ctx.events(*(("login", "visit") if kind == "any" else (kind,)))
    ev = ev.filter(ctx.window(ev.ts, cond))
    day = local_day_number(ev.ts, timezone=ctx.settings.timezone, until=ctx.day)
    lo, hi = cond.get("min_days"), cond.get("max_days")
    if (lo or 0) <= 1 and hi in (None, 0):
        # "Any activity" or "none": existence is enough, counting distinct days is not needed.
        agg = ev.select("customer_id").distinct().mutate(days=ibis.literal(1))
    else:
        ev = ev.select("customer_id", day=day)
        agg = ev.group_by("customer_id").aggregate(days=ev.day.nunique())
    return _in_range(ctx, agg, "days", lo, hi)


def _searches(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    ev = ctx.events("search")
    ev = ev.filter(ev.query.notnull(), ctx.window(ev.ts, cond))
    text = ibis.literal(cond.get("query").strip().lower())
    found = ev.query.lower().strip()
    ev = ev.filter(found == text if cond.get("match") == "exact" else found.contains(text))
    agg = ev.group_by("customer_id").aggregate(n=ev.count())
    return _in_range(ctx, agg, "n", cond.get("min_count"), None, zero_ok=False)


def _checkout_abandoned(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    ev = ctx.events("checkout_start")
    ev = ev.filter(ctx.window(ev.ts, cond))
    starts = ev.group_by("customer_id").aggregate(last_start=ev.ts.max())
    orders = ctx.table("orders")
    lo = ctx.at(cond.get("from_ago"))
    o = orders.filter(orders.customer_id.notnull(), orders.status.isin(COMPLETED_STATUSES),
                      orders.ordered_at < ibis.literal(ctx.cutoff))
    if lo is not None:
        o = o.filter(o.ordered_at >= lo)
    last_order = o.group_by("customer_id").aggregate(last_order=o.ordered_at.max())
    j = starts.left_join(last_order, "customer_id")
    dropped = j.filter(j.last_order.isnull() | (j.last_order < j.last_start))
    return _ids(ctx).isin(dropped.customer_id)


def _snapshot_values(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    column, producer = SNAPSHOT_COLUMNS[cond.type]
    snap = snapshot_for(ctx.con, ctx.day, [column])
    if snap is None and cond.type in ("tier", "rfm_segment"):
        # RFM can be computed for any date; the snapshot is only a shortcut for its own date.
        snap = rfm_snapshot(ctx.con, as_of=ctx.day, settings=ctx.settings)
    elif snap is None:
        # A model's scores would take minutes to compute here: an older snapshot, said so.
        found = latest_snapshot(ctx.con, [column])
        if found is None:
            raise SchemaError(
                f"audience condition {cond.type!r} needs the snapshot column {column!r}, which "
                f"this store does not have yet. Fix: run {producer} and 'workbench refresh', or "
                "remove the condition.")
        snap, day = found
        ctx.notes.append(f"{cond.type}: {column} comes from the snapshot of {day}, not "
                         f"{ctx.day}.")
    hit = snap.filter(snap[column].isin(_values(cond)))
    return _ids(ctx).isin(hit.customer_id)


def _replenishment_due(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    from workbench.rfm.cycles import LEVELS, purchase_cycles, replenishment_due

    level = cond.get("level")
    orders, items = ctx.table("orders"), ctx.table("order_items")
    products = ctx.table("products") if "products" in ctx.names else None
    tz = ctx.settings.timezone
    cycles = purchase_cycles(orders, items, products, as_of=ctx.day, timezone=tz, level=level,
                             min_repeats=int(cond.get("min_repeats")))
    due = replenishment_due(orders, items, cycles, as_of=ctx.day, timezone=tz, level=level)
    if cond.get("keys"):
        due = due.filter(due[LEVELS[level]].isin(list(cond.get("keys"))))
    due = due.filter(due.days_overdue > -int(cond.get("due_within_days")),
                     due.days_overdue <= int(cond.get("max_overdue_days")))
    return _ids(ctx).isin(due.customer_id)


_COMPILERS: dict[str, Callable[[CompileContext, Condition], ir.BooleanValue]] = {
    "consent": _consent, "signup": _signup, "membership": _membership, "region": _region,
    "tier": _snapshot_values, "birthday_month": _birthday_month, "orders": _orders,
    "cart": _cart, "product_views": _product_views, "visits": _visits, "searches": _searches,
    "checkout_abandoned": _checkout_abandoned, "rfm_segment": _snapshot_values,
    "churn_risk": _snapshot_values, "clv_band": _snapshot_values,
    "replenishment_due": _replenishment_due,
}


def _compile(ctx: CompileContext, node: Condition | Group) -> ir.BooleanValue:
    if isinstance(node, Group):
        parts = [_compile(ctx, item) for item in node.items]
        if not parts:
            expr = ibis.literal(True)
        else:
            expr = parts[0]
            for part in parts[1:]:
                expr = (expr & part) if node.op == "and" else (expr | part)
    else:
        # NULL (an unknown region, a missing birth date) counts as "does not match", so NOT
        # of a condition includes it.
        expr = _cached(ctx, node)
    return ~expr if node.negate else expr


def _condition_ids(ctx: CompileContext, cond: Condition) -> Any:
    """Return the members of one (non-negated) condition as an Arrow array, kept in the cache."""
    key = ("ids", cond.type, repr(sorted(cond.params.items())), str(ctx.cutoff), id(ctx.con))
    if key not in ctx.cache:
        if len(ctx.cache) > 256:
            ctx.cache.clear()
        expr = _COMPILERS[cond.type](ctx, cond).fill_null(False)
        table = ctx.base.filter(expr).select("customer_id").to_pyarrow()
        ctx.cache[key] = (table, ibis.memtable(table))
    else:
        _COMPILERS[cond.type](ctx, cond)  # notes (e.g. the snapshot's date) are made again
    return ctx.cache[key]


def _cached(ctx: CompileContext, cond: Condition) -> ir.BooleanValue:
    """Return a condition's predicate, from ``ctx.cache`` when it scans orders or events.

    A form recounts on every change, and usually only one condition changed: the members of
    each scanning condition are kept (as an in-memory table of ids, keyed by the condition's
    fields and the cut-off), so a recount only rescans what changed.
    """
    if ctx.cache is None or CONDITION_TYPES[cond.type].reads == "customers":
        return _COMPILERS[cond.type](ctx, cond).fill_null(False)
    _, ids = _condition_ids(ctx, cond)
    return _ids(ctx).isin(ids.customer_id)


def _mask(ctx: CompileContext, node: Condition | Group, base: Any) -> np.ndarray:
    if isinstance(node, Group):
        masks = [_mask(ctx, item, base) for item in node.items]
        if not masks:
            mask = np.ones(len(base), dtype=bool)
        else:
            mask = (np.logical_and if node.op == "and" else np.logical_or).reduce(masks)
    else:
        key = ("mask", node.type, repr(sorted(node.params.items())), str(ctx.cutoff),
               id(ctx.con))
        if key not in ctx.cache:
            table, _ = _condition_ids(ctx, node)
            ctx.cache[key] = pc.is_in(base, value_set=table["customer_id"]).to_numpy(
                zero_copy_only=False)
        else:
            _COMPILERS[node.type](ctx, node)
        mask = ctx.cache[key]
    return ~mask if node.negate else mask


def count_members(ctx: CompileContext, rules: Group | AudienceDefinition) -> int:
    """Count an audience from cached per-condition members (``ctx.cache`` must be a dict).

    Each condition's members become a boolean mask over the customers (kept in the cache), and
    groups combine masks with numpy, so a recount after one change costs one condition's query
    plus microseconds: the form's path. Equal to ``member_table(...).count()`` (tested).
    """
    if ctx.cache is None:
        raise ParameterError("count_members: needs a cache dict in the context.")
    if isinstance(rules, AudienceDefinition):
        rules = rules.rules
    key = ("base", id(ctx.con))
    if key not in ctx.cache:
        ctx.cache[key] = ctx.base.select("customer_id").to_pyarrow()["customer_id"]
    return int(_mask(ctx, rules, ctx.cache[key]).sum())


def audience_filter(ctx: CompileContext, rules: Group | AudienceDefinition) -> ir.BooleanValue:
    """Return the boolean expression over ``ctx.base`` (the customers table) for the rules.

    Examples
    --------
    >>> import tempfile, pathlib, ibis, pandas as pd
    >>> from workbench.data import write_store, connect
    >>> from workbench.settings import Settings
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.duckdb"
    >>> with write_store(path) as w:
    ...     _ = w.write("customers", pd.DataFrame({"customer_id": ["A", "B"],
    ...                                           "region": ["서울", "부산"]}))
    >>> ctx = CompileContext(connect(path), Settings(), date(2026, 11, 16))
    >>> rules = Group("and", (Condition.make("region", values=["부산"]),))
    >>> ctx.base.filter(audience_filter(ctx, rules)).customer_id.to_list()
    ['B']
    """
    if isinstance(rules, AudienceDefinition):
        rules = rules.rules
    return _compile(ctx, rules)


def member_table(ctx: CompileContext, rules: Group | AudienceDefinition) -> ir.Table:
    """Return the customers table filtered to the audience (lazy)."""
    return ctx.base.filter(audience_filter(ctx, rules))
