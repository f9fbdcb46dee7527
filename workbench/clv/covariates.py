"""BG/NBD and Gamma-Gamma with time-invariant customer covariates (Fader & Hardie 2007 [1]_).

BG/NBD ([2]_; :mod:`workbench.clv.bgnbd`) with covariates ``x_i`` (a row of numbers per customer,
such as dummies of the acquisition channel), following section 3 of [1]_: the scale of the
Gamma mixing distribution of the purchase rate and both shapes of the Beta mixing distribution
of the dropout probability depend on them::

    alpha_i = alpha0 exp(-gamma1' x_i),   a_i = a0 exp(gamma2' x_i),   b_i = b0 exp(gamma3' x_i).

A positive ``gamma1`` raises the mean purchase rate ``r / alpha_i``; the mean dropout
probability ``a_i / (a_i + b_i)`` rises with ``gamma2 - gamma3``. CLVTools ([4]_,
``bgnbd_staticcov``) constrains ``gamma2 = gamma3``; here they are free, as in [1]_. Given
``x_i`` the customer is a plain BG/NBD customer with parameters ``(r, alpha_i, a_i, b_i)``, so
the log-likelihood is eq. (6) of [2]_ summed over the distinct covariate rows, each evaluated
by the plain model's function (``workbench.clv.bgnbd._negloglik``, analytic gradient); the
chain rule gives the gradient in ``(log r, log alpha0, log a0, log b0, gamma1, gamma2,
gamma3)``. Predictions (P(alive), eq. (A.10); expected purchases, eq. (10); a new customer's,
eq. (9)) are those of the plain model with the customer's own parameters.

Gamma-Gamma ([3]_; :mod:`workbench.clv.gamma_gamma`) with covariates on the *scale* of the
spend heterogeneity: a customer's transaction values are ``Gamma(p, nu_i)`` and ``nu_i ~
Gamma(q, gamma_i)`` with ``gamma_i = gamma0 exp(delta' x_i)``, the same log-link on a mixing
distribution's scale as in [1]_. The expected transaction value of a new customer,
``p gamma_i / (q - 1)``, is then multiplied by ``exp(delta' x_i)``, and eq. (5) of [3]_ holds
with ``gamma_i``: ``E[M | m, x] = p (gamma_i + m x) / (p x + q - 1)``.

Both models are fitted like the plain ones (:mod:`workbench.clv._base`): maximum likelihood by
L-BFGS-B from the plain model's deterministic start (all coefficients 0), standard errors from
the observed information (natural scale for the positive parameters by the delta method,
coefficients on their own scale). With no covariates they *are* the plain models (the same
start, objective and optimiser path: equal estimates). With covariates the fit also fits the
plain model and records the likelihood-ratio test of "all coefficients are 0"
(:class:`LikelihoodRatio`; Wilks' chi-square with one degree of freedom per coefficient).

Covariates are meant to be categorical (dummies) or few-valued: the likelihood is evaluated
once per distinct covariate row, so more than :data:`MAX_GROUPS` distinct rows are refused
(bin a continuous covariate first).

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2007), "Incorporating Time-Invariant Covariates into
   the Pareto/NBD and BG/NBD Models", http://brucehardie.com/notes/019/.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your Customers the Easy
   Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
.. [3] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value",
   http://brucehardie.com/notes/025/.
.. [4] Bachmann, P., Meierer, M. and Naef, J., *CLVTools* (R package), ``src/bgnbd.cpp``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from workbench.clv import bgnbd, gamma_gamma
from workbench.clv._base import (
    FitReport,
    FittedModel,
    PurchaseEstimator,
    check_horizon,
    check_penalizer,
    check_summary,
    collapse,
    covariance,
    hessian_log,
    minimise,
    single_blas,
)
from workbench.data.schema import require_columns
from workbench.errors import ParameterError, SchemaError, WorkbenchWarning
from workbench.i18n import tr

__all__ = ["MAX_GROUPS", "BetaGeoCovariates", "GammaGammaCovariates", "LikelihoodRatio"]

logger = logging.getLogger(__name__)

#: Most distinct covariate rows a fit or prediction accepts.
MAX_GROUPS = 1000
_PURCHASE = ("frequency", "recency", "T")
_SPEND = ("frequency", "monetary_value")


@dataclass(frozen=True, slots=True)
class LikelihoodRatio:
    """Likelihood-ratio test of a model with covariates against the same model without them.

    ``statistic = 2 (log L_full - log L_plain)`` (0 when rounding makes it negative) is
    chi-square with ``df`` degrees of freedom under "every coefficient is 0" (Wilks 1938).

    Examples
    --------
    >>> test = LikelihoodRatio.from_fits(-1000.0, -1003.0, df=2)
    >>> round(test.statistic, 1), round(test.p_value, 4)
    (6.0, 0.0498)
    """

    statistic: float
    df: int
    p_value: float
    log_likelihood: float
    plain_log_likelihood: float

    @classmethod
    def from_fits(cls, full: float, plain: float, *, df: int) -> LikelihoodRatio:
        """Return the test from the two maximised log-likelihoods."""
        statistic = float(max(2.0 * (full - plain), 0.0))
        return cls(statistic, int(df), float(stats.chi2.sf(statistic, df)), float(full),
                   float(plain))


def _design(summary: pd.DataFrame, covariates: tuple[str, ...], where: str) -> np.ndarray:
    """Return the covariate columns of ``summary`` as an ``n x k`` float array (checked)."""
    if not covariates:
        return np.zeros((len(summary), 0))
    require_columns(summary.columns, covariates, owner=where)
    values = summary.loc[:, list(covariates)].to_numpy(dtype=float, na_value=np.nan)
    bad = [c for j, c in enumerate(covariates) if not np.isfinite(values[:, j]).all()]
    if bad:
        raise SchemaError(tr("clv.covariates.not_finite", where=where, columns=bad))
    return values


def _groups(X: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct covariate rows and each customer's row number in them."""
    if X.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(X), dtype=np.intp)
    pat = collapse(*X.T)
    rows = np.column_stack(pat.columns)
    if len(rows) > MAX_GROUPS:
        raise ParameterError(tr("clv.covariates.too_many_rows", where=where, got=len(rows),
                                most=MAX_GROUPS))
    return rows, pat.inverse


def _log_odds_dead(x: np.ndarray, tx: np.ndarray, T: np.ndarray, r: np.ndarray,
                   alpha: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return log P(dead)/P(alive) of eq. (A.10) of [2]_ elementwise (-inf when ``x == 0``)."""
    pos = x > 0
    with np.errstate(divide="ignore"):
        return np.where(pos, np.log(a) - np.log(np.where(pos, b + x - 1, 1.0))
                        + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)), -np.inf)


def _check_names(covariates: object, where: str) -> tuple[str, ...]:
    if isinstance(covariates, str) or not isinstance(covariates, Sequence) or not all(
            isinstance(c, str) and c for c in covariates) or len(set(covariates)) != len(
            covariates):
        raise ParameterError(tr("clv.covariates.names", where=where, got=repr(covariates)))
    return tuple(covariates)


class _CovariateFit:
    """Standard errors and reporting shared by the two models (mixed log / raw parameters)."""

    _base_names: tuple[str, ...] = ()

    def _set_mixed_fit(self, x: np.ndarray, report: FitReport, total: Callable,
                       n: int, names: list[str]) -> None:
        """Set estimates, standard errors, 95% intervals and covariance; warn if not converged.

        The first ``len(_base_names)`` entries of ``x`` are log-parameters (delta method, as
        :func:`workbench.clv._base.standard_errors`), the rest coefficients on their own scale.
        """
        k = len(self._base_names)
        is_log = np.arange(len(x)) < k
        hess = hessian_log(total, x)
        # Coefficients run out too: in a small group the Beta shapes a_i and b_i grow
        # together (one dropout probability for the group), gamma2 and gamma3 with them.
        cov = covariance(hess, x)
        with np.errstate(over="ignore"):
            estimate = np.where(is_log, np.exp(x), x)
            scale = np.where(is_log, estimate, 1.0)
            se_raw = np.sqrt(np.diag(cov))
            z = float(special.ndtri(0.975))
            lower, upper = x - z * se_raw, x + z * se_raw
            lower = np.where(is_log, np.exp(lower), lower)
            upper = np.where(is_log, np.exp(upper), upper)
            self.covariance_ = pd.DataFrame(cov * np.outer(scale, scale), index=names,
                                            columns=names)
        self.params_ = {name: float(v) for name, v in zip(names, estimate, strict=True)}
        self.standard_errors_ = pd.Series(scale * se_raw, index=names, name="standard_error")
        self.confidence_intervals_ = pd.DataFrame({"lower": lower, "upper": upper}, index=names)
        self.converged_ = report.converged
        self.fit_report_ = report
        self.convergence_message_ = report.message(f"{type(self).__name__}.fit")
        self.n_customers_ = n
        if not report.converged:
            warnings.warn(self.convergence_message_, WorkbenchWarning, stacklevel=4)
        logger.info("%s fitted on %d customers (%d patterns): %s", type(self).__name__, n,
                    report.n_patterns, self.convergence_message_)

    @property
    def coefficients_(self) -> pd.DataFrame:
        """Covariate coefficients with standard errors, Wald ``z`` and two-sided ``p_value``."""
        self._check_fitted("coefficients_")
        table = self.summary_.iloc[len(self._base_names):].copy()
        table["z"] = table["estimate"] / table["standard_error"]
        table["p_value"] = 2 * special.ndtr(-np.abs(table["z"]))
        return table


class BetaGeoCovariates(_CovariateFit, PurchaseEstimator):
    """BG/NBD with time-invariant covariates ([1]_ section 3), fitted by maximum likelihood.

    Parameters
    ----------
    covariates
        Names of numeric columns of the summary (dummies, 0/1 flags, few-valued numbers) that
        shift ``alpha``, ``a`` and ``b``; empty: the plain BG/NBD.
    penalizer
        L2 penalty on ``r, alpha0, a0, b0`` (as :class:`~workbench.clv.BetaGeo`) and on the
        coefficients, times the number of customers.
    check_data
        Refuse predictions when the data are too thin (:class:`~workbench.clv.BetaGeo`).

    Attributes
    ----------
    params_ : dict
        ``r, alpha, a, b`` (the baseline ``alpha0, a0, b0``: a customer with all covariates 0)
        and ``gamma1:<column>``, ``gamma2:<column>``, ``gamma3:<column>``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, fit_report_
        As for :class:`~workbench.clv.BetaGeo` (coefficients on their own scale).
    coefficients_ : pandas.DataFrame
        The coefficients with standard errors, Wald z and p-values.
    lr_test_ : LikelihoodRatio or None
        The covariates against the plain BG/NBD fitted on the same summary (None without
        covariates).
    plain_model_ : BetaGeo or None
        That plain fit (None without covariates).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1, 0, 3],
    ...                         "recency": [0, 10, 20, 0, 30, 5, 0, 25],
    ...                         "T": [40, 38, 35, 30, 40, 20, 12, 33],
    ...                         "web": [0, 1, 0, 1, 0, 1, 0, 1]})
    >>> model = BetaGeoCovariates(covariates=("web",), penalizer=0.001,
    ...                           check_data=False).fit(summary)  # 8 customers: penalised
    >>> list(model.params_)
    ['r', 'alpha', 'a', 'b', 'gamma1:web', 'gamma2:web', 'gamma3:web']
    """

    _base_names = ("r", "alpha", "a", "b")

    def __init__(self, *, covariates: Sequence[str] = (), penalizer: float = 0.0,
                 check_data: bool = True) -> None:
        self.covariates = covariates
        self.penalizer = penalizer
        self.check_data = check_data

    @single_blas
    def fit(self, summary: pd.DataFrame) -> BetaGeoCovariates:
        """Fit the baseline parameters and the coefficients to a summary with the covariates.

        Returns
        -------
        BetaGeoCovariates
            ``self``, fitted.
        """
        where = "BetaGeoCovariates.fit"
        names_x = _check_names(self.covariates, where)
        pen = check_penalizer(self.penalizer, where)
        data = check_summary(summary, _PURCHASE, where)
        X = _design(summary, names_x, where)
        rows, group = _groups(X, where)
        x, tx, T = (data[c].to_numpy() for c in _PURCHASE)
        if not (x > 0).any():
            raise ParameterError(tr("clv.fit.no_repeat", where=where))
        if (T <= 0).all():
            raise ParameterError(tr("clv.fit.no_time", where=where))
        parts, n_patterns, sums = [], 0, np.zeros(2)
        for g in range(len(rows)):
            member = group == g
            pat = collapse(x[member], tx[member], T[member])
            parts.append(bgnbd._Data.build(*pat.columns, pat.weight))
            n_patterns += len(pat.weight)
            sums += (pat.weight @ pat.columns[0], pat.weight @ pat.columns[2])
        n = float(len(x))
        k = X.shape[1]

        def total(params: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(params[:4])
            g1, g2, g3 = params[4:4 + k], params[4 + k:4 + 2 * k], params[4 + 2 * k:]
            value, grad = 0.0, np.zeros(len(params))
            for row, part in zip(rows, parts, strict=True):
                own = np.array([theta[0], theta[1] * np.exp(-(row @ g1)),
                                theta[2] * np.exp(row @ g2), theta[3] * np.exp(row @ g3)])
                v, gr = bgnbd._negloglik(own, part)
                value += v
                grad[:4] += gr
                grad[4:4 + k] -= gr[1] * row
                grad[4 + k:4 + 2 * k] += gr[2] * row
                grad[4 + 2 * k:] += gr[3] * row
            coef = params[4:]
            value += n * pen * (float(theta @ theta) + float(coef @ coef))
            grad[:4] += n * pen * 2 * theta * theta
            grad[4:] += n * pen * 2 * coef
            return value, grad

        def mean(params: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = total(params)
            return value / n, grad / n

        # Without covariates: the plain model's start (its mean rate from the same sums), so the
        # optimiser takes the plain model's path and lands on its estimates exactly. With them:
        # the plain fit (needed for the LR test) and zero coefficients, its optimum, which
        # halves the iterations (76k customers, 18 coefficients: 154 from the plain start).
        plain = None
        if k:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WorkbenchWarning)
                plain = bgnbd.BetaGeo(penalizer=pen, check_data=False).fit(data)
            base = np.array([plain.params_[name] for name in self._base_names])
        else:
            base = bgnbd._start(sums[:1], sums[1:], np.ones(1))
        x0 = np.concatenate([np.log(base), np.zeros(3 * k)])
        params, report = minimise(mean, x0, n_customers=int(n), n_patterns=n_patterns)
        names = [*self._base_names, *(f"gamma{i}:{c}" for i in (1, 2, 3) for c in names_x)]
        self._set_mixed_fit(params, report, total, int(n), names)
        self.log_likelihood_ = -sum(bgnbd._negloglik(self._own(row), part, want_grad=False)[0]
                                    for row, part in zip(rows, parts, strict=True))
        self.plain_model_ = plain
        self.lr_test_ = None if plain is None else LikelihoodRatio.from_fits(
            self.log_likelihood_, plain.log_likelihood_, df=3 * k)
        self._check_data(summary)
        return self

    # -- per-customer parameters --------------------------------------------------------------

    def _own(self, row: np.ndarray) -> np.ndarray:
        """Return ``(r, alpha_i, a_i, b_i)`` for one covariate row."""
        p, names = self.params_, _check_names(self.covariates, "BetaGeoCovariates")
        g = [np.array([p[f"gamma{i}:{c}"] for c in names]) for i in (1, 2, 3)]
        return np.array([p["r"], p["alpha"] * np.exp(-(row @ g[0])),
                         p["a"] * np.exp(row @ g[1]), p["b"] * np.exp(row @ g[2])])

    def customer_parameters(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Return ``r, alpha, a, b`` of every customer (row of ``summary``) given its covariates.

        Only the covariate columns of ``summary`` are read.
        """
        self._check_fitted("customer_parameters")
        X = _design(summary, tuple(self.covariates), "BetaGeoCovariates.customer_parameters")
        rows, group = _groups(X, "BetaGeoCovariates.customer_parameters")
        own = np.array([self._own(row) for row in rows]).reshape(len(rows), 4)[group]
        return pd.DataFrame(own, index=summary.index, columns=list(self._base_names))

    def _prepare(self, summary: pd.DataFrame, where: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        self._refuse_thin_data(where)
        data = check_summary(summary, _PURCHASE, f"BetaGeoCovariates.{where}")
        X = _design(summary, tuple(self.covariates), f"BetaGeoCovariates.{where}")
        rows, group = _groups(X, f"BetaGeoCovariates.{where}")
        x, tx, T = (data[c].to_numpy() for c in _PURCHASE)
        own = np.array([self._own(row) for row in rows]).reshape(len(rows), 4)
        return x, tx, T, own, group

    @single_blas
    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Return P(alive) per customer: eq. (A.10) of [2]_ with the customer's parameters."""
        x, tx, T, own, group = self._prepare(summary, "p_alive")
        r, alpha, a, b = own[group].T
        odds = _log_odds_dead(x, tx, T, r, alpha, a, b)
        return pd.Series(special.expit(-odds), index=summary.index, name="p_alive")

    @single_blas
    def expected_purchases_matrix(self, times: np.ndarray, summary: pd.DataFrame,
                                  weights: np.ndarray | None = None) -> np.ndarray:
        """Return expected repeat purchases for several horizons (see ``BetaGeo``), eq. (10)."""
        times = np.asarray(times, dtype=float)
        x, tx, T, own, group = self._prepare(summary, "expected_purchases")
        r, alpha, a, b = own[group].T
        alive = special.expit(-_log_odds_dead(x, tx, T, r, alpha, a, b))
        factor = np.empty((len(x), len(times)))
        for g, (rg, alpha_g, a_g, b_g) in enumerate(own):
            member = np.flatnonzero(group == g)
            pairs = collapse(x[member], T[member])
            ux, uT = pairs.columns
            factor[member] = bgnbd._conditional_factor(
                times[None, :], ux[:, None], uT[:, None], rg, alpha_g, a_g, b_g)[pairs.inverse]
        if weights is not None:
            return alive * (factor @ np.asarray(weights, dtype=float))
        return alive[:, None] * factor

    @single_blas
    def expected_purchases_new(self, times: float | np.ndarray, covariates: pd.DataFrame
                               ) -> np.ndarray:
        """Return E[X(t)] of a just-acquired customer per row of ``covariates``, eq. (9) of [2]_.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(covariates), len(times))``.
        """
        self._check_fitted("expected_purchases_new")
        times = np.atleast_1d(np.asarray(times, dtype=float))
        for t in times:
            check_horizon(float(t), "BetaGeoCovariates.expected_purchases_new")
        X = _design(covariates, tuple(self.covariates), "BetaGeoCovariates.expected_purchases_new")
        rows, group = _groups(X, "BetaGeoCovariates.expected_purchases_new")
        zero = np.zeros_like(times)
        per_row = np.array([bgnbd._conditional_factor(times, zero, zero, *self._own(row))
                            for row in rows]).reshape(len(rows), len(times))
        return per_row[group]


class GammaGammaCovariates(_CovariateFit, FittedModel):
    """Gamma-Gamma spend model with covariates on the scale ``gamma`` (see the module docstring).

    Parameters
    ----------
    covariates
        Names of numeric columns of the summary; empty: the plain Gamma-Gamma.
    penalizer
        L2 penalty as :class:`~workbench.clv.GammaGamma`, plus one on the coefficients.

    Attributes
    ----------
    params_ : dict
        ``p, q, gamma`` (baseline) and ``delta:<column>``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, coefficients_,
    lr_test_, plain_model_
        As for :class:`BetaGeoCovariates` (against :class:`~workbench.clv.GammaGamma`).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"frequency": [1, 2, 3, 1, 4, 2, 0, 2],
    ...                         "monetary_value": [20., 35, 28, 50, 22, 40, 0, 61],
    ...                         "web": [0, 1, 0, 1, 0, 1, 0, 1]})
    >>> model = GammaGammaCovariates(covariates=("web",), penalizer=0.001).fit(summary)
    >>> list(model.params_)
    ['p', 'q', 'gamma', 'delta:web']
    """

    _base_names = ("p", "q", "gamma")

    def __init__(self, *, covariates: Sequence[str] = (), penalizer: float = 0.0) -> None:
        self.covariates = covariates
        self.penalizer = penalizer

    @single_blas
    def fit(self, summary: pd.DataFrame) -> GammaGammaCovariates:
        """Fit on the customers with ``frequency > 0`` and ``monetary_value > 0``.

        Returns
        -------
        GammaGammaCovariates
            ``self``, fitted.
        """
        where = "GammaGammaCovariates.fit"
        names_x = _check_names(self.covariates, where)
        pen = check_penalizer(self.penalizer, where)
        data = check_summary(summary, _SPEND, where)
        X = _design(summary, names_x, where)
        keep = ((data["frequency"] > 0) & (data["monetary_value"] > 0)).to_numpy()
        if int(keep.sum()) < 3:
            raise ParameterError(tr("clv.fit.few_spenders", got=int(keep.sum())))
        x, m = data["frequency"].to_numpy()[keep], data["monetary_value"].to_numpy()[keep]
        rows, group = _groups(X[keep], where)
        parts, n_patterns, spend = [], 0, 0.0
        for g in range(len(rows)):
            member = group == g
            pat = collapse(x[member], m[member])
            parts.append(gamma_gamma._Data.build(*pat.columns, pat.weight))
            n_patterns += len(pat.weight)
            spend += float(pat.weight @ pat.columns[1])
        n = float(len(x))
        scale = spend / n

        def total(params: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(params[:3])
            delta = params[3:]
            value, grad = 0.0, np.zeros(len(params))
            for row, part in zip(rows, parts, strict=True):
                own = np.array([theta[0], theta[1], theta[2] * np.exp(row @ delta)])
                v, gr = gamma_gamma._negloglik(own, part)
                value += v
                grad[:3] += gr
                grad[3:] += gr[2] * row
            th = theta / np.array([1.0, 1.0, scale])
            value += n * pen * (float(th @ th) + float(delta @ delta))
            grad[:3] += n * pen * 2 * th * th
            grad[3:] += n * pen * 2 * delta
            return value, grad

        def mean(params: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = total(params)
            return value / n, grad / n

        plain = None  # as BetaGeoCovariates: start from the plain fit when there are covariates
        if names_x:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WorkbenchWarning)
                plain = gamma_gamma.GammaGamma(penalizer=pen).fit(data)
            base = np.log([plain.params_[name] for name in self._base_names])
        else:
            base = np.log([2.0, 3.0, scale])
        x0 = np.concatenate([base, np.zeros(len(names_x))])
        params, report = minimise(mean, x0, n_customers=int(n), n_patterns=n_patterns)
        names = [*self._base_names, *(f"delta:{c}" for c in names_x)]
        self._set_mixed_fit(params, report, total, int(n), names)
        self.log_likelihood_ = -sum(
            gamma_gamma._negloglik(self._own(row), part, want_grad=False)[0]
            for row, part in zip(rows, parts, strict=True))
        self.plain_model_ = plain
        self.lr_test_ = None if plain is None else LikelihoodRatio.from_fits(
            self.log_likelihood_, plain.log_likelihood_, df=len(names_x))
        return self

    def _own(self, row: np.ndarray) -> np.ndarray:
        """Return ``(p, q, gamma_i)`` for one covariate row."""
        p, names = self.params_, _check_names(self.covariates, "GammaGammaCovariates")
        delta = np.array([p[f"delta:{c}"] for c in names])
        return np.array([p["p"], p["q"], p["gamma"] * np.exp(row @ delta)])

    def _gammas(self, frame: pd.DataFrame, where: str) -> np.ndarray:
        X = _design(frame, tuple(self.covariates), where)
        rows, group = _groups(X, where)
        return np.array([self._own(row)[2] for row in rows])[group]

    @single_blas
    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """Return the expected average transaction value per customer, eq. (5) of [3]_.

        One-time buyers get the mean of new customers with their covariates,
        ``p gamma_i / (q - 1)``.
        """
        self._check_fitted("expected_spend")
        data = check_summary(summary, _SPEND, "GammaGammaCovariates.expected_spend")
        g = self._gammas(summary, "GammaGammaCovariates.expected_spend")
        p, q = self.params_["p"], self.params_["q"]
        x = data["frequency"].to_numpy()
        m = np.where(x > 0, data["monetary_value"].to_numpy(), 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(denom > 0, p * (g + m * x) / denom, np.inf)
        return pd.Series(values, index=summary.index, name="expected_spend")

    def expected_spend_new(self, covariates: pd.DataFrame) -> pd.Series:
        """Return the mean transaction value of a new customer per row, ``p gamma_i / (q-1)``."""
        self._check_fitted("expected_spend_new")
        g = self._gammas(covariates, "GammaGammaCovariates.expected_spend_new")
        p, q = self.params_["p"], self.params_["q"]
        values = p * g / (q - 1) if q > 1 else np.full(len(g), np.inf)
        return pd.Series(values, index=covariates.index, name="expected_spend")
