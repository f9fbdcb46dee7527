"""Several variants and metrics at once: multiple-testing corrections and guardrail vetoes.

* Holm's step-down procedure [1] controls the family-wise error rate (the chance of any false
  winner) and is uniformly more powerful than Bonferroni.
* Benjamini-Hochberg [2] controls the false discovery rate (the expected share of false
  winners among the declared ones); use it when many metrics are screened.

Both return adjusted p-values (compare them with alpha), computed as in [1] and eq. (1) of [2]
with the running maximum / minimum that makes them monotone. They are written here (a dozen
lines each) so the dashboard does not import statsmodels; the tests check them against
``statsmodels.stats.multitest.multipletests``.

References
----------
[1] Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65-70.
[2] Benjamini, Y., Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1),
    289-300.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from workbench.abtest.stats import Comparison
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["CORRECTIONS", "adjust_p_values", "benjamini_hochberg", "guardrail_vetoes", "holm"]

CORRECTIONS = ("holm", "bh", "none")


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
    """Return p-values adjusted by ``method`` (``holm``, ``bh`` or ``none``)."""
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
