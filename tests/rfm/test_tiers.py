"""Loyalty tiers: rules as data, assignment at the boundaries, projection and movers."""

import re
from datetime import date

import ibis
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.rfm.tiers import (
    DEFAULT_TIERS_TOML,
    assign_tiers,
    leaving_totals,
    load_tier_rules,
    tier_movers,
    tier_projection,
    tier_summary,
)

TZ = "Asia/Seoul"


def facts(rows):
    return ibis.memtable(pd.DataFrame(rows, columns=["customer_id", "net_revenue_365d",
                                                     "orders_365d"]))


def test_default_tiers_have_korean_labels():
    rules = load_tier_rules()
    assert rules.ids == ("vvip", "vip", "gold", "silver", "welcome")
    assert [rules.label(t, "ko") for t in rules.ids] == ["최우수", "우수", "골드", "실버", "웰컴"]
    assert rules.rank("vvip") == 0 and rules.window_days == 365


def test_assign_tiers_needs_both_minimums_and_includes_the_boundary():
    t = facts([("a", 1_000_000.0, 5), ("b", 999_999.0, 9), ("c", 2_000_000.0, 4),
               ("d", 100_000.0, 1), ("e", 0.0, 0), ("f", 500_000.0, 2)])
    got = assign_tiers(t).to_pandas().set_index("customer_id")["tier"]
    assert got.to_dict() == {"a": "vvip", "b": "vip", "c": "vip", "d": "silver",
                             "e": "welcome", "f": "gold"}


def test_projection_formula_and_movers():
    # pace = 30 / 365 of the 365-day totals; what was bought 335-365 days ago leaves.
    t = facts([("up", 480_000.0, 3), ("down", 520_000.0, 3), ("flat", 0.0, 0),
               ("stay", 1_500_000.0, 10)])
    leaving = ibis.memtable({"customer_id": ["down", "stay"],
                             "leaving_revenue": [200_000.0, 100_000.0],
                             "leaving_orders": [1, 1]})
    got = tier_projection(t, leaving).to_pandas().set_index("customer_id")
    pace = 30 / 365
    assert got.loc["up", "projected_spend_365d"] == pytest.approx(480_000 * (1 + pace))
    assert got.loc["down", "projected_spend_365d"] == pytest.approx(
        520_000 - 200_000 + 520_000 * pace)
    assert got.loc["down", "projected_orders_365d"] == pytest.approx(3 - 1 + 3 * pace)
    assert got["tier"].to_dict() == {"up": "gold", "down": "vip", "flat": "welcome",
                                     "stay": "vvip"}
    assert got["next_tier"].to_dict() == {"up": "vip", "down": "gold", "flat": "welcome",
                                          "stay": "vvip"}
    movers = tier_movers(tier_projection(t, leaving)).to_pandas().sort_values("tier")
    assert movers.to_dict("records") == [
        {"tier": "gold", "next_tier": "vip", "direction": "up", "customers": 1},
        {"tier": "vip", "next_tier": "gold", "direction": "down", "customers": 1},
        {"tier": "vvip", "next_tier": "vvip", "direction": "same", "customers": 1},
        {"tier": "welcome", "next_tier": "welcome", "direction": "same", "customers": 1},
    ]


def test_tier_summary_shares():
    tiered = assign_tiers(facts([("a", 1_200_000.0, 6), ("b", 600_000.0, 3),
                                 ("c", 200_000.0, 2), ("d", 0.0, 0)]))
    got = tier_summary(tiered).to_pandas().set_index("tier")
    assert got["customers"].sum() == 4 and got["share"].sum() == pytest.approx(1.0)
    assert got.loc["vvip", "revenue_share"] == pytest.approx(1_200_000 / 2_000_000)
    assert got["revenue_share"].sum() == pytest.approx(1.0)


def test_leaving_totals_takes_the_oldest_month_of_the_window():
    as_of = date(2026, 11, 16)  # window starts 2025-11-16; leaves before 2025-12-16
    orders = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", None],
        "ordered_at": pd.to_datetime(["2025-11-15 23:59", "2025-11-16 00:00",
                                      "2025-12-15 23:00", "2025-12-16 00:00",
                                      "2025-11-20 10:00", "2025-11-20 10:00"]).tz_localize(TZ),
        "status": ["paid", "paid", "confirmed", "paid", "cancelled", "paid"],
        "amount": [1.0, 10.0, 20.0, 40.0, 80.0, 160.0]})
    got = leaving_totals(ibis.memtable(orders), as_of=as_of, timezone=TZ).to_pandas()
    assert got.to_dict("records") == [
        {"customer_id": "a", "leaving_revenue": 30.0, "leaving_orders": 2}]


def _tier(tier_id, spend, orders, label=None):
    label = label or tier_id.title()
    return (f'[[tier]]\nid = "{tier_id}"\nmin_spend = {spend}\nmin_orders = {orders}\n'
            f'label = {{ en = "{label}", ko = "{label}" }}\n\n')


def test_custom_tier_file(tmp_path):
    path = tmp_path / "tiers.toml"
    path.write_text(_tier("black", 300_000, 0) + _tier("basic", 0, 0), encoding="utf-8")
    rules = load_tier_rules(path)
    got = assign_tiers(facts([("a", 300_000.0, 1), ("b", 1.0, 9)]), rules).tier.to_list()
    assert got == ["black", "basic"]
    copy = tmp_path / "default.toml"
    copy.write_text(DEFAULT_TIERS_TOML, encoding="utf-8")
    assert load_tier_rules(copy).ids == load_tier_rules().ids


BROKEN = [
    ("no_base", _tier("gold", 1000, 1), "tier 1 ('gold'): the last tier must have min_spend = 0 "
     "and min_orders = 0 so every customer gets a tier; got 1000 and 1. Add a base tier."),
    ("negative", _tier("gold", -5, 1) + _tier("base", 0, 0),
     "tier 1 ('gold'): 'min_spend' must be a number >= 0; got -5."),
    ("duplicate", _tier("a", 10, 0) + _tier("a", 0, 0), "tier 2: id 'a' is used by an earlier"),
    ("bad_id", _tier("Gold Tier", 0, 0), "'id' must be snake_case text such as 'gold'"),
    ("window", "window_days = 90\n" + _tier("a", 0, 0), "'window_days' must be 365"),
    ("not_toml", "[[tier]\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_tier_files(tmp_path, text, message):
    path = tmp_path / "tiers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_tier_rules(path)
    assert str(path) in str(info.value)
