"""The ``uplift_score`` snapshot column: trained at ``workbench refresh``, never on a page.

Each refresh trains :class:`~workbench.uplift.model.UpliftModel` on every campaign whose
attribution window ended before ``as_of`` (at most ``max_rows`` assignments, see
:func:`~workbench.uplift.frame.training_frame`) and scores every customer for "a message like
the shop's usual campaign": the channel most past campaigns used, with a coupon when most of
them carried one. The model is not saved: training takes seconds on the sampled rows, and
the refresh then always learns from the latest campaigns.

With fewer than :data:`MIN_CAMPAIGNS` finished campaigns, or a group with no orders, the column
is null and the refresh logs a warning with the reason (a status, not an error: a new shop has
no campaigns yet).
"""

from __future__ import annotations

import logging
import warnings
from datetime import date
from typing import Any

import ibis
import pandas as pd

from workbench.data.schema import CAMPAIGN_CHANNELS
from workbench.data.snapshot import SnapshotPart
from workbench.errors import ParameterError, WorkbenchWarning
from workbench.i18n import tr
from workbench.results import Status
from workbench.settings import Settings
from workbench.uplift.frame import (
    CAMPAIGN_FEATURES,
    FEATURES,
    campaign_coupons,
    scoring_frame,
    training_frame,
)
from workbench.uplift.model import UpliftModel

__all__ = ["MIN_CAMPAIGNS", "SNAPSHOT_PART", "uplift_part", "uplift_scores"]

_log = logging.getLogger(__name__)

#: Finished campaigns with a holdout needed before the snapshot gets uplift scores.
MIN_CAMPAIGNS = 2


def uplift_scores(con: Any, *, as_of: date, settings: Settings, learner: str = "x",
                  channel: str | None = None, coupon: bool | None = None,
                  window_days: int = 14, max_rows: int = 100_000
                  ) -> tuple[pd.Series | None, Status, str]:
    """Return every customer's uplift score as of ``as_of``, a status and a message.

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Campaigns finished before this day train the model; customers are scored as of it.
    settings
        Time zone.
    learner
        ``"t"`` or ``"x"`` (:class:`~workbench.uplift.model.UpliftModel`).
    channel, coupon
        The message scored; ``None``: what most past campaigns used.
    window_days
        Attribution window: the score is the increase in P(net order within it).
    max_rows
        Training rows at most.

    Returns
    -------
    tuple
        ``(scores, status, message)``: a float Series named ``uplift_score`` indexed by
        ``customer_id`` (every customer), or ``None`` with ``TOO_LITTLE_DATA`` and the reason.
    """
    if channel is not None and channel not in CAMPAIGN_CHANNELS:
        raise ParameterError(tr("uplift.error.channel", channels=list(CAMPAIGN_CHANNELS),
                                got=repr(channel)))
    tables = set(con.list_tables())
    if not {"assignments", "campaigns", "orders", "customers"} <= tables:
        return None, Status.TOO_LITTLE_DATA, tr("uplift.status.too_few", found=0,
                                                 needed=MIN_CAMPAIGNS)
    camps = campaign_coupons(con, window_days)
    frame = training_frame(con, as_of=as_of, settings=settings, window_days=window_days,
                           max_rows=max_rows, campaigns=camps)
    used = camps[camps["campaign_id"].isin(frame["campaign_id"])]
    if len(used) < MIN_CAMPAIGNS:
        return None, Status.TOO_LITTLE_DATA, tr("uplift.status.too_few", found=len(used),
                                                 needed=MIN_CAMPAIGNS)
    columns = [*FEATURES, *CAMPAIGN_FEATURES]
    try:
        model = UpliftModel(learner=learner).fit(frame[columns], frame["treated"],
                                                 frame["converted"])
    except ParameterError as exc:  # a group without orders (or without non-buyers)
        return None, Status.TOO_LITTLE_DATA, tr("uplift.status.no_outcome", detail=str(exc))
    if channel is None:
        channel = str(used["channel"].value_counts().sort_index().idxmax())
    if coupon is None:
        coupon = bool(used["coupon"].mean() >= 0.5)
    X = scoring_frame(con, as_of=as_of, settings=settings, channel=channel, coupon=coupon)
    return model.predict_uplift(X), Status.OK, ""


def uplift_part(con: Any, *, as_of: date, settings: Settings) -> Any:
    """Return the ``uplift_score`` snapshot column, or ``None`` (null) with a logged reason."""
    scores, status, message = uplift_scores(con, as_of=as_of, settings=settings)
    if scores is None:
        _log.info("uplift scores as of %s: %s (%s)", as_of, status, message)
        warnings.warn(message, WorkbenchWarning, stacklevel=2)
        return None
    frame = scores.astype("float64").rename_axis("customer_id").reset_index()
    frame["customer_id"] = frame["customer_id"].astype(str)
    return ibis.memtable(frame)


#: The uplift column of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("uplift", ("uplift_score",), uplift_part)
