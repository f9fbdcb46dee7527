"""Always-valid p-value and interval of the relative lift (variant / control - 1).

Teams that look at a test every day want the lift ("+8%"), not the absolute difference, with
the same guarantee as :func:`~workbench.abtest.sequential.sequential_interval`: the interval
holds at every look at once. The lift is a ratio, so the method works on the log scale, where
the estimate is close to normal and the arms' variances add (delta method, section 3 of [3])::

    theta = log(m_v / m_c),   se^2 = s_v^2 / (n_v m_v^2) + s_c^2 / (n_c m_c^2)

with ``m`` the conversion rate or mean and ``s^2`` the customer-level variance (``p (1 - p)``
for a rate, so ``se^2 = (1 - p_v) / (n_v p_v) + (1 - p_c) / (n_c p_c)``, statsmodels'
``confint_proportions_2indep(compare="ratio", method="log")``).

On that scale we run the mixture sequential probability ratio test (mSPRT) of Johari et al.
[1, 2] with the normal mixture ``H = N(0, tau^2)`` (their closed form for normal data): after
``t`` customers (both arms) with per-customer variance ``sigma^2 = t se^2``::

    Lambda_t(theta0) = sqrt(sigma^2 / (sigma^2 + t tau^2))
                       * exp( t^2 tau^2 (theta - theta0)^2 / (2 sigma^2 (sigma^2 + t tau^2)) )

The always-valid p-value is ``min(1, 1 / Lambda_t(0))`` (take the running minimum over your
looks) and the interval is ``{theta0 : Lambda_t(theta0) < 1 / alpha}``, mapped back with
``exp(.) - 1``. With ``tau^2 = rho^2 sigma^2`` the interval is exactly the normal-mixture
confidence sequence of :mod:`workbench.abtest.sequential`, so ``n_star`` (the total customers
at which the interval is tightest) tunes both in the same way. The lift's interval is not
symmetric around the estimate, and it always contains the fixed-horizon log interval.

References
----------
[1] Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2017). Peeking at A/B Tests: Why it matters,
    and what to do about it. KDD '17, section 3.
[2] Johari, R., Koomen, P., Pekelis, L., Walsh, D. (2022). Always Valid Inference: Continuous
    Monitoring of A/B Tests. Operations Research 70(3), 1806-1821.
[3] Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics:
    A Practical Guide with Novel Ideas. KDD '18.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from workbench.abtest._checks import check_positive, check_probability
from workbench.abtest.sequential import DEFAULT_N_STAR, _rho_squared, sequential_halfwidth
from workbench.abtest.stats import MIN_USERS, AbStatus, MeanStats, ProportionStats
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["SequentialLift", "sequential_lift"]

_NAN = math.nan


@dataclass(frozen=True, slots=True)
class SequentialLift:
    """Relative lift with its always-valid interval and p-value; numbers and a status.

    ``reason`` says what a status other than ``OK`` means: ``empty_arm``, ``too_few`` (an arm
    has fewer than :data:`~workbench.abtest.stats.MIN_USERS` customers; numbers still filled
    in), ``non_positive`` (a rate or mean of zero or below: no ratio), ``zero_variance``.
    """

    kind: str  # proportion | mean
    n_control: int
    n_variant: int
    value_control: float
    value_variant: float
    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    log_ratio: float
    std_error: float  # of log_ratio
    alpha: float
    n_star: float
    status: AbStatus = AbStatus.OK
    reason: str = ""

    @property
    def significant(self) -> bool:
        """The always-valid interval excludes a lift of zero (``p_value < alpha``)."""
        return not math.isnan(self.p_value) and self.p_value < self.alpha

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (status as its string value)."""
        out = asdict(self)
        out["status"] = str(self.status)
        return out


def _moments(arm: ProportionStats | MeanStats) -> tuple[float, float]:
    if isinstance(arm, ProportionStats):
        return arm.rate, arm.variance
    return arm.mean, arm.variance


def _problem(n: tuple[int, int], values: tuple[float, float], variances: tuple[float, float]
             ) -> tuple[AbStatus, str] | None:
    if min(n) == 0:
        return AbStatus.EMPTY_ARM, "empty_arm"
    if any(math.isnan(v) for v in variances):
        return AbStatus.TOO_LITTLE_DATA, "too_few"
    if min(values) <= 0:
        return AbStatus.ZERO_CONVERSIONS, "non_positive"
    return None


def sequential_lift(
    control: ProportionStats | MeanStats,
    variant: ProportionStats | MeanStats,
    *,
    alpha: float = 0.05,
    n_star: float = DEFAULT_N_STAR,
) -> SequentialLift:
    """Return the relative lift with an always-valid (peeking-safe) interval and p-value.

    Parameters
    ----------
    control, variant
        Both :class:`ProportionStats` (a conversion rate) or both :class:`MeanStats` (a mean
        such as revenue per user; both means must be positive).
    alpha
        Error rate over all looks together.
    n_star
        Total customers (both arms) at which the interval is tightest; set it to the planned
        size of the test. Any value keeps the guarantee.

    Returns
    -------
    SequentialLift
        ``lift = m_v / m_c - 1`` with ``ci_low``, ``ci_high`` and ``p_value``; a status instead
        of numbers when an arm is empty, a rate or mean is not positive, or nothing varies.

    Raises
    ------
    ParameterError
        Arms of different or unknown kinds, ``alpha`` outside (0, 1), ``n_star`` not positive.

    Examples
    --------
    >>> r = sequential_lift(ProportionStats(5000, 500), ProportionStats(5000, 580))
    >>> round(r.lift, 3), round(r.ci_low, 3), round(r.ci_high, 3), round(r.p_value, 3)
    (0.16, -0.026, 0.382, 0.158)
    """
    func = "sequential_lift"
    kinds = (type(control), type(variant))
    if kinds not in ((ProportionStats, ProportionStats), (MeanStats, MeanStats)):
        got = f"{kinds[0].__name__}, {kinds[1].__name__}"
        raise ParameterError(tr("power_lift.error.arms", func=func, got=got))
    check_probability(alpha, "alpha", func)
    check_positive(n_star, "n_star", func)
    kind = "proportion" if kinds[0] is ProportionStats else "mean"
    (mc, vc), (mv, vv) = _moments(control), _moments(variant)
    n = (int(control.n), int(variant.n))
    base = {"kind": kind, "n_control": n[0], "n_variant": n[1], "value_control": mc,
            "value_variant": mv, "alpha": float(alpha), "n_star": float(n_star)}
    nan = {"lift": _NAN, "ci_low": _NAN, "ci_high": _NAN, "p_value": _NAN, "log_ratio": _NAN,
           "std_error": _NAN}
    problem = _problem(n, (mc, mv), (vc, vv))
    if problem is not None:
        return SequentialLift(**base, **nan, status=problem[0], reason=problem[1])
    theta = math.log(mv / mc)
    se = math.sqrt(vv / (n[1] * mv * mv) + vc / (n[0] * mc * mc))
    if se == 0:
        return SequentialLift(**{**base, **nan, "lift": math.expm1(theta), "log_ratio": theta},
                              status=AbStatus.ZERO_VARIANCE, reason="zero_variance")
    t = n[0] + n[1]
    half = sequential_halfwidth(se, t, alpha=alpha, n_star=n_star)
    # 1 / Lambda_t(0) with tau^2 = rho^2 sigma^2, v = t rho^2: sqrt(1 + v) exp(-v z^2 / (2 (1 + v)))
    v = t * _rho_squared(alpha, n_star)
    z = theta / se
    log_lambda = 0.5 * v * z * z / (1.0 + v) - 0.5 * math.log1p(v)
    status, reason = ((AbStatus.TOO_LITTLE_DATA, "too_few") if min(n) < MIN_USERS
                      else (AbStatus.OK, ""))
    return SequentialLift(
        **base, lift=math.expm1(theta), ci_low=math.expm1(theta - half),
        ci_high=math.expm1(theta + half), p_value=min(1.0, math.exp(-log_lambda)),
        log_ratio=theta, std_error=se, status=status, reason=reason,
    )
