"""RFM figures carry their data, state the takeaway and speak Korean."""

import re
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.viz.rfm import migration_sankey, rf_heatmap_figure, segment_treemap, tier_figure

HANGUL = re.compile("[가-힣]")
SEGMENTS = pd.DataFrame({
    "segment": ["champions", "at_risk", "new"], "label": ["Champions", "At Risk", "New"],
    "customers": [20, 60, 0], "share": [0.25, 0.75, 0.0],
    "net_revenue": [4_000_000.0, 1_000_000.0, 0.0], "revenue_share": [0.8, 0.2, None],
    "avg_value": [200_000.0, 16_666.7, None]})
GRID = pd.DataFrame({"r_score": [5, 1, 3], "f_score": [5, 1, 2], "customers": [10, 30, 5],
                     "avg_monetary": [500_000.0, 20_000.0, 80_000.0]})
MIGRATION = pd.DataFrame({
    "from_segment": ["not_yet_customer", "champions", "champions", "at_risk"],
    "to_segment": ["new", "champions", "at_risk", "at_risk"],
    "from_label": ["Not yet a customer", "Champions", "Champions", "At Risk"],
    "to_label": ["New", "Champions", "At Risk", "At Risk"], "customers": [4, 15, 5, 55]})
TIERS = pd.DataFrame({"tier": ["vip", "welcome"], "label": ["VIP", "Welcome"],
                      "customers": [10, 90], "share": [0.1, 0.9],
                      "revenue_share": [0.6, 0.4]})
MOVERS = pd.DataFrame({"tier": ["vip", "vip", "welcome", "welcome"],
                       "next_tier": ["vip", "welcome", "vip", "welcome"],
                       "direction": ["same", "down", "up", "same"], "customers": [8, 2, 3, 87]})


def _responsive(fig):
    assert isinstance(fig, go.Figure) and fig.layout.autosize is True
    assert fig.layout.width is None and fig.layout.title.text


def test_treemap_carries_segments():
    fig = segment_treemap(SEGMENTS)
    _responsive(fig)
    trace = fig.data[0]
    assert list(trace.ids) == ["champions", "at_risk"]  # empty segments are left out
    assert list(trace.values) == [20, 60]
    assert fig.layout.title.text.startswith("Champions are 25.0% of customers")
    assert "80.0%" in fig.layout.title.text


def test_heatmap_carries_the_grid():
    fig = rf_heatmap_figure(GRID, bins=5)
    _responsive(fig)
    z = fig.data[0].z
    assert z[4][4] == 500_000.0 and z[0][0] == 20_000.0 and z[2][1] == 80_000.0
    assert z[1][1] is None and fig.data[0].text[0][0] == "30"
    assert "₩500,000" in fig.layout.title.text  # KRW without decimals
    assert fig.data[0].colorbar.tickformat == ",.0f"


def test_sankey_carries_the_migration():
    fig = migration_sankey(MIGRATION, from_as_of=date(2026, 10, 19),
                           to_as_of=date(2026, 11, 16))
    _responsive(fig)
    link = fig.data[0].link
    assert list(link.value) == [4, 15, 5, 55]
    labels = fig.data[0].node.label
    assert labels[link.source[2]].startswith("Champions") and labels[link.target[2]].startswith(
        "At Risk")
    assert "9 of 79 customers changed segment" in fig.layout.title.text


def test_tier_figure_carries_shares_and_movers():
    fig = tier_figure(TIERS, MOVERS)
    _responsive(fig)
    assert list(fig.data[0].y) == pytest.approx([10.0, 90.0])
    assert list(fig.data[1].y) == pytest.approx([60.0, 40.0])
    assert list(fig.data[2].y) == [0, 3] and list(fig.data[3].y) == [2, 0]
    assert "3 customers move up" in fig.layout.title.text


def test_korean_figures():
    figs = [segment_treemap(SEGMENTS, language="ko"), rf_heatmap_figure(GRID, language="ko"),
            migration_sankey(MIGRATION, from_as_of=date(2026, 10, 19),
                             to_as_of=date(2026, 11, 16), language="ko"),
            tier_figure(TIERS, MOVERS, language="ko")]
    for fig in figs:
        assert HANGUL.search(fig.layout.title.text)
    assert HANGUL.search(figs[1].layout.xaxis.title.text)
    assert "원" in figs[1].data[0].colorbar.title.text


def test_empty_inputs_still_give_a_titled_figure():
    empty = SEGMENTS.iloc[0:0]
    assert segment_treemap(empty).layout.title.text == "No customers to segment"
    assert "no customers" in rf_heatmap_figure(GRID.iloc[0:0]).layout.title.text
    assert "nothing to compare" in migration_sankey(
        MIGRATION.iloc[0:0], from_as_of=date(2026, 1, 1), to_as_of=date(2026, 2, 1)
    ).layout.title.text
