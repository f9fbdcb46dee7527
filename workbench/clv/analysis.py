"""The CLV report: purchase and spend models, per-customer value, holdout validation.

:func:`run_clv` builds the customer summary in the backend, fits the purchase model (BG/NBD
by default, or Pareto/NBD) and the Gamma-Gamma spend model, predicts per customer and
aggregates by value band and RFM segment. Unless ``holdout_weeks`` is 0 it also refits both
purchase models on the data before ``as_of - holdout_weeks`` and scores them on the weeks that
follow (totals, error per customer, the tracking chart), which is what the plain-language
quality summary reports. Data problems (no orders, too little history) come back as a status
and a message; only caller mistakes raise.

The analysis returns numbers and statuses: :class:`ClvResult` words them (its ``message``, the
model-quality ``quality`` and :meth:`ClvResult.summary`) in the reader's language when they are
shown, so the sentences always agree with the numbers beside them.

Value bands (``clv_band``)
    ``high``: the customer's CLV is above that of 80% of the customers (top 20%);
    ``medium``: above 50% (the next 30%); ``low``: the rest. The share is ``cume_dist`` (the
    share of customers with a CLV at most this one), so equal values share a band.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.clv._base import (
    MIN_HISTORY_DAYS,
    MIN_REPEAT_BUYERS,
    MIN_REPEATERS_3,
    DataCheck,
    data_check,
)
from workbench.clv.bgnbd import BetaGeo
from workbench.clv.channels import ChannelValue, channel_value
from workbench.clv.gamma_gamma import GammaGamma
from workbench.clv.intervals import range_profile, snapshot_fit, with_ranges
from workbench.clv.next_order import page_tables
from workbench.clv.pareto_nbd import ParetoNBD
from workbench.clv.validation import (
    COMPARISON_COLUMNS,
    TRACKING_COLUMNS,
    by_frequency,
    calibration_holdout,
    compare_models,
    tracking_data,
)
from workbench.clv.value import customer_value
from workbench.data.memo import Memo, memo_key
from workbench.data.people import masked_contacts
from workbench.data.snapshot import SnapshotPart, snapshot_for
from workbench.errors import ParameterError, WorkbenchWarning
from workbench.features import UNITS, facts_for
from workbench.i18n import format_date, format_money, format_number, format_percent, tr
from workbench.params import NotebookParams, param
from workbench.results import Readable, ResultMixin, Status
from workbench.rfm.migration import segmented_facts
from workbench.rfm.segments import load_segment_rules
from workbench.settings import Settings, load_settings
from workbench.viz.clv import (
    clv_by_segment,
    clv_distribution,
    frequency_recency_matrix,
    holdout_by_frequency,
    tracking_figure,
)
from workbench.viz.clv_intervals import store_value_ranges, top_customer_ranges
from workbench.viz.next_order import next_order_weeks, reliability_figure

__all__ = ["BANDS", "CUSTOMER_COLUMNS", "MODELS", "PART_COLUMNS", "ClvFit", "ClvParams",
           "ClvResult", "clv_part", "clv_predictions", "fitted_clv", "run_clv"]

#: Purchase models by name.
MODELS = {"bgnbd": BetaGeo, "pareto_nbd": ParetoNBD}
#: Value bands, highest first, with the cume_dist above which a customer enters them.
BANDS = (("high", 0.8), ("medium", 0.5), ("low", 0.0))
#: Columns of the snapshot part (:func:`clv_part`).
PART_COLUMNS = ("customer_id", "expected_purchases_90d", "p_alive", "expected_spend", "clv",
                "clv_band")
#: Columns of :attr:`ClvResult.customers`.
CUSTOMER_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value",
                    "expected_purchases_90d", "p_alive", "expected_spend", "clv", "clv_band",
                    "segment")
_UNIT = "W"
_DAYS_90 = 90 / 7  # 90 days in weeks


@dataclass(frozen=True, slots=True)
class ClvParams(NotebookParams):
    """Parameters of the CLV report (``notebooks/clv.ipynb``).

    Parameters
    ----------
    model
        Purchase model: ``bgnbd`` (BG/NBD, the default) or ``pareto_nbd``.
    horizon_months
        CLV horizon in calendar months (1-120; default 12).
    monthly_discount_rate
        Discount rate per month in [0, 0.2] (default 0.01, about 12.7% a year).
    gross_margin
        Share of revenue kept as margin, in (0, 1]; 0 means the ``gross_margin`` setting.
    holdout_weeks
        Weeks before ``as_of`` kept out of the fit to check the model (0: no check; 4-104).
    top_n
        Customers in the top-value list (1-200).
    """

    model: str = param("bgnbd", choices=tuple(MODELS))
    horizon_months: int = param(12, low=1, high=120)
    monthly_discount_rate: float = param(0.01, low=0.0, high=0.2)
    gross_margin: float = param(0.0, low=0.0, high=1.0)
    holdout_weeks: int = param(26, low=0, high=104, gap=(0, 4))
    top_n: int = param(20, low=1, high=200)


@dataclass(frozen=True, slots=True, eq=False)
class ClvResult(Readable, ResultMixin):
    """Customer lifetime value as of a date, with the models behind it and their holdout check.

    The fields are numbers, statuses and labels; the sentences (:attr:`message`,
    :attr:`quality`, :meth:`summary`) are made from them when they are shown, in
    :attr:`language` or in the one asked for (:meth:`message_in`, :meth:`quality_in`).

    Parameters
    ----------
    as_of, currency, language, model, horizon_months, monthly_discount_rate, gross_margin
        What was computed, and how money and text are shown.
    customers
        One row per customer with a net order before ``as_of``: :data:`CUSTOMER_COLUMNS`
        (``recency`` and ``T`` in weeks; ``clv`` in the shop's currency, margin only).
    parameters
        Tidy table of fitted parameters: ``model``, ``parameter``, ``estimate``,
        ``standard_error``, ``lower``, ``upper`` (95%), for the purchase model, Gamma-Gamma
        and, with a holdout, both calibration models (``model`` suffixed ``_calibration``).
    bands
        ``band``, ``customers``, ``share``, ``clv_total``, ``clv_share``, ``clv_mean``,
        ``clv_min`` (highest band first).
    by_segment
        ``segment``, ``label``, ``customers``, ``clv_total``, ``clv_share``, ``clv_mean``,
        ``p_alive_mean``, ``expected_purchases_90d`` (sum), by total CLV descending.
    top_customers
        The ``top_n`` customers by CLV with masked ``name`` and ``phone``, and the 80% range
        of their value (``clv_low``, ``clv_high``; :mod:`workbench.clv.intervals`; NaN for
        Pareto/NBD).
    matrix
        Frequency/recency grid for a customer of the longest tenure: ``frequency``,
        ``recency`` (weeks), ``T``, ``expected_purchases_90d``, ``p_alive``.
    comparison, by_frequency, tracking
        Holdout check (empty without one): per-model accuracy (see
        :func:`workbench.clv.validation.compare_models`), mean predicted vs actual holdout
        purchases by calibration frequency, and the weekly tracking data.
    calibration_end
        End of the calibration period (``None`` without a holdout check).
    holdout_weeks
        Weeks before ``as_of`` asked for the holdout check (0: none).
    data_check
        Repeat buyers, three-time buyers and days of history the models were given (``None``
        without orders); with ``TOO_LITTLE_DATA`` it says what is missing.
    status
        ``OK``, ``NO_DATA`` (no net orders before ``as_of``) or ``TOO_LITTLE_DATA``.
    next_order_weeks, next_order_reliability, next_order_ece
        Next-order predictions (:func:`workbench.clv.next_order.page_tables`): customers by
        week of expected next order, the reliability table of the 30-day probability on a
        90-day holdout (``model`` ``blend`` or ``bgnbd``) and its ECE; ``None`` when not OK.
    by_channel
        Value of a new customer and acquisition cost by acquisition channel
        (:func:`workbench.clv.channels.channel_value`: 12 months, BG/NBD and Gamma-Gamma with
        covariates); ``None`` when not OK.
    value_ranges
        Mean value and 80% range by value percentile from the snapshot
        (:func:`workbench.clv.intervals.range_profile`); ``None`` unless the snapshot is for
        ``as_of`` and the options are its definition.
    """

    as_of: date
    currency: str
    language: str
    model: str
    horizon_months: int
    monthly_discount_rate: float
    gross_margin: float
    customers: pd.DataFrame
    parameters: pd.DataFrame
    bands: pd.DataFrame
    by_segment: pd.DataFrame
    top_customers: pd.DataFrame
    matrix: pd.DataFrame
    comparison: pd.DataFrame
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    calibration_end: date | None = None
    holdout_weeks: int = 0
    data_check: DataCheck | None = None
    status: Status = Status.OK
    next_order_weeks: pd.DataFrame | None = None
    next_order_reliability: pd.DataFrame | None = None
    next_order_ece: float = math.nan
    by_channel: ChannelValue | None = None
    value_ranges: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return CLV by RFM segment (one row per segment)."""
        return self.by_segment.copy()

    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway, or what is missing, in ``language`` (default the result's)."""
        lang = language or self.language
        if self.status == Status.NO_DATA:
            return tr("clv.message.no_data", language=lang,
                      as_of=format_date(self.as_of, language=lang))
        if self.status == Status.TOO_LITTLE_DATA:
            check = self.data_check
            return tr("clv.message.too_little", language=lang,
                      customers=format_number(check.customers, language=lang),
                      repeat=format_number(check.repeat_buyers, language=lang),
                      three=format_number(check.repeaters_3, language=lang),
                      days=format_number(check.history_days, language=lang),
                      need_repeat=MIN_REPEAT_BUYERS, need_three=MIN_REPEATERS_3,
                      need_days=MIN_HISTORY_DAYS)
        c = self.customers
        total = float(c["clv"].sum())
        high = c[c["clv_band"] == "high"]
        share = float(high["clv"].sum()) / total if total else 0.0
        return tr("clv.message.headline", language=lang, months=self.horizon_months,
                  total=format_money(total, self.currency, language=lang, style=None),
                  customers=format_number(len(c), language=lang),
                  share=format_percent(share, digits=0, language=lang),
                  high=format_number(len(high), language=lang))

    @property
    def quality_grade(self) -> str:
        """How well the purchase model predicted the holdout weeks it did not see.

        ``good`` (total within 10% of what happened), ``fair`` (within 25%) or ``poor``;
        ``unchecked`` without a holdout (``holdout_weeks`` 0) and ``too_little`` when the data
        before the holdout were too few to fit; ``""`` when there is no result.
        """
        if not self.ok:
            return ""
        if not self.holdout_weeks:
            return "unchecked"
        if self.comparison.empty:
            return "too_little"
        error = abs(float(self.comparison.set_index("model").loc[self.model, "error_pct"]))
        return "good" if error <= 10 else ("fair" if error <= 25 else "poor")

    @property
    def quality(self) -> str:
        """Plain-language summary of the holdout check, in the result's language."""
        return self.quality_in()

    def quality_in(self, language: str | None = None) -> str:
        """Return the summary of the holdout check in ``language`` (default the result's)."""
        lang = language or self.language
        grade = self.quality_grade
        if grade in ("", "unchecked", "too_little"):
            return tr(f"clv.quality.{grade}", language=lang,
                      weeks=self.holdout_weeks) if grade else ""
        comp = self.comparison.set_index("model")
        row = comp.loc[self.model]
        error = float(row["error_pct"])
        other = next(m for m in MODELS if m != self.model)
        better = other if comp.loc[other, "mae"] < row["mae"] else self.model
        return tr(f"clv.quality.{grade}", language=lang,
                  model=tr(f"clv.model.{self.model}", language=lang),
                  weeks=self.holdout_weeks,
                  cal_end=format_date(self.calibration_end, language=lang),
                  predicted=format_number(row["predicted_total"], language=lang),
                  actual=format_number(row["actual_total"], language=lang),
                  error=format_number(abs(error), digits=1, language=lang),
                  direction=tr("clv.quality.over" if error > 0 else "clv.quality.under",
                               language=lang),
                  mae=format_number(row["mae"], digits=2, language=lang),
                  better=tr(f"clv.model.{better}", language=lang),
                  other_error=format_number(abs(float(comp.loc[other, "error_pct"])),
                                            digits=1, language=lang),
                  other=tr(f"clv.model.{other}", language=lang))

    def headline(self) -> list[dict[str, Any]]:
        """Return the total and mean CLV and the share of customers likely alive, formatted."""
        if not self.ok:
            return []
        c, lang = self.customers, self.language
        items = [
            ("clv.total", "clv.headline.total", format_money(c["clv"].sum(), self.currency,
                                                            language=lang, style=None)),
            ("clv.mean", "clv.headline.mean", format_money(c["clv"].mean(), self.currency,
                                                          language=lang, style=None)),
            ("clv.alive", "clv.headline.alive",
             format_percent(float((c["p_alive"] >= 0.5).mean()), language=lang)),
        ]
        return [{"metric": m, "label": tr(k, language=lang), "value": v, "change": "",
                 "change_pct": math.nan, "direction": "flat"} for m, k, v in items]

    def summary(self) -> str:
        """Return the takeaway, the value bands and the model-quality paragraph."""
        if not self.ok:
            return self.message
        lines = [self.message]
        for row in self.bands.itertuples():
            lines.append(f"- {tr(f'clv.band.{row.band}', language=self.language)}: "
                         f"{format_number(row.customers, language=self.language)} · "
                         f"{format_money(row.clv_total, self.currency, language=self.language)}")
        if self.quality:
            lines.append(self.quality)
        return "\n".join(lines)

    def figure_distribution(self) -> go.Figure:
        """Return a new histogram of CLV per customer with the band cut points."""
        return clv_distribution(self.customers, self.bands, currency=self.currency,
                                language=self.language)

    def figure_segments(self) -> go.Figure:
        """Return a new bar chart of total and mean CLV by RFM segment."""
        return clv_by_segment(self.by_segment, currency=self.currency, language=self.language)

    def figure_matrix(self, value: str = "expected_purchases_90d") -> go.Figure:
        """Return a new frequency/recency heat map of ``value`` (or ``p_alive``)."""
        return frequency_recency_matrix(self.matrix, value=value, language=self.language)

    def figure_tracking(self) -> go.Figure:
        """Return a new tracking chart (weekly and cumulative, actual vs models)."""
        return tracking_figure(self.tracking, language=self.language)

    def figure_by_frequency(self) -> go.Figure:
        """Return a new chart of predicted vs actual holdout purchases by frequency."""
        return holdout_by_frequency(self.by_frequency, language=self.language)

    def figure_next_order(self) -> go.Figure | None:
        """Return a new chart of customers by week of expected next order (``None``: none)."""
        if self.next_order_weeks is None:
            return None
        return next_order_weeks(self.next_order_weeks, language=self.language)

    def figure_reliability(self) -> go.Figure | None:
        """Return a new reliability curve of the 30-day purchase probability, or ``None``."""
        table = self.next_order_reliability
        if table is None or table.empty:
            return None
        return reliability_figure(table[table["model"] == "blend"], ece=self.next_order_ece,
                                  raw=table[table["model"] == "bgnbd"], language=self.language)

    def figure_ranges(self) -> go.Figure:
        """Return a new chart of the top customers' values with their 80% ranges."""
        return top_customer_ranges(self.top_customers, currency=self.currency,
                                   language=self.language)

    def figure_store_ranges(self) -> go.Figure | None:
        """Return a new chart of value and 80% range by value percentile (``None``: none)."""
        if self.value_ranges is None:
            return None
        return store_value_ranges(self.value_ranges, currency=self.currency,
                                  language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the CLV distribution."""
        return self.figure_distribution()


# ---------------------------------------------------------------------------------- predictions
def clv_predictions(summary: pd.DataFrame, *, as_of: date, model: str = "bgnbd",
                    horizon_months: int = 12, monthly_discount_rate: float = 0.01,
                    margin: float = 0.3) -> tuple[pd.DataFrame, Any, GammaGamma]:
    """Fit the purchase and spend models on ``summary`` and predict every customer's value.

    Returns
    -------
    tuple
        The frame (index ``customer_id``; ``expected_purchases_90d``, ``p_alive``,
        ``expected_spend``, ``clv``, ``clv_band``), the fitted purchase model and the fitted
        Gamma-Gamma model.

    Raises
    ------
    workbench.errors.TooLittleDataError
        The data are too thin for the purchase model (see
        :class:`workbench.clv._base.DataCheck`).
    """
    purchase, spend_model = _fit_models(summary, model)
    out = _with_value(summary, purchase, _scores(summary, purchase, spend_model), as_of=as_of,
                      horizon_months=horizon_months,
                      monthly_discount_rate=monthly_discount_rate, margin=margin)
    return out, purchase, spend_model


def _fit_models(summary: pd.DataFrame, model: str) -> tuple[Any, GammaGamma]:
    """Return the purchase model ``model`` and Gamma-Gamma fitted on ``summary``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)  # the refusal below says it all
        purchase = MODELS[model]().fit(summary)
        spend_model = GammaGamma().fit(summary)
    return purchase, spend_model


def _scores(summary: pd.DataFrame, purchase: Any, spend_model: GammaGamma) -> pd.DataFrame:
    """Return the predictions that do not depend on the horizon or the discount rate."""
    return pd.DataFrame({
        "expected_purchases_90d": purchase.expected_purchases(_DAYS_90, summary),
        "p_alive": purchase.p_alive(summary),
        "expected_spend": spend_model.expected_spend(summary),
    }, index=summary.index)


def _with_value(summary: pd.DataFrame, purchase: Any, scores: pd.DataFrame, *, as_of: date,
                horizon_months: int, monthly_discount_rate: float, margin: float
                ) -> pd.DataFrame:
    """Return ``scores`` (not modified) with ``clv`` over the horizon and ``clv_band``."""
    out = scores.copy()
    out["clv"] = customer_value(purchase, summary, scores["expected_spend"], as_of=as_of,
                                horizon_months=horizon_months, margin=margin,
                                monthly_discount_rate=monthly_discount_rate, unit=_UNIT)
    out["clv_band"] = value_bands(out["clv"])
    return out


def value_bands(clv: pd.Series) -> pd.Series:
    """Return ``high`` / ``medium`` / ``low`` per customer (see the module docstring).

    Examples
    --------
    >>> value_bands(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])).tolist()[-3:]
    ['medium', 'high', 'high']
    """
    share = clv.rank(method="max", pct=True)  # cume_dist: ties get the same share
    band = np.select([share > BANDS[0][1], share > BANDS[1][1]], ["high", "medium"], "low")
    return pd.Series(band, index=clv.index, name="clv_band")


def clv_part(con: Any, *, as_of: date, settings: Settings) -> ibis.Table | None:
    """Return the CLV columns of the per-customer snapshot (default parameters).

    BG/NBD and Gamma-Gamma on all history before ``as_of``, a 12-month horizon, the margin
    setting and a 1% monthly discount rate.

    Returns
    -------
    ibis.Table or None
        An in-memory table with :data:`PART_COLUMNS`: ``customer_id`` (string),
        ``expected_purchases_90d``, ``p_alive``, ``expected_spend``, ``clv`` (float64) and
        ``clv_band`` (string); ``None`` when the store has no orders or too little data for
        the models (the snapshot's CLV columns are then null).
    """
    fit = snapshot_fit(con, as_of, settings)  # shared with the CLV ranges' part
    if fit is None:
        return None
    summary, purchase, spend_model = fit
    params = ClvParams(as_of=as_of)
    frame = _with_value(summary, purchase, _scores(summary, purchase, spend_model),
                        as_of=as_of, horizon_months=params.horizon_months,
                        monthly_discount_rate=params.monthly_discount_rate,
                        margin=float(settings.gross_margin))
    frame = frame.reset_index().loc[:, list(PART_COLUMNS)]
    frame = frame.astype({"customer_id": str, "clv_band": str})
    schema = ibis.schema({"customer_id": "string", "expected_purchases_90d": "float64",
                          "p_alive": "float64", "expected_spend": "float64", "clv": "float64",
                          "clv_band": "string"})
    return ibis.memtable(frame, schema=schema)


#: The CLV columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("clv", PART_COLUMNS[1:], clv_part)


# ---------------------------------------------------------------------------------- the report
def run_clv(con: Any, params: ClvParams, settings: Settings | None = None) -> ClvResult:
    """Compute customer lifetime value for ``params.as_of`` and check the model on a holdout.

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    params
        ``as_of`` (required) and the :class:`ClvParams` options.
    settings
        Time zone, currency, margin and language; default ``workbench.toml``.

    Returns
    -------
    ClvResult
        ``status`` is ``NO_DATA`` without net orders before ``as_of`` and
        ``TOO_LITTLE_DATA`` when the models refuse the data (the message says what is
        missing).

    Raises
    ------
    ParameterError
        ``params`` is not a :class:`ClvParams` or has no ``as_of``.
    """
    if not isinstance(params, ClvParams):
        raise ParameterError(tr("clv.run.params", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("clv.run.as_of"))
    settings = settings or load_settings()
    margin = float(params.gross_margin) or float(settings.gross_margin)
    base = {"as_of": params.as_of, "currency": settings.currency,
            "language": params.language or settings.language, "model": params.model,
            "horizon_months": int(params.horizon_months),
            "monthly_discount_rate": float(params.monthly_discount_rate),
            "gross_margin": margin, "holdout_weeks": int(params.holdout_weeks)}
    store = memo_key(con)  # the store and its data version: computed once per run
    fit = fitted_clv(con, params.as_of, params.model, settings, store=store)
    if fit.status != Status.OK:
        return _empty_result(base, fit.status, fit.check)
    predictions = _with_value(fit.summary, fit.purchase, fit.scores, as_of=params.as_of,
                              horizon_months=int(params.horizon_months),
                              monthly_discount_rate=float(params.monthly_discount_rate),
                              margin=margin)
    customers = fit.summary.join(predictions)
    customers = customers.join(fit.segments)
    customers = customers.reset_index().loc[:, list(CUSTOMER_COLUMNS)]
    parameters = fit.parameters
    holdout = _holdout(con, params, settings, store) if params.holdout_weeks else None
    if holdout is not None:
        parameters = pd.concat([parameters, holdout["parameters"]], ignore_index=True)
    return ClvResult(
        **base, customers=customers, parameters=parameters.copy(),
        bands=_bands(customers), by_segment=_by_segment(customers, base["language"]),
        top_customers=with_ranges(
            _top(con, customers, int(params.top_n)), fit.purchase, fit.spend_model,
            fit.summary, as_of=params.as_of, horizon_months=base["horizon_months"],
            monthly_discount_rate=base["monthly_discount_rate"], margin=margin),
        matrix=fit.matrix.copy(),
        comparison=holdout["comparison"].copy() if holdout else _frame(COMPARISON_COLUMNS),
        by_frequency=holdout["by_frequency"].copy() if holdout else _frame(BY_FREQUENCY),
        tracking=holdout["tracking"].copy() if holdout else _frame(TRACKING_COLUMNS),
        calibration_end=holdout["calibration_end"] if holdout else None, data_check=fit.check,
        by_channel=channel_value(con, params.as_of, settings, summary=fit.summary, store=store,
                                 margin=margin, language=base["language"]),
        value_ranges=range_profile(con, params.as_of, model=params.model,
                                   horizon_months=base["horizon_months"],
                                   monthly_discount_rate=base["monthly_discount_rate"],
                                   margin=margin, settings=settings),
        **page_tables(con, params.as_of, settings))


# ----------------------------------------------------------------------------- the heavy part
# A widget on the page (horizon, discount rate, top list) changes only the view: the summary,
# the fitted models and the holdout check depend on the store's data, as_of, the model and
# holdout_weeks. They are kept per process (workbench.data.memo: keyed on the store's data
# version, so a load or a refresh computes them again), and run_clv only values and groups.
# Both calibration models are fitted for either report model, so the holdout check is shared
# by the two model choices of the form too.
_FITS = Memo("clv.fit", size=4)
_HOLDOUTS = Memo("clv.holdout", size=4)
_HOLDOUT_VIEWS = Memo("clv.holdout_view", size=8)


@dataclass(frozen=True, slots=True)
class ClvFit:
    """The part of a CLV report that does not depend on the horizon, discount or top list.

    Shared between results (:func:`fitted_clv` keeps it): never modify its frames.
    """

    status: Status
    check: DataCheck | None = None
    summary: pd.DataFrame | None = None
    segments: pd.Series | None = None
    purchase: Any = None
    spend_model: GammaGamma | None = None
    scores: pd.DataFrame | None = None
    parameters: pd.DataFrame | None = None
    matrix: pd.DataFrame | None = None


def fitted_clv(con: Any, as_of: date, model: str, settings: Settings, *,
               store: tuple | None = None) -> ClvFit:
    """Return the summary, segments and fitted models as of ``as_of`` (kept per process).

    ``store`` is :func:`workbench.data.memo.memo_key` of ``con`` when the caller has it.
    """
    rules = load_segment_rules()
    key = (*(store or memo_key(con)), as_of, model, settings.timezone,
           tuple((r.id, r.r, r.f, r.m) for r in rules.rules))
    return _FITS.get(key, lambda: _fit_clv(con, as_of, model, settings))


def _fit_clv(con: Any, as_of: date, model: str, settings: Settings) -> ClvFit:
    summary, segments = (_summary_and_segments(con, as_of, settings)
                         if "orders" in con.list_tables() else (pd.DataFrame(), None))
    if summary.empty:
        return ClvFit(Status.NO_DATA)
    check = data_check(summary)
    if not check.enough:
        return ClvFit(Status.TOO_LITTLE_DATA, check)
    purchase, spend_model = _fit_models(summary, model)
    parameters = pd.concat([_parameters(model, purchase),
                            _parameters("gamma_gamma", spend_model)], ignore_index=True)
    return ClvFit(Status.OK, check, summary, segments, purchase, spend_model,
                  _scores(summary, purchase, spend_model), parameters,
                  frequency_recency_grid(purchase, summary))


BY_FREQUENCY = ("frequency", "customers", "predicted", "actual")


def _frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _empty_result(base: dict[str, Any], status: Status, check: DataCheck | None = None
                  ) -> ClvResult:
    return ClvResult(**base, customers=_frame(CUSTOMER_COLUMNS),
                     parameters=_frame(("model", "parameter", "estimate", "standard_error",
                                        "lower", "upper")),
                     bands=_frame(("band", "customers", "share", "clv_total", "clv_share",
                                   "clv_mean", "clv_min")),
                     by_segment=_frame(("segment", "label", "customers", "clv_total",
                                        "clv_share", "clv_mean", "p_alive_mean",
                                        "expected_purchases_90d")),
                     top_customers=_frame(("customer_id", "name", "phone", "clv", "clv_low",
                                                 "clv_high")),
                     matrix=_frame(("frequency", "recency", "T", "expected_purchases_90d",
                                    "p_alive")),
                     comparison=_frame(COMPARISON_COLUMNS), by_frequency=_frame(BY_FREQUENCY),
                     tracking=_frame(TRACKING_COLUMNS), data_check=check, status=status)


def _parameters(name: str, model: Any) -> pd.DataFrame:
    table = model.summary_.reset_index(names="parameter")
    table.insert(0, "model", name)
    return table


def _summary_and_segments(con: Any, as_of: date, settings: Settings, *,
                          snapshot: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Return :func:`clv_summary` and the RFM segment per customer.

    The segments come from the snapshot when it is for ``as_of`` and knows every customer
    (the same default RFM scoring and rules, computed at the refresh: 0.07 s instead of 0.7 s
    at 100k customers), else from the same query as the summary. The facts leave out the top
    category and the median gap, which neither needs (DuckDB would still compute them: 4.2 s
    instead of 1.0 s at 100k customers).
    """
    facts = facts_for(con, as_of, settings=settings, unit=_UNIT, top_category=False,
                      median=False)
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    snap = snapshot_for(con, as_of, ["segment"]) if snapshot else None
    if snap is None:
        # RFM scores use recency_days, orders and net_revenue, which do not depend on the unit.
        facts = segmented_facts(facts, load_segment_rules())
        columns.append("segment")
    frame = facts.select(*columns).to_pyarrow().to_pandas()
    frame = frame.set_index("customer_id").sort_index()
    if snap is None:
        segments = frame.pop("segment")
    else:
        known = snap.filter(snap.segment.notnull()).select("customer_id", "segment")
        segments = known.to_pyarrow().to_pandas().set_index("customer_id")["segment"]
        segments = segments.reindex(frame.index)
        if segments.isna().any():  # a customer the snapshot does not know: score them now
            return _summary_and_segments(con, as_of, settings, snapshot=False)
    summary = frame.astype(float)
    summary.attrs.update(unit=_UNIT, as_of=as_of.isoformat(), unit_days=UNITS[_UNIT])
    return summary, segments


def _bands(customers: pd.DataFrame) -> pd.DataFrame:
    total = float(customers["clv"].sum())
    rows = []
    for band, _ in BANDS:
        part = customers.loc[customers["clv_band"] == band, "clv"]
        rows.append({"band": band, "customers": len(part), "share": len(part) / len(customers),
                     "clv_total": float(part.sum()),
                     "clv_share": float(part.sum()) / total if total else math.nan,
                     "clv_mean": float(part.mean()) if len(part) else math.nan,
                     "clv_min": float(part.min()) if len(part) else math.nan})
    return pd.DataFrame(rows)


def _by_segment(customers: pd.DataFrame, language: str) -> pd.DataFrame:
    rules = load_segment_rules()
    total = float(customers["clv"].sum())
    grouped = customers.groupby("segment", dropna=False).agg(
        customers=("clv", "size"), clv_total=("clv", "sum"), clv_mean=("clv", "mean"),
        p_alive_mean=("p_alive", "mean"),
        expected_purchases_90d=("expected_purchases_90d", "sum")).reset_index()
    grouped["clv_share"] = grouped["clv_total"] / total if total else math.nan
    grouped["label"] = [rules.label(s, language) if isinstance(s, str) else "–"
                        for s in grouped["segment"]]
    grouped = grouped.sort_values("clv_total", ascending=False, kind="stable")
    return grouped.loc[:, ["segment", "label", "customers", "clv_total", "clv_share",
                           "clv_mean", "p_alive_mean", "expected_purchases_90d"]].reset_index(
        drop=True)


def _top(con: Any, customers: pd.DataFrame, n: int) -> pd.DataFrame:
    top = customers.nlargest(n, "clv").loc[:, ["customer_id", "segment", "frequency",
                                                "p_alive", "expected_purchases_90d",
                                                "expected_spend", "clv", "clv_band"]]
    contacts = masked_contacts(con, top["customer_id"].tolist())
    out = top.merge(contacts, on="customer_id", how="left")
    first = ["customer_id", "name", "phone"]
    return out.loc[:, first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def frequency_recency_grid(model: Any, summary: pd.DataFrame, *, max_frequency: int | None = None,
                           recency_bins: int = 20) -> pd.DataFrame:
    """Return expected purchases (next 90 days) and P(alive) on a frequency x recency grid.

    The customer has the longest tenure in ``summary`` (``T = max T``), as in lifetimes'
    ``plot_frequency_recency_matrix``; frequency runs from 0 to the 99th percentile (at most
    40), recency over ``recency_bins`` steps up to ``T``. Frequency 0 implies recency 0.
    """
    T = float(summary["T"].max())
    if max_frequency is None:
        max_frequency = int(min(max(np.ceil(summary["frequency"].quantile(0.99)), 5), 40))
    freq = np.arange(0, max_frequency + 1, dtype=float)
    rec = np.linspace(0.0, T, recency_bins + 1)
    f, r = np.meshgrid(freq, rec, indexing="ij")
    r = np.where(f == 0, 0.0, r)
    grid = pd.DataFrame({"frequency": f.ravel(), "recency": r.ravel(), "T": T})
    out = grid.assign(recency=np.tile(rec, len(freq)),
                      expected_purchases_90d=model.expected_purchases(_DAYS_90, grid).to_numpy(),
                      p_alive=model.p_alive(grid).to_numpy())
    return out


def _holdout(con: Any, params: ClvParams, settings: Settings, store: tuple
             ) -> dict[str, Any] | None:
    """Return the holdout check of the report's model, ordered with that model first."""
    weeks = int(params.holdout_weeks)
    key = (*store, params.as_of, weeks, settings.timezone)
    return _HOLDOUT_VIEWS.get((*key, params.model), lambda: _holdout_view(
        _HOLDOUTS.get(key, lambda: _holdout_fits(con, params.as_of, weeks, settings)),
        params.model))


def _holdout_view(fitted: dict[str, Any] | None, model: str) -> dict[str, Any] | None:
    """Return the holdout tables of ``fitted`` (:func:`_holdout_fits`) for the report's model."""
    if fitted is None:
        return None
    # The report's purchase model first: charts and tables lead with it.
    order = sorted(MODELS, key=lambda name: name != model)
    models = {name: fitted["models"][name] for name in order}
    data = fitted["data"]
    parameters = pd.concat([_parameters(f"{name}_calibration", m) for name, m in models.items()],
                           ignore_index=True)
    tracking = fitted["tracking"]
    if not tracking.empty:
        tracking = pd.concat([tracking[tracking["model"] == name] for name in order],
                             ignore_index=True)
    return {"calibration_end": fitted["calibration_end"], "parameters": parameters,
            "comparison": compare_models(models, data),
            "by_frequency": by_frequency(models[model], data), "tracking": tracking}


def _holdout_fits(con: Any, as_of: date, weeks: int, settings: Settings
                  ) -> dict[str, Any] | None:
    """Fit both purchase models on the weeks before the holdout; ``None`` when too thin."""
    cal_end = as_of - timedelta(days=7 * weeks)
    data = calibration_holdout(con, calibration_end=cal_end, holdout_end=as_of,
                               settings=settings, unit=_UNIT)
    if data.empty or not data_check(data).enough:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        models = {name: MODELS[name]().fit(data) for name in MODELS}
    return {"calibration_end": cal_end, "data": data, "models": models,
            "tracking": tracking_data(con, models, calibration_end=cal_end, holdout_end=as_of,
                                      settings=settings, unit=_UNIT)}
