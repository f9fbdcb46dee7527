"""Churn, A/B readouts, holdouts and the snapshot give the same results on every engine.

Each entry point runs once on DuckDB (the reference, computed on first use per module) and
once on each ``other_con`` (Spark; DuckDB with the session zone UTC), compared with
:func:`assert_same`: exact for keys, counts and dates, 1e-9 relative for money and rates.

Churn: ``train`` runs on each engine; the labelled frames it builds (training and calibration
cutoffs) are kept and compared, the model trained from them (the same frames give the same
trees) scores on the same engine, and the scored frame (features at ``AS_OF`` and risks) is
compared. The snapshot compute (:func:`workbench.snapshot._compute`) opens the store by
location (``spark:<lake>``) or takes the UTC connection; every engine scores with one saved
churn model (training it with its backtest per engine would triple the time).

The in-process memos (:mod:`workbench.data.memo`) are keyed on the store's file, which
``duck_con`` and ``duck_utc_con`` share: they are cleared before each computation.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from unittest import mock

import pytest

from tests.spark._parity import assert_same, reference_cache, run_entry
from tests.spark.conftest import AS_OF

#: A/B campaigns compared: two named tests and one programme campaign.
CAMPAIGNS = ("CMP001", "CMP002", "P2026-10a")


def _labels(con, settings):
    from datetime import timedelta

    from workbench.churn import ChurnDefinition, churn_labels

    day = AS_OF - timedelta(days=200)
    return churn_labels(con, day, definition=ChurnDefinition(mode="rhythm"),
                        settings=settings).to_pandas()


def _churn(con, settings):
    """Train on this engine's frames, then score with that model on the same engine.

    The labelled frames ``train`` builds (training and calibration cutoffs) are kept as they
    pass, so they are compared exactly without building them twice; the scored frame holds the
    features at ``AS_OF`` beside the risks.
    """
    from workbench.churn import analysis, score, train

    frames = {}

    def keep(con, cutoff, **kw):
        frames[str(cutoff)] = labelled_frame(con, cutoff, **kw)
        return frames[str(cutoff)]

    labelled_frame = analysis.labelled_frame
    with mock.patch.object(analysis, "labelled_frame", keep):
        model = train(con, AS_OF, settings=settings)
    scored = score(con, AS_OF, model, settings=settings)
    return {"frames": {k: v.reset_index() for k, v in frames.items()},
            "metadata": model.metadata_, "scored": scored.reset_index()}


def _abtest(con, settings):
    from workbench.abtest import AbTestParams, run_abtest

    return {cid: run_abtest(con, AbTestParams(as_of=AS_OF, campaign_id=cid), settings=settings)
            for cid in CAMPAIGNS}


def _global_holdout(con, settings):
    from workbench.abtest import run_global_holdout

    return run_global_holdout(con, AS_OF, days=90, share=0.1, settings=settings)


def _impact(con, settings):
    from workbench.abtest import campaign_impact

    # With a global holdout: its readouts head the result (the set-up advice is the
    # alternative, a sentence without queries of its own).
    held = dataclasses.replace(settings, global_holdout=0.1)
    return campaign_impact(con, as_of=AS_OF, settings=held)


def _coupons(con, settings):
    from workbench.abtest import coupon_economics

    return coupon_economics(con, as_of=AS_OF, settings=settings)


def _segments(con, settings):
    from workbench.abtest import AbTestParams, lift_by_segment

    params = AbTestParams(as_of=AS_OF, campaign_id="CMP001")
    return {by: lift_by_segment(con, params, by=by, settings=settings)
            for by in ("rfm_segment", "member_tier")}


ENTRY_POINTS = {
    "churn_labels": _labels,
    "churn_train_score": _churn,
    "run_abtest": _abtest,
    "run_global_holdout": _global_holdout,
    "campaign_impact": _impact,
    "coupon_economics": _coupons,
    "lift_by_segment": _segments,
}

KEYS = {"churn_labels": ["customer_id"], "churn_train_score": ["customer_id"]}


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
    """The sample exercises what is compared above (rows, outcomes, tests, campaigns)."""
    labels = reference("churn_labels")
    assert 0 < labels["churned"].sum() < len(labels) and labels["window_days"].nunique() > 10
    churn = reference("churn_train_score")
    assert len(churn["frames"]) == 2 and all(len(f) > 300 for f in churn["frames"].values())
    assert len(churn["scored"]) > 500 and churn["scored"]["risk_band"].nunique() == 3
    for result in reference("run_abtest").values():
        assert result.arms["n"].sum() > 50 and len(result.comparisons) > 0
    assert reference("run_global_holdout").arms["n"].min() > 50
    impact = reference("campaign_impact")
    assert len(impact.campaigns) > 10 and impact.lead.kind == "global"
    assert len(reference("coupon_economics").arms) > 10
    assert len(reference("lift_by_segment")["rfm_segment"].rows) > 2


# -- the snapshot ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot_store(tmp_path_factory, parity_store, duck_con, parity_settings):
    """A copy of the sample (its own ``models/``) with a churn model saved for ``AS_OF``.

    ``ensure_model`` would train one with a three-cutoff backtest on each engine's first
    refresh; training parity is tested above, so every engine's snapshot scores with this one.
    """
    import shutil

    from workbench.churn import models_dir, train

    folder = tmp_path_factory.mktemp("snapshot")
    store = folder / "shop.duckdb"
    shutil.copyfile(parity_store, store)
    settings = dataclasses.replace(parity_settings, store=str(store))
    train(duck_con, AS_OF, settings=settings, save="churn", folder=models_dir(settings))
    return store


def _snapshot(store, settings, con=None):
    from workbench.data.memo import clear_memos
    from workbench.snapshot import _compute

    clear_memos()
    settings = dataclasses.replace(settings, store=str(store))
    table, fingerprint = _compute(str(store), AS_OF, settings, con=con)
    return {"table": table.to_pandas(), "fingerprint": fingerprint}


@pytest.fixture(scope="module")
def snapshot_reference(snapshot_store, parity_settings):
    return _snapshot(snapshot_store, parity_settings)


def test_snapshot_same_as_duckdb(request, other_con, snapshot_store, snapshot_reference,
                                 parity_lake, parity_settings):
    import shutil

    from workbench.churn import models_dir

    if other_con is request.getfixturevalue("spark_con"):
        location = f"spark:{parity_lake}"
        shutil.copytree(snapshot_store.parent / "models", models_dir(store=location),
                        dirs_exist_ok=True)
        got = _snapshot(location, parity_settings)
    else:
        got = _snapshot(snapshot_store, parity_settings, con=other_con)
    table = snapshot_reference["table"]
    assert len(table) == 1000 and table["churn_risk"].notna().sum() > 500
    assert_same(snapshot_reference, got, keys=["customer_id"], where="snapshot")


def test_page_dates_are_shop_local(other_con, duck_con, parity_settings):
    """The pages' last order day and footer instant are the shop's, on every engine."""
    from types import SimpleNamespace

    from workbench.ui.page import Page

    days = [Page._last_order_day(SimpleNamespace(con=con, settings=parity_settings))
            for con in (duck_con, other_con)]
    # The sample's last order is at 21:02 on 15 November in Seoul (12:02 UTC): a UTC date
    # would agree here, so the check that matters is that both engines say the same day.
    assert days[0] == days[1] == AS_OF - timedelta(days=1)


def test_page_reads_a_naive_instant_as_utc(parity_settings):
    """A backend returning a naive timestamp (UTC wall clock) still gives the shop's day."""
    from types import SimpleNamespace

    import pandas as pd

    from workbench.ui.page import Page

    last = pd.Timestamp("2026-11-15 16:30")  # 01:30 on the 16th in Seoul
    column = SimpleNamespace(max=lambda: SimpleNamespace(execute=lambda: last))
    con = SimpleNamespace(list_tables=lambda: ["orders"],
                          table=lambda name: SimpleNamespace(ordered_at=column))
    day = Page._last_order_day(SimpleNamespace(con=con, settings=parity_settings))
    assert day == AS_OF
