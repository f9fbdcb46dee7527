"""Conditions on the customer's own row: consent, sign-up, membership, region, birthday month.

Each is a column test on ``customers`` (no scan of orders or events), so it is never cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from workbench.audience.compliance import CONSENT_COLUMNS
from workbench.audience.conditions.base import ConditionType
from workbench.audience.context import CompileContext
from workbench.audience.fields import FieldSpec, OptionSource, window_fields
from workbench.data.schema import CAMPAIGN_CHANNELS

__all__ = ["CONSENT_CHANNELS", "TYPES"]

#: Consent flags a ``consent`` condition can test (``night``: the separate 21:00-08:00 consent;
#: ``friendtalk``: being a channel friend; AlimTalk has no ad consent, it carries no ads).
CONSENT_CHANNELS = (*(c for c in CAMPAIGN_CHANNELS if c in CONSENT_COLUMNS), "night")
_CONSENT_COLUMNS = {**CONSENT_COLUMNS, "night": "night_opt_in"}


def _consent(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    flag = ctx.column(_CONSENT_COLUMNS[f["channel"]], condition="consent").fill_null(False)
    return flag if f["granted"] else ~flag


def _kakao_friend(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    # null (unknown) is not a friend: FriendTalk reaches only known friends
    friend = ctx.column("kakao_friend", condition="kakao_friend").fill_null(False)
    return friend if f["is_friend"] else ~friend


def _signup(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    return ctx.window(ctx.base.signup_at, f)


def _membership(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    member = ctx.base.is_member.fill_null(False)
    return member if f["is_member"] else ~member


def _region(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    return ctx.base.region.isin(list(f["values"]))


def _birthday_month(ctx: CompileContext, f: Mapping[str, Any]) -> ir.BooleanValue:
    month = f["month"]
    if month == "this":
        month = ctx.day.month
    elif month == "next":
        month = ctx.day.month % 12 + 1
    return ctx.base.birth_date.month() == ibis.literal(int(month))


TYPES = (
    ConditionType("consent", (
        FieldSpec("channel", "choice", required=True, choices=CONSENT_CHANNELS),
        FieldSpec("granted", "bool", True)),
        reads="customers", compile=_consent,
        help="advertising consent flag of a channel (or night-time)"),
    ConditionType("signup", window_fields("30d"), reads="customers", compile=_signup,
                  help="signed up within a window"),
    ConditionType("membership", (FieldSpec("is_member", "bool", True),), reads="customers",
                  compile=_membership, help="member or guest"),
    ConditionType("kakao_friend", (FieldSpec("is_friend", "bool", True),), reads="customers",
                  compile=_kakao_friend,
                  help="friend of the shop's KakaoTalk channel (FriendTalk ads reach only them)"),
    ConditionType("region", (
        FieldSpec("values", "texts", required=True,
                  options=(OptionSource("customers", "region"),)),),
        reads="customers", compile=_region, help="region is one of the values"),
    ConditionType("birthday_month", (
        FieldSpec("month", "month", "this", choices=("this", "next", *range(1, 13))),),
        reads="customers", compile=_birthday_month,
        help="birthday in a month (this: the month of as_of)"),
)
