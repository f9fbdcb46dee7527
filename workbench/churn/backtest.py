"""Backtests over consecutive cutoffs: discrimination, calibration, lift, against baselines.

For every evaluation cutoff ``e`` the model is trained exactly as it would have been on that
day: trees on the cutoff ``e - 2W`` (labels in ``[e - 2W, e - W)``), calibration on ``e - W``
(labels in ``[e - W, e)``), where ``W`` is the longest label window; then it scores the
customers active before ``e`` and is compared with what happened in ``[e, e + W)``. Every label
it learns from is over before ``e``. Beside it, the baselines: days since the last order and
``1 - P(alive)`` of BG/NBD fitted at ``e``; and, on the synthetic sample, the generator's true
churn probability given each customer's latent state (the ceiling, :func:`true_churn_probability`).

Metrics (:func:`score_metrics`): ROC AUC, PR AUC (average precision), Brier score, expected
calibration error, and the lift and capture rate of the top 10% and 20%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from workbench.churn.definition import ChurnDefinition
from workbench.churn.explain import permutation_table
from workbench.churn.features import categories_for
from workbench.churn.labels import data_end, labelled_frame
from workbench.churn.model import ChurnModel, fit_slices, too_little_data
from workbench.dates import midnight
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

__all__ = ["BACKTEST_COLUMNS", "Backtest", "backtest", "backtest_cutoffs",
           "expected_calibration_error", "lift_capture", "reliability_curve", "score_metrics",
           "true_churn_probability"]

#: Scorers compared in a backtest, in display order.
SCORERS = ("model", "days_since_last_order", "p_alive", "bgnbd_p_no_order", "truth")
#: The baselines the model must beat (the brief's two; ``bgnbd_p_no_order`` is reported too).
BASELINES = ("days_since_last_order", "p_alive")
METRICS = ("roc_auc", "pr_auc", "brier", "ece", "lift_10", "capture_10", "lift_20",
           "capture_20")
BACKTEST_COLUMNS = ("cutoff", "scorer", "customers", "churn_rate", *METRICS)
RELIABILITY_COLUMNS = ("cutoff", "bin", "mean_predicted", "observed", "customers")


def expected_calibration_error(y: Any, p: Any, bins: int = 10) -> float:
    r"""Return the expected calibration error over ``bins`` equal-width probability bins.

    .. math:: \mathrm{ECE} = \sum_b \frac{n_b}{n} \left|\bar y_b - \bar p_b\right|

    (eq. (3) of Guo et al. 2017, after Naeini, Cooper and Hauskrecht 2015); a probability of
    exactly 1 falls in the last bin.

    >>> expected_calibration_error([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.4])
    0.25
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return math.nan
    b = np.minimum((p * bins).astype(int), bins - 1)
    sum_y = np.bincount(b, weights=y, minlength=bins)
    sum_p = np.bincount(b, weights=p, minlength=bins)
    return float(np.abs(sum_y - sum_p).sum() / len(y))


def reliability_curve(y: Any, p: Any, bins: int = 10) -> pd.DataFrame:
    """Return ``bin``, ``mean_predicted``, ``observed`` and ``customers`` per non-empty bin."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    b = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": b, "p": p, "y": y}).groupby("bin").agg(
        mean_predicted=("p", "mean"), observed=("y", "mean"), customers=("y", "size"))
    return frame.reset_index()


def lift_capture(y: Any, score: Any, share: float) -> tuple[float, float]:
    """Return (lift, capture) of the top ``share`` of customers by score.

    Capture is the share of all churners in the top group, lift its churn rate over the overall
    rate. Ties are broken by position (stable), so the group has exactly ``ceil(share * n)``.

    >>> lift_capture([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], 0.5)
    (1.0, 0.5)
    """
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    k = max(1, math.ceil(share * len(y)))
    top = np.argsort(-score, kind="stable")[:k]
    rate, total = y.mean(), y.sum()
    if total == 0:
        return math.nan, math.nan
    return float(y[top].mean() / rate), float(y[top].sum() / total)


def score_metrics(y: Any, score: Any, *, probability: bool = True) -> dict[str, float]:
    """Return :data:`METRICS` of a score; Brier and ECE only when it is a probability."""
    y, score = np.asarray(y, dtype=int), np.asarray(score, dtype=float)
    ok = ~np.isnan(score)
    y, score = y[ok], score[ok]
    out = dict.fromkeys(METRICS, math.nan)
    if len(np.unique(y)) < 2:
        return out
    out["roc_auc"] = float(roc_auc_score(y, score))
    out["pr_auc"] = float(average_precision_score(y, score))
    if probability:
        out["brier"] = float(brier_score_loss(y, score))
        out["ece"] = expected_calibration_error(y, score)
    for pct in (10, 20):
        out[f"lift_{pct}"], out[f"capture_{pct}"] = lift_capture(y, score, pct / 100)
    return out


def backtest_cutoffs(end: date, definition: ChurnDefinition, *, n: int = 3,
                     step_days: int = 28) -> list[date]:
    """Return ``n`` consecutive evaluation cutoffs ``step_days`` apart.

    The last one's labels end by ``end`` (exclusive).

    >>> backtest_cutoffs(date(2026, 11, 16), ChurnDefinition(), n=3, step_days=28)
    [datetime.date(2026, 6, 23), datetime.date(2026, 7, 21), datetime.date(2026, 8, 18)]
    """
    if n < 1 or step_days < 1:
        raise ParameterError(tr("churn.backtest.cutoffs", n=repr(n), step_days=repr(step_days)))
    last = end - timedelta(days=definition.longest_window)
    return [last - timedelta(days=step_days * k) for k in range(n - 1, -1, -1)]


def true_churn_probability(con: Any, cutoff: date, *, horizon_days: int = 90,
                           settings: Settings | None = None) -> pd.Series | None:
    """Return the generator's P(no order in ``horizon_days`` after ``cutoff``) per customer.

    From ``truth_customers`` (synthetic stores only; ``None`` otherwise), using each customer's
    latent state *at the cutoff*: dropped out before it (``dropout_at`` earlier) gives 1; a
    BG/NBD customer still alive has ``exp(-lambda t)`` (dropout only follows a purchase, so
    none happens before the window's first order); a replenisher still alive has
    ``S(a + t) / S(a)`` for a gamma gap (shape ``replenish_shape``, mean ``1 / rate``) of age
    ``a`` (days since their last order). This is what :func:`workbench.data.sample` computes at
    the sample's end (``churn_prob_90d``), moved to an earlier cutoff.
    """
    settings = settings or load_settings()
    if "truth_customers" not in con.list_tables():
        return None
    tz = settings.timezone
    end = midnight(cutoff, tz)
    truth = con.table("truth_customers")
    orders = con.table("orders")
    last = orders.filter(orders.customer_id.notnull(), orders.ordered_at < end).group_by(
        "customer_id").aggregate(last_at=orders.ordered_at.max())
    t = truth.join(last, "customer_id").select(
        "customer_id", "purchase_process", "purchase_rate", "dropout_at", "last_at")
    frame = t.to_pyarrow().to_pandas().set_index("customer_id")
    if frame.empty:  # the table exists (every store has the contract's tables) but is empty
        return None
    shape = 8.0
    if "truth_parameters" in con.list_tables():
        params = con.table("truth_parameters").to_pyarrow().to_pandas()
        found = params.loc[params["parameter"] == "replenish_shape", "value"]
        shape = float(found.iloc[0]) if len(found) else shape
    cut = pd.Timestamp(cutoff).tz_localize(tz)
    alive = frame["dropout_at"].isna() | (frame["dropout_at"] >= cut)
    rate = frame["purchase_rate"].to_numpy(float)
    days = float(horizon_days)
    p = np.exp(-rate * days)
    ren = (frame["purchase_process"] == "replenish").to_numpy()
    age = ((cut - frame["last_at"]).dt.total_seconds() / 86_400).to_numpy(float)
    theta = np.where(ren, 1 / np.where(rate > 0, rate, 1.0) / shape, 1.0)
    s_now = special.gammaincc(shape, age / theta)
    s_later = special.gammaincc(shape, (age + days) / theta)
    tail = s_now < 1e-300
    ren_p = np.where(tail, np.exp(-days / theta), s_later / np.where(tail, 1.0, s_now))
    p = np.where(ren, ren_p, p)
    p = np.where(alive.to_numpy(), p, 1.0)
    return pd.Series(p, index=frame.index, name="truth")


def expected_auc(p: Any, draws: int = 20, seed: int = 0) -> float:
    """Return the mean ROC AUC of ``p`` against labels drawn as Bernoulli(``p``).

    The ceiling where no outcome is observed yet (the sample's end): what the true churn
    probability would score, on average, against outcomes it generates.
    """
    p = np.asarray(p, dtype=float)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(draws):
        y = rng.random(len(p)) < p
        if 0 < y.sum() < len(y):
            aucs.append(roc_auc_score(y, p))
    return float(np.mean(aucs)) if aucs else math.nan


@dataclass(frozen=True, slots=True, eq=False)
class Backtest:
    """What :func:`backtest` measured.

    ``metrics`` has :data:`BACKTEST_COLUMNS` (one row per cutoff and scorer; ``truth`` only on
    synthetic stores), ``reliability`` the model's reliability curve per cutoff, and
    ``importance`` the permutation importance of the last cutoff's model.
    """

    cutoffs: tuple[date, ...]
    definition: ChurnDefinition
    metrics: pd.DataFrame
    reliability: pd.DataFrame
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    models: tuple[ChurnModel, ...] = ()

    def gaps(self) -> pd.DataFrame:
        """Return per cutoff the model's AUC margin over each baseline and the gap closed.

        ``gap_closed`` is ``(model - best baseline) / (ceiling - best baseline)`` (NaN without
        the truth), the best baseline being the best of days since the last order,
        ``1 - P(alive)`` and BG/NBD's P(no order in the window).
        """
        wide = self.metrics.pivot(index="cutoff", columns="scorer", values="roc_auc")
        out = pd.DataFrame(index=wide.index)
        out["model"] = wide["model"]
        best = pd.Series(-np.inf, index=wide.index)
        for base in (*BASELINES, "bgnbd_p_no_order"):
            if base in wide:
                out[f"margin_{base}"] = wide["model"] - wide[base]
                best = np.maximum(best, wide[base].fillna(-np.inf))
        out["best_baseline"] = best.replace(-np.inf, np.nan)
        out["ceiling"] = wide["truth"] if "truth" in wide else np.nan
        out["gap_closed"] = ((out["model"] - out["best_baseline"])
                             / (out["ceiling"] - out["best_baseline"]))
        return out.reset_index()


def backtest(con: Any, *, cutoffs: list[date] | None = None, n_cutoffs: int = 3,
             step_days: int = 28, definition: ChurnDefinition | None = None,
             settings: Settings | None = None, p_alive: bool = True,
             model_params: dict[str, Any] | None = None, importance: bool = True,
             keep_models: bool = False) -> Backtest:
    """Backtest the churn model on consecutive cutoffs (see the module docstring).

    Parameters
    ----------
    con
        Ibis backend of the store.
    cutoffs
        Evaluation cutoffs; default: :func:`backtest_cutoffs` ending at the store's data end.
    n_cutoffs, step_days
        Number and spacing of the default cutoffs.
    definition
        Churn definition (default: 90 days, fixed).
    settings
        Time zone; default: ``workbench.toml``.
    p_alive
        Use the BG/NBD ``p_alive`` as a feature and a baseline.
    model_params
        Keyword arguments of :class:`ChurnModel`.
    importance
        Also compute the permutation importance of the last cutoff's model.
    keep_models
        Keep the fitted models in the result.

    Raises
    ------
    TooLittleDataError
        The store has no orders, or a cutoff's training or calibration slice has too few
        customers to learn from (it starts about when the store's orders do).
    ParameterError
        A cutoff whose labels run past the store's last order.
    """
    settings = settings or load_settings()
    definition = definition or ChurnDefinition()
    w = definition.longest_window
    end = data_end(con, settings=settings)
    if end is None:
        raise too_little_data("churn.backtest.no_orders")
    cutoffs = sorted(cutoffs or backtest_cutoffs(end, definition, n=n_cutoffs,
                                                 step_days=step_days))
    # Adjacent cutoffs share slices (e.g. one's calibration cutoff is another's training one)
    # when the spacing divides the window; the category list is part of the key.
    cache: dict[tuple[date, tuple[str, ...]], pd.DataFrame] = {}

    def frame_at(cutoff: date, categories: tuple[str, ...]) -> pd.DataFrame:
        if (cutoff, categories) not in cache:
            cache[cutoff, categories] = labelled_frame(
                con, cutoff, definition=definition, settings=settings, categories=categories,
                p_alive=p_alive)
        return cache[cutoff, categories]

    rows, curves, models = [], [], []
    imp = pd.DataFrame()
    for e in cutoffs:
        train_at, cal_at = e - timedelta(days=2 * w), e - timedelta(days=w)
        cats = categories_for(con, train_at, settings=settings)
        train, cal, test = (frame_at(c, cats) for c in (train_at, cal_at, e))
        model = fit_slices(train, cal, cutoffs=(train_at.isoformat(), cal_at.isoformat()),
                           model_params=model_params)
        risk = model.predict_proba(test.drop(columns="churned"))
        y = test["churned"].to_numpy()
        scores = {"model": (risk.to_numpy(), True),
                  "days_since_last_order": (test["days_since_last_order"].to_numpy(), False)}
        if "p_alive" in test:
            scores["p_alive"] = (1 - test["p_alive"].to_numpy(), True)
            scores["bgnbd_p_no_order"] = (test["bgnbd_p_no_order"].to_numpy(), True)
        truth = (true_churn_probability(con, e, horizon_days=definition.horizon_days,
                                        settings=settings)
                 if definition.mode == "fixed" else None)
        if truth is not None:
            scores["truth"] = (truth.reindex(test.index).to_numpy(), True)
        for name, (score, is_prob) in scores.items():
            rows.append({"cutoff": e, "scorer": name, "customers": len(y),
                         "churn_rate": float(y.mean()),
                         **score_metrics(y, score, probability=is_prob)})
        curve = reliability_curve(y, risk.to_numpy())
        curve.insert(0, "cutoff", e)
        curves.append(curve)
        if keep_models:
            models.append(model)
        if importance and e == cutoffs[-1]:
            imp = permutation_table(model, test.drop(columns="churned"), test["churned"])
    return Backtest(cutoffs=tuple(cutoffs), definition=definition,
                    metrics=pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS)),
                    reliability=pd.concat(curves, ignore_index=True).loc[
                        :, list(RELIABILITY_COLUMNS)],
                    importance=imp, models=tuple(models))
