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
    with Gauss-Legendre nodes in ``u``: 8, 12, 16, 24 or 32 per customer pattern, the fewest
    that keep ``log I`` within rounding of 128 nodes (:func:`_node_counts`; about 13 on average
    on a 100k-customer shop instead of 32). Everything is summed in logs, and the gradient uses
    the same nodes for ``dI/dtheta = int df/dtheta dy``. The closed form through ``2F1`` is not
    used even where it is safe: its derivatives in ``r`` and ``s`` have no closed form, and
    the gradient would then cost more than the quadrature.

Fitting
    As for every model here (:mod:`workbench.clv._base`), except that on
    ``_WARM_MIN_CUSTOMERS`` customers or more the maximum is found from a fit on a systematic
    subsample, polished on all patterns by BFGS started from the subsample's Hessian and
    finished by Newton steps with the Hessian of the standard errors (:func:`_warm_fit`): about
    ten likelihood evaluations on all patterns instead of 27, the same optimum to 1e-8.

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

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special

from workbench.clv._base import (
    FitReport,
    PurchaseEstimator,
    check_count,
    check_horizon,
    check_penalizer,
    check_summary,
    collapse,
    hessian_log,
    minimise,
    single_blas,
)
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["ParetoNBD", "log_integral"]

_COLUMNS = ("frequency", "recency", "T")


def _gauss_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return Gauss-Legendre nodes on [0, 1] and the logarithms of their weights."""
    u, q = np.polynomial.legendre.leggauss(nodes)
    return (u + 1) / 2, np.log(q / 2)


#: Node counts of the likelihood integral and where each suffices (:func:`_node_counts`):
#: the smallest count whose box ``L <= L_max, k <= k_max, sigma >= q_min L`` holds a pattern.
_TIERS = ((8, 1.0, 3.0, 1.0), (12, 4.0, 3.0, 0.3), (16, 4.0, 10.0, 0.3), (24, 30.0, 10.0, 0.1))
_RULES = {nodes: _gauss_rule(nodes) for nodes in (8, 12, 16, 24, 32)}
_CUT = 60.0
#: Nodes x patterns per block: a block's temporaries stay in the CPU cache (measured on 51k
#: patterns: blocks of 2,048 patterns of 32 nodes take half the time of one block of all).
_BLOCK = 65_536
_TAU_NODES, _TAU_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _node_counts(L: np.ndarray, k: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Return the Gauss-Legendre node count per pattern (the switch rule of the quadrature).

    The integrand ``e^l (1 - w e^{l/m})^-e2`` on ``[-L, 0]`` is analytic except at ``l =
    sigma = -m ln w > 0``; Gauss-Legendre converges geometrically at a rate set by the
    interval length ``L``, the start's steepness ``k`` and the pole's distance from the
    interval relative to its length, ``sigma / L`` (Trefethen, *Approximation Theory and
    Approximation Practice*, SIAM 2013, thm. 19.3). The boxes of :data:`_TIERS` were found on
    a grid of 400,000 random ``(m, e2, w, L)``, where the count they give stays within
    rounding (5e-13 relative) of 128 nodes; ``tests/clv/test_pareto_nbd_nodes.py`` checks
    that on a fresh grid and against mpmath. Elsewhere 32 nodes (the rule before tiers). On
    the 100k sample the mean is about 13 nodes per pattern.
    """
    nodes = np.full(L.shape, 32)
    for count, l_max, k_max, q_min in reversed(_TIERS):
        nodes[(L <= l_max) & (k <= k_max) & (sigma >= q_min * L)] = count
    return nodes


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
    e2 = np.full_like(m, s + 1.0) if a_big else rx
    base = kappa + tx
    w_tx = (kappa - min(alpha, beta)) / base
    log_base = np.log(base)
    L = np.minimum(m * (np.log(kappa + T) - log_base), _CUT)
    k = 1.0 + (e2 / m) * w_tx / (1.0 - w_tx)
    with np.errstate(divide="ignore"):
        nodes = _node_counts(L, k, -m * np.log(w_tx))
    nodes[L <= 0] = 0  # t_x == T: I = 0
    log_i = np.full(len(x), -np.inf)
    grad = np.zeros((4, len(x))) if want_grad else None
    parts = (rx, m, e2, base, w_tx, log_base, L, k)
    for count, rule in _RULES.items():
        rows = np.flatnonzero(nodes == count)
        size = _BLOCK // count
        for start in range(0, len(rows), size):
            idx = rows[start:start + size]
            _integral_block(rule, idx, *(v[idx] for v in parts), a_big, s, log_i, grad)
    return log_i, grad


def _integral_block(rule: tuple[np.ndarray, np.ndarray], idx: np.ndarray, rx: np.ndarray,
                    m: np.ndarray, e2: np.ndarray, base: np.ndarray, w_tx: np.ndarray,
                    log_base: np.ndarray, L: np.ndarray, k: np.ndarray, a_big: bool,
                    s: float, log_i: np.ndarray, grad: np.ndarray | None) -> None:
    """Fill ``log_i[idx]`` (and ``grad[:, idx]``) for one block of patterns with ``L > 0``."""
    u, log_q = rule
    stretch = np.log1p(k * L)  # ln(1 + kL)
    # Nodes: l = -expm1(u ln(1+kL)) / k, |dl/du| = ln(1+kL) e^{u ln(1+kL)} / k.
    us = u[:, None] * stretch
    lm = np.exp(us)  # exp, not expm1 (half again as slow): l's absolute error stays 1e-16
    lm -= 1.0
    lm /= -(k * m)  # l / m
    em = np.expm1(lm)
    omw = w_tx * em
    np.subtract(1.0 - w_tx, omw, out=omw)  # 1 - w(y), no cancellation when w is near 1
    log_omw = np.log(omw)
    # ln f = -(r+x) ln(alpha+y) - (s+1) ln(beta+y) with ln(kappa+y) = ln(kappa+t_x) - l/m and
    # the other factor ln(kappa+y) + ln(1-w). Each node contributes f(y) (kappa+y)/m |dl/du| q
    # (dy = -(kappa+y)/m dl). The integrand's factor (1-w)^-e2 is largest at l = 0 and
    # e^l |dl/du| <= k, so shifting by top = -e2 ln(1-w_tx) keeps every term below k: no
    # overflow, and no pass for the maximum.
    top = -e2 * np.log1p(-w_tx)
    terms = lm * m
    terms += us
    terms -= e2 * log_omw
    terms += log_q[:, None] - top
    weight = np.exp(terms, out=terms)
    total = weight.sum(axis=0)
    log_i[idx] = top + np.log(stretch) - np.log(k) - np.log(m) - m * log_base + np.log(total)
    if grad is None:
        return
    scale = 1.0 / total
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
    grad[0, idx] = -log_ay
    grad[1, idx] = -rx * inv_ay
    grad[2, idx] = -log_by
    grad[3, idx] = -(s + 1.0) * inv_by


def _loglik_parts(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
                  want_grad: bool = True, levels: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Return per-pattern log-likelihoods, their log-parameter gradient and P(alive).

    ``levels`` (the distinct frequencies and the inverse index, ``np.unique(x,
    return_inverse=True)``) lets the gamma functions of ``r + x`` run on a few hundred values
    instead of every pattern.
    """
    r, alpha, s, beta = theta
    rx = r + x
    log_aT, log_bT = np.log(alpha + T), np.log(beta + T)
    log_e1 = -rx * log_aT - s * log_bT
    log_i, g_i = log_integral(x, tx, T, r, alpha, s, beta, want_grad=want_grad)
    log_e2 = np.log(s) + log_i
    mix = np.logaddexp(log_e1, log_e2)
    if levels is None:
        gammaln_rx = special.gammaln(rx)
    else:
        gammaln_rx = special.gammaln(r + levels[0])[levels[1]]
    head = gammaln_rx - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll = head + mix
    alive = np.exp(log_e1 - mix)
    if not want_grad:
        return ll, None, alive
    pi = 1.0 - alive
    digamma_rx = special.digamma(rx) if levels is None \
        else special.digamma(r + levels[0])[levels[1]]
    g_r = digamma_rx - special.digamma(r) + np.log(alpha) \
        + alive * (-log_aT) + pi * g_i[0]
    g_alpha = r / alpha + alive * (-rx / (alpha + T)) + pi * g_i[1]
    g_s = np.log(beta) + alive * (-log_bT) + pi * (1.0 / s + g_i[2])
    g_beta = s / beta + alive * (-s / (beta + T)) + pi * g_i[3]
    grad = np.stack([g_r * r, g_alpha * alpha, g_s * s, g_beta * beta])
    return ll, grad, alive


class _Objective:
    """Negative log-likelihood of weighted patterns on the log scale, remembering evaluations.

    The optimiser's last point is where the Hessian of the standard errors starts and where
    the log-likelihood is reported, so each point is computed once.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray,
                 penalizer: float) -> None:
        self.columns = (x, tx, T)
        self.w = w
        self.n = float(w.sum())
        self.penalizer = penalizer
        self.levels = np.unique(x, return_inverse=True)
        self.evaluations = 0
        self._memo: dict[bytes, tuple[float, np.ndarray, float]] = {}

    def total(self, logp: np.ndarray) -> tuple[float, np.ndarray]:
        """Return the total penalised negative log-likelihood and its gradient."""
        key = np.asarray(logp, dtype=float).tobytes()
        if key not in self._memo:
            theta = np.exp(logp)
            ll, grad, _ = _loglik_parts(theta, *self.columns, levels=self.levels)
            loglik = float(self.w @ ll)
            value = -loglik + self.n * self.penalizer * float(theta @ theta)
            gradient = -(grad @ self.w) + self.n * self.penalizer * 2 * theta * theta
            if len(self._memo) >= 8:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = (value, gradient, loglik)
            self.evaluations += 1
        value, gradient, _ = self._memo[key]
        return value, gradient.copy()

    def mean(self, logp: np.ndarray) -> tuple[float, np.ndarray]:
        """Return :meth:`total` divided by the number of customers."""
        value, grad = self.total(logp)
        return value / self.n, grad / self.n

    def log_likelihood(self, logp: np.ndarray) -> float:
        """Return the unpenalised log-likelihood at ``logp``."""
        self.total(logp)
        return self._memo[np.asarray(logp, dtype=float).tobytes()][2]


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

        full = _Objective(x, tx, T, w, pen)
        rate = float(w @ x) / max(float(w @ T), 1e-12)
        x0 = np.log([1.0, 1.0 / max(rate, 1e-6), 1.0, max(float(w @ T) / n, 1.0)])
        logp, report, hess = None, None, None
        if n >= _WARM_MIN_CUSTOMERS:
            logp, report, hess = _warm_fit(data, weights, full, x0, pen)
        if report is None:
            logp, report = minimise(full.mean, x0 if logp is None else logp,
                                    n_customers=int(round(n)), n_patterns=len(x))
        self._set_fit(logp, report, full.total, int(round(n)), hess)
        self.log_likelihood_ = full.log_likelihood(logp)
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


#: Fits on at least this many customers start from a fit on a systematic subsample of about
#: :data:`_WARM_SAMPLE` customers (:func:`_warm_fit`); smaller ones (CDNOW) fit directly.
_WARM_MIN_CUSTOMERS = 20_000
_WARM_SAMPLE = 5_000


def _warm_fit(data: pd.DataFrame, weights: object, full: _Objective, x0: np.ndarray,
              penalizer: float
              ) -> tuple[np.ndarray | None, FitReport | None, np.ndarray | None]:
    """Fit a subsample, polish on all patterns by BFGS, finish with Newton steps.

    1. Every ``k``-th customer (about :data:`_WARM_SAMPLE` of them) is fitted with
       :func:`~workbench.clv._base.minimise`. Its mean Hessian approximates the full one (both
       estimate the expected information per customer).
    2. BFGS on all patterns starts there with that inverse Hessian (Nocedal & Wright,
       *Numerical Optimization*, 2006, ch. 6) until its step is below ``1e-5`` in every
       log-parameter: about four likelihood evaluations instead of twenty from a cold start.
    3. The Hessian of the standard errors (forward differences, as for every model) is
       computed there, and Newton steps with it finish the fit: from ``1e-5`` one step lands
       within about ``1e-10``; the fit stops when the next step is below ``1e-9``. The
       standard errors use that Hessian, ``1e-5`` from the optimum (relative change of the
       same order, far below their own sampling error).

    Returns
    -------
    tuple
        The log-parameters, the report and the Hessian. A ``None`` report asks the caller to
        run L-BFGS-B from the returned point (or from ``x0`` when it is ``None``), as for
        small data: the subsample fit did not converge, a Hessian is not positive definite,
        or the polish stalled.
    """
    step = max(2, len(data) // _WARM_SAMPLE)
    sub_w = None if weights is None else np.asarray(weights, dtype=float)[::step]
    pat = collapse(*(data[c].to_numpy()[::step] for c in _COLUMNS), weights=sub_w)
    if not (pat.columns[0] > 0).any():
        return None, None, None
    small = _Objective(*pat.columns, pat.weight, penalizer)
    start, small_report = minimise(small.mean, x0, n_customers=int(round(small.n)),
                                   n_patterns=len(pat.weight))
    hess = hessian_log(small.mean, start)
    if not small_report.converged or not _positive_definite(hess):
        return None, None, None
    inverse = np.linalg.inv(hess)
    logp, converged, iterations = _polish(full.mean, start, (inverse + inverse.T) / 2,
                                          step_tol=1e-5)
    if not converged:
        return logp, None, None
    hess = hessian_log(full.total, logp)
    if not _positive_definite(hess):
        return logp, None, None
    for _ in range(5):
        newton = np.linalg.solve(hess, full.total(logp)[1])
        if np.max(np.abs(newton)) < 1e-9:
            gradient = full.mean(logp)[1]
            return logp, FitReport("converged", iterations, full.evaluations,
                                   int(round(full.n)), len(full.w),
                                   float(np.max(np.abs(gradient)))), hess
        logp = logp - newton
        iterations += 1
    return logp, None, None


def _positive_definite(matrix: np.ndarray) -> bool:
    """Return whether a symmetric matrix is finite and positive definite."""
    return bool(np.all(np.isfinite(matrix))) and np.linalg.eigvalsh(matrix).min() > 0


def _polish(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray,
            h_inv: np.ndarray, *, max_iter: int = 50, step_tol: float = 1e-9
            ) -> tuple[np.ndarray, bool, int]:
    """Minimise ``fun`` by BFGS from ``x`` with the initial inverse Hessian ``h_inv``.

    Backtracking line search with the Armijo condition and the BFGS update of the inverse
    Hessian (eqs. (3.4) and (6.17) of Nocedal & Wright, *Numerical Optimization*, 2006).
    Returns the last point, whether the step fell below ``step_tol`` and the iterations.
    """
    f, g = fun(x)
    eye = np.eye(len(x))
    for iteration in range(max_iter):
        p = -(h_inv @ g)
        if np.max(np.abs(p)) < step_tol:
            return x, True, iteration
        t = 1.0
        for _ in range(40):
            x_new = x + t * p
            f_new, g_new = (fun(x_new) if np.max(np.abs(x_new)) <= 30.0
                            else (np.inf, g))
            # Steps below 1e-7 change the value less than its rounding: accept them.
            if np.isfinite(f_new) and (f_new <= f + 1e-4 * t * float(g @ p)
                                       or np.max(np.abs(t * p)) < 1e-7):
                break
            t /= 2
        else:
            return x, False, iteration
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        if sy > 0:
            v = eye - np.outer(s, y) / sy
            h_inv = v @ h_inv @ v.T + np.outer(s, s) / sy
        x, f, g = x_new, f_new, g_new
    return x, False, max_iter


def _rate_factor(t, x, T, r, alpha, s, beta):
    """Return ``(r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]``."""
    log_q = -np.log1p(t / (beta + T))  # ln((beta+T)/(beta+T+t)) <= 0
    return (r + x) / (alpha + T) * (beta + T) * (-log_q) * special.exprel((s - 1) * log_q)
