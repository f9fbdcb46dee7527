"""The churn model: calibrated on a later slice, saved with metadata, refuses the untrusted."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sklearn

import workbench
from workbench.churn import (
    ChurnDefinition,
    ChurnModel,
    FeatureMismatchError,
    UntrustedModelError,
    load_model,
    read_metadata,
    save_model,
    training_cutoffs,
)
from workbench.churn.model import fit_slices
from workbench.errors import InputError, NotFittedError, ParameterError, TooLittleDataError
from workbench.i18n import using_language


def test_training_uses_slices_whose_labels_end_by_as_of(trained):
    model, _ = trained
    meta = model.metadata_
    assert meta["training_cutoffs"] == ["2026-05-20"]
    assert meta["calibration_cutoff"] == "2026-08-18"
    assert meta["definition"] == ChurnDefinition().to_dict()
    # labels of the calibration slice run [2026-08-18, 2026-11-16): over by as_of
    cuts, cal = training_cutoffs(date(2026, 11, 16), ChurnDefinition(horizon_days=30), slices=2,
                                 step_days=7)
    assert cal == date(2026, 10, 17) and cuts == [date(2026, 9, 17), date(2026, 9, 10)]


def test_predictions_are_probabilities_indexed_by_customer(trained):
    model, frame = trained
    risk = model.predict_proba(frame)
    assert risk.name == "churn_risk" and risk.index.equals(frame.index)
    assert risk.between(0, 1).all()
    assert model.calibration_method_ == "sigmoid"  # 2,000 customers: too few for isotonic


def test_save_and_load_round_trip_with_metadata(trained, tmp_path):
    model, frame = trained
    path = save_model(model, "churn", folder=tmp_path)
    meta = read_metadata("churn", folder=tmp_path)
    assert path == tmp_path / "churn.skops"
    assert meta["features"] == model.features_
    assert meta["training_cutoffs"] == ["2026-05-20"]
    assert meta["package_version"] == workbench.__version__
    assert meta["sklearn_version"] == sklearn.__version__
    assert set(meta["calibration_metrics"]) >= {"roc_auc", "brier", "ece"}
    loaded = load_model("churn", folder=tmp_path)
    pd.testing.assert_series_equal(loaded.predict_proba(frame), model.predict_proba(frame))


def test_a_model_of_an_older_format_is_refused_with_the_fix(trained, tmp_path):
    import copy

    model, frame = trained
    old = copy.deepcopy(model)
    del old.format_  # models of format 1 had no format_ attribute
    save_model(old, "old", folder=tmp_path)
    with pytest.raises(ParameterError, match=r"older workbench.*format 1.*workbench churn train"):
        load_model("old", folder=tmp_path)
    with pytest.raises(ParameterError, match="older workbench"):
        old.predict_proba(frame)


def test_chunked_predictions_equal_one_call(trained, monkeypatch):
    import workbench.churn.model as model_module

    model, frame = trained
    whole = model.predict_proba(frame)
    monkeypatch.setattr(model_module, "CHUNK", 7)  # many blocks, the last one short
    pd.testing.assert_series_equal(model.predict_proba(frame), whole)
    np.testing.assert_array_equal(
        model.decision_function(frame),
        model.pipeline_.decision_function(model.feature_matrix(frame, "t")))


def test_scoring_with_mismatched_features_is_refused(trained):
    model, frame = trained
    missing = frame.drop(columns=["days_since_visit"])
    with pytest.raises(FeatureMismatchError, match=re.escape(
            "missing ['days_since_visit'], unexpected []")):
        model.predict_proba(missing)
    extra = frame.assign(shoe_size=1.0)
    with pytest.raises(FeatureMismatchError, match=re.escape(
            "missing [], unexpected ['shoe_size']. The store must have the same tables")):
        model.predict_proba(extra)
    # column order does not matter
    shuffled = frame.loc[:, list(reversed(frame.columns))]
    np.testing.assert_allclose(model.predict_proba(shuffled), model.predict_proba(frame))


def test_a_changed_model_file_is_not_loaded(trained, tmp_path):
    model, _ = trained
    path = save_model(model, "churn", folder=tmp_path)
    with path.open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(UntrustedModelError, match="changed since it was saved"):
        load_model("churn", folder=tmp_path)


def test_a_model_without_sidecar_or_outside_the_folder_is_not_loaded(trained, tmp_path):
    model, _ = trained
    path = save_model(model, "m1", folder=tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(UntrustedModelError, match="has no m1.json with its SHA-256"):
        load_model("m1", folder=tmp_path)
    with pytest.raises(ParameterError, match="model name must be letters"):
        load_model("../m1", folder=tmp_path / "models")
    with pytest.raises(ParameterError, match=re.escape("no model 'nope'")):
        load_model("nope", folder=tmp_path)


def test_fit_validates_its_inputs():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ParameterError, match="only one class"):
        ChurnModel().fit(X, [1, 1, 1, 1], X_cal=X, y_cal=[0, 1, 0, 1])
    with pytest.raises(ParameterError, match="'calibration' must be"):
        ChurnModel(calibration="magic").fit(X, [0, 1, 0, 1], X_cal=X, y_cal=[0, 1, 0, 1])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ChurnModel().predict_proba(X)


def test_slices_a_model_cannot_learn_from_are_too_little_data():
    # The estimator refuses labels of one class as a bad argument (ParameterError, above);
    # a time slice of the store that holds one outcome is a data condition.
    slice_ = pd.DataFrame({"recency_days": [1.0, 5, 9, 12], "orders": [1.0, 2, 3, 1],
                           "churned": [0, 0, 0, 0]})
    mixed = slice_.assign(churned=[0, 1, 0, 1])
    with pytest.raises(TooLittleDataError, match=re.escape(
            "the slice at 2026-01-01 has 4 customers, 0 of whom churned")) as info:
        fit_slices(slice_, mixed, cutoffs=("2026-01-01", "2026-02-01"))
    assert info.value.key == "churn.train.one_class"
    assert info.value.facts == {"cutoff": "2026-01-01", "customers": 4, "churned": 0}
    assert isinstance(info.value, InputError) and not isinstance(info.value, ParameterError)
    with pytest.raises(TooLittleDataError, match="the slice at 2026-02-01 has 0 customers"):
        fit_slices(mixed, mixed.iloc[:0], cutoffs=("2026-01-01", "2026-02-01"))
    flat = mixed.assign(recency_days=3.0, orders=1.0)
    with using_language("ko"), pytest.raises(TooLittleDataError, match="모든 특성이 상수"):
        fit_slices(flat, mixed, cutoffs=("2026-01-01", "2026-02-01"))
    many = pd.DataFrame({"recency_days": np.arange(40.0), "orders": np.ones(40),
                         "churned": np.arange(40) % 2})
    model = fit_slices(many, many, cutoffs=("2026-01-01", "2026-02-01"))
    assert model.used_features_ == ["recency_days"]  # orders is constant: not a tree input


def test_calibration_uses_the_later_slice_only():
    # Trees learn a score on slice 1; slice 2 has a different base rate. The calibrated mean
    # follows slice 2, which is what a later time slice is for.
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=4000), rng.normal(size=4000)
    y1 = rng.random(4000) < 1 / (1 + np.exp(-2 * x1))
    y2 = rng.random(4000) < 1 / (1 + np.exp(-2 * x2 + 1.5))
    model = ChurnModel(max_iter=50).fit(pd.DataFrame({"x": x1}), y1.astype(int),
                                        X_cal=pd.DataFrame({"x": x2}), y_cal=y2.astype(int))
    p = model.predict_proba(pd.DataFrame({"x": x2}))
    assert model.calibration_method_ == "isotonic"
    assert abs(p.mean() - y2.mean()) < 0.01
    assert abs(p.mean() - y1.mean()) > 0.15
