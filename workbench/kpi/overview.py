"""The KPI overview: tiles, revenue drivers, repurchase and the weekly trend for one ``as_of``.

:func:`run_overview` sends a handful of aggregating queries to the backend (period metrics,
top-customer share, first and second orders of recent first-time buyers) and assembles their
period- and customer-sized answers into an :class:`OverviewResult`. Data problems (an empty
store, a period without orders) come back as a status with a message; only caller mistakes
raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.data.schema import NET_STATUSES
from workbench.dates import period_bounds, shift_period, week_starts
from workbench.errors import ParameterError
from workbench.i18n import format_date, format_money, format_number, format_value, tr
from workbench.kpi import queries as q
from workbench.kpi.drivers import Decomposition, drivers_frame
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
from workbench.results import ResultMixin, Status
from workbench.settings import Settings, load_settings

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from ibis.backends import BaseBackend

__all__ = ["TILE_METRICS", "OverviewResult", "run_overview"]

#: Tiles in display order, with their units.
TILE_METRICS = {
    "net_revenue": "money", "orders": "count", "buyers": "count", "active_customers": "count",
    "purchase_probability": "share", "aov": "money", "orders_per_buyer": "ratio",
    "new_buyers": "count", "returning_buyers": "count", "member_order_share": "share",
    "top20_revenue_share": "share",
}
TILE_COLUMNS = ("metric", "label", "current", "previous", "change", "change_pct", "unit")
TREND_COLUMNS = ("week_start", "net_revenue", "orders", "buyers", "active_customers", "aov",
                 "new_buyers")
DRIVER_COLUMNS = ("factor", "label", "previous", "current", "unit", "contribution",
                  "share_of_change")
REPURCHASE_COLUMNS = ("rate", "ci_lower", "ci_upper", "repurchasers", "cohort_size",
                      "window_days", "cohort_first", "cohort_last")


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass(frozen=True, slots=True, eq=False)
class OverviewResult(ResultMixin):
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
        Currency of the money values and language of labels and messages.
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
    definitions
        Plain-language definitions keyed by the term, in ``language``.
    status, message
        Outcome and the plain-language takeaway (or what went wrong and what to do).
    drivers_note
        Set when a zero or missing factor made the drivers fall back to the zero-value rule.
    repurchase_window_days
        The window of the repurchase rate, marked on the time-to-second-order chart.

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
    tiles: pd.DataFrame
    drivers: pd.DataFrame
    repurchase: pd.DataFrame
    second_order_curve: pd.DataFrame
    trend: pd.DataFrame
    definitions: dict[str, str] = field(default_factory=dict)
    status: Status = Status.OK
    message: str = ""
    drivers_note: str = ""
    repurchase_window_days: int = 90

    def to_frame(self) -> pd.DataFrame:
        """Return the KPI tiles (one row per metric)."""
        return self.tiles.copy()

    def headline(self) -> list[dict[str, Any]]:
        """Return the three tiles whose change is largest in relative terms, formatted.

        Each item has ``metric``, ``label``, ``value`` and ``change`` (formatted for people),
        ``change_pct`` and ``direction`` (``up``, ``down`` or ``flat``).
        """
        tiles = self.tiles.dropna(subset=["change_pct"])
        top = tiles.loc[tiles["change_pct"].abs().sort_values(ascending=False,
                                                              kind="stable").index[:3]]
        return [
            {"metric": r.metric, "label": r.label,
             "value": format_value(r.current, r.unit, self.currency, language=self.language),
             "change": _format_change(r.current, r.previous, r.change_pct, r.unit,
                                     self.language),
             "change_pct": float(r.change_pct),
             "direction": "up" if r.change_pct > 0 else ("down" if r.change_pct < 0 else "flat")}
            for r in top.itertuples()
        ]

    def summary(self) -> str:
        """Return a plain-text summary: takeaway, periods, every tile and the repurchase rate."""
        lang = self.language
        if self.status == Status.NO_DATA:
            return self.message
        lines = [self.message]
        lines.append(tr("kpi.summary.period", language=lang,
                        name=tr(f"kpi.period_name.{self.period}", language=lang),
                        current=_span(self.current, lang), previous=_span(self.previous, lang),
                        as_of=format_date(self.as_of, language=lang)))
        for r in self.tiles.itertuples():
            lines.append(tr("kpi.summary.tile", language=lang, label=r.label,
                            value=format_value(r.current, r.unit, self.currency, language=lang),
                            change=_format_change(r.current, r.previous, r.change_pct, r.unit,
                                                 lang) or "–"))
        lines.append(_repurchase_line(self.repurchase, lang))
        if self.drivers_note:
            lines.append(self.drivers_note)
        return "\n".join(lines)

    def figure_trend(self) -> go.Figure:
        """Return a new figure of weekly net revenue and buyers."""
        from workbench.viz.kpi import trend_figure

        return trend_figure(self.trend, currency=self.currency, language=self.language)

    def figure_drivers(self) -> go.Figure:
        """Return a new waterfall of the revenue drivers (previous -> contributions -> current)."""
        from workbench.viz.kpi import drivers_figure

        tiles = self.tiles.set_index("metric")
        return drivers_figure(self.drivers,
                              previous_revenue=_num(tiles["previous"].get("net_revenue")),
                              current_revenue=_num(tiles["current"].get("net_revenue")),
                              currency=self.currency, language=self.language)

    def figure_second_order(self) -> go.Figure:
        """Return a new figure of the time-to-second-order curve (Kaplan-Meier)."""
        from workbench.viz.kpi import second_order_figure

        return second_order_figure(self.second_order_curve,
                                   window_days=self.repurchase_window_days,
                                   language=self.language)

    def figure(self) -> go.Figure:
        """Return the main figure: the weekly trend."""
        return self.figure_trend()


def _num(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def _format_change(current: Any, previous: Any, change_pct: Any, unit: str,
                  language: str) -> str:
    """Format a change: percentage points (``%p``) for shares, relative % otherwise."""
    if change_pct is None or pd.isna(change_pct):
        return ""
    if unit == "share":
        points = 100 * (current - previous)
        sign = "+" if points >= 0 else "-"
        return sign + format_number(abs(points), digits=1, language=language) + "%p"
    sign = "+" if change_pct >= 0 else "-"
    return sign + format_number(100 * abs(change_pct), digits=1, language=language) + "%"


def _span(days: tuple[date, date], language: str) -> str:
    return f"{format_date(days[0], language=language)} – {format_date(days[1], language=language)}"


def _repurchase_line(repurchase: pd.DataFrame, language: str) -> str:
    if repurchase.empty:
        return ""
    r = repurchase.iloc[0]
    fields = {"first": format_date(r["cohort_first"], language=language),
              "last": format_date(r["cohort_last"], language=language)}
    if not r["cohort_size"]:
        return tr("kpi.summary.no_cohort", language=language, **fields)
    return tr("kpi.summary.repurchase", language=language, window=int(r["window_days"]),
              rate=format_value(r["rate"], "share", language=language),
              cohort=format_number(r["cohort_size"], language=language), **fields)


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
    base = {"as_of": params.as_of, "period": params.period, "currency": settings.currency,
            "language": language, "repurchase_window_days": int(params.repurchase_window_days),
            "current": (cur_start, cur_end - timedelta(days=1)),
            "previous": (prev_start, cur_start - timedelta(days=1))}
    orders, events, customers = _tables(con)
    memo = _Memo({} if cache is None else cache,
                 (params.as_of, settings.timezone, int(params.trend_weeks)))
    facts = memo("facts", lambda: (
        _fetch(q.store_facts(orders, events, before=params.as_of,
                             timezone=settings.timezone)).iloc[0]
        if orders is not None else {"orders": 0, "activity_events": 0}))
    definitions = _definitions(params, settings, language, bool(facts["activity_events"]))
    if not facts["orders"]:
        return _no_data(base, definitions, language)
    trend, rows = _period_rows(orders, events, customers, params, settings, memo)
    top = _top_shares(orders, params, settings)
    tiles = _tiles(rows, top, language)
    drivers, dec = drivers_frame(rows[0], rows[1], language=language)
    note = _fallback_note(dec, settings.currency, language)
    window = int(params.repurchase_window_days)
    buyers = memo(("buyers", window), lambda: _first_buyers(orders, params, settings))
    status, message = _status_message(rows, tiles, drivers, note, orders, base, settings)
    return OverviewResult(
        **base, tiles=tiles, drivers=drivers, trend=trend, definitions=definitions,
        repurchase=memo(("repurchase", window), lambda: repurchase_rate(
            buyers, as_of=params.as_of, timezone=settings.timezone, window_days=window)),
        second_order_curve=memo("curve", lambda: second_order_curve(
            buyers, as_of=params.as_of, timezone=settings.timezone)),
        status=status, message=message, drivers_note=note)


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
        raise ParameterError(
            f"run_overview: 'params' must be an OverviewParams; got {type(params).__name__}. "
            "Build one with workbench.reporting.OverviewParams(as_of=...)."
        )
    if params.as_of is None:
        raise ParameterError(
            "run_overview: 'params.as_of' is required; got None. Pass a date, e.g. "
            "OverviewParams(as_of=workbench.clock.this_week())."
        )


def _tables(con: BaseBackend) -> tuple[Any, Any, Any]:
    names = set(con.list_tables())
    return tuple(con.table(n) if n in names else None for n in ("orders", "events", "customers"))


def _fetch(expr: Any) -> pd.DataFrame:
    # Through Arrow: Ibis's own to_pandas converts tz-aware columns value by value (about
    # 150 ms for 40k rows here), Arrow's conversion is vectorised.
    return expr.to_pyarrow().to_pandas()


def _no_data(base: dict[str, Any], definitions: dict[str, str], language: str) -> OverviewResult:
    return OverviewResult(
        **base, tiles=_empty(TILE_COLUMNS), drivers=_empty(DRIVER_COLUMNS),
        repurchase=_empty(REPURCHASE_COLUMNS), second_order_curve=_empty(CURVE_COLUMNS),
        trend=_empty(TREND_COLUMNS), definitions=definitions, status=Status.NO_DATA,
        message=tr("kpi.message.no_data", language=language))


def _buckets(orders: Any, events: Any, customers: Any, bounds: list[date],
             settings: Settings) -> list[dict[str, float]]:
    frame = _fetch(q.bucket_metrics(orders, events, customers, bounds=bounds,
                                    timezone=settings.timezone))
    full = (frame.set_index("bucket").reindex(range(len(bounds) - 1))
            .loc[:, list(q.BUCKET_COLUMNS)].astype("float64").fillna(0.0))
    return full.to_dict("records")


def _period_rows(orders: Any, events: Any, customers: Any, params: OverviewParams,
                 settings: Settings, memo: _Memo) -> tuple[pd.DataFrame, list[dict[str, float]]]:
    weeks = week_starts(params.as_of, params.trend_weeks)
    bounds = [*weeks, weeks[-1] + timedelta(days=7)]
    weekly = memo("weekly", lambda: _buckets(orders, events, customers, bounds, settings))
    # Weekly tiles are the trend's last two weeks; months need their own distinct counts.
    rows = (weekly[-2:] if params.period == "W" else
            _buckets(orders, events, customers, list(period_bounds(params.as_of, "M")),
                     settings))
    return memo("trend", lambda: _trend(weeks, weekly)), rows


def _trend(weeks: list[date], weekly: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(weekly)
    return pd.DataFrame({
        "week_start": weeks, "net_revenue": frame["net_revenue"],
        "orders": frame["orders"].astype("int64"), "buyers": frame["buyers"].astype("int64"),
        "active_customers": frame["active_customers"].astype("int64"),
        "aov": frame["net_revenue"] / frame["orders"].where(frame["orders"] > 0),
        "new_buyers": frame["new_buyers"].astype("int64"),
    })


def _first_buyers(orders: Any, params: OverviewParams, settings: Settings) -> pd.DataFrame:
    net = net_orders(orders, before=params.as_of, timezone=settings.timezone)
    since = first_order_since(params.as_of, params.repurchase_window_days)
    return _fetch(second_orders(net, since=since, timezone=settings.timezone))


def _top_shares(orders: Any, params: OverviewParams, settings: Settings) -> dict[str, float]:
    previous_as_of = shift_period(params.as_of, params.period)
    windows = {"current": (params.as_of - timedelta(days=365), params.as_of),
               "previous": (previous_as_of - timedelta(days=365), previous_as_of)}
    net = net_orders(orders, before=params.as_of, timezone=settings.timezone)
    frame = _fetch(q.top_share(net, windows, timezone=settings.timezone)).set_index("window")
    share = frame["top_revenue"] / frame["revenue"].where(frame["revenue"] > 0)
    return {w: float(share.get(w, math.nan)) for w in windows}


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _tile_values(row: dict[str, float], top: float) -> dict[str, float]:
    return {
        "net_revenue": row["net_revenue"], "orders": row["orders"], "buyers": row["buyers"],
        "active_customers": row["active_customers"],
        "purchase_probability": _ratio(row["buyers"], row["active_customers"]),
        "aov": _ratio(row["net_revenue"], row["orders"]),
        "orders_per_buyer": _ratio(row["identified_orders"], row["buyers"]),
        "new_buyers": row["new_buyers"], "returning_buyers": row["buyers"] - row["new_buyers"],
        "member_order_share": _ratio(row["member_orders"], row["orders"]),
        "top20_revenue_share": top,
    }


def _tiles(rows: list[dict[str, float]], top: dict[str, float], language: str) -> pd.DataFrame:
    previous = _tile_values(rows[0], top["previous"])
    current = _tile_values(rows[1], top["current"])
    tiles = pd.DataFrame({
        "metric": list(TILE_METRICS),
        "label": [tr(f"kpi.metric.{m}", language=language) for m in TILE_METRICS],
        "current": [float(current[m]) for m in TILE_METRICS],
        "previous": [float(previous[m]) for m in TILE_METRICS],
    })
    tiles["change"] = tiles["current"] - tiles["previous"]
    tiles["change_pct"] = tiles["change"] / tiles["previous"].where(tiles["previous"] != 0)
    tiles["unit"] = list(TILE_METRICS.values())
    return tiles


def _fallback_note(dec: Decomposition, currency: str, language: str) -> str:
    if dec.fallback is None:
        return ""
    side = "previous" if dec.previous == 0 else "current"
    return tr("kpi.message.fallback", language=language,
              factor=tr(f"kpi.factor.{dec.fallback}", language=language),
              side=tr(f"kpi.side.{side}", language=language),
              change=format_money(dec.change, currency, language=language))


def _period_text(params_period: str, start: date, language: str) -> str:
    if params_period == "W":
        return tr("kpi.period.week", language=language,
                  start=format_date(start, language=language))
    from babel.dates import format_date as babel_date

    pattern, locale = ("y년 M월", "ko_KR") if language == "ko" else ("MMMM y", "en_US")
    return tr("kpi.period.month", language=language,
              month=babel_date(start, pattern, locale=locale))


def _status_message(rows: list[dict[str, float]], tiles: pd.DataFrame, drivers: pd.DataFrame,
                    note: str, orders: Any, base: dict[str, Any],
                    settings: Settings) -> tuple[Status, str]:
    language, currency = base["language"], base["currency"]
    period = _period_text(base["period"], base["current"][0], language)
    if not rows[1]["orders"]:
        span = _fetch(q.order_span(orders)).iloc[0]
        first, last = (pd.Timestamp(span[c]).tz_convert(settings.timezone).date()
                       for c in ("first_order_at", "last_order_at"))
        return Status.EMPTY_PERIOD, tr(
            "kpi.message.empty_period", language=language, period=period,
            first=format_date(first, language=language), last=format_date(last, language=language))
    rev = tiles.set_index("metric").loc["net_revenue"]
    value = format_money(rev["current"], currency, language=language)
    change = rev["current"] - rev["previous"]
    if not rev["previous"]:
        text = tr("kpi.message.from_zero", language=language, value=value, period=period)
    elif not change:
        text = tr("kpi.message.flat", language=language, value=value, period=period)
    else:
        same = drivers[drivers["contribution"] * change > 0]
        top = same.loc[same["contribution"].abs().idxmax(), "factor"]
        direction = "up" if change > 0 else "down"
        text = tr(f"kpi.message.{direction}", language=language, value=value, period=period,
                  pct=format_number(100 * abs(change / rev["previous"]), digits=1,
                                    language=language) + "%",
                  driver=tr(f"kpi.driver_{direction}.{top}", language=language))
    return Status.OK, f"{text} {note}".strip()


def _definitions(params: OverviewParams, settings: Settings, language: str,
                 has_events: bool) -> dict[str, str]:
    def label(key: str) -> str:
        return tr(key, language=language)

    first, end = cohort_bounds(params.as_of, params.repurchase_window_days)
    as_of = format_date(params.as_of, language=language)
    texts = {
        label("kpi.metric.net_revenue"): tr(
            "kpi.definition.net_revenue", language=language, timezone=settings.timezone,
            statuses=", ".join(NET_STATUSES)),
        label("kpi.metric.active_customers"): label(
            "kpi.definition.active_customers" if has_events else "kpi.definition.active_no_events"),
    }
    for metric in ("purchase_probability", "aov", "orders_per_buyer", "new_buyers",
                   "member_order_share"):
        texts[label(f"kpi.metric.{metric}")] = label(f"kpi.definition.{metric}")
    texts[label("kpi.metric.top20_revenue_share")] = tr(
        "kpi.definition.top20_revenue_share", language=language, as_of=as_of,
        previous_as_of=format_date(shift_period(params.as_of, params.period), language=language))
    texts[label("kpi.term.repurchase_rate")] = tr(
        "kpi.definition.repurchase_rate", language=language, as_of=as_of,
        window=params.repurchase_window_days, first=format_date(first, language=language),
        last=format_date(end - timedelta(days=1), language=language))
    texts[label("kpi.term.drivers")] = label("kpi.definition.drivers")
    texts[label("kpi.term.second_order")] = tr("kpi.definition.second_order", language=language,
                                                as_of=as_of)
    return texts
