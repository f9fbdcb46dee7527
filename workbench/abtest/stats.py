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

from workbench.abtest._checks import check_non_negative
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr

__all__ = [
    "HOLDOUT",
    "LEGACY_SEND",
    "METRICS",
    "SEND",
    "MIN_USERS",
    "AbStatus",
    "Comparison",
    "CupedStats",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "arm_label",
    "metric_label",
]

#: Arms with fewer customers than this get ``TOO_LITTLE_DATA`` (the estimates are still shown).
MIN_USERS = 30
#: Metrics of the readout that have a name for people (``abtest.metric.<name>``).
METRICS = ("conversion", "revenue_per_user", "aov", "open_rate", "click_rate", "opt_out_rate",
           "median_order_value")


#: The arm kept out of a campaign (no message) and the arm that got it.
HOLDOUT, SEND = "holdout", "send"
#: What earlier sample shops and audience exports wrote for :data:`SEND` beside a holdout.
LEGACY_SEND = "control"
#: Arms that have a name for people (``abtest.arm.<name>``); ``A``, ``B`` ... keep their own.
_NAMED_ARMS = (HOLDOUT, SEND, "control", "CRM")  # CRM: the global holdout's sent arm


def arm_label(arm: str, language: str | None = None) -> str:
    """Return the arm's name for people: holdout and send are named, variants keep theirs.

    Examples
    --------
    >>> arm_label("send", "en"), arm_label("holdout", "ko"), arm_label("B", "ko")
    ('send', '미발송 그룹', 'B')
    """
    return tr(f"abtest.arm.{arm}", language=language) if arm in _NAMED_ARMS else arm


def metric_label(metric: str, language: str | None = None) -> str:
    """Return the metric's name for people (a metric of your own keeps its name).

    Examples
    --------
    >>> metric_label("aov", "en"), metric_label("aov", "ko"), metric_label("basket_size", "ko")
    ('average order value', '객단가', 'basket_size')
    """
    return tr(f"abtest.metric.{metric}", language=language) if metric in METRICS else metric


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


@dataclass(frozen=True, slots=True)
class ProportionStats:
    """Customers ``n`` and how many of them converted (``successes``)."""

    n: int
    successes: int

    def __post_init__(self) -> None:
        check_non_negative("ProportionStats", n=self.n, successes=self.successes)
        if self.successes > self.n:
            raise ParameterError(tr("abtest.error.successes", successes=self.successes,
                                    n=self.n))

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
        check_non_negative("MeanStats", n=self.n, sum_sq=self.sum_sq)
        if not math.isfinite(self.sum):
            raise ParameterError(tr("abtest.error.finite", func="MeanStats", name="sum",
                                    got=repr(self.sum)))

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
        check_non_negative("RatioStats", n=self.n, sum_y=self.sum_y, sum_x_sq=self.sum_x_sq,
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
        check_non_negative("CupedStats", n=self.n, sum_y_sq=self.sum_y_sq, sum_x_sq=self.sum_x_sq)

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

    A status other than ``OK`` comes with a ``reason`` (what exactly happened), the arm it
    concerns (``reason_arm``) and a count where one matters (``reason_count``):

    ================== =================== =============================================
    reason             status              meaning
    ================== =================== =============================================
    empty_arm          EMPTY_ARM           ``reason_arm`` has no customers
    too_few            TOO_LITTLE_DATA     ``reason_arm`` has ``reason_count`` customers,
                                           fewer than :data:`MIN_USERS`
    small_denominator  TOO_LITTLE_DATA     the ratio's denominator (orders, opens) of
                                           ``reason_arm`` is ``reason_count`` units
    zero_conversions   ZERO_CONVERSIONS    nobody converted in either arm
    zero_denominator   ZERO_CONVERSIONS    the ratio of ``reason_arm`` divides by zero
    all_converted      ZERO_VARIANCE       everybody converted in both arms
    zero_variance      ZERO_VARIANCE       every customer has the same value
    ================== =================== =============================================

    The sentence for people is made on demand, in the reader's language (:meth:`summary`).
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
    reason: str = ""
    reason_arm: str = ""
    reason_count: float = math.nan

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

    def summary(self, language: str | None = None) -> str:
        """Return what the status means and what to do, or ``""`` when there is nothing to say.

        Examples
        --------
        >>> from workbench.abtest.frequentist import compare_proportions
        >>> compare_proportions(ProportionStats(0, 0), ProportionStats(10, 1)).summary("en")[:44]
        "Arm 'control' has no customers, so conversio"
        """
        if not self.reason:
            return ""
        count = "" if math.isnan(self.reason_count) else format_number(self.reason_count,
                                                                      language=language)
        return tr(f"abtest.status.{self.reason}", language=language,
                  arm=arm_label(self.reason_arm, language),
                  n=count, minimum=MIN_USERS, metric=metric_label(self.metric, language))

    @property
    def message(self) -> str:
        """:meth:`summary` in the active language."""
        return self.summary()

    def to_dict(self, language: str | None = None) -> dict[str, object]:
        """Return the fields as a plain dict (status as its string value) and the message."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["status"] = str(self.status)
        out["message"] = self.summary(language)
        return out

    def to_frame(self, language: str | None = None) -> pd.DataFrame:
        """Return one tidy row."""
        return pd.DataFrame([self.to_dict(language)])
