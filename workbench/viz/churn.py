"""Figures of the churn analysis: risk distribution, risk x value, reasons, reliability, backtest.

Data in, a new ``go.Figure`` out; no I/O. Frames are those of
:class:`workbench.churn.ChurnResult`. Every figure prints the churn definition under its title,
so a chart copied into a deck still says what "churned" means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_number, format_percent, tr
from workbench.viz.style import finish_figure, money_tickformat, money_unit

__all__ = ["backtest_figure", "reasons_bar", "reliability_figure", "risk_distribution",
           "risk_value_scatter"]

BAND_COLOURS = {"high": "#c62828", "medium": "#ef8f00", "low": "#1f5fbf"}
SCORER_COLOURS = {"model": "#1f5fbf", "days_since_last_order": "#8a8f98",
                  "p_alive": "#b0b4ba", "bgnbd_p_no_order": "#6a3d9a", "truth": "#1a7f37"}


def _titled(fig: go.Figure, title: str, definition: str) -> go.Figure:
    fig = finish_figure(fig, title)
    lines = fig.layout.title.text.count("<br>") + 1
    if lines > 1:  # a wrapped title would run into the definition line under it
        fig.update_layout(margin_t=fig.layout.margin.t + 20 * (lines - 1),
                          title={"yref": "container", "y": 1, "yanchor": "top",
                                 "pad": {"t": 12}})
    fig.add_annotation(text=definition, xref="paper", yref="paper", x=0, y=1.02,
                       xanchor="left", yanchor="bottom", showarrow=False,
                       font={"size": 11, "color": "#5f6368"})
    return fig


def _band_name(band: str, labels: dict[str, str] | None, language: str) -> str:
    if labels and band in labels:
        return labels[band]
    return tr(f"churn.band.{band}", language=language)


def risk_distribution(customers: pd.DataFrame, *, definition: str = "",
                      language: str = "en", labels: dict[str, str] | None = None) -> go.Figure:
    """Return a histogram of ``churn_risk`` (20 bins of 5 points), stacked by ``risk_band``.

    ``labels`` names the bands in the legend (default: the band keys' names).
    """
    fig = go.Figure()
    edges = np.linspace(0, 1, 21)
    for band in ("low", "medium", "high"):
        part = customers.loc[customers["risk_band"] == band, "churn_risk"].to_numpy(float)
        counts, _ = np.histogram(part, bins=edges)
        fig.add_bar(x=(edges[:-1] + 0.025).tolist(), y=counts.tolist(), width=0.05,
                    name=_band_name(band, labels, language),
                    marker_color=BAND_COLOURS[band], meta=band)
    fig.update_layout(barmode="stack", bargap=0.02)
    fig.update_xaxes(title=tr("churn.viz.risk", language=language), tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title=tr("churn.viz.customers", language=language))
    high = int((customers["risk_band"] == "high").sum())
    title = tr("churn.viz.distribution_title", language=language,
               count=format_number(len(customers), language=language),
               high=format_number(high, language=language))
    return _titled(fig, title, definition)


def risk_value_scatter(customers: pd.DataFrame, *, currency: str = "KRW",
                       value_source: str = "net_revenue_365d", definition: str = "",
                       language: str = "en", max_points: int = 5_000,
                       labels: dict[str, str] | None = None) -> go.Figure:
    """Return churn risk (x) against customer value (y), one trace per band.

    At most ``max_points`` customers are drawn: the half with the most value at risk first,
    then an even sample of the rest (a million points would freeze a browser).
    """
    data = customers.sort_values("value_at_risk", ascending=False, kind="stable")
    if len(data) > max_points:
        top = data.head(max_points // 2)
        rest = data.drop(top.index)
        step = max(1, len(rest) // (max_points - len(top)))
        data = pd.concat([top, rest.iloc[::step]])
    fig = go.Figure()
    for band in ("low", "medium", "high"):
        part = data[data["risk_band"] == band]
        # arrays, not lists: Plotly checks a list point by point (0.3 s for 2,500, 41 ms as
        # arrays)
        fig.add_scattergl(x=part["churn_risk"].to_numpy(float),
                          y=part["value"].to_numpy(float),
                          mode="markers", name=_band_name(band, labels, language),
                          marker={"color": BAND_COLOURS[band], "size": 5, "opacity": 0.6},
                          text=part["customer_id"].astype(str).to_numpy(object), meta=band,
                          hovertemplate="%{text}<br>%{x:.0%}<br>%{y:,.0f}<extra></extra>")
    fig.update_xaxes(title=tr("churn.viz.risk", language=language), tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title=_two_line_title(
                         tr(f"churn.viz.value_{value_source}", language=language),
                         money_unit(currency, language)),
                     tickformat=money_tickformat(currency))
    fig = _titled(fig, tr("churn.viz.watch_title", language=language), definition)
    # the value axis title is long (what the value is, how it is computed, the unit): a taller
    # plot keeps it beside the axis instead of running up into the chart's title
    fig.update_layout(height=460)
    return fig


def _two_line_title(label: str, unit: str) -> str:
    """Return an axis title on two lines: the label, then its bracketed note and the unit.

    >>> _two_line_title("Net revenue, last 365 days (value proxy)", "KRW")
    'Net revenue, last 365 days<br>(value proxy, KRW)'
    >>> _two_line_title("예상 12개월 가치", "원")
    '예상 12개월 가치<br>(원)'
    """
    head, bracket, note = label.partition(" (")
    if bracket and label.endswith(")"):
        return f"{head}<br>({note[:-1]}, {unit})"
    return f"{label}<br>({unit})"


def reasons_bar(reasons: pd.DataFrame, *, definition: str = "",
                language: str = "en") -> go.Figure:
    """Return a horizontal bar chart of reason shares among high-risk customers."""
    data = reasons.sort_values("share", kind="stable")
    fig = go.Figure(go.Bar(x=data["share"].tolist(), y=data["label"].tolist(), orientation="h",
                           marker_color="#c62828", meta=data["reason"].tolist(),
                           text=[format_percent(s, digits=0, language=language)
                                 for s in data["share"]], textposition="auto"))
    fig.update_xaxes(title=tr("churn.viz.share_at_risk", language=language), tickformat=".0%")
    return _titled(fig, tr("churn.viz.reasons_title", language=language), definition)


def reliability_figure(reliability: pd.DataFrame, *, definition: str = "",
                       language: str = "en") -> go.Figure:
    """Return the reliability curve (observed vs predicted per bin), one line per cutoff."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#8a8f98"},
                    name=tr("churn.viz.perfect", language=language))
    for cutoff, part in reliability.groupby("cutoff", sort=True):
        fig.add_scatter(x=part["mean_predicted"].tolist(), y=part["observed"].tolist(),
                        mode="lines+markers", name=str(cutoff),
                        marker={"size": np.clip(np.sqrt(part["customers"].to_numpy(float)) / 8,
                                                4, 14).tolist()})
    fig.update_xaxes(title=tr("churn.viz.predicted", language=language), tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title=tr("churn.viz.observed", language=language), tickformat=".0%",
                     range=[0, 1])
    return _titled(fig, tr("churn.viz.reliability_title", language=language), definition)


def backtest_figure(metrics: pd.DataFrame, *, metric: str = "roc_auc", definition: str = "",
                    language: str = "en") -> go.Figure:
    """Return ``metric`` per backtest cutoff, one line per scorer (model, baselines, ceiling)."""
    fig = go.Figure()
    for scorer, part in metrics.groupby("scorer", sort=False):
        part = part.sort_values("cutoff")
        fig.add_scatter(x=[str(c) for c in part["cutoff"]], y=part[metric].tolist(),
                        mode="lines+markers", meta=scorer,
                        name=tr(f"churn.viz.scorer.{scorer}", language=language),
                        line={"color": SCORER_COLOURS.get(scorer, "#333333"),
                              "width": 3 if scorer == "model" else 1.5,
                              "dash": "dash" if scorer == "truth" else "solid"})
    fig.update_xaxes(title=tr("churn.viz.cutoff", language=language), type="category")
    fig.update_yaxes(title=tr(f"churn.table.{metric}", language=language))
    return _titled(fig, tr("churn.viz.backtest_title", language=language), definition)
