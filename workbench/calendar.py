"""The Korean business calendar: public holidays, their eves and business days.

Seollal and Chuseok follow the lunar calendar and substitute holidays (대체공휴일) move with the
weekdays, so the dates come from the maintained ``holidays`` package (``holidays.KR``, public
holidays of the 관공서의 공휴일에 관한 규정, with elections and one-off temporary holidays), not
from a table here. Couriers stop on these days and many customers are away, so sends and
"+24 h" timings should know them (PRODUCT_NOTES 2.3).

- :func:`is_holiday` / :func:`holiday_name`: a public holiday and its name in English or Korean
  (several names joined with "; " when two holidays fall on one day, as on 2025-05-05).
- :func:`is_holiday_eve`: the day before a public holiday; the eves of Seollal and Chuseok
  (설날 전날, 추석 전날) are holidays themselves and are also eves of the next day.
- :func:`is_business_day` / :func:`next_business_day`: Monday to Friday and not a holiday.
- :func:`holidays_between`: the holidays of a period, for charts; :func:`short_names` gives
  chart labels.
- :func:`send_day_notes`: the notes an export prints when its send time falls on a holiday or
  the day before one.

Examples
--------
>>> from datetime import date
>>> holiday_name(date(2026, 9, 25), "ko"), holiday_name(date(2026, 9, 25), "en")
('추석', 'Chuseok')
>>> is_holiday_eve(date(2026, 2, 15)), is_holiday_eve(date(2026, 2, 16))
(True, True)
>>> next_business_day(date(2026, 9, 23))
datetime.date(2026, 9, 28)
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from workbench.errors import ParameterError
from workbench.i18n import format_date, get_language, tr

__all__ = ["holiday_name", "holidays_between", "is_business_day", "is_holiday",
           "is_holiday_eve", "next_business_day", "send_day_notes", "short_names"]

#: ``holidays`` language codes by workbench language.
_LANGUAGES = {"en": "en_US", "ko": "ko"}
#: How ``holidays`` 0.109 names the days that belong to another holiday (substitute holidays,
#: the days around Seollal and Chuseok); group 1 is the main holiday's name.
_BELONGS = {"en": re.compile(r"^(?:Alternative holiday for|The day preceding|The second day of)"
                             r" (.+)$"),
            "ko": re.compile(r"^(.+?) (?:대체 휴일|전날|다음날)$")}


@cache
def _year(year: int, language: str) -> dict[date, str]:
    """Return the public holidays of one year with their names (cached per year and language)."""
    # Imported here: 90 ms (python -X importtime), which `workbench --help` and every command
    # that never asks for a holiday would otherwise pay.
    import holidays

    return dict(holidays.KR(years=year, language=_LANGUAGES[language]).items())


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _language(language: str | None) -> str:
    language = language or get_language()
    if language not in _LANGUAGES:
        raise ParameterError(tr("calendar.bad_language", got=repr(language)))
    return language


def is_holiday(day: date | datetime) -> bool:
    """Return whether ``day`` is a Korean public holiday (weekends are not, by themselves).

    A datetime is read as the local day it shows (pass shop-local times).

    >>> is_holiday(date(2026, 3, 2)), is_holiday(date(2026, 3, 3))
    (True, False)
    """
    day = _day(day)
    return day in _year(day.year, "en")


def holiday_name(day: date | datetime, language: str | None = None) -> str | None:
    """Return the holiday's name in ``language`` (default: the active one), or ``None``.

    >>> holiday_name(date(2026, 3, 2), "en")
    'Alternative holiday for Independence Movement Day'
    >>> holiday_name(date(2026, 3, 3), "ko") is None
    True
    """
    day = _day(day)
    return _year(day.year, _language(language)).get(day)


def is_holiday_eve(day: date | datetime) -> bool:
    """Return whether the next day is a public holiday.

    >>> is_holiday_eve(date(2026, 9, 23)), is_holiday_eve(date(2026, 9, 26))
    (True, False)
    """
    return is_holiday(_day(day) + timedelta(days=1))


def is_business_day(day: date | datetime) -> bool:
    """Return whether ``day`` is Monday to Friday and not a public holiday.

    >>> is_business_day(date(2026, 2, 18)), is_business_day(date(2026, 2, 19))
    (False, True)
    """
    day = _day(day)
    return day.weekday() < 5 and not is_holiday(day)


def next_business_day(day: date | datetime, days: int = 1) -> date:
    """Return the ``days``-th business day after ``day`` (``days=1``: the next one).

    For "+24 h" timings that should skip the days couriers stop: an order on the eve of
    Chuseok 2026 (Wednesday 23 September) is next handled on Monday 28 September.

    >>> next_business_day(date(2026, 2, 13), days=2)
    datetime.date(2026, 2, 20)
    """
    if days < 1:
        raise ParameterError(tr("calendar.bad_days", got=repr(days)))
    current = _day(day)
    for _ in range(days):
        current += timedelta(days=1)
        while not is_business_day(current):
            current += timedelta(days=1)
    return current


def holidays_between(start: date | datetime, end: date | datetime,
                     language: str | None = None) -> list[tuple[date, str]]:
    """Return the public holidays from ``start`` to ``end`` (both included), in date order.

    >>> holidays_between(date(2026, 9, 24), date(2026, 10, 3), "en")[-1]
    (datetime.date(2026, 10, 3), 'National Foundation Day')
    """
    start, end = _day(start), _day(end)
    language = _language(language)
    found = [(d, name) for year in range(start.year, end.year + 1)
             for d, name in _year(year, language).items() if start <= d <= end]
    return sorted(found)


def short_names(names: list[str], language: str | None = None) -> list[str]:
    """Return the main holidays behind holiday names, shortest first, for chart labels.

    A substitute holiday, the eve of Seollal or the day after Chuseok is labelled with its
    main holiday; two holidays on one day ("부처님오신날; 어린이날") count separately.

    >>> short_names(["Alternative holiday for Buddha's Birthday", "Memorial Day"], "en")
    ['Memorial Day', "Buddha's Birthday"]
    >>> short_names(["설날 전날", "설날", "설날 다음날"], "ko")
    ['설날']
    """
    pattern = _BELONGS[_language(language)]
    found = [m.group(1) if (m := pattern.match(part)) else part
             for name in names for part in name.split("; ")]
    return sorted(dict.fromkeys(found), key=len)


def send_day_notes(send_at: datetime | None, timezone: str) -> list[str]:
    """Return a note (active language) when a send falls on a public holiday or its eve.

    Parameters
    ----------
    send_at
        The send time; naive times are the shop's local time (``None``: no note).
    timezone
        The shop's zone, in which the day is read.

    Examples
    --------
    >>> send_day_notes(datetime(2026, 9, 23, 10, 0), "Asia/Seoul")[0][:60]
    'Note: the send time 2026-09-23 10:00 falls on the day before'
    >>> send_day_notes(datetime(2026, 9, 22, 10, 0), "Asia/Seoul")
    []
    """
    if send_at is None:
        return []
    if send_at.tzinfo is not None:
        send_at = send_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    day, shown = send_at.date(), f"{send_at:%Y-%m-%d %H:%M}"
    after = format_date(next_business_day(day))
    if is_holiday(day):
        return [tr("calendar.send_on_holiday", send_at=shown, name=holiday_name(day),
                   next_day=after)]
    if is_holiday_eve(day):
        holiday = day + timedelta(days=1)
        return [tr("calendar.send_on_eve", send_at=shown, name=holiday_name(holiday),
                   holiday=format_date(holiday), next_day=after)]
    return []
