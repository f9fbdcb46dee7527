"""The churn page in report mode (static parts) and widget mode."""

from __future__ import annotations

import copy
from datetime import date

import ipywidgets as widgets

from workbench.churn import ChurnParams
from workbench.ui.churn import ChurnPage, bands_html, metrics_html


def test_widget_page_renders_every_part(sample_store):
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(sample_store),
                                 mode="interactive", backtest_cutoffs=0))
    w = page.widget()
    assert isinstance(w, widgets.VBox) and page.ok
    assert "data-band='high'" in page.w_bands.value
    assert "wb-churn-watchlist" in page.w_watch.value
    assert "No backtest" in page.w_metrics.value
    assert page.error is None


def test_report_parts_include_backtest_tables(trained, sample_backtest, store_copy):
    from workbench.churn import save_model
    from workbench.churn.analysis import _backtest_records
    from workbench.settings import Settings

    model = copy.deepcopy(trained[0])  # the session's model stays as trained
    model.metadata_ = {**model.metadata_, "backtest": _backtest_records(sample_backtest)}
    save_model(model, "churn", settings=Settings(store=str(store_copy)))
    # the page picks the saved model "churn": same definition, no model named
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                 mode="report", language="ko"))
    page.compute()
    parts = page.static_parts()
    html_parts = [p for p in parts if isinstance(p, str)]
    assert any("이탈 = 기준일 이후 90일" in p for p in html_parts)
    assert any("wb-churn-metrics" in p for p in html_parts)
    assert len([p for p in parts if not isinstance(p, str)]) == 5  # five charts
    r = page.result
    assert r.model_info["model_name"] == "churn"
    assert "data-scorer='truth'" in metrics_html(r.backtest, language="en")
    assert bands_html(r.bands, currency="KRW", language="en").count("<tr data-band") == 3
