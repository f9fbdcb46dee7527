"""The "likely to respond" condition: customers a message moves most (snapshot ``uplift_score``).

``uplift_score`` is the expected increase of a customer's chance of ordering within 14 days if
messaged, trained at ``workbench refresh`` on past campaigns' holdouts (:mod:`workbench.uplift`).
The condition keeps the top ``top_percent`` of scored customers (ties all in or all out: a
cumulative distribution, as the house style's scores) and, with ``min_score``, only those whose
expected increase reaches it. Like the churn model's scores, an older snapshot is used on
another day, with a note; a snapshot without scores (fewer than two finished campaigns with a
holdout) matches nobody, with a note saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.conditions.snapshot import model_snapshot
from workbench.audience.context import CompileContext
from workbench.audience.fields import FieldSpec
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["TYPES"]

_COLUMN = "uplift_score"


def _likely_to_respond(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    snap = model_snapshot(ctx, "likely_to_respond", [_COLUMN], "uplift")
    scored = snap.filter(snap[_COLUMN].notnull())
    if int(scored.count().execute()) == 0:
        ctx.note("uplift_missing")
    # Ascending in minus the score: the share of customers scoring at least as high.
    share = (-scored[_COLUMN]).cume_dist()
    ranked = scored.select("customer_id", _COLUMN, share=share)
    keep = ranked.share <= float(f["top_percent"]) / 100.0
    if f["min_score"] is not None:
        keep &= ranked[_COLUMN] >= float(f["min_score"])
    return ctx.base.customer_id.isin(ranked.filter(keep).customer_id)


def _check(owner: str, f: Mapping[str, Any]) -> None:
    if f["top_percent"] is None:
        raise ParameterError(tr("audience.error.uplift_top", owner=owner))


TYPES = (
    ConditionType("likely_to_respond", (
        FieldSpec("top_percent", "number", 20.0, minimum=0.1, maximum=100,
                  help="the share of scored customers with the highest uplift_score, in %"),
        FieldSpec("min_score", "number", minimum=-1, maximum=1,
                  help="and an expected increase of P(order in 14 days) of at least this"),),
        reads="snapshot", compile=_likely_to_respond, check=_check,
        help="likely to respond to a message: top N% by snapshot column uplift_score"),
)
