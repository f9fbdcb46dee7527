"""The "recommended product is one of ..." condition (snapshot ``recommended_product``).

``recommended_product`` is each customer's next-product recommendation, made at ``workbench
refresh`` by the co-purchase model (:mod:`workbench.recommend`). The condition keeps customers
whose recommendation is one of the chosen products, e.g. to send one product's message only
to those it suits best. It reads the snapshot of the audience day; on another day the latest
snapshot that has the column, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.conditions.snapshot import model_snapshot
from workbench.audience.context import CompileContext
from workbench.audience.fields import PRODUCTS, FieldSpec

__all__ = ["TYPES"]

_COLUMN = "recommended_product"


def _recommended_product(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    snap = model_snapshot(ctx, "recommended_product", [_COLUMN], "recommend")
    chosen = [str(p) for p in f["products"]]
    return ctx.base.customer_id.isin(snap.filter(snap[_COLUMN].isin(chosen)).customer_id)


TYPES = (
    ConditionType("recommended_product", (
        FieldSpec("products", "texts", required=True, options=(PRODUCTS,),
                  help="product ids: the customer's recommended product is one of them"),),
        reads="snapshot", compile=_recommended_product,
        help="recommended product is one of ... (snapshot column recommended_product)"),
)
