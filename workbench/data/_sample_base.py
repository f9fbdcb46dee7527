"""Shared pieces of the sample generator: the shop's true parameters, Korean vocabularies, ids.

Nothing here draws random numbers on its own; every function takes the block's
``numpy.random.Generator`` so the output depends only on the seed and the block index.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY_US = 86_400_000_000
MINUTE_US = 60_000_000
#: Customers per block. Fixed, because every block draws from its own seeded generator: changing
#: it would change the data a seed produces.
BLOCK_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class ShopModel:
    """The synthetic shop's true parameters (written to ``truth_parameters``).

    Rates are per day. The purchase process of the ``bgnbd`` customers is exactly the BG/NBD
    model of [1]_: purchase rate ``lambda ~ Gamma(r, alpha)`` while alive, and after every
    repeat purchase the customer drops out with probability ``p ~ Beta(a, b)``. Spend per order
    follows the gamma-gamma model of [2]_: ``z ~ Gamma(gg_p, nu)``, ``nu ~ Gamma(gg_q, gg_gamma)``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the
       easy way: An alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
    .. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: Using iso-value
       curves for customer base analysis. Journal of Marketing Research 42(4), 415-430.
    """

    # BG/NBD heterogeneity, tuned so that the shop averages about ten orders per customer over
    # two years while only a bit more than half of the buyers ever come back: a small gamma
    # shape gives many near-zero rates and a tail of heavy buyers (mean rate 0.064 a day), and
    # a concentrated beta (mean p 0.02) lets the loyal ones stay for dozens of orders.
    r: float = 0.16
    alpha: float = 2.5
    a: float = 3.0
    b: float = 150.0
    #: Upper bound of the purchase rate (two orders a day); binds for about 0.02% of customers.
    rate_cap: float = 2.0
    never_buyer_share: float = 0.05
    member_share: float = 0.80
    #: Share of buyers whose favourite category is a consumable who reorder on its cycle.
    replenisher_share: float = 0.20
    #: Gamma shape of a replenisher's gap (coefficient of variation 1/sqrt(shape) = 0.35).
    replenish_shape: float = 8.0
    #: Log-normal spread of a replenisher's own cycle around the product's replenish_days.
    replenish_spread: float = 0.15
    gg_p: float = 6.0
    gg_q: float = 4.0
    gg_gamma: float = 22_500.0
    #: Customer acquisition grows over the history: the density doubles from start to end.
    growth: float = 1.0
    guest_order_share: float = 0.03
    #: Browsing sessions per day while alive: browse_per_order * rate + browse_base.
    browse_per_order: float = 0.08
    browse_base: float = 1 / 360
    #: After dropping out, browsing decays with this time constant (days): they fade away.
    fade_days: float = 21.0
    #: Members who never buy browse at this rate after signing up, fading the same way.
    never_buyer_browse: float = 1 / 20
    never_buyer_fade_days: float = 45.0
    cancel_share: float = 0.05
    return_share: float = 0.02
    free_shipping_from: float = 50_000.0
    shipping_fee: float = 3_000.0

    def parameters(self) -> list[tuple[str, float, str]]:
        """Return ``(name, value, description)`` rows for the ``truth_parameters`` table."""
        return [
            ("bgnbd_r", self.r, "BG/NBD: gamma shape of the purchase rate (per day)"),
            ("bgnbd_alpha", self.alpha, "BG/NBD: gamma rate of the purchase rate (days)"),
            ("bgnbd_a", self.a, "BG/NBD: beta a of the dropout probability"),
            ("bgnbd_b", self.b, "BG/NBD: beta b of the dropout probability"),
            ("rate_cap", self.rate_cap, "purchase rates above this (per day) are capped"),
            ("gamma_gamma_p", self.gg_p, "gamma-gamma: shape of spend per order, [2]"),
            ("gamma_gamma_q", self.gg_q, "gamma-gamma: shape of the customers' nu"),
            ("gamma_gamma_gamma", self.gg_gamma, "gamma-gamma: scale of the customers' nu (KRW)"),
            ("never_buyer_share", self.never_buyer_share, "customers who sign up and never buy"),
            ("member_share", self.member_share, "customers who are members"),
            ("replenisher_share", self.replenisher_share,
             "buyers with a consumable favourite who reorder on its cycle"),
            ("replenish_shape", self.replenish_shape, "gamma shape of a replenisher's gap"),
            ("guest_order_share", self.guest_order_share, "orders without a customer_id"),
            ("fade_days", self.fade_days, "time constant of browsing decay after dropout (days)"),
            ("cancel_share", self.cancel_share, "orders cancelled"),
            ("return_share", self.return_share, "delivered orders returned"),
        ]


MODEL = ShopModel()

# -- vocabularies ------------------------------------------------------------------------------

#: Family names with their shares in the 2015 census (percent; the rest are spread thinly).
FAMILY_NAMES = (
    ("김", 21.6), ("이", 14.8), ("박", 8.5), ("최", 4.7), ("정", 4.3), ("강", 2.4), ("조", 2.1),
    ("윤", 2.1), ("장", 2.0), ("임", 1.7), ("한", 1.5), ("오", 1.5), ("서", 1.5), ("신", 1.5),
    ("권", 1.4), ("황", 1.4), ("안", 1.3), ("송", 1.3), ("전", 1.1), ("홍", 1.1), ("유", 1.0),
    ("고", 0.9), ("문", 0.9), ("손", 0.9), ("양", 0.8), ("배", 0.8), ("백", 0.8), ("류", 0.7),
    ("허", 0.6), ("남", 0.5), ("심", 0.5), ("노", 0.4), ("하", 0.4), ("곽", 0.4), ("성", 0.4),
    ("차", 0.4), ("주", 0.4), ("우", 0.4), ("구", 0.4), ("민", 0.3), ("진", 0.3), ("나", 0.3),
    ("지", 0.3), ("엄", 0.3), ("채", 0.3), ("원", 0.3), ("천", 0.2), ("방", 0.2), ("공", 0.2),
    ("현", 0.2), ("함", 0.2), ("변", 0.2), ("염", 0.2), ("여", 0.2), ("추", 0.2),
)
#: Syllables of given names and their romanisation (used for e-mail addresses).
GIVEN_FIRST = (
    ("민", "min"), ("서", "seo"), ("지", "ji"), ("현", "hyun"), ("수", "su"), ("예", "ye"),
    ("하", "ha"), ("도", "do"), ("시", "si"), ("주", "ju"), ("윤", "yun"), ("은", "eun"),
    ("준", "jun"), ("유", "yu"), ("채", "chae"), ("가", "ga"), ("다", "da"), ("나", "na"),
    ("소", "so"), ("태", "tae"), ("승", "seung"), ("재", "jae"), ("동", "dong"), ("성", "sung"),
    ("영", "young"), ("혜", "hye"), ("연", "yeon"), ("정", "jung"), ("우", "woo"), ("건", "gun"),
)
GIVEN_SECOND = (
    ("준", "jun"), ("윤", "yun"), ("우", "woo"), ("서", "seo"), ("연", "yeon"), ("민", "min"),
    ("아", "a"), ("진", "jin"), ("호", "ho"), ("원", "won"), ("은", "eun"), ("빈", "bin"),
    ("현", "hyun"), ("희", "hee"), ("수", "su"), ("영", "young"), ("훈", "hoon"), ("린", "rin"),
    ("율", "yul"), ("혁", "hyuk"), ("경", "kyung"), ("주", "ju"), ("하", "ha"), ("인", "in"),
    ("솔", "sol"),
)
#: Provinces and metropolitan cities with their population shares (percent, 2023).
REGIONS = (
    ("서울", 18.2), ("경기", 26.6), ("인천", 5.8), ("부산", 6.4), ("대구", 4.6), ("광주", 2.8),
    ("대전", 2.8), ("울산", 2.1), ("세종", 0.8), ("강원", 3.0), ("충북", 3.1), ("충남", 4.2),
    ("전북", 3.4), ("전남", 3.5), ("경북", 5.0), ("경남", 6.3), ("제주", 1.3),
)
ACQUISITION = (("naver", 35), ("instagram", 22), ("kakao", 13), ("google", 10), ("direct", 12),
               ("referral", 8))
EMAIL_DOMAINS = (("naver.com", 45), ("gmail.com", 30), ("daum.net", 10), ("kakao.com", 8),
                 ("hanmail.net", 7))
ORDER_CHANNELS = (("own", 45), ("naverpay", 27), ("kakao", 14), ("app", 14))
#: Relative orders by hour of day in the shop's zone: lunch and late-evening mobile peaks.
HOURLY = (2.0, 1.2, 0.7, 0.4, 0.3, 0.4, 0.8, 1.6, 2.6, 3.6, 4.4, 4.6,
          4.8, 4.6, 4.4, 4.3, 4.2, 4.1, 4.0, 4.3, 5.0, 5.8, 6.0, 4.2)


def weights(pairs: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Split ``(label, weight)`` pairs into a label array and normalised probabilities."""
    labels = np.array([p[0] for p in pairs], dtype=object)
    w = np.array([p[1] for p in pairs], dtype=float)
    return labels, w / w.sum()


# -- arrays ------------------------------------------------------------------------------------


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """Return the zero-padded decimal digits of non-negative integers as ASCII bytes (n, width)."""
    out = np.empty((len(numbers), width), dtype=np.uint8)
    x = numbers.astype(np.int64)
    for j in range(width - 1, -1, -1):
        x, d = np.divmod(x, 10)
        out[:, j] = d + 48
    return out


def fixed_strings(parts: list[np.ndarray | bytes], n: int) -> pa.Array:
    """Concatenate fixed-width byte columns (arrays of shape (n, k) or constant bytes).

    Building the UTF-8 buffer directly is several times faster than formatting Python strings,
    which matters for the tens of millions of ids of a large sample.
    """
    cols = []
    for part in parts:
        if isinstance(part, bytes):
            cols.append(np.broadcast_to(np.frombuffer(part, dtype=np.uint8), (n, len(part))))
        else:
            cols.append(part)
    buf = np.ascontiguousarray(np.concatenate(cols, axis=1)) if cols else np.empty((n, 0))
    width = buf.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes()))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Format ids such as ``C0000123``: a prefix and zero-padded numbers."""
    return fixed_strings([prefix.encode(), digits(numbers, width)], len(numbers))


def take(labels: pa.Array | np.ndarray, index: np.ndarray, mask: np.ndarray | None = None
         ) -> pa.Array:
    """Look labels up by integer index (``mask`` True gives null) as an Arrow string array."""
    labels = labels if isinstance(labels, pa.Array) else pa.array(labels, type=pa.string())
    idx = pa.array(index.astype(np.int32), mask=mask)
    return labels.take(idx)


@functools.lru_cache(maxsize=64)
def _fixed_offset_us(timezone: str, first_year: int, last_year: int) -> int | None:
    """Return the zone's UTC offset if it is the same all through these years, else ``None``."""
    zone = ZoneInfo(timezone)
    day = dt.datetime(first_year, 1, 1)
    offsets = set()
    while day.year <= last_year and len(offsets) < 2:
        for hour in (0, 12):  # any daylight saving period spans at least one of these
            offsets.add(day.replace(hour=hour, tzinfo=zone).utcoffset())
        day += dt.timedelta(days=1)
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds()) * 1_000_000


def timestamps(local_us: np.ndarray, timezone: str, mask: np.ndarray | None = None) -> pa.Array:
    """Turn wall-clock microseconds in the shop's zone into a time-zone-aware Arrow array.

    Zones without daylight saving time in the data's years (Asia/Seoul since 1988) shift by
    their fixed offset; others go through ``assume_timezone``, where ambiguous and missing
    wall-clock times map to the earlier instant so the order of events is kept.
    """
    local_us = local_us.astype(np.int64)
    if len(local_us):
        years = np.array([local_us.min(), local_us.max()]) // (DAY_US * 365) + 1970
        offset = _fixed_offset_us(timezone, int(years[0]) - 1, int(years[1]) + 1)
        if offset is not None:
            return pa.array(local_us - offset, type=pa.timestamp("us", tz=timezone), mask=mask)
    naive = pa.array(local_us, type=pa.timestamp("us"), mask=mask)
    return pc.assume_timezone(naive, timezone=timezone, ambiguous="earliest",
                              nonexistent="earliest")


def whole_seconds(days: np.ndarray) -> np.ndarray:
    """Whole seconds of times given in days (orders are stamped to the second).

    Times drawn as a day plus a whole number of seconds are exact up to rounding; the small
    nudge keeps ``floor`` from taking them a second back.
    """
    return np.floor(np.nan_to_num(days) * 86_400 + 1e-6).astype(np.int64)


def segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at every segment of a flat array grouped by ``counts``."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    starts = ends - counts
    before = np.zeros(len(counts), dtype=total.dtype)
    has = (starts > 0) & (counts > 0)
    before[has] = total[starts[has] - 1]
    return total - np.repeat(before, counts)


def segment_rank(counts: np.ndarray) -> np.ndarray:
    """Position (0, 1, ...) of every element within its segment of a flat grouped array."""
    n = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(n, dtype=np.int64) - np.repeat(starts, counts)


def seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw times of day (seconds) from the shop's hourly profile."""
    p = np.asarray(HOURLY) / np.sum(HOURLY)
    hour = rng.choice(24, size=n, p=p)
    return hour * 3600 + rng.integers(0, 3600, size=n)


def growth_times(rng: np.random.Generator, n: int, horizon: float, growth: float) -> np.ndarray:
    """Draw times in ``[0, horizon)`` days whose density grows linearly by ``growth``.

    Inverse of the CDF ``(x + g x^2 / 2) / (1 + g / 2)`` of the density ``1 + g x`` on [0, 1].
    """
    u = rng.random(n)
    if growth == 0:
        return u * horizon
    x = (-1 + np.sqrt(1 + 2 * growth * (1 + growth / 2) * u)) / growth
    return np.minimum(x, np.nextafter(1.0, 0.0)) * horizon
