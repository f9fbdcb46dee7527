"""Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), as derived by Fader & Hardie [1]_.

While alive a customer buys at Poisson rate ``lambda`` and her lifetime is exponential with
rate ``mu``; ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)`` across customers.

Likelihood
    Integrating over the unobserved death time (eq. (5) of [1]_ before the hypergeometric
    solution of its integral)::

        L = G(r+x) alpha^r beta^s / G(r) [ (alpha+T)^-(r+x) (beta+T)^-s
            + s I ],   I = int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy.

    Published code evaluates ``I`` with the Gauss hypergeometric function
    ``2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t))`` (eq. (22) of [1]_), whose first
    parameter grows with ``x``; for heavy buyers it overflows or loses all digits. Here ``I`` is
    computed by quadrature after two exact substitutions. With ``kappa = max(alpha, beta)``,
    ``e2`` the exponent of the other factor (``s+1`` or ``r+x``), ``m = r+s+x`` and
    ``w = (kappa - min(alpha, beta)) / (kappa + y)`` in ``[0, 1)``::

        I = (kappa+t_x)^-m / m  int_{ln rho}^{0} e^l (1 - w_tx e^{l/m})^-e2 dl,
        l = -m ln((kappa+y)/(kappa+t_x)),   rho = ((kappa+t_x)/(kappa+T))^m,

    whose integrand is bounded by its value at ``l = 0`` and decays at least like ``e^l``; the
    interval is cut at ``l = -60`` (relative error below ``e^-60``). The steep start of heavy
    buyers (decay rate ``k`` at ``l = 0``) is resolved by the map ``l = -expm1(u ln(1+kL))/k``
    with Gauss-Legendre nodes in ``u``. Everything is summed in logs (log-sum-exp), and the
    gradient uses the same nodes for ``dI/dtheta = int df/dtheta dy``.

Predictions
    ``P(alive) = (alpha+T)^-(r+x) (beta+T)^-s / [ ... ]`` (the first term's share of the
    bracket, eq. (11) of [1]_) and the conditional expectation (eq. (18) of [1]_)::

        E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
                              [1 - ((beta+T)/(beta+T+t))^(s-1)],

    evaluated with ``exprel`` so ``s = 1`` needs no special case.

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and
   Related Expressions", http://brucehardie.com/notes/009/.
.. [2] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your Customers:
   Who Are They and What Will They Do Next?", *Management Science* 33(1), 1-24.
"""

from __future__ import annotations

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

__all__ = ["ParetoNBD", "log_integral"]

_COLUMNS = ("frequency", "recency", "T")
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)
_U = (_NODES + 1) / 2  # nodes on [0, 1]
_LOG_Q = np.log(_WEIGHTS / 2)
_CUT = 60.0
_TAU_NODES, _TAU_WEIGHTS = np.polynomial.legendre.leggauss(64)


def log_integral(x: np.ndarray, tx: np.ndarray, T: np.ndarray, r: float, alpha: float,
                 s: float, beta: float, *, want_grad: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``log I`` (see the module docstring) and optionally ``d log I / d theta``.

    Parameters
    ----------
    x, tx, T
        Frequency, recency and age (equal-length arrays).
    r, alpha, s, beta
        Model parameters.
    want_grad
        Also return the derivative of ``log I`` in ``(r, alpha, s, beta)`` (natural scale),
        shape ``(4, n)``; rows where ``I == 0`` (``t_x == T``) get zeros.

    Returns
    -------
    tuple
        ``log I`` (``-inf`` where ``t_x == T``) and the gradient or ``None``.
    """
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    rx = r + x
    m = rx + s
    a_big = alpha >= beta
    kappa = max(alpha, beta)
    e2 = (s + 1.0) if a_big else rx
    base = kappa + tx
    w_tx = (kappa - min(alpha, beta)) / base
    log_base = np.log(base)
    L = np.minimum(m * (np.log(kappa + T) - log_base), _CUT)
    empty = L <= 0
    k = 1.0 + (e2 / m) * w_tx / (1.0 - w_tx)
    stretch = np.log1p(k * L)  # ln(1 + kL)
    # Nodes: l = -expm1(u ln(1+kL)) / k, |dl/du| = ln(1+kL) e^{u ln(1+kL)} / k.
    us = _U[:, None] * stretch
    lm = np.expm1(us)
    lm /= -(k * m)  # l / m
    em = np.expm1(lm)
    omw = w_tx * em
    np.subtract(1.0 - w_tx, omw, out=omw)  # 1 - w(y), no cancellation when w is near 1
    log_omw = np.log(omw)
    # ln f = -(r+x) ln(alpha+y) - (s+1) ln(beta+y) with ln(kappa+y) = ln(kappa+t_x) - l/m and
    # the other factor ln(kappa+y) + ln(1-w). Each node contributes f(y) (kappa+y)/m |dl/du| q
    # (dy = -(kappa+y)/m dl), so with e2 = r+x+s+1 - 1:
    other = rx if not a_big else s + 1.0
    shift = (np.log(np.where(empty, 1.0, stretch)) - np.log(k) - np.log(m)
             - (rx + s) * log_base)
    terms = lm * (rx + s)  # -(r+x+s+1) ln(kappa+y) + ln(kappa+y), the l/m part
    terms += us
    terms -= other * log_omw
    terms += _LOG_Q[:, None]
    top = terms.max(axis=0)
    top = np.where(empty, 0.0, top)
    terms -= top
    weight = np.exp(terms, out=terms)
    total = weight.sum(axis=0)
    with np.errstate(divide="ignore"):
        log_i = np.where(empty, -np.inf, top + shift + np.log(total))
    if not want_grad:
        return log_i, None
    scale = np.where(empty, 0.0, 1.0 / np.where(empty, 1.0, total))
    # Posterior-weighted averages over the nodes of ln(kappa+y), ln(1-w), 1/(kappa+y) and
    # 1/(other+y) = 1/((kappa+y)(1-w)), with 1/(kappa+y) = e^{l/m}/(kappa+t_x).
    mean_lm = np.einsum("ij,ij->j", weight, lm) * scale
    mean_log_omw = np.einsum("ij,ij->j", weight, log_omw) * scale
    em += 1.0  # e^{l/m}
    mean_inv_k = np.einsum("ij,ij->j", weight, em) * scale / base
    np.divide(em, omw, out=em)
    mean_inv_o = np.einsum("ij,ij->j", weight, em) * scale / base
    mean_log_k = log_base - mean_lm
    mean_log_o = mean_log_k + mean_log_omw
    if a_big:
        log_ay, log_by, inv_ay, inv_by = mean_log_k, mean_log_o, mean_inv_k, mean_inv_o
    else:
        log_ay, log_by, inv_ay, inv_by = mean_log_o, mean_log_k, mean_inv_o, mean_inv_k
    grad = np.stack([-log_ay, -rx * inv_ay, -log_by, -(s + 1.0) * inv_by])
    grad[:, empty] = 0.0
    return log_i, grad


def _loglik_parts(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
                  want_grad: bool = True) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Return per-pattern log-likelihoods, their log-parameter gradient and P(alive)."""
    r, alpha, s, beta = theta
    rx = r + x
    log_aT, log_bT = np.log(alpha + T), np.log(beta + T)
    log_e1 = -rx * log_aT - s * log_bT
    log_i, g_i = log_integral(x, tx, T, r, alpha, s, beta, want_grad=want_grad)
    log_e2 = np.log(s) + log_i
    mix = np.logaddexp(log_e1, log_e2)
    head = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll = head + mix
    alive = np.exp(log_e1 - mix)
    if not want_grad:
        return ll, None, alive
    pi = 1.0 - alive
    g_r = special.digamma(rx) - special.digamma(r) + np.log(alpha) \
        + alive * (-log_aT) + pi * g_i[0]
    g_alpha = r / alpha + alive * (-rx / (alpha + T)) + pi * g_i[1]
    g_s = np.log(beta) + alive * (-log_bT) + pi * (1.0 / s + g_i[2])
    g_beta = s / beta + alive * (-s / (beta + T)) + pi * g_i[3]
    grad = np.stack([g_r * r, g_alpha * alpha, g_s * s, g_beta * beta])
    return ll, grad, alive


class ParetoNBD(PurchaseEstimator):
    """Pareto/NBD model fitted by maximum likelihood with a stable likelihood.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * sum(theta**2)`` added to the mean negative log-likelihood.
    check_data
        Refuse predictions (warning at fit time) when the data are too thin.

    Attributes
    ----------
    params_ : dict
        ``r, alpha, s, beta``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_,
    convergence_message_, fit_report_, data_check_, data_message_
        As for :class:`~workbench.clv.BetaGeo`.

    Examples
    --------
    Customers simulated from the model itself (r = 0.5, alpha = 5, s = 0.5, beta = 10):

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> lam, mu = rng.gamma(0.5, 1 / 5, 3000), rng.gamma(0.5, 1 / 10, 3000)
    >>> T = rng.uniform(10, 52, 3000)
    >>> alive_for = np.minimum(rng.exponential(1 / mu), T)
    >>> x = rng.poisson(lam * alive_for).astype(float)
    >>> tx = np.where(x > 0, alive_for * rng.beta(np.maximum(x, 1), 1), 0)
    >>> summary = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    >>> model = ParetoNBD(check_data=False).fit(summary)
    >>> {k: round(v, 2) for k, v in model.params_.items()}
    {'r': 0.52, 'alpha': 5.09, 's': 0.39, 'beta': 5.92}
    """

    _param_names = ("r", "alpha", "s", "beta")

    @single_blas
    def fit(self, summary: pd.DataFrame, *, weights: pd.Series | np.ndarray | None = None
            ) -> ParetoNBD:
        """Fit ``r, alpha, s, beta`` to a customer summary (``frequency``, ``recency``, ``T``).

        Returns
        -------
        ParetoNBD
            ``self``, fitted.
        """
        pen = check_penalizer(self.penalizer, "ParetoNBD.fit")
        data = check_summary(summary, _COLUMNS, "ParetoNBD.fit")
        pat = collapse(*(data[c].to_numpy() for c in _COLUMNS),
                       weights=None if weights is None else np.asarray(weights, float))
        x, tx, T = pat.columns
        w = pat.weight
        n = float(w.sum())
        if not (x > 0).any():
            raise ParameterError(tr("clv.fit.no_repeat", where="ParetoNBD.fit"))

        def total(logp: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(logp)
            ll, grad, _ = _loglik_parts(theta, x, tx, T)
            value = -float(w @ ll) + n * pen * float(theta @ theta)
            return value, -(grad @ w) + n * pen * 2 * theta * theta

        def mean(logp: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = total(logp)
            return value / n, grad / n

        rate = float(w @ x) / max(float(w @ T), 1e-12)
        x0 = np.log([1.0, 1.0 / max(rate, 1e-6), 1.0, max(float(w @ T) / n, 1.0)])
        logp, report = minimise(mean, x0, n_customers=int(round(n)), n_patterns=len(x))
        self._set_fit(logp, report, total, int(round(n)))
        ll, _, _ = _loglik_parts(np.exp(logp), x, tx, T, want_grad=False)
        self.log_likelihood_ = float(w @ ll)
        self._check_data(summary)
        return self

    def _prepare(self, summary: pd.DataFrame, where: str):
        self._refuse_thin_data(where)
        data = check_summary(summary, _COLUMNS, f"ParetoNBD.{where}")
        pat = collapse(*(data[c].to_numpy() for c in _COLUMNS))
        return pat, np.array([self.params_[k] for k in self._param_names])

    @single_blas
    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Return P(alive at the end of the period) per customer (eq. (11) of [1]_)."""
        pat, theta = self._prepare(summary, "p_alive")
        _, _, alive = _loglik_parts(theta, *pat.columns, want_grad=False)
        return pd.Series(alive[pat.inverse], index=summary.index, name="p_alive")

    @single_blas
    def expected_purchases_matrix(self, times: np.ndarray, summary: pd.DataFrame,
                                  weights: np.ndarray | None = None) -> np.ndarray:
        """Return expected repeat purchases for several horizons at once, shape (n, len(times)).

        With ``weights`` (one per horizon): the weighted sum over horizons, shape (n,).
        """
        times = np.asarray(times, dtype=float)
        pat, theta = self._prepare(summary, "expected_purchases")
        x, tx, T = pat.columns
        _, _, alive = _loglik_parts(theta, x, tx, T, want_grad=False)
        r, alpha, s, beta = theta
        factor = _rate_factor(times[None, :], x[:, None], T[:, None], r, alpha, s, beta)
        if weights is not None:
            return (alive * (factor @ np.asarray(weights, dtype=float)))[pat.inverse]
        return (alive[:, None] * factor)[pat.inverse]

    @single_blas
    def prob_purchases(self, n: int, t: float, summary: pd.DataFrame) -> pd.Series:
        """Return P(exactly ``n`` repeat purchases in the next ``t`` periods) per customer.

        Given alive at ``T`` the posterior is ``lambda ~ Gamma(r+x, alpha+T)`` and ``mu ~
        Gamma(s, beta+T)``; a customer either survives the window (probability ``S(t) =
        ((beta+T)/(beta+T+t))^s``) or dies at ``tau`` in it, and purchases until then are
        negative binomial::

            P(Y=n | alive) = S(t) NB(n; t) + int_0^t s/(beta+T) ((beta+T)/(beta+T+tau))^(s+1)
                             NB(n; tau) dtau,

        with ``NB(n; tau)`` of size ``r+x`` and success probability ``(alpha+T)/(alpha+T+tau)``;
        the integral uses 64 Gauss-Legendre nodes. ``P(Y=0)`` adds ``1 - P(alive)``.
        """
        t = check_horizon(t, "ParetoNBD.prob_purchases")
        n = check_count(n, "ParetoNBD.prob_purchases")
        pat, theta = self._prepare(summary, "prob_purchases")
        x, tx, T = pat.columns
        _, _, alive = _loglik_parts(theta, x, tx, T, want_grad=False)
        r, alpha, s, beta = theta
        size = (r + x)[:, None]
        aT, bT = (alpha + T)[:, None], (beta + T)[:, None]

        def log_nb(tau: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                return (special.gammaln(n + size) - special.gammaln(n + 1.0)
                        - special.gammaln(size) - size * np.log1p(tau / aT)
                        + n * (np.log(tau) - np.log(aT + tau)))

        end = np.array([[t]])
        survive = np.exp(-s * np.log1p(t / bT) + log_nb(end))
        tau = (_TAU_NODES[None, :] + 1) * t / 2
        dying = np.exp(np.log(s) - np.log(bT) - (s + 1) * np.log1p(tau / bT) + log_nb(tau))
        inside = (dying * _TAU_WEIGHTS[None, :]).sum(axis=1) * t / 2
        values = alive * (survive[:, 0] + inside) + (1 - alive) * (n == 0)
        return pd.Series(values[pat.inverse], index=summary.index, name=f"p_{n}_purchases")

    @single_blas
    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """Return E[X(t)] for a customer just acquired, ``r beta/(alpha(s-1)) [1 - ...]``."""
        self._check_fitted("expected_purchases_new")
        r, alpha, s, beta = (self.params_[k] for k in self._param_names)
        t = np.asarray(t, dtype=float)
        zero = np.zeros_like(t)
        return _rate_factor(t, zero, zero, r, alpha, s, beta)


def _rate_factor(t, x, T, r, alpha, s, beta):
    """Return ``(r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``."""
    log_q = -np.log1p(t / (beta + T))  # ln((beta+T)/(beta+T+t)) <= 0
    return (r + x) / (alpha + T) * (beta + T) * (-log_q) * special.exprel((s - 1) * log_q)
