"""Figure of coupon economics: each arm's coupon cost, split into placed-anyway and incremental.

Data in, a new ``go.Figure`` out; no I/O. The frame is
:attr:`workbench.abtest.coupons.CouponEconomicsResult.arms`.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import tr
from workbench.viz.style import BLUE, GREY, finish_figure, money_tickformat, money_unit

__all__ = ["coupon_cost_figure"]


def coupon_cost_figure(arms: pd.DataFrame, *, currency: str = "KRW",
                       language: str = "en") -> go.Figure:
    """Return stacked bars per arm with a coupon: cost on orders placed anyway + incremental.

    Parameters
    ----------
    arms
        ``campaign_id``, ``variant``, ``coupon_cost``, ``coupon_cost_anyway``.
    currency, language
        Money axis and labels.

    Returns
    -------
    plotly.graph_objects.Figure
        Two ``Bar`` traces (empty figure with a title when no arm used a coupon).

    Examples
    --------
    >>> arms = pd.DataFrame({"campaign_id": ["C1"], "variant": ["A"], "coupon_cost": [100.0],
    ...                      "coupon_cost_anyway": [40.0]})
    >>> [t.name for t in coupon_cost_figure(arms).data]
    ['Orders placed anyway', 'Orders the campaign added']
    """
    data = arms[arms["coupon_cost"].fillna(0) > 0] if len(arms) else arms
    fig = go.Figure()
    if data.empty:
        return finish_figure(fig, tr("coupons.viz.empty", language=language), language)
    labels = [f"{c} · {v}" for c, v in zip(data["campaign_id"], data["variant"], strict=True)]
    anyway = data["coupon_cost_anyway"].clip(lower=0).fillna(0)
    rest = (data["coupon_cost"] - anyway).clip(lower=0)
    fig.add_trace(go.Bar(x=labels, y=anyway, name=tr("coupons.viz.anyway", language=language),
                         marker_color=GREY))
    fig.add_trace(go.Bar(x=labels, y=rest, name=tr("coupons.viz.incremental", language=language),
                         marker_color=BLUE))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text=money_unit(currency, language),
                     tickformat=money_tickformat(currency))
    return finish_figure(fig, tr("coupons.viz.title", language=language), language)
