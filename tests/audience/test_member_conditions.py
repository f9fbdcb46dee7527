# ruff: noqa: E501 - the hand-made tables read best one row per line
"""The member-data conditions on a hand-made shop around a leap day; members worked out by hand.

The reference day is Sunday 2027-02-28, a common year's last day of February: 29 February
birthdays and sign-ups are celebrated on it, and a 29 February child is not a year older yet
(the Civil Code's 만 나이 count). Times are Korean local times unless they say otherwise.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audience.conftest import SETTINGS, _frame
from workbench.audience import Audience, AudienceDefinition, Condition, Group
from workbench.audience.conditions.members import anniversary_dates, celebrated_days
from workbench.data import connect, write_store
from workbench.errors import ParameterError

AS_OF = date(2027, 2, 28)
C = Condition.make

CUSTOMERS = _frame([
    # id    signup               birth         member  tier    points   inflow
    ("L1", "2024-02-29 10:00", "2000-02-29", True, "VIP", 12000.0, "Naver"),
    ("L2", "2026-02-28 00:30", "1990-02-28", True, "골드", 5000.0, "naver "),  # 2026-02-27 15:30 UTC
    ("L3", "2025-02-27 23:30", "2005-03-01", True, " VIP", 0.0, "instagram"),
    ("L4", None, None, False, None, None, None),
    ("L5", None, None, False, None, None, "kakao"),
    ("L6", None, None, None, None, None, None),
    ("L7", "2027-02-28 00:10", "1987-03-01", True, None, None, "kakao"),
], "customer_id signup_at birth_date is_member member_tier points_balance acquisition_channel")
CUSTOMERS["birth_date"] = pd.to_datetime(CUSTOMERS["birth_date"]).dt.date

ORDERS = _frame([
    ("o1", "L1", "2026-01-01 10:00", "paid", 20000.0, 2000.0, "WELCOME10"),
    ("o2", "L1", "2026-05-01 10:00", "paid", 30000.0, 0.0, None),
    ("o3", "L2", "2026-03-01 10:00", "cancelled", 20000.0, 2000.0, "WELCOME10"),  # not net
    ("o4", "L2", "2026-03-02 10:00", "paid", 20000.0, 3000.0, " "),  # a time sale: no code
    ("o5", "L3", "2026-12-15 10:00", "confirmed", 20000.0, 2000.0, " summer "),
    ("o6", "L3", "2026-12-15 10:00", "paid", 10000.0, 0.0, None),  # same instant: o5 is first
    ("o7", "L7", "2027-02-28 09:00", "paid", 10000.0, 1000.0, "WELCOME10"),  # after the cut-off
], "order_id customer_id ordered_at status amount discount coupon_code")

EVENTS = _frame([
    ("L4", "V4", "2027-02-25 10:00", "visit"),
    ("L5", "V5", "2027-02-20 10:00", "visit"),
    ("L5", "V5", "2027-02-20 10:05", "signup"),  # signed up; the member flag lags
    ("L6", "V6", "2027-01-10 10:00", "product_view"),  # 49 days before the cut-off
    ("L1", "V1", "2027-02-20 10:00", "visit"),  # a member
    ("L4", "V4", "2027-02-28 09:00", "visit"),  # after the cut-off
    (None, "A1", "2027-02-25 10:00", "visit"),  # anonymous: never a member of an audience
], "customer_id visitor_id ts type")


def _write(path) -> None:
    with write_store(path, settings=SETTINGS, fresh=True) as w:
        w.write("customers", CUSTOMERS)
        w.write("orders", ORDERS)
        w.write("events", EVENTS)


@pytest.fixture(scope="module")
def shop_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("leap") / "leap.duckdb"
    _write(path)
    return path


@pytest.fixture(scope="module")
def shop(shop_path):
    con = connect(shop_path, settings=SETTINGS)
    yield con
    con.disconnect()


def members(con, *conditions, as_of=AS_OF) -> list[str]:
    aud = Audience(Group("and", tuple(conditions)), con, as_of=as_of, settings=SETTINGS)
    return sorted(aud.members(limit=None)["customer_id"])


CASES = [
    # ages on 2027-02-28: L1 26 (27 on 1 March), L2 37, L3 21, L7 39
    ("twenties", [C("age_band", bands=["20s"])], ["L1", "L3"]),
    ("thirties or twenties", [C("age_band", bands=["30s", "20s"])], ["L1", "L2", "L3", "L7"]),
    ("age 26 to 37", [C("age_band", min_years=26, max_years=37)], ["L1", "L2"]),
    ("age at least 27: leap-day child not yet", [C("age_band", min_years=27)], ["L2", "L7"]),
    ("known age (no bounds)", [C("age_band")], ["L1", "L2", "L3", "L7"]),
    ("not in the twenties (unknown age included by NOT)", [C("age_band", bands=["20s"], negate=True)],
     ["L2", "L4", "L5", "L6", "L7"]),
    ("inflow path, case and spaces folded", [C("acquisition_channel", values=["NAVER"])], ["L1", "L2"]),
    ("inflow path list", [C("acquisition_channel", values=["kakao", "instagram"])], ["L3", "L5", "L7"]),
    ("first order with a coupon", [C("first_order_coupon")], ["L1", "L3"]),
    ("first order without a coupon", [C("first_order_coupon", used=False)], ["L2"]),
    ("first order with code SUMMER", [C("first_order_coupon", codes=["Summer"])], ["L3"]),
    ("first order with code WELCOME10 (o3 was cancelled)", [C("first_order_coupon", codes=["WELCOME10"])], ["L1"]),
    ("first order with a coupon in 90 days", [C("first_order_coupon", from_ago="90d")], ["L3"]),
    ("guests active in 30 days, not signed up", [C("visited_not_signed_up")], ["L4"]),
    ("guests active in 60 days, not signed up", [C("visited_not_signed_up", from_ago="60d")], ["L4", "L6"]),
    ("birthday today (29 Feb on 28 Feb)", [C("birthday")], ["L1", "L2"]),
    ("birthday within a day", [C("birthday", within_days=1)], ["L1", "L2", "L3", "L7"]),
    ("anniversary today (any year)", [C("signup_anniversary")], ["L1", "L2"]),
    ("third anniversary (29 Feb 2024)", [C("signup_anniversary", years=3)], ["L1"]),
    ("first anniversary (00:30 KST is the 28th)", [C("signup_anniversary", years=1)], ["L2"]),
    ("shop tier VIP (spaces ignored)", [C("member_tier", values=["VIP"])], ["L1", "L3"]),
    ("shop tier 골드", [C("member_tier", values=["골드"])], ["L2"]),
    ("points 5,000 or more", [C("points_balance", min_points=5000)], ["L1", "L2"]),
    ("points below 5,000", [C("points_balance", max_points=4999)], ["L3"]),
    ("known points balance", [C("points_balance")], ["L1", "L2", "L3"]),
]


@pytest.mark.parametrize("conditions,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_condition(shop, conditions, expected):
    assert members(shop, *conditions) == expected


@pytest.mark.parametrize("as_of,expected", [
    (date(2027, 3, 1), ["L3", "L7"]),  # born on 1 March
    (date(2028, 2, 28), ["L2"]),  # a leap year: 29 February birthdays wait a day
    (date(2028, 2, 29), ["L1"]),
], ids=["1 March", "28 Feb of a leap year", "29 Feb"])
def test_birthdays_around_the_leap_day(shop, as_of, expected):
    assert members(shop, C("birthday"), as_of=as_of) == expected


def test_leap_day_child_turns_a_year_older_on_1_march(shop):
    assert members(shop, C("age_band", min_years=27, max_years=27)) == []
    assert members(shop, C("age_band", min_years=27, max_years=27), as_of=date(2027, 3, 1)) == ["L1"]
    assert members(shop, C("age_band", bands=["20s"]), as_of=date(2027, 3, 1)) == ["L1", "L3"]


def test_the_day_is_the_shops_local_day(shop):
    # 2027-02-27 15:30 UTC is 00:30 on the 28th in Seoul: today's birthdays are the 28th's.
    utc = datetime(2027, 2, 27, 15, 30, tzinfo=UTC)
    assert members(shop, C("birthday"), as_of=utc) == ["L1", "L2"]
    assert members(shop, C("birthday"), as_of=datetime(2027, 2, 27, 23, 59)) == []
    # L2 signed up at 00:30 KST on 2026-02-28 (still the 27th in UTC): a 28 February sign-up.
    assert members(shop, C("signup_anniversary"), as_of=date(2027, 2, 27)) == ["L3"]


def test_signed_up_today_is_no_anniversary(shop):
    # At 10:00 L7's sign-up of 00:10 is before the cut-off, but it is the same day: year 0.
    assert members(shop, C("signup_anniversary"), as_of=datetime(2027, 2, 28, 10, 0)) == ["L1", "L2"]
    # and L7's 09:00 order now counts as a first order with a coupon
    assert members(shop, C("first_order_coupon"), as_of=datetime(2027, 2, 28, 10, 0)) == ["L1", "L3", "L7"]


def test_unknown_birth_dates_are_counted_in_a_note(shop):
    aud = Audience(Group("and", (C("age_band", bands=["20s"]), C("birthday", negate=True))), shop,
                   as_of=AS_OF, settings=SETTINGS)
    assert aud.count() == 1  # L3
    (note,) = aud._notes  # the same note once for both conditions
    assert note.key == "unknown_birth_date" and note.fields == {"count": 3}
    assert note.message("en") == ("Customers without a birth date (3) are never included by age "
                                  "or birthday conditions.")
    assert note.message("ko") == "생년월일이 없는 고객 3명은 나이·생일 조건에 포함되지 않습니다."
    cached = Audience(Group("and", (C("age_band"),)), shop, as_of=AS_OF, settings=SETTINGS,
                      cache={})
    assert cached.count() == 4 and cached.count() == 4 and len(cached.notes) == 1


def test_missing_member_columns_match_nobody(shop_path, tmp_path):
    # A store written before member_tier and points_balance existed, opened read-only.
    old = tmp_path / "old.duckdb"
    old.write_bytes(shop_path.read_bytes())
    raw = duckdb.connect(str(old))
    for column in ("member_tier", "points_balance", "birth_date"):
        raw.execute(f"ALTER TABLE customers DROP COLUMN {column}")
    raw.close()
    con = connect(old, settings=SETTINGS)
    assert members(con, C("member_tier", values=["VIP"])) == []
    assert members(con, C("points_balance", min_points=0)) == []
    assert members(con, C("birthday")) == []
    assert members(con, C("member_tier", values=["VIP"], negate=True)) == [
        "L1", "L2", "L3", "L4", "L5", "L6", "L7"]
    aud = Audience(Group("and", (C("member_tier", values=["VIP"]), C("age_band"))), con,
                   as_of=AS_OF, settings=SETTINGS)
    assert aud.count() == 0
    assert [(n.key, n.fields["column"]) for n in aud._notes] == [
        ("missing_column", "member_tier"), ("missing_column", "birth_date")]
    assert "no column member_tier" in aud.notes[0] and "--mapping cafe24_members" in aud.notes[0]


def test_cached_counts_equal_sql_counts(shop):
    cache: dict = {}
    for _label, conditions, expected in CASES:
        for negate in (False, True):
            rules = Group("and", tuple(conditions), negate)
            cached = Audience(rules, shop, as_of=AS_OF, settings=SETTINGS, cache=cache)
            plain = Audience(rules, shop, as_of=AS_OF, settings=SETTINGS)
            assert cached.count() == plain.count() == (7 - len(expected) if negate
                                                       else len(expected))


def test_yaml_round_trip():
    rules = Group("and", tuple(c for _label, conds, _e in CASES for c in conds))
    d = AudienceDefinition("member_data", rules=rules, channel="sms")
    again = AudienceDefinition.from_yaml(d.to_yaml())
    assert again.rules == d.rules
    assert again.rules.items[0].to_dict() == {"type": "age_band", "bands": ["20s"]}
    assert C("birthday").to_dict() == {"type": "birthday"}
    text = "name: x\nrules:\n  conditions:\n  - {type: points_balance, min_points: '5,000'}\n"
    assert AudienceDefinition.from_yaml(text).rules.items[0].get("min_points") == 5000.0


@pytest.mark.parametrize("kwargs,message", [
    ({"type": "age_band", "bands": ["25s"]}, "condition 'age_band': 'bands': '25s' is not allowed; allowed: ['10s', '20s', '30s', '40s', '50s', '60s', '70s', '80s', '90s']. Did you mean '50s'?"),
    ({"type": "age_band", "min_years": 40, "max_years": 30}, "condition 'age_band': 'min_years' (40) is greater than 'max_years' (30). Fix: swap them or widen the range."),
    ({"type": "points_balance", "min_points": 9000, "max_points": 5000}, "condition 'points_balance': 'min_points' (9000) is greater than 'max_points' (5000). Fix: swap them or widen the range."),
    ({"type": "birthday", "within_days": 40}, "condition 'birthday': 'within_days' must be at most 31; got 40."),
    ({"type": "signup_anniversary", "years": 0}, "condition 'signup_anniversary': 'years' must be at least 1; got 0."),
    ({"type": "acquisition_channel"}, "condition 'acquisition_channel': 'values' is required. Fix: give a value (a list of texts)."),
    ({"type": "member_tier", "value": ["VIP"]}, "condition 'member_tier': unknown field(s) ['value']; allowed: ['values']. Did you mean 'values'?"),
], ids=["band", "ages", "points", "within", "years", "required", "typo"])
def test_invalid_fields_say_what_to_fix(kwargs, message):
    kwargs = dict(kwargs)
    with pytest.raises(ParameterError) as exc:
        C(kwargs.pop("type"), **kwargs)
    assert str(exc.value) == message


def test_every_birthday_is_celebrated_once_a_year():
    # Every month-day (29 February included) falls on exactly one day of every year.
    for year in (2027, 2028, 2100):
        days = [date(year, 1, 1) + timedelta(days=k) for k in range(365 + calendar.isleap(year))]
        seen = [md for d in days for md in celebrated_days(d)]
        assert sorted(seen) == sorted({m * 100 + d for m in range(1, 13)
                                       for d in range(1, calendar.monthrange(2028, m)[1] + 1)})


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(1950, 1, 1), date(2020, 12, 31)), years=st.integers(1, 40))
def test_the_nth_anniversary_falls_once_in_its_year(start, years):
    year = start.year + years
    days = [date(year, 1, 1) + timedelta(days=k) for k in range(365 + calendar.isleap(year))]
    hits = [d for d in days if start in anniversary_dates(d, 0, years)]
    assert len(hits) == 1
    assert (hits[0].month, hits[0].day) == ((start.month, start.day)
                                            if (start.month, start.day) != (2, 29)
                                            or calendar.isleap(year) else (2, 28))


@pytest.mark.parametrize("language,lines", [
    ("en", ["birthday_today as of 2027-02-28: 2 customers",
            "Customers without a birth date (3) are never included by age or birthday "
            "conditions."]),
    ("ko", ["birthday_today (2027-02-28 기준): 2명",
            "생년월일이 없는 고객 3명은 나이·생일 조건에 포함되지 않습니다."]),
])
def test_the_recipe_counts_from_the_command_line_with_its_note(shop_path, capsys, language,
                                                               lines):
    from workbench.cli import main

    assert main(["audience", "count", "birthday_today", "--as-of", "2027-02-28", "--store",
                 str(shop_path), "--language", language]) == 0
    assert capsys.readouterr().out.splitlines() == lines


@pytest.mark.parametrize("name,expected", [
    ("birthday_today", ["L1", "L2"]),
    ("signup_anniversary", ["L1", "L2"]),
    ("visited_not_signed_up", ["L4"]),
])
def test_recipes_on_the_leap_day(shop, name, expected):
    from workbench.audience import load_recipe

    aud = Audience(load_recipe(name), shop, as_of=AS_OF, settings=SETTINGS)
    assert sorted(aud.members(limit=None)["customer_id"]) == expected


@pytest.fixture(scope="module")
def many_births(tmp_path_factory):
    # Every fifth day from 1930 to 2020, and 28 Feb, 29 Feb and 1 Mar of every leap year.
    days = [date(1930, 1, 1) + timedelta(days=k) for k in range(0, 33_000, 5)]
    days += [date(y, m, d) for y in range(1932, 2021, 4) for m, d in ((2, 28), (2, 29), (3, 1))]
    frame = pd.DataFrame({"customer_id": [f"B{i:05d}" for i in range(len(days))],
                          "birth_date": days})
    path = tmp_path_factory.mktemp("births") / "births.duckdb"
    with write_store(path, settings=SETTINGS, fresh=True) as w:
        w.write("customers", frame)
    con = connect(path, settings=SETTINGS)
    yield con, frame
    con.disconnect()


@pytest.mark.parametrize("as_of", [date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 28),
                                   date(2028, 2, 29), date(2026, 12, 31)])
def test_ages_match_a_pandas_reference(many_births, as_of):
    con, frame = many_births
    b = pd.to_datetime(frame["birth_date"])
    not_yet = (b.dt.month * 100 + b.dt.day) > as_of.month * 100 + as_of.day
    age = as_of.year - b.dt.year - not_yet.astype(int)
    for low, high in ((26, 26), (0, 19), (40, 55), (96, 130)):
        expected = sorted(frame.loc[(age >= low) & (age <= high), "customer_id"])
        assert members(con, C("age_band", min_years=low, max_years=high), as_of=as_of) == expected
    expected = sorted(frame.loc[(age // 10).isin([2, 7]), "customer_id"])
    assert members(con, C("age_band", bands=["70s", "20s"]), as_of=as_of) == expected
    month_day = b.dt.month * 100 + b.dt.day
    expected = sorted(frame.loc[month_day.isin(celebrated_days(as_of, 3)), "customer_id"])
    assert members(con, C("birthday", within_days=3), as_of=as_of) == expected
