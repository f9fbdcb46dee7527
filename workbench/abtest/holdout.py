"""Measuring the persistent global holdout: what all CRM sends together are worth.

Customers in the global holdout (:func:`workbench.abtest.in_global_holdout`, a hash of the
customer id with its own salt) get no CRM message at all. Comparing them with everyone else
over a trailing period measures the total incremental effect of CRM, with the same readout as
a campaign: the sample-ratio check against the holdout share, conversion, revenue per customer
(CUPED on the period before), AOV and the verdict.

Only customers who signed up before the period starts are compared, so both groups had the
whole period to buy. The split is recomputed from the ids (it is deterministic), so nothing
needs to be stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from workbench.abtest.aggregate import arm_sums, customer_outcomes
from workbench.abtest.analysis import AbTestParams, AbTestResult, readout_from_sums
from workbench.abtest.assignment import GLOBAL_HOLDOUT_SALT, in_global_holdout
from workbench.dates import cutoff
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CRM_ARM", "DEFAULT_SHARE", "global_holdout_part", "run_global_holdout"]

#: Name of the arm of customers outside the global holdout (they receive CRM sends).
CRM_ARM = "CRM"
#: Default share of customers kept out of every CRM send.
DEFAULT_SHARE = 0.05


def global_holdout_part(con: BaseBackend, *, as_of: date, settings: Settings | None = None
                        ) -> pd.DataFrame | None:
    """Return ``customer_id`` and ``global_holdout`` (bool) for the snapshot.

    A snapshot part (see ``workbench.snapshot.SNAPSHOT_PARTS``): audiences read the flag to
    leave the global holdout out of every send. ``as_of`` is accepted for the part signature;
    the flag depends only on the id. ``None`` when the store has no customers.
    """
    if "customers" not in con.list_tables():
        return None
    ids = con.table("customers").select("customer_id").to_pyarrow().column(0).to_pylist()
    held = in_global_holdout(ids, DEFAULT_SHARE)
    return pd.DataFrame({"customer_id": held.index.astype(str),
                         "global_holdout": held.to_numpy()})


def run_global_holdout(
    con: BaseBackend,
    as_of: date,
    *,
    days: int = 90,
    share: float = DEFAULT_SHARE,
    salt: str = GLOBAL_HOLDOUT_SALT,
    settings: Settings | None = None,
    language: str | None = None,
) -> AbTestResult:
    """Return the readout of the global holdout against everyone else before ``as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (needs ``customers`` and ``orders``).
    as_of
        End of the period (exclusive).
    days
        Length of the period ending at ``as_of``; the same length before it is the CUPED
        pre-period. Customers without a sign-up date count as signed up before it.
    share, salt
        The global holdout's share and salt (as used when sending).

    Returns
    -------
    AbTestResult
        Baseline ``holdout``, variant ``CRM``; ``NO_DATA`` without customers.
    """
    func = "run_global_holdout"
    if not 1 <= int(days) <= 365:
        raise ParameterError(tr("params.range", owner=func, name="days", low=1, high=365,
                                got=repr(days)))
    if not 0 < share < 0.5:
        raise ParameterError(tr("abtest.error.below_half", owner=func, name="share",
                                got=repr(share)))
    settings = settings or load_settings()
    start = cutoff(as_of - timedelta(days=int(days)), settings.timezone)
    end = cutoff(as_of, settings.timezone)
    params = AbTestParams(as_of=as_of, language=language, window_days=int(days),
                          pre_days=int(days), control="holdout",
                          planned_shares=f"holdout={share}, {CRM_ARM}={1 - share}")
    meta = {"campaign_id": "global_holdout",
            "name": tr("abtest.holdout.name", language=language or settings.language,
                       share=f"{100 * share:g}%"),
            "start": start}
    tables = con.list_tables()
    if "customers" not in tables or "orders" not in tables:
        return readout_from_sums(pd.DataFrame(), params, settings=settings, meta=meta)
    c = con.table("customers")
    if "signup_at" in c.columns:
        c = c.filter(c.signup_at.isnull() | (c.signup_at < ibis.literal(start)))
    ids = c.select("customer_id").to_pyarrow().column(0).to_pylist()
    held = in_global_holdout(ids, share, salt=salt)
    assignments = ibis.memtable(pd.DataFrame({
        "customer_id": held.index.astype(str),
        "variant": ["holdout" if h else CRM_ARM for h in held.to_numpy()],
        "assigned_at": start,
    }))
    outcomes = customer_outcomes(assignments, con.table("orders"), None, start=start,
                                 window_days=int(days), pre_days=int(days), end=end)
    sums = arm_sums(outcomes).to_pyarrow().to_pandas()
    return readout_from_sums(sums, params, settings=settings, meta=meta)
