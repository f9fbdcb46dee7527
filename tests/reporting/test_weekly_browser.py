"""The weekly report as a manager opens it, in real Chromium, in English and Korean (issue 15, 6).

The pages are static files, opened with ``file://`` (a report must open offline). Each language
writes two screenshots to ``test-artifacts/``: ``report-index-<lang>.png`` (reports/index.html)
and ``report-page-<lang>.png`` (the RFM page: a table with text and number columns). Checked
on the rendered pages, from computed styles:

- the headline tiles lead with net revenue and colour each change by its direction (green up,
  red down, as the dashboards' KPI cards), the direction being the one the run recorded;
- text cells are left-aligned and number cells right-aligned, headers with their column;
- the link back to the week's index works, and the footer gives the data's last order time,
  the snapshot date and the package version, in the report's language;
- Korean text keeps its words whole (``word-break: keep-all``): at a phone's width no Hangul
  word of a table, heading or tile spans two lines.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from tests.browser import ARTIFACTS, MARKS, chromium_page
from workbench import __version__

pytestmark = MARKS

WEEK = "2026-W46"
GREEN, RED = "rgb(26, 127, 55)", "rgb(198, 40, 40)"

_TILES = """() => [...document.querySelectorAll('.wb-tile')].map(t => {
  const change = t.querySelector('.wb-tile-change');
  return {metric: t.dataset.metric, cls: change.className, text: change.textContent,
          color: getComputedStyle(change).color};
})"""

_ALIGN = """() => {
  const first = sel => document.querySelector(sel);
  const align = el => el && getComputedStyle(el).textAlign;
  return {text_td: align(first('td.wb-text')), num_td: align(first('td.wb-num')),
          text_th: align(first('th.wb-text')), num_th: align(first('th.wb-num')),
          text_value: first('td.wb-text').textContent, num_value: first('td.wb-num').textContent,
          keep_all: [...document.querySelectorAll('td, th, h1, h2')].every(
            el => getComputedStyle(el).wordBreak === 'keep-all')};
}"""

#: Hangul words of tables, headings and tiles whose letters sit on more than one line.
_BROKEN_WORDS = """() => {
  const broken = [];
  for (const el of document.querySelectorAll('td, th, h1, h2, h3, .wb-tile, .wb-footer, a')) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.textContent.matchAll(/[가-힣]{2,}/g)) {
        const range = document.createRange();
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def _data_until(store) -> str:
    with duckdb.connect(str(store), read_only=True) as con:
        last = con.execute("SELECT strftime(timezone('Asia/Seoul', max(ordered_at)), "
                           "'%Y-%m-%d %H:%M') FROM orders").fetchone()[0]
    return last


def _check_tiles(page, run: dict) -> None:
    tiles = page.evaluate(_TILES)
    assert tiles and tiles[0]["metric"] == "net_revenue"
    recorded = {h["metric"]: h for nb in run["notebooks"] for h in nb["headline"]}
    colours = {"up": GREEN, "down": RED}
    for tile in tiles:
        direction = recorded[tile["metric"]]["direction"]
        assert f"wb-{direction}" in tile["cls"].split(), tile
        if direction in colours:
            assert tile["color"] == colours[direction], tile
            assert tile["text"].startswith("▲" if direction == "up" else "▼"), tile
    assert {t["color"] for t in tiles} & {GREEN, RED}  # the sample week has changes to colour


@pytest.mark.parametrize("language", ["en", "ko"])
def test_report_index_and_page_in_chromium(request, language):
    root = request.getfixturevalue("weekly" if language == "en" else "weekly_ko")
    reports = root / "reports"
    run = json.loads((reports / WEEK / "run.json").read_text(encoding="utf-8"))
    until = _data_until(root / "shop.duckdb")
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        # the index of every week: net revenue first, coloured changes, the footer
        page.goto((reports / "index.html").as_uri())
        assert page.get_attribute("html", "lang") == language
        _check_tiles(page, run)
        footer = page.inner_text(".wb-footer")
        assert until in footer and f"workbench {__version__}" in footer
        page.screenshot(path=str(ARTIFACTS / f"report-index-{language}.png"), full_page=True)

        # the week's index, then one report page
        page.goto((reports / WEEK / "index.html").as_uri())
        _check_tiles(page, run)
        page.goto((reports / WEEK / "rfm.html").as_uri())
        assert page.get_attribute("html", "lang") == language
        align = page.evaluate(_ALIGN)
        assert (align["text_td"], align["num_td"]) == ("left", "right"), align
        assert (align["text_th"], align["num_th"]) == ("left", "right"), align
        assert not re.search(r"\d", align["text_value"]) and re.search(r"\d", align["num_value"])
        assert align["keep_all"]
        footer = page.inner_text(".wb-footer")
        assert until in footer and "2026-11-16" in footer and __version__ in footer
        assert ("Data up to" in footer) == (language == "en")
        assert ("데이터 기준" in footer) == (language == "ko")
        back = page.locator("a.wb-back")
        assert WEEK in back.inner_text()
        assert bool(re.search("[가-힣]", back.inner_text())) == (language == "ko")
        page.screenshot(path=str(ARTIFACTS / f"report-page-{language}.png"), full_page=True)
        if language == "ko":  # at a phone's width, no Korean word is split across lines
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate(_BROKEN_WORDS) == []
        back.click()
        page.wait_for_load_state()
        assert page.url == (reports / WEEK / "index.html").as_uri()
        assert WEEK in page.inner_text("h1")
        if language == "ko":
            page.goto((reports / "index.html").as_uri())
            assert page.evaluate(_BROKEN_WORDS) == []
