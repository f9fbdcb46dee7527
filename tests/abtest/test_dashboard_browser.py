"""The A/B dashboard in real Chromium: the split check first, the campaign picker, the planner.

Skipped when Debian's Chromium is absent (see tests/test_dashboard_browser.py).
"""

from __future__ import annotations

import pytest

from tests.browser import MARKS, chromium_page, dashboard_server, open_dashboard
from workbench.abtest import sample_size_per_arm

pytestmark = MARKS


@pytest.fixture
def server(store_copy, tmp_path):
    with dashboard_server(store_copy, tmp_path / "dashboard.log") as url:
        yield url


@pytest.fixture
def page():
    with chromium_page(viewport={"width": 1200, "height": 1800}) as pg:
        yield pg


def test_abtest_dashboard(server, page) -> None:
    page = open_dashboard(page, server + "/voila/render/abtest.ipynb", ".wb-srm")
    assert page.locator("text=There was an error").count() == 0
    # the split check comes before the comparisons
    boxes = page.locator(".wb-srm, .wb-abtest-table")
    assert boxes.count() == 2
    assert boxes.nth(0).get_attribute("class").startswith("wb-srm")
    assert page.locator(".wb-srm").get_attribute("data-mismatch") == "false"
    page.wait_for_selector(".wb-chart-forest .js-plotly-plot", timeout=60_000)

    # pick the three-arm campaign
    select = page.locator(".wb-campaign select")
    option = [o for o in select.locator("option").all_inner_texts() if o.startswith("CMP001")]
    select.select_option(label=option[0])
    page.wait_for_selector(".wb-abtest-table tr[data-variant='B']", timeout=60_000)
    assert page.locator(".wb-abtest-table tr[data-variant='A'][data-metric='conversion']").count()
    # the ROI table is redrawn after the comparisons: wait for it as well
    page.wait_for_selector(".wb-roi tr[data-variant='B']", timeout=60_000)
    assert page.locator(".wb-roi tr[data-variant='B']").count() == 1

    # the planner answers with the same number as workbench.abtest
    mde = page.locator(".wb-plan-mde input")
    mde.fill("20")
    mde.press("Enter")
    expected = sample_size_per_arm(0.05, 0.20)
    page.wait_for_function(
        "n => document.querySelector('.wb-planner-result').dataset.n === String(n)",
        arg=expected, timeout=30_000)
