"""BG/NBD model of repeat purchasing ("buy till you die") by Fader, Hardie & Lee (2005) [1]_.

While alive, a customer buys at Poisson rate ``lambda``; after every repeat purchase she drops
out with probability ``p``. Across customers ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a,
b)``. A customer is summarised by ``x`` (``frequency``: repeat purchases), ``t_x``
(``recency``: time of the last purchase after the first) and ``T`` (age at the end of the
calibration period).

Individual likelihood, eq. (6) of [1]_, written in logs::

    log L = lnG(r+x) - lnG(r) + r ln(alpha) + ln B(a, b+x) - ln B(a, b)
            + log( (alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x) )

The bracket is evaluated with ``logaddexp`` so that heavy buyers (x in the thousands) neither
overflow nor underflow, and the gradient is the analytic derivative of this expression.

Predictions
    - P(alive), eq. (A.10)::

        P(alive | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))

    - expected repeat purchases in ``(T, T+t]``, eq. (10), with the Euler transformation
      ``2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)`` ([2]_ 15.8.1) applied to the
      hypergeometric term, which turns ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1;
      z)`` (huge times tiny for heavy buyers) into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1;
      z)``, whose parameters do not grow with ``x``::

        E[Y(t) | x, t_x, T] = P(alive) (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1;
                              a+b+x-1; z)],   z = t / (alpha+T+t);

    - the probability of ``n`` purchases in ``(T, T+t]``: given alive at ``T`` the posterior is
      ``lambda ~ Gamma(r+x, alpha+T)``, ``p ~ Beta(a, b+x)``, and eq. (3) of [1]_ averaged over
      it gives a negative binomial mixture::

        P(Y(t)=n) = (1 - P(alive)) [n=0] + P(alive) { B(a, b+x+n)/B(a, b+x) NB(n)
                    + [n>0] B(a+1, b+x+n-1)/B(a, b+x) (1 - sum_{j<n} NB(j)) },

      where ``NB`` is the negative binomial with size ``r+x`` and success probability
      ``(alpha+T)/(alpha+T+t)``.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your Customers the
   Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
.. [2] NIST Digital Library of Mathematical Functions, https://dlmf.nist.gov/15.8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from workbench.clv._base import (
    PurchaseEstimator,
    check_count,
    check_horizon,
    check_penalizer,
    check_summary,
    collapse,
    minimise,
    single_blas,
)
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["BetaGeo"]

_COLUMNS = ("frequency", "recency", "T")


@dataclass(frozen=True, slots=True)
class _Data:
    """A collapsed summary arranged for fast likelihood evaluation.

    Every term of eq. (6) that depends on ``x`` alone is summed over the distinct frequencies
    (a few hundred) with their total weight; one-time buyers reduce to distinct ``T`` values;
    only the mixing term of repeat buyers is evaluated per pattern, on logarithms of
    ``alpha + T`` and ``alpha + t_x`` gathered from their distinct values.
    """

    ux: np.ndarray  # distinct frequencies
    wx: np.ndarray  # total weight per distinct frequency
    t0: np.ndarray  # distinct T of one-time buyers
    w0: np.ndarray  # their weights
    x: np.ndarray  # repeat-buyer patterns: frequency, its index in ux, weight
    ix: np.ndarray
    w: np.ndarray
    uT: np.ndarray  # distinct T and t_x of repeat buyers, with each pattern's index
    iT: np.ndarray
    utx: np.ndarray
    itx: np.ndarray
    steps: np.ndarray  # 0 .. max(x) - 1 for the sums below (empty when x is too large)

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> _Data:
        ux, ix_all = np.unique(x, return_inverse=True)
        wx = np.bincount(ix_all, weights=w, minlength=len(ux))
        zero = x == 0
        t0, i0 = np.unique(T[zero], return_inverse=True)
        w0 = np.bincount(i0, weights=w[zero], minlength=len(t0))
        rep = ~zero
        uT, iT = np.unique(T[rep], return_inverse=True)
        utx, itx = np.unique(tx[rep], return_inverse=True)
        top = int(ux.max()) if len(ux) else 0
        steps = np.arange(top, dtype=float) if top <= _MAX_SUM else np.empty(0)
        return cls(ux, wx, t0, w0, x[rep], ix_all[rep], w[rep], uT, iT, utx, itx, steps)


#: Largest frequency for which Gamma-function differences are summed term by term.
_MAX_SUM = 200_000


def _rising(values: np.ndarray, ux: np.ndarray) -> np.ndarray:
    """Return ``sum_{j<x} values[j]`` for every x in ``ux`` (cumulative sums, exact indices)."""
    return np.concatenate([[0.0], np.cumsum(values)])[ux.astype(np.int64)]


def _x_terms(r: float, a: float, b: float, d: _Data) -> tuple[np.ndarray, ...]:
    """Return the x-only terms and their derivatives on the distinct frequencies.

    ``lnG(r+x) - lnG(r)``, ``ln B(a, b+x) - ln B(a, b)`` and the digamma differences are sums
    over ``j < x`` (``G(z+x)/G(z) = z (z+1) ... (z+x-1)``). Summed term by term they stay
    exact when ``a`` and ``b`` are huge (a data set whose customers share one dropout
    probability drives both to infinity), where differences of ``gammaln`` at 1e9 lose every
    digit and stall the optimiser.
    """
    ux, j = d.ux, d.steps
    if len(j) or not len(ux) or ux.max() == 0:
        lg_r = _rising(np.log(r + j), ux)
        lb = _rising(np.log(b + j) - np.log(a + b + j), ux)
        dg_r = _rising(1.0 / (r + j), ux)
        dg_b = _rising(1.0 / (b + j), ux)
        dg_ab = _rising(1.0 / (a + b + j), ux)
    else:  # frequencies beyond _MAX_SUM: the closed forms
        lg_r = special.gammaln(r + ux) - special.gammaln(r)
        lb = (special.gammaln(a + b) + special.gammaln(b + ux) - special.gammaln(b)
              - special.gammaln(a + b + ux))
        dg_r = special.digamma(r + ux) - special.digamma(r)
        dg_b = special.digamma(b + ux) - special.digamma(b)
        dg_ab = special.digamma(a + b + ux) - special.digamma(a + b)
    return lg_r, lb, dg_r, dg_b, dg_ab


def _negloglik(theta: np.ndarray, d: _Data, want_grad: bool = True
               ) -> tuple[float, np.ndarray | None]:
    """Return the total negative log-likelihood and its gradient in the log-parameters."""
    r, alpha, a, b = theta
    ux, wx = d.ux, d.wx
    log_alpha = np.log(alpha)
    # Terms in x alone: lnG(r+x) - lnG(r) + r ln(alpha) + ln B(a, b+x) - ln B(a, b).
    lg_r, lb, dg_r, dg_b, dg_ab = _x_terms(r, a, b, d)
    ll = float(wx @ (lg_r + lb)) + r * log_alpha * float(wx.sum())
    # One-time buyers: the mixing term is -r ln(alpha + T).
    log_a0 = np.log(alpha + d.t0)
    ll -= r * float(d.w0 @ log_a0)
    # Repeat buyers: A3 = -(r+x) ln(alpha+T), A4 = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x),
    # mix = logaddexp(A3, A4) = A3 + softplus(A4 - A3).
    rx = r + d.x
    lat = np.log(alpha + d.uT)[d.iT]
    latx = np.log(alpha + d.utx)[d.itx]
    log_b1 = np.log(b + ux - 1, where=ux > 0, out=np.zeros_like(ux))[d.ix]
    diff = np.log(a) - log_b1 + rx * (lat - latx)
    e = np.exp(-np.abs(diff))
    softplus = np.maximum(diff, 0.0) + np.log1p(e)
    w = d.w
    ll += float(w @ (softplus - rx * lat))
    if not want_grad:
        return -ll, None
    pi = np.where(diff >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # weight of the A4 branch
    wpi = w * pi
    g_r = float(wx @ dg_r) + log_alpha * float(wx.sum()) \
        - float(d.w0 @ log_a0) - float(w @ lat) + float(wpi @ (lat - latx))
    inv_at = (1.0 / (alpha + d.uT))[d.iT]
    inv_atx = (1.0 / (alpha + d.utx))[d.itx]
    g_alpha = float(wx.sum()) * r / alpha - r * float(d.w0 @ (1.0 / (alpha + d.t0))) \
        - float((w * rx) @ (inv_at + pi * (inv_atx - inv_at)))
    g_a = -float(wx @ dg_ab) + float(wpi.sum()) / a
    inv_b1 = np.divide(1.0, b + ux - 1, where=ux > 0, out=np.zeros_like(ux))[d.ix]
    g_b = float(wx @ (dg_b - dg_ab)) - float(wpi @ inv_b1)
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -ll, -grad


class BetaGeo(PurchaseEstimator):
    """BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * sum(theta**2)`` added to the mean negative log-likelihood
        (the convention of lifetimes); 0 gives the plain MLE.
    check_data
        Refuse predictions (with a warning at fit time) when there are too few repeat buyers
        or too short a history; see :class:`workbench.clv._base.DataCheck`.

    Attributes
    ----------
    params_ : dict
        ``r, alpha, a, b``.
    standard_errors_, confidence_intervals_, covariance_
        From the inverse Hessian of the negative log-likelihood (95% log-scale intervals).
    log_likelihood_ : float
        Total log-likelihood at the optimum (weights included).
    converged_, convergence_message_, fit_report_
        Status of the optimiser.
    data_check_ : DataCheck
        Repeat buyers, three-time buyers and days of history in the fitted summary.
    data_message_ : str
        Empty when the data were enough (or ``check_data=False``); else what is missing
        (predictions then raise ``TooLittleDataError``).

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 1, 0, 3],
    ...                         "recency": [0, 10, 20, 0, 30, 5, 0, 25],
    ...                         "T": [40, 38, 35, 30, 40, 20, 12, 33]},
    ...                        index=pd.Index(list("abcdefgh"), name="customer_id"))
    >>> model = BetaGeo(check_data=False).fit(summary)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> bool(model.p_alive(summary).between(0, 1).all())
    True
    """

    _param_names = ("r", "alpha", "a", "b")

    @single_blas
    def fit(self, summary: pd.DataFrame, *, weights: pd.Series | np.ndarray | None = None
            ) -> BetaGeo:
        """Fit ``r, alpha, a, b`` to a customer summary.

        Parameters
        ----------
        summary
            One row per customer with ``frequency``, ``recency`` and ``T`` in one time unit.
        weights
            Optional number of customers each row stands for (e.g. a pre-collapsed summary).

        Returns
        -------
        BetaGeo
            ``self``, fitted.
        """
        pen = check_penalizer(self.penalizer, "BetaGeo.fit")
        data = check_summary(summary, _COLUMNS, "BetaGeo.fit")
        pat = collapse(data["frequency"].to_numpy(), data["recency"].to_numpy(),
                       data["T"].to_numpy(),
                       weights=None if weights is None else np.asarray(weights, float))
        x, tx, T = pat.columns
        w = pat.weight
        n = float(w.sum())
        if not (x > 0).any():
            raise ParameterError(tr("clv.fit.no_repeat", where="BetaGeo.fit"))
        if (T <= 0).all():
            raise ParameterError(tr("clv.fit.no_time", where="BetaGeo.fit"))
        data_ = _Data.build(x, tx, T, w)

        def total(logp: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(logp)
            value, grad = _negloglik(theta, data_)
            return value + n * pen * float(theta @ theta), grad + n * pen * 2 * theta * theta

        def mean(logp: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = total(logp)
            return value / n, grad / n

        x0 = np.log(_start(x, T, w))
        logp, report = minimise(mean, x0, n_customers=int(round(n)), n_patterns=len(x))
        self._set_fit(logp, report, total, int(round(n)))
        self.log_likelihood_ = -_negloglik(np.exp(logp), data_, want_grad=False)[0]
        a, b = self.params_["a"], self.params_["b"]
        if a + b > 1e6:
            # The likelihood keeps rising as a and b grow together: the Beta mixing of the
            # dropout probability collapses to one value, a limit the predictions handle.
            self.convergence_message_ += tr("clv.fit.fixed_dropout", p=f"{a / (a + b):.4g}")
        self._check_data(summary)
        return self

    # -- predictions -----------------------------------------------------------------------

    def _prepare(self, summary: pd.DataFrame, where: str) -> tuple[pd.DataFrame, tuple]:
        self._refuse_thin_data(where)
        data = check_summary(summary, _COLUMNS, f"BetaGeo.{where}")
        p = self.params_
        return data, (p["r"], p["alpha"], p["a"], p["b"])

    def _log_odds_dead(self, x, tx, T, r, alpha, a, b) -> np.ndarray:
        pos = x > 0
        bx1 = np.where(pos, b + x - 1, 1.0)
        with np.errstate(divide="ignore"):
            return np.where(pos, np.log(a) - np.log(bx1)
                            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)), -np.inf)

    @single_blas
    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Return P(alive at the end of the period) per customer, eq. (A.10) of [1]_."""
        data, (r, alpha, a, b) = self._prepare(summary, "p_alive")
        x, tx, T = (data[c].to_numpy() for c in _COLUMNS)
        odds = self._log_odds_dead(x, tx, T, r, alpha, a, b)
        return pd.Series(special.expit(-odds), index=summary.index, name="p_alive")

    @single_blas
    def expected_purchases_matrix(self, times: np.ndarray, summary: pd.DataFrame,
                                  weights: np.ndarray | None = None) -> np.ndarray:
        """Return expected repeat purchases for several horizons at once, shape (n, len(times)).

        The hypergeometric factor depends on ``(frequency, T)`` only, so it is evaluated once
        per distinct pair and horizon; P(alive) once per customer. With ``weights`` (one per
        horizon) the result is the weighted sum over horizons, shape (n,), computed per
        distinct pair (what discounting needs, without an n x len(times) matrix).
        """
        times = np.asarray(times, dtype=float)
        data, (r, alpha, a, b) = self._prepare(summary, "expected_purchases")
        x, tx, T = (data[c].to_numpy() for c in _COLUMNS)
        alive = special.expit(-self._log_odds_dead(x, tx, T, r, alpha, a, b))
        pairs = collapse(x, T)
        ux, uT = pairs.columns
        factor = _conditional_factor(times[None, :], ux[:, None], uT[:, None], r, alpha, a, b)
        if weights is not None:
            return alive * (factor @ np.asarray(weights, dtype=float))[pairs.inverse]
        return alive[:, None] * factor[pairs.inverse]

    @single_blas
    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """Return E[X(t)] for a customer just acquired (eq. (9) of [1]_), vectorized in ``t``."""
        self._check_fitted("expected_purchases_new")
        p = self.params_
        t = np.asarray(t, dtype=float)
        zero = np.zeros_like(t)
        return _conditional_factor(t, zero, zero, p["r"], p["alpha"], p["a"], p["b"])

    @single_blas
    def prob_purchases(self, n: int, t: float, summary: pd.DataFrame) -> pd.Series:
        """Return P(exactly ``n`` repeat purchases in the next ``t`` periods) per customer."""
        t = check_horizon(t, "BetaGeo.prob_purchases")
        n = check_count(n, "BetaGeo.prob_purchases")
        data, (r, alpha, a, b) = self._prepare(summary, "prob_purchases")
        x, tx, T = (data[c].to_numpy() for c in _COLUMNS)
        alive = special.expit(-self._log_odds_dead(x, tx, T, r, alpha, a, b))
        pairs = collapse(x, T)  # everything but P(alive) depends on (x, T) only
        x, T = pairs.columns
        q = (alpha + T) / (alpha + T + t)
        size = r + x
        log_nb = (special.gammaln(n + size) - special.gammaln(n + 1.0) - special.gammaln(size)
                  + size * np.log(q) + n * np.log1p(-q))
        base = special.betaln(a, b + x)
        stay = np.exp(special.betaln(a, b + x + n) - base + log_nb)
        if n > 0:
            # 1 - sum_{j<n} NB(j) = I_{1-q}(n, size), the regularized incomplete beta.
            gone = np.exp(special.betaln(a + 1, b + x + n - 1) - base) \
                * special.betainc(n, size, 1 - q)
            values = alive * (stay + gone)[pairs.inverse]
        else:
            values = (1 - alive) + alive * stay[pairs.inverse]
        return pd.Series(values, index=summary.index, name=f"p_{n}_purchases")


def _conditional_factor(t: float | np.ndarray, x: np.ndarray, T: np.ndarray, r: float,
                        alpha: float, a: float, b: float) -> np.ndarray:
    """Return E[Y(t) | alive at T] = (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(...)], eq. (10).

    ``1 - (1-z)^(a-1) F`` vanishes with ``a - 1``; it is computed as ``-(expm1((a-1) ln(1-z))
    + (1-z)^(a-1) (F - 1))`` so that ``a`` close to 1 loses no digits in the subtraction.
    Where the hypergeometric function is not finite (``a`` and ``b`` in the thousands, when
    the data barely identify them), the same expectation is integrated over the posterior of
    ``p`` instead (:func:`_conditional_by_quadrature`).
    """
    if abs(a - 1) < 1e-7:  # the limit a -> 1 is finite; step off the removable singularity
        a = 1 + (1e-7 if a >= 1 else -1e-7)
    t, x, T = (np.array(v, dtype=float) for v in np.broadcast_arrays(t, x, T))
    z = t / (alpha + T + t)
    log1mz = np.log1p(-z)
    with np.errstate(invalid="ignore", over="ignore"):
        F = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        am1 = a - 1
        bracket = -(np.expm1(am1 * log1mz) + np.exp(am1 * log1mz) * (F - 1))
        out = (a + b + x - 1) / am1 * bracket
    bad = ~np.isfinite(out)
    if bad.any():
        out = np.array(out, dtype=float)
        out[bad] = _conditional_by_quadrature(t[bad], x[bad], T[bad], r, alpha, a, b)
    return out


_P_NODES, _P_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _conditional_by_quadrature(t: np.ndarray, x: np.ndarray, T: np.ndarray, r: float,
                               alpha: float, a: float, b: float) -> np.ndarray:
    """Return E[Y(t) | alive at T] by integrating over ``p ~ Beta(a, b+x)``.

    Given ``p``, the expectation over ``lambda ~ Gamma(r+x, alpha+T)`` of eq. (4) of [1]_,
    ``(1 - exp(-lambda p t)) / p``, is ``(1 - ((alpha+T)/(alpha+T+pt))^(r+x)) / p``. The
    Beta density is integrated by Gauss-Legendre on the interval holding all but 1e-15 of its
    mass (the fallback is used only when ``a`` is large and the density is a narrow bump).
    """
    bx = b + x
    unique, inverse = np.unique(bx, return_inverse=True)  # quantiles depend on x only
    lo = special.betaincinv(a, unique, 1e-15)
    hi = special.betaincinv(a, unique, 1 - 1e-15)
    mean = a / (a + unique)
    sd = np.sqrt(mean * (1 - mean) / (a + unique + 1))
    lo = np.where(np.isfinite(lo), lo, np.clip(mean - 12 * sd, 1e-300, 1))[inverse]
    hi = np.where(np.isfinite(hi), hi, np.clip(mean + 12 * sd, 0, 1 - 1e-16))[inverse]
    u = (_P_NODES + 1) / 2
    p = lo[:, None] + (hi - lo)[:, None] * u[None, :]
    log_pdf = (a - 1) * np.log(p) + (bx - 1)[:, None] * np.log1p(-p)
    log_pdf -= log_pdf.max(axis=1, keepdims=True)
    weight = np.exp(log_pdf) * _P_WEIGHTS[None, :]
    c = (t / (alpha + T))[:, None]
    g = -np.expm1(-(r + x)[:, None] * np.log1p(p * c)) / p
    return (weight * g).sum(axis=1) / weight.sum(axis=1)


def _start(x: np.ndarray, T: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Deterministic starting values: r = 1, alpha from the mean purchase rate, a = 1, b = 2."""
    rate = float(w @ x) / max(float(w @ T), 1e-12)
    return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 2.0])
