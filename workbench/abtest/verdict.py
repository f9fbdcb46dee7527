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

from workbench.abtest.stats import AbStatus, arm_label, metric_label
from workbench.i18n import format_money, format_number, format_percent, format_value, tr

if TYPE_CHECKING:
    from workbench.abtest.analysis import AbTestResult
    from workbench.abtest.roi import RoiResult

__all__ = ["arm_label", "bayes_agrees", "build_verdict", "format_effect", "format_level",
           "format_metric_value", "format_p", "interval_label", "metric_label", "roi_formula",
           "verdict_parts"]


def _is_rate(kind: str, metric: str) -> bool:
    # Rates (conversion, opens, clicks) read as percentages and their changes as points.
    return kind == "proportion" or metric in ("open_rate", "click_rate")


def format_p(p: float, language: str, *, prefix: bool = True) -> str:
    """Return ``p = 0.003`` or ``p < 0.001`` (without ``prefix``: ``0.003``, ``< 0.001``).

    Korean writes 유의확률 for p (``유의확률 0.003``, ``유의확률 0.001 미만``): a page in Korean
    shows no Latin letters but IDs and the allowed abbreviations.

    Examples
    --------
    >>> format_p(0.0004, "en"), format_p(0.0123, "en", prefix=False), format_p(math.nan, "en")
    ('p < 0.001', '0.012', 'p = –')
    """
    below = not math.isnan(p) and p < 0.001
    if math.isnan(p):
        value = "–"
    elif below:
        value = format_number(0.001, digits=3, language=language)
    else:
        value = format_number(p, digits=3, language=language)
    if not prefix:
        return tr("abtest.verdict.below", language=language, value=value) if below else value
    return tr("abtest.verdict.p_below" if below else "abtest.verdict.p", language=language,
              value=value)


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
    if metric in ("revenue_per_user", "aov", "median_order_value"):
        # the reader's amount style (만/억 in Korean), like the arm values beside it
        return sign + format_money(mag, currency, language=language, style=None)
    return sign + format_number(mag, digits=2, language=language)


def format_level(alpha: float, language: str) -> str:
    """Return the confidence level ``1 - alpha`` in percent: ``95``, ``98.3``, ``99.17``.

    Examples
    --------
    >>> format_level(0.05, "en"), format_level(0.05 / 3, "en"), format_level(0.05 / 6, "en")
    ('95', '98.3', '99.2')
    """
    level = 100 * (1 - alpha)
    digits = 0 if abs(level - round(level)) < 0.05 else 1
    return format_number(level, digits=digits, language=language)


def _adjusted(result: AbTestResult, i: int) -> bool:
    """Return whether comparison ``i`` is shown with a multiplicity-adjusted interval and p."""
    return (result.correction != "none" and not math.isnan(result.p_adjusted[i])
            and sum(not math.isnan(x) for x in result.p_adjusted) > 1)


def interval_label(result: AbTestResult, i: int, language: str) -> str:
    """Return ``95% CI`` or ``adjusted 98.3% CI``: the name of comparison ``i``'s interval."""
    key = "abtest.verdict.ci_adjusted" if _adjusted(result, i) else "abtest.verdict.ci"
    return tr(key, language=language,
              level=format_level(result.decision_level(i), language))


def bayes_agrees(result: AbTestResult, i: int, prob: float) -> bool:
    """Return whether the chance to beat tells the same story as the verdict on comparison ``i``.

    With a flat prior the chance is about ``1 - p / 2`` of the unadjusted one-sided test, so a
    "clear difference" goes with a chance beyond ``1 - alpha / 2`` in the effect's direction
    and "no clear difference" with a chance between ``alpha / 2`` and ``1 - alpha / 2``.
    """
    c = result.comparisons[i]
    bar = 1 - c.alpha / 2
    if result.decides(i):
        return prob >= bar if c.effect > 0 else prob <= 1 - bar
    return 1 - bar < prob < bar


def _sentence(i: int, result: AbTestResult, lang: str) -> str:
    c, p_adj = result.comparisons[i], result.p_adjusted[i]
    cur = result.currency
    if c.status not in (AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
        return c.summary(lang)
    # The words, the interval and the p-value all come from one decision: the interval shown
    # is the decision interval (adjusted when the p is), and it excludes 0 exactly when the
    # p shown is below alpha (AbTestResult.decides).
    low, high = result.decision_interval(i)
    adjusted = _adjusted(result, i)
    p = p_adj if adjusted else c.p_value
    fields = {
        "variant": arm_label(c.variant, lang), "control": arm_label(c.control, lang),
        "metric": metric_label(c.metric, lang),
        "effect": format_effect(c.effect, c.kind, c.metric, cur, lang),
        "signed": format_effect(c.effect, c.kind, c.metric, cur, lang, signed=True),
        "low": format_effect(low, c.kind, c.metric, cur, lang, unit=False),
        "high": format_effect(high, c.kind, c.metric, cur, lang, unit=False),
        "ci": interval_label(result, i, lang),
        "p": format_p(p, lang),
    }
    if adjusted:
        fields["p"] = tr("abtest.verdict.p_adjusted", language=lang, p=format_p(p, lang))
    fields["effect"] = fields["effect"].lstrip("-")
    if result.decides(i):
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
    primary = [i for i, c in enumerate(result.comparisons) if c.metric == result.primary_metric]
    bayes = {(b.variant, b.control, b.metric): b for b in result.bayes}
    family = sum(not math.isnan(p) for p in result.p_adjusted)
    for i in primary:
        c = result.comparisons[i]
        sentence = _sentence(i, result, lang)
        b = bayes.get((c.variant, c.control, c.metric))
        if b is not None and not math.isnan(b.prob_beat_control) and c.status in (
                AbStatus.OK, AbStatus.TOO_LITTLE_DATA):
            sentence += " " + _bayes_sentence(result, i, b.prob_beat_control, family, lang)
        parts.append(sentence)
    if family > 1 and result.correction != "none" and primary:
        parts.append(tr(f"abtest.verdict.corrected_{result.correction}", language=lang,
                        k=family))
    for variant, metric in result.vetoes:
        parts.append(tr("abtest.verdict.veto", language=lang, variant=arm_label(variant, lang),
                        metric=metric_label(metric, lang)))

    def money(x: float) -> str:
        return format_money(x, result.currency, language=lang, style=None)

    for r in result.roi:
        if math.isnan(r.incremental_revenue):
            continue
        parts.append(tr(
            "abtest.verdict.roi", language=lang, variant=arm_label(r.variant, lang),
            holdout=arm_label(r.holdout, lang),
            buyers=format_number(r.incremental_conversions, language=lang),
            revenue=money(r.incremental_revenue), low=money(r.incremental_revenue_ci[0]),
            high=money(r.incremental_revenue_ci[1]), level=format_level(result.alpha, lang),
            formula=roi_formula(r, result.currency, lang),
            roi=format_percent(r.roi, digits=0, language=lang)))
    if not result.srm.mismatch:
        parts.append(srm)
    if lang == "en":  # a sentence may open with an arm's name ("send raised ...")
        parts = [p[:1].upper() + p[1:] for p in parts]
    return [p for p in parts if p]


def _digits(x: float) -> int:
    """Return the fewest decimals (up to 4) that write ``x`` exactly."""
    return next((d for d in range(4) if abs(x * 10**d - round(x * 10**d)) < 1e-9), 4)


def _bayes_sentence(result: AbTestResult, i: int, prob: float, family: int, lang: str) -> str:
    """Return the chance to beat, with why it differs from the verdict when it does.

    The chance is kept even when it disagrees (a manager asks for it, and dropping it only
    when inconvenient would hide information), but never alone: it is a per-comparison,
    flat-prior figure with no multiplicity correction, so a sentence says that the verdict,
    not the chance, decides.
    """
    c = result.comparisons[i]
    text = tr("abtest.verdict.bayes", language=lang, variant=arm_label(c.variant, lang),
              control=arm_label(c.control, lang),
              prob=format_percent(prob, digits=0, language=lang))
    if bayes_agrees(result, i, prob):
        return text
    key = ("abtest.verdict.bayes_uncorrected" if _adjusted(result, i)
           else "abtest.verdict.bayes_model")
    return text + " " + tr(key, language=lang, k=family)


def roi_formula(r: RoiResult, currency: str, language: str) -> str:
    """Return the margin's arithmetic with every number shown, e.g. ``₩X x 30% - ₩Y = ₩Z``.

    Amounts are exact to the won (never 만/억 rounded) so that the shown numbers reproduce
    the result: ``margin_base x margin_rate - cost = incremental_margin``, rounded to the won.
    """
    def money(x: float) -> str:
        if language == "ko" and currency.upper() == "KRW" and math.isfinite(x):
            # exact like plain, but in the 원 suffix the page's other Korean amounts use
            return ("-" if round(x) < 0 else "") + format_number(abs(round(x)),
                                                                 language=language) + "원"
        return format_money(x, currency, language=language, style="plain")

    return tr("abtest.verdict.roi_formula", language=language, base=money(r.margin_base),
              rate=format_percent(r.margin_rate, digits=_digits(100 * r.margin_rate),
                                  language=language),
              messages=money(r.message_cost), coupons=money(r.coupon_cost),
              cost=money(r.cost), margin=money(r.incremental_margin))
