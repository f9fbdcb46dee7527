"""Discounted customer lifetime value over a finite horizon.

For a horizon of ``H`` calendar months after ``as_of`` the value of a customer is the margin on
her expected spend in each month, discounted monthly (eq. (2) of [1]_ with a discrete
discount factor, as in lifetimes' ``customer_lifetime_value``)::

    CLV = sum_{k=1}^{H} margin * E[spend per purchase]
                        * (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + d)^k,

where ``t_k`` is the length of the first ``k`` calendar months after ``as_of`` in the
summary's time unit (calendar arithmetic, not a fixed 4.345 weeks per month), ``E[Y(t)]`` the
purchase model's expected repeat purchases and ``d`` the monthly discount rate.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
   Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["customer_value", "month_ends"]

_UNIT_DAYS = {"D": 1, "W": 7}


class PurchaseModel(Protocol):
    """Anything with ``expected_purchases(t, summary) -> Series`` (BetaGeo, ParetoNBD)."""

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series: ...


def month_ends(as_of: date, months: int, unit: str = "W") -> np.ndarray:
    """Return ``t_1..t_H``: the span of the first ``k`` calendar months after ``as_of``.

    Examples
    --------
    >>> month_ends(date(2026, 1, 1), 3, unit="D").tolist()
    [31.0, 59.0, 90.0]
    """
    start = pd.Timestamp(as_of)
    ends = [(start + pd.DateOffset(months=k) - start).days for k in range(1, months + 1)]
    return np.asarray(ends, dtype=float) / _UNIT_DAYS[unit]


def customer_value(model: PurchaseModel, summary: pd.DataFrame, spend: pd.Series | float, *,
                   as_of: date | None = None, horizon_months: int = 12,
                   margin: float = 0.3, monthly_discount_rate: float = 0.01,
                   unit: str | None = None) -> pd.Series:
    """Return the discounted margin each customer is expected to bring over the horizon.

    Parameters
    ----------
    model
        A fitted purchase model (:class:`~workbench.clv.BetaGeo` or
        :class:`~workbench.clv.ParetoNBD`).
    summary
        The customer summary the predictions are for (``frequency``, ``recency``, ``T``).
    spend
        Expected value of one purchase per customer (e.g.
        ``GammaGamma().fit(summary).expected_spend(summary)``) or one number for everyone.
    as_of
        Start of the horizon; default ``summary.attrs["as_of"]`` (set by ``clv_summary``).
    horizon_months
        Number of calendar months (default 12).
    margin
        Share of revenue kept as gross margin, in (0, 1].
    monthly_discount_rate
        Discount rate per month, >= 0 (0.01 is about 12.7% a year).
    unit
        Time unit of the summary; default ``summary.attrs["unit"]``, else ``"W"``.

    Returns
    -------
    pandas.Series
        ``clv`` per customer, indexed like ``summary``, in the currency of ``spend``.

    Raises
    ------
    ParameterError
        A parameter is out of range or ``as_of`` is unknown.
    """
    unit = unit or summary.attrs.get("unit", "W")
    if unit not in _UNIT_DAYS:
        raise ParameterError(tr("clv.value.unit", got=repr(unit)))
    if as_of is None:
        stamp = summary.attrs.get("as_of")
        if stamp is None:
            raise ParameterError(tr("clv.value.as_of"))
        as_of = date.fromisoformat(stamp)
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int) \
            or not 1 <= horizon_months <= 120:
        raise ParameterError(tr("clv.value.horizon", got=repr(horizon_months)))
    if not 0 < margin <= 1:
        raise ParameterError(tr("clv.value.margin", got=repr(margin)))
    if not 0 <= monthly_discount_rate < 1:
        raise ParameterError(tr("clv.value.discount", got=repr(monthly_discount_rate)))
    ends = month_ends(as_of, horizon_months, unit)
    discount = (1 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)
    # sum_k d_k (E_k - E_{k-1}) = sum_k E_k (d_k - d_{k+1}) with d_{H+1} = 0.
    weights = discount - np.append(discount[1:], 0.0)
    if hasattr(model, "expected_purchases_matrix"):  # all month ends in one pass
        purchases = model.expected_purchases_matrix(ends, summary, weights)
    else:
        cumulative = np.column_stack([model.expected_purchases(float(t), summary).to_numpy()
                                      for t in ends])
        purchases = cumulative @ weights
    per_purchase = spend.reindex(summary.index).to_numpy() if isinstance(spend, pd.Series) \
        else float(spend)
    return pd.Series(margin * per_purchase * purchases, index=summary.index, name="clv")
