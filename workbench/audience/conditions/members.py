"""Conditions on what a member export says about a customer: age, inflow path, days, tier, points.

Each is a column test on ``customers`` (no scan of orders or events), so it is never cached.
The columns come from the shops' member (회원) exports; a store written before they were in
the contract and opened read-only may lack some of them, which then reads as unknown (no
customer matches, with a note saying which column to load; see
:meth:`~workbench.audience.context.CompileContext.column`).

Days are local days in the shop's zone: "today" is the local date of the cut-off (for a
datetime ``as_of`` in another zone too), a sign-up instant counts on its local date, and a
birth date is a calendar date as written.

- ``age_band``: age in full years on that day (만 나이). A customer reaches a new age on their
  birthday; born on 29 February, on 1 March in common years (the Civil Code's count, art. 158
  and 160: the year ends at the end of February). Bands are decades (``20s``: 20-29).
- ``birthday`` and ``signup_anniversary``: the month and day equal today's (or one of the next
  ``within_days`` days). A 29 February birthday or sign-up is celebrated on 28 February in
  common years, so it is never skipped.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from workbench.audience.conditions.base import ConditionType
from workbench.audience.context import CompileContext
from workbench.audience.fields import FieldSpec, OptionSource
from workbench.dates import EPOCH, local_day_number
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["AGE_BANDS", "TYPES", "anniversary_dates", "celebrated_days"]

#: Decades of ``age_band`` (``20s``: 20 to 29 full years).
AGE_BANDS = tuple(f"{d}s" for d in range(10, 100, 10))


def _today(ctx: CompileContext) -> date:
    # The cut-off is in the shop's zone: a datetime as_of given in UTC still names the local day.
    return ctx.cutoff.date()


def celebrated_days(today: date, within_days: int = 0) -> list[int]:
    """Return the month-days (``month * 100 + day``) celebrated from ``today`` on.

    The days from ``today`` to ``within_days`` later, plus 29 February when the window holds
    28 February of a common year: that anniversary is celebrated then.

    >>> celebrated_days(date(2027, 2, 27), 1), celebrated_days(date(2028, 2, 28))
    ([227, 228, 229], [228])
    """
    out: set[int] = set()
    for day in _window(today, within_days):
        out.add(day.month * 100 + day.day)
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            out.add(229)
    return sorted(out)


def anniversary_dates(today: date, within_days: int, years: int) -> list[date]:
    """Return the days whose ``years``-th anniversary is celebrated from ``today`` on.

    >>> anniversary_dates(date(2027, 2, 28), 0, 3)  # 2024 was a leap year
    [datetime.date(2024, 2, 28), datetime.date(2024, 2, 29)]
    >>> anniversary_dates(date(2028, 2, 29), 0, 1)  # no 29 February in 2027
    []
    """
    out: set[date] = set()
    for day in _window(today, within_days):
        year = day.year - years
        if (day.month, day.day) != (2, 29) or calendar.isleap(year):
            out.add(day.replace(year=year))
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year) and \
                calendar.isleap(year):
            out.add(date(year, 2, 29))
    return sorted(out)


def _window(today: date, within_days: int) -> list[date]:
    return [today + timedelta(days=k) for k in range(within_days + 1)]


def _month_day(month: ir.IntegerValue, day: ir.IntegerValue) -> ir.IntegerValue:
    return month * 100 + day


def _birth_date(ctx: CompileContext, name: str) -> ir.DateValue:
    birth = ctx.column("birth_date", condition=name)
    ctx.count_unknown(birth, column="birth_date")
    return birth


def _age_band(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    birth, today = _birth_date(ctx, "age_band"), _today(ctx)
    not_yet = _month_day(birth.month(), birth.day()) > today.month * 100 + today.day
    age = ibis.literal(today.year) - birth.year() - not_yet.cast("int64")
    expr = birth.notnull() & (birth <= ibis.literal(today))
    if f["bands"]:
        expr &= ((age // 10) * 10).isin([int(b[:-1]) for b in f["bands"]])
    if f["min_years"] is not None:
        expr &= age >= int(f["min_years"])
    if f["max_years"] is not None:
        expr &= age <= int(f["max_years"])
    return expr


def _check_range(name: str) -> Callable[[str, Mapping[str, Any]], None]:
    def check(owner: str, f: Mapping[str, Any]) -> None:
        lo, hi = f[f"min_{name}"], f[f"max_{name}"]
        if lo is not None and hi is not None and lo > hi:
            raise ParameterError(tr("audience.error.inverted_range", owner=owner, name=name,
                                    low=f"{lo:g}", high=f"{hi:g}"))
    return check


def _acquisition_channel(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    # Inflow paths are typed by people and platforms ("Naver", "naver "): compare them folded.
    col = ctx.column("acquisition_channel", condition="acquisition_channel")
    wanted = sorted({v.strip().lower() for v in f["values"]})
    return col.strip().lower().isin(wanted)


def _birthday(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    birth = _birth_date(ctx, "birthday")
    days = celebrated_days(_today(ctx), int(f["within_days"]))
    return _month_day(birth.month(), birth.day()).isin(days)


def _signup_anniversary(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    today = _today(ctx)
    signup = ctx.column("signup_at", condition="signup_anniversary")
    if "signup_at" not in ctx.base.columns:
        return ibis.literal(False)
    local = local_day_number(signup, timezone=ctx.settings.timezone,
                             until=today + timedelta(days=1))
    before_today = local < (today - EPOCH).days
    if f["years"] is not None:
        # The N-th anniversary: the sign-up day is exactly N years before a celebrated day.
        starts = anniversary_dates(today, int(f["within_days"]), int(f["years"]))
        return before_today & local.isin([(d - EPOCH).days for d in starts])
    local_date = ibis.literal(EPOCH) + local.as_interval("D")
    return before_today & _month_day(local_date.month(), local_date.day()).isin(
        celebrated_days(today, int(f["within_days"])))


def _member_tier(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    col = ctx.column("member_tier", condition="member_tier")
    return col.strip().isin([v.strip() for v in f["values"]])


def _points_balance(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    col = ctx.column("points_balance", condition="points_balance")
    expr = col.notnull()
    if f["min_points"] is not None:
        expr &= col >= f["min_points"]
    if f["max_points"] is not None:
        expr &= col <= f["max_points"]
    return expr


TYPES = (
    ConditionType("age_band", (
        FieldSpec("bands", "choices", choices=AGE_BANDS,
                  help="decades of age (empty: any age within min/max)"),
        FieldSpec("min_years", "int", minimum=0, maximum=130),
        FieldSpec("max_years", "int", minimum=0, maximum=130)),
        reads="customers", compile=_age_band, check=_check_range("years"),
        help="age in full years on the as_of day (만 나이); no birth date: no match"),
    ConditionType("acquisition_channel", (
        FieldSpec("values", "texts", required=True,
                  options=(OptionSource("customers", "acquisition_channel"),)),),
        reads="customers", compile=_acquisition_channel,
        help="inflow path (유입 경로) is one of the values (case and spaces ignored)"),
    ConditionType("birthday", (
        FieldSpec("within_days", "int", 0, minimum=0, maximum=31,
                  help="0: the birthday is today; 7: today or in the next 7 days"),),
        reads="customers", compile=_birthday,
        help="birthday (month and day) today or soon; 29 Feb on 28 Feb in common years"),
    ConditionType("signup_anniversary", (
        FieldSpec("years", "int", minimum=1, maximum=100,
                  help="only the N-th anniversary (empty: any)"),
        FieldSpec("within_days", "int", 0, minimum=0, maximum=31)),
        reads="customers", compile=_signup_anniversary,
        help="sign-up anniversary today or soon (local sign-up day); 29 Feb as birthday"),
    ConditionType("member_tier", (
        FieldSpec("values", "texts", required=True,
                  options=(OptionSource("customers", "member_tier"),)),),
        reads="customers", compile=_member_tier,
        help="the shop's own membership grade (customers.member_tier), not the RFM tier"),
    ConditionType("points_balance", (
        FieldSpec("min_points", "number", minimum=0),
        FieldSpec("max_points", "number", minimum=0)),
        reads="customers", compile=_points_balance, check=_check_range("points"),
        help="points (적립금, KRW) the customer can spend, in a range; unknown: no match"),
)
