"""Coupon economics: exact values on a hand-built store, statuses, and the sample's truth."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from workbench.abtest import coupon_economics
from workbench.abtest.coupons import ARM_COLUMNS, CODE_COLUMNS, CouponStatus
from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.results import Status
from workbench.settings import Settings

TZ = "Asia/Seoul"
SETTINGS = Settings(timezone=TZ, currency="KRW", language="en", gross_margin=0.4)
AS_OF = date(2026, 11, 16)
#: campaign, start (Seoul), arms, coupon code of the treated arms (None: no coupon)
CAMPAIGNS = [("C1", "2026-08-01 10:00", ("holdout", "A", "B"), {"A": "CPA", "B": "CPB"}),
             ("C2", "2026-09-01 10:00", ("A",), {"A": "CPX"}),  # no holdout
             ("C3", "2026-10-25 10:00", ("holdout", "A"), {"A": "NEW"}),  # post window open
             ("C4", "2026-07-01 10:00", ("holdout", "A"), {}),  # no coupon
             ("C5", "2026-06-01 10:00", ("holdout", "A"), {"A": "CP5"})]  # small holdout
N = 400


def shop(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Return a small store: 400 customers, each assigned in all five campaigns."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(N)]
    camps, assign, orders, messages = [], [], [], []
    for cid, start, arms, codes in CAMPAIGNS:
        t0 = pd.Timestamp(start, tz=TZ)
        camps.append((cid, f"campaign {cid}", "sms", True, t0, t0 + pd.Timedelta(days=14),
                      0.2, 10.0))
        hold = 0.05 if cid == "C5" else 0.2
        variants = rng.choice(arms, size=N, p=[hold] + [(1 - hold) / (len(arms) - 1)]
                              * (len(arms) - 1) if arms[0] == "holdout" else None)
        for cust, v in zip(ids, variants, strict=True):
            assign.append((cid, cust, v, t0))
            if v != "holdout":
                messages.append((cid, cust, v, t0, "sent" if rng.random() > 0.1 else "failed"))
            treated = v != "holdout"
            # window orders (more when treated), post orders (fewer when treated: the dip)
            for lo, hi, rate in ((0, 14, 0.5 + 0.3 * treated), (14, 44, 0.6 - 0.2 * treated),
                                 (-30, 0, 0.4), (44, 60, 0.4)):
                for _ in range(rng.poisson(rate)):
                    at = t0 + pd.Timedelta(days=float(rng.uniform(lo, hi)))
                    sub = float(rng.integers(10, 80) * 1000)
                    code = codes.get(v) if treated and 0 <= (at - t0).days < 14 \
                        and rng.random() < 0.7 else (
                        "WELCOME" if rng.random() < 0.1 else None)
                    disc = (sub * 0.1 if code and code.startswith("CP") else 2000.0) \
                        if code else 0.0
                    points = float(rng.choice([0, 0, 1000]))
                    status = rng.choice(["paid", "confirmed", "cancelled"], p=[0.5, 0.4, 0.1])
                    orders.append((f"o{len(orders):05d}", cust, at, status, sub - disc - points,
                                   disc, points, code))
    f = {
        "campaigns": pd.DataFrame(camps, columns=["campaign_id", "name", "channel", "is_ad",
                                                  "started_at", "ended_at", "holdout_share",
                                                  "cost_per_message"]),
        "assignments": pd.DataFrame(assign, columns=["campaign_id", "customer_id", "variant",
                                                     "assigned_at"]),
        "orders": pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at",
                                                "status", "amount", "discount", "points_used",
                                                "coupon_code"]),
        "messages": pd.DataFrame(messages, columns=["campaign_id", "customer_id", "variant",
                                                    "sent_at", "status"]),
    }
    f["customers"] = pd.DataFrame({"customer_id": ids})
    return f


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    frames = shop()
    path = tmp_path_factory.mktemp("coupons") / "shop.duckdb"
    with write_store(path, settings=SETTINGS) as w:
        for name, frame in frames.items():
            w.write(name, frame)
    con = connect(path, settings=SETTINGS)
    yield con, frames
    con.disconnect()


def per_customer(frames, cid, codes):
    """Pandas reference: each assigned customer's window and post-window figures."""
    c = frames["campaigns"].set_index("campaign_id").loc[cid]
    t0 = c["started_at"]
    cut = pd.Timestamp(AS_OF, tz=TZ)
    o = frames["orders"]
    o = o[o.status.isin(["paid", "confirmed"]) & (o.ordered_at < cut)].copy()
    days = (o.ordered_at - t0) / pd.Timedelta(days=1)
    o["w"], o["p"] = (days >= 0) & (days < 14), (days >= 14) & (days < 44)
    o["x"] = (days >= -90) & (days < 0)
    o["cp"] = o["w"] & o.coupon_code.isin(codes)
    g = pd.DataFrame({
        "w_orders": o[o.w].groupby("customer_id").size(),
        "w_rev": o[o.w].groupby("customer_id").amount.sum(),
        "coupon": o[o.cp].groupby("customer_id").discount.sum(),
        "p_orders": o[o.p].groupby("customer_id").size(),
        "p_rev": o[o.p].groupby("customer_id").amount.sum(),
        "x_orders": o[o.x].groupby("customer_id").size(),
        "x_rev": o[o.x].groupby("customer_id").amount.sum()})
    a = frames["assignments"]
    a = a[a.campaign_id == cid].set_index("customer_id")[["variant"]]
    out = a.join(g).fillna(0.0)
    out["total"] = out.w_rev + out.coupon + out.p_rev
    return out


def delta_reference(t, h):
    """n_t * mu * R: mu from the holdout adjusted by the pooled slope on pre-period orders,
    the delta method in matrix form for R (computed independently of the package)."""
    n_t, n_h = len(t), len(h)
    both = pd.concat([t, h])
    theta = np.cov(both.w_orders, both.x_orders)[0, 1] / both.x_orders.var(ddof=1)
    resid = (h.w_orders - theta * h.x_orders).var(ddof=1)
    mu = h.w_orders.mean() + theta * (t.x_orders.mean() - h.x_orders.mean())
    var_mu = resid / n_h + theta**2 * t.x_orders.var(ddof=1) / n_t + resid / n_t
    c_bar, o_bar = t.coupon.mean(), t.w_orders.mean()
    r = c_bar / o_bar
    grad = np.array([1 / o_bar, -c_bar / o_bar**2])
    var_r = grad @ np.cov(np.vstack([t.coupon, t.w_orders])) @ grad / n_t
    est = n_t * mu * r
    se = n_t * np.sqrt(r**2 * var_mu + mu**2 * var_r)
    z = norm.ppf(0.975)
    return est, est - z * se, est + z * se


def welch_reference(t, h, column, covariate):
    """CUPED with the pooled theta, then statsmodels' Welch interval on the adjusted values."""
    both = pd.concat([t, h])
    theta = np.cov(both[column], both[covariate])[0, 1] / both[covariate].var(ddof=1)
    adj = lambda d: (d[column] - theta * (d[covariate] - both[covariate].mean())).to_numpy()  # noqa: E731
    cm = CompareMeans(DescrStatsW(adj(t)), DescrStatsW(adj(h)))
    low, high = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    return len(t) * (adj(t).mean() - adj(h).mean()), len(t) * low, len(t) * high


def test_values_match_an_independent_pandas_statsmodels_computation(tiny):
    con, frames = tiny
    codes = {"C1": ["CPA", "CPB"], "C3": ["NEW"], "C4": []}
    r = coupon_economics(con, as_of=AS_OF, settings=SETTINGS, coupon_codes=codes)
    assert list(r.arms.columns) == list(ARM_COLUMNS)
    assert list(r.codes.columns) == list(CODE_COLUMNS)
    arms = r.arms.set_index(["campaign_id", "variant"])
    cust = per_customer(frames, "C1", codes["C1"])
    h = cust[cust.variant == "holdout"]
    sent = frames["messages"]
    for v in ("A", "B"):
        t, row = cust[cust.variant == v], arms.loc[("C1", v)]
        assert row["status"] == CouponStatus.OK
        assert row["customers"] == len(t) and row["holdout_customers"] == len(h)
        assert row["coupon_cost"] == pytest.approx(t.coupon.sum())
        n_sent = ((sent.campaign_id == "C1") & (sent.variant == v)
                  & (sent.status == "sent")).sum()
        assert row["message_cost"] == pytest.approx(10.0 * n_sent)
        est, low, high = delta_reference(t, h)
        assert (row["coupon_cost_anyway"], row["coupon_cost_anyway_low"],
                row["coupon_cost_anyway_high"]) == pytest.approx((est, low, high), rel=1e-9)
        assert row["coupon_cost_incremental"] == pytest.approx(t.coupon.sum() - est)
        for column, name, x in (("p_orders", "pull_forward_orders", "x_orders"),
                                ("p_rev", "pull_forward_revenue", "x_rev")):
            expected = welch_reference(t, h, column, x)
            got = (row[name], row[f"{name}_low"], row[f"{name}_high"])
            assert got == pytest.approx(expected, rel=1e-9), name
        eff, lo, hi = welch_reference(t, h, "total", "x_rev")
        fixed = t.coupon.sum() + 10.0 * n_sent
        assert (row["margin_after_coupons"], row["margin_after_coupons_low"],
                row["margin_after_coupons_high"]) == pytest.approx(
            (0.4 * eff - fixed, 0.4 * lo - fixed, 0.4 * hi - fixed), rel=1e-9)
    # per code: C1's arms each used their own code only
    code_rows = r.codes.set_index(["campaign_id", "variant", "coupon_code"])
    t = cust[cust.variant == "A"]
    assert code_rows.loc[("C1", "A", "CPA"), "coupon_cost"] == pytest.approx(t.coupon.sum())
    assert code_rows.loc[("C1", "A", "CPA"), "coupon_cost_anyway"] == pytest.approx(
        delta_reference(t, h)[0])


def test_statuses_instead_of_crashes(tiny):
    con, _ = tiny
    r = coupon_economics(con, as_of=AS_OF, settings=SETTINGS,
                         coupon_codes={"C1": ["CPA", "CPB"], "C3": ["NEW"], "C4": [],
                                       "C5": ["CP5"]})
    status = r.arms.set_index("campaign_id")["status"]
    assert status["C2"] == CouponStatus.NO_HOLDOUT
    assert status["C3"] == CouponStatus.POST_INCOMPLETE
    assert status["C4"] == CouponStatus.NO_COUPON
    assert status["C5"] == CouponStatus.SMALL_HOLDOUT
    assert np.isnan(r.arms.set_index("campaign_id").loc["C5", "coupon_cost_anyway"])
    c5 = r.codes.set_index("campaign_id").loc["C5"]  # listed with its cost, no estimate
    assert c5["coupon_cost"] > 0 and np.isnan(c5["coupon_cost_anyway"])
    c3 = r.arms.set_index("campaign_id").loc["C3"]
    assert np.isnan(c3["pull_forward_orders"]) and c3["coupon_cost"] > 0
    assert 0 < c3["post_days"] < 30
    c4 = r.arms.set_index("campaign_id").loc["C4"]
    assert c4["coupon_cost"] == 0 and c4["coupon_cost_anyway"] == 0
    assert np.isfinite(c4["margin_after_coupons"])
    assert r.status == Status.OK and "₩" in r.message


def test_one_campaign_and_inferred_codes(tiny):
    con, frames = tiny
    r = coupon_economics(con, as_of=AS_OF, campaign_id="C1", settings=SETTINGS)
    assert set(r.arms["campaign_id"]) == {"C1"}
    # each arm's code is inferred (the holdout never uses them; WELCOME is everyone's)
    assert dict(zip(r.arms["variant"], r.arms["coupon_codes"], strict=True)) == {
        "A": "CPA", "B": "CPB"}
    assert set(r.codes["coupon_code"]) == {"CPA", "CPB"}


def test_no_campaign_before_as_of_is_a_status(tiny):
    con, _ = tiny
    r = coupon_economics(con, as_of=date(2026, 1, 1), settings=SETTINGS)
    assert r.status == Status.NO_DATA and r.arms.empty
    assert r.message_in("ko") and "No campaign" in r.message


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window_days": 0}, "'window_days' must be a whole number of days of at least 1"),
    ({"post_days": 2.5}, "'post_days' must be a whole number of days of at least 1"),
    ({"alpha": 1.5}, r"'alpha' must be in \(0, 1\); got 1.5"),
    ({"campaign_id": "C9"}, "no campaign 'C9' started before 'as_of'"),
], ids=["window", "post", "alpha", "campaign"])
def test_bad_parameters_raise(tiny, kwargs, match):
    con, _ = tiny
    with pytest.raises(ParameterError, match=match):
        coupon_economics(con, as_of=AS_OF, settings=SETTINGS, **kwargs)


# ------------------------------------------------------------------ the sample's known truth
@pytest.fixture(scope="module")
def sample_8k(tmp_path_factory):
    """A sample shop of 8,000 customers: enough arms with a holdout of 50 or more."""
    from workbench.data.sample import write_sample

    path = tmp_path_factory.mktemp("coupon-sample") / "shop.duckdb"
    settings = Settings(timezone=TZ)
    write_sample(path, 8_000, seed=5, end=AS_OF, settings=settings)
    con = connect(path, settings=settings)
    yield con, settings
    con.disconnect()


def covered(frame, column, truth):
    return (frame[f"{column}_low"] <= truth) & (truth <= frame[f"{column}_high"])


def test_the_sample_truth_is_recovered_within_the_intervals(sample_8k):
    con, settings = sample_8k
    r = coupon_economics(con, as_of=AS_OF, settings=settings)
    truth = con.table("truth_campaigns").to_pandas()
    m = r.arms.merge(truth, on=["campaign_id", "variant"], suffixes=("", "_true"))
    # arms whose coupon was recognised: the realised coupon cost is the generator's exactly
    coupons = m[m["coupon_cost"] > 0]
    assert len(coupons) >= 25
    assert coupons["coupon_cost"].to_numpy() == pytest.approx(
        coupons["coupon_cost_total"].to_numpy())
    # the cost on orders placed anyway, for arms with a usable holdout (about 95% expected)
    usable = coupons[coupons["holdout_customers"] >= 50]
    assert len(usable) >= 15
    assert covered(usable, "coupon_cost_anyway", usable["coupon_cost_anyway_true"]).mean() >= 0.85
    # the dip: treated minus holdout after the window estimates minus the removed orders
    post = m[m["pull_forward_orders"].notna()]
    assert len(post) >= 20
    assert covered(post, "pull_forward_orders", -post["pull_forward_orders_true"]).mean() >= 0.85
    assert covered(post, "pull_forward_revenue",
                   -post["pull_forward_revenue_true"]).mean() >= 0.85
    # over all arms the dip is there: the estimated orders removed are negative in total
    assert post["pull_forward_orders"].sum() < 0 < post["pull_forward_orders_true"].sum()
