"""Sentences and report tiles of the campaign impact result, in the reader's language.

The statistics (:mod:`workbench.abtest.impact`) return numbers and statuses; this module words
them where they are read (page headline, weekly report tile), so the sentence always agrees
with the numbers beside it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from workbench.i18n import format_money, format_number, format_percent, tr

if TYPE_CHECKING:
    from workbench.abtest.impact import CampaignImpactResult, Estimate

__all__ = ["headline_sentence", "interval_text", "totals_sentence", "verdict_word", "week_tile"]


def verdict_word(low: float, high: float, language: str) -> str:
    """Return whether an interval is clearly above 0, clearly below, or crosses it.

    >>> verdict_word(1.0, 2.0, "en"), verdict_word(-1.0, 2.0, "en")
    ('clearly positive', 'not distinguishable from zero')
    """
    key = "up" if low > 0 else "down" if high < 0 else "flat"
    return tr(f"impact.verdict.{key}", language=language)


def interval_text(low: float, high: float, unit: str, currency: str, language: str) -> str:
    """Return ``low ~ high`` in money (headline style) or whole numbers; a dash when unknown."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if unit == "money":
        return (f"{format_money(low, currency, language=language, style=None)} ~ "
                f"{format_money(high, currency, language=language, style=None)}")
    return f"{format_number(low, language=language)} ~ {format_number(high, language=language)}"


def _money(x: float, currency: str, language: str) -> str:
    return format_money(x, currency, language=language, style=None) if math.isfinite(x) else "–"


def headline_sentence(r: CampaignImpactResult, language: str) -> str:
    """Return the page's headline: the global holdout's readout, or how to set one up."""
    h, cur, lang = r.lead, r.currency, language
    share = format_percent(h.share, digits=0 if h.share * 100 == round(h.share * 100) else 1,
                           language=lang)
    if h.kind == "global" and h.margin is not None and h.orders and h.revenue:
        return tr("impact.headline.global", language=lang, days=h.days, share=share,
                  n=format_number(h.n_holdout, language=lang),
                  margin=_money(h.margin.value, cur, lang),
                  margin_ci=interval_text(h.margin.low, h.margin.high, "money", cur, lang),
                  verdict=verdict_word(h.margin.low, h.margin.high, lang),
                  orders=format_number(h.orders.value, language=lang),
                  orders_ci=interval_text(h.orders.low, h.orders.high, "n", cur, lang),
                  revenue=_money(h.revenue.value, cur, lang),
                  revenue_ci=interval_text(h.revenue.low, h.revenue.high, "money", cur, lang),
                  cost=_money(h.message_cost, cur, lang),
                  level=format_percent(1 - r.alpha, digits=0, language=lang))
    if h.kind == "global":
        return tr("impact.headline.global_small", language=lang, share=share, days=h.days,
                  n=format_number(h.n_holdout, language=lang))
    if h.kind == "setup":
        mde = ("–" if not math.isfinite(h.mde) else format_percent(h.mde, digits=1,
                                                                     language=lang))
        return tr("impact.headline.setup", language=lang, share=share,
                  customers=format_number(h.customers, language=lang),
                  rate=format_percent(h.baseline_rate, digits=1, language=lang), mde=mde,
                  days=h.days)
    return tr("impact.headline.none", language=lang)


def totals_sentence(r: CampaignImpactResult, language: str) -> str:
    """Return the campaigns' total: how many, incremental orders and margin, and the ROI."""
    lang, cur = language, r.currency
    if r.total.empty:
        return tr("impact.totals.none", language=lang)
    t = r.total.iloc[0]
    return tr("impact.totals.some", language=lang, campaigns=int(t["campaigns"]),
              window=r.window_days, orders=format_number(t["incremental_orders"], language=lang),
              orders_ci=interval_text(t["incremental_orders_low"], t["incremental_orders_high"],
                                      "n", cur, lang),
              margin=_money(t["incremental_margin"], cur, lang),
              margin_ci=interval_text(t["incremental_margin_low"], t["incremental_margin_high"],
                                      "money", cur, lang),
              verdict=verdict_word(t["incremental_margin_low"], t["incremental_margin_high"],
                                   lang),
              cost=_money(t["cost"], cur, lang),
              roi=format_percent(t["roi"], digits=0, signed=True, language=lang))


def week_tile(r: CampaignImpactResult) -> list[dict[str, Any]]:
    """Return the weekly report's "CRM impact" tile: this week's incremental margin.

    Empty when nothing measures it (no global holdout and no campaign with a holdout whose
    window overlaps the week).
    """
    if r.week is None:
        return []
    source, est = r.week
    return [_tile(source, est, r.currency, r.language)]


def _tile(source: str, est: Estimate, currency: str, language: str) -> dict[str, Any]:
    direction = "up" if est.low > 0 else "down" if est.high < 0 else "flat"
    return {"metric": "crm_impact",
            "label": tr(f"impact.tile.label_{source}", language=language),
            "value": _money(est.value, currency, language),
            "change": interval_text(est.low, est.high, "money", currency, language),
            "change_pct": math.nan, "direction": direction}
