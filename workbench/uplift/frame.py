"""Point-in-time features of past campaigns' randomized assignments, and of customers today.

Uplift models learn from every past campaign's randomized split (``assignments``: a treated
arm against ``holdout``). Each row is one assigned customer of one campaign:

- the features are the customer's facts **as of the assignment** (:data:`FEATURES`): orders,
  revenue, recency and tenure from the net orders placed before ``assigned_at``, messages
  received before it (and whether they were opened or clicked), membership and consent flags;
- the campaign's channel (one-hot) and whether the campaign carried a coupon
  (:data:`CAMPAIGN_FEATURES`);
- the outcome ``converted``: a net order in ``[assigned_at, assigned_at + window_days)``.

:func:`scoring_frame` builds the same features for every customer as of local midnight of
``as_of`` for a message not yet sent, so a model trained on the past scores today.

Why not :func:`workbench.features.customer_facts`? It takes one ``as_of`` per call: two years
of campaigns would need one scan of the orders per campaign (about 50). Here every campaign's
cut-off is a column, and one join of the assignments with the orders gives all of them at
once (100k customers, 50 campaigns: one query). The definitions follow ``customer_facts``
(net orders of identified customers, days as fractional days between instants).

Consent and membership flags are the ``customers`` table's current values (membership counts
from ``signup_at``): the store keeps no history of consent, and every assigned customer had
the channel's consent when the audience was drawn.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.data.schema import CAMPAIGN_CHANNELS, NET_STATUSES
from workbench.dates import US_PER_DAY, cutoff, epoch_us
from workbench.settings import Settings

__all__ = ["CAMPAIGN_FEATURES", "FEATURES", "campaign_coupons", "scoring_frame",
           "training_frame"]

#: Customer features as of the assignment (or of ``as_of`` when scoring).
FEATURES: tuple[str, ...] = (
    "orders", "net_revenue", "aov", "recency_days", "tenure_days", "orders_90d",
    "orders_365d", "net_revenue_365d", "messages_365d", "opened_365d", "clicked_365d",
    "days_since_click", "is_member", "days_since_signup", "sms_opt_in", "email_opt_in",
    "push_opt_in", "kakao_friend",
)
#: What the message was: its channel (one column per channel) and a coupon.
CAMPAIGN_FEATURES: tuple[str, ...] = (*(f"channel_{c}" for c in CAMPAIGN_CHANNELS), "coupon")

_FLAGS = ("sms_opt_in", "email_opt_in", "push_opt_in", "kakao_friend")


def _days(t0: ir.TimestampValue, ts: ir.TimestampValue) -> ir.FloatingValue:
    return (epoch_us(t0) - epoch_us(ts)) / US_PER_DAY


def _features(units: ir.Table, con: Any, *, window_days: int | None) -> ir.Table:
    """Return ``units`` (``uid``, ``customer_id``, ``t0``, ...) with :data:`FEATURES`.

    With ``window_days`` also ``converted`` (a net order in ``[t0, t0 + window_days)``).
    """
    o = con.table("orders")
    o = o.filter(o.customer_id.notnull(), o.status.isin(list(NET_STATUSES)))
    o = o.select(oid=o.customer_id, ordered_at=o.ordered_at, amount=o.amount.cast("float64"))
    j = units.select("uid", "customer_id", "t0").join(o, units.customer_id == o.oid)
    before = j.ordered_at < j.t0
    d90 = before & (j.ordered_at >= j.t0 - ibis.interval(days=90))
    d365 = before & (j.ordered_at >= j.t0 - ibis.interval(days=365))
    aggs: dict[str, ir.Value] = {
        "orders": j.count(where=before), "net_revenue": j.amount.sum(where=before),
        "first_at": j.ordered_at.min(where=before), "last_at": j.ordered_at.max(where=before),
        "orders_90d": j.count(where=d90), "orders_365d": j.count(where=d365),
        "net_revenue_365d": j.amount.sum(where=d365),
    }
    if window_days is not None:
        after = (j.ordered_at >= j.t0) & (j.ordered_at < j.t0 + ibis.interval(days=window_days))
        aggs["won"] = j.count(where=after)
    per = j.group_by("uid").aggregate(**aggs)
    out = units.left_join(per, "uid").drop("uid_right")
    tables = set(con.list_tables())
    if "messages" in tables:
        m = con.table("messages")
        m = m.select(mid=m.customer_id, sent_at=m.sent_at, opened_at=m.opened_at,
                     clicked_at=m.clicked_at)
        jm = units.select("uid", "customer_id", "t0").join(m, units.customer_id == m.mid)
        recent = (jm.sent_at < jm.t0) & (jm.sent_at >= jm.t0 - ibis.interval(days=365))
        pm = jm.group_by("uid").aggregate(
            messages_365d=jm.count(where=recent),
            opened_365d=jm.count(where=recent & (jm.opened_at < jm.t0)),
            clicked_365d=jm.count(where=recent & (jm.clicked_at < jm.t0)),
            last_click=jm.clicked_at.max(where=jm.clicked_at < jm.t0))
        out = out.left_join(pm, "uid").drop("uid_right")
    else:
        out = out.mutate(messages_365d=0, opened_365d=0, clicked_365d=0,
                         last_click=ibis.null("timestamp"))
    c = con.table("customers")
    flags = {f: (c[f].fill_null(False).cast("float64") if f in c.columns
                 else ibis.literal(np.nan)) for f in _FLAGS}
    c = c.select(cid=c.customer_id, member=c.is_member.fill_null(False), signup_at=c.signup_at,
                 **flags)
    out = out.left_join(c, out.customer_id == c.cid)
    member = out.member.fill_null(False) & (out.signup_at.isnull() | (out.signup_at < out.t0))
    n = out.orders.fill_null(0)
    values = {
        "orders": n, "net_revenue": out.net_revenue.fill_null(0.0),
        "aov": out.net_revenue / n.nullif(0),
        "recency_days": _days(out.t0, out.last_at), "tenure_days": _days(out.t0, out.first_at),
        "orders_90d": out.orders_90d.fill_null(0), "orders_365d": out.orders_365d.fill_null(0),
        "net_revenue_365d": out.net_revenue_365d.fill_null(0.0),
        "messages_365d": out.messages_365d.fill_null(0),
        "opened_365d": out.opened_365d.fill_null(0), "clicked_365d": out.clicked_365d.fill_null(0),
        "days_since_click": _days(out.t0, out.last_click), "is_member": member,
        "days_since_signup": ibis.ifelse(out.signup_at < out.t0, _days(out.t0, out.signup_at),
                                         ibis.null("float64")),
        **{f: out[f] for f in _FLAGS},
    }
    keep = [c for c in units.columns if c != "uid"]
    cols = {k: v.cast("float64") for k, v in values.items()}
    if window_days is not None:
        cols["converted"] = (out.won.fill_null(0) > 0).cast("int64")
    return out.select(*keep, **cols)


def campaign_coupons(con: Any, window_days: int = 14) -> pd.DataFrame:
    """Return each campaign's channel, assignment time and whether it carried a coupon.

    A campaign carried a coupon when, in its window, a coupon code was used by its treated arms
    at least 5 times as often per customer as by its holdout, and at least 3 times: codes
    every customer has (a welcome or birthday coupon) are used by both groups alike. This is
    :func:`workbench.abtest.infer_coupon_codes`'s rule, for every campaign in one query.

    Returns
    -------
    pandas.DataFrame
        ``campaign_id``, ``channel``, ``assigned_at`` (the first assignment), ``coupon`` (bool),
        ``treated`` and ``holdout`` (customers), one row per campaign with assignments.
    """
    a = con.table("assignments")
    camp = con.table("campaigns").select("campaign_id", "channel")
    sizes = a.group_by("campaign_id").aggregate(
        assigned_at=a.assigned_at.min(), holdout=a.count(where=a.variant == "holdout"),
        treated=a.count(where=a.variant != "holdout"))
    sizes = sizes.left_join(camp, "campaign_id").drop("campaign_id_right")
    frame = sizes.to_pyarrow().to_pandas()
    frame["coupon"] = False
    o = con.table("orders")
    if "coupon_code" in o.columns and len(frame):
        o = o.filter(o.coupon_code.notnull(), o.customer_id.notnull())
        o = o.select(oid=o.customer_id, ordered_at=o.ordered_at, code=o.coupon_code)
        j = a.join(o, a.customer_id == o.oid)
        j = j.filter(j.ordered_at >= j.assigned_at,
                     j.ordered_at < j.assigned_at + ibis.interval(days=int(window_days)))
        uses = j.group_by("campaign_id", "code").aggregate(
            held=j.count(where=j.variant == "holdout"),
            arms=j.count(where=j.variant != "holdout")).to_pyarrow().to_pandas()
        uses = uses.merge(frame[["campaign_id", "treated", "holdout"]], on="campaign_id")
        predicted = uses["arms"] / uses["treated"].clip(lower=1) * uses["holdout"]
        hit = (uses["holdout"] > 0) & (predicted >= 3) & (uses["held"] < predicted / 5)
        frame["coupon"] = frame["campaign_id"].isin(uses.loc[hit, "campaign_id"])
    return frame.sort_values(["assigned_at", "campaign_id"], kind="stable").reset_index(drop=True)


def _campaign_columns(channel: pd.Series, coupon: pd.Series) -> dict[str, np.ndarray]:
    cols = {f"channel_{c}": (channel.to_numpy() == c).astype(float) for c in CAMPAIGN_CHANNELS}
    cols["coupon"] = coupon.to_numpy(dtype=float)
    return cols


def training_frame(con: Any, *, as_of: date, settings: Settings, window_days: int = 14,
                   max_rows: int = 200_000, seed: int = 0,
                   campaigns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return one row per assigned customer of every campaign whose window ended before ``as_of``.

    Parameters
    ----------
    con
        Ibis backend of the store (``assignments``, ``campaigns``, ``orders``, ``customers``;
        ``messages`` when present).
    as_of
        Only campaigns whose ``window_days`` after the assignment ended by local midnight of
        ``as_of`` are used (their outcome is known).
    settings
        Time zone.
    window_days
        Attribution window of the outcome.
    max_rows
        At most about this many rows: treated customers are sampled (by a hash of the campaign
        and customer, so the same rows every run) and every holdout customer is kept, since the
        holdout (10%) is the scarce half of each comparison.
    seed
        Salt of the sample.
    campaigns
        :func:`campaign_coupons` when the caller has it.

    Returns
    -------
    pandas.DataFrame
        ``campaign_id``, ``customer_id``, ``variant``, ``assigned_at``, ``treated`` (0/1),
        :data:`FEATURES`, :data:`CAMPAIGN_FEATURES`, ``converted``; sorted by assignment time,
        campaign and customer.
    """
    camps = campaign_coupons(con, window_days) if campaigns is None else campaigns
    end = cutoff(as_of, settings.timezone) - pd.Timedelta(days=window_days)
    camps = camps[pd.to_datetime(camps["assigned_at"], utc=True) <= end]
    a = con.table("assignments")
    a = a.filter(a.campaign_id.isin(list(camps["campaign_id"])))
    total = int(camps["treated"].sum())
    room = max(max_rows - int(camps["holdout"].sum()), 1)
    if total > room:
        bucket = (a.campaign_id.concat("/", a.customer_id, f"/{seed}").hash() % 1_000_000).abs()
        a = a.filter((a.variant == "holdout") | (bucket < int(1_000_000 * room / total)))
    units = a.select("campaign_id", "customer_id", "variant", "assigned_at",
                     uid=a.campaign_id.concat("\x1f", a.customer_id), t0=a.assigned_at)
    frame = _features(units, con, window_days=window_days).to_pyarrow().to_pandas()
    frame = frame.drop(columns="t0").sort_values(["assigned_at", "campaign_id", "customer_id"],
                                                 kind="stable").reset_index(drop=True)
    meta = camps.set_index("campaign_id").reindex(frame["campaign_id"])
    extra = _campaign_columns(meta["channel"].fillna(""), meta["coupon"].fillna(False))
    frame = frame.assign(treated=(frame["variant"] != "holdout").astype("int64"), **extra)
    order = ["campaign_id", "customer_id", "variant", "assigned_at", "treated", *FEATURES,
             *CAMPAIGN_FEATURES, "converted"]
    return frame.loc[:, order]


def scoring_frame(con: Any, *, as_of: date, settings: Settings, channel: str,
                  coupon: bool) -> pd.DataFrame:
    """Return :data:`FEATURES` and :data:`CAMPAIGN_FEATURES` of every customer as of ``as_of``.

    The message scored is one on ``channel``, with or without a coupon, assigned at local
    midnight of ``as_of``. Indexed by ``customer_id`` (every row of ``customers``).
    """
    c = con.table("customers")
    t0 = ibis.literal(cutoff(as_of, settings.timezone))
    units = c.select("customer_id", uid=c.customer_id, t0=t0)
    frame = _features(units, con, window_days=None).to_pyarrow().to_pandas()
    frame = frame.drop(columns="t0").set_index("customer_id").sort_index()
    n = len(frame)
    extra = _campaign_columns(pd.Series([channel] * n), pd.Series([coupon] * n))
    return frame.assign(**extra).loc[:, [*FEATURES, *CAMPAIGN_FEATURES]]
