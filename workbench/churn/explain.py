"""Why a customer is at risk: global permutation importance and per-customer reasons.

Global
    :func:`permutation_table`: the drop in ROC AUC when one feature's values are shuffled
    (Breiman 2001; ``sklearn.inspection.permutation_importance``), on a sample of a slice.

Per customer
    :func:`top_reasons`: the features are grouped (:data:`workbench.churn.features.FEATURE_GROUPS`:
    recent orders, visits, carts, ...). For each group the group's columns are replaced by the
    training slice's medians (a typical customer) and the model's log-odds recomputed; the
    difference ``f(x) - f(x with group g typical)`` is how much group ``g`` pushes the
    customer's risk up. The two or three largest positive ones are the reasons (an occlusion
    explanation, cf. Zeiler and Fergus 2014; with one group at a time it is cheap and exact
    for the model, unlike sampling Shapley values). :func:`reason_text` words them in English
    or Korean with the customer's own numbers.

    A positive push alone is not enough: trees also raise the risk of customers whose values
    argue *against* it (a P(alive) of 100%, more orders lately than before, 104 orders so far:
    interactions, or a typical customer who is safer still). Such a sentence would contradict
    its own number, so a group is a reason only when the customer's quoted value is on the
    risky side of the typical customer's (:func:`reason_holds`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from workbench.churn.features import FEATURE_GROUPS, feature_group
from workbench.churn.model import ChurnModel
from workbench.i18n import format_number, format_percent, tr

__all__ = ["REASONS", "REASON_FEATURES", "permutation_table", "reason_holds", "reason_text",
           "reasons_text", "top_reasons"]

#: Reason keys, one per feature group (``churn.reason_text.<key>`` in the locale catalog).
REASONS = tuple(FEATURE_GROUPS)
#: Smallest log-odds push that counts as a reason.
MIN_PUSH = 0.05
#: The feature values :func:`reason_text` quotes: what a list of at-risk customers keeps so
#: that their reasons can be worded where they are shown.
REASON_FEATURES = ("recency_days", "gap_overdue", "cycle_overdue", "orders_90d", "orders_180d",
                   "orders", "days_since_visit", "days_since_view", "abandoned_carts_90d",
                   "messages_sent", "messages_opened", "p_alive")


def permutation_table(model: ChurnModel, X: pd.DataFrame, y: Any, *, rows: int = 5_000,
                      repeats: int = 3, seed: int = 0) -> pd.DataFrame:
    """Return ``feature``, ``group``, ``importance`` and ``std`` (ROC AUC drop), largest first."""
    y = np.asarray(y, dtype=int)
    if len(X) > rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
        X, y = X.iloc[pick], y[pick]
    M = model.feature_matrix(X, "permutation_table")
    if len(np.unique(y)) < 2:
        return pd.DataFrame(columns=["feature", "group", "importance", "std"])
    result = permutation_importance(model.pipeline_, M, y, scoring="roc_auc",
                                    n_repeats=repeats, random_state=seed, n_jobs=1)
    out = pd.DataFrame({"feature": model.used_features_, "importance": result.importances_mean,
                        "std": result.importances_std})
    out["group"] = out["feature"].map(feature_group)
    return out.sort_values("importance", ascending=False, kind="stable").reset_index(
        drop=True).loc[:, ["feature", "group", "importance", "std"]]


def group_pushes(model: ChurnModel, X: pd.DataFrame) -> pd.DataFrame:
    """Return per row and group the log-odds the group adds over a typical customer's values."""
    M = model.feature_matrix(X, "group_pushes")
    base = model.decision_matrix(M)
    pushes = {}
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(model.used_features_):
        groups.setdefault(feature_group(f), []).append(j)
    for group, cols in groups.items():
        typical = M.copy(order="F")
        for j in cols:
            ref = model.reference_.get(model.used_features_[j])
            typical[:, j] = np.nan if ref is None else ref
        pushes[group] = base - model.decision_matrix(typical)
    return pd.DataFrame(pushes, index=X.index)


def _held_pushes(model: ChurnModel, X: pd.DataFrame, holds: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return :func:`group_pushes` where the group's reason holds, ``-inf`` elsewhere.

    Only those rows are predicted again: a push where the reason does not hold is never
    shown. Predictions are row by row, so the pushes are those of :func:`group_pushes`; a
    band of 40k customers (100k sample, precision rule) is explained in a third of the time.
    """
    M = model.feature_matrix(X, "group_pushes")
    base = model.decision_matrix(M)
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(model.used_features_):
        groups.setdefault(feature_group(f), []).append(j)
    hold = holds.reindex(columns=list(groups), fill_value=False).to_numpy()
    values = np.full((len(X), len(groups)), -np.inf)
    for g, cols in enumerate(groups.values()):
        rows = np.flatnonzero(hold[:, g])
        if not len(rows):
            continue
        typical = np.asfortranarray(M[rows])
        for j in cols:
            ref = model.reference_.get(model.used_features_[j])
            typical[:, j] = np.nan if ref is None else ref
        values[rows, g] = base[rows] - model.decision_matrix(typical)
    return values, np.array(list(groups), dtype=object)


def reason_holds(X: pd.DataFrame, reference: dict[str, float | None]) -> pd.DataFrame:
    """Return per row and reason whether its sentence argues for risk with this row's numbers.

    ``reference`` is the typical customer (:attr:`ChurnModel.reference_`). Each reason's words
    must be true and point towards churn: longer without an order, a visit or a product view
    than typical (or none in the event window); past the usual gap (ratio above 1); fewer
    orders in the last 90 days than in the 90 before; fewer orders so far than typical; an
    abandoned cart, or no cart at all; opened a smaller share of messages than typical; no
    consent on some channel; P(alive) below both the typical customer's and one half. The
    category mix has no number to contradict. A missing feature never holds.

    >>> ref = {"orders": 3.0, "p_alive": 0.9}
    >>> X = pd.DataFrame({"orders": [1.0, 104.0], "p_alive": [0.2, 1.0]})
    >>> reason_holds(X, ref)[["few_orders", "low_p_alive"]].to_numpy().tolist()
    [[True, True], [False, False]]
    """
    def col(name: str) -> np.ndarray:
        return (X[name].to_numpy(dtype=float, na_value=np.nan) if name in X
                else np.full(len(X), np.nan))

    def ref(name: str) -> float:
        value = reference.get(name)
        return np.nan if value is None else float(value)

    ratio = col("gap_overdue")
    ratio = np.where(np.isnan(ratio), col("cycle_overdue"), ratio)
    recent, half_year = col("orders_90d"), col("orders_180d")
    sent, opened = col("messages_sent"), col("messages_opened")
    ref_rate = ref("messages_opened") / ref("messages_sent") if ref("messages_sent") > 0 else 1.0
    carts, abandoned = col("carts_90d"), col("abandoned_carts_90d")
    consent = [col(c) for c in ("sms_opt_in", "email_opt_in", "push_opt_in") if c in X]
    with np.errstate(invalid="ignore", divide="ignore"):
        holds = {
            "no_recent_order": col("recency_days") > ref("recency_days"),
            "overdue": ratio > 1,
            "slowing_down": recent < half_year - recent,
            "few_orders": col("orders") < ref("orders"),
            "no_visits": ("days_since_visit" in X) & (np.isnan(col("days_since_visit"))
                                                       | (col("days_since_visit")
                                                          > ref("days_since_visit"))),
            "no_browsing": ("days_since_view" in X) & (np.isnan(col("days_since_view"))
                                                        | (col("days_since_view")
                                                           > ref("days_since_view"))),
            "abandoned_carts": (abandoned > 0) | (("carts_90d" in X) & ((carts == 0)
                                                                        | np.isnan(carts))),
            "ignores_messages": (sent > 0) & (opened / sent < ref_rate),
            "no_consent": (np.any([c == 0 for c in consent], axis=0) if consent
                           else np.zeros(len(X), dtype=bool)),
            "category": np.ones(len(X), dtype=bool),
            "low_p_alive": col("p_alive") < min(ref("p_alive"), 0.5),
        }
    return pd.DataFrame({k: np.broadcast_to(np.asarray(v, dtype=bool), (len(X),))
                         for k, v in holds.items()}, index=X.index)


def top_reasons(model: ChurnModel, X: pd.DataFrame, *, top: int = 3) -> pd.Series:
    """Return the top reason keys per row, ``;``-separated (empty when nothing stands out).

    A group is a reason when it pushes the log-odds up by at least :data:`MIN_PUSH` and its
    sentence holds for the row (:func:`reason_holds`): a reason never argues against the risk
    it explains.
    """
    if len(X) == 0:
        return pd.Series([], index=X.index, dtype="object", name="churn_reasons")
    values, names = _held_pushes(model, X, reason_holds(X, model.reference_))
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(values, order, axis=1) >= MIN_PUSH
    keys = names[order]
    text = [";".join(k[m]) for k, m in zip(keys, picked, strict=True)]
    return pd.Series(text, index=X.index, dtype="object", name="churn_reasons")


def _num(value: Any, language: str, digits: int = 0) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return format_number(float(value), digits=digits, language=language)


def reason_text(key: str, values: dict[str, Any], language: str = "en") -> str:
    """Return one reason in plain words with the customer's numbers (``values``: their features).

    >>> reason_text("no_recent_order", {"recency_days": 134.4}, "en")
    'No order for 134 days'
    """
    v = values
    fields: dict[str, str | None] = {}
    if key == "no_recent_order":
        fields = {"days": _num(v.get("recency_days"), language)}
    elif key == "overdue":
        ratio = v.get("gap_overdue")
        if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
            ratio = v.get("cycle_overdue")
        fields = {"ratio": _num(ratio, language, 1)}
    elif key == "slowing_down":
        recent, older = v.get("orders_90d"), v.get("orders_180d")
        fields = {"recent": _num(recent, language),
                  "before": _num(None if recent is None or older is None else older - recent,
                                 language)}
    elif key == "few_orders":
        fields = {"orders": _num(v.get("orders"), language)}
    elif key == "no_visits":
        fields = {"days": _num(v.get("days_since_visit"), language)}
    elif key == "no_browsing":
        fields = {"days": _num(v.get("days_since_view"), language)}
    elif key == "abandoned_carts":
        count = v.get("abandoned_carts_90d")
        # The group can push risk up through *missing* cart activity too: then say that.
        fields = {"count": _num(count, language) if count and count > 0 else None}
    elif key == "ignores_messages":
        fields = {"sent": _num(v.get("messages_sent"), language),
                  "opened": _num(v.get("messages_opened"), language)}
    elif key == "low_p_alive":
        p = v.get("p_alive")
        fields = {"pct": None if p is None or (isinstance(p, float) and math.isnan(p))
                  else format_percent(float(p), digits=0, language=language)}
    if any(value is None for value in fields.values()):
        return tr(f"churn.reason_generic.{key}", language=language)
    return tr(f"churn.reason_text.{key}", language=language, **fields)


def reasons_text(keys: str, values: dict[str, Any], language: str = "en") -> str:
    """Return the ``;``-separated reason keys of one customer as a sentence list ("a · b")."""
    parts = [reason_text(k, values, language) for k in str(keys or "").split(";") if k]
    return " · ".join(parts) if parts else tr("churn.reason_none", language=language)
