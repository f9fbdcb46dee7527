"""KakaoTalk channels: AlimTalk (informational, template, SMS fallback) and FriendTalk (ads to
channel friends, provider quiet hours), per-channel consent dates, and the ad-content rule.

The tiny shop of ``conftest`` gets the 2026-12 customer columns here:

===  ============  =============  ==========================================================
id   kakao_friend  has_kakaotalk  other facts (conftest)
===  ============  =============  ==========================================================
A    true          true           SMS consent 2026-01-01, night consent
B    true          false          SMS consent 2023-06-01 (expired), phone lost its leading 0
C    true          null           no phone, email consent
D    true          true           SMS consent 2025-12-01, opted out of an SMS ad 2026-11-01
E    false         null           no consent
===  ============  =============  ==========================================================
"""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.audience.conftest import (
    AS_OF,
    CAMPAIGNS,
    CUSTOMERS,
    EVENTS,
    ITEMS,
    MESSAGES,
    ORDERS,
    PRODUCTS,
    kst,
)
from workbench.audience import (
    EXCLUSION_RULES,
    Audience,
    AudienceDefinition,
    Group,
    ad_signals,
    check_message,
    eligibility,
    export_audience,
    read_export_log,
)
from workbench.audience.compliance import fallback_channel
from workbench.audience.kakao import fallback_path, in_quiet_window, quiet_window
from workbench.data import connect, write_store
from workbench.errors import ParameterError, UnsafeOutputError
from workbench.settings import Settings

DAY = datetime(2026, 11, 16, 10, 0)
NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
INFO = "[워크샵] 주문하신 상품이 발송되었습니다. 송장번호 123456789012"
FRIEND_AD = "(광고) 워크샵 겨울 세일 20% 할인\n수신거부 | 홈 > 채널차단"


def _customers(**dates: dict[str, str | None]) -> pd.DataFrame:
    c = CUSTOMERS.copy()
    c["kakao_friend"] = [True, True, True, True, False]
    c["has_kakaotalk"] = pd.array([True, False, None, True, None], dtype="boolean")
    for column, by_id in dates.items():
        c[column] = pd.to_datetime([kst(by_id.get(i)) for i in c["customer_id"]], utc=True)
    return c


def _store(path, customers: pd.DataFrame | None = None):
    settings = Settings(store=str(path))
    with write_store(path, settings=settings, fresh=True) as w:
        w.write("customers", _customers() if customers is None else customers)
        w.write("orders", ORDERS)
        w.write("order_items", ITEMS)
        w.write("products", PRODUCTS)
        w.write("events", EVENTS)
        w.write("campaigns", CAMPAIGNS)
        w.write("messages", MESSAGES)
    return path


@pytest.fixture
def shop(tmp_path):
    return _store(tmp_path / "kakao.duckdb")


def _reasons(path, channel, send_at, *, is_ad=True, settings=None) -> dict[str, str | None]:
    settings = settings or Settings(store=str(path))
    con = connect(path, settings=settings)
    try:
        frame = eligibility(con, con.table("customers").select("customer_id"), channel=channel,
                            is_ad=is_ad, send_at=send_at, settings=settings).to_pandas()
    finally:
        con.disconnect()
    return {r.customer_id: (r.reason if isinstance(r.reason, str) else None)
            for r in frame.itertuples()}


def _aud(path, *, channel, is_ad, settings=None):
    settings = settings or Settings(store=str(path))
    d = AudienceDefinition("everyone", rules=Group("and", ()), channel=channel, is_ad=is_ad,
                           purpose="order notice")
    return Audience(d, connect(path, settings=settings), as_of=AS_OF, settings=settings)


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _export_log(path) -> pd.DataFrame:
    con = connect(path, settings=Settings(store=str(path)))
    try:
        return read_export_log(con)
    finally:
        con.disconnect()


def _table(path, name) -> pd.DataFrame:
    con = connect(path, settings=Settings(store=str(path)))
    try:
        return con.table(name).to_pandas()
    finally:
        con.disconnect()


# --------------------------------------------------------------------------- FriendTalk


def test_friendtalk_ads_reach_channel_friends_only(shop):
    # A, B: friends (B's expired SMS consent does not matter: the friend-add is the opt-in).
    # C: friend without a phone. D: opted out of an SMS ad: one phone, one opt-out. E: no friend.
    assert _reasons(shop, "friendtalk", DAY) == {
        "A": None, "B": None, "C": "no_contact", "D": "opted_out", "E": "not_channel_friend"}


def test_friendtalk_export_counts_every_rule(shop, tmp_path):
    aud = _aud(shop, channel="friendtalk", is_ad=True)
    out = tmp_path / "ft.csv"
    r = export_audience(aud, out=out, send_at=DAY, message=FRIEND_AD, sender="워크샵",
                        now=NOW)
    aud.con.disconnect()
    assert r.excluded == dict.fromkeys(EXCLUSION_RULES, 0) | {
        "opted_out": 1, "not_channel_friend": 1, "no_contact": 1}
    assert (r.members, r.rows, r.channel, r.template_code, r.fallback) == (
        5, 2, "friendtalk", None, None)
    assert _rows(out) == [{"phone": "01011112222"}, {"phone": "01033334444"}]
    assert not fallback_path(out).exists()


@pytest.mark.parametrize("hour,minute,expected", [
    (19, 59, {"A": None, "B": None, "C": "no_contact"}),
    # 20:00-21:00: the provider's window only; night consent does not help.
    (20, 0, {"A": "provider_quiet_hours", "B": "provider_quiet_hours",
             "C": "provider_quiet_hours"}),
    # from 21:00 the legal night rule comes first for those without night consent
    (21, 30, {"A": "provider_quiet_hours", "B": "night_time", "C": "night_time"}),
    (7, 59, {"A": "provider_quiet_hours", "B": "night_time", "C": "night_time"}),
    (8, 0, {"A": None, "B": None, "C": "no_contact"}),
], ids=["19:59", "20:00", "21:30", "07:59", "08:00"])
def test_friendtalk_quiet_hours_on_top_of_the_legal_night(shop, hour, minute, expected):
    got = _reasons(shop, "friendtalk", datetime(2026, 11, 16, hour, minute))
    assert got == {**expected, "D": "opted_out", "E": "not_channel_friend"}


def test_quiet_hours_setting(shop):
    at = datetime(2026, 11, 16, 20, 49)
    dealer = Settings(store=str(shop), friendtalk_quiet_hours="20:50-08:00")
    assert _reasons(shop, "friendtalk", at, settings=dealer)["A"] is None
    assert _reasons(shop, "friendtalk", at.replace(minute=50), settings=dealer)["A"] == (
        "provider_quiet_hours")
    off = Settings(store=str(shop), friendtalk_quiet_hours="")
    assert _reasons(shop, "friendtalk", at, settings=off)["A"] is None
    assert _reasons(shop, "sms", at)["A"] is None  # the window is FriendTalk's only


def test_quiet_hours_export_counts_everyone_left(shop, tmp_path):
    aud = _aud(shop, channel="friendtalk", is_ad=True)
    r = export_audience(aud, out=tmp_path / "ft.csv", send_at=datetime(2026, 11, 16, 20, 30),
                        now=NOW)
    aud.con.disconnect()
    assert r.excluded == dict.fromkeys(EXCLUSION_RULES, 0) | {
        "opted_out": 1, "not_channel_friend": 1, "provider_quiet_hours": 3}
    assert r.rows == 0


@pytest.mark.parametrize("text", ["20-08", "08:00-08:00", "24:00-08:00", "8:00-20:00", "x"])
def test_quiet_hours_are_validated(text):
    with pytest.raises(ParameterError, match="friendtalk_quiet_hours"):
        Settings(friendtalk_quiet_hours=text)
    with pytest.raises(ParameterError, match="HH:MM-HH:MM"):
        quiet_window(text)


def _minute_reference(minute: int, start: int, end: int) -> bool:
    return start <= minute < end if start < end else not end <= minute < start


@given(st.integers(0, 1439), st.integers(0, 1439), st.integers(0, 1439))
def test_quiet_window_matches_the_minute_reference(minute, start, end):
    if start == end:
        return
    window = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    at = datetime(2026, 11, 16, minute // 60, minute % 60)
    assert in_quiet_window(at, "Asia/Seoul", window) is _minute_reference(minute, start, end)


def test_friendtalk_opt_out_on_friendtalk_ends_sms_too(tmp_path):
    campaigns = pd.concat([CAMPAIGNS, pd.DataFrame({
        "campaign_id": ["F1"], "channel": ["friendtalk"], "is_ad": [True],
        "started_at": pd.to_datetime([kst("2026-11-02 10:00")], utc=True)})])
    messages = pd.concat([MESSAGES, pd.DataFrame({
        "campaign_id": ["F1"], "customer_id": ["A"],
        "sent_at": pd.to_datetime([kst("2026-11-02 10:00")], utc=True),
        "unsubscribed_at": pd.to_datetime([kst("2026-11-02 11:00")], utc=True)})])
    path = tmp_path / "s.duckdb"
    with write_store(path, settings=Settings(store=str(path)), fresh=True) as w:
        w.write("customers", _customers())
        w.write("orders", ORDERS)
        w.write("campaigns", campaigns)
        w.write("messages", messages)
    assert _reasons(path, "friendtalk", DAY)["A"] == "opted_out"
    assert _reasons(path, "sms", DAY)["A"] == "opted_out"
    assert _reasons(path, "email", DAY)["A"] == "no_consent"  # email is its own family


# --------------------------------------------------------------------------- AlimTalk


def test_alimtalk_export_with_sms_fallback(shop, tmp_path):
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    out = tmp_path / "notice.csv"
    r = export_audience(aud, out=out, send_at=DAY, message=INFO, template_code="TPL_ORDER_01",
                        now=NOW)
    aud.con.disconnect()
    # Not an ad: no consent needed; C has no phone. B has no KakaoTalk -> the fallback file;
    # E's KakaoTalk is unknown -> the AlimTalk file (the service falls back on failure).
    assert r.excluded == dict.fromkeys(EXCLUSION_RULES, 0) | {"no_contact": 1}
    assert _rows(out) == [{"phone": "01011112222"}, {"phone": "01055556666"},
                          {"phone": "01077778888"}]
    fb = fallback_path(out)
    assert fb.name == "notice.fallback_sms.csv"
    assert fb.read_bytes().startswith(b"\xef\xbb\xbf")
    assert _rows(fb) == [{"phone": "01033334444"}]
    assert stat.S_IMODE(fb.stat().st_mode) == 0o600
    assert (r.rows, r.fallback.rows, r.fallback.channel, r.fallback.paths) == (3, 1, "sms", (fb,))
    assert r.template_code == "TPL_ORDER_01"
    assert any("notice.fallback_sms.csv" in n for n in r.notes)
    log = _export_log(shop)
    row = log.iloc[0]
    assert (row.channel, row.template_code, row.fallback_rows, row["rows"]) == (
        "alimtalk", "TPL_ORDER_01", 1, 3)
    assert json.loads(row.exclusions)["no_contact"] == 1
    members = _table(shop, "export_members").set_index("customer_id")["channel"].to_dict()
    assert members == {"A": "alimtalk", "B": "sms", "D": "alimtalk", "E": "alimtalk"}


def test_alimtalk_fallback_is_lms_for_long_or_unknown_text(shop, tmp_path):
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    long_info = INFO + " 배송 조회는 마이페이지에서 하실 수 있습니다." * 2
    assert fallback_channel(long_info) == "lms" and fallback_channel(INFO) == "sms"
    r = export_audience(aud, out=tmp_path / "a.csv", send_at=DAY, message=long_info,
                        template_code="A001-2", now=NOW)
    r2 = export_audience(aud, out=tmp_path / "b.csv", send_at=DAY, template_code="A001-2",
                         now=NOW)
    aud.con.disconnect()
    assert (r.fallback.channel, r2.fallback.channel) == ("lms", "lms")
    members = _table(shop, "export_members")
    assert members[members.customer_id == "B"]["channel"].tolist() == ["lms", "lms"]


def test_alimtalk_refuses_ads(shop, tmp_path):
    aud = _aud(shop, channel="alimtalk", is_ad=True)
    with pytest.raises(ParameterError, match="informational messages only"):
        export_audience(aud, out=tmp_path / "x.csv", send_at=DAY, template_code="T1")
    aud.con.disconnect()
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    with pytest.raises(ParameterError, match=r"reads as an ad \(\"할인\", \"쿠폰\"\)"):
        export_audience(aud, out=tmp_path / "x.csv", send_at=DAY, template_code="T1",
                        message="[워크샵] 회원님께 10% 할인 쿠폰이 발급되었습니다.")
    aud.con.disconnect()
    assert not (tmp_path / "x.csv").exists()
    assert not fallback_path(tmp_path / "x.csv").exists()
    with pytest.raises(ParameterError, match="informational messages only"):
        _reasons(shop, "alimtalk", DAY, is_ad=True)


@pytest.mark.parametrize("code,match", [
    (None, "needs the code of the template"),
    ("  ", "needs the code of the template"),
    ("템플릿", "is not valid"),
    ("-TPL", "is not valid"),
    ("T" * 65, "is not valid"),
], ids=["none", "blank", "hangul", "leading dash", "too long"])
def test_alimtalk_needs_a_valid_template_code(shop, tmp_path, code, match):
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    try:
        with pytest.raises(ParameterError, match=match):
            export_audience(aud, out=tmp_path / "x.csv", send_at=DAY, template_code=code)
    finally:
        aud.con.disconnect()


def test_fallback_file_follows_the_output_rules(shop, tmp_path):
    out = tmp_path / "n.csv"
    fallback_path(out).write_text("keep", encoding="utf-8")
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    with pytest.raises(UnsafeOutputError):
        export_audience(aud, out=out, send_at=DAY, template_code="T1", now=NOW)
    assert not out.exists() and fallback_path(out).read_text(encoding="utf-8") == "keep"
    r = export_audience(aud, out=out, send_at=DAY, template_code="T1", now=NOW, force=True)
    aud.con.disconnect()
    assert _rows(fallback_path(out)) == [{"phone": "01033334444"}] and r.fallback.rows == 1


def test_non_alimtalk_exports_write_no_fallback(shop, tmp_path):
    aud = _aud(shop, channel="sms", is_ad=False)
    out = tmp_path / "s.csv"
    r = export_audience(aud, out=out, send_at=DAY, template_code="ignored", now=NOW)
    aud.con.disconnect()
    assert (r.rows, r.fallback, r.template_code) == (4, None, None)
    assert not fallback_path(out).exists()


# --------------------------------------------------------------------------- old 'kakao'


@pytest.mark.parametrize("is_ad,channel", [(True, "friendtalk"), (False, "alimtalk")])
def test_old_kakao_definitions_are_read_as_the_new_channels(shop, tmp_path, is_ad, channel):
    aud = _aud(shop, channel="kakao", is_ad=is_ad)
    r = export_audience(aud, out=tmp_path / "k.csv", send_at=DAY, template_code="T1", now=NOW)
    aud.con.disconnect()
    assert r.channel == channel
    assert any(f"exported as '{channel}'" in n for n in r.notes)
    assert _export_log(shop).channel.tolist() == [
        channel]


def test_kakao_is_refused_for_new_checks(shop):
    with pytest.raises(ParameterError, match="split into 'alimtalk'"):
        check_message(INFO, channel="kakao")
    with pytest.raises(ParameterError, match="split into 'alimtalk'"):
        _reasons(shop, "kakao", DAY)


def test_cli_alimtalk_and_no_kakao_choice(shop, tmp_path, capsys):
    from workbench.audience import save_definition
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    save_definition(AudienceDefinition("notice", rules=Group("and", ()), channel="alimtalk",
                                       is_ad=False, purpose="order notice"), folder)
    msg = tmp_path / "msg.txt"
    msg.write_text(INFO, encoding="utf-8")
    out = tmp_path / "n.csv"
    base = ["--store", str(shop), "--dir", str(folder), "--as-of", "2026-11-16",
            "--send-at", "2026-11-16 10:00", "--out", str(out), "--message", str(msg)]
    assert main(["export", "notice", *base]) == 2
    assert "--template-code" in capsys.readouterr().err
    assert main(["export", "notice", *base, "--template-code", "TPL_ORDER_01"]) == 0
    printed = capsys.readouterr().out
    assert "n.fallback_sms.csv" in printed and "Wrote 3 rows" in printed
    assert _rows(fallback_path(out)) == [{"phone": "01033334444"}]
    with pytest.raises(SystemExit) as exc:
        main(["export", "notice", *base, "--channel", "kakao"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- consent dates


def test_the_two_year_rule_reads_the_channels_own_consent_date(tmp_path):
    path = _store(tmp_path / "d.duckdb", _customers(
        # A: SMS consent given 2024-01-01, general consent_at 2026-01-01; A left an SMS ad
        #    on 2025-12-01, after the SMS date: opted out (by consent_at it would not be)
        # B: SMS consent renewed 2026-06-01, general consent_at 2023-06-01 (expired)
        # D: SMS consent given again 2026-11-10, after the 2026-11-01 opt-out
        sms_consent_at={"A": "2024-01-01 09:00", "B": "2026-06-01 09:00",
                        "D": "2026-11-10 09:00"},
        # C: email consent 2024-10-01 (expired) although consent_at is 2026-05-01
        email_consent_at={"C": "2024-10-01 09:00"},
        push_consent_at={}))
    assert _reasons(path, "sms", DAY) == {"A": "opted_out", "B": None, "C": "no_consent",
                                         "D": None, "E": "no_consent"}
    assert _reasons(path, "lms", DAY) == _reasons(path, "sms", DAY)
    assert _reasons(path, "email", DAY)["C"] == "consent_expired"
    assert _reasons(path, "push", DAY)["D"] is None  # push date null: consent_at 2025-12-01
    # B's own date 2026-06-01 09:00 KST: valid until 2028-06-01 09:00 KST, then expired
    assert _reasons(path, "sms", datetime(2028, 6, 1, 8, 59))["B"] is None
    assert _reasons(path, "sms", datetime(2028, 6, 1, 9, 0))["B"] == "consent_expired"


def test_a_store_without_the_new_columns_still_works(tiny_copy):
    # the conftest store has no kakao_friend, has_kakaotalk or per-channel dates
    assert _reasons(tiny_copy, "friendtalk", DAY) == {
        "A": "not_channel_friend", "B": "not_channel_friend", "C": "not_channel_friend",
        "D": "opted_out", "E": "not_channel_friend"}
    assert _reasons(tiny_copy, "sms", DAY)["A"] is None


# --------------------------------------------------------------------------- message checks


@pytest.mark.parametrize("text,reasons", [
    ("(광고) 워크샵 겨울 신상품 안내", {"ad_mark"}),
    ("[광고] 신상품 안내", {"ad_mark"}),
    ("겨울 세일 시작!", {"discount"}),
    ("전 품목 최대 30% 할인", {"discount"}),
    ("1+1 행사 상품을 확인하세요", {"discount"}),
    ("회원 전용 특가 상품", {"special_price"}),
    ("생일 축하 쿠폰이 도착했어요", {"coupon"}),
    ("리뷰 작성하시면 적립금 1,000원 지급", {"reward"}),
    ("포토후기 남기면 포인트 500점!", {"reward"}),
    ("구매 후기를 남겨 주시면 스타벅스 기프티콘을 선물로 드려요", {"reward"}),
    ("적립금 3,000원을 드립니다", {"reward"}),
    ("신규 회원 사은품 증정", {"reward"}),
    ("크리스마스 이벤트에 응모하세요", {"event"}),
    ("봄맞이 기획전 오픈", {"event"}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_ad_content_is_recognised(text, reasons):
    assert set(ad_signals(text)) == reasons
    check = check_message(text, channel="alimtalk", is_ad=False, template_code="T1")
    assert check.codes() == ("alimtalk_ad_content",)


@pytest.mark.parametrize("text", [
    INFO,
    "[워크샵] 결제가 완료되었습니다. 주문번호 20260127-0000014, 결제금액 30,000원",
    "결제 내역: 상품 33,000원, 쿠폰 할인 금액 3,000원, 최종 결제 30,000원",
    "주문이 취소되었습니다. 환불 금액 30,000원은 3영업일 안에 돌려드립니다.",
    "보유 적립금 1,000원이 2026-12-31에 소멸될 예정입니다.",
    "구매 확정으로 포인트 300점이 적립되었습니다.",
    "배송이 완료되었습니다. 리뷰는 마이페이지 > 주문내역에서 작성하실 수 있습니다.",
    "비밀번호가 변경되었습니다. 본인이 아니라면 고객센터로 연락해 주세요.",
    "회원가입을 환영합니다. 아이디: ab***",
    "배송 지연 안내: 택배사 사정으로 하루 늦어집니다.",
], ids=["shipped", "paid", "receipt with a coupon line", "refund", "points expiring",
        "points credited", "review without reward", "password", "welcome", "delay"])
def test_informational_texts_pass(text):
    assert ad_signals(text) == {}
    assert check_message(text, channel="alimtalk", is_ad=False, template_code="T1").ok


def test_alimtalk_checks():
    assert check_message(INFO, channel="alimtalk", is_ad=True, template_code="T1").codes() == (
        "alimtalk_ad",)
    assert check_message(INFO, channel="alimtalk", is_ad=False).codes() == ("template_missing",)
    assert check_message(INFO, channel="alimtalk", is_ad=False,
                         template_code="a b").codes() == ("template_invalid",)
    long = "가" * 1001
    check = check_message(long, channel="alimtalk", is_ad=False, template_code="T1")
    assert check.codes() == ("too_many_chars",) and "1001" in check.summary()
    assert check_message("가" * 1000, channel="alimtalk", is_ad=False, template_code="T1").ok
    # emoji are fine in KakaoTalk (no CP949 rule), unlike SMS
    assert check_message(INFO + " 🎁", channel="alimtalk", is_ad=False, template_code="T1").ok


@pytest.mark.parametrize("text,codes", [
    (FRIEND_AD, ()),
    ("(광고) 워크샵 겨울 세일\n수신거부|홈>채널 차단", ()),
    ("(광고) 워크샵 겨울 세일 무료거부 080-123-4567", ()),
    ("(광고) 워크샵 겨울 세일", ("opt_out_missing_kakao",)),
    ("워크샵 겨울 세일\n수신거부 | 홈 > 채널차단", ("ad_prefix_missing",)),
    ("(광 고) 워크샵 세일\n수신거부 | 홈 > 채널차단", ("ad_prefix_altered",)),
    ("(광고) 세일\n수신거부 | 홈 > 채널차단", ("sender_missing",)),
    ("(광고) 워크샵 " + "가" * 1000 + "\n수신거부 | 홈 > 채널차단", ("too_many_chars",)),
], ids=["kakao line", "compact line", "080 line", "no opt-out", "no mark", "altered mark",
        "no sender", "too long"])
def test_friendtalk_ad_checks(text, codes):
    assert check_message(text, channel="friendtalk", sender="워크샵").codes() == codes


def test_korean_messages():
    from workbench.i18n import using_language

    with using_language("ko"):
        text = check_message("겨울 세일", channel="alimtalk", is_ad=False).summary()
    assert "광고로 보입니다" in text and "템플릿 코드" in text


# --------------------------------------------------------------------------- condition, form


@pytest.mark.parametrize("condition,expected", [
    (("kakao_friend", {}), ["A", "B", "C", "D"]),
    (("kakao_friend", {"is_friend": False}), ["E"]),
    (("consent", {"channel": "friendtalk"}), ["A", "B", "C", "D"]),
], ids=["friends", "not friends", "consent friendtalk"])
def test_kakao_friend_condition(shop, condition, expected):
    from workbench.audience import Condition

    settings = Settings(store=str(shop))
    con = connect(shop, settings=settings)
    try:
        name, fields = condition
        aud = Audience(Group("and", (Condition.make(name, **fields),)), con, as_of=AS_OF,
                       settings=settings)
        assert sorted(aud.ids().to_pandas()["customer_id"]) == expected
    finally:
        con.disconnect()


def test_kakao_friend_condition_on_an_old_store_matches_nobody(tiny):
    from workbench.audience import Condition

    aud = Audience(Group("and", (Condition.make("kakao_friend"),)), tiny, as_of=AS_OF,
                   settings=Settings())
    assert aud.count() == 0


def test_alimtalk_has_no_consent_condition():
    from workbench.audience import Condition

    with pytest.raises(ParameterError, match="alimtalk"):
        Condition.make("consent", channel="alimtalk")


@pytest.mark.parametrize("language,labels", [
    ("en", ("KakaoTalk AlimTalk (informational)", "KakaoTalk FriendTalk (channel friends)",
            "KakaoTalk channel friend")),
    ("ko", ("카카오 알림톡(정보성)", "카카오 친구톡(채널 친구)", "카카오톡 채널 친구")),
])
def test_builder_offers_the_new_channels_not_kakao(shop, tmp_path, language, labels):
    from workbench.audience import CONDITION_TYPES, AudienceParams
    from workbench.ui.audience import AudienceBuilder

    page = AudienceBuilder(AudienceParams(store=str(shop), mode="dashboard", as_of=AS_OF,
                                          language=language,
                                          audiences_dir=str(tmp_path / "audiences")),
                           settings=Settings(store=str(shop)))
    page.widget()
    options = dict(page.w_channel.options)
    assert [options[labels[0]], options[labels[1]]] == ["alimtalk", "friendtalk"]
    assert "kakao" not in options.values()
    assert CONDITION_TYPES["kakao_friend"].label(language) == labels[2]
    page._load(AudienceDefinition("old", rules=Group("and", ()), channel="kakao", is_ad=True))
    assert page.w_channel.value == "friendtalk"


def test_builder_exports_alimtalk_with_its_fallback(shop, tmp_path):
    from workbench.audience import AudienceParams
    from workbench.ui.audience import AudienceBuilder

    page = AudienceBuilder(AudienceParams(store=str(shop), mode="dashboard", as_of=AS_OF,
                                          language="en",
                                          audiences_dir=str(tmp_path / "audiences")),
                           settings=Settings(store=str(shop)))
    page.widget()
    page.w_channel.value, page.w_is_ad.value = "alimtalk", False
    page.w_purpose.value, page.w_text.value = "order notice", INFO
    page.w_send_at.value, page.w_holdout.value = "2026-11-16 10:00", 0.0
    page._export()
    assert "needs the code of the template" in page.w_export.value
    page.w_template.value = "TPL_ORDER_01"
    page._export()
    assert "data-rows='3'" in page.w_export.value, page.w_export.value
    assert "wb-download-fallback" in page.w_export.value
    assert "Download the SMS fallback file" in page.w_export.value
    (fallback,) = (tmp_path / "exports").glob("*.fallback_sms.csv")
    assert _rows(fallback) == [{"phone": "01033334444"}]


def test_no_fallback_file_without_its_log_row(shop, tmp_path, monkeypatch):
    import workbench.data.store as store

    real = store.os.replace

    def failing_swap(src, dst):
        if str(dst) == str(shop.resolve()):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    out = tmp_path / "out" / "n.csv"
    out.parent.mkdir()
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    monkeypatch.setattr(store.os, "replace", failing_swap)
    with pytest.raises(OSError, match="No space left"):
        export_audience(aud, out=out, send_at=DAY, template_code="T1", now=NOW)
    monkeypatch.undo()
    aud.con.disconnect()
    assert list(out.parent.iterdir()) == []
    assert _export_log(shop).empty


def test_alimtalk_arms_get_one_fallback_file_each(shop, tmp_path):
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    out = tmp_path / "t.csv"
    r = export_audience(aud, out=out, send_at=DAY, template_code="T1", now=NOW,
                        variants={"A": INFO, "B": INFO + " 감사합니다."})
    aud.con.disconnect()
    paths = [tmp_path / "t.A.fallback_sms.csv", tmp_path / "t.B.fallback_sms.csv"]
    assert r.fallback.paths == tuple(paths) and r.fallback.rows == 1
    assert sorted(len(_rows(p)) for p in paths) == [0, 1]
    assert sum(a.rows for a in r.arms) == r.rows == 3
    assert r.fallback.channel == "sms"


def test_alimtalk_fallback_carries_the_fields_and_fits_the_filled_text(shop, tmp_path):
    # 67 CP949 bytes as written, 45 without its variables: the template alone fits an SMS.
    text = "[워크샵] #{name}님, 주문하신 #{last_product} 상품이 발송되었습니다."
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    out = tmp_path / "f.csv"
    kwargs = {"send_at": DAY, "message": text, "template_code": "T1", "now": NOW,
              "fields": "name,last_product", "purpose": "shipping notice by name"}
    r = export_audience(aud, out=out, **kwargs)
    assert _rows(out) == [
        {"phone": "01011112222", "name": "민수", "last_product": "시카 크림"},
        {"phone": "01055556666", "name": "지우", "last_product": "시카 크림"},
        {"phone": "01077778888", "name": "하나", "last_product": ""}]
    assert _rows(fallback_path(out)) == [
        {"phone": "01033334444", "name": "영희", "last_product": "현미"}]
    assert (r.rows, r.fallback.rows, r.fallback.channel) == (3, 1, "sms")  # B: 53 bytes
    # Empty cells are counted over the file and its fallback.
    assert "last_product: 1 of 4 rows have no value" in " ".join(r.notes)
    # A long product name pushes B's filled text past 90 bytes: LMS, though the template fits.
    # B's text is 45 + 4 (영희) + the product's bytes: 41 -> 90 (SMS), 42 -> 91 (LMS).
    for i, (name, channel) in enumerate((("가" * 20 + "1", "sms"), ("가" * 21, "lms"),
                                         ("현" * 1000, "lms"))):
        products = PRODUCTS.copy()
        products.loc[products["product_id"] == "P2", "name"] = name
        with write_store(shop, settings=Settings(store=str(shop))) as w:
            w.write("products", products, mode="replace")
        r2 = export_audience(aud, out=tmp_path / f"{i}.csv", **kwargs)
        assert r2.fallback.channel == channel
        assert _rows(fallback_path(tmp_path / f"{i}.csv"))[0]["last_product"] == name
        too_long = [n for n in r2.notes if "more than an LMS fallback holds" in n]
        assert too_long == ([] if len(name) < 1000 else [
            "The longest fallback message (variables filled in) is 2,049 bytes in CP949, more "
            "than an LMS fallback holds (2,000); shorten the text for the fallback customers."])
    aud.con.disconnect()
    assert fallback_channel(text) == "sms"
    members = _table(shop, "export_members")
    assert members[members.customer_id == "B"]["channel"].tolist() == [
        "sms", "sms", "lms", "lms"]
    # Without fields the variables stay as written (67 bytes): SMS.
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    r3 = export_audience(aud, out=tmp_path / "h.csv", send_at=DAY, message=text,
                         template_code="T1", now=NOW)
    aud.con.disconnect()
    assert r3.fallback.channel == "sms" and _rows(fallback_path(tmp_path / "h.csv")) == [
        {"phone": "01033334444"}]


def test_alimtalk_arms_fallback_files_carry_the_fields(shop, tmp_path):
    aud = _aud(shop, channel="alimtalk", is_ad=False)
    r = export_audience(aud, out=tmp_path / "t.csv", send_at=DAY, template_code="T1", now=NOW,
                        variants={"A": INFO, "B": "[워크샵] #{name}님, " + INFO[6:]},
                        fields="name", purpose="shipping notice by name")
    aud.con.disconnect()
    rows = [_rows(tmp_path / f"t.{a}.fallback_sms.csv") for a in "AB"]
    assert sorted(rows, key=len) == [[], [{"phone": "01033334444", "name": "영희"}]]
    assert r.fallback.channel == "sms"


@given(st.text(max_size=60))
def test_an_ad_mark_anywhere_makes_an_ad(text):
    assert "ad_mark" in ad_signals(text + "(광고)") and "ad_mark" in ad_signals("(광고)" + text)


@given(st.text(alphabet=st.sampled_from("가나다ABC 1,."), max_size=120))
def test_fallback_is_sms_exactly_when_the_text_fits_90_bytes(text):
    assert (fallback_channel(text) == "sms") is (len(text.encode("cp949")) <= 90)
