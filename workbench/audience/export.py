"""Export an audience for a campaign: legal checks, a deterministic holdout, a logged CSV file.

:func:`export_audience`

1. checks the message text when one is given (:func:`~workbench.audience.check_message`) and
   refuses to export an ad whose text breaks the rules;
2. applies the consent, opt-out, night-time and contact rules
   (:func:`~workbench.audience.eligibility`), then the send history's
   (:mod:`workbench.audience.history`: ``since_last_export``'s cooldown and, for ads, the
   frequency cap), and counts the customers each rule excluded;
3. splits the eligible customers into ``holdout`` and ``send`` (the arm that gets the message;
   exports before 2026-12 wrote ``control``, which the A/B readout still reads as ``send``) with
   :func:`workbench.abtest.assign_variants` (deterministic in ``(salt, customer_id)``); the
   holdout is kept out of the file. An A/B/n test (``variants``) splits the rest equally between
   arms ``A``, ``B``, ..., checks every arm's message and writes one file per arm
   (:mod:`workbench.audience.arms`);
4. writes a CSV in UTF-8 with a BOM (Korean Excel opens it without mojibake) holding only the
   column the channel needs: ``phone`` (SMS, LMS, AlimTalk, FriendTalk), ``email`` or
   ``customer_id`` (push: the app maps ids to device tokens); cells that Excel would run as a
   formula are neutralised (:func:`excel_safe`); personalisation columns follow when asked
   for with a stated purpose (``fields``: :mod:`workbench.audience.personalise`). AlimTalk
   (informational, ``template_code``) sends customers known to have no KakaoTalk to an SMS/LMS
   fallback file beside it, with the same columns (:mod:`workbench.audience.kakao`). With
   ``fields``, an SMS or LMS export notes how many customers' filled-in messages exceed the
   channel's byte limit, and the fallback is SMS only when every filled-in text fits;
5. records, in one all-or-nothing store write: a row in ``audience_exports`` (who, when, which
   audience version, purpose, channel, rows, the file's SHA-256, fields, arm shares), and when
   there is a holdout or arms the campaign (``campaigns``) and every eligible customer's
   variant (``assignments``), so the A/B analysis can measure the send later; and every
   customer the export covered, with their arm, in ``export_members`` (:func:`_members_rows`),
   which the cooldown and the frequency cap of later exports read.

The output path is checked first (:mod:`workbench.data.outputs`: never the store, a model, the
salt, the settings, the message file or, without ``force``, any existing file). The file is
written privately (mode 0600: it holds contacts) and moved to its name only inside the store
write, after its log row; if that write fails, the file is removed again, so a file of
customers' contacts exists exactly when its ``audience_exports`` row does.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import __version__
from workbench.abtest import assign_variants, in_global_holdout
from workbench.audience.arms import (
    ArmExport,
    arm_path,
    arm_shares,
    check_arm_messages,
    check_arms,
    coupon_codes,
)
from workbench.audience.audience import Audience
from workbench.audience.compliance import (
    BYTE_LIMITS,
    CONTACT_COLUMNS,
    EXCLUSION_RULES,
    MessageCheck,
    check_message,
    cp949_bytes,
    eligibility,
    export_channel,
    require_send_at,
    send_instant,
    without_kakaotalk,
)
from workbench.audience.history import resolve_cooldown, send_reference, with_history_reasons
from workbench.audience.kakao import KakaoFallback, fallback_path
from workbench.audience.personalise import (
    check_fields,
    coupon_column,
    field_columns,
    filled_bytes,
)
from workbench.calendar import send_day_notes
from workbench.data.outputs import check_output_file, private_temp_file, publish
from workbench.data.schema import TABLES
from workbench.data.store import write_store
from workbench.dates import cutoff
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["EXPORT_LOG", "ExportResult", "excel_safe", "export_audience", "read_export_log"]

#: The export log: one row per export (PIPA: downloads of personal data are recorded).
EXPORT_LOG = TABLES["audience_exports"]
#: Who each export covered (:func:`_members_rows`): the cooldown and the frequency cap read it.
EXPORT_MEMBERS = "export_members"
#: The messaged arm. Not "control": marketers read that as the untreated group.
SEND_VARIANT = "send"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote and why customers were left out."""

    export_id: str
    path: Path
    audience: str
    audience_version: int
    channel: str
    members: int
    excluded: dict[str, int]
    holdout: int
    rows: int
    sha256: str
    message_check: MessageCheck | None = None
    notes: tuple[str, ...] = field(default=())
    #: A/B/n exports (``variants``): one entry per arm and file; ``path`` is then the name the
    #: arm files derive from (``out.csv`` -> ``out.A.csv``) and ``sha256`` the files' digests,
    #: comma separated in arm order.
    arms: tuple[ArmExport, ...] = field(default=())
    #: Personalisation columns in the file(s), after the contact column.
    fields: tuple[str, ...] = field(default=())
    #: AlimTalk: the code of the approved template.
    template_code: str | None = None
    #: AlimTalk: customers without KakaoTalk, in the SMS/LMS fallback file(s); ``rows`` does
    #: not count them.
    fallback: KakaoFallback | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return one row per step: members, each exclusion rule, holdout, rows in the file."""
        steps = [("members", self.members), *self.excluded.items(),
                 ("holdout", self.holdout), ("rows", self.rows),
                 *((f"rows_{a.name}", a.rows) for a in self.arms)]
        return pd.DataFrame(steps, columns=["step", "customers"])

    def summary(self) -> str:
        """One paragraph for people, in the active language."""
        parts = [tr(f"audience.rule.{k}") + f" {format_number(v)}"
                 for k, v in self.excluded.items() if v]
        path = ", ".join(a.path.name for a in self.arms) if self.arms else str(self.path)
        text = tr(_one("audience.export.summary", self.rows), rows=format_number(self.rows),
                  path=path, members=format_number(self.members),
                  excluded=", ".join(parts) or "0", holdout=format_number(self.holdout),
                  sha=self.sha256[:12], export_id=self.export_id)
        return "\n".join([text, *(tr(_one("audience.variants.summary", a.rows), arm=a.name,
                                      share=f"{a.share:g}", rows=format_number(a.rows),
                                      path=str(a.path), sha=a.sha256[:12])
                                   for a in self.arms)])


def _one(key: str, count: int) -> str:
    """Return the singular message of ``key`` for a count of 1 (English "1 row", "2 rows")."""
    return f"{key}_one" if count == 1 else key


def export_audience(
    audience: Audience,
    *,
    out: str | os.PathLike[str],
    channel: str | None = None,
    holdout: float = 0.0,
    send_at: datetime | None = None,
    message: str | None = None,
    sender: str | None = None,
    subject: str | None = None,
    purpose: str | None = None,
    author: str | None = None,
    salt: str | None = None,
    transaction_exemption: bool = False,
    store: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    force: bool = False,
    inputs: tuple[str | os.PathLike[str], ...] = (),
    variants: Mapping[str, str] | None = None,
    fields: Iterable[str] | str = (),
    coupon_code: str | Mapping[str, str] | None = None,
    since_last_export: bool = False,
    cooldown: str | timedelta | None = None,
    template_code: str | None = None,
) -> ExportResult:
    """Export an audience's eligible members for one channel and log the export.

    Parameters
    ----------
    audience
        The audience (its definition says whether the message is an ad).
    out
        The CSV file to write. It must not exist (unless ``force``) and never is the store, a
        model, the salt, the settings file or one of ``inputs``.
    channel
        ``sms``, ``lms``, ``email``, ``push``, ``alimtalk`` or ``friendtalk`` (default: the
        definition's; an old ``kakao`` is read as in :func:`~workbench.audience.legacy_channel`).
    holdout
        Share of eligible customers kept out of the file as a holdout, in [0, 0.5].
    send_at
        When the message will be sent (naive: shop's local time); required for ads.
    message, sender, subject
        The message text, the sender's name and (email) the subject; when ``message`` is
        given it is checked and a failing ad is refused.
    purpose
        Why the data is exported (default: the definition's purpose); required.
    author
        Who exports (default: the operating-system user).
    salt
        Holdout salt (default: the audience's name, so a customer stays in or out of this
        audience's holdout across sends).
    transaction_exemption
        The message advertises the same kind of goods the customers bought: the six-month
        transaction exemption applies to customers without consent.
    store
        The store to log into (default: the ``store`` setting).
    now
        Time stamp of the log row (default: the current time; bookkeeping only).
    force
        Replace ``out`` if it exists (protected files are refused even then).
    inputs
        Files this export was made from (the message file): never overwritten.
    variants
        An A/B/n message test: arm -> message text (``{"A": text_a, "B": text_b}``, 2 to 10
        arms named ``A``, ``B``, ``Coupon10``...; instead of ``message``). After the holdout the
        rest is split equally; every arm's message is checked (one failing arm refuses the
        export) and each arm gets its own file, ``out.A.csv``, ``out.B.csv``; one campaign
        records every eligible customer's arm (see :mod:`workbench.audience.arms`).
    fields
        Personalisation columns after the contact column (``name``, ``name_full``,
        ``last_product``, ``last_cart_product``, ``coupon_code``; see
        :mod:`workbench.audience.personalise`); they need an explicit ``purpose``.
    coupon_code
        The code of the ``coupon_code`` column: one code, or arm -> code (every arm).
    since_last_export
        Leave out customers already exported for this audience (any arm) within the cooldown
        of this send (an hourly job; :mod:`workbench.audience.history`).
    cooldown
        ``"24h"``, ``"2d"``: overrides the definition's ``cooldown`` (default 24 h); only with
        ``since_last_export``.
    template_code
        AlimTalk: the code of the template Kakao approved (required; letters, digits, ``_``,
        ``-``), recorded in the log. AlimTalk refuses ads; customers known to have no
        KakaoTalk (``has_kakaotalk`` false) go to ``<out stem>.fallback_sms<suffix>`` (the
        main file's columns, ``fields`` included; SMS when every fallback customer's message,
        its ``#{field}`` variables filled in, fits 90 CP949 bytes, else LMS), written and
        logged with the main file (``fallback_rows``). An old ``kakao`` channel is read as
        FriendTalk for an ad and AlimTalk otherwise (:mod:`workbench.audience.kakao`).

    Returns
    -------
    ExportResult

    Raises
    ------
    ParameterError
        A bad parameter, a missing purpose or send time, or a message that breaks the rules.
    UnsafeOutputError
        ``out`` is protected, a folder, or exists without ``force``.
    """
    d = audience.definition
    settings = audience.settings
    log_store = store or settings.store
    arms = check_arms(variants, message=message) if variants is not None else None
    # With arms ``out`` only names the arm files: it is checked for protection, not existence.
    out_settings = settings.replace(store=str(log_store))
    target = check_output_file(out, settings=out_settings, inputs=inputs,
                               force=force or arms is not None)
    files = {SEND_VARIANT: target} if arms is None else {
        arm: check_output_file(arm_path(target, arm), settings=out_settings, inputs=inputs,
                               force=force) for arm in arms}
    channel, template_code, channel_notes = export_channel(
        channel or d.channel, d.is_ad, template_code, "export_audience")
    fallback_files = {arm: check_output_file(fallback_path(path), settings=out_settings,
                                             inputs=inputs, force=force)
                      for arm, path in files.items()} if channel == "alimtalk" else {}
    holdout = _check_holdout(holdout)
    cooldown_span = resolve_cooldown(since_last_export, cooldown, d.cooldown)
    field_names = check_fields(fields, purpose=purpose, coupon_code=coupon_code)
    codes = coupon_codes(coupon_code, list(files))
    purpose = (purpose if purpose is not None else d.purpose).strip()
    if not purpose:
        raise ParameterError(tr("audience.error.purpose"))
    require_send_at(send_at, d.is_ad, "export_audience")
    check = None
    checks = {} if arms is None else check_arm_messages(
        arms, channel=channel, is_ad=d.is_ad, sender=sender, subject=subject,
        template_code=template_code)
    if message is not None:
        check = check_message(message, channel=channel, is_ad=d.is_ad, sender=sender,
                              subject=subject, template_code=template_code)
        if not check.ok:
            raise ParameterError(tr("audience.export.message_refused", problems=check.summary()))
    elig = eligibility(audience.con, audience.ids(), channel=channel, is_ad=d.is_ad,
                       send_at=send_at, settings=settings,
                       transaction_exemption=transaction_exemption).to_pandas()
    elig = elig.sort_values("customer_id", kind="stable").reset_index(drop=True)
    send_ref = send_reference(send_at, audience.as_of, settings.timezone)
    elig = with_history_reasons(elig, audience.con, audience=d.name, channel=channel,
                                is_ad=d.is_ad, send=send_ref, timezone=settings.timezone,
                                cap=settings.frequency_cap, cooldown=cooldown_span)
    if settings.global_holdout > 0:  # the persistent global holdout never gets a send
        held = in_global_holdout(elig["customer_id"].tolist(), settings.global_holdout)
        elig.loc[elig["reason"].isna() & held.to_numpy(), "reason"] = "global_holdout"
    counts = elig["reason"].value_counts()
    excluded = {rule: int(counts.get(rule, 0)) for rule in EXCLUSION_RULES}
    ok = elig[elig["reason"].isna()]
    now = now or datetime.now(UTC)
    tag = hashlib.sha256(f"{now.isoformat()}|{target}".encode()).hexdigest()[:6]
    export_id = f"{d.name}-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{tag}"
    salt = salt or d.name
    shares = arm_shares(list(arms), holdout) if arms is not None else None
    assigned = _variants(ok["customer_id"], salt, holdout, shares)
    sent = (assigned != "holdout").to_numpy()
    send, arm_of = ok[sent], assigned.to_numpy()[sent]
    # The fallback file has the main file's columns (its SMS text has the same variables).
    table, notes = _file_table(audience, send, CONTACT_COLUMNS[channel], field_names,
                               arm_of, codes)
    to_sms = _to_fallback(audience, channel, send)  # AlimTalk: customers without KakaoTalk
    fb_table, table = table[to_sms].reset_index(drop=True), table[~to_sms].reset_index(drop=True)
    fb_send, fb_arm_of, send, arm_of = send[to_sms], arm_of[to_sms], send[~to_sms], arm_of[~to_sms]
    texts = dict(arms) if arms else ({SEND_VARIANT: message} if message is not None else {})
    if field_names:  # the message check counted the template; count the filled-in texts
        notes += _length_notes(channel, _filled_sizes(texts, table, arm_of))
    notes += send_day_notes(send_at, settings.timezone)  # a public holiday or its eve
    with contextlib.ExitStack() as stack:
        written = _write_files(stack, files, table, arm_of)
        fb_written = _write_files(stack, fallback_files, fb_table, fb_arm_of)
        fb, fb_channels, fb_notes = _fallback(fb_written, fb_send, texts,
                                              _filled_sizes(texts, fb_table, fb_arm_of))
        arm_exports = tuple(
            ArmExport(arm, shares[arm], path, rows, digest, checks[arm], (codes or {}).get(arm))
            for arm, path, _, rows, digest in written) if shares is not None else ()
        result = ExportResult(export_id, target, d.name, d.version, channel, len(elig), excluded,
                              int((assigned == "holdout").sum()), len(send),
                              ",".join(w[4] for w in written), check,
                              (*channel_notes, *audience.notes, *notes, *fb_notes), arm_exports,
                              field_names, template_code, fb)
        _log(result, d, audience, assigned, now=now, send_at=send_at, salt=salt,
             holdout_share=holdout, purpose=purpose, author=author or _user(),
             store=log_store, files=[(w[2], w[1]) for w in (*written, *fb_written)],
             force=force, cooldown=cooldown_span, member_channels=fb_channels)
    return result


#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula
#: (OWASP "CSV Injection"): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe, as OWASP recommends: spreadsheets then show the text instead of evaluating it
    (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``). Phones (digits) and valid emails never start
    with these, so real contacts pass unchanged.

    >>> cells = pd.DataFrame({"c": ["=1+1", "+cmd|' /C calc'!A0", "ab@x.kr", "01012345678"]})
    >>> excel_safe(cells)["c"].tolist()
    ["'=1+1", "'+cmd|' /C calc'!A0", 'ab@x.kr', '01012345678']
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            text = column.astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out[name] = column.astype(object).where(~risky, "'" + text.astype(object))
    return out


def _check_holdout(holdout: Any) -> float:
    try:
        value = float(holdout)
    except (TypeError, ValueError):
        value = -1.0
    if not 0.0 <= value <= 0.5:
        raise ParameterError(tr("audience.error.holdout", got=repr(holdout)))
    return value


def _variants(ids: pd.Series, salt: str, holdout: float,
              shares: Mapping[str, float] | None = None) -> pd.Series:
    if shares is not None and not ids.empty:  # A/B/n arms, the holdout first
        return assign_variants(ids.tolist(), salt, shares)
    if holdout <= 0 or ids.empty:
        return pd.Series(SEND_VARIANT, index=pd.Index(ids, name="customer_id"), name="variant")
    return assign_variants(ids.tolist(), salt, {"holdout": holdout, SEND_VARIANT: 1 - holdout})


def _write_files(stack: contextlib.ExitStack, files: Mapping[str, Path], table: pd.DataFrame,
                 arm_of: Any) -> list[tuple[str, Path, Path, int, str]]:
    """Write each arm's rows to a private temporary file (one file: all rows).

    Returns ``(arm, target, temporary file, rows, SHA-256)`` per file; the files live until
    ``stack`` closes, after the store write published them.
    """
    written = []
    for arm, path in files.items():
        tmp = stack.enter_context(private_temp_file(path))
        part = table[arm_of == arm] if len(files) > 1 else table
        _write_csv(excel_safe(part), tmp)
        written.append((arm, path, tmp, len(part), hashlib.sha256(tmp.read_bytes()).hexdigest()))
    return written


def _to_fallback(audience: Audience, channel: str, send: pd.DataFrame) -> Any:
    """Return which file rows go to AlimTalk's SMS/LMS fallback (a boolean array)."""
    if channel != "alimtalk" or send.empty:
        return pd.Series(False, index=send.index).to_numpy()
    ids = without_kakaotalk(audience.con, audience.ids()).to_pandas()["customer_id"]
    return send["customer_id"].isin(ids).to_numpy()


def _fallback(written: list[tuple[str, Path, Path, int, str]], send: pd.DataFrame,
              texts: Mapping[str, str], sizes: pd.Series | None
              ) -> tuple[KakaoFallback | None, pd.Series | None, list[str]]:
    """Describe the fallback file(s): the result entry, each customer's channel, notes.

    One channel for the whole fallback (the sending service gets one kind of file): SMS
    only when every fallback customer's message fits 90 CP949 bytes with their ``fields``
    filled in (``sizes``: :func:`_filled_sizes`; without customers, every template), else LMS
    (also without a message).
    """
    if not written:
        return None, None, []
    longest = (int(sizes.max()) if sizes is not None and len(sizes) else
               max((cp949_bytes(t)[0] for t in texts.values()), default=None))
    channel = "sms" if longest is not None and longest <= BYTE_LIMITS["sms"] else "lms"
    fb = KakaoFallback(tuple(w[1] for w in written), channel, len(send),
                       ",".join(w[4] for w in written))
    notes = [tr("audience.kakao.fallback", rows=format_number(len(send)), channel=channel.upper(),
                path=", ".join(str(w[1]) for w in written))]
    for text in texts.values() if len(send) else ():
        bad = cp949_bytes(text)[1]
        if bad:
            notes.append(tr("audience.kakao.fallback_not_cp949", channel=channel.upper(),
                            count=len(bad), chars=" ".join(bad)))
    if len(send) and longest is not None and longest > BYTE_LIMITS["lms"]:
        notes.append(tr("audience.kakao.fallback_too_long", bytes=format_number(longest)))
    channels = pd.Series(channel, index=send["customer_id"].astype(str), dtype=object)
    return fb, channels, list(dict.fromkeys(notes))


def _filled_sizes(texts: Mapping[str, str], table: pd.DataFrame, arm_of: Any
                  ) -> pd.Series | None:
    """Return each row's CP949 byte length of its arm's message, ``#{field}`` filled in.

    The cells are read as the file holds them (:func:`excel_safe`); ``None`` without a message.
    """
    if not texts:
        return None
    cells = excel_safe(table)
    arm_of = pd.Series(arm_of, index=table.index, dtype=object)
    sizes = pd.Series(0, index=table.index, dtype="int64")
    for arm, text in texts.items():
        rows = (arm_of == arm).to_numpy(dtype=bool)
        if rows.any():
            sizes[rows] = filled_bytes(text, cells[rows]).to_numpy()
    return sizes


def _length_notes(channel: str, sizes: pd.Series | None) -> list[str]:
    """Note how many filled-in messages exceed the SMS (90) or LMS (2,000) byte limit."""
    limit = BYTE_LIMITS.get(channel)
    if limit is None or sizes is None or not (sizes > limit).any():
        return []
    return [tr("audience.fields.too_long", count=format_number(int((sizes > limit).sum())),
               rows=format_number(len(sizes)), channel=channel.upper(),
               limit=format_number(limit), longest=format_number(int(sizes.max())),
               hint=tr(f"audience.fields.too_long_{channel}"))]


def _file_table(audience: Audience, send: pd.DataFrame, column: str, fields: tuple[str, ...],
                arm_of: Any, codes: Mapping[str, str] | None) -> tuple[pd.DataFrame, list[str]]:
    """Return the file's rows (contact, then the personalisation fields) and notes on gaps."""
    table = send["contact"].rename(column).to_frame().reset_index(drop=True)
    if not fields:
        return table, []
    ids = send["customer_id"].astype(str)
    values = field_columns(audience.con, audience.ids(), fields,
                           cutoff=cutoff(audience.as_of, audience.settings.timezone))
    notes = []
    for name in fields:
        if name == "coupon_code":
            cells = coupon_column(pd.Series(arm_of, index=ids.index), codes or {})
        else:
            cells = values[name].reindex(ids.to_numpy()) if name in values else pd.Series(
                None, index=ids.index, dtype=object)
        cells = pd.Series(cells.to_numpy(), dtype=object).where(
            pd.notna(cells.to_numpy()), None)
        table[name] = cells
        empty = int(cells.isna().sum())
        if empty:
            notes.append(tr("audience.fields.empty", field=name, count=format_number(empty),
                            rows=format_number(len(table))))
    return table, notes


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Mode 0600: the file holds customers' phones or emails. utf-8-sig writes the BOM (EF BB BF)
    # that Korean Excel needs to read UTF-8.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
        frame.to_csv(fh, index=False)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the log still needs a value
        return "unknown"


def _log(result: ExportResult, d: Any, audience: Audience, variants: pd.Series, *,
         now: datetime, send_at: datetime | None, salt: str, holdout_share: float,
         purpose: str, author: str, store: Any, files: list[tuple[Path, Path]],
         force: bool, cooldown: timedelta | None = None,
         member_channels: pd.Series | None = None) -> None:
    tz = audience.settings.timezone
    send = send_instant(send_at, tz) if send_at is not None else None
    row = pd.DataFrame({
        "export_id": [result.export_id], "exported_at": [pd.Timestamp(now)],
        "author": [author], "audience": [d.name], "audience_version": [d.version],
        "purpose": [purpose], "channel": [result.channel], "is_ad": [d.is_ad],
        "as_of": [cutoff(audience.as_of, tz)], "send_at": [send],
        "members": [result.members], "excluded": [sum(result.excluded.values())],
        "exclusions": [json.dumps(result.excluded)], "holdout": [result.holdout],
        "rows": [result.rows], "holdout_share": [holdout_share], "salt": [salt],
        "file_name": [",".join(a.path.name for a in result.arms) or result.path.name],
        "sha256": [result.sha256], "package_version": [__version__],
        "fields": [",".join(result.fields) or None],
        "variants": [json.dumps({**({"holdout": holdout_share} if holdout_share > 0 else {}),
                                 **{a.name: a.share for a in result.arms}})
                     if result.arms else None]})
    row["cooldown_hours"] = [cooldown / timedelta(hours=1) if cooldown is not None else None]
    row["template_code"] = [result.template_code]
    row["fallback_rows"] = pd.array([result.fallback.rows if result.fallback else None],
                                    dtype="Int64")
    with write_store(store, settings=audience.settings) as w:
        w.write(EXPORT_LOG.name, row)
        w.write(EXPORT_MEMBERS, _members_rows(
            result, d, variants, send if send is not None else cutoff(audience.as_of, tz),
            channels=member_channels))
        if (holdout_share > 0 or result.arms) and len(variants):
            started = send if send is not None else cutoff(audience.as_of, tz)
            w.write("campaigns", pd.DataFrame({
                "campaign_id": [result.export_id], "name": [f"{d.name} v{d.version}"],
                "channel": [result.channel], "is_ad": [d.is_ad], "started_at": [started],
                "holdout_share": [holdout_share]}))
            w.write("assignments", pd.DataFrame({
                "campaign_id": result.export_id, "customer_id": variants.index.astype(str),
                "variant": variants.to_numpy(), "assigned_at": pd.Timestamp(now)}))
        for tmp, target in files:
            _publish_in(w, (tmp, force), target)


def _members_rows(result: ExportResult, d: Any, variants: pd.Series, send_at: pd.Timestamp,
                  channels: pd.Series | None = None) -> pd.DataFrame:
    """Return the ``export_members`` rows: every customer the export covered, with their arm.

    ``variants`` holds each eligible customer's arm (``send``, ``holdout``, ``A``...);
    ``channels`` (customer id -> channel) overrides the export's channel for some customers
    (AlimTalk's SMS/LMS fallback). ``send_at`` is the send time (or the cut-off without one):
    the cooldown and the frequency cap (:mod:`workbench.audience.history`) count from it.
    """
    ids = variants.index.astype(str)
    channel = pd.Series(result.channel, index=ids, dtype=object)
    if channels is not None:
        channel = channels.reindex(ids).fillna(channel).astype(object)
    return pd.DataFrame({
        "export_id": result.export_id, "customer_id": ids, "audience": d.name,
        "channel": channel.to_numpy(), "is_ad": bool(d.is_ad), "variant": variants.to_numpy(),
        "send_at": send_at})


def _publish_in(writer: Any, file: tuple[Path, bool], target: Path) -> None:
    """Move the export into place as the last step of the store write that logs it.

    The store commits after this returns; should the commit fail, the file is taken back (and
    a file it replaced under ``force`` restored), so file and log row exist together or not
    at all.
    """
    tmp, force = file
    backup = tmp.with_name(tmp.name + ".old")
    had_old = force and (target.exists() or target.is_symlink())
    if had_old:
        os.link(target, backup, follow_symlinks=False)
    publish(tmp, target, force=force)
    writer.on_failure(lambda: _take_back(target, backup if had_old else None))


def _take_back(target: Path, backup: Path | None) -> None:
    if backup is not None:
        os.replace(backup, target)
    else:
        target.unlink(missing_ok=True)


def read_export_log(con: BaseBackend) -> pd.DataFrame:
    """Return the export log, newest first (empty when nothing was exported yet)."""
    if EXPORT_LOG.name not in con.list_tables():
        return pd.DataFrame(columns=EXPORT_LOG.names)
    t = con.table(EXPORT_LOG.name)
    return t.order_by(t.exported_at.desc()).to_pandas()
