"""Golden values for corrections and non-inferiority (tests/abtest/reference/make_inference.py).

Tolerance: relative 1e-9 (absolute 1e-15 for values at 0) -- the same closed formulas as
statsmodels in double precision. Validation errors are checked word for word in English and
Korean.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.abtest import (
    SUM_COLUMNS,
    AbTestParams,
    MeanStats,
    ProportionStats,
    adjust_p_values,
    noninferiority_means,
    noninferiority_proportions,
    readout_from_sums,
)
from workbench.abtest.multiple import CORRECTIONS
from workbench.errors import ParameterError
from workbench.i18n import tr, using_language
from workbench.settings import Settings

REF = json.loads((Path(__file__).parent / "reference" / "inference.json").read_text("utf-8"))
REL, ABS = 1e-9, 1e-15


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


# ------------------------------------------------------------------ multiple-testing corrections

CORRECTION_CASES = REF["corrections"]


@pytest.mark.parametrize("method", ["bonferroni", "sidak", "hommel", "holm", "bh"])
@pytest.mark.parametrize("case", CORRECTION_CASES, ids=[f"m{len(c['p'])}-{i}" for i, c in
                                                       enumerate(CORRECTION_CASES)])
def test_adjusted_p_values_equal_statsmodels(case: dict, method: str) -> None:
    ours = adjust_p_values(case["p"], method)
    assert all(close(a, b) for a, b in zip(ours, case[method], strict=True)), (ours,
                                                                                case[method])
    # statsmodels rejects at adjusted p <= alpha
    assert (ours <= 0.05).tolist() == case[f"reject_{method}"]


@pytest.mark.parametrize("method", ["bonferroni", "sidak", "hommel"])
def test_nan_is_kept_and_not_counted(method: str) -> None:
    p = CORRECTION_CASES[2]["p"]
    with_nan = adjust_p_values([math.nan, *p[:2], math.nan, *p[2:]], method)
    assert math.isnan(with_nan[0]) and math.isnan(with_nan[3])
    np.testing.assert_allclose(np.delete(with_nan, [0, 3]), CORRECTION_CASES[2][method],
                               rtol=REL)


def test_hommel_lies_between_the_raw_p_and_holm() -> None:
    for case in CORRECTION_CASES:
        p, hom, holm = (np.array(case[k]) for k in ("p", "hommel", "holm"))
        assert (p <= hom + 1e-15).all() and (hom <= holm + 1e-15).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_corrections_keep_the_order_and_their_bounds(p: list[float]) -> None:
    raw = np.array(p)
    adj = {m: adjust_p_values(p, m) for m in ("bonferroni", "sidak", "hommel", "holm")}
    order = np.argsort(raw, kind="stable")
    for m, a in adj.items():
        assert ((0 <= a) & (a <= 1)).all() and (a >= raw - 1e-15).all(), m
        assert (np.diff(a[order]) >= -1e-15).all(), m       # a smaller p never adjusts higher
    assert (adj["sidak"] <= adj["bonferroni"] + 1e-15).all()
    assert (adj["hommel"] <= adj["holm"] + 1e-15).all()
    assert (adj["holm"] <= adj["bonferroni"] + 1e-15).all()


def _sums(**arms: tuple[int, int]) -> pd.DataFrame:
    rows = [{"variant": v, "n": n, "conversions": x} for v, (n, x) in arms.items()]
    return pd.DataFrame(rows).reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0)


ARMS = {"control": (5000, 300), "A": (5000, 330), "B": (5000, 372), "C": (5000, 352)}


@pytest.mark.parametrize("correction", ["bonferroni", "sidak", "hommel"])
def test_readout_accepts_the_new_corrections(correction: str) -> None:
    assert correction in CORRECTIONS
    alpha = 0.05
    r = readout_from_sums(_sums(**ARMS), AbTestParams(pre_days=0, correction=correction),
                          settings=Settings())
    family = [i for i, p in enumerate(r.p_adjusted) if not math.isnan(p)]
    m = len(family)
    assert m == 6  # conversion: 3 against control + 3 treated pairs
    raw = [r.comparisons[i].p_value for i in family]
    np.testing.assert_allclose([r.p_adjusted[i] for i in family],
                               adjust_p_values(raw, correction), rtol=1e-12)
    expected_level = {"bonferroni": alpha / m, "sidak": 1 - (1 - alpha) ** (1 / m)}
    for i in family:
        # the interval the words are read from agrees with the adjusted p-value
        assert r.decides(i) == (r.p_adjusted[i] < alpha)
        level = r.decision_level(i)
        assert alpha / m - 1e-15 <= level <= alpha + 1e-15
        if correction in expected_level:
            assert math.isclose(level, expected_level[correction], rel_tol=1e-12)
    assert any(r.decides(i) for i in family)
    name = {"bonferroni": "Bonferroni", "sidak": "Sidak", "hommel": "Hommel"}[correction]
    assert f"adjusted for {m} comparisons ({name})" in r.summary("en")
    assert tr(f"abtest.verdict.corrected_{correction}", language="ko", k=m) in r.summary("ko")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rates=st.lists(st.floats(0.04, 0.09), min_size=3, max_size=4),
       correction=st.sampled_from(["bonferroni", "sidak", "hommel"]))
def test_verdict_agrees_with_the_adjusted_p(rates: list[float], correction: str) -> None:
    arms = {name: (3000, round(3000 * r)) for name, r in zip("WXYZ", rates, strict=False)}
    r = readout_from_sums(_sums(**arms), AbTestParams(pre_days=0, correction=correction),
                          settings=Settings())
    for i, p in enumerate(r.p_adjusted):
        if not math.isnan(p) and abs(p - 0.05) > 1e-9:
            assert r.decides(i) == (p < 0.05)


def test_sidak_level_matches_statsmodels_corrected_alpha() -> None:
    for case in CORRECTION_CASES:
        m = len(case["p"])
        assert math.isclose(-math.expm1(math.log1p(-0.05) / m), case["alpha_sidak"],
                            rel_tol=REL)
        assert math.isclose(0.05 / m, case["alpha_bonferroni"], rel_tol=REL)


# ------------------------------------------------------------------ non-inferiority


def _check_result(r, case: dict) -> None:
    sign = 1.0 if case["higher_is_better"] else -1.0
    assert close(r.estimate, case["estimate"])
    assert close(r.std_error, case["std_error"])
    # statsmodels reports (d - value) / se; ours is positive when it favours non-inferiority
    assert close(r.statistic, sign * case["statistic"])
    assert close(r.p_value, case["p_value"])
    assert close(r.ci[0], case["ci"][0]) and close(r.ci[1], case["ci"][1])
    assert r.non_inferior == case["non_inferior"]
    # the decision agrees with the 1 - 2 alpha interval against the margin
    worse_end = r.ci[0] if case["higher_is_better"] else -r.ci[1]
    assert r.non_inferior == (worse_end > -case["margin"])


@pytest.mark.parametrize("case", REF["proportions"], ids=lambda c: (
    f"{c['control']['successes']}of{c['control']['n']}-{c['variant']['successes']}of"
    f"{c['variant']['n']}-{'hi' if c['higher_is_better'] else 'lo'}"))
def test_noninferiority_proportions_equal_statsmodels_wald(case: dict) -> None:
    r = noninferiority_proportions(ProportionStats(**case["control"]),
                                   ProportionStats(**case["variant"]), case["margin"],
                                   alpha=case["alpha"],
                                   higher_is_better=case["higher_is_better"])
    assert r.test == "wald" and r.status == "ok" and math.isinf(r.df)
    _check_result(r, case)


@pytest.mark.parametrize("case", REF["means"], ids=lambda c: (
    f"n{c['control']['n']}-{'hi' if c['higher_is_better'] else 'lo'}"))
def test_noninferiority_means_equal_statsmodels_welch(case: dict) -> None:
    r = noninferiority_means(MeanStats(**case["control"]), MeanStats(**case["variant"]),
                             case["margin"], alpha=case["alpha"],
                             higher_is_better=case["higher_is_better"])
    assert r.test == "welch" and r.status == "ok"
    assert close(r.df, case["df"])
    _check_result(r, case)


def test_both_verdicts_occur_in_the_reference() -> None:
    verdicts = {c["non_inferior"] for c in REF["proportions"] + REF["means"]}
    assert verdicts == {True, False}


@pytest.mark.parametrize(("control", "variant", "status"), [
    (ProportionStats(0, 0), ProportionStats(100, 3), "empty_arm"),
    (ProportionStats(100, 0), ProportionStats(100, 0), "zero_variance"),
], ids=["empty-arm", "no-events"])
def test_proportion_data_conditions_are_statuses(control, variant, status) -> None:
    r = noninferiority_proportions(control, variant, 0.01)
    assert r.status == status and not r.non_inferior and math.isnan(r.p_value)


@pytest.mark.parametrize(("control", "variant", "status"), [
    (MeanStats(0, 0.0, 0.0), MeanStats(5, 10.0, 30.0), "empty_arm"),
    (MeanStats(1, 2.0, 4.0), MeanStats(5, 10.0, 30.0), "too_little_data"),
    (MeanStats(3, 6.0, 12.0), MeanStats(3, 6.0, 12.0), "zero_variance"),
], ids=["empty-arm", "one-customer", "constant"])
def test_mean_data_conditions_are_statuses(control, variant, status) -> None:
    r = noninferiority_means(control, variant, 1.0)
    assert r.status == status and not r.non_inferior and math.isnan(r.p_value)


# ------------------------------------------------------------------ validation, en and ko

P = (ProportionStats(1000, 100), ProportionStats(1000, 95))
M = (MeanStats(4, 10.0, 30.0), MeanStats(4, 6.0, 14.0))
FUNCS = {"noninferiority_proportions": (noninferiority_proportions, P),
         "noninferiority_means": (noninferiority_means, M)}

MESSAGES = [
    ("noninferiority_proportions", {"margin": 0.0},
     "noninferiority_proportions: 'margin' must be in (0, 1) for a difference of rates, in "
     "proportion points (0.005 is half a point); got 0.0.",
     "noninferiority_proportions: 비율 차이의 'margin'은 0과 1 사이(양 끝 제외)의 비율 "
     "포인트여야 합니다(0.005는 0.5%p). 받은 값: 0.0."),
    ("noninferiority_proportions", {"margin": 1.5},
     "noninferiority_proportions: 'margin' must be in (0, 1) for a difference of rates, in "
     "proportion points (0.005 is half a point); got 1.5.",
     "noninferiority_proportions: 비율 차이의 'margin'은 0과 1 사이(양 끝 제외)의 비율 "
     "포인트여야 합니다(0.005는 0.5%p). 받은 값: 1.5."),
    ("noninferiority_means", {"margin": -2.0},
     "noninferiority_means: 'margin' must be a positive number, the largest harm you accept "
     "in the metric's units; got -2.0.",
     "noninferiority_means: 'margin'은 감수할 수 있는 최대 악화 폭(지표 단위)으로, 0보다 큰 "
     "수여야 합니다. 받은 값: -2.0."),
    ("noninferiority_means", {"margin": math.nan},
     "noninferiority_means: 'margin' must be a positive number, the largest harm you accept "
     "in the metric's units; got nan.",
     "noninferiority_means: 'margin'은 감수할 수 있는 최대 악화 폭(지표 단위)으로, 0보다 큰 "
     "수여야 합니다. 받은 값: nan."),
    ("noninferiority_means", {"margin": "1"},
     "noninferiority_means: 'margin' must be a positive number, the largest harm you accept "
     "in the metric's units; got '1'.",
     "noninferiority_means: 'margin'은 감수할 수 있는 최대 악화 폭(지표 단위)으로, 0보다 큰 "
     "수여야 합니다. 받은 값: '1'."),
    ("noninferiority_proportions", {"margin": 0.01, "alpha": 0.5},
     "noninferiority_proportions: 'alpha' must be in (0, 0.5); got 0.5.",
     "noninferiority_proportions: 'alpha'는 0과 0.5 사이(양 끝 제외)여야 합니다. 받은 값: 0.5."),
    ("noninferiority_means", {"margin": 1.0, "alpha": 0.0},
     "noninferiority_means: 'alpha' must be in (0, 1); got 0.0.",
     "noninferiority_means: 'alpha'는 0과 1 사이(양 끝 제외)여야 합니다. 받은 값: 0.0."),
]


@pytest.mark.parametrize(("func", "kwargs", "en", "ko"), MESSAGES,
                         ids=["zero-margin", "margin-above-1", "negative-margin", "nan-margin",
                              "text-margin", "alpha-half", "alpha-zero"])
def test_bad_parameters_raise_in_english_and_korean(func, kwargs, en, ko) -> None:
    f, (control, variant) = FUNCS[func]
    for language, message in (("en", en), ("ko", ko)):
        with using_language(language), pytest.raises(ParameterError,
                                                     match=f"^{re.escape(message)}$"):
            f(control, variant, **kwargs)


def test_bad_correction_names_the_choices() -> None:
    with pytest.raises(ParameterError, match=re.escape(
            "adjust_p_values: 'method' must be one of ['holm', 'bh', 'bonferroni', 'sidak', "
            "'hommel', 'none']; got 'sidack'.")):
        adjust_p_values([0.1, 0.2], "sidack")
