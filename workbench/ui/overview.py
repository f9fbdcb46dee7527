"""The KPI overview page: a form (period, as-of date), KPI tiles, charts, definitions, footer.

No analysis happens here: the page calls :func:`workbench.kpi.run_overview` and shows
``result.message`` for expected problems (see :class:`workbench.ui.page.Page`).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as widgets

from workbench.i18n import tr
from workbench.kpi import OverviewParams, OverviewResult, run_overview
from workbench.ui.common import tiles_html
from workbench.ui.page import Page, chart_outputs, html_box, show_figure

__all__ = ["OverviewPage", "show_overview"]

CHARTS = ("trend", "drivers", "second_order")


class OverviewPage(Page):
    """KPI overview for one store; ``display(page)`` shows it in the current mode."""

    def run(self) -> OverviewResult:
        """Run :func:`workbench.kpi.run_overview` for the page's parameters."""
        # Parts that do not depend on the period are reused between form changes (the page's
        # connection sees one version of the store for its whole life, so they stay valid).
        self._cache: dict = getattr(self, "_cache", {})
        return run_overview(self.con, self.params, settings=self.settings, cache=self._cache)

    def variants(self) -> list[dict[str, Any]]:
        """Return the other period (week or month)."""
        return [{"period": "M" if self.params.period == "W" else "W"}]

    def _figures(self) -> dict[str, Any]:
        r = self.result
        return {"trend": r.figure_trend, "drivers": r.figure_drivers,
                "second_order": r.figure_second_order}

    def _sources(self) -> dict[str, tuple]:
        # What each chart is drawn from: a chart whose sources are the very same objects as
        # last time (cached parts, kept alive here) is left as it is instead of being rebuilt
        # and resent to the browser.
        r = self.result
        return {"trend": (r.period_trend,), "drivers": (r.drivers, r.tiles),
                "second_order": (r.second_order_curve,)}

    def static_parts(self) -> list[Any]:
        """Return the tiles, the three charts and the definitions."""
        r = self.result
        return [tiles_html(r.tiles, currency=r.currency, language=self.language),
                *(make() for make in self._figures().values()), self._definitions_html()]

    def _definitions_html(self) -> str:
        if self.result is None:
            return ""
        items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                        for k, v in self.result.definitions_in(self.language).items())
        return (f"<details class='wb-definitions'><summary>"
                f"{tr('ui.definitions', language=self.language)}</summary><ul>{items}</ul>"
                "</details>")

    def form(self) -> list[widgets.Widget]:
        """Return the period toggle and the as-of date picker."""
        lang = self.language
        self.w_period = widgets.ToggleButtons(
            options=[(tr("ui.week", language=lang), "W"), (tr("ui.month", language=lang), "M")],
            value=self.params.period, description=tr("ui.period", language=lang),
            # Voila's ToggleButtons is a block: its buttons went to a line under their label
            layout={"display": "flex", "align_items": "baseline"})
        self.w_period.add_class("wb-period")
        self.w_as_of = self.date_picker()
        self.w_period.observe(self._on_change, names="value")
        self.w_as_of.observe(self._on_change, names="value")
        return [self.w_period, self.w_as_of]

    def body(self) -> list[widgets.Widget]:
        """Return the tiles, chart outputs and definitions (created once)."""
        if not hasattr(self, "w_tiles"):
            self.w_tiles = html_box("wb-kpi-tiles")
            self.w_charts = chart_outputs(CHARTS)
            self.w_definitions = widgets.HTML()
        return [self.w_tiles, *self.w_charts.values(), self.w_definitions]

    def render(self) -> None:
        """Fill the tiles, charts and definitions from the result."""
        r = self.result
        self.w_tiles.value = tiles_html(r.tiles, currency=r.currency, language=self.language)
        drawn = getattr(self, "_drawn", {})
        sources = self._sources()
        for name, make in self._figures().items():
            before = drawn.get(name)
            if before is None or any(a is not b for a, b in zip(before, sources[name],
                                                                  strict=True)):
                show_figure(self.w_charts[name], make())
        self._drawn = sources
        self.w_definitions.value = self._definitions_html()

    def clear(self) -> None:
        """Empty the body and forget what was drawn."""
        self._drawn = {}
        super().clear()

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(period=self.w_period.value, as_of=as_of)


def show_overview(params: OverviewParams) -> OverviewPage:
    """Return the overview page for ``params``; the notebook's last expression displays it."""
    return OverviewPage(params)
