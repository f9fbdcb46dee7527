"""The KPI overview: tiles, revenue drivers, repurchase and the weekly trend for one ``as_of``.

:func:`run_overview` sends a handful of aggregating queries to the backend (period metrics,
top-customer share, first and second orders of recent first-time buyers) and assembles their
period- and customer-sized answers into an :class:`OverviewResult`. Data problems (an empty
store, a period without orders) come back as a status; only caller mistakes raise. The result
holds numbers; its sentences (the takeaway, the definitions, the summary) are written when they
are read, in the reader's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from workbench.data.schema import NET_STATUSES
from workbench.dates import month_start, period_bounds, shift_period, week_starts
from workbench.errors import ParameterError
from workbench.i18n import (
    format_date,
    format_money,
    format_number,
    format_percent,
    format_value,
    tr,
)
from workbench.kpi import queries as q
from workbench.kpi.drivers import DRIVER_COLUMNS, Decomposition, drivers_frame, ratio
from workbench.kpi.headline import change_text, headline_item, zone_label
from workbench.kpi.params import OverviewParams
from workbench.kpi.repurchase import (
    CURVE_COLUMNS,
    cohort_bounds,
    first_order_since,
    repurchase_rate,
    second_order_curve,
    second_orders,
)
from workbench.queries import net_orders
from workbench.results import Readable, ResultMixin, Status
from workbench.settings import Settings, load_settings
from workbench.viz.cohorts import month_name
from workbench.viz.kpi import drivers_figure, second_order_figure, trend_figure

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["TILE_METRICS", "OverviewResult", "run_overview"]

#: Tiles in display order, with their units.
TILE_METRICS = {
    "net_revenue": "money", "orders": "count", "buyers": "count", "active_customers": "count",
    "purchase_probability": "share", "aov": "money", "orders_per_buyer": "ratio",
    "new_buyers": "count", "returning_buyers": "count", "member_order_share": "share",
    "top20_revenue_share": "share", "discount_share": "share", "points_share": "share",
}
TILE_COLUMNS = ("metric", "label", "current", "previous", "change", "change_pct", "unit")
TREND_COLUMNS = ("week_start", "net_revenue", "orders", "buyers", "active_customers", "aov",
                 "new_buyers")
MONTHLY_TREND_COLUMNS = ("month_start", *TREND_COLUMNS[1:])
REPURCHASE_COLUMNS = ("rate", "ci_lower", "ci_upper", "repurchasers", "cohort_size",
                      "window_days", "cohort_first", "cohort_last")
#: Metrics with a plain-language definition of their own (``kpi.definition.<metric>``).
_DEFINED = ("purchase_probability", "aov", "orders_per_buyer", "new_buyers",
            "member_order_share", "discount_share", "points_share")


@dataclass(frozen=True, slots=True, eq=False)
class OverviewResult(Readable, ResultMixin):
    """KPI overview of the last complete period before ``as_of`` against the one before.

    Parameters
    ----------
    as_of
        Reference date (exclusive).
    period
        ``W`` (Monday-Sunday week) or ``M`` (calendar month).
    current, previous
        First and last day (inclusive) of the two periods compared.
    currency, language
        Currency of the money values, and the language of the labels in the frames and the
        default language of :attr:`message`, :attr:`definitions` and :meth:`summary`.
    timezone
        The shop's time zone (periods are cut at its midnights; stated in the definitions).
    tiles
        One row per metric: ``metric``, ``label``, ``current``, ``previous``, ``change``,
        ``change_pct`` (NaN when the previous value is 0 or missing), ``unit`` (``money``,
        ``count``, ``share`` or ``ratio``).
    drivers
        The LMDI decomposition of the change in net revenue (see :mod:`workbench.kpi.drivers`);
        ``contribution`` adds up to the change of the ``net_revenue`` tile.
    repurchase
        One row: repurchase rate with its Wilson interval, cohort size, window and cohort dates.
    second_order_curve
        Kaplan-Meier share of first-time buyers with a second order by day ``days``.
    trend
        One row per Monday-Sunday week of the last ``trend_weeks`` complete weeks.
    monthly_trend
        One row per complete calendar month over the same span (from the month holding the
        trend's first day to the current month), ``month_start`` instead of ``week_start``;
        computed when ``period`` is ``M`` (empty otherwise). :attr:`period_trend` picks the
        one that follows the period, and the trend chart draws it.
    status
        ``OK``, ``NO_DATA`` (no orders) or ``EMPTY_PERIOD`` (no net order in the current period).
    repurchase_window_days
        The window of the repurchase rate, marked on the time-to-second-order chart.
    activity_events
        Whether the store has visit or login events (otherwise active customers are buyers).
    decomposition
        The LMDI decomposition of identified customers' revenue (``fallback`` set when a zero
        or missing factor made it use the zero-value rule); ``None`` without data.
    order_dates
        First and last day of the store's orders, for ``EMPTY_PERIOD``; else ``None``.

    Notes
    -----
    ``eq=False``: results hold DataFrames, whose ``==`` is elementwise, so results compare by
    identity; compare ``dataclasses.asdict(result)`` field by field instead.
    """

    as_of: date
    period: str
    current: tuple[date, date]
    previous: tuple[date, date]
    currency: str
    language: str
    timezone: str
    tiles: pd.DataFrame
    drivers: pd.DataFrame
    repurchase: pd.DataFrame
    second_order_curve: pd.DataFrame
    trend: pd.DataFrame
    status: Status = Status.OK
    repurchase_window_days: int = 90
    activity_events: bool = True
    decomposition: Decomposition | None = None
    order_dates: tuple[date, date] | None = None
    monthly_trend: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return the KPI tiles (one row per metric)."""
        return self.tiles.copy()

    @property
    def period_trend(self) -> pd.DataFrame:
        """Return the trend that follows the period: weekly for ``W``, monthly for ``M``.

        Its last two rows are the previous and current periods of the tiles.
        """
        if self.period == "M" and self.monthly_trend is not None:
            return self.monthly_trend
        return self.trend

    # ------------------------------------------------------------------------------ words
    def message_in(self, language: str | None = None) -> str:
        """Return the takeaway: the change in net revenue and what drove it (or the problem)."""
        lang = language or self.language
        if self.status == Status.NO_DATA:
            return tr("kpi.message.no_data", language=lang)
        period = _period_text(self.period, self.current[0], lang)
        if self.status == Status.EMPTY_PERIOD:
            first, last = self.order_dates or (self.as_of, self.as_of)
            return tr("kpi.message.empty_period", language=lang, period=period,
                      first=format_date(first, language=lang),
                      last=format_date(last, language=lang))
        rev = self.tiles.set_index("metric").loc["net_revenue"]
        value = format_money(rev["current"], self.currency, language=lang, style=None)
        change = rev["current"] - rev["previous"]
        if not rev["previous"]:
            text = tr("kpi.message.from_zero", language=lang, value=value, period=period)
        elif not change:
            text = tr("kpi.message.flat", language=lang, value=value, period=period)
        else:
            same = self.drivers[self.drivers["contribution"] * change > 0]
            top = same.loc[same["contribution"].abs().idxmax(), "factor"]
            direction = "up" if change > 0 else "down"
            text = tr(f"kpi.message.{direction}", language=lang, value=value, period=period,
                      pct=format_percent(abs(change / rev["previous"]), language=lang),
                      driver=tr(f"kpi.driver_{direction}.{top}", language=lang))
        return f"{text} {self.drivers_note_in(lang)}".strip()

    @property
    def drivers_note(self) -> str:
        """The zero-value note of the drivers in :attr:`language` (see :meth:`drivers_note_in`)."""
        return self.drivers_note_in(self.language)

    def drivers_note_in(self, language: str | None = None) -> str:
        """Return why the drivers used the zero-value rule, or ``""`` when they did not."""
        dec = self.decomposition
        if dec is None or dec.fallback is None:
            return ""
        lang = language or self.language
        side = "previous" if dec.previous == 0 else "current"
        return tr("kpi.message.fallback", language=lang,
                  factor=tr(f"kpi.factor.{dec.fallback}", language=lang),
                  side=tr(f"kpi.side.{side}", language=lang),
                  change=format_money(dec.change, self.currency, language=lang,
                                      style=None))

    @property
    def definitions(self) -> dict[str, str]:
        """Plain-language definitions keyed by the term, in :attr:`language`."""
        return self.definitions_in(self.language)

    def definitions_in(self, language: str | None = None) -> dict[str, str]:
        """Return the definition of every tile and chart, keyed by the term's name."""
        lang = language or self.language

        def label(key: str) -> str:
            return tr(key, language=lang)

        first, end = cohort_bounds(self.as_of, self.repurchase_window_days)
        as_of = format_date(self.as_of, language=lang)
        texts = {
            label("kpi.metric.net_revenue"): tr(
                "kpi.definition.net_revenue", language=lang,
                timezone=zone_label(self.timezone, lang),
                statuses=", ".join(tr(f"kpi.status.{s}", language=lang) for s in NET_STATUSES)),
            label("kpi.metric.active_customers"): label(
                "kpi.definition.active_customers" if self.activity_events
                else "kpi.definition.active_no_events"),
        }
        for metric in _DEFINED:
            texts[label(f"kpi.metric.{metric}")] = label(f"kpi.definition.{metric}")
        texts[label("kpi.metric.top20_revenue_share")] = tr(
            "kpi.definition.top20_revenue_share", language=lang, as_of=as_of,
            previous_as_of=format_date(shift_period(self.as_of, self.period), language=lang))
        texts[label("kpi.term.repurchase_rate")] = tr(
            "kpi.definition.repurchase_rate", language=lang, as_of=as_of,
            window=self.repurchase_window_days, first=format_date(first, language=lang),
            last=format_date(end - timedelta(days=1), language=lang))
        texts[label("kpi.term.drivers")] = label("kpi.definition.drivers")
        texts[label("kpi.term.second_order")] = tr("kpi.definition.second_order",
                                                    language=lang, as_of=as_of)
        return texts

    def headline(self, language: str | None = None) -> list[dict[str, Any]]:
        """Return net revenue, then the two other tiles whose change is largest, formatted.

        Net revenue leads whatever its change (the report index shows it first, as the
        dashboards do); the others are the largest relative changes. Each item has ``metric``,
        ``label``, ``value`` and ``change`` (formatted for people), ``change_pct`` and
        ``direction`` (``up``, ``down`` or ``flat``); see
        :func:`workbench.kpi.headline.headline_item`.
        """
        lang = language or self.language
        lead = self.tiles[self.tiles["metric"] == "net_revenue"].dropna(subset=["current"])
        rest = self.tiles[self.tiles["metric"] != "net_revenue"].dropna(subset=["change_pct"])
        moved = rest.loc[rest["change_pct"].abs().sort_values(ascending=False,
                                                              kind="stable").index]
        top = pd.concat([lead, moved]).iloc[:3]
        return [headline_item(r.metric, tr(f"kpi.metric.{r.metric}", language=lang), r.current,
                              r.previous, r.unit, currency=self.currency, language=lang)
                for r in top.itertuples()]

    def summary(self, language: str | None = None) -> str:
        """Return a plain-text summary: takeaway, periods, every tile and the repurchase rate."""
        lang = language or self.language
        if self.status == Status.NO_DATA:
            return self.message_in(lang)
        lines = [self.message_in(lang)]
        lines.append(tr("kpi.summary.period", language=lang,
                        name=tr(f"kpi.period_name.{self.period}", language=lang),
                        current=_span(self.current, lang), previous=_span(self.previous, lang),
                        as_of=format_date(self.as_of, language=lang)))
        for r in self.tiles.itertuples():
            lines.append(tr("kpi.summary.tile", language=lang,
                            label=tr(f"kpi.metric.{r.metric}", language=lang),
                            value=format_value(r.current, r.unit, self.currency, language=lang),
                            change=change_text(r.current, r.previous, r.unit, language=lang)
                            or "–"))
        lines.append(_repurchase_line(self.repurchase, lang))
        note = self.drivers_note_in(lang)
        if note:
            lines.append(note)
        return "\n".join(lines)

    # ------------------------------------------------------------------------------ figures
    def figure_trend(self) -> go.Figure:
        """Return a new figure of net revenue and buyers per week (``W``) or month (``M``)."""
        return trend_figure(self.period_trend, currency=self.currency, language=self.language)

    def figure_drivers(self) -> go.Figure:
        """Return a new waterfall of the revenue drivers (previous -> contributions -> current)."""
        tiles = self.tiles.set_index("metric")
        return drivers_figure(self.drivers,
                              previous_revenue=_num(tiles["previous"].get("net_revenue")),
                              current_revenue=_num(tiles["current"].get("net_revenue")),
                              currency=self.currency, language=self.language)

    def figure_second_order(self) -> go.Figure:
        """Return a new figure of the time-to-second-order curve (Kaplan-Meier)."""
        return second_order_figure(self.second_order_curve,
                                   window_days=self.repurchase_window_days,
                                   language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the weekly trend."""
        return self.figure_trend()


def _num(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def _span(days: tuple[date, date], language: str) -> str:
    return f"{format_date(days[0], language=language)} – {format_date(days[1], language=language)}"


def _period_text(period: str, start: date, language: str) -> str:
    if period == "W":
        return tr("kpi.period.week", language=language,
                  start=format_date(start, language=language))
    return tr("kpi.period.month", language=language, month=month_name(start, language))


def _repurchase_line(repurchase: pd.DataFrame, language: str) -> str:
    if repurchase.empty:
        return ""
    r = repurchase.iloc[0]
    fields = {"first": format_date(r["cohort_first"], language=language),
              "last": format_date(r["cohort_last"], language=language)}
    if not r["cohort_size"]:
        return tr("kpi.summary.no_cohort", language=language, **fields)
    return tr("kpi.summary.repurchase", language=language, window=int(r["window_days"]),
              rate=format_percent(r["rate"], language=language),
              cohort=format_number(r["cohort_size"], language=language), **fields)


def _labelled(frame: pd.DataFrame, area: str, language: str) -> pd.DataFrame:
    """Return ``frame`` with a ``label`` column after its key column (``kpi.<area>.<key>``)."""
    key = frame.columns[0]
    out = frame.copy()
    out.insert(1, "label", [tr(f"kpi.{area}.{k}", language=language) for k in out[key]])
    return out


# ---------------------------------------------------------------------------------- computing
def run_overview(con: BaseBackend, params: OverviewParams, *,
                 settings: Settings | None = None,
                 cache: dict[tuple, Any] | None = None) -> OverviewResult:
    """Compute the KPI overview for ``params.as_of`` (see :class:`OverviewResult`).

    Parameters
    ----------
    con
        Ibis backend of the store (:func:`workbench.data.connect`).
    params
        ``as_of`` (required), ``period``, ``language``, ``repurchase_window_days``,
        ``trend_weeks``.
    settings
        Time zone, currency and default language; default: ``workbench.toml``.
    cache
        A dict kept by the caller between calls on the same connection (a dashboard page):
        parts that do not depend on the period (store facts, the weekly trend, first-time
        buyers) are computed once per ``as_of`` and reused, so switching between week and
        month runs only the month's and the top-share queries. Values in it are immutable
        results of this function; leave it out for a fresh computation.

    Returns
    -------
    OverviewResult
        ``status`` is ``NO_DATA`` when the store has no orders and ``EMPTY_PERIOD`` when the
        current period has no net orders; the frames hold whatever could be computed.

    Raises
    ------
    ParameterError
        ``params`` is not an :class:`OverviewParams` or has no ``as_of``.
    """
    _check(params)
    settings = settings or load_settings()
    language = params.language or settings.language
    prev_start, cur_start, cur_end = period_bounds(params.as_of, params.period)
    orders, events, customers = _tables(con)
    memo = _Memo({} if cache is None else cache,
                 (params.as_of, settings.timezone, int(params.trend_weeks)))
    facts = memo("facts", lambda: (
        q.fetch(q.store_facts(orders, events, before=params.as_of,
                              timezone=settings.timezone)).iloc[0]
        if orders is not None else {"orders": 0, "activity_events": 0}))
    base = {"as_of": params.as_of, "period": params.period, "currency": settings.currency,
            "language": language, "timezone": settings.timezone,
            "repurchase_window_days": int(params.repurchase_window_days),
            "current": (cur_start, cur_end - timedelta(days=1)),
            "previous": (prev_start, cur_start - timedelta(days=1)),
            "activity_events": bool(facts["activity_events"])}
    if not facts["orders"]:
        return _no_data(base)
    trend, monthly, rows = _period_rows(orders, events, customers, params, settings, memo)
    tiles = _tiles(rows, _top_shares(orders, params, settings))
    drivers, dec = drivers_frame(rows[0], rows[1])
    window = int(params.repurchase_window_days)
    buyers = memo(("buyers", window), lambda: _first_buyers(orders, params, settings))
    empty = not rows[1]["orders"]
    return OverviewResult(
        **base, tiles=_labelled(tiles, "metric", language),
        drivers=_labelled(drivers, "factor", language), trend=trend, monthly_trend=monthly,
        repurchase=memo(("repurchase", window), lambda: repurchase_rate(
            buyers, as_of=params.as_of, timezone=settings.timezone, window_days=window)),
        second_order_curve=memo("curve", lambda: second_order_curve(
            buyers, as_of=params.as_of, timezone=settings.timezone)),
        status=Status.EMPTY_PERIOD if empty else Status.OK, decomposition=dec,
        # the empty-period message names the days the store's orders cover
        order_dates=q.order_dates(orders, settings.timezone) if empty else None)


class _Memo:
    """Caller-kept cache of the parts of an overview that do not depend on the period.

    Keys combine the part's name with everything it depends on (``as_of``, zone, trend
    length); the cached frames are shared between results, which never modify them.
    """

    def __init__(self, store: dict[tuple, Any], scope: tuple) -> None:
        self.store, self.scope = store, scope

    def __call__(self, name: Any, compute: Any) -> Any:
        key = (*self.scope, name)
        if key not in self.store:
            self.store[key] = compute()
        return self.store[key]


def _check(params: Any) -> None:
    if not isinstance(params, OverviewParams):
        raise ParameterError(tr("kpi.error.params_type", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("kpi.error.as_of_required"))


def _tables(con: BaseBackend) -> tuple[Any, Any, Any]:
    names = set(con.list_tables())
    return tuple(con.table(n) if n in names else None for n in ("orders", "events", "customers"))


def _no_data(base: dict[str, Any]) -> OverviewResult:
    return OverviewResult(
        **base, tiles=q.empty_frame(TILE_COLUMNS),
        drivers=q.empty_frame(("factor", "label", *DRIVER_COLUMNS[1:])),
        repurchase=q.empty_frame(REPURCHASE_COLUMNS),
        second_order_curve=q.empty_frame(CURVE_COLUMNS), trend=q.empty_frame(TREND_COLUMNS),
        monthly_trend=q.empty_frame(MONTHLY_TREND_COLUMNS), status=Status.NO_DATA)


def _buckets(orders: Any, events: Any, customers: Any, bounds: list[date],
             settings: Settings) -> list[dict[str, float]]:
    frame = q.fetch(q.bucket_metrics(orders, events, customers, bounds=bounds,
                                    timezone=settings.timezone))
    full = (frame.set_index("bucket").reindex(range(len(bounds) - 1))
            .loc[:, list(q.BUCKET_COLUMNS)].astype("float64").fillna(0.0))
    return full.to_dict("records")


def _period_rows(orders: Any, events: Any, customers: Any, params: OverviewParams,
                 settings: Settings, memo: _Memo
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, float]]]:
    weeks = week_starts(params.as_of, params.trend_weeks)
    bounds = [*weeks, weeks[-1] + timedelta(days=7)]
    weekly = memo("weekly", lambda: _buckets(orders, events, customers, bounds, settings))
    trend = memo("trend", lambda: _trend(weeks, weekly))
    if params.period == "W":  # weekly tiles are the trend's last two weeks
        return trend, pd.DataFrame(columns=list(MONTHLY_TREND_COLUMNS)), weekly[-2:]
    # Months need their own distinct counts; the monthly trend's last two months are the
    # tiles' periods, so one query gives both.
    months = _month_starts(params.as_of, weeks[0])
    monthly = memo("monthly", lambda: _buckets(orders, events, customers, months, settings))
    frame = memo("monthly_trend", lambda: _trend(months[:-1], monthly, column="month_start"))
    return trend, frame, monthly[-2:]


def _month_starts(as_of: date, first_day: date) -> list[date]:
    """Return month bounds from the month holding ``first_day`` to the current month's end.

    At least the previous and current complete months of :func:`period_bounds`, so the
    monthly trend spans the weekly one's days and ends on the tiles' two months.

    >>> _month_starts(date(2026, 11, 16), date(2026, 8, 10))
    [datetime.date(2026, 8, 1), datetime.date(2026, 9, 1), datetime.date(2026, 10, 1), \
datetime.date(2026, 11, 1)]
    """
    previous, _, end = period_bounds(as_of, "M")
    first = min(month_start(first_day), previous)
    count = (end.year - first.year) * 12 + end.month - first.month
    return [month_start(end, k) for k in range(count, -1, -1)]


def _trend(starts: list[date], buckets: list[dict[str, float]], *,
           column: str = "week_start") -> pd.DataFrame:
    frame = pd.DataFrame(buckets)
    return pd.DataFrame({
        column: starts, "net_revenue": frame["net_revenue"],
        "orders": frame["orders"].astype("int64"), "buyers": frame["buyers"].astype("int64"),
        "active_customers": frame["active_customers"].astype("int64"),
        "aov": frame["net_revenue"] / frame["orders"].where(frame["orders"] > 0),
        "new_buyers": frame["new_buyers"].astype("int64"),
    })


def _first_buyers(orders: Any, params: OverviewParams, settings: Settings) -> pd.DataFrame:
    net = net_orders(orders, before=params.as_of, timezone=settings.timezone)
    since = first_order_since(params.as_of, params.repurchase_window_days)
    return q.fetch(second_orders(net, since=since, timezone=settings.timezone))


def _top_shares(orders: Any, params: OverviewParams, settings: Settings) -> dict[str, float]:
    previous_as_of = shift_period(params.as_of, params.period)
    windows = {"current": (params.as_of - timedelta(days=365), params.as_of),
               "previous": (previous_as_of - timedelta(days=365), previous_as_of)}
    net = net_orders(orders, before=params.as_of, timezone=settings.timezone)
    frame = q.fetch(q.top_share(net, windows, timezone=settings.timezone)).set_index("window")
    share = frame["top_revenue"] / frame["revenue"].where(frame["revenue"] > 0)
    return {w: float(share.get(w, math.nan)) for w in windows}


def _tile_values(row: dict[str, float], top: float) -> dict[str, float]:
    # Shares of the gross order value (net paid + discounts + points spent), so a coupon that
    # lowers net revenue raises its own share instead of hiding in a smaller denominator.
    gross = row["net_revenue"] + row["discount"] + row["points_used"]
    return {
        "net_revenue": row["net_revenue"], "orders": row["orders"], "buyers": row["buyers"],
        "active_customers": row["active_customers"],
        "purchase_probability": ratio(row["buyers"], row["active_customers"]),
        "aov": ratio(row["net_revenue"], row["orders"]),
        "orders_per_buyer": ratio(row["identified_orders"], row["buyers"]),
        "new_buyers": row["new_buyers"], "returning_buyers": row["buyers"] - row["new_buyers"],
        "member_order_share": ratio(row["member_orders"], row["orders"]),
        "top20_revenue_share": top,
        "discount_share": ratio(row["discount"], gross),
        "points_share": ratio(row["points_used"], gross),
    }


def _tiles(rows: list[dict[str, float]], top: dict[str, float]) -> pd.DataFrame:
    previous = _tile_values(rows[0], top["previous"])
    current = _tile_values(rows[1], top["current"])
    tiles = pd.DataFrame({
        "metric": list(TILE_METRICS),
        "current": [float(current[m]) for m in TILE_METRICS],
        "previous": [float(previous[m]) for m in TILE_METRICS],
    })
    tiles["change"] = tiles["current"] - tiles["previous"]
    tiles["change_pct"] = tiles["change"] / tiles["previous"].where(tiles["previous"] != 0)
    tiles["unit"] = list(TILE_METRICS.values())
    return tiles
