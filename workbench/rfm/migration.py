"""Segment migration: how customers moved between named segments from one ``as_of`` to another.

Each date is scored on its own (quantile scores are relative to the customers of that date),
so a customer can change segment because of their own orders or because others bought. The
counts include customers who had no net order yet at the earlier date
(:data:`NOT_YET_CUSTOMER`) and, with a lookback window, customers whose orders all fell out of
the window by the later date (:data:`OUT_OF_WINDOW`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.errors import ParameterError
from workbench.features import facts_for
from workbench.i18n import tr
from workbench.kpi.queries import fetch
from workbench.rfm.scoring import score_rfm
from workbench.rfm.segments import SegmentRules, assign_segments, load_segment_rules
from workbench.settings import Settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["MIGRATION_COLUMNS", "NOT_YET_CUSTOMER", "OUT_OF_WINDOW", "migration_counts",
           "segment_migration", "segmented_facts", "store_segments"]

#: ``from_segment`` of customers without a net order (in the window) at the earlier date.
NOT_YET_CUSTOMER = "not_yet_customer"
#: ``to_segment`` of customers without a net order in the window at the later date.
OUT_OF_WINDOW = "out_of_window"
MIGRATION_COLUMNS = ("from_segment", "to_segment", "customers")


def segmented_facts(facts: ir.Table, rules: SegmentRules | None = None, *, bins: int = 5,
                    method: str = "quantile", thresholds: Any = None) -> ir.Table:
    """Return ``facts`` scored (:func:`workbench.rfm.score_rfm`) and segmented (lazy)."""
    scored = score_rfm(facts, bins=bins, method=method, thresholds=thresholds)
    return assign_segments(scored, rules, bins=bins)


def store_segments(con: BaseBackend, as_of: date, *, settings: Settings | None = None,
                   rules: SegmentRules | None = None, bins: int = 5, method: str = "quantile",
                   lookback_days: int | None = None, thresholds: Any = None) -> ir.Table:
    """Return the store's customer facts as of a date, scored and segmented (lazy).

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    as_of
        The date (exclusive, shop's time zone).
    settings
        Time zone; default: ``workbench.toml``.
    rules, bins, method, thresholds
        As in :func:`segmented_facts`.
    lookback_days
        Only orders in this many days before ``as_of`` count; ``None`` or 0: all history.
    """
    facts = facts_for(con, as_of, settings=settings, lookback_days=lookback_days or None)
    return segmented_facts(facts, rules, bins=bins, method=method, thresholds=thresholds)


def migration_counts(before: ir.Table, after: ir.Table) -> ir.Table:
    """Return the number of customers per (``from_segment``, ``to_segment``) (lazy).

    Parameters
    ----------
    before, after
        Tables with ``customer_id`` and ``segment`` at the earlier and the later date.

    Returns
    -------
    ibis.Table
        :data:`MIGRATION_COLUMNS`; customers only in ``after`` come from
        :data:`NOT_YET_CUSTOMER`, customers only in ``before`` go to :data:`OUT_OF_WINDOW`.

    Examples
    --------
    >>> import ibis
    >>> before = ibis.memtable({"customer_id": ["a", "b"], "segment": ["new", "lost"]})
    >>> after = ibis.memtable({"customer_id": ["a", "c"], "segment": ["loyal", "new"]})
    >>> migration_counts(before, after).order_by("from_segment").to_pandas().values.tolist()
    [['lost', 'out_of_window', 1], ['new', 'loyal', 1], ['not_yet_customer', 'new', 1]]
    """
    b = before.select(before_id=before.customer_id, from_segment=before.segment)
    a = after.select(after_id=after.customer_id, to_segment=after.segment)
    joined = b.outer_join(a, b.before_id == a.after_id)
    pairs = joined.select(from_segment=joined.from_segment.fill_null(NOT_YET_CUSTOMER),
                          to_segment=joined.to_segment.fill_null(OUT_OF_WINDOW))
    return pairs.group_by(["from_segment", "to_segment"]).aggregate(
        customers=ibis._.count().cast("int64"))


def order_migration(frame: pd.DataFrame, rules: SegmentRules) -> pd.DataFrame:
    """Sort migration counts by the rule order of both segments (not-yet first, out last)."""
    order = {s: i for i, s in enumerate((NOT_YET_CUSTOMER, *rules.ids, OUT_OF_WINDOW))}
    out = frame.assign(_f=frame["from_segment"].map(order), _t=frame["to_segment"].map(order))
    return (out.sort_values(["_f", "_t"], kind="stable").drop(columns=["_f", "_t"])
            .reset_index(drop=True))


def segment_migration(con: Any, *, from_as_of: date, to_as_of: date,
                      settings: Settings | None = None, bins: int = 5,
                      method: str = "quantile", lookback_days: int | None = None,
                      rules: SegmentRules | None = None,
                      thresholds: Any = None) -> pd.DataFrame:
    """Return how many customers moved from each segment at ``from_as_of`` to each at ``to_as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    from_as_of, to_as_of
        The two snapshot dates (exclusive, shop's time zone); ``from_as_of < to_as_of``.
    settings
        Time zone; default: ``workbench.toml``.
    bins, method, thresholds
        Scoring, as in :func:`workbench.rfm.score_rfm`.
    lookback_days
        Only orders in this many days before each date count; ``None`` or 0: all history.
    rules
        Segment rules; default: the shipped ones.

    Returns
    -------
    pandas.DataFrame
        :data:`MIGRATION_COLUMNS`, one row per pair with at least one customer, in rule order.

    Raises
    ------
    ParameterError
        ``from_as_of`` is not before ``to_as_of``.
    """
    if not from_as_of < to_as_of:
        raise ParameterError(tr("rfm.error.migration_dates", start=from_as_of, end=to_as_of))
    rules = rules if rules is not None else load_segment_rules()
    sides = [store_segments(con, day, settings=settings, rules=rules, bins=bins, method=method,
                            lookback_days=lookback_days, thresholds=thresholds)
             for day in (from_as_of, to_as_of)]
    return order_migration(fetch(migration_counts(*sides)), rules)
