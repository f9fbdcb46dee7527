"""Meta-learners of a message's effect on each customer: T- and X-learner on gradient boosting.

The effect (uplift) of a message on customer ``x`` is
``tau(x) = P(order in the window | x, messaged) - P(order in the window | x, not messaged)``.
Past campaigns' randomized assignments identify it: treated and holdout customers differ only
by the message.

T-learner (eq. (1)-(2) of [1]_)
    One classifier per group, ``mu1`` on the treated and ``mu0`` on the holdout;
    ``tau(x) = mu1(x) - mu0(x)``.
X-learner (eq. (3)-(6) of [1]_)
    The T-learner's models impute each customer's individual effect, ``D1 = y - mu0(x)`` for the
    treated and ``D0 = mu1(x) - y`` for the holdout; a regressor per group learns ``tau1`` from
    ``D1`` and ``tau0`` from ``D0``, and ``tau(x) = g tau0(x) + (1 - g) tau1(x)``.

The weight ``g``
    [1]_ suggests the propensity score, and notes that ``g`` may lean on one side when one group
    is much larger than the other. Here each side is weighted by its own group's share of the
    rows, ``g = 1 - e`` with ``e`` the treated share (assignment is random, so ``e`` is a
    constant): ``tau0`` is fitted on the holdout alone (10% of each campaign), ``tau1`` on the
    nine times larger treated group; with a 50% holdout both count alike. Measured on the
    30,000-customer sample (33 campaigns to train, the last 11 held out; Spearman correlation
    with the generator's true uplift, then the held-out Qini coefficient): ``tau1`` alone 0.45
    and 0.017, ``tau0`` alone -0.35 and -0.007, ``g = e`` -0.31 and -0.005, ``g = 1 - e``
    0.40 and 0.012; the T-learner 0.11 and -0.005.

Capacity
    The effect is a few percentage points against outcomes of 0 or 1, so the trees are small
    (50 rounds of 7 leaves, leaves of at least 300 rows). With 100 rounds of 15 leaves and
    leaves of 100 rows the X-learner fell to 0.26 and -0.007 (same sample). Missing values are
    handled natively (a customer without orders has no recency).

References
----------
.. [1] Künzel, S. R., Sekhon, J. S., Bickel, P. J. and Yu, B. (2019). Metalearners for
   estimating heterogeneous treatment effects using machine learning. PNAS 116(10),
   4156-4165.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import ThreadpoolController

from workbench.errors import NotFittedError, ParameterError
from workbench.i18n import tr

__all__ = ["LEARNERS", "UpliftModel"]

#: The meta-learners :class:`UpliftModel` offers.
LEARNERS = ("t", "x")
#: OpenMP's threads wait for each other on every split, so on a shared machine the trees are
#: faster on one thread: 8k-customer sample, two cores: 0.6 s instead of 3.6 s for the
#: T-learner; 100k training rows on two busy cores (load 12): 20 s instead of 155 s for the
#: X-learner. The fit runs in the nightly refresh beside other work, so it always uses one.
_controller: list[ThreadpoolController] = []


def _one_thread() -> Any:
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="openmp")


class UpliftModel(BaseEstimator):
    """Estimate each customer's uplift of P(order in the window) from a message.

    Parameters
    ----------
    learner
        ``"t"`` (two models) or ``"x"`` (X-learner), see the module docstring.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Settings of every gradient-boosting model.
    random_state
        Seed of the boosting's bin subsample.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.random(4000)})
    >>> t = rng.integers(0, 2, 4000)
    >>> y = (rng.random(4000) < 0.1 + 0.3 * t * X["x"]).astype(int)
    >>> model = UpliftModel(learner="t", max_iter=30).fit(X, t, y)
    >>> s = model.predict_uplift(pd.DataFrame({"x": [0.05, 0.95]}))
    >>> bool(s.iloc[1] > s.iloc[0] + 0.1)
    True
    """

    def __init__(self, *, learner: str = "x", max_iter: int = 50, learning_rate: float = 0.05,
                 max_leaf_nodes: int = 7, min_samples_leaf: int = 300,
                 l2_regularization: float = 1.0, random_state: int = 0) -> None:
        self.learner = learner
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _boost(self, kind: type, n: int) -> Any:
        # Small groups (a holdout of a few hundred) get leaves of at most a tenth of the rows.
        leaf = int(max(10, min(self.min_samples_leaf, n // 10)))
        return kind(max_iter=self.max_iter, learning_rate=self.learning_rate,
                    max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=leaf,
                    l2_regularization=self.l2_regularization, early_stopping=False,
                    random_state=self.random_state)

    def fit(self, X: pd.DataFrame, treated: Any, y: Any) -> UpliftModel:
        """Fit on features ``X``, treatment flags (1 = messaged) and binary outcomes ``y``.

        Raises
        ------
        ParameterError
            ``learner`` is unknown, the lengths differ, or a group (treated or holdout) or an
            outcome class is missing.
        """
        if self.learner not in LEARNERS:
            raise ParameterError(tr("uplift.error.learner", learners=list(LEARNERS),
                                    got=repr(self.learner)))
        t = np.asarray(treated, dtype=int)
        yy = np.asarray(y, dtype=int)
        if not (len(X) == len(t) == len(yy)):
            raise ParameterError(tr("uplift.error.lengths", x=len(X), t=len(t), y=len(yy)))
        for group in (0, 1):
            if len(np.unique(yy[t == group])) < 2:
                raise ParameterError(tr("uplift.error.group", group=group,
                                        n=int((t == group).sum())))
        M = X.to_numpy(dtype=float)
        # A column without a single value (no clicks yet in the training campaigns) carries
        # nothing, and the trees' binning cannot handle it.
        known = ~np.isnan(M).all(axis=0)
        self.features_ = [str(c) for c, k in zip(X.columns, known, strict=True) if k]
        M = M[:, known]
        with _one_thread():
            self._fit(M, t, yy)
        return self

    def _fit(self, M: np.ndarray, t: np.ndarray, yy: np.ndarray) -> None:
        m0, m1 = M[t == 0], M[t == 1]
        self.mu0_ = self._boost(HistGradientBoostingClassifier, len(m0)).fit(m0, yy[t == 0])
        self.mu1_ = self._boost(HistGradientBoostingClassifier, len(m1)).fit(m1, yy[t == 1])
        self.propensity_ = float(t.mean())
        if self.learner == "x":
            d1 = yy[t == 1] - self.mu0_.predict_proba(m1)[:, 1]
            d0 = self.mu1_.predict_proba(m0)[:, 1] - yy[t == 0]
            self.tau0_ = self._boost(HistGradientBoostingRegressor, len(m0)).fit(m0, d0)
            self.tau1_ = self._boost(HistGradientBoostingRegressor, len(m1)).fit(m1, d1)

    def predict_uplift(self, X: pd.DataFrame) -> pd.Series:
        """Return the estimated uplift of each row of ``X`` (a Series named ``uplift_score``)."""
        if not hasattr(self, "mu1_"):
            raise NotFittedError(tr("uplift.error.not_fitted"))
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise ParameterError(tr("uplift.error.features", missing=missing))
        M = X.loc[:, self.features_].to_numpy(dtype=float)
        with _one_thread():
            if self.learner == "t":
                tau = self.mu1_.predict_proba(M)[:, 1] - self.mu0_.predict_proba(M)[:, 1]
            else:
                g = 1.0 - self.propensity_  # each side weighted by its group's share
                tau = g * self.tau0_.predict(M) + (1 - g) * self.tau1_.predict(M)
        return pd.Series(tau, index=X.index, name="uplift_score")
