"""Cohort and cycle figures carry their data and label it in English and Korean."""

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.viz.cohorts import (
    aggregate_channels,
    cycles_figure,
    month_name,
    retention_figure,
    revenue_figure,
)

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
TRIANGLE = pd.DataFrame({  # months 0-1 of January, month 0 of February; February not over
    "cohort": [JAN, JAN, FEB], "months_since": [0, 1, 0], "month": [JAN, FEB, FEB],
    "cohort_size": [1200, 1200, 800], "active_customers": [1200, 276, 800],
    "retention": [1.0, 0.23, 1.0], "revenue": [60_000_000.0, 12_000_000.0, 32_000_000.0],
    "revenue_per_customer": [50_000.0, 10_000.0, 40_000.0],
    "cumulative_revenue_per_customer": [50_000.0, 60_000.0, 40_000.0],
    "complete": [True, False, False],
})
CYCLES = pd.DataFrame({
    "category": ["beauty", "pet", "living"], "buyers": [900, 500, 40],
    "repeat_buyers": [400, 200, 5], "repeats": [1000, 450, 6],
    "median_days": [30.0, 21.0, 44.0], "p75_days": [41.0, 28.5, 60.0],
    "replenish_days": [30.0, np.nan, np.nan], "has_cycle": [True, True, False],
})


def test_retention_heatmap_carries_the_triangle():
    fig = retention_figure(TRIANGLE, language="en")
    assert isinstance(fig, go.Figure)
    hm = fig.data[0]
    assert hm.type == "heatmap" and list(hm.x) == [0, 1]
    assert hm.z[0] == [1.0, 0.23] and hm.z[1][0] == 1.0 and np.isnan(hm.z[1][1])
    assert list(hm.y) == ["2026-01 (n=1,200)", "2026-02 (n=800)"]
    assert hm.text[0] == ["100%", "23%*"]  # * : February has not ended
    assert (hm.zmin, hm.zmax) == (0, 1)
    assert any("not over yet" in a.text for a in fig.layout.annotations)
    done = retention_figure(TRIANGLE.assign(complete=True), language="en")
    assert done.layout.title.text.replace("<br>", " ") == (
        "23% of customers who first bought in January 2026 bought again the next month")
    assert not done.layout.annotations


def test_retention_heatmap_in_korean():
    fig = retention_figure(TRIANGLE, language="ko")
    assert fig.layout.xaxis.title.text == "첫 구매 후 개월"
    assert list(fig.data[0].y) == ["2026-01 (1,200명)", "2026-02 (800명)"]
    # January's month 1 is not complete, so no cohort has a finished second month
    assert fig.layout.title.text == "첫 구매 월별 코호트의 이후 월 구매 비율"


def test_revenue_heatmap_in_won_without_decimals():
    fig = revenue_figure(TRIANGLE, currency="KRW", language="en")
    hm = fig.data[0]
    assert hm.z[0] == [50_000.0, 10_000.0]
    assert hm.text[0] == ["₩50,000", "₩10,000*"]
    assert fig.layout.title.text.replace("<br>", " ") == (
        "Customers who first bought in January 2026 spent ₩50,000 each in their first 1 month(s)")
    assert ",.0f" in hm.hovertemplate


def test_channels_are_summed_for_the_heatmaps():
    split = pd.concat([TRIANGLE.assign(acquisition_channel="naver"),
                       TRIANGLE.assign(acquisition_channel=None)], ignore_index=True)
    for c in ("cohort_size", "active_customers", "revenue"):
        split[c] = split[c] / 2
    total = aggregate_channels(split)
    np.testing.assert_allclose(total["retention"], TRIANGLE["retention"])
    np.testing.assert_allclose(total["cumulative_revenue_per_customer"],
                               TRIANGLE["cumulative_revenue_per_customer"])
    np.testing.assert_array_equal(np.array(retention_figure(split).data[0].z, dtype=float),
                                  np.array(retention_figure(TRIANGLE).data[0].z, dtype=float))


def test_cycles_figure_carries_median_p75_and_replenish_days():
    fig = cycles_figure(CYCLES, language="en")
    median, p75, marker = fig.data
    # the sample shop's category keys get the catalogue's labels (issue 15)
    assert list(median.y) == ["Beauty", "Pet supplies", "Home and living"]
    assert list(median.x) == [30.0, 21.0, 44.0] and list(p75.x) == [41.0, 28.5, 60.0]
    assert marker.x[0] == 30.0 and np.isnan(marker.x[1])
    assert list(median.marker.opacity) == [1.0, 1.0, 0.35]  # living: too few repeats
    assert fig.layout.title.text.replace("<br>", " ") == (
        "Beauty is bought again every 30 days (median; 1 in 4 waits over 41 days)")
    ko = cycles_figure(CYCLES, language="ko")
    assert ko.data[0].name == "중앙값" and ko.layout.xaxis.title.text == "구매 간격(일)"
    assert list(ko.data[0].y) == ["뷰티", "반려동물 용품", "생활용품"]
    own = cycles_figure(CYCLES.assign(category=["차", "pet", "garden"]), language="ko")
    assert list(own.data[0].y) == ["차", "반려동물 용품", "garden"]  # a shop's own names stay


def test_cycles_figure_without_a_cycle_and_products_by_name():
    none = cycles_figure(CYCLES.assign(has_cycle=False), level="category", language="en")
    assert none.layout.title.text.replace("<br>", " ") == (
        "No category has enough repeat purchases for a cycle yet")
    products = CYCLES.rename(columns={"category": "product_id"}).assign(
        product_name=["크림", None, "트레이"])
    fig = cycles_figure(products, level="product")
    assert list(fig.data[0].y) == ["크림", "pet", "트레이"]


def test_month_names():
    assert month_name(date(2026, 5, 1), "en") == "May 2026"
    assert month_name(date(2026, 5, 1), "ko") == "2026년 5월"
