"""Export an audience for a campaign: legal checks, a deterministic holdout, a logged CSV file.

:func:`export_audience`

1. checks the message text when one is given (:func:`~workbench.audience.check_message`) and
   refuses to export an ad whose text breaks the rules;
2. applies the consent, opt-out, night-time and contact rules
   (:func:`~workbench.audience.eligibility`) and counts the customers each rule excluded;
3. splits the eligible customers into ``holdout`` and ``control`` with
   :func:`workbench.abtest.assign_variants` (deterministic in ``(salt, customer_id)``); the
   holdout is kept out of the file;
4. writes a CSV in UTF-8 with a BOM (Korean Excel opens it without mojibake) holding only the
   column the channel needs: ``phone`` (SMS, LMS, KakaoTalk), ``email`` or ``customer_id``
   (push: the app maps ids to device tokens);
5. records, in one all-or-nothing store write: a row in ``audience_exports`` (who, when, which
   audience version, purpose, channel, rows, the file's SHA-256), and when there is a holdout
   the campaign (``campaigns``) and every eligible customer's variant (``assignments``), so the
   A/B analysis can measure the send later.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import __version__
from workbench.audience.compliance import (
    CONTACT_COLUMNS,
    EXCLUSION_RULES,
    MessageCheck,
    check_message,
    eligibility,
    send_instant,
)
from workbench.data.schema import CAMPAIGN_CHANNELS, TABLES
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.audience.audience import Audience

__all__ = ["EXPORT_LOG", "ExportResult", "export_audience", "read_export_log"]

#: The export log: one row per export (PIPA: downloads of personal data are recorded).
EXPORT_LOG = TABLES["audience_exports"]
SEND_VARIANT = "control"


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
) -> ExportResult:
    """Export an audience's eligible members for one channel and log the export.

    Parameters
    ----------
    audience
        The audience (its definition says whether the message is an ad).
    out
        The CSV file to write (replaced atomically).
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

    Returns
    -------
    ExportResult

    Raises
    ------
    ParameterError
        A bad parameter, a missing purpose or send time, or a message that breaks the rules.
    """
    d = audience.definition
    channel = channel or d.channel
    if channel not in CAMPAIGN_CHANNELS:
        raise ParameterError(f"export_audience: 'channel' must be one of "
                             f"{list(CAMPAIGN_CHANNELS)}; got {channel!r}.")
    holdout = _check_holdout(holdout)
    purpose = (purpose if purpose is not None else d.purpose).strip()
    if not purpose:
        raise ParameterError("export_audience: give a 'purpose' (why these customers' data is "
                             "exported); it is recorded with the export (PIPA download record).")
    if d.is_ad and send_at is None:
        raise ParameterError("export_audience: an ad needs 'send_at' (when it will be sent), "
                             "e.g. 2026-11-16 10:00, to apply the consent-age and 21:00-08:00 "
                             "rules.")
    check = None
    if message is not None:
        check = check_message(message, channel=channel, is_ad=d.is_ad, sender=sender,
                              subject=subject)
        if not check.ok:
            raise ParameterError(tr("audience.export.message_refused", problems=check.summary()))
    settings = audience.settings
    elig = eligibility(audience.con, audience.ids(), channel=channel, is_ad=d.is_ad,
                       send_at=send_at, settings=settings,
                       transaction_exemption=transaction_exemption).to_pandas()
    elig = elig.sort_values("customer_id", kind="stable").reset_index(drop=True)
    if settings.global_holdout > 0:  # the persistent global holdout never gets a send
        from workbench.abtest import in_global_holdout

        held = in_global_holdout(elig["customer_id"].tolist(), settings.global_holdout)
        elig.loc[elig["reason"].isna() & held.to_numpy(), "reason"] = "global_holdout"
    counts = elig["reason"].value_counts()
    excluded = {rule: int(counts.get(rule, 0)) for rule in EXCLUSION_RULES}
    ok = elig[elig["reason"].isna()]
    now = now or datetime.now(UTC)
    tag = hashlib.sha256(f"{now.isoformat()}|{Path(out).resolve()}".encode()).hexdigest()[:6]
    export_id = f"{d.name}-{now.astimezone(UTC):%Y%m%dT%H%M%S}-{tag}"
    salt = salt or d.name
    variants = _variants(ok["customer_id"], salt, holdout)
    send = ok[(variants != "holdout").to_numpy()]
    column = CONTACT_COLUMNS[channel]
    path = _write_csv(send["contact"].rename(column).to_frame(), Path(out))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = ExportResult(export_id, path, d.name, d.version, channel, len(elig), excluded,
                          int((variants == "holdout").sum()), len(send), digest, check,
                          tuple(audience.notes))
    _log(result, d, audience, variants, now=now, send_at=send_at, salt=salt,
         holdout_share=holdout, purpose=purpose, author=author or _user(),
         store=store or settings.store)
    return result


def _check_holdout(holdout: Any) -> float:
    try:
        value = float(holdout)
    except (TypeError, ValueError):
        value = -1.0
    if not 0.0 <= value <= 0.5:
        raise ParameterError(f"export_audience: 'holdout' must be a share between 0 and 0.5, "
                             f"e.g. 0.1; got {holdout!r}.")
    return value


def _variants(ids: pd.Series, salt: str, holdout: float) -> pd.Series:
    if holdout <= 0 or ids.empty:
        return pd.Series(SEND_VARIANT, index=pd.Index(ids, name="customer_id"), name="variant")
    from workbench.abtest import assign_variants

    return assign_variants(ids.tolist(), salt, {"holdout": holdout, SEND_VARIANT: 1 - holdout})


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # utf-8-sig writes the BOM (EF BB BF) Korean Excel needs to read UTF-8.
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers; the log still needs a value
        return "unknown"


def _log(result: ExportResult, d: Any, audience: Audience, variants: pd.Series, *,
         now: datetime, send_at: datetime | None, salt: str, holdout_share: float,
         purpose: str, author: str, store: Any) -> None:
    from workbench.audience.compile import cutoff_of
    from workbench.data.store import write_store

    tz = audience.settings.timezone
    send = send_instant(send_at, tz) if send_at is not None else None
    row = pd.DataFrame({
        "export_id": [result.export_id], "exported_at": [pd.Timestamp(now)],
        "author": [author], "audience": [d.name], "audience_version": [d.version],
        "purpose": [purpose], "channel": [result.channel], "is_ad": [d.is_ad],
        "as_of": [cutoff_of(audience.as_of, tz)], "send_at": [send],
        "members": [result.members], "excluded": [sum(result.excluded.values())],
        "exclusions": [json.dumps(result.excluded)], "holdout": [result.holdout],
        "rows": [result.rows], "holdout_share": [holdout_share], "salt": [salt],
        "file_name": [result.path.name], "sha256": [result.sha256],
        "package_version": [__version__]})
    with write_store(store, settings=audience.settings) as w:
        w.write(EXPORT_LOG.name, row)
        if holdout_share > 0 and len(variants):
            started = send if send is not None else cutoff_of(audience.as_of, tz)
            w.write("campaigns", pd.DataFrame({
                "campaign_id": [result.export_id], "name": [f"{d.name} v{d.version}"],
                "channel": [result.channel], "is_ad": [d.is_ad], "started_at": [started],
                "holdout_share": [holdout_share]}))
            w.write("assignments", pd.DataFrame({
                "campaign_id": result.export_id, "customer_id": variants.index.astype(str),
                "variant": variants.to_numpy(), "assigned_at": pd.Timestamp(now)}))


def read_export_log(con: BaseBackend) -> pd.DataFrame:
    """Return the export log, newest first (empty when nothing was exported yet)."""
    if EXPORT_LOG.name not in con.list_tables():
        return pd.DataFrame(columns=EXPORT_LOG.names)
    t = con.table(EXPORT_LOG.name)
    return t.order_by(t.exported_at.desc()).to_pandas()
