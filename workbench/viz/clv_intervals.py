"""Figures of the CLV ranges: the top customers' values and the store's value with 80% ranges.

Data in, a new ``go.Figure`` out; no I/O. The frames are
:attr:`workbench.clv.analysis.ClvResult.top_customers` with ``clv_low`` and ``clv_high``
(:func:`workbench.clv.intervals.with_ranges`) and ``ClvResult.value_ranges``
(:func:`workbench.clv.intervals.range_profile`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_percent, tr
from workbench.viz.style import BLUE, GREY, finish_figure, money_tickformat, money_unit

__all__ = ["store_value_ranges", "top_customer_ranges"]


def top_customer_ranges(top: pd.DataFrame, *, currency: str = "KRW",
                        language: str = "en") -> go.Figure:
    """Return the top customers' expected value as dots with their 80% ranges as bars.

    Parameters
    ----------
    top
        ``customer_id``, ``clv``, ``clv_low`` and ``clv_high`` per customer, highest first.
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One row per customer (highest value at the top): a grey bar from ``clv_low`` to
        ``clv_high`` and a dot at ``clv``. The title says how many are surely worth at least
        the smallest expected value of the list (their ``clv_low`` reaches it).

    Examples
    --------
    >>> top = pd.DataFrame({"customer_id": ["a", "b"], "clv": [300.0, 200.0],
    ...                     "clv_low": [120.0, 0.0], "clv_high": [520.0, 410.0]})
    >>> len(top_customer_ranges(top).data)
    2
    """
    shown = top[top["clv_low"].notna() & top["clv_high"].notna()] if len(top) else top
    unit = money_unit(currency, language)
    money = money_tickformat(currency)
    ids = shown["customer_id"].astype(str).tolist()[::-1]
    low = shown["clv_low"].to_numpy(dtype=float)[::-1]
    high = shown["clv_high"].to_numpy(dtype=float)[::-1]
    clv = shown["clv"].to_numpy(dtype=float)[::-1]
    range_name = tr("clv.intervals.viz.range", language=language)
    fig = go.Figure([
        go.Bar(y=ids, x=high - low, base=low, orientation="h", marker_color=GREY,
               opacity=0.45, name=range_name,
               customdata=np.column_stack([low, high]) if len(ids) else None,
               hovertemplate=(f"%{{y}}<br>{range_name}: %{{customdata[0]:{money}}} – "
                              f"%{{customdata[1]:{money}}} {unit}<extra></extra>")),
        go.Scatter(y=ids, x=clv, mode="markers", marker={"color": BLUE, "size": 9},
                   name=tr("clv.intervals.viz.expected", language=language),
                   hovertemplate=f"%{{y}}<br>CLV %{{x:{money}}} {unit}<extra></extra>"),
    ])
    positive = clv > 0
    if len(ids) and positive.any():
        # The typical width of a range, relative to the customer's expected value.
        share_low = float(np.median(low[positive] / clv[positive]))
        share_high = float(np.median(high[positive] / clv[positive]))
        title = tr("clv.intervals.viz.title", language=language, n=len(ids),
                   low=format_percent(share_low, digits=0, language=language),
                   high=format_percent(share_high, digits=0, language=language))
    else:
        title = tr("clv.intervals.viz.empty", language=language)
    fig.update_layout(barmode="overlay", height=max(320, 40 + 22 * len(ids)))
    fig.update_xaxes(title_text=f"CLV ({unit})", tickformat=money, rangemode="tozero")
    fig.update_yaxes(type="category", dtick=1)
    return finish_figure(fig, title, language=language)


def store_value_ranges(profile: pd.DataFrame, *, currency: str = "KRW",
                       language: str = "en") -> go.Figure:
    """Return the mean value by value percentile with the typical 80% range as a band.

    Parameters
    ----------
    profile
        ``percentile``, ``customers``, ``clv``, ``clv_low``, ``clv_high`` per group of
        customers ranked by value (:func:`workbench.clv.intervals.range_profile`).
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        A shaded band from the mean ``clv_low`` to the mean ``clv_high`` and a line at the
        mean ``clv`` (log scale: the values span several orders of magnitude). The title
        gives the share of customers whose range starts above 0.

    Examples
    --------
    >>> profile = pd.DataFrame({"percentile": [50.0, 100.0], "customers": [5, 5],
    ...                         "clv": [10.0, 90.0], "clv_low": [0.0, 30.0],
    ...                         "clv_high": [25.0, 160.0]})
    >>> [t.name for t in store_value_ranges(profile).data]
    ['80% range', '80% range', 'Expected value']
    """
    unit = money_unit(currency, language)
    money = money_tickformat(currency)
    x = profile["percentile"].to_numpy(dtype=float)
    # A log axis cannot show 0, and below a few won nothing is worth reading: the axis spans
    # five decades under the highest value, and lower values are drawn on its floor.
    top = max(float(np.nanmax(profile["clv_high"].to_numpy(dtype=float), initial=1.0)), 1.0)
    floor = 10.0 ** max(0.0, np.floor(np.log10(top)) - 5)
    low = np.maximum(profile["clv_low"].to_numpy(dtype=float), floor)
    high = np.maximum(profile["clv_high"].to_numpy(dtype=float), floor)
    mean = np.maximum(profile["clv"].to_numpy(dtype=float), floor)
    range_name = tr("clv.intervals.viz.range", language=language)
    fig = go.Figure([
        go.Scatter(x=x, y=low, mode="lines", line={"width": 0}, name=range_name,
                   showlegend=False, hoverinfo="skip"),
        go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(120,120,120,0.3)", name=range_name,
                   customdata=np.column_stack([profile["clv_low"], profile["clv_high"]]),
                   hovertemplate=(f"{range_name}: %{{customdata[0]:{money}}} – "
                                  f"%{{customdata[1]:{money}}} {unit}<extra></extra>")),
        go.Scatter(x=x, y=mean, mode="lines+markers", marker={"size": 4},
                   line={"color": BLUE}, name=tr("clv.intervals.viz.expected", language=language),
                   customdata=profile["clv"].to_numpy(dtype=float),
                   hovertemplate=f"CLV %{{customdata:{money}}} {unit}<extra></extra>"),
    ])
    weights = profile["customers"].to_numpy(dtype=float)
    sure = float(weights[profile["clv_low"].to_numpy() > 0].sum() / weights.sum()) \
        if weights.sum() else 0.0
    title = tr("clv.intervals.viz.store_title", language=language,
               share=format_percent(sure, digits=0, language=language))
    fig.update_xaxes(title_text=tr("clv.intervals.viz.percentile", language=language),
                     ticksuffix="%")
    fig.update_yaxes(type="log", title_text=f"CLV ({unit})", tickformat=money,
                     range=[np.log10(floor), np.log10(top) + 0.1])
    return finish_figure(fig, title, language=language)
