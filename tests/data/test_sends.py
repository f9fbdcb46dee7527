"""Send reports (`--mapping send_report`): matching to the export, statuses, unmatched rows,
opt-outs the consent rules see, reloads, and the command line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.data import connect, write_store
from workbench.data.load import load_file
from workbench.errors import ParameterError, SchemaError
from workbench.i18n import using_language
from workbench.settings import Settings

SETTINGS = Settings()
SEND_AT = "2026-11-16 10:00"


def kst(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text).tz_localize("Asia/Seoul")


def utc(text: str) -> datetime:
    return kst(text).tz_convert("UTC").to_pydatetime()


# A and D share a phone, but only A was exported; F and G, both exported, share one phone;
# C is in the holdout (got nothing).
CUSTOMERS = pd.DataFrame({
    "customer_id": ["A", "B", "C", "D", "E", "F", "G"],
    "phone": ["01011112222", "01033334444", "01055556666", "01011112222", "01077778888",
              "01012345678", "01012345678"],
    "sms_opt_in": [True] * 7,
    "consent_at": [kst("2026-01-01 09:00")] * 7,
})
MEMBERS = pd.DataFrame({
    "export_id": "E1", "customer_id": ["A", "B", "C", "E", "F", "G"], "audience": "cart",
    "channel": "sms", "is_ad": True, "variant": ["A", "B", "holdout", "A", "B", "A"],
    "send_at": kst(SEND_AT)})
EXPORTS = pd.DataFrame({
    "export_id": ["E1", "E0"], "exported_at": [kst("2026-11-16 09:00"), kst("2026-11-01 09:00")],
    "audience": ["cart", "old"], "channel": ["sms", "sms"], "is_ad": [True, True],
    "send_at": [kst(SEND_AT), kst("2026-11-01 10:00")]})

REPORT = (
    "수신번호,발송결과,발송일시,실패사유,클릭일시\n"
    "1011112222,성공,2026-11-16 10:01,,2026-11-16 12:00\n"    # 2: A (Excel dropped the 0)
    "010-3333-4444,수신거부,,,\n"                              # 3: B opted out, no time
    "01055556666,성공,2026-11-16 10:01,,\n"                    # 4: C, holdout: not loaded
    "01099999999,실패,2026-11-16 10:01,결번,\n"                # 5: nobody exported
    "+82 10-7777-8888,전송실패,2026-11-16 10:02,번호오류,\n"   # 6: E
    "01012345678,성공,2026-11-16 10:02,,\n"                    # 7: F or G: ambiguous
)


def build_store(path: Path, *, members: bool = True) -> Path:
    with write_store(path, settings=SETTINGS, fresh=True) as w:
        w.write("customers", CUSTOMERS)
        w.write("audience_exports", EXPORTS)
        if members:
            w.write("export_members", MEMBERS)
    return path


@pytest.fixture
def store(tmp_path):
    return build_store(tmp_path / "shop.duckdb")


def report(folder: Path, text: str = REPORT, name: str = "발송결과.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8-sig")
    return path


def messages(store: Path) -> list[dict]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT * FROM messages ORDER BY customer_id").to_arrow_table() \
            .to_pylist()
    finally:
        con.close()


def row(customer, variant, sent, status, *, clicked=None, unsub=None, reason=None):
    return {"campaign_id": "E1", "customer_id": customer, "variant": variant,
            "sent_at": utc(sent), "opened_at": None,
            "clicked_at": None if clicked is None else utc(clicked),
            "unsubscribed_at": None if unsub is None else utc(unsub), "channel": "sms",
            "status": status, "failure_reason": reason}


EXPECTED = [
    row("A", "A", "2026-11-16 10:01", "sent", clicked="2026-11-16 12:00"),
    row("B", "B", SEND_AT, "failed", unsub=SEND_AT),
    row("E", "A", "2026-11-16 10:02", "failed", reason="번호오류"),
]
UNMATCHED = ("3 of 6 row(s) of 발송결과.csv match no customer that export 'E1' sent to and were "
             "not loaded: rows 4, 5, 7. They may be numbers added by hand in the sending "
             "service, numbers two exported customers share, or holdout customers; check them "
             "there.")


def test_report_matches_exported_customers_by_phone(store, tmp_path):
    result = load_file("messages", report(tmp_path), mapping="send_report", campaign="E1",
                       store=store, settings=SETTINGS)
    assert (result.rows_read, result.rows_written) == (6, {"messages": 3})
    assert result.warnings == (UNMATCHED,)
    assert messages(store) == EXPECTED


def test_unmatched_rows_never_show_phones(store, tmp_path):
    with using_language("ko"):
        result = load_file("messages", report(tmp_path), mapping="send_report", campaign="E1",
                           store=store, settings=SETTINGS)
    text = result.summary()
    assert "6개 행 중 3개 행" in text and "행: 4, 5, 7" in text
    for digits in ("5555", "9999", "5678", "1055556666"):
        assert digits not in text


def test_reload_with_upsert_is_idempotent_and_append_refuses(store, tmp_path):
    path = report(tmp_path)
    load_file("messages", path, mapping="send_report", campaign="E1", store=store,
              settings=SETTINGS)
    again = load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                      settings=SETTINGS, mode="upsert")
    assert again.rows_written == {"messages": 3}
    assert messages(store) == EXPECTED
    with pytest.raises(SchemaError, match="already"):
        load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                  settings=SETTINGS)
    assert messages(store) == EXPECTED


def test_a_later_report_updates_the_rows(store, tmp_path):
    load_file("messages", report(tmp_path), mapping="send_report", campaign="E1", store=store,
              settings=SETTINGS)
    later = report(tmp_path, "수신번호,발송결과,발송일시,열람일시\n"
                             "01011112222,성공,2026-11-16 10:01,2026-11-16 11:00\n", "later.csv")
    load_file("messages", later, mapping="send_report", campaign="E1", store=store,
              settings=SETTINGS, mode="upsert")
    got = messages(store)
    assert [r["customer_id"] for r in got] == ["A", "B", "E"]
    assert got[0]["opened_at"] == utc("2026-11-16 11:00") and got[0]["clicked_at"] is None


def test_nothing_matching_fails_and_writes_nothing(store, tmp_path):
    path = report(tmp_path, "수신번호,발송결과\n01099999999,성공\n01088888888,실패\n")
    with pytest.raises(SchemaError) as exc:
        load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                  settings=SETTINGS)
    assert str(exc.value) == (
        "발송결과.csv: none of the 2 row(s) matches a customer that export 'E1' sent to (by "
        "customer key, else by phone among the export's customers), so nothing was loaded. "
        "Check that the report belongs to this export (--campaign) and that its phone or "
        "customer key column is mapped.")
    assert "0109999" not in str(exc.value)
    assert messages(store) == []


def test_campaign_and_customer_key_columns_from_the_report(store, tmp_path):
    path = report(tmp_path, "캠페인ID,회원ID,status,sent_at,opened_at\n"
                            "E1,A,delivered,2026-11-16 10:05,2026-11-16 10:30\n"
                            "E1,B,bounced,2026-11-16 10:05,\n"
                            "E1,D,delivered,2026-11-16 10:05,\n")
    result = load_file("messages", path, mapping="send_report", store=store, settings=SETTINGS)
    assert result.rows_written == {"messages": 2}
    assert "rows 4." in result.warnings[0]
    got = messages(store)
    assert [(r["customer_id"], r["variant"], r["status"]) for r in got] == [
        ("A", "A", "sent"), ("B", "B", "failed")]
    assert got[0]["opened_at"] == utc("2026-11-16 10:30")


@pytest.mark.parametrize(("word", "status", "opted_out"), [
    ("성공", "sent", False), ("발송완료", "sent", False), ("전송 완료", "sent", False),
    ("Success", "sent", False), ("delivered", "sent", False), ("sent", "sent", False),
    ("실패", "failed", False), ("전송실패", "failed", False), ("결번", "failed", False),
    ("FAILED", "failed", False), ("수신거부", "failed", True), ("unsubscribed", "failed", True),
    ("opt-out", "failed", True),
], ids=lambda v: str(v))
def test_status_words(store, tmp_path, word, status, opted_out):
    path = report(tmp_path, f"수신번호,발송결과,발송일시\n01011112222,{word},2026-11-16 10:01\n")
    load_file("messages", path, mapping="send_report", campaign="E1", store=store,
              settings=SETTINGS)
    (got,) = messages(store)
    assert got["status"] == status
    assert got["unsubscribed_at"] == (utc("2026-11-16 10:01") if opted_out else None)


def test_unknown_status_word_is_refused_with_the_known_ones(store, tmp_path):
    path = report(tmp_path, "수신번호,발송결과\n01011112222,대기\n")
    with pytest.raises(SchemaError, match="'대기'") as exc:
        load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                  settings=SETTINGS)
    assert "'발송완료'" in str(exc.value)
    assert messages(store) == []


PHONE_FORMS = [
    lambda p: p, lambda p: p[1:], lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}",
    lambda p: f"{p[:3]} {p[3:7]} {p[7:]}", lambda p: "+82 " + p[1:], lambda p: "+82-" + p[1:3]
    + "-" + p[3:7] + "-" + p[7:], lambda p: f"({p[:3]}) {p[3:7]}-{p[7:]}",
]


@settings(max_examples=25, deadline=None)
@given(form=st.sampled_from(PHONE_FORMS), who=st.sampled_from(["A", "B", "E"]))
def test_any_common_phone_form_matches_its_customer(tmp_path_factory, form, who):
    folder = tmp_path_factory.mktemp("forms")
    store = build_store(folder / "s.duckdb")
    phone = CUSTOMERS.set_index("customer_id").loc[who, "phone"]
    path = report(folder, f"수신번호,발송결과,발송일시\n\"{form(phone)}\",성공,2026-11-16 10:01\n")
    result = load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                       settings=SETTINGS)
    assert result.warnings == ()
    assert [r["customer_id"] for r in messages(store)] == [who]


def test_campaign_missing_unknown_or_misplaced(store, tmp_path):
    path = report(tmp_path)
    with pytest.raises(SchemaError) as exc:
        load_file("messages", path, mapping="send_report", store=store, settings=SETTINGS)
    assert str(exc.value).startswith(
        "발송결과.csv: 6 row(s) name no campaign: 2, 3, 4, 5, 6, …. The report has no "
        "campaign/export id column, so give the export it belongs to: --campaign EXPORT_ID")
    with pytest.raises(SchemaError) as exc:
        load_file("messages", path, mapping="send_report", campaign="E9", store=store,
                  settings=SETTINGS)
    assert str(exc.value) == (
        "발송결과.csv: campaign 'E9' is neither an export nor a campaign in the store. Check "
        "the id (recent exports: 'E1', 'E0') and the store (--store).")
    with pytest.raises(ParameterError, match="--campaign 'E1' applies only to a send report"):
        load_file("orders", path, campaign="E1", store=store, settings=SETTINGS)
    with pytest.raises(ParameterError, match="--mode replace would empty the messages of every "
                                             "campaign"):
        load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                  settings=SETTINGS, mode="replace")
    assert messages(store) == []


def test_old_exports_match_through_assignments(tmp_path):
    """Exports logged before export_members: the holdout export's assignments list them."""
    store = build_store(tmp_path / "s.duckdb", members=False)
    with write_store(store, settings=SETTINGS) as w:
        w.write("campaigns", pd.DataFrame({"campaign_id": ["E0"], "channel": ["sms"],
                                           "started_at": [kst("2026-11-01 10:00")]}))
        w.write("assignments", pd.DataFrame({
            "campaign_id": "E0", "customer_id": ["A", "B"], "variant": ["send", "holdout"],
            "assigned_at": kst("2026-11-01 09:00")}))
    path = report(tmp_path, "수신번호,발송결과\n01011112222,성공\n01033334444,성공\n")
    result = load_file("messages", path, mapping="send_report", campaign="E0", store=store,
                       settings=SETTINGS)
    assert result.rows_written == {"messages": 1}
    (got,) = messages(store)
    assert (got["customer_id"], got["variant"], got["sent_at"], got["channel"]) == (
        "A", "send", utc("2026-11-01 10:00"), "sms")


def test_two_rows_for_one_customer_are_refused(store, tmp_path):
    path = report(tmp_path, "수신번호,발송결과\n01011112222,실패\n010-1111-2222,성공\n")
    with pytest.raises(SchemaError, match=r"2 row\(s\) are for a customer who already has "
                                          r"another row of this campaign: 2, 3\."):
        load_file("messages", path, mapping="send_report", campaign="E1", store=store,
                  settings=SETTINGS)


def test_loaded_opt_out_excludes_the_customer_from_the_next_ad(store, tmp_path):
    """E1 logged no campaign (no holdout): the message's own channel carries the opt-out."""
    from workbench.audience import eligibility

    load_file("messages", report(tmp_path), mapping="send_report", campaign="E1", store=store,
              settings=SETTINGS)
    con = connect(store, settings=SETTINGS)
    try:
        ids = ibis.memtable({"customer_id": ["A", "B", "E"]})
        reasons = {ch: {r["customer_id"]: r["reason"] for r in eligibility(
                            con, ids, channel=ch, is_ad=True,
                            send_at=datetime(2026, 11, 20, 10),
                            settings=SETTINGS).to_pyarrow().to_pylist()}
                   for ch in ("sms", "lms", "email")}
    finally:
        con.disconnect()
    assert reasons["sms"] == {"A": None, "B": "opted_out", "E": None}
    assert reasons["lms"] == {"A": None, "B": "opted_out", "E": None}
    assert reasons["email"] == {"A": "no_consent", "B": "no_consent", "E": "no_consent"}


def test_command_line(store, tmp_path, capsys):
    path = report(tmp_path)
    code = main(["load", "messages", str(path), "--mapping", "send_report", "--campaign", "E1",
                 "--store", str(store), "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert "written: messages 3" in out and "rows 4, 5, 7" in out
    bad = report(tmp_path, "수신번호,발송결과\n01099999999,성공\n", "none.csv")
    code = main(["load", "messages", str(bad), "--mapping", "send_report", "--campaign", "E1",
                 "--store", str(store), "-q"])
    assert code == 2
    assert "none.csv: none of the 1 row(s)" in capsys.readouterr().err
    assert len(messages(store)) == 3


@pytest.mark.parametrize(("toml", "detail"), [
    ('[fields]\norder_id = "a"\nordered_at = "b"\nstatus = "c"\namount = "d"\n'
     '[tables.orders]\nmatch = "export"\n',
     "[tables.orders]: only [tables.messages] takes 'match', and its one value is \"export\""),
    ('[fields]\nsent_at = "b"\n[tables.messages]\nmatch = "export"\n',
     "'customer_id' or 'phone'"),
], ids=["not-messages", "no-recipient"])
def test_bad_match_mappings(tmp_path, toml, detail):
    from workbench.data.mappings import load_mapping

    path = tmp_path / "m.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ParameterError) as exc:
        load_mapping(path)
    assert detail in str(exc.value)


def test_the_loop_export_then_report_then_the_next_ad(tmp_path):
    """An export of the tiny shop, its report loaded back, and the opt-out at the next ad."""
    import csv

    from tests.audience.conftest import AS_OF, write_tiny
    from workbench.audience import Audience, AudienceDefinition, Group, export_audience

    store = tmp_path / "tiny.duckdb"
    write_tiny(store)
    settings = Settings(store=str(store))

    def export(is_ad, out, send_at):
        d = AudienceDefinition("everyone", rules=Group("and", ()), channel="sms", is_ad=is_ad,
                               purpose="winter sale")
        aud = Audience(d, connect(store, settings=settings), as_of=AS_OF, settings=settings)
        try:
            return export_audience(aud, out=out, send_at=send_at, message=(
                "(광고) 워크샵 세일 무료거부 080-123-4567" if is_ad else "워크샵 배송 안내"),
                sender="워크샵")
        finally:
            aud.con.disconnect()

    notice = export(False, tmp_path / "notice.csv", datetime(2026, 11, 16, 10))
    with open(tmp_path / "notice.csv", encoding="utf-8-sig") as fh:
        phones = [r["phone"] for r in csv.DictReader(fh)]
    assert len(phones) == notice.rows == 4  # A, B, D, E (C has no phone)
    results = ["성공", "수신거부", "실패", "성공"]
    lines = [f"{p[1:]},{r},2026-11-16 10:0{i}"
             for i, (p, r) in enumerate(zip(phones, results, strict=True))]
    path = report(tmp_path, "수신번호,발송결과,발송일시\n" + "\n".join(
        [*lines, "01000000000,성공,2026-11-16 10:09"]) + "\n")
    loaded = load_file("messages", path, mapping="send_report", campaign=notice.export_id,
                       store=store, settings=settings)
    assert loaded.rows_written == {"messages": 4} and "rows 6." in loaded.warnings[0]
    con = duckdb.connect(str(store), read_only=True)
    got = con.execute("SELECT variant, channel, status, unsubscribed_at IS NOT NULL FROM "
                      "messages WHERE campaign_id = ? ORDER BY customer_id",
                      [notice.export_id]).fetchall()
    con.close()
    assert got == [("send", "sms", "sent", False), ("send", "sms", "failed", True),
                   ("send", "sms", "failed", False), ("send", "sms", "sent", False)]
    ad = export(True, tmp_path / "ad.csv", datetime(2026, 11, 20, 10))
    # B (consent 2023, expired) now counts as opted out: the opt-out rule comes first
    assert (ad.excluded["opted_out"], ad.excluded["consent_expired"], ad.rows) == (2, 0, 1)
