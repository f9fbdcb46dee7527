"""Exports: the file (encoding, BOM, columns), the holdout kept out and recorded, the log row,
the refused message, and the command line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.audience import (
    Audience,
    AudienceDefinition,
    Condition,
    Group,
    export_audience,
    read_export_log,
)
from workbench.audience.compliance import EXCLUSION_RULES
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.settings import Settings

MESSAGE = "(광고) 워크샵 겨울 세일 무료거부 080-123-4567"
NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _aud(path, *conditions, channel="sms", is_ad=True):
    d = AudienceDefinition("everyone", rules=Group("and", tuple(conditions)), channel=channel,
                           is_ad=is_ad, purpose="winter sale")
    settings = Settings(store=str(path))
    return Audience(d, connect(path, settings=settings), as_of=AS_OF, settings=settings)


def _read(path) -> tuple[bytes, list[dict]]:
    raw = path.read_bytes()
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _log(path):
    con = connect(path, settings=SETTINGS)
    try:
        return read_export_log(con), con.table("assignments").to_pandas()
    finally:
        con.disconnect()


def test_sms_export_file_and_log(tiny_copy, tmp_path):
    aud = _aud(tiny_copy)
    out = tmp_path / "sms.csv"
    r = export_audience(aud, out=out, send_at=datetime(2026, 11, 16, 10), message=MESSAGE,
                        sender="워크샵", author="kim", now=NOW)
    aud.con.disconnect()
    raw, rows = _read(out)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Korean Excel
    assert list(rows[0]) == ["phone"]  # only the column the channel needs
    assert [row["phone"] for row in rows] == ["01011112222"]  # A only (see test_compliance)
    assert r.excluded == dict.fromkeys(EXCLUSION_RULES, 0) | {
        "opted_out": 1, "no_consent": 2, "consent_expired": 1}
    assert (r.members, r.rows, r.holdout) == (5, 1, 0)
    assert r.sha256 == hashlib.sha256(raw).hexdigest()
    log, _ = _log(tiny_copy)
    row = log.iloc[0]
    assert (row.author, row.audience, row.audience_version, row.purpose, row.channel,
            row["rows"], row.sha256, row.file_name) == ("kim", "everyone", 1, "winter sale",
                                                         "sms", 1, r.sha256, "sms.csv")
    assert json.loads(row.exclusions) == r.excluded
    assert row.exported_at == NOW and row.export_id == r.export_id


def test_holdout_is_deterministic_kept_out_and_recorded(tiny_copy, tmp_path):
    aud = _aud(tiny_copy, channel="push", is_ad=False)
    r = export_audience(aud, out=tmp_path / "push.csv", holdout=0.5, salt="s1", now=NOW)
    again = export_audience(aud, out=tmp_path / "push2.csv", holdout=0.5, salt="s1", now=NOW)
    aud.con.disconnect()
    from workbench.abtest import assign_variants

    variants = assign_variants(list("ABCDE"), "s1", {"holdout": 0.5, "send": 0.5})
    held = sorted(variants[variants == "holdout"].index)
    _, rows = _read(tmp_path / "push.csv")
    assert list(rows[0]) == ["customer_id"]
    assert sorted(row["customer_id"] for row in rows) == sorted(set("ABCDE") - set(held))
    assert r.holdout == len(held) and r.rows == 5 - len(held)
    assert (tmp_path / "push.csv").read_bytes() == (tmp_path / "push2.csv").read_bytes()
    assert again.sha256 == r.sha256
    log, assignments = _log(tiny_copy)
    mine = assignments[assignments["campaign_id"] == r.export_id].set_index("customer_id")
    assert mine["variant"].to_dict() == variants.to_dict()


def test_email_export_has_only_email(tiny_copy, tmp_path):
    aud = _aud(tiny_copy, channel="email")
    export_audience(aud, out=tmp_path / "e.csv", send_at=datetime(2026, 11, 16, 23), now=NOW)
    _, rows = _read(tmp_path / "e.csv")
    assert rows == [{"email": "c@y.com"}]  # C: email consent; night does not matter for email


def test_refusals(tiny_copy, tmp_path):
    aud = _aud(tiny_copy)
    with pytest.raises(ParameterError, match="Export refused.*\\(광고\\)"):
        export_audience(aud, out=tmp_path / "x.csv", send_at=datetime(2026, 11, 16, 10),
                        message="(광 고) 워크샵 무료거부 080-123-4567", sender="워크샵")
    with pytest.raises(ParameterError, match="needs 'send_at'"):
        export_audience(aud, out=tmp_path / "x.csv")
    with pytest.raises(ParameterError, match="'holdout' must be a share between 0 and 0.5"):
        export_audience(aud, out=tmp_path / "x.csv", holdout=0.9,
                        send_at=datetime(2026, 11, 16, 10))
    with pytest.raises(ParameterError, match="give a 'purpose'"):
        export_audience(aud, out=tmp_path / "x.csv", purpose=" ",
                        send_at=datetime(2026, 11, 16, 10))
    assert not (tmp_path / "x.csv").exists()


def test_cli(tiny_copy, tmp_path, capsys):
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    from workbench.audience import save_definition

    save_definition(AudienceDefinition("cart_sms", rules=Group("and", (
        Condition.make("cart"), Condition.make("consent", channel="sms"))), purpose="cart"),
        folder)
    msg = tmp_path / "msg.txt"
    msg.write_text(MESSAGE + "\n", encoding="utf-8")
    base = ["--store", str(tiny_copy), "--dir", str(folder)]
    assert main(["list", *base]) == 0
    assert "cart_sms" in capsys.readouterr().out
    assert main(["count", "cart_sms", "--as-of", "2026-11-16", *base]) == 0
    assert "cart_sms as of 2026-11-16: 2 customers" in capsys.readouterr().out  # A and B
    out = tmp_path / "cart.csv"
    code = main(["export", "cart_sms", "--as-of", "2026-11-16", "--channel", "sms", "--out",
                 str(out), "--message", str(msg), "--sender", "워크샵", "--send-at",
                 "2026-11-16 10:00", "--author", "lee", *base])
    assert code == 0, capsys.readouterr().err
    assert _read(out)[1] == [{"phone": "01011112222"}]  # B's consent expired
    assert main(["export", "nope", *base]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["export", "cart_sms", "--as-of", "2026-11-16", *base]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["show", "vip", *base]) == 0
    assert "min_count: 3" in capsys.readouterr().out
    log, _ = _log(tiny_copy)
    assert list(log["author"]) == ["lee"]


def test_the_global_holdout_never_gets_a_send(tiny_copy, tmp_path):
    from workbench.abtest import in_global_holdout

    share = 0.45  # large, so that some of the five customers are in it
    held = in_global_holdout(list("ABCDE"), share)
    assert 0 < held.sum() < 5  # the hash splits this tiny shop (fixed by the id and salt)
    d = AudienceDefinition("everyone", rules=Group("and", ()), channel="push", is_ad=False,
                           purpose="app update")
    settings = Settings(store=str(tiny_copy), global_holdout=share)
    aud = Audience(d, connect(tiny_copy, settings=settings), as_of=AS_OF, settings=settings)
    r = export_audience(aud, out=tmp_path / "push.csv", now=NOW)
    aud.con.disconnect()
    _, rows = _read(tmp_path / "push.csv")
    assert sorted(row["customer_id"] for row in rows) == sorted(held[~held].index)
    assert r.excluded["global_holdout"] == int(held.sum())


def test_global_holdout_setting_is_checked():
    with pytest.raises(ParameterError, match="global_holdout"):
        Settings(global_holdout=0.7)


@pytest.mark.parametrize(("rows", "arm_rows", "en", "ko"), [
    (1, (1, 0), ["Wrote 1 row to", "Arm A (0.5): 1 row to", "Arm B (0.5): 0 rows to"],
     ["1행을 썼습니다", "그룹 A(0.5): a.A.csv에 1행", "그룹 B(0.5): a.B.csv에 0행"]),
    (2, (1, 1), ["Wrote 2 rows to", "Arm A (0.5): 1 row to", "Arm B (0.5): 1 row to"],
     ["2행을 썼습니다", "a.A.csv에 1행", "a.B.csv에 1행"]),
    (0, (0, 0), ["Wrote 0 rows to", "Arm A (0.5): 0 rows to"], ["0행을 썼습니다"]),
], ids=["one", "two", "none"])
def test_summary_says_row_for_one(rows, arm_rows, en, ko):
    from pathlib import Path

    from workbench.audience.arms import ArmExport
    from workbench.audience.export import ExportResult
    from workbench.i18n import using_language

    arms = tuple(ArmExport(name, 0.5, Path(f"a.{name}.csv"), n, "0" * 64)
                 for name, n in zip("AB", arm_rows, strict=True))
    result = ExportResult("x-1", Path("a.csv"), "x", 1, "sms", rows, dict.fromkeys(
        EXCLUSION_RULES, 0), 0, rows, "0" * 64, arms=arms)
    with using_language("en"):
        text = result.summary()
    assert all(part in text for part in en), text
    assert " 1 rows" not in text
    with using_language("ko"):
        text = result.summary()
    assert all(part in text for part in ko), text
