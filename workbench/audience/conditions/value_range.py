"""The CLV-range condition: customers whose 12-month value is surely above (or below) an amount.

``clv_range`` reads the snapshot's 80% range of the 12-month value (``clv_low``, ``clv_high``;
:mod:`workbench.clv.intervals`):

``surely_at_least``
    ``clv_low >= amount``: in 9 cases out of 10 the customer brings at least this margin
    (the lower end is the 10th percentile of her simulated values).
``surely_at_most``
    ``clv_high <= amount``: in 9 cases out of 10 (8 when her range starts at 0) she brings at
    most this much.

At least one is required; both together keep customers whose whole range lies between them.
Like the other model scores, the snapshot of the audience day is read, else the latest one
with the columns (with a note); customers without a range (the models refused the data) never
match.
"""

from __future__ import annotations

from collections.abc import Mapping
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

_COLUMNS = ("clv_low", "clv_high")


def _clv_range(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    snap = model_snapshot(ctx, "clv_range", _COLUMNS, "clv_intervals")
    keep = snap.clv_low.notnull() & snap.clv_high.notnull()
    if f["surely_at_least"] is not None:
        keep &= snap.clv_low >= ibis.literal(float(f["surely_at_least"]))
    if f["surely_at_most"] is not None:
        keep &= snap.clv_high <= ibis.literal(float(f["surely_at_most"]))
    return ctx.base.customer_id.isin(snap.filter(keep).customer_id)


def _check(owner: str, f: Mapping[str, Any]) -> None:
    low, high = f["surely_at_least"], f["surely_at_most"]
    if low is None and high is None:
        raise ParameterError(tr("audience.error.clv_range_bound", owner=owner))
    if low is not None and high is not None and low > high:
        raise ParameterError(tr("audience.error.clv_range_order", owner=owner, low=low,
                                high=high))


TYPES = (
    ConditionType("clv_range", (
        FieldSpec("surely_at_least", "number", 10_000.0, minimum=0,
                  help="snapshot clv_low at least this (margin, shop currency)"),
        FieldSpec("surely_at_most", "number", minimum=0,
                  help="snapshot clv_high at most this (margin, shop currency)"),),
        reads="snapshot", compile=_clv_range, check=_check,
        help="12-month value surely at least / at most an amount: snapshot clv_low, clv_high"),
)
