"""End to end: the store -> sufficient statistics -> readout, data files, edge cases."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.abtest import CRM_ARM, in_global_holdout, run_global_holdout
from workbench.abtest.aggregate import SUM_COLUMNS, arm_sums, customer_outcomes
from workbench.abtest.analysis import (
    FRAME_COLUMNS,
    AbTestParams,
    campaign_overview,
    list_campaigns,
    readout_from_sums,
    run_abtest,
)
from workbench.abtest.frequentist import compare_proportions
from workbench.abtest.holdout import global_holdout_part
from workbench.abtest.stats import AbStatus, ProportionStats
from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(sample_store)


@pytest.mark.parametrize("campaign", ["CMP001", "CMP002"])
def test_campaign_readout(con, campaign: str) -> None:
    r = run_abtest(con, AbTestParams(campaign_id=campaign, as_of=AS_OF))
    assert r.status == AbStatus.OK and r.variants[0] == "holdout" and r.baseline == "holdout"
    assert not r.srm.mismatch and r.message.endswith(r.srm.message)
    frame = r.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert set(frame["metric"]) >= {"conversion", "revenue_per_user", "aov"}
    assert (frame["p_value"].dropna().between(0, 1)).all()
    assert len(r.roi) == len(r.variants) - 1
    assert isinstance(r.figure(), go.Figure) and isinstance(r.figure_arms(), go.Figure)
    truth = con.table("truth_campaigns").filter(
        lambda t: t.campaign_id == campaign).execute().set_index("variant")
    assert (r.arms.set_index("variant")["n"] == truth["customers"]).all()


def test_observed_conversion_matches_the_generator_truth(con) -> None:
    # Conversions counting every order placed (as the truth does) stay within 3.5 standard
    # errors of each arm's expected conversion.
    for campaign in ("CMP001", "CMP002"):
        r = run_abtest(con, AbTestParams(campaign_id=campaign, count_cancelled=True))
        truth = con.table("truth_campaigns").filter(
            lambda t, c=campaign: t.campaign_id == c).execute().set_index("variant")
        arms = r.arms.set_index("variant")
        for variant, row in truth.iterrows():
            p = row["expected_conversion"]
            se = math.sqrt(p * (1 - p) / row["customers"])
            assert abs(arms.loc[variant, "conversion_rate"] - p) < 3.5 * se, (campaign, variant)


def test_korean_verdict(con) -> None:
    r = run_abtest(con, AbTestParams(campaign_id="CMP002", language="ko"))
    assert "신뢰구간" in r.message and "표본 비율" in r.message


def test_latest_campaign_by_default_and_overview(con) -> None:
    r = run_abtest(con, AbTestParams(as_of=AS_OF))
    listing = list_campaigns(con, AS_OF)
    assert r.campaign_id == listing["campaign_id"].iloc[0]
    assert set(listing["state"]) == {"finished"}
    overview = campaign_overview(con, AS_OF)
    assert list(overview["campaign_id"]) == list(listing["campaign_id"])
    assert overview["verdict"].str.len().gt(20).all()


def test_states_as_of_during_a_campaign(con) -> None:
    listing = list_campaigns(con)
    row = listing[listing["campaign_id"] == "CMP002"].iloc[0]
    during = (row["started_at"] + timedelta(days=3)).date()
    states = list_campaigns(con, during).set_index("campaign_id")["state"]
    assert states["CMP002"] == "running" and states["CMP001"] == "finished"
    before = list_campaigns(con, (row["started_at"] - timedelta(days=1)).date())
    assert before.set_index("campaign_id")["state"]["CMP002"] == "planned"
    # a readout during the campaign only counts orders before as_of
    early = run_abtest(con, AbTestParams(campaign_id="CMP002", as_of=during))
    full = run_abtest(con, AbTestParams(campaign_id="CMP002"))
    assert early.arms["conversions"].sum() < full.arms["conversions"].sum()


def test_unknown_campaign_suggests_a_name(con) -> None:
    with pytest.raises(ParameterError, match=r"campaign 'CMP01' is not in the store.*"
                                             r"Did you mean 'CMP001'\?"):
        run_abtest(con, AbTestParams(campaign_id="CMP01"))


def test_a_campaign_without_a_cost_per_message_uses_the_parameter(sample_store, tmp_path
                                                                    ) -> None:
    """Campaigns an audience export records have no cost (the sending service bills it): the
    ROI then uses the readout's cost_per_message instead of failing on a missing value."""
    import shutil

    path = tmp_path / "store.duckdb"
    shutil.copy(sample_store, path)
    raw = __import__("duckdb").connect(str(path))
    raw.execute("UPDATE campaigns SET cost_per_message = NULL WHERE campaign_id = 'CMP001'")
    raw.close()
    con = connect(path)
    free = run_abtest(con, AbTestParams(campaign_id="CMP001", as_of=AS_OF))
    priced = run_abtest(con, AbTestParams(campaign_id="CMP001", as_of=AS_OF,
                                          cost_per_message=20.0))
    assert free.status == AbStatus.OK and len(free.roi) == len(free.variants) - 1
    for a, b in zip(free.roi, priced.roi, strict=True):
        assert a.message_cost == 0.0
        assert b.message_cost == pytest.approx(20.0 * b.messages_sent)


def test_store_without_assignments(tmp_path) -> None:
    path = tmp_path / "empty.duckdb"
    with write_store(path) as w:
        w.write("products", ibis.memtable({"product_id": ["P1"], "price": [1.0]}))
    r = run_abtest(connect(path), AbTestParams())
    assert r.status == AbStatus.NO_DATA and "No customers are assigned" in r.message
    assert r.to_frame().empty and "wb-message" in r._repr_html_()


# ------------------------------------------------------------------------------ readout from sums


def sums(**arms: tuple[int, int]) -> pd.DataFrame:
    rows = [{"variant": v, "n": n, "conversions": x} for v, (n, x) in arms.items()]
    return pd.DataFrame(rows).reindex(columns=["variant", *SUM_COLUMNS]).fillna(0.0)


def test_srm_failure_says_not_trustworthy_first() -> None:
    r = readout_from_sums(sums(control=(51_000, 5_100), B=(49_000, 5_300)),
                          AbTestParams(pre_days=0), settings=Settings())
    assert r.status == AbStatus.SAMPLE_RATIO_MISMATCH
    assert r.message.startswith("Sample-ratio mismatch") and "not trustworthy" in r.message
    assert "trustworthy" in r.figure().layout.title.text


def test_verdict_example_sentence() -> None:
    r = readout_from_sums(sums(control=(20_000, 2_000), B=(20_000, 2_240)),
                          AbTestParams(pre_days=0, correction="none"), settings=Settings())
    c = compare_proportions(ProportionStats(20_000, 2_000), ProportionStats(20_000, 2_240))
    assert r.message.startswith(
        f"B raised conversion by 1.2 points against control (95% CI "
        f"{100 * c.ci_low:.1f} to {100 * c.ci_high:.1f}), p < 0.001.")
    assert "The split is as planned" in r.message


@pytest.mark.parametrize(("arms", "status", "text"), [
    ({"control": (0, 0), "B": (100, 5)}, AbStatus.EMPTY_ARM, "has no customers"),
    ({"control": (100, 0), "B": (100, 0)}, AbStatus.ZERO_CONVERSIONS, "No customer converted"),
    ({"control": (12, 2), "B": (14, 5)}, AbStatus.TOO_LITTLE_DATA, "fewer than 30"),
], ids=["empty-arm", "zero-conversions", "too-few"])
def test_edge_cases_are_statuses(arms: dict, status: AbStatus, text: str) -> None:
    r = readout_from_sums(sums(**arms), AbTestParams(pre_days=0), settings=Settings())
    assert r.comparison("B", "conversion").status == status and text in r.message
    # an empty arm is also a sample-ratio mismatch, which takes precedence
    assert r.status == (AbStatus.SAMPLE_RATIO_MISMATCH if status == AbStatus.EMPTY_ARM
                        else status)
    r.to_frame()
    r.figure()


def test_three_arms_are_corrected_together() -> None:
    r = readout_from_sums(sums(control=(5000, 300), A=(5000, 330), B=(5000, 370)),
                          AbTestParams(pre_days=0, correction="holm"), settings=Settings())
    frame = r.to_frame().set_index(["variant", "metric"])
    raw = frame.loc[[("A", "conversion"), ("B", "conversion")], "p_value"]
    adj = frame.loc[[("A", "conversion"), ("B", "conversion")], "p_adjusted"]
    assert (adj >= raw).all() and adj.max() <= 1
    bh = readout_from_sums(sums(control=(5000, 300), A=(5000, 330), B=(5000, 370)),
                           AbTestParams(pre_days=0, correction="bh"), settings=Settings())
    assert (bh.to_frame()["p_adjusted"].dropna() <= frame["p_adjusted"].dropna().to_numpy()
            + 1e-12).all()


def test_guardrail_vetoes_a_winner() -> None:
    frame = sums(control=(20_000, 2_000), B=(20_000, 2_300))
    frame["sent"] = [20_000, 20_000]
    frame["unsubscribed"] = [20, 80]
    r = readout_from_sums(frame, AbTestParams(pre_days=0), settings=Settings())
    assert r.vetoes == (("B", "opt_out_rate"),)
    assert "do not roll it out" in r.message


# ------------------------------------------------------------------------------------ data files


def test_customer_level_data_file(tmp_path, rng) -> None:
    n = 3000
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(2 * n)],
                          "variant": ["control"] * n + ["B"] * n,
                          "converted": np.r_[rng.random(n) < 0.1, rng.random(n) < 0.13]})
    frame["revenue"] = frame["converted"] * rng.gamma(2.0, 20_000, 2 * n).round()
    path = tmp_path / "test.csv"
    frame.to_csv(path, index=False)
    r = run_abtest(None, AbTestParams(data_file=str(path), pre_days=0), settings=Settings())
    c = compare_proportions(
        ProportionStats(n, int(frame["converted"][:n].sum())),
        ProportionStats(n, int(frame["converted"][n:].sum())))
    got = r.comparison("B", "conversion")
    assert got.p_value == pytest.approx(c.p_value) and got.ci == pytest.approx(c.ci)
    assert r.campaign_id == "test" and r.roi == ()


def test_arm_level_data_file(tmp_path) -> None:
    path = tmp_path / "arms.csv"
    pd.DataFrame({"variant": ["control", "B"], "n": [40, 41], "conversions": [12, 19]}).to_csv(
        path, index=False)
    r = run_abtest(None, AbTestParams(data_file=str(path), pre_days=0), settings=Settings())
    assert r.comparison("B", "conversion").test == "z"
    assert r.comparison("B", "conversion").effect == pytest.approx(19 / 41 - 12 / 40)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window_days": 0}, "'window_days' must be between 1 and 365; got 0."),
    ({"correction": "bonf"}, "'correction' must be one of"),
    ({"primary_metric": "conversions"}, "Did you mean 'conversion'"),
    ({"planned_shares": "A:0.5"}, "'planned_shares' must look like"),
    ({"campaign_id": "X", "data_file": "y.csv"}, "either 'campaign_id' or 'data_file'"),
], ids=["window", "correction", "metric", "shares", "both"])
def test_params_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        AbTestParams(**kwargs)


def test_missing_data_file() -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        run_abtest(None, AbTestParams(data_file="/nonexistent/x.csv"), settings=Settings())


# ------------------------------------------------------------------ the Ibis aggregation vs pandas


def test_customer_outcomes_against_pandas() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    a = pd.DataFrame({"campaign_id": "K", "customer_id": ["c1", "c2", "c3", "c4", "c5"],
                      "variant": ["holdout", "B", "B", "holdout", "B"],
                      "assigned_at": [t0] * 5})
    day = timedelta(days=1)
    o = pd.DataFrame({
        "customer_id": ["c1", "c2", "c2", "c3", "c3", "c5", "c5", None, "c4"],
        "ordered_at": [t0 + day, t0 + 2 * day, t0 + 20 * day, t0 - 5 * day, t0 + 3 * day,
                       t0 + day, t0 + 2 * day, t0 + day, t0 - 200 * day],
        "status": ["paid", "delivered", "paid", "paid", "cancelled", "paid", "confirmed",
                   "paid", "paid"],
        "amount": [100.0, 200.0, 300.0, 50.0, 70.0, 10.0, 20.0, 999.0, 5.0],
        "discount": [0.0, 30.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0],
        "coupon_code": [None, "CMP", None, None, "CMP", "CMP", "OTHER", None, None]})
    m = pd.DataFrame({"campaign_id": "K", "customer_id": ["c2", "c3", "c5"],
                      "sent_at": [t0] * 3, "opened_at": [t0 + day, pd.NaT, t0],
                      "clicked_at": [t0 + day, pd.NaT, pd.NaT],
                      "unsubscribed_at": [pd.NaT, t0 + day, t0 + 30 * day]})
    got = customer_outcomes(ibis.memtable(a), ibis.memtable(o), ibis.memtable(m),
                            campaign_id="K", start=t0, window_days=14, pre_days=90,
                            coupon_codes=["CMP"]).execute().set_index("customer_id").sort_index()

    # pandas reference
    net = o["status"].isin(["paid", "shipped", "delivered", "confirmed"])
    win = (o["ordered_at"] >= t0) & (o["ordered_at"] < t0 + 14 * day) & net
    pre = (o["ordered_at"] >= t0 - 90 * day) & (o["ordered_at"] < t0) & net
    g = o.assign(w=win, p=pre, c=win & (o["coupon_code"] == "CMP"))
    rev = g[g.w].groupby("customer_id")["amount"].sum()
    cnt = g[g.w].groupby("customer_id").size()
    coupon = g[g.c].groupby("customer_id")["discount"].sum()
    pre_rev = g[g.p].groupby("customer_id")["amount"].sum()
    ids = a["customer_id"].sort_values()
    assert got.index.tolist() == ids.tolist()
    np.testing.assert_allclose(got["revenue"], rev.reindex(ids).fillna(0))
    np.testing.assert_array_equal(got["orders"], cnt.reindex(ids).fillna(0))
    np.testing.assert_array_equal(got["converted"], (cnt.reindex(ids).fillna(0) > 0).astype(int))
    np.testing.assert_allclose(got["coupon"], coupon.reindex(ids).fillna(0))
    np.testing.assert_allclose(got["gross"], got["revenue"] + got["coupon"])
    np.testing.assert_allclose(got["pre_revenue"], pre_rev.reindex(ids).fillna(0))
    assert got["sent"].tolist() == [0, 1, 1, 0, 1]
    assert got["opened"].tolist() == [0, 1, 0, 0, 1]
    assert got["clicked"].tolist() == [0, 1, 0, 0, 0]
    assert got["unsubscribed"].tolist() == [0, 0, 1, 0, 0]  # c5 opted out after the window

    s = arm_sums(customer_outcomes(ibis.memtable(a), ibis.memtable(o), ibis.memtable(m),
                                   start=t0)).execute().set_index("variant")
    assert s.loc["B", "n"] == 3 and s.loc["holdout", "n"] == 2
    assert s.loc["B", "sum_revenue_sq"] == pytest.approx(200.0**2 + 0.0 + 30.0**2)


def test_failed_messages_are_not_sent() -> None:
    """A loaded send report's failures (결번, 수신거부-blocked) reached nobody."""
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    a = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "variant": ["B"] * 3,
                      "assigned_at": [t0] * 3})
    o = pd.DataFrame({"customer_id": ["c1"], "ordered_at": [t0], "status": ["paid"],
                      "amount": [1.0]})
    m = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "sent_at": [t0] * 3,
                      "unsubscribed_at": [pd.NaT, t0, pd.NaT],
                      "status": ["sent", "failed", None]})
    got = customer_outcomes(ibis.memtable(a), ibis.memtable(o), ibis.memtable(m), start=t0) \
        .execute().set_index("customer_id").sort_index()
    assert got["sent"].tolist() == [1, 0, 1]  # null status: sent (reports before the column)
    assert got["unsubscribed"].tolist() == [0, 0, 0]


def test_global_holdout_readout(con) -> None:
    r = run_global_holdout(con, AS_OF, days=90, share=0.05)
    assert r.baseline == "holdout" and r.variants == ("holdout", CRM_ARM)
    assert not r.srm.mismatch and r.ok
    customers = con.table("customers").execute()
    start = pd.Timestamp(AS_OF - timedelta(days=90)).tz_localize("Asia/Seoul")
    eligible = customers[customers["signup_at"].isna() | (customers["signup_at"] < start)][
        "customer_id"]
    held = in_global_holdout(eligible, 0.05)
    assert r.arms.set_index("variant")["n"].to_dict() == {"holdout": int(held.sum()),
                                                          CRM_ARM: int((~held).sum())}


def test_global_holdout_snapshot_part(con) -> None:
    part = global_holdout_part(con, as_of=AS_OF, settings=Settings(global_holdout=0.05))
    assert list(part.columns) == ["customer_id", "global_holdout"]
    assert len(part) == con.table("customers").count().execute()
    expected = in_global_holdout(part["customer_id"], 0.05)
    assert (part["global_holdout"].to_numpy() == expected.to_numpy()).all()
    # the configured share, not a fixed 5%: 0 (the default) holds no one out
    assert not global_holdout_part(con, as_of=AS_OF, settings=Settings())["global_holdout"].any()
    wide = global_holdout_part(con, as_of=AS_OF, settings=Settings(global_holdout=0.2))
    assert wide["global_holdout"].sum() == in_global_holdout(part["customer_id"], 0.2).sum()
