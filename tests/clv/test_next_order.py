"""Next-order predictions: closed form vs simulation, cycle counts, the snapshot part."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from tests.audience.conftest import AS_OF as TINY_AS_OF
from tests.audience.conftest import SETTINGS, write_tiny
from tests.conftest import SAMPLE_END
from workbench.clv import clv_summary
from workbench.clv.bgnbd import BetaGeo
from workbench.clv.next_order import (
    HORIZONS,
    _blend_p,
    _Days,
    cycle_features,
    holdout_check,
    model_next_order,
    next_order_fit,
    next_order_part,
)
from workbench.data import connect
from workbench.settings import Settings

# BG/NBD at the published CDNOW estimates (Fader, Hardie & Lee 2005), in weeks.
R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426


def known_model(r=R, alpha=ALPHA, a=A, b=B) -> BetaGeo:
    """A BG/NBD with the given parameters, as if fitted."""
    model = BetaGeo(check_data=False)
    model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    model.data_message_ = ""
    return model


def simulate(n: int, T: float, t: float, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate BG/NBD customers (first purchase at 0) to T, then whether they buy in (T, T+t].

    The story of the model [eqs. (1)-(5) of FHL 2005]: exponential gaps at rate lambda ~
    Gamma(r, alpha), and after each repeat purchase drop-out with probability p ~ Beta(a, b).
    """
    lam = rng.gamma(R, 1 / ALPHA, n)
    p = rng.beta(A, B, n)
    now = np.zeros(n)
    x = np.zeros(n)
    tx = np.zeros(n)
    alive = np.ones(n, bool)
    bought_later = np.zeros(n, bool)
    active = np.ones(n, bool)  # still simulating
    while active.any():
        nxt = now + rng.exponential(1.0, n) / np.maximum(lam, 1e-300)
        in_cal = active & alive & (nxt <= T)
        later = active & alive & (nxt > T)
        bought_later |= later & (nxt <= T + t)
        x[in_cal] += 1
        tx[in_cal] = nxt[in_cal]
        now[in_cal] = nxt[in_cal]
        alive &= ~(in_cal & (rng.random(n) < p))
        active = in_cal & alive
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T, "bought": bought_later})


def test_closed_form_matches_simulation(rng):
    sim = simulate(40_000, T=39.0, t=30 / 7, rng=rng)
    pred = model_next_order(known_model(), sim[["frequency", "recency", "T"]], (30,))
    sim["p"] = pred["p_model_30d"].to_numpy()
    groups = sim.groupby(np.minimum(sim["frequency"], 3))
    for _, g in groups:
        se = np.sqrt(g["p"].mean() * (1 - g["p"].mean()) / len(g))
        assert abs(g["p"].mean() - g["bought"].mean()) < 4 * se + 1e-3
    overall = sim["p"].mean() - sim["bought"].mean()
    assert abs(overall) < 0.006


def test_model_date_is_the_conditional_median():
    # Given alive, S is Lomax: P(S > t) = q(t)**(r+x). The median given S <= 90 days solves
    # 1 - q(m)**s = (1 - q(H)**s) / 2; check it by brentq on the survival function directly.
    s = pd.DataFrame({"frequency": [0.0, 2.0, 10.0], "recency": [0.0, 20.0, 30.0],
                      "T": [39.0, 39.0, 39.0]})
    days = model_next_order(known_model(), s)["model_days"].to_numpy()
    for (x, T), got in zip(s[["frequency", "T"]].to_numpy(), days, strict=True):
        def cdf(t, x=x, T=T):
            return 1 - ((ALPHA + T) / (ALPHA + T + t)) ** (R + x)
        m = brentq(lambda t, x=x, T=T: cdf(t) - cdf(90 / 7) / 2, 0, 90 / 7)
        assert got == np.floor(7 * m)


@settings(max_examples=60, deadline=None)
@given(r=st.floats(0.05, 5), alpha=st.floats(0.1, 50), a=st.floats(0.1, 5),
       b=st.floats(0.1, 50), x=st.integers(0, 40), share=st.floats(0, 1),
       T=st.floats(0.5, 150), n_ge=st.integers(0, 10), m=st.floats(0.1, 64))
def test_probabilities_are_probabilities_and_grow_with_the_window(r, alpha, a, b, x, share, T,
                                                                   n_ge, m):
    recency = share * T if x else 0.0
    s = pd.DataFrame({"frequency": [float(x)], "recency": [recency], "T": [T]})
    out = model_next_order(known_model(r, alpha, a, b), s)
    p = [float(out[f"p_model_{h}d"].iloc[0]) for h in HORIZONS]
    assert all(0.0 <= v <= 1.0 for v in p)
    assert p[0] <= p[1] + 1e-12 <= p[2] + 2e-12
    assert 0 <= out["model_days"].iloc[0] <= 90
    # the blend: own gaps in the windows are nested, so it grows with the window too
    inside = sorted(np.random.default_rng(x).integers(0, n_ge + 1, 3))
    ev = out.assign(n_ge=n_ge, **{f"n_in_{h}d": k for h, k in zip(HORIZONS, inside,
                                                                    strict=True)})
    blended = [float(_blend_p(ev, h, m)[0]) for h in HORIZONS]
    assert all(0.0 <= v <= 1.0 for v in blended)
    assert blended[0] <= blended[1] + 1e-12 <= blended[2] + 2e-12


def test_cycle_counts_by_hand():
    # Customer c: purchase days -100, -70, -40, -20 (gaps 30, 30, 20); origin 0, so e = 20.
    # Gaps >= 20: all three; within 7 days (20..26): the 20; within 30 (20..49): all three.
    # Customer d: one purchase day -5. Customer f: -300, -200 (gap 100), e = 200: overdue.
    d = _Days(np.array(["c", "d", "f"], dtype=object), np.array([0, 0, 0, 0, 1, 2, 2]),
              np.array([-100, -70, -40, -20, -5, -300, -200]))
    f = cycle_features(d, 0)
    assert f.loc["c", ["frequency", "e", "median_gap", "n_ge", "n_in_7d", "n_in_30d",
                       "rest_median"]].tolist() == [3, 20, 30, 3, 1, 3, 30]
    assert f.loc["c", "recency"] == 80 / 7 and f.loc["c", "T"] == 99 / 7
    assert f.loc["d", ["frequency", "e", "n_ge", "T"]].tolist() == [0, 5, 0, 4 / 7]
    assert np.isnan(f.loc["d", "median_gap"])
    assert f.loc["f", ["e", "n_ge", "n_in_90d"]].tolist() == [200, 0, 0]
    # an earlier origin sees less: at day -50, c has days -100 and -70 only
    early = cycle_features(d, -50)
    assert list(early.index) == ["c", "f"]
    assert early.loc["c", ["frequency", "e", "n_ge", "n_in_30d"]].tolist() == [1, 20, 1, 1]


def test_summary_columns_match_clv_summary(sample_store):
    from workbench.clv.next_order import _order_days

    con = connect(str(sample_store))
    as_of = date.fromisoformat(SAMPLE_END) - timedelta(days=30)
    ours = cycle_features(_order_days(con, as_of, Settings()), 0)
    theirs = clv_summary(con, as_of, settings=Settings())
    pd.testing.assert_frame_equal(ours[["frequency", "recency", "T"]],
                                  theirs[["frequency", "recency", "T"]], check_names=False)


def test_snapshot_part_on_the_sample(sample_store):
    con = connect(str(sample_store))
    as_of = date.fromisoformat(SAMPLE_END)
    part = next_order_part(con, as_of=as_of, settings=Settings()).to_pandas()
    assert list(part.columns) == ["customer_id", "p_order_7d", "p_order_30d", "p_order_90d",
                                  "next_order_date"]
    assert part["customer_id"].is_unique and part.notna().all().all()
    p = part[["p_order_7d", "p_order_30d", "p_order_90d"]].to_numpy()
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p, axis=1) >= 0).all()
    days = (pd.to_datetime(part["next_order_date"]) - pd.Timestamp(as_of)).dt.days
    assert days.between(0, 89).all()
    fit = next_order_fit(con, as_of, Settings())
    assert fit.calibrated and fit.calibration_origin == as_of - timedelta(days=90)


def test_too_little_earlier_data_leaves_the_blend_uncalibrated(sample_store):
    # 200 days of history: enough for BG/NBD at as_of (180 days), not 90 days earlier.
    fit = next_order_fit(connect(str(sample_store)), date(2025, 6, 1), Settings())
    assert fit.ok and not fit.calibrated and fit.calibration_origin is None
    assert (fit.m, fit.k0) == (2.0, 2.0)
    c = fit.customers
    expected = (c["n_in_30d"] + 2 * c["p_model_30d"]) / (c["n_ge"] + 2)
    np.testing.assert_allclose(c["p_order_30d"], np.maximum(expected, c["p_order_7d"]))


def test_too_little_data_gives_null_columns(tmp_path):
    path = tmp_path / "tiny.duckdb"
    write_tiny(path)
    con = connect(path, settings=SETTINGS)
    assert next_order_part(con, as_of=TINY_AS_OF, settings=SETTINGS) is None
    assert holdout_check(con, TINY_AS_OF, SETTINGS) is None


def test_holdout_check_shapes(sample_store, tmp_path):
    shutil.copy(sample_store, tmp_path / "s.duckdb")
    con = connect(str(tmp_path / "s.duckdb"))
    check = holdout_check(con, date.fromisoformat(SAMPLE_END), Settings())
    table = check["reliability"]
    assert table["customers"].sum() == len(check["fit"].customers)
    assert 0 <= check["ece"] <= 1
    assert set(check["dates"]["group"]) == {"all", "one_day", "repeat"}


@pytest.mark.slow
def test_30_day_probability_is_calibrated_on_a_sample(tmp_path):
    """ECE <= 0.03 on a 90-day holdout of a 20,000-customer sample (issue 19)."""
    from workbench.data.sample import write_sample

    path = tmp_path / "shop.duckdb"
    end = date(2026, 11, 30)
    write_sample(path, 20_000, seed=3, end=end)
    con = connect(str(path))
    check = holdout_check(con, end, Settings())
    assert check["ece"] <= 0.03
    dates = check["dates"].set_index("group")
    assert dates.loc["repeat", "blend"] < dates.loc["repeat", "naive"]
