"""The cohorts page: retention and revenue triangles, purchase cycles, who is due this week.

No analysis happens here: the page calls :func:`workbench.rfm.run_cohorts`.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as widgets

from workbench.i18n import format_number, tr
from workbench.rfm import CohortParams, CohortResult, run_cohorts
from workbench.ui.page import Page, chart_outputs, show_figure

__all__ = ["CohortPage", "due_html", "show_cohorts"]

CHARTS = ("retention", "revenue", "cycles")


def due_html(result: CohortResult, *, language: str) -> str:
    """Return who is due this week per category (or product), with the total that adds up.

    The rows count customer-key pairs; a customer due in two categories is in both rows, so the
    closing line states the pairs (the sum of the rows) and the different customers (the
    headline's number) together.
    """
    table = result.due_by_key(language)
    if table.empty:
        return ""
    level = tr(f"cohorts.level.{result.level}", language=language)
    items = "".join(
        f"<li data-key='{html.escape(r.key)}' data-value='{int(r.due)}'>"
        + html.escape(tr("cohorts.due.row", language=language, name=r.label,
                         customers=format_number(r.due, language=language))) + "</li>"
        for r in table.itertuples())
    customers, pairs = result.due_customers, result.due_pairs
    total = tr("cohorts.due.total" if pairs != customers else "cohorts.due.total_same",
               language=language, pairs=format_number(pairs, language=language),
               customers=format_number(customers, language=language), level=level,
               level_plural=tr(f"cohorts.level_plural.{result.level}", language=language))
    title = tr("cohorts.due.title", language=language, level=level)
    return (f"<div class='wb-due'><h3>{html.escape(title)}</h3><ul>{items}</ul>"
            f"<p class='wb-due-total' data-pairs='{pairs}' data-customers='{customers}'>"
            f"{html.escape(total)}</p></div>")


class CohortPage(Page):
    """Cohorts and purchase cycles for one store; ``display(page)`` shows it."""

    def run(self) -> CohortResult:
        """Run :func:`workbench.rfm.run_cohorts` for the page's parameters."""
        return run_cohorts(self.con, self.params, settings=self.settings)

    def variants(self) -> list[dict[str, Any]]:
        """Return the other cycle level and the channel split (the form's controls)."""
        p = self.params
        return [{"cycle_level": "product" if p.cycle_level == "category" else "category"},
                {"by_channel": not p.by_channel}]

    def _figures(self) -> dict[str, Any]:
        r = self.result
        return {"retention": r.figure_retention, "revenue": r.figure_revenue,
                "cycles": r.figure_cycles}

    def _due_html(self) -> str:
        return due_html(self.result, language=self.language)

    def static_parts(self) -> list[Any]:
        """Return the three charts and the due-this-week counts."""
        return [*(make() for make in self._figures().values()), self._due_html()]

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date, the cycle level and the channel split."""
        lang = self.language
        self.w_as_of = self.date_picker()
        self.w_level = widgets.ToggleButtons(
            options=[(tr("cohorts.level.category", language=lang), "category"),
                     (tr("cohorts.level.product", language=lang), "product")],
            value=self.params.cycle_level, description=tr("ui.level", language=lang),
            # Voila's ToggleButtons is a block: its buttons went to a line under their label
            layout={"display": "flex", "align_items": "baseline"})
        self.w_level.add_class("wb-cycle-level")
        self.w_channel = widgets.Checkbox(value=bool(self.params.by_channel),
                                          description=tr("ui.by_channel", language=lang))
        self.w_channel.add_class("wb-by-channel")
        for w in (self.w_as_of, self.w_level, self.w_channel):
            w.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_level, self.w_channel]

    def body(self) -> list[widgets.Widget]:
        """Return the chart outputs and the due list (created once)."""
        if not hasattr(self, "w_charts"):
            self.w_charts = chart_outputs(CHARTS)
            self.w_due = widgets.HTML()
        return [*self.w_charts.values(), self.w_due]

    def render(self) -> None:
        """Fill the charts and the due list from the result."""
        for name, make in self._figures().items():
            show_figure(self.w_charts[name], make())
        self.w_due.value = self._due_html()

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(as_of=as_of, cycle_level=self.w_level.value,
                        by_channel=bool(self.w_channel.value))


def show_cohorts(params: CohortParams) -> CohortPage:
    """Return the cohorts page for ``params``; the notebook's last expression displays it."""
    return CohortPage(params)
