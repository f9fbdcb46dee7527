"""Self-contained HTML: notebooks converted without code, and the report index pages.

Reports must open offline and on a phone: Plotly is inlined once per page by the ``notebook``
renderer (the kernel runs with ``PLOTLY_RENDERER=notebook``), the CDN scripts nbconvert's
template would add (require.js, MathJax) are dropped, and tables scroll sideways on narrow
screens.

Every page reads like the dashboards: headline tiles with net revenue first and changes in
green (up) or red (down), a link back to the index, the provenance footer, text columns
left-aligned and number columns right-aligned (JupyterLab's stylesheet right-aligns every
cell), and Korean words never broken mid-word (``word-break: keep-all``).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import nbformat

from workbench import __version__
from workbench.i18n import tr

__all__ = ["align_tables", "lead_first", "notebook_to_html", "report_footer", "report_index",
           "week_index"]

#: Marks the index pages workbench writes, so a report run never replaces someone else's.
GENERATOR = "<meta name='generator' content='workbench'>"
_CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE)
_MOBILE_CSS = """<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { max-width: 1100px; margin: 0 auto; padding: 0 12px; }
  body, td, th, h1, h2, h3, p, li { word-break: keep-all; overflow-wrap: break-word; }
  .jp-RenderedHTMLCommon table, table { display: block; overflow-x: auto; max-width: 100%; }
  .jp-RenderedHTMLCommon td.wb-text, .jp-RenderedHTMLCommon th.wb-text,
  td.wb-text, th.wb-text { text-align: left; }
  .jp-RenderedHTMLCommon td.wb-num, .jp-RenderedHTMLCommon th.wb-num,
  td.wb-num, th.wb-num { text-align: right; font-variant-numeric: tabular-nums; }
  .js-plotly-plot, .plotly-graph-div { max-width: 100%; }
  .wb-tiles { display: flex; flex-wrap: wrap; gap: 8px; }
  .wb-tile { flex: 1 1 150px; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
  .wb-tile-label { color: #555; font-size: .9em; }
  .wb-tile-value { font-size: 1.3em; font-weight: 600; }
  .wb-up { color: #1a7f37; } .wb-down { color: #c62828; } .wb-flat { color: #777; }
  .wb-nav, .wb-footer { font-family: system-ui, sans-serif; }
  .wb-nav { margin: 12px 0; font-size: .95em; }
  .wb-footer { color: #777; font-size: .85em; margin: 16px 0; }
</style>
"""
#: One figure, optional unit: ``1,234``, ``+4.7%``, ``₩9,663``, ``462.6×``, ``1억 2,345만원``.
_NUMBER = (r"[+\-−]?\s?[₩$€£¥]?\s?[+\-−]?(?:\d[\d,]*(?:\.\d+)?(?:e[+\-]?\d+)?|inf)"
           r"(?:\s?(?:%p|%|×|억|만|원|명|건|개|일|주|회|점|초|s|pt|points?|포인트)){0,2}")
#: A number cell: one figure, a range (``-6.7 points ~ +11.8 points``) or a Korean amount.
_NUMERIC = re.compile(rf"{_NUMBER}(?:\s*[~–]\s*{_NUMBER})?(?:\s+{_NUMBER})*")
_EMPTY = {"", "–", "-", "—", "nan", "NaN", "None"}
_SCRIPT = re.compile(r"(<script\b.*?</script>)", re.IGNORECASE | re.DOTALL)
_TABLE = re.compile(r"<table\b.*?</table>", re.IGNORECASE | re.DOTALL)
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.IGNORECASE | re.DOTALL)
_CELL = re.compile(r"<(td|th)\b([^>]*)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def notebook_to_html(nb: nbformat.NotebookNode, *, title: str, language: str = "en",
                     back: tuple[str, str] | None = None, footer: str = "") -> str:
    """Convert an executed notebook to one self-contained HTML page without code cells.

    Parameters
    ----------
    back
        ``(href, text)`` of the link back to the index, shown above the page's content.
    footer
        Ready-made HTML of the provenance footer (:func:`report_footer`), shown at the end.
    """
    # Imported here: nbconvert takes 0.57-0.77 s to import (three runs, 2 cores) and only a
    # report run converts pages; the dashboard imports this package for its runner helpers.
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ClearMetadataPreprocessor, TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(ClearMetadataPreprocessor(enabled=True), enabled=True)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"hide", "remove"}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = align_tables(_CDN_SCRIPT.sub("", body))
    # nbconvert's template says lang="en" whatever the language; the page's must be right
    body = re.sub(r"<html\b[^>]*>", f"<html lang='{language}'>", body, count=1)
    body = body.replace("</head>", _MOBILE_CSS + "</head>", 1)
    if back:
        body = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + _back_link(*back), body,
                      count=1)
    return _with_footer(body, footer)


def _back_link(href: str, text: str) -> str:
    return (f"<nav class='wb-nav'><a class='wb-back' href='{html.escape(href)}'>"
            f"← {html.escape(text)}</a></nav>")


def _with_footer(page: str, footer: str) -> str:
    if not footer:
        return page
    at = page.rfind("</body>")
    return page[:at] + footer + page[at:] if at >= 0 else page + footer


def align_tables(page: str) -> str:
    """Mark every table cell ``wb-num`` (right-aligned) or ``wb-text`` (left-aligned).

    A column is numeric when each of its filled body cells is a number with an optional
    unit or a range of two; its header follows it. Scripts (the inlined Plotly bundle) are
    left alone. Tables nested in a cell are not expected (no page builds one): the outer
    table's cells would be matched up to the inner table's end.

    >>> page = align_tables("<table><tr><th>Segment</th><th>Share</th></tr>"
    ...                     "<tr><td>Champions</td><td>13.5%</td></tr></table>")
    >>> re.findall(r'class="(wb-[a-z]+)"', page)
    ['wb-text', 'wb-num', 'wb-text', 'wb-num']
    """
    parts = _SCRIPT.split(page)
    return "".join(part if i % 2 else _TABLE.sub(lambda m: _align_table(m.group(0)), part)
                   for i, part in enumerate(parts))


def _cell_text(inner: str) -> str:
    return html.unescape(_TAG.sub("", inner)).replace("\xa0", " ").strip()


def _align_table(table: str) -> str:
    rows = [list(_CELL.finditer(r.group(0))) for r in _ROW.finditer(table)]
    numeric: dict[int, bool] = {}
    for cells in rows:
        if not any(c.group(1).lower() == "td" for c in cells):
            continue  # a header row says nothing about the column's values
        for j, cell in enumerate(cells):
            text = _cell_text(cell.group(3))
            if text not in _EMPTY:
                numeric[j] = numeric.get(j, True) and bool(_NUMERIC.fullmatch(text))

    def mark(row: re.Match) -> str:
        column = itertools.count()
        return _CELL.sub(lambda c: _classed(c, numeric.get(next(column), False)), row.group(0))

    return _ROW.sub(mark, table)


def _classed(cell: re.Match, numeric: bool) -> str:
    tag, attrs, inner = cell.group(1), cell.group(2), cell.group(3)
    css = "wb-num" if numeric else "wb-text"
    found = re.search(r"""\bclass=(["'])(.*?)\1""", attrs)
    if found:
        attrs = (attrs[:found.start()] + f'class="{found.group(2)} {css}"' + attrs[found.end():])
    else:
        attrs += f' class="{css}"'
    return f"<{tag}{attrs}>{inner}</{tag}>"


def report_footer(*, data_until: Any, snapshot: dict | None, language: str,
                  timezone: str | None = None) -> str:
    """Return the dashboards' provenance footer (data up to, snapshot time, version).

    The words are the dashboards' own (``ui.footer``), and as there the refresh time is in the
    shop's ``timezone`` (UTC, marked, without one); it is built here because the pages package
    imports the report runner, so the runner cannot import the pages.
    """
    snap = "–"
    if snapshot:
        snap = f"{str(snapshot.get('as_of'))[:10]} ({_refreshed(snapshot, timezone)})"
    until = "–" if data_until is None else str(data_until)[:16]
    text = tr("ui.footer", language=language, data_until=until, snapshot=snap,
              version=__version__)
    return f"<footer class='wb-footer'>{html.escape(text)}</footer>"


def _refreshed(snapshot: dict, timezone: str | None) -> str:
    raw = snapshot.get("refreshed_at")
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        return "–"
    if timezone is None:
        return f"{str(raw)[:16]} UTC"
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _page(title: str, content: str, language: str, footer: str = "") -> str:
    return (f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
            f"{GENERATOR}"
            f"<title>{html.escape(title)}</title>{_MOBILE_CSS}"
            "<style>body{font-family:system-ui,sans-serif} li{margin:.4em 0}"
            ".wb-head{color:#555;font-size:.95em}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{content}{footer}</body></html>")


#: The number every index shows first, as the dashboards' KPI cards do.
LEAD_METRIC = "net_revenue"
#: Shown second when a holdout measures it: what CRM added this week (the campaigns page's tile).
CRM_METRIC = "crm_impact"
_ARROWS = {"up": "▲", "down": "▼", "flat": ""}


def _direction(item: dict[str, Any]) -> str:
    direction = item.get("direction")
    if direction in _ARROWS:
        return direction
    pct = item.get("change_pct")  # headlines recorded before ``direction`` existed
    if not isinstance(pct, int | float) or pct != pct or pct == 0:
        return "flat"
    return "up" if pct > 0 else "down"


def lead_first(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return headline items with net revenue first, CRM impact next, the others in their order.

    >>> [i["metric"] for i in lead_first([{"metric": "orders"}, {"metric": "crm_impact"},
    ...                                   {"metric": "net_revenue"}])]
    ['net_revenue', 'crm_impact', 'orders']
    """
    rank = {LEAD_METRIC: 0, CRM_METRIC: 1}
    return sorted(items, key=lambda item: rank.get(item.get("metric"), 2))


def _headline_html(items: Sequence[dict[str, Any]]) -> str:
    """Return the tiles: label, value, and the change coloured green (up) or red (down)."""
    tiles = []
    for item in lead_first(items):
        direction = _direction(item)
        change = str(item.get("change", "") or "")
        arrow = _ARROWS[direction] if change else ""
        tiles.append(
            f"<div class='wb-tile' data-metric='{html.escape(str(item.get('metric', '')))}'>"
            f"<div class='wb-tile-label'>{html.escape(str(item.get('label', '')))}</div>"
            f"<div class='wb-tile-value'>{html.escape(str(item.get('value', '')))}</div>"
            f"<div class='wb-tile-change wb-{direction}'>"
            f"{html.escape(f'{arrow} {change}'.strip())}</div></div>")
    return "".join(tiles)


def week_index(run: dict[str, Any], *, language: str, footer: str = "") -> str:
    """Return the ``index.html`` of one week: links to each notebook with its headline numbers."""
    items = []
    for nb in run["notebooks"]:
        name = html.escape(nb["name"])
        head = _headline_html(nb.get("headline") or [])
        items.append(f"<li><a href='{name}.html'>{html.escape(nb.get('title') or name)}</a>"
                     f"<div class='wb-tiles'>{head}</div></li>")
    meta = tr("report.week_meta", language=language, as_of=run["as_of"],
              start=run["period"][0], end=run["period"][1], version=run["package_version"],
              fingerprint=run["fingerprint"])
    served = run.get("served_from")  # a Spark store: the lake version the pages read a copy of
    if served:
        meta += " · " + tr("serving.report_meta", language=language, lake=served["lake"],
                           version=served["version"])
    content = (_back_link("../index.html", tr("report.all_weeks", language=language))
               + f"<p class='wb-head'>{html.escape(meta)}</p><ul>{''.join(items)}</ul>"
               f"<p><a href='run.json'>run.json</a></p>")
    return _page(tr("report.week_title", language=language, week=run["week"]), content, language,
                 footer)


def report_index(runs: Sequence[dict[str, Any]], *, language: str, footer: str = "") -> str:
    """Return ``reports/index.html``: every week, newest first, with its headline numbers."""
    rows = []
    for run in sorted(runs, key=lambda r: r["week"], reverse=True):
        week = html.escape(run["week"])
        heads = lead_first([h for nb in run["notebooks"] for h in (nb.get("headline") or [])])
        rows.append(f"<li><a href='{week}/index.html'>{week}</a> "
                    f"<span class='wb-head'>({html.escape(run['period'][0])} – "
                    f"{html.escape(run['period'][1])})</span>"
                    f"<div class='wb-tiles'>{_headline_html(heads[:3])}</div></li>")
    empty = f"<p>{html.escape(tr('report.no_weeks', language=language))}</p>"
    content = f"<ul>{''.join(rows)}</ul>" if rows else empty
    return _page(tr("report.index_title", language=language), content, language, footer)
