"""The frame every analysis page shares: settings, the store, the default date, the three modes.

A page is built from a notebook's ``*Params``. In JupyterLab and Voila it is an ipywidgets page
(a form on top; everything below follows it); in a papermill report it displays static HTML and
plain Plotly figures, because widgets do not survive the HTML export. Subclasses say how to run
their analysis (:meth:`Page.run`), which form controls they have and how to draw a result; the
frame handles opening the store, readable messages instead of Voila's blank error cell, the
"computing" marker tests and benchmarks wait for, and the provenance footer.
"""

from __future__ import annotations

import html
import os
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as widgets
from IPython.display import HTML, display

from workbench.clock import this_week
from workbench.data import connect
from workbench.data.serving import read_serving_meta, served_from_html
from workbench.data.snapshot import read_snapshot_meta, snapshot_as_of
from workbench.data.store import store_path
from workbench.dates import local_instant
from workbench.errors import StoreError, WorkbenchError
from workbench.i18n import format_date, get_language, tr, using_language
from workbench.results import Status
from workbench.settings import LANGUAGES, Settings, load_settings
from workbench.ui import cache
from workbench.ui.common import detect_mode, footer_html, message_html

__all__ = ["Page", "chart_outputs", "error_text", "html_box", "show_figure", "url_language"]


def html_box(css_class: str | None = None) -> widgets.HTML:
    """Return an empty HTML widget carrying ``css_class`` (the handle tests and styles use)."""
    box = widgets.HTML()
    if css_class:
        box.add_class(css_class)
    return box


def chart_outputs(names: tuple[str, ...]) -> dict[str, widgets.Output]:
    """Return an output per chart name, each with the class ``wb-chart-<name>`` (``_`` as ``-``)."""
    outputs = {name: widgets.Output() for name in names}
    for name, out in outputs.items():
        out.add_class(f"wb-chart-{name.replace('_', '-')}")
    return outputs


def show_figure(out: widgets.Output, figure: Any) -> None:
    """Replace an Output widget's content with a Plotly figure (or clear it for ``None``).

    In a ``workbench dashboard`` page (``$WORKBENCH_PLOTLY_IN_PAGE``, set by its server) the
    figure goes as HTML drawn by the page's plotly.js (:func:`workbench.viz.embed.figure_html`);
    elsewhere (JupyterLab, plain Voila) as Plotly's mime bundle.
    """
    out.clear_output(wait=True)
    if figure is not None:
        with out:
            if os.environ.get("WORKBENCH_PLOTLY_IN_PAGE") and hasattr(figure, "to_plotly_json"):
                # here: plotly.io costs 0.19 s, which importing workbench.ui.page (any notebook)
                # would pay without drawing a chart
                from workbench.viz.embed import figure_html

                display(HTML(figure_html(figure)))
            else:
                display(figure)


class Page:
    """Base class of analysis pages; ``display(page)`` shows it in the current mode."""

    #: Default to the latest snapshot's date when the notebook gives none (pages that read the
    #: snapshot open fastest on its date).
    prefers_snapshot: bool = False
    #: The page's key in ``pages.toml`` (``pages.<name>.title`` and ``.purpose``); empty: the
    #: name of the subclass's module (``workbench.ui.rfm`` -> ``rfm``).
    name: str = ""
    #: Results are kept in the store's page cache (:mod:`workbench.ui.cache`); ``False`` for a
    #: page whose result depends on more than its parameters (the audience builder's form).
    cacheable: bool = True

    def __init__(self, params: Any, *, settings: Settings | None = None) -> None:
        language = params.language or url_language()
        self.settings = (settings or load_settings()).replace(language=language)
        self.language = language or self.settings.language or get_language()
        self.params = params.replace(language=self.language)
        self.mode = detect_mode(params.mode)
        self.result: Any = None
        self.error: str | None = None
        self.note: str | None = None
        self._open()
        if self.params.as_of is None:
            self.params = self.params.replace(as_of=self._default_as_of())

    # ------------------------------------------------------------------ store and dates
    def _open(self) -> None:
        try:
            self.con = connect(self.params.store, settings=self.settings)
        except StoreError as exc:
            if self.mode == "report":
                raise
            self.con, self.error = None, tr("ui.no_store", language=self.language, detail=str(exc))

    def _last_order_day(self) -> date | None:
        if self.con is None or "orders" not in self.con.list_tables():
            return None
        last = self.con.table("orders").ordered_at.max().execute()
        if last is None or last != last:  # None or NaT
            return None
        # A naive value (a backend's timestamp without zone) is UTC: local_instant says so.
        return local_instant(last, self.settings.timezone).date()

    def snapshot_meta(self) -> dict | None:
        """Return the latest snapshot's metadata, or ``None`` (no store or never refreshed)."""
        return None if self.con is None else read_snapshot_meta(self.con)

    def _default_as_of(self) -> date:
        """Monday of this week; in a page, the week after the data ends when the data is older.

        A manager opening a dashboard on a store whose export is a few weeks old should see the
        last week that has orders, with a note saying so, not an empty page. Reports keep the
        calendar default (a scheduled report for an empty week must say it is empty). Pages
        that read the snapshot default to its date.
        """
        week = this_week(self.settings)
        if self.mode == "report":
            return week
        if self.prefers_snapshot:
            as_of = None if self.con is None else snapshot_as_of(self.con)
            if as_of is not None:
                return as_of
        last = self._last_order_day()
        if last is None or last >= week - timedelta(days=7):
            return week
        as_of = last - timedelta(days=last.weekday()) + timedelta(days=7)
        self.note = tr("ui.stale_default", language=self.language,
                       data_until=format_date(last, language=self.language),
                       as_of=format_date(as_of, language=self.language))
        return as_of

    # ------------------------------------------------------------------ title
    @classmethod
    def page_name(cls) -> str:
        """Return the page's catalogue key: :attr:`name`, else its module's last part."""
        return cls.name or cls.__module__.rsplit(".", 1)[-1]

    def title(self) -> str:
        """Return the page's title in the page's language (``pages.<name>.title``)."""
        return tr(f"pages.{self.page_name()}.title", language=self.language)

    def purpose(self) -> str:
        """Return the page's one-line purpose in the page's language."""
        return tr(f"pages.{self.page_name()}.purpose", language=self.language)

    def header_html(self) -> str:
        """Return the title and purpose shown at the top of the page, dashboard and report.

        Empty for a page without catalogue entries (a test's stand-in page); every page the
        package ships has both (checked by tests/test_ui_page.py).
        """
        try:
            title, purpose = self.title(), self.purpose()
        except KeyError:
            return ""
        return (_KEEP_WORDS + f"<h1 class='wb-page-title' style='margin:4px 0 2px;font-size:1.6em;"
                f"word-break:keep-all'>{html.escape(title)}</h1>"
                f"<p class='wb-page-purpose' style='margin:0 0 10px;color:#444;"
                f"word-break:keep-all'>{html.escape(purpose)}</p>"
                # a Spark store's copy says which lake version it shows (empty otherwise)
                + served_from_html(None if self.con is None else read_serving_meta(self.con),
                                   language=self.language, timezone=self.settings.timezone))

    # ------------------------------------------------------------------ analysis
    def run(self) -> Any:  # pragma: no cover - every page overrides it
        """Run the analysis for ``self.params`` and return its result object."""
        raise NotImplementedError

    def compute(self) -> None:
        """Run the analysis for the current parameters (keeps a readable error for the page)."""
        if self.con is None:
            return
        try:
            # errors the library raises are worded in the page's language, not the process's
            with using_language(self.language):
                self.result = self._cached_run()
            self.error = None
        except Exception as exc:  # the page shows a banner instead of Voila's blank cell
            if self.mode == "report":
                raise
            self.result = None
            self.error = error_text(exc, self.language)

    def _cached_run(self) -> Any:
        """Return the cached result for the parameters, else run the analysis and keep it."""
        if not (self.cacheable and cache.enabled()):
            return self.run()
        store = store_path(self.params.store or None, self.settings)
        entry = cache.result_key(self.page_name(), self.params, self.settings, store)
        result = cache.load(store, entry)
        if result is None:
            result = self.run()
            cache.save(store, entry, result)
        return result

    def variants(self) -> list[dict[str, Any]]:
        """Return the parameter changes the form offers from the current parameters.

        :func:`workbench.ui.cache.warm` computes each of them at ``workbench refresh`` so that
        a form change reads a kept result. Default: none.
        """
        return []

    @property
    def ok(self) -> bool:
        """True when the last computation produced a result with data."""
        return self.result is not None and self.result.status == Status.OK

    # ------------------------------------------------------------------ report mode
    def _ipython_display_(self) -> None:
        if self.mode == "report":
            display(HTML(self.header_html()))  # here, not in display_static: pages override it
            self.compute()
            self.display_static()
        else:
            display(self.widget())

    def display_static(self) -> None:
        """Show the result as static HTML and figures (papermill reports)."""
        # Only reports record headlines; importing the report runner with the page would add
        # 0.13-0.18 s to every dashboard's start (three runs after workbench.ui.rfm, 2 cores).
        from workbench.reporting.run import record_headline

        r = self.result
        if r.status == Status.OK:
            display(HTML(f"<h2>{html.escape(r.message)}</h2>"))
            for part in self.static_parts():
                display(HTML(part) if isinstance(part, str) else part)
            record_headline(r.headline())
        else:
            display(HTML(message_html(r.message, level="warning")))

    def static_parts(self) -> list[Any]:  # pragma: no cover - every page overrides it
        """Return HTML strings and figures shown below the headline in a report."""
        raise NotImplementedError

    # ------------------------------------------------------------------ widget mode
    def date_picker(self) -> widgets.DatePicker:
        """Return the as-of date picker (class ``wb-as-of``) bound to a full recompute."""
        picker = widgets.DatePicker(value=self.params.as_of,
                                    description=tr("ui.as_of", language=self.language))
        picker.add_class("wb-as-of")
        return picker

    def form(self) -> list[widgets.Widget]:  # pragma: no cover - every page overrides it
        """Return the form controls shown on top of the page."""
        raise NotImplementedError

    def body(self) -> list[widgets.Widget]:  # pragma: no cover - every page overrides it
        """Return the widgets below the headline; :meth:`render` fills them."""
        raise NotImplementedError

    def render(self) -> None:  # pragma: no cover - every page overrides it
        """Fill the body widgets from ``self.result`` (called only when :attr:`ok`)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Empty the body widgets (no data, or an error)."""
        for w in self.body():
            if isinstance(w, widgets.Output):
                w.clear_output()
            elif isinstance(w, widgets.HTML):
                w.value = ""

    def widget(self) -> widgets.Widget:
        """Build the interactive page (form on top, everything below follows it)."""
        self.w_note = widgets.HTML(message_html(self.note, level="info") if self.note else "")
        self.w_note.add_class("wb-note")
        self.w_status = html_box("wb-status")
        self.w_message = html_box("wb-headline")
        self.w_footer = widgets.HTML()
        self.w_header = html_box("wb-page-header")
        self.w_header.value = self.header_html()
        controls = self.form()
        body = self.body()
        self.refresh_view()
        page = widgets.VBox([self.w_header, widgets.HBox(controls), self.w_note, self.w_status,
                             self.w_message, *body, self.w_footer])
        page.add_class(f"wb-page-{type(self).__name__.lower()}")
        return page

    def update(self, **changes: Any) -> None:
        """Change parameters from the form and recompute (an as-of change drops the note)."""
        if "as_of" in changes and changes["as_of"] != self.params.as_of:
            self.w_note.value = ""
        self.params = self.params.replace(**changes)
        self.refresh_view()

    def refresh_view(self) -> None:
        """Recompute and redraw; marks the end with ``.wb-done[data-seconds]``."""
        self.w_status.value = message_html(tr("ui.loading", language=self.language))
        started = time.perf_counter()
        self.compute()
        if not self.ok:
            text = self.error or (self.result.message if self.result is not None else "")
            self.w_message.value = message_html(text, level="warning")
            self.clear()
        else:
            self.w_message.value = (f"<h2 class='wb-title'>{html.escape(self.result.message)}"
                                    "</h2>")
            self.render()
        self.w_footer.value = self.footer()
        self.mark_done(started)

    def mark_done(self, started: float) -> None:
        """Replace the "computing" banner with an invisible marker carrying the seconds taken."""
        self.w_status.value = (f"<span class='wb-done' data-seconds='"
                               f"{time.perf_counter() - started:.3f}'></span>")

    def footer(self) -> str:
        """Return the provenance footer: data up to, snapshot, version.

        Kept for the store file's version: a form change does not query the store again for
        it (0.1-0.3 s on a loaded machine), a load or refresh does.
        """
        if self.con is None:
            return ""
        version = cache.store_version(store_path(self.params.store or None, self.settings))
        kept = getattr(self, "_footer", None)
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        until = self.con.table("orders").ordered_at.max().execute() if (
            "orders" in self.con.list_tables()) else None
        if until is not None and until == until:  # not None or NaT
            until = local_instant(until, self.settings.timezone)
        text = footer_html(data_until=until, snapshot=self.snapshot_meta(),
                           language=self.language, timezone=self.settings.timezone)
        self._footer = (version, text)
        return text


#: Korean lines break between words, never inside one ("그\n룹"); shipped with every header.
_KEEP_WORDS = ("<style>.widget-html-content, .widget-html-content *, .jp-RenderedHTMLCommon, "
               ".jp-RenderedHTMLCommon * {word-break: keep-all; overflow-wrap: break-word}"
               "</style>")


def url_language() -> str | None:
    """Return the language asked for in a dashboard's address (``...ipynb?language=ko``).

    Voila hands the request's query string to the page's kernel as ``$QUERY_STRING``; a page
    whose notebook gives no language follows it, so one server shows a page in either
    language. Anything but ``en`` or ``ko`` is ignored (the settings' language applies).
    """
    values = parse_qs(os.environ.get("QUERY_STRING", "")).get("language", [])
    return values[-1] if values and values[-1] in LANGUAGES else None


def error_text(exc: BaseException, language: str) -> str:
    """Return what a page says about a failure, in the page's language.

    An error the user can act on (the store, a parameter, a file) is its own sentence; an
    unexpected one shows its kind and detail.
    """
    if isinstance(exc, WorkbenchError):
        return tr("ui.failed_known", language=language, detail=str(exc))
    return tr("ui.failed", language=language, kind=type(exc).__name__, detail=str(exc))
