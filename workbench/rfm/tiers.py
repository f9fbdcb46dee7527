"""Loyalty tiers (회원 등급) from editable spend and order rules, and next month's movers.

A tier rule gives the minimum net spend and the minimum number of net orders in the last 365
days; customers get the first (highest) tier whose both minimums they reach, and the last tier
must have no minimums so everybody gets one. The default rules (:data:`DEFAULT_TIERS_TOML`)
follow the usual Korean own-mall ladder; shops pass their own file to :func:`load_tier_rules`.

"Who moves next month at the current pace" (:func:`tier_projection`) projects each customer's
rolling 365-day totals one ``horizon`` (30 days) ahead:

    projected = total_365d - leaving + total_365d * horizon / 365

where ``leaving`` is what they bought in the oldest ``horizon`` days of the window
(``[as_of - 365, as_of - 365 + horizon)``, which falls out of the window by then) and the last
term is their average pace over the last 365 days, scaled to the horizon. The same formula is
used for spend and for orders (projected orders may be fractional; the rule compares them with
``>=``). It is a run-rate projection, not a forecast: customers who buy on a cycle longer than
a month get the average of their year, not the timing of their next order.

Examples
--------
>>> import ibis
>>> rules = load_tier_rules()
>>> rules.ids
('vvip', 'vip', 'gold', 'silver', 'welcome')
>>> facts = ibis.memtable({"customer_id": ["a", "b"], "net_revenue_365d": [1_200_000.0, 50_000.0],
...                        "orders_365d": [6, 1]})
>>> assign_tiers(facts, rules).tier.to_list()
['vvip', 'welcome']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir

from workbench._userfiles import short
from workbench.data.schema import require_columns
from workbench.queries import net_orders
from workbench.rfm._rulefile import RuleFile, RuleSet

__all__ = ["DEFAULT_TIERS_TOML", "TierRule", "TierRules", "assign_tiers", "leaving_totals",
           "load_tier_rules", "tier_movers", "tier_projection", "tier_summary"]

#: The default tiers, in the format of a user's tier file (KRW, last 365 days, net orders).
DEFAULT_TIERS_TOML = """\
# Loyalty tiers, highest first: a customer gets the first tier whose minimum net spend AND
# minimum number of net orders in the last 365 days they reach. The last tier has no minimums.
window_days = 365

[[tier]]
id = "vvip"
min_spend = 1_000_000
min_orders = 5
label = { en = "VVIP", ko = "최우수" }

[[tier]]
id = "vip"
min_spend = 500_000
min_orders = 3
label = { en = "VIP", ko = "우수" }

[[tier]]
id = "gold"
min_spend = 300_000
min_orders = 2
label = { en = "Gold", ko = "골드" }

[[tier]]
id = "silver"
min_spend = 100_000
min_orders = 1
label = { en = "Silver", ko = "실버" }

[[tier]]
id = "welcome"
min_spend = 0
min_orders = 0
label = { en = "Welcome", ko = "웰컴" }
"""

_KEYS = {"id", "min_spend", "min_orders", "label"}
MOVER_COLUMNS = ("tier", "next_tier", "direction", "customers")


@dataclass(frozen=True, slots=True)
class TierRule:
    """One tier: at least ``min_spend`` net spend and ``min_orders`` net orders in the window."""

    id: str
    min_spend: float
    min_orders: int
    label: dict[str, str]


@dataclass(frozen=True, slots=True)
class TierRules(RuleSet):
    """Tiers from highest to lowest, the spend window in days, and the file they came from."""

    kind: ClassVar[str] = "tier"
    rules: tuple[TierRule, ...]
    source: str
    window_days: int = 365

    def rank(self, tier: str) -> int:
        """Return the tier's position (0 = highest)."""
        return self.ids.index(tier)

    def label(self, tier: str, language: str = "en") -> str:
        """Return the tier's display name in ``language``."""
        label = self.find(tier).label
        return label.get(language) or label["en"]


def load_tier_rules(path: str | Path | None = None) -> TierRules:
    """Read and validate tier rules from a TOML file (default: :data:`DEFAULT_TIERS_TOML`).

    Raises
    ------
    InputError
        The file is missing or not TOML, a tier is malformed, ids repeat, or the last tier has
        minimums (then some customers would get no tier). The message names file, tier and fix.
    """
    file, raw = RuleFile.read("tier", path, default_text=lambda: DEFAULT_TIERS_TOML,
                              default_source="workbench.rfm.tiers.DEFAULT_TIERS_TOML")
    window = raw.get("window_days", 365)
    if window != 365:
        raise file.fail("tier.window", source=repr(file.source), got=short(window))
    rules = tuple(_tier(file, t, i) for i, t in enumerate(file.tables(raw), start=1))
    file.unique([rule.id for rule in rules])
    last = rules[-1]
    if last.min_spend or last.min_orders:
        raise file.fail("tier.no_base", where=file.where(len(rules), last.id),
                        spend=f"{last.min_spend:g}", orders=last.min_orders)
    return TierRules(rules, file.source, int(window))


def _tier(file: RuleFile, table: Any, number: int) -> TierRule:
    tier_id = file.table(table, number, keys=_KEYS, example_id="gold")
    where = file.where(number, tier_id)
    for key in ("min_spend", "min_orders"):
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise file.fail("tier.minimum", where=where, name=key, got=short(value))
    label = file.texts(table.get("label"), "label", where, example=("Gold", "골드"))
    return TierRule(tier_id, float(table["min_spend"]), table["min_orders"], label)


def _tier_case(spend: ir.NumericValue, orders: ir.NumericValue,
               rules: TierRules) -> ir.StringValue:
    branches = [((spend >= rule.min_spend) & (orders >= rule.min_orders), rule.id)
                for rule in rules.rules[:-1]]
    return ibis.cases(*branches, else_=rules.rules[-1].id) if branches else ibis.literal(
        rules.rules[-1].id)


def assign_tiers(facts: ir.Table, rules: TierRules | None = None) -> ir.Table:
    """Return ``facts`` with ``tier``: the first tier whose minimums the customer reaches (lazy).

    Parameters
    ----------
    facts
        Customer facts with ``net_revenue_365d`` and ``orders_365d``.
    rules
        Tier rules; default :func:`load_tier_rules` ``()``.

    Raises
    ------
    SchemaError
        A required column is missing.
    """
    rules = rules if rules is not None else load_tier_rules()
    require_columns(facts.columns, ("net_revenue_365d", "orders_365d"), owner="assign_tiers")
    spend = facts.net_revenue_365d.fill_null(0)
    orders = facts.orders_365d.fill_null(0)
    return facts.mutate(tier=_tier_case(spend, orders, rules))


def leaving_totals(orders: ir.Table, *, as_of: date, timezone: str, horizon_days: int = 30,
                   window_days: int = 365) -> ir.Table:
    """Return each customer's net spend and orders that leave the rolling window next month.

    These are net orders placed in ``[as_of - window_days, as_of - window_days + horizon)``
    (local midnights): inside today's 365-day window, outside it ``horizon_days`` later.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``leaving_revenue``, ``leaving_orders`` (customers with such orders).
    """
    start = as_of - timedelta(days=int(window_days))
    end = start + timedelta(days=int(horizon_days))
    net = net_orders(orders, since=start, before=end, timezone=timezone, identified=True)
    return net.group_by("customer_id").aggregate(leaving_revenue=net.amount.sum(),
                                                 leaving_orders=net.count())


def tier_projection(facts: ir.Table, leaving: ir.Table, rules: TierRules | None = None, *,
                    horizon_days: int = 30) -> ir.Table:
    """Return each customer's tier now and at the current pace ``horizon_days`` later (lazy).

    Parameters
    ----------
    facts
        ``customer_id``, ``net_revenue_365d``, ``orders_365d``.
    leaving
        :func:`leaving_totals` for the same ``as_of`` and horizon.
    rules
        Tier rules; default :func:`load_tier_rules` ``()``.
    horizon_days
        How far ahead to project (default 30: "next month").

    Returns
    -------
    ibis.Table
        ``customer_id``, ``net_revenue_365d``, ``orders_365d``, ``tier``,
        ``projected_spend_365d``, ``projected_orders_365d``, ``next_tier``; the projection is
        the module's formula (see the module docstring).
    """
    rules = rules if rules is not None else load_tier_rules()
    require_columns(facts.columns, ("customer_id", "net_revenue_365d", "orders_365d"),
                    owner="tier_projection")
    require_columns(leaving.columns, ("customer_id", "leaving_revenue", "leaving_orders"),
                    owner="tier_projection")
    pace = float(horizon_days) / rules.window_days
    joined = facts.left_join(leaving, "customer_id")
    spend = joined.net_revenue_365d.fill_null(0).cast("float64")
    orders = joined.orders_365d.fill_null(0).cast("float64")
    proj_spend = spend - joined.leaving_revenue.fill_null(0) + spend * pace
    proj_orders = orders - joined.leaving_orders.fill_null(0) + orders * pace
    out = joined.select("customer_id", net_revenue_365d=spend,
                        orders_365d=joined.orders_365d.fill_null(0).cast("int64"),
                        tier=_tier_case(spend, orders, rules),
                        projected_spend_365d=proj_spend, projected_orders_365d=proj_orders)
    return out.mutate(next_tier=_tier_case(out.projected_spend_365d, out.projected_orders_365d,
                                           rules))


def tier_movers(projection: ir.Table, rules: TierRules | None = None) -> ir.Table:
    """Return counts of customers by (``tier``, ``next_tier``) with ``direction`` (lazy).

    ``direction`` is ``up`` (a higher tier next month), ``down`` or ``same``.
    """
    rules = rules if rules is not None else load_tier_rules()
    require_columns(projection.columns, ("tier", "next_tier"), owner="tier_movers")
    rank = {tier: i for i, tier in enumerate(rules.ids)}

    def ranked(col: ir.StringValue) -> ir.IntegerValue:
        return col.substitute(rank, else_=len(rank)).cast("int64")

    counts = projection.group_by(["tier", "next_tier"]).aggregate(customers=ibis._.count())
    now, nxt = ranked(counts.tier), ranked(counts.next_tier)
    direction = ibis.cases((nxt < now, "up"), (nxt > now, "down"), else_="same")
    return counts.select("tier", "next_tier", direction=direction, customers=counts.customers)


def tier_summary(tiered: ir.Table) -> ir.Table:
    """Return customers, their share, and 365-day net spend and its share per tier (lazy).

    Parameters
    ----------
    tiered
        :func:`assign_tiers` output (``tier``, ``net_revenue_365d``).

    Returns
    -------
    ibis.Table
        ``tier``, ``customers``, ``share``, ``net_revenue_365d``, ``revenue_share`` (tiers
        without customers are absent; order and label them with :class:`TierRules`).
    """
    require_columns(tiered.columns, ("tier", "net_revenue_365d"), owner="tier_summary")
    counts = tiered.group_by("tier").aggregate(
        customers=ibis._.count(), net_revenue_365d=tiered.net_revenue_365d.fill_null(0).sum())
    total = counts.net_revenue_365d.sum()
    return counts.mutate(share=counts.customers / counts.customers.sum(),
                         revenue_share=(total == 0).ifelse(ibis.null("float64"),
                                                           counts.net_revenue_365d / total))
