"""The RFM page: segments, a segment's members (masked), heatmap, migration, loyalty tiers.

No analysis happens here: the page calls :func:`workbench.rfm.run_rfm`, which reads the
per-customer snapshot when the page is on the snapshot's date (the default), so a dashboard
opens without scanning the orders.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.i18n import format_money, format_number, format_percent, tr
from workbench.rfm import RfmParams, RfmResult, run_rfm, segment_members
from workbench.ui.common import table_html
from workbench.ui.page import Page, chart_outputs, html_box, show_figure

__all__ = ["RfmPage", "segments_html", "show_rfm"]

CHARTS = ("treemap", "heatmap", "migration", "tiers")


def segments_html(segments: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the segment table (size, shares, average value, suggested action) as HTML."""
    head = [tr(f"ui.table.{c}", language=language) for c in (
        "segment", "customers", "share", "revenue_share", "avg_value", "action")]
    rows = []
    for r in segments.itertuples():
        rows.append(
            f"<tr data-segment='{html.escape(str(r.segment))}' data-customers='{int(r.customers)}'>"
            f"<td>{html.escape(str(r.label))}</td>"
            f"<td style='text-align:right'>{format_number(r.customers, language=language)}</td>"
            f"<td style='text-align:right'>{format_percent(r.share, language=language)}</td>"
            "<td style='text-align:right'>"
            f"{format_percent(r.revenue_share, language=language)}</td>"
            f"<td style='text-align:right'>"
            f"{format_money(r.avg_value, currency, language=language)}</td>"
            f"<td>{html.escape(str(r.action))}</td></tr>")
    return table_html("wb-rfm-segments", head, rows)


def members_html(members: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return a segment's member list (masked names and phones) as HTML."""
    cols = ("customer_id", "name", "phone", "tier", "net_revenue", "orders", "recency_days")
    head = [tr(f"ui.table.{c}", language=language) for c in cols]
    rows = []
    for r in members.itertuples():
        cells = [r.customer_id, r.name or "–", r.phone or "–", r.tier_label,
                 format_money(r.net_revenue, currency, language=language),
                 format_number(r.orders, language=language),
                 format_number(r.recency_days, language=language)]
        rows.append("<tr class='wb-member'>" + "".join(
            f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return table_html("wb-members", head, rows)


class RfmPage(Page):
    """RFM segments for one store; ``display(page)`` shows it in the current mode."""

    prefers_snapshot = True
    member_limit = 50

    def run(self) -> RfmResult:
        """Run :func:`workbench.rfm.run_rfm` for the page's parameters."""
        return run_rfm(self.con, self.params, settings=self.settings)

    def _figures(self) -> dict[str, Any]:
        r = self.result
        return {"treemap": r.figure_treemap, "heatmap": r.figure_heatmap,
                "migration": r.figure_migration, "tiers": r.figure_tiers}

    def _heatmap_note(self) -> str:
        text = self.result.heatmap_note_in(self.language)
        return f"<p class='wb-heatmap-note'>{html.escape(text)}</p>" if text else ""

    def static_parts(self) -> list[Any]:
        """Return the segment table and the four charts (no member list in reports)."""
        r = self.result
        figures = self._figures()
        return [segments_html(r.segments, currency=r.currency, language=self.language),
                figures["treemap"](), figures["heatmap"](), self._heatmap_note(),
                figures["migration"](), figures["tiers"]()]

    def form(self) -> list[widgets.Widget]:
        """Return the as-of date picker and the segment picker."""
        self.w_as_of = self.date_picker()
        self.w_segment = widgets.Dropdown(options=[], description=tr("ui.segment",
                                                                     language=self.language))
        self.w_segment.add_class("wb-segment")
        self.w_as_of.observe(self._on_date, names="value")
        self.w_segment.observe(self._on_segment, names="value")
        return [self.w_as_of, self.w_segment]

    def body(self) -> list[widgets.Widget]:
        """Return the table, charts and member list (created once)."""
        if not hasattr(self, "w_table"):
            self.w_table = html_box("wb-rfm-table")
            self.w_size = html_box("wb-segment-size")
            self.w_members = html_box("wb-members-list")
            self.w_heatmap_note = html_box("wb-heatmap-note-box")
            self.w_charts = chart_outputs(CHARTS)
        c = self.w_charts
        return [self.w_table, c["treemap"], self.w_size, self.w_members, c["heatmap"],
                self.w_heatmap_note, c["migration"], c["tiers"]]

    def render(self) -> None:
        """Fill the table, the charts, the segment picker and the member list."""
        r = self.result
        self.w_table.value = segments_html(r.segments, currency=r.currency,
                                           language=self.language)
        for name, make in self._figures().items():
            show_figure(self.w_charts[name], make())
        self.w_heatmap_note.value = self._heatmap_note()
        present = r.segments[r.segments["customers"] > 0]
        options = [(f"{s.label} ({format_number(s.customers, language=self.language)})",
                    s.segment) for s in present.itertuples()]
        wanted = self.params.segment if self.params.segment in set(present["segment"]) else (
            present.sort_values("customers", ascending=False)["segment"].iloc[0])
        self._quiet = True
        try:
            self.w_segment.options = options
            self.w_segment.value = wanted
        finally:
            self._quiet = False
        self._show_members(wanted)

    def _show_members(self, segment: str) -> None:
        r = self.result
        row = r.segments.set_index("segment").loc[segment]
        members = segment_members(r, segment, limit=self.member_limit, con=self.con,
                                  language=self.language)
        text = tr("ui.segment_size", language=self.language, label=str(row["label"]),
                  customers=format_number(row["customers"], language=self.language),
                  share=format_percent(row["share"], language=self.language), shown=len(members))
        # the table first: the count line is the marker that the segment is shown (tests and
        # the benchmark wait for it), so it must not arrive before the rows it counts
        self.w_members.value = members_html(members, currency=r.currency,
                                            language=self.language)
        self.w_size.value = (f"<p class='wb-segment-count' data-segment='{html.escape(segment)}'"
                             f" data-value='{int(row['customers'])}'>{html.escape(text)}</p>")

    def _on_date(self, _change: dict) -> None:
        as_of = self.w_as_of.value
        if isinstance(as_of, date):
            self.update(as_of=as_of)

    def _on_segment(self, change: dict) -> None:
        if getattr(self, "_quiet", False) or not self.ok or not change["new"]:
            return
        self.params = self.params.replace(segment=change["new"])
        self._show_members(change["new"])


def show_rfm(params: RfmParams) -> RfmPage:
    """Return the RFM page for ``params``; the notebook's last expression displays it."""
    return RfmPage(params)
