"""The look every chart shares: font, colours, money axes and the title-and-layout finish.

Titles state the takeaway and wrap for a 400 px phone; money axes carry the currency's minor
units (KRW without decimals, labelled 원 in Korean); the layout resizes to its container.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date

import plotly.graph_objects as go
import plotly.io as pio
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


#: Korean date ticks by zoom level (d3 time formats; Plotly's own are English: "Jul 2025").
KOREAN_DATE_TICKS = (
    {"dtickrange": [None, 86_400_000], "value": "%-m월 %-d일 %H:%M"},
    {"dtickrange": [86_400_000, "M1"], "value": "%-m월 %-d일"},
    {"dtickrange": ["M1", "M12"], "value": "%Y년 %-m월"},
    {"dtickrange": ["M12", None], "value": "%Y년"},
)
_HANGUL = re.compile("[\uac00-\ud7a3]")

#: Plotly's "plotly_white" with only the trace types our charts draw. Setting the template by
#: name copies and validates its defaults for all 24 trace types: 84 ms a figure (2 of the
#: churn page's 6.7 s on a loaded machine went there); this copy, set without validating it
#: again (:func:`_set_template`), takes 5-15 ms and draws the same (the layout and these types'
#: defaults are plotly_white's own; tests/viz compares the JSON).
_WHITE = pio.templates["plotly_white"]
TEMPLATE = go.layout.Template(
    layout=_WHITE.layout,
    data={k: _WHITE.data[k] for k in ("bar", "scatter", "heatmap", "histogram", "waterfall",
                                      "sankey", "treemap") if k in _WHITE.data})


def finish_figure(fig: go.Figure, title: str, language: str | None = None) -> go.Figure:
    """Give a figure the shared title, size, margins, legend, template and font.

    In Korean (``language``, or a title written in Hangul when it is not given) the axes
    speak Korean too: dates as ``2025년 7월`` instead of Plotly's English month names, and
    numbers with thousands separators instead of SI suffixes (``10,000``, not ``10k``).
    """
    if (language or ("ko" if _HANGUL.search(title) else "en")) == "ko":
        _korean_axes(fig)
    _set_template(fig)
    fig.update_layout(
        title={"text": wrap_title(title), "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        autosize=True, height=400, margin={"l": 8, "r": 8, "t": 78, "b": 8},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0.0},
        font={"family": FONT, "size": 12},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _set_template(fig: go.Figure) -> None:
    """Set :data:`TEMPLATE` on ``fig`` without validating it again.

    The template is Plotly's own, validated once when it was built; Plotly sets its default
    template the same way (``BaseFigure._initialize_layout_template``). Without the private
    switch (another Plotly version) the template is set the validated way.
    """
    layout = fig.layout
    if not hasattr(layout, "_validate"):
        fig.update_layout(template=TEMPLATE)
        return
    before = layout._validate
    layout._validate = False
    try:
        layout.template = TEMPLATE
    finally:
        layout._validate = before


def _korean_axes(fig: go.Figure) -> None:
    """Write number ticks without SI suffixes and date ticks in Korean order."""
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    for trace in fig.data:
        for axis_letter in ("x", "y"):
            values = getattr(trace, axis_letter, None)
            if values is None or not len(values) or not _is_date(values[0]):
                continue
            ref = getattr(trace, f"{axis_letter}axis", None) or axis_letter
            name = ref.replace("x", "xaxis").replace("y", "yaxis")
            fig.update_layout({name: {"tickformatstops": KOREAN_DATE_TICKS,
                                      "hoverformat": "%Y년 %-m월 %-d일"}})


def _is_date(value: object) -> bool:
    if isinstance(value, date) or type(value).__name__ in ("Timestamp", "datetime64"):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}(-\d{2})?([ T].*)?", value))
