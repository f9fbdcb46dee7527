"""Group-sequential plans: efficacy boundaries for a fixed number of planned looks.

A team that looks at a test K times and stops at the first significant look needs stricter
boundaries than 1.96 at each look. An *alpha-spending function* ``alpha(t)`` says how much of
the type I error may be spent by information fraction ``t`` (the share of the planned sample
observed); the boundary of look ``k`` is the z value whose first-crossing probability under
the null hypothesis is ``alpha(t_k) - alpha(t_{k-1})`` (Lan and DeMets [1]).

Spending functions (eqs. (2.1)-(2.2) of [1]; section 7.2 of [2]), applied to each side with
``a = alpha / sides`` (the one-sided error of each boundary)::

    O'Brien-Fleming type  a(t) = 2 - 2 Phi(z_{1 - a/2} / sqrt(t))
    Pocock type           a(t) = a * log(1 + (e - 1) t)

A two-sided plan has symmetric boundaries ``+-b_k`` and spends ``2 a(t)`` in all. This is the
convention of R gsDesign (``sfLDOF``, ``sfLDPocock``), ldbounds and rpact, so a two-sided
test at 0.05 has the boundaries of a one-sided test at 0.025 (up to the negligible chance of
crossing both ways). Lan and DeMets' paper applies the O'Brien-Fleming form to the two-sided
level instead (``2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))`` in all), which spends less early.
``"pocock"`` with ``constant=True`` gives Pocock's (1977) [3] constant boundary instead.

Crossing probabilities use the recursive numerical integration of Armitage, McPherson and
Rowe [4] in the form of chapter 19 of [2]: the density of ``Z_k`` on the continuation region
is carried from look to look by a Gaussian kernel (``Z_k sqrt(t_k)`` is a Brownian motion in
``t``) and integrated by Simpson's rule on a grid of step at most 0.02 and at most an eighth
of the kernel's spread. The boundaries agree with the multivariate-normal integration of
``scipy.stats.multivariate_normal`` to 1e-4 (tests/abtest/reference/make_plans.py).

References
----------
[1] Lan, K. K. G., DeMets, D. L. (1983). Discrete sequential boundaries for clinical trials.
    Biometrika 70(3), 659-663.
[2] Jennison, C., Turnbull, B. W. (2000). Group Sequential Methods with Applications to
    Clinical Trials. Chapman & Hall/CRC.
[3] Pocock, S. J. (1977). Group sequential methods in the design and analysis of clinical
    trials. Biometrika 64(2), 191-199.
[4] Armitage, P., McPherson, C. K., Rowe, B. C. (1969). Repeated significance tests on
    accumulating data. Journal of the Royal Statistical Society A 132(2), 235-244.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from workbench.abtest._checks import check_probability
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["GroupSequentialPlan", "SequentialDecision", "group_sequential_plan",
           "sequential_decision"]

SPENDINGS = ("obrien_fleming", "pocock")
_LOW = -9.0  # lower end of a one-sided continuation region: P(Z < -9) is 1e-19
_MAX_STEP = 0.02


@dataclass(frozen=True, slots=True)
class GroupSequentialPlan:
    """Efficacy boundaries of a group-sequential test, one entry per planned look."""

    information: tuple[float, ...]  # information fractions t_k, the last is 1
    boundaries: tuple[float, ...]  # z boundaries (two-sided: reject when |z| >= b)
    nominal_p: tuple[float, ...]  # p-value a look must reach (two-sided when sides == 2)
    alpha_spent: tuple[float, ...]  # cumulative alpha spent by each look
    alpha: float
    spending: str
    sides: int

    def to_frame(self) -> pd.DataFrame:
        """Return one tidy row per look."""
        return pd.DataFrame({"look": range(1, len(self.boundaries) + 1),
                             "information": self.information, "z_boundary": self.boundaries,
                             "nominal_p": self.nominal_p, "alpha_spent": self.alpha_spent})


@dataclass(frozen=True, slots=True)
class SequentialDecision:
    """Whether the z statistic of one look crosses the plan's efficacy boundary."""

    look: int
    z: float
    boundary: float
    crosses: bool  # stop for efficacy
    final: bool  # the last planned look: not crossing means no effect was shown


def _norm_sf(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * special.erfc(np.asarray(x) / math.sqrt(2.0))


def _spent(t: np.ndarray, alpha: float, spending: str) -> np.ndarray:
    if spending == "pocock":
        return alpha * np.log1p((math.e - 1.0) * t)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    return 2.0 * _norm_sf(z / np.sqrt(t))


def _grid(low: float, high: float, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Return Simpson points and weights on [low, high]."""
    step = min(_MAX_STEP, spread / 8.0)
    n = max(2 * math.ceil((high - low) / step / 2.0), 2) + 1
    z = np.linspace(low, high, n)
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return z, w * (z[1] - z[0]) / 3.0


class _Recursion:
    """Density of Z_k on the continuation region, carried from look to look ([2], ch. 19)."""

    def __init__(self, t: np.ndarray, sides: int) -> None:
        self.t, self.sides, self.k = t, sides, 0
        self.z = self.fw = np.empty(0)  # grid points and density times Simpson weight

    def cross(self, b: float) -> float:
        """Return P(first crossing at the next look with boundary ``b``)."""
        if self.k == 0:
            return float(self.sides * _norm_sf(b))
        t0, t1 = self.t[self.k - 1], self.t[self.k]
        sd, mean = math.sqrt(t1 - t0), self.z * math.sqrt(t0)
        up = float(self.fw @ _norm_sf((b * math.sqrt(t1) - mean) / sd))
        if self.sides == 2:
            up += float(self.fw @ _norm_sf((b * math.sqrt(t1) + mean) / sd))
        return up

    def advance(self, b: float) -> None:
        """Move to the next look given its boundary ``b``."""
        t1 = self.t[self.k]
        spread = 1.0 if self.k == 0 else math.sqrt((t1 - self.t[self.k - 1]) / t1)
        low = -b if self.sides == 2 else _LOW
        z, w = _grid(low, min(b, -_LOW), spread)
        if self.k == 0:
            dens = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        else:
            t0 = self.t[self.k - 1]
            sd = math.sqrt(t1 - t0)
            u = (z[:, None] * math.sqrt(t1) - self.z[None, :] * math.sqrt(t0)) / sd
            kernel = np.exp(-0.5 * u * u) * (math.sqrt(t1) / (sd * math.sqrt(2.0 * math.pi)))
            dens = kernel @ self.fw
        self.z, self.fw, self.k = z, dens * w, self.k + 1


def _boundaries(t: np.ndarray, targets: np.ndarray | None, sides: int,
                constant: float | None = None) -> tuple[list[float], list[float]]:
    """Return boundaries solving each look's crossing target (or fixed at ``constant``)."""
    rec, bounds, crossed = _Recursion(t, sides), [], []
    for k in range(len(t)):
        if constant is not None:
            b = constant
        elif targets[k] <= 0.0:
            b = math.inf
        else:
            b = optimize.brentq(lambda x, k=k: rec.cross(x) - targets[k], 0.0, 38.0,
                                xtol=1e-10, rtol=1e-12)
        crossed.append(rec.cross(b) if math.isfinite(b) else 0.0)
        bounds.append(b)
        if k < len(t) - 1:
            rec.advance(min(b, 40.0))
    return bounds, crossed


def _fractions(looks: int | Sequence[float], func: str) -> np.ndarray:
    if isinstance(looks, bool):
        raise ParameterError(tr("plans.error.looks", func=func, got=repr(looks)))
    if isinstance(looks, int | np.integer):
        if not 1 <= looks <= 50:
            raise ParameterError(tr("plans.error.looks", func=func, got=repr(looks)))
        return np.arange(1, int(looks) + 1) / int(looks)
    try:
        t = np.asarray(looks, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(tr("plans.error.looks", func=func, got=repr(looks))) from None
    ok = (t.ndim == 1 and 1 <= t.size <= 50 and bool(np.all(np.isfinite(t)))
          and bool(np.all(np.diff(t) > 0)) and t.size > 0 and t[0] > 0
          and math.isclose(t[-1], 1.0))
    if not ok:
        raise ParameterError(tr("plans.error.fractions", func=func, got=repr(looks)))
    t[-1] = 1.0
    return t


def group_sequential_plan(
    looks: int | Sequence[float],
    alpha: float = 0.05,
    spending: str = "obrien_fleming",
    sides: int = 2,
    *,
    constant: bool = False,
) -> GroupSequentialPlan:
    """Return the efficacy boundaries of a group-sequential test with planned looks.

    Parameters
    ----------
    looks
        The number of equally spaced looks, or the information fraction of each look
        (increasing, in (0, 1], the last 1).
    alpha
        Type I error of the whole test (two-sided when ``sides`` is 2).
    spending
        ``"obrien_fleming"`` or ``"pocock"`` Lan-DeMets spending function.
    sides
        2 for symmetric two-sided boundaries, 1 for a one-sided (upper) test.
    constant
        With ``spending="pocock"``, use Pocock's constant boundary instead of the spending
        function (the same z at every look, the overall error exactly ``alpha``).

    Returns
    -------
    GroupSequentialPlan
        z boundaries, nominal p-values and cumulative alpha spent per look.

    Raises
    ------
    ParameterError
        For looks, alpha, spending or sides outside their ranges.

    Examples
    --------
    >>> plan = group_sequential_plan(3, alpha=0.05)
    >>> [round(b, 4) for b in plan.boundaries]
    [3.7103, 2.5114, 1.993]
    """
    func = "group_sequential_plan"
    t = _fractions(looks, func)
    check_probability(alpha, "alpha", func)
    if spending not in SPENDINGS:
        raise ParameterError(tr("plans.error.choice", func=func, name="spending",
                                allowed=", ".join(SPENDINGS), got=repr(spending)))
    if sides not in (1, 2) or isinstance(sides, bool):
        raise ParameterError(tr("plans.error.choice", func=func, name="sides",
                                allowed="1, 2", got=repr(sides)))
    if constant and spending != "pocock":
        raise ParameterError(tr("plans.error.constant", func=func, got=repr(spending)))
    if constant:
        c = optimize.brentq(lambda x: sum(_boundaries(t, None, sides, x)[1]) - alpha, 0.5, 10.0,
                            xtol=1e-10)
        bounds, crossed = _boundaries(t, None, sides, c)
        spent = np.cumsum(crossed)
    else:
        spent = sides * _spent(t, alpha / sides, spending)
        bounds, _ = _boundaries(t, np.diff(spent, prepend=0.0), sides)
    nominal = [float(sides * _norm_sf(b)) for b in bounds]
    return GroupSequentialPlan(tuple(float(x) for x in t), tuple(float(b) for b in bounds),
                               tuple(nominal), tuple(float(s) for s in spent), float(alpha),
                               spending + ("_constant" if constant else ""), int(sides))


def sequential_decision(plan: GroupSequentialPlan, look: int, z: float) -> SequentialDecision:
    """Return whether the z statistic observed at ``look`` (1-based) crosses the boundary.

    A two-sided plan crosses when ``|z| >= b``; a one-sided plan when ``z >= b``.

    Examples
    --------
    >>> plan = group_sequential_plan(3, alpha=0.05)
    >>> sequential_decision(plan, 1, 3.5).crosses, sequential_decision(plan, 3, -2.1).crosses
    (False, True)
    """
    func = "sequential_decision"
    k = len(plan.boundaries)
    if isinstance(look, bool) or not isinstance(look, int | np.integer) or not 1 <= look <= k:
        raise ParameterError(tr("plans.error.look", func=func, looks=k, got=repr(look)))
    if not (isinstance(z, int | float | np.floating) and math.isfinite(z)):
        raise ParameterError(tr("abtest.error.finite", func=func, name="z", got=repr(z)))
    b = plan.boundaries[look - 1]
    stat = abs(z) if plan.sides == 2 else z
    return SequentialDecision(int(look), float(z), b, bool(stat >= b), look == k)
