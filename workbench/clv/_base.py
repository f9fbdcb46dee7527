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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator

from workbench.data.schema import require_columns
from workbench.errors import (
    NotFittedError,
    ParameterError,
    SchemaError,
    WorkbenchError,
    WorkbenchWarning,
)

__all__ = [
    "MIN_HISTORY_DAYS",
    "MIN_REPEATERS_3",
    "MIN_REPEAT_BUYERS",
    "FitReport",
    "Patterns",
    "TooLittleDataError",
    "check_summary",
    "collapse",
]

logger = logging.getLogger(__name__)

#: Minimum number of repeat buyers (frequency >= 1) before predictions are given.
MIN_REPEAT_BUYERS = 100
#: Minimum number of customers with three or more purchase days (frequency >= 2).
MIN_REPEATERS_3 = 20
#: Minimum history (days from the earliest first purchase to the end of the period).
MIN_HISTORY_DAYS = 180



_controller: list = []


def one_blas_thread() -> object:
    """Return a context manager limiting BLAS to one thread.

    The models' BLAS calls are dot products of a few hundred thousand numbers and L-BFGS-B's
    4-vectors; on a busy machine a multithreaded BLAS spends more time synchronising threads
    than computing (measured: 13.6 ms instead of 3.3 ms of CPU per BG/NBD likelihood on 92k
    customers, and 0.36 s instead of 0.01 s for L-BFGS-B on Rosenbrock).
    """
    if not _controller:
        from threadpoolctl import ThreadpoolController

        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


def single_blas(method: Callable) -> Callable:
    """Run ``method`` with BLAS limited to one thread (see :func:`one_blas_thread`)."""

    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> object:
        with one_blas_thread():
            return method(*args, **kwargs)

    return wrapper


class TooLittleDataError(WorkbenchError, ValueError):
    """A model was asked for predictions it refused because the data were too thin."""


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
    """Outcome of one maximum-likelihood fit (kept on the estimator as ``fit_report_``)."""

    converged: bool
    message: str
    iterations: int
    evaluations: int
    n_customers: int
    n_patterns: int


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
        raise SchemaError(f"{where}: expected a pandas DataFrame with columns {list(columns)}; "
                          f"got {type(summary).__name__}. Build one with clv_summary(con, as_of).")
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        hint = ""
        lower = {c.lower(): c for c in summary.columns}
        for c in missing:
            if c.lower() in lower:
                hint = f" Did you mean {lower[c.lower()]!r} for {c!r}? (names are case-sensitive)"
                break
        require_columns(summary.columns, columns, owner=where, hint=hint)
    if len(summary) == 0:
        raise SchemaError(f"{where}: the summary has no customers; fit needs at least one row.")
    out = summary.loc[:, list(columns)].astype(float)
    values = out.to_numpy()
    if not np.isfinite(values).all():
        bad = [c for c in columns if not np.isfinite(out[c].to_numpy()).all()]
        raise SchemaError(f"{where}: columns {bad} contain missing or infinite values; "
                          "drop or fill those customers first.")
    if (values < 0).any():
        bad = [c for c in columns if (out[c] < 0).any()]
        raise SchemaError(f"{where}: columns {bad} contain negative values; they must be >= 0.")
    if "frequency" in out and (np.floor(f := out["frequency"].to_numpy()) != f).any():
        raise SchemaError(f"{where}: 'frequency' must hold whole numbers (repeat purchase "
                          "periods); got fractional values.")
    if "recency" in out and "T" in out:
        over = out["recency"] > out["T"] * (1 + 1e-12) + 1e-12
        if over.any():
            raise SchemaError(f"{where}: 'recency' must not exceed 'T'; {int(over.sum())} "
                              "customers have recency > T (was T measured to the same end?).")
        zero_f = (out["frequency"] == 0) & (out["recency"] != 0)
        if zero_f.any():
            raise SchemaError(f"{where}: customers with frequency 0 must have recency 0; "
                              f"{int(zero_f.sum())} do not.")
    return out


def check_penalizer(value: object, where: str) -> float:
    """Return ``value`` as a non-negative float or raise ``ParameterError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or not np.isfinite(value):
        raise ParameterError(f"{where}: 'penalizer' must be a finite number >= 0; got {value!r}.")
    return float(value)


def minimise(neg_loglik: NegLogLik, x0: np.ndarray, *, n_customers: int, n_patterns: int,
             where: str, tol: float = 1e-10, max_iter: int = 1000
             ) -> tuple[np.ndarray, FitReport]:
    """Minimise ``neg_loglik`` (value and gradient on the log scale) with L-BFGS-B.

    The objective is the *mean* negative log-likelihood so that tolerances do not depend on
    the number of customers. Log-parameters are bounded to [-30, 30] so that a diverging
    parameter (for example the dropout ``b`` of a data set without churn) stops at a finite
    value and is reported instead of overflowing.
    """
    from scipy import optimize  # imported when fitting only: dashboards start faster

    bounds = [(-30.0, 30.0)] * len(x0)
    with one_blas_thread():
        res = optimize.minimize(neg_loglik, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": max_iter, "ftol": tol * 1e-3,
                                         "gtol": 1e-8, "maxcor": 20})
    x = np.asarray(res.x, dtype=float)
    grad = np.asarray(res.jac, dtype=float)
    at_bound = np.abs(np.abs(x) - 30.0) < 1e-6
    ok = bool(np.all(np.isfinite(x))) and (res.success or np.max(np.abs(grad)) < 1e-5)
    if at_bound.any():
        ok = False
        msg = (f"{where}: a parameter ran to the edge of its range (log value {x[at_bound]}); "
               "the data cannot identify it (e.g. no customer ever churns). Use more history "
               "or a penalizer.")
    elif ok:
        msg = f"converged after {res.nit} iterations (max |gradient| {np.max(np.abs(grad)):.1e})"
    else:
        msg = (f"{where}: the optimiser did not converge after {res.nit} iterations: "
               f"{res.message}. Try a small penalizer (e.g. 0.001) or more data.")
    if not ok:
        warnings.warn(msg, WorkbenchWarning, stacklevel=4)
    report = FitReport(ok, msg, int(res.nit), int(res.nfev), n_customers, n_patterns)
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
    cov_log = _inverse(hess_log)
    if cov_log is None:
        # Parameters that ran far out (|log theta| > 15, e.g. BG/NBD's a and b when every
        # customer has the same dropout probability) make the Hessian singular; the others
        # get standard errors from their own block (conditional on the far ones), those get NaN.
        keep = np.abs(x) <= 15
        cov_log = np.full_like(hess_log, np.nan)
        block = _inverse(hess_log[np.ix_(keep, keep)]) if keep.any() else None
        if block is not None:
            cov_log[np.ix_(keep, keep)] = block
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
            raise NotFittedError(f"{type(self).__name__}.{where}: the model is not fitted yet; "
                                 "call fit(summary) first.")

    @property
    def summary_(self) -> pd.DataFrame:
        """Table of estimates with standard errors and 95% confidence bounds."""
        self._check_fitted("summary_")
        params = pd.Series(self.params_, name="estimate")
        return pd.concat([params, self.standard_errors_, self.confidence_intervals_], axis=1)

    def _set_fit(self, x: np.ndarray, report: FitReport, total: NegLogLik,
                 n: int) -> None:
        names = self._param_names
        self.params_ = {k: float(v) for k, v in zip(names, np.exp(x), strict=True)}
        hess = hessian_log(total, x)
        se, ci, cov = standard_errors(hess, x, names)
        self.standard_errors_ = se
        self.confidence_intervals_ = ci
        self.covariance_ = cov
        self.converged_ = report.converged
        self.fit_report_ = report
        self.convergence_message_ = report.message
        self.n_customers_ = n
        logger.info("%s fitted on %d customers (%d patterns): %s", type(self).__name__, n,
                    report.n_patterns, report.message)


def guard(summary: pd.DataFrame, *, where: str, unit: str | None = None) -> str:
    """Return an empty string when the data are enough to predict, else what is missing.

    Like the commercial tools (Klaviyo shows predictions only with at least 500 buyers, 180
    days of history and some customers with three or more orders) the models refuse to
    predict when the parameters are not identified: fewer than :data:`MIN_REPEAT_BUYERS`
    repeat buyers, fewer than :data:`MIN_REPEATERS_3` customers with three or more purchase
    days, or less than :data:`MIN_HISTORY_DAYS` days between the first purchase and the end of
    the period. ``unit`` (``"D"`` or ``"W"``; default ``summary.attrs["unit"]``, else weeks)
    converts ``T`` to days.
    """
    unit = unit or summary.attrs.get("unit", "W")
    days = {"D": 1.0, "W": 7.0}.get(unit, 7.0)
    repeat = int((summary["frequency"] > 0).sum())
    three = int((summary["frequency"] >= 2).sum())
    span = float(summary["T"].max()) * days if len(summary) else 0.0
    problems = []
    if repeat < MIN_REPEAT_BUYERS:
        problems.append(f"{repeat} repeat buyers (need at least {MIN_REPEAT_BUYERS})")
    if three < MIN_REPEATERS_3:
        problems.append(f"{three} customers with 3 or more purchase days (need at least "
                        f"{MIN_REPEATERS_3})")
    if span < MIN_HISTORY_DAYS:
        problems.append(f"{span:.0f} days of history (need at least {MIN_HISTORY_DAYS})")
    if not problems:
        return ""
    return (f"{where}: too little data for a purchase model: " + ", ".join(problems)
            + ". Wait for more purchases, use a longer history, or pass check_data=False to "
            "accept unreliable predictions.")
