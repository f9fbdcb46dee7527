"""Several variants and metrics at once: multiple-testing corrections and guardrail vetoes.

* Holm's step-down procedure [1] controls the family-wise error rate (the chance of any false
  winner) and is uniformly more powerful than Bonferroni.
* Benjamini-Hochberg [2] controls the false discovery rate (the expected share of false
  winners among the declared ones); use it when many metrics are screened.
* Bonferroni (``m p``) and Sidak [3] (``1 - (1 - p)^m``, exact for independent tests) are
  single-step: each comparison's verdict ignores the others' p-values, so they pair with a
  simultaneous interval at level ``1 - alpha / m`` or ``(1 - alpha)^(1/m)``.
* Hommel [4] is the closed test of Simes' intersection tests: it controls the family-wise
  error rate when the tests are independent or positively dependent (as comparisons sharing
  one control arm are) and is uniformly more powerful than Holm there.

All return adjusted p-values (compare them with alpha), computed as in [1], eq. (1) of [2],
[3] and, for Hommel's, Wright's algorithm [5]; the step-wise ones take the running maximum /
minimum that makes them monotone. They are written here (a dozen lines each) so the dashboard
does not import statsmodels; the tests check them against
``statsmodels.stats.multitest.multipletests``.

References
----------
[1] Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65-70.
[2] Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1),
    289-300.
[3] Sidak, Z. (1967). Rectangular confidence regions for the means of multivariate normal
    distributions. JASA 62(318), 626-633.
[4] Hommel, G. (1988). A stagewise rejective multiple test procedure based on a modified
    Bonferroni test. Biometrika 75(2), 383-386.
[5] Wright, S. P. (1992). Adjusted p-values for simultaneous inference. Biometrics 48(4),
    1005-1013.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from workbench.abtest.stats import Comparison
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["CORRECTIONS", "adjust_p_values", "benjamini_hochberg", "bonferroni",
           "guardrail_vetoes", "hommel", "holm", "sidak"]

CORRECTIONS = ("holm", "bh", "bonferroni", "sidak", "hommel", "none")


def _clean(p_values: Iterable[float], func: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(list(p_values), dtype=float)
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ParameterError(tr("abtest.error.p_values", func=func, got=repr(p[ok].tolist())))
    return p, ok


def _adjusted(p_values: Iterable[float], adjust: Callable[[np.ndarray], np.ndarray],
              func: str) -> np.ndarray:
    # Validate, adjust the non-NaN p-values together (NaN stays NaN and is not counted), cap
    # at 1.
    p, ok = _clean(p_values, func)
    out = np.full(p.shape, math.nan)
    if ok.any():
        out[ok] = np.minimum(adjust(p[ok]), 1.0)
    return out


def _holm_step_down(q: np.ndarray) -> np.ndarray:
    m = q.size
    order = np.argsort(q, kind="stable")
    res = np.empty(m)
    res[order] = np.maximum.accumulate((m - np.arange(m)) * q[order])
    return res


def _bh_step_up(q: np.ndarray) -> np.ndarray:
    m = q.size
    order = np.argsort(q, kind="stable")[::-1]
    res = np.empty(m)
    res[order] = np.minimum.accumulate(q[order] * m / np.arange(m, 0, -1))
    return res


def _hommel_closed(q: np.ndarray) -> np.ndarray:
    # Wright's algorithm [5]: for each family size j = m..2, the Simes p-value of the j largest
    # p-values, min_k j p_(m-j+k) / k, bounds every adjusted p from below (the j largest) and
    # min(j p, Simes) bounds the rest; the adjusted p is the largest bound over all j.
    m = q.size
    order = np.argsort(q, kind="stable")
    p = q[order]
    a = p.copy()
    for j in range(m, 1, -1):
        simes = float(np.min(j * p[m - j:] / np.arange(1, j + 1)))
        a[m - j:] = np.maximum(a[m - j:], simes)
        a[:m - j] = np.maximum(a[:m - j], np.minimum(j * p[:m - j], simes))
    res = np.empty(m)
    res[order] = a
    return res


def _sidak_single_step(q: np.ndarray) -> np.ndarray:
    # expm1/log1p keep the tiny p-values of large tests exact (1 - (1 - 1e-12)^3 loses digits);
    # p = 1 gives log1p(-1) = -inf and so exactly 1, without the divide warning.
    with np.errstate(divide="ignore"):
        return -np.expm1(q.size * np.log1p(-q))


def bonferroni(p_values: Iterable[float]) -> np.ndarray:
    """Return Bonferroni-adjusted p-values ``min(1, m p)`` (NaN stays NaN and is not counted).

    Examples
    --------
    >>> bonferroni([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.12, 0.09]
    """
    return _adjusted(p_values, lambda q: q * q.size, "bonferroni")


def sidak(p_values: Iterable[float]) -> np.ndarray:
    """Return Sidak-adjusted p-values ``1 - (1 - p)^m`` [3].

    Examples
    --------
    >>> sidak([0.01, 0.04, 0.03]).round(4).tolist()
    [0.0297, 0.1153, 0.0873]
    """
    return _adjusted(p_values, _sidak_single_step, "sidak")


def hommel(p_values: Iterable[float]) -> np.ndarray:
    """Return Hommel-adjusted p-values [4], never above Holm's.

    Examples
    --------
    >>> hommel([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    return _adjusted(p_values, _hommel_closed, "hommel")


_METHODS: dict[str, Callable[[Iterable[float]], np.ndarray]] = {
    "bonferroni": bonferroni, "sidak": sidak, "hommel": hommel}


def holm(p_values: Iterable[float]) -> np.ndarray:
    """Return Holm-adjusted p-values (NaN stays NaN and is not counted).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    return _adjusted(p_values, _holm_step_down, "holm")


def benjamini_hochberg(p_values: Iterable[float]) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values).

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    return _adjusted(p_values, _bh_step_up, "benjamini_hochberg")


def adjust_p_values(p_values: Sequence[float], method: str = "holm") -> np.ndarray:
    """Return p-values adjusted by ``method``, one of :data:`CORRECTIONS`."""
    if method in _METHODS:
        return _METHODS[method](p_values)
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return _clean(p_values, "adjust_p_values")[0]
    raise ParameterError(tr("params.choices", owner="adjust_p_values", name="method",
                            choices=repr(list(CORRECTIONS)), got=repr(method), hint=""))


def guardrail_vetoes(guardrails: Iterable[Comparison], *, harmful: str = "increase"
                     ) -> dict[str, list[str]]:
    """Return, per variant, the guardrail metrics that are significantly worse than control.

    A guardrail (for example the opt-out rate) vetoes a variant when its change in the
    ``harmful`` direction is significant at the comparison's own alpha, with no correction:
    for safety metrics a missed harm costs more than a false alarm.

    Examples
    --------
    >>> from workbench.abtest.frequentist import compare_proportions
    >>> from workbench.abtest.stats import ProportionStats
    >>> g = compare_proportions(ProportionStats(10_000, 20), ProportionStats(10_000, 60),
    ...                         metric="opt_out_rate")
    >>> guardrail_vetoes([g])
    {'B': ['opt_out_rate']}
    """
    if harmful not in ("increase", "decrease"):
        raise ParameterError(tr("params.choices", owner="guardrail_vetoes", name="harmful",
                                choices="['increase', 'decrease']", got=repr(harmful), hint=""))
    sign = 1.0 if harmful == "increase" else -1.0
    out: dict[str, list[str]] = {}
    for g in guardrails:
        if g.significant and sign * g.effect > 0:
            out.setdefault(g.variant, []).append(g.metric)
    return out
