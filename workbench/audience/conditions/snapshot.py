"""Conditions on the per-customer snapshot: loyalty tier, RFM segment, churn-risk band, CLV band.

On the snapshot's own date the column is read from it (:func:`~workbench.data.snapshot.
snapshot_for`, the one freshness rule). On another date RFM is computed on the spot (it takes
seconds); a model's scores would take minutes, so they come from the latest snapshot that has
them, with a :class:`~workbench.audience.context.Note` saying which day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.context import CompileContext
from workbench.audience.fields import FieldSpec, OptionSource
from workbench.data.snapshot import SNAPSHOT_TABLE, latest_snapshot, snapshot_for
from workbench.errors import SchemaError
from workbench.i18n import tr
from workbench.rfm.analysis import rfm_snapshot

__all__ = ["TYPES", "SnapshotColumn", "model_snapshot"]


@dataclass(frozen=True, slots=True)
class SnapshotColumn:
    """A snapshot column a condition tests, and who writes it.

    Parameters
    ----------
    column
        The column of ``snapshot_customers``.
    producer
        ``rfm``, ``churn`` or ``clv``: named in the message when the column is missing
        (``audience.producer.<producer>``).
    live
        ``live(con, as_of=, settings=)`` computing the column for any date, when that is quick;
        ``None``: an older snapshot is used, with a note.
    """

    column: str
    producer: str
    live: Callable[..., ir.Table] | None = None


def model_snapshot(ctx: CompileContext, name: str, columns: Sequence[str],
                   producer: str) -> ir.Table:
    """Return the snapshot of ``ctx.day`` with ``columns``, or the latest one and a note.

    For the columns of a model (scores take minutes, so they are never computed for another
    day): the condition ``name`` reads the latest snapshot that has them, and the audience
    says which day. ``producer`` names who writes them (``audience.producer.<producer>``).

    Raises
    ------
    SchemaError
        No snapshot has the columns (the message says which command writes them).
    """
    snap = snapshot_for(ctx.con, ctx.day, list(columns))
    if snap is not None:
        return snap
    found = latest_snapshot(ctx.con, list(columns))
    if found is None:
        raise SchemaError(tr("audience.error.snapshot_column", type=repr(name),
                             column=repr(columns[0]),
                             producer=tr(f"audience.producer.{producer}")))
    snap, day = found
    ctx.note("older_snapshot", type=name, column=columns[0], day=str(day), as_of=str(ctx.day))
    return snap


def _in_snapshot(ctx: CompileContext, f: Mapping[str, Any], *, name: str,
                 source: SnapshotColumn) -> ir.BooleanValue:
    column = source.column
    snap = snapshot_for(ctx.con, ctx.day, [column])
    if snap is None and source.live is not None:
        snap = source.live(ctx.con, as_of=ctx.day, settings=ctx.settings)
    elif snap is None:
        snap = model_snapshot(ctx, name, [column], source.producer)
    hit = snap.filter(snap[column].isin(list(f["values"])))
    return ctx.base.customer_id.isin(hit.customer_id)


def _snapshot_type(name: str, source: SnapshotColumn, help: str) -> ConditionType:  # noqa: A002
    values = FieldSpec("values", "texts", required=True,
                       options=(OptionSource(SNAPSHOT_TABLE, source.column),))
    return ConditionType(name, (values,), reads="snapshot",
                         compile=partial(_in_snapshot, name=name, source=source), help=help)


TYPES = (
    _snapshot_type("tier", SnapshotColumn("tier", "rfm", rfm_snapshot),
                   "loyalty tier (snapshot column tier)"),
    _snapshot_type("rfm_segment", SnapshotColumn("segment", "rfm", rfm_snapshot),
                   "RFM segment (snapshot column segment)"),
    _snapshot_type("churn_risk", SnapshotColumn("risk_band", "churn"),
                   "churn-risk band (snapshot column risk_band)"),
    _snapshot_type("clv_band", SnapshotColumn("clv_band", "clv"),
                   "CLV band (snapshot column clv_band)"),
)
