"""The look every chart shares: font, colours, money axes and the title-and-layout finish.

Titles state the takeaway and wrap for a 400 px phone; money axes carry the currency's minor
units (KRW without decimals, labelled 원 in Korean); the layout resizes to its container.
"""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go
from babel.numbers import get_currency_precision

from workbench.i18n import tr

__all__ = ["BLUE", "GREEN", "GREY", "RED", "finish_figure", "money_tickformat", "money_unit"]

FONT = "Noto Sans KR, NanumGothic, Malgun Gothic, Apple SD Gothic Neo, Helvetica, sans-serif"
BLUE, GREY, GREEN, RED = "#1f5fbf", "#8a8f98", "#1a7f37", "#c62828"


def money_unit(currency: str, language: str) -> str:
    """Return the unit shown on money axes: ``원`` in Korean and ``KRW`` in English for won.

    Examples
    --------
    >>> money_unit("KRW", "ko"), money_unit("KRW", "en"), money_unit("USD", "ko")
    ('원', 'KRW', 'USD')
    """
    return tr("viz.unit.krw", language=language) if currency == "KRW" else currency


def money_tickformat(currency: str) -> str:
    """Return the d3 format of money ticks with the currency's minor units (KRW: none).

    Examples
    --------
    >>> money_tickformat("KRW"), money_tickformat("USD")
    (',.0f', ',.2f')
    """
    return f",.{get_currency_precision(currency.upper())}f"


def wrap_title(title: str, width: int = 46) -> str:
    # Plotly never wraps titles; break them so a 400 px phone shows the whole takeaway.
    return "<br>".join(textwrap.wrap(title, width=width)) or title


def finish_figure(fig: go.Figure, title: str) -> go.Figure:
    """Give a figure the shared title, size, margins, legend, template and font."""
    fig.update_layout(
        title={"text": wrap_title(title), "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        autosize=True, height=400, margin={"l": 8, "r": 8, "t": 78, "b": 8},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0.0},
        template="plotly_white", font={"family": FONT, "size": 12},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig
