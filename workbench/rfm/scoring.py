"""RFM scores: recency, frequency and monetary value scored 1..bins, lazily in the backend.

Two methods:

``quantile``
    A customer's score is ``1 + floor(bins * below / n)``, where ``below`` is the number of
    customers whose value is strictly worse than theirs (for recency: more days since the last
    order) and ``n`` the number of customers. Equal values have equal ``below`` and so equal
    scores, which Ibis ``ntile`` does not guarantee (STACK_NOTES.md). A block of tied customers
    is never split and takes the score where the block starts.

    Why the block's start and not its end (``ceil(cume_dist * bins)``, STACK_NOTES.md): order
    counts are heavily tied. In the sample shop 43% of buyers ordered once; scored by where
    their block ends they all get F = 3, no customer has F = 1 or 2, and the segments built on
    low frequency (New, Promising, Hibernating, Lost) are empty for every shop. Scored by where
    it starts, one-time buyers get F = 1 ("nobody orders less often"), as users expect. When
    everybody has the same value (and with a single customer) nobody is worse than anybody and
    everybody gets 1; with fewer customers than bins the top score is not reached.

``threshold``
    Fixed cut points, ascending, ``bins - 1`` of them per column (days, orders, currency). For
    frequency and monetary value the score is ``1 +`` the number of cut points the value is
    greater than or equal to. For recency fewer days is better: the score is ``1 +`` the number
    of cut points the value is *at or below*. With the default recency cut points (30, 60, 90,
    180) a customer whose last order was at most 30 days before ``as_of`` (``recency_days <=
    30``, exactly those with ``orders_30d > 0``) gets R = 5 and one beyond 180 days gets R = 1.

The lookback window is a property of the facts: score
``customer_facts(..., lookback_days=365)`` to use the last year only.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from workbench.data.schema import require_columns
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["DEFAULT_THRESHOLDS", "METHODS", "RFM_SCORE_COLUMNS", "SCORED_COLUMNS", "score_rfm"]

#: Score columns added by :func:`score_rfm`.
RFM_SCORE_COLUMNS = ("r_score", "f_score", "m_score")
#: The facts column behind each score.
SCORED_COLUMNS = {"r_score": "recency_days", "f_score": "orders", "m_score": "net_revenue"}
METHODS = ("quantile", "threshold")

#: Cut points for ``method="threshold"`` with 5 bins: days since the last order, net orders and
#: net revenue in KRW. F: 1 order scores 1, 2 orders 2, 3-4 orders 3, 5-9 orders 4, 10+ 5.
DEFAULT_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "recency_days": (30, 60, 90, 180),
    "orders": (2, 3, 5, 10),
    "net_revenue": (50_000, 100_000, 200_000, 500_000),
}


def score_rfm(facts: ir.Table, *, bins: int = 5, method: str = "quantile",
              thresholds: Mapping[str, Sequence[float]] | None = None) -> ir.Table:
    """Return ``facts`` with RFM scores ``r_score``, ``f_score``, ``m_score`` and ``rfm_cell``.

    Parameters
    ----------
    facts
        Customer facts (:func:`workbench.features.customer_facts`); needs ``recency_days``,
        ``orders`` and ``net_revenue`` without nulls.
    bins
        Number of score levels (at least 2); scores run from 1 (worst) to ``bins`` (best).
    method
        ``"quantile"`` (ties get equal scores) or ``"threshold"`` (fixed cut points); see the
        module docstring for the exact rules.
    thresholds
        For ``method="threshold"``: ascending cut points per facts column (``recency_days`` in
        days, ``orders`` in orders, ``net_revenue`` in the shop's currency), ``bins - 1`` each.
        Columns left out use :data:`DEFAULT_THRESHOLDS`, which only fit ``bins=5``.

    Returns
    -------
    ibis.Table
        Lazy: every column of ``facts`` plus :data:`RFM_SCORE_COLUMNS` (``int8``, 1..bins) and
        ``rfm_cell`` (string ``"R-F-M"``, e.g. ``"5-4-3"``).

    Raises
    ------
    ParameterError
        ``bins``, ``method`` or ``thresholds`` is invalid; the message names the fix.
    SchemaError
        A column to score is missing.

    Examples
    --------
    >>> import ibis
    >>> facts = ibis.memtable({"customer_id": ["a", "b", "c", "d"],
    ...                        "recency_days": [3.5, 40.0, 40.0, 200.0],
    ...                        "orders": [6, 1, 1, 2], "net_revenue": [420_000.0, 30_000.0,
    ...                                                              30_000.0, 90_000.0]})
    >>> score_rfm(facts).order_by("customer_id").rfm_cell.to_list()
    ['4-4-4', '2-1-1', '2-1-1', '1-3-3']
    >>> score_rfm(facts, method="threshold").order_by("customer_id").rfm_cell.to_list()
    ['5-4-4', '4-1-1', '4-1-1', '1-2-2']
    """
    bins = _check_bins(bins)
    if method not in METHODS:
        raise ParameterError(tr("rfm.error.score_method", methods=list(METHODS),
                                got=repr(method), hint=_did_you_mean(method, METHODS)))
    require_columns(facts.columns, list(SCORED_COLUMNS.values()), owner="score_rfm",
                    hint=tr("rfm.error.score_columns_hint"))
    if method == "quantile":
        if thresholds is not None:
            raise ParameterError(tr("rfm.error.thresholds_unused"))
        scores = {score: _quantile_score(facts[column], bins, higher_is_better=score != "r_score")
                  for score, column in SCORED_COLUMNS.items()}
    else:
        cuts = _check_thresholds(thresholds, bins)
        scores = {score: _threshold_score(facts[column], cuts[column],
                                          higher_is_better=score != "r_score")
                  for score, column in SCORED_COLUMNS.items()}
    scores = {name: value.cast("int8") for name, value in scores.items()}
    scored = facts.mutate(**scores)
    cell = (scored.r_score.cast("string") + "-" + scored.f_score.cast("string") + "-"
            + scored.m_score.cast("string"))
    return scored.mutate(rfm_cell=cell)


def _quantile_score(value: ir.NumericColumn, bins: int, *,
                    higher_is_better: bool) -> ir.IntegerValue:
    # rank() is 0-based with ties sharing the lowest rank: the number of strictly worse values.
    order = value if higher_is_better else value.desc()
    below = ibis.rank().over(order_by=order)
    total = value.count().over(ibis.window())
    return (below * bins / total).floor() + 1


def _threshold_score(value: ir.NumericColumn, cuts: tuple[float, ...], *,
                     higher_is_better: bool) -> ir.IntegerValue:
    # 1 + the number of cut points passed; a CASE from the top keeps it one expression.
    if higher_is_better:
        branches = [(value >= cut, len(cuts) - i + 1) for i, cut in enumerate(reversed(cuts))]
    else:
        branches = [(value <= cut, len(cuts) - i + 1) for i, cut in enumerate(cuts)]
    return ibis.cases(*branches, else_=1)


def _did_you_mean(value: object, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    return tr("rfm.error.did_you_mean", suggestion=repr(close[0])) if close else ""


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 100:
        raise ParameterError(tr("rfm.error.score_bins", got=repr(bins)))
    return bins


def _check_thresholds(thresholds: Mapping[str, Sequence[float]] | None,
                      bins: int) -> dict[str, tuple[float, ...]]:
    given = dict(thresholds or {})
    known = list(SCORED_COLUMNS.values())
    for key in given:
        if key not in known:
            raise ParameterError(tr("rfm.error.thresholds_key", got=repr(key), known=known,
                                    hint=_did_you_mean(key, known)))
    cuts: dict[str, tuple[float, ...]] = {}
    for key in known:
        if key not in given and bins != len(DEFAULT_THRESHOLDS[key]) + 1:
            raise ParameterError(tr("rfm.error.thresholds_missing", column=repr(key), bins=bins,
                                    needed=bins - 1))
        cuts[key] = _cut_points(key, given.get(key, DEFAULT_THRESHOLDS[key]), bins)
    return cuts


def _cut_points(key: str, points: object, bins: int) -> tuple[float, ...]:
    fields = {"column": repr(key), "needed": bins - 1}
    if isinstance(points, str | bytes) or not isinstance(points, Sequence):
        raise ParameterError(tr("rfm.error.thresholds_type", got=repr(points), **fields))
    shown = list(points)
    if len(points) != bins - 1:
        raise ParameterError(tr("rfm.error.thresholds_count", count=len(points), got=shown,
                                **fields))
    if not all(isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p)
               for p in points):
        raise ParameterError(tr("rfm.error.thresholds_finite", got=shown, **fields))
    if any(a >= b for a, b in zip(points, points[1:], strict=False)):
        raise ParameterError(tr("rfm.error.thresholds_order", got=shown,
                                fixed=sorted(set(points)), **fields))
    return tuple(float(p) for p in points)
