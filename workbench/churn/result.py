"""The result of the churn analysis: numbers, keys and statuses, worded where they are shown.

:class:`ChurnResult` words its numbers (the message, the plain-words reasons of the watchlist,
the note on left-out baselines) in the reader's language when they are shown, so the sentences
always agree with the numbers beside them. :func:`workbench.churn.run_churn` builds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from workbench.churn.backtest import BACKTEST_COLUMNS
from workbench.churn.bands import band_label
from workbench.churn.definition import ChurnDefinition
from workbench.churn.explain import REASON_FEATURES, reasons_text
from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.results import Readable, ResultMixin, Status
from workbench.viz.churn import (
    backtest_figure,
    reasons_bar,
    reliability_figure,
    risk_distribution,
    risk_value_scatter,
)

__all__ = ["BASELINES", "WATCH_COLUMNS", "WATCH_FACT_COLUMNS", "ChurnResult"]

#: Columns of :attr:`ChurnResult.watchlist` (``reasons`` in plain words).
WATCH_COLUMNS = ("customer_id", "name", "phone", "churn_risk", "risk_band", "value",
                 "value_at_risk", "recency_days", "orders", "reasons")
#: Scorers shown with the model in a backtest; one ranking worse than chance is left out.
BASELINES = ("days_since_last_order", "p_alive", "bgnbd_p_no_order")
#: Columns of :attr:`ChurnResult.watch`: the list as numbers and reason keys, with the
#: customers' values that the plain-words reasons quote.
WATCH_FACT_COLUMNS = (*WATCH_COLUMNS[:-1], "churn_reasons",
                      *(f for f in REASON_FEATURES if f not in WATCH_COLUMNS))


# ------------------------------------------------------------------------------------ result
@dataclass(frozen=True, slots=True, eq=False)
class ChurnResult(Readable, ResultMixin):
    """Churn risk of the customers as of a date, with bands, reasons and the backtest.

    The fields are numbers, keys and labels; the sentences (:attr:`message`, the reasons of
    :attr:`watchlist`) are made from them when they are shown, in :attr:`language` or in the
    one asked for (:meth:`message_in`, :meth:`watchlist_in`).

    Parameters
    ----------
    as_of, currency, language
        Scoring date, currency of values, language of labels.
    definition
        The churn definition (printed on every chart: :attr:`definition_text`).
    customers
        One row per scored customer: ``customer_id``, ``churn_risk``, ``risk_band``,
        ``churn_reasons``, ``value`` (if they stay; see ``value_source``), ``value_at_risk``
        (risk x value),
        ``recency_days``, ``orders``.
    bands
        Per band: ``band`` (rank key), ``level`` and ``label`` (named by the expected churn,
        :func:`~workbench.churn.bands.band_label`), ``customers``, ``share``, ``mean_risk``
        (expected churn), ``min_risk``, ``value``, ``value_at_risk``, ``action``.
    reasons
        Per reason key among the high band: ``reason``, ``label``, ``customers``, ``share``.
    watch
        The customers with the most value at risk (any band), masked, as numbers and reason keys
        (:data:`WATCH_FACT_COLUMNS`); :attr:`watchlist` words the reasons.
    backtest, reliability, gaps, importance
        Backtest metrics per cutoff and scorer, the model's reliability curves, the AUC
        margins and gap closed, and the permutation importance (empty without a backtest).
    model_info
        Training cutoffs, calibration cutoff, features and the saved model's name, if any.
    value_source
        ``clv_if_retained`` (predicted 12-month margin if they stay: CLV / P(alive), from
        workbench.clv) or ``net_revenue_365d`` (the last year's net revenue: when the CLV
        models refuse the data, or on a page whose date has no snapshot).
    status
        ``OK``, ``NO_DATA`` (no orders, or no customer before ``as_of``) or
        ``TOO_LITTLE_DATA`` (too short a history to train).
    condition, facts
        Without a result: the message key saying why and its fields (dates, numbers).
    """

    as_of: date
    currency: str
    language: str
    definition: ChurnDefinition
    customers: pd.DataFrame
    bands: pd.DataFrame
    reasons: pd.DataFrame
    watch: pd.DataFrame
    backtest: pd.DataFrame
    reliability: pd.DataFrame
    gaps: pd.DataFrame
    importance: pd.DataFrame
    model_info: dict[str, Any] = field(default_factory=dict)
    value_source: str = "net_revenue_365d"
    status: Status = Status.OK
    condition: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def definition_text(self) -> str:
        """The churn definition in the result's language."""
        return self.definition.describe(self.language)

    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway, or why there is none, in ``language`` (default the result's)."""
        lang = language or self.language
        if self.status == Status.TOO_LITTLE_DATA:
            return tr("churn.message.too_little", language=lang,
                      detail=tr(self.condition, language=lang, **self.facts))
        if not self.ok:
            return tr(self.condition, language=lang, **self.facts)
        high = self.bands.set_index("band").loc["high"]
        text = tr("churn.message.headline", language=lang,
                  count=format_number(high["customers"], language=lang),
                  share=format_percent(high["share"], language=lang),
                  band=band_label(high["mean_risk"], lang,
                                  order=1 if self.bands["level"].duplicated(keep=False).any()
                                  else None),
                  rate=format_percent(0 if pd.isna(high["mean_risk"]) else high["mean_risk"],
                                      language=lang),
                  value=format_money(float(high["value_at_risk"]), self.currency,
                                     language=lang, style=None),
                  basis=tr(f"churn.value_basis.{self.value_source}", language=lang))
        if len(self.reasons):
            top = tr(f"churn.reason_label.{self.reasons['reason'].iloc[0]}", language=lang)
            text += " " + tr("churn.message.top_reason", language=lang, reason=top)
        return text

    @property
    def watchlist(self) -> pd.DataFrame:
        """The priority list with its reasons in plain words (:data:`WATCH_COLUMNS`)."""
        return self.watchlist_in()

    def watchlist_in(self, language: str | None = None) -> pd.DataFrame:
        """Return :attr:`watchlist` with the reasons worded in ``language``."""
        lang = language or self.language
        out = self.watch.copy()
        values = out.reindex(columns=list(REASON_FEATURES)).to_dict("records")
        out["reasons"] = [reasons_text(keys, row, lang)
                          for keys, row in zip(out["churn_reasons"], values, strict=True)]
        return out.loc[:, list(WATCH_COLUMNS)]

    def to_frame(self) -> pd.DataFrame:
        """Return the band table (one row per band, with the recommended action)."""
        return self.bands.copy()

    def headline(self) -> list[dict[str, Any]]:
        """Return the report's headline numbers: customers in the high band, value at risk."""
        if not self.ok:
            return []
        high = self.bands.set_index("band").loc["high"]
        lang = self.language
        return [
            {"metric": "churn.high", "label": tr("churn.headline.high", language=lang),
             "value": format_number(high["customers"], language=lang), "change": "",
             "change_pct": math.nan, "direction": "flat"},
            {"metric": "churn.value_at_risk",
             "label": tr("churn.headline.value_at_risk", language=lang),
             "value": format_money(float(self.bands["value_at_risk"].sum()), self.currency,
                                   language=lang), "change": "", "change_pct": math.nan,
             "direction": "flat"},
        ]

    @property
    def baselines_below_chance(self) -> list[str]:
        """Baseline scorers whose ROC AUC is below 0.5 at some backtest cutoff.

        Such a score ranks the leavers *below* the stayers on this store (days since the last
        order, for instance, when long-time dormant customers are excluded and the recent
        ones churn most): shown beside the model it would read as a worse model rather than
        as a score pointing the wrong way, so pages and reports leave it out and say why.
        """
        bt = self.backtest
        if bt.empty or "roc_auc" not in bt:
            return []
        auc = pd.to_numeric(bt["roc_auc"], errors="coerce")
        below = bt.loc[bt["scorer"].isin(BASELINES) & (auc < 0.5), "scorer"]
        return sorted(set(below), key=list(BASELINES).index)

    @property
    def backtest_shown(self) -> pd.DataFrame:
        """The backtest metrics without :attr:`baselines_below_chance`."""
        if self.backtest.empty:
            return self.backtest
        return self.backtest[~self.backtest["scorer"].isin(self.baselines_below_chance)]

    def backtest_note(self, language: str | None = None) -> str:
        """Return why baselines are left out of the backtest (empty when none is)."""
        left_out = self.baselines_below_chance
        if not left_out:
            return ""
        lang = language or self.language
        names = ", ".join(tr(f"churn.viz.scorer.{s}", language=lang) for s in left_out)
        return tr("churn.ui.below_chance", language=lang, names=names)

    def summary(self) -> str:
        """Return the message, the definition and one line per band with its action."""
        if not self.ok:
            return self.message
        lines = [self.message, self.definition_text]
        for row in self.bands.itertuples():
            lines.append(f"- {row.label}: {format_number(row.customers, language=self.language)}"
                         f" · {row.action}")
        return "\n".join(lines)

    @property
    def band_labels(self) -> dict[str, str]:
        """Band key -> name by expected churn (the legends of the charts)."""
        return dict(zip(self.bands["band"], self.bands["label"], strict=True))

    def figure_distribution(self) -> go.Figure:
        """Return a new histogram of churn risk coloured by band."""
        return risk_distribution(self.customers, definition=self.definition_text,
                                 language=self.language, labels=self.band_labels)

    def figure_watchlist(self) -> go.Figure:
        """Return a new risk x value scatter of the customers (high-risk high-value on top)."""
        return risk_value_scatter(self.customers, currency=self.currency,
                                  value_source=self.value_source,
                                  definition=self.definition_text, language=self.language,
                                  labels=self.band_labels)

    def figure_reasons(self) -> go.Figure:
        """Return a new bar chart of the most common reasons among at-risk customers."""
        return reasons_bar(self.reasons, definition=self.definition_text,
                           language=self.language)

    def figure_reliability(self) -> go.Figure:
        """Return a new reliability curve of the backtest cutoffs."""
        return reliability_figure(self.reliability, definition=self.definition_text,
                                  language=self.language)

    def figure_backtest(self) -> go.Figure:
        """Return a new chart of ROC AUC per backtest cutoff, model against baselines."""
        return backtest_figure(self.backtest_shown, definition=self.definition_text,
                               language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the risk distribution."""
        return self.figure_distribution()


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """Return an empty frame with these (object) columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def no_result(base: dict[str, Any], status: Status, condition: str, **facts: Any
              ) -> ChurnResult:
    """Return a result without scores: ``status`` and why (``condition`` worded with facts)."""
    empty = pd.DataFrame()
    return ChurnResult(**base, customers=empty, bands=empty, reasons=empty,
                       watch=empty_frame(WATCH_FACT_COLUMNS),
                       backtest=empty_frame(BACKTEST_COLUMNS),
                       reliability=empty, gaps=empty, importance=empty, status=status,
                       condition=condition, facts=facts)
