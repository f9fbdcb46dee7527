"""Training rows: features as of each assignment, the outcome in the window after it."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.results import Status
from workbench.uplift import CAMPAIGN_FEATURES, FEATURES, training_frame, uplift_scores


@pytest.fixture(scope="module")
def frame(tiny_uplift):
    return training_frame(tiny_uplift, as_of=AS_OF, settings=SETTINGS).set_index("customer_id")


def test_one_row_per_assignment(frame):
    assert sorted(frame.index) == ["A", "B", "D"]
    assert frame["treated"].to_dict() == {"A": 1, "B": 0, "D": 1}
    assert list(frame.columns[-len(CAMPAIGN_FEATURES) - 1:-1]) == list(CAMPAIGN_FEATURES)


# Worked by hand from tests/audience/conftest.py; K2 was assigned on 2026-11-01 10:00 KST.
# A: o8 (2026-10-11 12:00, 25,000) before; o1 (11-10) within 14 days.
# B: o4 (09-01 10:00, 10,000) and o3 (10-01 10:00, 20,000) before; o2 (11-03, delivered)
#    within; o5 is cancelled.
# D: o6 (06-01 10:00, 40,000) before; o7 (11-15 13:00) is after the 14 days (11-15 10:00).
EXPECTED = {
    "A": {"orders": 1, "net_revenue": 25000, "recency_days": 20 + 22 / 24,
          "tenure_days": 20 + 22 / 24, "orders_90d": 1, "converted": 1},
    "B": {"orders": 2, "net_revenue": 30000, "recency_days": 31.0, "tenure_days": 61.0,
          "orders_90d": 2, "converted": 1},
    "D": {"orders": 1, "net_revenue": 40000, "recency_days": 153.0, "tenure_days": 153.0,
          "orders_90d": 0, "converted": 0},
}


@pytest.mark.parametrize("customer", sorted(EXPECTED))
def test_features_as_of_the_assignment(frame, customer):
    row = frame.loc[customer]
    for name, value in EXPECTED[customer].items():
        assert row[name] == pytest.approx(value), name


def test_campaign_columns(frame):
    assert (frame["channel_email"] == 1).all() and (frame["channel_sms"] == 0).all()
    assert (frame["coupon"] == 0).all()  # no coupon codes in the window
    # messages before the assignment: K1 (2025-11-20) reached A and D
    assert frame["messages_365d"].to_dict() == {"A": 1.0, "B": 0.0, "D": 1.0}


def test_campaigns_not_finished_are_left_out(tiny_uplift):
    early = training_frame(tiny_uplift, as_of=pd.Timestamp("2026-11-10").date(),
                           settings=SETTINGS)
    assert early.empty and list(early.columns[5:5 + len(FEATURES)]) == list(FEATURES)


def test_too_few_campaigns_is_a_status(tiny_uplift):
    scores, status, message = uplift_scores(tiny_uplift, as_of=AS_OF, settings=SETTINGS)
    assert scores is None and status == Status.TOO_LITTLE_DATA
    assert "at least 2 finished campaigns" in message and "has 1" in message
