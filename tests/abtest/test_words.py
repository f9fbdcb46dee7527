"""Words at the edge: statistics return numbers and statuses; results word them when read."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import workbench.abtest as abtest
from workbench.abtest.aggregate import SUM_COLUMNS
from workbench.abtest.analysis import AbTestParams, AbTestResult, readout_from_sums
from workbench.abtest.srm import SrmResult, srm_check
from workbench.abtest.stats import Comparison
from workbench.abtest.verdict import verdict_parts
from workbench.errors import ParameterError
from workbench.i18n import using_language
from workbench.settings import Settings

PACKAGE = Path(abtest.__file__).parent


def readout(language: str | None = None, **arms: tuple[int, int]) -> AbTestResult:
    rows = [{"variant": v, "n": n, "conversions": x} for v, (n, x) in arms.items()]
    sums = pd.DataFrame(rows).reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0)
    return readout_from_sums(sums, AbTestParams(pre_days=0, language=language),
                             settings=Settings())


@pytest.mark.parametrize("func", [
    "compare_proportions", "welch_ttest", "compare_ratios", "cuped_ttest", "srm_check",
    "beta_binomial", "campaign_roi", "sample_size_per_arm", "plan_experiment",
])
def test_statistics_take_no_language(func: str) -> None:
    assert "language" not in inspect.signature(getattr(abtest, func)).parameters


@pytest.mark.parametrize("cls", [AbTestResult, SrmResult, Comparison])
def test_results_hold_no_sentences(cls: type) -> None:
    assert "message" not in {f.name for f in dataclasses.fields(cls)}


def test_verdict_in_the_result_language_and_on_request() -> None:
    r = readout("ko", control=(20_000, 2_000), B=(20_000, 2_240))
    assert r.message == r.summary() == r.summary("ko") and "신뢰구간" in r.message
    assert r.summary("en").startswith("B raised conversion by 1.2 points against control")
    frame = r.to_frame().set_index("metric")
    assert frame.loc["conversion", "message"] == ""  # nothing to explain
    assert frame.loc["aov", "message"] == r.comparison("B", "aov").summary("ko") != ""


def test_srm_sentence_is_left_out_for_its_own_box() -> None:
    r = readout(control=(51_000, 5_100), B=(49_000, 5_300))
    srm = r.srm.summary("en")
    assert verdict_parts(r, "en")[0] == srm
    assert srm not in verdict_parts(r, "en", with_srm=False)
    assert "표본 비율 불일치" in r.srm.summary("ko")


def test_srm_result_words_each_outcome() -> None:
    assert srm_check({"control": 10, "X": 3}, {"control": 1.0}).unplanned == ("X",)
    assert "(X)" in srm_check({"control": 10, "X": 3}, {"control": 1.0}).summary("en")
    assert "아직 없습니다" in srm_check({}, {"control": 1.0}).summary("ko")


def test_status_sentence_in_the_frame_follows_the_result() -> None:
    r = readout("ko", control=(12, 2), B=(14, 5))
    message = r.to_frame().set_index("metric").loc["conversion", "message"]
    assert message == r.comparison("B", "conversion").summary("ko") and "30명 미만" in message


def test_errors_follow_the_active_language() -> None:
    with using_language("ko"), pytest.raises(ParameterError, match="받은 값: 1.5"):
        abtest.compare_proportions(abtest.ProportionStats(10, 1), abtest.ProportionStats(10, 2),
                                   alpha=1.5)
    with using_language("ko"), pytest.raises(KeyError, match="비교 결과가 없습니다"):
        readout(control=(100, 10), B=(100, 12)).comparison("B", "nope")


def _raised_messages() -> list[tuple[str, int, str]]:
    """Every ``raise X(...)`` in the package whose message is not made by ``tr``.

    ``AttributeError`` from the package's ``__getattr__`` keeps Python's own wording.
    """
    bad = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args
                    and ast.unparse(node.exc.func) != "AttributeError"):
                first = node.exc.args[0]
                made_by_tr = (isinstance(first, ast.Call) and isinstance(first.func, ast.Name)
                              and first.func.id == "tr")
                if not made_by_tr:
                    bad.append((path.name, node.lineno, ast.unparse(first)[:60]))
    return bad


def test_every_error_is_worded_in_both_languages() -> None:
    assert _raised_messages() == []


def test_package_import_leaves_scipy_for_first_use() -> None:
    code = ("import sys, workbench.abtest as a; a.assign_variants(['C1'], 's', {'A': 1.0}); "
            "print('scipy' in sys.modules); a.sample_size_per_arm; print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_every_public_name_resolves_once() -> None:
    assert len(abtest.__all__) == len(set(abtest.__all__))
    for name in abtest.__all__:
        assert getattr(abtest, name) is not None
    with pytest.raises(AttributeError):
        abtest.no_such_name  # noqa: B018
