"""Orders and order lines of one block, from the purchase times of the latent process.

Spend follows the gamma-gamma model (Fader, Hardie and Lee 2005, "RFM and CLV"): each order
draws a target ``z ~ Gamma(p, nu)`` from the customer's ``nu``, and lines are filled from the
catalogue to come close to it (1-3 lines, quantities rounded to whole items), so amounts are
list prices in whole hundreds of won and the per-customer mean follows the latent one. Money
is consistent within an order::

    amount = sum(line_amount) - discount - points_used + shipping_fee
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from workbench.data._sample_base import (
    DAY_US,
    ORDER_CHANNELS,
    ShopModel,
    growth_times,
    ids,
    seconds_of_day,
    segment_rank,
    take,
    timestamps,
    weights,
    whole_seconds,
)
from workbench.data._sample_campaigns import (
    COUPON_ANYWAY,
    COUPON_TOTAL,
    COUPON_USE,
    PF_ORDERS,
    PF_REVENUE,
    WINDOW_DAYS,
    Campaign,
    Sends,
)
from workbench.data._sample_catalog import CATEGORIES, Catalog
from workbench.data._sample_people import REPLENISH, History, People
from workbench.data.schema import NET_STATUSES, ORDER_STATUSES

#: General coupons: (code, percent off, fixed won off, weight).
_GENERAL_COUPONS = (("APP3000", 0.0, 3_000.0, 3), ("VIP10", 0.10, 0.0, 2),
                    ("BDAY15", 0.15, 0.0, 1), ("REVIEW2000", 0.0, 2_000.0, 3))
_WELCOME = ("WELCOME10", 0.10, 0.0)
_STATUS = {s: i for i, s in enumerate(ORDER_STATUSES)}
_DURABLE = np.array([c in ("living", "fashion") for c, _ in CATEGORIES])


@dataclass(slots=True)
class Orders:
    """One block's orders (sorted by time) with what the web sessions need."""

    owner: np.ndarray  # local customer index, -1 for guest orders
    local_us: np.ndarray  # wall-clock microseconds
    product: np.ndarray  # product of the first line
    table: pa.Table
    items: pa.Table


def _coupons(campaigns: tuple[Campaign, ...]) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    codes = [c[0] for c in _GENERAL_COUPONS] + [_WELCOME[0]]
    pct = [c[1] for c in _GENERAL_COUPONS] + [_WELCOME[1]]
    fixed = [c[2] for c in _GENERAL_COUPONS] + [_WELCOME[2]]
    arm_code = {}
    for ci, campaign in enumerate(campaigns):
        for ai, arm in enumerate(campaign.arms):
            if arm.coupon:
                arm_code[(ci, ai)] = len(codes)
                codes.append(arm.coupon)
                pct.append(arm.coupon_percent)
                fixed.append(arm.coupon_fixed)
    return codes, np.array(pct), np.array(fixed), arm_code


def _campaign_coupon(rng: np.random.Generator, owner: np.ndarray, t: np.ndarray,
                     ghost: np.ndarray, sends: list[Sends], campaigns: tuple[Campaign, ...],
                     n: int, arm_code: dict) -> np.ndarray:
    """Coupon index of orders placed by treated customers inside a coupon arm's window (or -1).

    The coupon is valid from the send to the campaign's end; every order in it (the customer's
    own and the extra ones the message caused alike) uses it with probability ``COUPON_USE``.
    """
    code = np.full(len(owner), -1)
    use = rng.random(len(owner)) < COUPON_USE
    for ci, (send, campaign) in enumerate(zip(sends, campaigns, strict=True)):
        lookup = np.array([arm_code.get((ci, ai), -1) for ai in range(len(campaign.arms))])
        if (lookup < 0).all():
            continue
        lo, hi = np.searchsorted(t, [campaign.start, campaign.start + WINDOW_DAYS])
        idx = np.arange(lo, hi)
        idx = idx[(owner[idx] >= 0) & ~ghost[idx] & use[idx]]
        arm = np.zeros(n, dtype=np.int64)
        sent = np.full(n, np.inf)
        arm[send.customer], sent[send.customer] = send.arm, send.sent
        a = arm[owner[idx]]
        ok = (a > 0) & (t[idx] >= sent[owner[idx]])
        idx, a = idx[ok], a[ok]
        code[idx] = np.where(lookup[a] >= 0, lookup[a], code[idx])
    return code


def _truth_sums(sends: list[Sends], arm_code: dict, n_codes: int, t: np.ndarray,
                extra: np.ndarray, ghost_of: np.ndarray, owner: np.ndarray, code: np.ndarray,
                discount: np.ndarray, amount: np.ndarray, net: np.ndarray, n: int) -> None:
    """Add the realised coupon costs and pulled-forward orders to the sends' truth sums.

    Both count net orders only, as the A/B readout's ``coupon`` and ``orders`` do.
    """
    idx = np.flatnonzero(net & (code >= 0) & (ghost_of < 0))
    total = np.bincount(code[idx], weights=discount[idx], minlength=n_codes)
    own = idx[~extra[idx]]
    anyway = np.bincount(code[own], weights=discount[own], minlength=n_codes)
    for (ci, ai), k in arm_code.items():
        sends[ci].truth[ai, COUPON_TOTAL] += total[k]
        sends[ci].truth[ai, COUPON_ANYWAY] += anyway[k]
    gidx = np.flatnonzero((ghost_of >= 0) & net)
    for ci in np.unique(ghost_of[gidx]):
        send = sends[ci]
        mine = gidx[ghost_of[gidx] == ci]
        arm = np.zeros(n, dtype=np.int64)
        arm[send.customer] = send.arm
        np.add.at(send.truth[:, PF_ORDERS], arm[owner[mine]], 1.0)
        np.add.at(send.truth[:, PF_REVENUE], arm[owner[mine]], amount[mine])


def build_orders(rng: np.random.Generator, people: People, history: History,
                 sends: list[Sends], campaigns: tuple[Campaign, ...], catalog: Catalog, *,
                 model: ShopModel, horizon: float, block: int, start_us: int, timezone: str,
                 customer_ids: pa.Array) -> Orders:
    """Turn purchase times into ``orders`` and ``order_items`` rows.

    The own orders that pulled-forward orders removed are drawn like any other (so their
    revenue is known) and then left out; the sends' truth sums get their coupon and
    pull-forward totals.
    """
    owner, t, extra, ghost_of = _purchases(rng, history, sends, model, horizon)
    m = len(owner)
    known = owner >= 0
    own = np.maximum(owner, 0)
    # Not in the first hour of history, so that every order's session lies inside it too.
    seconds = np.clip(whole_seconds(t), 3_600, int(horizon * 86_400) - 1)
    local_us = start_us + seconds * 1_000_000
    lines = _lines(rng, people, catalog, owner, model)
    subtotal = np.bincount(lines.order, weights=lines.amount, minlength=m)
    codes, code, discount, points, shipping, arm_code = _payment(
        rng, people, owner, t, ghost_of >= 0, subtotal, sends, campaigns, model)
    ch_labels, ch_p = weights(ORDER_CHANNELS)
    any_channel = rng.choice(len(ch_p), size=m, p=ch_p)
    channel = np.where(known & (rng.random(m) < 0.8), people.channel[own], any_channel)
    channel = np.where(~known & (channel == len(ch_p) - 1), 0, channel)  # no app for guests
    status, delivered = _status(rng, t, horizon, model)
    amount = subtotal - discount - points + shipping
    net = np.isin(status, [_STATUS[x] for x in NET_STATUSES])
    _truth_sums(sends, arm_code, len(codes), t, extra, ghost_of, own, code, discount, amount,
                net, len(people.number))
    keep = ghost_of < 0
    kept = np.flatnonzero(keep)
    order_ids = ids("O", block * 10**8 + np.arange(1, len(kept) + 1), 11)
    delivered_us = start_us + (np.nan_to_num(delivered) * DAY_US).astype(np.int64)
    code, known, own = code[kept], known[kept], own[kept]
    table = pa.table({
        "order_id": order_ids,
        "customer_id": customer_ids.take(pa.array(own.astype(np.int32), mask=~known)),
        "ordered_at": timestamps(local_us[kept], timezone),
        "status": take(np.array(ORDER_STATUSES, dtype=object), status[kept]),
        "amount": pa.array(amount[kept], type=pa.float64()),
        "discount": pa.array(discount[kept], type=pa.float64()),
        "points_used": pa.array(points[kept], type=pa.float64()),
        "shipping_fee": pa.array(shipping[kept], type=pa.float64()),
        "coupon_code": take(np.array(codes, dtype=object), np.maximum(code, 0), mask=code < 0),
        "channel": take(ch_labels, channel[kept]),
        "delivered_at": timestamps(delivered_us[kept], timezone,
                                   mask=np.isnan(delivered[kept])),
    })
    line_kept = keep[lines.order]
    renumber = np.cumsum(keep) - 1
    option, no_option = catalog.option(rng, lines.product)
    product = pa.array(lines.product[line_kept])
    items = pa.table({
        "order_id": order_ids.take(pa.array(renumber[lines.order[line_kept]].astype(np.int32))),
        "line_no": pa.array(lines.line_no[line_kept], type=pa.int64()),
        "product_id": catalog.product_id.take(product),
        "product_name": catalog.name.take(product),
        "category": catalog.category_names.take(product),
        "option": take(catalog.options, option[line_kept], mask=no_option[line_kept]),
        "quantity": pa.array(lines.quantity[line_kept], type=pa.int64()),
        "unit_price": pa.array(lines.price[line_kept], type=pa.float64()),
        "line_amount": pa.array(lines.amount[line_kept], type=pa.float64()),
    })
    first = lines.product[lines.line_no == 1]
    return Orders(owner=owner[kept], local_us=local_us[kept], product=first[kept],
                  table=table, items=items)


def _purchases(rng: np.random.Generator, history: History, sends: list[Sends],
               model: ShopModel, horizon: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge own, campaign-caused, removed and guest orders by time.

    Returns (owner or -1, t, caused by a message, campaign that removed it or -1).
    """
    owner = np.concatenate([history.owner, *[s.extra_owner for s in sends],
                            *[s.ghost_owner for s in sends]])
    t = np.concatenate([history.t, *[s.extra_t for s in sends], *[s.ghost_t for s in sends]])
    n_extra = sum(len(s.extra_owner) for s in sends)
    extra = np.zeros(len(owner), dtype=bool)
    extra[len(history.owner):len(history.owner) + n_extra] = True
    ghost_of = np.concatenate([np.full(len(history.owner) + n_extra, -1),
                               *[np.full(len(s.ghost_owner), ci) for ci, s in enumerate(sends)]])
    share = model.guest_order_share
    real = len(owner) - (len(ghost_of) - len(history.owner) - n_extra)
    n_guest = rng.binomial(real, share / (1 - share)) if real else 0
    guest_t = np.floor(growth_times(rng, n_guest, horizon, model.growth))
    guest_t += seconds_of_day(rng, n_guest) / 86_400
    owner = np.concatenate([owner, np.full(n_guest, -1)])
    t = np.concatenate([t, guest_t])
    extra = np.concatenate([extra, np.zeros(n_guest, dtype=bool)])
    ghost_of = np.concatenate([ghost_of, np.full(n_guest, -1)]).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return owner[order], t[order], extra[order], ghost_of[order]


@dataclass(slots=True)
class _Lines:
    order: np.ndarray  # index of the line's order
    line_no: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    price: np.ndarray
    amount: np.ndarray


def _lines(rng: np.random.Generator, people: People, catalog: Catalog, owner: np.ndarray,
           model: ShopModel) -> _Lines:
    """Draw each order's gamma-gamma spend target and fill 1-3 lines from the catalogue."""
    m = len(owner)
    known = owner >= 0
    own = np.maximum(owner, 0)
    nu = np.where(known, people.nu[own], rng.gamma(model.gg_q, 1 / model.gg_gamma, m))
    target = rng.gamma(model.gg_p, 1 / nu)
    n_lines = 1 + rng.binomial(2, np.clip(target / 150_000, 0.1, 0.6))
    order = np.repeat(np.arange(m), n_lines)
    line_no = segment_rank(n_lines) + 1
    lo = own[order]
    k = len(order)
    w = rng.gamma(2.0, 1.0, k)
    budget = target[order] * w / np.bincount(order, weights=w, minlength=m)[order]
    cat = np.where(known[order] & (rng.random(k) < 0.6), people.fav_cat[lo],
                   rng.choice(len(CATEGORIES), size=k, p=[s for _, s in CATEGORIES]))
    # Of three popular products of the category, people take the one that fits the line's
    # budget best; otherwise cheap targets would round up to a whole item far too often and
    # the realised spend would drift from the gamma-gamma one.
    candidates = np.stack([catalog.sample(rng, cat) for _ in range(3)])
    miss = np.abs(catalog.price[candidates] * _quantity(catalog, candidates, budget) - budget)
    product = np.take_along_axis(candidates, np.argmin(miss, axis=0)[None], axis=0)[0]
    first_line = line_no == 1
    replenisher = known[order] & (people.process[lo] == REPLENISH)
    loyal = known[order] & (rng.random(k) < 0.35)
    product = np.where(first_line & (replenisher | loyal), people.fav_product[lo], product)
    quantity = _quantity(catalog, product, budget)
    quantity = np.where(first_line & replenisher, 1 + (rng.random(k) < 0.15), quantity)
    price = catalog.price[product]
    return _Lines(order=order, line_no=line_no, product=product, quantity=quantity,
                  price=price, amount=price * quantity)


def _payment(rng: np.random.Generator, people: People, owner: np.ndarray, t: np.ndarray,
             ghost: np.ndarray, subtotal: np.ndarray, sends: list[Sends],
             campaigns: tuple[Campaign, ...], model: ShopModel
             ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Draw coupons, points and shipping.

    Returns (codes, code or -1, discount, points, shipping, (campaign, arm) -> code index).
    """
    m = len(owner)
    known = owner >= 0
    own = np.maximum(owner, 0)
    codes, pct, fixed, arm_code = _coupons(campaigns)
    code = _campaign_coupon(rng, owner, t, ghost, sends, campaigns, len(people.number), arm_code)
    first_order = np.zeros(m, dtype=bool)
    _, first_idx = np.unique(np.where(known, owner, -1), return_index=True)
    first_order[first_idx] = True
    first_order &= known & people.member[own]
    u = rng.random((4, m))
    welcome = (code < 0) & first_order & (u[0] < 0.45)
    code = np.where(welcome, len(_GENERAL_COUPONS), code)
    general_w = np.array([c[3] for c in _GENERAL_COUPONS], dtype=float)
    general = rng.choice(len(general_w), size=m, p=general_w / general_w.sum())
    code = np.where((code < 0) & ~first_order & (u[1] < 0.10), general, code)
    has_code = code >= 0
    c = np.maximum(code, 0)
    coupon_off = np.where(pct[c] > 0, np.floor(subtotal * pct[c] / 10) * 10,
                          np.minimum(fixed[c], np.floor(subtotal * 0.5 / 10) * 10))
    time_sale = ~has_code & (u[2] < 0.04)
    discount = np.where(has_code, coupon_off,
                        np.where(time_sale, np.floor(subtotal * 0.05 / 10) * 10, 0.0))
    uses_points = known & people.member[own] & (u[3] < 0.12)
    room = np.floor(np.maximum(subtotal - discount - 1_000, 0) * 0.3 / 100) * 100
    points = np.where(uses_points, np.minimum(100 * rng.integers(10, 51, m), room), 0.0)
    shipping = np.where(subtotal - discount >= model.free_shipping_from, 0.0, model.shipping_fee)
    return codes, code, discount, points, shipping, arm_code


def _quantity(catalog: Catalog, product: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Whole items closest to the budget: 1-4 of consumables, 1-2 of durables."""
    q_max = np.where(_DURABLE[catalog.category[product]], 2, 4)
    return np.clip(np.rint(budget / catalog.price[product]), 1, q_max).astype(np.int64)


def _status(rng: np.random.Generator, t: np.ndarray, horizon: float,
            model: ShopModel) -> tuple[np.ndarray, np.ndarray]:
    """Status as seen at the end of history, and delivery time (NaN: not delivered)."""
    m = len(t)
    u = rng.random((3, m))
    shipped = t + rng.uniform(0.3, 1.5, m)
    delivered = t + rng.uniform(2.0, 4.0, m)
    confirmed = delivered + rng.uniform(1.0, 10.0, m)  # auto-confirmation after 7-10 days
    cancelled = u[0] < model.cancel_share
    # Bank-transfer orders (무통장입금) wait for the deposit; unpaid ones are cancelled after
    # two days, so pending orders exist only in the last two days.
    pending = ~cancelled & (horizon - t < 2) & (u[1] < 0.3)
    returned = delivered + 3 < horizon
    returned &= u[2] < model.return_share / (1 - model.cancel_share)
    status = np.select(
        [cancelled, pending, shipped >= horizon, delivered >= horizon, returned,
         confirmed >= horizon],
        [_STATUS["cancelled"], _STATUS["pending"], _STATUS["paid"], _STATUS["shipped"],
         _STATUS["returned"], _STATUS["delivered"]],
        _STATUS["confirmed"])
    has_delivery = np.isin(status, [_STATUS["delivered"], _STATUS["confirmed"],
                                    _STATUS["returned"]])
    return status, np.where(has_delivery, delivered, np.nan)
