"""Two past CRM campaigns with holdouts, their messages and a known true effect.

A message multiplies a treated customer's chance of ordering within the attribution window by
``1 + uplift`` (capped at certainty) if the customer is still alive: it adds a Poisson process of
extra orders whose intensity decays after the send, ``exp(-x / tau)``, on top of the customer's
own. The chance of at least one order in the window is therefore known exactly for every
assigned customer, treated or not, and ``truth_campaigns`` reports its average per arm: the true
effect an A/B analysis of the campaign should recover.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy import special

from workbench.data._sample_base import DAY_US, take, timestamps
from workbench.data._sample_people import BGNBD, REPLENISH, History, People

#: Time constant (days) of the decay of a message's effect.
DECAY_DAYS = 3.0
WINDOW_DAYS = 14.0
HOLDOUT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Arm:
    """A variant of a campaign; ``uplift`` multiplies the chance of ordering in the window."""

    variant: str
    share: float
    uplift: float = 0.0
    coupon: str | None = None
    coupon_percent: float = 0.0
    coupon_fixed: float = 0.0


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign: audience rules, send time, arms and response rates."""

    campaign_id: str
    name: str
    channel: str
    cost_per_message: float
    start: float  # days since the start of history, wall clock
    arms: tuple[Arm, ...]  # arms[0] is the holdout
    lapsed_days: float | None  # audience: past buyers without an order for this long
    open_rate: tuple[float, float] | None  # (alive, dropped out); None: not measurable
    click_rate: tuple[float, float]  # of messages sent
    unsubscribe_rate: float


def plan_campaigns(horizon: float, first_day: dt.date) -> tuple[Campaign, ...]:
    """Place the two campaigns in the last months of history (about 5 and 2 months back)."""
    def start(days_back: float, hour: int) -> float:
        return float(np.floor(horizon - min(days_back, 0.6 * horizon))) + hour / 24

    def month(t: float) -> int:
        return (first_day + dt.timedelta(days=int(t))).month

    s1, s2 = start(150, 10), start(60, 19)
    return (
        Campaign(
            "CMP001", f"{month(s1)}월 재구매 쿠폰 SMS (A/B)", "sms",
            # An SMS costs 9.9원; money is stored in whole won.
            cost_per_message=10.0, start=s1,
            arms=(Arm("holdout", HOLDOUT_SHARE),
                  Arm("A", 0.45, 0.15, "SMS15", coupon_percent=0.15),
                  Arm("B", 0.45, 0.10, "SMSSHIP", coupon_fixed=3_000)),
            lapsed_days=30.0, open_rate=None,  # SMS has no read receipts
            click_rate=(0.035, 0.01), unsubscribe_rate=0.005),
        Campaign(
            "CMP002", f"{month(s2)}월 신상품 카카오 친구톡", "kakao",
            cost_per_message=15.0, start=s2,
            arms=(Arm("holdout", HOLDOUT_SHARE),
                  Arm("send", 0.9, 0.12, "KAKAO5000", coupon_fixed=5_000)),
            lapsed_days=None, open_rate=(0.5, 0.3), click_rate=(0.1, 0.03),
            unsubscribe_rate=0.003),
    )


def campaigns_table(campaigns: tuple[Campaign, ...], *, start_us: int, horizon: float,
                    timezone: str) -> pa.Table:
    """Return the ``campaigns`` rows."""
    def ts(days: list[float]) -> pa.Array:
        return timestamps(start_us + (np.array(days) * DAY_US).astype(np.int64), timezone)

    return pa.table({
        "campaign_id": [c.campaign_id for c in campaigns],
        "name": [c.name for c in campaigns],
        "channel": [c.channel for c in campaigns],
        "is_ad": [True] * len(campaigns),
        "started_at": ts([c.start for c in campaigns]),
        "ended_at": ts([min(c.start + WINDOW_DAYS, horizon - 1e-6) for c in campaigns]),
        "holdout_share": pa.array([c.arms[0].share for c in campaigns], type=pa.float64()),
        "cost_per_message": pa.array([c.cost_per_message for c in campaigns],
                                     type=pa.float64()),
    })


@dataclass(slots=True)
class Sends:
    """One campaign's effect on a block: who got which arm, extra orders, truth sums."""

    customer: np.ndarray  # local index of assigned customers
    arm: np.ndarray  # index into campaign.arms
    sent: np.ndarray  # days; the campaign start for the holdout
    extra_owner: np.ndarray
    extra_t: np.ndarray
    clicks: tuple[np.ndarray, np.ndarray]  # (customer, time) of clicks, for web sessions
    truth: np.ndarray  # per arm: customers, sum P(convert | arm), sum P(convert | untreated)
    assignments: pa.Table
    messages: pa.Table


def _last_before(history: History, n: int, s: float) -> np.ndarray:
    before = history.t < s
    counts = np.bincount(history.owner, minlength=n)
    n_before = np.bincount(history.owner[before], minlength=n)
    idx = np.cumsum(counts) - counts + n_before - 1
    return np.where(n_before > 0, history.t[np.maximum(idx, 0)], np.nan)


def _no_order_prob(people: People, who: np.ndarray, alive: np.ndarray, last: np.ndarray,
                   s: np.ndarray, w: np.ndarray, k: float) -> np.ndarray:
    """P(no own order in ``[s, s + w)``) for customers alive at ``s`` (else 1)."""
    p0 = np.ones(len(who))
    rate = people.rate[who]
    pois = alive & (people.process[who] == BGNBD)
    p0[pois] = np.exp(-rate[pois] * w[pois])
    ren = alive & (people.process[who] == REPLENISH)
    theta = people.mean_gap[who[ren]] / k
    age = s[ren] - last[ren]
    now = special.gammaincc(k, age / theta)
    later = special.gammaincc(k, (age + w[ren]) / theta)
    p0[ren] = np.where(now > 1e-300, later / np.maximum(now, 1e-300), np.exp(-w[ren] / theta))
    return p0


def run_campaign(rng: np.random.Generator, campaign: Campaign, people: People, history: History,
                 *, horizon: float, renewal_shape: float, customer_ids: pa.Array,
                 start_us: int, timezone: str) -> Sends:
    """Pick the audience, assign arms, draw responses and the extra orders the messages cause."""
    n = len(people.number)
    assigned_at = campaign.start - 2 / 24  # the audience is extracted before sending
    last = _last_before(history, n, assigned_at)
    audience = (people.member & people.sms & (people.consent_first < assigned_at)
                & (people.signup < assigned_at) & ~np.isnan(last))
    if campaign.lapsed_days is not None:
        audience &= last <= assigned_at - campaign.lapsed_days
    who = np.flatnonzero(audience)
    shares = np.array([a.share for a in campaign.arms])
    arm = rng.choice(len(shares), size=len(who), p=shares / shares.sum())
    treated = arm > 0
    # Sending a large batch takes about half an hour.
    s = np.where(treated, campaign.start + rng.random(len(who)) * 30 / 1440, campaign.start)
    alive = (people.first[who] < s) & ~(history.dropped[who] & (history.dropout[who] <= s))
    p0, p1, extra_owner, extra_t = _effect(rng, campaign, people, history, who, arm, s, alive,
                                           horizon=horizon, renewal_shape=renewal_shape)
    truth = np.zeros((len(campaign.arms), 3))
    np.add.at(truth, arm, np.stack([np.ones(len(who)), np.where(treated, 1 - p1, 1 - p0),
                                    1 - p0], axis=1))
    messages, clicks, unsub = _messages(rng, campaign, who[treated], arm[treated], s[treated],
                                        alive[treated], horizon=horizon,
                                        customer_ids=customer_ids, start_us=start_us,
                                        timezone=timezone)
    people.sms[unsub] = False  # 수신거부: the shop must stop ads on SMS, LMS and Kakao
    variants = np.array([a.variant for a in campaign.arms], dtype=object)
    assignments = pa.table({
        "campaign_id": pa.array(np.full(len(who), campaign.campaign_id, dtype=object),
                                type=pa.string()),
        "customer_id": customer_ids.take(pa.array(who)),
        "variant": take(variants, arm),
        "assigned_at": timestamps(np.full(len(who), start_us + int(assigned_at * DAY_US)),
                                  timezone),
    })
    return Sends(customer=who, arm=arm, sent=s, extra_owner=extra_owner, extra_t=extra_t,
                 clicks=clicks, truth=truth, assignments=assignments, messages=messages)


def _effect(rng: np.random.Generator, campaign: Campaign, people: People, history: History,
            who: np.ndarray, arm: np.ndarray, s: np.ndarray, alive: np.ndarray, *,
            horizon: float, renewal_shape: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return P(no order in the window) untreated and treated, and the extra orders drawn."""
    w = np.minimum(WINDOW_DAYS, horizon - s)
    last = _last_before(history, len(people.number), campaign.start)[who]
    p0 = _no_order_prob(people, who, alive, last, s, w, renewal_shape)
    # The message multiplies each customer's chance of ordering in the window by 1 + uplift,
    # through extra orders with a total intensity of log(p0 / p1); customers who order anyway
    # cannot be lifted past certainty, and no one's rate more than doubles.
    uplift = np.array([a.uplift for a in campaign.arms])[arm]
    target = np.maximum(1 - (1 + uplift) * (1 - p0), 1e-12)
    lift = np.log(np.maximum(p0, 1e-300) / target)
    mass = np.where(alive & (p0 > target), np.minimum(lift, people.rate[who] * w), 0.0)
    p1 = p0 * np.exp(-mass)
    # Extra orders follow the decaying effect exp(-x / tau) and stop when the customer drops
    # out (at an order of their own, so the chance of no order in the window is unchanged).
    w_eff = np.where(history.dropped[who], np.minimum(w, history.dropout[who] - s), w)
    w_eff = np.maximum(w_eff, 0.0)
    cut = -np.expm1(-w_eff / DECAY_DAYS)
    share = cut / np.maximum(-np.expm1(-w / DECAY_DAYS), 1e-12)
    m = rng.poisson(np.where(alive & (arm > 0), mass * share, 0.0))
    idx = np.repeat(np.arange(len(who)), m)
    x = -DECAY_DAYS * np.log1p(-rng.random(len(idx)) * cut[idx])
    return p0, p1, who[idx], np.minimum(s[idx] + x, horizon - 1e-7)


def _messages(rng: np.random.Generator, campaign: Campaign, who: np.ndarray, arm: np.ndarray,
              sent: np.ndarray, alive: np.ndarray, *, horizon: float, customer_ids: pa.Array,
              start_us: int, timezone: str) -> tuple[pa.Table, tuple[np.ndarray, np.ndarray],
                                                     np.ndarray]:
    n = len(who)
    u = rng.random((4, n))
    if campaign.open_rate is None:
        opened = np.full(n, np.nan)
        clicked = np.where(u[1] < np.where(alive, *campaign.click_rate),
                           sent + rng.exponential(2 / 24, n), np.nan)
    else:
        opened = np.where(u[0] < np.where(alive, *campaign.open_rate),
                          sent + rng.exponential(3 / 24, n), np.nan)
        click_given_open = np.divide(campaign.click_rate, campaign.open_rate)
        clicked = np.where(~np.isnan(opened) & (u[1] < np.where(alive, *click_given_open)),
                           opened + rng.exponential(5 / 1440, n), np.nan)
    unsub = np.where(u[2] < campaign.unsubscribe_rate, sent + rng.exponential(1 / 24, n), np.nan)
    opened, clicked, unsub = (np.where(x < horizon, x, np.nan) for x in (opened, clicked, unsub))
    variants = np.array([a.variant for a in campaign.arms], dtype=object)

    def ts(days: np.ndarray) -> pa.Array:
        mask = np.isnan(days)
        us = start_us + (np.nan_to_num(days) * DAY_US).astype(np.int64)
        return timestamps(us, timezone, mask=mask)

    table = pa.table({
        "campaign_id": pa.array(np.full(n, campaign.campaign_id, dtype=object), type=pa.string()),
        "customer_id": customer_ids.take(pa.array(who)),
        "variant": take(variants, arm),
        "sent_at": ts(sent),
        "opened_at": ts(opened),
        "clicked_at": ts(clicked),
        "unsubscribed_at": ts(unsub),
        # Every sample message reached the carrier: the sending service reported no failures.
        "channel": pa.array(np.full(n, campaign.channel, dtype=object), type=pa.string()),
        "status": pa.array(np.full(n, "sent", dtype=object), type=pa.string()),
        "failure_reason": pa.nulls(n, type=pa.string()),
    })
    has_click = ~np.isnan(clicked)
    return table, (who[has_click], clicked[has_click]), who[~np.isnan(unsub)]


def truth_campaigns_table(campaigns: tuple[Campaign, ...], sums: list[np.ndarray]) -> pa.Table:
    """Return ``truth_campaigns``: per arm, the expected share with an order in the window."""
    rows: dict[str, list] = {k: [] for k in (
        "campaign_id", "variant", "customers", "window_days", "planned_uplift",
        "expected_conversion", "expected_conversion_untreated", "relative_uplift",
        "absolute_uplift")}
    for campaign, total in zip(campaigns, sums, strict=True):
        for arm, (count, treated, untreated) in zip(campaign.arms, total, strict=True):
            conv = treated / count if count else np.nan
            base = untreated / count if count else np.nan
            rows["campaign_id"].append(campaign.campaign_id)
            rows["variant"].append(arm.variant)
            rows["customers"].append(int(count))
            rows["window_days"].append(int(WINDOW_DAYS))
            rows["planned_uplift"].append(arm.uplift)
            rows["expected_conversion"].append(conv)
            rows["expected_conversion_untreated"].append(base)
            rows["relative_uplift"].append(conv / base - 1 if base else np.nan)
            rows["absolute_uplift"].append(conv - base)
    return pa.table(rows, schema=pa.schema([
        ("campaign_id", pa.string()), ("variant", pa.string()), ("customers", pa.int64()),
        ("window_days", pa.int64()), ("planned_uplift", pa.float64()),
        ("expected_conversion", pa.float64()), ("expected_conversion_untreated", pa.float64()),
        ("relative_uplift", pa.float64()), ("absolute_uplift", pa.float64())]))
