"""CLV figures (data in, figure out) and the page in report mode."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import pytest

from workbench.clv import ClvParams, run_clv
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def result(sample_store):
    return run_clv(connect(str(sample_store)), ClvParams(as_of=AS_OF), settings=Settings())


def test_distribution_and_segments(result):
    fig = result.figure_distribution()
    # counted in Python, drawn as 60 bars that hold every customer (not 1 point per customer)
    assert isinstance(fig, go.Figure) and fig.data[0].type == "bar"
    assert len(fig.data[0].x) == 60 and sum(fig.data[0].y) == len(result.customers)
    clv = result.customers["clv"].clip(upper=result.customers["clv"].quantile(0.99))
    assert fig.data[0].y[-1] >= (clv == clv.max()).sum()  # the top 1% pooled in the last bin
    assert "top 20%" in fig.layout.title.text
    seg = result.figure_segments()
    assert seg.data[0].type == "bar"
    assert sorted(seg.data[0].y) == sorted(result.by_segment["label"])


def test_matrices(result):
    for value in ("expected_purchases_90d", "p_alive"):
        fig = result.figure_matrix(value)
        z = fig.data[0].z
        assert fig.data[0].type == "heatmap" and z.shape[0] == result.matrix["frequency"].nunique()
    with pytest.raises(ParameterError, match="'value' must be"):
        result.figure_matrix("clv")


def test_tracking_and_by_frequency(result):
    fig = result.figure_tracking()
    names = [t.name for t in fig.data]
    assert names.count("Actual") == 2 and names.count("BG/NBD") == 2
    assert names.count("Pareto/NBD") == 2
    by_f = result.figure_by_frequency()
    assert [t.name for t in by_f.data] == ["Actual", "Model"]
    assert list(by_f.data[0].x)[-1].endswith("+")


def test_korean_figures(sample_store):
    ko = run_clv(connect(str(sample_store)), ClvParams(as_of=AS_OF, language="ko"),
                 settings=Settings())
    assert "상위 20%" in ko.figure_distribution().layout.title.text
    assert "실제" in [t.name for t in ko.figure_tracking().data]


def test_page_in_report_mode(sample_store):
    from workbench.ui.clv import ClvPage

    page = ClvPage(ClvParams(as_of=AS_OF, store=str(sample_store), mode="report"))
    page.compute()
    parts = page.static_parts()
    html = "".join(p for p in parts if isinstance(p, str))
    assert "wb-clv-bands" in html and "wb-clv-top" in html and "wb-clv-parameters" in html
    assert "Model check" in html
    # six CLV charts, then the next-order weeks and the 30-day reliability curve
    assert "When customers are expected to order next" in html
    # ... and the value of a new customer by acquisition channel (tests/clv/test_channels.py)
    assert "wb-clv-channels" in html
    channel_charts = sum(isinstance(p, go.Figure) and "Cost per new customer" in [
        t.name for t in p.data] for p in parts)
    assert channel_charts == 1
    # (+1: the top customers' 80% ranges, tests/clv/test_intervals_page.py)
    assert sum(isinstance(p, go.Figure) for p in parts) - channel_charts == 8 + 1


def test_page_widget_mode(sample_store):
    from workbench.ui.clv import ClvPage

    page = ClvPage(ClvParams(as_of=AS_OF, store=str(sample_store), mode="interactive"))
    widget = page.widget()
    assert page.ok
    assert "wb-clv-top" in page.w_top.value
    page.update(horizon_months=3)
    assert page.result.horizon_months == 3
    assert widget is not None


def test_the_check_number_is_the_results_and_is_shown_once(sample_store):
    """Issue 15: one holdout-check number, from ``comparison``, shown once on the page."""
    import html
    import re

    from workbench.ui.clv import ClvPage, readable_number

    page = ClvPage(ClvParams(as_of=AS_OF, store=str(sample_store), mode="report"))
    page.compute()
    r = page.result
    row = r.comparison.set_index("model").loc[r.model]
    check = f"{abs(row['error_pct']):.1f}%"
    assert f"({check} too {'high' if row['error_pct'] > 0 else 'low'})" in r.quality
    parts = page.static_parts()
    words = [p for p in parts if isinstance(p, str)]
    words += [p.layout.title.text or "" for p in parts if isinstance(p, go.Figure)]
    words += [a.text or "" for p in parts if isinstance(p, go.Figure) for a in p.layout.annotations]
    page_text = " ".join([r.message, *words])
    assert len(re.findall(r"(?<![0-9.,])" + re.escape(check), page_text)) == 1
    assert not re.search(r"\d%", r.figure_tracking().layout.title.text)
    # parameters are readable (no 5.235e+04) and are the result's values
    table = next(p for p in words if "wb-clv-parameters" in p)
    assert not re.search(r"\de[+-]?\d", table)
    cells = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", table)
    assert [html.unescape(c) for c in cells] == [readable_number(v, language="en")
                                                 for v in r.parameters["estimate"]]
    assert "γ" in table and "gamma" not in table.lower().replace("gamma-gamma", "")


def test_the_headline_adds_up_to_the_bands_table(result):
    """Issue 15: the headline's customers, total and high-value share are the bands table's."""
    from workbench.i18n import format_money, format_percent

    bands = result.bands.set_index("band")
    customers, total = int(bands["customers"].sum()), float(bands["clv_total"].sum())
    assert customers == len(result.customers)
    assert total == pytest.approx(result.customers["clv"].sum())
    high = bands.loc["high"]
    assert result.message == (
        f"The {customers:,} customers are expected to bring {format_money(total, 'KRW')} of "
        f"margin over the next 12 months; the {int(high['customers']):,} high-value customers "
        f"bring {format_percent(high['clv_total'] / total, digits=0)} of it.")
    tiles = {i["metric"]: i["value"] for i in result.headline()}
    assert tiles["clv.total"] == format_money(total, "KRW")
    assert tiles["clv.mean"] == format_money(total / customers, "KRW")
