"""Figure of CLV by acquisition channel: what a new customer brings against what one costs.

Data in (the table of :class:`workbench.clv.channels.ChannelValue`), a new ``go.Figure`` out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import tr
from workbench.viz.style import BLUE, GREY, RED, finish_figure, money_tickformat, money_unit

__all__ = ["channel_value_figure"]


def channel_value_figure(table: pd.DataFrame, *, currency: str = "KRW", language: str = "en",
                         months: int = 12) -> go.Figure:
    """Return grouped bars of a new customer's value (two models) and the acquisition cost.

    Parameters
    ----------
    table
        ``acquisition_channel``, ``clv_covariates``, ``clv_plain``, ``acquisition_cost`` and
        ``clv_cac_ratio`` per channel.
    currency, language
        Money axis and labels.
    months
        Horizon of the value (for the title).

    Returns
    -------
    plotly.graph_objects.Figure
        Per channel: the covariate model's value (blue), the plain model's (grey) and the cost
        (red; missing when not set). The title counts the channels that pay their cost back.

    Examples
    --------
    >>> t = pd.DataFrame({"acquisition_channel": ["a", "b"], "clv_covariates": [30.0, 8.0],
    ...                   "clv_plain": [29.0, 9.0], "acquisition_cost": [10.0, np.nan],
    ...                   "clv_cac_ratio": [3.0, np.nan]})
    >>> len(channel_value_figure(t).data)
    3
    """
    channels = table["acquisition_channel"].astype(str).tolist()
    money = money_tickformat(currency)
    unit = money_unit(currency, language)
    fig = go.Figure()
    for column, colour in (("clv_covariates", BLUE), ("clv_plain", GREY),
                           ("acquisition_cost", RED)):
        name = tr(f"clv.channels.viz.{column}", language=language, months=months)
        fig.add_trace(go.Bar(x=channels, y=table[column].astype(float), name=name,
                             marker_color=colour,
                             hovertemplate=f"%{{x}}: %{{y:{money}}} {unit}<extra>{name}</extra>"))
    ratio = table["clv_cac_ratio"].astype(float).to_numpy()
    priced = int(np.isfinite(ratio).sum())
    if priced:
        title = tr("clv.channels.viz.title", language=language, months=months,
                   paying=int((ratio[np.isfinite(ratio)] >= 1).sum()), priced=priced)
    else:
        title = tr("clv.channels.viz.title_no_cost", language=language, months=months)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=unit, tickformat=money)
    return finish_figure(fig, title, language)
