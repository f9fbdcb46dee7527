"""CLV ranges on the page: the top list's ranges, the figure, the table and the snapshot part."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from workbench.clv import ClvParams, clv_intervals, run_clv
from workbench.clv.analysis import fitted_clv
from workbench.clv.intervals import interval_part, with_ranges
from workbench.data import connect
from workbench.settings import Settings
from workbench.ui.clv import top_customers_html
from workbench.viz.clv_intervals import top_customer_ranges

AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(str(sample_store), settings=Settings())


@pytest.fixture(scope="module")
def result(con):
    return run_clv(con, ClvParams(as_of=AS_OF, top_n=10, holdout_weeks=0), settings=Settings())


def test_top_list_has_ranges_around_the_value(result):
    top = result.top_customers
    assert list(top.columns[list(top.columns).index("clv"):][:3]) == ["clv", "clv_low",
                                                                      "clv_high"]
    assert (top["clv_low"] <= top["clv_high"]).all() and (top["clv_low"] >= 0).all()
    # a top customer's expected value lies inside her 80% range
    assert ((top["clv"] >= top["clv_low"]) & (top["clv"] <= top["clv_high"])).mean() >= 0.8


def test_snapshot_part_gives_the_same_ranges(con, result):
    settings = Settings()
    part = interval_part(con, as_of=AS_OF, settings=settings).to_pandas()
    part = part.set_index("customer_id").loc[result.top_customers["customer_id"]]
    np.testing.assert_allclose(part["clv_low"], result.top_customers["clv_low"], rtol=1e-6)
    np.testing.assert_allclose(part["clv_high"], result.top_customers["clv_high"], rtol=1e-6)


def test_pareto_nbd_has_no_ranges(con):
    r = run_clv(con, ClvParams(as_of=AS_OF, model="pareto_nbd", top_n=5, holdout_weeks=0),
                settings=Settings())
    assert r.top_customers["clv_low"].isna().all()
    assert "80%" not in top_customers_html(r.top_customers, currency="KRW", language="en")


def test_figure_and_table(result):
    fig = top_customer_ranges(result.top_customers, currency="KRW", language="ko")
    assert [t.type for t in fig.data] == ["bar", "scatter"] and len(fig.data[1].x) == 10
    np.testing.assert_allclose(np.asarray(fig.data[0].base, dtype=float)
                               + np.asarray(fig.data[0].x, dtype=float),
                               result.top_customers["clv_high"].to_numpy()[::-1])
    assert "상위 고객 10명" in fig.layout.title.text
    html = top_customers_html(result.top_customers, currency="KRW", language="ko")
    assert "80% 범위" in html and html.count("wb-top-customer") == 10


def test_with_ranges_equals_intervals_of_the_same_customers(con, result):
    fit = fitted_clv(con, AS_OF, "bgnbd", Settings())
    top = result.top_customers.drop(columns=["clv_low", "clv_high"])
    again = with_ranges(top, fit.purchase, fit.spend_model, fit.summary, as_of=AS_OF,
                        horizon_months=12, monthly_discount_rate=0.01,
                        margin=result.gross_margin)
    direct = clv_intervals(fit.purchase, fit.spend_model, fit.summary.loc[top["customer_id"]],
                           as_of=AS_OF, margin=result.gross_margin)
    np.testing.assert_array_equal(again["clv_low"].to_numpy(), direct["clv_low"].to_numpy())
    np.testing.assert_array_equal(again["clv_low"].to_numpy(),
                                  result.top_customers["clv_low"].to_numpy())


def test_refresh_writes_the_ranges(refreshed_store):
    snap = connect(str(refreshed_store), settings=Settings()).table("snapshot_customers")
    frame = snap.select("customer_id", "clv", "clv_low", "clv_high").to_pandas()
    scored = frame[frame["clv"].notna()]
    assert len(scored) and scored["clv_low"].notna().all() and scored["clv_high"].notna().all()
    assert (scored["clv_low"] <= scored["clv_high"]).all() and (scored["clv_low"] >= 0).all()
    assert frame.loc[frame["clv"].isna(), "clv_low"].isna().all()


def test_store_ranges_come_from_the_snapshot(refreshed_store):
    con = connect(str(refreshed_store), settings=Settings())
    r = run_clv(con, ClvParams(as_of=AS_OF, holdout_weeks=0), settings=Settings())
    profile = r.value_ranges
    assert len(profile) == 50 and profile["percentile"].iloc[-1] == 100
    assert profile["customers"].sum() == r.customers["clv"].notna().sum()
    assert (profile["clv_low"] <= profile["clv"]).all() and profile["clv"].is_monotonic_increasing
    fig = r.figure_store_ranges()
    assert [t.type for t in fig.data] == ["scatter"] * 3 and fig.layout.yaxis.type == "log"
    # another horizon is not the snapshot's definition: no whole-store ranges (never simulated
    # while the page waits)
    other = run_clv(con, ClvParams(as_of=AS_OF, holdout_weeks=0, horizon_months=6),
                    settings=Settings())
    assert other.value_ranges is None and other.figure_store_ranges() is None
