"""Korean advertising-message rules (Network Act Art. 50) for exports and message texts.

Who may receive an ad (:func:`eligibility`), checked in this order, the first failing rule
naming the exclusion (:data:`EXCLUSION_RULES`):

1. ``opted_out`` - the customer unsubscribed from an ad on the same kind of channel after their
   last consent; an opt-out always wins, also over the transaction exemption (Art. 50(2)).
2. ``no_consent`` / ``consent_expired`` - the channel's opt-in flag is off, or it is on but the
   consent is two years old or older without re-confirmation (Art. 50(8), Decree 62-3), or its
   date is unknown. A seller may still advertise the same kind of goods for six months after a
   transaction with the customer ends (Art. 50(1) i, Decree 61(1)); the exemption is used only
   when the caller says the message is about the same kind of goods
   (``transaction_exemption=True``), and it ends on day 183 after the last order's delivery
   (or order time when it was not delivered).
3. ``night_time`` - the send is scheduled 21:00-08:00 in the shop's zone and the customer has
   no separate night-time consent (Art. 50(3), Decree 61(2)); email is exempt.
4. ``no_contact`` - the channel needs a phone number (SMS, LMS, KakaoTalk) or an email address
   that the customer does not have.

Non-advertising (transactional) messages skip rules 1-3.

What a message must contain (:func:`check_message`, Art. 50(4), (6), Decree 61(3), KISA
guide): "(광고)" as the very first characters (for email, of the subject); obfuscations such
as "(광 고)", "(광/고)", "[광고]" or a full-width "（광고）" are violations; the sender's name;
a free way to refuse (SMS: "무료거부 080-XXX-XXXX"). SMS holds 90 and LMS 2,000 bytes counted
in CP949 (Hangul two bytes each); characters CP949 cannot encode (emoji) are reported, since
carriers reject or mangle them.

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
from workbench.data.schema import CAMPAIGN_CHANNELS
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.queries import net_orders

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import Settings

__all__ = ["BYTE_LIMITS", "CONSENT_COLUMNS", "CONTACT_COLUMNS", "EXCLUSION_RULES",
           "MessageCheck", "MessageProblem", "check_channel", "check_message", "cp949_bytes",
           "eligibility", "is_night", "require_send_at", "send_instant"]

#: Exclusion reasons in the order they are checked.
EXCLUSION_RULES = ("opted_out", "no_consent", "consent_expired", "night_time", "no_contact",
                   "global_holdout")
#: The consent flag of each channel (data contract: SMS/LMS/KakaoTalk share the SMS flag).
CONSENT_COLUMNS = {"sms": "sms_opt_in", "lms": "sms_opt_in", "kakao": "sms_opt_in",
                   "email": "email_opt_in", "push": "push_opt_in"}
#: The contact column an export of each channel needs (push: the customer id).
CONTACT_COLUMNS = {"sms": "phone", "lms": "phone", "kakao": "phone", "email": "email",
                   "push": "customer_id"}
#: Byte limits counted in CP949.
BYTE_LIMITS = {"sms": 90, "lms": 2000}
#: Channels whose opt-outs end each other's consent (one phone number, one consent flag).
_FAMILY = {"sms": ("sms", "lms", "kakao"), "lms": ("sms", "lms", "kakao"),
           "kakao": ("sms", "lms", "kakao"), "email": ("email",), "push": ("push",)}
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
        ``sms``, ``lms``, ``email``, ``push`` or ``kakao``.
    is_ad
        An advertising message (rules 1-3 apply).
    send_at
        When the message will be sent (naive: shop's local time); required for ads, whose
        consent age and night-time rule depend on it.
    settings
        Settings (time zone).
    transaction_exemption
        The message advertises the same kind of goods the customer bought: customers without
        consent whose last transaction ended less than 183 days before the send qualify.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``contact`` (normalised phone, email or customer id), ``basis``
        (``consent``, ``transaction`` or ``not_ad``) and ``reason`` (null: eligible; else one
        of :data:`EXCLUSION_RULES`).
    """
    check_channel(channel, "eligibility")
    require_send_at(send_at, is_ad, "eligibility")
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
    flag = m[CONSENT_COLUMNS[channel]].fill_null(False)
    consent_ok = flag & m.consent_at.notnull() & (m.consent_at > two_years)
    opted_out = m.last_opt_out.notnull() & (m.consent_at.isnull()
                                            | (m.last_opt_out > m.consent_at))
    exempt = ibis.literal(bool(transaction_exemption)) & m.last_transaction.notnull() & (
        m.last_transaction > ibis.literal(send - pd.Timedelta(days=EXEMPTION_DAYS)))
    night = ibis.literal(is_night(send_at, settings.timezone) and channel != "email")
    reason = ibis.cases(
        (opted_out, "opted_out"),
        (~consent_ok & ~exempt & flag, "consent_expired"),
        (~consent_ok & ~exempt, "no_consent"),
        (night & ~m.night_opt_in.fill_null(False), "night_time"),
        (contact.isnull(), "no_contact"),
        else_=ibis.null("string"))
    basis = ibis.cases((consent_ok, "consent"), (exempt, "transaction"), else_="none")
    return m.select("customer_id", contact=contact, basis=basis, reason=reason)


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
    if not {"messages", "campaigns"} <= tables:
        return m.mutate(last_opt_out=ibis.null("timestamp('UTC')"))
    msg, camp = con.table("messages"), con.table("campaigns")
    camp = camp.filter(camp.channel.isin(list(_FAMILY[channel])))
    out = msg.filter(msg.unsubscribed_at.notnull(), msg.unsubscribed_at < send)
    out = out.filter(out.campaign_id.isin(camp.campaign_id))
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
_CONTACT = re.compile(r"\d{2,4}[-\s.]?\d{3,4}[-\s.]?\d{4}|[\w.+-]+@[\w-]+\.[\w.]+|https?://")


def _problem(code: str, **fields: object) -> MessageProblem:
    return MessageProblem(code, tr(f"audience.check.{code}", **fields))


def check_message(text: str, *, channel: str, is_ad: bool = True, sender: str | None = None,
                  subject: str | None = None) -> MessageCheck:
    """Check a message against the Korean ad-message rules and the channel's size limit.

    Parameters
    ----------
    text
        The message body as it will be sent (the byte count includes every part).
    channel
        ``sms``, ``lms``, ``email``, ``push`` or ``kakao``.
    is_ad
        An advertising message: the "(광고)" prefix, the sender and a free opt-out are required.
    sender
        The sender's name as it must appear in the message.
    subject
        Email subject (where "(광고)" goes for email).

    Returns
    -------
    MessageCheck
        ``ok``, the problems (codes and readable messages), and the CP949 byte count and limit
        for SMS and LMS.
    """
    check_channel(channel, "check_message")
    if not isinstance(text, str):
        raise ParameterError(tr("audience.error.message_text", got=type(text).__name__))
    problems: list[MessageProblem] = []
    if is_ad:
        problems += _ad_problems(text, channel, sender, subject)
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
    if channel in ("sms", "lms", "kakao"):
        if not _FREE_OPT_OUT.search(text):
            problems.append(_problem("opt_out_missing"))
    elif not _OPT_OUT_WORDS[channel].search(text):
        problems.append(_problem("opt_out_missing_link"))
    return problems
