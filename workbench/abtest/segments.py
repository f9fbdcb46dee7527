"""Lift by segment: a campaign's readout broken down by RFM segment, churn band, tier or a column.

:func:`lift_by_segment` counts each segment's customers, converters and revenue per arm in one
grouped query, compares every treated arm with the baseline (the holdout) inside each segment,
corrects the p-values for the number of segments x arms, and shrinks the segment effects
toward the overall effect.

Segments are **pre-treatment**: a segment measured after the message could itself be moved by
it (a customer who bought because of the coupon becomes "loyal"), and comparing arms within
such a segment would no longer compare like with like. So every segment is taken as of the
campaign's start day (its assignment date; exclusive, in the shop's time zone):

================ ===========================================================================
by               what is used
================ ===========================================================================
rfm_segment      RFM segment computed by :func:`workbench.rfm.migration.store_segments` with
                 ``as_of`` = the start day (orders strictly before it; default rules)
churn_band       the saved churn model (``workbench refresh`` trains it) scoring the
                 customers' features as of the start day, banded by the default rule
member_tier      ``customers.member_tier`` as stored (the shop's grade; a store keeps only
                 its current value, so a grade changed since the start is read as it is now)
acquisition_...  ``customers.acquisition_channel`` as stored (fixed at signup)
other columns    any non-personal column of ``customers`` as stored, or of the snapshot
                 (``snapshot_customers``): a snapshot taken after the start is *not*
                 pre-treatment, and the result says so (``pre_treatment=False``)
================ ===========================================================================

Why shrink: a campaign's segments are often small, and the smallest show the wildest lifts
by chance alone. Shrinking each segment's effect toward the overall effect, by the
empirical-Bayes normal-normal model (:mod:`workbench.abtest.shrinkage`, DerSimonian-Laird
``tau^2`` by default), trades a little bias for a much lower mean squared error: a large,
precisely measured segment keeps its own estimate; a small noisy one is pulled toward the
overall effect unless the segments really differ (a large ``tau^2``). The raw estimate, its
interval and the corrected p-value stay beside it, so nothing is hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from workbench.abtest.aggregate import customer_outcomes
from workbench.abtest.analysis import (
    AbTestParams,
    _as_of_instant,
    _campaign_row,
    _legacy_send,
    _order_variants,
)
from workbench.abtest.frequentist import compare_proportions, welch_ttest
from workbench.abtest.multiple import CORRECTIONS, adjust_p_values
from workbench.abtest.shrinkage import TAU_METHODS, RandomEffects, random_effects, shrink
from workbench.abtest.stats import (
    HOLDOUT,
    MIN_USERS,
    AbStatus,
    MeanStats,
    ProportionStats,
    arm_label,
)
from workbench.data.schema import TABLES
from workbench.data.snapshot import SNAPSHOT_TABLE, latest_snapshot
from workbench.dates import local_instant
from workbench.errors import ParameterError
from workbench.i18n import format_percent, tr
from workbench.results import ResultMixin
from workbench.rfm.migration import store_segments
from workbench.rfm.segments import load_segment_rules
from workbench.settings import Settings, load_settings
from workbench.viz.segments import segment_forest

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from ibis.backends import BaseBackend

__all__ = ["SEGMENT_COLUMNS", "SEGMENT_SOURCES", "SegmentLiftResult", "lift_by_segment",
           "segment_by_label", "segment_choices", "segment_label", "segment_lift_from_sums"]

#: Named breakdowns; any other non-personal ``customers`` or snapshot column also works.
SEGMENT_SOURCES = ("rfm_segment", "churn_band", "member_tier", "acquisition_channel")
SEGMENT_METRICS = ("conversion", "revenue_per_user")
#: Columns of :meth:`SegmentLiftResult.to_frame`.
SEGMENT_COLUMNS = ("segment", "variant", "control", "status", "n_control", "n_variant",
                   "value_control", "value_variant", "effect", "ci_low", "ci_high", "lift",
                   "lift_ci_low", "lift_ci_high", "p_value", "p_adjusted", "significant",
                   "std_error", "shrunk_effect", "shrunk_ci_low", "shrunk_ci_high", "shrinkage")
#: Status of a segment too small to test (fewer than ``min_customers`` in an arm).
TOO_SMALL = "too_small"
_SUMS = ("n", "conversions", "sum_revenue", "sum_revenue_sq")


@dataclass(frozen=True, eq=False)
class SegmentLiftResult(ResultMixin):
    """Per-segment lifts of a campaign, raw and shrunk toward the overall effect.

    Parameters
    ----------
    campaign_id, by, metric
        The campaign, the breakdown and the metric (``conversion`` or ``revenue_per_user``).
    segment_day
        The day the segments are taken as of (the campaign's start day).
    pre_treatment
        False when a snapshot column was taken after the start (a warning in the message).
    baseline, alpha, correction, method
        The arm compared with, the level, the multiple-testing correction and the
        ``tau^2`` estimator.
    rows
        :data:`SEGMENT_COLUMNS`, one row per (segment, treated arm); a segment below
        ``min_customers`` in an arm has status ``too_small`` and no test.
    overall
        Per treated arm: the random-effects mean, its standard error, ``tau2``, Cochran's Q
        and the number of segments pooled.
    status
        ``NO_DATA`` (nobody assigned, or no segment large enough), ``TOO_LITTLE_DATA`` when
        fewer than two segments could be tested, else ``OK``.
    """

    campaign_id: str
    by: str
    metric: str
    segment_day: date | None
    pre_treatment: bool
    baseline: str
    alpha: float
    correction: str
    method: str
    min_customers: int
    language: str
    rows: pd.DataFrame
    overall: dict[str, RandomEffects]
    status: AbStatus = AbStatus.OK
    currency: str = "KRW"
    note: str = ""  # "no_model": the churn band needs the saved churn model

    def to_frame(self) -> pd.DataFrame:
        """Return :data:`SEGMENT_COLUMNS` (a copy)."""
        return self.rows.loc[:, list(SEGMENT_COLUMNS)].copy()

    @property
    def message(self) -> str:
        """The takeaway in the result's language (:meth:`summary`)."""
        return self.summary()

    def summary(self, language: str | None = None) -> str:
        """Return what the breakdown shows, in ``language`` (default: the result's)."""
        lang = language or self.language
        by = segment_by_label(self.by, lang)
        parts = []
        if self.note:
            parts.append(tr(f"segments.msg.{self.note}", language=lang))
        elif self.status == AbStatus.NO_DATA:
            parts.append(tr("segments.msg.no_data", language=lang, by=by,
                            minimum=self.min_customers))
        else:
            tested = self.rows[self.rows["p_value"].notna()]
            small = self.rows.loc[self.rows["status"] == TOO_SMALL, "segment"].nunique()
            clear = tested[tested["significant"].astype(bool)]
            parts.append(tr("segments.msg.tested", language=lang, by=by,
                            n=tested["segment"].nunique(), clear=clear["segment"].nunique(),
                            correction=tr(f"abtest.ui.correction_{self.correction}",
                                          language=lang)))
            if small:
                parts.append(tr("segments.msg.small", language=lang, n=small,
                                minimum=self.min_customers))
            for variant, re in self.overall.items():
                if re.k < 2:
                    continue
                if re.tau2 > 0:
                    share = self.rows.loc[self.rows["variant"] == variant, "shrinkage"].mean()
                    parts.append(tr("segments.msg.differ", language=lang,
                                    arm=_arm(variant, lang),
                                    share=format_percent(share, digits=0, language=lang)))
                else:
                    parts.append(tr("segments.msg.same", language=lang,
                                    arm=_arm(variant, lang)))
        if not self.pre_treatment:
            parts.append(tr("segments.msg.post_treatment", language=lang, by=by,
                            day=str(self.segment_day)))
        return " ".join(parts)

    def figure(self) -> go.Figure:
        """Return a new forest chart: each segment's raw and shrunk effect with intervals."""
        frame = self.to_frame()
        frame["label"] = [segment_label(self.by, s, self.language) for s in frame["segment"]]
        frame["arm"] = [_arm(v, self.language) for v in frame["variant"]]
        return segment_forest(frame, metric=self.metric, by=segment_by_label(self.by,
                                                                             self.language),
                              overall={_arm(k, self.language): v.mu
                                       for k, v in self.overall.items()},
                              language=self.language)


def _arm(variant: str, language: str) -> str:
    return arm_label(variant, language)


# ------------------------------------------------------------------------------- labels


def segment_by_label(by: str, language: str) -> str:
    """Return the breakdown's name for people (a column of your own keeps its name).

    Examples
    --------
    >>> segment_by_label("churn_band", "en"), segment_by_label("region", "ko")
    ('churn-risk band', 'region')
    """
    return tr(f"segments.by.{by}", language=language) if by in SEGMENT_SOURCES else by


def segment_label(by: str, segment: str, language: str) -> str:
    """Return a segment's name for people: RFM segments and churn bands are translated.

    Examples
    --------
    >>> segment_label("churn_band", "high", "ko"), segment_label("member_tier", "", "en")
    ('위험 높음', 'none')
    """
    if segment == "":  # for RFM and churn: no order before the start day
        key = "segments.no_orders" if by in ("rfm_segment", "churn_band") else "segments.none"
        return tr(key, language=language)
    if by == "churn_band" and segment in ("high", "medium", "low"):
        return tr(f"churn.band.{segment}", language=language)
    if by == "rfm_segment":
        rules = load_segment_rules()
        if any(r.id == segment for r in rules.rules):
            return rules.label(segment, language)
    return segment


# ------------------------------------------------------------------------------- the maths


def _compare(metric: str, base: pd.Series, arm: pd.Series, names: tuple[str, str],
             alpha: float) -> Any:
    if metric == "conversion":
        return compare_proportions(ProportionStats(int(base["n"]), int(base["conversions"])),
                                   ProportionStats(int(arm["n"]), int(arm["conversions"])),
                                   exact=False, alpha=alpha, names=names, metric=metric)
    return welch_ttest(MeanStats(int(base["n"]), float(base["sum_revenue"]),
                                 float(base["sum_revenue_sq"])),
                       MeanStats(int(arm["n"]), float(arm["sum_revenue"]),
                                 float(arm["sum_revenue_sq"])),
                       alpha=alpha, names=names, metric=metric)


def _value(metric: str, row: pd.Series) -> float:
    n = float(row["n"])
    if n == 0:
        return math.nan
    return float(row["conversions" if metric == "conversion" else "sum_revenue"]) / n


def _segment_rows(sums: pd.DataFrame, baseline: str, variants: list[str], metric: str,
                  alpha: float, min_customers: int) -> list[dict[str, Any]]:
    """Return one row per (segment, treated arm): a test, or a ``too_small`` status row."""
    zero = pd.Series(dict.fromkeys(_SUMS, 0.0))
    by_key = {(str(r.segment), str(r.variant)): pd.Series(r._asdict())
              for r in sums.itertuples(index=False)}
    rows = []
    for segment in sorted(sums["segment"].astype(str).unique()):
        base = by_key.get((segment, baseline), zero)
        for v in variants:
            if v == baseline:
                continue
            arm = by_key.get((segment, v), zero)
            row = dict.fromkeys(SEGMENT_COLUMNS, math.nan)
            row.update(segment=segment, variant=v, control=baseline, n_control=int(base["n"]),
                       n_variant=int(arm["n"]), value_control=_value(metric, base),
                       value_variant=_value(metric, arm), significant=False)
            if min(int(base["n"]), int(arm["n"])) < min_customers:
                row["status"] = TOO_SMALL
            else:
                c = _compare(metric, base, arm, (baseline, v), alpha)
                row.update(status=str(c.status), effect=c.effect, ci_low=c.ci_low,
                           ci_high=c.ci_high, lift=c.lift, lift_ci_low=c.lift_ci_low,
                           lift_ci_high=c.lift_ci_high, p_value=c.p_value,
                           std_error=c.std_error)
            rows.append(row)
    return rows


def segment_lift_from_sums(
    sums: pd.DataFrame,
    *,
    by: str = "segment",
    metric: str = "conversion",
    baseline: str = "",
    alpha: float = 0.05,
    correction: str = "holm",
    method: str = "dl",
    min_customers: int = MIN_USERS,
    language: str = "en",
    campaign_id: str = "",
    segment_day: date | None = None,
    pre_treatment: bool = True,
    currency: str = "KRW",
    note: str = "",
) -> SegmentLiftResult:
    """Return the per-segment readout of per-(segment, arm) sums (the pure half).

    Parameters
    ----------
    sums
        One row per segment and arm: ``segment``, ``variant``, ``n``, ``conversions``,
        ``sum_revenue``, ``sum_revenue_sq`` (missing sums count as zero).
    by, metric
        The breakdown's name and ``conversion`` or ``revenue_per_user``.
    baseline
        The arm compared with (empty: ``holdout`` if present, else the first arm).
    alpha, correction
        Level of the intervals and the correction across all segments x arms tested (any of
        :data:`workbench.abtest.multiple.CORRECTIONS`).
    method
        ``dl`` (DerSimonian-Laird) or ``pm`` (Paule-Mandel) estimate of ``tau^2``.
    min_customers
        Segments with fewer customers in an arm get a ``too_small`` row instead of a test.

    Returns
    -------
    SegmentLiftResult

    Examples
    --------
    >>> sums = pd.DataFrame({"segment": ["a", "a", "b", "b"],
    ...                      "variant": ["holdout", "send"] * 2, "n": [500, 500, 400, 20],
    ...                      "conversions": [50, 75, 40, 4]})
    >>> r = segment_lift_from_sums(sums)
    >>> r.to_frame()[["segment", "status", "n_variant"]].values.tolist()
    [['a', 'ok', 500], ['b', 'too_small', 20]]
    >>> round(float(r.to_frame()["effect"].iloc[0]), 6)
    0.05
    """
    _check_choices(metric=metric, correction=correction, method=method)
    if isinstance(min_customers, bool) or not isinstance(min_customers, int) \
            or min_customers < 2:
        raise ParameterError(tr("segments.error.min_customers", got=repr(min_customers)))
    sums = sums.reindex(columns=["segment", "variant", *_SUMS])
    sums[list(_SUMS)] = sums[list(_SUMS)].fillna(0.0)
    sums["segment"] = sums["segment"].fillna("").astype(str)
    sums["variant"] = sums["variant"].astype(str)
    variants = _order_variants(sorted(sums["variant"].unique()))
    common = {"campaign_id": campaign_id, "by": by, "metric": metric,
              "segment_day": segment_day, "pre_treatment": pre_treatment, "alpha": float(alpha),
              "correction": correction, "method": method, "min_customers": min_customers,
              "language": language, "currency": currency, "note": note}
    if len(variants) < 2:
        return SegmentLiftResult(baseline=baseline, rows=pd.DataFrame(
            columns=list(SEGMENT_COLUMNS)), overall={}, status=AbStatus.NO_DATA, **common)
    baseline = baseline or (HOLDOUT if HOLDOUT in variants else variants[0])
    rows = pd.DataFrame(_segment_rows(sums, baseline, variants, metric, float(alpha),
                                      min_customers))
    tested = rows["p_value"].notna().to_numpy()
    rows["p_adjusted"] = math.nan
    if tested.any():
        rows.loc[tested, "p_adjusted"] = adjust_p_values(rows.loc[tested, "p_value"],
                                                         correction)
    rows["significant"] = (rows["p_adjusted"] < alpha).fillna(False).astype(bool)
    overall = {}
    for v in variants:
        ok = ((rows["variant"] == v) & rows["p_value"].notna()
              & (rows["std_error"] > 0)).to_numpy()
        if v == baseline or not ok.any():
            continue
        y, var = rows.loc[ok, "effect"], rows.loc[ok, "std_error"] ** 2
        overall[v] = pooled = random_effects(y, var, method)
        est, low, high, factor = shrink(y, var, pooled, float(alpha))
        rows.loc[ok, ["shrunk_effect", "shrunk_ci_low", "shrunk_ci_high", "shrinkage"]] = (
            np.column_stack([est, low, high, factor]))
    k = max((re.k for re in overall.values()), default=0)
    status = (AbStatus.NO_DATA if k == 0 else AbStatus.TOO_LITTLE_DATA if k < 2
              else AbStatus.OK)
    return SegmentLiftResult(baseline=baseline, rows=rows, overall=overall, status=status,
                             **common)


def _check_choices(**given: str) -> None:
    choices = {"metric": SEGMENT_METRICS, "correction": CORRECTIONS, "method": TAU_METHODS}
    for name, value in given.items():
        if value not in choices[name]:
            raise ParameterError(tr("segments.error.choice", name=name,
                                    choices=list(choices[name]), got=repr(value)))


# ------------------------------------------------------------------------------- the store


def segment_choices(con: BaseBackend) -> list[str]:
    """Return what a campaign can be broken down by in this store.

    The named breakdowns first, then the non-personal text and yes/no columns of
    ``customers`` and of the snapshot (``customer_id`` and personal data never).
    """
    pii = {c.name for c in TABLES["customers"].columns if c.pii}
    out = list(SEGMENT_SOURCES)
    tables = con.list_tables()
    for name in ("customers", SNAPSHOT_TABLE):
        if name not in tables:
            continue
        schema = con.table(name).schema()
        for col, dtype in schema.items():
            if col in pii or col == "customer_id" or col in out:
                continue
            if dtype.is_string() or dtype.is_boolean():
                out.append(col)
    return out


def _segments(con: BaseBackend, by: str, day: date, settings: Settings, store: str | None
              ) -> tuple[ibis.Table | None, bool]:
    """Return ``(customer_id, segment)`` as of ``day`` and whether it is pre-treatment.

    ``None`` for the churn band when no model is saved yet.
    """
    if by == "rfm_segment":
        facts = store_segments(con, day, settings=settings)
        return facts.select("customer_id", segment=facts.segment.cast("string")), True
    if by == "churn_band":
        # The churn package loads scikit-learn (1.5 s measured after workbench.ui.abtest);
        # the A/B page lists the breakdowns at load and needs it only when this one is picked.
        from workbench.churn import BandRule, load_model, models_dir, saved_name, score

        folder = models_dir(settings, store=store)
        if not (folder / f"{saved_name()}.skops").is_file():
            return None, True
        model = load_model(saved_name(), folder=folder)
        scored = score(con, day, model, settings=settings, band_rule=BandRule(),
                       explain=False)
        frame = pd.DataFrame({"customer_id": scored.index.astype(str),
                              "segment": scored["risk_band"].astype(str).to_numpy()})
        return ibis.memtable(frame), True
    tables = con.list_tables()
    if "customers" in tables and by in con.table("customers").columns:
        t = con.table("customers")
        return t.select("customer_id", segment=t[by].cast("string")), True
    found = latest_snapshot(con, [by])
    snap, snap_day = found  # segment_choices listed it, so the snapshot has it
    return snap.select("customer_id", segment=snap[by].cast("string")), snap_day <= day


def _segment_sums(con: BaseBackend, params: AbTestParams, row: dict[str, Any],
                  segments: ibis.Table, settings: Settings) -> pd.DataFrame:
    start = pd.Timestamp(row["started_at"])
    customers = customer_outcomes(
        con.table("assignments"), con.table("orders"), campaign_id=str(row["campaign_id"]),
        start=start, window_days=int(params.window_days), pre_days=0,
        end=_as_of_instant(params.as_of, settings.timezone),
        count_cancelled=bool(params.count_cancelled))
    j = customers.left_join(segments, customers.customer_id == segments.customer_id)
    t = j.mutate(segment=j.segment.fill_null(""))
    out = t.group_by(["segment", "variant"]).aggregate(
        n=t.count(), conversions=t.converted.sum(), sum_revenue=t.revenue.sum(),
        sum_revenue_sq=(t.revenue * t.revenue).sum())
    return out.to_pyarrow().to_pandas()


def lift_by_segment(
    con: BaseBackend,
    params: AbTestParams | str,
    *,
    by: str,
    metric: str = "conversion",
    method: str = "dl",
    min_customers: int = MIN_USERS,
    settings: Settings | None = None,
) -> SegmentLiftResult:
    """Return a campaign's lift per segment: raw, corrected, and shrunk to the overall effect.

    Parameters
    ----------
    con
        Ibis backend of the store.
    params
        The readout's :class:`AbTestParams` (campaign, window, as_of, alpha, correction,
        control) or a campaign id (default parameters otherwise).
    by
        ``rfm_segment``, ``churn_band``, ``member_tier``, ``acquisition_channel`` or any
        other column of :func:`segment_choices` (see the module docstring for what date each
        is taken as of).
    metric
        ``conversion`` or ``revenue_per_user``.
    method
        ``tau^2`` estimator of the shrinkage: ``dl`` (DerSimonian-Laird) or ``pm``.
    min_customers
        Segments with fewer customers than this in an arm get a status row, not a test.
    settings
        Time zone, currency, language; default: ``workbench.toml``.

    Returns
    -------
    SegmentLiftResult

    Raises
    ------
    ParameterError
        An unknown ``by`` (the message lists the choices), metric, method or campaign, or a
        data file instead of a campaign.
    """
    settings = settings or load_settings()
    if isinstance(params, str):
        params = AbTestParams(campaign_id=params)
    if not isinstance(params, AbTestParams):
        raise ParameterError(tr("abtest.error.params_type", got=type(params).__name__))
    if params.data_file:
        raise ParameterError(tr("segments.error.data_file", got=repr(params.data_file)))
    choices = segment_choices(con)
    if by not in choices:
        raise ParameterError(tr("segments.error.by", got=repr(by), choices=choices))
    language = params.language or settings.language
    common = {"by": by, "metric": metric, "alpha": float(params.alpha),
              "correction": params.correction, "method": method,
              "min_customers": min_customers, "language": language,
              "currency": settings.currency}
    tables = con.list_tables()
    row = (_campaign_row(con, params, params.as_of, settings)
           if {"assignments", "orders"} <= set(tables) else None)
    start = None if row is None else row.get("started_at")
    if row is None or start is None or pd.isna(start):
        return segment_lift_from_sums(pd.DataFrame(columns=["segment", "variant"]), **common)
    start = local_instant(start, settings.timezone)
    day = start.date()
    segments, pre = _segments(con, by, day, settings, params.store or None)
    common.update(campaign_id=str(row["campaign_id"]), segment_day=day, pre_treatment=pre)
    if segments is None:  # no churn model yet: the message says how to get one
        return segment_lift_from_sums(pd.DataFrame(columns=["segment", "variant"]),
                                      note="no_model", **common)
    sums = _segment_sums(con, params, row, segments, settings)
    legacy = _legacy_send(sums["variant"].astype(str).unique().tolist())
    sums["variant"] = sums["variant"].astype(str).replace(legacy)
    baseline = legacy.get(params.control, params.control)
    return segment_lift_from_sums(sums, baseline=baseline, **common)
