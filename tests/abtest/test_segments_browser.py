"""The A/B page's "break down by" section in real Chromium, in Korean and English.

Picks the RFM and churn-band breakdowns on the refreshed sample store (which has the saved
churn model) and checks the table and chart appear on demand, in Korean with no English
words; saves ``test-artifacts/abtest-segments-{ko,en}.png``.
"""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, MARKS, chromium_page, dashboard_server, open_dashboard
from tests.test_korean_browser import _VISIBLE_TEXT, english_words
from workbench.abtest import segment_by_label

pytestmark = MARKS


@pytest.fixture(scope="module")
def server(refreshed_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("segments")
    with dashboard_server(refreshed_store, folder / "dashboard.log") as url:
        yield url


@pytest.fixture(scope="module")
def page():
    with chromium_page(viewport={"width": 1280, "height": 1000}) as pg:
        yield pg


def _break_down(pg, by: str, language: str) -> None:
    pg.locator(".wb-break-down select").select_option(label=segment_by_label(by, language))
    pg.wait_for_selector(f".wb-segments h3:has-text('{segment_by_label(by, language)}')",
                         timeout=120_000)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_breakdown_on_demand(server, page, language: str) -> None:
    pg = open_dashboard(page, f"{server}/voila/render/abtest.ipynb?language={language}",
                        ".wb-srm")
    pg.wait_for_selector(".wb-done", state="attached", timeout=120_000)
    # nothing is computed at load: the section holds only the dropdown
    assert pg.locator(".wb-segments-table").count() == 0
    texts = []
    for by in ("churn_band", "rfm_segment"):
        _break_down(pg, by, language)
        assert pg.locator("text=There was an error").count() == 0
        texts += pg.evaluate(_VISIBLE_TEXT)
    rows = pg.locator(".wb-segments-table tr[data-segment]")
    assert rows.count() >= 2
    # the chart is drawn when a segment could be tested (the 2,000-customer sample's latest
    # holdout is small, so its segments may all be below 30 customers: a table of statuses)
    if pg.locator(".wb-segments-table tr[data-status='ok']").count():
        pg.wait_for_selector(".wb-chart-segments .js-plotly-plot", timeout=60_000)
    pg.locator(".wb-segments").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"abtest-segments-{language}.png"), full_page=True)
    if language == "ko":
        # RFM segment names come from the shipped rules, translated; campaign names are data
        assert not english_words(texts, {"cmp", "sms", "a", "b"}), english_words(texts, set())
