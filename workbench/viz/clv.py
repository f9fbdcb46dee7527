"""Figures of the CLV analysis: value distribution, value by segment, F/R matrices, holdout checks.

Data in, a new ``go.Figure`` out; no I/O. The frames are those of
:class:`workbench.clv.analysis.ClvResult`; titles state the takeaway in the chosen language and
money is shown in the currency's minor units (KRW without decimals).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.errors import ParameterError
from workbench.i18n import format_number, format_percent, tr
from workbench.viz.style import BLUE, GREEN, GREY, finish_figure, money_tickformat, money_unit

__all__ = ["clv_by_segment", "clv_distribution", "frequency_recency_matrix",
           "holdout_by_frequency", "tracking_figure"]

_BLUE, _GREEN, _GREY = BLUE, GREEN, GREY
_ORANGE, _BLACK = "#e07b00", "#222222"
_MODEL_COLOURS = {"bgnbd": _BLUE, "pareto_nbd": _ORANGE}


def clv_distribution(customers: pd.DataFrame, bands: pd.DataFrame, *, currency: str = "KRW",
                     language: str = "en") -> go.Figure:
    """Return a histogram of CLV per customer with the value-band cut points.

    Parameters
    ----------
    customers
        One row per customer with ``clv``.
    bands
        ``band``, ``clv_min``, ``clv_share`` per value band (highest first).
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        The number of customers in 60 bins of CLV (bars; the top 1% pooled in the last bin)
        and a dashed line where the high and medium bands start.
    """
    clv = customers["clv"].astype(float)
    cap = float(clv.quantile(0.99)) if len(clv) else 0.0
    shown = clv.clip(upper=cap)
    unit = money_unit(currency, language)
    # Counted here, drawn as bars: a histogram trace sends every customer's value to the
    # browser (100,000 numbers, 2 MB of the page at 100k customers) to count 60 bins there.
    counts, edges = (np.histogram(shown.to_numpy(), bins=60) if len(shown)
                     else (np.zeros(0, dtype=int), np.zeros(1)))
    money = money_tickformat(currency)
    fig = go.Figure(go.Bar(
        x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker_color=_BLUE,
        name=tr("clv.viz.customers", language=language),
        customdata=np.column_stack([edges[:-1], edges[1:]]) if len(counts) else None,
        hovertemplate=(f"CLV %{{customdata[0]:{money}}} – %{{customdata[1]:{money}}} {unit}<br>"
                       f"{tr('clv.viz.customers', language=language)}: %{{y:,}}<extra></extra>")))
    fig.update_layout(bargap=0)
    for level, row in enumerate(bands.itertuples()):
        if row.band == "low" or pd.isna(row.clv_min):
            continue
        # Stagger the labels: the two cut points are often close on a skewed axis.
        fig.add_vline(x=min(float(row.clv_min), cap), line_dash="dash", line_color=_GREY,
                      annotation={"text": tr(f"clv.band.{row.band}", language=language),
                                  "y": 1.0 - 0.08 * level, "yref": "paper", "xanchor": "left",
                                  "showarrow": False, "bgcolor": "rgba(255,255,255,0.8)"})
    high = bands.set_index("band")["clv_share"].get("high", math.nan) if len(bands) else math.nan
    title = (tr("clv.viz.distribution.title", language=language,
                share=format_percent(float(high), digits=0, language=language))
             if not pd.isna(high) else tr("clv.viz.distribution.empty", language=language))
    fig.update_xaxes(title_text=f"CLV ({unit})", tickformat=money_tickformat(currency))
    fig.update_yaxes(title_text=tr("clv.viz.customers", language=language))
    return finish_figure(fig, title)


def clv_by_segment(by_segment: pd.DataFrame, *, currency: str = "KRW",
                   language: str = "en") -> go.Figure:
    """Return horizontal bars of total CLV per RFM segment (mean CLV in the hover).

    Parameters
    ----------
    by_segment
        ``segment``, ``label``, ``customers``, ``clv_total``, ``clv_share``, ``clv_mean``.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Bar`` trace, largest segment on top; ``customdata`` holds customers, share and
        mean CLV.
    """
    data = by_segment.sort_values("clv_total", ascending=True, kind="stable")
    unit = money_unit(currency, language)
    fmt = money_tickformat(currency)
    custom = list(zip(data["customers"], data["clv_share"], data["clv_mean"], strict=True))
    fig = go.Figure(go.Bar(
        x=data["clv_total"], y=data["label"], orientation="h", marker_color=_GREEN,
        customdata=custom,
        text=[format_percent(float(v), digits=0, language=language) for v in data["clv_share"]],
        textposition="auto",
        hovertemplate=(f"%{{y}}<br>CLV %{{x:{fmt}}} {unit} (%{{customdata[1]:.0%}})<br>"
                       f"{tr('clv.viz.customers', language=language)}: %{{customdata[0]:,}}<br>"
                       f"{tr('clv.viz.mean_clv', language=language)}: %{{customdata[2]:{fmt}}} "
                       f"{unit}<extra></extra>")))
    if len(data):
        top = data.iloc[-1]
        title = tr("clv.viz.segments.title", language=language, label=top["label"],
                   share=format_percent(float(top["clv_share"]), digits=0, language=language))
    else:
        title = tr("clv.viz.distribution.empty", language=language)
    fig.update_xaxes(title_text=f"CLV ({unit})", tickformat=fmt)
    return finish_figure(fig, title)


def frequency_recency_matrix(matrix: pd.DataFrame, *, value: str = "expected_purchases_90d",
                             language: str = "en") -> go.Figure:
    """Return a heat map of ``value`` over calibration frequency (rows) and recency (columns).

    Parameters
    ----------
    matrix
        ``frequency``, ``recency`` (weeks), ``T`` and the ``value`` column (long format).
    value
        ``expected_purchases_90d`` or ``p_alive``.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` with frequency on y and recency on x.
    """
    if value not in ("expected_purchases_90d", "p_alive"):
        raise ParameterError(tr("clv.viz.matrix.bad_value", got=repr(value)))
    grid = matrix.pivot_table(index="frequency", columns="recency", values=value,
                              aggfunc="mean")
    T = float(matrix["T"].max()) if len(matrix) else 0.0
    label = tr(f"clv.viz.matrix.{value}", language=language)
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[float(c) for c in grid.columns], y=[int(i) for i in grid.index],
        colorscale="Viridis" if value == "p_alive" else "Blues",
        zmin=0, zmax=1 if value == "p_alive" else None, colorbar={"title": {"text": ""}},
        hovertemplate=(f"{tr('clv.viz.frequency', language=language)}: %{{y}}<br>"
                       f"{tr('clv.viz.recency', language=language)}: %{{x:.0f}}<br>"
                       f"{label}: %{{z:.2f}}<extra></extra>")))
    fig.update_xaxes(title_text=tr("clv.viz.recency", language=language))
    fig.update_yaxes(title_text=tr("clv.viz.frequency", language=language))
    title = tr(f"clv.viz.matrix.title_{value}", language=language,
               weeks=format_number(T, language=language))
    return finish_figure(fig, title)


def tracking_figure(tracking: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Return the tracking chart: weekly (top) and cumulative (bottom) repeat purchases.

    The actual counts are a solid line and each model's expectation a dashed one; a vertical
    line marks the start of the holdout, as in Figures 2 and 3 of Fader, Hardie & Lee (2005).

    Parameters
    ----------
    tracking
        Long frame from :func:`workbench.clv.validation.tracking_data`.

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows; the actual line and one line per model in each.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(tr("clv.viz.tracking.weekly", language=language),
                                        tr("clv.viz.tracking.cumulative", language=language)))
    if tracking.empty:
        return finish_figure(fig, tr("clv.viz.tracking.empty", language=language))
    first = tracking[tracking["model"] == tracking["model"].iloc[0]]
    x = pd.to_datetime(first["week_start"])
    actual_name = tr("clv.viz.actual", language=language)
    for row, col in ((1, "actual"), (2, "actual_cumulative")):
        fig.add_trace(go.Scatter(x=x, y=first[col], name=actual_name, mode="lines",
                                 line={"color": _BLACK, "width": 2}, legendgroup="actual",
                                 showlegend=row == 1), row=row, col=1)
    for name, part in tracking.groupby("model", sort=False):
        label = tr(f"clv.model.{name}", language=language)
        colour = _MODEL_COLOURS.get(str(name), _GREY)
        for row, col in ((1, "expected"), (2, "expected_cumulative")):
            fig.add_trace(go.Scatter(x=pd.to_datetime(part["week_start"]), y=part[col],
                                     name=label, mode="lines", legendgroup=str(name),
                                     line={"color": colour, "dash": "dash"},
                                     showlegend=row == 1), row=row, col=1)
    holdout = first[first["holdout"].astype(bool)]
    if len(holdout):
        start = pd.Timestamp(holdout["week_start"].iloc[0])
        fig.add_vline(x=start.timestamp() * 1000, line_dash="dot", line_color=_GREY,
                      annotation_text=tr("clv.viz.tracking.holdout", language=language),
                      annotation_position="top left")
        fig.add_vline(x=start.timestamp() * 1000, line_dash="dot", line_color=_GREY, row=2,
                      col=1)
    # No error figure in the title: the model check (ClvResult.quality_in) states the one check
    # number, from each customer's conditional expectation. These dashed lines are the
    # cohort-level expectation (Fader, Hardie & Lee 2005, Figure 2), a different quantity,
    # and a second percentage beside the first read as a contradiction (issue 15).
    main = str(tracking["model"].iloc[0])  # the report's purchase model comes first
    title = tr("clv.viz.tracking.title", language=language,
               model=tr(f"clv.model.{main}", language=language))
    fig = finish_figure(fig, title)
    fig.update_layout(height=560)
    return fig


def holdout_by_frequency(by_frequency: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Return mean predicted vs actual holdout purchases by calibration frequency.

    The last group pools every frequency at or above it (labelled ``7+``).

    Returns
    -------
    plotly.graph_objects.Figure
        Two line traces (actual, model) over the frequency groups.
    """
    data = by_frequency.sort_values("frequency")
    top = int(data["frequency"].max()) if len(data) else 0
    labels = [f"{int(f)}+" if int(f) == top else str(int(f)) for f in data["frequency"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=labels, y=data["actual"], name=tr("clv.viz.actual",
                                                                   language=language),
                             mode="lines+markers", line={"color": _BLACK}))
    fig.add_trace(go.Scatter(x=labels, y=data["predicted"], name=tr("clv.viz.model",
                                                                      language=language),
                             mode="lines+markers", line={"color": _BLUE, "dash": "dash"}))
    fig.update_xaxes(title_text=tr("clv.viz.calibration_frequency", language=language),
                     type="category")
    fig.update_yaxes(title_text=tr("clv.viz.holdout_purchases", language=language))
    return finish_figure(fig, tr("clv.viz.by_frequency.title", language=language))
