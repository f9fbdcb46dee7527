"""The KPI overview page: a form (period, as-of date), KPI tiles, charts, definitions, footer.

One class serves the three modes. In JupyterLab and Voila it is an ipywidgets page whose form
recomputes everything below it; in a papermill report it displays static HTML and plain Plotly
figures (widgets do not survive the HTML export). No analysis happens here: the page calls
:func:`workbench.kpi.run_overview` and shows ``result.message`` for expected problems.
"""

from __future__ import annotations

import html
import time
from datetime import date, timedelta

import ipywidgets as widgets
from IPython.display import HTML, display

from workbench.clock import this_week
from workbench.data import connect
from workbench.errors import StoreError
from workbench.i18n import get_language, tr
from workbench.reporting.params import OverviewParams
from workbench.reporting.run import record_headline
from workbench.results import Status
from workbench.settings import Settings, load_settings
from workbench.ui.common import detect_mode, footer_html, message_html, tiles_html

__all__ = ["OverviewPage", "show_overview"]


class OverviewPage:
    """KPI overview for one store; ``display(page)`` shows it in the current mode."""

    def __init__(self, params: OverviewParams, *, settings: Settings | None = None) -> None:
        self.settings = (settings or load_settings()).replace(language=params.language)
        self.language = params.language or self.settings.language or get_language()
        self.params = params.replace(language=self.language)
        self.mode = detect_mode(params.mode)
        self.result = None
        self.error: str | None = None
        self.note: str | None = None
        self._open()
        if self.params.as_of is None:
            self.params = self.params.replace(as_of=self._default_as_of())

    def _last_order_day(self) -> date | None:
        if self.con is None or "orders" not in self.con.list_tables():
            return None
        last = self.con.table("orders").ordered_at.max().execute()
        if last is None or last != last:  # None or NaT
            return None
        if hasattr(last, "tz_convert") and last.tzinfo is not None:
            last = last.tz_convert(self.settings.timezone)
        return last.date()

    def _default_as_of(self) -> date:
        """Monday of this week; in a page, the week after the data ends when the data is older.

        A manager opening a dashboard on a store whose export is a few weeks old should see the
        last week that has orders, with a note saying so, not an empty page. Reports keep the
        calendar default (a scheduled report for an empty week must say it is empty).
        """
        week = this_week(self.settings)
        if self.mode == "report":
            return week
        last = self._last_order_day()
        if last is None or last >= week - timedelta(days=7):
            return week
        as_of = last - timedelta(days=last.weekday()) + timedelta(days=7)
        self.note = tr("ui.stale_default", language=self.language, data_until=str(last),
                       as_of=str(as_of))
        return as_of

    def _open(self) -> None:
        try:
            self.con = connect(self.params.store, settings=self.settings)
        except StoreError as exc:
            if self.mode == "report":
                raise
            self.con, self.error = None, tr("ui.no_store", language=self.language, detail=str(exc))

    def compute(self) -> None:
        """Run the analysis for the current parameters (keeps a readable error for the page)."""
        from workbench.kpi import run_overview

        if self.con is None:
            return
        try:
            self.result = run_overview(self.con, self.params, settings=self.settings)
            self.error = None
        except Exception as exc:  # the page shows a banner instead of Voila's blank cell
            if self.mode == "report":
                raise
            self.result = None
            self.error = tr("ui.failed", language=self.language, kind=type(exc).__name__,
                            detail=str(exc))

    # ------------------------------------------------------------------ static (report) mode
    def _ipython_display_(self) -> None:
        if self.mode == "report":
            self.compute()
            self._display_static()
        else:
            display(self.widget())

    def _display_static(self) -> None:
        r = self.result
        level = "info" if r.status == Status.OK else "warning"
        display(HTML(f"<h2>{html.escape(r.message)}</h2>" if r.status == Status.OK
                     else message_html(r.message, level=level)))
        if r.status == Status.OK:
            display(HTML(tiles_html(r.tiles, currency=r.currency, language=self.language)))
            for fig in (r.figure_trend(), r.figure_drivers(), r.figure_second_order()):
                display(fig)
            record_headline(r.headline())
        display(HTML(self._definitions_html()))

    def _definitions_html(self) -> str:
        if self.result is None:
            return ""
        items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"
                        for k, v in self.result.definitions.items())
        return (f"<details class='wb-definitions'><summary>"
                f"{tr('ui.definitions', language=self.language)}</summary><ul>{items}</ul>"
                "</details>")

    # ------------------------------------------------------------------ widget mode
    def widget(self) -> widgets.Widget:
        """Build the interactive page (form on top, everything below follows it)."""
        lang = self.language
        self.w_period = widgets.ToggleButtons(
            options=[(tr("ui.week", language=lang), "W"), (tr("ui.month", language=lang), "M")],
            value=self.params.period, description=tr("ui.period", language=lang))
        self.w_period.add_class("wb-period")
        self.w_as_of = widgets.DatePicker(value=self.params.as_of,
                                          description=tr("ui.as_of", language=lang))
        self.w_as_of.add_class("wb-as-of")
        self.w_status = widgets.HTML()
        self.w_status.add_class("wb-status")
        self.w_note = widgets.HTML(message_html(self.note, level="info") if self.note else "")
        self.w_note.add_class("wb-note")
        self.w_message = widgets.HTML()
        self.w_message.add_class("wb-headline")
        self.w_tiles = widgets.HTML()
        self.w_tiles.add_class("wb-kpi-tiles")
        self.w_charts = {name: widgets.Output() for name in ("trend", "drivers", "second_order")}
        for name, out in self.w_charts.items():
            out.add_class(f"wb-chart-{name.replace('_', '-')}")
        self.w_definitions = widgets.HTML()
        self.w_footer = widgets.HTML()
        self.w_period.observe(self._on_change, names="value")
        self.w_as_of.observe(self._on_change, names="value")
        self._refresh_view()
        page = widgets.VBox([widgets.HBox([self.w_period, self.w_as_of]), self.w_note,
                             self.w_status,
                             self.w_message, self.w_tiles, *self.w_charts.values(),
                             self.w_definitions, self.w_footer])
        page.add_class("wb-overview")
        return page

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if not isinstance(as_of, date):
            return
        if as_of != self.params.as_of:
            self.w_note.value = ""
        self.params = self.params.replace(period=self.w_period.value, as_of=as_of)
        self._refresh_view()

    def _refresh_view(self) -> None:
        self.w_status.value = message_html(tr("ui.loading", language=self.language))
        started = time.perf_counter()
        self.compute()
        r = self.result
        if r is None or r.status != Status.OK:
            text = self.error or (r.message if r is not None else "")
            self.w_message.value = message_html(text, level="warning")
            self.w_tiles.value = ""
            for out in self.w_charts.values():
                out.clear_output()
        else:
            self.w_message.value = f"<h2 class='wb-title'>{html.escape(r.message)}</h2>"
            self.w_tiles.value = tiles_html(r.tiles, currency=r.currency, language=self.language)
            figures = {"trend": r.figure_trend, "drivers": r.figure_drivers,
                       "second_order": r.figure_second_order}
            for name, out in self.w_charts.items():
                out.clear_output(wait=True)
                with out:
                    display(figures[name]())
        self.w_definitions.value = self._definitions_html()
        self.w_footer.value = self._footer()
        self.w_status.value = (f"<span class='wb-done' data-seconds='"
                               f"{time.perf_counter() - started:.3f}'></span>")

    def _footer(self) -> str:
        from workbench.snapshot import read_snapshot_meta

        if self.con is None:
            return ""
        orders = self.con.table("orders")
        until = orders.ordered_at.max().execute()
        if until is not None and hasattr(until, "tz_convert"):
            until = until.tz_convert(self.settings.timezone)
        return footer_html(data_until=until, snapshot=read_snapshot_meta(self.con),
                           language=self.language)


def show_overview(params: OverviewParams) -> OverviewPage:
    """Return the overview page for ``params``; the notebook's last expression displays it."""
    return OverviewPage(params)
