"""Fixtures of the CLV tests: the CDNOW summaries and the reference values."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CDNOW = ROOT / "data" / "cdnow"
REFERENCE = Path(__file__).with_name("reference") / "reference.json"


@pytest.fixture(scope="session")
def reference() -> dict:
    """Values computed by tests/clv/reference/make_reference.py (independent implementation)."""
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    """The 2,357-customer CDNOW calibration summary (39 weeks; frequency, recency, T)."""
    frame = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    return frame.rename(columns={"ID": "customer_id"}).set_index("customer_id").astype(float)


@pytest.fixture(scope="session")
def cdnow_monetary() -> pd.DataFrame:
    """Repeat buyers' frequency and mean repeat-purchase value (the published definition).

    Calibration ends 1997-09-30; purchases on the same day are summed and the first purchase
    day is excluded (Fader & Hardie 2013).
    """
    tx = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["customer", "sample_id", "date", "cds", "value"])
    tx["date"] = pd.to_datetime(tx["date"].astype(str))
    cal = tx[tx["date"] <= "1997-09-30"]
    days = cal.groupby(["customer", "date"], as_index=False)["value"].sum()
    days = days.sort_values(["customer", "date"])
    days["k"] = days.groupby("customer").cumcount()
    rep = days[days["k"] > 0].groupby("customer")["value"].agg(["size", "mean"])
    return pd.DataFrame({"frequency": rep["size"].astype(float),
                         "monetary_value": rep["mean"]}).rename_axis("customer_id")


@pytest.fixture(scope="session")
def bgnbd_cdnow(cdnow):
    from workbench.clv import BetaGeo

    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="session")
def pareto_cdnow(cdnow):
    from workbench.clv import ParetoNBD

    return ParetoNBD().fit(cdnow)
