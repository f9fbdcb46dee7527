"""Churn risk: calibrated, backtested and explained (issue 6).

A customer active before ``as_of`` has churned when they place no order in the window after it
(:class:`ChurnDefinition`: 90 days by default, or relative to their own rhythm). The model is a
scikit-learn ``Pipeline`` of gradient-boosted trees, calibrated on a later time slice::

    from workbench.churn import ChurnParams, run_churn, train, score
    model = train(con, as_of, save="churn")          # saved in the store's models/ folder
    model = ensure_model(con, as_of, settings=s)     # the saved one; trained once if none
    scored = score(con, as_of, model)                # churn_risk, risk_band, churn_reasons
    result = run_churn(con, ChurnParams(as_of=as_of))  # bands, reasons, actions, backtest

Too short a history is a data condition: :func:`run_churn` returns it as the status
``TOO_LITTLE_DATA`` with a message, while :func:`train` and :func:`backtest`, which have no
result to carry it, raise :class:`workbench.errors.TooLittleDataError`.
"""

from workbench.churn.analysis import (
    SNAPSHOT_COLUMNS,
    ChurnParams,
    ChurnResult,
    churn_part,
    ensure_model,
    run_churn,
    saved_name,
    score,
    train,
    training_cutoffs,
)
from workbench.churn.backtest import (
    Backtest,
    backtest,
    backtest_cutoffs,
    expected_auc,
    expected_calibration_error,
    lift_capture,
    reliability_curve,
    score_metrics,
    true_churn_probability,
)
from workbench.churn.bands import (
    BANDS,
    BandRule,
    assign_bands,
    band_label,
    band_summary,
    risk_level,
)
from workbench.churn.definition import ChurnDefinition
from workbench.churn.explain import permutation_table, reason_text, reasons_text, top_reasons
from workbench.churn.features import churn_features, feature_frame
from workbench.churn.labels import churn_labels, data_end, labelled_frame
from workbench.churn.model import (
    ChurnModel,
    FeatureMismatchError,
    OutdatedModelError,
    UntrustedModelError,
    load_model,
    models_dir,
    read_metadata,
    save_model,
)

__all__ = [
    "BANDS", "SNAPSHOT_COLUMNS", "Backtest", "BandRule", "ChurnDefinition", "ChurnModel",
    "ChurnParams", "ChurnResult", "FeatureMismatchError", "OutdatedModelError",
    "UntrustedModelError",
    "assign_bands", "backtest", "backtest_cutoffs", "band_label", "band_summary",
    "churn_features", "churn_labels", "churn_part", "data_end", "ensure_model", "expected_auc",
    "expected_calibration_error",
    "feature_frame", "labelled_frame", "lift_capture", "load_model", "models_dir",
    "permutation_table", "read_metadata", "reason_text", "reasons_text", "reliability_curve",
    "risk_level", "run_churn", "save_model", "saved_name", "score", "score_metrics",
    "top_reasons", "train",
    "training_cutoffs", "true_churn_probability",
]
