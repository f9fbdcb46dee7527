"""The churn page: risk bands with actions, who to call first, why, and how good the model is.

It shows the risk distribution, the bands with the recommended action, the high-risk
high-value list (masked), reasons, the reliability curve and backtest metrics over time.

No analysis happens here: the page calls :func:`workbench.churn.run_churn` with ``fit=False``:
it scores with the saved model for the chosen definition (``churn`` for 90 days, saved by
``workbench refresh``, the weekly report or ``workbench churn train``) and shows the backtest
stored with it. A page load never trains: without a saved model the page says how to create
one.
"""

from __future__ import annotations

import html
import math
from datetime import date
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.churn import run_churn
from workbench.i18n import format_date, format_money, format_number, format_percent, tr
from workbench.ui.common import table_html
from workbench.ui.page import Page, chart_outputs, html_box, show_figure

__all__ = ["ChurnPage", "bands_html", "metrics_html", "show_churn", "watchlist_html"]

#: The horizons (days) the form offers, and each band rule's default cut-offs.
HORIZONS = (30, 60, 90, 180)
RULE_DEFAULTS = {"capacity": (0.1, 0.2), "precision": (0.9, 0.7)}
CHARTS = ("distribution", "watchlist", "reasons", "reliability", "backtest")


def bands_html(bands: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the band table (customers, expected churn, value, recommended action) as HTML."""
    head = [tr(f"churn.table.{c}", language=language)
            for c in ("band", "customers", "share", "mean_risk", "value", "action")]
    rows = [f"<tr data-band='{html.escape(str(r.band))}' data-customers='{int(r.customers)}'>"
            f"<td>{html.escape(str(r.label))}</td>"
            f"<td style='text-align:right'>{format_number(r.customers, language=language)}</td>"
            f"<td style='text-align:right'>{format_percent(r.share, language=language)}</td>"
            f"<td style='text-align:right'>{format_percent(r.mean_risk, language=language)}</td>"
            f"<td style='text-align:right'>{format_money(r.value, currency, language=language)}"
            f"</td><td>{html.escape(str(r.action))}</td></tr>" for r in bands.itertuples()]
    return table_html("wb-churn-bands", head, rows)


def watchlist_html(watch: pd.DataFrame, *, currency: str, language: str,
                   basis: str = "") -> str:
    """Return the list of the most value at risk (masked names and phones) as HTML.

    ``basis`` names the value (``churn.value_basis.<value_source>``) in the note on the order.
    """
    cols = ("customer_id", "name", "phone", "churn_risk", "value", "value_at_risk",
            "recency_days", "reasons")
    head = [tr(f"churn.table.{c}", language=language) for c in cols]
    rows = []
    for r in watch.itertuples():
        cells = [r.customer_id, r.name or "–", r.phone or "–",
                 format_percent(r.churn_risk, language=language),
                 format_money(r.value, currency, language=language),
                 format_money(r.value_at_risk, currency, language=language),
                 format_number(r.recency_days, language=language), r.reasons]
        rows.append("<tr class='wb-churn-customer'>" + "".join(
            f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    note = (f"<p class='wb-note wb-churn-watch-note'>"
            f"{html.escape(tr('churn.ui.watchlist_note', language=language, basis=basis))}</p>"
            if basis else "")
    return (f"<h3>{html.escape(tr('churn.ui.watchlist', language=language))}</h3>" + note
            + table_html("wb-churn-watchlist", head, rows))


def metrics_html(metrics: pd.DataFrame, *, language: str, note: str = "") -> str:
    """Return the backtest metrics (one row per cutoff and score) as HTML.

    ``note`` says which baselines are left out and why (:meth:`ChurnResult.backtest_note`).
    """
    if metrics.empty:
        text = html.escape(tr("churn.ui.no_backtest", language=language))
        return f"<p class='wb-note'>{text}</p>"
    cols = ("cutoff", "scorer", "roc_auc", "pr_auc", "brier", "ece", "lift_10", "capture_20")
    head = [tr(f"churn.table.{c}", language=language) for c in cols]
    rows = []
    for r in metrics.itertuples():
        def num(v: Any, digits: int = 3) -> str:
            return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else (
                format_number(float(v), digits=digits, language=language))
        cells = [str(r.cutoff), tr(f"churn.viz.scorer.{r.scorer}", language=language),
                 num(r.roc_auc), num(r.pr_auc), num(r.brier), num(r.ece), num(r.lift_10, 2),
                 format_percent(r.capture_20, language=language)]
        rows.append(f"<tr data-scorer='{html.escape(str(r.scorer))}' data-cutoff='{r.cutoff}' "
                    f"data-auc='{r.roc_auc}'>" + "".join(
                        f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    note_html = (f"<p class='wb-note wb-churn-below-chance'>{html.escape(note)}</p>"
                 if note else "")
    return (f"<h3>{html.escape(tr('churn.ui.metrics', language=language))}</h3>"
            + table_html("wb-churn-metrics", head, rows) + note_html)


def _watch_html(r: Any, language: str, rows: int | None = None) -> str:
    watch = r.watchlist_in(language)
    return watchlist_html(watch if rows is None else watch.head(rows), currency=r.currency,
                          language=language,
                          basis=tr(f"churn.value_basis.{r.value_source}", language=language))


def _metrics_html(r: Any, language: str) -> str:
    return metrics_html(r.backtest_shown, language=language, note=r.backtest_note(language))


def _day(value: Any, language: str) -> str:
    """Return a cut-off date from the model's metadata (ISO text) in the page's date form."""
    try:
        return format_date(date.fromisoformat(str(value)[:10]), language=language)
    except ValueError:
        return "–" if value in (None, "") else str(value)


class ChurnPage(Page):
    """Churn risk for one store; ``display(page)`` shows it in the current mode."""

    #: The snapshot's date by default: its values (CLV) are read, not fitted.
    prefers_snapshot = True

    def run(self) -> Any:
        """Run :func:`workbench.churn.run_churn` with the saved model, never training one."""
        return run_churn(self.con, self.params, settings=self.settings, fit=False)

    def variants(self) -> list[dict[str, Any]]:
        """Return the other band rule (with its cut-offs) and each other horizon."""
        p = self.params
        out: list[dict[str, Any]] = [
            {"band_rule": rule, "band_high": high, "band_medium": medium}
            for rule, (high, medium) in RULE_DEFAULTS.items() if rule != p.band_rule]
        return out + [{"horizon_days": h, "model": ""} for h in HORIZONS
                      if h != int(p.horizon_days)]

    def _figures(self) -> dict[str, Any]:
        r = self.result
        figures = {"distribution": r.figure_distribution, "watchlist": r.figure_watchlist,
                   "reasons": r.figure_reasons}
        if not r.backtest.empty:
            figures.update(reliability=r.figure_reliability, backtest=r.figure_backtest)
        return figures

    def _intro(self) -> str:
        r = self.result
        info = r.model_info
        text = tr("churn.ui.model_info", language=self.language,
                  train=", ".join(_day(d, self.language) for d in info.get(
                      "training_cutoffs", [])),
                  cal=_day(info.get("calibration_cutoff"), self.language),
                  features=len(info.get("features", [])))
        return (f"<p class='wb-churn-definition'>{html.escape(r.definition_text)}</p>"
                f"<p class='wb-churn-model'>{html.escape(text)}</p>")

    def static_parts(self) -> list[Any]:
        """Return the definition, band table, charts, masked list and backtest metrics."""
        r = self.result
        parts: list[Any] = [self._intro(), bands_html(r.bands, currency=r.currency,
                                                      language=self.language)]
        figures = self._figures()
        parts += [figures[n]() for n in ("distribution", "watchlist", "reasons")]
        parts.append(_watch_html(r, self.language, rows=20))
        parts += [figures[n]() for n in ("reliability", "backtest") if n in figures]
        parts.append(_metrics_html(r, self.language))
        return parts

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date, the horizon and the band rule."""
        lang = self.language
        self.w_as_of = self.date_picker()
        self.w_horizon = widgets.Dropdown(options=list(HORIZONS),
                                          value=int(self.params.horizon_days)
                                          if int(self.params.horizon_days) in HORIZONS
                                          else 90,
                                          description=tr("churn.ui.horizon", language=lang),
                                          # "Horizon (days)" is wider than the 80 px default
                                          style={"description_width": "initial"},
                                          layout={"width": "max-content"})
        self.w_horizon.add_class("wb-churn-horizon")
        self.w_rule = widgets.ToggleButtons(options=[(tr(f"churn.ui.rule.{k}", language=lang), k)
                                                     for k in ("capacity", "precision")],
                                            value=self.params.band_rule,
                                            description=tr("churn.ui.band_rule", language=lang),
                                            # Voila's ToggleButtons is a block: its buttons
                                            # went to a line under their label
                                            style={"description_width": "initial",
                                                   "button_width": "max-content"},
                                            layout={"width": "max-content", "display": "flex",
                                                    "align_items": "baseline"})
        self.w_rule.add_class("wb-churn-rule")
        for w in (self.w_as_of, self.w_horizon, self.w_rule):
            w.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_horizon, self.w_rule]

    def body(self) -> list[widgets.Widget]:
        """Return the widgets below the headline (created once)."""
        if not hasattr(self, "w_charts"):
            self.w_intro = widgets.HTML()
            self.w_bands = html_box("wb-churn-bands-table")
            self.w_watch = html_box("wb-churn-watch")
            self.w_metrics = html_box("wb-churn-metrics-table")
            self.w_charts = chart_outputs(CHARTS)
        c = self.w_charts
        return [self.w_intro, self.w_bands, c["distribution"], c["watchlist"], self.w_watch,
                c["reasons"], c["reliability"], c["backtest"], self.w_metrics]

    def render(self) -> None:
        """Fill the tables and charts from the result."""
        r = self.result
        self.w_intro.value = self._intro()
        self.w_bands.value = bands_html(r.bands, currency=r.currency, language=self.language)
        self.w_watch.value = _watch_html(r, self.language)
        self.w_metrics.value = _metrics_html(r, self.language)
        figures = self._figures()
        for name in CHARTS:
            show_figure(self.w_charts[name], figures[name]() if name in figures else None)

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if not isinstance(as_of, date):
            return
        changes: dict[str, Any] = {"as_of": as_of, "horizon_days": int(self.w_horizon.value),
                                   "band_rule": self.w_rule.value}
        if changes["band_rule"] != self.params.band_rule:
            high, medium = RULE_DEFAULTS[changes["band_rule"]]
            changes.update(band_high=high, band_medium=medium)
        if changes["horizon_days"] != int(self.params.horizon_days):
            changes["model"] = ""  # a saved model is for its own definition
        self.update(**changes)


def show_churn(params: Any) -> ChurnPage:
    """Return the churn page for ``params``; the notebook's last expression displays it."""
    return ChurnPage(params)
