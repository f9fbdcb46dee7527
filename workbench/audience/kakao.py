"""KakaoTalk business messages: AlimTalk (informational) and FriendTalk (ads to channel friends).

Two Kakao products replace the old ``kakao`` channel, which meant "a KakaoTalk message under
the SMS consent" and told neither apart (PRODUCT_NOTES 2.1):

- **AlimTalk (알림톡)** carries informational messages only, on a template Kakao reviewed in
  advance (the sending service needs its *template code*); it reaches any KakaoTalk user by
  phone number, friend or not. An ad is refused twice: an audience whose definition is an ad,
  and a text that reads like one (:func:`ad_signals`). Customers known to have no KakaoTalk
  (``customers.has_kakaotalk`` false) go to an SMS/LMS fallback file instead
  (:func:`fallback_path`); unknown (null) stays in the AlimTalk file, since the sending
  service falls back to SMS on its own when delivery fails.
- **FriendTalk (친구톡)** may carry ads, but only to customers who added the shop's channel as
  a friend (``customers.kakao_friend``): Kakao treats the friend-add as the opt-in, so the
  channel's consent is that flag. Providers block ad sends in the evening, commonly 20:00 to
  08:00, stricter than the 21:00 legal line; the window is the ``friendtalk_quiet_hours``
  setting (:func:`quiet_window`).

A definition or export that still says ``kakao`` is read as ``friendtalk`` when it is an ad
and ``alimtalk`` otherwise (:func:`legacy_channel`), with a note.

Examples
--------
>>> sorted(ad_signals("[워크샵] 겨울 세일! 전 품목 20% 할인 쿠폰"))
['coupon', 'discount']
>>> ad_signals("[워크샵] 주문하신 상품이 발송되었습니다. 송장번호 123456789012")
{}
>>> quiet_window("20:00-08:00")
(1200, 480)
>>> in_quiet_window(__import__("datetime").datetime(2026, 11, 16, 20, 0), "Asia/Seoul",
...                 "20:00-08:00")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from workbench._userfiles import short
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["CHAR_LIMIT", "KAKAO_CHANNELS", "LEGACY_CHANNEL", "TEMPLATE_CODE", "KakaoFallback",
           "ad_signals",
           "check_template_code", "fallback_path", "in_quiet_window", "legacy_channel",
           "quiet_window"]

#: The KakaoTalk channels of new exports.
KAKAO_CHANNELS = ("alimtalk", "friendtalk")
#: The channel name exports before 2026-12 used; still readable in logs and definitions.
LEGACY_CHANNEL = "kakao"
#: Characters an AlimTalk or FriendTalk text message holds (Kakao bizmessage limit; a
#: FriendTalk with an image holds 400, which the checker does not know about).
CHAR_LIMIT = 1000
#: A template code as sending services show it: letters, digits, ``_`` and ``-``, starting
#: with a letter or digit, at most 64 characters (services use codes like ``TPL_ORDER_01``
#: or ``A001-2``; anything else is a typo or a pasted template text).
TEMPLATE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

# What makes a text an ad by the PRODUCT_NOTES 2.1 rule: the ad mark, discounts, special
# prices, coupons and rewards, events and promotions. Each pattern names one reason so the
# refusal can say which words to take out. Receipt words ("할인 금액", "할인액") are not
# discounts offered, and a plain review request without a reward is informational; a review
# request that promises points, coupons or gifts is an ad (a reward is an inducement).
_SIGNALS: dict[str, re.Pattern[str]] = {
    "ad_mark": re.compile(r"[\(\[\{<（［【〈「]\s*광[\s\W_]*고\s*[\)\]\}>）］】〉」]"),
    "discount": re.compile(
        r"할인(?!\s*(?:금액|액|전|후|내역))|세일|\bsale\b|\d+\s*%\s*(?:off|↓|다운)|최대\s*\d+\s*%"
        r"|반값|\b[12]\s*\+\s*1\b|떨이|clearance", re.I),
    "special_price": re.compile(
        r"특가|특별\s*가(?:격)?|최저가|핫\s*딜|타임\s*딜|가격\s*인하|단독\s*가"),
    "coupon": re.compile(r"쿠폰(?!\s*(?:할인\s*)?(?:금액|액)|\s*사용\s*(?:금액|내역))|coupon"
                         r"|프로모션\s*코드|promo\s*code|할인\s*코드", re.I),
    "reward": re.compile(
        r"(?:리뷰|후기|review)[^\n]{0,40}?(?:적립|포인트|쿠폰|증정|지급|리워드|reward|선물)"
        r"|(?:적립|포인트|쿠폰|증정|지급|리워드|reward|선물)[^\n]{0,40}?(?:리뷰|후기|review)"
        r"|(?:적립금|포인트|마일리지)\s*\d[\d,]*\s*(?:원|점|p|P)?\s*(?:을|를)?\s*"
        r"(?:지급|증정|드려|드립|드림|선물)|사은품|증정|경품", re.I),
    "event": re.compile(r"이벤트|\bevents?\b|프로모션|promotion|기획전|응모|추첨|선착순|한정\s*수량"
                        r"|마감\s*임박|오픈\s*기념|혜택", re.I),
}


def ad_signals(text: str) -> dict[str, str]:
    """Return why a text reads as an ad: reason -> the first words that say so (empty: none).

    A keyword rule, not a classifier: it errs towards calling a text an ad, because an ad
    sent as AlimTalk breaks Kakao's terms and the Network Act's consent rules, while a
    false alarm only costs a rewording. Reasons: ``ad_mark`` ("(광고)" in any spelling),
    ``discount``, ``special_price``, ``coupon``, ``reward`` (points, gifts, review rewards)
    and ``event`` (events, promotions, benefits).

    >>> ad_signals("리뷰 작성하시면 적립금 500원을 드려요")
    {'reward': '리뷰 작성하시면 적립'}
    >>> ad_signals("결제가 완료되었습니다. 쿠폰 할인 금액 3,000원")
    {}
    """
    found = {}
    for reason, pattern in _SIGNALS.items():
        match = pattern.search(text)
        if match:
            found[reason] = match.group(0)
    return found


def check_template_code(code: object, owner: str) -> str:
    """Return an AlimTalk template code stripped, or refuse a missing or malformed one.

    Raises
    ------
    ParameterError
        No code, or one that does not match :data:`TEMPLATE_CODE`.
    """
    if code is None or (isinstance(code, str) and not code.strip()):
        raise ParameterError(tr("audience.kakao.template_missing", owner=owner))
    if not isinstance(code, str) or not TEMPLATE_CODE.fullmatch(code.strip()):
        raise ParameterError(tr("audience.kakao.template_invalid", owner=owner,
                                got=short(code)))
    return code.strip()


def legacy_channel(channel: str, is_ad: bool) -> str:
    """Return the channel an old ``kakao`` stands for (others unchanged).

    >>> legacy_channel("kakao", True), legacy_channel("kakao", False), legacy_channel("sms", 1)
    ('friendtalk', 'alimtalk', 'sms')
    """
    if channel != LEGACY_CHANNEL:
        return channel
    return "friendtalk" if is_ad else "alimtalk"


def quiet_window(text: str) -> tuple[int, int] | None:
    """Return a ``"HH:MM-HH:MM"`` window as minutes after midnight (``""``: no window).

    The window may wrap midnight (``20:00-08:00``); the start is inside, the end outside.

    Raises
    ------
    ParameterError
        Not two times ``HH:MM`` joined by ``-``, or an empty window (start = end).
    """
    if not text.strip():
        return None
    match = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", text)
    if not match:
        raise ParameterError(tr("audience.kakao.quiet_hours", got=short(text)))
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ParameterError(tr("audience.kakao.quiet_hours", got=short(text)))
    return start, end


def in_quiet_window(send_at: datetime, timezone: str, window: str) -> bool:
    """Tell whether a send time (naive: shop's local time) falls in a quiet window."""
    bounds = quiet_window(window)
    if bounds is None:
        return False
    ts = pd.Timestamp(send_at)
    local = ts.tz_localize(timezone) if ts.tzinfo is None else ts.tz_convert(timezone)
    minute = local.hour * 60 + local.minute
    start, end = bounds
    return start <= minute < end if start < end else (minute >= start or minute < end)


def fallback_path(out: str | Path) -> Path:
    """Return the SMS/LMS fallback file beside an AlimTalk export.

    >>> fallback_path("out/cart.csv").as_posix()
    'out/cart.fallback_sms.csv'
    """
    p = Path(out)
    return p.with_name(f"{p.stem}.fallback_sms{p.suffix or '.csv'}")


@dataclass(frozen=True, slots=True)
class KakaoFallback:
    """The SMS/LMS fallback file(s) of an AlimTalk export (one per arm in an A/B/n test).

    ``channel`` is ``sms`` when every fallback customer's message, its ``#{field}`` variables
    filled in, fits 90 CP949 bytes, else ``lms`` (also when no message was given); the files
    have the main file's columns; ``sha256`` holds the files' digests, comma separated.
    """

    paths: tuple[Path, ...]
    channel: str
    rows: int
    sha256: str
