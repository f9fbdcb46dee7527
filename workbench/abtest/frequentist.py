"""Frequentist comparisons of two arms on sufficient statistics.

Conversion (:func:`compare_proportions`)
    Two-proportion z test with the pooled variance under the null (eq. (2.20)-(2.21) in [1],
    the same statistic as statsmodels' ``proportions_ztest``) and the score interval that
    inverts it (:func:`score_interval`, Mee's interval [6]): the interval excludes zero exactly
    when p < alpha, so a verdict read from either says the same. When an expected cell count
    is below 5 (Cochran's rule) or an arm has fewer than 30 customers, Fisher's exact test
    gives the p-value (``scipy.stats.fisher_exact``, correct and fast) and Newcombe's hybrid
    score interval (method 10 in [2]) the CI, because the Wald interval collapses at 0 or n
    conversions.
Means (:func:`welch_ttest`)
    Welch's t with Welch-Satterthwaite degrees of freedom [3]; it needs only n, sum and sum of
    squares, so revenue per user with many zeros is handled without customer rows. An optional
    bootstrap interval (:func:`bootstrap_mean_diff_ci`) works on raw values.
Ratio metrics (:func:`compare_ratios`)
    AOV, open rate, click-through rate with the customer as the unit of randomisation: the
    delta-method variance of each arm's ratio (eq. (4) in [4]) and a z test on the difference.
CUPED (:func:`cuped_ttest`)
    ``y - theta (x - mean(x))`` with ``theta = cov(y, x) / var(x)`` pooled over both arms
    (eq. (3)-(4) in [5]); the adjusted arms are compared with Welch's t. The variance reduction
    reported is ``1 - Var(adjusted effect) / Var(unadjusted effect)``.
Relative lift
    ``lift = v / c - 1`` with the delta-method variance
    ``Var(v) / c^2 + v^2 Var(c) / c^4`` (first-order Taylor expansion, section 3 of [4]) and a
    normal interval. statsmodels offers only log-ratio intervals for proportions, so this is
    written here.

References
----------
[1] Fleiss, J. L., Levin, B., Paik, M. C. (2003). Statistical Methods for Rates and Proportions,
    3rd ed., Wiley.
[2] Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
[3] Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika 34, 28-35.
[4] Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics.
    KDD '18.
[5] Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the Sensitivity of Online
    Controlled Experiments by Utilizing Pre-Experiment Data. WSDM '13.
[6] Miettinen, O., Nurminen, M. (1985). Comparative analysis of two rates. Statistics in
    Medicine 4, 213-226 (the restricted maximum likelihood of eq. (27)-(28)); without their
    ``n / (n - 1)`` factor the interval is Mee's (1984), the inversion of the pooled z test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

from workbench.abtest._checks import check_probability
from workbench.abtest.stats import (
    MIN_USERS,
    AbStatus,
    Comparison,
    CupedStats,
    MeanStats,
    ProportionStats,
    RatioStats,
)
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.stats import wilson_interval

__all__ = [
    "bootstrap_mean_diff_ci",
    "compare_proportions",
    "compare_ratios",
    "cuped_ttest",
    "newcombe_interval",
    "relative_lift",
    "score_interval",
    "welch_ttest",
    "wilson_interval",
]

_NAN = math.nan

#: Why a comparison is not OK: ``(status, reason, arm, count)`` (see :class:`Comparison`).
_Problem = tuple[AbStatus, str, str, float]


def relative_lift(c: float, v: float, var_c: float, var_v: float,
                  alpha: float = 0.05) -> tuple[float, float, float]:
    """Return ``v / c - 1`` and its delta-method normal interval (NaN when ``c == 0``).

    Examples
    --------
    >>> [round(x, 4) for x in relative_lift(0.10, 0.12, 0.0001, 0.0001)]
    [0.2, -0.1062, 0.5062]
    """
    if c == 0 or not math.isfinite(c):
        return _NAN, _NAN, _NAN
    lift = v / c - 1.0
    se = math.sqrt(var_v / c**2 + v**2 * var_c / c**4)
    z = float(stats.norm.isf(alpha / 2))
    return lift, lift - z * se, lift + z * se


def _empty(metric: str, kind: str, names: tuple[str, str], n: tuple[int, int],
           values: tuple[float, float], problem: _Problem, alpha: float,
           effect: float = _NAN) -> Comparison:
    status, reason, arm, count = problem
    return Comparison(
        metric=metric, variant=names[1], control=names[0], kind=kind, test="none",
        n_control=int(n[0]), n_variant=int(n[1]), value_control=values[0],
        value_variant=values[1], effect=effect, ci_low=_NAN, ci_high=_NAN, lift=_NAN,
        lift_ci_low=_NAN, lift_ci_high=_NAN, p_value=_NAN, alpha=alpha, status=status,
        reason=reason, reason_arm=arm, reason_count=count,
    )


def _too_few(names: tuple[str, str], n: tuple[int, int]) -> _Problem:
    return AbStatus.TOO_LITTLE_DATA, "too_few", names[int(n[1] < n[0])], min(n)


def _arm_status(names: tuple[str, str], n: tuple[int, int]) -> _Problem | None:
    """Return the EMPTY_ARM or TOO_LITTLE_DATA problem of the arms' sizes, else None."""
    for name, size in zip(names, n, strict=True):
        if size == 0:
            return AbStatus.EMPTY_ARM, "empty_arm", name, _NAN
    if min(n) < MIN_USERS:
        return _too_few(names, n)
    return None


def _outcome(problem: _Problem | None) -> dict[str, object]:
    """Return the status fields of a comparison that was computed despite ``problem``."""
    if problem is None:
        return {}
    status, reason, arm, count = problem
    return {"status": status, "reason": reason, "reason_arm": arm, "reason_count": count}


def newcombe_interval(c: ProportionStats, v: ProportionStats,
                      alpha: float = 0.05) -> tuple[float, float]:
    """Return Newcombe's hybrid score interval for ``p_v - p_c`` (method 10 in [2]).

    Examples
    --------
    >>> [round(x, 4) for x in newcombe_interval(ProportionStats(40, 12), ProportionStats(41, 19))]
    [-0.0469, 0.3544]
    """
    pc, pv = c.rate, v.rate
    lc, uc = wilson_interval(c.successes, c.n, alpha)
    lv, uv = wilson_interval(v.successes, v.n, alpha)
    d = pv - pc
    return (d - math.sqrt((pv - lv) ** 2 + (uc - pc) ** 2),
            d + math.sqrt((uv - pv) ** 2 + (pc - lc) ** 2))


def _restricted_rates(c: ProportionStats, v: ProportionStats, delta: float
                      ) -> tuple[float, float]:
    """Return the maximum-likelihood ``(p_c, p_v)`` under ``p_v - p_c = delta`` (eq. (27) [6])."""
    # Farrington-Manning's closed form of the cubic's root; group 1 is the variant.
    p1, p2, theta = v.rate, c.rate, c.n / v.n
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    cc = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    w3 = b / (3.0 * a)
    q = w3 * w3 - cc / (3.0 * a)
    u = math.copysign(math.sqrt(max(q, 0.0)), w3 ** 3 - b * cc / (6.0 * a * a) + d / (2.0 * a))
    r = w3 ** 3 - b * cc / (6.0 * a * a) + d / (2.0 * a)
    cos_arg = 0.0 if u == 0 else max(-1.0, min(1.0, r / u ** 3))
    pv = 2.0 * u * math.cos((math.pi + math.acos(cos_arg)) / 3.0) - w3
    pv = min(max(pv, max(delta, 0.0)), min(1.0, 1.0 + delta))
    return pv - delta, pv


def _score_z(c: ProportionStats, v: ProportionStats, delta: float) -> float:
    """Return the score statistic of ``H0: p_v - p_c = delta`` (at 0: the pooled z)."""
    pc, pv = _restricted_rates(c, v, delta)
    var = pc * (1.0 - pc) / c.n + pv * (1.0 - pv) / v.n
    diff = v.rate - c.rate - delta
    if var <= 0:
        return math.copysign(math.inf, diff) if diff else 0.0
    return diff / math.sqrt(var)


def score_interval(c: ProportionStats, v: ProportionStats,
                   alpha: float = 0.05) -> tuple[float, float]:
    """Return the score interval of ``p_v - p_c``: every delta the pooled z test keeps.

    The limits solve ``|z(delta)| = z_(1 - alpha/2)`` for the score statistic with the
    restricted maximum-likelihood variance ([6], without the ``n / (n - 1)`` factor, i.e.
    Mee's interval; the golden tests check it against a brute-force scipy inversion, see
    ``tests/abtest/reference/make_reference.py``). At ``delta = 0`` that statistic is the
    pooled z of
    :func:`compare_proportions`, so the interval excludes 0 exactly when ``p < alpha``.

    Examples
    --------
    >>> [round(x, 4) for x in score_interval(ProportionStats(1000, 100),
    ...                                      ProportionStats(1000, 130))]
    [0.002, 0.0582]
    """
    z = float(stats.norm.isf(alpha / 2))
    d = v.rate - c.rate

    def limit(edge: float) -> float:
        # |z| grows monotonically away from the estimate; the limit is the edge if never reached.
        if abs(_score_z(c, v, edge)) <= z:
            return edge
        return float(optimize.brentq(lambda x: abs(_score_z(c, v, x)) - z,
                                     *sorted((d, edge)), xtol=1e-12))

    return limit(-1.0), limit(1.0)


def compare_proportions(
    control: ProportionStats,
    variant: ProportionStats,
    *,
    alpha: float = 0.05,
    metric: str = "conversion",
    names: tuple[str, str] = ("control", "B"),
    exact: bool | None = None,
) -> Comparison:
    """Compare conversion rates: z test (or Fisher's exact test for small counts).

    Parameters
    ----------
    control, variant
        Customers and conversions of each arm.
    alpha
        ``1 - alpha`` is the confidence level of the intervals.
    metric, names
        Labels carried into the result.
    exact
        ``True`` forces Fisher's test and Newcombe's interval, ``False`` the z test; ``None``
        picks Fisher when an expected cell count is below 5 or an arm has fewer than
        :data:`MIN_USERS` customers.

    Returns
    -------
    Comparison
        ``effect`` in proportion points (0.012 = 1.2 points). Empty arms and zero conversions
        in both arms give a status (and a reason) instead of a test.

    Examples
    --------
    >>> r = compare_proportions(ProportionStats(1000, 100), ProportionStats(1000, 130))
    >>> round(r.effect, 3), round(r.p_value, 4), r.test
    (0.03, 0.0355, 'z')
    """
    check_probability(alpha, "alpha", "compare_proportions")
    n = (control.n, variant.n)
    values = (control.rate, variant.rate)
    bad = _arm_status(names, n)
    if bad and bad[0] == AbStatus.EMPTY_ARM:
        return _empty(metric, "proportion", names, n, values, bad, alpha)
    total = control.successes + variant.successes
    if total == 0 or total == control.n + variant.n:
        problem = ((AbStatus.ZERO_CONVERSIONS, "zero_conversions", "", _NAN) if total == 0
                   else (AbStatus.ZERO_VARIANCE, "all_converted", "", _NAN))
        return _empty(metric, "proportion", names, n, values, problem, alpha,
                      effect=values[1] - values[0])
    pooled = total / (control.n + variant.n)
    if exact is None:
        expected = [m * pooled for m in n] + [m * (1 - pooled) for m in n]
        exact = min(expected) < 5 or min(n) < MIN_USERS
    effect = values[1] - values[0]
    var_c, var_v = control.variance / control.n, variant.variance / variant.n
    if exact:
        table = [[variant.successes, variant.n - variant.successes],
                 [control.successes, control.n - control.successes]]
        p_value = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
        low, high = newcombe_interval(control, variant, alpha)
        test = "fisher"
    else:
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / variant.n))
        p_value = float(2 * stats.norm.sf(abs(effect) / se0))
        # The interval that inverts this very test (not the unpooled Wald interval, which can
        # exclude 0 while p > alpha and so contradict a verdict read from the p-value).
        low, high = score_interval(control, variant, alpha)
        test = "z"
    lift, lift_low, lift_high = relative_lift(values[0], values[1], var_c, var_v, alpha)
    return Comparison(
        metric=metric, variant=names[1], control=names[0], kind="proportion", test=test,
        n_control=control.n, n_variant=variant.n, value_control=values[0],
        value_variant=values[1], effect=effect, ci_low=low, ci_high=high, lift=lift,
        lift_ci_low=lift_low, lift_ci_high=lift_high, p_value=min(p_value, 1.0), alpha=alpha,
        std_error=math.sqrt(var_c + var_v), **_outcome(bad),
    )


def _welch(mc: float, mv: float, vc: float, vv: float, nc: int, nv: int, alpha: float
           ) -> tuple[float, float, float, float]:
    """Return (p, low, high, se) of Welch's test of ``mv - mc`` (eq. (9)-(10) in [3])."""
    a, b = vc / nc, vv / nv
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (nc - 1) + b * b / (nv - 1))
    t = (mv - mc) / se
    p = float(2 * stats.t.sf(abs(t), df))
    q = float(stats.t.isf(alpha / 2, df))
    return p, mv - mc - q * se, mv - mc + q * se, se


def welch_ttest(
    control: MeanStats,
    variant: MeanStats,
    *,
    alpha: float = 0.05,
    metric: str = "revenue_per_user",
    names: tuple[str, str] = ("control", "B"),
) -> Comparison:
    """Compare means with Welch's t test (unequal variances).

    Examples
    --------
    >>> c = MeanStats(n=4, sum=10.0, sum_sq=30.0)   # values 1, 2, 3, 4
    >>> v = MeanStats(n=4, sum=14.0, sum_sq=54.0)   # values 2, 3, 4, 5
    >>> r = welch_ttest(c, v)
    >>> round(r.effect, 3), round(r.p_value, 4)
    (1.0, 0.3153)
    """
    check_probability(alpha, "alpha", "welch_ttest")
    n = (control.n, variant.n)
    values = (control.mean, variant.mean)
    bad = _arm_status(names, n)
    if bad and bad[0] == AbStatus.EMPTY_ARM:
        return _empty(metric, "mean", names, n, values, bad, alpha)
    if min(n) < 2:
        return _empty(metric, "mean", names, n, values, _too_few(names, n), alpha)
    vc, vv = control.variance, variant.variance
    if vc + vv == 0:
        return _empty(metric, "mean", names, n, values,
                      (AbStatus.ZERO_VARIANCE, "zero_variance", "", _NAN), alpha,
                      effect=values[1] - values[0])
    p, low, high, se = _welch(values[0], values[1], vc, vv, n[0], n[1], alpha)
    lift, lift_low, lift_high = relative_lift(values[0], values[1], vc / n[0], vv / n[1], alpha)
    return Comparison(
        metric=metric, variant=names[1], control=names[0], kind="mean", test="welch",
        n_control=n[0], n_variant=n[1], value_control=values[0], value_variant=values[1],
        effect=values[1] - values[0], ci_low=low, ci_high=high, lift=lift,
        lift_ci_low=lift_low, lift_ci_high=lift_high, p_value=p, alpha=alpha, std_error=se,
        **_outcome(bad),
    )


def compare_ratios(
    control: RatioStats,
    variant: RatioStats,
    *,
    alpha: float = 0.05,
    metric: str = "aov",
    names: tuple[str, str] = ("control", "B"),
) -> Comparison:
    """Compare ratio metrics (sum of x over sum of y) with delta-method variances.

    Examples
    --------
    >>> c = RatioStats(n=100, sum_x=500.0, sum_y=50.0, sum_x_sq=5000.0, sum_y_sq=50.0, sum_xy=500.0)
    >>> v = RatioStats(n=100, sum_x=660.0, sum_y=60.0, sum_x_sq=8000.0, sum_y_sq=60.0, sum_xy=660.0)
    >>> r = compare_ratios(c, v)
    >>> round(r.value_control, 2), round(r.value_variant, 2), round(r.effect, 2)
    (10.0, 11.0, 1.0)
    """
    check_probability(alpha, "alpha", "compare_ratios")
    n = (control.n, variant.n)
    values = (control.ratio, variant.ratio)
    bad = _arm_status(names, n)
    if bad and bad[0] == AbStatus.EMPTY_ARM:
        return _empty(metric, "ratio", names, n, values, bad, alpha)
    if control.sum_y == 0 or variant.sum_y == 0:
        arm = names[0] if control.sum_y == 0 else names[1]
        return _empty(metric, "ratio", names, n, values,
                      (AbStatus.ZERO_CONVERSIONS, "zero_denominator", arm, _NAN), alpha)
    vc, vv = control.variance(), variant.variance()
    if not (vc + vv > 0):
        return _empty(metric, "ratio", names, n, values,
                      (AbStatus.ZERO_VARIANCE, "zero_variance", "", _NAN), alpha,
                      effect=values[1] - values[0])
    effect = values[1] - values[0]
    se = math.sqrt(vc + vv)
    z = float(stats.norm.isf(alpha / 2))
    p = float(2 * stats.norm.sf(abs(effect) / se))
    lift, lift_low, lift_high = relative_lift(values[0], values[1], vc, vv, alpha)
    small = min(control.sum_y, variant.sum_y)
    if bad is None and small < MIN_USERS:
        # The delta method needs many units in the denominator (orders, opens), not only many
        # customers: with a handful of orders its variance is far too small.
        arm = names[0] if control.sum_y <= variant.sum_y else names[1]
        bad = AbStatus.TOO_LITTLE_DATA, "small_denominator", arm, float(small)
    return Comparison(
        metric=metric, variant=names[1], control=names[0], kind="ratio", test="delta",
        n_control=n[0], n_variant=n[1], value_control=values[0], value_variant=values[1],
        effect=effect, ci_low=effect - z * se, ci_high=effect + z * se, lift=lift,
        lift_ci_low=lift_low, lift_ci_high=lift_high, p_value=p, alpha=alpha, std_error=se,
        **_outcome(bad),
    )


def cuped_ttest(
    control: CupedStats,
    variant: CupedStats,
    *,
    alpha: float = 0.05,
    metric: str = "revenue_per_user",
    names: tuple[str, str] = ("control", "B"),
    theta: float | None = None,
    mean_x: float | None = None,
) -> Comparison:
    """Compare means after CUPED adjustment by a pre-period covariate.

    ``theta`` defaults to the pooled ``cov(y, x) / var(x)`` of both arms (eq. (4) in [5]) and
    ``mean_x`` (the covariate's centre) to their pooled mean. A readout of several arms passes
    both, pooled over all arms, so that one arm's adjusted mean is the same number in every
    comparison it takes part in (with per-pair values the same holdout showed two baselines).
    ``variance_reduction`` in the result is the share of the effect's variance removed.

    Examples
    --------
    >>> c = CupedStats(n=4, sum_y=10.0, sum_y_sq=30.0, sum_x=10.0, sum_x_sq=30.0, sum_xy=29.0)
    >>> v = CupedStats(n=4, sum_y=14.0, sum_y_sq=54.0, sum_x=10.0, sum_x_sq=30.0, sum_xy=39.0)
    >>> r = cuped_ttest(c, v)
    >>> round(r.effect, 3), round(r.variance_reduction, 3)
    (1.0, 0.64)
    """
    check_probability(alpha, "alpha", "cuped_ttest")
    plain = welch_ttest(control.y, variant.y, alpha=alpha, metric=metric, names=names)
    if plain.status not in (AbStatus.OK, AbStatus.TOO_LITTLE_DATA) or min(plain.n_control,
                                                                          plain.n_variant) < 2:
        return plain
    both = control + variant
    var_x = both.x.variance
    if theta is None:
        theta = both.covariance / var_x if var_x > 0 else 0.0
    if mean_x is None:
        mean_x = both.sum_x / both.n

    def adjusted(s: CupedStats) -> tuple[float, float]:
        mean = s.y.mean - theta * (s.x.mean - mean_x)
        var = s.y.variance - 2 * theta * s.covariance + theta * theta * s.x.variance
        return mean, max(var, 0.0)

    (mc, vc), (mv, vv) = adjusted(control), adjusted(variant)
    nc, nv = control.n, variant.n
    if vc + vv == 0:
        return plain
    p, low, high, se = _welch(mc, mv, vc, vv, nc, nv, alpha)
    lift, lift_low, lift_high = relative_lift(mc, mv, vc / nc, vv / nv, alpha)
    reduction = 1.0 - se**2 / plain.std_error**2
    return Comparison(
        metric=metric, variant=names[1], control=names[0], kind="cuped", test="cuped-welch",
        n_control=nc, n_variant=nv, value_control=mc, value_variant=mv, effect=mv - mc,
        ci_low=low, ci_high=high, lift=lift, lift_ci_low=lift_low, lift_ci_high=lift_high,
        p_value=p, alpha=alpha, std_error=se, variance_reduction=reduction,
        status=plain.status, reason=plain.reason, reason_arm=plain.reason_arm,
        reason_count=plain.reason_count,
    )


def bootstrap_mean_diff_ci(
    control: Sequence[float] | np.ndarray,
    variant: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    resamples: int = 2000,
    rng: np.random.Generator | int | None = 0,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of ``mean(variant) - mean(control)``.

    Each arm is resampled separately (stratified bootstrap, section 13.3 of Efron and
    Tibshirani, 1993). Values are first reduced to distinct values and their counts and the
    counts are redrawn from a multinomial, which gives the same distribution as resampling
    rows but costs O(distinct values) per resample: revenue with many zeros has few.

    Examples
    --------
    >>> low, high = bootstrap_mean_diff_ci([0, 0, 1, 2] * 50, [0, 1, 2, 3] * 50)
    >>> bool(low < 0.75 < high)
    True
    """
    func = "bootstrap_mean_diff_ci"
    if not (isinstance(resamples, int) and resamples >= 100):
        raise ParameterError(tr("abtest.error.resamples", func=func, got=repr(resamples)))
    check_probability(alpha, "alpha", func)
    gen = np.random.default_rng(rng)

    def means(values: Sequence[float] | np.ndarray) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        if arr.size == 0:
            raise ParameterError(tr("abtest.error.empty_values", func=func))
        uniq, counts = np.unique(arr, return_counts=True)
        draws = gen.multinomial(arr.size, counts / arr.size, size=resamples)
        return draws @ uniq / arr.size

    diffs = means(variant) - means(control)
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
