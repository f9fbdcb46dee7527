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

__all__ = ["CRM_ARM", "DEFAULT_SHARE", "global_holdout_part", "global_holdout_readouts",
           "run_global_holdout"]

#: Name of the arm of customers outside the global holdout (they receive CRM sends).
CRM_ARM = "CRM"
#: Default share of customers kept out of every CRM send.
DEFAULT_SHARE = 0.05


def global_holdout_part(con: BaseBackend, *, as_of: date, settings: Settings | None = None
                        ) -> pd.DataFrame | None:
    """Return ``customer_id`` and ``global_holdout`` (bool) for the snapshot.

    A snapshot part (see ``workbench.snapshot.SNAPSHOT_PARTS``): audiences read the flag to
    leave the global holdout out of every send. The share is the settings'
    ``global_holdout`` (0, the default: no one is held out, every flag is False). ``as_of``
    is accepted for the part signature; the flag depends only on the id. ``None`` when the
    store has no customers.
    """
    if "customers" not in con.list_tables():
        return None
    share = float((settings or load_settings()).global_holdout)
    ids = con.table("customers").select("customer_id").to_pyarrow().column(0).to_pylist()
    held = (in_global_holdout(ids, share) if share > 0
            else pd.Series(False, index=pd.Index(ids, dtype=object)))
    return pd.DataFrame({"customer_id": held.index.astype(str),
                         "global_holdout": held.to_numpy()})


def run_global_holdout(
    con: BaseBackend,
    as_of: date,
    *,
    days: int = 90,
    share: float | None = None,
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
        The global holdout's share and salt (as used when sending); ``share`` defaults to the
        settings' ``global_holdout``.

    Returns
    -------
    AbTestResult
        Baseline ``holdout``, variant ``CRM``; ``NO_DATA`` without customers.

    Raises
    ------
    ParameterError
        ``days`` outside 1-365, ``share`` outside (0, 0.5), or no ``share`` while the
        settings' ``global_holdout`` is 0 (no one is held out: there is nothing to compare).
    """
    func = "run_global_holdout"
    settings = settings or load_settings()
    if share is None:
        if not settings.global_holdout > 0:
            raise ParameterError(tr("impact.error.no_global_holdout", func=func))
        share = float(settings.global_holdout)
    if not 1 <= int(days) <= 365:
        raise ParameterError(tr("params.range", owner=func, name="days", low=1, high=365,
                                got=repr(days)))
    if not 0 < share < 0.5:
        raise ParameterError(tr("abtest.error.below_half", owner=func, name="share",
                                got=repr(share)))
    return global_holdout_readouts(con, as_of, (int(days),), share=share, salt=salt,
                                   settings=settings, language=language)[0]


def global_holdout_readouts(con: BaseBackend, as_of: date, periods: tuple[int, ...], *,
                            share: float, salt: str = GLOBAL_HOLDOUT_SALT,
                            settings: Settings, language: str | None = None
                            ) -> list[AbTestResult]:
    """Return :func:`run_global_holdout`'s readout for each period length, hashing ids once.

    The campaigns page reads the last 30 days and the report tile the last 7; hashing 100,000
    ids costs 0.8 s on 2 loaded cores, so the split is computed once for both.
    """
    tables = con.list_tables()
    frame = None
    if "customers" in tables and "orders" in tables:
        c = con.table("customers")
        signup = c.signup_at if "signup_at" in c.columns else ibis.null("timestamp")
        frame = c.select(customer_id=c.customer_id, signup_at=signup).to_pyarrow().to_pandas()
        frame["held"] = in_global_holdout(frame["customer_id"].tolist(), share,
                                          salt=salt).to_numpy()
    return [_readout(con, as_of, days, frame, share, settings, language) for days in periods]


def _readout(con: BaseBackend, as_of: date, days: int, frame: pd.DataFrame | None,
             share: float, settings: Settings, language: str | None) -> AbTestResult:
    start = cutoff(as_of - timedelta(days=int(days)), settings.timezone)
    end = cutoff(as_of, settings.timezone)
    params = AbTestParams(as_of=as_of, language=language, window_days=int(days),
                          pre_days=int(days), control="holdout",
                          planned_shares=f"holdout={share}, {CRM_ARM}={1 - share}")
    meta = {"campaign_id": "global_holdout",
            "name": tr("abtest.holdout.name", language=language or settings.language,
                       share=f"{100 * share:g}%"),
            "start": start}
    if frame is None:
        return readout_from_sums(pd.DataFrame(), params, settings=settings, meta=meta)
    eligible = frame[frame["signup_at"].isna() | (frame["signup_at"] < start)]
    assignments = ibis.memtable(pd.DataFrame({
        "customer_id": eligible["customer_id"].astype(str).to_numpy(),
        "variant": ["holdout" if h else CRM_ARM for h in eligible["held"].to_numpy()],
        "assigned_at": start,
    }))
    outcomes = customer_outcomes(assignments, con.table("orders"), None, start=start,
                                 window_days=int(days), pre_days=int(days), end=end)
    sums = arm_sums(outcomes).to_pyarrow().to_pandas()
    return readout_from_sums(sums, params, settings=settings, meta=meta)
