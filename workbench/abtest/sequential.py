"""Always-valid (sequential) confidence intervals for teams that look at a test every day.

A fixed-horizon 95% interval checked daily and acted on at the first significant look has a
false-positive rate far above 5%. A *confidence sequence* holds at all sample sizes at once:
with probability ``1 - alpha`` it contains the true effect at every look, so peeking is safe.

We use the asymptotic confidence sequence built on the normal-mixture boundary of Howard et
al. [1] (eq. (14)), in the form of Theorem 2.2 of Waudby-Smith et al. [2]: after ``t``
customers with the effect estimated with standard error ``se`` (so ``sigma = se * sqrt(t)``)::

    effect +- se * sqrt( 2 (t rho^2 + 1) / (t rho^2) * log( sqrt(t rho^2 + 1) / alpha ) )

**Tuning parameter** ``n_star``: the total number of customers at which the interval is
tightest. It sets the mixture's spread through (eq. (C.4) in [2])::

    rho^2 = (-2 log(alpha) + log(-2 log(alpha) + 1)) / n_star

Set it to the planned sample size of the test (both arms together); a value far from the
actual size costs some width but never validity. At ``t = n_star`` and ``alpha = 0.05`` the
half-width is 3.04 standard errors instead of 1.96 (1.55 times as wide); from ``n_star / 10``
to ``10 n_star`` it stays below 2 times. This is the price of looking every day. GrowthBook
uses the same boundary with a default of 5,000.

References
----------
[1] Howard, S. R., Ramdas, A., McAuliffe, J., Sekhon, J. (2021). Time-uniform, nonparametric,
    nonasymptotic confidence sequences. Annals of Statistics 49(2), 1055-1080.
[2] Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H., Ramdas, A. (2024). Time-uniform
    central limit theory and asymptotic confidence sequences. Annals of Statistics 52(6).
"""

from __future__ import annotations

import math

from workbench.abtest._checks import check_positive, check_probability
from workbench.abtest.stats import Comparison

__all__ = ["DEFAULT_N_STAR", "sequential_halfwidth", "sequential_interval"]

#: Default tuning parameter: total customers at which the interval is tightest.
DEFAULT_N_STAR = 10_000


def _rho_squared(alpha: float, n_star: float) -> float:
    la = -2.0 * math.log(alpha)
    return (la + math.log(la + 1.0)) / n_star


def sequential_halfwidth(se: float, n: int, *, alpha: float = 0.05,
                         n_star: float = DEFAULT_N_STAR) -> float:
    """Return the half-width of the always-valid interval for an estimate with std error ``se``.

    Examples
    --------
    >>> round(sequential_halfwidth(1.0, 10_000), 3)
    3.035
    """
    check_probability(alpha, "alpha", "sequential_halfwidth")
    check_positive(n_star, "n_star", "sequential_halfwidth")
    if n <= 0 or not math.isfinite(se):
        return math.nan
    v = n * _rho_squared(alpha, n_star)
    return se * math.sqrt(2.0 * (v + 1.0) / v * math.log(math.sqrt(v + 1.0) / alpha))


def sequential_interval(comparison: Comparison, *, n_star: float = DEFAULT_N_STAR
                        ) -> tuple[float, float]:
    """Return the always-valid interval of a comparison's absolute effect.

    ``t`` is the customers in both arms; the comparison's ``alpha`` is used.

    Examples
    --------
    >>> from workbench.abtest.frequentist import compare_proportions
    >>> from workbench.abtest.stats import ProportionStats
    >>> c = compare_proportions(ProportionStats(5000, 500), ProportionStats(5000, 580))
    >>> low, high = sequential_interval(c)
    >>> bool(low < c.ci_low and high > c.ci_high)
    True
    """
    n = comparison.n_control + comparison.n_variant
    half = sequential_halfwidth(comparison.std_error, n, alpha=comparison.alpha, n_star=n_star)
    return comparison.effect - half, comparison.effect + half
