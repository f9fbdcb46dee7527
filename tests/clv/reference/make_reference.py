"""Compute the reference values of tests/clv with implementations independent of workbench.clv.

Run from the repository root (needs mpmath besides the project's scipy and pandas)::

    .venv/bin/pip install mpmath
    .venv/bin/python tests/clv/reference/make_reference.py

It writes ``tests/clv/reference/reference.json``. Nothing here imports ``workbench.clv``:

- BG/NBD and Gamma-Gamma maximum-likelihood estimates on CDNOW from the *natural-scale*
  likelihoods written term by term as printed in the papers (eq. (6) of Fader, Hardie & Lee
  2005; eq. (3) of Fader & Hardie 2013), maximised with Nelder-Mead in the natural parameters,
  and their standard errors from a finite-difference Hessian of that likelihood.
- Pareto/NBD log-likelihoods at fixed parameters with mpmath at 40 digits, using the
  Gauss hypergeometric solution (eq. (22) of Fader & Hardie 2005, note 009) at high precision,
  and the integral I of the likelihood by mpmath quadrature for extreme customers.
- BG/NBD conditional expectations (eq. (10)) and P(alive) in mpmath with the original,
  untransformed hypergeometric function (fine at 60 digits even for heavy buyers).
- BG/NBD P(n purchases in t) by two-dimensional numerical integration over the posterior of
  (lambda, p) of the individual-level probability (eq. (3) of Fader, Hardie & Lee 2005).
- The published values quoted in data/cdnow/README.md, with their precision.
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
from scipy import integrate, optimize, special

ROOT = Path(__file__).resolve().parents[3]
CDNOW = ROOT / "data" / "cdnow"
OUT = Path(__file__).with_name("reference.json")

#: data/cdnow/README.md (Fader, Hardie & Lee 2005; Fader & Hardie 2013).
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44, "customers": 946},
}


def cdnow_summary() -> pd.DataFrame:
    """Return the 2,357-customer calibration summary (weeks)."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


def cdnow_monetary() -> pd.DataFrame:
    """Return frequency and mean repeat-purchase value per repeat buyer (calibration only).

    The published definition: purchases on the same day summed, the first purchase day
    excluded, calibration ends 1997-09-30.
    """
    tx = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                     names=["customer", "sample_id", "date", "cds", "value"])
    tx["date"] = pd.to_datetime(tx["date"].astype(str))
    cal = tx[tx["date"] <= "1997-09-30"]
    days = cal.groupby(["customer", "date"], as_index=False)["value"].sum()
    days = days.sort_values(["customer", "date"])
    days["k"] = days.groupby("customer").cumcount()
    rep = days[days["k"] > 0].groupby("customer")["value"].agg(["size", "mean"])
    return pd.DataFrame({"frequency": rep["size"].astype(float), "monetary_value": rep["mean"]})


def bgnbd_loglik(theta, x, tx, T):
    """Eq. (6) of FHL (2005), natural scale, term by term (no log-sum-exp)."""
    r, alpha, a, b = theta
    if min(theta) <= 0:
        return -np.inf
    A = special.beta(a, b + x) / special.beta(a, b) * special.gamma(r + x) * alpha ** r \
        / (special.gamma(r) * (alpha + T) ** (r + x))
    B = np.where(x > 0, special.beta(a + 1, b + x - 1) / special.beta(a, b)
                 * special.gamma(r + x) * alpha ** r
                 / (special.gamma(r) * (alpha + tx) ** (r + x)), 0.0)
    return float(np.sum(np.log(A + B)))


def gg_loglik(theta, x, m):
    """Eq. (3) of Fader & Hardie (2013), each factor's logarithm (the Gamma functions overflow
    for x around 30 on the natural scale)."""
    p, q, g = theta
    if min(theta) <= 0:
        return -np.inf
    log_dens = (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
                + q * np.log(g) + (p * x - 1) * np.log(m) + p * x * np.log(x)
                - (p * x + q) * np.log(g + m * x))
    return float(np.sum(log_dens))


def mle(loglik, start, args):
    res = optimize.minimize(lambda th: -loglik(th, *args), start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 40000,
                                     "maxfev": 80000})
    theta = res.x
    # Observed information by central differences of the natural-scale log-likelihood.
    k = len(theta)
    h = 1e-4 * theta
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (loglik(theta + ei + ej, *args) - loglik(theta + ei - ej, *args)
                          - loglik(theta - ei + ej, *args) + loglik(theta - ei - ej, *args)
                          ) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    return theta.tolist(), float(loglik(theta, *args)), se.tolist()


def pnbd_loglik_mp(theta, x, tx, T):
    """Pareto/NBD log-likelihood at 40 digits (FH note 009, eqs. (20)-(22))."""
    mp.mp.dps = 40
    r, alpha, s, beta = (mp.mpf(v) for v in theta)
    total = mp.mpf(0)
    for xi, txi, Ti in zip(x, tx, T, strict=True):
        xi, txi, Ti = mp.mpf(int(xi)), mp.mpf(repr(float(txi))), mp.mpf(repr(float(Ti)))
        m = r + s + xi
        if alpha >= beta:
            def F(t, m=m, xi=xi):
                return mp.hyp2f1(m, s + 1, m + 1, (alpha - beta) / (alpha + t)) \
                    / (alpha + t) ** m
        else:
            def F(t, m=m, xi=xi):
                return mp.hyp2f1(m, r + xi, m + 1, (beta - alpha) / (beta + t)) \
                    / (beta + t) ** m
        a0 = F(txi) - F(Ti)
        bracket = 1 / ((alpha + Ti) ** (r + xi) * (beta + Ti) ** s) + s / m * a0
        total += (mp.loggamma(r + xi) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
                  + mp.log(bracket))
    return float(total)


def pnbd_integral_mp(x, tx, T, r, alpha, s, beta):
    """Return log of int_{tx}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy by quadrature."""
    mp.mp.dps = 50
    x, tx, T, r, alpha, s, beta = (mp.mpf(repr(float(v))) for v in (x, tx, T, r, alpha, s,
                                                                      beta))

    def f(y):
        return (alpha + y) ** (-(r + x)) * (beta + y) ** (-(s + 1))

    # Panels geometric from tx: heavy buyers' integrand decays within 1e-3 of tx.
    points = [tx] + [tx + (T - tx) * mp.mpf(10) ** (-k / mp.mpf(10)) for k in range(90, -1, -1)]
    return float(mp.log(mp.quad(f, points)))


def bgnbd_conditional_mp(theta, x, tx, T, t):
    """Return (P(alive), E[Y(t)]) from eq. (10) and (A.10), untransformed, 60 digits."""
    mp.mp.dps = 60
    r, alpha, a, b = (mp.mpf(repr(v)) for v in theta)
    x, tx, T, t = mp.mpf(int(x)), mp.mpf(repr(tx)), mp.mpf(repr(T)), mp.mpf(repr(t))
    d = 1 + (a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0)
    z = t / (alpha + T + t)
    hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, z)
    e = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp) / d
    return float(1 / d), float(e)


def bgnbd_pmf_numeric(theta, x, tx, T, t, n):
    """Return P(Y(t) = n | x, tx, T) by integrating over the posterior of (lambda, p)."""
    r, alpha, a, b = theta

    def individual_future(lam, p):
        # Eq. (3) of FHL 2005 for the future window, given alive at T.
        pois = np.exp(-lam * t + n * np.log(lam * t) - special.gammaln(n + 1)) if n else \
            np.exp(-lam * t)
        value = (1 - p) ** n * pois
        if n > 0:  # dropped out after the n-th purchase: at least n events in t
            value += p * (1 - p) ** (n - 1) * special.gammainc(n, lam * t)
        return value

    def likelihood_terms(lam, p):
        # Joint density of the data with the prior: alive-at-T part and dropped part.
        prior = (np.exp(r * np.log(alpha) + (r - 1) * np.log(lam) - alpha * lam
                        - special.gammaln(r))
                 * p ** (a - 1) * (1 - p) ** (b - 1) / special.beta(a, b))
        alive = (1 - p) ** x * lam ** x * np.exp(-lam * T)
        dead = p * (1 - p) ** (x - 1) * lam ** x * np.exp(-lam * tx) if x > 0 else 0.0
        return prior * alive, prior * dead

    # The window rate scale: integrate lambda up to a generous multiple of the posterior mean.
    lam_hi = (r + x + 40 * np.sqrt(r + x + 1)) / (alpha + tx)

    def num(p, lam):
        al, de = likelihood_terms(lam, p)
        return al * individual_future(lam, p) + (de if n == 0 else 0.0)

    def den(p, lam):
        al, de = likelihood_terms(lam, p)
        return al + de

    opts = {"epsabs": 0, "epsrel": 1e-11, "limit": 200}
    top = integrate.nquad(num, [[0, 1], [0, lam_hi]], opts=[opts, opts])[0]
    bottom = integrate.nquad(den, [[0, 1], [0, lam_hi]], opts=[opts, opts])[0]
    return top / bottom


def main() -> None:
    summary = cdnow_summary()
    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    bg_theta, bg_ll, bg_se = mle(bgnbd_loglik, np.array([1.0, 1.0, 1.0, 1.0]), (x, tx, T))
    money = cdnow_monetary()
    gg_theta, gg_ll, gg_se = mle(gg_loglik, np.array([1.0, 1.0, 1.0]),
                                 (money["frequency"].to_numpy(), money["monetary_value"]
                                  .to_numpy()))
    pn_points = [list(PUBLISHED["pareto_nbd"].values()), [0.5, 9.0, 0.7, 13.0],
                 [0.3, 2.0, 1.5, 0.5]]
    pn_ll = [pnbd_loglik_mp(th, x, tx, T) for th in pn_points]

    extremes = [  # (x, tx, T, r, alpha, s, beta)
        (0, 0, 38.86, 0.553, 10.578, 0.606, 11.669),
        (2, 30.43, 38.86, 0.553, 10.578, 0.606, 11.669),
        (5000, 700, 730, 0.553, 10.578, 0.606, 11.669),
        (5000, 10, 730, 0.553, 10.578, 0.606, 11.669),
        (3000, 100, 730, 0.5, 0.1, 0.6, 20.0),
        (3000, 100, 730, 0.5, 20.0, 0.6, 0.1),
        (0, 0, 730, 0.2, 0.1, 0.3, 50.0),
        (0, 0, 730, 0.2, 50.0, 0.3, 0.1),
        (1, 0.5, 1.0, 2.0, 1.0, 3.0, 1.0),
        (10, 5, 100, 1.0, 1.0, 1.0, 1.0),
        (50, 0.01, 100, 1.0, 0.01, 1.0, 100.0),
    ]
    pn_integrals = [{"case": list(c), "log_integral": pnbd_integral_mp(*c)} for c in extremes]

    theta = [PUBLISHED["bgnbd"][k] for k in ("r", "alpha", "a", "b")]
    customers = [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 35.0, 38.86),
                 (29, 38.0, 38.86), (500, 100.0, 104.0), (3000, 729.9, 730.0),
                 (3000, 500.0, 730.0), (1, 0.14, 0.5)]
    conditional = []
    for c in customers:
        for t in (13.0, 39.0, 52.0):
            alive, e = bgnbd_conditional_mp(theta, *c, t)
            conditional.append({"customer": list(c), "t": t, "p_alive": alive,
                                "expected": e})
    pmf = []
    for c in [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 20.0, 38.86)]:
        for n in (0, 1, 2, 5):
            pmf.append({"customer": list(c), "t": 39.0, "n": n,
                        "p": bgnbd_pmf_numeric(theta, *c, 39.0, n)})

    out = {
        "published": PUBLISHED,
        "bgnbd_mle": {"params": dict(zip(("r", "alpha", "a", "b"), bg_theta, strict=True)),
                      "log_likelihood": bg_ll,
                      "standard_errors": dict(zip(("r", "alpha", "a", "b"), bg_se,
                                                  strict=True))},
        "gamma_gamma_mle": {"params": dict(zip(("p", "q", "gamma"), gg_theta, strict=True)),
                            "log_likelihood": gg_ll,
                            "standard_errors": dict(zip(("p", "q", "gamma"), gg_se,
                                                        strict=True)),
                            "customers": len(money),
                            "mean": float(money["monetary_value"].mean()),
                            "sd": float(money["monetary_value"].std())},
        "pareto_nbd_loglik": [{"params": th, "log_likelihood": ll}
                              for th, ll in zip(pn_points, pn_ll, strict=True)],
        "pareto_nbd_integrals": pn_integrals,
        "bgnbd_conditional": conditional,
        "bgnbd_pmf": pmf,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
