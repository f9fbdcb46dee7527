"""Analytics give the same results on Spark and on DuckDB with a UTC session as on DuckDB.

One call per entry point and engine: customer facts (daily and weekly), RFM scores and the RFM
page, cohorts with purchase cycles, the KPI overview (week and month), the CLV summary and the
CLV report (BG/NBD, Pareto/NBD and Gamma-Gamma fits, holdout check). The DuckDB reference is
computed once per module; every result is compared with :func:`assert_same` (exact for keys,
counts and dates, 1e-9 relative for money and rates).

The in-process memos (:mod:`workbench.data.memo`) are keyed on the store's file, which
``duck_con`` and ``duck_utc_con`` share: they are cleared before each computation, so every
engine computes its own result.
"""

from __future__ import annotations

import ibis
import pytest

from tests.spark._parity import assert_same, reference_cache, run_entry
from tests.spark.conftest import AS_OF


def _facts(con, settings, unit):
    from workbench.features import facts_for

    return facts_for(con, AS_OF, settings=settings, unit=unit).to_pandas()


def _scores(con, settings):
    from workbench.features import facts_for
    from workbench.rfm import score_rfm

    facts = facts_for(con, AS_OF, settings=settings, top_category=False, median=False)
    columns = ["customer_id", "r_score", "f_score", "m_score"]
    return {method: score_rfm(facts, bins=5, method=method).select(*columns).to_pandas()
            for method in ("quantile", "threshold")}


def _rfm(con, settings):
    from workbench.rfm import RfmParams, run_rfm

    return run_rfm(con, RfmParams(as_of=AS_OF, compare_days=30), settings=settings)


def _cohorts(con, settings):
    from workbench.rfm import CohortParams, run_cohorts

    return run_cohorts(con, CohortParams(as_of=AS_OF, by_channel=True, min_repeats=5),
                       settings=settings)


def _cycles(con, settings):
    from workbench.rfm import purchase_cycles

    return purchase_cycles(con.table("orders"), con.table("order_items"),
                           con.table("products"), as_of=AS_OF, timezone=settings.timezone,
                           level="product", min_repeats=1).to_pandas()


def _overview(con, settings):
    from workbench.kpi import OverviewParams, run_overview

    cache: dict = {}  # the month's run reuses the week's period-free parts, as a page does
    return {period: run_overview(con, OverviewParams(as_of=AS_OF, period=period),
                                 settings=settings, cache=cache)
            for period in ("W", "M")}


def _clv_summary(con, settings):
    from workbench.clv import clv_summary

    # Weeks, the unit the CLV models are fitted in (days are the daily facts' columns).
    return clv_summary(con, AS_OF, settings=settings, unit="W").reset_index()


def _clv(con, settings):
    from workbench.clv import ClvParams, run_clv

    return run_clv(con, ClvParams(as_of=AS_OF, holdout_weeks=26), settings)


ENTRY_POINTS = {
    "facts_daily": lambda con, s: _facts(con, s, "D"),
    "facts_weekly": lambda con, s: _facts(con, s, "W"),
    "score_rfm": _scores,
    "run_rfm": _rfm,
    "run_cohorts": _cohorts,
    "purchase_cycles": _cycles,
    "run_overview": _overview,
    "clv_summary": _clv_summary,
    "run_clv": _clv,
}

#: Frame keys where the default (every non-float column) is not unique or not a key.
KEYS = {"facts_daily": ["customer_id"], "facts_weekly": ["customer_id"],
        "score_rfm": ["customer_id"], "clv_summary": ["customer_id"]}


@pytest.fixture(scope="module")
def reference(duck_con, parity_settings):
    """The DuckDB result of each entry point, computed on first use."""
    return reference_cache(ENTRY_POINTS, duck_con, parity_settings)


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_same_as_duckdb(name, other_con, reference, parity_settings):
    expected = reference(name)
    got = run_entry(ENTRY_POINTS, name, other_con, parity_settings)
    assert_same(expected, got, keys=KEYS.get(name), where=name)


def test_reference_is_not_trivial(reference):
    """The sample exercises every part compared above (no empty frames, fits converged)."""
    assert len(reference("facts_daily")) > 500
    assert reference("facts_weekly")["recency"].gt(0).sum() > 100
    rfm = reference("run_rfm")
    assert rfm.status.name == "OK" and len(rfm.migration) > 0
    cohorts = reference("run_cohorts")
    assert len(cohorts.triangle) > 50 and cohorts.cycles["has_cycle"].any()
    assert len(reference("purchase_cycles")) > 5
    assert reference("run_overview")["M"].status.name == "OK"
    clv = reference("run_clv")
    assert clv.status.name == "OK" and len(clv.comparison) == 2
    assert set(clv.parameters["model"]) >= {"bgnbd", "gamma_gamma", "pareto_nbd_calibration"}


def test_float_literals_are_doubles(spark_con):
    """Spark SQL reads ``7.0`` as DECIMAL(2,1); the workbench's compiler writes a DOUBLE."""
    value = spark_con.execute(ibis.literal(1, "int64") / 3.0)
    assert value == 1 / 3


def test_lake_data_version_runs_no_query(spark_con):
    """A lake's data version is the files its views read: no Spark job per memo look-up."""
    from workbench.data.memo import memo_key

    calls = []
    session = spark_con._session
    original = type(session).sql

    def counting(self, query, *args, **kwargs):
        calls.append(query)
        return original(self, query, *args, **kwargs)

    type(session).sql = counting
    try:
        key = memo_key(spark_con)
    finally:
        type(session).sql = original
    assert key == memo_key(spark_con)
    assert not [q for q in calls if "COUNT" in q.upper() or "MAX(" in q.upper()], calls
    assert any(name == "orders" and files for name, files in key[1][2])
