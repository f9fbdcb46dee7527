"""Sufficient statistics per arm and the result of comparing two arms.

Every readout in :mod:`workbench.abtest` is a pure function of these small values (the
gbstats design): the backend reduces millions of customers to a handful of sums per arm, and
the statistics never see a customer row. All moments are per *customer*, the unit of
randomisation, so ratio metrics such as AOV get the delta-method variance of [1].

References
----------
[1] Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics:
    A Practical Guide with Novel Ideas. KDD '18, section 3 (eq. (2)-(4)).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields

import pandas as pd

from workbench.errors import ParameterError

__all__ = [
    "MIN_USERS",
    "AbStatus",
    "Comparison",
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
]

#: Arms with fewer customers than this get ``TOO_LITTLE_DATA`` (the estimates are still shown).
MIN_USERS = 30


class AbStatus(enum.StrEnum):
    """Outcome of a comparison; data conditions are outcomes, not exceptions.

    Values equal to those of :class:`workbench.results.Status` compare equal to them (both are
    ``str`` enums), so ``result.ok`` works on either.
    """

    OK = "ok"
    NO_DATA = "no_data"
    TOO_LITTLE_DATA = "too_little_data"
    EMPTY_ARM = "empty_arm"
    ZERO_CONVERSIONS = "zero_conversions"
    ZERO_VARIANCE = "zero_variance"
    SAMPLE_RATIO_MISMATCH = "sample_ratio_mismatch"


def _check_counts(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ParameterError(f"{owner}: {name!r} must be a finite number >= 0; got {value!r}.")


@dataclass(frozen=True, slots=True)
class ProportionStats:
    """Customers ``n`` and how many of them converted (``successes``)."""

    n: int
    successes: int

    def __post_init__(self) -> None:
        _check_counts("ProportionStats", n=self.n, successes=self.successes)
        if self.successes > self.n:
            raise ParameterError(
                f"ProportionStats: 'successes' ({self.successes}) cannot exceed 'n' ({self.n})."
            )

    @property
    def rate(self) -> float:
        """Conversion rate (NaN for an empty arm)."""
        return self.successes / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Bernoulli variance ``p (1 - p)`` of one customer."""
        p = self.rate
        return p * (1.0 - p)


@dataclass(frozen=True, slots=True)
class MeanStats:
    """Customers ``n``, the sum of a per-customer value and the sum of its squares."""

    n: int
    sum: float
    sum_sq: float

    def __post_init__(self) -> None:
        _check_counts("MeanStats", n=self.n, sum_sq=self.sum_sq)
        if not math.isfinite(self.sum):
            raise ParameterError(f"MeanStats: 'sum' must be finite; got {self.sum!r}.")

    @property
    def mean(self) -> float:
        """Mean per customer."""
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (ddof = 1), never negative despite rounding."""
        if self.n < 2:
            return math.nan
        return max((self.sum_sq - self.sum * self.sum / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True, slots=True)
class RatioStats:
    """Per-customer numerator ``x`` and denominator ``y`` of a ratio metric (e.g. revenue/orders).

    ``sum_x``, ``sum_y``, ``sum_x_sq``, ``sum_y_sq`` and ``sum_xy`` are sums over customers.
    """

    n: int
    sum_x: float
    sum_y: float
    sum_x_sq: float
    sum_y_sq: float
    sum_xy: float

    def __post_init__(self) -> None:
        _check_counts("RatioStats", n=self.n, sum_y=self.sum_y, sum_x_sq=self.sum_x_sq,
                      sum_y_sq=self.sum_y_sq)

    @property
    def ratio(self) -> float:
        """``sum_x / sum_y`` (NaN when the denominator is zero)."""
        return self.sum_x / self.sum_y if self.sum_y else math.nan

    def variance(self) -> float:
        """Delta-method variance of the ratio, eq. (4) in [1] with per-customer moments.

        ``Var(R) = (s_xx - 2 R s_xy + R^2 s_yy) / (n * ybar^2)`` with ``s`` the sample
        (co)variances (ddof = 1) and ``R = xbar / ybar``.
        """
        n = self.n
        if n < 2 or not self.sum_y:
            return math.nan
        mx, my = self.sum_x / n, self.sum_y / n
        sxx = (self.sum_x_sq - n * mx * mx) / (n - 1)
        syy = (self.sum_y_sq - n * my * my) / (n - 1)
        sxy = (self.sum_xy - n * mx * my) / (n - 1)
        r = mx / my
        return max((sxx - 2 * r * sxy + r * r * syy) / (n * my * my), 0.0)


@dataclass(frozen=True, slots=True)
class CupedStats:
    """Metric ``y`` and pre-period covariate ``x`` per customer, for CUPED."""

    n: int
    sum_y: float
    sum_y_sq: float
    sum_x: float
    sum_x_sq: float
    sum_xy: float

    def __post_init__(self) -> None:
        _check_counts("CupedStats", n=self.n, sum_y_sq=self.sum_y_sq, sum_x_sq=self.sum_x_sq)

    @property
    def y(self) -> MeanStats:
        """The metric alone."""
        return MeanStats(self.n, self.sum_y, self.sum_y_sq)

    @property
    def x(self) -> MeanStats:
        """The covariate alone."""
        return MeanStats(self.n, self.sum_x, self.sum_x_sq)

    def __add__(self, other: CupedStats) -> CupedStats:
        return CupedStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def covariance(self) -> float:
        """Sample covariance of ``y`` and ``x`` (ddof = 1)."""
        if self.n < 2:
            return math.nan
        return (self.sum_xy - self.sum_x * self.sum_y / self.n) / (self.n - 1)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Treatment arm against the control arm on one metric.

    ``effect`` is the absolute difference (treatment - control) with its confidence interval;
    ``lift`` the relative difference with a delta-method interval. ``p_value`` is two-sided.
    """

    metric: str
    variant: str
    control: str
    kind: str  # proportion | mean | ratio | cuped
    test: str  # z | fisher | welch | delta | cuped-welch
    n_control: int
    n_variant: int
    value_control: float
    value_variant: float
    effect: float
    ci_low: float
    ci_high: float
    lift: float
    lift_ci_low: float
    lift_ci_high: float
    p_value: float
    alpha: float = 0.05
    std_error: float = math.nan
    variance_reduction: float = math.nan
    status: AbStatus = AbStatus.OK
    message: str = ""

    @property
    def ci(self) -> tuple[float, float]:
        """Confidence interval of the absolute effect."""
        return (self.ci_low, self.ci_high)

    @property
    def significant(self) -> bool:
        """The interval excludes zero (equivalently p < alpha for the symmetric tests)."""
        if math.isnan(self.p_value):
            return False
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (status as its string value)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["status"] = str(self.status)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return one tidy row."""
        return pd.DataFrame([self.to_dict()])
