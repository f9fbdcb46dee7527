"""Figures of the KPI overview: weekly trend, revenue-driver waterfall, time to second order.

Data in, a new ``go.Figure`` out; no I/O. Titles state the takeaway, axes carry units (money in
the currency's minor units: KRW without decimals, labelled 원 in Korean), and the layout
resizes to the container so the charts stay readable on a 400 px phone.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from workbench.calendar import holidays_between, short_names
from workbench.i18n import format_money, format_percent, tr
from workbench.viz.style import BLUE as _BLUE
from workbench.viz.style import GREEN as _GREEN
from workbench.viz.style import GREY as _GREY
from workbench.viz.style import RED as _RED
from workbench.viz.style import finish_figure, money_tickformat, money_unit

__all__ = ["drivers_figure", "money_tickformat", "money_unit", "second_order_figure",
           "trend_figure"]



def _signed_money(value: float, currency: str, language: str) -> str:
    return ("+" if value >= 0 else "-") + format_money(abs(value), currency, language=language)


def _trend_title(trend: pd.DataFrame, unit: str, currency: str, language: str) -> str:
    count = len(trend)
    mean = float(trend["net_revenue"].mean()) if count else math.nan
    if not count or not mean or math.isnan(mean):
        return tr(f"viz.title.trend_plain{unit}", language=language, weeks=count)
    last = float(trend["net_revenue"].iloc[-1])
    ratio = last / mean - 1
    key = f"viz.title.trend_{'above' if ratio >= 0 else 'below'}{unit}"
    return tr(key, language=language, weeks=count,
              pct=format_percent(abs(ratio), language=language),
              value=format_money(last, currency, language=language))


def trend_figure(trend: pd.DataFrame, *, currency: str = "KRW",
                 language: str = "en") -> go.Figure:
    """Return net revenue (bars) and buyers (line, right axis) per week or per month.

    Parameters
    ----------
    trend
        One row per week (``week_start``) or per calendar month (``month_start``), with
        ``net_revenue`` and ``buyers``; the axis, hover dates and title follow the column.
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 holds the period starts / ``net_revenue``, trace 1 the starts / ``buyers``.
    """
    unit = money_unit(currency, language)
    fmt = money_tickformat(currency)
    monthly = "month_start" in trend.columns
    x = list(trend["month_start" if monthly else "week_start"])
    day = "%Y-%m" if monthly else "%Y-%m-%d"
    fig = go.Figure()
    fig.add_bar(x=x, y=list(trend["net_revenue"]), name=tr("viz.trace.net_revenue",
                                                           language=language),
                marker_color=_BLUE, hovertemplate=f"%{{x|{day}}}<br>%{{y:{fmt}}} {unit}"
                "<extra></extra>")
    fig.add_scatter(x=x, y=list(trend["buyers"]), name=tr("viz.trace.buyers", language=language),
                    mode="lines+markers", yaxis="y2", line={"color": _GREY},
                    hovertemplate=f"%{{x|{day}}}<br>%{{y:,.0f}}<extra></extra>")
    fig.update_layout(
        xaxis={"title": {"text": tr(f"viz.axis.{'month' if monthly else 'week'}",
                                    language=language)},
               "tickformat": "%Y-%m" if monthly else "%m-%d",
               **({"dtick": "M1"} if monthly else {})},
        yaxis={"title": {"text": tr("viz.axis.net_revenue", language=language, unit=unit)},
               "tickformat": fmt, "rangemode": "tozero"},
        yaxis2={"title": {"text": tr("viz.axis.buyers", language=language)},
                "overlaying": "y", "side": "right", "tickformat": ",.0f",
                "rangemode": "tozero", "showgrid": False},
        hovermode="x unified",
    )
    if not monthly:  # a month's bar would hide which days were off; weeks read well
        _mark_holidays(fig, x, language)
    return finish_figure(fig, _trend_title(trend, "_month" if monthly else "", currency,
                                           language))


#: Half a week: a weekly bar is drawn centred on its Monday, so the band covers the bar.
_HALF_WEEK = pd.Timedelta(hours=84)


def _mark_holidays(fig: go.Figure, starts: list, language: str) -> None:
    """Shade the weeks that hold a Korean public holiday and name the holidays on them.

    Shapes and annotations, not traces: the figure's data stay the trend's two series. The
    label is the week's shortest main holiday (a substitute holiday is labelled with the
    holiday it replaces), written upwards so that neighbouring weeks do
    not overlap on a phone; hovering over it lists every holiday of the week with its date.
    """
    previous: tuple[pd.Timestamp, str] | None = None
    for start in starts:
        monday = pd.Timestamp(start)
        found = holidays_between(monday.date(), (monday + pd.Timedelta(days=6)).date(),
                                 language)
        if not found:
            continue
        # Behind the bars: a tint above them would darken the week's bar into another colour
        # (read as a different series); behind, it shows in the gaps and above the bar.
        fig.add_vrect(x0=monday - _HALF_WEEK, x1=monday + _HALF_WEEK, fillcolor=_RED,
                      opacity=0.14, line_width=0, layer="below")
        names = list(dict.fromkeys(name for _, name in found))
        label = short_names(names, language)[0]
        hover = "<br>".join(f"{day:%m-%d} {name}" for day, name in found)
        if previous and previous[1] == label and monday - previous[0] <= pd.Timedelta(days=7):
            # A holiday on a Sunday and its substitute on the Monday after: one label.
            fig.add_annotation(x=monday, y=1, xref="x", yref="paper", yanchor="top", text=" ",
                               showarrow=False, hovertext=hover)
            previous = (monday, label)
            continue
        previous = (monday, label)
        fig.add_annotation(
            x=monday, y=1, xref="x", yref="paper", yanchor="top", textangle=-90,
            text=label, showarrow=False, font={"size": 10, "color": _RED},
            bgcolor="rgba(255,255,255,0.85)", hovertext=hover)


def drivers_figure(drivers: pd.DataFrame, *, previous_revenue: float, current_revenue: float,
                   currency: str = "KRW", language: str = "en") -> go.Figure:
    """Return the revenue-driver waterfall: previous net revenue, contributions, current.

    Parameters
    ----------
    drivers
        Rows with ``label`` and ``contribution`` that add up to the change in net revenue.
    previous_revenue, current_revenue
        Net revenue of the two periods (first and last bar).
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal ``Waterfall`` trace; ``x[1:-1]`` equals ``drivers.contribution``.
    """
    unit = money_unit(currency, language)
    fmt = money_tickformat(currency)
    labels = [tr("viz.bar.previous", language=language), *drivers["label"],
              tr("viz.bar.current", language=language)]
    values = [float(previous_revenue), *map(float, drivers["contribution"]),
              float(current_revenue)]
    fig = go.Figure(go.Waterfall(
        orientation="h", y=labels, x=values,
        measure=["absolute", *["relative"] * len(drivers), "total"],
        name=tr("viz.trace.drivers", language=language),
        increasing={"marker": {"color": _GREEN}}, decreasing={"marker": {"color": _RED}},
        totals={"marker": {"color": _BLUE}}, connector={"line": {"color": "#bbb"}},
        hovertemplate=f"%{{y}}<br>%{{x:{fmt}}} {unit}<extra></extra>",
    ))
    fig.update_layout(
        xaxis={"title": {"text": tr("viz.axis.change", language=language, unit=unit)},
               "tickformat": fmt},
        yaxis={"autorange": "reversed"}, showlegend=False,
    )
    return finish_figure(fig, _drivers_title(drivers, current_revenue - previous_revenue, currency,
                                       previous_revenue, language))


def _drivers_title(drivers: pd.DataFrame, change: float, currency: str, previous: float,
                   language: str) -> str:
    if drivers.empty or not change:
        return tr("viz.title.drivers_flat", language=language)
    # The driver named is the one the page's headline names (OverviewResult.message_in): the
    # largest contribution in the direction of the change. The largest in absolute terms can
    # point the other way (+₩4.8M purchase probability in a month that fell ₩1.4M), and the
    # title and the sentence above it then named two different "main" drivers (issue 15).
    same = drivers[drivers["contribution"] * change > 0]
    pool = same if len(same) else drivers
    top = pool.loc[pool["contribution"].abs().idxmax()]
    text = _signed_money(change, currency, language)
    if previous:
        text += f" ({format_percent(change / previous, signed=True, language=language)})"
    return tr("viz.title.drivers", language=language, change=text, driver=top["label"],
              contribution=_signed_money(top["contribution"], currency, language))


def second_order_figure(curve: pd.DataFrame, *, window_days: int,
                        language: str = "en") -> go.Figure:
    """Return the time-to-second-order curve with its pointwise interval.

    Parameters
    ----------
    curve
        ``days``, ``share``, ``ci_lower``, ``ci_upper`` (Kaplan-Meier, shares in [0, 1]).
    window_days
        Repurchase window, marked on the chart and quoted in the title.
    language
        Label language.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: interval upper bound, interval lower bound (filled), then the curve itself.
    """
    x = list(curve["days"])
    fig = go.Figure()
    band = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
    fig.add_scatter(x=x, y=list(curve["ci_upper"]), showlegend=False, **band)
    fig.add_scatter(x=x, y=list(curve["ci_lower"]), fill="tonexty",
                    fillcolor="rgba(31,95,191,0.15)",
                    name=tr("viz.trace.interval", language=language), **band)
    fig.add_scatter(x=x, y=list(curve["share"]), mode="lines", line={"color": _BLUE},
                    line_shape="hv", name=tr("viz.trace.share_second", language=language),
                    hovertemplate="%{x}: %{y:.1%}<extra></extra>")
    fig.add_vline(x=window_days, line={"dash": "dot", "color": _GREY},
                  annotation_text=tr("viz.marker.window", language=language, days=window_days))
    fig.update_layout(
        xaxis={"title": {"text": tr("viz.axis.days", language=language)}, "rangemode": "tozero"},
        yaxis={"title": {"text": tr("viz.axis.share_second", language=language)},
               "tickformat": ".0%", "rangemode": "tozero"},
    )
    if curve.empty:
        return finish_figure(fig, tr("viz.title.second_order_empty", language=language))
    at = curve[curve["days"] <= window_days].iloc[-1]
    title = tr("viz.title.second_order", language=language, days=int(at["days"]),
               share=format_percent(float(at["share"]), language=language))
    return finish_figure(fig, title)
