"""Shared machinery of the CLV estimators: input checks, weighted patterns, MLE and Hessian SEs.

Every model here is fitted the same way:

1. The customer summary is checked (columns, finite values, ``0 <= recency <= T``).
2. Identical customers are collapsed into *patterns*: the likelihood of a customer depends only
   on ``(frequency, recency, T)`` (or ``(frequency, monetary_value)``), so the sum over
   customers is a weighted sum over the distinct rows. With weekly or daily data this shrinks
   the work by one to two orders of magnitude.
3. The negative mean log-likelihood and its *analytic* gradient are minimised over the
   logarithm of the parameters (all parameters are positive) with L-BFGS-B, from
   deterministic starting values (method of moments or a fixed grid), never random ones.
4. Standard errors come from the observed information: the Hessian of the total negative
   log-likelihood at the optimum, obtained by central differences of the analytic gradient on
   the log scale, inverted and mapped to the natural scale with the delta method. Confidence
   intervals are computed on the log scale and exponentiated, so they stay positive.

References
----------
.. [1] Nocedal, J. and Wright, S. (2006), *Numerical Optimization*, 2nd ed., Springer,
   sec. 8.1 (finite-difference Hessians from gradients) and ch. 9 (L-BFGS).
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.base import BaseEstimator
from threadpoolctl import ThreadpoolController

from workbench.data.schema import require_columns
from workbench.errors import (
    NotFittedError,
    ParameterError,
    SchemaError,
    TooLittleDataError,
    WorkbenchWarning,
)
from workbench.i18n import tr

__all__ = [
    "MIN_HISTORY_DAYS",
    "MIN_REPEATERS_3",
    "MIN_REPEAT_BUYERS",
    "DataCheck",
    "FitReport",
    "Patterns",
    "PurchaseEstimator",
    "check_summary",
    "collapse",
    "data_check",
]

logger = logging.getLogger(__name__)

#: Minimum number of repeat buyers (frequency >= 1) before predictions are given.
MIN_REPEAT_BUYERS = 100
#: Minimum number of customers with three or more purchase days (frequency >= 2).
MIN_REPEATERS_3 = 20
#: Minimum history (days from the earliest first purchase to the end of the period).
MIN_HISTORY_DAYS = 180

#: The BLAS controller, built on first use: building it lists the loaded native libraries
#: (12 ms), which importing this module need not pay.
_controller: list[ThreadpoolController] = []


def one_blas_thread() -> object:
    """Return a context manager limiting BLAS to one thread.

    The models' BLAS calls are dot products of a few hundred thousand numbers and L-BFGS-B's
    4-vectors; on a busy machine a multithreaded BLAS spends more time synchronising threads
    than computing (measured: 13.6 ms instead of 3.3 ms of CPU per BG/NBD likelihood on 92k
    customers, and 0.36 s instead of 0.01 s for L-BFGS-B on Rosenbrock).
    """
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


def single_blas(method: Callable) -> Callable:
    """Run ``method`` with BLAS limited to one thread (see :func:`one_blas_thread`)."""

    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> object:
        with one_blas_thread():
            return method(*args, **kwargs)

    return wrapper


NegLogLik = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True, slots=True)
class Patterns:
    """Distinct rows of a summary with their multiplicity.

    ``columns[k]`` holds the distinct values of the k-th column, ``weight`` how many customers
    share each row and ``inverse`` maps every customer back to its pattern.
    """

    columns: tuple[np.ndarray, ...]
    weight: np.ndarray
    inverse: np.ndarray


@dataclass(frozen=True, slots=True)
class FitReport:
    """Outcome of one maximum-likelihood fit (kept on the estimator as ``fit_report_``).

    ``status`` is ``converged``; ``at_bound`` when a parameter ran to the edge of its range
    (``at_bound`` then holds those log-parameters: the data cannot identify them); or
    ``stopped`` when the optimiser gave up (``optimiser`` is scipy's reason). The numbers say
    how far it got; :meth:`message` words them.
    """

    status: str
    iterations: int
    evaluations: int
    n_customers: int
    n_patterns: int
    max_gradient: float
    at_bound: tuple[float, ...] = ()
    optimiser: str = ""

    @property
    def converged(self) -> bool:
        """Whether the optimiser reached an optimum inside the parameter range."""
        return self.status == "converged"

    def message(self, where: str, language: str | None = None) -> str:
        """Return the outcome in one sentence; ``where`` names the fit (``BetaGeo.fit``).

        >>> FitReport("converged", 12, 15, 100, 40, 3e-7).message("BetaGeo.fit", "en")
        'converged after 12 iterations (max |gradient| 3.0e-07)'
        """
        return tr(f"clv.fit.{self.status}", language=language, where=where,
                  iterations=self.iterations, gradient=f"{self.max_gradient:.1e}",
                  values=[round(v, 3) for v in self.at_bound], reason=self.optimiser)


@dataclass(frozen=True, slots=True)
class DataCheck:
    """How much a customer summary holds, against what a purchase model needs to predict.

    Like the commercial tools (Klaviyo shows predictions only with at least 500 buyers, 180
    days of history and some customers with three or more orders) the models refuse to predict
    when the parameters are not identified: fewer than :data:`MIN_REPEAT_BUYERS` repeat buyers,
    fewer than :data:`MIN_REPEATERS_3` customers with three or more purchase days, or less
    than :data:`MIN_HISTORY_DAYS` days between the first purchase and the end of the period.

    Examples
    --------
    >>> check = DataCheck(customers=150, repeat_buyers=60, repeaters_3=25, history_days=273.0)
    >>> check.enough, check.shortfalls()
    (False, ('repeat_buyers',))
    """

    customers: int
    repeat_buyers: int
    repeaters_3: int
    history_days: float

    def shortfalls(self) -> tuple[str, ...]:
        """Return the minimums not met: ``repeat_buyers``, ``repeaters_3``, ``history_days``."""
        needs = {"repeat_buyers": (self.repeat_buyers, MIN_REPEAT_BUYERS),
                 "repeaters_3": (self.repeaters_3, MIN_REPEATERS_3),
                 "history_days": (self.history_days, MIN_HISTORY_DAYS)}
        return tuple(name for name, (have, need) in needs.items() if have < need)

    @property
    def enough(self) -> bool:
        """Whether every minimum is met."""
        return not self.shortfalls()

    def message(self, where: str, language: str | None = None) -> str:
        """Return what is missing, for an estimator's warning and refusal ("" when enough)."""
        missing = self.shortfalls()
        if not missing:
            return ""
        have = {"repeat_buyers": self.repeat_buyers, "repeaters_3": self.repeaters_3,
                "history_days": f"{self.history_days:.0f}"}
        need = {"repeat_buyers": MIN_REPEAT_BUYERS, "repeaters_3": MIN_REPEATERS_3,
                "history_days": MIN_HISTORY_DAYS}
        problems = [tr(f"clv.check.{name}", language=language, have=have[name],
                       need=need[name]) for name in missing]
        return tr("clv.check.too_little", language=language, where=where,
                  problems=", ".join(problems))


def collapse(*columns: np.ndarray, weights: np.ndarray | None = None) -> Patterns:
    """Return the distinct rows of ``columns`` and how many customers share each.

    Parameters
    ----------
    *columns
        Equal-length float arrays (for example frequency, recency and T).
    weights
        Optional multiplicity of every input row (default 1).

    Returns
    -------
    Patterns
        Distinct rows, their summed weights and the inverse index.

    Examples
    --------
    >>> import numpy as np
    >>> p = collapse(np.array([0., 1, 0]), np.array([0., 2, 0]))
    >>> p.columns[0].tolist(), p.weight.tolist(), p.inverse.tolist()
    ([0.0, 1.0], [2.0, 1.0], [0, 1, 0])

    Patterns come in order of first appearance.
    """
    arrays = [np.asarray(c, dtype=float) for c in columns]
    n = len(arrays[0])
    # Hash-factorize each column, combine the codes into one integer key and factorize that:
    # ~20x faster than np.unique(axis=0), which sorts rows as structured records.
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for values in arrays:
        codes, uniques = pd.factorize(values)
        size *= max(len(uniques), 1)
        if size >= 2**62:  # the combined key would overflow: sort rows instead
            return _collapse_by_sorting(arrays, weights)
        key = key * len(uniques) + codes
    inverse, keys = pd.factorize(key)
    first = np.empty(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    weight = np.bincount(inverse, weights=w, minlength=len(keys))
    return Patterns(tuple(values[first] for values in arrays), weight, inverse.astype(np.intp))


def _collapse_by_sorting(arrays: list[np.ndarray], weights: np.ndarray | None) -> Patterns:
    stacked = np.column_stack(arrays)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    w = np.ones(len(inverse)) if weights is None else np.asarray(weights, dtype=float)
    weight = np.bincount(inverse, weights=w, minlength=len(unique))
    return Patterns(tuple(unique[:, k].copy() for k in range(unique.shape[1])), weight, inverse)


def check_summary(summary: pd.DataFrame, columns: Sequence[str], where: str) -> pd.DataFrame:
    """Validate a customer summary and return it with float columns.

    Raises
    ------
    SchemaError
        ``summary`` is not a DataFrame, lacks a column, has missing or infinite values, negative
        values, fractional ``frequency`` or ``recency > T``.
    """
    if not isinstance(summary, pd.DataFrame):
        raise SchemaError(tr("clv.summary.not_frame", where=where, columns=list(columns),
                             got=type(summary).__name__))
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        lower = {c.lower(): c for c in summary.columns}
        close = next(((lower[c.lower()], c) for c in missing if c.lower() in lower), None)
        hint = tr("clv.summary.case_hint", found=repr(close[0]), name=repr(close[1])) \
            if close else ""
        require_columns(summary.columns, columns, owner=where, hint=hint)
    if len(summary) == 0:
        raise SchemaError(tr("clv.summary.empty", where=where))
    out = summary.loc[:, list(columns)].astype(float)
    values = out.to_numpy()
    if not np.isfinite(values).all():
        bad = [c for c in columns if not np.isfinite(out[c].to_numpy()).all()]
        raise SchemaError(tr("clv.summary.not_finite", where=where, columns=bad))
    if (values < 0).any():
        bad = [c for c in columns if (out[c] < 0).any()]
        raise SchemaError(tr("clv.summary.negative", where=where, columns=bad))
    if "frequency" in out and (np.floor(f := out["frequency"].to_numpy()) != f).any():
        raise SchemaError(tr("clv.summary.fractional", where=where))
    if "recency" in out and "T" in out:
        over = out["recency"] > out["T"] * (1 + 1e-12) + 1e-12
        if over.any():
            raise SchemaError(tr("clv.summary.recency_over_t", where=where,
                                 count=int(over.sum())))
        zero_f = (out["frequency"] == 0) & (out["recency"] != 0)
        if zero_f.any():
            raise SchemaError(tr("clv.summary.zero_frequency", where=where,
                                 count=int(zero_f.sum())))
    return out


def check_penalizer(value: object, where: str) -> float:
    """Return ``value`` as a non-negative float or raise ``ParameterError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or not np.isfinite(value):
        raise ParameterError(tr("clv.fit.penalizer", where=where, got=repr(value)))
    return float(value)


def check_horizon(t: object, where: str) -> float:
    """Return a number of periods ``t >= 0`` as a float or raise ``ParameterError``."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) \
            or not np.isfinite(t) or t < 0:
        raise ParameterError(tr("clv.predict.horizon", where=where, got=repr(t)))
    return float(t)


def check_count(n: object, where: str) -> int:
    """Return a number of purchases ``n >= 0`` or raise ``ParameterError``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(tr("clv.predict.count", where=where, got=repr(n)))
    return int(n)


def minimise(neg_loglik: NegLogLik, x0: np.ndarray, *, n_customers: int, n_patterns: int,
             tol: float = 1e-10, max_iter: int = 1000) -> tuple[np.ndarray, FitReport]:
    """Minimise ``neg_loglik`` (value and gradient on the log scale) with L-BFGS-B.

    The objective is the *mean* negative log-likelihood so that tolerances do not depend on
    the number of customers. Log-parameters are bounded to [-30, 30] so that a diverging
    parameter (for example the dropout ``b`` of a data set without churn) stops at a finite
    value and is reported (status ``at_bound``) instead of overflowing. Non-convergence is a
    status of the report, never an exception: the last iterate is still the best estimate.
    """
    bounds = [(-30.0, 30.0)] * len(x0)
    with one_blas_thread():
        res = optimize.minimize(neg_loglik, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": max_iter, "ftol": tol * 1e-3,
                                         "gtol": 1e-8, "maxcor": 20})
    x = np.asarray(res.x, dtype=float)
    grad = np.asarray(res.jac, dtype=float)
    at_bound = np.abs(np.abs(x) - 30.0) < 1e-6
    ok = bool(np.all(np.isfinite(x))) and (res.success or np.max(np.abs(grad)) < 1e-5)
    status = "at_bound" if at_bound.any() else "converged" if ok else "stopped"
    report = FitReport(status, int(res.nit), int(res.nfev), n_customers, n_patterns,
                       float(np.max(np.abs(grad))), tuple(float(v) for v in x[at_bound]),
                       str(res.message))
    return x, report


def hessian_log(neg_loglik_total: NegLogLik, x: np.ndarray) -> np.ndarray:
    """Return the Hessian of ``neg_loglik_total`` at ``x`` by forward differences of its gradient.

    The gradient is analytic, so ``k + 1`` gradients give the ``k x k`` Hessian; the step
    ``sqrt(eps) * max(1, |x|)`` ([1]_ sec. 8.1) leaves a relative error of about 1e-7, far
    below what a standard error needs. The result is symmetrised.
    """
    k = len(x)
    h = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
    g0 = neg_loglik_total(x)[1]
    hess = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = h[i]
        hess[:, i] = (neg_loglik_total(x + step)[1] - g0) / h[i]
    return (hess + hess.T) / 2


def covariance(hess: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return the inverse of ``hess`` at ``x``, or NaN rows for parameters that ran far out.

    Parameters that ran far out (``|x| > 15`` on the fit's scale, e.g. BG/NBD's log a and
    log b when every customer has the same dropout probability) make the Hessian singular;
    the others get their covariance from their own block (conditional on the far ones).
    """
    cov = _inverse(hess)
    if cov is not None:
        return cov
    keep = np.abs(x) <= 15
    cov = np.full_like(hess, np.nan)
    block = _inverse(hess[np.ix_(keep, keep)]) if keep.any() else None
    if block is not None:
        cov[np.ix_(keep, keep)] = block
    return cov


def _inverse(matrix: np.ndarray) -> np.ndarray | None:
    """Return the inverse of a Hessian if it is a valid covariance (positive variances)."""
    try:
        inverse = np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(inverse)) or np.any(np.diag(inverse) <= 0):
        return None
    return inverse


def standard_errors(hess_log: np.ndarray, x: np.ndarray, names: Sequence[str],
                    level: float = 0.95) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Return natural-scale standard errors, confidence intervals and the covariance matrix.

    ``hess_log`` is the Hessian of the total negative log-likelihood in the log-parameters;
    its inverse is their covariance. The delta method gives ``Var(theta) = theta**2 Var(log
    theta)``; the interval is ``exp(log theta +- z se_log)``.
    """
    cov_log = covariance(hess_log, x)
    theta = np.exp(x)
    se_log = np.sqrt(np.diag(cov_log))
    z = float(special.ndtri(0.5 + level / 2))
    with np.errstate(over="ignore"):  # unidentified parameters get infinite bounds
        cov = cov_log * np.outer(theta, theta)
        ci = pd.DataFrame({"lower": np.exp(x - z * se_log), "upper": np.exp(x + z * se_log)},
                          index=list(names))
    se = pd.Series(theta * se_log, index=list(names), name="standard_error")
    return se, ci, pd.DataFrame(cov, index=list(names), columns=list(names))


class FittedModel(BaseEstimator):
    """Common accessors of the CLV estimators (parameters table, fitted check, summary)."""

    _param_names: tuple[str, ...] = ()

    def _check_fitted(self, where: str) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(tr("clv.fit.not_fitted", where=f"{type(self).__name__}.{where}"))

    @property
    def summary_(self) -> pd.DataFrame:
        """Table of estimates with standard errors and 95% confidence bounds."""
        self._check_fitted("summary_")
        params = pd.Series(self.params_, name="estimate")
        return pd.concat([params, self.standard_errors_, self.confidence_intervals_], axis=1)

    def _set_fit(self, x: np.ndarray, report: FitReport, total: NegLogLik,
                 n: int, hess: np.ndarray | None = None) -> None:
        names = self._param_names
        self.params_ = {k: float(v) for k, v in zip(names, np.exp(x), strict=True)}
        if hess is None:  # a fit that already computed the Hessian passes it
            hess = hessian_log(total, x)
        se, ci, cov = standard_errors(hess, x, names)
        self.standard_errors_ = se
        self.confidence_intervals_ = ci
        self.covariance_ = cov
        self.converged_ = report.converged
        self.fit_report_ = report
        self.convergence_message_ = report.message(f"{type(self).__name__}.fit")
        self.n_customers_ = n
        if not report.converged:
            # stacklevel 4: past this method, fit and the single_blas wrapper, to the caller
            warnings.warn(self.convergence_message_, WorkbenchWarning, stacklevel=4)
        logger.info("%s fitted on %d customers (%d patterns): %s", type(self).__name__, n,
                    report.n_patterns, self.convergence_message_)


class PurchaseEstimator(FittedModel):
    """What BG/NBD and Pareto/NBD share: their two settings and the check of the data.

    The constructor stores ``penalizer`` and ``check_data`` unchanged (each model documents
    them); ``fit`` ends with :meth:`_check_data` and predictions start with
    :meth:`_refuse_thin_data`. Each model gives ``expected_purchases_matrix``.
    """

    def __init__(self, *, penalizer: float = 0.0, check_data: bool = True) -> None:
        self.penalizer = penalizer
        self.check_data = check_data

    def _check_data(self, summary: pd.DataFrame) -> None:
        """Record :func:`data_check` of the fitted summary and warn when it is too thin."""
        self.data_check_ = data_check(summary)
        self.data_message_ = (self.data_check_.message(type(self).__name__)
                              if self.check_data else "")
        if self.data_message_:
            # stacklevel 4: past this method, fit and the single_blas wrapper, to the caller
            warnings.warn(self.data_message_, WorkbenchWarning, stacklevel=4)

    @single_blas
    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Return the expected number of repeat purchases in the next ``t`` periods per customer.

        One column of the model's ``expected_purchases_matrix`` (eq. (10) of Fader, Hardie &
        Lee 2005 for BG/NBD; eq. (18) of Fader & Hardie 2005 for Pareto/NBD).
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        values = self.expected_purchases_matrix(np.array([t]), summary)[:, 0]
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def _refuse_thin_data(self, where: str) -> None:
        """Raise ``TooLittleDataError`` when the fit found the data too thin to predict."""
        self._check_fitted(where)
        if self.data_message_:
            raise TooLittleDataError(tr("clv.check.refused", where=f"{type(self).__name__}."
                                        f"{where}", detail=self.data_message_))


def data_check(summary: pd.DataFrame, *, unit: str | None = None) -> DataCheck:
    """Return how many repeat buyers, three-time buyers and days of history ``summary`` holds.

    ``unit`` (``"D"`` or ``"W"``; default ``summary.attrs["unit"]``, else weeks) converts
    ``T`` to days. Compare with the minimums with :attr:`DataCheck.enough`.

    Examples
    --------
    >>> summary = pd.DataFrame({"frequency": [0.0, 1, 3], "T": [10.0, 30, 20]})
    >>> data_check(summary)
    DataCheck(customers=3, repeat_buyers=2, repeaters_3=1, history_days=210.0)
    """
    unit = unit or summary.attrs.get("unit", "W")
    days = {"D": 1.0, "W": 7.0}.get(unit, 7.0)
    span = float(summary["T"].max()) * days if len(summary) else 0.0
    return DataCheck(customers=len(summary),
                     repeat_buyers=int((summary["frequency"] > 0).sum()),
                     repeaters_3=int((summary["frequency"] >= 2).sum()),
                     history_days=0.0 if math.isnan(span) else span)
