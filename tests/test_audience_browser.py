"""The audience builder in real Chromium through Voila: build "cart abandoners with SMS consent"
in the form, see the count match ``Audience.count()``, export, and check the downloaded file.

Needs Debian's Chromium; skipped with a reason when it is absent (tests/browser.py).
"""

import csv
import hashlib
import io
from datetime import date

import pytest

from tests.browser import ARTIFACTS, MARKS, chromium_page, dashboard_server, open_dashboard
from workbench.audience import Audience, Condition, Group, read_export_log
from workbench.data import connect

pytestmark = MARKS
MESSAGE = "(광고) 워크샵 장바구니에 담긴 상품이 기다려요 무료거부 080-123-4567"


@pytest.fixture
def server(store_copy, tmp_path):
    with dashboard_server(store_copy, tmp_path / "dashboard.log") as url:
        yield url, store_copy


@pytest.fixture
def page():
    with chromium_page(viewport={"width": 1300, "height": 1800}, accept_downloads=True) as pg:
        yield pg


def _count(pg) -> int:
    return int(pg.locator(".wb-audience-count").get_attribute("data-value"))


def _wait_count(pg, value: int) -> None:
    pg.wait_for_function(
        "v => { const c = document.querySelector('.wb-audience-count');"
        " return c && parseInt(c.dataset.value) === v; }", arg=value, timeout=60_000)


def _add(pg, label: str) -> None:
    pg.locator(".wb-add-type select").select_option(label=label)
    pg.locator("button.wb-add").click()


def test_cart_abandoners_with_sms_consent(server, page, tmp_path):
    base, store = server
    page = open_dashboard(page, base + "/voila/render/audience_builder.ipynb", ".wb-audience-count")
    assert page.locator("text=There was an error").count() == 0
    as_of = date.fromisoformat(page.locator(".wb-as-of input").input_value())

    con = connect(store)
    everyone = Audience(Group(), con, as_of=as_of).count()
    cart = Group("and", (Condition.make("cart"),))
    both = Group("and", (Condition.make("cart"), Condition.make("consent", channel="sms")))
    expected_cart = Audience(cart, con, as_of=as_of).count()
    expected = Audience(both, con, as_of=as_of).count()
    con.disconnect()
    assert _count(page) == everyone
    assert 0 < expected < expected_cart < everyone  # the sample has carts, some without consent

    _add(page, "Cart contents")
    _wait_count(page, expected_cart)
    _add(page, "Marketing consent")  # channel defaults to SMS
    _wait_count(page, expected)
    assert page.locator(".wb-condition").count() == 2
    seconds = float(page.locator(".wb-audience-count").get_attribute("data-seconds"))
    assert seconds < 5
    # The preview is masked; the SQL is shown.
    preview = page.locator(".wb-preview").inner_text()
    assert "*" in preview
    assert "SELECT" in page.locator(".wb-sql-text").text_content()

    page.locator(".wb-purpose input").fill("cart reminder")
    page.locator(".wb-purpose input").press("Enter")
    page.locator(".wb-sender input").fill("워크샵")
    page.locator(".wb-message-text textarea").fill(MESSAGE)
    page.locator(".wb-message-text textarea").press("Tab")
    page.locator("button.wb-export").click()
    page.wait_for_selector(".wb-export-done, .wb-export-result .wb-warning", timeout=60_000)
    assert page.locator(".wb-export-result .wb-warning").count() == 0, page.locator(
        ".wb-export-result").inner_text()
    done = page.locator(".wb-export-done")
    rows = int(done.get_attribute("data-rows"))
    with page.expect_download() as info:
        page.locator(".wb-download").click()
    target = tmp_path / "download.csv"
    info.value.save_as(target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ["phone"] and len(lines) - 1 == rows
    assert all(line[0].isdigit() and line[0].startswith("01") for line in lines[1:])
    assert 0 < rows <= expected
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audience-builder.png"), full_page=True)

    log_con = connect(store)
    try:
        log = read_export_log(log_con)
    finally:
        log_con.disconnect()
    assert len(log) == 1
    assert log.iloc[0]["rows"] == rows and log.iloc[0]["channel"] == "sms"
    assert log.iloc[0]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert log.iloc[0]["members"] == expected
