"""Named RFM segments from ordered score rules, and the fixed rule-based customer groups.

The segment rules are data (``segments.toml`` next to this module, or a user's copy): each rule
names a segment and gives ranges of the R, F (and optionally M) scores on a 1..5 grid. The
first rule that matches wins. :func:`load_segment_rules` validates a file (every cell of the
grid covered, no rule hidden behind earlier ones) and :func:`assign_segments` compiles the
rules to one lazy Ibis ``CASE`` expression.

:func:`customer_groups` adds the product's fixed groups (PRODUCT_NOTES 1.2 and 3): VIP (3 or
more orders in the last 90 days), first-time buyers and dormant customers (no order in 90 days).

Examples
--------
>>> import ibis
>>> rules = load_segment_rules()
>>> scored = ibis.memtable({"r_score": [5, 1, 3], "f_score": [5, 1, 3], "m_score": [4, 2, 3]})
>>> assign_segments(scored, rules).segment.to_list()
['champions', 'lost', 'need_attention']
>>> rules.label("at_risk", "ko")
'이탈 위험 고객'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir

from workbench.data.schema import require_columns
from workbench.errors import ParameterError
from workbench.features import WINDOWS
from workbench.i18n import tr
from workbench.rfm._rulefile import RuleFile, RuleSet

__all__ = ["GRID", "SegmentRule", "SegmentRules", "assign_segments", "customer_groups",
           "grid_score", "load_segment_rules", "rf_grid", "segment_summary"]

#: Score levels of the segment grid; scores from other ``bins`` are scaled onto it.
GRID = 5
_TEXTS = ("label", "description", "action")
_KEYS = {"id", "r", "f", "m", *_TEXTS}


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """One rule: scores within ``r``, ``f`` and ``m`` (inclusive ranges) belong to ``id``."""

    id: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]
    label: dict[str, str]
    description: dict[str, str]
    action: dict[str, str]

    def matches(self, r: int, f: int, m: int) -> bool:
        """Return whether grid scores ``(r, f, m)`` fall in this rule's ranges."""
        return all(lo <= s <= hi for s, (lo, hi) in ((r, self.r), (f, self.f), (m, self.m)))


@dataclass(frozen=True, slots=True)
class SegmentRules(RuleSet):
    """Ordered segment rules (the first match wins) and the file they came from."""

    kind: ClassVar[str] = "segment"
    rules: tuple[SegmentRule, ...]
    source: str

    def _text(self, kind: str, segment: str, language: str) -> str:
        texts = getattr(self.find(segment), kind)
        return texts.get(language) or texts["en"]

    def label(self, segment: str, language: str = "en") -> str:
        """Return the segment's display name in ``language``."""
        return self._text("label", segment, language)

    def description(self, segment: str, language: str = "en") -> str:
        """Return the segment's one-line description in ``language``."""
        return self._text("description", segment, language)

    def action(self, segment: str, language: str = "en") -> str:
        """Return the suggested action for the segment in ``language``."""
        return self._text("action", segment, language)

    def segment_for(self, r: int, f: int, m: int = 3) -> str | None:
        """Return the segment of grid scores ``(r, f, m)`` (first matching rule), or ``None``."""
        return next((rule.id for rule in self.rules if rule.matches(r, f, m)), None)


# ------------------------------------------------------------------------------------ loading
def load_segment_rules(path: str | Path | None = None) -> SegmentRules:
    """Read and validate segment rules from a TOML file (default: the shipped ``segments.toml``).

    Parameters
    ----------
    path
        A user's rule file in the format of the shipped one (``[[segment]]`` tables with
        ``id``, ``r``, ``f``, optional ``m``, and ``label``, ``description``, ``action``
        tables of ``en`` and ``ko`` texts). ``None``: the shipped rules.

    Returns
    -------
    SegmentRules
        The rules in file order.

    Raises
    ------
    InputError
        The file is missing or not TOML, a rule is malformed, two rules share an id, a cell of
        the 5 x 5 x 5 score grid matches no rule, or a rule can never win. The message names
        the file, the rule and the fix.
    """
    file, raw = RuleFile.read(
        "segment", path, default_source="workbench/rfm/segments.toml",
        default_text=lambda: resources.files("workbench.rfm").joinpath("segments.toml")
        .read_text("utf-8"))
    rules = tuple(_rule(file, table, i) for i, table in enumerate(file.tables(raw), start=1))
    file.unique([rule.id for rule in rules])
    _check_grid(file, rules)
    return SegmentRules(rules, file.source)


def _rule(file: RuleFile, table: Any, number: int) -> SegmentRule:
    rule_id = file.table(table, number, keys=_KEYS, example_id="at_risk")
    where = file.where(number, rule_id)
    ranges = {name: _range(table.get(name, [1, GRID] if name == "m" else None), name, where)
              for name in ("r", "f", "m")}
    texts = {kind: file.texts(table.get(kind), kind, where) for kind in _TEXTS}
    return SegmentRule(id=rule_id, **ranges, **texts)


def _range(value: Any, name: str, where: str) -> tuple[int, int]:
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
          and 1 <= value[0] <= value[1] <= GRID)
    if not ok:
        raise RuleFile.fail("segment.range", where=where, name=name, grid=GRID,
                            got=repr(value))
    return int(value[0]), int(value[1])


def _check_grid(file: RuleFile, rules: tuple[SegmentRule, ...]) -> None:
    winners: dict[str, int] = {}
    missing = []
    for r, f, m in itertools.product(range(1, GRID + 1), repeat=3):
        rule = next((x for x in rules if x.matches(r, f, m)), None)
        if rule is None:
            missing.append(f"R{r} F{f} M{m}")
        else:
            winners[rule.id] = winners.get(rule.id, 0) + 1
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise file.fail("segment.gaps", source=repr(file.source), count=len(missing),
                        shown=shown)
    for number, rule in enumerate(rules, start=1):
        if rule.id not in winners:
            raise file.fail("segment.never", where=file.where(number, rule.id))


# ------------------------------------------------------------------------------------ compiling
def grid_score(score: ir.IntegerValue, bins: int) -> ir.IntegerValue:
    """Return a 1..``bins`` score scaled onto the 1..5 grid of the segment rules.

    Score ``s`` stands for the quantile interval ``((s - 1) / bins, s / bins]``; it is mapped to
    the grid level holding the interval's midpoint, ``ceil((2 s - 1) * 5 / (2 bins))``, which
    keeps 1 at 1 and ``bins`` at 5 (3 bins map to 1, 3, 5; 10 bins to 1, 1, 2, 2, ..., 5, 5).
    The midpoint is never on a grid boundary (an odd numerator over an even denominator), so
    the mapping is exact in integer arithmetic.
    """
    if bins == GRID:
        return score
    return ((score * 2 - 1) * GRID + 2 * bins - 1) // (2 * bins)


def assign_segments(scored: ir.Table, rules: SegmentRules | None = None, *,
                    bins: int = GRID) -> ir.Table:
    """Return ``scored`` with a ``segment`` column: the id of the first matching rule (lazy).

    Parameters
    ----------
    scored
        A table with ``r_score`` and ``f_score`` (and ``m_score`` when a rule uses ``m``),
        each 1..``bins`` (:func:`workbench.rfm.score_rfm`).
    rules
        Segment rules; default: the shipped ones (:func:`load_segment_rules`).
    bins
        Score levels of ``scored``; scores of other than 5 levels are scaled onto the 1..5
        grid first (:func:`grid_score`).

    Returns
    -------
    ibis.Table
        ``scored`` plus ``segment`` (string; null only for missing scores).

    Raises
    ------
    SchemaError
        A score column is missing.
    ParameterError
        ``bins`` is below 2.
    """
    rules = rules if rules is not None else load_segment_rules()
    if int(bins) < 2:
        raise ParameterError(tr("rfm.error.segment_bins", got=repr(bins)))
    uses_m = any(rule.m != (1, GRID) for rule in rules)
    require_columns(scored.columns, ("r_score", "f_score", *(("m_score",) if uses_m else ())),
                    owner="assign_segments")
    scores = {name: grid_score(scored[f"{name}_score"], int(bins))
              for name in ("r", "f", *(("m",) if uses_m else ()))}
    branches = []
    for rule in rules:
        conds = [scores[name].between(*getattr(rule, name)) for name in scores]
        branches.append((ibis.and_(*conds), rule.id))
    return scored.mutate(segment=ibis.cases(*branches, else_=ibis.null("string")))


def customer_groups(facts: ir.Table, *, vip_min_orders: int = 3, vip_window_days: int = 90,
                    dormant_days: int = 90) -> ir.Table:
    """Return ``facts`` with the rule-based groups ``is_vip``, ``is_first_time``, ``is_dormant``.

    Parameters
    ----------
    facts
        Customer facts (:func:`workbench.features.customer_facts`): ``orders``,
        ``recency_days`` and ``orders_<vip_window_days>d``.
    vip_min_orders, vip_window_days
        VIP: at least this many net orders in the last ``vip_window_days`` days (30, 90, 180
        or 365); default 3 in 90 days (PRODUCT_NOTES 1.2).
    dormant_days
        Dormant: no net order for at least this many days (``recency_days >= dormant_days``).

    Returns
    -------
    ibis.Table
        ``facts`` plus three boolean columns. First-time buyers have exactly one net order.

    Examples
    --------
    >>> import ibis
    >>> facts = ibis.memtable({"orders": [5, 1], "orders_90d": [3, 1],
    ...                        "recency_days": [2, 120]})
    >>> groups = customer_groups(facts).to_pandas()
    >>> groups[["is_vip", "is_first_time", "is_dormant"]].values.tolist()
    [[True, False, False], [False, True, True]]
    """
    window = f"orders_{int(vip_window_days)}d"
    if int(vip_window_days) not in WINDOWS:
        raise ParameterError(tr("rfm.error.vip_window", got=repr(vip_window_days)))
    if int(vip_min_orders) < 1 or int(dormant_days) < 1:
        raise ParameterError(tr("rfm.error.group_minimums", orders=repr(vip_min_orders),
                                days=repr(dormant_days)))
    require_columns(facts.columns, ("orders", "recency_days", window), owner="customer_groups")
    return facts.mutate(
        is_vip=(facts[window] >= int(vip_min_orders)).fill_null(False),
        is_first_time=(facts.orders == 1).fill_null(False),
        is_dormant=(facts.recency_days >= int(dormant_days)).fill_null(False),
    )


def segment_summary(segmented: ir.Table) -> ir.Table:
    """Return size, revenue and averages per segment (lazy).

    Parameters
    ----------
    segmented
        :func:`assign_segments` output with ``net_revenue``, ``orders`` and ``recency_days``.

    Returns
    -------
    ibis.Table
        ``segment``, ``customers``, ``share``, ``net_revenue``, ``revenue_share``,
        ``avg_value`` (net revenue per customer), ``avg_orders``, ``avg_recency_days``.
        Segments without customers are absent; order and label them with the rules.
    """
    require_columns(segmented.columns, ("segment", "net_revenue", "orders", "recency_days"),
                    owner="segment_summary")
    per = segmented.group_by("segment").aggregate(
        customers=ibis._.count(), net_revenue=segmented.net_revenue.fill_null(0).sum(),
        avg_orders=segmented.orders.mean(), avg_recency_days=segmented.recency_days.mean())
    total = per.net_revenue.sum()
    return per.mutate(
        share=per.customers / per.customers.sum(),
        revenue_share=(total == 0).ifelse(ibis.null("float64"), per.net_revenue / total),
        avg_value=per.net_revenue / per.customers)


def rf_grid(scored: ir.Table) -> ir.Table:
    """Return customers and average net revenue per (``r_score``, ``f_score``) cell (lazy).

    Returns
    -------
    ibis.Table
        ``r_score``, ``f_score``, ``customers``, ``avg_monetary`` (mean ``net_revenue``),
        ``avg_orders``; cells without customers are absent.
    """
    require_columns(scored.columns, ("r_score", "f_score", "net_revenue", "orders"),
                    owner="rf_grid")
    return scored.group_by(["r_score", "f_score"]).aggregate(
        customers=ibis._.count(), avg_monetary=scored.net_revenue.mean(),
        avg_orders=scored.orders.mean())
