"""Self-contained HTML: notebooks converted without code, and the report index pages.

Reports must open offline and on a phone: Plotly is inlined once per page by the ``notebook``
renderer (the kernel runs with ``PLOTLY_RENDERER=notebook``), the CDN scripts nbconvert's
template would add (require.js, MathJax) are dropped, and tables scroll sideways on narrow
screens.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nbformat

from workbench.i18n import tr

__all__ = ["notebook_to_html", "report_index", "week_index"]

#: Marks the index pages workbench writes, so a report run never replaces someone else's.
GENERATOR = "<meta name='generator' content='workbench'>"
_CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE)
_MOBILE_CSS = """<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { max-width: 1100px; margin: 0 auto; padding: 0 12px; }
  .jp-RenderedHTMLCommon table, table { display: block; overflow-x: auto; max-width: 100%; }
  .js-plotly-plot, .plotly-graph-div { max-width: 100%; }
  .wb-tiles { display: flex; flex-wrap: wrap; gap: 8px; }
  .wb-tile { flex: 1 1 150px; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
</style>
"""


def notebook_to_html(nb: nbformat.NotebookNode, *, title: str) -> str:
    """Convert an executed notebook to one self-contained HTML page without code cells."""
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
    body = _CDN_SCRIPT.sub("", body)
    return body.replace("</head>", _MOBILE_CSS + "</head>", 1)


def _page(title: str, content: str, language: str) -> str:
    return (f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
            f"{GENERATOR}"
            f"<title>{html.escape(title)}</title>{_MOBILE_CSS}"
            "<style>body{font-family:system-ui,sans-serif} li{margin:.4em 0}"
            ".wb-head{color:#555;font-size:.95em}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{content}</body></html>")


def _headline_html(items: Sequence[dict[str, Any]]) -> str:
    return "".join(
        f"<div class='wb-tile' data-metric='{html.escape(str(i.get('metric', '')))}'>"
        f"<div>{html.escape(str(i.get('label', '')))}</div>"
        f"<strong>{html.escape(str(i.get('value', '')))}</strong> "
        f"<span class='wb-head'>{html.escape(str(i.get('change', '')))}</span></div>"
        for i in items)


def week_index(run: dict[str, Any], *, language: str) -> str:
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
    content = (f"<p class='wb-head'>{html.escape(meta)}</p><ul>{''.join(items)}</ul>"
               f"<p><a href='run.json'>run.json</a> · <a href='../index.html'>"
               f"{html.escape(tr('report.all_weeks', language=language))}</a></p>")
    return _page(tr("report.week_title", language=language, week=run["week"]), content, language)


def report_index(runs: Sequence[dict[str, Any]], *, language: str) -> str:
    """Return ``reports/index.html``: every week, newest first, with its headline numbers."""
    rows = []
    for run in sorted(runs, key=lambda r: r["week"], reverse=True):
        week = html.escape(run["week"])
        heads = [h for nb in run["notebooks"] for h in (nb.get("headline") or [])][:3]
        rows.append(f"<li><a href='{week}/index.html'>{week}</a> "
                    f"<span class='wb-head'>({html.escape(run['period'][0])} – "
                    f"{html.escape(run['period'][1])})</span>"
                    f"<div class='wb-tiles'>{_headline_html(heads)}</div></li>")
    empty = f"<p>{html.escape(tr('report.no_weeks', language=language))}</p>"
    content = f"<ul>{''.join(rows)}</ul>" if rows else empty
    return _page(tr("report.index_title", language=language), content, language)
