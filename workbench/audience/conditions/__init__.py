"""Every condition type of audience definitions, each one unit: fields, compiler, options, label.

To add a type, declare a :class:`ConditionType` in the module of what it reads (or a new one)
and list it in that module's ``TYPES``; :data:`_ORDER` places it in the builder's "add
condition" list (unlisted types come last). Its labels (``audience.type.<name>``,
``audience.field.<field>``) go in ``audience.toml``; ``tests/audience/test_condition_types.py``
checks that none is missing.

Examples
--------
>>> CONDITION_TYPES["cart"].spec("max_age").default
'30d'
>>> CONDITION_TYPES["orders"].label("ko")
'주문 이력'
"""

from __future__ import annotations

from workbench.audience.conditions import (
    customers,
    events,
    members,
    orders,
    predictions,
    recommend,
    snapshot,
    uplift,
    value_range,
)
from workbench.audience.conditions.base import READS, ConditionType

__all__ = ["CONDITION_TYPES", "READS", "ConditionType"]

#: The order of the builder's "add condition" list (types not listed follow).
_ORDER = ("consent", "signup", "membership", "region", "member_tier", "tier", "points_balance",
          "age_band", "birthday", "birthday_month", "signup_anniversary", "acquisition_channel",
          "orders", "first_order_coupon", "cart", "product_views", "visits",
          "visited_not_signed_up", "searches", "checkout_abandoned", "rfm_segment",
          "churn_risk", "clv_band", "clv_range", "likely_to_buy", "next_order_due",
          "likely_to_respond", "replenishment_due", "recommended_product")
_BY_NAME = {t.name: t for module in (customers, members, orders, events, snapshot, uplift,
                                      predictions, recommend, value_range)
            for t in module.TYPES}
#: Every condition type by name.
CONDITION_TYPES: dict[str, ConditionType] = {**{name: _BY_NAME[name] for name in _ORDER},
                                              **_BY_NAME}
