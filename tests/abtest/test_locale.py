"""Every literal message key used by the A/B code exists in English and Korean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.i18n import _catalog

ROOT = Path(__file__).resolve().parents[2] / "workbench"
FILES = [*(ROOT / "abtest").glob("*.py"), ROOT / "viz" / "abtest.py", ROOT / "ui" / "abtest.py"]


def used_keys() -> set[str]:
    keys = set()
    for path in FILES:
        keys |= set(re.findall(r"""tr\(\s*["'](abtest\.[a-z_.]+)["']""", path.read_text("utf-8")))
    return keys


@pytest.mark.parametrize("key", sorted(used_keys()))
def test_key_exists(key: str) -> None:
    assert {"en", "ko"} <= set(_catalog()[key])


@pytest.mark.parametrize(("prefix", "names"), [
    ("abtest.metric.", ("conversion", "revenue_per_user", "aov", "open_rate", "click_rate",
                        "opt_out_rate")),
    ("abtest.ui.state_", ("running", "finished", "planned")),
    ("abtest.verdict.corrected_", ("holm", "bh")),
    ("abtest.viz.", ("better", "worse", "unclear")),
    ("abtest.status.", ("empty_arm", "too_few", "small_denominator", "zero_conversions",
                        "zero_denominator", "all_converted", "zero_variance")),
    ("abtest.error.", ("mde", "mde_abs")),
    ("abtest.arm.", ("holdout", "send", "control", "CRM")),
])
def test_dynamic_keys_exist(prefix: str, names: tuple[str, ...]) -> None:
    for name in names:
        assert prefix + name in _catalog()
