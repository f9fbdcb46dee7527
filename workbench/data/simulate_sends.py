"""A synthetic result report for an export, as a Korean sending service would give it back.

``workbench sample --send-report OUT`` writes one for the latest export (``--export ID`` for
another), so the campaign loop can be walked end to end without a sending service (README,
"The campaign loop"). Load it with ``workbench load messages OUT --mapping send_report``.

The report has one row per customer in the export's files (the holdout got nothing):

- ``캠페인ID``: the export id (services let a send carry a custom value; the shipped mapping
  reads it, so no ``--campaign`` is needed);
- ``수신번호``: the phone as the file held it, for SMS, LMS and KakaoTalk; email and push
  exports give the customer key under ``고객ID`` instead;
- ``발송유형``: SMS, LMS, 알림톡, 친구톡, 이메일, 푸시 (an AlimTalk export's fallback rows say SMS
  or LMS);
- ``발송결과``: 성공 (about 96 %), 실패 (3 %, with ``실패사유`` 결번 or 번호오류) or 수신거부
  (1 %, the number is on the shop's refusal list);
- ``발송일시``: a few seconds after the export's send time, in the shop's zone;
- ``클릭일시``: for about 8 % of the delivered messages, within two days of the send.

The numbers are fixed by the export id, so the same export always gives the same report. They
are not the campaign's effect: the A/B readout measures that from orders.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.outputs import check_output_file, private_temp_file, publish
from workbench.data.store import connect
from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

__all__ = ["write_send_report"]

#: Channel -> the word services use in their 발송유형 column.
KIND = {"sms": "SMS", "lms": "LMS", "alimtalk": "알림톡", "friendtalk": "친구톡", "kakao": "알림톡",
        "email": "이메일", "push": "푸시"}
FAILED, REFUSED, CLICKED = 0.03, 0.01, 0.08


def write_send_report(out: str | os.PathLike[str], *, export_id: str | None = None,
                      store: str | os.PathLike[str] | None = None,
                      settings: Settings | None = None, force: bool = False
                      ) -> tuple[Path, str, int]:
    """Write a synthetic send report for an export; return the file, the export id and rows.

    Raises
    ------
    ParameterError
        No export in the store, an unknown ``export_id``, or an export logged before the store
        kept its members.
    UnsafeOutputError
        ``out`` is protected or exists without ``force``.
    """
    settings = settings or load_settings()
    store = store or settings.store
    target = check_output_file(out, settings=settings.replace(store=str(store)), force=force)
    con = connect(store, settings=settings)
    try:
        tables = con.list_tables()
        if ("audience_exports" not in tables
                or con.table("audience_exports").count().execute() == 0):
            raise ParameterError(tr("sends.sim_no_export", store=str(store)))
        log = con.table("audience_exports")
        if export_id is None:
            export_id = log.order_by(log.exported_at.desc()).limit(1).export_id.execute().iloc[0]
        row = log.filter(log.export_id == export_id).to_pandas()
        if row.empty:
            known = log.order_by(log.exported_at.desc()).limit(5).export_id.execute().tolist()
            raise ParameterError(tr("sends.sim_unknown_export", export=export_id,
                                    known=", ".join(known)))
        m = con.table("export_members") if "export_members" in tables else None
        if m is None:
            raise ParameterError(tr("sends.sim_no_members", export=export_id))
        members = m.filter((m.export_id == export_id) & (m.variant != "holdout"))
        c = con.table("customers").select("customer_id", "phone")
        frame = members.left_join(c, "customer_id").select(
            "customer_id", "channel", "send_at", "phone").to_pandas()
    finally:
        con.disconnect()
    if frame.empty:
        raise ParameterError(tr("sends.sim_no_members", export=export_id))
    report = _report(frame.sort_values("customer_id", kind="stable").reset_index(drop=True),
                     export_id, row["send_at"].iloc[0], settings.timezone)
    with private_temp_file(target) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds phones
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            report.to_csv(fh, index=False)
        publish(tmp, target, force=force)
    return target, export_id, len(report)


def _report(frame: pd.DataFrame, export_id: str, send_at: pd.Timestamp,
            timezone: str) -> pd.DataFrame:
    seed = int.from_bytes(hashlib.sha256(export_id.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    n = len(frame)
    start = pd.Timestamp(send_at) if pd.notna(send_at) else pd.Timestamp.now(tz="UTC")
    start = start.tz_convert(timezone).tz_localize(None)
    u = rng.random(n)
    result = np.where(u < FAILED, "실패", np.where(u < FAILED + REFUSED, "수신거부", "성공"))
    reason = np.where(result == "실패", rng.choice(["결번", "번호오류"], size=n), "")
    sent = start + pd.to_timedelta(rng.integers(1, 120, size=n), unit="s")
    clicked = sent + pd.to_timedelta(rng.exponential(6 * 3600, size=n).clip(60, 48 * 3600),
                                     unit="s")
    # Clicks that would come after now have not happened yet.
    now = pd.Timestamp.now(tz=timezone).tz_localize(None)
    clicks = (result == "성공") & (rng.random(n) < CLICKED) & (clicked <= now)
    by_phone = frame["channel"].isin(["sms", "lms", "alimtalk", "friendtalk", "kakao"])
    fmt = "%Y-%m-%d %H:%M:%S"
    return pd.DataFrame({
        "캠페인ID": export_id,
        "수신번호": frame["phone"].where(by_phone, ""),
        "고객ID": frame["customer_id"].where(~by_phone, ""),
        "발송유형": frame["channel"].map(KIND).fillna("SMS"),
        "발송결과": result,
        "실패사유": reason,
        "발송일시": pd.Series(sent).dt.strftime(fmt),
        "클릭일시": pd.Series(clicked).dt.strftime(fmt).where(clicks, ""),
    })
