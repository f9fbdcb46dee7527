"""Best sellers for one ``as_of``: the products page's entry point :func:`run_products`.

Products and categories are ranked by net revenue, units, repeat rate or trend over the last
``period_days`` days before ``as_of`` (:mod:`workbench.kpi.product_sales` defines each measure;
the backend computes one row per product and category). The trend compares the period with the
one before it, with a minimum-volume rule: the relative change of net revenue is shown only when
the previous period sold at least ``min_units`` units (a product going from 2 units to 5 is not
"+150%"); a product with no previous sales and at least ``min_units`` units now is *new*; the
rest have too few units for a trend. When the snapshot carries ``recommended_product`` (the
next-product recommender run by ``workbench refresh``), the products recommended to most
customers come with the result.

The result holds numbers; its sentences are written when read, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.data.memo import Memo, memo_key
from workbench.errors import ParameterError
from workbench.i18n import format_date, format_money, format_number, format_percent, tr
from workbench.kpi.headline import headline_item
from workbench.kpi.product_sales import (
    LEVELS,
    SALES_COLUMNS,
    customer_product_pairs,
    recommended_counts,
    sales_from_pairs,
)
from workbench.kpi.queries import empty_frame, fetch
from workbench.params import NotebookParams, param
from workbench.results import Readable, ResultMixin, Status
from workbench.settings import Settings, load_settings
from workbench.viz.products import category_figure, category_name, products_figure

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["PERIOD_DAYS", "SORT_KEYS", "ProductsParams", "ProductsResult", "ranked",
           "run_products", "with_rates"]

#: Periods the page offers (days before ``as_of``).
PERIOD_DAYS = (7, 30, 90, 365)
#: What the tables can be sorted by.
SORT_KEYS = ("net_revenue", "units", "repeat_rate", "trend")
#: Trend statuses: a relative change, a product new in the period, too few units to say.
TREND_STATUSES = ("change", "new", "few")


@dataclass(frozen=True, slots=True)
class ProductsParams(NotebookParams):
    """Parameters of the best-sellers page (``notebooks/products.ipynb``).

    Parameters
    ----------
    period_days
        Length of the period before ``as_of``: 7, 30, 90 or 365 days; the trend compares it
        with the same number of days before it.
    sort_by
        ``net_revenue``, ``units``, ``repeat_rate`` (within the period) or ``trend``.
    top
        Products listed (categories are all listed).
    min_units
        Units the previous period needs before a product's trend is shown as a change.
    """

    period_days: int = param(30, choices=PERIOD_DAYS)
    sort_by: str = param("net_revenue", choices=SORT_KEYS)
    top: int = param(20, low=1, high=500)
    min_units: int = param(20, low=1)


def with_rates(sales: pd.DataFrame, min_units: int) -> pd.DataFrame:
    """Return ``sales`` with shares, repeat rates and the trend under the minimum-volume rule.

    Adds ``revenue_share`` (of the period's net revenue over all rows), ``repeat_rate`` and
    ``repeat_rate_ever`` (NaN without buyers), ``trend`` (relative change of net revenue,
    NaN unless ``trend_status`` is ``change``) and ``trend_status`` (:data:`TREND_STATUSES`).

    Examples
    --------
    >>> s = pd.DataFrame({"net_revenue": [30.0, 10.0], "units": [30, 5], "buyers": [4, 0],
    ...                   "repeat_buyers": [1, 0], "repeat_buyers_ever": [2, 0],
    ...                   "previous_revenue": [20.0, 0.0], "previous_units": [20, 0]})
    >>> out = with_rates(s, min_units=10)
    >>> out.trend.tolist()[0], out.trend_status.tolist(), out.repeat_rate.tolist()[0]
    (0.5, ['change', 'few'], 0.25)
    """
    out = sales.copy()
    total = float(out["net_revenue"].sum())
    out["revenue_share"] = out["net_revenue"] / total if total else np.nan
    buyers = out["buyers"].astype("float64").replace(0.0, np.nan)
    out["repeat_rate"] = out["repeat_buyers"] / buyers
    out["repeat_rate_ever"] = out["repeat_buyers_ever"] / buyers
    enough = out["previous_units"] >= min_units
    new = (out["previous_units"] == 0) & (out["units"] >= min_units)
    out["trend_status"] = np.select([enough, new], ["change", "new"], "few")
    previous = out["previous_revenue"].where(enough & (out["previous_revenue"] > 0))
    out["trend"] = out["net_revenue"] / previous - 1.0
    return out


def ranked(frame: pd.DataFrame, sort_by: str, key: str, min_units: int = 1) -> pd.DataFrame:
    """Return ``frame`` sorted by ``sort_by``, highest first (ties by net revenue, then key).

    Rows without the measure (no trend, no buyers) go last, and so do, by repeat rate, rows
    that sold fewer than ``min_units`` units in the period: one buyer who bought twice is not
    the shop's most re-bought product. Rows that sold nothing in the period stay (last by
    revenue and units; by trend, a product that stopped selling is -100%), so sums over the
    frame cover both periods.

    Examples
    --------
    >>> f = pd.DataFrame({"k": ["a", "b"], "repeat_rate": [1.0, 0.2], "units": [2, 50],
    ...                   "net_revenue": [1.0, 9.0]})
    >>> ranked(f, "repeat_rate", "k", min_units=20).k.tolist()
    ['b', 'a']
    """
    order = frame[sort_by]
    if sort_by == "repeat_rate":
        order = order.where(frame["units"] >= min_units)
    ranked_ = frame.assign(_order=order).sort_values(
        ["_order", "net_revenue", key], ascending=[False, False, True], na_position="last",
        kind="stable")
    return ranked_.drop(columns="_order").reset_index(drop=True)


@dataclass(frozen=True, slots=True, eq=False)
class ProductsResult(Readable, ResultMixin):
    """Products and categories by net revenue, units, repeat rate and trend in one period.

    Parameters
    ----------
    as_of
        The period ends before this day; it starts ``period_days`` days earlier.
    period_days, sort_by, top, min_units
        As in :class:`ProductsParams`.
    currency, language
        Currency of money values and the default language of the sentences.
    products, categories
        :func:`workbench.kpi.product_sales.sales_by_key` rows through :func:`with_rates`,
        sorted by ``sort_by`` (all products and categories with sales in either period).
    recommended
        Products recommended to most customers in the snapshot (``product_id``, ``name``,
        ``customers``); empty when the snapshot has no ``recommended_product``.
    status
        ``OK``, or ``EMPTY_PERIOD`` when no net order line falls in the period.

    Notes
    -----
    ``eq=False``: results hold DataFrames; compare ``dataclasses.asdict(result)`` instead.
    """

    as_of: date
    period_days: int
    sort_by: str
    top: int
    min_units: int
    currency: str
    language: str
    products: pd.DataFrame
    categories: pd.DataFrame
    recommended: pd.DataFrame
    status: Status = Status.OK

    @property
    def start(self) -> date:
        """First day of the period."""
        return self.as_of - timedelta(days=self.period_days)

    @property
    def end(self) -> date:
        """Last day of the period (the day before ``as_of``)."""
        return self.as_of - timedelta(days=1)

    def to_frame(self) -> pd.DataFrame:
        """Return the top products (``top`` rows, in the chosen order)."""
        return self.top_products()

    def top_products(self) -> pd.DataFrame:
        """Return the first ``top`` products in the chosen order."""
        return self.products.head(self.top).copy()

    # ------------------------------------------------------------------------------ words
    def _period(self, language: str) -> str:
        return tr("products.period", language=language, days=self.period_days,
                  start=format_date(self.start, language=language),
                  end=format_date(self.end, language=language))

    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway: the best seller and the leading category (or the problem)."""
        lang = language or self.language
        if self.status != Status.OK:
            return tr("products.message.empty", language=lang, period=self._period(lang))
        best = self.products.sort_values(["net_revenue", "product_id"],
                                         ascending=[False, True]).iloc[0]
        cat = self.categories.sort_values(["net_revenue", "category"],
                                          ascending=[False, True]).iloc[0]
        return tr("products.message.best", language=lang, period=self._period(lang),
                  name=best["name"] if isinstance(best["name"], str) else best["product_id"],
                  revenue=format_money(best["net_revenue"], self.currency, language=lang),
                  share=format_percent(best["revenue_share"], language=lang),
                  units=format_number(best["units"], language=lang),
                  category=category_name(cat["category"], lang),
                  category_share=format_percent(cat["revenue_share"], language=lang))

    def definitions_in(self, language: str | None = None) -> dict[str, str]:
        """Return the definitions of the measures, keyed by their column labels."""
        lang = language or self.language
        return {tr(f"products.column.{c}", language=lang):
                tr(f"products.definition.{c}", language=lang, min_units=self.min_units,
                   days=self.period_days)
                for c in ("net_revenue", "repeat_rate", "repeat_rate_ever", "trend")}

    def headline(self, language: str | None = None) -> list[dict[str, Any]]:
        """Return the period's net revenue and units (against the period before) and the top share.

        Items have the keys of :func:`workbench.kpi.headline.headline_item`.
        """
        if self.status != Status.OK:
            return []
        lang = language or self.language
        p = self.products
        # Metric ids of their own: the report's index leads with the week's ``net_revenue``
        # (the overview's), and this page's revenue is over ``period_days``.
        items = [headline_item(f"products_{metric}", tr(f"products.metric.{metric}",
                                                        language=lang, days=self.period_days),
                               float(p[now].sum()), float(p[before].sum()), unit,
                               currency=self.currency, language=lang)
                 for metric, now, before, unit in (
                     ("net_revenue", "net_revenue", "previous_revenue", "money"),
                     ("units", "units", "previous_units", "count"))]
        top10 = p["net_revenue"].nlargest(10).sum() / p["net_revenue"].sum()
        items.append(headline_item("products_top10_share",
                                   tr("products.metric.top10_share", language=lang),
                                   float(top10), None, "share", currency=self.currency,
                                   language=lang))
        return items

    def summary(self, language: str | None = None) -> str:
        """Return the message followed by the definitions."""
        lang = language or self.language
        return "\n".join([self.message_in(lang),
                          *(f"{k}: {v}" for k, v in self.definitions_in(lang).items())])

    # ------------------------------------------------------------------------------ figures
    def figure_products(self) -> go.Figure:
        """Return a new bar chart of the top products by the chosen measure."""
        return products_figure(self.products.head(min(self.top, 15)), sort_by=self.sort_by,
                               currency=self.currency, language=self.language,
                               days=self.period_days)

    def figure_categories(self) -> go.Figure:
        """Return a new bar chart of net revenue per category, this period and the one before."""
        return category_figure(self.categories, currency=self.currency, language=self.language,
                               days=self.period_days)

    def figure(self) -> go.Figure:
        """Return the main figure: the top products."""
        return self.figure_products()


# ---------------------------------------------------------------------------------- computing
def run_products(con: BaseBackend, params: ProductsParams, *,
                 settings: Settings | None = None) -> ProductsResult:
    """Compute the best sellers of the ``params.period_days`` days before ``params.as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    params
        ``as_of`` (required), ``period_days``, ``sort_by``, ``top``, ``min_units``, ``language``.
    settings
        Time zone, currency and default language; default: ``workbench.toml``.

    Returns
    -------
    ProductsResult
        ``status`` is ``EMPTY_PERIOD`` when no net order line falls in the period (or the
        store has no orders or order lines); then the frames are empty.

    Raises
    ------
    ParameterError
        ``params`` is not a :class:`ProductsParams` or has no ``as_of``.
    """
    if not isinstance(params, ProductsParams):
        raise ParameterError(tr("products.error.params_type", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("products.error.as_of_required"))
    settings = settings or load_settings()
    base = {"as_of": params.as_of, "period_days": int(params.period_days),
            "sort_by": params.sort_by, "top": int(params.top),
            "min_units": int(params.min_units), "currency": settings.currency,
            "language": params.language or settings.language}
    names = set(con.list_tables())
    if not {"orders", "order_items"} <= names:
        return _empty(base)
    key = (*memo_key(con), params.as_of, int(params.period_days), settings.timezone)
    products, categories = _SALES.get(key, lambda: _sales(con, params, settings.timezone))
    if not len(products) or products["units"].sum() <= 0:
        return _empty(base)
    rec = (_RECOMMENDED.get(memo_key(con), lambda: _recommended(con))
           if "snapshot_customers" in names else empty_frame(["product_id", "name", "customers"]))
    return ProductsResult(
        **base,
        products=ranked(with_rates(products, params.min_units), params.sort_by, "product_id",
                        params.min_units),
        categories=ranked(with_rates(categories, params.min_units), params.sort_by, "category",
                          params.min_units),
        recommended=rec.copy())


# One period's sales are kept per process (workbench.data.memo: keyed on the store's data
# version), so re-sorting or a new minimum volume costs only pandas on a few hundred rows.
_SALES = Memo("products.sales", size=6)
_RECOMMENDED = Memo("products.recommended", size=2)


def _empty(base: dict[str, Any]) -> ProductsResult:
    rates = ("revenue_share", "repeat_rate", "repeat_rate_ever", "trend", "trend_status")
    return ProductsResult(
        **base,
        products=empty_frame(["product_id", "name", "category", *SALES_COLUMNS, *rates]),
        categories=empty_frame(["category", *SALES_COLUMNS, *rates]),
        recommended=empty_frame(["product_id", "name", "customers"]), status=Status.EMPTY_PERIOD)


def _sales(con: Any, params: ProductsParams, timezone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = set(con.list_tables())
    orders, items = con.table("orders"), con.table("order_items")
    products = con.table("products") if "products" in names else None
    pairs = customer_product_pairs(orders, items, products, as_of=params.as_of,
                                   days=int(params.period_days), timezone=timezone)
    # both levels read the same pairs: kept once in a temporary table (DuckDB; Spark caches)
    with pairs.cache() as kept:
        frames = [fetch(sales_from_pairs(kept, level)) for level in LEVELS]
    for frame in frames:
        for column in ("units", "buyers", "repeat_buyers", "repeat_buyers_ever",
                       "previous_units"):
            frame[column] = frame[column].astype("int64")
    return frames[0], frames[1]


def _recommended(con: Any) -> pd.DataFrame:
    snapshot = con.table("snapshot_customers")
    if "recommended_product" not in snapshot.columns:
        return empty_frame(["product_id", "name", "customers"])
    names = set(con.list_tables())
    products = con.table("products") if "products" in names else None
    return fetch(recommended_counts(snapshot, products))
