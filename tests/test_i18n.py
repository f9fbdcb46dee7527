import re
import string
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.i18n import (
    _catalog,
    format_date,
    format_money,
    format_percent,
    format_value,
    get_amount_style,
    josa,
    set_default_amount_style,
    tr,
)


def test_every_message_has_english_and_korean_with_the_same_fields():
    fmt = string.Formatter()
    for key, entry in _catalog().items():
        assert set(entry) >= {"en", "ko"}, key
        fields = {f for lang in ("en", "ko") for _, f, _, _ in fmt.parse(entry[lang]) if f}
        en = {f for _, f, _, _ in fmt.parse(entry["en"]) if f}
        ko = {f for _, f, _, _ in fmt.parse(entry["ko"]) if f}
        assert en == ko == fields, key


def test_formats():
    assert format_money(1234567, "KRW", language="en") == "₩1,234,567"
    assert format_money(12.5, "USD", language="en") == "$12.50"
    assert format_date(date(2026, 11, 16), language="en") == "Mon 16 Nov 2026"
    # Korean order (issue 15 point 5; was the ISO "2026-11-16 (월)").
    assert format_date(date(2026, 11, 16), language="ko") == "2026년 11월 16일 (월)"
    assert format_date(date(2027, 1, 3), language="ko") == "2027년 1월 3일 (일)"
    assert re.search("저장소", tr("cli.store_missing", language="ko", path="p"))


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, np.float32("nan")],
                         ids=["none", "nan", "np-nan", "pd-na", "nat", "float32-nan"])
def test_missing_values_show_as_a_dash(missing):
    assert format_value(missing, "money") == "–"
    assert format_value(missing, "share") == "–"
    assert format_percent(missing) == "–"


def test_numbers_are_not_taken_for_missing():
    assert format_value(np.int64(0), "count", language="en") == "0"
    assert format_percent(np.float64(0.25), language="en") == "25.0%"


# --- Korean particles and amounts in 만/억 (issue 15 point 5) ---------------------------------

@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("챔피언", "이/가", "챔피언이"), ("충성 고객", "이/가", "충성 고객이"),
    ("휴면", "은/는", "휴면은"), ("이탈 위험", "이/가", "이탈 위험이"), ("신규", "은/는", "신규는"),
    ("'cafe24'", "은/는", "'cafe24'는"),
    ("파일 1", "이/가", "파일 1이"), ("파일 2", "이/가", "파일 2가"), ("3", "을/를", "3을"),
    ("10", "이/가", "10이"), ("1,000", "은/는", "1,000은"), ("20%", "이/가", "20%가"),
    ("서울", "으로/로", "서울로"), ("부산", "으로/로", "부산으로"), ("7", "으로/로", "7로"),
    ("6", "으로/로", "6으로"), ("버전 2", "으로/로", "버전 2로"), ("SMS", "을/를", "SMS를"),
    ("URL", "이/가", "URL이"), ("email", "과/와", "email과"), ("data", "과/와", "data와"),
    ("'workbench.toml'", "이/가", "'workbench.toml'이"), ("(광고)", "이/가", "(광고)가"),
])
def test_particles_follow_the_final_sound(word, pair, expected):
    assert josa(word, pair) == expected


def test_unknown_sound_keeps_the_written_fallback():
    assert josa("₩", "이/가") == "₩이(가)" and josa("", "으로/로") == "(으)로"


def test_catalogue_spec_and_written_fallbacks_are_resolved_by_tr():
    missing = "settings.file_missing"
    assert tr(missing, language="ko", path="x.duckdb") == "설정: 파일 x.duckdb가 없습니다."
    assert tr(missing, language="ko", path="주문.csv") == "설정: 파일 주문.csv가 없습니다."
    assert tr(missing, language="ko", path="'주문.xlsx'") == "설정: 파일 '주문.xlsx'가 없습니다."
    assert tr("settings.text", language="ko", name="store", example="a", got="1").startswith(
        "설정: 'store'는 ")
    # English text is never touched
    assert "(가)" not in tr("settings.file_missing", language="en", path="p")


_SAMPLES = ("챔피언", "고객", "cafe24", "'orders.csv'", "12", "2", "C0000123", "at_risk")


def test_no_particle_fallback_survives_in_any_korean_message():
    fallback = re.compile(r"이\(가\)|은\(는\)|을\(를\)|과\(와\)|와\(과\)|\(으\)로")
    fmt = string.Formatter()
    checked = 0
    for key, entry in _catalog().items():
        names = {f.split(".")[0].split("[")[0] for _, f, _, _ in fmt.parse(entry["ko"]) if f}
        for sample in _SAMPLES:
            text = tr(key, language="ko", **{n: sample for n in names})
            assert not fallback.search(text), (key, text)
            checked += 1
    assert checked > 1000


@given(st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1,
               max_size=6),
       st.sampled_from(["이/가", "은/는", "을/를", "과/와", "으로/로"]))
def test_particle_matches_the_hangul_batchim(word, pair):
    final = (ord(word[-1]) - 0xAC00) % 28
    consonant, vowel = pair.split("/")
    expected = vowel if final == 0 or (pair == "으로/로" and final == 8) else consonant
    assert josa(word, pair) == word + expected
    assert josa(f"'{word}'", pair) == f"'{word}'" + expected


@given(st.integers(min_value=0, max_value=10**15))
def test_particle_after_a_number_follows_its_korean_reading(n):
    reading = _korean_reading(n)
    final = (ord(reading[-1]) - 0xAC00) % 28
    assert josa(f"{n:,}", "이/가").endswith("이" if final else "가"), (n, reading)
    assert josa(str(n), "으로/로").endswith("로" if final in (0, 8) else "으로"), (n, reading)


def _korean_reading(n: int) -> str:
    """Read a whole number in Korean the long way (a reference for the particle rule)."""
    if n == 0:
        return "영"
    digits = "영일이삼사오육칠팔구"
    words = []
    for unit_power, unit in ((12, "조"), (8, "억"), (4, "만"), (0, "")):
        chunk = n // 10**unit_power % 10**4
        if not chunk:
            continue
        part = ""
        for power, name in ((3, "천"), (2, "백"), (1, "십"), (0, "")):
            d = chunk // 10**power % 10
            if d:
                part += ("" if d == 1 and name else digits[d]) + name
        words.append(part + unit)
    return "".join(words)


def _parse_man(text: str) -> int:
    """Parse a 만/억 amount back to won (the inverse the property test checks against)."""
    m = re.fullmatch(r"(-?)(?:([\d,]+)억)? ?(?:([\d,]+)만)? ?(?:([\d,]+))? ?원", text)
    assert m, text
    sign, eok, man, won = m.groups()
    value = sum(int((part or "0").replace(",", "")) * unit
                for part, unit in ((eok, 10**8), (man, 10**4), (won, 1)))
    return -value if sign else value


@given(st.integers(min_value=-10**14, max_value=10**14))
def test_man_amounts_parse_back_within_the_stated_rounding(won):
    text = format_money(won, "KRW", language="ko", style="man")
    back = _parse_man(text)
    if abs(won) < 1_000_000:
        assert back == won and text == f"{won:,}원"
    else:
        assert abs(back - won) <= 5_000, (won, text)
        assert "원" in text and ("만" in text or "억" in text)


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False))
def test_man_amounts_of_floats_round_to_the_won_first(value):
    back = _parse_man(format_money(value, "KRW", language="ko", style="man"))
    assert abs(back - value) <= (5_000 if abs(value) >= 999_999.5 else 0.5)


def test_man_amount_examples_and_where_they_apply():
    assert format_money(66_200_000, "KRW", language="ko", style="man") == "6,620만 원"
    assert format_money(1_234_567_890, "KRW", language="ko", style="man") == "12억 3,457만 원"
    assert format_money(1_200_000_000, "KRW", language="ko", style="man") == "12억 원"
    assert format_money(99_995_000, "KRW", language="ko", style="man") == "1억 원"
    assert format_money(-8_570_000, "KRW", language="ko", style="man") == "-857만 원"
    assert format_money(892_453, "KRW", language="ko", style="man") == "892,453원"
    # tables keep exact amounts: format_money is plain unless asked
    assert format_money(66_200_000, "KRW", language="ko") == "₩66,200,000"
    # English and other currencies are never written in 만
    assert format_money(66_200_000, "KRW", language="en", style="man") == "₩66,200,000"
    assert format_money(12.5, "USD", language="ko", style="man") == "US$12.50"
    # headlines follow the setting: 만/억 by default in Korean, exact in English
    assert format_value(66_200_000, "money", language="ko") == "6,620만 원"
    assert format_value(66_200_000, "money", language="en") == "₩66,200,000"
    with pytest.raises(ValueError, match="style"):
        format_money(1, "KRW", language="ko", style="lakh")


def test_particle_format_spec_in_a_message():
    from workbench.i18n import _FORMATTER

    assert _FORMATTER.format("{n:,:이/가} 남았습니다", n=1000) == "1,000이 남았습니다"
    assert _FORMATTER.format("{s:을/를} 보냅니다", s="SMS") == "SMS를 보냅니다"


def test_amount_style_setting_is_followed_in_korean():
    try:
        set_default_amount_style("plain")
        assert get_amount_style("ko") == "plain"
        assert format_value(66_200_000, "money", language="ko") == "₩66,200,000"
    finally:
        set_default_amount_style(None)
    assert get_amount_style("ko") == "man" and get_amount_style("en") == "plain"
