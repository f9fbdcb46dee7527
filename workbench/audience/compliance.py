"""Korean advertising-message rules (Network Act Art. 50) for exports and message texts.

Who may receive an ad (:func:`eligibility`), checked in this order, the first failing rule
naming the exclusion (:data:`EXCLUSION_RULES`):

1. ``opted_out`` - the customer unsubscribed from an ad on the same kind of channel after their
   last consent; an opt-out always wins, also over the transaction exemption (Art. 50(2)).
   The phone channels (SMS, LMS, AlimTalk, FriendTalk and the old ``kakao``) reach one number
   and count as one kind: an opt-out on any of them ends ads on all of them. For FriendTalk
   this is stricter than Kakao's own rule (a channel block ends FriendTalk only), and safe.
2. ``no_consent`` / ``consent_expired`` - the channel's opt-in flag is off, or it is on but the
   consent is two years old or older without re-confirmation (Art. 50(8), Decree 62-3), or its
   date is unknown. The date is the channel's own (``sms_consent_at`` for SMS and LMS,
   ``email_consent_at``, ``push_consent_at``; :data:`CONSENT_DATE_COLUMNS`), else the
   general ``consent_at`` when the channel's is null. A seller may still advertise the same
   kind of goods for six months after a
   transaction with the customer ends (Art. 50(1) i, Decree 61(1)); the exemption is used only
   when the caller says the message is about the same kind of goods
   (``transaction_exemption=True``), and it ends on day 183 after the last order's delivery
   (or order time when it was not delivered).
3. ``not_channel_friend`` - FriendTalk only: the customer has not added the shop's KakaoTalk
   channel as a friend (``kakao_friend`` not true). Kakao delivers FriendTalk to friends only
   and treats the friend-add as the ad opt-in, so this rule replaces rule 2 for FriendTalk
   (no transaction exemption, no 2-year date: the store holds no friend-add date, and a
   friend who blocks the channel stops being one).
4. ``night_time`` - the send is scheduled 21:00-08:00 in the shop's zone and the customer has
   no separate night-time consent (Art. 50(3), Decree 61(2)); email is exempt.
5. ``provider_quiet_hours`` - FriendTalk only: the send falls in the provider's quiet window
   (setting ``friendtalk_quiet_hours``, default 20:00-08:00), which leaves everyone out, night
   consent or not (:mod:`workbench.audience.kakao`).
6. ``no_contact`` - the channel needs a phone number (SMS, LMS, AlimTalk, FriendTalk) or an
   email address that the customer does not have.

The export then applies the send history's rules (not law: the shop's own limits;
:mod:`workbench.audience.history`): ``recently_exported`` (``--since-last-export``),
``frequency_cap_day`` and ``frequency_cap_week`` (ads only), and last ``global_holdout``.

Non-advertising (transactional) messages skip rules 1-5. AlimTalk carries no ads at all
(:func:`eligibility` and :func:`check_message` refuse them), so it only needs a phone.

What a message must contain (:func:`check_message`, Art. 50(4), (6), Decree 61(3), KISA
guide): "(광고)" as the very first characters (for email, of the subject); obfuscations such
as "(광 고)", "(광/고)", "[광고]" or a full-width "（광고）" are violations; the sender's name;
a free way to refuse (SMS: "무료거부 080-XXX-XXXX"; FriendTalk: Kakao's "수신거부 | 홈 >
채널차단" line, which names the free channel block, or an 080 number). SMS holds 90 and LMS
2,000 bytes counted in CP949 (Hangul two bytes each); characters CP949 cannot encode (emoji)
are reported, since carriers reject or mangle them. AlimTalk and FriendTalk hold 1,000
characters. An AlimTalk needs its template code and must not read as an ad: no "(광고)", no
discount, special price, coupon, reward or event wording
(:func:`workbench.audience.kakao.ad_signals`).

Examples
--------
>>> cp949_bytes("(광고)")
(6, ())
>>> check_message("(광 고) 세일 무료거부 0801234567", channel="sms", sender="샵").codes()
('ad_prefix_altered', 'sender_missing')
>>> is_night(__import__("datetime").datetime(2026, 11, 16, 21, 0), "Asia/Seoul")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench._userfiles import short
from workbench.audience.fields import did_you_mean
from workbench.audience.kakao import (
    CHAR_LIMIT,
    LEGACY_CHANNEL,
    TEMPLATE_CODE,
    ad_signals,
    check_template_code,
    in_quiet_window,
    legacy_channel,
)
from workbench.data.schema import CAMPAIGN_CHANNELS
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.queries import net_orders

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import Settings

__all__ = ["BYTE_LIMITS", "CHAR_LIMITS", "CONSENT_COLUMNS", "CONSENT_DATE_COLUMNS",
           "CONTACT_COLUMNS", "EXCLUSION_RULES", "SEND_CHANNELS", "MessageCheck", "MessageProblem",
           "check_channel", "check_message", "check_send_channel", "cp949_bytes",
           "consent_since", "eligibility", "export_channel", "fallback_channel", "is_night",
           "refuse_alimtalk_ad", "require_send_at", "send_instant", "without_kakaotalk"]

#: Exclusion reasons in the order they are checked.
EXCLUSION_RULES = ("opted_out", "no_consent", "consent_expired", "not_channel_friend",
                   "night_time", "provider_quiet_hours", "no_contact",
                   # The send history (workbench.audience.history), then the global holdout.
                   "recently_exported", "frequency_cap_day", "frequency_cap_week",
                   "global_holdout")
#: Channels new exports and checks accept (the old ``kakao`` is read as AlimTalk/FriendTalk).
SEND_CHANNELS = tuple(c for c in CAMPAIGN_CHANNELS if c != LEGACY_CHANNEL)
#: The ad-consent flag of each channel. FriendTalk's is being a channel friend; AlimTalk has
#: none (it carries no ads); ``kakao`` (before 2026-12) used the SMS flag and stays for old
#: definitions' ``consent`` conditions.
CONSENT_COLUMNS = {"sms": "sms_opt_in", "lms": "sms_opt_in", "kakao": "sms_opt_in",
                   "email": "email_opt_in", "push": "push_opt_in", "friendtalk": "kakao_friend"}
#: The channel's own consent date; ``consent_at`` stands in where it is null or missing.
CONSENT_DATE_COLUMNS = {"sms": "sms_consent_at", "lms": "sms_consent_at",
                        "email": "email_consent_at", "push": "push_consent_at"}
#: The contact column an export of each channel needs (push: the customer id).
CONTACT_COLUMNS = {"sms": "phone", "lms": "phone", "kakao": "phone", "alimtalk": "phone",
                   "friendtalk": "phone", "email": "email", "push": "customer_id"}
#: Byte limits counted in CP949.
BYTE_LIMITS = {"sms": 90, "lms": 2000}
#: Character limits of the KakaoTalk channels.
CHAR_LIMITS = {"alimtalk": CHAR_LIMIT, "friendtalk": CHAR_LIMIT}
#: Channels whose opt-outs end each other's consent: everything sent to one phone number.
_PHONE = ("sms", "lms", "kakao", "alimtalk", "friendtalk")
_FAMILY = {**{c: _PHONE for c in _PHONE}, "email": ("email",), "push": ("push",)}
NIGHT_START, NIGHT_END = 21, 8
CONSENT_YEARS = 2
EXEMPTION_DAYS = 183
AD_PREFIX = "(광고)"


def check_channel(channel: str, owner: str) -> None:
    """Refuse a channel that is not one of the campaign channels (``owner`` starts the message).

    Raises
    ------
    ParameterError
        Naming the channels and the closest one.
    """
    if channel not in CAMPAIGN_CHANNELS:
        raise ParameterError(tr("audience.error.channel", owner=owner,
                                allowed=list(CAMPAIGN_CHANNELS), got=short(channel),
                                hint=did_you_mean(channel, CAMPAIGN_CHANNELS)))


def check_send_channel(channel: str, owner: str) -> None:
    """Refuse a channel new sends cannot use: unknown, or the old ``kakao``.

    Raises
    ------
    ParameterError
        Naming the channels; for ``kakao``, saying which of AlimTalk and FriendTalk to use.
    """
    if channel == LEGACY_CHANNEL:
        raise ParameterError(tr("audience.kakao.legacy_refused", owner=owner))
    if channel not in SEND_CHANNELS:
        raise ParameterError(tr("audience.error.channel", owner=owner,
                                allowed=list(SEND_CHANNELS), got=short(channel),
                                hint=did_you_mean(channel, SEND_CHANNELS)))


def require_send_at(send_at: datetime | None, is_ad: bool, owner: str) -> None:
    """Refuse an ad without a send time: consent age and the night rule depend on it.

    Raises
    ------
    ParameterError
        ``is_ad`` and no ``send_at``.
    """
    if is_ad and send_at is None:
        raise ParameterError(tr("audience.error.send_at", owner=owner))


def send_instant(send_at: datetime | date, timezone: str) -> pd.Timestamp:
    """Return a send time as a tz-aware instant in the shop's zone (naive = shop's local time)."""
    ts = pd.Timestamp(send_at)
    return ts.tz_localize(timezone) if ts.tzinfo is None else ts.tz_convert(timezone)


def is_night(send_at: datetime, timezone: str) -> bool:
    """Tell whether a send time falls in 21:00-08:00 in the shop's zone."""
    hour = send_instant(send_at, timezone).hour
    return hour >= NIGHT_START or hour < NIGHT_END


def _phone_digits(phone: ir.StringValue) -> ir.StringValue:
    """Normalise phones in the backend like :func:`workbench.privacy.normalize_phone`."""
    d = phone.re_replace(r"\D", "")
    d = ibis.cases(((d.left(2) == "82") & (d.length() >= 11), "0" + d.substr(2)),
                   ((d.left(1) == "1") & d.length().isin([9, 10]), "0" + d), else_=d)
    return ibis.cases((d.length() >= 9, d), else_=ibis.null("string"))


def eligibility(con: BaseBackend, members: ir.Table, *, channel: str, is_ad: bool,
                send_at: datetime | None, settings: Settings,
                transaction_exemption: bool = False) -> ir.Table:
    """Return each member's contact, legal basis and exclusion reason for a send (lazy).

    Parameters
    ----------
    con
        The store.
    members
        A table with ``customer_id`` (an audience's members).
    channel
        ``sms``, ``lms``, ``email``, ``push``, ``alimtalk`` or ``friendtalk``.
    is_ad
        An advertising message (rules 1-5 apply; refused for ``alimtalk``).
    send_at
        When the message will be sent (naive: shop's local time); required for ads, whose
        consent age and night-time rule depend on it.
    settings
        Settings (time zone, ``friendtalk_quiet_hours``).
    transaction_exemption
        The message advertises the same kind of goods the customer bought: customers without
        consent whose last transaction ended less than 183 days before the send qualify.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``contact`` (normalised phone, email or customer id), ``basis``
        (``consent``, ``channel_friend``, ``transaction``, ``not_ad`` or ``none``) and
        ``reason`` (null: eligible; else one of :data:`EXCLUSION_RULES`).

    Raises
    ------
    ParameterError
        An unknown channel or the old ``kakao``, an ad without ``send_at``, or an ad on
        AlimTalk.
    """
    check_send_channel(channel, "eligibility")
    require_send_at(send_at, is_ad, "eligibility")
    refuse_alimtalk_ad(channel, is_ad, "eligibility")
    c = con.table("customers")
    m = members.select("customer_id").distinct().inner_join(c, "customer_id")
    if not is_ad:
        contact = _contact(m, channel)
        return m.select("customer_id", contact=contact, basis=ibis.literal("not_ad"),
                        reason=ibis.cases((contact.isnull(), "no_contact"),
                                          else_=ibis.null("string")))
    send = send_instant(send_at, settings.timezone)
    send_lit = ibis.literal(send)
    two_years = ibis.literal(send - pd.DateOffset(years=CONSENT_YEARS))
    m = _with_last_opt_out(con, m, channel, send_lit)
    m = _with_last_transaction(con, m, send_lit)
    contact = _contact(m, channel)
    since = consent_since(m, channel)
    opted_out = m.last_opt_out.notnull() & (since.isnull() | (m.last_opt_out > since))
    if channel == "friendtalk":
        friend = _column(m, "kakao_friend", "boolean").fill_null(False)
        consent_rules = [(~friend, "not_channel_friend")]
        basis = ibis.cases((friend, "channel_friend"), else_="none")
    else:
        flag = m[CONSENT_COLUMNS[channel]].fill_null(False)
        consent_ok = flag & since.notnull() & (since > two_years)
        exempt = ibis.literal(bool(transaction_exemption)) & m.last_transaction.notnull() & (
            m.last_transaction > ibis.literal(send - pd.Timedelta(days=EXEMPTION_DAYS)))
        consent_rules = [(~consent_ok & ~exempt & flag, "consent_expired"),
                         (~consent_ok & ~exempt, "no_consent")]
        basis = ibis.cases((consent_ok, "consent"), (exempt, "transaction"), else_="none")
    night = ibis.literal(is_night(send_at, settings.timezone) and channel != "email")
    quiet = ibis.literal(channel == "friendtalk" and in_quiet_window(
        send_at, settings.timezone, settings.friendtalk_quiet_hours))
    reason = ibis.cases(
        (opted_out, "opted_out"),
        *consent_rules,
        (night & ~m.night_opt_in.fill_null(False), "night_time"),
        (quiet, "provider_quiet_hours"),
        (contact.isnull(), "no_contact"),
        else_=ibis.null("string"))
    return m.select("customer_id", contact=contact, basis=basis, reason=reason)


def export_channel(channel: str, is_ad: bool, template_code: str | None,
                   owner: str) -> tuple[str, str | None, tuple[str, ...]]:
    """Return the channel, template code and notes an export uses.

    An old ``kakao`` is read as ``friendtalk`` for an ad and ``alimtalk`` otherwise, with a
    note; AlimTalk refuses ads and needs a valid template code; other channels ignore the
    code (``None``).

    Raises
    ------
    ParameterError
        An unknown channel, an ad on AlimTalk, or a missing or malformed template code.

    Examples
    --------
    >>> export_channel("kakao", False, "TPL_1", "x")[:2]
    ('alimtalk', 'TPL_1')
    """
    notes: tuple[str, ...] = ()
    if channel == LEGACY_CHANNEL:
        channel = legacy_channel(channel, is_ad)
        why = tr("audience.kakao.legacy_ad" if is_ad else "audience.kakao.legacy_info")
        notes = (tr("audience.kakao.legacy_note", channel=channel, why=why),)
    check_send_channel(channel, owner)
    refuse_alimtalk_ad(channel, is_ad, owner)
    code = check_template_code(template_code, owner) if channel == "alimtalk" else None
    return channel, code, notes


def refuse_alimtalk_ad(channel: str, is_ad: bool, owner: str) -> None:
    """Refuse an ad on AlimTalk, which Kakao allows for informational messages only.

    Raises
    ------
    ParameterError
        ``channel`` is ``alimtalk`` and ``is_ad``; the message says to use FriendTalk or to
        mark the audience as not an ad.
    """
    if channel == "alimtalk" and is_ad:
        raise ParameterError(tr("audience.kakao.alimtalk_ad", owner=owner))


def consent_since(m: ir.Table, channel: str) -> ir.TimestampValue:
    """Return when a channel's consent was given: its own date, else ``consent_at``.

    Columns a store written before 2026-12 lacks read as null.
    """
    general = _column(m, "consent_at", "timestamp('UTC')")
    own = CONSENT_DATE_COLUMNS.get(channel)
    if own is None:
        return general
    return _column(m, own, "timestamp('UTC')").cast(general.type()).fill_null(general)


def _column(m: ir.Table, name: str, dtype: str) -> ir.Value:
    # A store opened read-only may predate a column (the writer adds it on the next write).
    return m[name] if name in m.columns else ibis.null(dtype)


def without_kakaotalk(con: BaseBackend, members: ir.Table) -> ir.Table:
    """Return the members known to have no KakaoTalk (``has_kakaotalk`` false; null: unknown).

    AlimTalk cannot reach them; an export writes them to the SMS/LMS fallback file.
    """
    c = con.table("customers")
    if "has_kakaotalk" not in c.columns:
        return members.select("customer_id").filter(ibis.literal(False))
    c = c.filter(c.has_kakaotalk.notnull() & ~c.has_kakaotalk).select("customer_id")
    return members.select("customer_id").distinct().semi_join(c, "customer_id")


def fallback_channel(message: str | None) -> str:
    """Return the channel of the SMS fallback: ``sms`` when the text fits 90 CP949 bytes.

    Without a message the length is unknown, so ``lms`` (2,000 bytes) is the safe choice.

    >>> fallback_channel("주문하신 상품이 발송되었습니다."), fallback_channel("가" * 46)
    ('sms', 'lms')
    """
    if message is None:
        return "lms"
    return "sms" if cp949_bytes(message)[0] <= BYTE_LIMITS["sms"] else "lms"


def _contact(m: ir.Table, channel: str) -> ir.StringValue:
    column = CONTACT_COLUMNS[channel]
    if column == "phone":
        return _phone_digits(m.phone)
    if column == "email":
        return ibis.cases((m.email.contains("@"), m.email.strip()), else_=ibis.null("string"))
    return m.customer_id


def _with_last_opt_out(con: BaseBackend, m: ir.Table, channel: str,
                       send: ir.TimestampScalar) -> ir.Table:
    tables = set(con.list_tables())
    if "messages" not in tables:
        return m.mutate(last_opt_out=ibis.null("timestamp('UTC')"))
    msg = con.table("messages")
    out = msg.filter(msg.unsubscribed_at.notnull(), msg.unsubscribed_at < send)
    # A message's channel is its own (send reports, workbench.data.sends), else its campaign's,
    # else its export's: an export without a holdout logs no campaign, and the opt-outs of
    # its send report must still count.
    known = [con.table(t).select(campaign_id=key, campaign_channel="channel")
             for t, key in (("campaigns", "campaign_id"), ("audience_exports", "export_id"))
             if t in tables]
    if known:
        by_campaign = ibis.union(*known, distinct=True)
        by_campaign = by_campaign.group_by("campaign_id").aggregate(
            campaign_channel=by_campaign.campaign_channel.min())
        out = out.left_join(by_campaign, "campaign_id")
    kind = out.campaign_channel if known else ibis.null("string")
    if "channel" in msg.columns:  # stores opened read-only may predate the column
        kind = out.channel.fill_null(kind)
    out = out.filter(kind.isin(list(_FAMILY[channel])))
    last = out.group_by("customer_id").aggregate(last_opt_out=out.unsubscribed_at.max())
    return m.left_join(last, "customer_id").drop("customer_id_right")


def _with_last_transaction(con: BaseBackend, m: ir.Table, send: ir.TimestampScalar) -> ir.Table:
    o = con.table("orders")
    o = net_orders(o, before=send, identified=True)
    end = o.delivered_at.fill_null(o.ordered_at)
    end = ibis.cases((end < send, end), else_=o.ordered_at)
    last = o.select("customer_id", end=end).group_by("customer_id").aggregate(
        last_transaction=ibis._.end.max())
    return m.left_join(last, "customer_id").drop("customer_id_right")


# --------------------------------------------------------------------------- message checker


def cp949_bytes(text: str) -> tuple[int, tuple[str, ...]]:
    """Return the CP949 byte length of ``text`` and the characters CP949 cannot encode.

    Unencodable characters (emoji, most symbols outside KS X 1001 and UHC) are not counted.

    >>> cp949_bytes("가A😀")
    (3, ('😀',))
    """
    total, bad = 0, []
    for ch in text:
        try:
            total += len(ch.encode("cp949"))
        except UnicodeEncodeError:
            bad.append(ch)
    return total, tuple(dict.fromkeys(bad))


@dataclass(frozen=True, slots=True)
class MessageProblem:
    """One problem found in a message: a stable ``code`` and a readable ``message``."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class MessageCheck:
    """Outcome of :func:`check_message`."""

    channel: str
    is_ad: bool
    bytes: int | None
    limit: int | None
    problems: tuple[MessageProblem, ...]

    @property
    def ok(self) -> bool:
        """True when the message may be sent."""
        return not self.problems

    def codes(self) -> tuple[str, ...]:
        """Return the problem codes."""
        return tuple(p.code for p in self.problems)

    def summary(self) -> str:
        """Return the problems as one paragraph (or that the message passed)."""
        if self.ok:
            return tr("audience.check.ok", bytes="-" if self.bytes is None else self.bytes,
                      limit="-" if self.limit is None else self.limit)
        return " ".join(p.message for p in self.problems)


# An "(광고)" written any other way: brackets of any kind (also full-width), spaces or
# punctuation between the two syllables, leading blanks.
_ALTERED = re.compile(r"^\s*[\(\[\{<（［【〈「『]?\s*광[\s\W_]*고\s*[\)\]\}>）］】〉」』]?")
_FREE_OPT_OUT = re.compile(
    r"무료\s*(?:수신\s*)?(?:거부|차단|해지)\s*[:：]?\s*080[-\s.]?\d{3,4}[-\s.]?\d{4}")
_OPT_OUT_WORDS = {
    "email": re.compile(r"수신\s*거부|수신\s*동의\s*철회|unsubscribe|opt[\s-]?out", re.I),
    "push": re.compile(r"수신\s*거부|알림\s*설정|unsubscribe|opt[\s-]?out", re.I),
}
# Kakao's FriendTalk ad guide puts "수신거부 | 홈 > 채널차단" (refuse: home > block the channel,
# free of charge) at the end of an ad; spacing and the separator vary between dealers.
_KAKAO_OPT_OUT = re.compile(r"수신\s*거부\s*[|｜:：]?\s*홈\s*[>＞]\s*채널\s*차단")
_CONTACT = re.compile(r"\d{2,4}[-\s.]?\d{3,4}[-\s.]?\d{4}|[\w.+-]+@[\w-]+\.[\w.]+|https?://")


def _problem(code: str, **fields: object) -> MessageProblem:
    return MessageProblem(code, tr(f"audience.check.{code}", **fields))


def check_message(text: str, *, channel: str, is_ad: bool = True, sender: str | None = None,
                  subject: str | None = None, template_code: str | None = None) -> MessageCheck:
    """Check a message against the Korean ad-message rules and the channel's size limit.

    Parameters
    ----------
    text
        The message body as it will be sent (the byte count includes every part).
    channel
        ``sms``, ``lms``, ``email``, ``push``, ``alimtalk`` or ``friendtalk``.
    is_ad
        An advertising message: the "(광고)" prefix, the sender and a free opt-out are required.
        On AlimTalk an ad is a problem (``alimtalk_ad``), and so is a text that reads as one
        (``alimtalk_ad_content``).
    sender
        The sender's name as it must appear in the message.
    subject
        Email subject (where "(광고)" goes for email).
    template_code
        AlimTalk: the code of the template Kakao approved (``template_missing`` /
        ``template_invalid`` otherwise); ignored for other channels.

    Returns
    -------
    MessageCheck
        ``ok``, the problems (codes and readable messages), and the CP949 byte count and limit
        for SMS and LMS.
    """
    check_send_channel(channel, "check_message")
    if not isinstance(text, str):
        raise ParameterError(tr("audience.error.message_text", got=type(text).__name__))
    problems: list[MessageProblem] = []
    if channel == "alimtalk":
        problems += _alimtalk_problems(text, is_ad, template_code)
    elif is_ad:
        problems += _ad_problems(text, channel, sender, subject)
    if channel in CHAR_LIMITS and len(text) > CHAR_LIMITS[channel]:
        problems.append(_problem("too_many_chars", chars=len(text), limit=CHAR_LIMITS[channel],
                                 channel=channel))
    size, limit = None, BYTE_LIMITS.get(channel)
    if limit is not None:
        size, bad = cp949_bytes(text)
        if bad:
            problems.append(_problem("not_cp949", chars=" ".join(bad), count=len(bad)))
        if size > limit:
            hint = tr("audience.check.use_lms") if channel == "sms" and size <= 2000 else ""
            problems.append(_problem("too_long", bytes=size, limit=limit, channel=channel.upper(),
                                     hint=hint))
    return MessageCheck(channel, is_ad, size, limit, tuple(problems))


def _ad_problems(text: str, channel: str, sender: str | None,
                 subject: str | None) -> list[MessageProblem]:
    problems: list[MessageProblem] = []
    head = text
    if channel == "email":
        if not subject:
            problems.append(_problem("subject_missing"))
        head = subject or ""
    if not head.startswith(AD_PREFIX):
        if _ALTERED.match(head):
            shown = _ALTERED.match(head).group(0)
            problems.append(_problem("ad_prefix_altered", found=shown.strip() or shown))
        elif AD_PREFIX in head:
            problems.append(_problem("ad_prefix_not_first"))
        else:
            problems.append(_problem("ad_prefix_missing"))
    if not sender or not sender.strip():
        problems.append(_problem("sender_unknown"))
    elif sender.strip() not in text:
        problems.append(_problem("sender_missing", sender=sender.strip()))
    if channel == "email" and not _CONTACT.search(text):
        problems.append(_problem("contact_missing"))
    if channel in ("sms", "lms"):
        if not _FREE_OPT_OUT.search(text):
            problems.append(_problem("opt_out_missing"))
    elif channel == "friendtalk":
        if not (_KAKAO_OPT_OUT.search(text) or _FREE_OPT_OUT.search(text)):
            problems.append(_problem("opt_out_missing_kakao"))
    elif not _OPT_OUT_WORDS[channel].search(text):
        problems.append(_problem("opt_out_missing_link"))
    return problems


def _alimtalk_problems(text: str, is_ad: bool,
                       template_code: str | None) -> list[MessageProblem]:
    # AlimTalk needs no ad mark and allows none: an ad is refused whatever its wording.
    problems: list[MessageProblem] = []
    if is_ad:
        problems.append(_problem("alimtalk_ad"))
    signals = ad_signals(text)
    if signals:
        problems.append(_problem("alimtalk_ad_content",
                                 words=", ".join(f'"{w}"' for w in signals.values())))
    if template_code is None or not str(template_code).strip():
        problems.append(_problem("template_missing"))
    elif not TEMPLATE_CODE.fullmatch(str(template_code).strip()):
        problems.append(_problem("template_invalid", got=short(template_code)))
    return problems
