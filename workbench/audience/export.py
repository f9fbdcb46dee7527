"""Export an audience for a campaign: legal checks, a deterministic holdout, a logged CSV file.

:func:`export_audience`

1. checks the message text when one is given (:func:`~workbench.audience.check_message`) and
   refuses to export an ad whose text breaks the rules;
2. applies the consent, opt-out, night-time and contact rules
   (:func:`~workbench.audience.eligibility`) and counts the customers each rule excluded;
3. splits the eligible customers into ``holdout`` and ``send`` (the arm that gets the message;
   exports before 2026-12 wrote ``control``, which the A/B readout still reads as ``send``) with
   :func:`workbench.abtest.assign_variants` (deterministic in ``(salt, customer_id)``); the
   holdout is kept out of the file;
4. writes a CSV in UTF-8 with a BOM (Korean Excel opens it without mojibake) holding only the
   column the channel needs: ``phone`` (SMS, LMS, KakaoTalk), ``email`` or ``customer_id``
   (push: the app maps ids to device tokens); cells that Excel would run as a formula are
   neutralised (:func:`excel_safe`);
5. records, in one all-or-nothing store write: a row in ``audience_exports`` (who, when, which
   audience version, purpose, channel, rows, the file's SHA-256), and when there is a holdout
   the campaign (``campaigns``) and every eligible customer's variant (``assignments``), so the
   A/B analysis can measure the send later.

The output path is checked first (:mod:`workbench.data.outputs`: never the store, a model, the
salt, the settings, the message file or, without ``force``, any existing file). The file is
written privately (mode 0600: it holds contacts) and moved to its name only inside the store
write, after its log row; if that write fails, the file is removed again, so a file of
customers' contacts exists exactly when its ``audience_exports`` row does.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import __version__
from workbench.abtest import assign_variants, in_global_holdout
from workbench.audience.audience import Audience
from workbench.audience.compliance import (
    CONTACT_COLUMNS,
    EXCLUSION_RULES,
    MessageCheck,
    check_channel,
    check_message,
    eligibility,
    require_send_at,
    send_instant,
)
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

    def to_frame(self) -> pd.DataFrame:
        """Return one row per step: members, each exclusion rule, holdout, rows in the file."""
        steps = [("members", self.members), *self.excluded.items(),
                 ("holdout", self.holdout), ("rows", self.rows)]
        return pd.DataFrame(steps, columns=["step", "customers"])

    def summary(self) -> str:
        """One paragraph for people, in the active language."""
        parts = [tr(f"audience.rule.{k}") + f" {format_number(v)}"
                 for k, v in self.excluded.items() if v]
        return tr("audience.export.summary", rows=format_number(self.rows),
                  path=str(self.path), members=format_number(self.members),
                  excluded=", ".join(parts) or "0", holdout=format_number(self.holdout),
                  sha=self.sha256[:12])


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
        ``sms``, ``lms``, ``email``, ``push`` or ``kakao`` (default: the definition's).
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
    target = check_output_file(out, settings=settings.replace(store=str(log_store)),
                               inputs=inputs, force=force)
    channel = channel or d.channel
    check_channel(channel, "export_audience")
    holdout = _check_holdout(holdout)
    purpose = (purpose if purpose is not None else d.purpose).strip()
    if not purpose:
        raise ParameterError(tr("audience.error.purpose"))
    require_send_at(send_at, d.is_ad, "export_audience")
    check = None
    if message is not None:
        check = check_message(message, channel=channel, is_ad=d.is_ad, sender=sender,
                              subject=subject)
        if not check.ok:
            raise ParameterError(tr("audience.export.message_refused", problems=check.summary()))
    elig = eligibility(audience.con, audience.ids(), channel=channel, is_ad=d.is_ad,
                       send_at=send_at, settings=settings,
                       transaction_exemption=transaction_exemption).to_pandas()
    elig = elig.sort_values("customer_id", kind="stable").reset_index(drop=True)
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
    variants = _variants(ok["customer_id"], salt, holdout)
    send = ok[(variants != "holdout").to_numpy()]
    column = CONTACT_COLUMNS[channel]
    with private_temp_file(target) as tmp:
        _write_csv(excel_safe(send["contact"].rename(column).to_frame()), tmp)
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        result = ExportResult(export_id, target, d.name, d.version, channel, len(elig), excluded,
                              int((variants == "holdout").sum()), len(send), digest, check,
                              tuple(audience.notes))
        _log(result, d, audience, variants, now=now, send_at=send_at, salt=salt,
             holdout_share=holdout, purpose=purpose, author=author or _user(),
             store=log_store, file=(tmp, force))
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


def _variants(ids: pd.Series, salt: str, holdout: float) -> pd.Series:
    if holdout <= 0 or ids.empty:
        return pd.Series(SEND_VARIANT, index=pd.Index(ids, name="customer_id"), name="variant")
    return assign_variants(ids.tolist(), salt, {"holdout": holdout, SEND_VARIANT: 1 - holdout})


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
         purpose: str, author: str, store: Any, file: tuple[Path, bool]) -> None:
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
        "file_name": [result.path.name], "sha256": [result.sha256],
        "package_version": [__version__]})
    with write_store(store, settings=audience.settings) as w:
        w.write(EXPORT_LOG.name, row)
        if holdout_share > 0 and len(variants):
            started = send if send is not None else cutoff(audience.as_of, tz)
            w.write("campaigns", pd.DataFrame({
                "campaign_id": [result.export_id], "name": [f"{d.name} v{d.version}"],
                "channel": [result.channel], "is_ad": [d.is_ad], "started_at": [started],
                "holdout_share": [holdout_share]}))
            w.write("assignments", pd.DataFrame({
                "campaign_id": result.export_id, "customer_id": variants.index.astype(str),
                "variant": variants.to_numpy(), "assigned_at": pd.Timestamp(now)}))
        _publish_in(w, file, result.path)


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
