"""Customers of one block: their latent purchase process, identity and consent.

Times inside the generator are float days since midnight of the first day of history, in the
shop's wall-clock time; they become time-zone-aware timestamps only when tables are built.

The purchase process (see :class:`~workbench.data._sample_base.ShopModel`):

- ``bgnbd`` customers follow BG/NBD exactly (Fader, Hardie and Lee 2005, assumptions (i)-(v)):
  the first order at their birth, repeat orders as a Poisson process with rate ``lambda``, and
  after every repeat order a dropout with probability ``p``.
- ``replenish`` customers reorder their favourite consumable when they run out: gaps are gamma
  with mean ``replenish_days`` times a personal factor (people stretch or hurry their supply),
  and they drop out after each repeat order with probability ``p`` as well. Their gaps are not
  exponential, which is what real replenishment data look like and what pure BG/NBD misses.
- ``none``: members who sign up and never buy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

from workbench.data._sample_base import (
    ACQUISITION,
    DAY_US,
    EMAIL_DOMAINS,
    FAMILY_NAMES,
    GIVEN_FIRST,
    GIVEN_SECOND,
    ORDER_CHANNELS,
    REGIONS,
    ShopModel,
    digits,
    fixed_strings,
    growth_times,
    ids,
    seconds_of_day,
    segment_cumsum,
    take,
    timestamps,
    weights,
)
from workbench.data._sample_catalog import CATEGORIES, Catalog
from workbench.data.schema import NET_STATUSES

NONE, BGNBD, REPLENISH = 0, 1, 2
PROCESS_NAMES = np.array(["none", "bgnbd", "replenish"], dtype=object)
_CONSUMABLE = np.array([c in ("beauty", "food", "pet") for c, _ in CATEGORIES])


@dataclass(slots=True)
class People:
    """Latent state of one block's customers (arrays of equal length, internal)."""

    number: np.ndarray  # global customer number, 1-based
    process: np.ndarray  # NONE / BGNBD / REPLENISH
    member: np.ndarray
    first: np.ndarray  # first order (buyers) or sign-up (never-buyers), days
    rate: np.ndarray  # purchases per day while alive (0 for never-buyers)
    p: np.ndarray  # dropout probability after each repeat purchase
    j: np.ndarray  # repeat purchase after which the customer drops out
    mean_gap: np.ndarray  # replenishers: mean days between orders
    nu: np.ndarray  # gamma-gamma: spend per order is Gamma(p, nu)
    fav_cat: np.ndarray
    fav_product: np.ndarray
    channel: np.ndarray  # preferred order channel
    has_email: np.ndarray
    signup: np.ndarray  # days; NaN for non-members
    # consent: flags as given at consent_first; campaigns may withdraw them later
    sms: np.ndarray
    email: np.ndarray
    push: np.ndarray
    night: np.ndarray
    consent_first: np.ndarray
    consent_at: np.ndarray
    # drawn by _sample_campaigns.draw_traits before the campaigns run
    responsiveness: np.ndarray | None = None  # multiplies a message's uplift (mean 1)
    friend: np.ndarray | None = None  # KakaoTalk channel friend if a member with SMS consent
    held_out: np.ndarray | None = None  # in the global holdout: never messaged

    @property
    def buyer(self) -> np.ndarray:
        """Customers who place at least one order."""
        return self.process != NONE


@dataclass(slots=True)
class History:
    """Orders of the latent process, sorted by (customer, time), and what follows from them."""

    owner: np.ndarray
    t: np.ndarray
    last: np.ndarray  # per customer: last order (NaN: none)
    dropped: np.ndarray  # per customer: dropped out before the end
    dropout: np.ndarray  # per customer: time of dropping out (NaN: alive or never bought)


def draw_people(rng: np.random.Generator, numbers: np.ndarray, horizon: float,
                model: ShopModel, catalog: Catalog) -> People:
    """Draw the latent state of a block of customers (before any order is placed)."""
    n = len(numbers)
    buyer = rng.random(n) >= model.never_buyer_share
    member_if_buyer = (model.member_share - model.never_buyer_share) / (1 - model.never_buyer_share)
    member = ~buyer | (rng.random(n) < member_if_buyer)
    fav_cat = rng.choice(len(CATEGORIES), size=n, p=[s for _, s in CATEGORIES])
    fav_product = catalog.sample(rng, fav_cat)
    replenisher = buyer & _CONSUMABLE[fav_cat] & (rng.random(n) < model.replenisher_share)
    process = np.where(buyer, np.where(replenisher, REPLENISH, BGNBD), NONE)
    # Assumptions (ii) and (iv) of Fader, Hardie and Lee (2005): lambda ~ Gamma(r, alpha) and
    # p ~ Beta(a, b), independent across customers (assumption (v)).
    rate = np.minimum(rng.gamma(model.r, 1 / model.alpha, n), model.rate_cap)
    p = rng.beta(model.a, model.b, n)
    j = rng.geometric(p)
    cycle = catalog.replenish_days[fav_product]
    mean_gap = np.where(replenisher,
                        np.nan_to_num(cycle) * rng.lognormal(0, model.replenish_spread, n), np.nan)
    rate = np.where(replenisher, 1 / np.where(replenisher, mean_gap, 1.0), rate)
    rate = np.where(buyer, rate, 0.0)
    nu = rng.gamma(model.gg_q, 1 / model.gg_gamma, n)
    # Not in the first hour of history, so that every session of the customer lies inside it.
    first = np.maximum(growth_times(rng, n, horizon, model.growth), 1 / 24)
    _, ch_p = weights(ORDER_CHANNELS)
    channel = rng.choice(len(ch_p), size=n, p=ch_p)
    # Consent comes in bundles: people who accept marketing tend to accept every channel.
    friendly = rng.random(n) < np.where(member, 0.6, 0.35)
    u = rng.random((4, n))
    has_email = rng.random(n) < np.where(member, 0.93, 0.6)
    sms = np.where(friendly, u[0] < 0.85, u[0] < 0.05)
    email = has_email & np.where(friendly, u[1] < 0.65, u[1] < 0.04)
    app_user = member & (rng.random(n) < 0.45)
    push = app_user & np.where(friendly, u[2] < 0.75, u[2] < 0.1)
    night = (sms | push) & (u[3] < 0.3)  # night ads need sms or push consent to mean anything
    nan = np.full(n, np.nan)
    return People(number=numbers, process=process, member=member, first=first, rate=rate,
                  p=np.where(buyer, p, np.nan), j=j, mean_gap=mean_gap, nu=nu, fav_cat=fav_cat,
                  fav_product=fav_product, channel=channel, has_email=has_email,
                  signup=nan.copy(), sms=sms, email=email, push=push, night=night,
                  consent_first=nan.copy(), consent_at=nan.copy())


def _poisson_repeats(rng: np.random.Generator, who: np.ndarray, people: People,
                     horizon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeat orders of BG/NBD customers: returns (owner, time, dropped per ``who``).

    Rather than walking gap by gap (heavy buyers would need thousands of steps), draw the
    number of Poisson events in the customer's window, ``N ~ Poisson(lambda T)``, keep the first
    ``X = min(N, J)`` of them (the customer drops out after the J-th), and place them as the
    first X order statistics of N uniform points: ``U_(k) = S_k / S_(N+1)`` with ``S`` the
    cumulative sums of exponentials, where ``S_(N+1) - S_X ~ Gamma(N + 1 - X)``.
    """
    span = horizon - people.first[who]
    n_events = rng.poisson(people.rate[who] * span)
    kept = np.minimum(n_events, people.j[who])
    s = segment_cumsum(rng.standard_exponential(int(kept.sum())), kept)
    has = kept > 0
    s_last = s[np.cumsum(kept)[has] - 1]
    total = s_last + rng.gamma((n_events[has] - kept[has] + 1).astype(float))
    owner = np.repeat(who, kept)
    t = people.first[owner] + np.repeat(span[has] / total, kept[has]) * s
    return owner, t, n_events >= people.j[who]


def _renewal_repeats(rng: np.random.Generator, who: np.ndarray, people: People,
                     horizon: float, shape: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeat orders of replenishers: gamma gaps, one round per repeat order (few rounds)."""
    current = people.first[who].copy()
    count = np.zeros(len(who), dtype=np.int64)
    active = np.arange(len(who))
    owners, times = [], []
    while active.size:
        gap = rng.gamma(shape, people.mean_gap[who[active]] / shape)
        nxt = current[active] + gap
        ok = nxt < horizon
        active, nxt = active[ok], nxt[ok]
        owners.append(who[active])
        times.append(nxt)
        current[active] = nxt
        count[active] += 1
        active = active[count[active] < people.j[who[active]]]
    owner = np.concatenate(owners) if owners else np.empty(0, np.int64)
    t = np.concatenate(times) if times else np.empty(0)
    return owner, t, count >= people.j[who]


def draw_history(rng: np.random.Generator, people: People, horizon: float,
                 model: ShopModel) -> History:
    """Draw every customer's orders from the latent process and derive sign-up and consent."""
    n = len(people.number)
    pois = np.flatnonzero(people.process == BGNBD)
    ren = np.flatnonzero(people.process == REPLENISH)
    o1, t1, d1 = _poisson_repeats(rng, pois, people, horizon)
    o2, t2, d2 = _renewal_repeats(rng, ren, people, horizon, model.replenish_shape)
    buyers = np.flatnonzero(people.buyer)
    owner = np.concatenate([buyers, o1, o2])
    t = np.concatenate([people.first[buyers], t1, t2])
    # The process lives on continuous days; people shop at lunch and late at night. Keeping
    # each order's day and redrawing its time of day leaves daily counts (what the models see)
    # unchanged.
    t = np.maximum(np.floor(t) + seconds_of_day(rng, len(t)) / 86_400, 1 / 24)
    order = np.lexsort((t, owner))
    owner, t = owner[order], t[order]
    counts = np.bincount(owner, minlength=n)
    ends = np.cumsum(counts)
    has = counts > 0
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    first[has] = t[(ends - counts)[has]]
    last[has] = t[ends[has] - 1]
    dropped = np.zeros(n, dtype=bool)
    dropped[pois] = d1
    dropped[ren] = d2
    people.first = np.where(has, first, people.first)
    _signup_and_consent(rng, people, horizon)
    return History(owner=owner, t=t, last=last, dropped=dropped,
                   dropout=np.where(dropped, last, np.nan))


def _signup_and_consent(rng: np.random.Generator, people: People, horizon: float) -> None:
    n = len(people.number)
    buyer = people.buyer
    # Half of the members sign up in the session of their first order, the others days or
    # weeks earlier (newsletter, sign-up coupon) and come back to buy.
    same_session = rng.random(n) < 0.55
    lag = np.where(same_session, rng.uniform(8, 20, n) / 1440, rng.exponential(20, n))
    signup = np.where(buyer, np.maximum(people.first - lag, 1 / 48), people.first)
    people.signup = np.where(people.member, signup, np.nan)
    # Non-members give consent at checkout of their first order.
    people.consent_first = np.where(people.member, people.signup, people.first)
    any_consent = people.sms | people.email | people.push
    # Korean law asks shops to reconfirm consent every two years; some customers also renew
    # it when they update their profile: consent_at is the latest confirmation.
    later = rng.random(n) < 0.3
    renewed = people.consent_first + rng.random(n) * (horizon - people.consent_first)
    people.consent_at = np.where(any_consent, np.where(later, renewed, people.consent_first),
                                 np.nan)


def truth_outlook(rng: np.random.Generator, people: People, history: History, horizon: float,
                  model: ShopModel, days: float = 90.0) -> tuple[np.ndarray, np.ndarray]:
    """Return each customer's true P(no order in ``days`` after the end) and expected orders.

    BG/NBD customers still alive: ``exp(-lambda t)``, and ``(1 - exp(-lambda p t)) / p`` orders
    (``E[X(t) | lambda, p]`` in section 3 of Fader, Hardie and Lee 2005; dropout after a purchase
    is memoryless, so it holds from any point on). Replenishers: the chance that the gap under
    way outlasts ``t`` more days, ``S(a + t) / S(a)`` for a gamma gap of age ``a``; their
    expected count is a Monte Carlo mean over 64 paths. Dropped customers and never-buyers: 1
    and 0.
    """
    n = len(people.number)
    churn = np.ones(n)
    expected = np.zeros(n)
    alive = people.buyer & ~history.dropped
    pois = alive & (people.process == BGNBD)
    lam, p = people.rate[pois], people.p[pois]
    churn[pois] = np.exp(-lam * days)
    expected[pois] = -np.expm1(-lam * p * days) / p
    ren = np.flatnonzero(alive & (people.process == REPLENISH))
    k = model.replenish_shape
    theta = people.mean_gap[ren] / k
    age = horizon - history.last[ren]
    s_now = special.gammaincc(k, age / theta)
    s_later = special.gammaincc(k, (age + days) / theta)
    tail = s_now < 1e-300  # far beyond the usual gap the gamma hazard is flat: 1/theta
    churn[ren] = np.where(tail, np.exp(-days / theta), s_later / np.where(tail, 1.0, s_now))
    expected[ren] = _renewal_expected(rng, age, theta, people.p[ren], k, days)
    return churn, expected


def _renewal_expected(rng: np.random.Generator, age: np.ndarray, theta: np.ndarray,
                      p: np.ndarray, k: float, days: float, paths: int = 64) -> np.ndarray:
    if len(age) == 0:
        return np.zeros(0)
    age, theta, p = (np.repeat(x, paths) for x in (age, theta, p))
    # First gap: the one under way, conditioned on having lasted ``age`` already.
    done = special.gammainc(k, age / theta)
    u = done + rng.random(len(age)) * (1 - done)
    clock = np.maximum(theta * special.gammaincinv(k, np.minimum(u, 1 - 1e-12)) - age, 0.0)
    total = np.zeros(len(age))
    weight = np.ones(len(age))  # chance of still being alive before this order (Rao-Blackwell)
    active = np.flatnonzero(clock < days)
    while active.size:
        total[active] += weight[active]
        weight[active] *= 1 - p[active]
        clock[active] += rng.gamma(k, theta[active])
        active = active[clock[active] < days]
    return total.reshape(-1, paths).mean(axis=1)


# -- the customers table -----------------------------------------------------------------------


def _base36(numbers: np.ndarray, width: int) -> np.ndarray:
    alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    out = np.empty((len(numbers), width), dtype=np.uint8)
    x = numbers.astype(np.int64)
    for j in range(width - 1, -1, -1):
        x, d = np.divmod(x, 36)
        out[:, j] = alphabet[d]
    return out


def customers_table(rng: np.random.Generator, people: People, *, start_us: int, end_day: int,
                    timezone: str, id_width: int, seed: int) -> pa.Table:
    """Build the ``customers`` rows (identity drawn here, consent as it stands at the end)."""
    n = len(people.number)
    fam_labels, fam_p = weights(FAMILY_NAMES)
    fam = rng.choice(len(fam_p), size=n, p=fam_p)
    g1 = rng.integers(0, len(GIVEN_FIRST), n)
    g2 = rng.integers(0, len(GIVEN_SECOND), n)
    name = pc.binary_join_element_wise(
        take(fam_labels, fam), take(np.array([g[0] for g in GIVEN_FIRST]), g1),
        take(np.array([g[0] for g in GIVEN_SECOND]), g2), "")
    # A bijection of the customer number onto 8 digits keeps phones unique in any sample size.
    local = 20_000_000 + (48_271 * people.number + 7_919 * (seed % 10_000)) % 80_000_000
    phone = fixed_strings([b"010", digits(local, 8)], n)
    dom_labels, dom_p = weights(EMAIL_DOMAINS)
    email = pc.binary_join_element_wise(
        take(np.array([g[1] for g in GIVEN_FIRST]), g1),
        take(np.array([g[1] for g in GIVEN_SECOND]), g2),
        fixed_strings([b"_", _base36(people.number, 5), b"@"], n),
        take(dom_labels, rng.choice(len(dom_p), size=n, p=dom_p)), "")
    email = pc.if_else(pa.array(people.has_email), email, pa.scalar(None, pa.string()))
    age_days = np.clip(rng.normal(35, 9, n), 18, 75) * 365.25
    birth = (end_day - age_days).astype(np.int32)
    reg_labels, reg_p = weights(REGIONS)
    acq_labels, acq_p = weights(ACQUISITION)
    null_birth = rng.random(n) < 0.12

    def ts(days: np.ndarray) -> pa.Array:
        mask = np.isnan(days)
        us = start_us + (np.nan_to_num(days) * DAY_US).astype(np.int64)
        return timestamps(us, timezone, mask=mask)

    return pa.table({
        "customer_id": ids("C", people.number, id_width),
        "signup_at": ts(people.signup),
        "name": name,
        "phone": phone,
        "email": email,
        "birth_date": pa.array(birth, type=pa.date32(), mask=null_birth),
        "region": take(reg_labels, rng.choice(len(reg_p), size=n, p=reg_p)),
        "acquisition_channel": take(acq_labels, rng.choice(len(acq_p), size=n, p=acq_p)),
        "is_member": pa.array(people.member),
        "sms_opt_in": pa.array(people.sms),
        "email_opt_in": pa.array(people.email),
        "push_opt_in": pa.array(people.push),
        "night_opt_in": pa.array(people.night & (people.sms | people.push)),
        "consent_at": ts(people.consent_at),
    })


#: Membership grades by net spend over the history (KRW), highest first.
TIERS = (("VIP", 1_000_000), ("골드", 300_000), ("실버", 100_000), ("일반", 0))


def member_columns(rng: np.random.Generator, people: People, customers: pa.Table,
                   orders: pa.Table, events: pa.Table) -> pa.Table:
    """Add the member-export columns to the ``customers`` rows of a block.

    ``rng`` is a stream of its own, so every column drawn before keeps its values:
    per-channel consent dates (``consent_at`` where the channel is on, null where it is off:
    when a customer declined or withdrew is not known), KakaoTalk channel friends (members with
    SMS consent and ``people.friend``, about 35% of them), KakaoTalk on the phone (93%), the
    member grade from net spend (:data:`TIERS`), the points balance (whole won) and the last
    login (from the login events).
    """
    n = customers.num_rows
    ids = customers.column("customer_id")
    consent_at = customers.column("consent_at").combine_chunks()
    member = people.member
    u = rng.random((3, n))
    net = pc.is_in(orders.column("status"), value_set=pa.array(NET_STATUSES))
    owner = pc.fill_null(pc.index_in(orders.column("customer_id"), value_set=ids), -1)
    owner = owner.to_numpy(zero_copy_only=False).astype(np.int64)
    paid = np.asarray(net.to_numpy(zero_copy_only=False), dtype=bool) & (owner >= 0)
    amount = orders.column("amount").to_numpy(zero_copy_only=False)
    spend = np.bincount(owner[paid], weights=amount[paid], minlength=n)
    tier = np.select([spend >= low for _, low in TIERS], [name for name, _ in TIERS], "일반")
    # 1% back on spend, part of it already used, plus a sign-up bonus for some; whole 10 won
    points = np.floor((spend * 0.01 * u[1] + np.where(u[2] < 0.4, 2_000, 0)) / 10) * 10
    logins = events.filter(pc.equal(events.column("type"), "login"))
    last = logins.group_by("customer_id").aggregate([("ts", "max")])
    where = pc.index_in(ids, value_set=last.column("customer_id"))
    no_member = pa.array(~member)

    def when(flag: np.ndarray) -> pa.Array:
        return pc.if_else(pa.array(flag), consent_at, pa.scalar(None, consent_at.type))

    columns = {
        "sms_consent_at": when(people.sms),
        "email_consent_at": when(people.email),
        "push_consent_at": when(people.push),
        "kakao_friend": pa.array(member & people.sms & people.friend),
        "has_kakaotalk": pa.array(rng.random(n) < 0.93),  # every sample customer has a phone
        "member_tier": pc.if_else(no_member, pa.scalar(None, pa.string()),
                                  pa.array(tier, type=pa.string())),
        "points_balance": pa.array(points, type=pa.float64(), mask=~member),
        "last_login_at": pc.take(last.column("ts_max"), where),
    }
    for name, values in columns.items():
        customers = customers.append_column(name, values)
    return customers
