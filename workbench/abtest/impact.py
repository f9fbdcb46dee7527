"""Campaign impact: every campaign's arms against their holdouts, rolled up by channel and month.

:func:`campaign_impact` answers "what did CRM add?" for all campaigns at once. A few grouped
queries do the work in the backend, never one readout per campaign:

0. the campaigns that started before ``as_of`` (one small query);
1. the coupon codes of each campaign, inferred as :func:`workbench.abtest.infer_coupon_codes`
   does for one (codes the treated arms used in the window and the holdout practically never);
2. one row per (campaign, arm) of sufficient statistics: customers, converters, orders,
   revenue, revenue before the campaign's coupons (sums and sums of squares), coupon
   discounts, and from ``messages`` the messages attempted, delivered (status is not
   ``failed``), opened, clicked and opted out, over the attribution window
   ``[started_at, started_at + window_days)`` cut at ``as_of``;
3. for the headline, the customers and the 30-day buyers (or, with a global holdout, its
   readouts over the last 30 and 7 days through
   :func:`workbench.abtest.holdout.global_holdout_readouts`, the function behind
   :func:`workbench.abtest.run_global_holdout`, plus the cost of the messages delivered).

Two more figures come with the headline: with a global holdout its incremental margin is
``gross_margin x incremental net revenue - message cost`` (net revenue already counts the
discounts; campaign coupons are not separated out of it here). Without one the page says how
to set one and the smallest rise in 30-day buyers a 5% holdout of this shop could detect
(:func:`workbench.abtest.minimum_detectable_effect`, 80% power, 5% two-sided).

Each treated arm is then read against its holdout with :func:`workbench.abtest.campaign_roi`,
the function behind the A/B readout's ROI table, on the same sums, so the numbers agree with
:func:`workbench.abtest.run_abtest` for the same campaign and window (tested). Incremental
orders are ``n_t (orders_t - orders_h)`` with Welch's interval, scaled as in ``roi.py``.

Roll-ups (by channel, by month of the start, and the total) add the incremental figures.
Their intervals come from summed variances, assuming campaigns are independent: the variance
of one campaign's total over its treated arms ``k`` against the shared holdout ``h`` is
``sum_k n_k s_k^2 + (sum_k n_k)^2 s_h^2 / n_h`` (the holdout's mean is subtracted once per
treated customer), and the interval is ``sum +- z_(1-alpha/2) sqrt(sum of variances)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
from babel.numbers import get_currency_precision
from scipy import stats as sps

from workbench.abtest.aggregate import ArmStatistics, arm_statistics
from workbench.abtest.analysis import AbTestResult
from workbench.abtest.frequentist import welch_ttest
from workbench.abtest.holdout import global_holdout_readouts
from workbench.abtest.impact_words import headline_sentence, week_tile
from workbench.abtest.power import minimum_detectable_effect
from workbench.abtest.roi import campaign_roi
from workbench.abtest.stats import HOLDOUT, LEGACY_SEND, SEND, MeanStats
from workbench.data.schema import NET_STATUSES
from workbench.dates import cutoff
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.params import NotebookParams, param
from workbench.results import Readable, ResultMixin, Status
from workbench.settings import Settings, load_settings
from workbench.viz.impact import rollup_figure

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from ibis.backends import BaseBackend

__all__ = ["CAMPAIGN_COLUMNS", "ROLLUP_COLUMNS", "CampaignImpactResult", "CampaignsParams",
           "campaign_impact", "run_campaigns"]

#: Columns of :attr:`CampaignImpactResult.campaigns` (one row per campaign and treated arm).
CAMPAIGN_COLUMNS = (
    "campaign_id", "name", "channel", "start", "month", "variant", "holdout", "n_treated",
    "n_holdout", "sent", "delivered", "opened", "clicked", "ordered", "opted_out",
    "opt_out_rate", "incremental_buyers", "incremental_buyers_low", "incremental_buyers_high",
    "incremental_orders", "incremental_orders_low", "incremental_orders_high",
    "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high",
    "message_cost", "coupon_cost", "cost", "cost_per_incremental_order", "margin_base",
    "incremental_margin", "incremental_margin_low", "incremental_margin_high", "roi",
    "roi_low", "roi_high", "status")
#: Columns of the channel and month roll-ups (``key`` is the channel or ``YYYY-MM``).
ROLLUP_COLUMNS = (
    "key", "campaigns", "sent", "delivered", "opened", "clicked", "ordered", "opted_out",
    "opt_out_rate", "incremental_orders", "incremental_orders_low", "incremental_orders_high",
    "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high", "cost",
    "cost_per_incremental_order", "incremental_margin", "incremental_margin_low",
    "incremental_margin_high", "roi")
#: Days the headline looks back over (what CRM added "this month").
HEADLINE_DAYS = 30
#: Days of the weekly report's "CRM impact" tile.
WEEK_DAYS = 7
#: The global holdout share the page suggests when none is set.
SUGGESTED_SHARE = 0.05
_FIGURES = ("incremental_orders", "incremental_revenue", "incremental_margin")


@dataclass(frozen=True, slots=True)
class CampaignsParams(NotebookParams):
    """Parameters of the campaigns page (``notebooks/campaigns.ipynb``).

    Parameters
    ----------
    window_days
        Attribution window after each campaign's start, in days (as in the A/B readout).
    alpha
        Intervals are ``1 - alpha``.
    """

    window_days: int = param(14, low=1, high=365)
    alpha: float = param(0.05, low=0.001, high=0.2)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A summed incremental figure with its interval (``low``, ``high``) and variance."""

    value: float
    variance: float
    low: float
    high: float

    @classmethod
    def of(cls, value: float, variance: float, alpha: float) -> Estimate:
        """Return the estimate with the normal interval ``value +- z sqrt(variance)``."""
        half = float(sps.norm.ppf(1 - alpha / 2)) * math.sqrt(max(variance, 0.0))
        return cls(value, variance, value - half, value + half)


@dataclass(frozen=True, slots=True)
class Headline:
    """What the page leads with: the global holdout's readout, or how to set one up.

    ``kind`` is ``global`` (a global holdout is set: incremental orders, revenue and margin of
    everyone outside it over the last ``days`` days), ``setup`` (none is set: ``customers``,
    their 30-day ``baseline_rate`` and the ``mde`` a ``share`` holdout would detect) or
    ``none`` (no customers).
    """

    kind: str
    days: int = HEADLINE_DAYS
    share: float = SUGGESTED_SHARE
    n_holdout: int = 0
    n_crm: int = 0
    orders: Estimate | None = None
    revenue: Estimate | None = None
    margin: Estimate | None = None
    message_cost: float = 0.0
    customers: int = 0
    baseline_rate: float = math.nan
    mde: float = math.nan
    status: str = "ok"


@dataclass(frozen=True, eq=False)
class CampaignImpactResult(Readable, ResultMixin):
    """Campaign impact: per campaign and arm, roll-ups by channel and month, and the headline.

    Parameters
    ----------
    as_of, window_days, alpha
        Period end (exclusive), attribution window and ``1 -`` interval level.
    campaigns
        One row per campaign and treated arm with a holdout (:data:`CAMPAIGN_COLUMNS`).
    by_channel, by_month
        Roll-ups (:data:`ROLLUP_COLUMNS`); ``total`` is the one-row roll-up of everything.
    lead
        The global holdout's readout or the set-up advice (:class:`Headline`).
    week
        Incremental margin of the week before ``as_of`` (the report's tile) and its ``source``:
        ``global`` or ``campaigns`` (those whose window overlaps the week); ``None``: no holdout.
    """

    as_of: date
    window_days: int
    alpha: float
    margin_rate: float
    currency: str
    language: str
    campaigns: pd.DataFrame
    by_channel: pd.DataFrame
    by_month: pd.DataFrame
    total: pd.DataFrame
    lead: Headline
    week: tuple[str, Estimate] | None = None
    without_holdout: tuple[str, ...] = ()
    status: Status = Status.OK
    extra: dict[str, Any] = field(default_factory=dict)

    def message_in(self, language: str | None = None) -> str:
        """Return the headline sentence in ``language`` (default: the result's)."""
        return headline_sentence(self, language or self.language)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per campaign and treated arm (:data:`CAMPAIGN_COLUMNS`)."""
        return self.campaigns.copy()

    def figure(self, by: str = "channel") -> go.Figure:
        """Return a bar chart of incremental margin by ``channel`` or ``month`` with intervals."""
        frame = self.by_channel if by == "channel" else self.by_month
        return rollup_figure(frame, by=by, currency=self.currency, language=self.language,
                             level=1 - self.alpha)

    def headline(self) -> list[dict[str, Any]]:
        """Return the weekly report's "CRM impact" tile (empty without a holdout)."""
        return week_tile(self)


# ---------------------------------------------------------------------------- queries


def _campaign_rows(con: BaseBackend, end: pd.Timestamp, tz: str) -> pd.DataFrame:
    c = con.table("campaigns")
    cols = [x for x in ("campaign_id", "name", "channel", "started_at", "cost_per_message")
            if x in c.columns]
    c = c.filter(c.started_at.notnull(), c.started_at < ibis.literal(end)).select(*cols)
    frame = c.to_pyarrow().to_pandas()
    for col in ("name", "channel"):
        if col not in frame:
            frame[col] = ""
    if "cost_per_message" not in frame:
        frame["cost_per_message"] = 0.0
    frame["campaign_id"] = frame["campaign_id"].astype(str)
    start = pd.to_datetime(frame["started_at"])
    # A naive value (a backend's timestamp without zone) is UTC, as in local_instant.
    start = (start.dt.tz_localize("UTC") if start.dt.tz is None else start).dt.tz_convert(tz)
    frame["started_at"] = start  # in the shop's zone: the month and the date shown
    frame["month"] = start.dt.strftime("%Y-%m")
    return frame


def _assigned(con: BaseBackend, end: pd.Timestamp, window_days: int) -> ibis.Table:
    """Return assignments with their campaign's window ``[t0, t1)`` (lazy)."""
    c = con.table("campaigns")
    c = c.filter(c.started_at.notnull(), c.started_at < ibis.literal(end)).select(
        cid=c.campaign_id, t0=c.started_at)
    a = con.table("assignments")
    a = a.join(c, a.campaign_id == c.cid).select(
        campaign_id=a.campaign_id.cast("string"), customer_id=a.customer_id,
        variant=a.variant.cast("string"), t0=c.t0)
    return a.mutate(t1=a.t0 + ibis.interval(days=int(window_days)))


def _window_orders(con: BaseBackend, a: ibis.Table, lo: pd.Timestamp) -> ibis.Table:
    """Return each assigned customer's orders in their campaign's window (lazy).

    One join of assignments and orders on the customer with the window in the join condition
    (as one would write it in SQL). Measured for 100,000 customers, 1M orders and 44 campaigns
    (2 cores under load): 1.8 s of CPU for the coupon and sums queries together; a range join
    of orders with the campaign windows first took 1.9 s for this join alone, and an equi-join
    on the day with the exact bounds after it 1.8 s as well, with a time-zone caveat.
    """
    o = con.table("orders")
    o = o.filter(o.customer_id.notnull(), o.ordered_at >= ibis.literal(lo))
    disc = o.discount if "discount" in o.columns else ibis.literal(0.0)
    code = o.coupon_code if "coupon_code" in o.columns else ibis.literal(None, type="string")
    o = o.select(oid=o.customer_id, ordered_at=o.ordered_at,
                 net=o.status.isin(list(NET_STATUSES)), amount=o.amount.cast("float64"),
                 disc=disc.cast("float64"), code=code)
    j = a.join(o, [a.customer_id == o.oid, o.ordered_at >= a.t0, o.ordered_at < a.t1])
    return j.select(ocid=j.campaign_id, oid=j.oid, ordered_at=j.ordered_at, net=j.net,
                    amount=j.amount, disc=j.disc, code=j.code)


def _coupon_codes(a: ibis.Table, ow: ibis.Table) -> pd.DataFrame:
    """Return ``campaign_id, coupon_code`` of each campaign's own codes (2 grouped queries).

    The rule of :func:`workbench.abtest.infer_coupon_codes`, for all campaigns at once: over
    the whole window (not cut at ``as_of``), a code is the campaign's when the holdout used it
    less than a fifth as often as the treated arms' rate predicts, and that prediction is 3 or
    more.
    """
    o = ow.filter(ow.code.notnull())
    j = a.join(o, [a.campaign_id == o.ocid, a.customer_id == o.oid])
    held = (j.variant == HOLDOUT).name("is_holdout")
    uses = j.group_by([j.campaign_id, held, j.code.name("coupon_code")]).aggregate(
        uses=j.count())
    uses = uses.to_pyarrow().to_pandas()
    sizes = a.group_by([a.campaign_id, (a.variant == HOLDOUT).name("is_holdout")]).aggregate(
        n=a.count()).to_pyarrow().to_pandas()
    if uses.empty:
        return pd.DataFrame({"campaign_id": [], "coupon_code": []})
    n = sizes.pivot_table(index="campaign_id", columns="is_holdout", values="n", fill_value=0)
    table = uses.pivot_table(index=["campaign_id", "coupon_code"], columns="is_holdout",
                             values="uses", aggfunc="sum", fill_value=0).reset_index()
    treated = table.get(False, pd.Series(0, index=table.index))
    held_uses = table.get(True, pd.Series(0, index=table.index))
    n_t = table["campaign_id"].map(n.get(False, pd.Series(dtype=float))).fillna(0)
    n_h = table["campaign_id"].map(n.get(True, pd.Series(dtype=float))).fillna(0)
    predicted = treated / n_t.where(n_t > 0) * n_h
    keep = (n_t > 0) & (n_h > 0) & (predicted >= 3) & (held_uses < predicted / 5)
    return table.loc[keep, ["campaign_id", "coupon_code"]].reset_index(drop=True)


def _arm_sums(con: BaseBackend, a: ibis.Table, ow: ibis.Table, codes: pd.DataFrame,
              end: pd.Timestamp) -> pd.DataFrame:
    """Return one row per (campaign, variant) of the sums :class:`ArmStatistics` reads."""
    cut = ibis.literal(end)
    j = ow.filter(ow.ordered_at < cut).rename(campaign_id="ocid", customer_id="oid")
    if len(codes):
        k = ibis.memtable(codes.rename(columns={"campaign_id": "kc", "coupon_code": "kcode"})
                          .assign(own=True))
        j = j.left_join(k, [j.campaign_id == k.kc, j.code == k.kcode])
        own = j.own.fill_null(False)
    else:
        own = ibis.literal(False)
    per = j.group_by(["campaign_id", "customer_id"]).aggregate(
        orders=j.count(where=j.net), revenue=j.amount.sum(where=j.net),
        coupon=j.disc.sum(where=j.net & own))
    out = a.left_join(per, [a.campaign_id == per.campaign_id, a.customer_id == per.customer_id])
    out = out.select(campaign_id=a.campaign_id, customer_id=a.customer_id, variant=a.variant,
                     t1=a.t1, orders=out.orders.fill_null(0).cast("float64"),
                     revenue=out.revenue.fill_null(0.0), coupon=out.coupon.fill_null(0.0))
    tables = con.list_tables()
    if "messages" in tables:
        m = con.table("messages")
        ok = (m.status.isnull() | (m.status != "failed")) if "status" in m.columns else (
            ibis.literal(True))

        def seen(col: str) -> Any:
            return (m[col].notnull() & (m[col] < cut)) if col in m.columns else ibis.literal(False)

        m = m.select(mc=m.campaign_id.cast("string"), mid=m.customer_id,
                     attempted=ibis.literal(1, type="int64"), ok=ok,
                     opened=seen("opened_at") & ok, clicked=seen("clicked_at") & ok,
                     unsub_at=(m.unsubscribed_at if "unsubscribed_at" in m.columns
                               else ibis.literal(None, type="timestamp")))
        out = out.left_join(m, [out.campaign_id == m.mc, out.customer_id == m.mid])
        unsub = (out.ok.fill_null(False) & out.unsub_at.notnull() & (out.unsub_at < out.t1)
                 & (out.unsub_at < cut))
        out = out.mutate(attempted=out.attempted.fill_null(0),
                         sent=out.ok.fill_null(False).cast("int64"),
                         opened=out.opened.fill_null(False).cast("int64"),
                         clicked=out.clicked.fill_null(False).cast("int64"),
                         unsubscribed=unsub.fill_null(False).cast("int64"))
    else:
        zero = ibis.literal(0, type="int64")
        out = out.mutate(attempted=zero, sent=zero, opened=zero, clicked=zero,
                         unsubscribed=zero)
    gross = out.revenue + out.coupon
    sums = out.group_by(["campaign_id", "variant"]).aggregate(
        n=out.count(), conversions=(out.orders > 0).cast("int64").sum(),
        sum_orders=out.orders.sum(), sum_orders_sq=(out.orders * out.orders).sum(),
        sum_revenue=out.revenue.sum(), sum_revenue_sq=(out.revenue * out.revenue).sum(),
        sum_gross=gross.sum(), sum_gross_sq=(gross * gross).sum(),
        sum_coupon=out.coupon.sum(), attempted=out.attempted.sum(), sent=out.sent.sum(),
        opened=out.opened.sum(), clicked=out.clicked.sum(),
        unsubscribed=out.unsubscribed.sum())
    frame = sums.to_pyarrow().to_pandas()
    frame["campaign_id"] = frame["campaign_id"].astype(str)
    frame["variant"] = frame["variant"].astype(str)
    return frame


# ---------------------------------------------------------------------------- statistics


def _scaled_variance(arms: list[ArmStatistics], base: ArmStatistics, metric: str) -> float:
    """Return the variance of ``sum_k n_k (mean_k - mean_h)`` over the treated arms ``k``."""
    def stats(s: ArmStatistics) -> MeanStats:
        if metric == "conversions":
            c = s.total("conversions")
            return MeanStats(s.n, c, c)
        return {"orders": s.orders, "revenue": s.revenue, "gross": s.gross}[metric]()

    treated = sum(s.n * stats(s).variance for s in arms)
    n_t = sum(s.n for s in arms)
    return treated + n_t * n_t * stats(base).variance / base.n


def _campaign_frame(rows: pd.DataFrame, sums: pd.DataFrame, settings: Settings, alpha: float
                    ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Return the per-arm table, per-campaign variances, and the campaigns without a holdout."""
    out, var_rows, missing = [], [], []
    digits = get_currency_precision(settings.currency)
    for camp in rows.itertuples():
        part = sums[sums["campaign_id"] == camp.campaign_id].copy()
        names = sorted(part["variant"])
        if names == sorted((HOLDOUT, LEGACY_SEND)):  # as the A/B readout reads them
            part["variant"] = part["variant"].replace({LEGACY_SEND: SEND})
        stats = arm_statistics(part)
        base = stats.get(HOLDOUT)
        # a holdout of one customer has no variance: no interval, so it cannot join a roll-up
        if base is None or base.n < 2 or base.total("sent") > 0:
            missing.append(camp.campaign_id)
            continue
        cpm = 0.0 if pd.isna(camp.cost_per_message) else float(camp.cost_per_message)
        treated = [s for v, s in sorted(stats.items()) if v != HOLDOUT
                   and s.total("sent") > 0 and s.n > 1]
        for s in treated:
            out.append(_arm_row(camp, s, base, cpm, settings, alpha, digits))
        if treated:
            var_rows.append({"campaign_id": camp.campaign_id, **{
                f"var_{m}": _scaled_variance(treated, base, m)
                for m in ("orders", "revenue", "gross")}})
    frame = pd.DataFrame(out, columns=list(CAMPAIGN_COLUMNS))
    return frame, pd.DataFrame(var_rows), tuple(missing)


def _arm_row(camp: Any, s: ArmStatistics, base: ArmStatistics, cpm: float, settings: Settings,
             alpha: float, digits: int) -> dict[str, Any]:
    names = (HOLDOUT, s.variant)
    roi = campaign_roi(s.conversion(), base.conversion(), s.revenue(), base.revenue(),
                       s.gross(), base.gross(), messages_sent=int(s.total("sent")),
                       cost_per_message=cpm, coupon_cost=s.total("sum_coupon"),
                       margin_rate=float(settings.gross_margin), alpha=alpha, names=names,
                       money_digits=digits)
    orders = welch_ttest(base.orders(), s.orders(), alpha=alpha, metric="orders", names=names)
    inc_orders = s.n * orders.effect
    delivered = s.total("sent")
    return {
        "campaign_id": camp.campaign_id, "name": camp.name, "channel": camp.channel,
        "start": camp.started_at, "month": camp.month, "variant": s.variant, "holdout": HOLDOUT,
        "n_treated": s.n, "n_holdout": base.n, "sent": int(s.total("attempted")),
        "delivered": int(delivered), "opened": int(s.total("opened")),
        "clicked": int(s.total("clicked")), "ordered": int(s.total("conversions")),
        "opted_out": int(s.total("unsubscribed")),
        "opt_out_rate": s.total("unsubscribed") / delivered if delivered else math.nan,
        "incremental_buyers": roi.incremental_conversions,
        "incremental_buyers_low": roi.incremental_conversions_ci[0],
        "incremental_buyers_high": roi.incremental_conversions_ci[1],
        "incremental_orders": inc_orders, "incremental_orders_low": s.n * orders.ci_low,
        "incremental_orders_high": s.n * orders.ci_high,
        "incremental_revenue": roi.incremental_revenue,
        "incremental_revenue_low": roi.incremental_revenue_ci[0],
        "incremental_revenue_high": roi.incremental_revenue_ci[1],
        "message_cost": roi.message_cost, "coupon_cost": roi.coupon_cost, "cost": roi.cost,
        "cost_per_incremental_order": roi.cost / inc_orders if inc_orders > 0 else math.nan,
        "margin_base": roi.margin_base, "incremental_margin": roi.incremental_margin,
        "incremental_margin_low": roi.incremental_margin_ci[0],
        "incremental_margin_high": roi.incremental_margin_ci[1], "roi": roi.roi,
        "roi_low": roi.roi_ci[0], "roi_high": roi.roi_ci[1], "status": str(roi.status)}


def rollup(campaigns: pd.DataFrame, variances: pd.DataFrame, by: str | None, *,
           margin_rate: float, alpha: float) -> pd.DataFrame:
    """Return sums of the incremental figures per ``by`` (``None``: one total row).

    Intervals come from summed variances of independent campaigns (module docstring); the
    margin's variance is ``margin_rate^2`` times the variance of revenue before coupons, as
    in :func:`workbench.abtest.campaign_roi` where the cost is known exactly.

    Examples
    --------
    >>> c = pd.DataFrame({"campaign_id": ["a", "b"], "channel": ["sms", "sms"],
    ...                   "incremental_orders": [3.0, 1.0], "incremental_revenue": [30.0, 10.0],
    ...                   "incremental_margin": [5.0, 1.0], "cost": [4.0, 2.0]})
    >>> v = pd.DataFrame({"campaign_id": ["a", "b"], "var_orders": [1.0, 3.0],
    ...                   "var_revenue": [9.0, 16.0], "var_gross": [100.0, 0.0]})
    >>> r = rollup(c, v, "channel", margin_rate=0.3, alpha=0.05)
    >>> r[["key", "incremental_orders", "incremental_revenue", "roi"]].values.tolist()
    [['sms', 4.0, 40.0, 1.0]]
    >>> round(float(r["incremental_orders_high"].iloc[0] - 4), 3)  # 1.96 x sqrt(1 + 3)
    3.92
    """
    if campaigns.empty:
        return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
    frame = campaigns.merge(variances, on="campaign_id", how="left") if len(variances) else (
        campaigns.assign(var_orders=math.nan, var_revenue=math.nan, var_gross=math.nan))
    # one variance per campaign (the arms share a holdout), the figures per arm
    per_campaign = frame.drop_duplicates("campaign_id")
    key = pd.Series("total", index=frame.index) if by is None else frame[by].astype(str)
    key_c = (pd.Series("total", index=per_campaign.index) if by is None
             else per_campaign[by].astype(str))
    counts = [c for c in ("sent", "delivered", "opened", "clicked", "ordered", "opted_out")
              if c in frame]
    sums = frame.groupby(key, sort=True)[[*_FIGURES, "cost", *counts]].sum()
    var = per_campaign.groupby(key_c, sort=True)[["var_orders", "var_revenue", "var_gross"]].sum(
        min_count=1)
    sums["campaigns"] = per_campaign.groupby(key_c).size()
    rows = []
    for k, r in sums.iterrows():
        orders = Estimate.of(r["incremental_orders"], var.loc[k, "var_orders"], alpha)
        revenue = Estimate.of(r["incremental_revenue"], var.loc[k, "var_revenue"], alpha)
        margin = Estimate.of(r["incremental_margin"],
                             margin_rate ** 2 * var.loc[k, "var_gross"], alpha)
        delivered = r.get("delivered", math.nan)
        rows.append({
            "key": k, "campaigns": int(r["campaigns"]),
            **{c: int(r[c]) for c in counts},
            "opt_out_rate": r["opted_out"] / delivered if counts and delivered else math.nan,
            "incremental_orders": orders.value, "incremental_orders_low": orders.low,
            "incremental_orders_high": orders.high, "incremental_revenue": revenue.value,
            "incremental_revenue_low": revenue.low, "incremental_revenue_high": revenue.high,
            "cost": r["cost"],
            "cost_per_incremental_order": r["cost"] / orders.value if orders.value > 0
            else math.nan,
            "incremental_margin": margin.value, "incremental_margin_low": margin.low,
            "incremental_margin_high": margin.high,
            "roi": margin.value / r["cost"] if r["cost"] > 0 else math.nan})
    return pd.DataFrame(rows).reindex(columns=list(ROLLUP_COLUMNS))


# ---------------------------------------------------------------------------- the headline


def _global_estimates(con: BaseBackend, as_of: date, days: int, settings: Settings,
                      alpha: float, r: AbTestResult) -> Headline:
    """Return the incremental orders, revenue and margin of everyone outside the holdout."""
    share = float(settings.global_holdout)
    if r.status == Status.NO_DATA or HOLDOUT not in set(r.arms["variant"]):
        return Headline("global", days=days, share=share, status="no_data")
    stats = arm_statistics(r.arms)
    crm = next(s for v, s in stats.items() if v != HOLDOUT)
    base = stats[HOLDOUT]
    if base.n < 2 or crm.n < 2:
        return Headline("global", days=days, share=share, n_holdout=base.n, n_crm=crm.n,
                        status="too_little_data")
    cost = _message_cost(con, as_of, days, settings)
    rate = float(settings.gross_margin)

    def est(metric: str) -> tuple[float, float]:
        s_t = crm.orders() if metric == "orders" else crm.revenue()
        s_h = base.orders() if metric == "orders" else base.revenue()
        value = crm.n * (s_t.mean - s_h.mean)
        return value, _scaled_variance([crm], base, metric)

    o_val, o_var = est("orders")
    r_val, r_var = est("revenue")
    margin = Estimate.of(rate * r_val - cost, rate * rate * r_var, alpha)
    return Headline("global", days=days, share=share, n_holdout=base.n, n_crm=crm.n,
                    orders=Estimate.of(o_val, o_var, alpha),
                    revenue=Estimate.of(r_val, r_var, alpha), margin=margin,
                    message_cost=cost, status=str(r.status))


def _message_cost(con: BaseBackend, as_of: date, days: int, settings: Settings) -> float:
    """Return messages delivered in the period times their campaign's cost per message."""
    if "messages" not in con.list_tables() or "campaigns" not in con.list_tables():
        return 0.0
    start = cutoff(as_of - timedelta(days=days), settings.timezone)
    end = cutoff(as_of, settings.timezone)
    m = con.table("messages")
    m = m.filter(m.sent_at >= ibis.literal(start), m.sent_at < ibis.literal(end))
    if "status" in m.columns:
        m = m.filter(m.status.isnull() | (m.status != "failed"))
    c = con.table("campaigns")
    if "cost_per_message" not in c.columns:
        return 0.0
    j = m.join(c, m.campaign_id == c.campaign_id)
    value = j.cost_per_message.fill_null(0.0).sum().execute()
    return 0.0 if value is None or pd.isna(value) else float(value)


def _setup_headline(con: BaseBackend, as_of: date, settings: Settings) -> Headline:
    """Return the customers, their 30-day buyer rate and the MDE a 5% global holdout allows."""
    if "customers" not in con.list_tables() or "orders" not in con.list_tables():
        return Headline("none")
    start = cutoff(as_of - timedelta(days=HEADLINE_DAYS), settings.timezone)
    end = cutoff(as_of, settings.timezone)
    c = con.table("customers")
    if "signup_at" in c.columns:
        c = c.filter(c.signup_at.isnull() | (c.signup_at < ibis.literal(start)))
    o = con.table("orders")
    o = o.filter(o.ordered_at >= ibis.literal(start), o.ordered_at < ibis.literal(end),
                 o.status.isin(list(NET_STATUSES)), o.customer_id.notnull())
    buyers = o.select("customer_id").distinct()
    bb = buyers.select(bid=buyers.customer_id)
    cs = c.select("customer_id")
    j = cs.left_join(bb, cs.customer_id == bb.bid)
    row = j.aggregate(n=j.count(), b=j.bid.count()).to_pyarrow().to_pylist()[0]
    n, b = int(row["n"] or 0), int(row["b"] or 0)
    if n == 0:
        return Headline("none")
    rate = b / n
    held = n * SUGGESTED_SHARE
    mde = math.nan
    if 0 < rate < 1 and held >= 1:
        mde = minimum_detectable_effect(held, rate, ratio=(1 - SUGGESTED_SHARE) / SUGGESTED_SHARE)
    return Headline("setup", customers=n, baseline_rate=rate, mde=mde)


def _week_estimate(as_of: date, settings: Settings, alpha: float, campaigns: pd.DataFrame,
                   variances: pd.DataFrame, window_days: int, week_global: Headline | None
                   ) -> tuple[str, Estimate] | None:
    if week_global is not None:
        return ("global", week_global.margin) if week_global.margin is not None else None
    if campaigns.empty:
        return None
    week_start = cutoff(as_of - timedelta(days=WEEK_DAYS), settings.timezone)
    start = pd.to_datetime(campaigns["start"])
    end = start + pd.Timedelta(days=int(window_days))
    chosen = campaigns[(start < cutoff(as_of, settings.timezone)) & (end > week_start)]
    if chosen.empty:
        return None
    total = rollup(chosen, variances, None, margin_rate=float(settings.gross_margin),
                   alpha=alpha)
    row = total.iloc[0]
    var = variances[variances["campaign_id"].isin(chosen["campaign_id"])]["var_gross"].sum()
    return ("campaigns", Estimate(float(row["incremental_margin"]),
                                  float(settings.gross_margin) ** 2 * float(var),
                                  float(row["incremental_margin_low"]),
                                  float(row["incremental_margin_high"])))


# ---------------------------------------------------------------------------- entry points


def campaign_impact(con: BaseBackend, *, as_of: date, window_days: int = 14,
                    alpha: float = 0.05, settings: Settings | None = None,
                    language: str | None = None) -> CampaignImpactResult:
    """Return every campaign's incremental impact, the roll-ups and the headline.

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        End of the period (exclusive): campaigns started before it; windows are cut at it.
    window_days
        Attribution window after each campaign's start (days), as in the A/B readout.
    alpha
        Intervals are ``1 - alpha``.
    settings
        Time zone, currency, ``gross_margin`` and ``global_holdout``; default:
        ``workbench.toml``.
    language
        Language of :attr:`~CampaignImpactResult.message` (default: the settings').

    Returns
    -------
    CampaignImpactResult
        ``status`` ``NO_DATA`` when the store has no started campaign with a holdout and no
        global holdout is set.

    Raises
    ------
    ParameterError
        ``window_days`` outside 1-365 or ``alpha`` outside (0, 0.5).
    """
    func = "campaign_impact"
    if not 1 <= int(window_days) <= 365:
        raise ParameterError(tr("params.range", owner=func, name="window_days", low=1,
                                high=365, got=repr(window_days)))
    if not 0 < float(alpha) < 0.5:
        raise ParameterError(tr("abtest.error.below_half", owner=func, name="alpha",
                                got=repr(alpha)))
    settings = settings or load_settings()
    language = language or settings.language
    end = cutoff(as_of, settings.timezone)
    tables = set(con.list_tables())
    campaigns = pd.DataFrame(columns=list(CAMPAIGN_COLUMNS))
    variances = pd.DataFrame(columns=["campaign_id", "var_orders", "var_revenue", "var_gross"])
    missing: tuple[str, ...] = ()
    if {"campaigns", "assignments", "orders"} <= tables:
        rows = _campaign_rows(con, end, settings.timezone)
        if len(rows):
            a = _assigned(con, end, int(window_days))
            lo = pd.Timestamp(rows["started_at"].min())
            ow = _window_orders(con, a, lo)
            codes = _coupon_codes(a, ow)
            sums = _arm_sums(con, a, ow, codes, end)
            campaigns, variances, missing = _campaign_frame(rows, sums, settings, float(alpha))
            if variances.empty:
                variances = pd.DataFrame(columns=["campaign_id", "var_orders", "var_revenue",
                                                  "var_gross"])
    rate = float(settings.gross_margin)
    kw = {"margin_rate": rate, "alpha": float(alpha)}
    week_global = None
    if settings.global_holdout > 0:
        month_r, week_r = global_holdout_readouts(
            con, as_of, (HEADLINE_DAYS, WEEK_DAYS), share=float(settings.global_holdout),
            settings=settings, language=language)
        headline = _global_estimates(con, as_of, HEADLINE_DAYS, settings, float(alpha), month_r)
        week_global = _global_estimates(con, as_of, WEEK_DAYS, settings, float(alpha), week_r)
    else:
        headline = _setup_headline(con, as_of, settings)
    week = _week_estimate(as_of, settings, float(alpha), campaigns, variances,
                          int(window_days), week_global)
    status = Status.OK if len(campaigns) or headline.kind == "global" else Status.NO_DATA
    return CampaignImpactResult(
        as_of=as_of, window_days=int(window_days), alpha=float(alpha), margin_rate=rate,
        currency=settings.currency, language=language, campaigns=campaigns,
        by_channel=rollup(campaigns, variances, "channel", **kw),
        by_month=rollup(campaigns, variances, "month", **kw),
        total=rollup(campaigns, variances, None, **kw), lead=headline, week=week,
        without_holdout=missing, status=status,
        extra={"variances": variances})


def run_campaigns(con: BaseBackend, params: CampaignsParams, settings: Settings | None = None
                  ) -> CampaignImpactResult:
    """Return :func:`campaign_impact` for the notebook's parameters."""
    if not isinstance(params, CampaignsParams):
        raise ParameterError(tr("impact.error.params_type", got=type(params).__name__))
    settings = settings or load_settings()
    return campaign_impact(con, as_of=params.as_of, window_days=int(params.window_days),
                           alpha=float(params.alpha), settings=settings,
                           language=params.language or settings.language)
