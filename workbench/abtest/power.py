"""Planning an experiment: sample size per arm, minimum detectable effect, duration and power.

All functions are closed-form (normal approximation) and take plain numbers, so the audience
builder can ask "what lift could a test on this audience detect?" without touching the store.
:func:`plan_experiment` is the one planner the pages use: it returns the numbers (and a status
for inputs no test can meet) and each page words them.

The two-proportion sample size is the classic formula with the pooled variance under the null
and the unpooled variance under the alternative (eq. (4.14) in [1]; the same as statsmodels'
``samplesize_proportions_2indep_onetail``)::

    n = ( z_{1-a/2} * sqrt(pbar (1 - pbar) (1 + 1/k)) + z_{1-b} * sqrt(p1 q1 + p2 q2 / k) )^2 / d^2

with ``p1`` the baseline, ``p2 = p1 (1 + mde)``, ``d = p2 - p1``, ``k = n2 / n1`` and
``pbar = (p1 + k p2) / (1 + k)``. For a mean,
``n = (1 + 1/k) sigma^2 (z_{1-a/2} + z_{1-b})^2 / d^2``
(statsmodels' ``NormalIndPower`` without the negligible far tail).

:func:`power_proportions` and :func:`power_means` answer the other question, "what power does
this size (or these many days of traffic) give?", with the same formulas solved for the power
and the far tail of a two-sided test added (statsmodels' ``power_proportions_2indep`` and
``NormalIndPower().power``).

References
----------
[1] Fleiss, J. L., Levin, B., Paik, M. C. (2003). Statistical Methods for Rates and Proportions,
    3rd ed., Wiley, section 4.2.
[2] Chow, S.-C., Shao, J., Wang, H. (2008). Sample Size Calculations in Clinical Research,
    2nd ed., Chapman & Hall, section 3.2.1 (two-sample means).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from scipy import optimize, stats

from workbench.abtest._checks import check_non_negative, check_positive, check_probability
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = [
    "DurationEstimate",
    "ExperimentPlan",
    "PlanStatus",
    "expected_duration_days",
    "minimum_detectable_effect",
    "minimum_detectable_effect_mean",
    "plan_experiment",
    "power_means",
    "power_proportions",
    "sample_size_mean",
    "sample_size_per_arm",
]


def _check_common(func: str, alpha: float, power: float, ratio: float) -> None:
    check_probability(alpha, "alpha", func)
    check_probability(power, "power", func)
    check_positive(ratio, "ratio", func)


def _check_lift(value: object, name: str, func: str) -> None:
    if not isinstance(value, int | float) or value == 0 or not math.isfinite(value):
        raise ParameterError(tr(f"abtest.error.{name}", func=func, got=repr(value)))


def _lifted_in_range(baseline_rate: float, mde: float) -> bool:
    return 0.0 < baseline_rate * (1.0 + mde) < 1.0


def _critical_values(alpha: float, power: float, two_sided: bool) -> tuple[float, float]:
    z_alpha = stats.norm.isf(alpha / 2 if two_sided else alpha)
    z_power = stats.norm.isf(1.0 - power)
    return float(z_alpha), float(z_power)


def _n_proportions(p1: float, p2: float, z_alpha: float, z_power: float, ratio: float) -> float:
    """Return the (fractional) control-arm size for rates p1 -> p2 (eq. (4.14) in [1])."""
    diff = p2 - p1
    pooled = (p1 + ratio * p2) / (1.0 + ratio)
    sd_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 + 1.0 / ratio))
    sd_alt = math.sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2) / ratio)
    return ((z_alpha * sd_null + z_power * sd_alt) / diff) ** 2


def sample_size_per_arm(
    baseline_rate: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    two_sided: bool = True,
) -> int:
    """Return the number of customers needed in the control arm to detect a relative lift.

    Parameters
    ----------
    baseline_rate
        Conversion rate of the control arm, in (0, 1).
    mde
        Minimum detectable effect, relative to the baseline (0.1 = a 10% lift). Negative values
        plan for a drop.
    alpha
        Significance level of the test.
    power
        Probability of detecting an effect of exactly ``mde``.
    ratio
        Treatment size divided by control size (1 for an even split).
    two_sided
        Plan for a two-sided test (the readout is two-sided).

    Returns
    -------
    int
        Control-arm size, rounded up; the treatment arm needs ``ceil(ratio * n)``.

    Raises
    ------
    ParameterError
        When a rate is outside (0, 1) or the lifted rate leaves (0, 1).

    Examples
    --------
    >>> sample_size_per_arm(0.05, 0.10)
    31234
    """
    func = "sample_size_per_arm"
    check_probability(baseline_rate, "baseline_rate", func)
    _check_common(func, alpha, power, ratio)
    _check_lift(mde, "mde", func)
    treated = baseline_rate * (1.0 + mde)
    if not _lifted_in_range(baseline_rate, mde):
        raise ParameterError(tr("abtest.error.lifted_rate", func=func, got=f"{treated:.4g}"))
    z_alpha, z_power = _critical_values(alpha, power, two_sided)
    return math.ceil(_n_proportions(baseline_rate, treated, z_alpha, z_power, ratio) - 1e-9)


def minimum_detectable_effect(
    n_per_arm: float,
    baseline_rate: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    two_sided: bool = True,
) -> float:
    """Return the smallest relative lift a test with ``n_per_arm`` customers per arm detects.

    Inverts :func:`sample_size_per_arm` for an increase: the rate ``p2 > p1`` whose required
    size equals ``n_per_arm`` is found with Brent's method (the size is monotone in ``p2``).

    Parameters
    ----------
    n_per_arm
        Customers in the control arm (the treatment arm has ``ratio`` times as many).
    baseline_rate
        Conversion rate of the control arm, in (0, 1).
    alpha, power, ratio, two_sided
        As in :func:`sample_size_per_arm`.

    Returns
    -------
    float
        Relative MDE (0.1 = 10% lift); ``inf`` when even a jump to a rate near 1 is not detectable.

    Examples
    --------
    >>> round(minimum_detectable_effect(31234, 0.05), 3)
    0.1
    """
    func = "minimum_detectable_effect"
    check_positive(n_per_arm, "n_per_arm", func)
    check_probability(baseline_rate, "baseline_rate", func)
    _check_common(func, alpha, power, ratio)
    z_alpha, z_power = _critical_values(alpha, power, two_sided)
    top = 1.0 - 1e-12
    if _n_proportions(baseline_rate, top, z_alpha, z_power, ratio) > n_per_arm:
        return math.inf
    low = baseline_rate + max(baseline_rate * 1e-9, 1e-15)
    target = float(n_per_arm)
    p2 = optimize.brentq(
        lambda p: _n_proportions(baseline_rate, p, z_alpha, z_power, ratio) - target,
        low,
        top,
        xtol=1e-14,
        rtol=1e-12,
    )
    return float(p2 / baseline_rate - 1.0)


def sample_size_mean(
    sd: float,
    mde_abs: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    two_sided: bool = True,
) -> int:
    """Return the control-arm size to detect an absolute difference in a mean (revenue per user).

    ``n = (1 + 1/k) sd^2 (z_{1-a/2} + z_{1-b})^2 / d^2`` (section 3.2.1 in [2]).

    Examples
    --------
    >>> sample_size_mean(1.0, 0.1)
    1570
    """
    func = "sample_size_mean"
    check_positive(sd, "sd", func)
    _check_common(func, alpha, power, ratio)
    _check_lift(mde_abs, "mde_abs", func)
    z_alpha, z_power = _critical_values(alpha, power, two_sided)
    n = (1.0 + 1.0 / ratio) * (sd * (z_alpha + z_power) / mde_abs) ** 2
    return math.ceil(n - 1e-9)


def minimum_detectable_effect_mean(
    n_per_arm: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    two_sided: bool = True,
) -> float:
    """Return the smallest absolute difference in a mean detectable with ``n_per_arm`` per arm.

    Examples
    --------
    >>> round(minimum_detectable_effect_mean(1570, 1.0), 3)
    0.1
    """
    func = "minimum_detectable_effect_mean"
    check_positive(n_per_arm, "n_per_arm", func)
    check_positive(sd, "sd", func)
    _check_common(func, alpha, power, ratio)
    z_alpha, z_power = _critical_values(alpha, power, two_sided)
    return float((z_alpha + z_power) * sd * math.sqrt((1.0 + 1.0 / ratio) / n_per_arm))


@dataclass(frozen=True, slots=True)
class DurationEstimate:
    """How long a test runs: customers needed in total and days at the stated traffic."""

    total_customers: int
    days: int
    limiting_arm: str


def expected_duration_days(
    n_per_arm: int,
    daily_customers: float,
    shares: dict[str, float],
) -> DurationEstimate:
    """Return the days until every arm reaches ``n_per_arm`` customers.

    Each day ``daily_customers`` new customers enter the test and arm ``v`` receives a share
    ``shares[v]`` of them (shares are normalised to sum to one, so a holdout share can be
    included). The smallest share is the bottleneck: ``days = ceil(n / (traffic * min share))``.

    Examples
    --------
    >>> expected_duration_days(10_000, 2_000, {"control": 0.5, "B": 0.5})
    DurationEstimate(total_customers=20000, days=10, limiting_arm='control')
    """
    func = "expected_duration_days"
    check_positive(n_per_arm, "n_per_arm", func)
    check_positive(daily_customers, "daily_customers", func)
    if not shares or any(not (isinstance(s, int | float) and s > 0) for s in shares.values()):
        raise ParameterError(tr("abtest.error.positive_shares", func=func, got=repr(shares)))
    total = float(sum(shares.values()))
    limiting = min(shares, key=lambda k: shares[k])
    per_day = daily_customers * shares[limiting] / total
    days = math.ceil(n_per_arm / per_day - 1e-9)
    return DurationEstimate(
        total_customers=math.ceil(n_per_arm * total / shares[limiting] - 1e-9),
        days=days,
        limiting_arm=limiting,
    )


class PlanStatus(enum.StrEnum):
    """Whether a plan could be made; impossible inputs from a form are outcomes, not errors."""

    OK = "ok"
    #: ``baseline_rate * (1 + mde)`` leaves (0, 1): no test can detect that lift.
    LIFT_OUT_OF_RANGE = "lift_out_of_range"
    #: The audience leaves fewer than two customers in the baseline or in a treated arm.
    AUDIENCE_TOO_SMALL = "audience_too_small"


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """Customers, days and detectable lift of a planned test: numbers only, worded by the page.

    Parameters
    ----------
    baseline_rate, mde, alpha, power
        The inputs (``mde`` is ``None`` when no lift was planned for).
    lifted_rate
        ``baseline_rate * (1 + mde)``, the treated arm's rate planned for (``None``: no ``mde``).
    n_per_arm
        Customers each arm needs to detect ``mde`` (``None``: no ``mde``, or it is impossible).
    days, total_customers
        Days until every arm (the holdout included) has ``n_per_arm`` customers at the given
        traffic, and the customers that takes in all (``None``: no traffic given).
    audience, baseline_size, variant_size
        The audience and its split: the baseline (the holdout, or without one the first of
        the equal arms) and one treated arm.
    detectable_mde
        Smallest relative lift a treated arm of the audience detects against the baseline
        (``None``: no audience, or too small; ``inf``: none is detectable).
    status
        :class:`PlanStatus`; the first problem found.
    """

    baseline_rate: float
    mde: float | None
    alpha: float
    power: float
    lifted_rate: float | None
    n_per_arm: int | None
    days: int | None
    total_customers: int | None
    audience: float
    baseline_size: float
    variant_size: float
    detectable_mde: float | None
    status: PlanStatus


def plan_experiment(
    baseline_rate: float,
    *,
    mde: float | None = None,
    audience: float = 0,
    arms: int = 2,
    holdout_share: float = 0.0,
    daily_customers: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> ExperimentPlan:
    """Return what a test needs (customers and days for a lift) and what an audience can detect.

    The customers are split into a holdout of ``holdout_share`` and ``arms`` equal arms sharing
    the rest. The comparison planned is one treated arm against the baseline: the holdout, or
    without a holdout the first of the arms (so ``arms`` must then be at least 2). Sizes come
    from :func:`sample_size_per_arm` (even split), days from :func:`expected_duration_days`
    and the detectable lift from :func:`minimum_detectable_effect` with the audience's split.

    Parameters
    ----------
    baseline_rate
        Conversion rate of the baseline, in (0, 1).
    mde
        Relative lift to plan for (0.1 = 10%); ``None``: only what the audience can detect.
    audience
        Customers available for the test (0: none given).
    arms
        Arms that share the customers outside the holdout equally (control and variants).
    holdout_share
        Share kept out as the untreated baseline, in [0, 1).
    daily_customers
        New customers entering the test per day (0: no duration).
    alpha, power
        Significance level and power of the two-sided test.

    Returns
    -------
    ExperimentPlan
        ``LIFT_OUT_OF_RANGE`` when the lifted rate leaves (0, 1), ``AUDIENCE_TOO_SMALL`` when
        an arm of the audience has fewer than two customers; the other numbers are filled in.

    Raises
    ------
    ParameterError
        A rate, ``alpha`` or ``power`` outside (0, 1), a zero ``mde``, ``holdout_share``
        outside [0, 1), negative counts, or fewer arms than a comparison needs.

    Examples
    --------
    >>> plan = plan_experiment(0.05, mde=0.10, daily_customers=2_000)
    >>> plan.n_per_arm, plan.days, plan.status
    (31234, 32, <PlanStatus.OK: 'ok'>)
    >>> plan = plan_experiment(0.05, audience=50_000, arms=1, holdout_share=0.1)
    >>> plan.baseline_size, plan.variant_size, round(plan.detectable_mde, 3)
    (5000.0, 45000.0, 0.192)
    >>> plan_experiment(0.6, mde=1.0).status
    <PlanStatus.LIFT_OUT_OF_RANGE: 'lift_out_of_range'>
    """
    func = "plan_experiment"
    for name, value in (("baseline_rate", baseline_rate), ("alpha", alpha), ("power", power)):
        check_probability(value, name, func)
    check_non_negative(func, audience=audience, daily_customers=daily_customers)
    if not isinstance(holdout_share, int | float) or not 0.0 <= holdout_share < 1.0:
        raise ParameterError(tr("abtest.error.share", func=func, name="holdout_share",
                                got=repr(holdout_share)))
    fewest = 1 if holdout_share > 0 else 2
    if not isinstance(arms, int) or arms < fewest:
        raise ParameterError(tr("params.at_least", owner=func, name="arms", low=fewest,
                                got=repr(arms)))
    if mde is not None:
        _check_lift(mde, "mde", func)
    status = PlanStatus.OK
    n = days = total = None
    lifted = None if mde is None else baseline_rate * (1.0 + mde)
    if mde is not None and not _lifted_in_range(baseline_rate, mde):
        status = PlanStatus.LIFT_OUT_OF_RANGE
    elif mde is not None:
        n = sample_size_per_arm(baseline_rate, mde, alpha=alpha, power=power)
        if daily_customers > 0:
            shares = {f"arm{i}": (1.0 - holdout_share) / arms for i in range(arms)}
            if holdout_share > 0:
                shares["holdout"] = float(holdout_share)
            duration = expected_duration_days(n, daily_customers, shares)
            days, total = duration.days, duration.total_customers
    variant = audience * (1.0 - holdout_share) / arms
    baseline = audience * holdout_share if holdout_share > 0 else variant
    detectable = None
    if audience > 0 and min(baseline, variant) >= 2:
        detectable = minimum_detectable_effect(baseline, baseline_rate, alpha=alpha, power=power,
                                               ratio=variant / baseline)
    elif audience > 0 and status == PlanStatus.OK:
        status = PlanStatus.AUDIENCE_TOO_SMALL
    return ExperimentPlan(
        baseline_rate=float(baseline_rate), mde=mde, alpha=float(alpha), power=float(power),
        lifted_rate=lifted, n_per_arm=n, days=days, total_customers=total, audience=audience,
        baseline_size=float(baseline), variant_size=float(variant), detectable_mde=detectable,
        status=status,
    )


# -- power at a given size or duration (issue 17 point 5) ----------------------------------------


def _arm_sizes(func: str, n_per_arm: float | None, ratio: float, daily_customers: float | None,
               days: float | None, shares: tuple[float, float]) -> tuple[float, float]:
    """Return the control arm's size and the treatment/control ratio from either input form."""
    by_size = n_per_arm is not None
    by_duration = daily_customers is not None or days is not None
    if by_size == by_duration or (by_duration and (daily_customers is None or days is None)):
        raise ParameterError(tr("power_lift.error.sizes", func=func, n=repr(n_per_arm),
                                daily=repr(daily_customers), days=repr(days)))
    if by_size:
        check_positive(n_per_arm, "n_per_arm", func)
        check_positive(ratio, "ratio", func)
        return float(n_per_arm), float(ratio)
    check_positive(daily_customers, "daily_customers", func)
    check_positive(days, "days", func)
    ok = (isinstance(shares, tuple | list) and len(shares) == 2
          and all(isinstance(s, int | float) and 0.0 < s <= 1.0 for s in shares)
          and shares[0] + shares[1] <= 1.0 + 1e-12)
    if not ok:
        raise ParameterError(tr("power_lift.error.shares", func=func, got=repr(shares)))
    n_control = float(daily_customers) * float(days) * float(shares[0])
    return n_control, float(shares[1]) / float(shares[0])


def _normal_power(diff: float, n: float, sd_null: float, sd_alt: float, alpha: float,
                  two_sided: bool) -> float:
    """Return the power of a z test of ``diff`` with ``n`` in the control arm.

    ``sd_null`` and ``sd_alt`` are the standard deviations of ``sqrt(n) * estimate`` under the
    null and under the alternative. The near tail solves eq. (4.14) in [1] for the power;
    a two-sided test also rejects in the far tail (statsmodels' ``normal_power_het``).
    """
    z_alpha = stats.norm.isf(alpha / 2 if two_sided else alpha)
    shift = abs(diff) * math.sqrt(n) / sd_alt
    ratio = sd_null / sd_alt
    power = stats.norm.sf(z_alpha * ratio - shift)
    if two_sided:
        power += stats.norm.cdf(-z_alpha * ratio - shift)
    return float(power)


def power_proportions(
    baseline_rate: float,
    mde: float,
    *,
    n_per_arm: float | None = None,
    ratio: float = 1.0,
    daily_customers: float | None = None,
    days: float | None = None,
    shares: tuple[float, float] = (0.5, 0.5),
    alpha: float = 0.05,
    two_sided: bool = True,
) -> float:
    """Return the power to detect a relative lift with a given sample size or test duration.

    The inverse of :func:`sample_size_per_arm`, with the same formula (eq. (4.14) in [1]:
    pooled variance under the null, unpooled under the alternative): the two-sided power adds
    the far tail, so ``power_proportions(b, m, n_per_arm=sample_size_per_arm(b, m))`` is at
    least 0.8. Give the size either as ``n_per_arm`` (control arm; the treatment arm has
    ``ratio`` times as many) or as a duration: ``daily_customers`` eligible customers a day
    for ``days`` days, of whom a share ``shares[0]`` goes to control and ``shares[1]`` to the
    treatment (the rest, such as a holdout or other variants, is not compared).

    Parameters
    ----------
    baseline_rate
        Conversion rate of the control arm, in (0, 1).
    mde
        Relative lift to detect (0.1 = a 10% lift); negative values for a drop.
    n_per_arm, ratio
        Control-arm size and treatment/control size ratio (the size form).
    daily_customers, days, shares
        Eligible customers per day, days, and the (control, treatment) shares of them (the
        duration form).
    alpha
        Significance level.
    two_sided
        Power of the two-sided test (the readout's); ``False``: the one-sided test in the
        direction of ``mde``.

    Returns
    -------
    float
        Probability that the test rejects when the true lift is ``mde``.

    Raises
    ------
    ParameterError
        Both or neither size forms, a rate or ``alpha`` outside (0, 1), a zero ``mde``, a lifted
        rate outside (0, 1), non-positive sizes or shares that do not fit in one.

    Examples
    --------
    >>> round(power_proportions(0.05, 0.10, n_per_arm=31234), 4)
    0.8
    >>> round(power_proportions(0.05, 0.10, daily_customers=2_000, days=14), 3)
    0.466
    """
    func = "power_proportions"
    check_probability(baseline_rate, "baseline_rate", func)
    check_probability(alpha, "alpha", func)
    _check_lift(mde, "mde", func)
    treated = baseline_rate * (1.0 + mde)
    if not _lifted_in_range(baseline_rate, mde):
        raise ParameterError(tr("abtest.error.lifted_rate", func=func, got=f"{treated:.4g}"))
    n, k = _arm_sizes(func, n_per_arm, ratio, daily_customers, days, shares)
    pooled = (baseline_rate + k * treated) / (1.0 + k)
    sd_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 + 1.0 / k))
    sd_alt = math.sqrt(baseline_rate * (1.0 - baseline_rate) + treated * (1.0 - treated) / k)
    return _normal_power(treated - baseline_rate, n, sd_null, sd_alt, alpha, two_sided)


def power_means(
    sd: float,
    mde_abs: float,
    *,
    n_per_arm: float | None = None,
    ratio: float = 1.0,
    daily_customers: float | None = None,
    days: float | None = None,
    shares: tuple[float, float] = (0.5, 0.5),
    alpha: float = 0.05,
    two_sided: bool = True,
) -> float:
    """Return the power to detect an absolute difference in a mean (revenue per user).

    The inverse of :func:`sample_size_mean` (section 3.2.1 in [2]); the two-sided power adds
    the far tail, as statsmodels' ``NormalIndPower().power`` does. The size forms are those of
    :func:`power_proportions`.

    Parameters
    ----------
    sd
        Standard deviation of the metric per customer (both arms).
    mde_abs
        Absolute difference to detect, in the metric's unit.
    n_per_arm, ratio, daily_customers, days, shares, alpha, two_sided
        As in :func:`power_proportions`.

    Returns
    -------
    float
        Probability that the test rejects when the true difference is ``mde_abs``.

    Examples
    --------
    >>> round(power_means(1.0, 0.1, n_per_arm=1570), 3)
    0.8
    >>> round(power_means(20_000, 500, daily_customers=3_000, days=28, shares=(0.1, 0.9)), 3)
    0.585
    """
    func = "power_means"
    check_positive(sd, "sd", func)
    check_probability(alpha, "alpha", func)
    _check_lift(mde_abs, "mde_abs", func)
    n, k = _arm_sizes(func, n_per_arm, ratio, daily_customers, days, shares)
    sd_diff = sd * math.sqrt(1.0 + 1.0 / k)
    return _normal_power(mde_abs, n, sd_diff, sd_diff, alpha, two_sided)
