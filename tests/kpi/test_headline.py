"""Headline items: one way of showing a value against the previous one, for every result."""

import math

import pytest

from workbench.kpi.headline import change_text, headline_item, relative_change

NAN = math.nan


@pytest.mark.parametrize(
    ("current", "previous", "unit", "expected"),
    [
        (120, 100, "count", "+20.0%"),
        (90, 100, "money", "-10.0%"),
        (5, 0, "count", ""),  # no relative change from nothing
        (0.35, 0.32, "share", "+3.0%p"),  # shares move in percentage points
        (0.25, 0.0, "share", "+25.0%p"),  # ... also from 0%
        (0.30, 0.32, "share", "-2.0%p"),
        (NAN, 0.3, "share", ""),
        (3, None, "count", ""),
        (1.5, NAN, "ratio", ""),
        (100, 100, "count", "+0.0%"),
    ],
    ids=["count-up", "money-down", "from-zero", "share-points", "share-from-zero",
         "share-down", "current-missing", "no-previous", "previous-nan", "flat"],
)
def test_change_text(current, previous, unit, expected):
    assert change_text(current, previous, unit, language="en") == expected


def test_relative_change_is_undefined_without_a_base():
    assert relative_change(120, 100) == pytest.approx(0.2)
    assert all(math.isnan(relative_change(*pair)) for pair in [(1, 0), (1, None), (NAN, 1)])


@pytest.mark.parametrize(
    ("current", "previous", "direction", "change_pct"),
    [(110, 100, "up", 0.1), (90, 100, "down", -0.1), (100, 100, "flat", 0.0),
     (7, None, "flat", NAN), (7, 0, "flat", NAN)],
    ids=["up", "down", "same", "nothing-to-compare", "from-zero"],
)
def test_headline_item_shape_and_direction(current, previous, direction, change_pct):
    item = headline_item("orders", "Orders", current, previous, "count", language="en")
    assert set(item) == {"metric", "label", "value", "change", "change_pct", "direction"}
    assert item["direction"] == direction
    assert item["change_pct"] == pytest.approx(change_pct, nan_ok=True)
    assert item["value"] == str(current)


def test_headline_item_formats_by_unit_and_language():
    money = headline_item("net_revenue", "순매출", 66_000, 36_000, "money", currency="KRW",
                          language="ko")
    # Korean headlines write won after the number (amount_style "man", the Korean default)
    assert money["value"] == "66,000원" and money["change"] == "+83.3%"
    ko_share = headline_item("retention_m1", "재구매율", 0.125, 0.1, "share", language="ko")
    assert ko_share["change"] == "+2.5%포인트"  # no Latin letter in Korean
    share = headline_item("retention_m1", "M1", 0.125, 0.1, "share", language="en")
    assert (share["value"], share["change"], share["direction"]) == ("12.5%", "+2.5%p", "up")
