"""A/B/n exports (``variants``): the split, one checked message and one file per arm, the one
campaign that records every arm, and the A/B readout reading it back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.abtest import assign_variants
from workbench.audience import Audience, AudienceDefinition, Group, export_audience
from workbench.audience.arms import arm_path, arm_shares, check_arms, coupon_codes, parse_arm_spec
from workbench.data import connect, write_store
from workbench.errors import ParameterError, UnsafeOutputError
from workbench.settings import Settings

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
SEND_AT = datetime(2026, 11, 16, 10)
OK_A = "(광고) 워크샵 겨울 세일 10% 무료거부 080-123-4567"
OK_B = "(광고) 워크샵 겨울 세일 무료배송 무료거부 080-123-4567"
BAD = "(광 고) 워크샵 겨울 세일 무료거부 080-123-4567"
IDS = [f"C{i:03d}" for i in range(1, 201)]


@pytest.fixture
def shop(tmp_path):
    """200 customers with SMS consent and phones (every one eligible for a day-time SMS ad)."""
    path = tmp_path / "shop.duckdb"
    customers = pd.DataFrame({
        "customer_id": IDS, "name": ["김철수"] * 200,
        "phone": [f"010{i:08d}" for i in range(1, 201)], "sms_opt_in": True,
        "consent_at": pd.Timestamp("2026-06-01 09:00", tz="Asia/Seoul")})
    with write_store(path, settings=SETTINGS, fresh=True) as w:
        w.write("customers", customers)
    return path


def _aud(path, channel="sms", is_ad=True, name="winter"):
    d = AudienceDefinition(name, rules=Group("and", ()), channel=channel, is_ad=is_ad,
                           purpose="winter sale")
    s = Settings(store=str(path))
    return Audience(d, connect(path, settings=s), as_of=AS_OF, settings=s)


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _tables(path, *names):
    con = connect(path, settings=SETTINGS)
    try:
        return [con.table(n).to_pandas() if n in con.list_tables() else None for n in names]
    finally:
        con.disconnect()


def test_arms_split_files_and_one_campaign(shop, tmp_path):
    aud = _aud(shop)
    out = tmp_path / "out.csv"
    r = export_audience(aud, out=out, send_at=SEND_AT, variants={"A": OK_A, "B": OK_B},
                        holdout=0.1, sender="워크샵", author="kim", now=NOW)
    aud.con.disconnect()
    expected = assign_variants(IDS, "winter", {"holdout": 0.1, "A": 0.45, "B": 0.45})
    sizes = expected.value_counts().to_dict()
    assert (r.members, r.holdout, r.rows) == (200, sizes["holdout"], 200 - sizes["holdout"])
    assert [(a.name, a.share, a.path.name, a.rows) for a in r.arms] == [
        ("A", 0.45, "out.A.csv", sizes["A"]), ("B", 0.45, "out.B.csv", sizes["B"])]
    assert all(a.message_check.ok for a in r.arms)
    assert not out.exists()  # the base name only names the arm files
    phone = {c: f"010{int(c[1:]):08d}" for c in IDS}
    for arm in ("A", "B"):
        rows = _rows(tmp_path / f"out.{arm}.csv")
        assert rows == [{"phone": phone[c]} for c in expected.index if expected[c] == arm]
    log, campaigns, assignments = _tables(shop, "audience_exports", "campaigns", "assignments")
    row = log.iloc[0]
    assert json.loads(row["variants"]) == {"holdout": 0.1, "A": 0.45, "B": 0.45}
    assert row["file_name"] == "out.A.csv,out.B.csv"
    assert row["sha256"] == r.sha256 == ",".join(a.sha256 for a in r.arms)
    assert (row["rows"], row["holdout"], row["holdout_share"]) == (r.rows, r.holdout, 0.1)
    assert campaigns["campaign_id"].tolist() == [r.export_id]
    assert campaigns.iloc[0]["holdout_share"] == 0.1
    mine = assignments.set_index("customer_id")["variant"]
    assert mine.sort_index().to_dict() == expected.sort_index().to_dict()  # every eligible one
    members, = _tables(shop, "export_members")  # what the cooldown and the cap read
    assert members.set_index("customer_id")["variant"].sort_index().to_dict() == (
        expected.sort_index().to_dict())
    frame = r.to_frame().set_index("step")["customers"]
    assert (frame["rows_A"], frame["rows_B"]) == (sizes["A"], sizes["B"])
    assert "out.A.csv, out.B.csv" in r.summary() and "Arm B (0.45)" in r.summary()


def test_holdout_is_the_same_customers_as_a_plain_export(shop, tmp_path):
    aud = _aud(shop)
    plain = export_audience(aud, out=tmp_path / "p.csv", send_at=SEND_AT, holdout=0.2, now=NOW)
    arms = export_audience(aud, out=tmp_path / "v.csv", send_at=SEND_AT, holdout=0.2, now=NOW,
                           variants={"A": OK_A, "B": OK_B, "C": OK_A}, sender="워크샵")
    aud.con.disconnect()
    assert plain.holdout == arms.holdout
    sent = {r["phone"] for r in _rows(tmp_path / "p.csv")}
    assert sent == {r["phone"] for arm in "ABC" for r in _rows(tmp_path / f"v.{arm}.csv")}
    assert [a.share for a in arms.arms] == [0.2667] * 3


def test_without_holdout_every_customer_gets_an_arm_and_the_campaign_is_recorded(shop, tmp_path):
    aud = _aud(shop)
    r = export_audience(aud, out=tmp_path / "o.csv", send_at=SEND_AT, now=NOW,
                        variants={"A": OK_A, "B": OK_B}, sender="워크샵")
    aud.con.disconnect()
    expected = assign_variants(IDS, "winter", {"A": 0.5, "B": 0.5})
    assert r.holdout == 0 and [a.rows for a in r.arms] == [
        int((expected == "A").sum()), int((expected == "B").sum())]
    log, campaigns, assignments = _tables(shop, "audience_exports", "campaigns", "assignments")
    assert json.loads(log.iloc[0]["variants"]) == {"A": 0.5, "B": 0.5}
    assert campaigns.iloc[0]["holdout_share"] == 0.0
    assert set(assignments["variant"]) == {"A", "B"} and len(assignments) == 200


def test_a_failing_arm_refuses_everything_and_writes_nothing(shop, tmp_path):
    aud = _aud(shop)
    with pytest.raises(ParameterError) as info:
        export_audience(aud, out=tmp_path / "o.csv", send_at=SEND_AT, sender="워크샵",
                        variants={"A": OK_A, "B": BAD, "C": "워크샵 세일 무료거부 080-123-4567"})
    aud.con.disconnect()
    text = str(info.value)
    assert text.startswith("Export refused: the message of arm(s) B, C breaks the advertising")
    assert "Arm B: " in text and "Arm C: " in text and "Arm A" not in text
    # no file and no temporary folder: only the store and its lock
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("shop.duckdb")] == []
    log, campaigns = _tables(shop, "audience_exports", "campaigns")
    assert (log is None or log.empty) and (campaigns is None or campaigns.empty)


@pytest.mark.parametrize(("variants", "match"), [
    ({"A": OK_A}, "needs 2 to 10 arms; got 1"),
    ({chr(65 + i): OK_A for i in range(11)}, "needs 2 to 10 arms; got 11"),
    ({"a": OK_A, "B": OK_B}, "arm name 'a' is not allowed"),
    ({"holdout": OK_A, "B": OK_B}, "arm name 'holdout' is not allowed"),
    ({"A" * 17: OK_A, "B": OK_B}, "at most 16 characters"),
    ({"A": OK_A, "B": " "}, "the message of arm 'B' must be a non-empty text"),
    (["A", "B"], "must map each arm to its message text"),
], ids=["one", "eleven", "lower", "reserved", "long", "blank", "list"])
def test_bad_arms_are_refused(variants, match):
    with pytest.raises(ParameterError, match=match):
        check_arms(variants)


def test_message_and_variants_together_are_refused(shop, tmp_path):
    aud = _aud(shop)
    with pytest.raises(ParameterError, match="either one 'message'"):
        export_audience(aud, out=tmp_path / "o.csv", send_at=SEND_AT, message=OK_A,
                        variants={"A": OK_A, "B": OK_B})
    aud.con.disconnect()


def test_an_existing_arm_file_is_refused_and_the_others_not_written(shop, tmp_path):
    (tmp_path / "o.B.csv").write_text("keep", encoding="utf-8")
    aud = _aud(shop)
    with pytest.raises(UnsafeOutputError):
        export_audience(aud, out=tmp_path / "o.csv", send_at=SEND_AT, sender="워크샵",
                        variants={"A": OK_A, "B": OK_B})
    aud.con.disconnect()
    assert not (tmp_path / "o.A.csv").exists()
    assert (tmp_path / "o.B.csv").read_text(encoding="utf-8") == "keep"


def test_helpers():
    assert arm_shares(["A", "B"], 0.1) == {"holdout": 0.1, "A": 0.45, "B": 0.45}
    assert arm_path(__import__("pathlib").Path("x/o.csv"), "B").name == "o.B.csv"
    assert parse_arm_spec("A=a.txt,B=b.txt") == {"A": "a.txt", "B": "b.txt"}
    with pytest.raises(ParameterError, match="'A' is given twice"):
        parse_arm_spec("A=a.txt,A=b.txt")
    with pytest.raises(ParameterError, match="expected 'A=msg_a.txt,B=msg_b.txt'"):
        parse_arm_spec("a.txt,b.txt")
    assert coupon_codes({"B": "W2", "A": "W1"}, ["A", "B"]) == {"A": "W1", "B": "W2"}
    with pytest.raises(ParameterError, match="exactly the arms \\['A', 'B'\\]"):
        coupon_codes({"A": "W1"}, ["A", "B"])
    with pytest.raises(ParameterError, match="is not a coupon code"):
        coupon_codes("+cmd|' /C calc'!A0", ["A"])
    with pytest.raises(ParameterError, match="--coupon-code: expected 'A=WIN10,B=WIN20'"):
        coupon_codes("A=", ["A"])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 10), holdout=st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5]))
def test_shares_sum_to_one_holdout_first_and_equal_arms(n, holdout):
    arms = [chr(65 + i) for i in range(n)]
    shares = arm_shares(arms, holdout)
    assert list(shares)[: 1 if holdout else 0] == (["holdout"] if holdout else [])
    assert abs(sum(shares.values()) - 1) < 1e-3 and len({shares[a] for a in arms}) == 1


def test_cli_variants_and_the_ab_readout(shop, tmp_path, capsys):
    from workbench.abtest import AbTestParams, list_campaigns, run_abtest
    from workbench.audience import save_definition
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    save_definition(AudienceDefinition("winter", rules=Group("and", ()), purpose="sale"),
                    folder)
    (tmp_path / "a.txt").write_text(OK_A + "\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(BAD, encoding="utf-8")
    base = ["--store", str(shop), "--dir", str(folder), "--as-of", "2026-11-16", "--send-at",
            "2026-11-16 10:00", "--sender", "워크샵"]
    spec = f"A={tmp_path / 'a.txt'},B={tmp_path / 'b.txt'}"
    assert main(["export", "winter", "--out", str(tmp_path / "o.csv"), "--variants", spec,
                 *base]) == 2
    assert "Arm B: " in capsys.readouterr().err
    (tmp_path / "b.txt").write_text(OK_B, encoding="utf-8")
    assert main(["export", "winter", "--out", str(tmp_path / "o.csv"), "--variants", spec,
                 "--holdout", "0.1", *base]) == 0, capsys.readouterr().err
    assert "Arm A (0.45)" in capsys.readouterr().out
    # a message file is an input: an arm file never replaces it, even with --force
    (tmp_path / "m.A.csv").write_text(OK_A, encoding="utf-8")
    assert main(["export", "winter", "--out", str(tmp_path / "m.csv"), "--variants",
                 f"A={tmp_path / 'm.A.csv'},B={tmp_path / 'b.txt'}", "--force", *base]) == 2
    assert "input" in capsys.readouterr().err
    assert (tmp_path / "m.A.csv").read_text(encoding="utf-8") == OK_A
    expected = assign_variants(IDS, "winter", {"holdout": 0.1, "A": 0.45, "B": 0.45})
    con = connect(shop, settings=SETTINGS)
    try:
        campaign = list_campaigns(con).iloc[0]
        result = run_abtest(con, AbTestParams(campaign_id=campaign["campaign_id"]),
                            settings=SETTINGS)
    finally:
        con.disconnect()
    assert campaign["customers"] == 200 and campaign["channel"] == "sms"
    assert result.variants == ("holdout", "A", "B") and result.baseline == "holdout"
    arms = result.arms.set_index("variant")["n"].to_dict()
    assert arms == expected.value_counts().to_dict()
    assert not result.srm.mismatch  # the readout plans with the same equal split
