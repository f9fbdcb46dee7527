"""Planning an experiment: sample size per arm, minimum detectable effect, expected duration.

All functions are closed-form (normal approximation) and take plain numbers, so the audience
builder can ask "what lift could a test on this audience detect?" without touching the store.

The two-proportion sample size is the classic formula with the pooled variance under the null
and the unpooled variance under the alternative (eq. (4.14) in [1]; the same as statsmodels'
``samplesize_proportions_2indep_onetail``)::

    n = ( z_{1-a/2} * sqrt(pbar (1 - pbar) (1 + 1/k)) + z_{1-b} * sqrt(p1 q1 + p2 q2 / k) )^2 / d^2

with ``p1`` the baseline, ``p2 = p1 (1 + mde)``, ``d = p2 - p1``, ``k = n2 / n1`` and
``pbar = (p1 + k p2) / (1 + k)``. For a mean,
``n = (1 + 1/k) sigma^2 (z_{1-a/2} + z_{1-b})^2 / d^2``
(statsmodels' ``NormalIndPower`` without the negligible far tail).

References
----------
[1] Fleiss, J. L., Levin, B., Paik, M. C. (2003). Statistical Methods for Rates and Proportions,
    3rd ed., Wiley, section 4.2.
[2] Chow, S.-C., Shao, J., Wang, H. (2008). Sample Size Calculations in Clinical Research,
    2nd ed., Chapman & Hall, section 3.2.1 (two-sample means).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

from workbench.errors import ParameterError

__all__ = [
    "DurationEstimate",
    "expected_duration_days",
    "minimum_detectable_effect",
    "minimum_detectable_effect_mean",
    "sample_size_mean",
    "sample_size_per_arm",
]


def _check_probability(name: str, value: float, func: str) -> None:
    if not (isinstance(value, int | float) and 0.0 < float(value) < 1.0):
        raise ParameterError(f"{func}: {name!r} must be in (0, 1); got {value!r}.")


def _check_positive(name: str, value: float, func: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ParameterError(f"{func}: {name!r} must be a positive number; got {value!r}.")


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
    _check_probability("baseline_rate", baseline_rate, func)
    _check_probability("alpha", alpha, func)
    _check_probability("power", power, func)
    _check_positive("ratio", ratio, func)
    if not isinstance(mde, int | float) or mde == 0 or not math.isfinite(mde):
        raise ParameterError(
            f"{func}: 'mde' must be a non-zero relative lift such as 0.1; got {mde!r}.")
    treated = baseline_rate * (1.0 + mde)
    if not 0.0 < treated < 1.0:
        raise ParameterError(
            f"{func}: baseline_rate * (1 + mde) must stay in (0, 1); got {treated:.4g}. "
            "Use a smaller 'mde'."
        )
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
    _check_positive("n_per_arm", n_per_arm, func)
    _check_probability("baseline_rate", baseline_rate, func)
    _check_probability("alpha", alpha, func)
    _check_probability("power", power, func)
    _check_positive("ratio", ratio, func)
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
    _check_positive("sd", sd, func)
    _check_probability("alpha", alpha, func)
    _check_probability("power", power, func)
    _check_positive("ratio", ratio, func)
    if not isinstance(mde_abs, int | float) or mde_abs == 0 or not math.isfinite(mde_abs):
        raise ParameterError(f"{func}: 'mde_abs' must be a non-zero difference; got {mde_abs!r}.")
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
    _check_positive("n_per_arm", n_per_arm, func)
    _check_positive("sd", sd, func)
    _check_probability("alpha", alpha, func)
    _check_probability("power", power, func)
    _check_positive("ratio", ratio, func)
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
    _check_positive("n_per_arm", n_per_arm, func)
    _check_positive("daily_customers", daily_customers, func)
    if not shares or any(not (isinstance(s, int | float) and s > 0) for s in shares.values()):
        raise ParameterError(
            f"{func}: 'shares' must map each arm to a positive share; got {shares!r}.")
    total = float(sum(shares.values()))
    limiting = min(shares, key=lambda k: shares[k])
    per_day = daily_customers * shares[limiting] / total
    days = math.ceil(n_per_arm / per_day - 1e-9)
    return DurationEstimate(
        total_customers=math.ceil(n_per_arm * total / shares[limiting] - 1e-9),
        days=days,
        limiting_arm=limiting,
    )
