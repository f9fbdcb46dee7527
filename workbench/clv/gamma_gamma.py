"""Gamma-Gamma model of average transaction value (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

A customer's transaction values are ``Gamma(p, nu)``; across customers ``nu ~ Gamma(q,
gamma)``. For a customer with ``x`` repeat transactions of mean value ``m`` the marginal
density of ``m`` is (eq. (3) of [1]_)::

    f(m | p, q, gamma; x) = G(px+q) / (G(px) G(q)) gamma^q m^(px-1) x^(px)
                            / (gamma + m x)^(px+q),

and the expected average transaction value of that customer (eq. (5) of [1]_)::

    E[M | p, q, gamma, m, x] = p (gamma + m x) / (p x + q - 1),

a weighted average of the population mean ``p gamma / (q - 1)`` and the customer's own mean.
Only customers with ``x >= 1`` and ``m > 0`` enter the fit; predictions for one-time buyers
are the population mean.

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value",
   http://brucehardie.com/notes/025/.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
   Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from workbench.clv._base import (
    FittedModel,
    check_penalizer,
    check_summary,
    collapse,
    minimise,
    single_blas,
)
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["GammaGamma"]

logger = logging.getLogger(__name__)

_COLUMNS = ("frequency", "monetary_value")


@dataclass(frozen=True, slots=True)
class _Data:
    """Repeat buyers arranged for the likelihood: x-only terms on distinct frequencies."""

    ux: np.ndarray  # distinct frequencies and their total weight
    wx: np.ndarray
    w: np.ndarray  # per pattern: weight, frequency and m x
    x: np.ndarray
    mx: np.ndarray
    sum_w: float
    sum_log_m: float  # sum w ln m
    sum_x_log_m: float  # sum w x ln m

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> _Data:
        ux, ix = np.unique(x, return_inverse=True)
        log_m = np.log(m)
        return cls(ux, np.bincount(ix, weights=w, minlength=len(ux)), w, x, m * x,
                   float(w.sum()), float(w @ log_m), float((w * x) @ log_m))


def _negloglik(theta: np.ndarray, d: _Data, want_grad: bool = True
               ) -> tuple[float, np.ndarray | None]:
    """Return the total negative log-likelihood of eq. (3) and its log-parameter gradient."""
    p, q, g = theta
    pux = p * d.ux
    log_ux = np.log(d.ux)
    log_gmx = np.log(g + d.mx)
    ll = (float(d.wx @ (special.gammaln(pux + q) - special.gammaln(pux) + pux * log_ux))
          + d.sum_w * (q * np.log(g) - special.gammaln(q))
          + p * d.sum_x_log_m - d.sum_log_m - float((d.w * (p * d.x + q)) @ log_gmx))
    if not want_grad:
        return -ll, None
    psi = special.digamma(pux + q)
    g_p = float(d.wx @ (d.ux * (psi - special.digamma(pux) + log_ux))) + d.sum_x_log_m \
        - float((d.w * d.x) @ log_gmx)
    g_q = float(d.wx @ psi) - d.sum_w * (special.digamma(q) - np.log(g)) \
        - float(d.w @ log_gmx)
    g_g = d.sum_w * q / g - float((d.w * (p * d.x + q)) @ (1.0 / (g + d.mx)))
    return -ll, -np.array([g_p * p, g_q * q, g_g * g])


class GammaGamma(FittedModel):
    """Gamma-Gamma spend model fitted by maximum likelihood on repeat buyers.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * sum(theta**2)`` added to the mean negative log-likelihood.

    Attributes
    ----------
    params_ : dict
        ``p, q, gamma``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_,
    convergence_message_, fit_report_
        As for :class:`~workbench.clv.BetaGeo`.
    correlation_ : float
        Correlation of frequency and monetary value among repeat buyers; the model assumes
        they are independent (a warning is logged when ``|corr| > 0.3``).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"frequency": [1, 2, 3, 1, 4, 2, 0],
    ...                         "monetary_value": [20., 35, 28, 50, 22, 40, 0]})
    >>> model = GammaGamma().fit(summary)
    >>> bool((model.expected_spend(summary) > 0).all())
    True
    """

    _param_names = ("p", "q", "gamma")

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @single_blas
    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        """Fit ``p, q, gamma`` on the customers with ``frequency > 0`` and ``monetary_value > 0``.

        Returns
        -------
        GammaGamma
            ``self``, fitted.
        """
        pen = check_penalizer(self.penalizer, "GammaGamma.fit")
        data = check_summary(summary, _COLUMNS, "GammaGamma.fit")
        keep = (data["frequency"] > 0) & (data["monetary_value"] > 0)
        if int(keep.sum()) < 3:
            raise ParameterError(tr("clv.fit.few_spenders", got=int(keep.sum())))
        used = data[keep]
        pat = collapse(used["frequency"].to_numpy(), used["monetary_value"].to_numpy())
        x, m = pat.columns
        w = pat.weight
        n = float(w.sum())
        scale = float(w @ m) / n

        data_ = _Data.build(x, m, w)

        def total(logp: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(logp)
            value, grad = _negloglik(theta, data_)
            # The penalty acts on gamma relative to the spend scale so it does not depend on
            # the currency (a KRW gamma is ~1000x a USD one).
            th = theta / np.array([1.0, 1.0, scale])
            return value + n * pen * float(th @ th), grad + n * pen * 2 * th * th

        def mean(logp: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = total(logp)
            return value / n, grad / n

        # Deterministic start: p = 2, q = 3 and gamma matching the mean spend p gamma/(q-1).
        x0 = np.log([2.0, 3.0, scale])
        logp, report = minimise(mean, x0, n_customers=int(round(n)), n_patterns=len(x))
        self._set_fit(logp, report, total, int(round(n)))
        self.log_likelihood_ = -_negloglik(np.exp(logp), data_, want_grad=False)[0]
        self.correlation_ = float(np.corrcoef(used["frequency"], used["monetary_value"])[0, 1]) \
            if used["frequency"].nunique() > 1 else 0.0
        if abs(self.correlation_) > 0.3:
            logger.warning("GammaGamma: frequency and spend are correlated (%.2f); the model "
                           "assumes they are independent, so expected spend is biased.",
                           self.correlation_)
        return self

    @property
    def population_mean_(self) -> float:
        """Mean transaction value of the population, ``p gamma / (q - 1)`` (inf if q <= 1)."""
        self._check_fitted("population_mean_")
        p, q, g = (self.params_[k] for k in self._param_names)
        return p * g / (q - 1) if q > 1 else float("inf")

    @single_blas
    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """Return the expected average transaction value per customer, eq. (5) of [1]_.

        One-time buyers (``frequency == 0``) get the population mean.
        """
        self._check_fitted("expected_spend")
        data = check_summary(summary, _COLUMNS, "GammaGamma.expected_spend")
        p, q, g = (self.params_[k] for k in self._param_names)
        x = data["frequency"].to_numpy()
        m = np.where(x > 0, data["monetary_value"].to_numpy(), 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(denom > 0, p * (g + m * x) / denom, np.inf)
        return pd.Series(values, index=summary.index, name="expected_spend")
