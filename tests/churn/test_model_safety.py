"""Saved churn models load without running code, and only what save_model writes loads.

Each tampered file below gets a valid SHA-256 in its sidecar, as an attacker who can write the
models folder would give it: the digest check passes, so the format itself must refuse. Every
payload is shown to be live (it does create its marker when loaded the unsafe way), so a
missing marker means the loader refused it, not that the payload was a dud.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import re
import stat
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import skops.io as sio

from workbench.churn import (
    ChurnModel,
    OutdatedModelError,
    UntrustedModelError,
    load_model,
    read_metadata,
    save_model,
)
from workbench.churn.model import MODEL_FORMAT, TRUSTED_TYPES
from workbench.errors import InputError, ParameterError
from workbench.i18n import set_language
from workbench.settings import Settings

AS_OF = date(2026, 11, 16)


class Boom:
    """Creates its marker file when unpickled or rebuilt: a stand-in for any payload."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).touch()


def _fit(calibration: str) -> tuple[ChurnModel, pd.DataFrame]:
    rng = np.random.default_rng(3)

    def frame(n: int) -> tuple[pd.DataFrame, np.ndarray]:
        X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, n).astype(float),
                          "c": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
                          "flat": 1.0}, index=pd.Index([f"C{i}" for i in range(n)],
                                                       name="customer_id"))
        y = rng.random(n) < 1 / (1 + np.exp(-X["a"] - 0.3 * X["b"] + 1))
        return X, y.astype(int)

    (X, y), (X_cal, y_cal) = frame(3000), frame(3000)
    model = ChurnModel(max_iter=30, min_samples_leaf=50, calibration=calibration).fit(
        X, y, X_cal=X_cal, y_cal=y_cal)
    model.metadata_ = {"as_of": "2026-11-16", "calibration_metrics": {"brier": 0.1,
                                                                       "ece": float("nan")}}
    return model, frame(500)[0]


def _write(folder: Path, name: str, data: bytes, **meta: object) -> Path:
    """Write a model file and a sidecar with its true SHA-256, as save_model would."""
    path = folder / name
    path.write_bytes(data)
    sidecar = {"file": name, "model_format": MODEL_FORMAT, "sklearn_version": sklearn.__version__,
               "sha256": hashlib.sha256(data).hexdigest(), **meta}
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


def _recrafted(path: Path, edit) -> bytes:
    """Return the bytes of a saved .skops file whose schema ``edit(schema, files)`` changed."""
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    schema = json.loads(files.pop("schema.json"))
    edit(schema, files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
        for n, content in files.items():
            z.writestr(n, content)
    return buf.getvalue()


def _attributes(schema: dict) -> dict:
    """The attribute nodes of the ChurnModel node at the root of a saved model's schema."""
    assert schema["__class__"] == "ChurnModel"
    return schema["content"]["content"]


# ------------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_a_loaded_model_predicts_exactly_what_the_saved_one_did(calibration, tmp_path):
    model, X = _fit(calibration)
    assert model.calibration_method_ == calibration
    path = save_model(model, "m", folder=tmp_path)
    assert path == tmp_path / "m.skops"
    loaded = load_model("m", folder=tmp_path)
    assert type(loaded) is ChurnModel
    pd.testing.assert_series_equal(loaded.predict_proba(X), model.predict_proba(X),
                                   check_exact=True)
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    for attr in ("features_", "used_features_", "reference_", "calibration_method_", "format_"):
        assert getattr(loaded, attr) == getattr(model, attr), attr
    assert loaded.get_params() == model.get_params()
    assert loaded.metadata_["as_of"] == "2026-11-16"
    assert np.isnan(loaded.metadata_["calibration_metrics"]["ece"])


def test_saved_files_are_private_and_written_whole(trained, tmp_path):
    model, _ = trained
    (tmp_path / "churn.joblib").write_bytes(b"an old pickle")
    path = save_model(model, "churn", folder=tmp_path)
    for p in (path, path.with_suffix(".json")):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    # no temporary file left behind, and the old pickle of that name is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn.json", "churn.skops"]
    save_model(model, "churn", folder=tmp_path)  # saving again replaces its own files
    assert read_metadata("churn", folder=tmp_path)["sha256"] == hashlib.sha256(
        path.read_bytes()).hexdigest()


def test_saving_never_overwrites_what_is_not_a_model_of_that_name(trained, tmp_path):
    model, _ = trained
    foreign = tmp_path / "clv.json"
    foreign.write_text('{"alpha": 4.4}')
    with pytest.raises(ParameterError, match=re.escape(
            f"save_model: {foreign} exists and is not a churn model of that name")):
        save_model(model, "clv", folder=tmp_path)
    assert foreign.read_text() == '{"alpha": 4.4}' and not (tmp_path / "clv.skops").exists()
    (tmp_path / "dir.skops").mkdir()
    with pytest.raises(ParameterError, match="dir.skops exists and is not a churn model"):
        save_model(model, "dir", folder=tmp_path)
    (tmp_path / "link.skops").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ParameterError, match="link.skops exists and is not a churn model"):
        save_model(model, "link", folder=tmp_path)
    assert not (tmp_path / "elsewhere").exists()


def test_a_model_holding_objects_loading_refuses_is_not_saved(trained, tmp_path):
    model = copy.deepcopy(trained[0])
    model.metadata_ = {**model.metadata_, "when": date(2026, 1, 1)}
    with pytest.raises(ParameterError, match=re.escape(
            "save_model: the model holds objects that loading would refuse (datetime.date)")):
        save_model(model, "churn", folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ tampered files run nothing
def test_a_pickle_with_a_valid_digest_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Boom(str(marker)))
    # an old-style model: refused as outdated, without unpickling
    _write(tmp_path, "churn.joblib", payload, model_format=2)
    with pytest.raises(OutdatedModelError, match=re.escape(
            "load_model: churn.joblib is a pickle saved by an older workbench (model format 2 "
            f"or earlier); this version reads only model format {MODEL_FORMAT} (.skops files) "
            "and does not open pickles")) as info:
        load_model("churn", folder=tmp_path)
    assert "workbench churn train" in str(info.value)
    # the same bytes under the new name: not a skops zip, refused as unreadable
    _write(tmp_path, "churn.skops", payload)
    with pytest.raises(UntrustedModelError, match=re.escape(
            "load_model: churn.skops cannot be read as a saved churn model (BadZipFile")):
        load_model("churn", folder=tmp_path)
    assert not marker.exists()
    pickle.loads(payload)  # the payload is live
    assert marker.exists()


def test_an_old_pickle_without_sidecar_is_refused_unopened(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "churn.joblib").write_bytes(pickle.dumps(Boom(str(marker))))
    with pytest.raises(OutdatedModelError, match="does not open pickles"):
        load_model("churn", folder=tmp_path)
    assert not marker.exists()


def test_a_skops_file_naming_an_untrusted_type_builds_nothing(trained, tmp_path):
    marker = tmp_path / "pwned"
    model = copy.deepcopy(trained[0])
    model.metadata_ = {**model.metadata_, "extra": Boom(str(marker))}
    data = sio.dumps(model)
    _write(tmp_path, "churn.skops", data)
    with pytest.raises(UntrustedModelError, match=re.escape(
            f"load_model: churn.skops names types a saved churn model never contains "
            f"({Boom.__module__}.Boom), so it was not written by save_model")):
        load_model("churn", folder=tmp_path)
    assert not marker.exists()
    sio.loads(data, trusted=[*TRUSTED_TYPES, f"{Boom.__module__}.Boom"])  # the payload is live
    assert marker.exists()


def test_a_skops_file_naming_os_system_builds_nothing(trained, tmp_path):
    path = save_model(trained[0], "churn", folder=tmp_path)

    def edit(schema: dict, files: dict) -> None:
        _attributes(schema)["metadata_"] = {"__class__": "system", "__module__": "os",
                                            "__loader__": "FunctionNode", "__id__": 1}

    _write(tmp_path, "churn.skops", _recrafted(path, edit))
    with pytest.raises(UntrustedModelError, match=re.escape("never contains (os.system)")):
        load_model("churn", folder=tmp_path)


def test_a_skops_file_with_a_pickled_object_array_runs_nothing(trained, tmp_path):
    marker = tmp_path / "pwned"
    path = save_model(trained[0], "churn", folder=tmp_path)
    array = io.BytesIO()
    np.save(array, np.array([Boom(str(marker))], dtype=object), allow_pickle=True)

    def edit(schema: dict, files: dict) -> None:
        _attributes(schema)["metadata_"] = {"__class__": "ndarray", "__module__": "numpy",
                                            "__loader__": "NdArrayNode", "type": "numpy",
                                            "file": "1.npy", "__id__": 1}
        files["1.npy"] = array.getvalue()

    _write(tmp_path, "churn.skops", _recrafted(path, edit))
    with pytest.raises(UntrustedModelError, match=re.escape(
            "cannot be read as a saved churn model (ValueError: Object arrays cannot be loaded "
            "when allow_pickle=False")):
        load_model("churn", folder=tmp_path)
    assert not marker.exists()
    np.load(io.BytesIO(array.getvalue()), allow_pickle=True)  # the payload is live
    assert marker.exists()


def _tree_nodes(model: ChurnModel, tree: int) -> np.ndarray:
    return model.pipeline_.steps[0][1]._predictors[tree][0].nodes


@pytest.mark.parametrize(("field", "value"), [
    ("left", 10**6),  # past the end of the node array
    ("right", 0),  # back up to the root: an endless walk
    ("feature_idx", 99),  # a column the matrix does not have
    ("is_categorical", 1),  # would index the (empty) bitset arrays
], ids=["past-end", "loop", "feature", "categorical"])
def test_a_tree_node_pointing_outside_its_arrays_is_refused(trained, tmp_path, field, value):
    model = copy.deepcopy(trained[0])
    nodes = _tree_nodes(model, 3)
    nodes[field][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = value
    save_model(model, "churn", folder=tmp_path)
    with pytest.raises(UntrustedModelError, match=re.escape(
            "load_model: churn.skops is not a churn model as save_model writes it: tree 3 has "
            "a node that points outside the tree")):
        load_model("churn", folder=tmp_path)


def test_a_file_holding_other_objects_is_refused(trained, tmp_path):
    from sklearn.linear_model import LogisticRegression

    _write(tmp_path, "x.skops", sio.dumps({"not": "a model"}))
    with pytest.raises(UntrustedModelError, match="holds a dict, not a ChurnModel"):
        load_model("x", folder=tmp_path)
    model = copy.deepcopy(trained[0])
    model.pipeline_ = LogisticRegression()  # a type skops trusts, in the wrong place
    save_model(model, "swapped", folder=tmp_path)
    with pytest.raises(UntrustedModelError, match=re.escape(
            "its pipeline_ differs from what save_model writes")):
        load_model("swapped", folder=tmp_path)


# ---------------------------------------------------------------------------- bad sidecars
GOOD_SHA = "0" * 64


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"sha256": ', "it is not JSON (Expecting value: line 1 column 12 (char 11))"),
    (b"\xff\xfe\x00", "it is not JSON ("),
    (b"[1, 2]", "it holds a JSON list instead of an object"),
    (b'{"file": "churn.skops"}', "it has no 'sha256' field"),
    (b'{"sha256": 42}', "'sha256' must be a string; got int"),
    (b'{"sha256": "abc"}', "'sha256' must be 64 hexadecimal digits; got 'abc'"),
    (json.dumps({"sha256": GOOD_SHA, "model_format": "3"}).encode(),
     "'model_format' must be an integer; got str"),
    (json.dumps({"sha256": GOOD_SHA, "model_format": True}).encode(),
     "'model_format' must be an integer; got bool"),
    (json.dumps({"sha256": GOOD_SHA, "features": ["a", 1]}).encode(),
     "'features' must be a list of strings; got list"),
    (json.dumps({"sha256": GOOD_SHA, "definition": []}).encode(),
     "'definition' must be an object; got list"),
], ids=["truncated", "not-utf8", "list", "no-sha", "sha-int", "sha-short", "format-str",
        "format-bool", "features", "definition"])
def test_a_bad_sidecar_gets_its_own_message(trained, tmp_path, content, reason):
    save_model(trained[0], "churn", folder=tmp_path)
    (tmp_path / "churn.json").write_bytes(content)
    expected = re.escape(f"churn.json is not a valid churn model sidecar: {reason}")
    with pytest.raises(UntrustedModelError, match=expected):
        read_metadata("churn", folder=tmp_path)
    with pytest.raises(UntrustedModelError, match=expected) as info:
        load_model("churn", folder=tmp_path)
    assert "Retrain with `workbench churn train`, which rewrites both files." in str(info.value)
    save_model(trained[0], "churn", folder=tmp_path)  # retraining replaces a broken sidecar
    assert read_metadata("churn", folder=tmp_path)["sha256"] != GOOD_SHA


def test_messages_are_in_korean_too(tmp_path):
    (tmp_path / "churn.skops").write_bytes(b"x")
    (tmp_path / "churn.json").write_bytes(b"[1]")
    set_language("ko")
    try:
        with pytest.raises(UntrustedModelError, match=re.escape(
                "churn.json은 올바른 이탈 모델 메타데이터 파일이 아닙니다: JSON 객체가 아니라 "
                "list입니다.")):
            load_model("churn", folder=tmp_path)
    finally:
        set_language(None)


def test_untrusted_models_are_input_errors():
    # the command line maps InputError to exit code 2: a problem the user fixes by retraining
    assert issubclass(UntrustedModelError, InputError)


# --------------------------------------------------------------------------------- refresh
def test_refresh_stops_on_a_tampered_model_and_says_how_to_fix_it(trained, store_copy, capsys):
    from workbench.cli import main

    s = Settings(store=str(store_copy))
    path = save_model(trained[0], "churn", settings=s)
    with path.open("ab") as fh:
        fh.write(b"\0")
    code = main(["refresh", "--as-of", AS_OF.isoformat(), "--store", str(store_copy),
                 "--language", "en"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "churn.skops changed since it was saved" in err
    assert "retrain with `workbench churn train`, which replaces it" in err


def test_refresh_warns_and_trains_when_only_an_old_pickle_is_saved(trained, store_copy):
    # Through ensure_model, the step of churn_part (refresh) that loads or trains, without the
    # 3-cutoff backtest refresh stores (test_saved.py covers churn_part end to end).
    from workbench.churn import ensure_model
    from workbench.churn.model import models_dir
    from workbench.data import connect
    from workbench.errors import WorkbenchWarning

    s = Settings(store=str(store_copy))
    folder = models_dir(s)
    folder.mkdir()
    marker = folder / "pwned"
    _write(folder, "churn.joblib", pickle.dumps(Boom(str(marker))), model_format=2)
    con = connect(store_copy, settings=s)
    # Issue 15: refresh now saves the model it trains (it used to keep it in memory).
    with pytest.warns(WorkbenchWarning, match="does not open pickles.*trains a new model"):
        model = ensure_model(con, AS_OF, settings=s, backtest_cutoffs=0)
    con.disconnect()
    assert model.metadata_["as_of"] == AS_OF.isoformat()
    assert not marker.exists()
    assert (folder / "churn.skops").is_file() and not (folder / "churn.joblib").exists()
