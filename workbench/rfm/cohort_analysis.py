"""Cohorts and purchase cycles for one ``as_of``: the notebook entry point :func:`run_cohorts`.

The backend computes the retention triangle (:mod:`workbench.rfm.cohorts`), the purchase cycles
and who is due for a replenishment (:mod:`workbench.rfm.cycles`); only cohort-, category- and
due-customer-sized answers come back. Data problems come back as a status. The result holds
numbers; its sentences (the takeaway, the definitions, the headline) are written when they are
read, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import plotly.graph_objects as go

from workbench.data.memo import Memo, memo_key
from workbench.errors import ParameterError
from workbench.i18n import format_date, format_number, format_percent, tr
from workbench.kpi.headline import headline_item, zone_label
from workbench.kpi.queries import empty_frame, fetch
from workbench.queries import net_orders
from workbench.results import Readable, ResultMixin, Status
from workbench.rfm.cohorts import TRIANGLE_COLUMNS, retention_triangle
from workbench.rfm.cycles import (
    CYCLE_COLUMNS,
    DUE_COLUMNS,
    LEVELS,
    purchase_cycles,
    replenishment_due,
    week_end,
)
from workbench.rfm.params import CohortParams
from workbench.settings import Settings, load_settings
from workbench.viz.cohorts import (
    aggregate_channels,
    category_label,
    cycles_figure,
    month_name,
    retention_figure,
    revenue_figure,
)

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CohortResult", "run_cohorts"]


@dataclass(frozen=True, slots=True, eq=False)
class CohortResult(Readable, ResultMixin):
    """Retention triangle, purchase cycles and customers due for a repurchase this week.

    Parameters
    ----------
    as_of
        Reference date (exclusive); the due week is ``[as_of, as_of + 7)``.
    level
        ``category`` or ``product``: where cycles are measured.
    min_repeats
        Repeat purchases a key needs for a cycle.
    currency, language
        Currency of money values, and the default language of :attr:`message`,
        :attr:`definitions`, :meth:`summary` and :meth:`headline`.
    timezone
        The shop's time zone (months and days are cut there; stated in the definitions).
    triangle
        Rows of :func:`workbench.rfm.cohorts.retention_triangle` (``acquisition_channel`` when
        split by channel).
    cycles
        Rows of :func:`workbench.rfm.cycles.purchase_cycles` plus ``due_this_week`` and
        ``overdue`` (customers per key, counted in the backend).
    due
        Customers due this week: ``customer_id``, the key and :data:`DUE_COLUMNS` (no
        personal data; join the customers table for contact details where consent allows).
    status
        ``OK``, or ``NO_DATA`` when no identified customer has a net order before ``as_of``.

    Notes
    -----
    ``eq=False``: results hold DataFrames; compare ``dataclasses.asdict(result)`` instead.
    """

    as_of: date
    level: str
    min_repeats: int
    currency: str
    language: str
    timezone: str
    triangle: pd.DataFrame
    cycles: pd.DataFrame
    due: pd.DataFrame
    status: Status = Status.OK

    def to_frame(self) -> pd.DataFrame:
        """Return the retention triangle (one row per cohort, [channel] and month)."""
        return self.triangle.copy()

    # ------------------------------------------------------------------------------ words
    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway: month-1 retention and the top purchase cycle (or the problem)."""
        lang = language or self.language
        if self.status == Status.NO_DATA:
            return tr("cohorts.message.no_data", language=lang,
                      as_of=format_date(self.as_of, language=lang))
        return f"{self._retention_message(lang)} {self._cycle_message(lang)}"

    def _retention_message(self, language: str) -> str:
        m1 = _latest_two(self.triangle, 1)
        if m1 is None:
            return tr("cohorts.message.no_second_month", language=language,
                      as_of=format_date(self.as_of, language=language))
        cell = m1[0]
        return tr("cohorts.message.retention", language=language,
                  month=month_name(cell["cohort"], language),
                  pct=format_percent(cell["retention"], digits=0, language=language),
                  cohort=format_number(cell["cohort_size"], language=language))

    def _cycle_message(self, language: str) -> str:
        cycles = self.cycles
        with_cycle = cycles[cycles["has_cycle"].astype(bool)] if len(cycles) else cycles
        if with_cycle.empty:
            return tr("cohorts.message.no_cycle", language=language,
                      min_repeats=self.min_repeats,
                      level=tr(f"cohorts.level.{self.level}", language=language))
        top = with_cycle.iloc[0]
        name = (top["product_name"] if self.level == "product" and top["product_name"]
                else category_label(top[LEVELS[self.level]], language))
        customers, pairs = self.due_customers, self.due_pairs
        return tr("cohorts.message.cycle" if pairs == customers else "cohorts.message.cycle_pairs",
                  language=language, name=name,
                  days=format_number(top["median_days"], language=language),
                  due=format_number(customers, language=language),
                  pairs=format_number(pairs, language=language),
                  level=tr(f"cohorts.level.{self.level}", language=language),
                  start=format_date(self.as_of, language=language),
                  end=format_date(week_end(self.as_of), language=language))

    @property
    def due_customers(self) -> int:
        """Different customers due this week (a customer due in two keys counts once)."""
        return int(self.due["customer_id"].nunique()) if len(self.due) else 0

    @property
    def due_pairs(self) -> int:
        """Customer-key pairs due this week: the sum of :meth:`due_by_key` (and of ``due``'s rows).

        A customer who buys beauty and food and is due for both counts once in
        :attr:`due_customers` and twice here; the page's headline states both numbers.
        """
        return int(len(self.due))

    def due_by_key(self, language: str | None = None) -> pd.DataFrame:
        """Return the customers due this week per key, most first: ``key``, ``label``, ``due``.

        ``label`` is the category's label in ``language`` (the product name at product level);
        ``due`` adds up to :attr:`due_pairs`.
        """
        lang = language or self.language
        cycles = self.cycles
        if cycles.empty or "due_this_week" not in cycles.columns:
            return pd.DataFrame({"key": [], "label": [], "due": []})
        due = cycles[cycles["due_this_week"] > 0].sort_values(
            ["due_this_week", LEVELS[self.level]], ascending=[False, True], kind="stable")
        keys = due[LEVELS[self.level]].astype(str)
        if self.level == "product":
            labels = due["product_name"].fillna(keys).astype(str)
        else:
            labels = keys.map(lambda k: category_label(k, lang))
        return pd.DataFrame({"key": keys.to_numpy(), "label": labels.to_numpy(),
                             "due": due["due_this_week"].astype("int64").to_numpy()})

    @property
    def definitions(self) -> dict[str, str]:
        """Plain-language definitions keyed by the term, in :attr:`language`."""
        return self.definitions_in(self.language)

    def definitions_in(self, language: str | None = None) -> dict[str, str]:
        """Return the definitions of cohorts, purchase cycles and "due", keyed by the term."""
        lang = language or self.language
        level = tr(f"cohorts.level.{self.level}", language=lang)
        return {
            tr("cohorts.axis.cohort", language=lang): tr(
                "cohorts.definition.cohort", language=lang,
                timezone=zone_label(self.timezone, lang)),
            tr("cohorts.axis.days", language=lang): tr(
                "cohorts.definition.cycle", language=lang, level=level,
                min_repeats=self.min_repeats),
            tr("cohorts.metric.due_this_week", language=lang): tr(
                "cohorts.definition.due", language=lang,
                start=format_date(self.as_of, language=lang),
                end=format_date(week_end(self.as_of), language=lang)),
        }

    def headline(self, language: str | None = None) -> list[dict[str, Any]]:
        """Return three formatted numbers for the report index.

        Month-1 retention of the latest cohort with a complete second month (change in
        percentage points against the cohort before), that cohort's size (change against the
        cohort before) and the customers due this week. Items have the keys of
        :func:`workbench.kpi.headline.headline_item`: ``metric``, ``label``, ``value``,
        ``change``, ``change_pct`` (NaN when there is nothing to compare) and ``direction``.
        """
        if self.status == Status.NO_DATA:
            return []
        lang = language or self.language
        items = []
        for metric, k, column, unit in (("retention_m1", 1, "retention", "share"),
                                        ("cohort_size", 0, "cohort_size", "count")):
            cells = _latest_two(self.triangle, k)
            if cells is not None:
                latest, before = cells
                label = tr(f"cohorts.metric.{metric}", language=lang,
                           month=month_name(latest["cohort"], lang))
                items.append(headline_item(metric, label, latest[column],
                                           before[column] if before else None, unit,
                                           currency=self.currency, language=lang))
        items.append(headline_item(
            "due_this_week", tr("cohorts.metric.due_this_week", language=lang),
            self.due_customers, None, "count", currency=self.currency, language=lang))
        return items

    def summary(self, language: str | None = None) -> str:
        """Return the message followed by the definitions."""
        lang = language or self.language
        if self.status == Status.NO_DATA:
            return self.message_in(lang)
        return "\n".join([self.message_in(lang),
                          *(f"{k}: {v}" for k, v in self.definitions_in(lang).items())])

    # ------------------------------------------------------------------------------ figures
    def figure_retention(self) -> go.Figure:
        """Return a new retention heatmap (share of each cohort buying in month k)."""
        return retention_figure(self.triangle, language=self.language)

    def figure_revenue(self) -> go.Figure:
        """Return a new heatmap of net revenue per cohort member in month k."""
        return revenue_figure(self.triangle, currency=self.currency, language=self.language)

    def figure_cycles(self) -> go.Figure:
        """Return a new bar chart of median and P75 purchase cycles with replenish days."""
        return cycles_figure(self.cycles, level=self.level, language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the retention heatmap."""
        return self.figure_retention()


def _latest_two(triangle: pd.DataFrame, k: int) -> tuple[dict, dict | None] | None:
    """Return the latest two complete month-``k`` cells (channels summed), newest first."""
    if triangle.empty:
        return None
    cells = aggregate_channels(triangle)
    cells = cells[(cells["months_since"] == k) & cells["complete"].astype(bool)]
    rows = cells.sort_values("cohort").to_dict("records")[-2:]
    if not rows:
        return None
    return rows[-1], (rows[0] if len(rows) == 2 else None)


# ---------------------------------------------------------------------------------- computing
def run_cohorts(con: BaseBackend, params: CohortParams, *,
                settings: Settings | None = None) -> CohortResult:
    """Compute cohorts, purchase cycles and who is due this week for ``params.as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    params
        ``as_of`` (required), ``language``, ``months``, ``by_channel`` (ignored when the store
        has no customers table), ``cycle_level``, ``min_repeats``.
    settings
        Time zone, currency and default language; default: ``workbench.toml``.

    Returns
    -------
    CohortResult
        ``status`` is ``NO_DATA`` when no identified customer has a net order before
        ``as_of``; then every frame is empty.

    Raises
    ------
    ParameterError
        ``params`` is not a :class:`CohortParams` or has no ``as_of``.
    """
    _check(params)
    settings = settings or load_settings()
    tz, as_of, level = settings.timezone, params.as_of, params.cycle_level
    key = LEVELS[level]
    names = set(con.list_tables())
    orders, items, products, customers = (
        con.table(n) if n in names else None
        for n in ("orders", "order_items", "products", "customers"))
    base = {"as_of": as_of, "level": level, "min_repeats": int(params.min_repeats),
            "currency": settings.currency, "timezone": tz,
            "language": params.language or settings.language}
    store = memo_key(con) if orders is not None else None
    if orders is None or not _HAS_NET.get((*store, as_of, tz),
                                          lambda: _has_net(orders, as_of, tz)):
        return CohortResult(
            **base, triangle=empty_frame(TRIANGLE_COLUMNS),
            cycles=empty_frame([key, *CYCLE_COLUMNS]),
            due=empty_frame(["customer_id", key, *DUE_COLUMNS]), status=Status.NO_DATA)
    by_channel = bool(params.by_channel) and customers is not None
    triangle = _TRIANGLES.get(
        (*store, as_of, tz, int(params.months), by_channel),
        lambda: fetch(retention_triangle(orders, customers, as_of=as_of, timezone=tz,
                                         months=params.months, by_channel=by_channel)))
    cycles, due = _CYCLES.get((*store, as_of, tz, level, int(params.min_repeats)),
                              lambda: _cycles(orders, items, products, params, tz))
    return CohortResult(**base, triangle=triangle.copy(), cycles=cycles.copy(),
                        due=due.copy())


# The two halves of the page change with different widgets: the triangle with the months and
# the channel split, the cycles with the level and the minimum repeats. Each is kept per
# process (workbench.data.memo: keyed on the store's data version, so a load or a refresh
# computes it again), so switching the level back and forth, or the channel split, recomputes
# only the half that changed, and only once.
_HAS_NET = Memo("cohorts.has_net", size=8)
_TRIANGLES = Memo("cohorts.triangle", size=6)
_CYCLES = Memo("cohorts.cycles", size=6)


def _check(params: Any) -> None:
    if not isinstance(params, CohortParams):
        raise ParameterError(tr("cohorts.error.params_type", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("cohorts.error.as_of_required"))


def _has_net(orders: Any, as_of: date, timezone: str) -> bool:
    probe = net_orders(orders, before=as_of, timezone=timezone, identified=True)
    return bool(probe.select("order_id").limit(1).count().execute())


def _cycles(orders: Any, items: Any, products: Any, params: CohortParams,
            timezone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    level, key = params.cycle_level, LEVELS[params.cycle_level]
    head = [key, *(["product_name", "category"] if level == "product" else [])]
    if items is None:
        return (empty_frame([*head, *CYCLE_COLUMNS, "due_this_week", "overdue"]),
                empty_frame(["customer_id", key, *DUE_COLUMNS]))
    cycles = fetch(purchase_cycles(orders, items, products, as_of=params.as_of,
                                    timezone=timezone, level=level,
                                    min_repeats=params.min_repeats))
    with_cycle = cycles.loc[cycles["has_cycle"], [key, "median_days", "has_cycle"]]
    if with_cycle.empty:
        cycles["due_this_week"] = cycles["overdue"] = 0
        return cycles, empty_frame(["customer_id", key, *DUE_COLUMNS])
    due_all = replenishment_due(orders, items, ibis.memtable(with_cycle.reset_index(drop=True)),
                                as_of=params.as_of, timezone=timezone, level=level)
    counts = fetch(due_all.group_by(key).aggregate(
        due_this_week=due_all.due_this_week.sum(),
        overdue=(due_all.days_overdue > 0).sum()))
    due = fetch(due_all.filter(due_all.due_this_week).drop("due_this_week"))
    cycles = cycles.merge(counts, on=key, how="left")
    for column in ("due_this_week", "overdue"):
        cycles[column] = cycles[column].fillna(0).astype("int64")
    return cycles, due
