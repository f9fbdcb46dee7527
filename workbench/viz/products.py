"""Figures of the best-sellers page: top products by a measure, categories against last period.

Data in, a new ``go.Figure`` out; no I/O. Money is in the currency's minor units (KRW without
decimals, labelled 원 in Korean), product names are the shop's own, categories of the sample shop
carry their Korean labels (``cohorts.category.<key>``), and every other label comes from
``products.toml``.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.viz.cohorts import category_label
from workbench.viz.style import BLUE, GREY, finish_figure, money_tickformat, money_unit

__all__ = ["category_figure", "category_name", "products_figure"]

_LIGHT = "#9dbbe8"


def category_name(value: object, language: str) -> str:
    """Return a category for people; a missing one reads "no category".

    Examples
    --------
    >>> category_name("food", "ko"), category_name(None, "en"), category_name("차", "en")
    ('식품', 'No category', '차')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return tr("products.no_category", language=language)
    return category_label(value, language)


def _value_text(value: float, sort_by: str, currency: str, language: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if sort_by == "net_revenue":
        return format_money(value, currency, language=language)
    if sort_by == "units":
        return format_number(value, language=language)
    return format_percent(value, signed=sort_by == "trend", language=language)


def products_figure(products: pd.DataFrame, *, sort_by: str = "net_revenue",
                    currency: str = "KRW", language: str = "en", days: int = 30) -> go.Figure:
    """Return horizontal bars of the given products' ``sort_by`` measure, first on top.

    Parameters
    ----------
    products
        Rows of :class:`workbench.kpi.ProductsResult` ``products`` in the order to show
        (``name``, ``product_id`` and the measure's column).
    sort_by
        ``net_revenue``, ``units``, ``repeat_rate`` or ``trend``.
    currency, language
        Money formatting and label language.
    days
        The period's length (in the title).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace: ``y`` holds the product names, ``x`` the measure (shares as fractions).
    """
    names = products["name"].where(products["name"].notna(), products["product_id"])
    labels = [str(n) for n in names]
    values = products[sort_by].astype("float64")
    fig = go.Figure()
    fig.add_bar(y=labels, x=values.tolist(), orientation="h", marker={"color": BLUE},
                text=[_value_text(v, sort_by, currency, language) for v in values],
                textposition="auto", cliponaxis=False,
                hovertemplate="%{y}: %{text}<extra></extra>")
    axis: dict = {"title": {"text": tr(f"products.axis.{sort_by}", language=language,
                                       unit=money_unit(currency, language))}}
    if sort_by == "net_revenue":
        axis["tickformat"] = money_tickformat(currency)
    elif sort_by in ("repeat_rate", "trend"):
        axis["tickformat"] = ".0%"
    fig.update_layout(xaxis=axis, yaxis={"autorange": "reversed", "type": "category",
                                         "automargin": True}, showlegend=False)
    title = tr(f"products.title.{sort_by}", language=language, days=days, count=len(products))
    fig = finish_figure(fig, title, language)
    fig.update_layout(height=max(360, 28 * len(products) + 150))
    return fig


def category_figure(categories: pd.DataFrame, *, currency: str = "KRW", language: str = "en",
                    days: int = 30) -> go.Figure:
    """Return net revenue per category in the period and in the period before it.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the previous period, trace 1: the current one; ``x`` holds the category
        labels (most revenue first), ``y`` the net revenue.
    """
    shown = categories.sort_values(["net_revenue", "category"], ascending=[False, True],
                                   kind="stable")
    labels = [category_name(c, language) for c in shown["category"]]
    fig = go.Figure()
    for column, color, name in (("previous_revenue", GREY, "previous"),
                                ("net_revenue", BLUE, "current")):
        fig.add_bar(x=labels, y=shown[column].astype("float64").tolist(),
                    name=tr(f"products.trace.{name}", language=language, days=days),
                    marker={"color": color},
                    hovertemplate="%{x}: %{y:" + money_tickformat(currency) + "}<extra></extra>")
    fig.update_layout(barmode="group", xaxis={"type": "category"},
                      yaxis={"title": {"text": tr("products.axis.net_revenue", language=language,
                                                  unit=money_unit(currency, language))},
                             "tickformat": money_tickformat(currency), "rangemode": "tozero"})
    if shown.empty:
        title = tr("products.title.categories_empty", language=language, days=days)
    else:
        top = shown.iloc[0]
        title = tr("products.title.categories", language=language, days=days,
                   name=category_name(top["category"], language),
                   revenue=format_money(top["net_revenue"], currency, language=language))
    return finish_figure(fig, title, language)
