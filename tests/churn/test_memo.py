"""Churn: band rule and list length reuse the scores; the memo gives the live numbers."""

from __future__ import annotations

from datetime import date

import pytest

from tests._loads import load_more_orders
from workbench.churn import ChurnParams, run_churn
from workbench.churn import analysis as churn_analysis
from workbench.data.memo import clear_memos
from workbench.results import Status

from .._results import assert_same_result as _same

AS_OF = date(2026, 11, 16)  # the refreshed store's snapshot date; its churn model is saved


def assert_same_result(a, b):
    _same(a, b, unordered=("customers",))


def fresh(con, params, settings):
    clear_memos()
    return run_churn(con, params, settings=settings, fit=False)


@pytest.fixture
def store(memo_store):
    return memo_store


def test_band_rule_and_list_length_reuse_the_scores(store):
    con, settings, path = store
    params = ChurnParams(as_of=AS_OF, store=str(path))
    first = run_churn(con, params, settings=settings, fit=False)
    assert first.status == Status.OK
    scored = churn_analysis._SCORES.misses
    views = [params.replace(band_rule="precision", band_high=0.5, band_medium=0.3),
             params.replace(band_high=0.05, band_medium=0.1, top_n=10)]
    results = [run_churn(con, v, settings=settings, fit=False) for v in views]
    assert churn_analysis._SCORES.misses == scored  # no customer was scored again
    assert len(results[1].watch) == 10
    for view, result in zip(views, results, strict=True):
        assert_same_result(result, fresh(con, view, settings))


def test_values_kept_apart_follow_the_rows_of_scores_computed_again(store):
    con, settings, path = store
    params = ChurnParams(as_of=AS_OF, store=str(path))
    run_churn(con, params, settings=settings, fit=False)
    churn_analysis._SCORES.clear()  # the values stay; the rows may come in another order
    again = run_churn(con, params, settings=settings, fit=False)
    assert_same_result(again, fresh(con, params, settings))


def test_a_new_load_scores_again(store):
    con, settings, path = store
    params = ChurnParams(as_of=AS_OF, store=str(path))
    before = run_churn(con, params, settings=settings, fit=False)
    scored = churn_analysis._SCORES.misses
    load_more_orders(path, AS_OF)
    after = run_churn(con, params, settings=settings, fit=False)
    assert churn_analysis._SCORES.misses == scored + 1
    assert after.customers["orders"].sum() > before.customers["orders"].sum()
    assert_same_result(after, fresh(con, params, settings))
