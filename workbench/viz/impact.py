"""Figure of the campaign impact roll-ups: incremental margin by channel or month.

Data in, a new ``go.Figure`` out; no I/O. The frame is a roll-up of
:func:`workbench.abtest.campaign_impact` (``key``, ``incremental_margin`` and its interval).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_money, format_percent, tr
from workbench.viz.style import BLUE, GREEN, GREY, RED, finish_figure

__all__ = ["rollup_figure"]


def rollup_figure(frame: pd.DataFrame, *, by: str = "channel", currency: str = "KRW",
                  language: str = "en", level: float = 0.95) -> go.Figure:
    """Return bars of incremental margin per channel or month with interval error bars.

    A bar is green when its interval lies above 0, red below 0 and grey when it crosses 0.

    Examples
    --------
    >>> f = pd.DataFrame({"key": ["sms"], "incremental_margin": [10.0],
    ...                   "incremental_margin_low": [-2.0], "incremental_margin_high": [22.0]})
    >>> float(rollup_figure(f).data[0].error_y.array[0])
    12.0
    """
    fig = go.Figure()
    title_key = f"impact.viz.title_{by}"
    if frame.empty:
        return finish_figure(fig, tr("impact.viz.empty", language=language), language)
    value = frame["incremental_margin"].astype(float)
    low = frame["incremental_margin_low"].astype(float)
    high = frame["incremental_margin_high"].astype(float)
    colours = [GREEN if lo > 0 else RED if hi < 0 else GREY
               for lo, hi in zip(low, high, strict=True)]
    labels = [tr(f"impact.channel.{k}", language=language) if by == "channel" else str(k)
              for k in frame["key"]]
    fig.add_trace(go.Bar(
        x=labels, y=value, marker_color=colours,
        error_y={"type": "data", "symmetric": False, "array": (high - value).fillna(0.0),
                 "arrayminus": (value - low).fillna(0.0), "color": BLUE},
        customdata=[f"{format_money(lo, currency, language=language)} ~ "
                    f"{format_money(hi, currency, language=language)}"
                    for lo, hi in zip(low, high, strict=True)],
        hovertemplate="%{x}<br>%{y:,.0f}<br>%{customdata}<extra></extra>",
        name=tr("impact.viz.margin", language=language)))
    fig.update_yaxes(title=tr("impact.viz.margin_axis", language=language, currency=currency))
    fig.update_xaxes(type="category")
    total = float(value.sum())
    return finish_figure(fig, tr(title_key, language=language,
                                 total=format_money(total, currency, language=language,
                                                    style=None),
                                 level=format_percent(level, digits=0, language=language)),
                         language)
