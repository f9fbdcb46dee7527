"""LMDI revenue decomposition: exact sums, antisymmetry, the seed example, zero values."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ParameterError
from workbench.i18n import set_language
from workbench.kpi.drivers import DRIVER_COLUMNS, drivers_frame, lmdi, log_mean

SEED_BEFORE = {"customers": 20, "probability": 0.5, "payment": 50_000}  # PRODUCT_NOTES.md #12


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, scale))


def test_seed_example_of_product_notes():
    # 20 customers x 50% x 50,000 KRW = 500,000 KRW (10 buyers); twice the customers doubles it
    d = lmdi(SEED_BEFORE, {**SEED_BEFORE, "customers": 40})
    assert (d.previous, d.current) == (500_000, 1_000_000)
    assert d.contributions["customers"] == pytest.approx(500_000, abs=1e-6)
    assert d.contributions["probability"] == d.contributions["payment"] == 0
    assert d.fallback is None


def test_matches_the_direct_formula_on_a_hand_example():
    # 25 customers x 60% x 50,000 = 750,000: L(750000, 500000) = 250000 / ln(1.5)
    after = {"customers": 25, "probability": 0.6, "payment": 50_000}
    d = lmdi(SEED_BEFORE, after)
    weight = 250_000 / math.log(1.5)
    assert d.contributions["customers"] == pytest.approx(weight * math.log(25 / 20), rel=1e-12)
    assert d.contributions["probability"] == pytest.approx(weight * math.log(0.6 / 0.5), rel=1e-12)
    assert d.contributions["payment"] == 0
    assert sum(d.contributions.values()) == pytest.approx(250_000, rel=1e-12)
    # customers +25% weighs more than probability +20%
    assert d.contributions["customers"] > d.contributions["probability"]


def test_log_mean():
    assert log_mean(5.0, 5.0) == 5.0
    assert log_mean(1e6, 5e5) == pytest.approx(5e5 / math.log(2))
    assert math.sqrt(2 * 8) < log_mean(2.0, 8.0) < (2 + 8) / 2  # geometric < L < arithmetic


positive = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False, allow_infinity=False)
maybe_zero = st.one_of(positive, st.just(0.0), st.just(math.nan), st.none())


@st.composite
def factor_pairs(draw, values=positive):
    n = draw(st.integers(min_value=1, max_value=5))
    names = [f"f{i}" for i in range(n)]
    return ({k: draw(values) for k in names}, {k: draw(values) for k in names})


@settings(max_examples=300)
@given(factor_pairs())
def test_contributions_add_up_exactly_and_swap_negates(pair):
    before, after = pair
    d = lmdi(before, after)
    scale = max(d.previous, d.current)
    assert _close(sum(d.contributions.values()), d.current - d.previous, scale)
    assert _close(d.previous, math.prod(before.values()), scale)
    back = lmdi(after, before)
    for k in before:
        assert _close(back.contributions[k], -d.contributions[k], scale)


@settings(max_examples=300)
@given(factor_pairs(values=maybe_zero))
def test_zero_and_missing_factors_still_add_up(pair):
    before, after = pair
    d = lmdi(before, after)
    assert all(math.isfinite(v) for v in d.contributions.values())
    assert _close(sum(d.contributions.values()), d.current - d.previous,
                  max(d.previous, d.current))
    back = lmdi(after, before)
    assert back.fallback == d.fallback
    assert all(_close(back.contributions[k], -v, max(d.previous, d.current))
               for k, v in d.contributions.items())


def test_zero_rule_gives_the_change_to_the_first_missing_factor():
    before = {"active": 0.0, "probability": math.nan, "aov": None}
    d = lmdi(before, {"active": 10, "probability": 0.5, "aov": 30_000})
    assert d.fallback == "active"
    assert d.contributions == {"active": 150_000, "probability": 0.0, "aov": 0.0}
    # active customers but no buyers: the chain breaks at purchase probability
    d = lmdi({"active": 10, "probability": 0.5, "aov": 30_000},
             {"active": 10, "probability": 0.0, "aov": math.nan})
    assert d.fallback == "probability"
    assert d.contributions["probability"] == -150_000


def test_zero_rule_is_the_limit_of_lmdi():
    after = {"a": 10.0, "b": 0.5, "c": 30_000.0}
    exact = lmdi({"a": 1e-12, "b": 0.5, "c": 30_000.0}, after)
    limit = lmdi({"a": 0.0, "b": 0.5, "c": 30_000.0}, after)
    assert limit.contributions["a"] == pytest.approx(exact.contributions["a"], rel=1e-6)


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ({"a": 1.0}, {"b": 1.0},
         "lmdi: both periods need the same factors in the same order; got ['a'] and ['b']."),
        ({"a": -1.0}, {"a": 1.0},
         "lmdi: factors must be non-negative and finite (or missing); got a=-1.0 in 'previous'."),
        ({"a": 1.0}, {"a": math.inf},
         "lmdi: factors must be non-negative and finite (or missing); got a=inf in 'current'."),
    ],
    ids=["keys", "negative", "infinite"],
)
def test_caller_mistakes_raise(before, after, message):
    with pytest.raises(ParameterError, match=f"^{__import__('re').escape(message)}$"):
        lmdi(before, after)


def _period(active, buyers, orders, revenue, guest):
    return {"active_customers": active, "buyers": buyers, "identified_orders": orders,
            "identified_revenue": revenue, "net_revenue": revenue + guest}


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=8, max_size=8))
def test_driver_rows_add_up_to_the_change_in_net_revenue(n):
    def period(a, b, o, g):
        buyers = min(b, a)
        orders = o + buyers if buyers else 0
        return _period(a, buyers, orders, 1000.0 * orders * (1 + o % 3), 500.0 * g)

    before, after = period(*n[:4]), period(*n[4:])
    frame, dec = drivers_frame(before, after)
    change = after["net_revenue"] - before["net_revenue"]
    assert frame["contribution"].sum() == pytest.approx(change, abs=1e-6 * max(1, abs(change)))
    assert list(frame["factor"]) == ["active_customers", "purchase_probability",
                                     "orders_per_buyer", "aov", "guest_revenue"]
    assert frame["previous"].iloc[1] <= 1 or math.isnan(frame["previous"].iloc[1])


def test_driver_rows_hold_numbers_not_words():
    # The factors' names are written where they are shown (the overview's labels, in the
    # reader's language; see tests/kpi/test_overview.py::test_korean_labels_and_messages).
    frame, _ = drivers_frame(_period(20, 10, 12, 500_000, 0), _period(25, 12, 14, 600_000, 1))
    assert tuple(frame.columns) == DRIVER_COLUMNS
    assert frame.set_index("factor").loc["active_customers", ["previous", "current"]].tolist() \
        == [20, 25]


def test_unchanged_total_still_shows_offsetting_factors():
    # 30 customers x 40% = 20 x 60%: the total is flat, the factors move in opposite directions
    d = lmdi({"customers": 20, "probability": 0.6}, {"customers": 30, "probability": 0.4})
    assert d.contributions["customers"] == pytest.approx(12 * math.log(1.5))
    assert d.contributions["probability"] == pytest.approx(12 * math.log(0.4 / 0.6))
    assert sum(d.contributions.values()) == pytest.approx(0, abs=1e-12)


def test_caller_mistakes_are_worded_in_korean_too():
    set_language("ko")
    with pytest.raises(ParameterError, match=r"^lmdi: 두 기간의 요인이 같은 순서로 같아야"):
        lmdi({"a": 1.0}, {"b": 1.0})
