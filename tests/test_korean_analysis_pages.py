"""Korean mode of the overview, RFM, cohorts and CLV pages: no English words (issue 15, point 5).

Each page is rendered in report mode on the sample store with ``language="ko"``; every sentence,
table, chart title, axis, legend, hover text and form label is scanned for Latin-letter words.
Allowed, as in the browser check: KRW, CLV, RFM, AUC and customer IDs.
The browser check (tests/test_korean_browser.py) covers what only a browser shows; this one runs
without Chromium and names the offending text.
"""

from __future__ import annotations

import html
import re
from datetime import date

import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

from workbench.clv import ClvParams
from workbench.kpi import OverviewParams, ProductsParams
from workbench.reporting import CohortParams, RfmParams
from workbench.settings import Settings
from workbench.ui.clv import ClvPage
from workbench.ui.cohorts import CohortPage
from workbench.ui.overview import OverviewPage
from workbench.ui.products import ProductsPage
from workbench.ui.rfm import RfmPage

AS_OF = date(2026, 11, 16)
ALLOWED = {"KRW", "CLV", "RFM", "AUC", "ID"}
PAGES = {"overview": (OverviewPage, OverviewParams), "rfm": (RfmPage, RfmParams),
         "cohorts": (CohortPage, CohortParams), "clv": (ClvPage, ClvParams),
         "products": (ProductsPage, ProductsParams)}


def _figure_texts(fig: go.Figure) -> list[str]:
    layout = fig.layout
    texts = [layout.title.text or ""]
    texts += [a.text or "" for a in layout.annotations]
    for name in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        axis = getattr(layout, name, None)
        if axis is not None and axis.title is not None:
            texts.append(axis.title.text or "")
    for trace in fig.data:
        texts.append(getattr(trace, "name", None) or "")
        hover = getattr(trace, "hovertemplate", None)
        texts += [hover] if isinstance(hover, str) else list(hover or ())
        bar = getattr(trace, "colorbar", None)
        if bar is not None and bar.title is not None:
            texts.append(bar.title.text or "")
        for attr in ("x", "y", "labels", "text"):
            values = getattr(trace, attr, None)
            if values is None or isinstance(values, str):
                continue
            for v in values:
                texts += [t for t in (v if isinstance(v, (list, tuple)) else [v])
                          if isinstance(t, str)]
    return texts


def _widget_texts(w: widgets.Widget) -> list[str]:
    texts = [getattr(w, "description", "") or ""]
    texts += [str(label) for label in getattr(w, "_options_labels", ()) or ()]
    for child in getattr(w, "children", ()):
        texts += _widget_texts(child)
    return texts


def _english_words(text: str) -> list[str]:
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"%\{[^}]*\}|<[^>]+>", " ", text)  # Plotly placeholders, tags
    text = re.sub(r"\b[A-Z]+\d+\b", " ", text)  # customer IDs (C0001065)
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", html.unescape(text))
    return [w for w in words if w not in ALLOWED]


@pytest.mark.parametrize("name", list(PAGES))
def test_a_korean_page_has_no_english_words(sample_store, name):
    page_class, params_class = PAGES[name]
    settings = Settings(timezone="Asia/Seoul", currency="KRW", language="ko")
    page = page_class(params_class(as_of=AS_OF, store=str(sample_store), language="ko",
                                   mode="report"), settings=settings)
    page.compute()
    assert page.ok, page.error
    texts = [page.result.message, *_widget_texts(widgets.VBox(page.form()))]
    for part in page.static_parts():
        texts += [part] if isinstance(part, str) else _figure_texts(part)
    if hasattr(page.result, "definitions_in"):
        texts += [f"{k} {v}" for k, v in page.result.definitions_in("ko").items()]
    # product names are the shop's own ("비타C 립밤", "모던 디퓨저 200ml"), as in the browser check
    names = page.con.table("products").name.execute().dropna().tolist()
    texts = [_without(str(t), names) for t in texts]
    found = {w: t[:160] for t in texts for w in _english_words(t)}
    assert not found, found


def _without(text: str, names: list[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(html.escape(name, quote=True), " ").replace(name, " ")
    return text
