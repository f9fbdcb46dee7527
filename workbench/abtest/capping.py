"""Revenue capping (winsorization) and quantile metrics with bootstrap intervals.

Winsorization (:func:`winsorize`)
    A handful of very large orders can decide a revenue test. Capping each customer's value
    at a high percentile of the *pooled* arms (the same cap for every arm, so the comparison
    stays fair) trades a small bias for a much smaller variance; the cap used is returned so a
    readout can state it. The percentile is numpy's default linear interpolation.
Quantiles (:func:`quantile_diff_ci`)
    The difference of a quantile (the median order value by default) between the arms, with a
    percentile bootstrap interval that resamples each arm separately (stratified bootstrap,
    section 13.3 of [1]), the scheme of ``scipy.stats.bootstrap`` with independent samples.

References
----------
[1] Efron, B., Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.abtest._checks import check_probability
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["QuantileDiff", "Winsorized", "quantile_diff_ci", "winsorize"]

@dataclass(frozen=True, slots=True)
class Winsorized:
    """Values capped at a percentile of all arms pooled, with the cap that was used."""

    values: dict[str, np.ndarray]  # per arm, in the input order
    cap: float
    percentile: float
    n_capped: int  # values above the cap before capping, all arms together


@dataclass(frozen=True, slots=True)
class QuantileDiff:
    """Difference ``quantile(variant) - quantile(control)`` with a bootstrap interval."""

    q: float
    value_control: float
    value_variant: float
    effect: float
    ci_low: float
    ci_high: float
    alpha: float
    n_boot: int
    method: str = "percentile bootstrap"


def _values(values: Sequence[float] | np.ndarray, name: str, func: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(tr("plans.error.values", func=func, name=name,
                                got=repr(values)[:80])) from None
    if arr.ndim != 1 or arr.size == 0 or not bool(np.all(np.isfinite(arr))):
        raise ParameterError(tr("plans.error.values", func=func, name=name,
                                got=repr(values)[:80]))
    return arr


def winsorize(
    arms: Mapping[str, Sequence[float] | np.ndarray],
    percentile: float = 0.99,
) -> Winsorized:
    """Cap every arm's values at the ``percentile`` of all arms pooled.

    Parameters
    ----------
    arms
        Arm name -> per-customer values (e.g. revenue), or a single ``{"all": values}``.
    percentile
        The pooled quantile used as the cap, in (0, 1); 0.99 caps the top 1%.

    Returns
    -------
    Winsorized
        The capped values per arm, the cap, and how many values it lowered.

    Raises
    ------
    ParameterError
        For an empty mapping, an empty or non-finite arm, or a percentile outside (0, 1).

    Examples
    --------
    >>> w = winsorize({"control": [1, 2, 3, 100], "B": [2, 3, 4, 5]}, percentile=0.75)
    >>> w.cap, w.values["control"].tolist(), w.n_capped
    (4.25, [1.0, 2.0, 3.0, 4.25], 2)
    """
    func = "winsorize"
    if not isinstance(arms, Mapping) or not arms:
        raise ParameterError(tr("plans.error.arms", func=func, got=repr(arms)[:80]))
    check_probability(percentile, "percentile", func)
    values = {str(k): _values(v, str(k), func) for k, v in arms.items()}
    cap = float(np.quantile(np.concatenate(list(values.values())), percentile))
    n_capped = sum(int(np.count_nonzero(v > cap)) for v in values.values())
    return Winsorized({k: np.minimum(v, cap) for k, v in values.items()}, cap,
                      float(percentile), n_capped)


def _boot_quantiles(arr: np.ndarray, q: float, n_boot: int,
                    gen: np.random.Generator) -> np.ndarray:
    # np.quantile interpolates between order statistics j and j + 1 (1-based) with
    # j = floor(h) + 1, h = (n - 1) q. Resampling rows draws n uniform indices floor(n U);
    # floor is monotone, so the j-th smallest index is floor(n U_(j)) with U_(j) ~ Beta(j,
    # n - j + 1), and U_(j+1) = U_(j) + (1 - U_(j)) Beta(1, n - j) (the minimum of the n - j
    # uniforms above it). This draws each resample's two order statistics exactly as row
    # resampling would, in O(1) instead of O(n) per resample.
    n = arr.size
    s = np.sort(arr)
    h = (n - 1) * q
    j = math.floor(h) + 1
    frac = h - (j - 1)
    u1 = gen.beta(j, n - j + 1, size=n_boot)
    low = s[np.minimum((n * u1).astype(np.int64), n - 1)]
    if j >= n or frac == 0.0:
        return low
    u2 = u1 + (1.0 - u1) * gen.beta(1, n - j, size=n_boot)
    high = s[np.minimum((n * u2).astype(np.int64), n - 1)]
    return low + frac * (high - low)


def quantile_diff_ci(
    control: Sequence[float] | np.ndarray,
    variant: Sequence[float] | np.ndarray,
    q: float = 0.5,
    n_boot: int = 5000,
    seed: int | None = 0,
    alpha: float = 0.05,
) -> QuantileDiff:
    """Return the difference of the ``q`` quantiles with a percentile bootstrap interval.

    Parameters
    ----------
    control, variant
        Per-unit values of each arm (for the median order value: one value per order).
    q
        The quantile, in (0, 1); 0.5 is the median.
    n_boot
        Bootstrap resamples, at least 100.
    seed
        Seed of the random generator (``None`` for fresh entropy).
    alpha
        One minus the interval's coverage.

    Returns
    -------
    QuantileDiff
        Both arms' quantiles, their difference and its interval.

    Raises
    ------
    ParameterError
        For empty or non-finite values, or q, alpha or n_boot out of range.

    Examples
    --------
    >>> r = quantile_diff_ci([10, 20, 30, 40] * 50, [15, 25, 35, 45] * 50, n_boot=1000)
    >>> r.effect, bool(r.ci_low <= 5.0 <= r.ci_high)
    (5.0, True)
    """
    func = "quantile_diff_ci"
    check_probability(q, "q", func)
    check_probability(alpha, "alpha", func)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ParameterError(tr("plans.error.n_boot", func=func, got=repr(n_boot)))
    c, v = _values(control, "control", func), _values(variant, "variant", func)
    gen = np.random.default_rng(seed)
    diffs = _boot_quantiles(v, q, n_boot, gen) - _boot_quantiles(c, q, n_boot, gen)
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    qc, qv = float(np.quantile(c, q)), float(np.quantile(v, q))
    return QuantileDiff(float(q), qc, qv, qv - qc, float(low), float(high), float(alpha),
                        n_boot)
