"""Figures of the next-order predictions: when customers are expected to order, and calibration.

Data in, a new ``go.Figure`` out; no I/O. The frames are the snapshot's next-order columns
(:mod:`workbench.clv.next_order`) and the reliability table of its holdout check.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_number, tr
from workbench.viz.style import BLUE, GREEN, GREY, finish_figure

__all__ = ["next_order_weeks", "reliability_figure"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_label(day: date, language: str) -> str:
    """Return ``12월 8일`` or ``8 Dec``: a week's first day, short enough for an axis."""
    if language == "ko":
        return f"{day.month}월 {day.day}일"
    return f"{day.day} {_MONTHS[day.month - 1]}"


def next_order_weeks(weeks: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Return customers by week of their expected next order, and the buyers to expect.

    Parameters
    ----------
    weeks
        :func:`workbench.clv.next_order.next_order_weeks_table`: ``week_start``,
        ``customers``, ``likely`` and ``expected_buyers`` per week.
    language
        Label language.

    Returns
    -------
    plotly.graph_objects.Figure
        Stacked bars: customers whose expected date falls in each week, likely to order
        within 90 days (``p_order_90d >= 0.5``) and less likely (hidden until clicked in the
        legend); line: the number expected to
        order (the sum of their 90-day probabilities).
    """
    labels = [_day_label(d, language) for d in weeks["week_start"]]
    likely = weeks["likely"].to_numpy()
    counts = weeks["customers"].to_numpy()
    customers_label = tr("next_order.viz.customers", language=language)
    likely_label = tr("next_order.viz.likely", language=language)
    other_label = tr("next_order.viz.less_likely", language=language)
    buyers_label = tr("next_order.viz.expected_buyers", language=language)
    fig = go.Figure([
        go.Bar(x=labels, y=likely, name=likely_label, marker_color=BLUE,
               hovertemplate=f"%{{x}}<br>{likely_label}: %{{y:,}}<extra></extra>"),
        # Hidden until clicked in the legend: a less likely customer's date is the median
        # *if* she orders within 90 days, so these bars pile up mid-window and would dwarf
        # the customers a campaign can count on.
        go.Bar(x=labels, y=counts - likely, name=other_label, marker_color=GREY,
               visible="legendonly",
               hovertemplate=f"%{{x}}<br>{other_label}: %{{y:,}}<extra></extra>"),
        go.Scatter(x=labels, y=np.round(weeks["expected_buyers"].to_numpy(), 1),
                   name=buyers_label, mode="lines+markers", line_color=GREEN,
                   hovertemplate=f"%{{x}}<br>{buyers_label}: %{{y:,.1f}}<extra></extra>"),
    ])
    fig.update_layout(barmode="stack")
    top = int(np.argmax(likely)) if len(likely) and likely.any() else -1
    title = (tr("next_order.viz.weeks.title", language=language, week=labels[top],
                customers=format_number(int(likely[top]), language=language))
             if top >= 0 else tr("next_order.viz.weeks.empty", language=language))
    fig.update_xaxes(title_text=tr("next_order.viz.week_of", language=language))
    fig.update_yaxes(title_text=customers_label)
    return finish_figure(fig, title, language)


def reliability_figure(table: pd.DataFrame, *, ece: float, language: str = "en",
                       raw: pd.DataFrame | None = None) -> go.Figure:
    """Return the reliability curve of the 30-day purchase probability on a holdout.

    Parameters
    ----------
    table
        :func:`workbench.clv.next_order.reliability_table`: ``predicted``, ``observed`` and
        ``customers`` per probability bin.
    ece
        Its expected calibration error, for the title.
    language
        Label language.
    raw
        The same table for the model before the blend and recalibration (drawn dotted).

    Returns
    -------
    plotly.graph_objects.Figure
        Observed share against mean predicted probability per bin (marker size: customers),
        with the diagonal of perfect calibration.
    """
    predicted = tr("next_order.viz.predicted", language=language)
    observed = tr("next_order.viz.observed", language=language)
    ours = tr("next_order.viz.ours", language=language)
    size = 6 + 18 * np.sqrt(table["customers"] / max(float(table["customers"].max()), 1.0))
    traces = [go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": GREY},
                         name=tr("next_order.viz.perfect", language=language),
                         hoverinfo="skip")]
    if raw is not None and len(raw):
        traces.append(go.Scatter(x=raw["predicted"], y=raw["observed"], mode="lines+markers",
                                 line={"dash": "dot", "color": GREY},
                                 name=tr("next_order.viz.raw", language=language)))
    traces.append(go.Scatter(
        x=table["predicted"], y=table["observed"], mode="lines+markers", name=ours,
        marker={"size": size, "color": BLUE}, customdata=table["customers"],
        hovertemplate=(f"{predicted}: %{{x:.2f}}<br>{observed}: %{{y:.2f}}<br>"
                       f"{tr('next_order.viz.customers', language=language)}: "
                       "%{customdata:,}<extra></extra>")))
    fig = go.Figure(traces)
    fig.update_xaxes(title_text=predicted, range=[0, 1])
    fig.update_yaxes(title_text=observed, range=[0, 1])
    title = tr("next_order.viz.reliability.title", language=language,
               ece=format_number(ece, digits=3, language=language))
    return finish_figure(fig, title, language)
