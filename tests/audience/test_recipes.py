"""Recipes against the session sample store: plausible sizes, and exact sizes recomputed with
pandas (a reference of a few lines each, independent of the Ibis compiler)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from workbench.audience import RECIPES, Audience, load_recipe, overlap
from workbench.data import connect
from workbench.data.schema import NET_STATUSES
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)
SETTINGS = Settings()
CUT = pd.Timestamp(AS_OF).tz_localize("Asia/Seoul")


@pytest.fixture(scope="module")
def con(sample_store):
    c = connect(sample_store, settings=SETTINGS)
    yield c
    c.disconnect()


@pytest.fixture(scope="module")
def frames(con):
    out = {t: con.table(t).to_pandas() for t in ("customers", "orders", "events", "order_items")}
    for df in out.values():
        for col in df.columns:
            if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                df[col] = df[col].dt.tz_convert("Asia/Seoul")
    return out


def count(con, name: str) -> int:
    return Audience(load_recipe(name), con, as_of=AS_OF, settings=SETTINGS).count()


def ids(series) -> set:
    return set(series.dropna())


def ref_vip(f):
    o = f["orders"]
    o = o[o.status.isin(NET_STATUSES) & (o.ordered_at >= CUT - pd.Timedelta(days=90))
          & (o.ordered_at < CUT)]
    n = o.groupby("customer_id").size()
    return set(n[n >= 3].index)


def ref_birthday(f):
    c = f["customers"]
    return ids(c.loc[pd.to_datetime(c.birth_date).dt.month == 11, "customer_id"])


def ref_review_request(f):
    o = f["orders"]
    ok = (o.status.isin(["delivered", "confirmed"])
          & (o.delivered_at >= CUT - pd.Timedelta(days=14))
          & (o.delivered_at < CUT - pd.Timedelta(days=7)) & (o.ordered_at < CUT))
    return ids(o.loc[ok, "customer_id"])


def ref_signed_up_never_bought(f):
    c, o = f["customers"], f["orders"]
    bought = ids(o.loc[o.ordered_at < CUT, "customer_id"])
    return ids(c.loc[c.is_member.fillna(False).astype(bool), "customer_id"]) - bought


def ref_dormant(f):
    c, o, e = f["customers"], f["orders"], f["events"]
    net = o[o.status.isin(NET_STATUSES) & (o.ordered_at < CUT)]
    start = CUT - pd.Timedelta(days=90)
    recent = ids(net.loc[net.ordered_at >= start, "customer_id"])
    active = ids(e.loc[e.type.isin(["login", "visit"]) & (e.ts >= start) & (e.ts < CUT),
                       "customer_id"])
    return (ids(net.customer_id) & ids(c.customer_id)) - recent - active


def ref_browse_follow_up(f):
    e = f["events"]
    v = e[(e.type == "product_view") & (e.ts >= CUT - pd.Timedelta(days=30)) & (e.ts < CUT)]
    n = v.groupby(["customer_id", "product_id"]).size()
    return set(n[n >= 3].index.get_level_values(0))


def ref_cart_abandonment_1h(f):
    e, o, items = f["events"], f["orders"], f["order_items"]
    lo, hi = CUT - pd.Timedelta(hours=24), CUT - pd.Timedelta(hours=1)
    ev = e[e.type.isin(["cart_add", "cart_remove"]) & (e.ts >= lo) & (e.ts < CUT)]
    keys = ["customer_id", "product_id"]
    last = ev[ev.type == "cart_add"].groupby(keys).ts.max().rename("cart_add").to_frame().join(
        ev[ev.type == "cart_remove"].groupby(keys).ts.max().rename("cart_remove"))
    last = last[last.cart_add.notna() & ~(last.cart_remove >= last.cart_add) & (last.cart_add < hi)]
    bought = o[(o.status != "pending") & (o.ordered_at >= lo) & (o.ordered_at < CUT)].merge(
        items, on="order_id").groupby(["customer_id", "product_id"]).ordered_at.max()
    last = last.join(bought.rename("bought"))
    return set(last[~(last.bought >= last.cart_add)].index.get_level_values(0))


def ref_checkout_drop_off(f):
    e, o = f["events"], f["orders"]
    lo = CUT - pd.Timedelta(days=1)
    starts = e[(e.type == "checkout_start") & (e.ts >= lo) & (e.ts < CUT)].groupby(
        "customer_id").ts.max()
    done = o[(o.status != "pending") & (o.ordered_at >= lo) & (o.ordered_at < CUT)].groupby(
        "customer_id").ordered_at.max()
    j = starts.to_frame().join(done)
    return set(j[~(j.ordered_at >= j.ts)].index)


def ref_birthday_today(f):
    c = f["customers"]
    birth = pd.to_datetime(c.birth_date)
    return ids(c.loc[(birth.dt.month == 11) & (birth.dt.day == 16), "customer_id"])


def ref_signup_anniversary(f):
    c = f["customers"]
    day = c.signup_at.dt.date  # already in the shop's zone
    hit = c.is_member.fillna(False).astype(bool) & (day < AS_OF) & day.map(
        lambda d: d == d and (d.month, d.day) == (11, 16))
    return ids(c.loc[hit, "customer_id"])


def ref_promotion_acquired_retention(f):
    o = f["orders"]
    net = o[o.status.isin(NET_STATUSES) & (o.ordered_at < CUT) & o.customer_id.notna()]
    first = net.sort_values(["ordered_at", "order_id"]).groupby("customer_id").head(1)
    coupon = first.coupon_code.fillna("").str.strip() != ""
    start, end = CUT - pd.Timedelta(days=90), CUT - pd.Timedelta(days=30)
    acquired = ids(first.loc[coupon & (first.ordered_at >= start) & (first.ordered_at < end),
                             "customer_id"])
    n = net.groupby("customer_id").size()
    return acquired & set(n[n == 1].index)


def ref_visited_not_signed_up(f):
    c, e = f["customers"], f["events"]
    e = e[e.customer_id.notna() & (e.ts < CUT)]
    seen = ids(e.loc[(e.type != "signup") & (e.ts >= CUT - pd.Timedelta(days=7)), "customer_id"])
    signed = ids(e.loc[e.type == "signup", "customer_id"])
    guest = ~c.is_member.fillna(False).astype(bool) & ~(c.signup_at < CUT)
    return (ids(c.loc[guest, "customer_id"]) & seen) - signed


REFERENCES = {name[4:]: fn for name, fn in globals().items() if name.startswith("ref_")}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_recipe_matches_a_pandas_reference(con, frames, name):
    expected = REFERENCES[name](frames) & ids(frames["customers"].customer_id)
    aud = Audience(load_recipe(name), con, as_of=AS_OF, settings=SETTINGS)
    got = set(aud.members(limit=None)["customer_id"])
    assert got == expected
    assert aud.count() == len(expected)


# Plausible shares of the 2,000 sample customers: the scenarios pick small groups (daily
# triggers), monthly groups (birthday ~ 1/12) and large ones (dormant, VIP in a buying sample).
PLAUSIBLE = {
    "welcome": (1, 40), "first_purchase_1h": (1, 40), "first_purchase_3d": (1, 40),
    "first_purchase_14d": (0, 40), "cart_abandonment_1h": (3, 100),
    "cart_abandonment_24h": (3, 100), "checkout_drop_off": (3, 100),
    "browse_follow_up": (10, 300), "review_request": (50, 500), "replenishment_due": (50, 600),
    "birthday": (100, 260), "signed_up_never_bought": (20, 400), "vip": (100, 800),
    "dormant": (300, 1200),
    # daily triggers: birthdays and sign-up anniversaries today (~1/365 of birth dates and
    # members), guests active in a week; coupon-acquired customers without a second order.
    "birthday_today": (1, 20), "signup_anniversary": (1, 40), "visited_not_signed_up": (5, 200),
    "promotion_acquired_retention": (5, 200),
    # the sample has no points balances yet (member exports bring them): zero until it does
    "vip_points_reminder": (0, 400),
}


def test_recipe_sizes_are_plausible_and_stable(con):
    assert set(PLAUSIBLE) == set(RECIPES)
    sizes = {name: count(con, name) for name in RECIPES}
    for name, (lo, hi) in PLAUSIBLE.items():
        assert lo <= sizes[name] <= hi, (name, sizes[name])
    assert {name: count(con, name) for name in RECIPES} == sizes


def test_overlap_and_history(con):
    vip = Audience(load_recipe("vip"), con, as_of=AS_OF, settings=SETTINGS)
    dormant = Audience(load_recipe("dormant"), con, as_of=AS_OF, settings=SETTINGS)
    birthday = Audience(load_recipe("birthday"), con, as_of=AS_OF, settings=SETTINGS)
    table = overlap(vip, dormant, birthday)
    a, b, c = (set(x.members(limit=None)["customer_id"]) for x in (vip, dormant, birthday))
    assert list(table["both"]) == [len(a & b), len(a & c), len(b & c), len(a & b & c)]
    assert table.loc[0, "both"] == 0  # a VIP ordered in the last 90 days, so is not dormant
    history = vip.size_history(weeks=4)
    assert list(history["as_of"]) == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9),
                                      AS_OF]
    assert history["customers"].iloc[-1] == vip.count()
    earlier = Audience(load_recipe("vip"), con, as_of=date(2026, 11, 2), settings=SETTINGS)
    assert history["customers"].iloc[1] == earlier.count()


def test_members_are_masked_by_default(con):
    aud = Audience(load_recipe("vip"), con, as_of=AS_OF, settings=SETTINGS)
    masked, raw = aud.members(limit=20), aud.members(limit=20, masked=False)
    assert (masked["customer_id"] == raw["customer_id"]).all()
    assert masked["phone"].dropna().str.contains(r"^\d{3}-\*+-\d{4}$").all()
    assert not masked["phone"].dropna().isin(raw["phone"]).any()
    assert masked["name"].dropna().str.contains(r"\*").all()
    assert "SELECT" in aud.to_sql() and "count" in aud.to_sql(count=True).lower()
