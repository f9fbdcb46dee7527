"""The churn model: gradient-boosted trees calibrated on a later time slice; save and load.

:class:`ChurnModel` holds a scikit-learn ``Pipeline`` (``HistGradientBoostingClassifier`` on
the used feature columns) fitted on the features and labels of one cutoff, wrapped in a
``CalibratedClassifierCV`` around the frozen pipeline and fitted on a *later* cutoff. Nothing
is split at random across time: a customer's row at the training cutoff and at the calibration
cutoff describe different periods, and the calibration labels end before the cutoff the model
is used at (see :func:`workbench.churn.analysis.train`).

Saving and loading
    :func:`save_model` writes ``<name>.skops`` (the fitted model in skops' format: a zip of a
    JSON description and ``.npy`` arrays, no pickle) and ``<name>.json`` (metadata: features,
    cutoffs, definition, metrics, package versions and the SHA-256 of the ``.skops`` file) into
    the store's ``models/`` folder. Each goes through a temporary file renamed into place, with
    mode 0600 (models describe customers), and a file of that name that is not a churn model is
    never overwritten.

    :func:`load_model` reads only from the models folder, only with a well-formed sidecar whose
    SHA-256 matches, and hashes the very bytes it then loads. skops builds only the types it
    trusts by default (scikit-learn estimators and their loss and binning helpers, NumPy arrays
    loaded with ``allow_pickle=False``, builtins) plus the four in :data:`TRUSTED_TYPES`, each
    named here, never taken from the file; a file naming any other type is refused before
    anything is built, so loading cannot run code. skops checks types, not contents: the trees'
    node arrays hold indices that compiled code follows without bounds checks (which is why
    skops does not trust ``TreePredictor`` by default), so :func:`load_model` then checks the
    object graph and every node. Someone who can write the folder can still swap in another
    model of their own (both files): keep ``models/`` writable only by the accounts that train.
    A ``.joblib`` pickle of format 2 or earlier is refused unopened: retrain it.

    Why skops rather than the fitted arrays in an ``.npz`` (``allow_pickle=False``) rebuilt by
    our own code: both were measured with scikit-learn 1.9.1 (the model trained on the
    2,000-customer sample, sigmoid; synthetic 6,000-row slices, isotonic and sigmoid) and both
    give ``predict_proba`` and ``decision_function`` equal to the saved model's bit for bit.
    But rebuilding by hand means setting some fifteen private attributes of the booster, its
    binner and the calibration classes (``_bin_mapper``, ``_baseline_prediction``,
    ``_preprocessor``, ``_label_encoder``, ``_CalibratedClassifier`` ...) in our code, which any
    scikit-learn release may rename or extend; skops restores whatever attributes the objects
    have, and its maintainers track scikit-learn's internal types. The trees need the same
    node check either way. Cost (medians of five): skops files are 130-150 KB deflated (the
    joblib pickles were 100-120 KB, the ``.npz`` prototype 165-167 KB on the synthetic
    slices); saving takes 0.15-0.2 s, loading 0.1 s (joblib: 0.01 s) plus 0.4-0.8 s to import
    skops on first use.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import warnings
import zipfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

from workbench import __version__
from workbench.churn.definition import ChurnDefinition
from workbench.data.spark import is_spark, lake_path
from workbench.errors import (
    InputError,
    NotFittedError,
    ParameterError,
    SchemaError,
    TooLittleDataError,
    WorkbenchWarning,
)
from workbench.i18n import tr
from workbench.settings import load_settings

__all__ = ["ChurnModel", "FeatureMismatchError", "OutdatedModelError", "UntrustedModelError",
           "fit_slices", "load_model", "models_dir", "read_metadata", "save_model",
           "too_little_data"]

#: Columns of a feature frame that are not model inputs.
NON_FEATURES = ("customer_id", "top_category", "days_since_last_order", "bg_recency", "bg_T",
                "median_days_between")


class FeatureMismatchError(SchemaError):
    """The features given to a model differ from those it was trained on."""


class OutdatedModelError(ParameterError):
    """A saved model was written by an older workbench whose fitted objects differ; retrain it."""


class UntrustedModelError(InputError):
    """A saved model is not loaded: outside the models folder, changed, or not what we write.

    An :class:`~workbench.errors.InputError` (exit code 2 on the command line): the fix is in
    the user's hands, retraining replaces both files.
    """


#: Below this many rows the trees run on one thread: OpenMP start-up per tree costs more than
#: the work (measured: 250 trees on 2,000 rows, 4.9 s on two busy cores vs 1.1 s on one).
SMALL = 20_000
#: Rows per call of the trees when predicting: a block of rows stays in the CPU cache while all
#: trees walk it (150 trees on 1M customers: 2.0 s instead of 2.3 s in one call, 4.8 s on a
#: row-major matrix).
CHUNK = 65_536
#: Layout of the fitted objects; models saved with another one must be retrained. Format 2:
#: the pipeline takes the matrix of the used features (format 1 selected the columns from a
#: DataFrame with a ColumnTransformer, which cost 0.7 s per million rows in copies). Format 3:
#: the same objects, saved with skops in ``.skops`` instead of a joblib pickle.
MODEL_FORMAT = 3
#: Suffix of saved models.
SUFFIX = ".skops"
#: The types beyond skops' defaults that a saved model contains, each reviewed: loading builds
#: an object with ``cls.__new__`` and restores its attributes with ``__setstate__`` (or
#: ``__dict__``), which for these runs no code taken from the file.
TRUSTED_TYPES = (
    "workbench.churn.model.ChurnModel",
    # holds the frozen pipeline and its calibrator; checked by _content_problem
    "sklearn.calibration._CalibratedClassifier",
    # two floats (Platt scaling)
    "sklearn.calibration._SigmoidCalibration",
    # node arrays that compiled code follows without bounds checks: _tree_problem checks them
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


def _threads(rows: int) -> Any:
    if rows >= SMALL:
        return nullcontext()
    # One controller for the process: building one lists the loaded native libraries (30 ms
    # on a busy machine), and explaining a band limits the threads some 20 times.
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="openmp")


_controller: list[ThreadpoolController] = []


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Return the model-input columns of a feature frame (all but ids and labels)."""
    return [c for c in frame.columns if c not in NON_FEATURES and c != "churned"]


def too_little_data(key: str, **facts: object) -> TooLittleDataError:
    """Return the error for a data condition worded by ``key`` with ``facts`` (numbers, dates).

    The error keeps the key and the facts, so :func:`workbench.churn.run_churn` can word the
    condition again in its reader's language.
    """
    return TooLittleDataError(tr(key, **facts), key=key, facts=facts)


def fit_slices(training: pd.DataFrame, calibration: pd.DataFrame, *, cutoffs: tuple[str, str],
               model_params: dict[str, Any] | None = None) -> ChurnModel:
    """Fit a :class:`ChurnModel` on a labelled training slice, calibrated on a later one.

    The slices are feature frames with their ``churned`` label
    (:func:`workbench.churn.labelled_frame`); ``cutoffs`` names their dates for messages.
    :func:`workbench.churn.train` and :func:`workbench.churn.backtest` both fit this way.

    Raises
    ------
    TooLittleDataError
        A slice has no customers or only one outcome (everyone churned or nobody did): the
        store's history before its cutoff is too short or too small to learn from.
    """
    for frame, cutoff in zip((training, calibration), cutoffs, strict=True):
        churned = int(frame["churned"].sum())
        if churned in (0, len(frame)):
            raise too_little_data("churn.train.one_class", cutoff=cutoff, customers=len(frame),
                                  churned=churned)
    return ChurnModel(**(model_params or {})).fit(
        training.drop(columns="churned"), training["churned"],
        X_cal=calibration.drop(columns="churned"), y_cal=calibration["churned"])


class ChurnModel(BaseEstimator):
    """Calibrated gradient-boosted churn classifier; predictions are P(churn) per customer.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier`` (no early stopping: its validation split
        would be random).
    calibration
        ``isotonic``, ``sigmoid`` (Platt) or ``auto`` (isotonic from 2,000 calibration rows,
        else sigmoid: isotonic overfits small slices).
    max_rows
        Fit the trees and the calibration on a random sample of at most this many rows of each
        slice (``None``: all). A quarter of a million customers pin the model down; more rows
        only cost time (measured on the synthetic sample: the same AUC to three decimals).
    random_state
        Seed of the row sample and of the tree binning subsample.

    Notes
    -----
    The defaults (60 shallow trees of 15 leaves, at least 200 customers per leaf, learning
    rate 0.15) were chosen on backtests: on the synthetic sample they match the AUC of deeper
    forests (0.936 vs 0.934 at the last cutoff of the 100k sample), and on CDNOW, where
    deeper trees overfit the customers' ageing cohort, they gain 0.01-0.03. 150 trees at rate
    0.06 gave the same AUC to 0.001 on both (100k sample: 0.9321 / 0.9344 / 0.9363 against
    0.9321 / 0.9344 / 0.9364; CDNOW: 0.8105 / 0.8148 / 0.8331 against 0.8109 / 0.8160 /
    0.8334) and took 2.5 times as long to score: every tree walks every customer.

    Attributes
    ----------
    features_
        Every input column, in order: scoring frames must have exactly these.
    used_features_
        The non-constant ones the trees see (constant columns carry no information).
    reference_
        Per-feature median on the training slice: the "typical customer" of explanations.
    pipeline_
        The fitted ``Pipeline`` (uncalibrated); it takes the column-major float64 matrix of
        ``used_features_`` that :meth:`feature_matrix` builds from a feature frame.
    format_
        :data:`MODEL_FORMAT` of the fitted objects.
    calibrator_
        ``CalibratedClassifierCV`` around the frozen pipeline, fitted on the later slice.
    metadata_
        Set by :func:`workbench.churn.train`: cutoffs, definition, categories, metrics.
    """

    def __init__(self, *, max_iter: int = 60, learning_rate: float = 0.15,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 200,
                 l2_regularization: float = 1.0, calibration: str = "auto",
                 max_rows: int | None = 250_000, random_state: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.calibration = calibration
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: pd.Series, *, X_cal: pd.DataFrame,
            y_cal: pd.Series) -> ChurnModel:
        """Fit the trees on ``(X, y)`` and the calibration on the later slice ``(X_cal, y_cal)``.

        Raises
        ------
        ParameterError
            Unknown ``calibration``, a slice with one class only, or labels not aligned.
        TooLittleDataError
            No feature varies on the training slice: there is nothing to learn from.
        """
        if self.calibration not in ("auto", "isotonic", "sigmoid"):
            raise ParameterError(tr("churn.model.bad_calibration",
                                    value=repr(self.calibration)))
        for name, (data, labels) in {"training": (X, y), "calibration": (X_cal, y_cal)}.items():
            part = tr(f"churn.model.slice.{name}")
            if len(data) != len(labels):
                raise ParameterError(tr("churn.model.rows_labels", slice=part, rows=len(data),
                                        labels=len(labels)))
            if pd.Series(labels).nunique() < 2:
                raise ParameterError(tr("churn.model.one_class", slice=part))
        features = feature_columns(X)
        self.features_ = features
        X, y = self._sample(X, y)
        X_cal, y_cal = self._sample(X_cal, y_cal)
        self._check_features(X_cal, "fit")
        Xf = X.loc[:, features].astype("float64")
        varying = Xf.nunique(dropna=True) > 1
        self.used_features_ = [f for f in features if varying[f]]
        if not self.used_features_:
            raise too_little_data("churn.model.constant")
        self.reference_ = {f: _finite(Xf[f].median()) for f in features}
        gbm = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, early_stopping=False,
            random_state=self.random_state)
        self.format_ = MODEL_FORMAT
        self.pipeline_ = Pipeline([("gbm", gbm)])
        with _threads(len(Xf)):
            self.pipeline_.fit(self.feature_matrix(Xf, "fit"), np.asarray(y, dtype=int))
        method = self.calibration
        if method == "auto":
            method = "isotonic" if len(X_cal) >= 2_000 else "sigmoid"
        self.calibration_method_ = method
        self.calibrator_ = CalibratedClassifierCV(FrozenEstimator(self.pipeline_), method=method)
        with _threads(len(X_cal)):
            self.calibrator_.fit(self.feature_matrix(X_cal, "fit"),
                                 np.asarray(y_cal, dtype=int))
        self.metadata_: dict[str, Any] = {}
        return self

    def _sample(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        y = np.asarray(y, dtype=int)
        if self.max_rows is None or len(X) <= int(self.max_rows):
            return X, y
        rng = np.random.default_rng(self.random_state)
        keep = np.sort(rng.choice(len(X), int(self.max_rows), replace=False))
        return X.iloc[keep], y[keep]

    def _check_fitted(self) -> None:
        if not hasattr(self, "calibrator_"):
            raise NotFittedError(tr("churn.model.not_fitted"))

    def _check_features(self, X: pd.DataFrame, caller: str) -> None:
        """Refuse a frame whose feature columns differ from the training ones."""
        given = feature_columns(X)
        missing = [f for f in self.features_ if f not in given]
        extra = [f for f in given if f not in self.features_]
        if missing or extra:
            raise FeatureMismatchError(tr("churn.model.feature_mismatch", caller=caller,
                                          count=len(self.features_), missing=missing,
                                          extra=extra))

    def feature_matrix(self, X: pd.DataFrame, caller: str) -> np.ndarray:
        """Return the used features of ``X`` as a column-major float64 matrix.

        ``caller`` names the calling function in a feature-mismatch error. Column-major because
        each tree reads a few columns for every row: the trees predict twice as fast as on a
        row-major matrix.
        """
        self._check_features(X, caller)
        _check_format(self, f"ChurnModel.{caller}")
        # Filled column by column: X.loc[:, used].to_numpy() takes 1.4 s at 1M rows, this
        # 0.1-0.6 s (the rest is the kernel handing out fresh memory).
        M = np.empty((len(X), len(self.used_features_)), dtype="float64", order="F")
        for j, name in enumerate(self.used_features_):
            M[:, j] = X[name].to_numpy(dtype="float64", na_value=np.nan)
        return M

    def _chunked(self, predict: Any, M: np.ndarray) -> np.ndarray:
        with _threads(len(M)):
            return np.concatenate([predict(M[i:i + CHUNK]) for i in range(0, len(M), CHUNK)])

    def predict_proba(self, X: pd.DataFrame) -> pd.Series:
        """Return the calibrated P(churn) per row, a Series named ``churn_risk``.

        Raises
        ------
        FeatureMismatchError
            ``X`` lacks a training feature or has one the model does not know.
        """
        self._check_fitted()
        M = self.feature_matrix(X, "predict_proba")
        p = (self._chunked(lambda m: self.calibrator_.predict_proba(m)[:, 1], M) if len(M)
             else np.empty(0))
        return pd.Series(p, index=X.index, name="churn_risk")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated log-odds of churn (explanations compare these)."""
        self._check_fitted()
        return self.decision_matrix(self.feature_matrix(X, "decision_function"))

    def decision_matrix(self, M: np.ndarray) -> np.ndarray:
        """Return the uncalibrated log-odds of the rows of a :meth:`feature_matrix` (no checks)."""
        return self._chunked(self.pipeline_.decision_function, M) if len(M) else np.empty(0)

    @property
    def definition(self) -> ChurnDefinition:
        """The churn definition the model was trained for."""
        return ChurnDefinition.from_dict(self.metadata_.get("definition", {}))


def _check_format(model: ChurnModel, caller: str) -> None:
    found = getattr(model, "format_", 1)
    if found != MODEL_FORMAT:
        raise OutdatedModelError(tr("churn.model.outdated", caller=caller, found=found,
                                    expected=MODEL_FORMAT))


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


# ----------------------------------------------------------------------------- save and load
def models_dir(settings: Any = None, store: str | None = None) -> Path:
    """Return the folder of saved models: ``models/`` next to the store file.

    Each model is two files there: ``<name>.skops`` and its sidecar ``<name>.json``. For a
    store given as a URL (Postgres, ...) the folder is ``models/`` in the current directory;
    for a Spark lake (``spark:/path/to/lake``) it is ``_models/`` inside the lake, beside its
    pointer file (the leading ``_`` says it is not a table).

    >>> models_dir(store="spark:/data/lake").as_posix()
    '/data/lake/_models'
    """
    location = str(store or (settings or load_settings()).store)
    if is_spark(location):
        return lake_path(location) / "_models"
    if "://" in location:
        return Path("models").resolve()
    return (Path(location).expanduser().resolve().parent / "models")




def _check_name(name: str) -> str:
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
        raise ParameterError(tr("churn.model.bad_name", name=repr(name)))
    return name


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder, mode 0600.

    ``mkstemp`` creates the file readable by the owner only whatever the umask, and the rename
    keeps that mode; a reader sees the old file or the new one, never half of one.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_overwrite(folder: Path, name: str) -> None:
    """Refuse to save over anything that is not a churn model called ``name``."""
    target, sidecar = folder / f"{name}{SUFFIX}", folder / f"{name}.json"
    for path in (target, sidecar):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ParameterError(tr("churn.model.not_overwriting", path=str(path)))
    if not sidecar.exists() or target.exists() or (folder / f"{name}.joblib").exists():
        return  # next to a model file, even a broken sidecar is that model's
    try:
        meta = json.loads(sidecar.read_bytes())
    except ValueError:
        meta = None
    if not (isinstance(meta, dict) and "sha256" in meta
            and meta.get("file") in (f"{name}{SUFFIX}", f"{name}.joblib")):
        raise ParameterError(tr("churn.model.not_overwriting", path=str(sidecar)))


def save_model(model: ChurnModel, name: str = "churn", *, folder: Path | None = None,
               settings: Any = None) -> Path:
    """Save a fitted model and its metadata into the models folder; return the model's path.

    Writes ``<name>.skops`` and the sidecar ``<name>.json`` with the file's SHA-256, which
    :func:`load_model` checks, and removes an old ``<name>.joblib`` pickle.

    Raises
    ------
    ParameterError
        A bad name, a file of that name that is not a churn model, or a model holding objects
        that :func:`load_model` would refuse (``metadata_`` must be plain data).
    """
    # Imported here: skops.io takes 0.59 s to import after workbench.churn and a page (median of
    # five, python -X importtime), which scoring, refresh without a saved model and every
    # dashboard that trains in memory never need.
    import skops.io as sio

    model._check_fitted()
    folder = Path(folder) if folder is not None else models_dir(settings)
    name = _check_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    _check_overwrite(folder, name)
    data = sio.dumps(model, compression=zipfile.ZIP_DEFLATED)
    unknown = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if unknown:
        raise ParameterError(tr("churn.model.unsavable", types=", ".join(unknown)))
    target = folder / f"{name}{SUFFIX}"
    meta = {**model.metadata_, "features": list(model.features_),
            "used_features": list(model.used_features_),
            "calibration": model.calibration_method_, "model_format": getattr(model, "format_", 1),
            "package_version": __version__,
            "sklearn_version": sklearn.__version__, "file": target.name,
            "sha256": hashlib.sha256(data).hexdigest()}
    _write_private(target, data)
    _write_private(target.with_suffix(".json"),
                   json.dumps(meta, indent=2, default=str).encode("utf-8"))
    old = folder / f"{name}.joblib"
    if old.is_file() and not old.is_symlink():
        old.unlink()  # the sidecar no longer vouches for it, and a pickle can run code
    return target


#: Types of the sidecar fields that this module and the dashboard read.
_SIDECAR_FIELDS = {"sha256": str, "file": str, "model_format": int, "calibration": str,
                   "package_version": str, "sklearn_version": str, "features": list,
                   "used_features": list, "categories": list, "training_cutoffs": list,
                   "calibration_cutoff": str, "definition": dict}


def _sidecar_problem(meta: Any) -> str | None:
    """Return why a parsed sidecar is unusable, or ``None``."""
    if not isinstance(meta, dict):
        return tr("churn.model.sidecar.not_object", got=type(meta).__name__)
    if "sha256" not in meta:
        return tr("churn.model.sidecar.no_sha256")
    for field, kind in _SIDECAR_FIELDS.items():
        value = meta.get(field)
        ok = (isinstance(value, kind) and not isinstance(value, bool)
              and (kind is not list or all(isinstance(v, str) for v in value)))
        if field in meta and not ok:
            return tr("churn.model.sidecar.bad_field", field=field, got=type(value).__name__,
                      expected=tr(f"churn.model.kind.{kind.__name__}"))
    if not re.fullmatch(r"[0-9a-f]{64}", meta["sha256"]):
        return tr("churn.model.sidecar.bad_sha256", got=repr(meta["sha256"][:80]))
    return None


def read_metadata(name: str = "churn", *, folder: Path | None = None,
                  settings: Any = None) -> dict[str, Any] | None:
    """Return a saved model's metadata (its sidecar), or ``None`` when there is none.

    Only the sidecar is read; the model file is not opened.

    Raises
    ------
    UntrustedModelError
        The sidecar is not JSON, not an object, lacks its SHA-256 or has a field of the wrong
        type.
    """
    folder = Path(folder) if folder is not None else models_dir(settings)
    path = folder / f"{_check_name(name)}.json"
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_bytes())
    except ValueError as exc:  # also UnicodeDecodeError
        problem = tr("churn.model.sidecar.not_json", error=str(exc)[:200])
    else:
        problem = _sidecar_problem(meta)
    if problem:
        raise UntrustedModelError(tr("churn.model.bad_sidecar", file=path.name, reason=problem))
    return meta


def load_model(name: str = "churn", *, folder: Path | None = None,
               settings: Any = None) -> ChurnModel:
    """Load a model saved by :func:`save_model`, after checking where it is and its SHA-256.

    No code from the file runs: see "Saving and loading" in the module docstring.

    Raises
    ------
    ParameterError
        No such model in the folder.
    OutdatedModelError
        The model was saved by an older workbench (a ``.joblib`` pickle is refused unopened).
    UntrustedModelError
        The name points outside the folder, the sidecar is missing or malformed, the file's
        SHA-256 differs from the recorded one (it changed since it was saved), or the file
        holds something :func:`save_model` does not write.
    """
    folder = (Path(folder) if folder is not None else models_dir(settings)).resolve()
    name = _check_name(name)
    path = (folder / f"{name}{SUFFIX}").resolve()
    if path.parent != folder:
        raise UntrustedModelError(tr("churn.model.outside", path=repr(str(path)),
                                     folder=repr(str(folder))))
    if not path.is_file():
        if (folder / f"{name}.joblib").is_file():
            raise OutdatedModelError(tr("churn.model.pickle", file=f"{name}.joblib",
                                        expected=MODEL_FORMAT, suffix=SUFFIX))
        known = sorted(p.stem for p in folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []
        raise ParameterError(tr("churn.model.missing", name=repr(name), folder=repr(str(folder)),
                                known=known))
    meta = read_metadata(name, folder=folder)
    if meta is None:
        raise UntrustedModelError(tr("churn.model.no_sidecar", file=path.name,
                                     sidecar=f"{name}.json"))
    if meta.get("model_format", 1) != MODEL_FORMAT:
        raise OutdatedModelError(tr("churn.model.outdated", caller=f"load_model: {path.name}",
                                    found=meta.get("model_format", 1), expected=MODEL_FORMAT))
    data = path.read_bytes()  # hash and load the same bytes: the file may change in between
    actual = hashlib.sha256(data).hexdigest()
    if actual != meta["sha256"]:
        raise UntrustedModelError(tr("churn.model.changed", file=path.name, actual=actual[:12],
                                     recorded=meta["sha256"][:12]))
    if meta.get("sklearn_version") != sklearn.__version__:
        warnings.warn(tr("churn.model.sklearn_version", file=path.name,
                         saved=meta.get("sklearn_version"), current=sklearn.__version__),
                      WorkbenchWarning, stacklevel=2)
    return _unpack(data, path.name)


def _unpack(data: bytes, file: str) -> ChurnModel:
    """Build the model from a file's bytes with skops, then check what was built."""
    import skops.io as sio  # 0.59 s to import: only when a saved model is read (save_model)

    try:
        unknown = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        model = None if unknown else sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # whatever a corrupt zip or schema raises, the user's fix is one
        raise UntrustedModelError(tr("churn.model.unreadable", file=file,
                                     error=f"{type(exc).__name__}: {exc}"[:300])) from exc
    if unknown:
        raise UntrustedModelError(tr("churn.model.untrusted_types", file=file,
                                     types=", ".join(unknown)))
    problem = _content_problem(model)
    if problem:
        raise UntrustedModelError(tr("churn.model.bad_content", file=file, problem=problem))
    _check_format(model, f"load_model: {file}")
    return model


def _content_problem(model: Any) -> str | None:
    """Return how a loaded object differs from what :func:`save_model` writes, or ``None``.

    Checks the parts prediction uses, in order, and then the trees node by node.
    """
    if not isinstance(model, ChurnModel):
        return tr("churn.model.problem.not_model", kind=type(model).__name__)
    m = vars(model)
    checks = {
        "features_": lambda: (_strings(m["features_"]) and _strings(m["used_features_"])
                              and set(m["used_features_"]) <= set(m["features_"])),
        "reference_": lambda: isinstance(m["reference_"], dict),
        "metadata_": lambda: isinstance(m["metadata_"], dict),
        "pipeline_": lambda: _booster_ok(m["pipeline_"], len(m["used_features_"])),
        "calibrator_": lambda: _calibrator_ok(m["calibrator_"], m["pipeline_"],
                                              m["calibration_method_"]),
    }
    for part, check in checks.items():
        try:
            ok = bool(check())
        except Exception:  # a crafted object may lack any attribute or hold any type
            ok = False
        if not ok:
            return tr("churn.model.problem.part", part=part)
    for i, trees in enumerate(m["pipeline_"].steps[0][1]._predictors):
        if not (isinstance(trees, list) and len(trees) == 1
                and _tree_ok(trees[0], len(m["used_features_"]))):
            return tr("churn.model.problem.tree", tree=i)
    return None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _booster_ok(pipe: Any, n_features: int) -> bool:
    """Return whether ``pipe`` is the one-step pipeline of a binary booster on the features."""
    if not (isinstance(pipe, Pipeline) and isinstance(pipe.steps, list) and len(pipe.steps) == 1
            and pipe.steps[0][0] == "gbm"):
        return False
    gbm = pipe.steps[0][1]
    baseline = gbm._baseline_prediction
    return (isinstance(gbm, HistGradientBoostingClassifier)
            and gbm.n_trees_per_iteration_ == 1 and gbm.n_features_in_ == n_features
            and gbm._preprocessor is None and gbm.is_categorical_ is None
            and isinstance(baseline, np.ndarray) and baseline.shape == (1, 1)
            and baseline.dtype == np.float64 and isinstance(gbm._predictors, list))


def _calibrator_ok(cal: Any, pipe: Any, method: Any) -> bool:
    """Return whether ``cal`` calibrates ``pipe`` itself with one calibrator of ``method``."""
    kinds = {"isotonic": IsotonicRegression, "sigmoid": _SigmoidCalibration}
    if not (isinstance(cal, CalibratedClassifierCV) and isinstance(cal.estimator, FrozenEstimator)
            and cal.estimator.estimator is pipe and method in kinds):
        return False
    calibrated = cal.calibrated_classifiers_
    return (isinstance(calibrated, list) and len(calibrated) == 1
            and calibrated[0].estimator is cal.estimator
            and isinstance(calibrated[0].calibrators, list)
            and len(calibrated[0].calibrators) == 1
            and isinstance(calibrated[0].calibrators[0], kinds[method]))


def _tree_ok(tree: Any, n_features: int) -> bool:
    """Return whether prediction can walk every path of a tree and stay inside its arrays.

    The grower numbers nodes depth first, so children come after their parent: demanding it
    rules out loops as well as indices past the end. Churn models never split on categories,
    so no node may (a categorical split would index the bitset arrays).
    """
    nodes = getattr(tree, "nodes", None)
    if not (isinstance(nodes, np.ndarray) and nodes.dtype == PREDICTOR_RECORD_DTYPE
            and nodes.ndim == 1 and len(nodes)):
        return False
    inner = np.flatnonzero(nodes["is_leaf"] == 0)
    split = nodes[inner]
    n = len(nodes)
    return bool(
        (split["left"] > inner).all() and (split["left"] < n).all()
        and (split["right"] > inner).all() and (split["right"] < n).all()
        and (split["feature_idx"] >= 0).all() and (split["feature_idx"] < n_features).all()
        and not split["is_categorical"].any())
