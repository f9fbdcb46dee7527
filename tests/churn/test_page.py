"""The churn page in report mode (static parts) and widget mode."""

from __future__ import annotations

import copy
from datetime import date

import ipywidgets as widgets

from workbench.churn import ChurnParams
from workbench.ui.churn import ChurnPage, bands_html, metrics_html


def _save(trained, store, name="churn", backtest=None):
    from workbench.churn import save_model
    from workbench.settings import Settings

    model = copy.deepcopy(trained[0])  # the session's model stays as trained
    if backtest is not None:
        model.metadata_ = {**model.metadata_, "backtest": backtest}
    save_model(model, name, settings=Settings(store=str(store)))


def test_widget_page_renders_every_part(trained, store_copy):
    _save(trained, store_copy)
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                 mode="interactive"))
    w = page.widget()
    assert isinstance(w, widgets.VBox) and page.ok
    assert "data-band='high'" in page.w_bands.value
    assert "wb-churn-watchlist" in page.w_watch.value
    assert "No backtest" in page.w_metrics.value  # none stored with the model: none computed
    assert page.error is None and page.result.model_info["model_name"] == "churn"


def test_a_page_never_trains_it_says_how_to_create_the_model(store_copy):
    # Issue 15: without a saved model the page used to train one on every load.
    from workbench.churn import models_dir
    from workbench.results import Status
    from workbench.settings import Settings

    folder = models_dir(Settings(store=str(store_copy)))
    for language, words in (("en", "workbench refresh"), ("ko", "한 번 만들어 두세요")):
        page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                     mode="interactive", language=language))
        page.widget()
        r = page.result
        assert not page.ok and r.status == Status.NO_DATA
        assert r.condition == "churn.message.no_model" and words in r.message
        assert words in page.w_message.value
    assert not folder.exists() or not any(folder.iterdir())  # nothing trained or saved


def test_another_horizon_without_its_model_says_which_command(trained, store_copy):
    _save(trained, store_copy)
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                 mode="interactive"))
    page.widget()
    assert page.ok
    page.w_horizon.value = 60
    assert not page.ok and page.result.condition == "churn.message.no_model_horizon"
    assert "workbench churn train --horizon 60" in page.result.message


def test_korean_page_has_korean_controls(trained, store_copy):
    _save(trained, store_copy)
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                 mode="interactive", language="ko"))
    page.widget()
    labels = [label for label, _ in page.w_rule.options]
    assert labels == ["연락 가능 인원 기준", "예상 정확도 기준"]
    assert [v for _, v in page.w_rule.options] == ["capacity", "precision"]
    assert "capacity" not in page.w_bands.value and "Win-back" not in page.w_bands.value


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
