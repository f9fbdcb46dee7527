"""The CLV page: value bands, segments, top customers, F/R matrices and the holdout check.

It shows the value distribution and bands, value by RFM segment, the top customers (masked),
the frequency/recency matrices, the holdout check and a plain-language model-quality summary.

No analysis happens here: the page calls :func:`workbench.clv.run_clv` and draws its result.
"""

from __future__ import annotations

import html
from datetime import date
from functools import partial
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench.clv import run_clv
from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.ui.clv_channels import channel_section_html
from workbench.ui.common import message_html, table_html
from workbench.ui.page import Page, chart_outputs, html_box, show_figure

__all__ = ["ClvPage", "bands_html", "parameters_html", "readable_number", "show_clv",
           "top_customers_html"]

#: The horizons (months) and purchase models the form offers.
HORIZONS = (3, 6, 12, 24, 36)
MODELS = ("bgnbd", "pareto_nbd")
CHARTS = ("distribution", "segments", "matrix_purchases", "matrix_alive", "tracking",
          "by_frequency", "next_order", "reliability", "ranges", "store_ranges")


def bands_html(bands: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the value-band table (customers, share, total and mean CLV) as HTML."""
    head = [tr(f"clv.ui.table.{c}", language=language) for c in (
        "band", "customers", "share", "clv_total", "clv_share", "clv_mean")]
    rows = []
    for r in bands.itertuples():
        cells = [tr(f"clv.band.{r.band}", language=language),
                 format_number(r.customers, language=language),
                 format_percent(r.share, language=language),
                 format_money(r.clv_total, currency, language=language),
                 format_percent(r.clv_share, language=language),
                 "–" if pd.isna(r.clv_mean) else format_money(r.clv_mean, currency,
                                                               language=language)]
        rows.append(f"<tr data-band='{r.band}' data-customers='{int(r.customers)}'>" + "".join(
            f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return table_html("wb-clv-bands", head, rows)


def top_customers_html(top: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the top customers by CLV (masked names and phones) as HTML."""
    head = [tr(f"clv.ui.table.{c}", language=language) for c in (
        "customer_id", "name", "phone", "p_alive", "expected_purchases_90d",
        "expected_spend", "clv")]
    ranged = _ranged(top)
    if ranged:  # the 80% range of the value (workbench.clv.intervals)
        head.append(tr("clv.intervals.ui.range", language=language))
    rows = []
    for r in top.itertuples():
        cells = [r.customer_id, r.name if isinstance(r.name, str) else "–",
                 r.phone if isinstance(r.phone, str) else "–",
                 format_percent(r.p_alive, language=language),
                 format_number(r.expected_purchases_90d, digits=1, language=language),
                 format_money(r.expected_spend, currency, language=language),
                 format_money(r.clv, currency, language=language)]
        if ranged:
            cells.append("–" if pd.isna(r.clv_low) else
                         f"{format_money(r.clv_low, currency, language=language)} – "
                         f"{format_money(r.clv_high, currency, language=language)}")
        rows.append("<tr class='wb-top-customer'>" + "".join(
            f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    note = (f"<p class='wb-clv-range-note'>"
            f"{html.escape(tr('clv.intervals.ui.note', language=language))}</p>"
            if ranged else "")
    return table_html("wb-clv-top", head, rows) + note


def readable_number(value: object, *, language: str) -> str:
    """Return a parameter value for people: grouped digits, about three significant ones.

    No scientific notation (a manager read ``5.235e+04`` as a typo): 52,350 rather than
    5.235e+04, 0.231 rather than 2.309e-01. Values too small or too large to matter show as
    ``< 0.0001`` and ``> 10,000,000`` (a parameter there has run to the edge of its range: the
    data cannot pin it down), infinite ones as ``∞`` and missing ones as a dash.

    Examples
    --------
    >>> [readable_number(v, language="en") for v in (52348.7, 36.607, 6.1969, 0.2308694, 4e-14)]
    ['52,349', '36.6', '6.20', '0.231', '< 0.0001']
    >>> readable_number(5.2e10, language="ko")
    '> 10,000,000'
    >>> readable_number(float("inf"), language="en"), readable_number(None, language="en")
    ('∞', '–')
    """
    if value is None or pd.isna(value):
        return "–"
    x = float(value)
    if np.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) > 1e7:
        return ("> " if x > 0 else "< -") + format_number(1e7, language=language)
    if x == 0 or abs(x) >= 100:
        return format_number(x, language=language)
    if abs(x) < 1e-4:
        return "< " + format_number(1e-4, digits=4, language=language)
    digits = max(0, 2 - int(np.floor(np.log10(abs(x)))))  # three significant digits
    return format_number(x, digits=digits, language=language)


def parameters_html(parameters: pd.DataFrame, *, language: str) -> str:
    """Return the fitted parameters with standard errors and 95% intervals as HTML."""
    head = [tr(f"clv.ui.table.{c}", language=language) for c in (
        "model", "parameter", "estimate", "standard_error", "interval")]
    rows = []
    for r in parameters.itertuples():
        name = str(r.model)
        base = name.removesuffix("_calibration")
        label = tr(f"clv.model.{base}", language=language) + (
            " " + tr("clv.ui.calibration", language=language) if base != name else "")
        finite = pd.notna(r.standard_error) and np.isfinite(r.standard_error)
        number = partial(readable_number, language=language)
        # the papers' symbol with what it shapes (clv.parameter.<name>); Korean names only
        cells = [label, tr(f"clv.parameter.{r.parameter}", language=language),
                 number(r.estimate),
                 number(r.standard_error) if finite else "–",
                 f"{number(r.lower)} – {number(r.upper)}" if finite else "–"]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                    + "</tr>")
    return table_html("wb-clv-parameters", head, rows)


def _ranged(top: pd.DataFrame) -> bool:
    """Whether the top list has value ranges (BG/NBD; none for Pareto/NBD)."""
    return "clv_low" in top.columns and bool(top["clv_low"].notna().any())


def _quality_html(text: str) -> str:
    return f"<p class='wb-clv-quality'>{html.escape(text)}</p>" if text else ""


class ClvPage(Page):
    """Customer lifetime value for one store; ``display(page)`` shows it in the current mode."""

    prefers_snapshot = True

    def run(self) -> Any:
        """Run :func:`workbench.clv.run_clv` for the page's parameters."""
        return run_clv(self.con, self.params, settings=self.settings)

    def variants(self) -> list[dict[str, Any]]:
        """Return each other horizon and the other model the form offers."""
        p = self.params
        return ([{"horizon_months": m} for m in HORIZONS if m != p.horizon_months]
                + [{"model": m} for m in MODELS if m != p.model])

    def _figures(self) -> dict[str, Any]:
        r = self.result
        return {"distribution": r.figure_distribution, "segments": r.figure_segments,
                "matrix_purchases": lambda: r.figure_matrix("expected_purchases_90d"),
                "matrix_alive": lambda: r.figure_matrix("p_alive"),
                "tracking": r.figure_tracking, "by_frequency": r.figure_by_frequency,
                "next_order": r.figure_next_order, "reliability": r.figure_reliability,
                "ranges": lambda: r.figure_ranges() if _ranged(r.top_customers) else None,
                "store_ranges": r.figure_store_ranges}

    def _heading(self, key: str) -> str:
        return f"<h3>{html.escape(tr(key, language=self.language))}</h3>"

    def static_parts(self) -> list[Any]:
        """Return the quality summary, tables and charts shown in a report."""
        r, lang = self.result, self.language
        figures = self._figures()
        parts: list[Any] = [_quality_html(r.quality_in(lang)),
                            bands_html(r.bands, currency=r.currency, language=lang),
                            figures["distribution"](),
                            *[f for f in (figures["store_ranges"](),) if f is not None],
                            figures["segments"](),
                            self._heading("clv.ui.top"),
                            top_customers_html(r.top_customers, currency=r.currency,
                                               language=lang),
                            *[f for f in (figures["ranges"](),) if f is not None],
                            figures["matrix_purchases"](), figures["matrix_alive"]()]
        next_order = [f for f in (figures["next_order"](), figures["reliability"]())
                      if f is not None]
        if next_order:
            parts += [self._heading("next_order.ui.heading"), *next_order]
        if not r.tracking.empty:
            parts += [self._heading("clv.ui.check"), figures["tracking"](),
                      figures["by_frequency"]()]
        channels = getattr(r, "by_channel", None)
        if channels is not None:
            parts += [channel_section_html(channels, language=lang),
                      *([channels.figure()] if channels.ok else [])]
        parts += [self._heading("clv.ui.parameters"),
                  parameters_html(r.parameters, language=lang)]
        return parts

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date picker, the model picker and the horizon."""
        self.w_as_of = self.date_picker()
        self.w_model = widgets.Dropdown(
            options=[(tr(f"clv.model.{m}", language=self.language), m)
                     for m in MODELS],
            value=self.params.model, description=tr("clv.ui.model", language=self.language))
        self.w_model.add_class("wb-clv-model")
        self.w_horizon = widgets.Dropdown(
            options=[(tr("clv.ui.months", language=self.language, months=m), m)
                     for m in HORIZONS],
            value=self.params.horizon_months if self.params.horizon_months in HORIZONS
            else 12, description=tr("clv.ui.horizon", language=self.language))
        self.w_horizon.add_class("wb-clv-horizon")
        self.w_as_of.observe(self._on_change, names="value")
        self.w_model.observe(self._on_change, names="value")
        self.w_horizon.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_model, self.w_horizon]

    def body(self) -> list[widgets.Widget]:
        """Return the summary, tables and charts (created once)."""
        if not hasattr(self, "w_quality"):
            self.w_quality = html_box("wb-clv-quality-box")
            self.w_bands = html_box("wb-clv-bands-box")
            self.w_top = html_box("wb-clv-top-box")
            self.w_parameters = html_box("wb-clv-parameters-box")
            self.w_charts = chart_outputs(CHARTS)
            self.w_channels = html_box("wb-clv-channels-box")
            self.w_channel_chart = chart_outputs(("channels",))["channels"]
        c = self.w_charts
        return [self.w_quality, self.w_bands, c["distribution"], c["store_ranges"],
                c["segments"], self.w_top,
                c["ranges"], c["matrix_purchases"], c["matrix_alive"], c["next_order"],
                c["reliability"], c["tracking"], c["by_frequency"], self.w_channels,
                self.w_channel_chart, self.w_parameters]

    def render(self) -> None:
        """Fill the summary, tables and charts from the result."""
        r, lang = self.result, self.language
        quality = r.quality_in(lang)
        self.w_quality.value = message_html(quality, level="info") if quality else ""
        self.w_bands.value = bands_html(r.bands, currency=r.currency, language=lang)
        self.w_top.value = self._heading("clv.ui.top") + top_customers_html(
            r.top_customers, currency=r.currency, language=lang)
        self.w_parameters.value = self._heading("clv.ui.parameters") + parameters_html(
            r.parameters, language=lang)
        for name, make in self._figures().items():
            empty = name in ("tracking", "by_frequency") and r.tracking.empty
            show_figure(self.w_charts[name], None if empty else make())
        channels = getattr(r, "by_channel", None)
        self.w_channels.value = channel_section_html(channels, language=lang)
        show_figure(self.w_channel_chart,
                    channels.figure() if channels is not None and channels.ok else None)

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if not isinstance(as_of, date):
            return
        self.update(as_of=as_of, model=self.w_model.value,
                    horizon_months=int(self.w_horizon.value))


def show_clv(params: Any) -> ClvPage:
    """Return the CLV page for ``params`` (:class:`workbench.clv.ClvParams`)."""
    return ClvPage(params)
