"""Cohorts: the level and the channel split recompute only their half; a load computes again."""

from __future__ import annotations

from datetime import date

import pytest

from tests._loads import load_more_orders
from workbench.data import connect
from workbench.data.memo import clear_memos
from workbench.reporting import CohortParams
from workbench.rfm import cohort_analysis
from workbench.rfm.cohort_analysis import run_cohorts
from workbench.settings import Settings

from .._results import assert_same_result

SETTINGS = Settings(timezone="Asia/Seoul", currency="KRW", language="en")
AS_OF = date(2026, 11, 16)


def fresh(con, params):
    clear_memos()
    return run_cohorts(con, params, settings=SETTINGS)


@pytest.fixture
def con(store_copy):
    backend = connect(store_copy, settings=SETTINGS)
    clear_memos()
    yield backend
    backend.disconnect()


def misses():
    return cohort_analysis._TRIANGLES.misses, cohort_analysis._CYCLES.misses


def test_each_widget_recomputes_only_its_half(con):
    params = CohortParams(as_of=AS_OF, months=6, min_repeats=30)
    run_cohorts(con, params, settings=SETTINGS)
    triangles, cycles = misses()
    product = run_cohorts(con, params.replace(cycle_level="product"), settings=SETTINGS)
    assert misses() == (triangles, cycles + 1)
    channel = run_cohorts(con, params.replace(cycle_level="product", by_channel=True),
                          settings=SETTINGS)
    assert misses() == (triangles + 1, cycles + 1)
    back = run_cohorts(con, params, settings=SETTINGS)
    assert misses() == (triangles + 1, cycles + 1)
    assert_same_result(product, fresh(con, params.replace(cycle_level="product")))
    assert_same_result(channel, fresh(con, params.replace(cycle_level="product",
                                                          by_channel=True)))
    assert_same_result(back, fresh(con, params))


def test_a_new_load_computes_again(con, store_copy):
    params = CohortParams(as_of=AS_OF, months=36, min_repeats=30)  # every cohort
    before = run_cohorts(con, params, settings=SETTINGS)
    triangles, cycles = misses()
    load_more_orders(store_copy, AS_OF)
    after = run_cohorts(con, params, settings=SETTINGS)
    assert misses() == (triangles + 1, cycles + 1)
    assert after.triangle["revenue"].sum() > before.triangle["revenue"].sum()
    assert after.cycles["repeats"].sum() > before.cycles["repeats"].sum()
    assert_same_result(after, fresh(con, params))
