"""The sample shop's CRM programme: about two campaigns a month over the whole history.

Besides the two A/B tests CMP001 and CMP002 (``_sample_campaigns.plan_campaigns``), the shop
runs a programme of routine sends on a fixed grid, one every :data:`SPACING` days (24 a year),
so attribution windows never overlap: every campaign's holdout measures that campaign alone.
Slots whose window would touch CMP001's or CMP002's are skipped. Each slot draws a template
(win-back SMS, newsletter e-mail, app push sale, KakaoTalk FriendTalk coupon, cross-sell to
recent buyers, SMS to everyone) from the plan's own generator, so the programme varies with the
seed but not with the number of customers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from workbench.data._sample_campaigns import HOLDOUT_SHARE, WINDOW_DAYS, Arm, Campaign

#: Days between programme sends: 24 a year, longer than a window plus the sending half hour.
SPACING = 365.25 / 24
#: Cost of one message per channel in whole won (SMS 9.9원 rounded, LMS, FriendTalk, e-mail,
#: app push).
COST = {"sms": 10.0, "lms": 30.0, "friendtalk": 15.0, "email": 1.0, "push": 0.0}
#: Channel -> (open rate (alive, dropped) or None without read receipts, click rate (alive,
#: dropped) of messages sent, unsubscribe rate).
RESPONSE = {
    "sms": (None, (0.035, 0.01), 0.005),
    "lms": (None, (0.04, 0.01), 0.005),
    "email": ((0.22, 0.08), (0.03, 0.005), 0.002),
    "push": ((0.10, 0.03), (0.04, 0.01), 0.001),
    "friendtalk": ((0.5, 0.3), (0.1, 0.03), 0.003),
}
#: Channel -> the consent a customer needs at send time.
CONSENT = {"sms": "sms", "lms": "sms", "email": "email", "push": "push", "friendtalk": "friend"}


def _coupon(cid: str, variant: str | None, percent: float = 0.0, fixed: float = 0.0) -> dict:
    tag = f"{round(percent * 100)}PCT" if percent else f"{round(fixed)}KRW"
    code = f"{cid}-{variant}-{tag}" if variant else f"{cid}-{tag}"
    return {"coupon": code, "coupon_percent": percent, "coupon_fixed": fixed}


def _arms(rng: np.random.Generator, cid: str, offers: list[tuple[float, float, float]]
          ) -> tuple[Arm, ...]:
    """Holdout plus one arm (``send``) or an A/B pair drawn from ``offers``.

    ``offers`` are ``(uplift, percent off, won off)``; no discount means no coupon.
    """
    holdout = Arm("holdout", HOLDOUT_SHARE)
    pick = rng.choice(len(offers), size=2, replace=False) if len(offers) > 1 else [0, 0]
    two = len(offers) > 1 and rng.random() < 0.3
    arms = []
    for variant, k in (zip(("A", "B"), pick, strict=True) if two else [("send", pick[0])]):
        uplift, pct, won = offers[k]
        coupon = _coupon(cid, variant if two else None, pct, won) if (pct or won) else {}
        arms.append(Arm(variant, (1 - HOLDOUT_SHARE) / (2 if two else 1), uplift, **coupon))
    return (holdout, *arms)


def _template(rng: np.random.Generator, kind: int, cid: str, month: int, start: float
              ) -> Campaign:
    """Build campaign ``cid`` from template ``kind`` (see :data:`_KINDS`)."""
    name, channel, audience, offers = _KINDS[kind]
    if channel == "sms|lms":
        channel = "sms" if rng.random() < 0.6 else "lms"
    label = {"sms": "문자", "lms": "장문 문자", "email": "이메일", "push": "앱 푸시",
             "friendtalk": "친구톡"}[channel]
    open_rate, click_rate, unsub = RESPONSE[channel]
    lapsed, recent, buyers = audience
    return Campaign(cid, f"{month}월 {name} {label}", channel, cost_per_message=COST[channel],
                    start=start, arms=_arms(rng, cid, offers), lapsed_days=lapsed,
                    open_rate=open_rate, click_rate=click_rate, unsubscribe_rate=unsub,
                    recent_days=recent, buyers_only=buyers, consent=CONSENT[channel])


#: Templates: (Korean name, channel, (lapsed days, recent days, past buyers only), offers as
#: (planned uplift, percent off, won off)).
_KINDS = (
    ("휴면 고객 재구매 쿠폰", "sms|lms", (60.0, None, True),
     [(0.20, 0.10, 0.0), (0.25, 0.15, 0.0), (0.18, 0.0, 5_000.0)]),
    ("신상품 뉴스레터", "email", (None, None, False), [(0.05, 0.0, 0.0), (0.08, 0.10, 0.0)]),
    ("주말 특가", "push", (None, None, False), [(0.10, 0.10, 0.0), (0.06, 0.0, 0.0)]),
    ("채널 친구 쿠폰", "friendtalk", (None, None, True),
     [(0.12, 0.0, 3_000.0), (0.15, 0.0, 5_000.0)]),
    ("최근 구매 고객 추천 상품", "email", (None, 30.0, True),
     [(0.05, 0.0, 0.0), (0.08, 0.0, 2_000.0)]),
    ("전 고객 할인", "sms|lms", (None, None, True), [(0.08, 0.0, 2_000.0), (0.10, 0.05, 0.0)]),
)
_KIND_WEIGHTS = np.array([3.0, 2.0, 2.0, 2.0, 1.5, 1.0])


def plan_programme(rng: np.random.Generator, horizon: float, first_day: dt.date,
                   reserved: tuple[Campaign, ...]) -> tuple[Campaign, ...]:
    """Place the programme's campaigns from day 30 to two days before the end.

    Ids read ``P<year>-<month><letter>`` (``P2025-03a``, ``P2025-03b``) by the send date.
    """
    busy = [(c.start - 1.0, c.start + WINDOW_DAYS + 1.0) for c in reserved]
    slots = np.arange(30.0, horizon - 2.0, SPACING)
    kinds = rng.choice(len(_KINDS), size=len(slots), p=_KIND_WEIGHTS / _KIND_WEIGHTS.sum())
    hours = rng.integers(10, 21, size=len(slots))
    out: list[Campaign] = []
    per_month: dict[str, int] = {}
    for slot, kind, hour in zip(slots, kinds, hours, strict=True):
        start = float(np.floor(slot)) + int(hour) / 24
        if any(lo < start + WINDOW_DAYS and start < hi for lo, hi in busy):
            continue
        day = first_day + dt.timedelta(days=int(start))
        month = f"P{day.year}-{day.month:02d}"
        letter = "abcd"[per_month.get(month, 0)]
        per_month[month] = per_month.get(month, 0) + 1
        out.append(_template(rng, int(kind), month + letter, day.month, start))
    return tuple(out)
