"""The churn model: gradient-boosted trees calibrated on a later time slice; save and load.

:class:`ChurnModel` holds a scikit-learn ``Pipeline`` (``HistGradientBoostingClassifier`` on
the used feature columns) fitted on the features and labels of one cutoff, wrapped in a
``CalibratedClassifierCV`` around the frozen pipeline and fitted on a *later* cutoff. Nothing
is split at random across time: a customer's row at the training cutoff and at the calibration
cutoff describe different periods, and the calibration labels end before the cutoff the model
is used at (see :func:`workbench.churn.analysis.train`).

Saving and loading
    :func:`save_model` writes ``<name>.joblib`` (the fitted objects, pickled by joblib) and
    ``<name>.json`` (metadata: features, cutoffs, definition, metrics, package versions and
    the SHA-256 of the ``.joblib`` file) into the store's ``models/`` folder.
    **Unpickling runs code**: a ``.joblib`` file from someone else can do anything your
    account can. :func:`load_model` therefore loads only from the models folder, only when the
    sidecar's SHA-256 matches the file, and never silently: a changed or foreign file is
    refused with an error. This guards against swapped or corrupted files, not against someone
    who can write to the folder (they could rewrite both files): keep ``models/`` writable only
    by the accounts that train. skops would avoid pickle, but it is not a dependency and does
    not cover every object here.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from workbench import __version__
from workbench.churn.definition import ChurnDefinition
from workbench.errors import (
    NotFittedError,
    ParameterError,
    SchemaError,
    WorkbenchError,
    WorkbenchWarning,
)

__all__ = ["ChurnModel", "FeatureMismatchError", "OutdatedModelError", "UntrustedModelError",
           "load_model", "models_dir", "save_model"]

#: Columns of a feature frame that are not model inputs.
NON_FEATURES = ("customer_id", "top_category", "days_since_last_order", "bg_recency", "bg_T",
                "median_days_between")


class FeatureMismatchError(SchemaError):
    """The features given to a model differ from those it was trained on."""


class OutdatedModelError(ParameterError):
    """A saved model was written by an older workbench whose fitted objects differ; retrain it."""


class UntrustedModelError(WorkbenchError):
    """A model file is outside the models folder or does not match its recorded checksum."""


#: Below this many rows the trees run on one thread: OpenMP start-up per tree costs more than
#: the work (measured: 250 trees on 2,000 rows, 4.9 s on two busy cores vs 1.1 s on one).
SMALL = 20_000
#: Rows per call of the trees when predicting: a block of rows stays in the CPU cache while all
#: trees walk it (150 trees on 1M customers: 2.0 s instead of 2.3 s in one call, 4.8 s on a
#: row-major matrix).
CHUNK = 65_536
#: Layout of the fitted objects; models saved with another one must be retrained. Format 2:
#: the pipeline takes the matrix of the used features (format 1 selected the columns from a
#: DataFrame with a ColumnTransformer, which cost 0.7 s per million rows in copies).
MODEL_FORMAT = 2


def _threads(rows: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp") if rows < SMALL else nullcontext()


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Return the model-input columns of a feature frame (all but ids and labels)."""
    return [c for c in frame.columns if c not in NON_FEATURES and c != "churned"]


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
        ``used_features_`` that ``_matrix`` builds from a feature frame.
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
        """
        if self.calibration not in ("auto", "isotonic", "sigmoid"):
            raise ParameterError("ChurnModel: 'calibration' must be 'auto', 'isotonic' or "
                                 f"'sigmoid'; got {self.calibration!r}.")
        for name, (data, labels) in {"training": (X, y), "calibration": (X_cal, y_cal)}.items():
            if len(data) != len(labels):
                raise ParameterError(f"ChurnModel.fit: the {name} slice has {len(data)} rows "
                                     f"but {len(labels)} labels.")
            if pd.Series(labels).nunique() < 2:
                raise ParameterError(
                    f"ChurnModel.fit: the {name} slice has only one class (everyone churned or "
                    "nobody did); pick cutoffs with more customers or a different horizon.")
        features = feature_columns(X)
        self.features_ = features
        X, y = self._sample(X, y)
        X_cal, y_cal = self._sample(X_cal, y_cal)
        self._check_features(X_cal, "fit")
        Xf = X.loc[:, features].astype("float64")
        varying = Xf.nunique(dropna=True) > 1
        self.used_features_ = [f for f in features if varying[f]]
        if not self.used_features_:
            raise ParameterError("ChurnModel.fit: every feature is constant on the training "
                                 "slice; there is nothing to learn from.")
        self.reference_ = {f: _finite(Xf[f].median()) for f in features}
        gbm = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, early_stopping=False,
            random_state=self.random_state)
        self.format_ = MODEL_FORMAT
        self.pipeline_ = Pipeline([("gbm", gbm)])
        with _threads(len(Xf)):
            self.pipeline_.fit(self._matrix(Xf, "fit"), np.asarray(y, dtype=int))
        method = self.calibration
        if method == "auto":
            method = "isotonic" if len(X_cal) >= 2_000 else "sigmoid"
        self.calibration_method_ = method
        self.calibrator_ = CalibratedClassifierCV(FrozenEstimator(self.pipeline_), method=method)
        with _threads(len(X_cal)):
            self.calibrator_.fit(self._matrix(X_cal, "fit"), np.asarray(y_cal, dtype=int))
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
            raise NotFittedError("ChurnModel: not fitted yet; call fit() or "
                                 "workbench.churn.train() first, or load a saved model.")

    def _check_features(self, X: pd.DataFrame, caller: str) -> None:
        """Refuse a frame whose feature columns differ from the training ones."""
        given = feature_columns(X)
        missing = [f for f in self.features_ if f not in given]
        extra = [f for f in given if f not in self.features_]
        if missing or extra:
            raise FeatureMismatchError(
                f"ChurnModel.{caller}: the features differ from the {len(self.features_)} the "
                f"model was trained on: missing {missing}, unexpected {extra}. The store must "
                "have the same tables (events, customers, messages, order_items, products) and "
                "the model its own category list; retrain with workbench.churn.train on this "
                "store instead of reusing this model.")

    def _matrix(self, X: pd.DataFrame, caller: str) -> np.ndarray:
        """Return the used features of ``X`` as a column-major float64 matrix.

        Column-major because each tree reads a few columns for every row: the trees predict
        twice as fast as on a row-major matrix.
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
        M = self._matrix(X, "predict_proba")
        p = (self._chunked(lambda m: self.calibrator_.predict_proba(m)[:, 1], M) if len(M)
             else np.empty(0))
        return pd.Series(p, index=X.index, name="churn_risk")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated log-odds of churn (explanations compare these)."""
        self._check_fitted()
        return self.decision_matrix(self._matrix(X, "decision_function"))

    def decision_matrix(self, M: np.ndarray) -> np.ndarray:
        """Return the uncalibrated log-odds of the rows of a :meth:`_matrix` (no checks)."""
        return self._chunked(self.pipeline_.decision_function, M) if len(M) else np.empty(0)

    @property
    def definition(self) -> ChurnDefinition:
        """The churn definition the model was trained for."""
        return ChurnDefinition.from_dict(self.metadata_.get("definition", {}))


def _check_format(model: ChurnModel, caller: str) -> None:
    found = getattr(model, "format_", 1)
    if found != MODEL_FORMAT:
        raise OutdatedModelError(
            f"{caller}: this model was saved by an older workbench (model format {found}; this "
            f"version reads {MODEL_FORMAT}). Retrain it with `workbench churn train` or "
            "workbench.churn.train(..., save=...).")


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


# ----------------------------------------------------------------------------- save and load
def models_dir(settings: Any = None, store: str | None = None) -> Path:
    """Return the folder of saved models: ``models/`` next to the store file.

    For a store given as a URL (Postgres, ...) it is ``models/`` in the current directory.
    """
    from workbench.settings import load_settings

    location = str(store or (settings or load_settings()).store)
    if "://" in location:
        return Path("models").resolve()
    return (Path(location).expanduser().resolve().parent / "models")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_name(name: str) -> str:
    if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith("."):
        raise ParameterError(f"churn model name must be letters, digits, '-', '_' or '.'; got "
                             f"{name!r}.")
    return name


def save_model(model: ChurnModel, name: str = "churn", *, folder: Path | None = None,
               settings: Any = None) -> Path:
    """Save a fitted model and its metadata into the models folder; return the ``.joblib`` path.

    The sidecar ``<name>.json`` records the file's SHA-256, which :func:`load_model` checks.
    """
    model._check_fitted()
    folder = Path(folder) if folder is not None else models_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_check_name(name)}.joblib"
    tmp = target.with_suffix(".joblib.tmp")
    joblib.dump(model, tmp)
    tmp.replace(target)
    meta = {**model.metadata_, "features": list(model.features_),
            "used_features": list(model.used_features_),
            "calibration": model.calibration_method_, "model_format": getattr(model, "format_", 1),
            "package_version": __version__,
            "sklearn_version": sklearn.__version__, "file": target.name,
            "sha256": _sha256(target)}
    target.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=str),
                                           encoding="utf-8")
    return target


def read_metadata(name: str = "churn", *, folder: Path | None = None,
                  settings: Any = None) -> dict[str, Any] | None:
    """Return a saved model's metadata (no unpickling), or ``None`` when there is none."""
    folder = Path(folder) if folder is not None else models_dir(settings)
    path = folder / f"{_check_name(name)}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_model(name: str = "churn", *, folder: Path | None = None,
               settings: Any = None) -> ChurnModel:
    """Load a model saved by :func:`save_model`, after checking where it is and its SHA-256.

    Raises
    ------
    ParameterError
        No such model in the folder.
    UntrustedModelError
        The name points outside the folder, the sidecar is missing, or the file's SHA-256
        differs from the recorded one (the file changed since it was saved: do not load it
        unless you know where it came from).
    """
    folder = (Path(folder) if folder is not None else models_dir(settings)).resolve()
    path = (folder / f"{_check_name(name)}.joblib").resolve()
    if path.parent != folder:
        raise UntrustedModelError(f"load_model: {str(path)!r} is outside the models folder "
                                  f"{str(folder)!r}; models load only from there.")
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.joblib")) if folder.is_dir() else []
        raise ParameterError(f"load_model: no model {name!r} in {str(folder)!r}; saved models: "
                             f"{known}. Train one with workbench.churn.train(..., save=...).")
    meta = read_metadata(name, folder=folder)
    if meta is None or "sha256" not in meta:
        raise UntrustedModelError(
            f"load_model: {path.name} has no {path.with_suffix('.json').name} with its SHA-256, "
            "so its origin cannot be checked; loading a pickle runs code. Retrain and save it "
            "with workbench.churn.train(..., save=...).")
    actual = _sha256(path)
    if actual != meta["sha256"]:
        raise UntrustedModelError(
            f"load_model: {path.name} changed since it was saved (SHA-256 {actual[:12]}... "
            f"instead of {meta['sha256'][:12]}...). Loading a pickle runs code: retrain instead "
            "of loading a file you did not save.")
    if meta.get("sklearn_version") != sklearn.__version__:
        warnings.warn(f"load_model: {path.name} was saved with scikit-learn "
                      f"{meta.get('sklearn_version')} and this is {sklearn.__version__}; "
                      "retrain it if scores look wrong.", WorkbenchWarning, stacklevel=2)
    model = joblib.load(path)
    if not isinstance(model, ChurnModel):
        raise UntrustedModelError(f"load_model: {path.name} holds a "
                                  f"{type(model).__name__}, not a ChurnModel.")
    _check_format(model, f"load_model: {path.name}")
    return model
