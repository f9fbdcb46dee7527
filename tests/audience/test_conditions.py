"""Each condition type on the hand-made shop of conftest.py; expected members worked out by hand."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.audience import Audience, Condition, Group
from workbench.data import connect
from workbench.errors import SchemaError


def members(con, *conditions, op="and", negate=False, as_of=AS_OF) -> list[str]:
    rules = Group(op, tuple(conditions), negate)
    return sorted(Audience(rules, con, as_of=as_of, settings=SETTINGS).members(limit=None)[
        "customer_id"])


C = Condition.make

CASES = [
    ("consent sms", [C("consent", channel="sms")], ["A", "B", "D"]),
    ("consent lms uses the sms flag", [C("consent", channel="lms")], ["A", "B", "D"]),
    ("consent email", [C("consent", channel="email")], ["C"]),
    ("consent push", [C("consent", channel="push")], ["D"]),
    ("consent night", [C("consent", channel="night")], ["A"]),
    ("no sms consent", [C("consent", channel="sms", granted=False)], ["C", "E"]),
    ("signed up in 30 days", [C("signup", from_ago="30d")], ["A"]),
    ("signed up in 60 days", [C("signup", from_ago="60d")], ["A", "E"]),
    ("signed up 60 to 30 days ago", [C("signup", from_ago="60d", to_ago="30d")], ["E"]),
    ("members", [C("membership", is_member=True)], ["A", "B", "D", "E"]),
    ("guests", [C("membership", is_member=False)], ["C"]),
    ("region", [C("region", values=["서울"])], ["A", "D"]),
    ("region list", [C("region", values=["부산", "대구"])], ["B", "E"]),
    ("not region (unknown region counts as not 서울)", [C("region", values=["서울"], negate=True)],
     ["B", "C", "E"]),
    ("birthday this month", [C("birthday_month", month="this")], ["A", "D"]),
    ("birthday next month", [C("birthday_month", month="next")], ["B"]),
    ("birthday in January", [C("birthday_month", month=1)], ["E"]),
    ("orders 14 to 7 days ago", [C("orders", from_ago="14d", to_ago="7d")], ["B"]),
    ("2+ net orders in 90 days", [C("orders", from_ago="90d", min_count=2)], ["A", "B"]),
    ("3+ net orders in 90 days", [C("orders", from_ago="90d", min_count=3)], ["B"]),
    ("exactly one order ever", [C("orders", min_count=1, max_count=1)], []),
    ("never ordered (zero counts)", [C("orders", min_count=0, max_count=0)], ["C", "E"]),
    ("cancelled orders", [C("orders", statuses=["cancelled"])], ["B"]),
    ("bought product P3", [C("orders", products=["P3"])], ["B", "D"]),
    ("bought food (net only)", [C("orders", categories=["food"])], ["B"]),
    ("spent 60,000+", [C("orders", min_amount=60000)], ["B", "D"]),
    ("spent at most 60,000 (incl. nothing)", [C("orders", max_amount=60000, min_count=0)],
     ["A", "C", "E"]),
    ("delivered 14 to 7 days ago", [C("orders", date_field="delivered", from_ago="14d",
                                      to_ago="7d", statuses=["delivered", "confirmed"])], ["B"]),
    ("cart", [C("cart")], ["A", "B"]),
    ("cart 2+ items", [C("cart", min_items=2)], ["A"]),
    ("cart 1 h to 24 h", [C("cart", min_age="1h", max_age="24h")], ["A"]),
    ("cart product P3", [C("cart", products=["P3"])], ["B"]),
    ("cart category beauty", [C("cart", categories=["beauty"])], ["A"]),
    ("cart incl. bought since", [C("cart", not_purchased_since=False)], ["A", "B", "D"]),
    ("3+ views of one product", [C("product_views", min_count=3)], ["A"]),
    ("3+ views in total", [C("product_views", min_count=3, per_product=False)], ["A", "B"]),
    ("viewed P2", [C("product_views", products=["P2"])], ["A", "B"]),
    ("3+ views of one product in 90 days", [C("product_views", from_ago="90d", min_count=3)],
     ["A", "C"]),
    ("2+ active days in 90", [C("visits", min_days=2)], ["A"]),
    ("no active day in 90 (incl. never)", [C("visits", min_days=0, max_days=0)], ["C", "D"]),
    ("at most 1 login day in 90", [C("visits", event="login", min_days=0, max_days=1)],
     ["B", "C", "D", "E"]),
    ("logged in within 180 days", [C("visits", event="login", from_ago="180d")], ["A", "D"]),
    ("searched 크림 in 30 days", [C("searches", query="크림")], ["A"]),
    ("searched 크림 in 60 days", [C("searches", query="크림", from_ago="60d")], ["A", "C"]),
    ("exact search", [C("searches", query="시카 크림", match="exact")], ["A"]),
    ("exact search is case/space-insensitive", [C("searches", query=" 시카 크림 ", match="exact")],
     ["A"]),
    ("checkout drop-off in 1 day", [C("checkout_abandoned")], ["E"]),
    ("checkout drop-off in 30 days", [C("checkout_abandoned", from_ago="30d")], ["E"]),
    ("rfm segment", [C("rfm_segment", values=["champions", "lost"])], ["A", "D"]),
    ("tier", [C("tier", values=["gold", "silver"])], ["A", "B"]),
    # Beauty's cycle is A's one gap, 30 days (10-11 -> 11-10). Expected next purchases: A 12-10
    # (24 days ahead), D 12-15 (29 ahead), B 10-31 (16 days overdue).
    ("replenishment due this week", [C("replenishment_due", min_repeats=1)], []),
    ("replenishment due within 30 days", [C("replenishment_due", min_repeats=1,
                                            due_within_days=30)], ["A", "D"]),
    ("replenishment due or up to 20 days overdue",
     [C("replenishment_due", min_repeats=1, due_within_days=30, max_overdue_days=20)],
     ["A", "B", "D"]),
    ("replenishment by product", [C("replenishment_due", level="product", keys=["P1"],
                                    min_repeats=1, due_within_days=30, max_overdue_days=20)],
     ["A", "B", "D"]),
    ("replenishment of another category", [C("replenishment_due", keys=["pet"], min_repeats=1,
                                             due_within_days=365, max_overdue_days=365)], []),
]


@pytest.mark.parametrize("conditions,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_condition(tiny, conditions, expected):
    assert members(tiny, *conditions) == expected


def test_groups_and_not(tiny):
    seoul, sms, email = C("region", values=["서울"]), C("consent", channel="sms"), C(
        "consent", channel="email")
    assert members(tiny, seoul, sms) == ["A", "D"]
    assert members(tiny, C("region", values=["부산"]), email, op="or") == ["B", "C"]
    assert members(tiny, seoul, sms, negate=True) == ["B", "C", "E"]
    nested = Group("or", (Group("and", (seoul, C("birthday_month", month="this"))),
                          C("region", values=["대구"])))
    assert members(tiny, nested, C("consent", channel="sms", granted=False)) == ["E"]
    assert members(tiny) == ["A", "B", "C", "D", "E"]  # no condition: everyone


def test_hour_cutoff(tiny):
    # A datetime as_of cuts at that instant: at 22:00 on 15 Nov, A's P1 (20:00) is 2 h old and
    # the P2 added at 23:30 does not exist yet.
    cart = C("cart", min_age="1h", max_age="24h")
    assert members(tiny, cart, as_of=datetime(2026, 11, 15, 22, 0)) == ["A"]
    assert members(tiny, C("cart", max_age="1h"), as_of=datetime(2026, 11, 16, 0, 0)) == ["A"]


def test_events_after_the_cutoff_never_count(tiny):
    assert members(tiny, C("product_views", products=["P2"], from_ago="1d")) == []


def test_missing_snapshot_column_is_a_clear_error(tiny_copy):
    # A store whose snapshot was written by an older version has no churn columns.
    raw = duckdb.connect(str(tiny_copy))
    raw.execute("ALTER TABLE snapshot_customers DROP COLUMN IF EXISTS risk_band")
    raw.close()
    con = connect(tiny_copy, settings=SETTINGS)
    with pytest.raises(SchemaError, match="needs the snapshot column 'risk_band'.*refresh"):
        members(con, C("churn_risk", values=["high"]))


def test_snapshot_column_added_later(tiny_copy):
    raw = duckdb.connect(str(tiny_copy))
    raw.execute("ALTER TABLE snapshot_customers DROP COLUMN IF EXISTS clv_band")
    raw.execute("ALTER TABLE snapshot_customers ADD COLUMN clv_band VARCHAR")
    raw.execute("UPDATE snapshot_customers SET clv_band = CASE customer_id WHEN 'B' THEN 'high' "
                "ELSE 'low' END")
    raw.close()
    con = connect(tiny_copy, settings=SETTINGS)
    assert members(con, C("clv_band", values=["high"])) == ["B"]
    aud = Audience(Group("and", (C("clv_band", values=["low"]),)), con,
                   as_of=datetime(2026, 11, 20), settings=SETTINGS)
    assert aud.count() == 2
    assert aud.notes and "snapshot of 2026-11-16" in aud.notes[0]


def test_rfm_off_the_snapshot_date_is_computed(tiny):
    # On another date the segment is computed from the orders (here nobody is 'champions' by
    # hand-written label, so the live RFM gives its own segments: the count is what RFM says).
    from workbench.rfm.analysis import rfm_snapshot

    day = datetime(2026, 11, 20).date()
    live = rfm_snapshot(tiny, as_of=day, settings=SETTINGS).to_pandas()
    seg = live["segment"].dropna().iloc[0]
    expected = sorted(live.loc[live["segment"] == seg, "customer_id"])
    assert members(tiny, C("rfm_segment", values=[seg]), as_of=day) == expected


def test_cached_counts_equal_sql_counts(tiny):
    # The form's path (per-condition masks kept in a cache) gives the SQL path's numbers, also
    # after changes, for every case above and for groups with NOT.
    cache: dict = {}
    for _label, conditions, expected in CASES:
        for negate in (False, True):
            rules = Group("and", tuple(conditions), negate)
            cached = Audience(rules, tiny, as_of=AS_OF, settings=SETTINGS, cache=cache)
            plain = Audience(rules, tiny, as_of=AS_OF, settings=SETTINGS)
            assert cached.count() == plain.count() == (5 - len(expected) if negate
                                                       else len(expected))
    rules = Group("or", (C("region", values=["부산"]), Group("and", (C("cart"), C(
        "consent", channel="sms")), negate=True)))
    assert Audience(rules, tiny, as_of=AS_OF, settings=SETTINGS, cache=cache).count() == len(
        members(tiny, *rules.items, op="or"))
    assert any(k[0] == "mask" for k in cache)
