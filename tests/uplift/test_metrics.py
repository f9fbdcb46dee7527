"""Qini and uplift curves and their normalised areas, against scikit-uplift 0.5.1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import ParameterError
from workbench.uplift import auuc, qini_coefficient, qini_curve, uplift_curve, uplift_table

# Computed by tests/uplift/reference/make_qini.py with scikit-uplift 0.5.1 (not a dependency).
REFERENCE = json.loads((Path(__file__).parent / "reference" / "qini.json").read_text("utf-8"))
CASES = REFERENCE["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_curves_match_sklift(case):
    y, s, t = case["y"], case["score"], case["treated"]
    k, q = qini_curve(y, s, t)
    np.testing.assert_allclose(k, case["qini_k"])
    np.testing.assert_allclose(q, case["qini"], atol=1e-12)
    k, u = uplift_curve(y, s, t)
    np.testing.assert_allclose(k, case["uplift_k"])
    np.testing.assert_allclose(u, case["uplift"], atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_areas_match_sklift(case):
    y, s, t = case["y"], case["score"], case["treated"]
    assert qini_coefficient(y, s, t) == pytest.approx(case["qini_coefficient"], abs=1e-12)
    assert auuc(y, s, t) == pytest.approx(case["auuc"], abs=1e-12)


def test_hand_worked_qini():
    # Ranked: (y=1, treated), (y=0, treated), (y=1, holdout), (y=0, holdout). Q(k) =
    # Y_t - Y_c N_t / N_c: Q(1) = 1, Q(2) = 1, Q(3) = 1 - 1 * 2 / 1 = -1, Q(4) = 1 - 1 * 2 / 2 = 0.
    k, q = qini_curve([1, 0, 1, 0], [4, 3, 2, 1], [1, 1, 0, 0])
    assert k.tolist() == [0, 1, 2, 3, 4]
    assert q.tolist() == [0, 1, 1, -1, 0]


def test_perfect_and_reversed_rankings():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 400)
    y = rng.integers(0, 2, 400)
    perfect = y * t - y * (1 - t)
    assert qini_coefficient(y, perfect, t) == pytest.approx(1.0)
    assert qini_coefficient(y, -perfect, t) < 0


def test_ties_are_one_step():
    k, _ = qini_curve([1, 0, 1, 1], [1, 1, 1, 0], [1, 0, 1, 0])
    assert k.tolist() == [0, 3, 4]


def test_table_has_random_reference():
    y, t = [1, 0, 1, 0, 0, 1], [1, 1, 1, 0, 0, 0]
    table = uplift_table(y, t, {"model": [6, 5, 4, 3, 2, 1]}, n_boot=50)
    assert table["ranking"].tolist() == ["model", "random"]
    assert table.loc[1, "uplift_top_20"] == pytest.approx(2 / 3 - 1 / 3)


@pytest.mark.parametrize(("y", "t", "match"), [
    ([0, 2], [0, 1], "'y' must hold only 0 and 1"),
    ([0, 1], [0, 1, 1], "same length"),
], ids=["non_binary", "lengths"])
def test_bad_inputs_raise(y, t, match):
    with pytest.raises(ParameterError, match=match):
        qini_curve(y, [0.0] * len(y), t)
