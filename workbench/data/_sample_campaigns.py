"""Past CRM campaigns with holdouts, their messages and known true effects.

A message multiplies a treated customer's chance of ordering within the attribution window by
``1 + uplift`` (capped at certainty, and no one's purchase rate more than doubles) if the customer
is still alive: it adds a Poisson process of extra orders whose intensity decays after the send,
``exp(-x / tau)``, on top of the customer's own. The chance of at least one order in the window is
therefore known exactly for every assigned customer, treated or not, and ``truth_campaigns``
reports its average per arm: the true effect an A/B analysis of the campaign should recover (an
expectation over the orders given who was assigned to which arm, so a readout's interval for the
difference of two arms' conversion targets it).

Effects are heterogeneous: a customer's uplift is the arm's ``uplift`` times their latent
``responsiveness`` (log-normal with mean 1, drawn once) times a segment multiplier read at the
send (:func:`segment_multiplier`: lapsed 60-180 days respond more, new one-time buyers more,
buyers of the last two weeks less). ``truth_customers.true_uplift`` is the absolute increase of
each customer's chance of ordering in 14 days that a standard message (uplift
:data:`STANDARD_UPLIFT`) sent at the sample end would cause.

Coupons and pull-forward: in a coupon arm, every order a treated customer places between the send
and the campaign's end (their own and the extra ones) uses the arm's coupon with probability
:data:`COUPON_USE`. A share :data:`PULL_FORWARD_SHARE` of the extra orders are pulled forward:
each removes the customer's next own order in the :data:`PULL_FORWARD_DAYS` days after the
campaign ends (never their very last order, so the dropout time stays what it was).

Customers in the persistent global holdout (the hash of :func:`workbench.abtest.in_global_holdout`
with its default salt, share :data:`GLOBAL_HOLDOUT_SHARE`) get no campaign at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
#: Chance that an order of a treated customer in a coupon arm's window uses the coupon.
COUPON_USE = 0.8
#: Share of the extra orders that replace (pull forward) a later own order.
PULL_FORWARD_SHARE = 0.3
#: Days after the campaign's end in which a pulled-forward order removes an own order.
PULL_FORWARD_DAYS = 30.0
#: Relative uplift of the standard message behind ``truth_customers.true_uplift``.
STANDARD_UPLIFT = 0.15
#: Log-normal spread of the latent responsiveness (its mean is 1).
RESPONSIVENESS_SIGMA = 0.7
#: Members with SMS consent who are friends of the shop's KakaoTalk channel.
KAKAO_FRIEND_SHARE = 0.35
#: The persistent global holdout: no campaign reaches these customers. The salt is
#: ``workbench.abtest.GLOBAL_HOLDOUT_SALT`` (the data layer cannot import abtest; a test checks
#: that both agree).
GLOBAL_HOLDOUT_SHARE = 0.05
GLOBAL_HOLDOUT_SALT = "workbench-global-holdout"
#: Days before the end over which the global holdout's truth is computed.
GLOBAL_HOLDOUT_DAYS = 90.0
#: Columns of the per-arm truth sums (see :func:`truth_campaigns_table`).
(CUSTOMERS, CONVERSION, UNTREATED, COUPON_TOTAL, COUPON_ANYWAY, PF_ORDERS,
 PF_REVENUE, AUDIENCE_UPLIFT) = range(8)
TRUTH_SUMS = 8


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
    recent_days: float | None = None  # audience: buyers with an order this recent
    buyers_only: bool = True  # False: every member with the consent, buyer or not
    consent: str = "sms"  # sms (SMS, LMS), email, push or friend (KakaoTalk channel friends)


def plan_campaigns(horizon: float, first_day: dt.date) -> tuple[Campaign, ...]:
    """Place the two A/B campaigns in the last months of history (about 5 and 2 months back)."""
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


def in_global_holdout(customer_ids: list[str], share: float = GLOBAL_HOLDOUT_SHARE
                      ) -> np.ndarray:
    """Return True for customers in the global holdout (the hash of ``workbench.abtest``)."""
    sha = hashlib.sha256
    salt = GLOBAL_HOLDOUT_SALT
    u = np.fromiter((int.from_bytes(sha(f"{salt}:{c}".encode()).digest()[:8], "big")
                     for c in customer_ids), dtype=np.uint64, count=len(customer_ids))
    return u.astype(np.float64) / float(2**64) < share


def draw_traits(rng: np.random.Generator, people: People, customer_ids: pa.Array) -> None:
    """Draw responsiveness and KakaoTalk channel friendship; flag the global holdout."""
    n = len(people.number)
    sigma = RESPONSIVENESS_SIGMA
    people.responsiveness = rng.lognormal(-sigma**2 / 2, sigma, n)
    people.friend = rng.random(n) < KAKAO_FRIEND_SHARE
    people.held_out = in_global_holdout(customer_ids.to_pylist())


def segment_multiplier(last: np.ndarray, n_before: np.ndarray, s: float | np.ndarray
                       ) -> np.ndarray:
    """Return the segment's multiplier of the uplift for a send at ``s``.

    Buyers of the last 14 days respond less (0.5: they just bought), one-time buyers of 14-60
    days ago more (1.6: still deciding whether to come back), buyers lapsed 60-180 days most
    (1.8: a reminder brings them back), everyone else 1.
    """
    days = s - last
    with np.errstate(invalid="ignore"):
        return np.select([days < 14, (n_before == 1) & (days < 60), (days >= 60) & (days < 180)],
                         [0.5, 1.6, 1.8], 1.0)


@dataclass(slots=True)
class Sends:
    """One campaign's effect on a block: who got which arm, extra orders, truth sums."""

    customer: np.ndarray  # local index of assigned customers
    arm: np.ndarray  # index into campaign.arms
    sent: np.ndarray  # days; the campaign start for the holdout
    extra_owner: np.ndarray
    extra_t: np.ndarray
    ghost_owner: np.ndarray  # own orders removed by pulled-forward extra orders
    ghost_t: np.ndarray
    clicks: tuple[np.ndarray, np.ndarray]  # (customer, time) of clicks, for web sessions
    truth: np.ndarray  # per arm: TRUTH_SUMS sums (customers, P(convert | arm), ...)
    assignments: pa.Table
    messages: pa.Table


def orders_before(history: History, n: int, who: np.ndarray, s: float | np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return the last own order before ``s`` (NaN: none) and the number of them, per ``who``."""
    counts = np.bincount(history.owner, minlength=n)
    starts = np.cumsum(counts) - counts
    # History is sorted by (owner, t): one search on a combined key finds every position.
    scale = float(np.max(history.t, initial=0.0)) + np.max(s) + 2.0
    key = history.owner * scale + history.t
    pos = np.searchsorted(key, who * scale + s, side="left")
    n_before = pos - starts[who]
    last = np.where(n_before > 0, history.t[np.maximum(pos - 1, 0)], np.nan)
    return last, n_before


def no_order_prob(people: People, who: np.ndarray, alive: np.ndarray, last: np.ndarray,
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


def extra_mass(p0: np.ndarray, uplift: np.ndarray, rate: np.ndarray, w: np.ndarray,
               ok: np.ndarray) -> np.ndarray:
    """Intensity of extra orders that turns P(order) ``1 - p0`` into ``(1 + uplift)(1 - p0)``.

    Customers who order anyway cannot be lifted past certainty, and no one's rate more than
    doubles.
    """
    target = np.maximum(1 - (1 + uplift) * (1 - p0), 1e-12)
    lift = np.log(np.maximum(p0, 1e-300) / target)
    return np.where(ok & (p0 > target), np.minimum(lift, rate * w), 0.0)


def standard_uplift(people: People, history: History, horizon: float, k: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Return each customer's true relative and absolute uplift of P(order in 14 days).

    For the standard message sent at the sample end; both 0 for customers who dropped out.
    The relative one is before the caps (certainty, a doubled rate).
    """
    n = len(people.number)
    who = np.arange(n)
    alive = people.buyer & ~history.dropped
    last, n_before = orders_before(history, n, who, horizon)
    s, w = np.full(n, horizon), np.full(n, WINDOW_DAYS)
    p0 = no_order_prob(people, who, alive, last, s, w, k)
    uplift = STANDARD_UPLIFT * people.responsiveness * segment_multiplier(last, n_before, horizon)
    mass = extra_mass(p0, uplift, people.rate, w, alive)
    return np.where(alive, uplift, 0.0), p0 * -np.expm1(-mass)


def _audience(campaign: Campaign, people: People, last: np.ndarray, at: float) -> np.ndarray:
    consent = {"sms": people.sms, "email": people.email, "push": people.push,
               "friend": people.friend & people.sms}[campaign.consent]
    audience = (people.member & consent & (people.consent_first < at) & (people.signup < at)
                & ~people.held_out)
    if campaign.buyers_only:
        audience &= ~np.isnan(last)
    with np.errstate(invalid="ignore"):
        if campaign.lapsed_days is not None:
            audience &= last <= at - campaign.lapsed_days
        if campaign.recent_days is not None:
            audience &= last >= at - campaign.recent_days
    return np.flatnonzero(audience)


def run_campaign(rng: np.random.Generator, campaign: Campaign, people: People, history: History,
                 *, horizon: float, renewal_shape: float, customer_ids: pa.Array,
                 start_us: int, timezone: str, crm_mass: np.ndarray) -> Sends:
    """Pick the audience, assign arms, draw responses and the extra orders the messages cause.

    Removes the own orders that pulled-forward extra orders replace from ``history`` and adds
    each treated customer's extra-order intensity inside the last
    :data:`GLOBAL_HOLDOUT_DAYS` days to ``crm_mass``.
    """
    n = len(people.number)
    assigned_at = campaign.start - 2 / 24  # the audience is extracted before sending
    last, n_before = orders_before(history, n, np.arange(n), assigned_at)
    who = _audience(campaign, people, last, assigned_at)
    shares = np.array([a.share for a in campaign.arms])
    arm = rng.choice(len(shares), size=len(who), p=shares / shares.sum())
    treated = arm > 0
    # Sending a large batch takes about half an hour.
    s = np.where(treated, campaign.start + rng.random(len(who)) * 30 / 1440, campaign.start)
    alive = (people.first[who] < s) & ~(history.dropped[who] & (history.dropout[who] <= s))
    mult = people.responsiveness[who] * segment_multiplier(last[who], n_before[who], assigned_at)
    p0, p1, mass, extra_owner, extra_t = _effect(
        rng, campaign, people, history, who, arm, s, alive, mult, horizon=horizon,
        renewal_shape=renewal_shape, crm_mass=crm_mass)
    truth = np.zeros((len(campaign.arms), TRUTH_SUMS))
    np.add.at(truth[:, :3], arm, np.stack([np.ones(len(who)), np.where(treated, 1 - p1, 1 - p0),
                                           1 - p0], axis=1))
    # Had the whole audience (holdout included) got arm a: the estimand over the random split.
    w = np.minimum(WINDOW_DAYS, horizon - s)
    for a, spec in enumerate(campaign.arms[1:], start=1):
        mass_a = extra_mass(p0, spec.uplift * mult, people.rate[who], w, alive)
        truth[a, AUDIENCE_UPLIFT] = np.sum(p0 * -np.expm1(-mass_a))
    ghost_owner, ghost_t = _pull_forward(rng, campaign, history, n, extra_owner)
    messages, clicks, unsub = _messages(rng, campaign, who[treated], arm[treated], s[treated],
                                        alive[treated], horizon=horizon,
                                        customer_ids=customer_ids, start_us=start_us,
                                        timezone=timezone)
    # 수신거부: an answer to an SMS, LMS or KakaoTalk ad stops ads on all three.
    flag = {"sms": people.sms, "friend": people.sms, "email": people.email,
            "push": people.push}[campaign.consent]
    flag[unsub] = False
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
                 ghost_owner=ghost_owner, ghost_t=ghost_t, clicks=clicks, truth=truth,
                 assignments=assignments, messages=messages)


def _kernel(x: np.ndarray) -> np.ndarray:
    """Share of a message's extra-order intensity in its first ``x`` days (before any cut)."""
    return -np.expm1(-np.maximum(x, 0.0) / DECAY_DAYS)


def _effect(rng: np.random.Generator, campaign: Campaign, people: People, history: History,
            who: np.ndarray, arm: np.ndarray, s: np.ndarray, alive: np.ndarray,
            mult: np.ndarray, *, horizon: float, renewal_shape: float, crm_mass: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return P(no order in the window) untreated and treated, the mass and the extra orders."""
    w = np.minimum(WINDOW_DAYS, horizon - s)
    last, _ = orders_before(history, len(people.number), who, campaign.start)
    p0 = no_order_prob(people, who, alive, last, s, w, renewal_shape)
    uplift = np.array([a.uplift for a in campaign.arms])[arm] * mult
    mass = extra_mass(p0, uplift, people.rate[who], w, alive)
    p1 = p0 * np.exp(-mass)
    # Extra orders follow the decaying effect exp(-x / tau) and stop when the customer drops
    # out (at an order of their own, so the chance of no order in the window is unchanged).
    w_eff = np.where(history.dropped[who], np.minimum(w, history.dropout[who] - s), w)
    w_eff = np.maximum(w_eff, 0.0)
    cut = _kernel(w_eff)
    full = np.maximum(_kernel(w), 1e-12)
    sent = alive & (arm > 0)
    m = rng.poisson(np.where(sent, mass * cut / full, 0.0))
    idx = np.repeat(np.arange(len(who)), m)
    x = -DECAY_DAYS * np.log1p(-rng.random(len(idx)) * cut[idx])
    # Given no own order in the global holdout's period, nobody drops out in it: the extra
    # orders' whole intensity inside the period counts.
    lo = horizon - GLOBAL_HOLDOUT_DAYS
    inside = (_kernel(np.minimum(s + w, horizon) - s) - _kernel(np.maximum(s, lo) - s)) / full
    np.add.at(crm_mass, who[sent], (mass * np.maximum(inside, 0.0))[sent])
    return p0, p1, mass, who[idx], np.minimum(s[idx] + x, horizon - 1e-7)


def _pull_forward(rng: np.random.Generator, campaign: Campaign, history: History, n: int,
                  extra_owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove the own orders that pulled-forward extra orders replace; return them."""
    pulled = np.bincount(extra_owner[rng.random(len(extra_owner)) < PULL_FORWARD_SHARE],
                         minlength=n)
    end = campaign.start + WINDOW_DAYS
    owner, t = history.owner, history.t
    counts = np.bincount(owner, minlength=n)
    final = np.cumsum(counts) - 1  # index of each customer's very last order
    cand = np.flatnonzero((t >= end) & (t < end + PULL_FORWARD_DAYS) & (pulled[owner] > 0))
    cand = cand[cand != final[owner[cand]]]
    if len(cand) == 0:
        return np.empty(0, np.int64), np.empty(0)
    _, first, size = np.unique(owner[cand], return_index=True, return_counts=True)
    rank = np.arange(len(cand)) - np.repeat(first, size)
    drop = cand[rank < pulled[owner[cand]]]
    keep = np.ones(len(owner), dtype=bool)
    keep[drop] = False
    history.owner, history.t = owner[keep], t[keep]
    return owner[drop], t[drop]


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
    """Return ``truth_campaigns``: per arm, the true effect, coupon cost and pull-forward."""
    names = ("campaign_id", "variant", "customers", "window_days", "planned_uplift",
             "expected_conversion", "expected_conversion_untreated", "relative_uplift",
             "absolute_uplift", "audience_absolute_uplift", "coupon_code", "coupon_cost_total",
             "coupon_cost_anyway", "pull_forward_days", "pull_forward_orders",
             "pull_forward_revenue")
    rows: dict[str, list] = {k: [] for k in names}
    for campaign, total in zip(campaigns, sums, strict=True):
        audience = total[:, CUSTOMERS].sum()
        for arm, row in zip(campaign.arms, total, strict=True):
            count = row[CUSTOMERS]
            # null, not NaN, for an empty arm: the table compares equal to itself
            conv = row[CONVERSION] / count if count else None
            base = row[UNTREATED] / count if count else None
            rows["campaign_id"].append(campaign.campaign_id)
            rows["variant"].append(arm.variant)
            rows["customers"].append(int(count))
            rows["window_days"].append(int(WINDOW_DAYS))
            rows["planned_uplift"].append(arm.uplift)
            rows["expected_conversion"].append(conv)
            rows["expected_conversion_untreated"].append(base)
            rows["relative_uplift"].append(conv / base - 1 if base else None)
            rows["absolute_uplift"].append(conv - base if count else None)
            rows["audience_absolute_uplift"].append(
                row[AUDIENCE_UPLIFT] / audience if audience else None)
            rows["coupon_code"].append(arm.coupon)
            rows["coupon_cost_total"].append(float(row[COUPON_TOTAL]))
            rows["coupon_cost_anyway"].append(float(row[COUPON_ANYWAY]))
            rows["pull_forward_days"].append(int(PULL_FORWARD_DAYS))
            rows["pull_forward_orders"].append(int(round(row[PF_ORDERS])))
            rows["pull_forward_revenue"].append(float(row[PF_REVENUE]))
    types = {"campaign_id": pa.string(), "variant": pa.string(), "coupon_code": pa.string(),
             "customers": pa.int64(), "window_days": pa.int64(), "pull_forward_days": pa.int64(),
             "pull_forward_orders": pa.int64()}
    return pa.table(rows, schema=pa.schema([(k, types.get(k, pa.float64())) for k in names]))
