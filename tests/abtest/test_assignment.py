"""Deterministic assignment and planning."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.abtest import (
    GLOBAL_HOLDOUT,
    assign_campaign,
    assign_variants,
    bucket_of,
    expected_duration_days,
    in_global_holdout,
    minimum_detectable_effect,
    sample_size_per_arm,
)
from workbench.abtest.srm import srm_check
from workbench.errors import ParameterError

IDS = [f"C{i:06d}" for i in range(50_000)]


def test_bucket_follows_the_documented_formula() -> None:
    digest = hashlib.sha256(b"spring:C000123").digest()
    assert bucket_of("C000123", "spring") == int.from_bytes(digest[:8], "big") / 2**64


def test_same_customer_same_variant_whatever_the_list() -> None:
    shares = {"holdout": 0.1, "A": 0.45, "B": 0.45}
    full = assign_variants(IDS, "cmp-1", shares)
    subset = assign_variants(IDS[::-7], "cmp-1", shares)
    assert (full.loc[subset.index] == subset).all()
    assert full.index.name == "customer_id" and full.name == "variant"


def test_shares_are_respected_and_pass_srm() -> None:
    shares = {"holdout": 0.1, "A": 0.45, "B": 0.45}
    counts = assign_variants(IDS, "cmp-2", shares).value_counts().to_dict()
    assert not srm_check(counts, shares).mismatch
    assert abs(counts["holdout"] / len(IDS) - 0.1) < 0.01


def test_salts_are_independent() -> None:
    a = assign_variants(IDS, "cmp-a", {"control": 0.5, "B": 0.5})
    b = assign_variants(IDS, "cmp-b", {"control": 0.5, "B": 0.5})
    table = np.array([[((a == x) & (b == y)).sum() for y in ("control", "B")]
                      for x in ("control", "B")])
    assert (abs(table / len(IDS) - 0.25) < 0.01).all()


def test_appending_an_arm_keeps_earlier_arms() -> None:
    before = assign_variants(IDS, "cmp-3", {"holdout": 0.1, "A": 0.9})
    after = assign_variants(IDS, "cmp-3", {"holdout": 0.1, "A": 0.8, "B": 0.1})
    assert (after[before == "holdout"] == "holdout").all()
    assert set(after[before == "A"]) == {"A", "B"}


def test_global_holdout_is_excluded_and_independent() -> None:
    out = assign_campaign(IDS, "cmp-4", {"control": 0.5, "B": 0.5}, global_holdout_share=0.05)
    held = in_global_holdout(IDS, 0.05)
    assert (out[held.to_numpy()] == GLOBAL_HOLDOUT).all()
    plain = assign_variants(IDS, "cmp-4", {"control": 0.5, "B": 0.5})
    assert (out[~held.to_numpy()] == plain[~held.to_numpy()]).all()
    assert abs(held.mean() - 0.05) < 0.005


@pytest.mark.parametrize(("salt", "shares", "match"), [
    ("", {"A": 1.0}, "'salt' must be a non-empty string"),
    ("x", {}, "'shares' must be a non-empty dict"),
    ("x", {"A": -1.0, "B": 2.0}, "shares must be non-negative numbers"),
    ("x", {"A": 0.0}, "shares must not all be zero"),
], ids=["no-salt", "no-shares", "negative", "all-zero"])
def test_bad_arguments(salt: str, shares: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        assign_variants(["C1"], salt, shares)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50), st.text(min_size=1))
def test_assignment_is_a_function_of_salt_and_id(ids: list[str], salt: str) -> None:
    shares = {"holdout": 0.2, "A": 0.3, "B": 0.5}
    once = assign_variants(ids, salt, shares)
    again = assign_variants(list(reversed(ids)), salt, shares)
    for cid in ids:
        assert once.loc[[cid]].iloc[0] == again.loc[[cid]].iloc[0]
    assert set(once) <= set(shares)


# -------------------------------------------------------------------------------------- planning


def test_mde_and_sample_size_are_inverse() -> None:
    for base, mde in ((0.05, 0.1), (0.2, 0.03), (0.01, 0.4)):
        n = sample_size_per_arm(base, mde)
        assert minimum_detectable_effect(n, base) <= mde + 1e-9
        assert minimum_detectable_effect(n - 1, base) > mde - 1e-6


def test_mde_is_infinite_for_a_tiny_audience() -> None:
    assert math.isinf(minimum_detectable_effect(2, 0.01))


def test_mde_shrinks_with_audience() -> None:
    mdes = [minimum_detectable_effect(n, 0.05) for n in (1_000, 10_000, 100_000)]
    assert mdes[0] > mdes[1] > mdes[2] > 0


@pytest.mark.parametrize(("args", "match"), [
    ((0.0, 0.1), r"'baseline_rate' must be in \(0, 1\); got 0.0."),
    ((0.05, 0.0), "'mde' must be a non-zero relative lift"),
    ((0.6, 1.0), r"must stay in \(0, 1\); got 1.2"),
], ids=["baseline", "mde", "over-one"])
def test_sample_size_errors(args: tuple, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        sample_size_per_arm(*args)


def test_expected_duration() -> None:
    d = expected_duration_days(10_000, 2_000, {"holdout": 0.1, "A": 0.45, "B": 0.45})
    assert d.limiting_arm == "holdout" and d.days == 50 and d.total_customers == 100_000
