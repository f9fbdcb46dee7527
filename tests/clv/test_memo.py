"""CLV: a view change reuses the fitted models; the memo and the snapshot give the live numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests._loads import load_more_orders
from workbench.clv import ClvParams, run_clv
from workbench.clv import analysis as clv_analysis
from workbench.data.memo import clear_memos
from workbench.data.snapshot import snapshot_for

from .._results import assert_same_result

AS_OF = date(2026, 11, 16)  # the refreshed store's snapshot date


def fresh(con, params, settings):
    clear_memos()
    return run_clv(con, params, settings=settings)


@pytest.fixture
def store(memo_store):
    return memo_store


def test_view_changes_reuse_the_fits_and_equal_a_fresh_run(store):
    con, settings, _ = store
    params = ClvParams(as_of=AS_OF, holdout_weeks=26)
    run_clv(con, params, settings=settings)
    fits, holdouts = clv_analysis._FITS.misses, clv_analysis._HOLDOUTS.misses
    view = params.replace(horizon_months=24, monthly_discount_rate=0.02, top_n=5)
    changed = run_clv(con, view, settings=settings)
    assert (clv_analysis._FITS.misses, clv_analysis._HOLDOUTS.misses) == (fits, holdouts)
    # The other purchase model is fitted; the holdout check (both models) is reused.
    other = run_clv(con, params.replace(model="pareto_nbd"), settings=settings)
    assert clv_analysis._FITS.misses == fits + 1
    assert clv_analysis._HOLDOUTS.misses == holdouts
    assert_same_result(changed, fresh(con, view, settings))
    assert_same_result(other, fresh(con, params.replace(model="pareto_nbd"), settings))
    assert changed.horizon_months == 24 and len(changed.top_customers) == 5


def test_snapshot_segments_equal_the_live_scoring(store):
    con, settings, _ = store
    assert snapshot_for(con, AS_OF, ["segment"]) is not None  # the path under test is taken
    summary, segments = clv_analysis._summary_and_segments(con, AS_OF, settings)
    live_summary, live_segments = clv_analysis._summary_and_segments(con, AS_OF, settings,
                                                                     snapshot=False)
    pd.testing.assert_frame_equal(summary, live_summary)
    pd.testing.assert_series_equal(segments, live_segments)


def test_a_new_load_computes_again(store):
    con, settings, path = store
    params = ClvParams(as_of=AS_OF, holdout_weeks=0)
    before = run_clv(con, params, settings=settings)
    misses = clv_analysis._FITS.misses
    load_more_orders(path, AS_OF)
    after = run_clv(con, params, settings=settings)  # the same connection follows the file
    assert clv_analysis._FITS.misses == misses + 1
    assert after.customers["frequency"].sum() > before.customers["frequency"].sum()
    assert_same_result(after, fresh(con, params, settings))
