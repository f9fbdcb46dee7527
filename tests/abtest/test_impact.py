"""Campaign impact (workbench.abtest.impact): values against the A/B readout, numpy and scipy."""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower

from workbench.abtest import (
    AbTestParams,
    CampaignsParams,
    campaign_impact,
    in_global_holdout,
    run_abtest,
    run_campaigns,
)
from workbench.abtest.impact import rollup
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.settings import Settings
from workbench.ui.campaigns import CampaignsPage, campaigns_html, headline_html

AS_OF = date(2026, 11, 16)
TZ = "Asia/Seoul"
NET = ("paid", "shipped", "delivered", "confirmed")


@pytest.fixture(scope="module")
def con(sample_store):
    c = connect(sample_store, settings=Settings(store=str(sample_store)))
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def result(con):
    return campaign_impact(con, as_of=AS_OF, settings=Settings())


def test_every_arm_equals_the_ab_readouts_roi(con, result) -> None:
    assert not result.campaigns.empty
    for cid, rows in result.campaigns.groupby("campaign_id"):
        readout = run_abtest(con, AbTestParams(as_of=AS_OF, campaign_id=cid),
                             settings=Settings())
        roi = readout.roi_frame().set_index("variant")
        assert sorted(roi.index) == sorted(rows["variant"])
        for row in rows.itertuples():
            ref = roi.loc[row.variant]
            for ours, theirs in [("incremental_buyers", "incremental_conversions"),
                                 ("incremental_buyers_low", "incremental_conversions_low"),
                                 ("incremental_revenue", "incremental_revenue"),
                                 ("incremental_revenue_low", "incremental_revenue_low"),
                                 ("incremental_revenue_high", "incremental_revenue_high"),
                                 ("cost", "cost"), ("coupon_cost", "coupon_cost"),
                                 ("margin_base", "margin_base"),
                                 ("incremental_margin", "incremental_margin"),
                                 ("incremental_margin_low", "incremental_margin_low"),
                                 ("roi", "roi"), ("roi_high", "roi_high")]:
                assert getattr(row, ours) == pytest.approx(ref[theirs], rel=1e-9,
                                                           nan_ok=True), (cid, ours)
            assert row.delivered == ref["messages_sent"]


def _customer_orders(sample_store, window_days: int = 14) -> pd.DataFrame:
    """Per (campaign, customer): variant and net orders in the window, in pandas (reference)."""
    db = duckdb.connect(str(sample_store), read_only=True)
    try:
        a = db.sql("select campaign_id, customer_id, variant from assignments").df()
        c = db.sql("select campaign_id, started_at from campaigns").df()
        o = db.sql("select customer_id, ordered_at, status, amount from orders "
                   "where customer_id is not null").df()
    finally:
        db.close()
    a = a.merge(c, on="campaign_id")
    end = pd.Timestamp(AS_OF).tz_localize(TZ)
    j = a.merge(o[o["status"].isin(NET)], on="customer_id")
    j = j[(j["ordered_at"] >= j["started_at"])
          & (j["ordered_at"] < j["started_at"] + pd.Timedelta(days=window_days))
          & (j["ordered_at"] < end)]
    per = j.groupby(["campaign_id", "customer_id"]).agg(orders=("amount", "size"),
                                                        revenue=("amount", "sum"))
    out = a.merge(per.reset_index(), on=["campaign_id", "customer_id"], how="left")
    return out.fillna({"orders": 0, "revenue": 0.0})


def test_rollup_interval_is_from_summed_variances(sample_store, result) -> None:
    per = _customer_orders(sample_store)
    value, variance = 0.0, 0.0
    for _, g in per.groupby("campaign_id"):
        held = g[g["variant"] == "holdout"]["orders"].to_numpy(float)
        if len(held) < 2:  # no variance, no interval: left out of the roll-ups (documented)
            continue
        treated = [x["orders"].to_numpy(float) for v, x in g.groupby("variant")
                   if v != "holdout"]
        n_t = sum(len(x) for x in treated)
        value += sum(len(x) * (x.mean() - held.mean()) for x in treated)
        variance += sum(len(x) * np.var(x, ddof=1) for x in treated)
        variance += n_t ** 2 * np.var(held, ddof=1) / len(held)
    total = result.total.iloc[0]
    z = sps.norm.ppf(0.975)
    assert total["incremental_orders"] == pytest.approx(value, rel=1e-9)
    assert total["incremental_orders_low"] == pytest.approx(value - z * math.sqrt(variance),
                                                            rel=1e-9)
    assert total["incremental_orders_high"] == pytest.approx(value + z * math.sqrt(variance),
                                                             rel=1e-9)


def test_rollups_add_up_the_campaigns(result) -> None:
    c = result.campaigns
    for by, frame in (("channel", result.by_channel), ("month", result.by_month)):
        got = frame.set_index("key")
        want = c.groupby(by)[["incremental_orders", "incremental_revenue", "incremental_margin",
                              "cost", "delivered", "ordered"]].sum()
        pd.testing.assert_frame_equal(got[want.columns].astype(float), want.astype(float),
                                      check_names=False)
        roi = (got["incremental_margin"] / got["cost"]).where(got["cost"] > 0)  # push: free
        pd.testing.assert_series_equal(got["roi"].astype(float), roi, check_names=False)
    assert result.total["incremental_margin"].iloc[0] == pytest.approx(
        c["incremental_margin"].sum())


def test_rollup_doctest_arithmetic() -> None:
    c = pd.DataFrame({"campaign_id": ["a", "b"], "channel": ["sms", "push"],
                      "incremental_orders": [3.0, 1.0], "incremental_revenue": [30.0, 10.0],
                      "incremental_margin": [5.0, 1.0], "cost": [4.0, 2.0]})
    v = pd.DataFrame({"campaign_id": ["a", "b"], "var_orders": [1.0, 3.0],
                      "var_revenue": [9.0, 16.0], "var_gross": [100.0, 0.0]})
    total = rollup(c, v, None, margin_rate=0.3, alpha=0.1).iloc[0]
    z = sps.norm.ppf(0.95)
    assert total["incremental_revenue_high"] == pytest.approx(40 + z * 5)
    assert total["incremental_margin_low"] == pytest.approx(6 - z * 0.3 * 10)


def test_setup_headline_states_the_mde_of_a_five_percent_holdout(sample_store, result) -> None:
    db = duckdb.connect(str(sample_store), read_only=True)
    try:
        start = pd.Timestamp(AS_OF - timedelta(days=30)).tz_localize(TZ)
        end = pd.Timestamp(AS_OF).tz_localize(TZ)
        cust = db.sql("select customer_id, signup_at from customers").df()
        o = db.sql("select customer_id, ordered_at, status from orders").df()
    finally:
        db.close()
    cust = cust[cust["signup_at"].isna() | (cust["signup_at"] < start)]
    buyers = set(o[(o["ordered_at"] >= start) & (o["ordered_at"] < end)
                   & o["status"].isin(NET)]["customer_id"].dropna())
    rate = cust["customer_id"].isin(buyers).mean()
    h = result.lead
    assert h.kind == "setup" and h.customers == len(cust)
    assert h.baseline_rate == pytest.approx(rate)
    # statsmodels' arcsine effect size solves the same power equation differently: close, not
    # equal (the MDE is Brent's root of our own sample-size formula)
    n_h = 0.05 * len(cust)
    p2 = rate * (1 + h.mde)
    es = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(rate))
    power = NormalIndPower().power(es, nobs1=n_h, alpha=0.05, ratio=19)
    assert power == pytest.approx(0.8, abs=0.03)
    assert "global_holdout = 0.05" in headline_html(result, "en")
    assert result.week is None or result.week[0] == "campaigns"


def test_global_holdout_headline_and_week_tile(con) -> None:
    settings = Settings(global_holdout=0.05)
    r = campaign_impact(con, as_of=AS_OF, settings=settings)
    h = r.lead
    assert h.kind == "global" and h.share == 0.05
    customers = con.table("customers").execute()
    start = pd.Timestamp(AS_OF - timedelta(days=30)).tz_localize(TZ)
    eligible = customers[customers["signup_at"].isna() | (customers["signup_at"] < start)]
    held = in_global_holdout(eligible["customer_id"], 0.05)
    assert (h.n_holdout, h.n_crm) == (int(held.sum()), int((~held).sum()))
    assert h.margin.value == pytest.approx(0.3 * h.revenue.value - h.message_cost)
    assert h.margin.low < h.margin.value < h.margin.high
    tile = r.headline()
    assert [t["metric"] for t in tile] == ["crm_impact"]
    assert r.week[0] == "global" and "~" in tile[0]["change"]
    assert "global holdout" in r.message_in("en") and "전체 홀드아웃" in r.message_in("ko")


def test_store_without_campaigns_returns_a_status_and_the_page_renders(sample_store,
                                                                      tmp_path) -> None:
    path = tmp_path / "plain.duckdb"
    db = duckdb.connect(str(path))
    db.sql(f"attach '{sample_store}' as src (read_only)")
    for table in ("customers", "orders"):
        db.sql(f"create table {table} as select * from src.{table}")
    db.close()
    settings = Settings(store=str(path))
    c = connect(path, settings=settings)
    r = campaign_impact(c, as_of=AS_OF, settings=settings)
    assert str(r.status) == "no_data" and r.campaigns.empty and r.lead.kind == "setup"
    assert "No campaign with a holdout" in campaigns_html(r, "en")
    c.disconnect()
    page = CampaignsPage(CampaignsParams(as_of=AS_OF, store=str(path), mode="dashboard",
                                         language="ko"), settings=settings)
    page.widget()
    assert page.error is None and "wb-impact-headline" in page.w_message.value
    assert "홀드아웃" in page.w_table.value


def test_page_shows_every_campaign(sample_store) -> None:
    page = CampaignsPage(CampaignsParams(as_of=AS_OF, store=str(sample_store),
                                         mode="dashboard"), settings=Settings())
    page.widget()
    assert page.error is None
    for cid in page.result.campaigns["campaign_id"].unique():
        assert f"data-campaign='{cid}'" in page.w_table.value
    assert "wb-impact-channel" in page.w_channel.value
    box = page.w_coupons.children[0]
    button = box.children[-1]
    button.click()  # the coupon section (helper E's) loads on demand
    loaded = box.children[-1]._dom_classes
    assert "wb-coupons" in loaded or "wb-coupons-error" in loaded  # a failure: a banner


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window_days": 0}, "campaign_impact: 'window_days'"),
    ({"alpha": 0.7}, "campaign_impact: 'alpha'"),
], ids=["window", "alpha"])
def test_bad_parameters_name_the_parameter(con, kwargs, match) -> None:
    with pytest.raises(ParameterError, match=match):
        campaign_impact(con, as_of=AS_OF, settings=Settings(), **kwargs)


def test_run_campaigns_takes_its_params(con) -> None:
    with pytest.raises(ParameterError, match="CampaignsParams"):
        run_campaigns(con, AbTestParams())
    r = run_campaigns(con, CampaignsParams(as_of=AS_OF, window_days=7), settings=Settings())
    assert r.window_days == 7


def test_report_records_the_crm_impact_tile_and_the_index_shows_it(sample_store, tmp_path,
                                                                   monkeypatch) -> None:
    import json

    from workbench.reporting.html import report_index

    target = tmp_path / "headline.json"
    monkeypatch.setenv("WORKBENCH_HEADLINE_FILE", str(target))
    settings = Settings(store=str(sample_store), global_holdout=0.05)
    page = CampaignsPage(CampaignsParams(as_of=AS_OF, store=str(sample_store), mode="report"),
                         settings=settings)
    page._ipython_display_()
    tile = json.loads(target.read_text(encoding="utf-8"))
    assert [t["metric"] for t in tile] == ["crm_impact"]
    week = page.result.week[1]
    assert tile[0]["change"].count("~") == 1 and week.low < week.value < week.high
    overview = [{"metric": m, "label": m, "value": "1"} for m in ("orders", "net_revenue",
                                                                   "buyers")]
    run = {"week": "2026-W46", "period": ["2026-11-09", "2026-11-15"],
           "notebooks": [{"name": "overview", "headline": overview},
                         {"name": "campaigns", "headline": tile}]}
    index = report_index([run], language="en")
    shown = [m for m in ("net_revenue", "crm_impact", "orders", "buyers")
             if f"data-metric='{m}'" in index]
    assert shown == ["net_revenue", "crm_impact", "orders"]  # the root index shows three
