"""The RFM report: scores, named segments, groups, migration and loyalty tiers for one ``as_of``.

:func:`run_rfm` builds one lazy expression per customer (facts -> scores -> segment, plus the
rule-based groups and the tier projection from all-history facts), executes it once into a
customer-sized frame without personal data, and aggregates that frame into the segment,
heat-map and tier tables. With ``compare_days`` it also counts how customers moved between
segments since ``as_of - compare_days``. Data problems come back as a status; only caller
mistakes raise. The result holds numbers, the rules and the labels of its rows; its sentences
(the takeaway, the summary, the headline) are written when they are read, in the reader's
language.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import plotly.graph_objects as go

from workbench.data.people import masked_contacts
from workbench.data.snapshot import SnapshotPart, snapshot_for
from workbench.errors import ParameterError
from workbench.features import facts_for
from workbench.i18n import format_date, format_number, format_percent, tr
from workbench.kpi.headline import headline_item
from workbench.kpi.queries import empty_frame, fetch, order_dates
from workbench.results import Readable, ResultMixin, Status
from workbench.rfm.migration import (
    NOT_YET_CUSTOMER,
    OUT_OF_WINDOW,
    migration_counts,
    order_migration,
    segmented_facts,
    store_segments,
)
from workbench.rfm.params import RfmParams
from workbench.rfm.segments import (
    SegmentRules,
    customer_groups,
    load_segment_rules,
    rf_grid,
    segment_summary,
)
from workbench.rfm.tiers import (
    TierRules,
    leaving_totals,
    load_tier_rules,
    tier_movers,
    tier_projection,
    tier_summary,
)
from workbench.settings import Settings, load_settings
from workbench.viz.rfm import (
    empty_scores,
    migration_sankey,
    rf_heatmap_figure,
    segment_treemap,
    tier_figure,
)

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CUSTOMER_COLUMNS", "RfmResult", "run_rfm", "segment_members"]

#: Columns of :attr:`RfmResult.customers` (no personal data).
CUSTOMER_COLUMNS = ("customer_id", "r_score", "f_score", "m_score", "rfm_cell", "segment",
                    "is_vip", "is_first_time", "is_dormant", "tier", "next_tier", "net_revenue",
                    "orders", "recency_days", "net_revenue_365d", "orders_365d")
SEGMENT_COLUMNS = ("segment", "label", "customers", "share", "net_revenue", "revenue_share",
                   "avg_value", "avg_orders", "avg_recency_days", "description", "action")
GROUP_COLUMNS = ("group", "label", "customers", "share", "net_revenue", "revenue_share")
HEATMAP_COLUMNS = ("r_score", "f_score", "customers", "avg_monetary", "avg_orders")
MIGRATION_COLUMNS = ("from_segment", "to_segment", "from_label", "to_label", "customers")
TIER_COLUMNS = ("tier", "label", "customers", "share", "net_revenue_365d", "revenue_share",
                "moving_up", "moving_down")
MOVER_COLUMNS = ("tier", "next_tier", "tier_label", "next_tier_label", "direction",
                 "customers")
MEMBER_COLUMNS = ("customer_id", "name", "phone", "segment", "segment_label", "tier",
                  "tier_label", "net_revenue", "orders", "recency_days", "is_vip", "reason")
#: Defaults of the rule-based groups (PRODUCT_NOTES 1.2 and 3).
VIP_MIN_ORDERS, VIP_WINDOW_DAYS, DORMANT_DAYS = 3, 90, 90


@dataclass(frozen=True, slots=True, eq=False)
class RfmResult(Readable, ResultMixin):
    """RFM segments, groups, migration and loyalty tiers of the customers as of a date.

    Parameters
    ----------
    as_of
        Reference date (exclusive).
    currency, language
        Currency of money values, and the language of the labels in the frames and the
        default language of :attr:`message`, :meth:`summary` and :meth:`headline`.
    bins, method, lookback_days
        Scoring parameters (``lookback_days`` 0: all history).
    compare_as_of
        The earlier date of :attr:`migration`, or ``None`` without migration.
    customers
        One row per customer with a net order (in the lookback): :data:`CUSTOMER_COLUMNS`.
        Groups and tiers use all history (365-day totals), whatever the lookback.
    segments
        One row per segment rule, in rule order (also segments without customers):
        ``segment``, ``label``, ``customers``, ``share``, ``net_revenue``, ``revenue_share``,
        ``avg_value`` (net revenue per customer), ``avg_orders``, ``avg_recency_days``,
        ``description``, ``action``.
    groups
        ``is_vip``, ``is_first_time``, ``is_dormant``: customers, share, revenue.
    rf_heatmap
        One row per (``r_score``, ``f_score``) cell of 1..bins: ``customers`` (0 when empty),
        ``avg_monetary`` (mean net revenue; NaN when empty), ``avg_orders``.
    migration
        Customers per (``from_segment``, ``to_segment``) with labels; empty without
        ``compare_as_of``.
    tiers
        One row per tier, highest first: customers, share, 365-day spend and its share, and how
        many move up or down next month at the current pace.
    tier_movers
        Customers per (``tier``, ``next_tier``) with ``direction`` (``up``, ``down``,
        ``same``).
    rules, tier_rules
        The segment and tier rules the result was built with (names, descriptions and
        actions in every language).
    status
        ``OK``, or ``NO_DATA`` when no customer has a net order before ``as_of`` (in the
        lookback).
    order_dates
        For ``NO_DATA``: first and last day of the store's orders (``None``: no orders).

    Notes
    -----
    ``eq=False``: results hold DataFrames, so they compare by identity.
    """

    as_of: date
    currency: str
    language: str
    bins: int
    method: str
    lookback_days: int
    compare_as_of: date | None
    customers: pd.DataFrame
    segments: pd.DataFrame
    groups: pd.DataFrame
    rf_heatmap: pd.DataFrame
    migration: pd.DataFrame
    tiers: pd.DataFrame
    tier_movers: pd.DataFrame
    rules: SegmentRules
    tier_rules: TierRules
    status: Status = Status.OK
    order_dates: tuple[date, date] | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return the segment table (one row per segment)."""
        return self.segments.copy()

    def previous_counts(self) -> pd.Series:
        """Return customers per segment at :attr:`compare_as_of` (empty without migration)."""
        before = self.migration[self.migration["from_segment"] != NOT_YET_CUSTOMER]
        return before.groupby("from_segment")["customers"].sum()

    # ------------------------------------------------------------------------------ words
    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway: the segment with most revenue and the VIPs (or the problem)."""
        lang = language or self.language
        if not self.ok:
            return self._no_data_message(lang)
        top = self.segments.loc[self.segments["net_revenue"].idxmax()]
        text = tr("rfm.message.headline", language=lang,
                  label=self.rules.label(top["segment"], lang),
                  share=format_percent(top["share"], language=lang),
                  revenue_share=format_percent(top["revenue_share"], language=lang))
        vips = int(self.customers["is_vip"].sum())
        vip = tr("rfm.message.vip", language=lang, count=format_number(vips, language=lang),
                 orders=VIP_MIN_ORDERS, days=VIP_WINDOW_DAYS,
                 share=format_percent(vips / len(self.customers), language=lang))
        return f"{text} {vip}"

    def _no_data_message(self, language: str) -> str:
        if self.order_dates is None:
            return tr("rfm.message.no_data", language=language)
        first, last = self.order_dates
        fields = {"as_of": format_date(self.as_of, language=language),
                  "first": format_date(first, language=language),
                  "last": format_date(last, language=language)}
        if self.lookback_days:
            return tr("rfm.message.no_orders_window", language=language,
                      days=self.lookback_days, **fields)
        return tr("rfm.message.no_orders_before", language=language, **fields)

    def headline(self, language: str | None = None) -> list[dict[str, Any]]:
        """Return the three segments with the most revenue: customers and change, formatted.

        Each item has ``metric`` (``segment.<id>``), ``label``, ``value`` (customers),
        ``change`` (relative change since :attr:`compare_as_of`, empty without it),
        ``change_pct`` (NaN without it) and ``direction`` (``up``, ``down`` or ``flat``).
        """
        if not self.ok:
            return []
        lang = language or self.language
        previous = self.previous_counts()
        top = self.segments[self.segments["customers"] > 0].sort_values(
            "net_revenue", ascending=False, kind="stable").head(3)
        return [headline_item(
            f"segment.{row.segment}",
            tr("rfm.headline.segment", language=lang, label=self.rules.label(row.segment, lang)),
            row.customers, float(previous.get(row.segment, 0)) if self.compare_as_of else None,
            "count", currency=self.currency, language=lang) for row in top.itertuples()]

    def summary(self, language: str | None = None) -> str:
        """Return a plain-text summary: takeaway, then one line per segment."""
        lang = language or self.language
        if not self.ok:
            return self.message_in(lang)
        lines = [self.message_in(lang)]
        for row in self.segments[self.segments["customers"] > 0].itertuples():
            lines.append(f"- {self.rules.label(row.segment, lang)}: "
                         f"{format_number(row.customers, language=lang)}"
                         f" ({format_percent(row.share, language=lang)}), "
                         f"{format_percent(row.revenue_share, language=lang)} · "
                         f"{self.rules.action(row.segment, lang)}")
        return "\n".join(lines)

    def heatmap_note_in(self, language: str | None = None) -> str:
        """Return why a recency or frequency score has no customers ("" when all are used).

        The heat map leaves such a score out (:func:`workbench.viz.rfm.empty_scores`); this
        sentence, shown under it, says which and why. With quantile scores the usual cause is
        a tie: customers with equal order counts share a score, so when one-time buyers are
        more than a fifth of the customers the score after theirs is skipped.
        """
        if not self.ok:
            return ""
        lang = language or self.language
        notes = [self._empty_score_note(column, score, lang)
                 for column in ("r_score", "f_score")
                 for score in empty_scores(self.rf_heatmap, column, self.bins)]
        return " ".join(notes)

    def _empty_score_note(self, column: str, score: int, language: str) -> str:
        c = self.customers
        axis = tr(f"rfm.heatmap_note.axis.{column}", language=language)
        below, above = c[c[column] < score], c[c[column] > score]
        if column != "f_score" or self.method != "quantile" or below.empty or above.empty:
            return tr("rfm.heatmap_note.empty", language=language, axis=axis, score=score)
        low = int(below[column].max())
        block = below[below[column] == low]
        fewest, most = int(block["orders"].min()), int(block["orders"].max())
        orders = (format_number(fewest, language=language) if fewest == most else
                  f"{format_number(fewest, language=language)}–"
                  f"{format_number(most, language=language)}")
        high = int(above[column].min())
        return tr("rfm.heatmap_note.tied", language=language, axis=axis, score=score,
                  count=format_number(len(block), language=language),
                  share=format_percent(len(block) / len(c), language=language), orders=orders,
                  low=low, high=high, bins=self.bins,
                  next_orders=format_number(above.loc[above[column] == high, "orders"].min(),
                                            language=language))

    # ------------------------------------------------------------------------------ figures
    def figure_treemap(self) -> go.Figure:
        """Return a new treemap of segments (size: customers, colour: revenue share)."""
        return segment_treemap(self.segments, currency=self.currency, language=self.language)

    def figure_heatmap(self) -> go.Figure:
        """Return a new R x F heat map of average net revenue."""
        return rf_heatmap_figure(self.rf_heatmap, bins=self.bins, currency=self.currency,
                                 language=self.language)

    def figure_migration(self) -> go.Figure:
        """Return a new Sankey of segment migration since :attr:`compare_as_of`."""
        return migration_sankey(self.migration, from_as_of=self.compare_as_of or self.as_of,
                                to_as_of=self.as_of, language=self.language)

    def figure_tiers(self) -> go.Figure:
        """Return a new chart of tier shares and next month's movers."""
        return tier_figure(self.tiers, self.tier_movers, language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the segment treemap."""
        return self.figure_treemap()


# ---------------------------------------------------------------------------------- computing
def run_rfm(con: BaseBackend, params: RfmParams, *, settings: Settings | None = None,
            rules: SegmentRules | None = None,
            tier_rules: TierRules | None = None) -> RfmResult:
    """Compute RFM segments, groups, migration and tiers for ``params.as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    params
        ``as_of`` (required), ``language``, ``lookback_days``, ``bins``, ``method``,
        ``compare_days``.
    settings
        Time zone, currency and default language; default: ``workbench.toml``.
    rules, tier_rules
        Segment and tier rules; default: the shipped ones (:func:`load_segment_rules`,
        :func:`load_tier_rules`).

    Returns
    -------
    RfmResult
        ``status`` is ``NO_DATA`` when no customer has a net order before ``as_of`` (in the
        lookback); the result then holds the date range of the store's orders, which its
        message names.

    Raises
    ------
    ParameterError
        ``params`` is not an :class:`RfmParams` or has no ``as_of``.
    """
    _check(params)
    settings = settings or load_settings()
    language = params.language or settings.language
    compare = (params.as_of - timedelta(days=int(params.compare_days))
               if params.compare_days else None)
    shipped_rules = rules is None and tier_rules is None
    rules = rules if rules is not None else load_segment_rules()
    tier_rules = tier_rules if tier_rules is not None else load_tier_rules()
    base = {"as_of": params.as_of, "currency": settings.currency, "language": language,
            "bins": int(params.bins), "method": params.method,
            "lookback_days": int(params.lookback_days), "compare_as_of": compare,
            "rules": rules, "tier_rules": tier_rules}
    if "orders" not in con.list_tables():
        return _no_data(base)
    customers = _from_snapshot(con, params) if shipped_rules else None
    before_frame = None
    if customers is None:
        after, expr = _customer_expr(con, params, settings, rules, tier_rules)
        customers = fetch(expr)
    else:  # dashboards open on the snapshot's date: no scan of the orders
        after = ibis.memtable(customers.loc[:, ["customer_id", "segment"]])
        previous = customers.pop("previous_segment") if (
            "previous_segment" in customers.columns) else None
        if previous is not None and int(params.compare_days) == int(
                RfmParams().compare_days):
            known = previous.notna()
            before_frame = pd.DataFrame({"customer_id": customers.loc[known, "customer_id"],
                                         "segment": previous[known]})
    if customers.empty:  # the message names the days the store's orders cover
        return _no_data(base, order_dates(con.table("orders"), settings.timezone))
    customers = customers.sort_values("customer_id", kind="stable").reset_index(drop=True)
    table = ibis.memtable(customers)
    movers = _movers_frame(fetch(tier_movers(table, tier_rules)), tier_rules, language)
    migration = (_migration_frame(con, after, compare, params, settings, rules, language,
                                  before=before_frame)
                 if compare else empty_frame(MIGRATION_COLUMNS))
    return RfmResult(
        **base, customers=customers,
        segments=_segments_frame(fetch(segment_summary(table)), rules, language),
        groups=_groups_frame(customers, language),
        rf_heatmap=_heatmap_frame(fetch(rf_grid(table)), int(params.bins)),
        migration=migration,
        tiers=_tiers_frame(fetch(tier_summary(table)), movers, tier_rules, language),
        tier_movers=movers)


#: Columns of the RFM part of the per-customer snapshot (``snapshot_customers``).
SNAPSHOT_COLUMNS = ("customer_id", "r_score", "f_score", "m_score", "rfm_cell", "segment",
                    "is_vip", "is_first_time", "is_dormant", "tier", "next_tier", "recency_days")


def rfm_snapshot(con: BaseBackend, *, as_of: date, settings: Settings) -> Any:
    """Return the RFM columns of the per-customer snapshot, default parameters (lazy).

    Scores use all history, 5 bins by quantile, the shipped segment and tier rules: what a
    dashboard shows when it opens on the snapshot's date (see :func:`workbench.snapshot.refresh`).
    """
    params = RfmParams(as_of=as_of)
    rules = load_segment_rules()
    _, expr = _customer_expr(con, params, settings, rules, load_tier_rules())
    # The segment ``compare_days`` earlier, so a dashboard draws the migration from the
    # snapshot too (all-history facts only grow: everyone then is a customer now).
    compare = as_of - timedelta(days=int(params.compare_days))
    before = store_segments(con, compare, settings=settings, rules=rules)
    before = before.select("customer_id", previous_segment=before.segment)
    out = expr.left_join(before, "customer_id")
    return out.select(*SNAPSHOT_COLUMNS, "previous_segment")


#: The RFM columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("rfm", (*SNAPSHOT_COLUMNS[1:], "previous_segment"), rfm_snapshot)


def _from_snapshot(con: Any, params: RfmParams) -> pd.DataFrame | None:
    """Return the result's customers read from the snapshot, or ``None`` when it does not fit.

    It fits when the snapshot was taken for ``params.as_of`` with the default parameters.
    """
    if (int(params.bins), params.method, int(params.lookback_days)) != (5, "quantile", 0):
        return None
    snap = snapshot_for(con, params.as_of, CUSTOMER_COLUMNS)
    if snap is None:
        return None
    extra = ["previous_segment"] if "previous_segment" in snap.columns else []
    frame = fetch(snap.filter(snap.segment.notnull()).select(*CUSTOMER_COLUMNS, *extra))
    if frame.empty:
        return None
    return frame.astype({c: "int8" for c in ("r_score", "f_score", "m_score")})


def _check(params: Any) -> None:
    if not isinstance(params, RfmParams):
        raise ParameterError(tr("rfm.error.params_type", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("rfm.error.as_of_required"))


def _customer_expr(con: Any, params: RfmParams, settings: Settings, rules: SegmentRules,
                   tier_rules: TierRules) -> tuple[Any, Any]:
    """Return the segmented facts and the lazy per-customer expression of the result."""
    lookback = int(params.lookback_days) or None
    facts = facts_for(con, params.as_of, settings=settings, lookback_days=lookback)
    segmented = segmented_facts(facts, rules, bins=int(params.bins), method=params.method)
    # Groups ("first-time", "dormant") and tiers (365-day spend) are about the customer's whole
    # history, so they come from all-history facts even when the scores use a lookback.
    full = facts if lookback is None else facts_for(con, params.as_of, settings=settings)
    groups = customer_groups(full, vip_min_orders=VIP_MIN_ORDERS,
                             vip_window_days=VIP_WINDOW_DAYS, dormant_days=DORMANT_DAYS)
    leaving = leaving_totals(con.table("orders"), as_of=params.as_of,
                             timezone=settings.timezone)
    projection = tier_projection(full, leaving, tier_rules)
    extra = groups.select("customer_id", "is_vip", "is_first_time", "is_dormant").join(
        projection.select("customer_id", "tier", "next_tier", "net_revenue_365d",
                          "orders_365d"), "customer_id")
    scores = segmented.select("customer_id", "r_score", "f_score", "m_score", "rfm_cell",
                              "segment", "net_revenue", "orders", "recency_days")
    return segmented, scores.join(extra, "customer_id").select(*CUSTOMER_COLUMNS)


def _no_data(base: dict[str, Any], dates: tuple[date, date] | None = None) -> RfmResult:
    return RfmResult(
        **base, customers=empty_frame(CUSTOMER_COLUMNS), segments=empty_frame(SEGMENT_COLUMNS),
        groups=empty_frame(GROUP_COLUMNS), rf_heatmap=empty_frame(HEATMAP_COLUMNS),
        migration=empty_frame(MIGRATION_COLUMNS), tiers=empty_frame(TIER_COLUMNS),
        tier_movers=empty_frame(MOVER_COLUMNS), status=Status.NO_DATA, order_dates=dates)


def _segments_frame(summary: pd.DataFrame, rules: SegmentRules, language: str) -> pd.DataFrame:
    frame = summary.set_index("segment").reindex(list(rules.ids))
    frame.index.name = "segment"
    frame = frame.reset_index()
    for col in ("customers",):
        frame[col] = frame[col].fillna(0).astype("int64")
    for col in ("share", "net_revenue"):
        frame[col] = frame[col].astype("float64").fillna(0.0)
    frame["label"] = [rules.label(s, language) for s in frame["segment"]]
    frame["description"] = [rules.description(s, language) for s in frame["segment"]]
    frame["action"] = [rules.action(s, language) for s in frame["segment"]]
    return frame.loc[:, list(SEGMENT_COLUMNS)]


def _groups_frame(customers: pd.DataFrame, language: str) -> pd.DataFrame:
    total_rev = float(customers["net_revenue"].sum())
    fields = {"is_vip": {"orders": VIP_MIN_ORDERS, "days": VIP_WINDOW_DAYS},
              "is_first_time": {}, "is_dormant": {"days": DORMANT_DAYS}}
    rows = []
    for group, extra in fields.items():
        members = customers[customers[group].astype(bool)]
        revenue = float(members["net_revenue"].sum())
        rows.append({"group": group, "label": tr(f"rfm.group.{group}", language=language, **extra),
                     "customers": len(members), "share": len(members) / len(customers),
                     "net_revenue": revenue,
                     "revenue_share": revenue / total_rev if total_rev else math.nan})
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS))


def _heatmap_frame(grid: pd.DataFrame, bins: int) -> pd.DataFrame:
    cells = pd.MultiIndex.from_product([range(1, bins + 1)] * 2, names=["r_score", "f_score"])
    grid = grid.astype({"r_score": "int64", "f_score": "int64"})
    frame = grid.set_index(["r_score", "f_score"]).reindex(cells).reset_index()
    frame["customers"] = frame["customers"].fillna(0).astype("int64")
    return frame.loc[:, list(HEATMAP_COLUMNS)]


def _segment_label(segment: str, rules: SegmentRules, language: str) -> str:
    if segment in (NOT_YET_CUSTOMER, OUT_OF_WINDOW):
        return tr(f"rfm.segment.{segment}", language=language)
    return rules.label(segment, language)


def _migration_frame(con: Any, after: Any, compare: date, params: RfmParams,
                     settings: Settings, rules: SegmentRules, language: str, *,
                     before: pd.DataFrame | None = None) -> pd.DataFrame:
    if before is not None:  # segments at ``compare`` read from the snapshot
        before = ibis.memtable(before)
    else:
        before = store_segments(con, compare, settings=settings, rules=rules,
                                bins=int(params.bins), method=params.method,
                                lookback_days=int(params.lookback_days))
    frame = order_migration(fetch(migration_counts(before, after)), rules)
    frame["from_label"] = [_segment_label(s, rules, language) for s in frame["from_segment"]]
    frame["to_label"] = [_segment_label(s, rules, language) for s in frame["to_segment"]]
    frame["customers"] = frame["customers"].astype("int64")
    return frame.loc[:, list(MIGRATION_COLUMNS)]


def _movers_frame(movers: pd.DataFrame, rules: TierRules, language: str) -> pd.DataFrame:
    rank = {t: i for i, t in enumerate(rules.ids)}
    frame = movers.assign(_a=movers["tier"].map(rank), _b=movers["next_tier"].map(rank))
    frame = frame.sort_values(["_a", "_b"], kind="stable").reset_index(drop=True)
    frame["tier_label"] = [rules.label(t, language) for t in frame["tier"]]
    frame["next_tier_label"] = [rules.label(t, language) for t in frame["next_tier"]]
    frame["customers"] = frame["customers"].astype("int64")
    return frame.loc[:, list(MOVER_COLUMNS)]


def _tiers_frame(summary: pd.DataFrame, movers: pd.DataFrame, rules: TierRules,
                 language: str) -> pd.DataFrame:
    frame = summary.set_index("tier").reindex(list(rules.ids))
    frame.index.name = "tier"
    frame = frame.reset_index()
    frame["customers"] = frame["customers"].fillna(0).astype("int64")
    for col in ("share", "net_revenue_365d"):
        frame[col] = frame[col].astype("float64").fillna(0.0)
    frame["label"] = [rules.label(t, language) for t in frame["tier"]]
    for direction in ("up", "down"):
        moving = movers[movers["direction"] == direction].groupby("tier")["customers"].sum()
        frame[f"moving_{direction}"] = [int(moving.get(t, 0)) for t in frame["tier"]]
    return frame.loc[:, list(TIER_COLUMNS)]


# ------------------------------------------------------------------------------------- members
def segment_members(source: RfmResult | BaseBackend, segment: str | None = None, *,
                    limit: int = 50, language: str | None = None, con: Any = None,
                    params: RfmParams | None = None,
                    settings: Settings | None = None) -> pd.DataFrame:
    """Return the customers of one segment, highest net revenue first, with masked contacts.

    Parameters
    ----------
    source
        An :class:`RfmResult`, or a store connection (then ``params`` is required and
        :func:`run_rfm` runs first).
    segment
        Segment id; ``None`` or ``""``: the segment with the most customers.
    limit
        At most this many customers.
    language
        Language of labels and reasons; default: the result's.
    con
        Store connection to read names and phones from when ``source`` is a result; without
        one, ``name`` and ``phone`` are empty.
    params, settings
        Used when ``source`` is a connection.

    Returns
    -------
    pandas.DataFrame
        :data:`MEMBER_COLUMNS`; ``name`` and ``phone`` are masked (홍*동, 010-****-5678) and
        ``reason`` is the segment's description.

    Raises
    ------
    ParameterError
        Unknown segment, ``limit`` below 1, or a connection without ``params``.
    """
    if isinstance(source, RfmResult):
        result = source
    else:
        if params is None:
            raise ParameterError(tr("rfm.error.members_params"))
        con, result = source, run_rfm(source, params, settings=settings)
    if int(limit) < 1:
        raise ParameterError(tr("rfm.error.members_limit", got=repr(limit)))
    if not result.ok:
        return empty_frame(MEMBER_COLUMNS)
    language = language or result.language
    segments = result.segments.set_index("segment")
    segment = segment or str(segments["customers"].idxmax())
    if segment not in segments.index:
        close = difflib.get_close_matches(segment, list(segments.index), n=1)
        hint = tr("rfm.error.did_you_mean", suggestion=repr(close[0])) if close else ""
        raise ParameterError(tr("rfm.error.members_segment", got=repr(segment),
                                known=list(segments.index), hint=hint))
    members = (result.customers[result.customers["segment"] == segment]
               .sort_values(["net_revenue", "customer_id"], ascending=[False, True],
                            kind="stable").head(int(limit)).reset_index(drop=True))
    contacts = masked_contacts(con, list(members["customer_id"]))
    members["name"], members["phone"] = contacts["name"], contacts["phone"]
    rules, tiers = result.rules, result.tier_rules
    members["segment_label"] = [rules.label(s, language) for s in members["segment"]]
    members["tier_label"] = [tiers.label(t, language) for t in members["tier"]]
    members["reason"] = [rules.description(s, language) for s in members["segment"]]
    return members.astype({"name": object, "phone": object}).loc[:, list(MEMBER_COLUMNS)]


