"""The overview trend marks the weeks that hold a Korean public holiday (weekly only)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from workbench.viz import trend_figure

WEEKS = [date(2026, 2, 2) + timedelta(days=7 * k) for k in range(6)]  # 2/2 .. 3/9
TREND = pd.DataFrame({"week_start": WEEKS, "net_revenue": [1e6] * 6, "buyers": [10] * 6})


@pytest.mark.parametrize(("language", "labels", "hover"), [
    # the substitute holiday's week (3/2) keeps its band and hover but no second label
    ("en", ["Korean New Year", "Independence Movement Day", " "],
     ["02-16 The day preceding Korean New Year<br>02-17 Korean New Year<br>"
      "02-18 The second day of Korean New Year", "03-01 Independence Movement Day",
      "03-02 Alternative holiday for Independence Movement Day"]),
    ("ko", ["설날", "삼일절", " "],
     ["02-16 설날 전날<br>02-17 설날<br>02-18 설날 다음날", "03-01 삼일절",
      "03-02 삼일절 대체 휴일"]),
], ids=["en", "ko"])
def test_weekly_trend_marks_holiday_weeks(language, labels, hover):
    fig = trend_figure(TREND, language=language)
    assert len(fig.data) == 2  # the data stay the trend's two series
    marks = fig.layout.annotations
    assert [a.text for a in marks] == labels
    assert [a.hovertext for a in marks] == hover
    # the weeks of 2/16 (설날), 2/23 (삼일절 on Sunday 3/1) and 3/2 (its substitute)
    assert [pd.Timestamp(a.x) for a in marks] == [pd.Timestamp(d) for d in
                                                 ("2026-02-16", "2026-02-23", "2026-03-02")]
    bands = [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in fig.layout.shapes]
    assert {s.layer for s in fig.layout.shapes} == {"below"}  # bars keep their colour
    assert bands[0] == (pd.Timestamp("2026-02-12 12:00"), pd.Timestamp("2026-02-19 12:00"))
    assert len(bands) == 3


def test_monthly_trend_and_weeks_without_holidays_have_no_marks():
    monthly = pd.DataFrame({"month_start": [date(2026, m, 1) for m in (1, 2, 3)],
                            "net_revenue": [1e6] * 3, "buyers": [10] * 3})
    fig = trend_figure(monthly, language="ko")
    assert not fig.layout.annotations and not fig.layout.shapes
    quiet = TREND.assign(week_start=[date(2026, 4, 6) + timedelta(days=7 * k) for k in range(3)]
                         + [date(2026, 6, 8) + timedelta(days=7 * k) for k in range(3)])
    fig = trend_figure(quiet, language="en")
    assert not fig.layout.annotations and not fig.layout.shapes
