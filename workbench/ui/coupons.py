"""The coupon economics section: tables per campaign arm and coupon code, and what each means.

No analysis happens here: :func:`coupon_view` calls :func:`workbench.abtest.coupon_economics`
and lays its frames out as HTML tables (pure builders: :func:`arms_html`, :func:`codes_html`,
:func:`explanation_html`), with the result's message as a banner. The campaigns page shows it.
"""

from __future__ import annotations

import html
import math
from datetime import date
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from workbench.abtest import coupon_economics
from workbench.abtest.stats import arm_label
from workbench.i18n import format_percent, format_value, tr
from workbench.settings import Settings, load_settings
from workbench.ui.common import message_html, table_html

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.abtest import CouponEconomicsResult

__all__ = ["arms_html", "codes_html", "coupon_view", "explanation_html"]

#: Figures explained under the tables, in order (``coupons.explain.<name>``).
EXPLAINED = ("coupon_cost", "coupon_cost_anyway", "coupon_cost_incremental",
             "pull_forward", "margin_after_coupons", "interval")


def _money(value: Any, currency: str, language: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    return format_value(round(float(value)), "money", currency, language=language)


def _interval(row: pd.Series, name: str, currency: str, language: str) -> str:
    low, high = row.get(f"{name}_low"), row.get(f"{name}_high")
    if low is None or pd.isna(low) or pd.isna(high):
        return _money(row.get(name), currency, language)
    return (f"{_money(row[name], currency, language)} "
            f"({_money(low, currency, language)} ~ {_money(high, currency, language)})")


def _orders(row: pd.Series, language: str) -> str:
    value = row.get("pull_forward_orders")
    if value is None or pd.isna(value):
        return "–"
    return tr("coupons.ui.orders_interval", language=language, value=f"{value:+,.1f}",
              low=f"{row['pull_forward_orders_low']:+,.1f}",
              high=f"{row['pull_forward_orders_high']:+,.1f}")


def _cell(text: str) -> str:
    return f"<td>{html.escape(text)}</td>"


def arms_html(arms: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the per-arm table: coupon cost, placed-anyway part, pull-forward, margin, status.

    >>> arms_html(pd.DataFrame(columns=["campaign_id"]), currency="KRW", language="en")[:30]
    "<table class='wb-table wb-coup"
    """
    confidence = format_percent(0.95, digits=0, language=language)
    head = [tr(f"coupons.ui.col.{c}", language=language, confidence=confidence) for c in (
        "campaign", "arm", "codes", "coupon_cost", "coupon_cost_anyway",
        "coupon_cost_incremental", "pull_forward_orders", "pull_forward_revenue",
        "margin_after_coupons", "status")]
    rows = []
    for _, r in arms.iterrows():
        cells = [f"{r['campaign_id']} {r['name']}", arm_label(str(r["variant"]), language),
                 r["coupon_codes"] or "–", _money(r["coupon_cost"], currency, language),
                 _interval(r, "coupon_cost_anyway", currency, language),
                 _money(r["coupon_cost_incremental"], currency, language),
                 _orders(r, language), _interval(r, "pull_forward_revenue", currency, language),
                 _interval(r, "margin_after_coupons", currency, language),
                 tr(f"coupons.status.{r['status']}", language=language)]
        rows.append("<tr>" + "".join(_cell(str(c)) for c in cells) + "</tr>")
    return table_html("wb-coupons-arms", head, rows)


def codes_html(codes: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the per-code table: redemptions, cost, mean discount and the placed-anyway part.

    >>> codes_html(pd.DataFrame(columns=["campaign_id"]), currency="KRW", language="ko")[-23:]
    '<tbody></tbody></table>'
    """
    confidence = format_percent(0.95, digits=0, language=language)
    head = [tr(f"coupons.ui.col.{c}", language=language, confidence=confidence) for c in (
        "campaign", "arm", "code", "redeemers", "coupon_orders", "coupon_cost",
        "mean_discount", "coupon_cost_anyway", "anyway_share")]
    rows = []
    for _, r in codes.iterrows():
        cells = [r["campaign_id"], arm_label(str(r["variant"]), language), r["coupon_code"],
                 f"{int(r['redeemers']):,}", f"{int(r['coupon_orders']):,}",
                 _money(r["coupon_cost"], currency, language),
                 _money(r["mean_discount"], currency, language),
                 _interval(r, "coupon_cost_anyway", currency, language),
                 format_percent(r["anyway_share"], language=language)]
        rows.append("<tr>" + "".join(_cell(str(c)) for c in cells) + "</tr>")
    return table_html("wb-coupons-codes", head, rows)


def explanation_html(result: CouponEconomicsResult, language: str) -> str:
    """Return what each figure means and its formula, in ``language``."""
    fields = {"window": result.window_days, "post": result.post_days,
              "margin": format_percent(result.margin_rate, digits=0, language=language),
              "confidence": format_percent(1 - result.alpha, digits=0, language=language)}
    items = "".join(
        f"<li><b>{html.escape(tr(f'coupons.ui.term.{k}', language=language))}</b>: "
        f"{html.escape(tr(f'coupons.explain.{k}', language=language, **fields))}</li>"
        for k in EXPLAINED)
    return (f"<details class='wb-definitions' open><summary>"
            f"{html.escape(tr('coupons.ui.explain_title', language=language))}</summary>"
            f"<ul>{items}</ul></details>")


def coupon_view(con: BaseBackend, *, as_of: date, settings: Settings | None = None,
                language: str | None = None) -> widgets.VBox:
    """Return the coupon economics section of ``con``'s campaigns as ``as_of``, as a widget.

    Parameters
    ----------
    con
        Store connection.
    as_of
        Reference date (exclusive).
    settings, language
        Shop settings (currency, ``gross_margin``) and the language of the section.

    Returns
    -------
    ipywidgets.VBox
        With class ``wb-coupons``: a banner with the result's message, the per-arm and
        per-code tables (titled) and the explanations.
    """
    settings = settings or load_settings()
    lang = language or settings.language
    result = coupon_economics(con, as_of=as_of, settings=settings, language=lang)
    parts = [message_html(result.message_in(lang))]
    if not result.arms.empty:
        parts += [f"<h4>{html.escape(tr('coupons.ui.arms_title', language=lang))}</h4>",
                  arms_html(result.arms, currency=result.currency, language=lang),
                  f"<h4>{html.escape(tr('coupons.ui.codes_title', language=lang))}</h4>",
                  codes_html(result.codes, currency=result.currency, language=lang),
                  explanation_html(result, lang)]
    box = widgets.VBox([widgets.HTML("".join(parts))])
    box.add_class("wb-coupons")
    return box
