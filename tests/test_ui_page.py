"""The page template: errors reach the manager as a sentence in the page's language."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data import write_store
from workbench.errors import ParameterError
from workbench.i18n import get_language, set_language, tr, using_language
from workbench.params import NotebookParams, param
from workbench.ui.page import Page, error_text


@dataclass(frozen=True, slots=True)
class _Params(NotebookParams):
    bins: int = param(5, low=2, high=10)


class _FailingPage(Page):
    def run(self):
        # as a library function would: no language given, so the active one is used
        _Params(bins=99)


def test_errors_are_worded_in_the_pages_language_not_the_processes(tmp_path):
    store = tmp_path / "s.duckdb"
    with write_store(store):
        pass
    set_language("en")
    page = _FailingPage(_Params(store=str(store), language="ko", mode="dashboard",
                                as_of="2026-11-16"))
    page.compute()
    assert page.result is None
    assert page.error.startswith(
        "이 화면을 계산하지 못했습니다: _Params: 'bins'는 2에서 10 사이")  # particle resolved
    assert get_language() == "en"  # the process language is back


def test_unexpected_errors_show_their_kind():
    assert error_text(KeyError("x"), "en").startswith("This view could not be computed (KeyError")
    with using_language("ko"):
        known = ParameterError(tr("params.at_least", owner="P", name="n", low="1", got="0"))
    assert error_text(known, "ko") == (
        "이 화면을 계산하지 못했습니다: P: 'n'은 1 이상이어야 합니다. 받은 값: 0.")


def test_every_page_has_a_title_and_purpose_in_both_languages():
    import importlib

    from workbench.i18n import _catalog

    names = {}
    for module in ("overview", "rfm", "cohorts", "products", "clv", "churn", "abtest",
                   "audience"):
        mod = importlib.import_module(f"workbench.ui.{module}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Page) and obj is not Page:
                names[obj.__name__] = obj.page_name()
    assert set(names.values()) == {"overview", "rfm", "cohorts", "products", "clv", "churn",
                                   "abtest", "audience_builder"}
    for name in names.values():
        for part in ("title", "purpose"):
            entry = _catalog()[f"pages.{name}.{part}"]
            assert entry["en"] and entry["ko"] and entry["en"] != entry["ko"]


def test_the_page_header_is_in_the_pages_language_only(tmp_path):
    store = tmp_path / "s.duckdb"
    with write_store(store):
        pass
    class _Named(_FailingPage):
        name = "rfm"

        def form(self):
            return []

        def body(self):
            return []

    ko = _Named(_Params(store=str(store), language="ko", mode="dashboard", as_of="2026-11-16"))
    en = _Named(_Params(store=str(store), language="en", mode="report", as_of="2026-11-16"))
    assert ko.title() == "RFM 세그먼트" and en.title() == "RFM segments"
    assert "RFM 세그먼트" in ko.header_html() and "segments" not in ko.header_html()
    assert ko.purpose() in ko.header_html() and "Who buys" not in ko.header_html()
    page = ko.widget()
    assert page.children[0].value == ko.header_html()
    assert "wb-page-title" in page.children[0].value
    # a page without catalogue entries (this test's stand-in) shows no header
    assert _FailingPage(_Params(store=str(store), language="ko", mode="dashboard",
                                as_of="2026-11-16")).header_html() == ""


def test_a_dashboard_address_can_ask_for_a_language(monkeypatch, tmp_path):
    from workbench.ui.page import url_language

    store = tmp_path / "s.duckdb"
    with write_store(store):
        pass
    monkeypatch.setenv("QUERY_STRING", "retry=2&language=ko")
    assert url_language() == "ko"
    page = _FailingPage(_Params(store=str(store), mode="dashboard", as_of="2026-11-16"))
    assert page.language == "ko" and page.params.language == "ko"
    # the notebook's own language wins; unknown values are ignored
    assert _FailingPage(_Params(store=str(store), language="en", mode="dashboard",
                                as_of="2026-11-16")).language == "en"
    monkeypatch.setenv("QUERY_STRING", "language=jp")
    assert url_language() is None


def test_korean_charts_have_korean_dates_and_no_si_suffixes():
    import pandas as pd
    import plotly.graph_objects as go

    from workbench.viz.style import KOREAN_DATE_TICKS, finish_figure

    def figure():
        return go.Figure([go.Bar(x=pd.date_range("2025-07-01", periods=4, freq="MS"),
                                 y=[1e4, 2e5, 3e6, 4e7]),
                          go.Scatter(x=[1, 2], y=[3, 4], xaxis="x2")])

    ko = finish_figure(figure(), "월별 매출")
    assert ko.layout.xaxis.tickformatstops[2].value == "%Y년 %-m월"
    assert len(ko.layout.xaxis.tickformatstops) == len(KOREAN_DATE_TICKS)
    assert ko.layout.yaxis.exponentformat == "none" and ko.layout.yaxis.separatethousands
    assert "xaxis2" not in ko.layout.to_plotly_json()  # a number axis keeps number ticks
    en = finish_figure(figure(), "Monthly revenue")
    assert not en.layout.xaxis.tickformatstops and en.layout.yaxis.exponentformat is None
    assert finish_figure(figure(), "Revenue", language="ko").layout.xaxis.tickformatstops


def test_footer_shows_the_refresh_time_in_the_shops_zone():
    from workbench.ui.common import footer_html

    meta = {"as_of": "2026-11-16 00:00:00", "refreshed_at": "2026-12-07 11:34:10"}
    ko = footer_html(data_until="2026-11-15 23:35", snapshot=meta, language="ko",
                     timezone="Asia/Seoul")
    assert "스냅샷 2026-11-16 (2026-12-07 20:34)" in ko and "UTC" not in ko
    en = footer_html(data_until=None, snapshot=meta, language="en")
    assert "snapshot 2026-11-16 (2026-12-07 11:34 UTC)" in en
