"""Korean ad rules: consent per channel, 2-year re-confirmation, opt-outs, the 6-month
transaction exemption, the 21:00-08:00 rule, and the message checker."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.audience.conftest import SETTINGS
from workbench.audience import check_message, cp949_bytes, eligibility, is_night


def reasons(con, channel, send_at, *, is_ad=True, exemption=False) -> dict[str, str | None]:
    everyone = con.table("customers").select("customer_id")
    frame = eligibility(con, everyone, channel=channel, is_ad=is_ad, send_at=send_at,
                        settings=SETTINGS, transaction_exemption=exemption).to_pandas()
    return {r.customer_id: (None if r.reason is None or r.reason != r.reason else r.reason)
            for r in frame.itertuples()}


DAY = datetime(2026, 11, 16, 10, 0)
NIGHT = datetime(2026, 11, 16, 21, 30)


def test_sms_by_day(tiny):
    # A: consent 2026-01 -> ok. B: consent 2023-06 (over 2 years) -> expired. C, E: no SMS
    # consent. D: unsubscribed from an SMS ad after consenting -> opted out.
    assert reasons(tiny, "sms", DAY) == {"A": None, "B": "consent_expired", "C": "no_consent",
                                         "D": "opted_out", "E": "no_consent"}


def test_consent_expires_after_two_years(tiny):
    # A consented 2026-01-01 09:00 KST: still valid on 2027-12-31, expired from 2028-01-01 09:00.
    assert reasons(tiny, "sms", datetime(2027, 12, 31, 10))["A"] is None
    assert reasons(tiny, "sms", datetime(2028, 1, 1, 10))["A"] == "consent_expired"


def test_night_time_needs_night_consent_except_email(tiny):
    night = reasons(tiny, "sms", NIGHT)
    assert night["A"] is None  # A has night consent
    assert reasons(tiny, "lms", NIGHT)["A"] is None
    assert reasons(tiny, "email", NIGHT)["C"] is None  # email is exempt from the night rule
    assert reasons(tiny, "email", DAY)["C"] is None
    for hour, expected in [(8, False), (7, True), (20, False), (21, True), (0, True)]:
        assert is_night(datetime(2026, 11, 16, hour, 59 if hour == 7 else 0),
                        "Asia/Seoul") is expected


def test_night_rule_applies_to_otherwise_eligible(tiny_copy):
    import duckdb

    from workbench.data import connect

    raw = duckdb.connect(str(tiny_copy))
    raw.execute("UPDATE customers SET night_opt_in = false WHERE customer_id = 'A'")
    raw.close()
    con = connect(tiny_copy, settings=SETTINGS)
    assert reasons(con, "sms", NIGHT)["A"] == "night_time"
    assert reasons(con, "sms", DAY)["A"] is None


def test_transaction_exemption_six_months(tiny):
    # E never consented and never bought; B's consent expired but B's last order (11-03,
    # delivered 11-05) is recent, so B qualifies under the exemption; C has no phone.
    got = reasons(tiny, "sms", DAY, exemption=True)
    assert got["B"] is None and got["E"] == "no_consent" and got["D"] == "opted_out"
    # 183 days after B's last delivery (2026-11-05 10:00 KST) is 2027-05-07 10:00 KST: the
    # exemption has ended then.
    assert reasons(tiny, "sms", datetime(2027, 5, 7, 11), exemption=True)["B"] == "consent_expired"
    assert reasons(tiny, "sms", datetime(2027, 5, 7, 9), exemption=True)["B"] is None


def test_opt_out_wins_over_exemption_and_channels_share_it(tiny):
    assert reasons(tiny, "lms", DAY, exemption=True)["D"] == "opted_out"
    assert reasons(tiny, "friendtalk", DAY)["D"] == "opted_out"  # one phone, one opt-out
    assert reasons(tiny, "push", DAY)["D"] is None  # D's push consent is separate


def test_contact_and_transactional_messages(tiny):
    # A non-ad message needs only a contact; B's phone lost its leading 0 in Excel (fixed).
    got = reasons(tiny, "sms", NIGHT, is_ad=False)
    assert got == {"A": None, "B": None, "C": "no_contact", "D": None, "E": None}
    assert reasons(tiny, "email", DAY, is_ad=False)["B"] == "no_contact"
    everyone = tiny.table("customers").select("customer_id")
    frame = eligibility(tiny, everyone, channel="sms", is_ad=False, send_at=None,
                        settings=SETTINGS).to_pandas().set_index("customer_id")
    assert frame.loc["B", "contact"] == "01033334444"


def test_ads_need_a_send_time(tiny):
    from workbench.errors import ParameterError

    with pytest.raises(ParameterError, match="needs 'send_at'"):
        eligibility(tiny, tiny.table("customers"), channel="sms", is_ad=True, send_at=None,
                    settings=SETTINGS)


# --------------------------------------------------------------------------- messages

GOOD = "(광고) 워크샵 겨울 세일 20% 할인 무료거부 080-123-4567"


def test_a_good_sms_passes():
    check = check_message(GOOD, channel="sms", sender="워크샵")
    assert check.ok, check.summary()
    assert check.bytes == len(GOOD.encode("cp949")) and check.limit == 90


@pytest.mark.parametrize("text,code", [
    ("(광 고) 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    ("(광/고) 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    ("[광고] 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    ("（광고） 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    (" (광고) 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    ("광고 워크샵 세일 무료거부 080-123-4567", "ad_prefix_altered"),
    ("워크샵 세일 (광고) 무료거부 080-123-4567", "ad_prefix_not_first"),
    ("워크샵 세일 무료거부 080-123-4567", "ad_prefix_missing"),
    ("(광고) 세일 무료거부 080-123-4567", "sender_missing"),
    ("(광고) 워크샵 세일", "opt_out_missing"),
    ("(광고) 워크샵 세일 수신거부 02-123-4567", "opt_out_missing"),
], ids=["space", "slash", "square brackets", "full-width", "leading space", "no brackets",
        "not first", "missing", "no sender", "no opt-out", "opt-out not free"])
def test_tricky_ads_are_caught(text, code):
    check = check_message(text, channel="sms", sender="워크샵")
    assert code in check.codes(), check.codes()
    assert not check.ok


def test_emoji_are_reported_not_counted():
    text = GOOD + " 🎁✨"
    n, bad = cp949_bytes(text)
    assert bad == ("🎁", "✨") and n == len(GOOD.encode("cp949")) + 1
    check = check_message(text, channel="sms", sender="워크샵")
    assert check.codes() == ("not_cp949",)
    assert "🎁" in check.summary() and "CP949" in check.summary()


def test_long_hangul_counts_two_bytes_each():
    body = "가" * 36  # 72 bytes
    text = f"(광고) 워크샵 {body} 무료거부 0801234567"
    check = check_message(text, channel="sms", sender="워크샵")
    expected = 6 + 1 + 6 + 1 + 72 + 1 + 8 + 1 + 10
    assert check.bytes == expected == len(text.encode("cp949"))
    assert check.codes() == ("too_long",) and "LMS" in check.summary()
    assert check_message(text, channel="lms", sender="워크샵").ok
    long_lms = f"(광고) 워크샵 {'한' * 1000} 무료거부 0801234567"
    assert check_message(long_lms, channel="lms", sender="워크샵").codes() == ("too_long",)
    # Rare syllables outside EUC-KR's 2,350 are still 2 bytes in CP949.
    assert cp949_bytes("똠햏") == (4, ())


def test_email_rules():
    body = "워크샵 (help@shop.kr) 겨울 세일. 수신거부: https://shop.kr/unsubscribe"
    assert check_message(body, channel="email", sender="워크샵", subject="(광고) 겨울 세일").ok
    assert check_message(body, channel="email", sender="워크샵").codes() == (
        "subject_missing", "ad_prefix_missing")
    assert "ad_prefix_altered" in check_message(body, channel="email", sender="워크샵",
                                                subject="(광 고) 세일").codes()
    assert "opt_out_missing_link" in check_message("워크샵 help@shop.kr 세일", channel="email",
                                                   sender="워크샵", subject="(광고) 세일").codes()


def test_non_ads_skip_the_ad_rules():
    assert check_message("주문하신 상품이 배송되었습니다.", channel="sms", is_ad=False).ok


def test_korean_messages():
    from workbench.i18n import set_language

    set_language("ko")
    assert "맨 앞" in check_message("세일", channel="sms", sender="x").summary()


