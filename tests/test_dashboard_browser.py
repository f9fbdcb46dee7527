"""The overview dashboard in real Chromium: numbers match workbench.kpi, the form works,
a refresh while the page is open does not break it.

Needs Debian's Chromium (``make test`` installs it when missing); skipped with a reason when it
is absent so a developer without root still runs the rest of the suite.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from tests.browser import open_dashboard
from workbench.clock import this_week
from workbench.data import connect
from workbench.kpi import run_overview
from workbench.reporting.params import OverviewParams

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (make test installs it)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def server(store_copy, tmp_path):
    port = _free_port()
    # The server's log goes to a file: a pipe nobody reads fills up and blocks Voila mid-page.
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port), "--store",
         str(store_copy), "--stop-after", "600"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}", store_copy
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
        pg = browser.new_page(viewport={"width": 1200, "height": 1600})
        yield pg
        browser.close()


def _tile(pg, metric: str) -> float:
    loc = pg.locator(f".wb-kpi-tiles .wb-tile[data-metric='{metric}']")
    return float(loc.get_attribute("data-value"))


def _expected(store: Path, period: str, as_of: date) -> float:
    result = run_overview(connect(store), OverviewParams(as_of=as_of, period=period))
    tiles = result.tiles.set_index("metric")
    return float(tiles.loc["net_revenue", "current"])


def test_overview_dashboard_end_to_end(server, page):
    base, store = server
    # The landing page (Voila's tree, a file browser drawn by its scripts) lists every dashboard.
    page.goto(base + "/", timeout=60_000)
    page.wait_for_selector(".jp-DirListing-item[title*='overview.ipynb']", timeout=60_000)

    page = open_dashboard(page, base + "/voila/render/overview.ipynb",
                          ".wb-kpi-tiles .wb-tile[data-metric='net_revenue']")
    # The sample store ends on 2026-11-15: on a later day the page falls back to the last week
    # with data and says so; on any day the shown number must match the form's as-of date.
    as_of = date.fromisoformat(page.locator(".wb-as-of input").input_value())
    if this_week() > as_of:
        assert "2026-11-15" in page.locator(".wb-note").inner_text()
    assert _tile(page, "net_revenue") == pytest.approx(_expected(store, "W", as_of))
    page.wait_for_selector(".wb-chart-trend .js-plotly-plot", timeout=60_000)
    traces = page.evaluate(
        "() => document.querySelector('.wb-chart-trend .js-plotly-plot').data.length")
    points = page.evaluate(
        "() => document.querySelector('.wb-chart-trend .js-plotly-plot').data[0].x.length")
    assert traces >= 1 and points >= 2
    assert page.locator("text=There was an error").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-week.png"), full_page=True)

    week_value = _tile(page, "net_revenue")
    page.locator(".wb-period button", has_text="Month").click()
    page.wait_for_function(
        "v => { const t = document.querySelector(\".wb-tile[data-metric='net_revenue']\");"
        " return t && parseFloat(t.dataset.value) !== v; }", arg=week_value, timeout=30_000)
    assert _tile(page, "net_revenue") == pytest.approx(_expected(store, "M", as_of))
    page.screenshot(path=str(ARTIFACTS / "overview-month.png"), full_page=True)


def test_refresh_while_a_dashboard_is_open(server, page):
    base, store = server
    page = open_dashboard(page, base + "/voila/render/overview.ipynb", ".wb-kpi-tiles .wb-tile")
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "refresh", "--store", str(store), "-q"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # Open the dashboard again after the refresh, in a new tab while the first stays open.
    # (Reloading the same tab is not used: with Voila 0.5.13 a same-tab reload or second
    # navigation now and then never reaches "load", with or without a refresh in between; a
    # known issue in the README, not fixed yet.)
    first = page
    page = first.context.browser.new_page(viewport={"width": 1200, "height": 1600})
    page = open_dashboard(page, base + "/voila/render/overview.ipynb", ".wb-kpi-tiles .wb-tile")
    assert first.locator(".wb-kpi-tiles .wb-tile").count() > 0  # the open one still shows
    assert page.locator("text=There was an error").count() == 0
    footer = page.locator(".wb-footer").inner_text()
    assert "snapshot" in footer


def test_no_data_shows_a_readable_message(tmp_path, page):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port), "--store",
         str(tmp_path / "missing.duckdb"), "--stop-after", "300"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc)
        page = open_dashboard(page, f"http://127.0.0.1:{port}/voila/render/overview.ipynb",
                              ".wb-message")
        text = page.locator(".wb-message").first.inner_text()
        assert "no data yet" in text and "workbench sample" in text
        assert page.locator("text=There was an error").count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_rfm_dashboard_segment_members(server, page):
    base, store = server
    refreshed = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "refresh", "--store", str(store), "--as-of",
         "2026-11-16", "-q"], capture_output=True, text=True, timeout=300)
    assert refreshed.returncode == 0, refreshed.stderr
    page = open_dashboard(page, base + "/voila/render/rfm.ipynb", ".wb-segment-count")
    assert page.locator("text=There was an error").count() == 0
    # The page opens on the snapshot's date and shows the same numbers as workbench.rfm.
    from workbench.reporting.params import RfmParams
    from workbench.rfm import run_rfm

    expected = run_rfm(connect(store), RfmParams(as_of=date(2026, 11, 16)))
    sizes = expected.segments.set_index("segment")["customers"]
    shown = page.locator(".wb-rfm-segments tr[data-segment]")
    assert {shown.nth(i).get_attribute("data-segment"): int(shown.nth(i).get_attribute(
        "data-customers")) for i in range(shown.count())} == {k: int(v) for k, v in sizes.items()}
    page.wait_for_selector(".wb-chart-treemap .js-plotly-plot", timeout=60_000)

    first = page.locator(".wb-segment-count").get_attribute("data-segment")
    target = "new" if first != "new" else "lost"
    label = expected.segments.set_index("segment").loc[target, "label"]
    page.locator(".wb-segment select").select_option(label=f"{label} ({int(sizes[target]):,})")
    page.wait_for_function(
        "s => document.querySelector('.wb-segment-count').dataset.segment === s",
        arg=target, timeout=30_000)
    count = page.locator(".wb-segment-count")
    assert int(count.get_attribute("data-value")) == int(sizes[target])
    rows = page.locator(".wb-members tr.wb-member")
    assert 0 < rows.count() <= min(50, int(sizes[target]))
    members = expected.customers[expected.customers["segment"] == target]["customer_id"]
    listed = {rows.nth(i).locator("td").nth(0).inner_text() for i in range(rows.count())}
    assert listed <= set(members)
    # Names and phones are masked: no full phone number, masked marks present.
    text = page.locator(".wb-members").inner_text()
    assert "*" in text
    assert not re.search(r"010-\d{4}-\d{4}", text)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rfm-segment.png"), full_page=True)
