"""Figures of cohorts and purchase cycles: retention and revenue heatmaps, cycle bars.

Data in, a new ``go.Figure`` out; no I/O. Cohort rows carry the cohort size on the axis, cells
of a month that has not ended are marked with ``*``, money is in the currency's minor units
(KRW without decimals) and every label comes from ``cohorts.toml`` in English or Korean.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from babel.dates import format_date as babel_date

from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.viz.style import finish_figure, money_tickformat, money_unit

__all__ = ["aggregate_channels", "category_label", "cycles_figure", "month_name",
           "retention_figure", "revenue_figure"]

_BLUE, _LIGHT, _GREY, _ORANGE = "#1f5fbf", "#9dbbe8", "#8a8f98", "#e07b00"
_BLUES = [[0.0, "#f4f8fd"], [1.0, "#1f5fbf"]]


def month_name(day: date, language: str) -> str:
    """Return a month for people: ``May 2026`` in English, ``2026년 5월`` in Korean.

    Examples
    --------
    >>> month_name(date(2026, 5, 1), "en"), month_name(date(2026, 5, 1), "ko")
    ('May 2026', '2026년 5월')
    """
    pattern, locale = ("y년 M월", "ko_KR") if language == "ko" else ("MMMM y", "en_US")
    return babel_date(day, pattern, locale=locale)


def category_label(value: object, language: str) -> str:
    """Return a category for people: the catalogue's label when it has one, else the data value.

    Categories come from the shop's data. The sample shop's keys (``beauty``, ``food``, ...)
    have labels in ``cohorts.toml`` (``cohorts.category.<key>``), so a Korean page says 뷰티,
    not beauty; a shop's own category names are shown as they are.

    Examples
    --------
    >>> category_label("beauty", "ko"), category_label("beauty", "en"), category_label("차", "ko")
    ('뷰티', 'Beauty', '차')
    """
    text = str(value)
    try:
        return tr(f"cohorts.category.{text}", language=language)
    except KeyError:  # not a sample key: the shop's own name
        return text


def aggregate_channels(triangle: pd.DataFrame) -> pd.DataFrame:
    """Return the triangle summed over acquisition channels (unchanged without the column).

    Channels split the customers of a cohort, so sizes, buyers and revenue add up.
    """
    if "acquisition_channel" not in triangle.columns:
        return triangle
    if triangle.empty:
        return triangle.drop(columns="acquisition_channel")
    keys = ["cohort", "months_since", "month", "complete"]
    total = (triangle.groupby(keys, as_index=False)
             [["cohort_size", "active_customers", "revenue"]].sum())
    total["retention"] = total["active_customers"] / total["cohort_size"]
    total["revenue_per_customer"] = total["revenue"] / total["cohort_size"]
    total["cumulative_revenue_per_customer"] = (
        total.groupby("cohort")["revenue_per_customer"].cumsum())
    return total.sort_values(["cohort", "months_since"], ignore_index=True)


def _grid(triangle: pd.DataFrame, value: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    z = triangle.pivot(index="cohort", columns="months_since", values=value).sort_index()
    complete = (triangle.pivot(index="cohort", columns="months_since", values="complete")
                .reindex_like(z))
    sizes = triangle.groupby("cohort")["cohort_size"].first().reindex(z.index)
    return z, complete, sizes


def _row_labels(sizes: pd.Series, language: str) -> list[str]:
    return [tr("cohorts.axis.cohort_row", language=language,
               month=pd.Timestamp(c).strftime("%Y-%m"),
               size=format_number(n, language=language))
            for c, n in sizes.items()]


def _heatmap(triangle: pd.DataFrame, value: str, text_of, hover: str, colorbar: dict,
             language: str) -> go.Figure:
    z, complete, sizes = _grid(triangle, value)
    text = [[("" if pd.isna(v) else text_of(v) + ("" if ok is True else "*"))
             for v, ok in zip(row_z, row_c, strict=True)]
            for row_z, row_c in zip(z.to_numpy(), complete.to_numpy(), strict=True)]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype="float64").tolist(), x=[int(k) for k in z.columns],
        y=_row_labels(sizes, language), text=text, texttemplate="%{text}",
        colorscale=_BLUES, colorbar=colorbar, hoverongaps=False, xgap=1, ygap=1,
        hovertemplate=hover + "<extra></extra>",
    ))
    fig.update_layout(
        xaxis={"title": {"text": tr("cohorts.axis.months_since", language=language)},
               "dtick": 1, "side": "top"},
        yaxis={"title": {"text": tr("cohorts.axis.cohort", language=language)},
               "autorange": "reversed", "type": "category"},
    )
    if (complete == False).to_numpy().any():  # noqa: E712 - cells may be missing (NaN)
        fig.add_annotation(text=tr("cohorts.note.incomplete", language=language),
                           showarrow=False, xref="paper", yref="paper", x=0, y=-0.02,
                           xanchor="left", yanchor="top", font={"size": 11, "color": _GREY})
    return fig


def _size(fig: go.Figure, rows: int) -> go.Figure:
    fig.update_layout(height=max(400, 26 * rows + 150),
                      margin={"l": 8, "r": 8, "t": 110, "b": 40})
    return fig


def _latest_m1(triangle: pd.DataFrame) -> pd.Series | None:
    m1 = triangle[(triangle["months_since"] == 1) & triangle["complete"].astype(bool)]
    return None if m1.empty else m1.sort_values("cohort").iloc[-1]


def retention_figure(triangle: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Return the retention heatmap: share of each cohort buying in month k.

    Parameters
    ----------
    triangle
        Rows of :func:`workbench.rfm.cohorts.retention_triangle` (channels are summed).
    language
        Label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap``: ``z[i][k]`` is the retention (0-1) of cohort row ``i`` (oldest first)
        in month ``k``; ``y`` labels carry the cohort size; ``text`` the percentages (``*``:
        the month has not ended).
    """
    triangle = aggregate_channels(triangle)

    def pct(v: float) -> str:
        return format_percent(v, digits=0, language=language)

    hover = tr("cohorts.hover.retention", language=language)
    fig = _heatmap(triangle, "retention", pct, hover,
                   {"tickformat": ".0%", "title": {"text": ""}}, language)
    fig.data[0].update(zmin=0, zmax=1)
    if triangle.empty:
        title = tr("cohorts.title.empty", language=language)
    else:
        last = _latest_m1(triangle)
        title = (tr("cohorts.title.retention_plain", language=language) if last is None else
                 tr("cohorts.title.retention", language=language,
                    month=month_name(pd.Timestamp(last["cohort"]).date(), language),
                    pct=pct(float(last["retention"]))))
    return _size(finish_figure(fig, title), triangle["cohort"].nunique())


def revenue_figure(triangle: pd.DataFrame, *, currency: str = "KRW",
                   language: str = "en") -> go.Figure:
    """Return the heatmap of net revenue per cohort member in month k.

    Parameters
    ----------
    triangle
        Rows of :func:`workbench.rfm.cohorts.retention_triangle` (channels are summed).
    currency, language
        Money formatting and label language.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap``: ``z[i][k]`` is ``revenue_per_customer`` of cohort row ``i`` in month
        ``k``; ``text`` the amounts formatted in the currency (KRW without decimals).
    """
    triangle = aggregate_channels(triangle)
    unit = money_unit(currency, language)

    def money(v: float) -> str:
        return format_money(round(v, 2), currency, language=language)

    hover = tr("cohorts.hover.revenue", language=language, unit=unit,
               fmt=money_tickformat(currency))
    fig = _heatmap(triangle, "revenue_per_customer", money, hover,
                   {"tickformat": money_tickformat(currency),
                    "title": {"text": unit}}, language)
    if triangle.empty:
        title = tr("cohorts.title.empty", language=language)
    else:
        full = triangle[triangle["complete"].astype(bool)]
        best = full.groupby("cohort")["months_since"].max() if not full.empty else None
        if best is None or best.empty:
            title = tr("cohorts.title.revenue_plain", language=language)
        else:
            cohort = best.index.min()  # the oldest cohort: the longest complete history
            row = full[(full["cohort"] == cohort)].sort_values("months_since").iloc[-1]
            title = tr("cohorts.title.revenue", language=language,
                       month=month_name(pd.Timestamp(cohort).date(), language),
                       value=money(float(row["cumulative_revenue_per_customer"])),
                       months=int(row["months_since"]) + 1)
    return _size(finish_figure(fig, title), triangle["cohort"].nunique())


def cycles_figure(cycles: pd.DataFrame, *, level: str = "category", language: str = "en",
                  top: int = 20) -> go.Figure:
    """Return median and P75 days between repeat purchases, with the catalogue's guess.

    Parameters
    ----------
    cycles
        Rows of :func:`workbench.rfm.cycles.purchase_cycles`.
    level
        ``category`` or ``product`` (products are labelled by ``product_name``).
    language
        Label language.
    top
        Show at most this many rows (most repeats first).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: ``median_days`` bars, ``p75_days`` bars, then ``replenish_days`` markers;
        ``y`` holds the labels, ``x`` the days. Rows without a cycle (too few repeats) are
        drawn pale.
    """
    shown = (cycles.dropna(subset=["median_days"])
             .sort_values("repeats", ascending=False, kind="stable").head(top))
    key = "category" if level == "category" else "product_id"
    names = shown["product_name"].fillna(shown[key]) if level == "product" else shown[key]
    labels = ([str(n) for n in names] if level == "product"
              else [category_label(n, language) for n in names])
    ok = shown["has_cycle"].astype(bool).to_numpy()
    fig = go.Figure()
    hover = tr("cohorts.hover.days", language=language)
    for column, color in (("median_days", _BLUE), ("p75_days", _LIGHT)):
        fig.add_bar(y=labels, x=shown[column].astype("float64").tolist(), orientation="h",
                    name=tr(f"cohorts.trace.{column}", language=language),
                    marker={"color": color, "opacity": np.where(ok, 1.0, 0.35).tolist()},
                    customdata=shown["repeats"].tolist(), hovertemplate=hover)
    fig.add_scatter(y=labels, x=shown["replenish_days"].astype("float64").tolist(),
                    mode="markers", name=tr("cohorts.trace.replenish_days", language=language),
                    marker={"symbol": "diamond", "size": 11, "color": _ORANGE},
                    hovertemplate="%{y}: %{x:.0f}<extra></extra>")
    fig.update_layout(
        barmode="group",
        xaxis={"title": {"text": tr("cohorts.axis.days", language=language)},
               "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    withc = shown[ok]
    if withc.empty:
        title = tr("cohorts.title.cycles_empty", language=language,
                   level=tr(f"cohorts.level.{level}", language=language))
    else:
        first = withc.iloc[0]
        name = labels[int(np.flatnonzero(ok)[0])]
        title = tr("cohorts.title.cycles", language=language, name=name,
                   days=format_number(first["median_days"], language=language),
                   p75=format_number(first["p75_days"], language=language))
    fig = finish_figure(fig, title)
    fig.update_layout(height=max(400, 44 * len(shown) + 150))
    return fig
