"""Issue 15, point 4 (A/B): the words on the page and in the report agree with the numbers.

* the verdict is read from the interval shown: significant iff the displayed (decision)
  interval excludes 0, iff the displayed (adjusted) p is below alpha (hypothesis, random
  counts); the decision interval's limits are where an independent test has p = its level
  (scipy's Welch test, a brute-force score inversion for conversion);
* the chance to beat never contradicts the verdict without a sentence saying why;
* treated arms are never called control: ``send`` beside ``holdout`` (also read from stores
  that wrote ``control``), 미발송 그룹 / 발송 그룹 in Korean;
* A and B are compared directly; the same holdout shows one baseline;
* ROI: the shown base x margin - cost reproduces the shown margin, exact to the won;
* the Korean page shows no Latin-letter word outside the allow-list.
"""

from __future__ import annotations

import html
import math
import re
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from workbench.abtest import AbTestParams, readout_from_sums, run_abtest
from workbench.abtest.aggregate import SUM_COLUMNS
from workbench.abtest.frequentist import compare_proportions
from workbench.abtest.multiple import holm
from workbench.abtest.stats import ProportionStats
from workbench.abtest.verdict import (
    bayes_agrees,
    format_effect,
    interval_label,
    roi_formula,
    verdict_parts,
)
from workbench.data import connect
from workbench.settings import Settings
from workbench.ui.abtest import AbTestPage

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from make_reference import score_ci  # noqa: E402  (the brute-force reference, scipy only)

AS_OF = date(2026, 11, 16)
ALPHA = 0.05


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(sample_store)


def _sums(arms: dict[str, tuple]) -> pd.DataFrame:
    """Arm-level sums from ``{arm: (n, conversions, mean revenue of buyers, cv[, opt-outs])}``.

    With a fifth number the arm was messaged (``sent = n``, clicks = conversions) and that
    many customers opted out, so treated pairs also get the message metrics and the guardrail.
    """
    rows = []
    for name, (n, k, mean, cv, *opt_out) in arms.items():
        # buyers spend ``mean`` on average with coefficient of variation ``cv``
        s = k * mean
        rows.append({"variant": name, "n": n, "conversions": k, "sum_orders": k,
                     "sum_orders_sq": k, "sum_revenue": s,
                     "sum_revenue_sq": k * mean * mean * (1 + cv * cv),
                     "sum_revenue_orders": s, "sent": n if opt_out else 0,
                     "clicked": k if opt_out else 0,
                     "unsubscribed": opt_out[0] if opt_out else 0})
    return pd.DataFrame(rows).reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0)


def _readout(arms, **kw) -> object:
    params = AbTestParams(pre_days=0, language=kw.pop("language", "en"), **kw)
    return readout_from_sums(_sums(arms), params, settings=Settings())


# ------------------------------------------------------------------ verdict == interval shown

arm = st.tuples(st.integers(40, 4000), st.floats(0.0, 0.4), st.floats(10_000, 60_000),
                st.floats(0.2, 2.0), st.floats(0.0, 0.05))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arms=st.lists(arm, min_size=2, max_size=3),
       correction=st.sampled_from(["holm", "bh", "none"]), holdout=st.booleans())
def test_verdict_is_significant_iff_the_displayed_interval_excludes_zero(arms, correction,
                                                                         holdout):
    # with a holdout only the treated arms are messaged; an A/B test messages every arm
    names = (["holdout", "A", "B"] if holdout else ["control", "B", "C"])[:len(arms)]
    spec = {nm: (n, int(round(n * rate)), mean, cv,
                 *(() if nm == "holdout" else (int(round(n * out)),)))
            for nm, (n, rate, mean, cv, out) in zip(names, arms, strict=False)}
    r = _readout(spec, correction=correction)
    frame = r.to_frame()
    parts = " ".join(verdict_parts(r, "en"))
    for i, c in enumerate(r.comparisons):
        low, high = r.decision_interval(i)
        excludes = bool(low > 0 or high < 0)
        assert r.decides(i) == excludes == bool(frame["significant"].iloc[i])
        p_shown = r.p_adjusted[i] if not math.isnan(r.p_adjusted[i]) else c.p_value
        if math.isnan(p_shown):
            assert not excludes
            continue
        assume(abs(p_shown - ALPHA) > 1e-6)  # float ties at the boundary are meaningless
        assert excludes == (p_shown < ALPHA), (c.metric, c.variant, c.control, p_shown, low, high)
        if c.metric == "opt_out_rate" and c.control == r.baseline:
            # a veto is exactly a highlighted harmful row (vetoes are against the baseline)
            assert ((c.variant, c.metric) in r.vetoes) == (excludes and c.effect > 0)
        if c.metric == r.primary_metric and c.status in ("ok", "too_little_data"):
            sentence = next(s for s in verdict_parts(r, "en") if
                            s.lower().startswith(c.variant.lower() + " ") and
                            f"against {c.control}" in s)
            assert ("no clear difference" in sentence) == (not excludes)
            # the interval printed is the decision interval, named with its level
            def shown(x: float, c=c) -> str:
                return format_effect(x, c.kind, c.metric, r.currency, "en", unit=False)

            assert (f"({interval_label(r, i, 'en')} {shown(low)} to {shown(high)})"
                    in sentence), sentence
            if correction != "none" and sum(not math.isnan(x) for x in r.p_adjusted) > 1:
                assert "adjusted" in sentence and "CI" in sentence
    assert parts  # something was said


def test_adjusted_interval_limits_are_where_scipy_welch_has_p_equal_to_the_level():
    r = _readout({"holdout": (800, 90, 40_000, 1.0), "A": (800, 120, 42_000, 1.0),
                  "B": (800, 100, 39_000, 1.0)})
    raw = [c.p_value for c in r.comparisons if c.metric in ("conversion", "revenue_per_user",
                                                              "aov")]
    assert np.allclose([p for p in r.p_adjusted if not math.isnan(p)], holm(raw))
    i = next(i for i, c in enumerate(r.comparisons)
             if c.metric == "revenue_per_user" and c.variant == "A" and c.control == "holdout")
    c, a = r.comparisons[i], r.decision_level(i)
    assert ALPHA / 9 <= a <= ALPHA and a == pytest.approx(ALPHA * c.p_value / r.p_adjusted[i])
    arms = r.arms.set_index("variant")

    def welch_p(shift: float) -> float:
        rows = [arms.loc[v] for v in ("holdout", "A")]
        mean = [x.sum_revenue / x.n for x in rows]
        sd = [math.sqrt((x.sum_revenue_sq - x.sum_revenue**2 / x.n) / (x.n - 1)) for x in rows]
        return stats.ttest_ind_from_stats(mean[1] - shift, sd[1], rows[1].n, mean[0], sd[0],
                                          rows[0].n, equal_var=False).pvalue

    low, high = r.decision_interval(i)
    assert welch_p(low) == pytest.approx(a, rel=1e-6)
    assert welch_p(high) == pytest.approx(a, rel=1e-6)


@settings(max_examples=80, deadline=None)
@given(nc=st.integers(1, 3000), nv=st.integers(1, 3000), fc=st.floats(0, 1), fv=st.floats(0, 1),
       alpha=st.sampled_from([0.05, 0.01, 0.05 / 9]))
def test_conversion_interval_inverts_the_pooled_z_test(nc, nv, fc, fv, alpha):
    xc, xv = int(round(nc * fc)), int(round(nv * fv))
    assume(0 < xc + xv < nc + nv)
    c = compare_proportions(ProportionStats(nc, xc), ProportionStats(nv, xv), alpha=alpha,
                            exact=False)
    assume(abs(c.p_value - alpha) > 1e-7)
    assert (c.ci_low > 0 or c.ci_high < 0) == (c.p_value < alpha)
    ref = score_ci(xc, nc, xv, nv, alpha)
    assert c.ci == pytest.approx(ref, abs=1e-7)


def test_chance_to_beat_that_disagrees_comes_with_the_reason():
    # A beats the holdout at p ~ 0.035 alone; with 9 comparisons adjusted it is not clear,
    # while the chance to beat is ~98%: the verdict must say why the two differ.
    r = _readout({"holdout": (1000, 100, 30_000, 1.0), "A": (1000, 130, 30_000, 1.0),
                  "B": (1000, 101, 30_000, 1.0)})
    i = next(i for i, c in enumerate(r.comparisons)
             if c.metric == "conversion" and c.variant == "A" and c.control == "holdout")
    b = next(b for b in r.bayes if b.variant == "A" and b.control == "holdout"
             and b.metric == "conversion")
    assert not r.decides(i) and b.prob_beat_control > 0.975
    assert not bayes_agrees(r, i, b.prob_beat_control)
    en = next(s for s in verdict_parts(r, "en") if s.startswith("A made"))
    ko = next(s for s in verdict_parts(r, "ko") if s.startswith("미발송 그룹 대비 A의 전환율"))
    assert "no clear difference" in en and "not corrected for the 9 comparisons" in en
    assert "보정이 들어 있지 않습니다" in ko
    # and no reason is added where they agree
    j = next(j for j, c in enumerate(r.comparisons)
             if c.metric == "conversion" and c.variant == "B" and c.control == "holdout")
    assert bayes_agrees(r, j, next(b.prob_beat_control for b in r.bayes if b.variant == "B"
                                   and b.control == "holdout" and b.metric == "conversion"))
    sentence = next(s for s in verdict_parts(r, "en") if s.startswith("B made")
                    and "against holdout" in s)
    assert "not corrected" not in sentence


# ------------------------------------------------------------------------------- arm names

def test_legacy_control_beside_holdout_reads_as_send():
    r = _readout({"holdout": (200, 20, 30_000, 1.0), "control": (1800, 250, 30_000, 1.0)},
                 language="ko")
    assert r.variants == ("holdout", "send") and r.baseline == "holdout"
    assert {c.variant for c in r.comparisons} == {"send"}
    text = " ".join(verdict_parts(r, "en"))
    assert "control" not in text.lower() and "Send" in text and "holdout" in text
    ko = " ".join(verdict_parts(r, "ko"))
    assert "미발송 그룹 대비 발송 그룹" in ko and "대조군" not in ko


def test_a_real_ab_control_keeps_its_name():
    r = _readout({"control": (2000, 200, 30_000, 1.0), "B": (2000, 260, 30_000, 1.0)},
                 language="ko")
    assert r.variants == ("control", "B") and r.baseline == "control"
    assert "대조군 대비 B" in " ".join(verdict_parts(r, "ko"))


def test_sample_campaign_arms_are_holdout_and_send(con) -> None:
    # the generator writes "send" (the stored value), and the readout names it for people
    stored = set(con.table("assignments").filter(
        lambda t: t.campaign_id == "CMP002").variant.to_pyarrow().to_pylist())
    assert stored == {"holdout", "send"}
    r = run_abtest(con, AbTestParams(campaign_id="CMP002", as_of=AS_OF, language="ko"))
    assert r.variants == ("holdout", "send") and "미발송 그룹 대비 발송 그룹" in r.message


# ------------------------------------------------------------------- A vs B, one baseline

def test_a_and_b_are_compared_directly_and_the_holdout_has_one_baseline(con) -> None:
    r = run_abtest(con, AbTestParams(campaign_id="CMP001", as_of=AS_OF))
    assert r.variants == ("holdout", "A", "B")
    pairs = {(c.control, c.variant) for c in r.comparisons if c.metric == "conversion"}
    assert pairs == {("holdout", "A"), ("holdout", "B"), ("A", "B")}
    frame = r.to_frame()
    # the pair is in the correction family (3 metrics x 3 pairs)
    assert frame.loc[frame["pair"], "p_adjusted"].notna().sum() == 3
    assert sum(not math.isnan(p) for p in r.p_adjusted) == 9
    assert any(s.startswith("B ") and "against A" in s for s in verdict_parts(r, "en"))
    assert any(h["metric"] == "abtest.B_vs_A.conversion" for h in r.headline())
    # one value per arm and metric, whichever comparison shows it
    values: dict[tuple[str, str], set[float]] = {}
    for c in r.comparisons:
        values.setdefault((c.control, c.metric), set()).add(round(c.value_control, 6))
        values.setdefault((c.variant, c.metric), set()).add(round(c.value_variant, 6))
    assert all(len(v) == 1 for v in values.values()), values
    # conversion and AOV baselines are the raw arm values
    arms = r.arms.set_index("variant")
    conv = r.comparison("A", "conversion")
    assert conv.value_control == pytest.approx(arms.loc["holdout", "conversion_rate"])


# ---------------------------------------------------------------------------------- ROI

def _money(text: str) -> list[int]:
    """Return the amounts written ``₩1,234`` (en) or ``1,234원`` (ko), signed, in order."""
    return [int((a or b).replace(",", "")) * (-1 if sign else 1)
            for sign, a, b in re.findall(r"(-?)(?:₩([\d,]+)|([\d,]+)원)", text)]


@pytest.mark.parametrize("campaign", ["CMP001", "CMP002"])
def test_roi_adds_up_from_the_shown_numbers(con, campaign: str) -> None:
    r = run_abtest(con, AbTestParams(campaign_id=campaign, as_of=AS_OF))
    assert r.roi
    arms = r.arms.set_index("variant")
    h = arms.loc[r.baseline]
    for x in r.roi:
        t = arms.loc[x.variant]
        # the margin base is the extra revenue before coupons, from the arms' own sums
        expected_base = round(t.n * (t.sum_gross / t.n - h.sum_gross / h.n))
        assert x.margin_base == expected_base
        assert x.margin_base * x.margin_rate - x.cost == pytest.approx(x.incremental_margin)
        assert x.cost == pytest.approx(x.message_cost + x.coupon_cost)
        assert x.roi == pytest.approx(x.incremental_margin / x.cost)
        for lang in ("en", "ko"):
            text = roi_formula(x, r.currency, lang)
            base, cost, messages, coupons, margin = _money(text)
            rate = float(re.search(r"([\d.]+)%", text).group(1)) / 100
            assert rate == x.margin_rate
            assert messages + coupons == cost
            assert round(base * rate - cost) == margin  # reproduces exactly, to the won
            assert f"{x.margin_rate:.0%}" in text
        assert roi_formula(x, r.currency, "en") in " ".join(verdict_parts(r, "en"))


# ------------------------------------------------------------------------- Korean page

ALLOWED = {"KRW", "CLV", "RFM", "AUC", "A", "B", "SMS"}


@pytest.mark.parametrize("campaign", ["CMP001", "CMP002"])
def test_korean_page_has_no_latin_words(sample_store, campaign: str) -> None:
    page = AbTestPage(AbTestParams(store=str(sample_store), mode="report", language="ko",
                                   campaign_id=campaign, as_of="2026-11-16"))
    page.compute()
    texts = [page._verdict_html()]
    for part in page.static_parts():
        if isinstance(part, str):
            texts.append(part)
            continue
        layout = part.to_dict()["layout"]
        texts.append(str(layout.get("title", {}).get("text", "")))
        for axis in ("xaxis", "yaxis"):
            texts.append(str(layout.get(axis, {}).get("title", {}).get("text", "")))
        texts += [str(t.get("name") or "") for t in part.to_dict()["data"]]
        texts += [y for t in part.to_dict()["data"] if isinstance(t.get("y"), list | tuple)
                  for y in t["y"] if isinstance(y, str)]  # category labels, not encoded data
    text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(texts)))
    # campaign ids are data, not words: CMP001 and the sample programme's P2025-03a
    text = re.sub(r"\bP\d{4}-\d{2}[a-z]\b", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text))
    ids = {w for w in words if re.fullmatch(r"CMP\d+", w)}
    assert words - ALLOWED - ids == set(), text
    assert "미발송 그룹" in text and ("발송 그룹" in text)
