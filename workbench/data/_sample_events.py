"""Web and app events of one block: sessions that agree with the orders and the latent state.

Sessions of five kinds, each a short run of events a few seconds to minutes apart:

- order sessions end in every order: visit, (login), product_view and cart_add of the first
  ordered product, checkout_start a few minutes before the order;
- sign-up sessions: visit, signup;
- browsing sessions while alive, at a rate that grows with the purchase rate; after a customer
  drops out the rate decays over weeks (``fade_days``) instead of stopping at once, and those
  late sessions add to carts more often and check out less: abandoned carts, the signal churn
  models learn from; members who never buy browse after signing up and fade the same way;
- click sessions when a campaign message is clicked;
- anonymous sessions of visitors without a customer id, including guest checkouts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from workbench.data._sample_base import (
    DAY_US,
    MINUTE_US,
    ShopModel,
    growth_times,
    ids,
    seconds_of_day,
    segment_cumsum,
    segment_rank,
    take,
    timestamps,
)
from workbench.data._sample_catalog import CATEGORIES, Catalog
from workbench.data._sample_orders import Orders
from workbench.data._sample_people import History, People
from workbench.data.schema import EVENT_TYPES

# Within a session, events happen in the order of EVENT_TYPES: visit, signup, login, search,
# product_view, cart_add, cart_remove, checkout_start.
VISIT, SIGNUP, LOGIN, SEARCH, VIEW, CART_ADD, CART_REMOVE, CHECKOUT = (
    EVENT_TYPES.index(t) for t in ("visit", "signup", "login", "search", "product_view",
                                   "cart_add", "cart_remove", "checkout_start"))


@dataclass(slots=True)
class _Sessions:
    owner: list[np.ndarray] = field(default_factory=list)  # -1: anonymous
    visitor: list[np.ndarray] = field(default_factory=list)  # anonymous visitor number or -1
    anchor: list[np.ndarray] = field(default_factory=list)  # wall-clock microseconds
    ends_at_anchor: list[np.ndarray] = field(default_factory=list)
    final_gap: list[np.ndarray] = field(default_factory=list)  # last event to anchor (us)
    slots: list[np.ndarray] = field(default_factory=list)  # (n, 8) event counts by type
    hint: list[np.ndarray] = field(default_factory=list)  # product viewed and carted, or -1

    def add(self, owner: np.ndarray, anchor: np.ndarray, slots: np.ndarray, *,
            visitor: np.ndarray | None = None, ends_at_anchor: bool = False,
            final_gap: np.ndarray | None = None, hint: np.ndarray | None = None) -> None:
        n = len(owner)
        self.owner.append(owner)
        self.visitor.append(np.full(n, -1) if visitor is None else visitor)
        self.anchor.append(anchor.astype(np.int64))
        self.ends_at_anchor.append(np.full(n, ends_at_anchor))
        self.final_gap.append(np.zeros(n, np.int64) if final_gap is None else final_gap)
        self.slots.append(slots)
        self.hint.append(np.full(n, -1) if hint is None else hint)

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


def _browse_times(rng: np.random.Generator, people: People, history: History, horizon: float,
                  model: ShopModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Browsing session times (days): alive, fading after dropout, and never-buyers'."""
    buyer = people.buyer
    begin = np.where(people.member, np.fmin(people.signup, people.first), people.first)
    stop = np.where(history.dropped, history.dropout, horizon)
    beta = model.browse_per_order * people.rate + model.browse_base
    span = np.where(buyer, np.maximum(stop - begin, 0), 0)
    n_alive = rng.poisson(beta * span)
    owner_alive = np.repeat(np.arange(len(beta)), n_alive)
    t_alive = begin[owner_alive] + rng.random(len(owner_alive)) * span[owner_alive]
    # Fading: intensity beta * exp(-(t - d) / tau) after d, the dropout (or the sign-up of a
    # member who never buys); counts are Poisson with the integrated intensity and times follow
    # the truncated exponential by inversion.
    never = ~buyer
    d = np.where(never, begin, np.where(history.dropped, history.dropout, horizon))
    tau = np.where(never, model.never_buyer_fade_days, model.fade_days)
    rate0 = np.where(never, model.never_buyer_browse, beta)
    cut = -np.expm1(-np.maximum(horizon - d, 0) / tau)
    n_fade = rng.poisson(rate0 * tau * cut)
    owner_fade = np.repeat(np.arange(len(beta)), n_fade)
    t_fade = d[owner_fade] - tau[owner_fade] * np.log1p(
        -rng.random(len(owner_fade)) * cut[owner_fade])
    owner = np.concatenate([owner_alive, owner_fade])
    t = np.concatenate([t_alive, t_fade])
    t = np.minimum(np.floor(t) + seconds_of_day(rng, len(t)) / 86_400, horizon - 1e-7)
    fading = np.arange(len(owner)) >= len(owner_alive)
    return owner, t, fading


def _browse_slots(rng: np.random.Generator, member: np.ndarray, fading: np.ndarray,
                  anonymous: bool = False) -> np.ndarray:
    n = len(member)
    u = rng.random((6, n))
    slots = np.zeros((n, 8), dtype=np.int64)
    slots[:, VISIT] = 1
    slots[:, LOGIN] = member & (u[0] < 0.25)
    slots[:, SEARCH] = u[1] < (0.3 if anonymous else 0.35)
    slots[:, VIEW] = 1 + rng.poisson(0.5 if anonymous else 0.6, n)
    cart = u[2] < (0.1 if anonymous else np.where(fading, 0.3, 0.2))
    remove = cart & (u[3] < 0.3)
    slots[:, CART_ADD] = cart
    slots[:, CART_REMOVE] = remove
    slots[:, CHECKOUT] = cart & ~remove & (u[4] < np.where(fading, 0.08, 0.15))
    return slots


def build_events(rng: np.random.Generator, people: People, history: History, orders: Orders,
                 clicks: list[tuple[np.ndarray, np.ndarray]], catalog: Catalog, *,
                 model: ShopModel, horizon: float, block: int, start_us: int, timezone: str,
                 customer_ids: pa.Array, id_width: int) -> pa.Table:
    """Build the ``events`` rows of a block."""
    n = len(people.number)
    sessions = _Sessions()

    def to_us(days: np.ndarray) -> np.ndarray:
        return start_us + (days * DAY_US).astype(np.int64)

    # Order sessions; guest orders get a fresh anonymous visitor each.
    m = len(orders.owner)
    guest = orders.owner < 0
    own = np.maximum(orders.owner, 0)
    slots = np.zeros((m, 8), dtype=np.int64)
    slots[:, [VISIT, VIEW, CART_ADD, CHECKOUT]] = 1
    slots[:, LOGIN] = ~guest & people.member[own] & (rng.random(m) < 0.1)
    n_anon_visitors = int(rng.poisson(0.03 * m)) + 1
    visitor = np.where(guest, n_anon_visitors + np.cumsum(guest) - 1, -1)
    sessions.add(orders.owner, orders.local_us, slots, visitor=visitor, ends_at_anchor=True,
                 final_gap=rng.integers(MINUTE_US, 8 * MINUTE_US, m), hint=orders.product)
    # Sign-up sessions.
    signed = np.flatnonzero(people.member)
    slots = np.zeros((len(signed), 8), dtype=np.int64)
    slots[:, [VISIT, SIGNUP]] = 1
    sessions.add(signed, to_us(people.signup[signed]), slots, ends_at_anchor=True)
    # Browsing sessions while alive and fading.
    b_owner, b_t, fading = _browse_times(rng, people, history, horizon, model)
    sessions.add(b_owner, to_us(b_t), _browse_slots(rng, people.member[b_owner], fading))
    # Click sessions.
    c_owner = np.concatenate([c[0] for c in clicks])
    c_t = np.concatenate([c[1] for c in clicks])
    slots = np.zeros((len(c_owner), 8), dtype=np.int64)
    slots[:, [VISIT, VIEW]] = 1
    sessions.add(c_owner, to_us(c_t) + rng.integers(5, 60, len(c_owner)) * 1_000_000, slots)
    # Anonymous visitors: a few sessions each, across the history.
    n_anon = int(rng.poisson(2 * n_anon_visitors))
    a_t = np.floor(growth_times(rng, n_anon, horizon, model.growth))
    a_t += seconds_of_day(rng, n_anon) / 86_400
    sessions.add(np.full(n_anon, -1), to_us(a_t),
                 _browse_slots(rng, np.zeros(n_anon, dtype=bool), np.zeros(n_anon, dtype=bool),
                               anonymous=True),
                 visitor=rng.integers(0, n_anon_visitors, n_anon))
    return _events_table(rng, sessions, people, catalog, n=n, n_visitors=n_anon_visitors
                         + int(guest.sum()), end_us=start_us + int(horizon * DAY_US),
                         block=block, timezone=timezone, customer_ids=customer_ids,
                         id_width=id_width)


def _event_times(rng: np.random.Generator, sessions: _Sessions
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unroll sessions into events a few seconds to minutes apart: (session, type, time)."""
    slots = sessions.cat("slots")
    counts = slots.sum(axis=1)
    sess = np.repeat(np.arange(len(slots)), counts)
    etype = np.repeat(np.tile(np.arange(8), len(slots)), slots.ravel())
    k = len(sess)
    gap = np.where(segment_rank(counts) == 0, 0,
                   ((rng.exponential(45, k) + 5) * 1_000_000).astype(np.int64))
    offset = segment_cumsum(gap, counts)
    length = offset[np.cumsum(counts) - 1]
    anchor = sessions.cat("anchor")
    start = np.where(sessions.cat("ends_at_anchor"),
                     anchor - length - sessions.cat("final_gap"), anchor)
    return sess, etype, start[sess] + offset


def _products_and_queries(rng: np.random.Generator, people: People, catalog: Catalog,
                          e_owner: np.ndarray, etype: np.ndarray, hint: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Products of view and cart events and queries of searches (-1 where there is none).

    Views show the ordered product in order sessions, else one of the customer's favourite
    category most of the time; cart events take the product viewed just before.
    """
    k = len(etype)
    product = np.full(k, -1)
    view = np.flatnonzero(etype == VIEW)
    v_owner = e_owner[view]
    cat = np.where((v_owner >= 0) & (rng.random(len(view)) < 0.65),
                   people.fav_cat[np.maximum(v_owner, 0)],
                   rng.choice(len(CATEGORIES), size=len(view), p=[s for _, s in CATEGORIES]))
    product[view] = np.where(hint[view] >= 0, hint[view], catalog.sample(rng, cat))
    for kind in (CART_ADD, CART_REMOVE):
        at = np.flatnonzero(etype == kind)
        product[at] = np.where(hint[at] >= 0, hint[at], product[at - 1])
    query = np.full(k, -1)
    search = np.flatnonzero(etype == SEARCH)
    s_owner = e_owner[search]
    q_cat = np.where((s_owner >= 0) & (rng.random(len(search)) < 0.7),
                     people.fav_cat[np.maximum(s_owner, 0)], len(CATEGORIES))
    query[search] = catalog.query_start[q_cat] + (
        rng.random(len(search)) * catalog.query_count[q_cat]).astype(np.int64)
    return product, query


def _events_table(rng: np.random.Generator, sessions: _Sessions, people: People,
                  catalog: Catalog, *, n: int, n_visitors: int, end_us: int, block: int,
                  timezone: str, customer_ids: pa.Array, id_width: int) -> pa.Table:
    owner = sessions.cat("owner")
    sess, etype, ts = _event_times(rng, sessions)
    e_owner = owner[sess]
    product, query = _products_and_queries(rng, people, catalog, e_owner, etype,
                                           sessions.cat("hint")[sess])
    # Sort by visitor, then time: a customer's events sit together, which compresses well and
    # keeps per-customer scans short.
    v_index = np.where(e_owner >= 0, e_owner, n + sessions.cat("visitor")[sess])
    keep = np.flatnonzero(ts < end_us)
    base = ts.min() if len(ts) else 0
    key = (v_index[keep] << 40) | ((ts[keep] - base) // 1000)
    order = keep[np.argsort(key, kind="stable")]
    sess, etype, ts, product, query, v_index, e_owner = (
        x[order] for x in (sess, etype, ts, product, query, v_index, e_owner))
    # Number sessions in the order they appear, so a visitor's session ids grow with time.
    used, first_at = np.unique(sess, return_index=True)
    number = np.empty(len(owner), dtype=np.int64)
    number[used[np.argsort(first_at)]] = np.arange(len(used))
    visitors = pa.concat_arrays([ids("V", people.number, id_width),
                                 ids("A", block * 10**8 + np.arange(n_visitors), 11)])
    return pa.table({
        "customer_id": customer_ids.take(pa.array(np.maximum(e_owner, 0).astype(np.int32),
                                                  mask=e_owner < 0)),
        "visitor_id": visitors.take(pa.array(v_index.astype(np.int32))),
        "ts": timestamps(ts, timezone),
        "session_id": ids("S", block * 10**9 + number[sess], 12),
        "type": take(np.array(EVENT_TYPES, dtype=object), etype),
        "product_id": take(catalog.product_id, np.maximum(product, 0), mask=product < 0),
        "query": take(catalog.queries, np.maximum(query, 0), mask=query < 0),
    })
