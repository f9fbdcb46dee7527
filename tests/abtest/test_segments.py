"""Lift by segment: shrinkage golden against statsmodels, statuses, the store path and chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from workbench.abtest import AbStatus, AbTestParams, lift_by_segment, segment_lift_from_sums
from workbench.abtest.segments import SEGMENT_COLUMNS, segment_choices
from workbench.abtest.shrinkage import random_effects, shrink
from workbench.data import connect
from workbench.errors import ParameterError

GOLDEN = json.loads((Path(__file__).parent / "reference" / "segments.json").read_text())


@pytest.mark.parametrize("method", ["dl", "pm"])
@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_random_effects_and_shrinkage_match_statsmodels(case: str, method: str) -> None:
    c = GOLDEN[case]
    ref = c[method]
    r = random_effects(c["effects"], c["variances"], method)
    assert r.tau2 == pytest.approx(ref["tau2"], rel=1e-6, abs=1e-12)
    assert r.mu == pytest.approx(ref["mu"], rel=1e-6)
    assert r.se_mu == pytest.approx(ref["se_mu"], rel=1e-6)
    assert r.q == pytest.approx(ref["q"], rel=1e-9)
    est, low, high, factor = shrink(c["effects"], c["variances"], r)
    np.testing.assert_allclose(est, ref["shrunk"], rtol=1e-6)
    np.testing.assert_allclose((high - low) / (2 * 1.959963984540054), ref["shrunk_sd"],
                               rtol=1e-6)
    assert ((factor > 0) & (factor <= 1)).all()


def _sums(case: str) -> pd.DataFrame:
    c = GOLDEN[case]
    rows = []
    for i, n in enumerate(c["n"]):
        rows += [{"segment": f"s{i}", "variant": "holdout", "n": n,
                  "conversions": c["conversions_control"][i]},
                 {"segment": f"s{i}", "variant": "send", "n": n,
                  "conversions": c["conversions_variant"][i]}]
    return pd.DataFrame(rows)


def test_segment_readout_tests_corrects_and_shrinks() -> None:
    c = GOLDEN["heterogeneous"]
    r = segment_lift_from_sums(_sums("heterogeneous"), correction="hommel")
    f = r.to_frame()
    assert list(f.columns) == list(SEGMENT_COLUMNS) and r.status == AbStatus.OK
    # the per-segment p-value is the pooled z test (statsmodels), corrected by Hommel
    p = [proportions_ztest([xv, xc], [n, n])[1] for xv, xc, n in zip(
        c["conversions_variant"], c["conversions_control"], c["n"], strict=True)]
    np.testing.assert_allclose(f["p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(f["p_adjusted"], multipletests(p, method="hommel")[1],
                               rtol=1e-9)
    np.testing.assert_allclose(f["effect"], c["effects"], rtol=1e-12)
    np.testing.assert_allclose(f["std_error"] ** 2, c["variances"], rtol=1e-9)
    np.testing.assert_allclose(f["shrunk_effect"], c["dl"]["shrunk"], rtol=1e-6)
    assert r.overall["send"].tau2 == pytest.approx(c["dl"]["tau2"], rel=1e-6)
    assert (f["significant"] == (f["p_adjusted"] < 0.05)).all()


def test_homogeneous_segments_shrink_to_the_overall_effect() -> None:
    r = segment_lift_from_sums(_sums("homogeneous"), method="pm")
    f = r.to_frame()
    np.testing.assert_allclose(f["shrunk_effect"], GOLDEN["homogeneous"]["pm"]["mu"],
                               rtol=1e-9)
    assert (f["shrinkage"] == 1).all() and "differ no more than chance" in r.message


def test_shrinkage_lowers_the_error_against_known_effects() -> None:
    # 200 simulated campaigns of 8 segments whose true effects spread around 2 points: the
    # shrunk estimates are closer to the truth than the raw ones (mean squared error).
    gen = np.random.default_rng(3)
    raw = shrunk = 0.0
    for _ in range(200):
        truth = 0.02 + gen.normal(0, 0.01, 8)
        n = gen.integers(150, 1500, 8)
        xc = gen.binomial(n, 0.10)
        xv = gen.binomial(n, 0.10 + truth)
        rows = [{"segment": str(i), "variant": v, "n": int(n[i]), "conversions": int(x[i])}
                for i in range(8) for v, x in (("holdout", xc), ("send", xv))]
        f = segment_lift_from_sums(pd.DataFrame(rows)).to_frame().sort_values("segment")
        idx = f["segment"].astype(int).to_numpy()
        raw += float(np.sum((f["effect"].to_numpy() - truth[idx]) ** 2))
        shrunk += float(np.sum((f["shrunk_effect"].to_numpy() - truth[idx]) ** 2))
    assert shrunk < 0.8 * raw


def test_empty_and_tiny_segments_are_status_rows() -> None:
    sums = pd.DataFrame({"segment": ["big", "big", "tiny", "tiny", "only_holdout"],
                         "variant": ["holdout", "send", "holdout", "send", "holdout"],
                         "n": [400, 400, 5, 3, 50], "conversions": [40, 60, 1, 0, 5]})
    r = segment_lift_from_sums(sums)
    f = r.to_frame().set_index("segment")
    assert f.loc["tiny", "status"] == "too_small" and math.isnan(f.loc["tiny", "p_value"])
    assert f.loc["only_holdout", "n_variant"] == 0
    assert f.loc["only_holdout", "status"] == "too_small"
    assert r.status == AbStatus.TOO_LITTLE_DATA  # one segment tested: nothing to pool
    assert isinstance(r.figure(), go.Figure)
    empty = segment_lift_from_sums(pd.DataFrame(columns=["segment", "variant"]))
    assert empty.status == AbStatus.NO_DATA and empty.to_frame().empty
    assert isinstance(empty.figure(), go.Figure) and empty.message


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"metric": "aov"}, "'metric' must be one of"),
    ({"correction": "tukey"}, "'correction' must be one of"),
    ({"method": "reml"}, "'method' must be one of"),
    ({"min_customers": 1}, "'min_customers' must be a whole number"),
], ids=["metric", "correction", "method", "min_customers"])
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        segment_lift_from_sums(_sums("homogeneous"), **kwargs)


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(sample_store)


def test_unknown_column_lists_the_choices(con) -> None:
    with pytest.raises(ParameterError, match=r"'by' must be one of \['rfm_segment'.*'region'"):
        lift_by_segment(con, "CMP002", by="regoin")
    assert "phone" not in segment_choices(con) and "customer_id" not in segment_choices(con)


@pytest.mark.parametrize("by", ["rfm_segment", "member_tier", "acquisition_channel",
                                "region", "churn_band"])
def test_store_breakdown_counts_every_assigned_customer(con, by: str) -> None:
    r = lift_by_segment(con, AbTestParams(campaign_id="CMP002"), by=by, min_customers=5)
    truth = con.table("truth_campaigns").filter(
        lambda t: t.campaign_id == "CMP002").execute().set_index("variant")["customers"]
    f = r.to_frame()
    if by == "churn_band":  # the sample store has no saved model: a status, not a crash
        assert f.empty and "workbench refresh" in r.message
        return
    assert f["n_control"].sum() == truth["holdout"]
    assert f["n_variant"].sum() == truth["send"]
    assert r.segment_day is not None and r.pre_treatment
    assert isinstance(r.figure(), go.Figure) and r.summary("ko")


def test_rfm_segments_are_taken_before_the_campaign(con) -> None:
    # A customer's segment is the one computed as of the start day, whatever they did after.
    from workbench.rfm.migration import store_segments
    from workbench.settings import load_settings

    r = lift_by_segment(con, "CMP002", by="rfm_segment", min_customers=5)
    seg = store_segments(con, r.segment_day, settings=load_settings()).to_pandas()
    a = con.table("assignments").filter(lambda t: t.campaign_id == "CMP002").to_pandas()
    merged = a.merge(seg[["customer_id", "segment"]], on="customer_id", how="left")
    counts = merged.fillna({"segment": ""}).groupby(["segment", "variant"]).size()
    f = r.to_frame().set_index("segment")
    for segment, row in f.iterrows():
        assert row["n_control"] == counts.get((segment, "holdout"), 0)


def test_page_breaks_down_on_demand(sample_store) -> None:
    from workbench.ui.abtest import AbTestPage

    page = AbTestPage(AbTestParams(store=str(sample_store), mode="interactive",
                                   as_of="2026-11-16", campaign_id="CMP002", language="ko"))
    page.widget()
    assert page.w_by.value == "" and page.w_seg_table.value == ""  # nothing at load
    assert [v for _, v in page.w_by.options][:5] == ["", "rfm_segment", "churn_band",
                                                    "member_tier", "acquisition_channel"]
    page.w_by.value = "member_tier"
    assert "wb-segments-table" in page.w_seg_table.value and "회원 등급별 효과" in (
        page.w_seg_table.value)
    assert "data-status='too_small'" in page.w_seg_table.value  # 30 per arm: most are small
    page.w_by.value = "churn_band"  # no saved model in this store: a banner, not a crash
    assert "workbench refresh" in page.w_seg_table.value
    page.w_campaign.value = "CMP001"  # another campaign: the breakdown is reset
    assert page.w_by.value == "" and page.w_seg_table.value == ""
