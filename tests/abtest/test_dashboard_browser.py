"""The A/B dashboard in real Chromium: the split check first, the campaign picker, the planner.

Skipped when Debian's Chromium is absent (see tests/test_dashboard_browser.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import open_dashboard
from workbench.abtest import sample_size_per_arm

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(store_copy, tmp_path):
    port = _free_port()
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port), "--store",
         str(store_copy), "--stop-after", "600"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "dashboard server exited"
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser.new_page(viewport={"width": 1200, "height": 1800})
        browser.close()


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
