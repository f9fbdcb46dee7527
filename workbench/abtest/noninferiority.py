"""Non-inferiority tests for guardrails: is the variant no worse than control by a margin.

A guardrail (the opt-out rate, revenue per user) rarely needs to *improve*; it must not get
*worse* by more than a margin the business accepts. A two-sided test cannot show that: "no
significant difference" is absence of evidence. The non-inferiority test turns the question
around [1], [2]: with ``d = variant - control`` and ``higher_is_better``,

    H0: d <= -margin   against   H1: d > -margin

(for a metric where lower is better, such as the opt-out rate, ``H0: d >= +margin``). It is
one-sided at ``alpha``, so it agrees with the two-sided ``1 - 2 alpha`` interval: the variant
is non-inferior exactly when that interval's worse end stays inside the margin (section
3.3.2 of [1]; the interval-against-margin reading of [2]).

* Rates: the Wald z test with unpooled variance, ``z = (d + margin) / se`` with
  ``se^2 = p_c (1 - p_c) / n_c + p_v (1 - p_v) / n_v`` (method 1 of [3]), which is
  ``statsmodels.stats.proportion.test_proportions_2indep(method="wald")``. Wald is chosen
  because its interval inverts the very test, so p and interval never disagree; with the
  customer counts of a CRM guardrail (thousands per arm) its known small-sample weakness
  [3] does not bite.
* Means: Welch's t test on the shifted difference, ``t = (d + margin) / se`` with
  Welch-Satterthwaite degrees of freedom, as in :func:`~workbench.abtest.welch_ttest`.

References
----------
[1] ICH E9 (1998). Statistical principles for clinical trials, sections 3.3.2 and 5.5.
[2] Piaggio, G. et al. (2012). Reporting of noninferiority and equivalence randomized trials:
    extension of the CONSORT 2010 statement. JAMA 308(24), 2594-2604.
[3] Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from workbench.abtest._checks import check_probability
from workbench.abtest.stats import AbStatus, MeanStats, ProportionStats
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["NonInferiorityResult", "noninferiority_means", "noninferiority_proportions"]


@dataclass(frozen=True, slots=True)
class NonInferiorityResult:
    """Outcome of a non-inferiority test of ``variant - control`` against a margin.

    Attributes
    ----------
    metric
        Label carried from the call.
    estimate
        Observed difference ``variant - control`` (proportion points for rates).
    std_error
        Its standard error (unpooled).
    statistic
        ``z`` or ``t`` of the shifted difference; positive favours non-inferiority.
    p_value
        One-sided p-value of ``H0``: worse by at least ``margin``.
    ci
        The two-sided ``1 - 2 alpha`` interval of the difference.
    margin, alpha, higher_is_better
        The settings of the test.
    non_inferior
        ``p_value < alpha``: equivalently the interval's worse end is inside the margin.
    test
        ``"wald"`` (rates) or ``"welch"`` (means).
    df
        Degrees of freedom of Welch's test (``inf`` for the z test).
    status
        ``OK``, or ``EMPTY_ARM``, ``TOO_LITTLE_DATA``, ``ZERO_VARIANCE`` with NaN numbers and
        ``non_inferior`` False.
    """

    metric: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci: tuple[float, float]
    margin: float
    alpha: float
    higher_is_better: bool
    non_inferior: bool
    test: str
    df: float = math.inf
    status: AbStatus = AbStatus.OK


def _check(func: str, margin: object, alpha: object, *, rate: bool) -> None:
    check_probability(alpha, "alpha", func)
    if float(alpha) >= 0.5:  # type: ignore[arg-type]
        # A one-sided test at alpha >= 0.5 would call a variant non-inferior on no evidence.
        raise ParameterError(tr("abtest.error.below_half", owner=func, name="alpha",
                                got=repr(alpha)))
    ok = (isinstance(margin, int | float) and not isinstance(margin, bool)
          and math.isfinite(margin) and margin > 0)
    if rate and not (ok and margin < 1):  # type: ignore[operator]
        raise ParameterError(tr("inference.error.margin_proportion", func=func,
                                got=repr(margin)))
    if not ok:
        raise ParameterError(tr("inference.error.margin", func=func, got=repr(margin)))


def _result(metric: str, estimate: float, se: float, margin: float, alpha: float,
            higher_is_better: bool, test: str, df: float) -> NonInferiorityResult:
    dist = stats.norm if math.isinf(df) else stats.t(df)
    sign = 1.0 if higher_is_better else -1.0
    # Shift by the margin so H0 sits at 0, and orient so "better" is positive.
    statistic = sign * (estimate + sign * margin) / se
    q = float(dist.isf(alpha))
    return NonInferiorityResult(
        metric=metric, estimate=estimate, std_error=se, statistic=statistic,
        p_value=float(dist.sf(statistic)), ci=(estimate - q * se, estimate + q * se),
        margin=margin, alpha=alpha, higher_is_better=higher_is_better,
        non_inferior=bool(statistic > q), test=test, df=df)


def _no_test(metric: str, margin: float, alpha: float, higher_is_better: bool, test: str,
             status: AbStatus, estimate: float = math.nan) -> NonInferiorityResult:
    nan = math.nan
    return NonInferiorityResult(
        metric=metric, estimate=estimate, std_error=nan, statistic=nan, p_value=nan,
        ci=(nan, nan), margin=margin, alpha=alpha, higher_is_better=higher_is_better,
        non_inferior=False, test=test, df=nan, status=status)


def noninferiority_proportions(
    control: ProportionStats,
    variant: ProportionStats,
    margin: float,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    metric: str = "conversion",
) -> NonInferiorityResult:
    """Test whether the variant's rate is no worse than control's by more than ``margin``.

    Parameters
    ----------
    control, variant
        Customers and events (conversions, opt-outs) of each arm.
    margin
        Largest acceptable harm, in proportion points (0.002 = 0.2 points).
    alpha
        One-sided level, in (0, 0.5); the interval is ``1 - 2 alpha``.
    higher_is_better
        False for a rate that should stay low (opt-outs): ``H0: d >= +margin``.
    metric
        Label carried into the result.

    Returns
    -------
    NonInferiorityResult
        Wald z test with unpooled variance (module docstring); an empty arm or a rate of 0
        or 1 in both arms gives a status instead.

    Raises
    ------
    ParameterError
        ``margin`` outside (0, 1) or ``alpha`` outside (0, 0.5).

    Examples
    --------
    Worked example: an opt-out guardrail with a 0.2-point margin. Control 40 of 10,000
    (0.40%), variant 44 of 10,000 (0.44%): ``d = 0.0004``, ``se = sqrt(0.004 * 0.996 / 1e4
    + 0.0044 * 0.9956 / 1e4) = 0.000915``, ``z = (0.002 - 0.0004) / 0.000915 = 1.749``,
    one-sided ``p = 0.040``; the 90% interval (-0.0011, 0.0019) stays below the margin, so
    the variant is non-inferior. With 48 opt-outs, ``z = 1.282`` and ``p = 0.100``: the
    interval reaches 0.0023, past the margin, so non-inferiority is not shown, although the
    rise is not significant either (absence of harm is not shown by a two-sided test).

    >>> r = noninferiority_proportions(ProportionStats(10_000, 40), ProportionStats(10_000, 44),
    ...                                margin=0.002, higher_is_better=False,
    ...                                metric="opt_out_rate")
    >>> round(r.statistic, 3), round(r.p_value, 3), r.non_inferior
    (1.749, 0.04, True)
    >>> tuple(round(x, 4) for x in r.ci)
    (-0.0011, 0.0019)
    """
    func = "noninferiority_proportions"
    _check(func, margin, alpha, rate=True)
    if min(control.n, variant.n) == 0:
        return _no_test(metric, margin, alpha, higher_is_better, "wald", AbStatus.EMPTY_ARM)
    estimate = variant.rate - control.rate
    var = control.variance / control.n + variant.variance / variant.n
    if var == 0:
        return _no_test(metric, margin, alpha, higher_is_better, "wald",
                        AbStatus.ZERO_VARIANCE, estimate)
    return _result(metric, estimate, math.sqrt(var), float(margin), float(alpha),
                   higher_is_better, "wald", math.inf)


def noninferiority_means(
    control: MeanStats,
    variant: MeanStats,
    margin: float,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    metric: str = "revenue_per_user",
) -> NonInferiorityResult:
    """Test whether the variant's mean is no worse than control's by more than ``margin``.

    Parameters
    ----------
    control, variant
        Sufficient statistics (n, sum, sum of squares) of each arm.
    margin
        Largest acceptable harm, in the metric's units (KRW per customer for revenue).
    alpha
        One-sided level, in (0, 0.5); the interval is ``1 - 2 alpha``.
    higher_is_better
        False for a mean that should stay low: ``H0: d >= +margin``.
    metric
        Label carried into the result.

    Returns
    -------
    NonInferiorityResult
        Welch's t test of the shifted difference; fewer than two customers in an arm or zero
        variance in both gives a status instead.

    Raises
    ------
    ParameterError
        ``margin`` not a positive number or ``alpha`` outside (0, 0.5).

    Examples
    --------
    Values 1, 2, 3, 4 against 0, 1, 2, 3 with a margin of 3: ``d = -1``, ``se = 0.913``,
    ``t = (-1 + 3) / 0.913 = 2.191`` on 6 degrees of freedom, one-sided ``p = 0.0355``.

    >>> c = MeanStats(n=4, sum=10.0, sum_sq=30.0)
    >>> v = MeanStats(n=4, sum=6.0, sum_sq=14.0)
    >>> r = noninferiority_means(c, v, margin=3.0)
    >>> round(r.statistic, 3), round(r.p_value, 4), r.df, r.non_inferior
    (2.191, 0.0355, 6.0, True)
    """
    func = "noninferiority_means"
    _check(func, margin, alpha, rate=False)
    nc, nv = control.n, variant.n
    if min(nc, nv) == 0:
        return _no_test(metric, margin, alpha, higher_is_better, "welch", AbStatus.EMPTY_ARM)
    if min(nc, nv) < 2:
        return _no_test(metric, margin, alpha, higher_is_better, "welch",
                        AbStatus.TOO_LITTLE_DATA)
    estimate = variant.mean - control.mean
    a, b = control.variance / nc, variant.variance / nv
    if a + b == 0:
        return _no_test(metric, margin, alpha, higher_is_better, "welch",
                        AbStatus.ZERO_VARIANCE, estimate)
    # Welch-Satterthwaite degrees of freedom, as in welch_ttest.
    df = (a + b) ** 2 / (a * a / (nc - 1) + b * b / (nv - 1))
    return _result(metric, estimate, math.sqrt(a + b), float(margin), float(alpha),
                   higher_is_better, "welch", df)
