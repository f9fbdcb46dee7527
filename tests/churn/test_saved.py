"""The saved model: refresh and the report create it once; pages and reruns only read it."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from workbench.churn import (
    ChurnDefinition,
    churn_part,
    ensure_model,
    models_dir,
    read_metadata,
    save_model,
    saved_name,
)
from workbench.data import connect
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


@pytest.mark.parametrize(("definition", "name"), [
    (ChurnDefinition(), "churn"),
    (ChurnDefinition(horizon_days=60), "churn-60d"),
    (ChurnDefinition(mode="rhythm", k=3), "churn-rhythm-3x-90d"),
], ids=["default", "horizon", "rhythm"])
def test_saved_name_follows_the_definition(definition, name):
    assert saved_name(definition) == name


def test_refresh_part_trains_and_saves_the_model_once_with_its_backtest(store_copy):
    # Issue 15: `make demo`, refresh and the weekly report never saved a churn model, so every
    # page load trained one.
    s = Settings(store=str(store_copy))
    folder = models_dir(s)
    assert read_metadata("churn", folder=folder) is None
    con = connect(store_copy, settings=s)
    try:
        first = churn_part(con, as_of=AS_OF, settings=s).to_pandas()
        meta = read_metadata("churn", folder=folder)
        assert meta is not None and meta["definition"] == ChurnDefinition().to_dict()
        metrics = meta["backtest"]["metrics"]  # stored, so the page shows it without fitting
        assert {r["scorer"] for r in metrics} >= {"model", "days_since_last_order"}
        assert len({r["cutoff"] for r in metrics}) == 3
        stamp = (folder / "churn.skops").stat().st_mtime_ns
        second = churn_part(con, as_of=AS_OF, settings=s).to_pandas()
    finally:
        con.disconnect()
    assert (folder / "churn.skops").stat().st_mtime_ns == stamp  # reused, not retrained
    assert json.loads((folder / "churn.json").read_text())["sha256"] == meta["sha256"]
    assert first.sort_values("customer_id").reset_index(drop=True).equals(
        second.sort_values("customer_id").reset_index(drop=True))


def test_ensure_model_loads_the_saved_one_for_its_definition(trained, store_copy):
    s = Settings(store=str(store_copy))
    model = copy.deepcopy(trained[0])
    save_model(model, "churn", settings=s)
    stamp = (models_dir(s) / "churn.skops").stat().st_mtime_ns
    con = connect(store_copy, settings=s)
    try:
        loaded = ensure_model(con, AS_OF, settings=s)
    finally:
        con.disconnect()
    assert loaded.metadata_ == model.metadata_ and loaded.features_ == model.features_
    assert (models_dir(s) / "churn.skops").stat().st_mtime_ns == stamp


def test_churn_train_takes_a_horizon_and_names_the_model_for_it(store_copy, capsys):
    from workbench.cli import main

    assert main(["churn", "train", "--as-of", "2026-11-16", "--backtest", "0",
                 "--horizon", "60", "--store", str(store_copy)]) == 0
    meta = read_metadata("churn-60d", settings=Settings(store=str(store_copy)))
    assert meta["definition"]["horizon_days"] == 60
    assert "churn-60d" in capsys.readouterr().out
