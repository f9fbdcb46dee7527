"""A tiny hand-made store with one finished campaign (K2) and a snapshot with uplift scores.

It is the audience tests' five-customer shop (``tests/audience/conftest.py``) plus K2's
randomized assignments and a snapshot whose ``uplift_score`` is worked out by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.audience.conftest import AS_OF, SETTINGS, kst, write_tiny
from workbench.data import connect, write_store

#: K2 (email, 2026-11-01 10:00 KST): A and D messaged, B in the holdout.
ASSIGNMENTS = pd.DataFrame({
    "campaign_id": ["K2"] * 3, "customer_id": ["A", "B", "D"],
    "variant": ["send", "holdout", "send"],
    "assigned_at": pd.to_datetime([kst("2026-11-01 10:00")] * 3, utc=True)})
#: Scores with a tie at 0.05 (B and D) and one customer not scored (E).
UPLIFT = {"A": 0.10, "B": 0.05, "C": -0.02, "D": 0.05, "E": None}


def write_uplift_tiny(path) -> None:
    write_tiny(path)
    with write_store(path, settings=SETTINGS) as w:
        w.write("assignments", ASSIGNMENTS)
        w.reset_table("snapshot_customers")
        w.write("snapshot_customers", pd.DataFrame({
            "customer_id": list(UPLIFT), "as_of": [AS_OF] * len(UPLIFT),
            "uplift_score": pd.array(list(UPLIFT.values()), dtype="Float64")}))


@pytest.fixture(scope="module")
def tiny_uplift(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_uplift") / "tiny.duckdb"
    write_uplift_tiny(path)
    con = connect(path, settings=SETTINGS)
    yield con
    con.disconnect()
