"""The best-sellers page: products and categories by net revenue, units, repeat rate and trend.

No analysis happens here: the page calls :func:`workbench.kpi.run_products`; the HTML builders
are pure functions of its result.
"""

from __future__ import annotations

import html
import math
from datetime import date
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.kpi import PERIOD_DAYS, SORT_KEYS, ProductsParams, ProductsResult, run_products
from workbench.ui.common import table_html
from workbench.ui.page import Page, chart_outputs, show_figure
from workbench.viz.products import category_name

__all__ = ["ProductsPage", "categories_html", "definitions_html", "products_html",
           "recommended_html", "show_products"]

CHARTS = ("products", "categories")
_RIGHT = "style='text-align:right'"
#: Room between the columns: the headers are several words ("재구매율(기간 내)").
_STYLE = ("<style>.wb-products th, .wb-products td, .wb-product-categories th, "
          ".wb-product-categories td, .wb-recommended th, .wb-recommended td "
          "{padding: 3px 10px}</style>")


def _trend_text(row: Any, language: str) -> str:
    if row.trend_status == "change" and not math.isnan(row.trend):
        return format_percent(row.trend, signed=True, language=language)
    return tr(f"products.trend.{row.trend_status}", language=language)


def _measure_cells(row: Any, currency: str, language: str) -> list[str]:
    return [format_money(row.net_revenue, currency, language=language),
            format_percent(row.revenue_share, language=language),
            format_number(row.units, language=language),
            format_number(row.buyers, language=language),
            format_percent(row.repeat_rate, language=language),
            format_percent(row.repeat_rate_ever, language=language),
            _trend_text(row, language)]


_MEASURES = ("net_revenue", "revenue_share", "units", "buyers", "repeat_rate",
             "repeat_rate_ever", "trend")


def products_html(products: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the product table: rank, name, category and the measures (raw values in data-*)."""
    head = [tr(f"products.column.{c}", language=language)
            for c in ("rank", "product", "category", *_MEASURES)]
    rows = []
    for rank, r in enumerate(products.itertuples(), start=1):
        name = r.name if isinstance(r.name, str) and r.name else r.product_id
        cells = [f"<td {_RIGHT}>{rank}</td><td>{html.escape(str(name))}</td>"
                 f"<td>{html.escape(category_name(r.category, language))}</td>"]
        cells += [f"<td {_RIGHT}>{html.escape(c)}</td>"
                  for c in _measure_cells(r, currency, language)]
        rows.append(f"<tr data-key='{html.escape(str(r.product_id))}' "
                    f"data-revenue='{float(r.net_revenue)!r}' data-units='{int(r.units)}'>"
                    + "".join(cells) + "</tr>")
    return (_STYLE + f"<h3>{html.escape(tr('products.ui.products', language=language))}</h3>"
            + table_html("wb-products", head, rows))


def categories_html(categories: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the category table with the same measures as the product table."""
    head = [tr(f"products.column.{c}", language=language) for c in ("category", *_MEASURES)]
    rows = []
    for r in categories.itertuples():
        cells = [f"<td>{html.escape(category_name(r.category, language))}</td>"]
        cells += [f"<td {_RIGHT}>{html.escape(c)}</td>"
                  for c in _measure_cells(r, currency, language)]
        rows.append(f"<tr data-key='{html.escape(str(r.category))}' "
                    f"data-revenue='{float(r.net_revenue)!r}'>" + "".join(cells) + "</tr>")
    return (_STYLE + f"<h3>{html.escape(tr('products.ui.categories', language=language))}</h3>"
            + table_html("wb-product-categories", head, rows))


def recommended_html(recommended: pd.DataFrame, *, language: str) -> str:
    """Return the most recommended next products (empty without ``recommended_product``)."""
    if recommended.empty:
        return ""
    head = [tr(f"products.column.{c}", language=language)
            for c in ("rank", "product", "customers")]
    rows = [f"<tr data-key='{html.escape(str(r.product_id))}' data-customers='{int(r.customers)}'>"
            f"<td {_RIGHT}>{rank}</td><td>{html.escape(str(r.name))}</td>"
            f"<td {_RIGHT}>{format_number(r.customers, language=language)}</td></tr>"
            for rank, r in enumerate(recommended.itertuples(), start=1)]
    note = html.escape(tr("products.ui.recommended_note", language=language))
    return (_STYLE + f"<h3>{html.escape(tr('products.ui.recommended', language=language))}</h3>"
            f"<p class='wb-note'>{note}</p>" + table_html("wb-recommended", head, rows))


def definitions_html(result: ProductsResult, *, language: str) -> str:
    """Return the definitions of the measures as a short list."""
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                    for k, v in result.definitions_in(language).items())
    title = html.escape(tr("products.ui.definitions", language=language))
    return f"<div class='wb-definitions'><h4>{title}</h4><ul>{items}</ul></div>"


class ProductsPage(Page):
    """Best sellers of one store; ``display(page)`` shows it."""

    def run(self) -> ProductsResult:
        """Run :func:`workbench.kpi.run_products` for the page's parameters."""
        return run_products(self.con, self.params, settings=self.settings)

    def variants(self) -> list[dict[str, Any]]:
        """Return the other periods and sort orders the form offers."""
        p = self.params
        return ([{"period_days": d} for d in PERIOD_DAYS if d != p.period_days]
                + [{"sort_by": s} for s in SORT_KEYS if s != p.sort_by])

    def _parts(self) -> dict[str, str]:
        r, lang = self.result, self.language
        return {"products": products_html(r.top_products(), currency=r.currency, language=lang),
                "categories": categories_html(r.categories, currency=r.currency, language=lang),
                "recommended": recommended_html(r.recommended, language=lang),
                "definitions": definitions_html(r, language=lang)}

    def static_parts(self) -> list[Any]:
        """Return the charts, the tables, the recommended products and the definitions."""
        parts = self._parts()
        return [self.result.figure_products(), parts["products"],
                self.result.figure_categories(), parts["categories"], parts["recommended"],
                parts["definitions"]]

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date, the period and the sort order."""
        lang = self.language
        self.w_as_of = self.date_picker()
        self.w_period = widgets.ToggleButtons(
            options=[(tr("products.ui.days", language=lang, days=d), d) for d in PERIOD_DAYS],
            value=int(self.params.period_days), description=tr("products.ui.period",
                                                                language=lang),
            style={"button_width": "auto"},
            layout={"display": "flex", "align_items": "baseline"})
        self.w_period.add_class("wb-period")
        self.w_sort = widgets.Dropdown(
            options=[(tr(f"products.sort.{s}", language=lang), s) for s in SORT_KEYS],
            value=self.params.sort_by, description=tr("products.ui.sort_by", language=lang))
        self.w_sort.add_class("wb-sort-by")
        for w in (self.w_as_of, self.w_period, self.w_sort):
            w.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_period, self.w_sort]

    def body(self) -> list[widgets.Widget]:
        """Return the chart outputs and the tables (created once)."""
        if not hasattr(self, "w_charts"):
            self.w_charts = chart_outputs(CHARTS)
            self.w_tables = {name: widgets.HTML() for name in
                             ("products", "categories", "recommended", "definitions")}
        c, t = self.w_charts, self.w_tables
        return [c["products"], t["products"], c["categories"], t["categories"],
                t["recommended"], t["definitions"]]

    def render(self) -> None:
        """Fill the charts and tables from the result."""
        show_figure(self.w_charts["products"], self.result.figure_products())
        show_figure(self.w_charts["categories"], self.result.figure_categories())
        for name, text in self._parts().items():
            self.w_tables[name].value = text

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(as_of=as_of, period_days=int(self.w_period.value),
                        sort_by=self.w_sort.value)


def show_products(params: ProductsParams) -> ProductsPage:
    """Return the best-sellers page for ``params``; the notebook's last expression shows it."""
    return ProductsPage(params)
