"""Cohorts and purchase cycles for one ``as_of``: the notebook entry point :func:`run_cohorts`.

The backend computes the retention triangle (:mod:`workbench.rfm.cohorts`), the purchase cycles
and who is due for a replenishment (:mod:`workbench.rfm.cycles`); only cohort-, category- and
due-customer-sized answers come back. Data problems come back as a status with a message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import format_date, format_number, tr
from workbench.queries import net_orders
from workbench.results import ResultMixin, Status
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
from workbench.viz.cohorts import aggregate_channels, month_name

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from ibis.backends import BaseBackend

__all__ = ["CohortResult", "run_cohorts"]


def _empty(columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass(frozen=True, slots=True, eq=False)
class CohortResult(ResultMixin):
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
        Currency of money values and language of labels and messages.
    triangle
        Rows of :func:`workbench.rfm.cohorts.retention_triangle` (``acquisition_channel`` when
        split by channel).
    cycles
        Rows of :func:`workbench.rfm.cycles.purchase_cycles` plus ``due_this_week`` and
        ``overdue`` (customers per key, counted in the backend).
    due
        Customers due this week: ``customer_id``, the key and :data:`DUE_COLUMNS` (no
        personal data; join the customers table for contact details where consent allows).
    definitions
        Plain-language definitions keyed by the term, in ``language``.
    status, message
        Outcome and the plain-language takeaway (or what went wrong and what to do).

    Notes
    -----
    ``eq=False``: results hold DataFrames; compare ``dataclasses.asdict(result)`` instead.
    """

    as_of: date
    level: str
    min_repeats: int
    currency: str
    language: str
    triangle: pd.DataFrame
    cycles: pd.DataFrame
    due: pd.DataFrame
    definitions: dict[str, str] = field(default_factory=dict)
    status: Status = Status.OK
    message: str = ""

    def to_frame(self) -> pd.DataFrame:
        """Return the retention triangle (one row per cohort, [channel] and month)."""
        return self.triangle.copy()

    def headline(self) -> list[dict[str, Any]]:
        """Return three formatted numbers for the report index.

        Month-1 retention of the latest cohort with a complete second month (change in
        percentage points against the cohort before), that cohort's size (change against the
        cohort before) and the customers due this week. Items have the keys of
        :meth:`workbench.kpi.OverviewResult.headline`: ``metric``, ``label``, ``value``,
        ``change``, ``change_pct`` (NaN when there is nothing to compare) and ``direction``.
        """
        if self.status == Status.NO_DATA:
            return []
        lang = self.language
        items = []
        m1, size = _latest_two(self.triangle, 1), _latest_two(self.triangle, 0)
        if m1 is not None:
            month = month_name(m1[0]["cohort"], lang)
            items.append(_item("retention_m1", tr("cohorts.metric.retention_m1", language=lang,
                                                   month=month),
                               m1[0]["retention"], m1[1] and m1[1]["retention"], "share", lang))
        if size is not None:
            month = month_name(size[0]["cohort"], lang)
            items.append(_item("cohort_size", tr("cohorts.metric.cohort_size", language=lang,
                                                  month=month),
                               size[0]["cohort_size"], size[1] and size[1]["cohort_size"],
                               "count", lang))
        items.append(_item("due_this_week", tr("cohorts.metric.due_this_week", language=lang),
                           self.due["customer_id"].nunique() if len(self.due) else 0, None,
                           "count", lang))
        return items

    def summary(self) -> str:
        """Return the message followed by the definitions."""
        if self.status == Status.NO_DATA:
            return self.message
        return "\n".join([self.message, *(f"{k}: {v}" for k, v in self.definitions.items())])

    def figure_retention(self) -> go.Figure:
        """Return a new retention heatmap (share of each cohort buying in month k)."""
        from workbench.viz.cohorts import retention_figure

        return retention_figure(self.triangle, language=self.language)

    def figure_revenue(self) -> go.Figure:
        """Return a new heatmap of net revenue per cohort member in month k."""
        from workbench.viz.cohorts import revenue_figure

        return revenue_figure(self.triangle, currency=self.currency, language=self.language)

    def figure_cycles(self) -> go.Figure:
        """Return a new bar chart of median and P75 purchase cycles with replenish days."""
        from workbench.viz.cohorts import cycles_figure

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


def _item(metric: str, label: str, current: float, previous: float | None, unit: str,
          language: str) -> dict[str, Any]:
    def show(v: float) -> str:
        if unit == "share":
            return format_number(100 * v, digits=1, language=language) + "%"
        return format_number(v, language=language)

    if previous is None or (unit != "share" and not previous):
        change, pct = "", math.nan
    else:
        pct = (current - previous) / previous if previous else math.nan
        delta = 100 * (current - previous) if unit == "share" else 100 * pct
        sign = "+" if delta >= 0 else "-"
        change = (sign + format_number(abs(delta), digits=1, language=language)
                  + ("%p" if unit == "share" else "%"))
    direction = ("flat" if math.isnan(pct) or pct == 0 else "up" if pct > 0 else "down")
    return {"metric": metric, "label": label, "value": show(current), "change": change,
            "change_pct": float(pct), "direction": direction}


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
    language = params.language or settings.language
    tz, as_of, level = settings.timezone, params.as_of, params.cycle_level
    key = LEVELS[level]
    names = set(con.list_tables())
    orders, items, products, customers = (
        con.table(n) if n in names else None
        for n in ("orders", "order_items", "products", "customers"))
    base = {"as_of": as_of, "level": level, "min_repeats": int(params.min_repeats),
            "currency": settings.currency, "language": language,
            "definitions": _definitions(params, settings, language)}
    if orders is None or not _has_net(orders, as_of, tz):
        return CohortResult(
            **base, triangle=_empty(TRIANGLE_COLUMNS), cycles=_empty([key, *CYCLE_COLUMNS]),
            due=_empty(["customer_id", key, *DUE_COLUMNS]), status=Status.NO_DATA,
            message=tr("cohorts.message.no_data", language=language,
                       as_of=format_date(as_of, language=language)))
    by_channel = bool(params.by_channel) and customers is not None
    triangle = _fetch(retention_triangle(orders, customers, as_of=as_of, timezone=tz,
                                         months=params.months, by_channel=by_channel))
    cycles, due = _cycles(orders, items, products, params, tz)
    message = " ".join([_retention_message(triangle, as_of, language),
                        _cycle_message(cycles, due, params, language)])
    return CohortResult(**base, triangle=triangle, cycles=cycles, due=due, message=message)


def _check(params: Any) -> None:
    if not isinstance(params, CohortParams):
        raise ParameterError(
            f"run_cohorts: 'params' must be a CohortParams; got {type(params).__name__}. "
            "Build one with workbench.reporting.CohortParams(as_of=...).")
    if params.as_of is None:
        raise ParameterError(
            "run_cohorts: 'params.as_of' is required; got None. Pass a date, e.g. "
            "CohortParams(as_of=workbench.clock.this_week()).")


def _fetch(expr: Any) -> pd.DataFrame:
    # Through Arrow: vectorised, unlike Ibis's value-by-value conversion of tz-aware columns.
    return expr.to_pyarrow().to_pandas()


def _has_net(orders: Any, as_of: date, timezone: str) -> bool:
    net = net_orders(orders, before=as_of, timezone=timezone)
    probe = net.filter(net.customer_id.notnull()).select("order_id").limit(1)
    return bool(probe.count().execute())


def _cycles(orders: Any, items: Any, products: Any, params: CohortParams,
            timezone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    level, key = params.cycle_level, LEVELS[params.cycle_level]
    head = [key, *(["product_name", "category"] if level == "product" else [])]
    if items is None:
        return (_empty([*head, *CYCLE_COLUMNS, "due_this_week", "overdue"]),
                _empty(["customer_id", key, *DUE_COLUMNS]))
    cycles = _fetch(purchase_cycles(orders, items, products, as_of=params.as_of,
                                    timezone=timezone, level=level,
                                    min_repeats=params.min_repeats))
    with_cycle = cycles.loc[cycles["has_cycle"], [key, "median_days", "has_cycle"]]
    if with_cycle.empty:
        cycles["due_this_week"] = cycles["overdue"] = 0
        return cycles, _empty(["customer_id", key, *DUE_COLUMNS])
    due_all = replenishment_due(orders, items, ibis.memtable(with_cycle.reset_index(drop=True)),
                                as_of=params.as_of, timezone=timezone, level=level)
    counts = _fetch(due_all.group_by(key).aggregate(
        due_this_week=due_all.due_this_week.sum(),
        overdue=(due_all.days_overdue > 0).sum()))
    due = _fetch(due_all.filter(due_all.due_this_week).drop("due_this_week"))
    cycles = cycles.merge(counts, on=key, how="left")
    for column in ("due_this_week", "overdue"):
        cycles[column] = cycles[column].fillna(0).astype("int64")
    return cycles, due


def _retention_message(triangle: pd.DataFrame, as_of: date, language: str) -> str:
    m1 = _latest_two(triangle, 1)
    if m1 is None:
        return tr("cohorts.message.no_second_month", language=language,
                  as_of=format_date(as_of, language=language))
    cell = m1[0]
    return tr("cohorts.message.retention", language=language,
              month=month_name(cell["cohort"], language),
              pct=format_number(100 * cell["retention"], language=language) + "%",
              cohort=format_number(cell["cohort_size"], language=language))


def _cycle_message(cycles: pd.DataFrame, due: pd.DataFrame, params: CohortParams,
                   language: str) -> str:
    level = params.cycle_level
    with_cycle = cycles[cycles["has_cycle"].astype(bool)] if len(cycles) else cycles
    if with_cycle.empty:
        return tr("cohorts.message.no_cycle", language=language, min_repeats=params.min_repeats,
                  level=tr(f"cohorts.level.{level}", language=language))
    top = with_cycle.iloc[0]
    name = top["product_name"] if level == "product" and top["product_name"] else top[LEVELS[level]]
    return tr("cohorts.message.cycle", language=language, name=name,
              days=format_number(top["median_days"], language=language),
              due=format_number(due["customer_id"].nunique() if len(due) else 0,
                                language=language),
              start=format_date(params.as_of, language=language),
              end=format_date(week_end(params.as_of), language=language))


def _definitions(params: CohortParams, settings: Settings, language: str) -> dict[str, str]:
    level = tr(f"cohorts.level.{params.cycle_level}", language=language)
    return {
        tr("cohorts.axis.cohort", language=language): tr(
            "cohorts.definition.cohort", language=language, timezone=settings.timezone),
        tr("cohorts.axis.days", language=language): tr(
            "cohorts.definition.cycle", language=language, level=level,
            min_repeats=params.min_repeats),
        tr("cohorts.metric.due_this_week", language=language): tr(
            "cohorts.definition.due", language=language,
            start=format_date(params.as_of, language=language),
            end=format_date(week_end(params.as_of), language=language)),
    }
