"""KPI figures: they carry the data, state the takeaway, label units and resize for phones."""

import re
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.data import connect, write_store
from workbench.kpi import run_overview
from workbench.reporting import OverviewParams
from workbench.settings import Settings
from workbench.viz import drivers_figure, money_tickformat, second_order_figure, trend_figure

HANGUL = re.compile("[가-힣]")
WEEKS = [date(2026, 9, 28) + timedelta(days=7 * k) for k in range(6)]
TREND = pd.DataFrame({
    "week_start": WEEKS,
    "net_revenue": [1_000_000.0, 1_200_000.0, 900_000.0, 1_100_000.0, 1_000_000.0, 1_500_000.0],
    "orders": [20, 24, 18, 22, 20, 30], "buyers": [18, 20, 15, 19, 18, 26],
    "active_customers": [60, 61, 58, 60, 62, 64],
    "aov": [50_000.0, 50_000.0, 50_000.0, 50_000.0, 50_000.0, 50_000.0],
    "new_buyers": [3, 4, 2, 3, 3, 6],
})
DRIVERS = pd.DataFrame({
    "factor": ["active_customers", "purchase_probability", "orders_per_buyer", "aov",
               "guest_revenue"],
    "label": ["Active customers", "Purchase probability", "Orders per buyer", "AOV", "Guests"],
    "contribution": [100_000.0, 350_000.0, 20_000.0, -30_000.0, 60_000.0],
})
CURVE = pd.DataFrame({"days": range(5), "share": [0.0, 0.1, 0.2, 0.25, 0.3],
                      "ci_lower": [0.0, 0.05, 0.12, 0.17, 0.2],
                      "ci_upper": [0.0, 0.16, 0.3, 0.34, 0.4], "at_risk": [50, 45, 40, 38, 35]})


def _responsive(fig: go.Figure) -> None:
    assert fig.layout.autosize is True
    assert fig.layout.width is None  # follows the container: readable at 400 px
    assert fig.layout.title.text
    assert all(len(line) <= 48 for line in fig.layout.title.text.split("<br>"))


def test_trend_figure_carries_the_trend():
    fig = trend_figure(TREND, currency="KRW", language="en")
    bars, line = fig.data
    assert list(bars.x) == WEEKS and list(bars.y) == list(TREND["net_revenue"])
    assert list(line.x) == WEEKS and list(line.y) == list(TREND["buyers"])
    assert fig.layout.yaxis.title.text == "Net revenue (KRW)"
    assert fig.layout.yaxis.tickformat == ",.0f"  # KRW has no minor units
    # last week 1.5m against the 6-week mean of 1.1167m
    assert fig.layout.title.text.replace("<br>", " ") == (
        "Last week's net revenue, ₩1,500,000, was 34.3% above the 6-week average")
    _responsive(fig)


def test_trend_figure_in_korean_uses_won():
    fig = trend_figure(TREND, currency="KRW", language="ko")
    assert fig.layout.yaxis.title.text == "순매출 (원)"
    assert HANGUL.search(fig.layout.xaxis.title.text)
    assert HANGUL.search(fig.layout.title.text) and "₩1,500,000" in fig.layout.title.text
    assert {t.name for t in fig.data} == {"순매출", "구매 고객"}


def test_money_ticks_follow_the_currency_minor_units():
    assert money_tickformat("KRW") == ",.0f" and money_tickformat("JPY") == ",.0f"
    fig = trend_figure(TREND, currency="USD", language="en")
    assert fig.layout.yaxis.tickformat == ",.2f"
    assert fig.layout.yaxis.title.text == "Net revenue (USD)"


def test_drivers_waterfall_carries_the_contributions():
    fig = drivers_figure(DRIVERS, previous_revenue=1_000_000, current_revenue=1_500_000)
    (trace,) = fig.data
    assert isinstance(trace, go.Waterfall)
    assert list(trace.x[1:-1]) == list(DRIVERS["contribution"])
    assert (trace.x[0], trace.x[-1]) == (1_000_000, 1_500_000)
    assert list(trace.measure) == ["absolute"] + ["relative"] * 5 + ["total"]
    assert list(trace.y[1:-1]) == list(DRIVERS["label"])
    title = fig.layout.title.text.replace("<br>", " ")
    assert title == ("Net revenue +₩500,000 (+50.0%): Purchase probability contributed most "
                     "(+₩350,000)")
    _responsive(fig)


def test_drivers_title_names_the_largest_driver_in_the_direction_of_the_change():
    """Issue 15: the title names the driver the headline names, not a larger opposite one."""
    drivers = DRIVERS.assign(contribution=[-600_000.0, 800_000.0, -500_000.0, 0.0, 0.0])
    fig = drivers_figure(drivers, previous_revenue=1_000_000, current_revenue=700_000)
    assert fig.layout.title.text.replace("<br>", " ") == (
        "Net revenue -₩300,000 (-30.0%): Active customers contributed most (-₩600,000)")


def test_drivers_waterfall_in_korean():
    fig = drivers_figure(DRIVERS, previous_revenue=1e6, current_revenue=1.5e6, language="ko")
    assert fig.data[0].y[0] == "직전 기간" and fig.data[0].y[-1] == "이번 기간"
    assert "(원)" in fig.layout.xaxis.title.text
    assert HANGUL.search(fig.layout.title.text)


def test_second_order_figure_carries_the_curve():
    fig = second_order_figure(CURVE, window_days=3, language="en")
    upper, lower, main = fig.data
    assert list(main.x) == list(CURVE["days"]) and list(main.y) == list(CURVE["share"])
    assert list(lower.y) == list(CURVE["ci_lower"]) and list(upper.y) == list(CURVE["ci_upper"])
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.title.text.replace("<br>", " ") == (
        "25.0% of first-time buyers order again within 3 days")
    assert fig.layout.shapes[0].x0 == 3  # the window is marked
    _responsive(fig)
    ko = second_order_figure(CURVE, window_days=3, language="ko")
    assert HANGUL.search(ko.layout.title.text) and HANGUL.search(ko.layout.xaxis.title.text)


@pytest.mark.parametrize("make", [
    lambda: trend_figure(TREND.iloc[:0]),
    lambda: drivers_figure(DRIVERS.iloc[:0], previous_revenue=0, current_revenue=0),
    lambda: second_order_figure(CURVE.iloc[:0], window_days=90),
], ids=["trend", "drivers", "second-order"])
def test_empty_data_gives_a_titled_figure(make):
    fig = make()
    assert fig.layout.title.text


def test_result_figures_are_new_and_carry_the_result(tmp_path):
    settings = Settings(timezone="Asia/Seoul")
    orders = pd.DataFrame({
        "order_id": ["a", "b", "c", "d"], "customer_id": ["X", "Y", "X", None],
        "ordered_at": pd.to_datetime(["2026-11-03 10:00", "2026-11-10 10:00",
                                      "2026-11-12 10:00", "2026-11-13 10:00"])
        .tz_localize("Asia/Seoul"),
        "status": ["paid", "paid", "delivered", "paid"],
        "amount": [10_000.0, 20_000.0, 30_000.0, 5_000.0]})
    with write_store(tmp_path / "s.duckdb", settings=settings) as w:
        w.write("orders", orders)
    con = connect(tmp_path / "s.duckdb", settings=settings)
    result = run_overview(con, OverviewParams(as_of=date(2026, 11, 16), trend_weeks=4),
                          settings=settings)
    first, second = result.figure(), result.figure()
    assert first is not second
    first.update_layout(title_text="changed")
    assert result.figure_trend().layout.title.text != "changed"
    assert list(first.data[0].x) == list(result.trend["week_start"])
    assert list(first.data[0].y) == list(result.trend["net_revenue"])
    waterfall = result.figure_drivers().data[0]
    assert list(waterfall.x[1:-1]) == pytest.approx(list(result.drivers["contribution"]))
    assert waterfall.x[-1] == 55_000
    curve = result.figure_second_order().data[2]
    assert list(curve.y) == list(result.second_order_curve["share"])
    con.disconnect()
