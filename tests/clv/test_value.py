"""Discounted CLV: calendar months, margin, discounting, checks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from workbench.clv import customer_value
from workbench.clv.value import month_ends
from workbench.errors import ParameterError


class _Linear:
    """A purchase model that buys ``rate`` purchases per period, for closed-form checks."""

    def __init__(self, rate: pd.Series) -> None:
        self.rate = rate

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series:
        return self.rate.reindex(summary.index) * t


def _summary() -> pd.DataFrame:
    frame = pd.DataFrame({"frequency": [1.0, 3.0], "recency": [2.0, 5.0], "T": [9.0, 9.0]},
                         index=pd.Index(["a", "b"], name="customer_id"))
    frame.attrs.update(unit="D", as_of="2026-01-01")
    return frame


def test_month_ends_use_calendar_months():
    assert month_ends(date(2026, 1, 31), 2, unit="D").tolist() == [28.0, 59.0]
    assert month_ends(date(2026, 1, 1), 12, unit="W")[-1] == pytest.approx(365 / 7)


def test_clv_is_the_discounted_sum_of_monthly_margins():
    summary = _summary()
    model = _Linear(pd.Series({"a": 0.1, "b": 0.2}))
    clv = customer_value(model, summary, pd.Series({"a": 1000.0, "b": 2000.0}),
                         horizon_months=3, margin=0.5, monthly_discount_rate=0.02)
    days = np.array([31, 28, 31])  # January to March 2026
    factor = (days * 1.02 ** -np.arange(1, 4)).sum()
    assert clv["a"] == pytest.approx(0.5 * 1000 * 0.1 * factor)
    assert clv["b"] == pytest.approx(0.5 * 2000 * 0.2 * factor)
    assert clv.name == "clv"


def test_no_discount_is_margin_times_spend_times_purchases():
    summary = _summary()
    model = _Linear(pd.Series({"a": 0.1, "b": 0.2}))
    clv = customer_value(model, summary, 100.0, horizon_months=12, margin=0.3,
                         monthly_discount_rate=0.0)
    assert clv["a"] == pytest.approx(0.3 * 100 * 0.1 * 365)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"horizon_months": 0}, r"'horizon_months' must be an integer in 1..120; got 0"),
    ({"margin": 1.5}, r"'margin' must be in \(0, 1\]; got 1.5"),
    ({"monthly_discount_rate": -0.1}, r"'monthly_discount_rate' must be in \[0, 1\)"),
    ({"unit": "M"}, r"'unit' must be 'D' or 'W'; got 'M'"),
], ids=["horizon", "margin", "rate", "unit"])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        customer_value(_Linear(pd.Series({"a": 1.0, "b": 1.0})), _summary(), 1.0, **kwargs)


def test_as_of_is_required_without_attrs():
    summary = _summary()
    summary.attrs.clear()
    with pytest.raises(ParameterError, match="pass 'as_of'"):
        customer_value(_Linear(pd.Series({"a": 1.0, "b": 1.0})), summary, 1.0)


def test_fast_path_equals_month_by_month(cdnow):
    from workbench.clv import BetaGeo, ParetoNBD

    summary = cdnow.iloc[:300].copy()
    for model in (BetaGeo().fit(cdnow), ParetoNBD().fit(cdnow)):
        fast = customer_value(model, summary, 35.0, as_of=date(1997, 10, 1), margin=0.3,
                              monthly_discount_rate=0.01, unit="W")
        ends = month_ends(date(1997, 10, 1), 12, "W")
        cumulative = np.column_stack([model.expected_purchases(float(t), summary)
                                      for t in ends])
        monthly = np.diff(cumulative, axis=1, prepend=0.0)
        slow = 0.3 * 35.0 * monthly @ (1.01 ** -np.arange(1, 13))
        assert fast.to_numpy() == pytest.approx(slow, rel=1e-10)
