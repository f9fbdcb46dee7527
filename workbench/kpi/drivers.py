"""Revenue drivers: the additive LMDI decomposition of a change in a product of factors.

Identified customers' net revenue is a product of four factors (the driver tree of
``PRODUCT_NOTES.md`` #12, "revenue = customers x purchase probability x payment amount")::

    revenue = active customers x purchase probability x orders per buyer x AOV
            = active x (buyers / active) x (orders / buyers) x (revenue / orders)

Between two periods the change ``R1 - R0`` is split over the factors with the additive
logarithmic-mean Divisia index (LMDI-I) [1]_ [2]_::

    contribution_i = L(R1, R0) * ln(f_i1 / f_i0),   L(a, b) = (a - b) / (ln a - ln b),  L(a, a) = a

Because ``sum_i ln(f_i1 / f_i0) = ln(R1 / R0)``, the contributions add up to ``R1 - R0``
exactly (a "perfect" decomposition without residual, the reason [1]_ prefers LMDI), and
swapping the periods negates every contribution.

Zero and missing factors. The logarithm needs positive factors. When one period's product is
zero (for example no active customers, so purchase probability and the later factors are
undefined), the whole change goes to the first factor of the chain that is zero or missing in
that period. This is the limit of the LMDI contributions when that factor tends to zero, the
treatment of zero values studied in [3]_, and it keeps the decomposition exact and
antisymmetric.

References
----------
.. [1] Ang, B. W. (2004). Decomposition analysis for policymaking in energy: which is the
   preferred method? *Energy Policy* 32(9), 1131-1139.
.. [2] Ang, B. W. (2005). The LMDI approach to decomposition analysis: a practical guide.
   *Energy Policy* 33(7), 867-871 (additive LMDI-I).
.. [3] Ang, B. W., & Liu, N. (2007). Handling zero values in index decomposition analysis:
   the logarithmic mean Divisia method. *Energy Policy* 35(1), 238-246.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["DRIVER_COLUMNS", "DRIVER_FACTORS", "Decomposition", "driver_factors",
           "drivers_frame", "lmdi", "log_mean", "ratio"]

#: The factors of identified customers' revenue, in chain order.
DRIVER_FACTORS = ("active_customers", "purchase_probability", "orders_per_buyer", "aov")
_UNITS = {"active_customers": "count", "purchase_probability": "share",
          "orders_per_buyer": "ratio", "aov": "money", "guest_revenue": "money"}
#: Columns of :func:`drivers_frame` (the overview adds a ``label`` after ``factor``).
DRIVER_COLUMNS = ("factor", "previous", "current", "unit", "contribution", "share_of_change")


def ratio(a: float, b: float) -> float:
    """Return ``a / b``, or NaN when ``b`` is 0 (a ratio of an empty period is undefined).

    >>> ratio(3, 4), ratio(3, 0)
    (0.75, nan)
    """
    return a / b if b else math.nan


def log_mean(a: float, b: float) -> float:
    """Return the logarithmic mean ``L(a, b) = (a - b) / (ln a - ln b)``, with ``L(a, a) = a``.

    Examples
    --------
    >>> round(log_mean(1_000_000, 500_000), 2)
    721347.52
    >>> log_mean(3.0, 3.0)
    3.0
    """
    if a == b:
        return float(a)
    # log1p keeps ln(a) - ln(b) accurate (and non-zero) when a and b differ in the last digits.
    log_ratio = math.log1p((a - b) / b) if abs(a - b) < 0.5 * b else math.log(a / b)
    return (a - b) / log_ratio


@dataclass(frozen=True, slots=True)
class Decomposition:
    """Additive decomposition of ``current - previous`` into one contribution per factor.

    Parameters
    ----------
    contributions
        Contribution of each factor, in the factors' order; they add up to ``change``.
    previous, current
        The products of the factors (0 when a factor is zero or missing).
    fallback
        ``None`` for the plain LMDI formula; otherwise the factor that received the whole
        change because the product of one period was zero (see the module docstring).
    """

    contributions: dict[str, float]
    previous: float
    current: float
    fallback: str | None = None

    @property
    def change(self) -> float:
        """The change being decomposed, ``current - previous``."""
        return self.current - self.previous


def _clean(name: str, factors: Mapping[str, float | None]) -> dict[str, float]:
    out = {}
    for key, value in factors.items():
        v = math.nan if value is None else float(value)
        if v < 0 or math.isinf(v):
            raise ParameterError(tr("kpi.error.lmdi_factor", factor=key, got=repr(value),
                                    period=name))
        out[key] = v
    return out


def _product(factors: dict[str, float]) -> float:
    if any(math.isnan(v) or v == 0 for v in factors.values()):
        return 0.0
    return math.prod(factors.values())


def _first_gap(factors: dict[str, float]) -> str:
    return next(k for k, v in factors.items() if math.isnan(v) or v == 0)


def lmdi(previous: Mapping[str, float | None],
         current: Mapping[str, float | None]) -> Decomposition:
    """Decompose the change of a product of factors with additive LMDI-I.

    Parameters
    ----------
    previous, current
        Factor values of the two periods, with the same keys in the same (chain) order. A
        value may be zero, NaN or ``None`` (missing, e.g. a ratio with a zero denominator).

    Returns
    -------
    Decomposition
        ``contributions[i] = L(R1, R0) * ln(f_i1 / f_i0)``, the additive LMDI-I formula of
        Ang (2005) (reference [2] of the module); they sum to ``R1 - R0``.

    Raises
    ------
    ParameterError
        The keys differ, or a factor is negative or infinite.

    Examples
    --------
    The seed example of ``PRODUCT_NOTES.md``: 20 customers x 50% x 50,000 KRW = 500,000 KRW,
    and twice as many customers the next week:

    >>> d = lmdi({"customers": 20, "probability": 0.5, "payment": 50_000},
    ...          {"customers": 40, "probability": 0.5, "payment": 50_000})
    >>> d.previous, d.current, round(d.contributions["customers"])
    (500000.0, 1000000.0, 500000)
    """
    if list(previous) != list(current):
        raise ParameterError(tr("kpi.error.lmdi_keys", previous=list(previous),
                                current=list(current)))
    f0, f1 = _clean("previous", previous), _clean("current", current)
    r0, r1 = _product(f0), _product(f1)
    if r0 > 0 and r1 > 0:
        weight = log_mean(r1, r0)
        contributions = {k: weight * math.log(f1[k] / f0[k]) for k in f0}
        return Decomposition(contributions, r0, r1)
    zeros = {k: 0.0 for k in f0}
    if r0 == r1:
        return Decomposition(zeros, r0, r1)
    # Limit of LMDI when one period's product tends to zero through one factor (Ang & Liu 2007).
    gap = _first_gap(f0 if r0 == 0 else f1)
    return Decomposition({**zeros, gap: r1 - r0}, r0, r1, fallback=gap)


def driver_factors(row: Mapping[str, float]) -> dict[str, float]:
    """Return the four driver factors of one period from its identified-customer totals."""
    return {
        "active_customers": float(row["active_customers"]),
        "purchase_probability": ratio(row["buyers"], row["active_customers"]),
        "orders_per_buyer": ratio(row["identified_orders"], row["buyers"]),
        "aov": ratio(row["identified_revenue"], row["identified_orders"]),
    }


def drivers_frame(previous: Mapping[str, float],
                  current: Mapping[str, float]) -> tuple[pd.DataFrame, Decomposition]:
    """Return the driver rows (four factors plus guest revenue) and the decomposition.

    Parameters
    ----------
    previous, current
        Period totals with ``active_customers``, ``buyers``, ``identified_orders``,
        ``identified_revenue``, ``net_revenue``.

    Returns
    -------
    tuple
        The frame (:data:`DRIVER_COLUMNS`: ``factor``, ``previous``, ``current``, ``unit``,
        ``contribution``, ``share_of_change``), whose contributions add up exactly to the
        change in net revenue, and the :class:`Decomposition` of identified customers' revenue.
        The factors' names for people are ``kpi.factor.<factor>`` messages.
    """
    f0, f1 = driver_factors(previous), driver_factors(current)
    dec = lmdi(f0, f1)
    guest0 = float(previous["net_revenue"] - previous["identified_revenue"])
    guest1 = float(current["net_revenue"] - current["identified_revenue"])
    names = [*DRIVER_FACTORS, "guest_revenue"]
    frame = pd.DataFrame({
        "factor": names,
        "previous": [*f0.values(), guest0],
        "current": [*f1.values(), guest1],
        "unit": [_UNITS[n] for n in names],
        "contribution": [*dec.contributions.values(), guest1 - guest0],
    })
    total = float(current["net_revenue"] - previous["net_revenue"])
    frame["share_of_change"] = frame["contribution"] / total if total else math.nan
    return frame, dec
