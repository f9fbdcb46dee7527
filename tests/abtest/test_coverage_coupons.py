"""Coverage of the coupon-economics intervals over 500 simulated shops (slow).

Each shop of the sample generator knows, per campaign arm, the coupon cost on the orders its
customers would have placed anyway and the own orders the campaign pulled forward out of the
30 days after its window (``truth_campaigns``). Over every arm with a usable holdout (50 or
more customers) of 500 shops, the 95% intervals of :func:`coupon_economics` must cover the
truth 93-97% of the time. Run with ``pytest --run-slow tests/abtest/test_coverage_coupons.py``;
the shops are cached on disk (``python -m tests._shops 500`` fills the cache in parallel).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests._shops import END, simulated_shops
from workbench.abtest import coupon_economics
from workbench.settings import Settings

SHOPS = 500


def intervals(shops: int = SHOPS) -> pd.DataFrame:
    """Return one row per arm and shop: estimates, intervals and the truth."""
    frames = []
    for seed, con in simulated_shops(shops):
        result = coupon_economics(con, as_of=END, settings=Settings())
        truth = con.table("truth_campaigns").to_pandas()
        frames.append(result.arms.merge(truth, on=["campaign_id", "variant"],
                                        suffixes=("", "_true")).assign(seed=seed))
    return pd.concat(frames, ignore_index=True)


def coverage(frame: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """Return ``{figure: (coverage, intervals)}`` for the three validated figures."""
    out = {}
    coupons = frame[(frame["coupon_cost"] > 0) & frame["coupon_cost_anyway_low"].notna()]
    hit = ((coupons["coupon_cost_anyway_low"] <= coupons["coupon_cost_anyway_true"])
           & (coupons["coupon_cost_anyway_true"] <= coupons["coupon_cost_anyway_high"]))
    out["coupon_cost_anyway"] = (float(hit.mean()), len(coupons))
    post = frame[frame["pull_forward_orders"].notna()]
    for name in ("pull_forward_orders", "pull_forward_revenue"):
        truth = -post[f"{name}_true"]  # the truth counts what was removed; the estimate is a dip
        hit = (post[f"{name}_low"] <= truth) & (truth <= post[f"{name}_high"])
        out[name] = (float(hit.mean()), len(post))
    return out


@pytest.mark.slow
def test_coupon_intervals_cover_the_truth_over_500_shops():
    result = coverage(intervals())
    for name, (share, n) in result.items():
        assert n >= 1_000, (name, n)
        assert 0.93 <= share <= 0.97, (name, share, n)


if __name__ == "__main__":  # python -m tests.abtest.test_coverage_coupons [shops]
    import sys

    print(coverage(intervals(int(sys.argv[1]) if len(sys.argv) > 1 else SHOPS)))
