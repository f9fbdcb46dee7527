"""Figures of the next-order predictions: weeks of the expected next order, reliability curve."""

from __future__ import annotations

from datetime import date

import pandas as pd

from workbench.clv.next_order import next_order_weeks_table, reliability_table
from workbench.viz.next_order import next_order_weeks, reliability_figure

AS_OF = date(2026, 12, 7)


def test_weeks_chart_stacks_likely_and_less_likely():
    customers = pd.DataFrame({
        "next_order_date": [date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 15),
                            date(2027, 6, 1), None],
        "p_order_90d": [0.9, 0.2, 0.6, 0.7, 0.1]})
    weeks = next_order_weeks_table(customers, AS_OF)
    assert weeks["customers"].tolist()[:3] == [2, 1, 0]  # 2027-06-01 is beyond 13 weeks
    assert weeks["likely"].tolist()[:2] == [1, 1]
    fig = next_order_weeks(weeks, language="en")
    assert [t.name for t in fig.data][:2] == ["Likely to order within 90 days (50%+)",
                                              "Less likely"]
    assert list(fig.data[1].y[:2]) == [1, 0] and fig.data[0].x[0] == "7 Dec"
    assert "week of 7 Dec (1 customers)" in fig.layout.title.text
    ko = next_order_weeks(weeks, language="ko")
    assert ko.data[0].x[1] == "12월 14일" and "구매 가능성" in ko.layout.title.text


def test_empty_weeks_say_so():
    weeks = next_order_weeks_table(pd.DataFrame({"next_order_date": [], "p_order_90d": []}),
                                   AS_OF)
    assert "No likely buyer" in next_order_weeks(weeks).layout.title.text


def test_reliability_figure():
    table = reliability_table([0.05, 0.15, 0.95], [0, 1, 1])
    fig = reliability_figure(table, ece=0.3, raw=table, language="en")
    assert [t.name for t in fig.data] == ["Perfect calibration", "BG/NBD alone",
                                          "Blend, recalibrated"]
    assert list(fig.data[2].y) == [0.0, 1.0, 1.0] and "ECE 0.300" in fig.layout.title.text
