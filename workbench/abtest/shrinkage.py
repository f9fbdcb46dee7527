"""Random-effects pooling and empirical-Bayes shrinkage of per-segment effects.

Each segment's effect ``y_i`` (the arm minus the holdout in that segment) has sampling
variance ``v_i``. The normal-normal model [1] says ``y_i ~ N(theta_i, v_i)`` and
``theta_i ~ N(mu, tau^2)``: segments differ by a spread ``tau^2`` around a common effect
``mu``. :func:`random_effects` estimates ``tau^2`` by the method of moments of DerSimonian
and Laird ([2], eq. (8); ``dl``) or by Paule and Mandel's estimating equation ([3]; ``pm``,
the ``iterated`` method of ``statsmodels.stats.meta_analysis.combine_effects``), and ``mu``
as the weighted mean with weights ``1 / (v_i + tau^2)``.

:func:`shrink` returns each segment's posterior mean ``mu + (1 - S_i) (y_i - mu)`` with
``S_i = v_i / (v_i + tau^2)``: a segment measured precisely (small ``v_i``) keeps its own
estimate, a noisy one moves toward ``mu``. Its variance ``v_i (1 - S_i) + S_i^2 Var(mu)``
adds the uncertainty of ``mu`` to the conditional posterior variance ([1], section 3).

References
----------
[1] Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    JASA 78(381), 47-55.
[2] DerSimonian, R., Laird, N. (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials 7(3), 177-188.
[3] Paule, R. C., Mandel, J. (1982). Consensus values and weighting factors. Journal of
    Research of the National Bureau of Standards 87(5), 377-385.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["TAU_METHODS", "RandomEffects", "random_effects", "shrink"]

#: Estimators of the between-segment variance ``tau^2``.
TAU_METHODS = ("dl", "pm")


@dataclass(frozen=True, slots=True)
class RandomEffects:
    """The common effect ``mu`` (with its standard error) and the spread ``tau2``."""

    mu: float
    se_mu: float
    tau2: float
    q: float  # Cochran's Q (heterogeneity statistic)
    k: int
    method: str


def _arrays(effects: Sequence[float], variances: Sequence[float], func: str
            ) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    if y.shape != v.shape or y.ndim != 1 or not (np.all(np.isfinite(y))
                                                 and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ParameterError(tr("segments.error.effects", func=func,
                                got=f"{list(y)[:5]!r}, {list(v)[:5]!r}"))
    return y, v


def _pooled(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * y) / np.sum(w)), float(1.0 / np.sum(w))


def random_effects(effects: Sequence[float], variances: Sequence[float],
                   method: str = "dl") -> RandomEffects:
    """Return the random-effects mean and between-segment variance of ``effects``.

    Parameters
    ----------
    effects, variances
        One estimate per segment and its sampling variance (> 0).
    method
        ``dl`` (DerSimonian-Laird) or ``pm`` (Paule-Mandel); ``tau2`` is never negative.

    Returns
    -------
    RandomEffects

    Raises
    ------
    ParameterError
        For an unknown method, or effects and variances of different lengths, non-finite
        values or a variance that is not positive.

    Examples
    --------
    >>> r = random_effects([0.1, 0.2, 0.05, 0.3], [0.001, 0.002, 0.0015, 0.003])
    >>> round(r.tau2, 5), round(r.mu, 4)
    (0.008, 0.1563)
    """
    func = "random_effects"
    if method not in TAU_METHODS:
        raise ParameterError(tr("segments.error.method", func=func, choices=list(TAU_METHODS),
                                got=repr(method)))
    y, v = _arrays(effects, variances, func)
    k = y.size
    if k == 0:
        return RandomEffects(math.nan, math.nan, math.nan, math.nan, 0, method)
    w = 1.0 / v
    mu_fe = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mu_fe) ** 2))
    tau2 = 0.0
    if k > 1 and method == "dl":
        tau2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w * w) / np.sum(w)))
    elif k > 1 and q > k - 1:
        # Paule-Mandel: the generalised Q at tau2 equals its expectation k - 1. It decreases
        # in tau2, is above k - 1 at 0 here and tends to 0, so the root is bracketed by 0 and
        # a value where it has dropped below k - 1 (the spread of the effects bounds tau2).
        def excess(t: float) -> float:
            wt = 1.0 / (v + t)
            m = np.sum(wt * y) / np.sum(wt)
            return float(np.sum(wt * (y - m) ** 2) - (k - 1))

        high = float(np.var(y) * k + np.max(v))
        while excess(high) > 0:
            high *= 2
        tau2 = float(optimize.brentq(excess, 0.0, high, xtol=1e-14, rtol=1e-12))
    mu, var_mu = _pooled(y, v, tau2)
    return RandomEffects(mu, math.sqrt(var_mu), float(tau2), q, k, method)


def shrink(effects: Sequence[float], variances: Sequence[float], pooled: RandomEffects,
           alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return each segment's shrunk effect, its interval and its shrinkage factor.

    Parameters
    ----------
    effects, variances
        The raw estimates and their sampling variances (as given to :func:`random_effects`).
    pooled
        :func:`random_effects` of the same estimates.
    alpha
        The intervals are ``1 - alpha`` normal intervals of the posterior.

    Returns
    -------
    tuple of numpy.ndarray
        ``(shrunk, low, high, factor)``; ``factor`` is ``S_i = v_i / (v_i + tau^2)``, the
        share of the way to ``mu`` (1: all the way, when the segments do not differ).

    Examples
    --------
    >>> pooled = random_effects([0.0, 0.2], [0.01, 0.01])
    >>> est, low, high, factor = shrink([0.0, 0.2], [0.01, 0.01], pooled)
    >>> [round(float(x), 3) for x in est], [round(float(x), 3) for x in factor]
    ([0.05, 0.15], [0.5, 0.5])
    """
    y, v = _arrays(effects, variances, "shrink")
    factor = v / (v + pooled.tau2)
    est = pooled.mu + (1.0 - factor) * (y - pooled.mu)
    var = v * (1.0 - factor) + factor**2 * pooled.se_mu**2
    z = float(stats.norm.isf(alpha / 2))
    half = z * np.sqrt(var)
    return est, est - half, est + half, factor
