"""Repurchase rate and the Kaplan-Meier time-to-second-order curve against pandas/statsmodels."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from workbench.data import NET_STATUSES, connect, write_store
from workbench.kpi import run_overview
from workbench.kpi.repurchase import cohort_bounds, kaplan_meier
from workbench.reporting import OverviewParams
from workbench.settings import Settings
from workbench.stats import wilson_interval

TZ = "Asia/Seoul"
SETTINGS = Settings(timezone=TZ)
AS_OF = date(2026, 11, 16)  # window 90 days: cohort of first orders 2025-08-18 .. 2026-08-17

ORDERS = [  # order_id, customer_id, ordered_at (Seoul), status
    ("a1", "P1", "2026-01-10 10:00:00", "delivered"),
    ("a2", "P1", "2026-04-10 10:00:00", "paid"),  # exactly 90 x 24 h later: repurchased
    ("b1", "P2", "2026-01-10 10:00:00", "delivered"),
    ("b2", "P2", "2026-04-10 10:00:01", "paid"),  # one second too late
    ("c1", "P3", "2026-08-18 00:10:00", "paid"),  # 17 Aug in UTC: outside the cohort in Seoul
    ("d1", "P4", "2025-08-18 00:10:00", "paid"),  # 17 Aug in UTC: inside the cohort in Seoul
    ("d2", "P4", "2025-09-01 00:10:00", "confirmed"),
    ("e0", "P5", "2026-02-01 09:00:00", "cancelled"),  # not a net order: first is 1 March
    ("e1", "P5", "2026-03-01 09:00:00", "delivered"),
    ("e2", "P5", "2026-03-20 09:00:00", "paid"),
    ("f1", "P6", "2026-05-05 12:00:00", "paid"),  # two orders at the same instant
    ("f2", "P6", "2026-05-05 12:00:00", "paid"),
    ("g1", "P7", "2025-06-01 12:00:00", "paid"),  # first order before both cohorts
    ("g2", "P7", "2025-09-01 12:00:00", "paid"),
    ("h1", "P8", "2026-11-01 12:00:00", "paid"),  # recent: censored after 14.5 days
    ("i1", "P9", "2026-10-01 12:00:00", "paid"),
    ("i2", "P9", "2026-10-20 18:00:00", "shipped"),  # second order after 19.25 days
    ("j1", "P10", "2026-08-01 12:00:00", "paid"),
    ("j2", "P10", "2026-11-16 00:00:00", "paid"),  # at as_of: not seen, P10 is censored
    ("k1", "P11", "2026-03-01 12:00:00", "returned"),  # never a net buyer
    ("k2", "P11", "2026-03-02 12:00:00", "returned"),
    ("z1", None, "2026-02-01 12:00:00", "paid"),  # guests have no second order
    ("z2", None, "2026-02-02 12:00:00", "paid"),
]


def orders_frame(rows):
    o = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "status"])
    o["ordered_at"] = pd.to_datetime(o["ordered_at"], format="ISO8601").dt.tz_localize(TZ)
    o["customer_id"] = o["customer_id"].astype("string")
    o["amount"] = 10_000.0
    return o


def overview(tmp_path, rows=ORDERS, window=90):
    path = tmp_path / "shop.duckdb"
    with write_store(path, settings=SETTINGS) as w:
        w.write("orders", orders_frame(rows))
    con = connect(path, settings=SETTINGS)
    try:
        return run_overview(con, OverviewParams(as_of=AS_OF, repurchase_window_days=window),
                            settings=SETTINGS)
    finally:
        con.disconnect()


def ref_firsts(o, as_of):
    """Pandas reference: first and second net order per customer, before as_of."""
    cut = pd.Timestamp(as_of).tz_localize(TZ)
    net = o[o.status.isin(NET_STATUSES) & o.customer_id.notna() & (o.ordered_at < cut)]
    net = net.sort_values(["ordered_at", "order_id"])
    net = net.assign(k=net.groupby("customer_id").cumcount())
    first = net[net.k == 0].set_index("customer_id").ordered_at
    second = net[net.k == 1].set_index("customer_id").ordered_at.reindex(first.index)
    return first, second, cut


def ref_repurchase(o, as_of, window):
    first, second, _ = ref_firsts(o, as_of)
    start, end = (pd.Timestamp(as_of - timedelta(days=window)).tz_localize(TZ)
                  - pd.DateOffset(years=1)), pd.Timestamp(as_of - timedelta(days=window))
    end = end.tz_localize(TZ)
    cohort = (first >= start) & (first < end)
    again = (second - first) <= pd.Timedelta(days=window)
    return int((cohort & again).sum()), int(cohort.sum())


def ref_durations(o, as_of):
    first, second, cut = ref_firsts(o, as_of)
    recent = first >= cut - pd.DateOffset(years=1)
    first, second = first[recent], second[recent]
    event = second.notna()
    days = np.where(event, (second - first).dt.total_seconds(),
                    (cut - first).dt.total_seconds()) / 86400
    return days, event.to_numpy().astype(int)


def test_cohort_bounds_are_stated():
    assert cohort_bounds(AS_OF, 90) == (date(2025, 8, 18), date(2026, 8, 18))


def test_repurchase_rate_on_the_hand_store(tmp_path):
    r = overview(tmp_path).repurchase.iloc[0]
    # cohort: P1, P2, P4, P5, P6, P10 (P3 starts on 18 Aug in Seoul, P7 before, P8-P9 later);
    # P2 missed the window by one second, P10's second order is at as_of (not seen)
    assert (r["cohort_size"], r["repurchasers"]) == (6, 4)
    assert r["rate"] == pytest.approx(4 / 6)
    assert (r["window_days"], r["cohort_first"], r["cohort_last"]) == (
        90, date(2025, 8, 18), date(2026, 8, 17))
    low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
    assert (r["ci_lower"], r["ci_upper"]) == pytest.approx((low, high))
    assert (4, 6) == ref_repurchase(orders_frame(ORDERS), AS_OF, 90)


def test_the_window_boundary_is_inclusive(tmp_path):
    # with a window one day shorter, P1's second order (at 90 days) no longer counts
    # (the cohort moves by a day too: P4 leaves it, P3 joins it)
    shorter = overview(tmp_path, window=89).repurchase.iloc[0]
    assert (shorter["repurchasers"], shorter["cohort_size"]) == (2, 6)  # P5 and P6
    assert (2, 6) == ref_repurchase(orders_frame(ORDERS), AS_OF, 89)


def km_by_hand(days, event, grid):
    """Product-limit estimator written out: S(t) = prod over event times u <= t of 1 - d/n."""
    times = np.unique(days[event == 1])
    at_risk = np.array([(days >= u).sum() for u in times])
    deaths = np.array([((days == u) & (event == 1)).sum() for u in times])
    surv = np.cumprod(1 - deaths / at_risk)
    return np.array([surv[times <= g][-1] if (times <= g).any() else 1.0 for g in grid])


def test_curve_matches_statsmodels_on_independent_durations(tmp_path):
    curve = overview(tmp_path).second_order_curve
    days, event = ref_durations(orders_frame(ORDERS), AS_OF)
    fit = SurvfuncRight(days, event)
    grid = curve["days"].to_numpy()
    direct = np.array([fit.surv_prob[fit.surv_times <= g][-1] if (fit.surv_times <= g).any()
                       else 1.0 for g in grid])
    np.testing.assert_allclose(curve["share"], 1 - direct)
    np.testing.assert_allclose(curve["share"], 1 - km_by_hand(days, event, grid))
    assert grid[0] == 0 and grid[-1] == int(np.floor(days.max()))
    assert (curve["ci_lower"] <= curve["share"] + 1e-12).all()
    assert (curve["share"] <= curve["ci_upper"] + 1e-12).all()
    assert curve["share"].is_monotonic_increasing
    assert curve.loc[0, "share"] == pytest.approx(1 / len(days))  # P6's same-instant order
    assert curve.loc[0, "at_risk"] == len(days) - 1


def test_no_second_orders_gives_a_flat_curve(tmp_path):
    rows = [("x1", "Q1", "2026-10-01 12:00:00", "paid"),
            ("x2", "Q2", "2026-10-05 12:00:00", "paid")]
    result = overview(tmp_path, rows=rows)
    assert (result.second_order_curve["share"] == 0).all()
    assert result.repurchase.iloc[0]["cohort_size"] == 0
    assert np.isnan(result.repurchase.iloc[0]["rate"])


stamps = st.integers(min_value=0, max_value=600 * 24).map(
    lambda h: str(pd.Timestamp("2025-03-01") + pd.Timedelta(hours=h)))
random_orders = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D", "E", "F", None]), stamps,
              st.sampled_from(["paid", "delivered", "cancelled", "returned"])),
    min_size=1, max_size=25)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=random_orders, window=st.sampled_from([30, 90, 180]))
def test_random_stores_match_the_references(tmp_path_factory, rows, window):
    rows = [(f"o{i}", c, t, s) for i, (c, t, s) in enumerate(rows)]
    result = overview(tmp_path_factory.mktemp("rep"), rows=rows, window=window)
    o = orders_frame(rows)
    r = result.repurchase.iloc[0]
    assert (r["repurchasers"], r["cohort_size"]) == ref_repurchase(o, AS_OF, window)
    assert 0 <= r["repurchasers"] <= r["cohort_size"]
    days, event = ref_durations(o, AS_OF)
    curve = result.second_order_curve
    if len(days):
        grid = curve["days"].to_numpy()
        np.testing.assert_allclose(curve["share"], 1 - km_by_hand(days, event, grid))
        assert ((curve["share"] >= 0) & (curve["share"] <= 1)).all()
    else:
        assert curve.empty


@settings(max_examples=200, deadline=None)
@given(k=st.integers(0, 5000), extra=st.integers(0, 5000),
       alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_wilson_interval_equals_statsmodels(k, extra, alpha):
    n = k + extra
    if n == 0:
        return
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    assert wilson_interval(k, n, alpha) == pytest.approx((low, high), rel=1e-12, abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=80))
def test_kaplan_meier_equals_statsmodels(data):
    time = np.array([t for t, _ in data], dtype="float64")
    event = np.array([e for _, e in data])
    times, surv, se = kaplan_meier(time, event)
    if not event.any():
        assert len(times) == 0
        return
    fit = SurvfuncRight(time, event.astype(int))
    np.testing.assert_allclose(times, fit.surv_times)
    np.testing.assert_allclose(surv, fit.surv_prob, rtol=1e-12, atol=1e-15)
    # statsmodels leaves the error undefined (NaN) where S reaches 0; ours is 0 there.
    expected = np.where(fit.surv_prob > 0, fit.surv_prob_se, 0.0)
    np.testing.assert_allclose(se, expected, rtol=1e-10, atol=1e-15)
