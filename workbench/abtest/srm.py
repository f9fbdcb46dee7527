"""Sample-ratio mismatch: are the arms as large as the planned split says they should be.

A split that deviates from the plan (say 51/49 in a 50/50 test with 100k customers) means
that something other than chance decided who landed where: a bug in the assignment, a filter
applied after assignment, bots. Then no effect estimate can be trusted, however significant.
The check is Pearson's chi-square goodness-of-fit test of the observed counts against
``n * planned share`` (``scipy.stats.chisquare``, which is correct), with the alarm at
``p < 0.001`` as in Fabijan et al. [1]: with many tests run every week a 5% threshold would
raise false alarms every week.

References
----------
[1] Fabijan, A., Gupchup, J., Gupta, S., Omhover, J., Qin, W., Vermeer, L., Dmitriev, P.
    (2019). Diagnosing Sample Ratio Mismatch in Online Controlled Experiments. KDD '19.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from workbench.abtest._checks import check_probability
from workbench.abtest.stats import AbStatus
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr

__all__ = ["SRM_THRESHOLD", "SrmResult", "srm_check"]

#: The alarm threshold on the chi-square p-value.
SRM_THRESHOLD = 0.001


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Observed and expected arm sizes, the chi-square test and whether the alarm rings.

    ``status`` is ``NO_DATA`` (nobody assigned), ``SAMPLE_RATIO_MISMATCH`` (the alarm, also
    for customers in an arm the plan does not have) or ``OK``; :meth:`summary` says it in
    words.
    """

    variants: tuple[str, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    planned_shares: tuple[float, ...]
    chi2: float
    p_value: float
    threshold: float
    mismatch: bool
    status: AbStatus

    @property
    def unplanned(self) -> tuple[str, ...]:
        """Arms that have customers but no share in the plan."""
        return tuple(v for v, s, c in zip(self.variants, self.planned_shares, self.observed,
                                          strict=True) if s == 0 and c > 0)

    def summary(self, language: str | None = None) -> str:
        """Return the check's outcome for people; a mismatch says the results are not trustworthy.

        Examples
        --------
        >>> srm_check({"control": 5_020, "B": 4_980}, {"control": 0.5, "B": 0.5}).summary("en")
        'The split is as planned (sample-ratio check p = 0.69).'
        """
        if self.status == AbStatus.NO_DATA:
            return tr("abtest.srm.no_data", language=language)
        if self.unplanned:
            return tr("abtest.srm.unplanned", language=language,
                      variants=", ".join(self.unplanned))
        if not self.mismatch:
            return tr("abtest.srm.ok", language=language, p=f"{self.p_value:.2g}")
        total = sum(self.observed)
        detail = ", ".join(
            f"{v} {format_number(100 * c / total, digits=1, language=language)}% "
            f"({format_number(100 * s, digits=1, language=language)}%)"
            for v, c, s in zip(self.variants, self.observed, self.planned_shares, strict=True))
        return tr("abtest.srm.mismatch", language=language, p=f"{self.p_value:.1g}",
                  detail=detail)

    @property
    def message(self) -> str:
        """:meth:`summary` in the active language."""
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """Return one row per arm: observed, expected, observed and planned share."""
        total = sum(self.observed)
        return pd.DataFrame({
            "variant": list(self.variants),
            "observed": list(self.observed),
            "expected": list(self.expected),
            "observed_share": [o / total if total else math.nan for o in self.observed],
            "planned_share": list(self.planned_shares),
        })


def srm_check(
    observed: Mapping[str, int],
    planned_shares: Mapping[str, float],
    *,
    threshold: float = SRM_THRESHOLD,
) -> SrmResult:
    """Test the observed arm sizes against the planned shares.

    Parameters
    ----------
    observed
        Variant -> customers assigned.
    planned_shares
        Variant -> planned share (normalised to sum to one). A variant observed but not
        planned is itself a mismatch.
    threshold
        Alarm when the p-value is below this.

    Examples
    --------
    >>> r = srm_check({"control": 51_000, "B": 49_000}, {"control": 0.5, "B": 0.5})
    >>> r.mismatch, f"{r.p_value:.1e}"
    (True, '2.5e-10')
    """
    check_probability(threshold, "threshold", "srm_check")
    if not planned_shares or any(s < 0 for s in planned_shares.values()) or sum(
            planned_shares.values()) <= 0:
        raise ParameterError(tr("abtest.error.planned_shares", func="srm_check",
                                got=repr(planned_shares)))
    variants = tuple(dict.fromkeys([*planned_shares, *observed]))
    total_share = float(sum(planned_shares.values()))
    shares = tuple(float(planned_shares.get(v, 0.0)) / total_share for v in variants)
    counts = tuple(int(observed.get(v, 0)) for v in variants)
    n = sum(counts)
    expected = tuple(n * s for s in shares)
    if n == 0:
        return SrmResult(variants, counts, expected, shares, math.nan, math.nan, threshold, False,
                         AbStatus.NO_DATA)
    if any(s == 0 and c > 0 for s, c in zip(shares, counts, strict=True)):
        return SrmResult(variants, counts, expected, shares, math.inf, 0.0, threshold, True,
                         AbStatus.SAMPLE_RATIO_MISMATCH)
    keep = [i for i, s in enumerate(shares) if s > 0]
    if len(keep) < 2:
        return SrmResult(variants, counts, expected, shares, 0.0, 1.0, threshold, False,
                         AbStatus.OK)
    test = stats.chisquare([counts[i] for i in keep], [expected[i] for i in keep])
    p = float(test.pvalue)
    mismatch = p < threshold
    return SrmResult(variants, counts, expected, shares, float(test.statistic), p, threshold,
                     mismatch, AbStatus.SAMPLE_RATIO_MISMATCH if mismatch else AbStatus.OK)
