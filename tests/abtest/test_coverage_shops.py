"""Coverage of the A/B readout's intervals over 500 simulated shops (slow).

Each shop is the sample generator with its own seed (2,500 customers, :mod:`tests._shops`).
The generator knows each arm's true effect. The readout's 95% interval for the difference in
conversion (counting cancelled orders too, as the truth does) is a Wald interval whose variance
is that of a random split of the campaign's audience, so its estimand is an expectation over the
split as well as over the orders: ``truth_campaigns.audience_absolute_uplift``, the mean over the
whole audience (holdout included) of each customer's P(order in the window | the arm's message)
minus P(order | no message). (``absolute_uplift`` instead conditions on who landed in the arm;
the interval is conservative for it, covering it about 97.5% of the time: effects differ between
customers, so the split adds variance the conditional truth does not have.) With 500 shops the
binomial standard error of the coverage is about 1%, hence the [0.93, 0.97] band.

The global holdout's readout (``run_global_holdout``, last 90 days) is checked against
``truth_parameters.crm_absolute_uplift`` the same way: the expected share ordering with and
without the programme's messages for the customers outside the global holdout.

Run with ``pytest --run-slow tests/abtest/test_coverage_shops.py``; the shops are cached (see
:mod:`tests._shops`), so a second run only reads them back.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests._shops import END, simulated_shops
from workbench.abtest import run_global_holdout
from workbench.abtest.analysis import AbTestParams, run_abtest
from workbench.settings import Settings

SHOPS = 500
#: The fixed arm read out in every shop: the KakaoTalk campaign's single treated arm, the
#: largest test in a small shop (about 900 customers, 90 of them in the holdout).
CAMPAIGN, ARM = "CMP002", "send"


def _covers(low: float, high: float, truth: float) -> bool:
    return bool(low <= truth <= high)


def readout(con) -> dict[str, float]:
    """Return one shop's intervals and truths (the CMP002 arm and the global holdout)."""
    # The coupon code is given: inferring it costs a query per shop.
    r = run_abtest(con, AbTestParams(campaign_id=CAMPAIGN, as_of=END, count_cancelled=True,
                                     pre_days=0, coupon_codes="KAKAO5000"))
    frame = r.to_frame()
    row = frame[(frame["metric"] == "conversion") & (frame["variant"] == ARM)
                & (frame["control"] == "holdout")].iloc[0]
    truth = con.table("truth_campaigns").filter(
        lambda t: (t.campaign_id == CAMPAIGN) & (t.variant == ARM)).execute().iloc[0]
    params = dict(con.table("truth_parameters").execute()[["parameter", "value"]].values)
    g = run_global_holdout(con, END, days=90, share=params["global_holdout_share"],
                           settings=Settings()).to_frame()
    g = g[(g["metric"] == "conversion") & (g["control"] == "holdout")].iloc[0]
    return {"effect": row["effect"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
            "truth": truth["audience_absolute_uplift"],
            "truth_conditional": truth["absolute_uplift"], "gh_effect": g["effect"],
            "gh_ci_low": g["ci_low"], "gh_ci_high": g["ci_high"],
            "gh_truth": params["crm_absolute_uplift"]}


def _readouts() -> pd.DataFrame:
    return pd.DataFrame([{"seed": seed, **readout(con)} for seed, con in simulated_shops(SHOPS)])


@pytest.fixture(scope="module")
def readouts() -> pd.DataFrame:
    return _readouts()


@pytest.mark.slow
def test_campaign_intervals_cover_the_true_uplift(readouts):
    covered = [_covers(r.ci_low, r.ci_high, r.truth) for r in readouts.itertuples()]
    coverage = sum(covered) / len(covered)
    assert len(covered) == SHOPS
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.slow
def test_global_holdout_intervals_cover_the_true_uplift(readouts):
    covered = [_covers(r.gh_ci_low, r.gh_ci_high, r.gh_truth) for r in readouts.itertuples()]
    coverage = sum(covered) / len(covered)
    assert 0.93 <= coverage <= 0.97, coverage
