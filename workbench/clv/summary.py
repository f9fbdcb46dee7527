"""The per-customer summary the CLV models are fitted on, built by the store's backend.

:func:`clv_summary` is :func:`workbench.features.facts_for` reduced to the four columns of the
BG/NBD literature, executed into a pandas frame indexed by ``customer_id``. The definitions
(purchase days, ``T`` to the day before ``as_of``, ``monetary_value`` as the mean of the repeat
purchase days' totals) are those of ``lifetimes.utils.summary_data_from_transaction_data`` and
are documented in :mod:`workbench.features`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.features import UNITS, facts_for

if TYPE_CHECKING:
    from workbench.settings import Settings

__all__ = ["SUMMARY_COLUMNS", "clv_summary"]

#: Columns of :func:`clv_summary` (besides the ``customer_id`` index).
SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def clv_summary(con: Any, as_of: date, *, settings: Settings | None = None,
                unit: str = "W", lookback_days: int | None = None) -> pd.DataFrame:
    """Return frequency, recency, T and monetary value per customer as of ``as_of``.

    Parameters
    ----------
    con
        An Ibis backend from :func:`workbench.data.connect`.
    as_of
        Only orders before local midnight of this date count (exclusive).
    settings
        Settings giving the shop's time zone; default: ``workbench.toml``.
    unit
        ``"W"`` (weeks of 7 days, the unit of the published CDNOW results) or ``"D"``.
    lookback_days
        Use only the last ``lookback_days`` days of orders; ``None`` uses all history.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), with float columns ``frequency`` (repeat purchase
        days), ``recency`` and ``T`` (in ``unit``) and ``monetary_value`` (mean net revenue of
        a repeat purchase day, 0 for one-time buyers). ``attrs["unit"]`` and
        ``attrs["as_of"]`` record how it was built.
    """
    facts = facts_for(con, as_of, settings=settings, unit=unit, lookback_days=lookback_days)
    frame = facts.select("customer_id", *SUMMARY_COLUMNS).to_pandas()
    frame = frame.set_index("customer_id").sort_index().astype(float)
    frame.attrs.update(unit=unit, as_of=as_of.isoformat(), unit_days=UNITS[unit])
    return frame
