"""Risk bands by capacity and by target precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.churn import BandRule, assign_bands, band_summary
from workbench.errors import ParameterError


def _risk(values):
    return pd.Series(values, index=[f"c{i:03d}" for i in range(len(values))], dtype=float)


def test_capacity_takes_exactly_n_and_breaks_ties_by_customer_id():
    risk = _risk([0.5, 0.9, 0.9, 0.9, 0.1, 0.7])
    bands = assign_bands(risk, BandRule("capacity", high=2, medium=2))
    assert bands.tolist() == ["low", "high", "high", "medium", "low", "medium"]


def test_capacity_as_shares():
    risk = _risk(np.linspace(0, 1, 100))
    bands = assign_bands(risk, BandRule("capacity", high=0.1, medium=0.25))
    assert (bands == "high").sum() == 10 and (bands == "medium").sum() == 25
    assert risk[bands == "high"].min() > risk[bands == "medium"].max()


def test_precision_bands_meet_their_floor_and_are_maximal():
    rng = np.random.default_rng(3)
    risk = _risk(rng.random(500))
    rule = BandRule("precision", high=0.9, medium=0.7)
    bands = assign_bands(risk, rule)
    high = risk[bands == "high"]
    assert high.mean() >= 0.9
    extended = risk.sort_values(ascending=False).head(len(high) + 1)
    assert extended.mean() < 0.9
    at_risk = risk[bands != "low"]
    assert at_risk.mean() >= 0.7
    assert risk.sort_values(ascending=False).head(len(at_risk) + 1).mean() < 0.7


def test_equal_risks_get_equal_precision_bands():
    risk = _risk([0.95, 0.8, 0.8, 0.8, 0.2])
    bands = assign_bands(risk, BandRule("precision", high=0.85, medium=0.75))
    # top-2 mean is 0.875 but the tie at 0.8 cannot be split: only 0.95 is high
    assert bands.tolist() == ["high", "medium", "medium", "medium", "low"]


@pytest.mark.parametrize(("rule", "message"), [
    (dict(kind="rank"), "'kind' must be one of"),
    (dict(kind="capacity", high=0), "capacity 'high' must be a positive count"),
    (dict(kind="capacity", high=2.5), "capacity 'high' must be a positive count"),
    (dict(kind="precision", high=0.5, medium=0.8), "0 < medium <= high <= 1"),
], ids=["kind", "zero", "fractional-count", "floors"])
def test_rules_are_validated(rule, message):
    with pytest.raises(ParameterError, match=message):
        BandRule(**rule)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=80), st.integers(1, 20),
       st.integers(0, 20))
def test_capacity_bands_are_nested_and_never_exceed_capacity(values, high, medium):
    risk = _risk(values)
    bands = assign_bands(risk, BandRule("capacity", high=high, medium=medium))
    assert (bands == "high").sum() == min(high, len(risk))
    assert (bands == "medium").sum() == min(medium, len(risk) - min(high, len(risk)))
    if (bands == "high").any() and (bands == "low").any():
        assert risk[bands == "high"].min() >= risk[bands == "low"].max()


def test_band_summary_counts_every_customer():
    risk = _risk([0.9, 0.8, 0.2, 0.1])
    bands = assign_bands(risk, BandRule("capacity", high=1, medium=1))
    summary = band_summary(risk, bands)
    assert summary["band"].tolist() == ["high", "medium", "low"]
    assert summary["customers"].tolist() == [1, 1, 2]
    assert summary["mean_risk"].tolist() == pytest.approx([0.9, 0.8, 0.15])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([0.1, 0.2, 0.5, 0.9, float("nan")]) | st.floats(0, 1),
                min_size=1, max_size=60), st.integers(1, 15), st.integers(0, 25),
       st.randoms(use_true_random=False))
def test_capacity_bands_equal_a_full_sort_by_risk_then_customer_id(values, high, medium, rnd):
    ids = [f"c{i:03d}" for i in range(len(values))]
    rnd.shuffle(ids)  # ids in no particular order, many ties at the cut
    risk = pd.Series(values, index=ids, dtype=float)
    bands = assign_bands(risk, BandRule("capacity", high=high, medium=medium))
    ranked = sorted((-v, i) for i, v in risk.items() if not np.isnan(v))
    expected = pd.Series("low", index=ids, dtype=object)
    for position, (_, customer) in enumerate(ranked):
        if position < high:
            expected[customer] = "high"
        elif position < high + medium:
            expected[customer] = "medium"
    assert bands.tolist() == expected.tolist()


def test_bands_sharing_a_level_are_told_apart_by_rank():
    # Issue 15: a shop losing most customers had three bands all called "High risk".
    from workbench.churn.analysis import _bands_frame

    ids = [f"C{i:03d}" for i in range(100)]
    risk = pd.Series(np.linspace(0.55, 0.99, 100), index=ids)
    customers = pd.DataFrame({
        "customer_id": ids, "churn_risk": risk.to_numpy(),
        "risk_band": assign_bands(risk, BandRule("capacity", high=0.1, medium=0.2)).to_numpy(),
        "value": 1000.0})
    customers["value_at_risk"] = customers["churn_risk"] * customers["value"]
    for language, first in (("en", "Band 1: High risk"), ("ko", "1구간: 위험 높음")):
        frame = _bands_frame(customers, language)
        assert frame["label"].is_unique
        assert frame["label"].iloc[0].startswith(first)
        means = customers.groupby("risk_band")["churn_risk"].mean()
        assert frame["mean_risk"].tolist() == pytest.approx(means.reindex(frame["band"]).tolist())
