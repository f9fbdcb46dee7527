"""Conditions on the next-order predictions of the snapshot (:mod:`workbench.clv.next_order`).

``likely_to_buy``
    Customers whose probability of at least one net order in the next 7, 30 or 90 days
    (``p_order_7d`` / ``p_order_30d`` / ``p_order_90d``) reaches ``min_probability``, and/or
    who are in the top ``top_percent`` of customers by that probability (ties all in or all
    out: a cumulative distribution, as in the other score conditions). At least one of the two
    is required.
``next_order_due``
    Customers whose expected next order date (``next_order_date``, the date if they order
    within 90 days) falls from the audience day to ``within_days`` days later (0: today).

Both read the snapshot of the audience day; on another day the latest snapshot that has the
columns is used, with a note (the predictions are made at ``workbench refresh``). A snapshot
written before the CLV models accepted the data has null predictions: nobody matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.conditions.snapshot import model_snapshot
from workbench.audience.context import CompileContext
from workbench.audience.fields import FieldSpec
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["TYPES"]

#: Windows of ``likely_to_buy`` (days), each a snapshot column ``p_order_{days}d``.
WINDOWS = (7, 30, 90)


def _likely_to_buy(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    column = f"p_order_{int(f['window_days'])}d"
    snap = model_snapshot(ctx, "likely_to_buy", [column], "next_order")
    scored = snap.filter(snap[column].notnull())
    # Ascending in minus the probability: the share of customers at least as likely.
    ranked = scored.select("customer_id", column, share=(-scored[column]).cume_dist())
    keep = ibis.literal(True)
    if f["top_percent"] is not None:
        keep &= ranked.share <= float(f["top_percent"]) / 100.0
    if f["min_probability"] is not None:
        keep &= ranked[column] >= float(f["min_probability"])
    return ctx.base.customer_id.isin(ranked.filter(keep).customer_id)


def _next_order_due(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    snap = model_snapshot(ctx, "next_order_due", ["next_order_date"], "next_order")
    last = ctx.day + timedelta(days=int(f["within_days"]))
    due = snap.filter(snap.next_order_date >= ctx.day, snap.next_order_date <= last)
    return ctx.base.customer_id.isin(due.customer_id)


def _check_likely(owner: str, f: Mapping[str, Any]) -> None:
    if f["top_percent"] is None and f["min_probability"] is None:
        raise ParameterError(tr("audience.error.likely_to_buy_bound", owner=owner))


TYPES = (
    ConditionType("likely_to_buy", (
        FieldSpec("window_days", "choice", 30, choices=WINDOWS,
                  help="the window in days: 7, 30 or 90 (snapshot column p_order_{days}d)"),
        FieldSpec("min_probability", "number", 0.5, minimum=0, maximum=1,
                  help="P(at least one net order in the window) of at least this"),
        FieldSpec("top_percent", "number", minimum=0.1, maximum=100,
                  help="and/or the share of customers most likely to order, in %"),),
        reads="snapshot", compile=_likely_to_buy, check=_check_likely,
        help="likely to buy within 7/30/90 days: minimum probability and/or top N%"),
    ConditionType("next_order_due", (
        FieldSpec("within_days", "int", 14, minimum=0, maximum=90,
                  help="days after the audience day (0: today)"),),
        reads="snapshot", compile=_next_order_due,
        help="next order expected within N days (snapshot column next_order_date)"),
)
