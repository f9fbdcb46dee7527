"""Qini and uplift curves, their normalised areas, and the held-out evaluation of uplift models.

A ranking of customers is good for targeting when the customers it puts first respond most to
the message. With a randomized holdout this is measured on the ranking's top ``k``:

Qini curve (Radcliffe 2007 [1]_)
    ``Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k)``: the treated responders among the top ``k``
    minus the holdout responders scaled to the treated count, i.e. the incremental responders
    had the top ``k`` been messaged at the treated group's size.
Uplift curve (Devriendt et al. 2020 [2]_, eq. (7))
    ``U(k) = (Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) k``.

Customers with equal scores are one step of the curve (a tie is never split in an arbitrary
order), and the curves start at (0, 0). Their areas (trapezoids) are normalised as in [3]_: the
area between the curve and the straight line of random targeting, divided by that of the
perfect ranking (treated responders first, holdout responders last). Random targeting therefore
scores 0 (in expectation), the perfect ranking 1. :func:`qini_coefficient` is sklift's
``qini_auc_score(negative_effect=True)`` and :func:`auuc` its ``uplift_auc_score``; both are
checked against scikit-uplift 0.5.1 in ``tests/uplift/reference``. scikit-uplift itself is not
a dependency: its last release is from August 2022.

References
----------
.. [1] Radcliffe, N. J. (2007). Using control groups to target on predicted lift: building and
   assessing uplift models. Direct Marketing Analytics Journal 1, 14-21.
.. [2] Devriendt, F., Van Belle, J., Guns, T. and Verbeke, W. (2020). Learning to rank for
   uplift modeling. IEEE TKDE 34(10), 4888-4904.
.. [3] Maksim Shevchenko et al., scikit-uplift 0.5.1, ``sklift/metrics/metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn import ensure_model
from workbench.churn import score as churn_score
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.results import ResultMixin, Status
from workbench.settings import Settings, load_settings
from workbench.uplift.frame import CAMPAIGN_FEATURES, FEATURES, campaign_coupons, training_frame
from workbench.uplift.model import LEARNERS, UpliftModel

__all__ = ["EVALUATION_COLUMNS", "UpliftEvaluation", "auuc", "evaluate_uplift",
           "qini_coefficient", "qini_curve", "uplift_curve", "uplift_table"]

#: Columns of :attr:`UpliftEvaluation.table`.
EVALUATION_COLUMNS = ("ranking", "qini", "qini_low", "qini_high", "auuc", "uplift_top_20",
                      "uplift_top_50", "customers", "campaigns")


def _check(y: Any, score: Any, treated: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yy, ss, tt = (np.asarray(v, dtype=float) for v in (y, score, treated))
    if not (len(yy) == len(ss) == len(tt)):
        raise ParameterError(tr("uplift.error.lengths", x=len(ss), t=len(tt), y=len(yy)))
    for name, v in (("y", yy), ("treated", tt)):
        if not np.isin(v, (0.0, 1.0)).all():
            raise ParameterError(tr("uplift.error.binary", name=name))
    return yy, ss, tt


def _cumulative(y: Any, score: Any, treated: Any) -> tuple[np.ndarray, ...]:
    """Return ``k, N_t, Y_t, N_c, Y_c`` at each distinct score, highest scores first."""
    yy, ss, tt = _check(y, score, treated)
    order = np.argsort(-ss, kind="stable")
    ss, yy, tt = ss[order], yy[order], tt[order]
    # The last position of each run of equal scores: ties form one step of the curve.
    ends = np.append(np.flatnonzero(ss[1:] != ss[:-1]), len(ss) - 1)
    n_t = np.cumsum(tt)[ends]
    y_t = np.cumsum(yy * tt)[ends]
    y_c = np.cumsum(yy * (1 - tt))[ends]
    k = (ends + 1).astype(float)
    return k, n_t, y_t, k - n_t, y_c


def _from_origin(k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[0.0, k], np.r_[0.0, v]


def qini_curve(y: Any, score: Any, treated: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the Qini curve ``(k, Q(k))`` of ranking by ``score`` (highest first).

    Parameters
    ----------
    y
        Binary outcomes (1 = ordered in the window).
    score
        The ranking's scores (higher = target first).
    treated
        1 = messaged, 0 = holdout.

    Examples
    --------
    >>> k, q = qini_curve([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
    >>> k.tolist(), q.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 1.0, -1.0, 0.0])
    """
    k, n_t, y_t, n_c, y_c = _cumulative(y, score, treated)
    scaled = np.divide(y_c * n_t, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    return _from_origin(k, y_t - scaled)


def uplift_curve(y: Any, score: Any, treated: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the uplift curve ``(k, U(k))`` of ranking by ``score`` (see :func:`qini_curve`).

    Examples
    --------
    >>> k, u = uplift_curve([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])
    >>> u.tolist()
    [0.0, 1.0, 1.0, -1.5, 0.0]
    """
    k, n_t, y_t, n_c, y_c = _cumulative(y, score, treated)
    rate_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t > 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    return _from_origin(k, (rate_t - rate_c) * k)


def _normalised(curve: Any, y: Any, score: Any, treated: Any, perfect: np.ndarray) -> float:
    k, v = curve(y, score, treated)
    pk, pv = curve(y, perfect, treated)
    baseline = pk[-1] * pv[-1] / 2  # the straight line of random targeting
    best = np.trapezoid(pv, pk) - baseline
    if best == 0:
        return float("nan")
    return float((np.trapezoid(v, k) - baseline) / best)


def qini_coefficient(y: Any, score: Any, treated: Any) -> float:
    """Return the normalised area under the Qini curve (0: random targeting, 1: perfect).

    The perfect ranking puts treated responders first and holdout responders last.

    Examples
    --------
    >>> round(qini_coefficient([1, 0, 1, 0, 0, 1], [6, 5, 4, 3, 2, 1], [1, 1, 1, 0, 0, 0]), 4)
    0.8462
    """
    yy, _, tt = _check(y, score, treated)
    return _normalised(qini_curve, y, score, treated, perfect=yy * tt - yy * (1 - tt))


def auuc(y: Any, score: Any, treated: Any) -> float:
    """Return the normalised area under the uplift curve (0: random targeting, 1: perfect).

    The perfect ranking follows sklift: treated responders and holdout non-responders first,
    ordered by which group is larger.

    Examples
    --------
    >>> round(auuc([1, 0, 1, 0, 0, 1], [6, 5, 4, 3, 2, 1], [1, 1, 1, 0, 0, 0]), 4)
    0.6
    """
    yy, _, tt = _check(y, score, treated)
    holdout_responders = np.sum((yy == 1) & (tt == 0))
    treated_silent = np.sum((yy == 0) & (tt == 1))
    summand = yy if holdout_responders > treated_silent else tt
    return _normalised(uplift_curve, y, score, treated, perfect=2 * (yy == tt) + summand)


def _top_uplift(y: np.ndarray, score: np.ndarray, treated: np.ndarray, share: float) -> float:
    """Observed uplift (treated minus holdout conversion) among the top ``share`` by score."""
    top = np.argsort(-score, kind="stable")[: max(1, int(round(share * len(score))))]
    yt, tt = y[top], treated[top]
    if tt.sum() == 0 or tt.sum() == len(tt):
        return float("nan")
    return float(yt[tt == 1].mean() - yt[tt == 0].mean())


def _qini_interval(y: np.ndarray, score: np.ndarray, treated: np.ndarray, *, n_boot: int,
                   seed: int) -> tuple[float, float]:
    """Return a 95% percentile bootstrap interval of the Qini coefficient.

    Customers are resampled within each group: the groups' sizes are fixed by the design.
    """
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(treated == g) for g in (0, 1)]
    values = []
    for _ in range(n_boot):
        pick = np.concatenate([rng.choice(g, size=len(g)) for g in groups])
        values.append(qini_coefficient(y[pick], score[pick], treated[pick]))
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return float(low), float(high)


def uplift_table(y: Any, treated: Any, scores: dict[str, Any], *, campaigns: int = 1,
                 n_boot: int = 200, seed: int = 0) -> pd.DataFrame:
    """Return :data:`EVALUATION_COLUMNS`, one row per ranking in ``scores``.

    ``qini_low`` and ``qini_high`` bound a 95% bootstrap interval (``n_boot`` resamples of the
    customers within each group; 0: no interval). ``uplift_top_20`` and ``uplift_top_50`` are
    the observed uplift (treated minus holdout conversion) among the top 20% and 50%.
    ``random`` (targeting everyone, in no order) is the reference: its expected Qini and AUUC
    are 0 and its top shares have the overall uplift; it is added as the last row.

    Examples
    --------
    >>> t = uplift_table([1, 0, 1, 0, 0, 1], [1, 1, 1, 0, 0, 0], {"model": [6, 5, 4, 3, 2, 1]},
    ...                  n_boot=0)
    >>> t[["ranking", "qini", "auuc"]].round(4).values.tolist()
    [['model', 0.8462, 0.6], ['random', 0.0, 0.0]]
    """
    yy, _, tt = _check(y, np.zeros(len(np.asarray(y))), treated)
    rows = []
    for name, s in scores.items():
        ss = np.asarray(s, dtype=float)
        low, high = _qini_interval(yy, ss, tt, n_boot=n_boot, seed=seed)
        rows.append({"ranking": name, "qini": qini_coefficient(yy, ss, tt), "qini_low": low,
                     "qini_high": high, "auuc": auuc(yy, ss, tt),
                     "uplift_top_20": _top_uplift(yy, ss, tt, 0.2),
                     "uplift_top_50": _top_uplift(yy, ss, tt, 0.5)})
    overall = _top_uplift(yy, np.zeros(len(yy)), tt, 1.0)
    rows.append({"ranking": "random", "qini": 0.0, "qini_low": 0.0, "qini_high": 0.0,
                 "auuc": 0.0, "uplift_top_20": overall, "uplift_top_50": overall})
    frame = pd.DataFrame(rows)
    frame["customers"] = len(yy)
    frame["campaigns"] = int(campaigns)
    return frame.loc[:, list(EVALUATION_COLUMNS)]


@dataclass(frozen=True, slots=True)
class UpliftEvaluation(ResultMixin):
    """Qini and AUUC of uplift models and of churn risk on held-out campaigns.

    ``table`` has :data:`EVALUATION_COLUMNS`; ``train_campaigns`` and ``test_campaigns`` name
    the campaigns each side used (the test campaigns are the latest ones).
    """

    table: pd.DataFrame
    train_campaigns: tuple[str, ...] = ()
    test_campaigns: tuple[str, ...] = ()
    status: Status = Status.OK
    message: str = field(default="")

    def to_frame(self) -> pd.DataFrame:
        """Return the evaluation table."""
        return self.table.copy()


def _churn_risk(con: Any, frame: pd.DataFrame, *, settings: Settings, store: str | None,
                as_of: date) -> np.ndarray:
    """Churn risk of each test row as of its campaign's assignment day (the saved model)."""
    model = ensure_model(con, as_of, settings=settings, store=store)
    risk = pd.Series(np.nan, index=frame.index)
    if model is None:
        return risk.to_numpy()
    local = pd.to_datetime(frame["assigned_at"], utc=True).dt.tz_convert(settings.timezone)
    for day, rows in frame.groupby(local.dt.date, sort=True):
        scored = churn_score(con, day, model, settings=settings, explain=False)["churn_risk"]
        risk.loc[rows.index] = scored.reindex(rows["customer_id"]).to_numpy(float)
    return risk.to_numpy()


def evaluate_uplift(con: Any, *, as_of: date, settings: Settings | None = None,
                    store: str | None = None, test_campaigns: int = 0,
                    learners: Sequence[str] = LEARNERS, window_days: int = 14,
                    max_rows: int = 200_000, churn: bool = True,
                    n_boot: int = 200) -> UpliftEvaluation:
    """Train uplift models on earlier campaigns and evaluate their ranking on the latest ones.

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Campaigns whose attribution window ended before this day are used.
    settings, store
        Time zone; the store's path (where the saved churn model lives).
    test_campaigns
        How many of the latest campaigns are held out; 0: a quarter of them (at least one).
    learners
        Meta-learners to compare (:data:`~workbench.uplift.model.LEARNERS`).
    window_days
        Attribution window of the outcome.
    max_rows
        Training rows at most (see :func:`~workbench.uplift.frame.training_frame`).
    churn
        Add the ranking by churn risk: the saved churn model's ``churn_risk`` as of each held-out
        campaign's assignment day (:func:`workbench.churn.ensure_model`, trained if missing).
    n_boot
        Bootstrap resamples of the Qini coefficient's interval (0: none).

    Returns
    -------
    UpliftEvaluation
        ``TOO_LITTLE_DATA`` with fewer than two finished campaigns.
    """
    settings = settings or load_settings()
    bad = [x for x in learners if x not in LEARNERS]
    if bad or not learners:
        raise ParameterError(tr("uplift.error.learner", learners=list(LEARNERS),
                                got=repr(list(learners))))
    camps = campaign_coupons(con, window_days)
    frame = training_frame(con, as_of=as_of, settings=settings, window_days=window_days,
                           max_rows=max_rows, campaigns=camps)
    done = list(dict.fromkeys(frame["campaign_id"]))  # in assignment order
    if len(done) < 2:
        return UpliftEvaluation(pd.DataFrame(columns=list(EVALUATION_COLUMNS)),
                                status=Status.TOO_LITTLE_DATA,
                                message=tr("uplift.status.too_few", found=len(done), needed=2))
    n_test = int(test_campaigns) or max(1, len(done) // 4)
    n_test = min(max(n_test, 1), len(done) - 1)
    test_ids = done[-n_test:]
    is_test = frame["campaign_id"].isin(test_ids)
    train, test = frame[~is_test], frame[is_test].reset_index(drop=True)
    X_cols = [*FEATURES, *CAMPAIGN_FEATURES]
    scores: dict[str, np.ndarray] = {}
    for learner in learners:
        model = UpliftModel(learner=learner).fit(train[X_cols], train["treated"],
                                                 train["converted"])
        scores[f"uplift_{learner}"] = model.predict_uplift(test[X_cols]).to_numpy()
    if churn:
        risk = _churn_risk(con, test, settings=settings, store=store, as_of=as_of)
        # Customers the churn model cannot score (no order before the day) come last.
        scores["churn_risk"] = np.nan_to_num(risk, nan=-1.0)
    table = uplift_table(test["converted"], test["treated"], scores, campaigns=n_test,
                         n_boot=n_boot)
    return UpliftEvaluation(table, tuple(done[:-n_test]), tuple(test_ids))
