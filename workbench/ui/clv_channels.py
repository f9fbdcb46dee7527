"""The CLV page's channel section: value of a new customer against its acquisition cost.

Pure HTML builders over :class:`workbench.clv.channels.ChannelValue` (no analysis here): the
takeaway of the covariate model (its likelihood-ratio tests), the table by channel with one
budget sentence per channel, and the covariate effects with standard errors.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from workbench.clv import channel_label, ratio_text
from workbench.i18n import format_money, format_number, tr
from workbench.ui.common import message_html, table_html

__all__ = ["channel_effects_html", "channel_section_html", "channel_table_html"]

_TABLE = ("acquisition_channel", "customers", "new_customers", "first_order_value",
          "clv_covariates", "clv_plain", "acquisition_cost", "clv_cac_ratio")


def channel_table_html(value: Any, *, language: str) -> str:
    """Return the table by channel (money in the shop's currency; "–" where not set)."""
    head = [tr(f"clv.channels.ui.table.{c}", language=language, window=value.window_months)
            for c in _TABLE]
    rows = []
    for r in value.table.itertuples():
        def money(x: float) -> str:
            return "–" if pd.isna(x) else format_money(x, value.currency, language=language)

        cells = [channel_label(r.acquisition_channel, language),
                 format_number(r.customers, language=language),
                 format_number(r.new_customers, language=language), money(r.first_order_value),
                 money(r.clv_covariates), money(r.clv_plain), money(r.acquisition_cost),
                 ratio_text(float(r.clv_cac_ratio), language)]
        rows.append(f"<tr data-channel='{html.escape(str(r.acquisition_channel))}' "
                    f"data-verdict='{r.verdict}'>"
                    + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return table_html("wb-clv-channels", head, rows)


def channel_effects_html(value: Any, *, language: str) -> str:
    """Return the covariate effects (estimate, standard error, p-value) as HTML."""
    head = [tr(f"clv.channels.ui.table.{c}", language=language) for c in (
        "parameter", "estimate", "standard_error", "p_value")]
    coupon = tr("clv.channels.ui.coupon", language=language)
    rows = []
    for r in value.coefficients.itertuples():
        kind, _, covariate = str(r.parameter).partition(":")
        covariate = channel_label(covariate.removeprefix("channel:"), language) \
            if covariate != "first_order_coupon" else coupon
        def number(x: float) -> str:
            return "–" if pd.isna(x) else format_number(x, digits=3, language=language)

        cells = [tr(f"clv.channels.ui.effect.{kind}", language=language, covariate=covariate),
                 number(r.estimate), number(r.standard_error),
                 "< 0.001" if r.p_value < 0.001 else number(r.p_value)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                    + "</tr>")
    return table_html("wb-clv-channel-effects", head, rows)


def channel_section_html(value: Any, *, language: str) -> str:
    """Return the section: heading, takeaway, table, budget sentences and effects."""
    heading = f"<h3>{html.escape(tr('clv.channels.ui.heading', language=language))}</h3>"
    if value is None:
        return ""
    if not value.ok:
        return heading + message_html(value.message_in(language), level="info")
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in value.verdicts_in(language))
    effects = ""
    if not value.coefficients.empty:
        title = tr("clv.channels.ui.coefficients", language=language,
                   reference=channel_label(value.reference, language))
        effects = f"<h4>{html.escape(title)}</h4>" + channel_effects_html(value, language=language)
    return (heading + message_html(value.message_in(language), level="info")
            + channel_table_html(value, language=language)
            + f"<ul class='wb-clv-channel-verdicts'>{sentences}</ul>" + effects)
