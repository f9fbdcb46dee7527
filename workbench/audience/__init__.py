"""Rule-based audiences: definitions as data, compiled to Ibis, counted, checked and exported.

Public API::

    from workbench.audience import Audience, load_recipe
    aud = Audience(load_recipe("cart_abandonment_1h"), con, as_of=date(2026, 11, 16))
    aud.count(); aud.members(); aud.to_sql()
    export_audience(aud, channel="sms", out="cart.csv", holdout=0.1, ...)
"""

from workbench.audience.audience import MEMBER_COLUMNS, Audience, overlap
from workbench.audience.compliance import (
    EXCLUSION_RULES,
    MessageCheck,
    check_message,
    cp949_bytes,
    eligibility,
    is_night,
)
from workbench.audience.export import ExportResult, export_audience, read_export_log
from workbench.audience.recipes import RECIPES, load_recipe
from workbench.audience.rules import (
    CONDITION_TYPES,
    SCHEMA_VERSION,
    AudienceDefinition,
    Condition,
    Group,
    SavedDefinition,
    audiences_dir,
    list_definitions,
    load_definition,
    save_definition,
    saved_definitions,
)

__all__ = [
    "CONDITION_TYPES",
    "EXCLUSION_RULES",
    "MEMBER_COLUMNS",
    "RECIPES",
    "SCHEMA_VERSION",
    "Audience",
    "AudienceDefinition",
    "Condition",
    "ExportResult",
    "Group",
    "MessageCheck",
    "SavedDefinition",
    "audiences_dir",
    "check_message",
    "cp949_bytes",
    "eligibility",
    "export_audience",
    "is_night",
    "list_definitions",
    "load_definition",
    "load_recipe",
    "overlap",
    "read_export_log",
    "save_definition",
    "saved_definitions",
]
