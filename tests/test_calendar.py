"""The Korean business calendar against the published government lists, eves, business days.

The expected dates are typed from the official lists (external facts, not computed by the
``holidays`` package under test): 관공서의 공휴일에 관한 규정 and the Korea Astronomy and Space
Science Institute's 월력요항 for 2025, 2026 and 2027, with the 2025 temporary holiday
(2025-01-27, designated in January 2025) and the election days (2025-06-03 presidential,
2026-06-03 local).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.calendar import (
    holiday_name,
    holidays_between,
    is_business_day,
    is_holiday,
    is_holiday_eve,
    next_business_day,
    send_day_notes,
    short_names,
)
from workbench.errors import ParameterError
from workbench.i18n import using_language


def _days(year: int, text: str) -> set[date]:
    return {date(year, int(m), int(d)) for m, d in (md.split("-") for md in text.split())}


#: 2025, complete: 신정; 임시공휴일 + 설날 (1/28-30); 삼일절 (Sat) and its substitute 3/3;
#: 어린이날 = 부처님오신날 (5/5) and the substitute 5/6; 대통령 선거일; 현충일; 광복절; 개천절;
#: 추석 (10/5-7, 10/5 a Sunday) and its substitute 10/8; 한글날; 성탄절.
OFFICIAL_2025 = _days(2025, "01-01 01-27 01-28 01-29 01-30 03-01 03-03 05-05 05-06 06-03 06-06 "
                            "08-15 10-03 10-05 10-06 10-07 10-08 10-09 12-25")
#: 2026 (월력요항 2026): 설날 2/16-18; 삼일절 (Sun) -> 3/2; 부처님오신날 5/24 (Sun) -> 5/25;
#: 지방선거 6/3; 광복절 (Sat) -> 8/17; 추석 9/24-26; 개천절 (Sat) -> 10/5.
OFFICIAL_2026 = _days(2026, "01-01 02-16 02-17 02-18 03-01 03-02 05-05 05-24 05-25 06-03 06-06 "
                            "08-15 08-17 09-24 09-25 09-26 10-03 10-05 10-09 12-25")
#: 2027 (월력요항 2027): 설날 2/6-8 with 2/7 a Sunday -> 2/9; 광복절 (Sun) -> 8/16; 추석 9/14-16;
#: 개천절 (Sun) -> 10/4; 한글날 (Sat) -> 10/11; 성탄절 (Sat) -> 12/27.
OFFICIAL_2027 = _days(2027, "01-01 02-06 02-07 02-08 02-09 03-01 05-05 05-13 06-06 08-15 08-16 "
                            "09-14 09-15 09-16 10-03 10-04 10-09 10-11 12-25 12-27")


def _year(year: int) -> set[date]:
    return {d for d, _ in holidays_between(date(year, 1, 1), date(year, 12, 31), "en")}


def test_2025_is_exactly_the_official_list():
    assert _year(2025) == OFFICIAL_2025


@pytest.mark.parametrize(("year", "official"), [(2026, OFFICIAL_2026), (2027, OFFICIAL_2027)],
                         ids=["2026", "2027"])
def test_2026_and_2027_hold_every_listed_holiday(year, official):
    # The 2025 amendments (제헌절 again a holiday, 노동절) came after these lists were
    # published; the package has them, so the lists are a subset here.
    assert official <= _year(year)
    assert all(is_holiday(d) for d in official)


@pytest.mark.parametrize("day", [date(2026, 2, 19), date(2026, 5, 4), date(2026, 9, 23),
                                 date(2026, 9, 27), date(2025, 10, 10), date(2027, 2, 10),
                                 date(2026, 6, 7)], ids=str)
def test_ordinary_days_are_not_holidays(day):
    assert not is_holiday(day)


@pytest.mark.parametrize(("day", "en", "ko"), [
    (date(2026, 2, 16), "The day preceding Korean New Year", "설날 전날"),
    (date(2026, 2, 17), "Korean New Year", "설날"),
    (date(2026, 9, 25), "Chuseok", "추석"),
    (date(2026, 3, 2), "Alternative holiday for Independence Movement Day", "삼일절 대체 휴일"),
    (date(2026, 12, 25), "Christmas Day", "기독탄신일"),
], ids=str)
def test_names_in_both_languages(day, en, ko):
    assert holiday_name(day, "en") == en and holiday_name(day, "ko") == ko
    with using_language("ko"):
        assert holiday_name(datetime.combine(day, datetime.min.time())) == ko


def test_short_names_for_charts():
    assert short_names(["설날 전날", "설날", "설날 다음날"], "ko") == ["설날"]
    assert short_names(["부처님오신날; 어린이날"], "ko") == ["어린이날", "부처님오신날"]
    assert short_names(["The second day of Chuseok", "Chuseok"], "en") == ["Chuseok"]


@pytest.mark.parametrize(("day", "eve"), [
    (date(2026, 2, 15), True),   # before 설날 전날
    (date(2026, 2, 16), True),   # 설날 전날: a holiday and the eve of 설날
    (date(2026, 2, 18), False),  # 2/19 is a working day
    (date(2026, 9, 23), True), (date(2026, 12, 24), True), (date(2026, 12, 23), False),
], ids=str)
def test_holiday_eves(day, eve):
    assert is_holiday_eve(day) is eve


@pytest.mark.parametrize(("day", "days", "expected"), [
    (date(2026, 2, 13), 1, date(2026, 2, 19)),   # weekend, then 설날 2/16-18
    (date(2026, 2, 13), 2, date(2026, 2, 20)),
    (date(2026, 9, 23), 1, date(2026, 9, 28)),   # 추석 9/24-26, Sunday
    (date(2026, 10, 2), 1, date(2026, 10, 6)),   # 개천절 (Sat), Sunday, substitute 10/5
    (date(2026, 11, 16), 1, date(2026, 11, 17)),
], ids=str)
def test_next_business_day(day, days, expected):
    assert next_business_day(day, days=days) == expected


def test_bad_arguments():
    with pytest.raises(ParameterError, match=r"'days' must be a whole number of at least 1; "
                                             r"got 0\."):
        next_business_day(date(2026, 1, 1), days=0)
    with pytest.raises(ParameterError, match=r"'language' must be 'en' or 'ko'; got 'fr'\."):
        holiday_name(date(2026, 1, 1), "fr")


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 20)))
def test_next_business_day_is_the_first_business_day_after(day):
    nxt = next_business_day(day)
    assert nxt > day and is_business_day(nxt)
    assert not any(is_business_day(day + timedelta(days=k)) for k in range(1, (nxt - day).days))


def test_send_day_notes():
    tz = "Asia/Seoul"
    assert send_day_notes(None, tz) == [] and send_day_notes(datetime(2026, 12, 23, 10), tz) == []
    assert send_day_notes(datetime(2026, 12, 25, 10), tz) == [
        "Note: the send time 2026-12-25 10:00 falls on a public holiday (Christmas Day). Many "
        "customers are away and couriers stop, so replies and orders come later; a delivery "
        "promise or a +24 h follow-up should move to the next business day, Mon 28 Dec 2026."]
    # an aware time is read in the shop's zone: 15:30 UTC on the 23rd is 00:30 on the 24th
    aware = datetime.fromisoformat("2026-12-23T15:30:00+00:00")
    with using_language("ko"):
        assert send_day_notes(aware, tz) == [
            "참고: 발송 시각 2026-12-24 00:30은 공휴일(기독탄신일, 2026년 12월 25일 (금)) "
            "전날입니다. 지금 들어온 주문은 공휴일이 지나야 발송되니 메시지에 알리고, +24시간 "
            "후속 발송은 다음 영업일인 2026년 12월 28일 (월)로 옮기세요."]
