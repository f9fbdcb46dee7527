"""The plain-language verdict of an A/B readout, in English or Korean.

A manager reads one paragraph: whether the split can be trusted (a failed sample-ratio check
comes first and says the numbers are not trustworthy), what each variant did to the primary
metric with its interval and p-value, the chance it beats the baseline, guardrail vetoes and,
against a holdout, what the campaign earned after its cost.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from workbench.abtest.stats import AbStatus, Comparison
from workbench.i18n import format_money, format_number, tr

if TYPE_CHECKING:
    from workbench.abtest.analysis import AbTestResult

__all__ = ["build_verdict", "format_effect", "format_p", "metric_label", "verdict_parts"]


def metric_label(metric: str, language: str) -> str:
    """Return the metric's name for people."""
    return tr(f"abtest.metric.{metric}", language=language)


def format_p(p: float, language: str) -> str:
    """Return ``p = 0.003`` or ``p < 0.001``."""
    if math.isnan(p):
        return "p = –"
    if p < 0.001:
        return "p < 0.001"
    return "p = " + format_number(p, digits=3, language=language)


def format_effect(value: float, kind: str, metric: str, currency: str, language: str, *,
                  signed: bool = False, unit: bool = True) -> str:
    """Format an absolute effect: proportion points for rates, money for revenue and AOV."""
    if math.isnan(value):
        return "–"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else (
        "-" if value < 0 else "")
    mag = abs(value)
    if kind == "proportion" or metric in ("open_rate", "click_rate"):
        text = format_number(100 * mag, digits=2 if 100 * mag < 0.1 else 1, language=language)
        return sign + (tr("abtest.unit.points", language=language, value=text) if unit else text)
    if metric in ("revenue_per_user", "aov"):
        return sign + format_money(mag, currency, language=language)
    return sign + format_number(mag, digits=2, language=language)


def _sentence(c: Comparison, p_adj: float, result: AbTestResult) -> str:
    lang, cur = result.language, result.currency
    if c.status not in (AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
        return c.message
    p = p_adj if not math.isnan(p_adj) else c.p_value
    fields = {
        "variant": c.variant, "control": c.control,
        "metric": metric_label(c.metric, lang),
        "effect": format_effect(c.effect, c.kind, c.metric, cur, lang),
        "signed": format_effect(c.effect, c.kind, c.metric, cur, lang, signed=True),
        "low": format_effect(c.ci_low, c.kind, c.metric, cur, lang, unit=False),
        "high": format_effect(c.ci_high, c.kind, c.metric, cur, lang, unit=False),
        "level": format_number(100 * (1 - c.alpha), language=lang),
        "p": format_p(p, lang),
    }
    if not math.isnan(p_adj) and result.correction != "none" and sum(
            not math.isnan(x) for x in result.p_adjusted) > 1:
        fields["p"] = tr("abtest.verdict.p_adjusted", language=lang, p=format_p(p, lang))
    fields["effect"] = fields["effect"].lstrip("-")
    if p < c.alpha:
        key = "abtest.verdict.raised" if c.effect > 0 else "abtest.verdict.lowered"
    else:
        key = "abtest.verdict.no_difference"
    text = tr(key, language=lang, **fields)
    if c.status == AbStatus.TOO_LITTLE_DATA:
        text += " " + c.message
    return text


def build_verdict(result: AbTestResult) -> str:
    """Return the verdict paragraph of ``result``."""
    return " ".join(verdict_parts(result))


def verdict_parts(result: AbTestResult) -> list[str]:
    """Return the verdict's sentences in order: the first is the takeaway (or the SRM alarm)."""
    lang = result.language
    parts: list[str] = []
    if result.srm.mismatch:
        parts.append(result.srm.message)
    frame_p = dict(zip(((c.variant, c.metric) for c in result.comparisons), result.p_adjusted,
                       strict=True))
    primary = [c for c in result.comparisons if c.metric == result.primary_metric]
    bayes = {(b.variant, b.metric): b for b in result.bayes}
    family = sum(not math.isnan(p) for p in result.p_adjusted)
    for c in primary:
        sentence = _sentence(c, frame_p[(c.variant, c.metric)], result)
        b = bayes.get((c.variant, c.metric))
        if b is not None and not math.isnan(b.prob_beat_control) and c.status in (
                AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
            sentence += " " + tr("abtest.verdict.bayes", language=lang, variant=c.variant,
                                 control=c.control, prob=format_number(
                                     100 * b.prob_beat_control, language=lang) + "%")
        parts.append(sentence)
    if family > 1 and result.correction != "none" and primary:
        parts.append(tr(f"abtest.verdict.corrected_{result.correction}", language=lang,
                        k=family))
    for variant, metric in result.vetoes:
        parts.append(tr("abtest.verdict.veto", language=lang, variant=variant,
                        metric=metric_label(metric, lang)))
    for r in result.roi:
        if math.isnan(r.incremental_revenue):
            continue
        money = lambda x: format_money(x, result.currency, language=lang)  # noqa: E731
        parts.append(tr(
            "abtest.verdict.roi", language=lang, variant=r.variant, holdout=r.holdout,
            buyers=format_number(r.incremental_conversions, language=lang),
            revenue=money(r.incremental_revenue), low=money(r.incremental_revenue_ci[0]),
            high=money(r.incremental_revenue_ci[1]), cost=money(r.cost),
            margin=money(r.incremental_margin),
            roi=("–" if math.isnan(r.roi) else format_number(100 * r.roi, language=lang) + "%")))
    if not result.srm.mismatch:
        parts.append(result.srm.message)
    return [p for p in parts if p]
