"""Churn fixtures: a model trained and a backtest run once per session on the shared sample."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.settings import Settings

SAMPLE_END = date(2026, 11, 16)


@pytest.fixture(scope="session")
def trained(sample_store):
    """A model trained on the 2,000-customer sample for 2026-11-16, and its scoring frame."""
    from workbench.churn import feature_frame, train
    from workbench.data import connect

    settings = Settings(store=str(sample_store))
    con = connect(sample_store, settings=settings)
    model = train(con, SAMPLE_END, settings=settings)
    frame = feature_frame(con, SAMPLE_END, settings=settings,
                          categories=tuple(model.metadata_["categories"]))
    con.disconnect()
    return model, frame


@pytest.fixture(scope="session")
def sample_backtest(sample_store):
    """A three-cutoff backtest on the 2,000-customer sample (cutoffs 90 days apart)."""
    from workbench.churn import backtest
    from workbench.data import connect

    settings = Settings(store=str(sample_store))
    con = connect(sample_store, settings=settings)
    bt = backtest(con, n_cutoffs=3, step_days=90, settings=settings)
    con.disconnect()
    return bt
