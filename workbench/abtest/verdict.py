"""The plain-language verdict of an A/B readout, in English or Korean.

A manager reads one paragraph: whether the split can be trusted (a failed sample-ratio check
comes first and says the numbers are not trustworthy), what each variant did to the primary
metric with its interval and p-value, the chance it beats the baseline, guardrail vetoes and,
against a holdout, what the campaign earned after its cost.

The statistics return numbers and statuses; this module makes the sentences from them when a
result is shown (:attr:`AbTestResult.message <workbench.abtest.AbTestResult.message>`,
:meth:`~workbench.abtest.AbTestResult.summary`, the A/B page), in the reader's language.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from workbench.abtest.stats import AbStatus, Comparison, metric_label
from workbench.i18n import format_money, format_number, format_percent, format_value, tr

if TYPE_CHECKING:
    from workbench.abtest.analysis import AbTestResult

__all__ = ["build_verdict", "format_effect", "format_metric_value", "format_p", "metric_label",
           "verdict_parts"]


def _is_rate(kind: str, metric: str) -> bool:
    # Rates (conversion, opens, clicks) read as percentages and their changes as points.
    return kind == "proportion" or metric in ("open_rate", "click_rate")


def format_p(p: float, language: str, *, prefix: bool = True) -> str:
    """Return ``p = 0.003`` or ``p < 0.001`` (without ``prefix``: ``0.003``, ``< 0.001``).

    Examples
    --------
    >>> format_p(0.0004, "en"), format_p(0.0123, "en", prefix=False), format_p(math.nan, "en")
    ('p < 0.001', '0.012', 'p = –')
    """
    if math.isnan(p):
        value = "–"
    elif p < 0.001:
        value = "< 0.001"
    else:
        value = format_number(p, digits=3, language=language)
    if not prefix:
        return value
    return f"p {value}" if value.startswith("<") else f"p = {value}"


def format_metric_value(value: float, kind: str, metric: str, currency: str,
                        language: str) -> str:
    """Format an arm's value of a metric: a percentage for rates, money otherwise."""
    if _is_rate(kind, metric):
        return format_percent(value, digits=2, language=language)
    return format_value(value, "money", currency, language=language)


def format_effect(value: float, kind: str, metric: str, currency: str, language: str, *,
                  signed: bool = False, unit: bool = True) -> str:
    """Format an absolute effect: proportion points for rates, money for revenue and AOV."""
    if math.isnan(value):
        return "–"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else (
        "-" if value < 0 else "")
    mag = abs(value)
    if _is_rate(kind, metric):
        text = format_number(100 * mag, digits=2 if 100 * mag < 0.1 else 1, language=language)
        return sign + (tr("abtest.unit.points", language=language, value=text) if unit else text)
    if metric in ("revenue_per_user", "aov"):
        return sign + format_money(mag, currency, language=language)
    return sign + format_number(mag, digits=2, language=language)


def _sentence(c: Comparison, p_adj: float, result: AbTestResult, lang: str) -> str:
    cur = result.currency
    if c.status not in (AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
        return c.summary(lang)
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
        text += " " + c.summary(lang)
    return text


def build_verdict(result: AbTestResult, language: str | None = None) -> str:
    """Return the verdict paragraph of ``result`` (default language: the result's)."""
    return " ".join(verdict_parts(result, language))


def verdict_parts(result: AbTestResult, language: str | None = None, *,
                  with_srm: bool = True) -> list[str]:
    """Return the verdict's sentences in order: the first is the takeaway (or the SRM alarm).

    Parameters
    ----------
    result
        The readout.
    language
        ``en`` or ``ko``; default: the result's.
    with_srm
        Include the sample-ratio check's sentence (first on a mismatch, else last); a page
        that shows the check in its own box leaves it out.
    """
    lang = language or result.language
    if result.status == AbStatus.NO_DATA:
        return [tr("abtest.verdict.no_data", language=lang)]
    srm = result.srm.summary(lang) if with_srm else ""
    parts: list[str] = []
    if result.srm.mismatch:
        parts.append(srm)
    frame_p = dict(zip(((c.variant, c.metric) for c in result.comparisons), result.p_adjusted,
                       strict=True))
    primary = [c for c in result.comparisons if c.metric == result.primary_metric]
    bayes = {(b.variant, b.metric): b for b in result.bayes}
    family = sum(not math.isnan(p) for p in result.p_adjusted)
    for c in primary:
        sentence = _sentence(c, frame_p[(c.variant, c.metric)], result, lang)
        b = bayes.get((c.variant, c.metric))
        if b is not None and not math.isnan(b.prob_beat_control) and c.status in (
                AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
            sentence += " " + tr("abtest.verdict.bayes", language=lang, variant=c.variant,
                                 control=c.control, prob=format_percent(
                                     b.prob_beat_control, digits=0, language=lang))
        parts.append(sentence)
    if family > 1 and result.correction != "none" and primary:
        parts.append(tr(f"abtest.verdict.corrected_{result.correction}", language=lang,
                        k=family))
    for variant, metric in result.vetoes:
        parts.append(tr("abtest.verdict.veto", language=lang, variant=variant,
                        metric=metric_label(metric, lang)))

    def money(x: float) -> str:
        return format_money(x, result.currency, language=lang)

    for r in result.roi:
        if math.isnan(r.incremental_revenue):
            continue
        parts.append(tr(
            "abtest.verdict.roi", language=lang, variant=r.variant, holdout=r.holdout,
            buyers=format_number(r.incremental_conversions, language=lang),
            revenue=money(r.incremental_revenue), low=money(r.incremental_revenue_ci[0]),
            high=money(r.incremental_revenue_ci[1]), cost=money(r.cost),
            margin=money(r.incremental_margin),
            roi=format_percent(r.roi, digits=0, language=lang)))
    if not result.srm.mismatch:
        parts.append(srm)
    return [p for p in parts if p]
