"""What customers were already sent: the cooldown of repeated exports and the frequency cap.

Two exclusion rules of :func:`~workbench.audience.export_audience` read the history of sends
(they come after the legal rules in :data:`~workbench.audience.compliance.EXCLUSION_RULES`):

``recently_exported`` (``--since-last-export``)
    An hourly job (cron) exporting "cart +1 h" would otherwise put the same customers in the
    file every hour. A customer who is in an earlier export of the *same audience* (any arm:
    the file, the holdout, an AlimTalk fallback) whose send time lies less than the cooldown
    before or after this send is left out. The bound is exclusive: with a 24 h cooldown an
    export sent at 14:00 blocks the customer until 13:59 the next day, and the 14:00 export
    the next day may include them again. The cooldown is the ``cooldown`` of the audience's
    definition, else :data:`DEFAULT_COOLDOWN` (24 h); the command line's ``--cooldown`` wins
    over both. Only exports logged in ``export_members`` (written since 2026-12) are seen.

``frequency_cap_day`` / ``frequency_cap_week``
    At most ``ads_per_day`` ads a customer on the send's calendar day and ``ads_per_week`` in
    any 7 consecutive calendar days that hold the send day (days in the shop's zone; the
    ``[frequency_cap]`` settings, :class:`~workbench.settings.FrequencyCap`, default 1 and
    3). Calendar days, not rolling 24 hours: "one ad a day" is what a customer and a marketer
    count, and a send at 09:00 does not block one at 08:00 the next day. The week is every
    7-day window holding the send day (the send day and the 6 before it, ..., the send day
    and the 6 after it), so ads already exported for later days count too. Ads counted are
    the file arms of earlier ad exports (``export_members``, not the holdout) and the ad
    messages of the ``messages`` table (``campaigns.is_ad``, status not ``failed``); a
    message of a campaign whose id is an export's id is that export's send and counts once.
    Per-channel limits (``[frequency_cap.sms]``) count the ads on that channel and apply to
    exports on it; the overall limits count every channel. Only ads are capped. An export of
    the same audience for the same send time is a redo of that export (a fixed typo, a new
    file) and does not count against itself.

Both are lazy Ibis queries that aggregate in the backend; only the customer ids that hit a
rule come back (fast at 100,000 customers).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.audience.compliance import send_instant
from workbench.audience.durations import cooldown_duration, to_timedelta
from workbench.dates import cutoff, local_days
from workbench.errors import ParameterError
from workbench.i18n import tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import FrequencyCap

__all__ = ["DEFAULT_COOLDOWN", "HISTORY_RULES", "capped", "recently_exported",
           "resolve_cooldown", "send_reference", "with_history_reasons"]

#: Cooldown of ``--since-last-export`` when neither the definition nor ``--cooldown`` sets one:
#: the hourly scenarios' windows ("+1 h", "+24 h", checkout in the last day) are a day wide, so
#: a day keeps one customer from getting one scenario's message twice.
DEFAULT_COOLDOWN = "24h"
#: The rules of this module, in the order they are checked.
HISTORY_RULES = ("recently_exported", "frequency_cap_day", "frequency_cap_week")
MEMBERS = "export_members"


def resolve_cooldown(since_last_export: bool, cooldown: str | timedelta | None,
                     definition_cooldown: str | None) -> timedelta | None:
    """Return the cooldown an export uses (``None``: no ``--since-last-export``).

    Raises
    ------
    ParameterError
        A cooldown without ``since_last_export``, or one that is not a duration of 1 h or more.

    Examples
    --------
    >>> resolve_cooldown(True, None, None), resolve_cooldown(True, "2d", "12h")
    (datetime.timedelta(days=1), datetime.timedelta(days=2))
    """
    if not since_last_export:
        if cooldown is not None:
            raise ParameterError(tr("audience.cli.cooldown_needs_since"))
        return None
    if isinstance(cooldown, timedelta):
        if cooldown < timedelta(hours=1):
            raise ParameterError(tr("audience.error.cooldown", where="export_audience",
                                    got=repr(str(cooldown))))
        return cooldown
    text = cooldown if cooldown is not None else definition_cooldown or DEFAULT_COOLDOWN
    return to_timedelta(cooldown_duration(text, "export_audience"))


def recently_exported(con: BaseBackend, *, audience: str, send: pd.Timestamp,
                      cooldown: timedelta) -> ir.Table:
    """Return ``customer_id`` of customers in an export of ``audience`` near ``send`` (lazy).

    Parameters
    ----------
    con
        The store.
    audience
        The audience's name.
    send
        This export's send instant (tz-aware).
    cooldown
        Earlier or later exports sent less than this far from ``send`` count (exclusive).
    """
    if MEMBERS not in con.list_tables():
        return ibis.memtable({"customer_id": pd.Series([], dtype="string")})
    m = con.table(MEMBERS)
    lo, hi = ibis.literal(send - cooldown), ibis.literal(send + cooldown)
    m = m.filter(m.audience == audience, m.send_at > lo, m.send_at < hi)
    return m.select("customer_id").distinct()


def _sends(con: BaseBackend, *, lo: pd.Timestamp, hi: pd.Timestamp, audience: str,
           send: pd.Timestamp) -> ir.Table | None:
    """Return ad sends in ``[lo, hi)``: ``source``, ``customer_id``, ``channel``, ``ts``."""
    names = set(con.list_tables())
    parts = []
    if MEMBERS in names:
        m = con.table(MEMBERS)
        redo = (m.audience == audience) & (m.send_at == ibis.literal(send))
        m = m.filter(m.is_ad.fill_null(False), m.variant.fill_null("send") != "holdout",
                     m.send_at >= ibis.literal(lo), m.send_at < ibis.literal(hi), ~redo)
        parts.append(m.select(source=m.export_id, customer_id=m.customer_id,
                              channel=m.channel.cast("string"), ts=m.send_at))
    if {"messages", "campaigns"} <= names:
        msg, camp = con.table("messages"), con.table("campaigns")
        # Stores written before 2026-12 and opened read-only lack channel and status.
        if "status" in msg.columns:
            msg = msg.filter(msg.status.isnull() | (msg.status != "failed"))
        msg = msg.filter(msg.customer_id.notnull(), msg.sent_at >= ibis.literal(lo),
                         msg.sent_at < ibis.literal(hi))
        camp = camp.filter(camp.is_ad.fill_null(False)).select(
            "campaign_id", campaign_channel=camp.channel)
        j = msg.inner_join(camp, "campaign_id")
        channel = (j.channel.fill_null(j.campaign_channel) if "channel" in msg.columns
                   else j.campaign_channel)
        parts.append(j.select(source=j.campaign_id, customer_id=j.customer_id,
                              channel=channel.cast("string"), ts=j.sent_at))
    if not parts:
        return None
    sends = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    # An export's send that came back through the send report is one message, not two.
    return sends.group_by(["source", "customer_id"]).aggregate(
        channel=sends.channel.min(), ts=sends.ts.min())


def capped(con: BaseBackend, *, channel: str, send: pd.Timestamp, timezone: str,
           cap: FrequencyCap, audience: str) -> pd.DataFrame:
    """Return the customers a frequency cap leaves out of an ad send, and the rule.

    Parameters
    ----------
    con
        The store.
    channel
        The export's channel (its ``[frequency_cap.<channel>]`` limits apply).
    send
        The send instant (tz-aware).
    timezone
        The shop's zone (calendar days).
    cap
        The limits (:class:`~workbench.settings.FrequencyCap`).
    audience
        The audience exported (an export of it at the same send time is a redo).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` and ``reason`` (``frequency_cap_day`` before ``frequency_cap_week``),
        one row per customer at a limit.
    """
    limits = [("all", cap.ads_per_day, cap.ads_per_week)]
    own = cap.for_channel(channel)
    if own is not None:
        limits.append((channel, own.ads_per_day, own.ads_per_week))
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype=object),
                          "reason": pd.Series([], dtype=object)})
    if not cap.enabled or all(d is None and w is None for _, d, w in limits):
        return empty
    day = send.tz_convert(timezone).date()
    lo = pd.Timestamp(day - timedelta(days=6)).tz_localize(timezone)
    hi = pd.Timestamp(day + timedelta(days=7)).tz_localize(timezone)
    sends = _sends(con, lo=lo, hi=hi, audience=audience, send=send)
    if sends is None:
        return empty
    offset = local_days(sends.ts, as_of=day + timedelta(days=7), timezone=timezone,
                        start=day - timedelta(days=7)) + 7
    sends = sends.mutate(offset=offset)
    metrics = {}
    for name, per_day, per_week in limits:
        on = ibis.literal(True) if name == "all" else sends.channel == name
        if per_day is not None:
            metrics[f"{name}_day"] = sends.count(where=on & (sends.offset == 0))
        if per_week is not None:
            for k in range(7):  # the 7-day window [send day + k - 6, send day + k]
                metrics[f"{name}_week{k}"] = sends.count(
                    where=on & (sends.offset >= k - 6) & (sends.offset <= k))
    counts = sends.group_by("customer_id").aggregate(**metrics)
    over_day, over_week = ibis.literal(False), ibis.literal(False)
    for name, per_day, per_week in limits:
        if per_day is not None:
            over_day |= counts[f"{name}_day"] >= per_day
        if per_week is not None:
            weeks = ibis.greatest(*[counts[f"{name}_week{k}"] for k in range(7)])
            over_week |= weeks >= per_week
    hits = counts.filter(over_day | over_week).select(
        "customer_id", reason=ibis.cases((over_day, "frequency_cap_day"),
                                         else_="frequency_cap_week"))
    out = hits.to_pandas()
    return out.astype({"customer_id": object, "reason": object}) if len(out) else empty


def with_history_reasons(elig: pd.DataFrame, con: BaseBackend, *, audience: str, channel: str,
                         is_ad: bool, send: pd.Timestamp, timezone: str, cap: FrequencyCap,
                         cooldown: timedelta | None) -> pd.DataFrame:
    """Return ``elig`` with :data:`HISTORY_RULES` filled in where no rule excluded a customer.

    Parameters
    ----------
    elig
        :func:`~workbench.audience.eligibility` as a frame (``customer_id``, ``reason``).
    con
        The store.
    audience, channel, is_ad
        The export's audience name, channel and whether it is an ad (only ads are capped).
    send
        The send instant (tz-aware; without a send time, the audience's cut-off).
    timezone
        The shop's zone.
    cap
        The frequency cap.
    cooldown
        ``--since-last-export``'s cooldown (``None``: off).
    """
    out = elig.copy()
    if cooldown is not None:
        recent = set(recently_exported(con, audience=audience, send=send,
                                       cooldown=cooldown).to_pandas()["customer_id"])
        hit = out["reason"].isna() & out["customer_id"].isin(recent)
        out.loc[hit, "reason"] = "recently_exported"
    if is_ad:
        hits = capped(con, channel=channel, send=send, timezone=timezone, cap=cap,
                      audience=audience)
        for rule in ("frequency_cap_day", "frequency_cap_week"):
            ids = set(hits.loc[hits["reason"] == rule, "customer_id"])
            hit = out["reason"].isna() & out["customer_id"].isin(ids)
            out.loc[hit, "reason"] = rule
    return out


def send_reference(send_at: datetime | None, as_of: date | datetime,
                   timezone: str) -> pd.Timestamp:
    """Return the instant an export is sent: ``send_at``, else the audience's cut-off."""
    return send_instant(send_at, timezone) if send_at is not None else cutoff(as_of, timezone)
