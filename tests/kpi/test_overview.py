"""run_overview against a short pandas reference on small hand-built stores (Asia/Seoul)."""

import dataclasses
import math
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data import NET_STATUSES, connect, write_store
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.kpi import TILE_METRICS, period_bounds, run_overview
from workbench.reporting import OverviewParams
from workbench.results import Status
from workbench.settings import Settings

TZ = "Asia/Seoul"
SETTINGS = Settings(timezone=TZ, currency="KRW", language="en")
AS_OF = date(2026, 11, 16)  # a Monday: current week 9-15 Nov, previous 2-8 Nov

ORDERS = [  # order_id, customer_id, ordered_at (Seoul), status, amount
    ("o01", "A", "2026-06-01 10:00", "confirmed", 12_000),  # A's first order: A returns later
    ("o02", "A", "2026-11-02 10:00", "paid", 10_000),
    ("o03", "A", "2026-11-10 12:00", "delivered", 20_000),
    ("o04", "B", "2026-11-09 00:30", "confirmed", 30_000),  # Sunday 15:30 in UTC: other week
    ("o05", "B", "2026-11-15 23:59:59", "cancelled", 99_999),
    ("o06", "C", "2026-11-03 09:00", "returned", 50_000),
    ("o07", "C", "2026-11-04 09:00", "shipped", 15_000),
    ("o08", None, "2026-11-11 18:00", "paid", 7_000),  # guest
    ("o09", None, "2026-11-05 18:00", "paid", 3_000),  # guest
    ("o10", "D", "2026-11-16 00:00", "paid", 40_000),  # at as_of: not before it
    ("o11", "D", "2026-11-12 08:00", "pending", 5_000),
    ("o12", "E", "2026-11-08 23:30", "delivered", 8_000),  # E has no customers row
    ("o13", "E", "2026-11-13 08:00", "delivered", 9_000),
    ("o14", "B", "2025-12-01 08:00", "cancelled", 1_000),  # cancelled: not B's first order
]
EVENTS = [  # customer_id, ts (Seoul), type
    ("F", "2026-11-10 10:00", "visit"),
    ("A", "2026-11-03 10:00", "login"),
    ("D", "2026-11-12 07:59", "visit"),
    ("G", "2026-11-14 10:00", "product_view"),  # not an activity event
    (None, "2026-11-14 11:00", "visit"),  # anonymous visitor
    ("H", "2026-11-08 23:59", "visit"),  # previous week in Seoul
]
CUSTOMERS = [("A", True), ("B", True), ("C", False), ("D", True), ("F", None)]


def frames(orders=ORDERS, events=EVENTS, customers=CUSTOMERS):
    o = pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "status", "amount"])
    o["ordered_at"] = pd.to_datetime(o["ordered_at"], format="ISO8601").dt.tz_localize(TZ)
    o["amount"] = o["amount"].astype("float64")
    o["customer_id"] = o["customer_id"].astype("string")
    e = pd.DataFrame(events, columns=["customer_id", "ts", "type"])
    e["ts"] = pd.to_datetime(e["ts"], format="ISO8601").dt.tz_localize(TZ)
    e["customer_id"] = e["customer_id"].astype("string")
    c = pd.DataFrame(customers, columns=["customer_id", "is_member"])
    c["is_member"] = c["is_member"].astype("boolean")
    return o, e, c


def make_store(path, orders=ORDERS, events=EVENTS, customers=CUSTOMERS):
    o, e, c = frames(orders, events, customers)
    with write_store(path, settings=SETTINGS) as w:
        for table, frame in (("orders", o), ("events", e), ("customers", c)):
            if len(frame):
                w.write(table, frame)
    return connect(path, settings=SETTINGS)


def ref_period(o, e, c, start, end):
    """Pandas reference of one period's tiles (except the top-20% share)."""
    lo, hi = (pd.Timestamp(d).tz_localize(TZ) for d in (start, end))
    net = o[o.status.isin(NET_STATUSES)]
    cur = net[(net.ordered_at >= lo) & (net.ordered_at < hi)]
    known = cur[cur.customer_id.notna()]
    first = net[net.customer_id.notna()].groupby("customer_id").ordered_at.min()
    ev = e[e.type.isin(["visit", "login"]) & e.customer_id.notna() & (e.ts >= lo) & (e.ts < hi)]
    active = len(set(ev.customer_id) | set(known.customer_id))
    members = set(c.customer_id[c.is_member.fillna(False).astype(bool)])
    buyers, new = known.customer_id.nunique(), int(((first >= lo) & (first < hi)).sum())
    div = lambda a, b: a / b if b else math.nan  # noqa: E731
    return {"net_revenue": cur.amount.sum(), "orders": len(cur), "buyers": buyers,
            "active_customers": active, "purchase_probability": div(buyers, active),
            "aov": div(cur.amount.sum(), len(cur)), "orders_per_buyer": div(len(known), buyers),
            "new_buyers": new, "returning_buyers": buyers - new,
            "member_order_share": div(cur.customer_id.isin(members).sum(), len(cur))}


def ref_top20(o, end):
    """Pandas reference: share of the 365 days' revenue from the top 20% of customers."""
    lo, hi = (pd.Timestamp(d).tz_localize(TZ) for d in (end - timedelta(days=365), end))
    net = o[o.status.isin(NET_STATUSES) & o.customer_id.notna()
            & (o.ordered_at >= lo) & (o.ordered_at < hi)]
    r = net.groupby("customer_id").amount.sum().sort_values(ascending=False)
    k = -(-len(r) * 20 // 100)
    return r.iloc[:k].sum() / r.sum() if r.sum() > 0 else math.nan


def assert_tiles_match(result, o, e, c, as_of, period):
    prev, cur, end = period_bounds(as_of, period)
    tiles = result.tiles.set_index("metric")
    for column, (lo, hi) in {"previous": (prev, cur), "current": (cur, end)}.items():
        expected = ref_period(o, e, c, lo, hi)
        got = tiles[column]
        for metric, value in expected.items():
            assert got[metric] == pytest.approx(value, nan_ok=True), (column, metric)
    assert tiles.loc["top20_revenue_share", "current"] == pytest.approx(
        ref_top20(o, as_of), nan_ok=True)


@pytest.fixture
def con(tmp_path):
    backend = make_store(tmp_path / "shop.duckdb")
    yield backend
    backend.disconnect()


@pytest.mark.parametrize("period", ["W", "M"])
@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 11, 18), date(2026, 12, 1)])
def test_tiles_match_the_pandas_reference(con, period, as_of):
    result = run_overview(con, OverviewParams(as_of=as_of, period=period), settings=SETTINGS)
    assert_tiles_match(result, *frames(), as_of, period)
    assert list(result.tiles.columns) == ["metric", "label", "current", "previous", "change",
                                          "change_pct", "unit"]
    assert list(result.tiles["metric"]) == list(TILE_METRICS)


def test_the_hand_example_in_numbers(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    t = r.tiles.set_index("metric")
    assert r.status == Status.OK
    assert (r.current, r.previous) == ((date(2026, 11, 9), date(2026, 11, 15)),
                                       (date(2026, 11, 2), date(2026, 11, 8)))
    # current: A 20,000 + B 30,000 (00:30 Monday) + guest 7,000 + E 9,000; cancelled, pending,
    # and D's order at as_of are left out
    assert t.loc["net_revenue", "current"] == 66_000
    assert t.loc["orders", "current"] == 4
    assert t.loc["buyers", "current"] == 3  # the guest is not a buyer
    assert t.loc["active_customers", "current"] == 5  # A, B, E buy; D, F visit
    assert t.loc["new_buyers", "current"] == 1  # B (its earlier order was cancelled)
    assert t.loc["member_order_share", "current"] == 0.5  # A and B of 4 orders
    # previous: A 10,000 + C 15,000 + guest 3,000 + E 8,000 (23:30 Sunday); C's return left out
    assert t.loc["net_revenue", "previous"] == 36_000
    assert t.loc["active_customers", "previous"] == 4  # A, C, E, H
    assert t.loc["net_revenue", "change"] == 30_000
    assert t.loc["net_revenue", "change_pct"] == pytest.approx(30_000 / 36_000)


def test_a_midnight_order_falls_in_the_seoul_week_not_the_utc_week(con):
    o, _, _ = frames()
    b = o.loc[o.order_id == "o04", "ordered_at"].iloc[0]
    assert b.tz_convert("UTC").weekday() == 6  # Sunday in UTC: the previous week there
    trend = run_overview(con, OverviewParams(as_of=AS_OF, trend_weeks=2),
                         settings=SETTINGS).trend
    assert list(trend["week_start"]) == [date(2026, 11, 2), date(2026, 11, 9)]
    assert list(trend["net_revenue"]) == [36_000, 66_000]


def test_trend_has_every_week_and_matches_the_reference(con):
    result = run_overview(con, OverviewParams(as_of=AS_OF, trend_weeks=26), settings=SETTINGS)
    trend = result.trend
    assert len(trend) == 26 and all(d.weekday() == 0 for d in trend["week_start"])
    assert trend["week_start"].iloc[-1] == date(2026, 11, 9)
    o, e, c = frames()
    for row in trend.itertuples():
        ref = ref_period(o, e, c, row.week_start, row.week_start + timedelta(days=7))
        assert (row.net_revenue, row.orders, row.buyers, row.active_customers,
                row.new_buyers) == (ref["net_revenue"], ref["orders"], ref["buyers"],
                                    ref["active_customers"], ref["new_buyers"])
        assert row.aov == pytest.approx(ref["aov"], nan_ok=True)


@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 12, 1)])
def test_month_gives_a_monthly_trend_that_ends_on_the_tiles(con, as_of):
    """Issue 15: choosing Month draws monthly bars, and the tiles are the trend's last two."""
    result = run_overview(con, OverviewParams(as_of=as_of, period="M", trend_weeks=26),
                          settings=SETTINGS)
    monthly = result.period_trend
    assert monthly is result.monthly_trend and list(monthly.columns)[0] == "month_start"
    assert all(d.day == 1 for d in monthly["month_start"])
    prev, cur, _ = period_bounds(as_of, "M")
    assert list(monthly["month_start"].iloc[-2:]) == [prev, cur]
    assert monthly["month_start"].iloc[0] <= as_of - timedelta(weeks=26)  # the weeks' span
    o, e, c = frames()
    for row in monthly.itertuples():
        end = (pd.Timestamp(row.month_start) + pd.offsets.MonthBegin(1)).date()
        ref = ref_period(o, e, c, row.month_start, end)
        assert (row.net_revenue, row.orders, row.buyers, row.new_buyers) == (
            ref["net_revenue"], ref["orders"], ref["buyers"], ref["new_buyers"])
    tiles = result.tiles.set_index("metric")
    for metric in ("net_revenue", "orders", "buyers", "active_customers", "new_buyers"):
        assert (tiles.loc[metric, "previous"], tiles.loc[metric, "current"]) == tuple(
            monthly[metric].iloc[-2:])
    fig = result.figure_trend()
    assert list(fig.data[0].x) == list(monthly["month_start"])
    assert list(fig.data[0].y) == list(monthly["net_revenue"])
    assert fig.layout.xaxis.title.text == "Month"
    months = len(monthly)
    assert f"the {months}-month average" in fig.layout.title.text.replace("<br>", " ") or (
        fig.layout.title.text == f"Monthly net revenue over the last {months} months")
    ko = run_overview(con, OverviewParams(as_of=as_of, period="M", language="ko"),
                      settings=SETTINGS).figure_trend()
    assert ko.layout.xaxis.title.text == "월" and "개월" in ko.layout.title.text
    weekly = run_overview(con, OverviewParams(as_of=as_of), settings=SETTINGS)
    assert weekly.period_trend is weekly.trend and weekly.monthly_trend.empty
    assert weekly.figure_trend().layout.xaxis.title.text == "Week (Monday to Sunday)"


def test_the_page_redraws_the_trend_when_the_period_changes(sample_store):
    from workbench.ui.overview import OverviewPage

    page = OverviewPage(OverviewParams(as_of=AS_OF, store=str(sample_store),
                                       mode="interactive"), settings=SETTINGS)
    page.widget()
    assert page._drawn["trend"][0] is page.result.trend
    page.w_period.value = "M"  # the toggle's callback recomputes and redraws
    assert page.result.period == "M"
    assert page._drawn["trend"][0] is page.result.monthly_trend
    assert "month_start" in page.result.period_trend.columns
    # the drivers chart names the driver the headline names (issue 15)
    r = page.result
    change = r.tiles.set_index("metric").loc["net_revenue", "change"]
    same = r.drivers[r.drivers["contribution"] * change > 0]
    top = same.loc[same["contribution"].abs().idxmax()]
    assert f"{top['label']} contributed most" in r.figure_drivers().layout.title.text.replace(
        "<br>", " ")
    assert tr(f"kpi.driver_{'up' if change > 0 else 'down'}.{top['factor']}") in r.message


def test_drivers_add_up_to_the_change_in_net_revenue(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    t = r.tiles.set_index("metric")
    assert r.drivers["contribution"].sum() == pytest.approx(t.loc["net_revenue", "change"])
    guest = r.drivers.set_index("factor").loc["guest_revenue"]
    assert (guest["previous"], guest["current"], guest["contribution"]) == (3_000, 7_000, 4_000)


def test_no_events_means_active_customers_are_the_buyers(tmp_path):
    con = make_store(tmp_path / "cdnow.duckdb", events=[])
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    t = r.tiles.set_index("metric")
    assert (t.loc["active_customers", "current"], t.loc["buyers", "current"]) == (3, 3)
    assert t.loc["purchase_probability", "current"] == 1.0
    assert "no visit or login events" in r.definitions["Active customers"]


def test_empty_store_is_no_data(tmp_path):
    con = make_store(tmp_path / "empty.duckdb", orders=[], events=[], customers=[])
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    assert r.status == Status.NO_DATA and not r.ok
    assert "no orders yet" in r.message and "workbench load orders" in r.message
    assert r.tiles.empty and r.trend.empty and r.headline() == []
    assert r.summary() == r.message
    for make in (r.figure, r.figure_drivers, r.figure_second_order):
        make()  # never raises on empty data


def test_a_period_without_orders_is_empty_period(con):
    r = run_overview(con, OverviewParams(as_of=date(2027, 3, 1)), settings=SETTINGS)
    assert r.status == Status.EMPTY_PERIOD
    assert r.message.startswith("No net orders (paid, shipped, delivered or confirmed) in the "
                                "week of Mon 22 Feb 2027")
    assert "Mon 1 Dec 2025 to Mon 16 Nov 2026" in r.message  # any status
    assert r.tiles.set_index("metric").loc["orders", "current"] == 0


def test_a_previous_period_without_revenue_uses_the_stated_rule(tmp_path):
    orders = [("x1", "A", "2026-11-10 10:00", "paid", 50_000),
              ("x2", None, "2026-11-03 10:00", "paid", 5_000)]
    con = make_store(tmp_path / "s.duckdb", orders=orders, events=[], customers=[])
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    drivers = r.drivers.set_index("factor")["contribution"]
    assert drivers["active_customers"] == 50_000 and drivers["guest_revenue"] == -5_000
    assert "active customers was zero or undefined in the previous period" in r.message.lower()
    assert r.drivers_note in r.message


def test_message_states_the_takeaway(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    assert re.match(r"Net revenue rose 83\.3% to ₩66,000 in the week of Mon 9 Nov 2026; "
                    r".+ drove most of it\.$", r.message)
    head = r.headline()
    assert len(head) == 3
    assert set(head[0]) >= {"metric", "label", "value", "change"}
    # net revenue leads (issue 15: first in the report index), then the largest other changes
    assert head[0]["metric"] == "net_revenue" and head[0]["value"] == "₩66,000"
    pcts = [abs(h["change_pct"]) for h in head[1:]]
    assert pcts == sorted(pcts, reverse=True)
    others = r.tiles[r.tiles["metric"] != "net_revenue"]
    assert pcts[0] == others["change_pct"].dropna().abs().max()
    assert r.summary().startswith(r.message)


def test_korean_labels_and_messages(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF, language="ko"), settings=SETTINGS)
    hangul = re.compile("[가-힣]")
    assert r.language == "ko"
    assert r.tiles.set_index("metric").loc["net_revenue", "label"] == "순매출"
    assert all(hangul.search(label) for label in r.tiles["label"])
    assert all(hangul.search(label) for label in r.drivers["label"])
    labels = r.drivers.set_index("factor")["label"]
    assert labels["active_customers"] == "활성 고객"
    assert labels["guest_revenue"].startswith("비회원")
    # headline amounts follow the 만/억 style (exact below 100만 원)
    assert hangul.search(r.message) and "66,000원" in r.message
    assert "재구매율" in r.definitions and "활성 고객 수" in r.definitions
    assert all(hangul.search(text) for text in r.definitions.values())
    assert "재구매율" in r.summary()


def test_sentences_are_written_when_read_in_the_readers_language(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS)
    # the result holds numbers and statuses; its sentences are made from them when read
    assert not {f.name for f in dataclasses.fields(r)} & {"message", "definitions",
                                                         "drivers_note"}
    ko = run_overview(con, OverviewParams(as_of=AS_OF, language="ko"), settings=SETTINGS)
    assert r.message == r.message_in("en") != r.message_in("ko") == ko.message
    assert r.summary("ko") == ko.summary() and r.headline("ko") == ko.headline()
    assert r.definitions_in("ko") == ko.definitions and "Repurchase rate" in r.definitions
    empty = run_overview(con, OverviewParams(as_of=date(2027, 3, 1)), settings=SETTINGS)
    assert "2025년 12월 1일 (월)" in empty.message_in("ko") and "Mon 1 Dec 2025" in empty.message


def test_language_defaults_to_the_settings(con):
    r = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS.replace(language="ko"))
    assert r.language == "ko" and r.tiles["label"].iloc[0] == "순매출"


def test_definitions_cover_the_terms(con):
    defs = run_overview(con, OverviewParams(as_of=AS_OF), settings=SETTINGS).definitions
    for term in ("Active customers", "Purchase probability", "Net revenue", "Repurchase rate"):
        assert term in defs
    assert "paid, shipped, delivered, confirmed" in defs["Net revenue"]
    assert "visit or login" in defs["Active customers"]
    assert "90 days" in defs["Repurchase rate"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (OverviewParams(), "run_overview: 'params.as_of' is required; got None. Pass a date, "
                           "e.g. OverviewParams(as_of=workbench.clock.this_week())."),
        ({"as_of": AS_OF}, "run_overview: 'params' must be an OverviewParams; got dict. Build "
                           "one with workbench.reporting.OverviewParams(as_of=...)."),
    ],
    ids=["no-as-of", "not-params"],
)
def test_caller_mistakes_raise(con, params, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        run_overview(con, params, settings=SETTINGS)


@pytest.mark.parametrize(
    ("as_of", "period", "expected"),
    [
        (date(2026, 11, 16), "W", (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16))),
        (date(2026, 11, 22), "W", (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16))),
        (date(2026, 11, 17), "W", (date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16))),
        (date(2026, 1, 1), "M", (date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1))),
        (date(2026, 1, 31), "M", (date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1))),
    ],
    ids=["monday", "sunday", "tuesday", "new-year", "month-end"],
)
def test_period_bounds(as_of, period, expected):
    assert period_bounds(as_of, period) == expected


def test_period_bounds_rejects_other_periods():
    with pytest.raises(ParameterError, match=r"^period_bounds: 'period' must be 'W' \(week\) "
                                             r"or 'M' \(month\); got 'D'\.$"):
        period_bounds(AS_OF, "D")


# ------------------------------------------------------------------------------ properties
STATUS = st.sampled_from(["paid", "shipped", "delivered", "confirmed", "cancelled", "returned",
                          "pending"])
random_orders = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D", None]),
              st.integers(min_value=0, max_value=40 * 24 * 60 - 1),  # minutes since 14 Oct
              STATUS, st.integers(min_value=0, max_value=9) .map(lambda k: 1_000 * k)),
    min_size=1, max_size=30)
random_events = st.lists(
    st.tuples(st.sampled_from(["A", "B", "E", None]),
              st.integers(min_value=0, max_value=40 * 24 * 60 - 1),
              st.sampled_from(["visit", "login", "search"])),
    max_size=15)


def _stamp(minutes: int) -> str:
    return str(pd.Timestamp("2026-10-14") + pd.Timedelta(minutes=minutes))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(orders=random_orders, events=random_events, period=st.sampled_from(["W", "M"]))
def test_random_stores_match_the_reference_and_keep_invariants(tmp_path_factory, orders, events,
                                                               period):
    rows = [(f"o{i}", c, _stamp(m), s, a) for i, (c, m, s, a) in enumerate(orders)]
    evs = [(c, _stamp(m), t) for c, m, t in events]
    path = tmp_path_factory.mktemp("prop") / "shop.duckdb"
    con = make_store(path, orders=rows, events=evs)
    try:
        r = run_overview(con, OverviewParams(as_of=AS_OF, period=period, trend_weeks=5),
                         settings=SETTINGS)
    finally:
        con.disconnect()
    o, e, c = frames(rows, evs)
    assert_tiles_match(r, o, e, c, AS_OF, period)
    t = r.tiles.set_index("metric")
    for metric in ("purchase_probability", "member_order_share", "top20_revenue_share"):
        values = t.loc[metric, ["current", "previous"]].dropna()
        assert ((values >= 0) & (values <= 1)).all(), metric
    n = t[["current", "previous"]]
    assert (n.loc["buyers"] == n.loc["new_buyers"] + n.loc["returning_buyers"]).all()
    change = t.loc["net_revenue", "change"]
    assert r.drivers["contribution"].sum() == pytest.approx(change, abs=1e-6)
    # no order lost or counted twice: the trend's weeks add up to the orders in their range
    lo = pd.Timestamp(r.trend["week_start"].iloc[0]).tz_localize(TZ)
    hi = pd.Timestamp(AS_OF).tz_localize(TZ)
    in_range = o[o.status.isin(NET_STATUSES) & (o.ordered_at >= lo) & (o.ordered_at < hi)]
    assert r.trend["orders"].sum() == len(in_range)
    assert r.trend["net_revenue"].sum() == pytest.approx(in_range.amount.sum())
    assert r.status in (Status.OK, Status.EMPTY_PERIOD)
    np.testing.assert_array_less(-1e-9, r.second_order_curve["share"].to_numpy())
