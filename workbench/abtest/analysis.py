"""The A/B test and campaign-holdout readout behind ``notebooks/abtest.ipynb``.

:func:`run_abtest` reduces a campaign's customers to sufficient statistics per arm in the
backend (:mod:`workbench.abtest.aggregate`), then runs, in this order: the sample-ratio check
(shown first: when it fails, nothing below is trustworthy), the comparisons of every arm with
the baseline and of the treated arms with each other (B against A) on conversion, revenue per
customer (with CUPED, one theta for all arms), AOV and the message metrics, a
multiple-testing correction with the decision interval that agrees with it, the Bayesian and
always-valid readouts, the opt-out guardrail and, against a holdout, the campaign's ROI. It
returns an :class:`AbTestResult` of numbers and statuses; its ``message`` (and
``summary(language)``) words the verdict when it is read.

Every word about a comparison (verdict, table highlight, chart colour, report tile) is read
from one interval, :meth:`AbTestResult.decision_interval`, the one the page shows beside the
(adjusted) p-value; the arm that got the message is ``send`` (stores that wrote ``control``
beside ``holdout`` are read that way).
"""

from __future__ import annotations

import difflib
import html
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
from babel.numbers import get_currency_precision

from workbench.abtest.aggregate import (
    SUM_COLUMNS,
    ArmStatistics,
    arm_statistics,
    arm_sums,
    customer_outcomes,
)
from workbench.abtest.bayesian import BayesComparison, beta_binomial, normal_means
from workbench.abtest.frequentist import (
    compare_proportions,
    compare_ratios,
    cuped_ttest,
    welch_ttest,
)
from workbench.abtest.multiple import CORRECTIONS, adjust_p_values, guardrail_vetoes
from workbench.abtest.revenue_cap import (
    RevenueCap,
    cap_revenue,
    median_order_comparisons,
    window_orders,
)
from workbench.abtest.roi import RoiResult, campaign_roi
from workbench.abtest.sequential import DEFAULT_N_STAR, sequential_interval
from workbench.abtest.srm import SrmResult, srm_check
from workbench.abtest.stats import (
    HOLDOUT,
    LEGACY_SEND,
    SEND,
    AbStatus,
    Comparison,
    CupedStats,
    arm_label,
    metric_label,
)
from workbench.abtest.verdict import build_verdict, format_effect
from workbench.data.schema import require_columns
from workbench.dates import cutoff
from workbench.errors import ParameterError
from workbench.i18n import format_number, format_percent, tr
from workbench.params import NotebookParams, param
from workbench.results import ResultMixin
from workbench.settings import Settings, load_settings
from workbench.viz.abtest import arms_figure, forest_plot

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from ibis.backends import BaseBackend

__all__ = ["AbTestParams", "AbTestResult", "DECISION_METRICS", "campaign_overview",
           "list_campaigns", "readout_from_sums", "run_abtest"]

PRIMARY_METRICS = ("conversion", "revenue_per_user")
#: Metrics a winner is decided on; the multiple-testing correction covers these x variants.
DECISION_METRICS = ("conversion", "revenue_per_user", "aov")
GUARDRAIL = "opt_out_rate"
FRAME_COLUMNS = ("metric", "variant", "control", "kind", "test", "n_control", "n_variant",
                 "value_control", "value_variant", "effect", "ci_low", "ci_high", "lift",
                 "lift_ci_low", "lift_ci_high", "p_value", "p_adjusted", "significant",
                 "seq_ci_low", "seq_ci_high", "prob_beat_control", "expected_loss",
                 "variance_reduction", "guardrail", "status", "message", "decision_level",
                 "decision_ci_low", "decision_ci_high", "pair")


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in str(text or "").split(",") if x.strip())


def parse_shares(text: str, owner: str = "AbTestParams") -> dict[str, float]:
    """Parse ``"holdout=0.1, A=0.45, B=0.45"`` into a dict (empty text: empty dict).

    Examples
    --------
    >>> parse_shares("holdout=0.1, B=0.9")
    {'holdout': 0.1, 'B': 0.9}
    """
    out: dict[str, float] = {}
    for part in _split_list(text):
        name, sep, value = part.partition("=")
        try:
            share = float(value)
        except ValueError:
            share = math.nan
        if not sep or not name.strip() or not share >= 0:
            raise ParameterError(tr("abtest.error.planned_shares_text", owner=owner,
                                    got=repr(text)))
        out[name.strip()] = share
    return out


@dataclass(frozen=True, slots=True)
class AbTestParams(NotebookParams):
    """Parameters of the A/B test readout (``notebooks/abtest.ipynb``).

    Parameters
    ----------
    campaign_id
        Campaign in the store (empty: the most recently started one).
    data_file
        Instead of a campaign: a CSV or Parquet file with one row per customer (``variant``,
        ``converted`` and optionally ``revenue``, ``orders``, ``pre_revenue``, ``sent``,
        ``opened``, ``clicked``, ``unsubscribed``) or one row per arm (``variant``, ``n``,
        ``conversions`` and the other sums of :data:`SUM_COLUMNS`).
    control
        Baseline arm (empty: ``holdout`` if there is one, else ``control``, else the first).
    window_days
        Attribution window after the campaign start, in days.
    pre_days
        Pre-period for the CUPED covariate (0: no CUPED).
    alpha
        Significance level; intervals are ``1 - alpha``.
    correction
        ``holm``, ``bonferroni``, ``sidak``, ``hommel`` (family-wise), ``bh`` (false
        discovery rate) or ``none``.
    primary_metric
        ``conversion`` or ``revenue_per_user``: the metric of the headline.
    planned_shares
        ``"holdout=0.1, A=0.45, B=0.45"``; empty: the campaign's holdout share and an equal
        split of the rest.
    coupon_codes
        The campaign's coupon codes, comma separated (empty: inferred as the codes used by
        the treated arms in the window and practically never by the holdout).
    count_cancelled
        A cancelled or returned order still counts as a conversion.
    n_star
        Tuning parameter of the always-valid intervals: total customers at which they are
        tightest (0: 10,000). Set it to the planned size before the test starts.
    cost_per_message
        Cost of one message for a data file (campaigns use their own).
    cap_percentile
        Revenue capping: 0 = none; e.g. 99 winsorizes each customer's revenue in the window
        at the 99th percentile of all arms pooled (:mod:`workbench.abtest.revenue_cap`); the
        readout states the cap and how many customers it lowered.
    """

    campaign_id: str = param("")
    data_file: str = param("")
    control: str = param("")
    window_days: int = param(14, low=1, high=365)
    pre_days: int = param(90, low=0, high=730)
    alpha: float = param(0.05)
    correction: str = param("holm", choices=CORRECTIONS)
    primary_metric: str = param("conversion", choices=PRIMARY_METRICS)
    planned_shares: str = param("")
    coupon_codes: str = param("")
    count_cancelled: bool = param(False)
    n_star: int = param(0, low=0)
    cost_per_message: float = param(0.0, low=0.0)
    cap_percentile: float = param(0.0, low=0.0, high=99.99)

    def check(self) -> None:
        """Check that one source is given and that the planned shares parse."""
        owner = "AbTestParams"
        if self.campaign_id and self.data_file:
            raise ParameterError(tr("abtest.error.two_sources", owner=owner,
                                    campaign_id=repr(self.campaign_id),
                                    data_file=repr(self.data_file)))
        if not 0 < self.alpha < 0.5:
            raise ParameterError(tr("abtest.error.below_half", owner=owner, name="alpha",
                                    got=repr(self.alpha)))
        parse_shares(self.planned_shares, owner)


@dataclass(frozen=True, eq=False)
class AbTestResult(ResultMixin):
    """The readout of one test: sample-ratio check, comparisons, Bayesian view, ROI, verdict.

    Parameters
    ----------
    campaign_id, name, channel
        The campaign (or the data file's name).
    start, window_days, as_of
        Start of the attribution window and its length; ``as_of`` caps it (``None``: no cap).
    baseline, variants
        The arm everything is compared with, and all arms (holdout first).
    arms
        One row per arm: ``variant`` and the sufficient statistics (:data:`SUM_COLUMNS`)
        plus ``conversion_rate``, ``revenue_per_user``, ``aov``.
    srm
        Sample-ratio check against the planned shares.
    comparisons
        Every (variant, metric) comparison with the baseline, then, when two or more arms are
        treated, every treated arm with each earlier one (``B`` against ``A``: the test's
        real question is often which message wins, not only whether each beats the holdout).
    p_adjusted
        Corrected p-values aligned with ``comparisons`` (NaN outside the decision family).
    decision_ci, decision_alpha
        The interval every word about a comparison is read from, and ``1 -`` its level: the
        comparison's own interval at ``alpha * p / p_adjusted`` (:func:`_decision_alpha`), so
        it excludes 0 exactly when the adjusted p is below ``alpha``. Without a correction, or
        outside the decision family, it is the comparison's own ``1 - alpha`` interval.
    sequential
        Always-valid interval of each comparison's effect.
    bayes
        Bayesian readouts of the conversion and revenue comparisons.
    roi
        One per treated arm when the baseline is an untreated holdout.
    vetoes
        ``(variant, metric)`` pairs where a guardrail got significantly worse.
    language
        The language :attr:`message` and the figures are worded in.
    status
        Outcome: ``NO_DATA``, ``SAMPLE_RATIO_MISMATCH``, the first problem of the primary
        comparisons or ``OK``. :attr:`message` is the plain-language verdict (SRM first).
    """

    campaign_id: str
    name: str
    channel: str
    start: datetime | None
    window_days: int
    as_of: date | None
    baseline: str
    variants: tuple[str, ...]
    primary_metric: str
    alpha: float
    correction: str
    language: str
    currency: str
    coupon_codes: tuple[str, ...]
    arms: pd.DataFrame
    srm: SrmResult
    comparisons: tuple[Comparison, ...]
    p_adjusted: tuple[float, ...]
    sequential: tuple[tuple[float, float], ...]
    bayes: tuple[BayesComparison, ...]
    roi: tuple[RoiResult, ...]
    vetoes: tuple[tuple[str, str], ...]
    n_star: int = DEFAULT_N_STAR
    status: AbStatus = AbStatus.OK
    decision_ci: tuple[tuple[float, float], ...] = ()
    decision_alpha: tuple[float, ...] = ()
    revenue_cap: RevenueCap | None = None
    quantiles: tuple[Comparison, ...] = ()

    @property
    def message(self) -> str:
        """The verdict in the result's language (the same as :meth:`summary`)."""
        return self.summary()

    def summary(self, language: str | None = None) -> str:
        """Return the verdict paragraph in ``language`` (default: the result's)."""
        cap = self.cap_sentence(language)
        verdict = build_verdict(self, language)
        return f"{verdict} {cap}" if cap else verdict

    def cap_sentence(self, language: str | None = None) -> str:
        """Return what revenue capping did (``""`` without capping)."""
        c, lang = self.revenue_cap, language or self.language
        if c is None:
            return ""
        if not c.applied or math.isnan(c.cap):
            return tr("abtest.cap.not_applied", language=lang, percentile=f"{c.percentile:g}")
        return tr("abtest.cap.applied", language=lang, percentile=f"{c.percentile:g}",
                  cap=format_effect(c.cap, "mean", "revenue_per_user", self.currency, lang),
                  n=format_number(c.n_capped, language=lang),
                  total=format_number(c.n, language=lang))

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (variant, metric) comparison: :data:`FRAME_COLUMNS`."""
        if not self.comparisons:
            return pd.DataFrame(columns=list(FRAME_COLUMNS))
        bayes = {(b.variant, b.control, b.metric): b for b in self.bayes}
        rows = []
        for i, (c, p_adj, (low, high)) in enumerate(zip(
                self.comparisons, self.p_adjusted, self.sequential, strict=True)):
            row = c.to_dict(self.language)
            b = bayes.get((c.variant, c.control, c.metric))
            d_low, d_high = self.decision_interval(i)
            row.update(p_adjusted=p_adj, seq_ci_low=low, seq_ci_high=high,
                       significant=self.decides(i), decision_level=1 - self.decision_level(i),
                       decision_ci_low=d_low, decision_ci_high=d_high,
                       pair=c.control != self.baseline,
                       prob_beat_control=b.prob_beat_control if b else math.nan,
                       expected_loss=b.expected_loss if b else math.nan,
                       guardrail=c.metric == GUARDRAIL)
            rows.append(row)
        for c in self.quantiles:  # median order value: a bootstrap interval, no p-value
            row = c.to_dict(self.language)
            row.update(p_adjusted=math.nan, seq_ci_low=math.nan, seq_ci_high=math.nan,
                       significant=bool(c.ci_low > 0 or c.ci_high < 0),
                       decision_level=1 - c.alpha, decision_ci_low=c.ci_low,
                       decision_ci_high=c.ci_high, pair=False, prob_beat_control=math.nan,
                       expected_loss=math.nan, guardrail=False)
            rows.append(row)
        return pd.DataFrame(rows).loc[:, list(FRAME_COLUMNS)]

    def roi_frame(self) -> pd.DataFrame:
        """Return one row per treated arm with incremental outcomes, cost and ROI."""
        if not self.roi:
            return pd.DataFrame()
        return pd.concat([r.to_frame() for r in self.roi], ignore_index=True)

    def decision_level(self, i: int) -> float:
        """Return ``1 -`` the level of comparison ``i``'s decision interval (its alpha)."""
        return self.decision_alpha[i] if self.decision_alpha else self.comparisons[i].alpha

    def decision_interval(self, i: int) -> tuple[float, float]:
        """Return the interval the verdict on comparison ``i`` is read from (and shown)."""
        return self.decision_ci[i] if self.decision_ci else self.comparisons[i].ci

    def decides(self, i: int) -> bool:
        """Return whether comparison ``i`` is a clear difference: its decision interval excludes 0.

        This is the only test of significance the words use; with the dual tests of the
        readout it equals ``p_adjusted < alpha`` (``p < alpha`` outside the family).
        """
        low, high = self.decision_interval(i)
        return bool(low > 0 or high < 0)  # NaN limits (no test) compare False

    def comparison(self, variant: str, metric: str, control: str | None = None) -> Comparison:
        """Return the comparison of ``variant`` on ``metric`` against ``control`` (the baseline)."""
        control = self.baseline if control is None else control
        for c in self.comparisons:
            if c.variant == variant and c.metric == metric and c.control == control:
                return c
        raise KeyError(tr("abtest.error.no_comparison", variant=repr(variant),
                          metric=repr(metric), variants=list(self.variants)))

    def figure(self) -> go.Figure:
        """Return a new forest plot of relative lifts (arms named for people)."""
        frame = self.to_frame().iloc[:len(self.comparisons)].copy()  # medians: no lift bar
        frame["variant"] = [self.pair_label(c) for c in self.comparisons]
        # The bars are the decision interval relative to the baseline's observed value, so a
        # bar crosses 0 exactly when the verdict says "no clear difference" (the delta-method
        # lift interval at 95% could disagree with an adjusted verdict).
        base = frame["value_control"].where(frame["value_control"] > 0)
        frame["lift_ci_low"] = frame["decision_ci_low"] / base
        frame["lift_ci_high"] = frame["decision_ci_high"] / base
        return forest_plot(frame, srm_ok=not self.srm.mismatch, language=self.language)

    def figure_arms(self) -> go.Figure:
        """Return a new bar chart of each arm's conversion rate with its interval."""
        arms = self.arms.assign(variant=[arm_label(v, self.language)
                                         for v in self.arms["variant"]])
        return arms_figure(arms, language=self.language)

    def pair_label(self, c: Comparison, language: str | None = None) -> str:
        """Return the arm's name for people, or ``B vs A`` for a comparison of treated arms."""
        lang = language or self.language
        if c.control == self.baseline:
            return arm_label(c.variant, lang)
        return tr("abtest.pair", language=lang, variant=arm_label(c.variant, lang),
                  control=arm_label(c.control, lang))

    def headline(self) -> list[dict[str, Any]]:
        """Return the primary metric's relative lift per variant, formatted for report tiles.

        Each item has ``metric`` (``abtest.<variant>.<metric>``), ``label``, ``value`` (the
        lift), ``change`` (the interval), ``change_pct`` (the lift) and ``direction``.
        """
        def pct(x: float) -> str:
            return format_percent(x, signed=True, language=self.language)

        items = []
        for i, c in enumerate(self.comparisons):
            if c.metric != self.primary_metric or math.isnan(c.lift):
                continue
            low, high = self.decision_interval(i)

            def effect(x: float, c: Comparison = c) -> str:
                return format_effect(x, c.kind, c.metric, self.currency, self.language,
                                     signed=True)

            key = c.variant if c.control == self.baseline else f"{c.variant}_vs_{c.control}"
            # The change is the decision interval (the one the verdict reads), so the tile's
            # colour and its interval cannot disagree.
            items.append({
                "metric": f"abtest.{key}.{c.metric}",
                "label": f"{self.pair_label(c)} · {metric_label(c.metric, self.language)}",
                "value": pct(c.lift), "change": f"{effect(low)} ~ {effect(high)}",
                "change_pct": c.lift,
                "direction": "flat" if not self.decides(i) else "up" if c.lift > 0 else "down"})
        return items

    def _repr_html_(self) -> str:
        banner = f"<p class='wb-message'>{html.escape(self.message)}</p>"
        if self.status == AbStatus.NO_DATA:
            return banner
        return (banner + self.srm.to_frame().to_html(index=False, border=0)
                + self.to_frame().drop(columns=["message"]).to_html(index=False, border=0))


# ------------------------------------------------------------------------------ the store side


def _check(params: Any) -> None:
    if not isinstance(params, AbTestParams):
        raise ParameterError(tr("abtest.error.params_type", got=type(params).__name__))


def _as_of_instant(as_of: date | None, timezone: str) -> pd.Timestamp | None:
    return None if as_of is None else cutoff(as_of, timezone)


def list_campaigns(con: BaseBackend, as_of: date | None = None, *,
                   settings: Settings | None = None, counts: bool = True) -> pd.DataFrame:
    """Return every campaign with its state as of ``as_of`` and the customers assigned.

    ``state`` is ``planned`` (starts on or after ``as_of``), ``running`` (started, and the end
    is missing or not before ``as_of``) or ``finished``; without ``as_of`` every started
    campaign with an end is ``finished``. Sorted by start, newest first. ``counts=False``
    skips counting the assigned customers and arms (``customers`` and ``arms`` are then 0).
    """
    settings = settings or load_settings()
    tables = con.list_tables()
    columns = ["campaign_id", "name", "channel", "started_at", "ended_at", "holdout_share",
               "cost_per_message", "customers", "arms", "state"]
    if "campaigns" not in tables:
        return pd.DataFrame(columns=columns)
    campaigns = con.table("campaigns").to_pyarrow().to_pandas()
    if "assignments" in tables and counts:
        a = con.table("assignments")
        sizes = a.group_by("campaign_id").aggregate(
            customers=a.count(), arms=a.variant.nunique()).to_pyarrow().to_pandas()
    else:
        sizes = pd.DataFrame({"campaign_id": pd.Series([], dtype=object), "customers": [],
                              "arms": []})
    out = campaigns.merge(sizes, on="campaign_id", how="left")
    out[["customers", "arms"]] = out[["customers", "arms"]].fillna(0).astype("int64")
    cut = _as_of_instant(as_of, settings.timezone)
    started = out["started_at"].notna() & ((out["started_at"] < cut) if cut is not None else True)
    ended = out["ended_at"].notna() & ((out["ended_at"] < cut) if cut is not None else True)
    out["state"] = ["finished" if e else "running" if s else "planned"
                    for s, e in zip(started, ended & started, strict=True)]
    out = out.sort_values("started_at", ascending=False, kind="stable", na_position="last")
    return out.reindex(columns=columns).reset_index(drop=True)


def _campaign_row(con: BaseBackend, params: AbTestParams, as_of: date | None,
                  settings: Settings) -> dict[str, Any] | None:
    listing = list_campaigns(con, as_of, settings=settings, counts=False)
    if listing.empty:
        a = con.table("assignments")
        ids = a.select("campaign_id").distinct().to_pyarrow().to_pandas()["campaign_id"]
        listing = pd.DataFrame({"campaign_id": sorted(ids.astype(str))[::-1]})
    if listing.empty:
        return None
    if not params.campaign_id:
        live = listing[listing.get("state", pd.Series("running", index=listing.index))
                       != "planned"]
        return dict((live if not live.empty else listing).iloc[0])
    match = listing[listing["campaign_id"] == params.campaign_id]
    if match.empty:
        known = listing["campaign_id"].astype(str).tolist()
        raise ParameterError(tr("abtest.error.unknown_campaign", got=repr(params.campaign_id),
                                known=known[:20], hint=_did_you_mean(params.campaign_id, known)))
    return dict(match.iloc[0])


def infer_coupon_codes(con: BaseBackend, campaign_id: str, start: datetime,
                       window_days: int) -> tuple[str, ...]:
    """Return the coupon codes used by treated arms in the window and hardly ever by the holdout.

    A code counts as the campaign's when the holdout's usage is below a fifth of what the
    treated arms' usage rate predicts for it and that prediction is at least 3 uses (so an
    absent code in the holdout is informative). Without a holdout nothing is inferred.
    """
    a = con.table("assignments").filter(lambda t: t.campaign_id == campaign_id)
    o = con.table("orders")
    lo = ibis.literal(pd.Timestamp(start))
    hi = ibis.literal(pd.Timestamp(start) + pd.Timedelta(days=int(window_days)))
    o = o.filter(o.coupon_code.notnull(), o.ordered_at >= lo, o.ordered_at < hi)
    # Counting per customer and code before the join halves the time (few coupon orders,
    # many assigned customers).
    o = o.group_by(["customer_id", "coupon_code"]).aggregate(n=o.count())
    j = a.join(o, a.customer_id == o.customer_id)
    grp = (j.variant == "holdout").name("is_holdout")
    uses = j.group_by([grp, j.coupon_code]).aggregate(uses=j.n.sum()).to_pyarrow().to_pandas()
    sizes = a.group_by((a.variant == "holdout").name("is_holdout")).aggregate(
        n=a.count()).to_pyarrow().to_pandas().set_index("is_holdout")["n"]
    if True not in sizes.index or False not in sizes.index:
        return ()
    table = uses.pivot_table(index="coupon_code", columns="is_holdout", values="uses",
                             aggfunc="sum", fill_value=0)
    treated = table.get(False, pd.Series(0, index=table.index))
    held = table.get(True, pd.Series(0, index=table.index))
    predicted = treated / sizes[False] * sizes[True]
    chosen = table.index[(predicted >= 3) & (held < predicted / 5)]
    return tuple(sorted(map(str, chosen)))


def _sums_from_store(con: BaseBackend, params: AbTestParams, row: dict[str, Any],
                     as_of: date | None, settings: Settings, codes: tuple[str, ...],
                     quantiles: bool = True
                     ) -> tuple[pd.DataFrame, RevenueCap | None, pd.DataFrame | None]:
    """Return the arm sums, what capping did, and the window's net orders (variant, amount)."""
    tables = con.list_tables()
    start = row.get("started_at")
    start = None if start is None or pd.isna(start) else pd.Timestamp(start)
    end = _as_of_instant(as_of, settings.timezone)
    customers = customer_outcomes(
        con.table("assignments"), con.table("orders"),
        con.table("messages") if "messages" in tables else None,
        campaign_id=str(row["campaign_id"]), start=start, window_days=int(params.window_days),
        pre_days=int(params.pre_days), end=end,
        coupon_codes=codes, count_cancelled=bool(params.count_cancelled))
    cap = None
    if float(params.cap_percentile) > 0:
        customers, cap = cap_revenue(customers, float(params.cap_percentile))
    orders = None if start is None or not quantiles else window_orders(
        con.table("assignments"), con.table("orders"), campaign_id=str(row["campaign_id"]),
        start=start, window_days=int(params.window_days), end=end).to_pyarrow().to_pandas()
    return arm_sums(customers).to_pyarrow().to_pandas(), cap, orders


def _sums_from_file(path: str, cap_percentile: float = 0.0
                    ) -> tuple[pd.DataFrame, RevenueCap | None]:
    file = Path(path)
    if not file.exists():
        raise ParameterError(tr("abtest.error.no_file", got=repr(path)))
    frame = (pd.read_parquet(file) if file.suffix.lower() in (".parquet", ".pq")
             else pd.read_csv(file, dtype={"variant": str}))
    # One row per arm when the file has the arm sizes, else one row per customer.
    arm_level = "n" in frame.columns
    require_columns(frame.columns, ("variant", "n", "conversions") if arm_level
                    else ("variant", "converted"), owner="run_abtest", table=path,
                    hint=tr("abtest.error.file_columns"))
    if arm_level:  # arm sums cannot be capped: the readout says so
        cap = (RevenueCap(float(cap_percentile), math.nan, 0, int(frame["n"].sum()), False)
               if cap_percentile > 0 else None)
        return frame.reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0), cap
    customers, cap = ibis.memtable(frame), None
    if cap_percentile > 0 and "revenue" in frame.columns:
        customers, cap = cap_revenue(customers, float(cap_percentile))
    return arm_sums(customers).to_pyarrow().to_pandas(), cap


def run_abtest(con: BaseBackend | None, params: AbTestParams, settings: Settings | None = None,
               *, quantiles: bool = True) -> AbTestResult:
    """Return the readout of a campaign in the store or of a data file.

    Parameters
    ----------
    con
        Ibis backend of the store (may be ``None`` with ``params.data_file``).
    params
        :class:`AbTestParams`.
    settings
        Time zone, currency, gross margin and default language; default: ``workbench.toml``.
    quantiles
        Add the median order value of each arm (one more query and a bootstrap, about 0.1 s
        per campaign; :func:`campaign_overview` skips it).

    Returns
    -------
    AbTestResult
        ``status`` is ``NO_DATA`` when nothing is assigned, ``SAMPLE_RATIO_MISMATCH`` when the
        split is off plan, or the first problem of the primary comparisons (empty arm, zero
        conversions, too few customers); the message says what it means and what to do.

    Raises
    ------
    ParameterError
        Wrong parameter type, an unknown campaign or a missing data file.
    SchemaError
        A data file without the columns of one row per customer or one row per arm.
    """
    _check(params)
    settings = settings or load_settings()
    language = params.language or settings.language
    as_of = params.as_of
    meta: dict[str, Any] = {"campaign_id": "", "name": "", "channel": "", "start": None,
                            "holdout_share": math.nan, "cost_per_message": 0.0}
    codes = _split_list(params.coupon_codes)
    cap, orders = None, None
    if params.data_file:
        sums, cap = _sums_from_file(params.data_file, float(params.cap_percentile))
        meta.update(campaign_id=Path(params.data_file).stem, name=Path(params.data_file).name,
                    cost_per_message=float(params.cost_per_message))
    elif con is None or "assignments" not in con.list_tables():
        return _empty_result(params, settings, language, meta)
    else:
        row = _campaign_row(con, params, as_of, settings)
        if row is None:
            return _empty_result(params, settings, language, meta)
        start = row.get("started_at")
        start = None if start is None or pd.isna(start) else start
        meta.update(campaign_id=str(row["campaign_id"]), name=str(row.get("name") or ""),
                    channel=str(row.get("channel") or ""), start=start,
                    holdout_share=row.get("holdout_share", math.nan),
                    cost_per_message=_known(row.get("cost_per_message"),
                                            float(params.cost_per_message)))
        if not codes and start is not None and "orders" in con.list_tables():
            codes = infer_coupon_codes(con, meta["campaign_id"], start, int(params.window_days))
        if "orders" not in con.list_tables():
            return _empty_result(params, settings, language, meta)
        sums, cap, orders = _sums_from_store(con, params, row, as_of, settings, codes,
                                             quantiles)
    return readout_from_sums(sums, params, settings=settings, meta=meta, coupon_codes=codes,
                             revenue_cap=cap, order_values=orders)


def _known(value: Any, default: float) -> float:
    """Return ``value`` as a float, or ``default`` when it is missing (None or NaN).

    Campaigns recorded by an audience export carry no cost per message (the sending service
    bills it): the readout's ``cost_per_message`` parameter stands in.
    """
    if value is None or pd.isna(value):
        return default
    return float(value)


def _empty_result(params: AbTestParams, settings: Settings, language: str,
                  meta: dict[str, Any]) -> AbTestResult:
    srm = srm_check({}, {HOLDOUT: 1.0})
    return AbTestResult(
        campaign_id=meta["campaign_id"], name=meta["name"], channel=meta["channel"],
        start=meta["start"], window_days=int(params.window_days), as_of=params.as_of,
        baseline="", variants=(), primary_metric=params.primary_metric,
        alpha=float(params.alpha), correction=params.correction, language=language,
        currency=settings.currency, coupon_codes=(), arms=pd.DataFrame(columns=["variant"]),
        srm=srm, comparisons=(), p_adjusted=(), sequential=(), bayes=(), roi=(), vetoes=(),
        status=AbStatus.NO_DATA)


# ---------------------------------------------------------------------------- the statistics


def _order_variants(variants: list[str]) -> list[str]:
    rank = {HOLDOUT: 0, "control": 1, SEND: 1}
    return sorted(variants, key=lambda v: (rank.get(v, 2), v))


def _legacy_send(names: list[str]) -> dict[str, str]:
    """Return ``{"control": "send"}`` when ``control`` is the arm that got the message.

    Earlier sample shops and audience exports wrote the messaged arm as ``control`` beside
    ``holdout``; a marketer reads "control" as the untreated group, so stores written then are
    read with that arm as ``send``. Only that exact pair is renamed: in an A/B test without a
    holdout (``control``, ``B``) the control really is the untreated baseline.
    """
    return {LEGACY_SEND: SEND} if sorted(names) == sorted((HOLDOUT, LEGACY_SEND)) else {}


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return tr("params.did_you_mean", suggestion=close[0]) if close else ""


def _baseline(variants: list[str], requested: str) -> str:
    if requested:
        if requested not in variants:
            raise ParameterError(tr("abtest.error.unknown_arm", got=repr(requested),
                                    arms=variants, hint=_did_you_mean(requested, variants)))
        return requested
    return variants[0]


def _planned(variants: list[str], params: AbTestParams, holdout_share: float
             ) -> dict[str, float]:
    given = parse_shares(params.planned_shares)
    if given:
        return given
    rest = [v for v in variants if v != HOLDOUT]
    if HOLDOUT in variants and isinstance(holdout_share, int | float) and not math.isnan(
            holdout_share) and 0 < holdout_share < 1:
        return {HOLDOUT: float(holdout_share),
                **{v: (1 - holdout_share) / len(rest) for v in rest}}
    return {v: 1.0 / len(variants) for v in variants}


#: CUPED's ``theta`` and covariate centre pooled over all arms (``None``: no CUPED).
_Cuped = tuple[float, float] | None


def _common_cuped(stats: dict[str, ArmStatistics]) -> tuple[float, float]:
    """Return ``(theta, mean_x)`` pooled over every arm (eq. (4) in Deng et al. 2013)."""
    both = sum((s.revenue_cuped() for s in stats.values()), CupedStats(0, 0, 0, 0, 0, 0))
    var_x = both.x.variance
    theta = both.covariance / var_x if var_x > 0 else 0.0
    return theta, both.sum_x / both.n


def _compare_metric(base: ArmStatistics, arm: ArmStatistics, metric: str,
                    names: tuple[str, str], alpha: float, cuped: _Cuped) -> Comparison:
    kw = {"alpha": alpha, "names": names, "metric": metric}
    if metric == "conversion":
        # Always the pooled z test with the score interval that inverts it, never Fisher's
        # test: Fisher's p has no interval of the difference that agrees with it, and the
        # verdict must read the same from the p-value and the interval shown. The pooled z
        # (Pearson) test keeps its size close to nominal even in small samples, where
        # Fisher's is conservative (Fagerland, Lydersen & Laake 2017, Statistics in Medicine
        # 36, 3439-3451); small arms still carry TOO_LITTLE_DATA.
        return compare_proportions(base.conversion(), arm.conversion(), exact=False, **kw)
    if metric == "revenue_per_user":
        if cuped is not None:
            return cuped_ttest(base.revenue_cuped(), arm.revenue_cuped(), theta=cuped[0],
                               mean_x=cuped[1], **kw)
        return welch_ttest(base.revenue(), arm.revenue(), **kw)
    if metric == "aov":
        return compare_ratios(base.aov(), arm.aov(), **kw)
    if metric == GUARDRAIL:  # the same dual pair, so the veto and the row's interval agree
        return compare_proportions(base.opt_out(), arm.opt_out(), exact=False, **kw)
    ratio = base.open_rate() if metric == "open_rate" else base.click_rate()
    other = arm.open_rate() if metric == "open_rate" else arm.click_rate()
    return compare_ratios(ratio, other, **kw)


def _compare_arms(base: ArmStatistics, arm: ArmStatistics, names: tuple[str, str],
                  alpha: float, cuped: _Cuped) -> list[Comparison]:
    out = [_compare_metric(base, arm, m, names, alpha, cuped) for m in DECISION_METRICS]
    if base.total("sent") > 0 and arm.total("sent") > 0:
        metrics = (("open_rate",) if base.total("opened") + arm.total("opened") > 0 else ()) + (
            "click_rate", GUARDRAIL)
        out += [_compare_metric(base, arm, m, names, alpha, cuped) for m in metrics]
    return out


def _pairs(order: list[str], baseline: str) -> list[tuple[str, str]]:
    """Return ``(control, variant)`` pairs: each arm against the baseline, then treated pairs."""
    rest = [v for v in order if v != baseline]
    return [(baseline, v) for v in rest] + [
        (a, b) for i, a in enumerate(rest) for b in rest[i + 1:]]


def _decision_alpha(p: float, p_adj: float, alpha: float, m: int,
                    correction: str = "holm") -> float:
    """Return the level ``1 -`` of the interval that agrees with an adjusted p-value.

    The interval of a test that inverts to it excludes 0 exactly when ``p < a``; with
    ``a = alpha * p / p_adj`` that is exactly when ``p_adj < alpha``. For Bonferroni
    (``p_adj = m p``) this is the simultaneous ``1 - alpha / m`` interval; for Holm's step-down
    it is the local level ``alpha / (m - k + 1)`` of the step that tests it (or smaller where
    the running maximum lifts ``p_adj``), for Benjamini-Hochberg ``alpha k / m``. The result is
    always between ``alpha / m`` and ``alpha`` (both corrections give
    ``p <= p_adj <= m p``), so these intervals are never wider than Bonferroni's.

    The single-step corrections get their simultaneous level whatever ``p`` is: Bonferroni
    ``alpha / m`` and Sidak ``1 - (1 - alpha)^(1/m)`` (``p_adj < alpha`` exactly when ``p``
    is below it). Hommel's closed test has no simultaneous interval, so it takes the general
    ``alpha * p / p_adj`` above, in the same bounds since ``p <= p_adj <= Holm's p_adj``.
    """
    if math.isnan(p) or math.isnan(p_adj) or m <= 1:
        return alpha
    if correction == "bonferroni":
        return alpha / m
    if correction == "sidak":
        return -math.expm1(math.log1p(-alpha) / m)
    if p_adj <= 0 or p <= 0:
        return alpha / m
    return min(alpha, max(alpha / m, alpha * p / p_adj))


def _arms_frame(sums: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    arms = sums.set_index("variant").reindex(order).reset_index()
    n = arms["n"].where(arms["n"] > 0)
    arms["conversion_rate"] = arms["conversions"] / n
    arms["revenue_per_user"] = arms["sum_revenue"] / n
    arms["aov"] = arms["sum_revenue"] / arms["sum_orders"].where(arms["sum_orders"] > 0)
    arms["share"] = arms["n"] / arms["n"].sum()
    return arms


def readout_from_sums(
    sums: pd.DataFrame,
    params: AbTestParams,
    *,
    settings: Settings | None = None,
    meta: dict[str, Any] | None = None,
    coupon_codes: tuple[str, ...] = (),
    revenue_cap: RevenueCap | None = None,
    order_values: pd.DataFrame | None = None,
) -> AbTestResult:
    """Return the readout of arm-level sums (the pure half of :func:`run_abtest`).

    ``sums`` has one row per variant with the columns of :data:`SUM_COLUMNS` (missing ones
    count as zero); ``meta`` carries the campaign's ``campaign_id``, ``name``, ``channel``,
    ``start``, ``holdout_share`` and ``cost_per_message``. ``revenue_cap`` says what capping
    did to the sums (stated in the readout); ``order_values`` (``variant``, ``amount``: one
    row per net order in the window) adds the median order value of each arm against the
    baseline with a bootstrap interval.
    """
    settings = settings or load_settings()
    language = params.language or settings.language
    meta = {"campaign_id": "", "name": "", "channel": "", "start": None,
            "holdout_share": math.nan, "cost_per_message": float(params.cost_per_message),
            **(meta or {})}
    sums = sums.reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0)
    sums["variant"] = sums["variant"].astype(str)
    if sums.empty or sums["n"].sum() == 0:
        return _empty_result(params, settings, language, meta)
    legacy = _legacy_send(sums["variant"].tolist())
    sums["variant"] = sums["variant"].replace(legacy)
    order = _order_variants(sums["variant"].tolist())
    stats = arm_statistics(sums)
    baseline = _baseline(order, legacy.get(params.control, params.control))
    planned = {legacy.get(k, k): v for k, v in
               _planned(order, params, meta["holdout_share"]).items()}
    srm = srm_check({v: stats[v].n for v in order}, planned)
    alpha = float(params.alpha)
    cuped = (_common_cuped(stats) if int(params.pre_days) > 0
             and float(sums["sum_pre_sq"].sum()) > 0 else None)
    pairs = _pairs(order, baseline)
    comparisons: list[Comparison] = []
    for control, v in pairs:
        comparisons += _compare_arms(stats[control], stats[v], (control, v), alpha, cuped)
    family = [i for i, c in enumerate(comparisons) if c.metric in DECISION_METRICS]
    adjusted = adjust_p_values([comparisons[i].p_value for i in family], params.correction)
    p_adj = [math.nan] * len(comparisons)
    for i, p in zip(family, adjusted, strict=True):
        p_adj[i] = float(p)
    decision_alpha = [alpha] * len(comparisons)
    decision_ci = [c.ci for c in comparisons]
    m = sum(not math.isnan(comparisons[i].p_value) for i in family)
    for i in family:
        c = comparisons[i]
        a = _decision_alpha(c.p_value, p_adj[i], alpha, m, params.correction)
        if a != alpha:
            decision_alpha[i] = a
            decision_ci[i] = _compare_metric(stats[c.control], stats[c.variant], c.metric,
                                             (c.control, c.variant), a, cuped).ci
    n_star = int(params.n_star) or DEFAULT_N_STAR
    sequential = tuple(sequential_interval(c, n_star=n_star) for c in comparisons)
    bayes = []
    for c in comparisons:
        if c.metric == "conversion":
            bayes.append(beta_binomial(stats[c.control].conversion(),
                                       stats[c.variant].conversion(), names=(c.control, c.variant)))
        elif c.metric == "revenue_per_user":
            bayes.append(normal_means(c))
    vetoes = guardrail_vetoes([c for c in comparisons if c.metric == GUARDRAIL
                               and c.control == baseline])
    roi = _roi(stats, baseline, order, meta, settings, alpha)
    primary = [c for c in comparisons if c.metric == params.primary_metric
               and c.control == baseline]
    status = AbStatus.SAMPLE_RATIO_MISMATCH if srm.mismatch else next(
        (c.status for c in primary if c.status != AbStatus.OK), AbStatus.OK)
    return AbTestResult(
        campaign_id=meta["campaign_id"], name=meta["name"], channel=meta["channel"],
        start=meta["start"], window_days=int(params.window_days), as_of=params.as_of,
        baseline=baseline, variants=tuple(order), primary_metric=params.primary_metric,
        alpha=alpha, correction=params.correction, language=language,
        currency=settings.currency, coupon_codes=tuple(coupon_codes),
        arms=_arms_frame(sums, order), srm=srm, comparisons=tuple(comparisons),
        p_adjusted=tuple(p_adj), sequential=sequential, bayes=tuple(bayes), roi=tuple(roi),
        vetoes=tuple((v, m) for v, ms in vetoes.items() for m in ms), n_star=n_star,
        status=status, decision_ci=tuple(decision_ci), decision_alpha=tuple(decision_alpha),
        revenue_cap=revenue_cap, quantiles=_medians(order_values, pairs, baseline, legacy,
                                                    alpha))


def _medians(orders: pd.DataFrame | None, pairs: list[tuple[str, str]], baseline: str,
             legacy: dict[str, str], alpha: float) -> tuple[Comparison, ...]:
    if orders is None or orders.empty:
        return ()
    orders = orders.assign(variant=orders["variant"].astype(str).replace(legacy))
    return median_order_comparisons(orders, [p for p in pairs if p[0] == baseline], alpha)


def _roi(stats: dict[str, ArmStatistics], baseline: str, order: list[str],
         meta: dict[str, Any], settings: Settings, alpha: float) -> list[RoiResult]:
    base = stats[baseline]
    if base.total("sent") > 0 or base.n == 0:  # ROI needs an untreated holdout as the baseline
        return []
    out = []
    for v in order:
        arm = stats[v]
        if v == baseline or arm.total("sent") == 0 or arm.n == 0:
            continue
        out.append(campaign_roi(
            arm.conversion(), base.conversion(), arm.revenue(), base.revenue(), arm.gross(),
            base.gross(), messages_sent=int(arm.total("sent")),
            cost_per_message=float(meta["cost_per_message"] or 0.0),
            coupon_cost=arm.total("sum_coupon"), margin_rate=float(settings.gross_margin),
            alpha=alpha, names=(baseline, v),
            money_digits=get_currency_precision(settings.currency)))
    return out


def campaign_overview(con: BaseBackend, as_of: date | None = None, *,
                      settings: Settings | None = None, language: str | None = None
                      ) -> pd.DataFrame:
    """Return running and finished campaigns with their headline result, for the weekly report.

    One row per campaign that has started before ``as_of``: ``campaign_id``, ``name``,
    ``state``, ``customers``, ``srm_ok``, ``best_variant``, ``lift`` (relative, primary
    metric), ``p_adjusted``, ``incremental_revenue``, ``roi`` and the ``verdict``.
    """
    settings = settings or load_settings()
    listing = list_campaigns(con, as_of, settings=settings)
    rows = []
    for item in listing[listing["state"] != "planned"].itertuples():
        params = AbTestParams(as_of=as_of, campaign_id=str(item.campaign_id),
                              language=language or settings.language)
        result = run_abtest(con, params, settings=settings, quantiles=False)
        frame = result.to_frame()
        primary = frame[(frame["metric"] == result.primary_metric) & ~frame["pair"]]
        best = primary.sort_values("lift", ascending=False).head(1)
        roi = result.roi_frame()
        rows.append({
            "campaign_id": item.campaign_id, "name": item.name, "state": item.state,
            "started_at": item.started_at, "customers": int(item.customers),
            "srm_ok": not result.srm.mismatch,
            "best_variant": best["variant"].iloc[0] if len(best) else "",
            "lift": float(best["lift"].iloc[0]) if len(best) else math.nan,
            "p_adjusted": float(best["p_adjusted"].iloc[0]) if len(best) else math.nan,
            "incremental_revenue": float(roi["incremental_revenue"].sum()) if len(roi)
            else math.nan,
            "roi": float(roi["roi"].iloc[0]) if len(roi) == 1 else math.nan,
            "status": str(result.status), "verdict": result.message})
    return pd.DataFrame(rows, columns=["campaign_id", "name", "state", "started_at", "customers",
                                       "srm_ok", "best_variant", "lift", "p_adjusted",
                                       "incremental_revenue", "roi", "status", "verdict"])
