"""Revenue capping and the median order value in the A/B readout (issue 17, point 5 shown)."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy.stats import mstats

from workbench.abtest import AbTestParams, quantile_diff_ci, readout_from_sums, run_abtest
from workbench.abtest.revenue_cap import cap_revenue
from workbench.errors import ParameterError


def _customers(gen: np.random.Generator, n: int = 1001) -> pd.DataFrame:
    variant = np.where(np.arange(n) % 2 == 0, "holdout", "send")
    revenue = np.round(gen.lognormal(10, 1.2, n) * (gen.random(n) < 0.3), 2)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "variant": variant,
                         "converted": (revenue > 0).astype(int), "revenue": revenue})


def test_cap_is_the_pooled_percentile_as_in_scipy_winsorize(rng) -> None:
    frame = _customers(rng)
    capped, cap = cap_revenue(ibis.memtable(frame), 99)
    # n = 1001 and p = 0.99 put the percentile on an order statistic, where numpy's linear
    # interpolation and scipy's count-based winsorizing (the top int(0.01 n) = 10) agree.
    assert cap.cap == pytest.approx(float(np.quantile(frame["revenue"], 0.99)), rel=1e-12)
    expected = np.asarray(mstats.winsorize(frame["revenue"].to_numpy(), limits=(0, 0.01)))
    got = capped.order_by("customer_id").to_pandas().set_index("customer_id")["revenue"]
    np.testing.assert_allclose(got.loc[frame["customer_id"]].to_numpy(), expected, rtol=1e-12)
    assert cap.n_capped == int((frame["revenue"] > cap.cap).sum()) and cap.n == 1001


def test_readout_uses_capped_means_and_states_the_cap(rng, tmp_path) -> None:
    frame = _customers(rng)
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    r = run_abtest(None, AbTestParams(data_file=str(path), cap_percentile=99, pre_days=0))
    w = np.asarray(mstats.winsorize(frame["revenue"].to_numpy(), limits=(0, 0.01)))
    arms = r.arms.set_index("variant")
    for arm in ("holdout", "send"):
        mask = (frame["variant"] == arm).to_numpy()
        assert arms.loc[arm, "revenue_per_user"] == pytest.approx(w[mask].mean(), rel=1e-12)
    assert r.revenue_cap is not None and r.revenue_cap.n_capped == 10
    assert "capped at the pooled 99th percentile" in r.message
    assert "10 of 1,001 customers" in r.message
    assert "99 백분위수" in r.summary("ko")
    plain = run_abtest(None, AbTestParams(data_file=str(path), pre_days=0))
    assert plain.revenue_cap is None and "capped" not in plain.message
    assert plain.arms.set_index("variant").loc["send", "revenue_per_user"] == pytest.approx(
        frame.loc[frame["variant"] == "send", "revenue"].mean(), rel=1e-12)


def test_arm_sums_cannot_be_capped_and_the_readout_says_so(tmp_path) -> None:
    path = tmp_path / "arms.csv"
    pd.DataFrame({"variant": ["holdout", "send"], "n": [1000, 1000],
                  "conversions": [100, 130]}).to_csv(path, index=False)
    r = run_abtest(None, AbTestParams(data_file=str(path), cap_percentile=95))
    assert not r.revenue_cap.applied and "revenue is not capped" in r.message


def test_median_order_value_row_with_its_bootstrap_interval(rng) -> None:
    sums = pd.DataFrame({"variant": ["holdout", "send"], "n": [400, 400],
                         "conversions": [60, 80], "sum_orders": [70, 95],
                         "sum_revenue": [3.5e6, 4.9e6]})
    orders = pd.DataFrame({"variant": ["holdout"] * 70 + ["send"] * 95,
                           "amount": np.round(rng.lognormal(10.8, 0.5, 165))})
    r = readout_from_sums(sums, AbTestParams(pre_days=0), order_values=orders)
    row = r.to_frame().query("metric == 'median_order_value'").iloc[0]
    h = orders.loc[orders["variant"] == "holdout", "amount"]
    s = orders.loc[orders["variant"] == "send", "amount"]
    assert row["value_control"] == np.median(h) and row["value_variant"] == np.median(s)
    ref = quantile_diff_ci(h, s, q=0.5, n_boot=2000, seed=0)
    assert (row["ci_low"], row["ci_high"]) == (ref.ci_low, ref.ci_high)
    assert math.isnan(row["p_value"]) and row["variant"] == "send"
    assert row["significant"] == (ref.ci_low > 0 or ref.ci_high < 0)
    assert len(r.figure().data) >= 1  # the forest plot skips the median row


@pytest.mark.parametrize("value", [-1.0, 100.0], ids=["negative", "hundred"])
def test_cap_percentile_is_checked(value: float) -> None:
    with pytest.raises(ParameterError, match="cap_percentile"):
        AbTestParams(cap_percentile=value)
