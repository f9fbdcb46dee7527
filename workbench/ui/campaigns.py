"""The campaigns page: what CRM added, per campaign, channel and month, against holdouts.

No statistics happen here: the page calls :func:`workbench.abtest.run_campaigns` and words
its numbers in the page's language (:mod:`workbench.abtest.impact_words`). The HTML builders
are pure functions of the result.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as widgets
from IPython.display import HTML, display

from workbench.abtest import CampaignImpactResult, CampaignsParams, run_campaigns
from workbench.abtest.impact_words import (
    headline_sentence,
    interval_text,
    totals_sentence,
)
from workbench.abtest.verdict import arm_label
from workbench.i18n import (
    format_date,
    format_number,
    format_percent,
    format_value,
    tr,
    using_language,
)
from workbench.results import Status
from workbench.ui.common import message_html, table_html
from workbench.ui.coupons import coupon_view
from workbench.ui.page import Page, chart_outputs, error_text, html_box, show_figure

__all__ = ["CampaignsPage", "campaigns_html", "headline_html", "notes_html", "rollup_html",
           "show_campaigns"]

CHARTS = ("channel", "month")
#: The setting line the page shows (as code) when no global holdout is set.
SETTING_LINE = "global_holdout = 0.05"


def _money(x: float, currency: str, lang: str) -> str:
    # the intervals under each value use the headline style too (만 원 in Korean)
    return format_value(x, "money", currency, language=lang)


def _cell(value: str, interval: str = "") -> str:
    small = (f"<br><small style='color:#666;white-space:nowrap'>{html.escape(interval)}</small>"
             if interval else "")
    return f"<td>{html.escape(value)}{small}</td>"


def headline_html(r: CampaignImpactResult, language: str) -> str:
    """Return the headline banner (with the setting line to add when no global holdout is set)."""
    text = headline_sentence(r, language)
    extra = ""
    if r.lead.kind == "setup":
        extra = (f"<pre class='wb-setting' style='margin:4px 0 0'><code>[workbench]\n"
                 f"{html.escape(SETTING_LINE)}</code></pre>")
    level = "info" if r.lead.kind in ("global", "setup") else "warning"
    return (f"<div class='wb-impact-headline' data-kind='{r.lead.kind}'>"
            f"{message_html(text, level=level)}{extra}</div>")


def _measure_cells(x: Any, cur: str, lang: str) -> list[str]:
    """Return the cells every table shares: funnel, buyers, incremental figures, cost, ROI."""
    funnel = " → ".join(format_number(v, language=lang)
                        for v in (x.sent, x.delivered, x.opened, x.clicked))
    return [
        _cell(funnel), _cell(format_number(x.ordered, language=lang)),
        _cell(format_number(x.incremental_orders, language=lang),
              interval_text(x.incremental_orders_low, x.incremental_orders_high, "n", cur,
                            lang)),
        _cell(_money(x.incremental_revenue, cur, lang),
              interval_text(x.incremental_revenue_low, x.incremental_revenue_high, "money",
                            cur, lang)),
        _cell(_money(x.cost, cur, lang)),
        _cell(_money(x.cost_per_incremental_order, cur, lang)),
        _cell(_money(x.incremental_margin, cur, lang),
              interval_text(x.incremental_margin_low, x.incremental_margin_high, "money",
                            cur, lang)),
        _cell(format_percent(x.roi, digits=0, signed=True, language=lang)),
        _cell(format_percent(x.opt_out_rate, digits=2, language=lang))]


def campaigns_html(r: CampaignImpactResult, language: str) -> str:
    """Return the table of every campaign arm against its holdout (intervals under values)."""
    lang, cur = language, r.currency
    title = f"<h3>{html.escape(tr('impact.ui.campaigns_title', language=lang))}</h3>"
    summary = f"<p class='wb-impact-totals'>{html.escape(totals_sentence(r, lang))}</p>"
    if r.campaigns.empty:
        return title + summary
    head = [tr(f"impact.col.{k}", language=lang) for k in (
        "campaign", "channel", "start", "arm", "funnel", "ordered", "orders", "revenue", "cost",
        "cpio", "margin", "roi", "opt_out")]
    rows = []
    for x in r.campaigns.itertuples():
        start = format_date(x.start.date(), language=lang)
        cells = [
            _cell(f"{x.campaign_id} · {x.name}"), _cell(tr(f"impact.channel.{x.channel}",
                                                          language=lang)),
            _cell(start), _cell(arm_label(x.variant, lang)), *_measure_cells(x, cur, lang)]
        rows.append(f"<tr data-campaign='{html.escape(x.campaign_id)}' "
                    f"data-variant='{html.escape(x.variant)}' "
                    f"data-margin='{x.incremental_margin!r}'>{''.join(cells)}</tr>")
    note = ""
    if r.without_holdout:
        note = (f"<p class='wb-impact-missing'>"
                f"{html.escape(tr('impact.ui.without_holdout', language=lang, campaigns=', '.join(r.without_holdout)))}"  # noqa: E501
                "</p>")
    return (title + summary + "<div style='overflow-x:auto'>"
            + table_html("wb-impact-campaigns", head, rows) + "</div>" + note)


def rollup_html(r: CampaignImpactResult, by: str, language: str) -> str:
    """Return the channel or month roll-up table."""
    lang, cur = language, r.currency
    frame = r.by_channel if by == "channel" else r.by_month
    title = f"<h3>{html.escape(tr(f'impact.ui.{by}_title', language=lang))}</h3>"
    if frame.empty:
        return ""
    head = [tr(f"impact.col.{k}", language=lang) for k in (
        f"key_{by}", "campaigns", "funnel", "ordered", "orders", "revenue", "cost", "cpio",
        "margin", "roi", "opt_out")]
    rows = []
    for x in frame.itertuples():
        key = tr(f"impact.channel.{x.key}", language=lang) if by == "channel" else str(x.key)
        cells = [_cell(key), _cell(format_number(x.campaigns, language=lang)),
                 *_measure_cells(x, cur, lang)]
        rows.append(f"<tr data-key='{html.escape(str(x.key))}'>{''.join(cells)}</tr>")
    return (title + "<div style='overflow-x:auto'>"
            + table_html(f"wb-impact-{by}", head, rows) + "</div>")


def notes_html(r: CampaignImpactResult, language: str) -> str:
    """Return how every number is made (window, increments, cost, ROI, roll-ups, opt-outs)."""
    lang = language
    rate = format_percent(r.margin_rate, digits=0 if round(100 * r.margin_rate) == 100
                          * r.margin_rate else 1, language=lang)
    fields = {"window": r.window_days, "as_of": format_date(r.as_of, language=lang),
              "level": format_percent(1 - r.alpha, digits=0, language=lang), "rate": rate,
              "days": r.lead.days}
    keys = ["window", "incremental", "cost", "roi", "rollup", "opt_out"]
    if r.lead.kind == "global":
        keys.append("global")
    items = "".join(f"<li>{html.escape(tr(f'impact.note.{k}', language=lang, **fields))}</li>"
                    for k in keys)
    return (f"<h3>{html.escape(tr('impact.ui.notes_title', language=lang))}</h3>"
            f"<ul class='wb-impact-notes'>{items}</ul>")


class CampaignsPage(Page):
    """Campaign impact for one store; ``display(page)`` shows it."""

    def run(self) -> CampaignImpactResult:
        """Run :func:`workbench.abtest.run_campaigns` for the page's parameters."""
        return run_campaigns(self.con, self.params, settings=self.settings)

    @property
    def ok(self) -> bool:
        """The page shows the set-up advice even before any campaign has a holdout."""
        return self.result is not None and (self.result.status == Status.OK
                                            or self.result.lead.kind == "setup")

    def _figures(self) -> dict[str, Any]:
        r = self.result
        return {"channel": lambda: r.figure("channel"), "month": lambda: r.figure("month")}

    def _coupon_section(self) -> widgets.Widget:
        """Return the coupon economics section (:func:`workbench.ui.coupons.coupon_view`).

        A failure there becomes a banner in the section: the campaign figures above stand on
        their own, and a weekly report should not lose them to it.
        """
        try:
            with using_language(self.language):
                return coupon_view(self.con, as_of=self.params.as_of, settings=self.settings,
                                   language=self.language)
        except Exception as exc:  # noqa: BLE001 - shown as the section's banner
            box = widgets.HTML(message_html(error_text(exc, self.language), level="warning"))
            box.add_class("wb-coupons-error")
            return box

    def _coupons_box(self) -> widgets.VBox:
        """Return a button that loads the coupon section on demand.

        The section runs its own queries (2.6 s of CPU at 100,000 customers, measured), which
        would double the page's time; reports always include it.
        """
        title = widgets.HTML(f"<h3>{html.escape(tr('impact.ui.coupons_title', language=self.language))}</h3>")  # noqa: E501
        button = widgets.Button(description=tr("impact.ui.coupons_show", language=self.language),
                                layout={"width": "auto"})
        button.add_class("wb-coupons-show")
        box = widgets.VBox([title, button])
        box.add_class("wb-impact-coupons")

        def load(_button: widgets.Button) -> None:
            button.disabled = True
            box.children = [title, self._coupon_section()]

        button.on_click(load)
        return box

    def static_parts(self) -> list[Any]:
        """Return the campaign table, the roll-ups with their charts and the notes."""
        r, lang = self.result, self.language
        parts: list[Any] = [campaigns_html(r, lang)]
        if not r.campaigns.empty:
            parts += [rollup_html(r, "channel", lang), r.figure("channel"),
                      rollup_html(r, "month", lang), r.figure("month")]
        parts.append(notes_html(r, lang))
        if not r.campaigns.empty:  # the section is one HTML widget: its HTML goes in reports
            section = self._coupon_section()
            title = html.escape(tr("impact.ui.coupons_title", language=lang))
            inner = getattr(section, "children", (section,))
            parts.append(f"<h3>{title}</h3>" + "".join(getattr(w, "value", "") for w in inner))
        return parts

    def display_static(self) -> None:
        """Show the headline, the tables and charts, and record the "CRM impact" tile."""
        from workbench.reporting.run import record_headline  # only reports record headlines

        r = self.result
        if not self.ok:
            display(HTML(message_html(r.message, level="warning")))
            return
        display(HTML(headline_html(r, self.language)))
        for part in self.static_parts():
            display(HTML(part) if isinstance(part, str) else part)
        record_headline(r.headline())

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date and the attribution window."""
        self.w_as_of = self.date_picker()
        self.w_window = widgets.BoundedIntText(
            value=int(self.params.window_days), min=1, max=365,
            description=tr("impact.ui.window", language=self.language),
            style={"description_width": "initial"}, layout={"width": "220px"})
        self.w_window.add_class("wb-window")
        for w in (self.w_as_of, self.w_window):
            w.observe(self._on_change, names="value")
        return [self.w_as_of, self.w_window]

    def body(self) -> list[widgets.Widget]:
        """Return the tables, the two charts and the notes (created once)."""
        if not hasattr(self, "w_table"):
            self.w_table = html_box("wb-impact-table")
            self.w_channel = html_box("wb-impact-channel-box")
            self.w_month = html_box("wb-impact-month-box")
            self.w_charts = chart_outputs(CHARTS)
            self.w_notes = html_box("wb-impact-notes-box")
            self.w_coupons = widgets.VBox()
        return [self.w_table, self.w_channel, self.w_charts["channel"], self.w_month,
                self.w_charts["month"], self.w_notes, self.w_coupons]

    def render(self) -> None:
        """Fill the page from the result."""
        r, lang = self.result, self.language
        self.w_message.value = headline_html(r, lang)
        self.w_table.value = campaigns_html(r, lang)
        has = not r.campaigns.empty
        self.w_channel.value = rollup_html(r, "channel", lang) if has else ""
        self.w_month.value = rollup_html(r, "month", lang) if has else ""
        for name, make in self._figures().items():
            show_figure(self.w_charts[name], make() if has else None)
        self.w_notes.value = notes_html(r, lang)
        self.w_coupons.children = [self._coupons_box()] if has else []

    def clear(self) -> None:
        """Empty the tables, charts and the coupon section."""
        super().clear()
        self.w_coupons.children = []

    def _on_change(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date) and self.w_window.value:
            self.update(as_of=as_of, window_days=int(self.w_window.value))


def show_campaigns(params: CampaignsParams) -> CampaignsPage:
    """Return the campaigns page for ``params``; the notebook's last expression displays it."""
    return CampaignsPage(params)


