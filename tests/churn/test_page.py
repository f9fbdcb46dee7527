"""The churn page in report mode (static parts) and widget mode."""

from __future__ import annotations

import copy
from datetime import date

import ipywidgets as widgets
import pandas as pd
import pytest

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


def test_headline_numbers_are_the_result_frames(trained, store_copy):
    # Issue 15: the headline said "they spent" a predicted value, and bands were named by rank.
    import html as html_lib

    from workbench.i18n import format_money, format_number, format_percent

    _save(trained, store_copy)
    for language in ("en", "ko"):
        page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                     mode="interactive", language=language))
        page.widget()
        r = page.result
        c = r.customers
        high = c[c["risk_band"] == "high"]
        count, rate = len(high), high["churn_risk"].mean()
        at_risk = float((high["churn_risk"] * high["value"]).sum())
        for text in (format_number(count, language=language),
                     format_percent(count / len(c), language=language),
                     format_percent(rate, language=language),
                     format_money(at_risk, r.currency, language=language, style=None)):
            assert text in r.message
        assert html_lib.escape(r.message) in page.w_message.value
        assert ("value at risk" in r.message) if language == "en" else ("위험 가치" in r.message)
        assert "spent" not in r.message and "구매액" not in r.message
        # every band's name states its expected churn, and the level word matches it
        for row in r.bands.itertuples():
            mean = c.loc[c["risk_band"] == row.band, "churn_risk"].mean()
            assert row.mean_risk == pytest.approx(mean)
            assert format_percent(mean, digits=0, language=language) in row.label
            level = "high" if mean >= 0.5 else "medium" if mean >= 0.2 else "low"
            assert row.level == level
            assert f"data-band='{row.band}'" in page.w_bands.value
            assert html_lib.escape(row.label) in page.w_bands.value
        # the priority list starts with the most value at risk, over every band
        w = r.watchlist
        assert w["customer_id"].iloc[0] == c.loc[c["value_at_risk"].idxmax(), "customer_id"]
        assert (w["value_at_risk"] == w["churn_risk"] * w["value"]).all()
        assert r.headline()[1]["value"] == format_money(float(c["value_at_risk"].sum()),
                                                         r.currency, language=language)


def test_a_baseline_below_chance_is_left_out_with_a_sentence(trained, store_copy):
    import dataclasses

    _save(trained, store_copy)
    page = ChurnPage(ChurnParams(as_of=date(2026, 11, 16), store=str(store_copy),
                                 mode="report"))
    page.compute()
    rows = [{"cutoff": "2026-08-18", "scorer": s, "customers": 100, "churn_rate": 0.3,
             "roc_auc": auc, "pr_auc": 0.5, "brier": 0.2, "ece": 0.02, "lift_10": 1.5,
             "capture_10": 0.2, "lift_20": 1.4, "capture_20": 0.3}
            for s, auc in (("model", 0.81), ("days_since_last_order", 0.345),
                           ("p_alive", 0.7))]
    reliability = pd.DataFrame({"cutoff": ["2026-08-18"] * 2, "mean_predicted": [0.2, 0.7],
                                "observed": [0.25, 0.65], "customers": [800, 200]})
    r = dataclasses.replace(page.result, backtest=pd.DataFrame(rows), reliability=reliability)
    assert r.baselines_below_chance == ["days_since_last_order"]
    assert r.backtest_shown["scorer"].tolist() == ["model", "p_alive"]
    assert {t.meta for t in r.figure_backtest().data} >= {"model", "p_alive"}
    assert all(t.name != "Days since last order" for t in r.figure_backtest().data)
    assert "worse than a coin toss" in r.backtest_note("en")
    assert "동전 던지기보다 못함" in r.backtest_note("ko")
    page.result = r
    parts = [p for p in page.static_parts() if isinstance(p, str)]
    metrics = next(p for p in parts if "wb-churn-metrics" in p)
    assert "data-scorer='days_since_last_order'" not in metrics
    assert "Left out of the backtest: Days since last order." in metrics
